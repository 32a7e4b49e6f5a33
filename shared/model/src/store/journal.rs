//! The embedded store made durable: a [`MemoryStore`] whose every successful write is first
//! appended to a journal file (one JSON line per write) and fsynced before the caller hears
//! back. Opening the store replays the journal, so everything that was acknowledged survives
//! a `kill -9`; a write torn by a crash was never acknowledged and is dropped on replay.
//!
//! Writes are serialized through the journal's lock, so the journal's order is the order the
//! writes were applied in, and replaying it reproduces the same ids and outcomes.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::future::Future;
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use super::memory::MemoryStore;
use super::{
    BotStorageStore, DeliveryStore, Direction, MessageChangeStore, MessageFilter, MessageScope, MessageStore,
    OutboxEntry, RealmStore, ServiceStore, StoreError, StoreResult, StreamStore, UserStore,
};
use crate::Millis;
use crate::credentials::ApiKeyHash;
use crate::delivery::{AttemptOutcome, Delivery, DeliveryId, DeliveryState};
use crate::message::{Message, MessageDraft, MessageId};
use crate::realm::{NewRealm, Realm, RealmId};
use crate::stream::{Stream, StreamId};
use crate::user::{BotService, NewUser, User, UserId};

/// One journaled write: the call and its arguments.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Write {
    CreateRealm { realm: NewRealm, owner: NewUser, now: Millis },
    CreateUser { realm: RealmId, user: NewUser, now: Millis },
    SetUserActive { realm: RealmId, id: UserId, active: bool },
    SetFullName { realm: RealmId, id: UserId, full_name: String },
    ReplaceApiKey { realm: RealmId, id: UserId, new: ApiKeyHash },
    CreateStream { realm: RealmId, name: String, description: String, now: Millis },
    Subscribe { realm: RealmId, user: UserId, stream: StreamId },
    UpdateService { service: BotService, expected_updated_at: Millis },
    CommitMessage { draft: MessageDraft },
    ClaimOutbox { realm: RealmId, message: MessageId, now: Millis, until: Millis },
    DeleteOutbox { realm: RealmId, message: MessageId },
    EnsureDelivery { delivery: Delivery },
    ClaimDelivery { realm: RealmId, id: DeliveryId, owner: String, now: Millis, until: Millis },
    RecordAttempt { realm: RealmId, id: DeliveryId, owner: String, outcome: AttemptOutcome },
    ReplaceMessage { current: Box<Message>, changed: Box<Message> },
    DeleteMessage { current: Box<Message> },
    PutBotStorage { realm: RealmId, bot: UserId, entries: BTreeMap<String, String>, limit: u64 },
    RemoveBotStorage { realm: RealmId, bot: UserId, keys: Vec<String> },
}

impl Write {
    /// Applies the write to `store`, as the original call did.
    async fn replay(self, store: &MemoryStore) {
        // Outcomes were decided when the write was first made; only the state change matters.
        let _ = match self {
            Self::CreateRealm { realm, owner, now } => store.create_realm(realm, owner, now).await.map(drop),
            Self::CreateUser { realm, user, now } => store.create_user(realm, user, now).await.map(drop),
            Self::SetUserActive { realm, id, active } => store.set_user_active(realm, id, active).await.map(drop),
            Self::SetFullName { realm, id, full_name } => store.set_full_name(realm, id, &full_name).await.map(drop),
            Self::ReplaceApiKey { realm, id, new } => store.replace_api_key(realm, id, new).await,
            Self::CreateStream { realm, name, description, now } => {
                store.create_stream(realm, &name, &description, now).await.map(drop)
            }
            Self::Subscribe { realm, user, stream } => store.subscribe(realm, user, stream).await,
            Self::UpdateService { service, expected_updated_at } => {
                store.update_service(&service, expected_updated_at).await
            }
            Self::CommitMessage { draft } => store.commit_message(draft).await.map(drop),
            Self::ClaimOutbox { realm, message, now, until } => {
                store.claim_outbox(realm, message, now, until).await.map(drop)
            }
            Self::DeleteOutbox { realm, message } => store.delete_outbox(realm, message).await,
            Self::EnsureDelivery { delivery } => store.ensure_delivery(&delivery).await.map(drop),
            Self::ClaimDelivery { realm, id, owner, now, until } => {
                store.claim_delivery(realm, id, &owner, now, until).await.map(drop)
            }
            Self::RecordAttempt { realm, id, owner, outcome } => {
                store.record_attempt(realm, id, &owner, outcome).await.map(drop)
            }
            Self::ReplaceMessage { current, changed } => store.replace_message(&current, *changed).await.map(drop),
            Self::DeleteMessage { current } => store.delete_message(&current).await,
            Self::PutBotStorage { realm, bot, entries, limit } => {
                store.put_bot_storage(realm, bot, &entries, limit).await
            }
            Self::RemoveBotStorage { realm, bot, keys } => store.remove_bot_storage(realm, bot, &keys).await,
        };
    }
}

struct Journal {
    file: File,
    /// Set when a write could not be made durable: the store refuses further writes rather
    /// than acknowledge what a restart would lose.
    broken: bool,
}

pub struct JournalStore {
    inner: MemoryStore,
    journal: Mutex<Journal>,
    path: PathBuf,
}

impl JournalStore {
    /// Opens (or creates) the journal `journal.jsonl` in `dir` and replays it.
    pub async fn open(dir: &Path) -> StoreResult<Self> {
        std::fs::create_dir_all(dir).map_err(io)?;
        let path = dir.join("journal.jsonl");
        let mut file =
            OpenOptions::new().create(true).truncate(false).read(true).write(true).open(&path).map_err(io)?;
        let inner = MemoryStore::new();
        let mut good_until = 0u64;
        let mut reader = BufReader::new(&file);
        let mut line = String::new();
        loop {
            line.clear();
            let read = reader.read_line(&mut line).map_err(io)?;
            // A last line without its newline, or one that does not parse, was torn by a
            // crash before it was acknowledged: everything from it on is dropped.
            if read == 0 || !line.ends_with('\n') {
                break;
            }
            let Ok(write) = serde_json::from_str::<Write>(&line) else { break };
            write.replay(&inner).await;
            good_until += read as u64;
        }
        drop(reader);
        file.set_len(good_until).map_err(io)?;
        file.seek(SeekFrom::End(0)).map_err(io)?;
        Ok(Self { inner, journal: Mutex::new(Journal { file, broken: false }), path })
    }

    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `op` on the in-memory state and, if it succeeds, journals `write` durably before
    /// returning its result.
    async fn logged<T>(&self, write: Write, op: impl Future<Output = StoreResult<T>>) -> StoreResult<T> {
        let mut journal = self.journal.lock().await;
        if journal.broken {
            return Err(StoreError::Backend("the journal could not be written; restart to recover".into()));
        }
        let result = op.await?;
        let mut line = serde_json::to_vec(&write).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        line.push(b'\n');
        if let Err(e) = journal.file.write_all(&line).and_then(|()| journal.file.sync_data()) {
            journal.broken = true;
            return Err(io(e));
        }
        Ok(result)
    }
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::Backend(format!("journal: {e}"))
}

#[async_trait]
impl RealmStore for JournalStore {
    async fn create_realm(&self, realm: NewRealm, owner: NewUser, now: Millis) -> StoreResult<(Realm, User)> {
        let write = Write::CreateRealm { realm: realm.clone(), owner: owner.clone(), now };
        self.logged(write, self.inner.create_realm(realm, owner, now)).await
    }

    async fn get_realm(&self, id: RealmId) -> StoreResult<Option<Realm>> {
        self.inner.get_realm(id).await
    }

    async fn find_realm(&self, string_id: &str) -> StoreResult<Option<Realm>> {
        self.inner.find_realm(string_id).await
    }
}

#[async_trait]
impl UserStore for JournalStore {
    async fn create_user(&self, realm: RealmId, user: NewUser, now: Millis) -> StoreResult<User> {
        let write = Write::CreateUser { realm, user: user.clone(), now };
        self.logged(write, self.inner.create_user(realm, user, now)).await
    }

    async fn get_user(&self, realm: RealmId, id: UserId) -> StoreResult<Option<User>> {
        self.inner.get_user(realm, id).await
    }

    async fn find_user_by_email(&self, realm: RealmId, email: &str) -> StoreResult<Option<User>> {
        self.inner.find_user_by_email(realm, email).await
    }

    async fn list_users(&self, realm: RealmId) -> StoreResult<Vec<User>> {
        self.inner.list_users(realm).await
    }

    async fn set_user_active(&self, realm: RealmId, id: UserId, active: bool) -> StoreResult<User> {
        self.logged(Write::SetUserActive { realm, id, active }, self.inner.set_user_active(realm, id, active)).await
    }

    async fn set_full_name(&self, realm: RealmId, id: UserId, full_name: &str) -> StoreResult<User> {
        let write = Write::SetFullName { realm, id, full_name: full_name.to_owned() };
        self.logged(write, self.inner.set_full_name(realm, id, full_name)).await
    }

    async fn replace_api_key(&self, realm: RealmId, id: UserId, new: ApiKeyHash) -> StoreResult<()> {
        let write = Write::ReplaceApiKey { realm, id, new: new.clone() };
        self.logged(write, self.inner.replace_api_key(realm, id, new)).await
    }

    async fn authenticate(&self, key: &ApiKeyHash) -> StoreResult<Option<(RealmId, UserId)>> {
        self.inner.authenticate(key).await
    }
}

#[async_trait]
impl StreamStore for JournalStore {
    async fn create_stream(&self, realm: RealmId, name: &str, description: &str, now: Millis) -> StoreResult<Stream> {
        let write = Write::CreateStream { realm, name: name.to_owned(), description: description.to_owned(), now };
        self.logged(write, self.inner.create_stream(realm, name, description, now)).await
    }

    async fn get_stream(&self, realm: RealmId, id: StreamId) -> StoreResult<Option<Stream>> {
        self.inner.get_stream(realm, id).await
    }

    async fn find_stream(&self, realm: RealmId, name: &str) -> StoreResult<Option<Stream>> {
        self.inner.find_stream(realm, name).await
    }

    async fn list_streams(&self, realm: RealmId) -> StoreResult<Vec<Stream>> {
        self.inner.list_streams(realm).await
    }

    async fn subscribe(&self, realm: RealmId, user: UserId, stream: StreamId) -> StoreResult<()> {
        self.logged(Write::Subscribe { realm, user, stream }, self.inner.subscribe(realm, user, stream)).await
    }

    async fn subscriptions(&self, realm: RealmId, user: UserId) -> StoreResult<Vec<StreamId>> {
        self.inner.subscriptions(realm, user).await
    }
}

#[async_trait]
impl ServiceStore for JournalStore {
    async fn get_service(&self, realm: RealmId, bot: UserId) -> StoreResult<Option<BotService>> {
        self.inner.get_service(realm, bot).await
    }

    async fn list_services(&self, realm: RealmId) -> StoreResult<Vec<BotService>> {
        self.inner.list_services(realm).await
    }

    async fn update_service(&self, service: &BotService, expected_updated_at: Millis) -> StoreResult<()> {
        let write = Write::UpdateService { service: service.clone(), expected_updated_at };
        self.logged(write, self.inner.update_service(service, expected_updated_at)).await
    }
}

#[async_trait]
impl MessageStore for JournalStore {
    async fn commit_message(&self, draft: MessageDraft) -> StoreResult<Message> {
        self.logged(Write::CommitMessage { draft: draft.clone() }, self.inner.commit_message(draft)).await
    }

    async fn get_message(&self, realm: RealmId, id: MessageId) -> StoreResult<Option<Message>> {
        self.inner.get_message(realm, id).await
    }

    async fn list_messages(
        &self,
        realm: RealmId,
        scope: &MessageScope,
        anchor: MessageId,
        direction: Direction,
        limit: usize,
        keep: &MessageFilter,
    ) -> StoreResult<Vec<Message>> {
        self.inner.list_messages(realm, scope, anchor, direction, limit, keep).await
    }

    async fn last_message_id(&self, realm: RealmId) -> StoreResult<MessageId> {
        self.inner.last_message_id(realm).await
    }

    async fn pending_outbox(&self, created_before: Millis, now: Millis, limit: usize) -> StoreResult<Vec<OutboxEntry>> {
        self.inner.pending_outbox(created_before, now, limit).await
    }

    async fn get_outbox(&self, realm: RealmId, message: MessageId) -> StoreResult<Option<OutboxEntry>> {
        self.inner.get_outbox(realm, message).await
    }

    async fn claim_outbox(&self, realm: RealmId, message: MessageId, now: Millis, until: Millis) -> StoreResult<bool> {
        let write = Write::ClaimOutbox { realm, message, now, until };
        self.logged(write, self.inner.claim_outbox(realm, message, now, until)).await
    }

    async fn delete_outbox(&self, realm: RealmId, message: MessageId) -> StoreResult<()> {
        self.logged(Write::DeleteOutbox { realm, message }, self.inner.delete_outbox(realm, message)).await
    }
}

#[async_trait]
impl MessageChangeStore for JournalStore {
    async fn replace_message(&self, current: &Message, changed: Message) -> StoreResult<Message> {
        let write = Write::ReplaceMessage { current: Box::new(current.clone()), changed: Box::new(changed.clone()) };
        self.logged(write, self.inner.replace_message(current, changed)).await
    }

    async fn delete_message(&self, current: &Message) -> StoreResult<()> {
        self.logged(Write::DeleteMessage { current: Box::new(current.clone()) }, self.inner.delete_message(current))
            .await
    }
}

#[async_trait]
impl BotStorageStore for JournalStore {
    async fn bot_storage(
        &self,
        realm: RealmId,
        bot: UserId,
        keys: Option<&[String]>,
    ) -> StoreResult<BTreeMap<String, String>> {
        self.inner.bot_storage(realm, bot, keys).await
    }

    async fn put_bot_storage(
        &self,
        realm: RealmId,
        bot: UserId,
        entries: &BTreeMap<String, String>,
        limit: u64,
    ) -> StoreResult<()> {
        let write = Write::PutBotStorage { realm, bot, entries: entries.clone(), limit };
        self.logged(write, self.inner.put_bot_storage(realm, bot, entries, limit)).await
    }

    async fn remove_bot_storage(&self, realm: RealmId, bot: UserId, keys: &[String]) -> StoreResult<()> {
        let write = Write::RemoveBotStorage { realm, bot, keys: keys.to_vec() };
        self.logged(write, self.inner.remove_bot_storage(realm, bot, keys)).await
    }
}

#[async_trait]
impl DeliveryStore for JournalStore {
    async fn ensure_delivery(&self, delivery: &Delivery) -> StoreResult<Delivery> {
        self.logged(Write::EnsureDelivery { delivery: delivery.clone() }, self.inner.ensure_delivery(delivery)).await
    }

    async fn get_delivery(&self, realm: RealmId, id: DeliveryId) -> StoreResult<Option<Delivery>> {
        self.inner.get_delivery(realm, id).await
    }

    async fn claim_delivery(
        &self,
        realm: RealmId,
        id: DeliveryId,
        owner: &str,
        now: Millis,
        until: Millis,
    ) -> StoreResult<Option<Delivery>> {
        let write = Write::ClaimDelivery { realm, id, owner: owner.to_owned(), now, until };
        self.logged(write, self.inner.claim_delivery(realm, id, owner, now, until)).await
    }

    async fn record_attempt(
        &self,
        realm: RealmId,
        id: DeliveryId,
        owner: &str,
        outcome: AttemptOutcome,
    ) -> StoreResult<Delivery> {
        let write = Write::RecordAttempt { realm, id, owner: owner.to_owned(), outcome: outcome.clone() };
        self.logged(write, self.inner.record_attempt(realm, id, owner, outcome)).await
    }

    async fn list_deliveries(
        &self,
        realm: RealmId,
        bot: UserId,
        state: Option<DeliveryState>,
        cursor: Option<DeliveryId>,
        limit: usize,
    ) -> StoreResult<Vec<Delivery>> {
        self.inner.list_deliveries(realm, bot, state, cursor, limit).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::generate_api_key;
    use crate::user::Role;

    fn dir() -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("hookline-journal-{}-{}", std::process::id(), rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn owner() -> NewUser {
        NewUser {
            email: "o@acme.example".into(),
            full_name: "O".into(),
            role: Role::Owner,
            bot_type: None,
            bot_owner_id: None,
            api_key_hash: ApiKeyHash::of(&generate_api_key()),
            service: None,
        }
    }

    fn realm() -> NewRealm {
        NewRealm {
            string_id: "acme".into(),
            name: "Acme".into(),
            host: "acme.test".into(),
            public_url: "http://x".into(),
        }
    }

    #[tokio::test]
    async fn reopening_replays_every_acknowledged_write() {
        let dir = dir();
        let store = JournalStore::open(&dir).await.unwrap();
        let (realm, owner) = store.create_realm(realm(), owner(), 1).await.unwrap();
        let stream = store.create_stream(realm.id, "general", "", 2).await.unwrap();
        store.set_user_active(realm.id, owner.id, false).await.unwrap();
        // A refused write is not journaled
        assert!(store.create_stream(realm.id, "General", "", 3).await.is_err());
        let before = store.get_realm(realm.id).await.unwrap();
        drop(store);

        let reopened = JournalStore::open(&dir).await.unwrap();
        assert_eq!(reopened.get_realm(realm.id).await.unwrap(), before);
        assert_eq!(reopened.find_stream(realm.id, "general").await.unwrap(), Some(stream));
        assert!(!reopened.get_user(realm.id, owner.id).await.unwrap().unwrap().is_active);
        // Ids continue where they stopped
        assert_eq!(reopened.create_stream(realm.id, "second", "", 4).await.unwrap().id, 2);
    }

    #[tokio::test]
    async fn a_torn_last_line_is_dropped_and_the_journal_stays_usable() {
        let dir = dir();
        let store = JournalStore::open(&dir).await.unwrap();
        let (realm, _) = store.create_realm(realm(), owner(), 1).await.unwrap();
        let path = store.path().to_owned();
        drop(store);
        // GIVEN a crash in the middle of appending a line
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        use std::io::Write as _;
        file.write_all(br#"{"op":"create_stream","realm":1,"na"#).unwrap();
        drop(file);

        let reopened = JournalStore::open(&dir).await.unwrap();
        assert!(reopened.get_realm(realm.id).await.unwrap().is_some());
        assert_eq!(reopened.list_streams(realm.id).await.unwrap(), vec![]);
        reopened.create_stream(realm.id, "after", "", 2).await.unwrap();
        drop(reopened);
        let again = JournalStore::open(&dir).await.unwrap();
        assert_eq!(again.list_streams(realm.id).await.unwrap().len(), 1);
    }
}
