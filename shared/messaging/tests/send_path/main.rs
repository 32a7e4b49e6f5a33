//! The send path end to end on the embedded store and queue: triggers reach the queue, a
//! queue outage loses nothing and doubles nothing, big fan-outs stay one queue call, and
//! idempotent retries store nothing new.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use hookline_messaging::limits::{CONTENT_TRUNCATED, ContentError, MAX_CONTENT_CHARS};
use hookline_messaging::send::{Destination, HandOver, SendError, SendRequest, Sender, StreamRef, UserRef};
use hookline_messaging::sweep::sweep;
use hookline_model::credentials::ApiKeyHash;
use hookline_model::delivery::{QueueJob, Trigger};
use hookline_model::message::OUTBOX_SENDER_CLAIM;
use hookline_model::queue::memory::MemoryQueue;
use hookline_model::queue::{DeliveryQueue, QueueError, ReceivedJob};
use hookline_model::realm::NewRealm;
use hookline_model::store::memory::MemoryStore;
use hookline_model::store::{
    Direction, MessageScope, MessageStore as _, RealmStore as _, ServiceStore as _, StreamStore as _, UserStore as _,
};
use hookline_model::user::{BotService, BotType, Interface, NewUser, Role, SigningSecrets, Triggers};
use hookline_model::{Clock as _, ManualClock, Realm, User};

/// A queue that can be taken down, and counts the calls made to send.
struct OutageQueue {
    inner: MemoryQueue,
    down: AtomicBool,
    enqueue_calls: AtomicUsize,
}

#[async_trait]
impl DeliveryQueue for OutageQueue {
    async fn enqueue(&self, jobs: &[QueueJob]) -> Result<(), QueueError> {
        self.enqueue_calls.fetch_add(1, Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst) {
            return Err(QueueError::Backend("connection refused".into()));
        }
        self.inner.enqueue(jobs).await
    }
    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<ReceivedJob>, QueueError> {
        self.inner.receive(max, wait).await
    }
    async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        self.inner.delete(receipt).await
    }
    async fn change_visibility(&self, receipt: &str, timeout: Duration) -> Result<(), QueueError> {
        self.inner.change_visibility(receipt, timeout).await
    }
    async fn receive_dead_letters(&self, max: usize) -> Result<Vec<ReceivedJob>, QueueError> {
        self.inner.receive_dead_letters(max).await
    }
}

struct World {
    clock: Arc<ManualClock>,
    store: Arc<MemoryStore>,
    queue: Arc<OutageQueue>,
    sender: Sender,
    realm: Realm,
    ada: User,
    bots: Vec<User>,
}

fn person(email: &str, name: &str, key: &str) -> NewUser {
    NewUser {
        email: email.into(),
        full_name: name.into(),
        role: Role::Member,
        bot_type: None,
        bot_owner_id: None,
        api_key_hash: ApiKeyHash::of(key),
        service: None,
    }
}

/// A realm with Ada, a stream `general`, and `bots` outgoing bots named `Bot 1`, `Bot 2`, ….
async fn world(bots: usize) -> World {
    let clock = Arc::new(ManualClock::at(1_800_000_000_000));
    let store = Arc::new(MemoryStore::new());
    let queue = Arc::new(OutageQueue {
        inner: MemoryQueue::new(clock.clone(), Duration::from_secs(30), 5),
        down: AtomicBool::new(false),
        enqueue_calls: AtomicUsize::new(0),
    });
    let realm = NewRealm {
        string_id: "acme".into(),
        name: "Acme".into(),
        host: "acme.test".into(),
        public_url: "http://x".into(),
    };
    let (realm, ada) = store.create_realm(realm, person("ada@acme.test", "Ada", "k0"), 0).await.unwrap();
    store.create_stream(realm.id, "general", "", 0).await.unwrap();
    let mut created = Vec::new();
    for i in 1..=bots {
        let mut bot = person(&format!("bot{i}-bot@acme.test"), &format!("Bot {i}"), &format!("k{i}"));
        bot.bot_type = Some(BotType::OutgoingWebhook);
        bot.bot_owner_id = Some(ada.id);
        bot.service = Some(BotService {
            realm_id: 0,
            bot_id: 0,
            base_url: "https://bots.example.com".into(),
            interface: Interface::Zulip,
            token: "t".into(),
            signing: SigningSecrets { current: "whsec_x".into(), previous: None, previous_expires_at: None },
            webhook_secret: None,
            triggers: Triggers::default(),
            is_active: true,
            deactivated_reason: None,
            failing_since: None,
            last_owner_notice_at: None,
            retry_schedule: None,
            updated_at: 0,
        });
        created.push(store.create_user(realm.id, bot, 0).await.unwrap());
    }
    let sender = Sender::new(store.clone(), queue.clone(), clock.clone());
    // As every request does: the realm as it is now.
    let realm = store.get_realm(realm.id).await.unwrap().unwrap();
    World { clock, store, queue, sender, realm, ada, bots: created }
}

impl World {
    fn request(&self, sender: &User, content: &str) -> SendRequest {
        SendRequest {
            realm: self.realm.clone(),
            sender: sender.clone(),
            destination: Destination::Stream { stream: StreamRef::Name("General".into()), topic: "lunch".into() },
            content: content.into(),
            client: "test".into(),
            idempotency_key: None,
            reply_to: None,
        }
    }

    async fn queued(&self) -> Vec<QueueJob> {
        self.queue.inner.receive(10, Duration::ZERO).await.unwrap().iter().map(|r| r.job().unwrap()).collect()
    }

    async fn outbox_len(&self) -> usize {
        self.store.pending_outbox(i64::MAX, i64::MAX, 100).await.unwrap().len()
    }
}

#[tokio::test]
async fn a_mention_puts_one_delivery_job_on_the_queue_and_clears_the_outbox() {
    let w = world(2).await;
    let sent = w.sender.send(w.request(&w.ada, "@**Bot 1** what's for lunch?")).await.unwrap();
    assert_eq!(sent.triggered, 1);
    let queued = w.queued().await;
    assert_eq!(queued.len(), 1);
    let QueueJob::Deliver(job) = &queued[0] else { panic!("{queued:?}") };
    assert_eq!((job.message_id, job.bot_id, job.trigger), (sent.message.id, w.bots[0].id, Trigger::Mention));
    assert_eq!(w.outbox_len().await, 0);
}

#[tokio::test]
async fn a_queue_outage_loses_no_trigger_and_the_sweep_enqueues_it_once() {
    let w = world(1).await;
    // GIVEN the queue is down while Ada mentions the bot
    w.queue.down.store(true, Ordering::SeqCst);
    let sent = w.sender.send(w.request(&w.ada, "@**Bot 1** ping")).await.expect("committed, so the send succeeds");
    assert_eq!(w.outbox_len().await, 1, "the trigger waits in the outbox");
    // WHEN the sweep runs while the sender's claim holds, it leaves the entry alone
    let early = sweep(w.store.as_ref(), w.queue.as_ref(), w.clock.now() + 1_000).await.unwrap();
    assert_eq!((early.enqueued, early.left), (0, 0));
    // AND while the queue is still down it keeps the entry
    w.clock.advance(OUTBOX_SENDER_CLAIM + 1);
    let down = sweep(w.store.as_ref(), w.queue.as_ref(), w.clock.now()).await.unwrap();
    assert_eq!((down.enqueued, down.left), (0, 1));
    assert_eq!(w.outbox_len().await, 1);
    // THEN once the queue is back, the next sweep after the claim delivers it, once
    w.queue.down.store(false, Ordering::SeqCst);
    w.clock.advance(hookline_messaging::sweep::SWEEP_CLAIM + 1);
    let back = sweep(w.store.as_ref(), w.queue.as_ref(), w.clock.now()).await.unwrap();
    assert_eq!(back.enqueued, 1);
    let again = sweep(w.store.as_ref(), w.queue.as_ref(), w.clock.now() + 600_000).await.unwrap();
    assert_eq!(again.enqueued, 0);
    let queued = w.queued().await;
    assert_eq!(queued.len(), 1, "nothing doubled: {queued:?}");
    assert!(matches!(&queued[0], QueueJob::Deliver(job) if job.message_id == sent.message.id));
}

#[tokio::test]
async fn many_bots_cost_one_queue_call_and_travel_as_a_fan_out() {
    let w = world(12).await;
    let everyone: String = (1..=12).map(|i| format!("@**Bot {i}** ")).collect();
    let sent = w.sender.send(w.request(&w.ada, &everyone)).await.unwrap();
    assert_eq!(sent.triggered, 12);
    assert_eq!(w.queue.enqueue_calls.load(Ordering::SeqCst), 1);
    assert_eq!(w.queued().await, vec![QueueJob::FanOut { realm_id: w.realm.id, message_id: sent.message.id }]);
    // The outbox keeps all twelve jobs for the worker to expand
    let entry = &w.store.pending_outbox(i64::MAX, i64::MAX, 10).await.unwrap()[0];
    assert_eq!(entry.jobs.len(), 12);
    // Three bots: still one call
    let three = w.sender.send(w.request(&w.ada, "@**Bot 1** @**Bot 2** @**Bot 3**")).await.unwrap();
    assert_eq!((three.triggered, w.queue.enqueue_calls.load(Ordering::SeqCst)), (3, 2));
}

#[tokio::test]
async fn an_idempotent_retry_returns_the_first_message_and_stores_nothing() {
    let w = world(1).await;
    let mut request = w.request(&w.ada, "@**Bot 1** once");
    request.idempotency_key = Some("retry-1".into());
    let first = w.sender.send(request.clone()).await.unwrap();
    w.clock.advance(60_000);
    let again = w.sender.send(request.clone()).await.unwrap();
    assert!(again.duplicate && !first.duplicate);
    assert_eq!(again.message, first.message);
    let all = w.store.list_messages(w.realm.id, &MessageScope::Realm, 0, Direction::From, 10, &|_| true).await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(w.queued().await.len(), 1, "the retry triggered nothing new");
    request.idempotency_key = Some(String::new());
    assert_eq!(w.sender.send(request).await.unwrap_err(), SendError::InvalidIdempotencyKey);
}

#[tokio::test]
async fn bots_trigger_no_bots_and_bad_requests_are_refused_before_anything_is_stored() {
    let w = world(2).await;
    let sent = w.sender.send(w.request(&w.bots[1], "@**Bot 1** loop?")).await.unwrap();
    assert_eq!(sent.triggered, 0);
    let cases: Vec<(SendRequest, SendError)> = vec![
        (w.request(&w.ada, "   "), SendError::Content(ContentError::Empty)),
        (w.request(&w.ada, "nul\0byte"), SendError::Content(ContentError::NullByte)),
        (
            SendRequest {
                destination: Destination::Stream { stream: StreamRef::Name("nope".into()), topic: "t".into() },
                ..w.request(&w.ada, "hi")
            },
            SendError::StreamNotFound("nope".into()),
        ),
        (
            SendRequest { destination: Destination::Direct(vec![UserRef::Id(999)]), ..w.request(&w.ada, "hi") },
            SendError::UnknownUserId(999),
        ),
        (
            SendRequest {
                destination: Destination::Direct(vec![UserRef::Email("x@y.z".into())]),
                ..w.request(&w.ada, "hi")
            },
            SendError::UnknownEmail("x@y.z".into()),
        ),
        (SendRequest { destination: Destination::Direct(vec![]), ..w.request(&w.ada, "hi") }, SendError::NoRecipients),
    ];
    for (request, expected) in cases {
        assert_eq!(w.sender.send(request).await.unwrap_err(), expected);
    }
    assert_eq!(w.store.last_message_id(w.realm.id).await.unwrap(), sent.message.id, "nothing else stored");
    // 60 characters of topic are kept, as are 10,000 characters of content, whatever their bytes
    let ok = SendRequest {
        destination: Destination::Stream { stream: StreamRef::Id(1), topic: "é".repeat(60) },
        ..w.request(&w.ada, &"é".repeat(10_000))
    };
    let kept = w.sender.send(ok).await.unwrap().message;
    assert_eq!(kept.content, "é".repeat(10_000));
    assert!(matches!(&kept.recipient, hookline_model::Recipient::Stream { topic, .. } if *topic == "é".repeat(60)));
    // A DM to a bot triggers it with direct_message
    let dm = SendRequest {
        destination: Destination::Direct(vec![UserRef::Email("BOT2-bot@acme.test".into())]),
        ..w.request(&w.ada, "hi")
    };
    let sent = w.sender.send(dm).await.unwrap();
    assert_eq!(sent.triggered, 1);
    assert_eq!(sent.message.recipient, hookline_model::Recipient::direct(w.ada.id, [w.bots[1].id]));
}

#[tokio::test]
async fn longer_content_and_topics_are_cut_where_zulip_cuts_them_not_refused() {
    let w = world(0).await;
    let long = SendRequest {
        destination: Destination::Stream {
            stream: StreamRef::Id(1),
            topic: "testing-gh / issue #6 This is a sample issue to test GH Integration".into(),
        },
        ..w.request(&w.ada, &format!("\n\n{}  \n", "ü".repeat(12_000)))
    };
    let message = w.sender.send(long).await.unwrap().message;
    assert_eq!(message.content.chars().count(), MAX_CONTENT_CHARS);
    assert!(message.content.starts_with('ü') && message.content.ends_with(CONTENT_TRUNCATED));
    let hookline_model::Recipient::Stream { topic, .. } = &message.recipient else { panic!("{message:?}") };
    assert_eq!(topic, "testing-gh / issue #6 This is a sample issue to test GH I...");
    let stored = w.store.get_message(w.realm.id, message.id).await.unwrap().unwrap();
    assert_eq!(stored.content, message.content, "what is stored is what was answered");
}

/// Zulip's empty topic: "", blanks and "(no topic)" are all the empty topic, as in an
/// organization without mandatory topics.
#[tokio::test]
async fn an_empty_topic_is_zulips_empty_topic() {
    let w = world(0).await;
    for topic in ["", "  ", "(no topic)"] {
        let request = SendRequest {
            destination: Destination::Stream { stream: StreamRef::Id(1), topic: topic.into() },
            ..w.request(&w.ada, "hi")
        };
        let message = w.sender.send(request).await.unwrap().message;
        let hookline_model::Recipient::Stream { topic: stored, .. } = &message.recipient else { panic!("{message:?}") };
        assert_eq!(stored, "", "{topic:?}");
    }
}

#[tokio::test]
async fn a_bot_created_or_renamed_a_moment_before_it_is_mentioned_is_triggered() {
    let w = world(1).await;
    // A first send caches the realm's directory.
    assert_eq!(w.sender.send(w.request(&w.ada, "@**Bot 1** warm up")).await.unwrap().triggered, 1);
    let mut fresh = person("fresh-bot@acme.test", "Fresh Bot", "k-fresh");
    fresh.bot_type = Some(BotType::OutgoingWebhook);
    fresh.bot_owner_id = Some(w.ada.id);
    fresh.service = w.store.get_service(w.realm.id, w.bots[0].id).await.unwrap();
    let fresh = w.store.create_user(w.realm.id, fresh, 0).await.unwrap();
    // The next request reads the realm, as authentication does, and sees the bot at once.
    let realm = w.store.get_realm(w.realm.id).await.unwrap().unwrap();
    let sent = w.sender.send(SendRequest { realm, ..w.request(&w.ada, "@**Fresh Bot** hi") }).await.unwrap();
    assert_eq!(sent.triggered, 1, "a bot created a moment ago fires");

    w.store.set_full_name(w.realm.id, fresh.id, "Renamed Bot").await.unwrap();
    let realm = w.store.get_realm(w.realm.id).await.unwrap().unwrap();
    let sent = w.sender.send(SendRequest { realm, ..w.request(&w.ada, "@**Renamed Bot** hi") }).await.unwrap();
    assert_eq!(sent.triggered, 1, "a bot renamed a moment ago answers to its new name");

    w.store.set_user_active(w.realm.id, fresh.id, false).await.unwrap();
    w.store.set_user_active(w.realm.id, fresh.id, true).await.unwrap();
    let realm = w.store.get_realm(w.realm.id).await.unwrap().unwrap();
    let sent = w.sender.send(SendRequest { realm, ..w.request(&w.ada, "@**Renamed Bot** back?") }).await.unwrap();
    assert_eq!(sent.triggered, 1, "a bot reactivated a moment ago fires");
}

#[tokio::test]
async fn handed_over_in_the_background_the_send_answers_first_and_the_jobs_still_arrive() {
    let w = world(1).await;
    let sender = Sender::new(w.store.clone(), w.queue.clone(), w.clock.clone()).handing_over(HandOver::InBackground);
    // GIVEN the queue is down: the send is answered all the same, its trigger in the outbox
    w.queue.down.store(true, Ordering::SeqCst);
    let first = sender.send(w.request(&w.ada, "@**Bot 1** one")).await.unwrap();
    assert_eq!(first.triggered, 1);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(w.outbox_len().await, 1, "the hand-over failed: the entry stays for the sweep");
    // WHEN the queue is back, the next send's job reaches it after the answer, and its entry goes
    w.queue.down.store(false, Ordering::SeqCst);
    let second = sender.send(w.request(&w.ada, "@**Bot 1** two")).await.unwrap();
    let mut queued = Vec::new();
    for _ in 0..100 {
        queued.extend(w.queued().await);
        if !queued.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let [QueueJob::Deliver(job)] = queued.as_slice() else { panic!("{queued:?}") };
    assert_eq!(job.message_id, second.message.id);
    tokio::time::sleep(Duration::from_millis(50)).await;
    // THEN only the first message's entry is left, for the sweep
    let left = w.store.pending_outbox(i64::MAX, i64::MAX, 100).await.unwrap();
    assert_eq!(left.iter().map(|e| e.message_id).collect::<Vec<_>>(), vec![first.message.id]);
}
