//! What every [`Store`] must do for changes to committed messages and for bot storage.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::future::join_all;
use hookline_model::store::{Direction, MessageScope, Store, StoreError};
use hookline_model::{MessageDraft, Reaction, Realm, Recipient, User};

use crate::support::{new_realm, new_user, unique_name};

const NOW: i64 = 4_000_000_000_000;

async fn realm_with_owner(store: &Arc<dyn Store>) -> (Realm, User) {
    store.create_realm(new_realm(&unique_name("chg")), new_user("owner@acme.example", "Olive"), NOW).await.unwrap()
}

fn draft(realm: &Realm, sender: &User, topic: &str) -> MessageDraft {
    MessageDraft {
        realm_id: realm.id,
        sender_id: sender.id,
        sender_email: sender.email.clone(),
        sender_full_name: sender.full_name.clone(),
        sender_is_bot: false,
        recipient: Recipient::Stream { stream_id: 1, stream_name: "general".into(), topic: topic.into() },
        content: "hello".into(),
        timestamp: NOW,
        client: "test".into(),
        outbox: Vec::new(),
        reply_to: None,
        idempotency: None,
    }
}

async fn in_topic(store: &Arc<dyn Store>, realm: &Realm, topic: &str) -> Vec<u64> {
    let scope = MessageScope::Topic(1, topic.into());
    let found = store.list_messages(realm.id, &scope, 0, Direction::From, 10, &|_| true).await.unwrap();
    found.iter().map(|m| m.id).collect()
}

pub async fn a_message_is_replaced_only_from_its_current_revision(store: Arc<dyn Store>) {
    let (realm, owner) = realm_with_owner(&store).await;
    let sent = store.commit_message(draft(&realm, &owner, "lunch")).await.unwrap();
    let mut edited = sent.clone();
    edited.content = "edited".into();
    edited.recipient = Recipient::Stream { stream_id: 1, stream_name: "general".into(), topic: "dinner".into() };
    let stored = store.replace_message(&sent, edited.clone()).await.unwrap();
    assert_eq!(stored.revision, 1);
    assert_eq!(store.get_message(realm.id, sent.id).await.unwrap().unwrap().content, "edited");
    // The topic copies moved with the topic
    assert_eq!(in_topic(&store, &realm, "lunch").await, Vec::<u64>::new());
    assert_eq!(in_topic(&store, &realm, "dinner").await, vec![sent.id]);
    // A change computed from the old revision loses
    let mut stale = sent.clone();
    stale.reactions.push(Reaction {
        user_id: owner.id,
        emoji_name: "+1".into(),
        emoji_code: "1f44d".into(),
        reaction_type: "unicode_emoji".into(),
    });
    assert!(matches!(store.replace_message(&sent, stale).await, Err(StoreError::Conflict)));
    // Of concurrent changes from one revision, exactly one wins
    let tries = (0..6).map(|i| {
        let store = store.clone();
        let (current, mut changed) = (stored.clone(), stored.clone());
        changed.content = format!("try {i}");
        async move { store.replace_message(&current, changed).await.is_ok() }
    });
    assert_eq!(join_all(tries).await.into_iter().filter(|won| *won).count(), 1);
    let now = store.get_message(realm.id, sent.id).await.unwrap().unwrap();
    assert_eq!(now.revision, 2);
    // Deleting needs the current revision too, and removes every copy
    assert!(matches!(store.delete_message(&stored).await, Err(StoreError::Conflict)));
    store.delete_message(&now).await.unwrap();
    assert_eq!(store.get_message(realm.id, sent.id).await.unwrap(), None);
    assert_eq!(in_topic(&store, &realm, "dinner").await, Vec::<u64>::new());
    assert!(matches!(store.replace_message(&now, now.clone()).await, Err(StoreError::NotFound(_))));
}

pub async fn bot_storage_holds_text_within_the_limit(store: Arc<dyn Store>) {
    let (realm, owner) = realm_with_owner(&store).await;
    let entries = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    };
    store.put_bot_storage(realm.id, owner.id, &entries(&[("a", "12345"), ("bé", "x")]), 20).await.unwrap();
    assert_eq!(store.bot_storage(realm.id, owner.id, None).await.unwrap(), entries(&[("a", "12345"), ("bé", "x")]));
    let some = store.bot_storage(realm.id, owner.id, Some(&["a".into(), "zz".into()])).await.unwrap();
    assert_eq!(some, entries(&[("a", "12345")]));
    // 6 + 3 = 9 characters used; replacing "a" counts only the difference
    store.put_bot_storage(realm.id, owner.id, &entries(&[("a", "1234567890")]), 20).await.unwrap();
    let refused = store.put_bot_storage(realm.id, owner.id, &entries(&[("c", "1234567")]), 20).await;
    assert!(matches!(refused, Err(StoreError::StorageLimit { over: 2, limit: 20 })), "{refused:?}");
    // Removing is all or nothing
    let missing = store.remove_bot_storage(realm.id, owner.id, &["a".into(), "nope".into()]).await;
    assert!(matches!(missing, Err(StoreError::NotFound(_))));
    assert_eq!(store.bot_storage(realm.id, owner.id, None).await.unwrap().len(), 2);
    store.remove_bot_storage(realm.id, owner.id, &["a".into()]).await.unwrap();
    store.put_bot_storage(realm.id, owner.id, &entries(&[("c", "1234567")]), 20).await.unwrap();
    // Another bot's storage is its own
    assert!(store.bot_storage(realm.id, owner.id + 1, None).await.unwrap().is_empty());
}

pub async fn concurrent_bot_storage_writes_cannot_exceed_the_limit(store: Arc<dyn Store>) {
    let (realm, owner) = realm_with_owner(&store).await;
    // Eight writers of 10 characters each race for 35 characters: three fit
    let writes = (0..8).map(|i| {
        let store = store.clone();
        let entry = BTreeMap::from([(format!("k{i}"), "12345678".to_owned())]);
        async move { store.put_bot_storage(realm.id, owner.id, &entry, 35).await }
    });
    let results = join_all(writes).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 3, "{results:?}");
    assert!(results.iter().all(|r| r.is_ok() || matches!(r, Err(StoreError::StorageLimit { .. }))));
    assert_eq!(store.bot_storage(realm.id, owner.id, None).await.unwrap().len(), 3);
}
