//! What every [`Store`] must do, written once.

use std::sync::Arc;

use futures::future::join_all;
use hookline_model::credentials::{ApiKeyHash, generate_api_key};
use hookline_model::delivery::{AttemptOutcome, Delivery, DeliveryId, DeliveryJob, DeliveryState, Trigger};
use hookline_model::store::{Begun, Direction, MessageScope, Store, StoreError};
use hookline_model::user::{BotService, BotType, Interface, Role, SigningSecrets, Triggers, User};
use hookline_model::{Attempt, IdempotencyKey, MAX_MESSAGE_ID, MessageDraft, Realm, Recipient};

use crate::support::{new_realm, new_user, unique_name};

pub use crate::changes_contract::{
    a_message_is_replaced_only_from_its_current_revision, bot_storage_holds_text_within_the_limit,
    concurrent_bot_storage_writes_cannot_exceed_the_limit,
};
pub use crate::rate_limit_contract::a_rate_window_counts_up_to_its_limit_under_concurrency;

/// Far enough ahead that no TTL derived from it has passed: DynamoDB Local deletes expired
/// items on its own, which would pull records out from under the cases.
const NOW: i64 = 4_000_000_000_000;
const DAY: i64 = 86_400_000;
const CLAIM: i64 = hookline_model::message::OUTBOX_SENDER_CLAIM;

async fn realm_with_owner(store: &Arc<dyn Store>) -> (Realm, User) {
    store
        .create_realm(new_realm(&unique_name("acme")), new_user("owner@acme.example", "Olive Owner"), NOW)
        .await
        .expect("create realm")
}

fn draft(realm: &Realm, sender: &User, recipient: Recipient, content: &str) -> MessageDraft {
    MessageDraft {
        realm_id: realm.id,
        sender_id: sender.id,
        sender_email: sender.email.clone(),
        sender_full_name: sender.full_name.clone(),
        sender_is_bot: sender.is_bot(),
        recipient,
        content: content.into(),
        timestamp: NOW,
        client: "test".into(),
        outbox: Vec::new(),
        reply_to: None,
        idempotency: None,
    }
}

fn topic(stream_id: u64, topic: &str) -> Recipient {
    Recipient::Stream { stream_id, stream_name: "general".into(), topic: topic.into() }
}

fn outgoing_bot(email: &str, owner: u64) -> hookline_model::user::NewUser {
    let mut bot = new_user(email, "Echo Bot");
    bot.bot_type = Some(BotType::OutgoingWebhook);
    bot.bot_owner_id = Some(owner);
    bot.service = Some(BotService {
        realm_id: 0,
        bot_id: 0,
        base_url: "https://bots.example.com/echo".into(),
        interface: Interface::Zulip,
        token: "tok".into(),
        signing: SigningSecrets { current: "whsec_c2VjcmV0".into(), previous: None, previous_expires_at: None },
        webhook_secret: None,
        triggers: Triggers::default(),
        is_active: true,
        deactivated_reason: None,
        failing_since: None,
        last_owner_notice_at: None,
        retry_schedule: None,
        updated_at: NOW,
    });
    bot
}

pub async fn realms_claim_their_string_id(store: Arc<dyn Store>) {
    // GIVEN a realm
    let (realm, owner) = realm_with_owner(&store).await;
    // THEN it is found by id and by string id, with its owner
    assert_eq!(store.get_realm(realm.id).await.unwrap(), Some(realm.clone()));
    assert_eq!(store.find_realm(&realm.string_id).await.unwrap(), Some(realm.clone()));
    assert_eq!(owner.role, Role::Owner);
    assert_eq!(store.get_user(realm.id, owner.id).await.unwrap(), Some(owner.clone()));
    // AND its string id cannot be taken again
    let again = store.create_realm(new_realm(&realm.string_id), new_user("x@y.example", "X"), NOW).await;
    assert!(matches!(again, Err(StoreError::RealmExists)), "{again:?}");
    assert_eq!(store.find_realm("no-such-realm").await.unwrap(), None);
}

pub async fn concurrent_duplicate_creates_have_exactly_one_winner(store: Arc<dyn Store>) {
    let (realm, _) = realm_with_owner(&store).await;
    // WHEN eight requests race to create the same email, in different cases
    let users = join_all((0..8).map(|i| {
        let store = store.clone();
        let email = if i % 2 == 0 { "Race@Acme.example" } else { "race@acme.example" };
        async move { store.create_user(realm.id, new_user(email, "Racer"), NOW).await }
    }))
    .await;
    // THEN exactly one wins and the others are told the email is taken
    assert_eq!(users.iter().filter(|r| r.is_ok()).count(), 1, "{users:?}");
    assert!(users.iter().filter_map(|r| r.as_ref().err()).all(|e| matches!(e, StoreError::EmailTaken)), "{users:?}");

    // AND the same holds for stream names
    let streams = join_all((0..8).map(|i| {
        let store = store.clone();
        let name = if i % 2 == 0 { "Design" } else { "design" };
        async move { store.create_stream(realm.id, name, "", NOW).await }
    }))
    .await;
    assert_eq!(streams.iter().filter(|r| r.is_ok()).count(), 1, "{streams:?}");
    assert!(streams.iter().filter_map(|r| r.as_ref().err()).all(|e| matches!(e, StoreError::StreamExists)));

    // AND for realm string ids
    let string_id = unique_name("race");
    let realms =
        join_all(
            (0..6).map(|i| {
                let store = store.clone();
                let string_id = string_id.clone();
                async move {
                    store.create_realm(new_realm(&string_id), new_user(&format!("o{i}@x.example"), "O"), NOW).await
                }
            }),
        )
        .await;
    assert_eq!(realms.iter().filter(|r| r.is_ok()).count(), 1, "{realms:?}");

    // AND for API keys: two users can never share one
    let key = ApiKeyHash::of(&generate_api_key());
    let keyed = join_all((0..6).map(|i| {
        let store = store.clone();
        let key = key.clone();
        async move {
            let mut user = new_user(&format!("k{i}@acme.example"), "K");
            user.api_key_hash = key;
            store.create_user(realm.id, user, NOW).await
        }
    }))
    .await;
    assert_eq!(keyed.iter().filter(|r| r.is_ok()).count(), 1, "{keyed:?}");
    // AND the losers left no half-created user behind
    let listed = store.list_users(realm.id).await.unwrap();
    assert_eq!(listed.len(), 3, "owner, the email winner and the key winner: {listed:?}");
}

pub async fn api_keys_authenticate_until_replaced(store: Arc<dyn Store>) {
    let (realm, _) = realm_with_owner(&store).await;
    let key = generate_api_key();
    let mut new = new_user("ada@acme.example", "Ada");
    new.api_key_hash = ApiKeyHash::of(&key);
    let ada = store.create_user(realm.id, new, NOW).await.unwrap();
    assert_eq!(store.authenticate(&ApiKeyHash::of(&key)).await.unwrap(), Some((realm.id, ada.id)));

    // WHEN the key is replaced
    let replacement = generate_api_key();
    store.replace_api_key(realm.id, ada.id, ApiKeyHash::of(&replacement)).await.unwrap();
    // THEN the old key stops working at once and the new one works
    assert_eq!(store.authenticate(&ApiKeyHash::of(&key)).await.unwrap(), None);
    assert_eq!(store.authenticate(&ApiKeyHash::of(&replacement)).await.unwrap(), Some((realm.id, ada.id)));
    assert_eq!(store.get_user(realm.id, ada.id).await.unwrap().unwrap().api_key_hash, ApiKeyHash::of(&replacement));
}

pub async fn users_are_found_listed_and_deactivated_within_their_realm(store: Arc<dyn Store>) {
    let (acme, owner) = realm_with_owner(&store).await;
    let (other, _) = realm_with_owner(&store).await;
    let ada = store.create_user(acme.id, new_user(" Ada@Acme.example ", "Ada"), NOW).await.unwrap();
    assert_eq!(ada.email, "Ada@Acme.example");
    // Emails are found ignoring case, and only in their own realm
    assert_eq!(store.find_user_by_email(acme.id, "ada@acme.EXAMPLE").await.unwrap(), Some(ada.clone()));
    assert_eq!(store.find_user_by_email(other.id, "ada@acme.example").await.unwrap(), None);
    // User ids are per realm: Ada's id means nobody (yet) in the other realm
    assert_eq!(store.get_user(other.id, ada.id).await.unwrap(), None);
    // The same email may exist in another realm
    store.create_user(other.id, new_user("ada@acme.example", "Other Ada"), NOW).await.unwrap();
    let ids: Vec<u64> = store.list_users(acme.id).await.unwrap().iter().map(|u| u.id).collect();
    assert_eq!(ids, vec![owner.id, ada.id]);

    let renamed = store.set_full_name(acme.id, ada.id, "Ada Lovelace").await.unwrap();
    assert_eq!(renamed.full_name, "Ada Lovelace");
    assert_eq!(store.get_user(acme.id, ada.id).await.unwrap().unwrap().full_name, "Ada Lovelace");
    assert!(matches!(store.set_full_name(acme.id, 999, "X").await, Err(StoreError::NotFound(_))));
    let off = store.set_user_active(acme.id, ada.id, false).await.unwrap();
    assert!(!off.is_active);
    assert!(!store.get_user(acme.id, ada.id).await.unwrap().unwrap().is_active);
    assert!(matches!(store.set_user_active(acme.id, 999, false).await, Err(StoreError::NotFound(_))));
    assert!(matches!(
        store.create_user(987_654, new_user("a@b.example", "A"), NOW).await,
        Err(StoreError::NotFound(_))
    ));
}

pub async fn streams_are_unique_per_realm_ignoring_case(store: Arc<dyn Store>) {
    let (acme, _) = realm_with_owner(&store).await;
    let (other, _) = realm_with_owner(&store).await;
    let general = store.create_stream(acme.id, "General", "Everything", NOW).await.unwrap();
    let design = store.create_stream(acme.id, "design", "", NOW).await.unwrap();
    assert!(design.id > general.id);
    assert!(matches!(store.create_stream(acme.id, "GENERAL", "", NOW).await, Err(StoreError::StreamExists)));
    // Another realm has its own namespace
    store.create_stream(other.id, "general", "", NOW).await.unwrap();
    assert_eq!(store.find_stream(acme.id, "gEnErAl").await.unwrap(), Some(general.clone()));
    assert_eq!(store.get_stream(acme.id, general.id).await.unwrap(), Some(general.clone()));
    assert_eq!(store.list_streams(acme.id).await.unwrap(), vec![general, design]);
    assert_eq!(store.find_stream(acme.id, "nope").await.unwrap(), None);
}

pub async fn subscriptions_are_idempotent(store: Arc<dyn Store>) {
    let (acme, owner) = realm_with_owner(&store).await;
    let a = store.create_stream(acme.id, "a", "", NOW).await.unwrap();
    let b = store.create_stream(acme.id, "b", "", NOW).await.unwrap();
    store.subscribe(acme.id, owner.id, b.id).await.unwrap();
    store.subscribe(acme.id, owner.id, a.id).await.unwrap();
    store.subscribe(acme.id, owner.id, a.id).await.unwrap();
    assert_eq!(store.subscriptions(acme.id, owner.id).await.unwrap(), vec![a.id, b.id]);
    assert_eq!(store.subscriptions(acme.id, owner.id + 1).await.unwrap(), Vec::<u64>::new());
}

pub async fn bot_services_are_created_with_their_bot_and_updated_optimistically(store: Arc<dyn Store>) {
    let (acme, owner) = realm_with_owner(&store).await;
    let bot = store.create_user(acme.id, outgoing_bot("echo-bot@acme.example", owner.id), NOW).await.unwrap();
    assert_eq!(bot.bot_type, Some(BotType::OutgoingWebhook));
    let service = store.get_service(acme.id, bot.id).await.unwrap().expect("service created with the bot");
    assert_eq!((service.realm_id, service.bot_id), (acme.id, bot.id));
    assert_eq!(store.list_services(acme.id).await.unwrap(), vec![service.clone()]);

    // WHEN two writers change the service from the same read
    let mut first = service.clone();
    first.base_url = "https://bots.example.com/v2".into();
    first.updated_at = NOW + 1;
    let mut second = service.clone();
    second.is_active = false;
    second.updated_at = NOW + 2;
    store.update_service(&first, service.updated_at).await.unwrap();
    // THEN the second one is refused instead of silently undoing the first
    assert!(matches!(store.update_service(&second, service.updated_at).await, Err(StoreError::Conflict)));
    assert_eq!(store.get_service(acme.id, bot.id).await.unwrap(), Some(first));
}

pub async fn message_ids_grow_in_commit_order_per_realm(store: Arc<dyn Store>) {
    let (acme, owner) = realm_with_owner(&store).await;
    let (other, other_owner) = realm_with_owner(&store).await;
    let mut last = 0;
    for i in 0..5 {
        let m = store.commit_message(draft(&acme, &owner, topic(1, "t"), &format!("m{i}"))).await.unwrap();
        assert!(m.id > last && m.id < MAX_MESSAGE_ID);
        last = m.id;
        assert_eq!(store.get_message(acme.id, m.id).await.unwrap(), Some(m));
    }
    assert_eq!(store.last_message_id(acme.id).await.unwrap(), last);
    // Another realm counts on its own and never sees these messages
    let first_other = store.commit_message(draft(&other, &other_owner, topic(1, "t"), "x")).await.unwrap();
    assert_eq!(first_other.id, 1);
    assert_eq!(store.get_message(other.id, last).await.unwrap(), None);
}

pub async fn concurrent_commits_get_distinct_consecutive_ids(store: Arc<dyn Store>) {
    let (acme, owner) = realm_with_owner(&store).await;
    let committed = join_all((0..12).map(|i| {
        let store = store.clone();
        let d = draft(&acme, &owner, topic(1, "race"), &format!("m{i}"));
        async move { store.commit_message(d).await }
    }))
    .await;
    let mut ids: Vec<u64> = committed.into_iter().map(|r| r.expect("commit").id).collect();
    ids.sort_unstable();
    assert_eq!(ids, (1..=12).collect::<Vec<_>>(), "no id reused, none skipped");
    // Every committed id is readable: a reader that sees id n sees every id below it
    let all = store.list_messages(acme.id, &MessageScope::Realm, 1, Direction::From, 100, &|_| true).await.unwrap();
    assert_eq!(all.iter().map(|m| m.id).collect::<Vec<_>>(), ids);
}

pub async fn messages_are_read_by_scope_on_either_side_of_an_anchor(store: Arc<dyn Store>) {
    let (acme, owner) = realm_with_owner(&store).await;
    let ada = store.create_user(acme.id, new_user("ada@acme.example", "Ada"), NOW).await.unwrap();
    let bob = store.create_user(acme.id, new_user("bob@acme.example", "Bob"), NOW).await.unwrap();
    let mut ids = Vec::new();
    for (recipient, content) in [
        (topic(1, "Lunch"), "a"),
        (topic(1, "lunch"), "b"),
        (topic(2, "lunch"), "c"),
        (Recipient::direct(owner.id, [ada.id]), "d"),
        (topic(1, "dinner"), "e"),
        (Recipient::direct(ada.id, [owner.id]), "f"),
        (Recipient::direct(bob.id, [ada.id, owner.id]), "g"),
    ] {
        ids.push(store.commit_message(draft(&acme, &owner, recipient, content)).await.unwrap().id);
    }
    let contents = |ms: Vec<hookline_model::Message>| ms.into_iter().map(|m| m.content).collect::<String>();
    let read = |scope: MessageScope, anchor: u64, direction: Direction, limit: usize| {
        let store = store.clone();
        async move { contents(store.list_messages(acme.id, &scope, anchor, direction, limit, &|_| true).await.unwrap()) }
    };
    assert_eq!(read(MessageScope::Realm, 1, Direction::From, 100).await, "abcdefg");
    assert_eq!(read(MessageScope::Realm, ids[4], Direction::Before, 2).await, "dc", "newest first");
    assert_eq!(read(MessageScope::Realm, ids[4], Direction::From, 2).await, "ef");
    assert_eq!(read(MessageScope::Stream(1), 1, Direction::From, 100).await, "abe");
    assert_eq!(read(MessageScope::Topic(1, "LUNCH".into()), 1, Direction::From, 100).await, "ab", "topics ignore case");
    assert_eq!(read(MessageScope::Direct(vec![owner.id, ada.id]), 1, Direction::From, 100).await, "df");
    let mut group = vec![owner.id, ada.id, bob.id];
    group.sort_unstable();
    assert_eq!(read(MessageScope::Direct(group), 1, Direction::From, 100).await, "g");
    assert_eq!(read(MessageScope::Realm, 0, Direction::Before, 100).await, "");
    assert_eq!(read(MessageScope::Realm, ids[6] + 1, Direction::From, 100).await, "");

    // A filter applies before the limit: the two newest messages Bob may see
    let bob_id = bob.id;
    let visible_to_bob = move |m: &hookline_model::Message| m.recipient.visible_to(bob_id);
    let seen = store
        .list_messages(acme.id, &MessageScope::Realm, u64::MAX >> 11, Direction::Before, 2, &visible_to_bob)
        .await
        .unwrap();
    assert_eq!(contents(seen), "ge");
}

pub async fn a_commit_that_triggers_bots_leaves_an_outbox_entry_to_claim(store: Arc<dyn Store>) {
    let (acme, owner) = realm_with_owner(&store).await;
    let mut with_jobs = draft(&acme, &owner, topic(1, "t"), "@**Echo Bot** hi");
    with_jobs.outbox = (0..3)
        .map(|bot| DeliveryJob {
            realm_id: acme.id,
            message_id: 0,
            bot_id: 100 + bot,
            trigger: Trigger::Mention,
            redelivery: 0,
        })
        .collect();
    let message = store.commit_message(with_jobs).await.unwrap();
    store.commit_message(draft(&acme, &owner, topic(1, "t"), "no bots here")).await.unwrap();

    // THEN one entry waits, carrying the message's id in every job, once the sender's claim ran out
    assert!(store.pending_outbox(NOW + 1, NOW + 1, 100).await.unwrap().iter().all(|e| e.realm_id != acme.id));
    let pending: Vec<_> = store
        .pending_outbox(NOW + 1, NOW + CLAIM, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.realm_id == acme.id)
        .collect();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].message_id, message.id);
    assert!(pending[0].jobs.iter().all(|j| j.message_id == message.id));
    assert_eq!(pending[0].jobs.len(), 3);
    // AND entries newer than the cut-off are left to the sender
    assert!(store.pending_outbox(NOW, NOW + CLAIM, 100).await.unwrap().iter().all(|e| e.realm_id != acme.id));

    // The sender holds the entry for a while: nobody else can claim it
    assert!(!store.claim_outbox(acme.id, message.id, NOW + 1, NOW + 1_000).await.unwrap());
    // WHEN two sweepers claim it after that, only one gets it, until the claim runs out
    let later = NOW + CLAIM;
    assert!(store.claim_outbox(acme.id, message.id, later, later + 1_000).await.unwrap());
    assert!(!store.claim_outbox(acme.id, message.id, later + 2, later + 2_000).await.unwrap());
    assert!(store.pending_outbox(later, later + 500, 100).await.unwrap().iter().all(|e| e.realm_id != acme.id));
    assert!(store.claim_outbox(acme.id, message.id, later + 1_000, later + 3_000).await.unwrap());
    assert_eq!(store.get_outbox(acme.id, message.id).await.unwrap().map(|e| e.jobs.len()), Some(3));
    // AND once deleted it is gone
    store.delete_outbox(acme.id, message.id).await.unwrap();
    assert_eq!(store.get_outbox(acme.id, message.id).await.unwrap(), None);
    assert!(!store.claim_outbox(acme.id, message.id, later + 9_000, later + 10_000).await.unwrap());
}

pub async fn an_idempotency_key_commits_once_per_window(store: Arc<dyn Store>) {
    let (acme, owner) = realm_with_owner(&store).await;
    let ada = store.create_user(acme.id, new_user("ada@acme.example", "Ada"), NOW).await.unwrap();
    let keyed = |sender: &User, at: i64| {
        let mut d = draft(&acme, sender, topic(1, "t"), "once");
        d.timestamp = at;
        d.idempotency = Some(IdempotencyKey { key: "key-1".into(), window: DAY });
        d
    };
    // WHEN the same sender retries the same key, concurrently and later within the window
    let first = store.commit_message(keyed(&owner, NOW)).await.unwrap();
    let retries = join_all((0..4).map(|i| {
        let store = store.clone();
        let d = keyed(&owner, NOW + i);
        async move { store.commit_message(d).await }
    }))
    .await;
    // THEN every retry is told the first message's id and nothing new is stored
    assert!(retries.iter().all(|r| matches!(r, Err(StoreError::Duplicate(id)) if *id == first.id)), "{retries:?}");
    assert_eq!(store.last_message_id(acme.id).await.unwrap(), first.id);
    // AND the key is the sender's own: another user may use it
    let other = store.commit_message(keyed(&ada, NOW + 5)).await.unwrap();
    assert_ne!(other.id, first.id);
    // AND after the window the key may be used again (checked on the timestamp, not a TTL)
    assert!(matches!(store.commit_message(keyed(&owner, NOW + DAY - 1)).await, Err(StoreError::Duplicate(_))));
    let fresh = store.commit_message(keyed(&owner, NOW + DAY + 1)).await.unwrap();
    assert!(fresh.id > other.id);
}

fn job(realm: &Realm, message_id: u64, bot_id: u64) -> DeliveryJob {
    DeliveryJob { realm_id: realm.id, message_id, bot_id, trigger: Trigger::Mention, redelivery: 0 }
}

fn attempt(at: i64, status: u16) -> Attempt {
    Attempt { at, status: Some(status), latency_ms: 12, error: None, response_excerpt: "x".repeat(300) }
}

pub async fn a_delivery_is_leased_to_one_worker_at_a_time(store: Arc<dyn Store>) {
    let (acme, _) = realm_with_owner(&store).await;
    let delivery = Delivery::new(&job(&acme, 5, 9), NOW, 14 * DAY);
    // Creating twice keeps the first record
    assert_eq!(store.ensure_delivery(&delivery).await.unwrap(), delivery);
    let mut changed = delivery.clone();
    changed.created_at += 1;
    assert_eq!(store.ensure_delivery(&changed).await.unwrap(), delivery);

    // WHEN eight workers race for it
    let claims = join_all((0..8).map(|i| {
        let store = store.clone();
        async move { store.claim_delivery(acme.id, delivery.id, &format!("w{i}"), NOW, NOW + 30_000).await.unwrap() }
    }))
    .await;
    // THEN one holds the lease
    let winners: Vec<_> = claims.into_iter().flatten().collect();
    assert_eq!(winners.len(), 1);
    let owner = winners[0].lease_owner.clone().unwrap();
    assert_eq!(winners[0].lease_until, Some(NOW + 30_000));
    // AND nobody else gets it until the lease runs out (a crashed worker's lease expires)
    assert!(store.claim_delivery(acme.id, delivery.id, "late", NOW + 29_999, NOW + 60_000).await.unwrap().is_none());
    let taken_over = store.claim_delivery(acme.id, delivery.id, "late", NOW + 30_000, NOW + 60_000).await.unwrap();
    assert_eq!(taken_over.and_then(|d| d.lease_owner), Some("late".into()));
    assert_ne!(owner, "late");
    assert!(
        store
            .claim_delivery(acme.id, DeliveryId { message_id: 1, bot_id: 1, redelivery: 0 }, "w", NOW, NOW)
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn beginning_an_attempt_creates_and_leases_in_one_step(store: Arc<dyn Store>) {
    let (acme, _) = realm_with_owner(&store).await;
    let delivery = Delivery::new(&job(&acme, 7, 9), NOW, 14 * DAY);
    // WHEN eight workers begin the same first attempt at once
    let begun = join_all((0..8).map(|i| {
        let (store, delivery) = (store.clone(), delivery.clone());
        async move { store.begin_attempt(&delivery, &format!("w{i}"), NOW, NOW + 30_000).await.unwrap() }
    }))
    .await;
    // THEN exactly one holds the lease, on the record as it was created
    let claimed: Vec<_> = begun.iter().filter_map(|b| if let Begun::Claimed(d) = b { Some(d) } else { None }).collect();
    assert_eq!(claimed.len(), 1, "{begun:?}");
    let owner = claimed[0].lease_owner.clone().unwrap();
    assert_eq!((claimed[0].lease_until, claimed[0].created_at), (Some(NOW + 30_000), NOW));
    // AND the others are shown the leased record
    for other in begun.iter().filter(|b| matches!(b, Begun::Held(_))) {
        let Begun::Held(held) = other else { unreachable!() };
        assert_eq!(held.lease_owner.as_deref(), Some(owner.as_str()));
    }
    assert_eq!(store.get_delivery(acme.id, delivery.id).await.unwrap().unwrap().lease_owner, Some(owner.clone()));

    // WHEN the attempt is recorded as a retry five seconds on
    let outcome =
        AttemptOutcome { attempt: attempt(NOW, 503), state: DeliveryState::Retrying, next_attempt_at: NOW + 5_000 };
    store.record_attempt(acme.id, delivery.id, &owner, outcome).await.unwrap();
    // THEN beginning again early holds off, and on time takes the lease on the same record
    let early = store.begin_attempt(&delivery, "w9", NOW + 4_999, NOW + 40_000).await.unwrap();
    assert!(matches!(&early, Begun::Held(d) if d.attempt_count == 1 && d.lease_owner.is_none()), "{early:?}");
    let Begun::Claimed(again) = store.begin_attempt(&delivery, "w9", NOW + 5_000, NOW + 40_000).await.unwrap() else {
        panic!("a due retry is claimable");
    };
    assert_eq!((again.attempt_count, again.lease_owner.as_deref()), (1, Some("w9")));

    // AND a final delivery is never begun again
    let done =
        AttemptOutcome { attempt: attempt(NOW + 5_000, 200), state: DeliveryState::Delivered, next_attempt_at: NOW };
    store.record_attempt(acme.id, delivery.id, "w9", done).await.unwrap();
    let after = store.begin_attempt(&delivery, "w10", NOW + DAY, NOW + DAY).await.unwrap();
    assert!(matches!(after, Begun::Held(d) if d.state == DeliveryState::Delivered));
}

pub async fn attempts_are_recorded_only_by_the_lease_holder(store: Arc<dyn Store>) {
    let (acme, _) = realm_with_owner(&store).await;
    let delivery = store.ensure_delivery(&Delivery::new(&job(&acme, 6, 9), NOW, 14 * DAY)).await.unwrap();
    store.claim_delivery(acme.id, delivery.id, "w1", NOW, NOW + 30_000).await.unwrap().unwrap();
    let retry =
        AttemptOutcome { attempt: attempt(NOW, 503), state: DeliveryState::Retrying, next_attempt_at: NOW + 5_000 };
    // Someone without the lease cannot record
    assert!(matches!(
        store.record_attempt(acme.id, delivery.id, "w2", retry.clone()).await,
        Err(StoreError::LeaseLost)
    ));
    let after = store.record_attempt(acme.id, delivery.id, "w1", retry.clone()).await.unwrap();
    assert_eq!((after.attempt_count, after.state, after.lease_owner.clone()), (1, DeliveryState::Retrying, None));
    assert_eq!(after.attempts, vec![retry.attempt.clone()]);
    // Recording released the lease: recording another attempt needs a new one
    let other = AttemptOutcome { attempt: attempt(NOW + 1, 502), ..retry };
    assert!(matches!(store.record_attempt(acme.id, delivery.id, "w1", other).await, Err(StoreError::LeaseLost)));
    // Backing off: not claimable before next_attempt_at
    assert!(store.claim_delivery(acme.id, delivery.id, "w1", NOW + 4_999, NOW + 40_000).await.unwrap().is_none());
    store.claim_delivery(acme.id, delivery.id, "w1", NOW + 5_000, NOW + 40_000).await.unwrap().unwrap();
    let done = AttemptOutcome {
        attempt: attempt(NOW + 5_000, 200),
        state: DeliveryState::Delivered,
        next_attempt_at: NOW + 5_000,
    };
    let done = store.record_attempt(acme.id, delivery.id, "w1", done).await.unwrap();
    assert_eq!((done.attempt_count, done.attempts.len(), done.state), (2, 2, DeliveryState::Delivered));
    // A final delivery is never attempted again
    assert!(store.claim_delivery(acme.id, delivery.id, "w1", NOW + DAY, NOW + DAY).await.unwrap().is_none());
    assert_eq!(store.get_delivery(acme.id, delivery.id).await.unwrap(), Some(done));
}

pub async fn a_delivery_gets_exactly_one_reply(store: Arc<dyn Store>) {
    let (acme, owner) = realm_with_owner(&store).await;
    let bot = store.create_user(acme.id, outgoing_bot("echo-bot@acme.example", owner.id), NOW).await.unwrap();
    let trigger = store.commit_message(draft(&acme, &owner, topic(1, "t"), "@**Echo Bot** hi")).await.unwrap();
    let delivery = store.ensure_delivery(&Delivery::new(&job(&acme, trigger.id, bot.id), NOW, 14 * DAY)).await.unwrap();

    // WHEN five workers that each got the job post the reply at once
    let replies = join_all((0..5).map(|_| {
        let store = store.clone();
        let mut reply = draft(&acme, &bot, topic(1, "t"), "hello!");
        reply.reply_to = Some(delivery.id);
        async move { store.commit_message(reply).await }
    }))
    .await;
    // THEN one reply exists and the delivery points at it
    let posted: Vec<_> = replies.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(posted.len(), 1, "{replies:?}");
    assert!(replies.iter().filter_map(|r| r.as_ref().err()).all(|e| matches!(e, StoreError::AlreadyReplied)));
    let stored = store.get_delivery(acme.id, delivery.id).await.unwrap().unwrap();
    assert_eq!(stored.reply_message_id, Some(posted[0].id));
    let bot_id = bot.id;
    let bot_messages = store
        .list_messages(acme.id, &MessageScope::Realm, 1, Direction::From, 100, &move |m| m.sender_id == bot_id)
        .await
        .unwrap();
    assert_eq!(bot_messages.len(), 1);
    // AND a reply to a delivery that does not exist is refused
    let mut orphan = draft(&acme, &bot, topic(1, "t"), "?");
    orphan.reply_to = Some(DeliveryId { message_id: 999, bot_id: bot.id, redelivery: 0 });
    assert!(store.commit_message(orphan).await.is_err());
}

pub async fn deliveries_are_listed_newest_first_by_state(store: Arc<dyn Store>) {
    let (acme, _) = realm_with_owner(&store).await;
    for message_id in [3, 1, 2] {
        store.ensure_delivery(&Delivery::new(&job(&acme, message_id, 9), NOW, 14 * DAY)).await.unwrap();
    }
    let redelivery = DeliveryJob { redelivery: 1, ..job(&acme, 2, 9) };
    store.ensure_delivery(&Delivery::new(&redelivery, NOW, 14 * DAY)).await.unwrap();
    store.ensure_delivery(&Delivery::new(&job(&acme, 4, 10), NOW, 14 * DAY)).await.unwrap();
    store.claim_delivery(acme.id, job(&acme, 1, 9).delivery_id(), "w", NOW, NOW + 1).await.unwrap().unwrap();
    let failed = AttemptOutcome { attempt: attempt(NOW, 404), state: DeliveryState::Failed, next_attempt_at: NOW };
    store.record_attempt(acme.id, job(&acme, 1, 9).delivery_id(), "w", failed).await.unwrap();

    let ids = |ds: Vec<Delivery>| ds.iter().map(|d| d.id.to_string()).collect::<Vec<_>>();
    let all = store.list_deliveries(acme.id, 9, None, None, 10).await.unwrap();
    assert_eq!(ids(all), ["3-9", "2-9-r1", "2-9", "1-9"]);
    let page = store.list_deliveries(acme.id, 9, None, None, 2).await.unwrap();
    let cursor = page.last().map(|d| d.id);
    assert_eq!(ids(page), ["3-9", "2-9-r1"]);
    assert_eq!(ids(store.list_deliveries(acme.id, 9, None, cursor, 10).await.unwrap()), ["2-9", "1-9"]);
    assert_eq!(ids(store.list_deliveries(acme.id, 9, Some(DeliveryState::Failed), None, 10).await.unwrap()), ["1-9"]);
    assert_eq!(ids(store.list_deliveries(acme.id, 10, None, None, 10).await.unwrap()), ["4-10"]);
}

/// The realm's directory version, read back.
async fn directory_version(store: &Arc<dyn Store>, realm: &Realm) -> u64 {
    store.get_realm(realm.id).await.unwrap().expect("the realm").directory_version
}

pub async fn every_directory_change_moves_the_realms_directory_version(store: Arc<dyn Store>) {
    let (acme, owner) = realm_with_owner(&store).await;
    let mut seen = directory_version(&store, &acme).await;
    let mut moved = async |what: &str| {
        let now = directory_version(&store, &acme).await;
        assert!(now > seen, "{what} did not move the directory version ({seen} -> {now})");
        seen = now;
    };
    let bot = store.create_user(acme.id, outgoing_bot("echo-bot@acme.example", owner.id), NOW).await.unwrap();
    moved("creating a user").await;
    store.set_full_name(acme.id, bot.id, "Renamed Bot").await.unwrap();
    moved("renaming a user").await;
    store.set_user_active(acme.id, bot.id, false).await.unwrap();
    moved("deactivating a user").await;
    store.set_user_active(acme.id, bot.id, true).await.unwrap();
    moved("reactivating a user").await;
    store.create_stream(acme.id, "announce", "", NOW).await.unwrap();
    moved("creating a stream").await;
    let service = store.get_service(acme.id, bot.id).await.unwrap().unwrap();
    let mut watching = service.clone();
    watching.triggers.trigger_words = vec!["!echo".into()];
    watching.updated_at = service.updated_at + 1;
    store.update_service(&watching, service.updated_at).await.unwrap();
    moved("changing a bot's service").await;
    // A refused change moves nothing; an unrelated write neither.
    assert!(matches!(store.update_service(&watching, service.updated_at).await, Err(StoreError::Conflict)));
    store.subscribe(acme.id, owner.id, 1).await.unwrap();
    assert_eq!(directory_version(&store, &acme).await, seen);
    // Renaming a user who does not exist is refused and moves nothing either.
    assert!(matches!(store.set_full_name(acme.id, 999, "Nobody").await, Err(StoreError::NotFound(_))));
    assert_eq!(directory_version(&store, &acme).await, seen);
}
