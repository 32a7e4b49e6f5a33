//! Edits, deletions and reactions on the in-process store: each rule's success and error.

use hookline_model::credentials::ApiKeyHash;
use hookline_model::realm::NewRealm;
use hookline_model::store::memory::MemoryStore;
use hookline_model::store::{MessageStore as _, RealmStore as _, UserStore as _};
use hookline_model::user::{NewUser, Role};
use hookline_model::{MessageDraft, Recipient, User};

use crate::edit::{self, CONTENT_EDIT_LIMIT, Edit, EditError, PropagateMode};
use crate::reactions::{self, EmojiRequest, ReactionError};

const NOW: i64 = 1_800_000_000_000;

fn person(email: &str, role: Role) -> NewUser {
    NewUser {
        email: email.into(),
        full_name: email.into(),
        role,
        bot_type: None,
        bot_owner_id: None,
        api_key_hash: ApiKeyHash::of(email),
        service: None,
    }
}

/// A realm with an owner (admin) and a member, a second realm, and one stream message and one
/// DM from the member.
async fn world() -> (MemoryStore, User, User, User, u64, u64) {
    let store = MemoryStore::new();
    let realm = |id: &str| NewRealm {
        string_id: id.into(),
        name: id.into(),
        host: format!("{id}.test"),
        public_url: format!("https://{id}.test"),
    };
    let (acme, owner) = store.create_realm(realm("acme"), person("o@acme.test", Role::Owner), 0).await.unwrap();
    let member = store.create_user(acme.id, person("m@acme.test", Role::Member), 0).await.unwrap();
    let (_, stranger) = store.create_realm(realm("other"), person("s@other.test", Role::Owner), 0).await.unwrap();
    let send = |recipient: Recipient| MessageDraft {
        realm_id: acme.id,
        sender_id: member.id,
        sender_email: member.email.clone(),
        sender_full_name: member.full_name.clone(),
        sender_is_bot: false,
        recipient,
        content: "hello".into(),
        timestamp: NOW,
        client: "test".into(),
        outbox: Vec::new(),
        reply_to: None,
        idempotency: None,
    };
    let stream = Recipient::Stream { stream_id: 1, stream_name: "general".into(), topic: "lunch".into() };
    let in_stream = store.commit_message(send(stream)).await.unwrap().id;
    let dm = store.commit_message(send(Recipient::direct(member.id, [member.id]))).await.unwrap().id;
    (store, owner, member, stranger, in_stream, dm)
}

fn content(text: &str) -> Edit {
    Edit { content: Some(text.into()), ..Edit::default() }
}

#[tokio::test]
async fn only_the_sender_edits_content_within_the_limit() {
    let (store, owner, member, stranger, id, dm) = world().await;
    edit::edit_message(&store, &member, id, &content("edited"), NOW + 1000).await.unwrap();
    let stored = store.get_message(member.realm_id, id).await.unwrap().unwrap();
    assert_eq!((stored.content.as_str(), stored.last_edit_timestamp), ("edited", Some(NOW + 1000)));
    let refused = |e: Result<(), EditError>| e.unwrap_err();
    assert_eq!(refused(edit::edit_message(&store, &owner, id, &content("x"), NOW).await), EditError::EditNotAllowed);
    assert_eq!(
        refused(edit::edit_message(&store, &member, id, &content("x"), NOW + CONTENT_EDIT_LIMIT + 1).await),
        EditError::ContentTimeLimit
    );
    assert_eq!(
        refused(edit::edit_message(&store, &member, id, &Edit::default(), NOW).await),
        EditError::NothingToChange
    );
    let later = Edit { propagate_mode: PropagateMode::ChangeAll, ..Edit::default() };
    assert_eq!(refused(edit::edit_message(&store, &member, id, &later, NOW).await), EditError::PropagateWithoutTopic);
    // Unknown ids, another realm's message and a DM the caller is not in look the same
    assert_eq!(refused(edit::edit_message(&store, &member, 999, &content("x"), NOW).await), EditError::InvalidMessage);
    assert_eq!(refused(edit::edit_message(&store, &stranger, id, &content("x"), NOW).await), EditError::InvalidMessage);
    assert_eq!(refused(edit::edit_message(&store, &owner, dm, &content("x"), NOW).await), EditError::InvalidMessage);
    // Content edited to nothing is Zulip's "(deleted)"
    edit::edit_message(&store, &member, id, &content("  "), NOW).await.unwrap();
    assert_eq!(store.get_message(member.realm_id, id).await.unwrap().unwrap().content, "(deleted)");
}

#[tokio::test]
async fn topics_move_for_the_sender_and_admins_but_not_in_dms() {
    let (store, owner, member, _, id, dm) = world().await;
    let topic = |t: &str| Edit { topic: Some(t.into()), propagate_mode: PropagateMode::ChangeAll, ..Edit::default() };
    edit::edit_message(&store, &member, id, &topic("dinner"), NOW).await.unwrap();
    edit::edit_message(&store, &owner, id, &topic("breakfast"), NOW + 30 * 24 * 3600 * 1000).await.unwrap();
    let stored = store.get_message(member.realm_id, id).await.unwrap().unwrap();
    assert!(matches!(stored.recipient, Recipient::Stream { ref topic, .. } if topic == "breakfast"));
    assert_eq!(
        edit::edit_message(&store, &member, id, &topic("late"), NOW + 30 * 24 * 3600 * 1000).await,
        Err(EditError::TopicTimeLimit)
    );
    assert_eq!(edit::edit_message(&store, &member, dm, &topic("x"), NOW).await, Err(EditError::DirectMessageTopic));
}

#[tokio::test]
async fn only_admins_delete_messages_under_zulips_default_policy() {
    let (store, owner, member, stranger, id, _) = world().await;
    assert_eq!(edit::delete_message(&store, &member, id).await, Err(EditError::DeleteNotAllowed));
    assert_eq!(edit::delete_message(&store, &stranger, id).await, Err(EditError::InvalidMessage));
    edit::delete_message(&store, &owner, id).await.unwrap();
    assert_eq!(store.get_message(owner.realm_id, id).await.unwrap(), None);
    assert_eq!(edit::delete_message(&store, &owner, id).await, Err(EditError::InvalidMessage));
}

#[tokio::test]
async fn reactions_are_added_once_and_removed_by_their_user() {
    let (store, owner, member, stranger, id, dm) = world().await;
    let by_name = EmojiRequest::default();
    reactions::add_reaction(&store, &member, id, "thumbs_up", &by_name).await.unwrap();
    // A vote for the same emoji takes the first reaction's name
    reactions::add_reaction(&store, &owner, id, "+1", &by_name).await.unwrap();
    let stored = store.get_message(member.realm_id, id).await.unwrap().unwrap();
    let names: Vec<(&str, &str)> =
        stored.reactions.iter().map(|r| (r.emoji_name.as_str(), r.emoji_code.as_str())).collect();
    assert_eq!(names, [("thumbs_up", "1f44d"), ("thumbs_up", "1f44d")]);
    let add = |name: &str, request: EmojiRequest| {
        let (store, member, name) = (&store, &member, name.to_owned());
        async move { reactions::add_reaction(store, member, id, &name, &request).await.unwrap_err() }
    };
    assert_eq!(add("+1", by_name.clone()).await, ReactionError::AlreadyExists);
    assert_eq!(add("no_such", by_name.clone()).await, ReactionError::UnknownEmoji("no_such".into()));
    let coded = |code: &str, kind: &str| EmojiRequest {
        emoji_name: None,
        emoji_code: Some(code.into()),
        reaction_type: Some(kind.into()),
    };
    assert_eq!(add("smile", coded("ffff", "unicode_emoji")).await, ReactionError::InvalidCode);
    assert_eq!(add("smile", coded("1f600", "unicode_emoji")).await, ReactionError::InvalidName);
    assert_eq!(add("smile", coded("1f600", "weird")).await, ReactionError::InvalidType);
    assert_eq!(
        reactions::add_reaction(&store, &stranger, id, "+1", &by_name).await,
        Err(ReactionError::InvalidMessage)
    );
    assert_eq!(reactions::add_reaction(&store, &owner, dm, "+1", &by_name).await, Err(ReactionError::InvalidMessage));

    let named = |name: &str| EmojiRequest { emoji_name: Some(name.into()), ..EmojiRequest::default() };
    reactions::remove_reaction(&store, &member, id, &named("+1")).await.unwrap();
    assert_eq!(reactions::remove_reaction(&store, &member, id, &named("+1")).await, Err(ReactionError::DoesNotExist));
    assert_eq!(reactions::remove_reaction(&store, &member, id, &by_name).await, Err(ReactionError::NoEmoji));
    let left = store.get_message(member.realm_id, id).await.unwrap().unwrap().reactions;
    assert_eq!(left.iter().map(|r| r.user_id).collect::<Vec<_>>(), [owner.id]);
}

#[tokio::test]
async fn a_topic_edit_moves_the_later_messages_or_the_whole_topic_as_asked() {
    let (store, owner, member, _, first, _) = world().await;
    let in_topic = |topic: &str, content: &str| MessageDraft {
        realm_id: member.realm_id,
        sender_id: owner.id,
        sender_email: owner.email.clone(),
        sender_full_name: owner.full_name.clone(),
        sender_is_bot: false,
        recipient: Recipient::Stream { stream_id: 1, stream_name: "general".into(), topic: topic.into() },
        content: content.into(),
        timestamp: NOW,
        client: "test".into(),
        outbox: Vec::new(),
        reply_to: None,
        idempotency: None,
    };
    let second = store.commit_message(in_topic("lunch", "second")).await.unwrap().id;
    let third = store.commit_message(in_topic("lunch", "third")).await.unwrap().id;
    let elsewhere = store.commit_message(in_topic("other", "elsewhere")).await.unwrap().id;
    let topic_of = async |id| match store.get_message(member.realm_id, id).await.unwrap().unwrap().recipient {
        Recipient::Stream { topic, .. } => topic,
        Recipient::Direct { .. } => unreachable!(),
    };
    let moving = |t: &str, mode| Edit { topic: Some(t.into()), propagate_mode: mode, ..Edit::default() };

    edit::edit_message(&store, &owner, second, &moving("dinner", PropagateMode::ChangeLater), NOW).await.unwrap();
    assert_eq!(
        (topic_of(first).await, topic_of(second).await, topic_of(third).await, topic_of(elsewhere).await),
        ("lunch".into(), "dinner".into(), "dinner".into(), "other".into())
    );
    edit::edit_message(&store, &member, first, &moving("dinner", PropagateMode::ChangeOne), NOW).await.unwrap();
    edit::edit_message(&store, &owner, third, &moving("supper", PropagateMode::ChangeAll), NOW).await.unwrap();
    for id in [first, second, third] {
        assert_eq!(topic_of(id).await, "supper", "message {id}");
    }
    assert_eq!(topic_of(elsewhere).await, "other");
}
