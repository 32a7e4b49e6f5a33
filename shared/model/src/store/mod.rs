//! The storage port: small traits by aggregate, one [`StoreError`], and two implementations,
//! [`dynamo::DynamoStore`] (one DynamoDB table) and [`memory::MemoryStore`] (in-process).
//!
//! Every uniqueness rule (realm names, emails, stream names, API keys, one reply per delivery)
//! is enforced by the write itself, never by reading first.

pub mod dynamo;
pub mod journal;
pub mod memory;
mod pairs;

use std::collections::BTreeMap;

use async_trait::async_trait;

use crate::Millis;
use crate::credentials::ApiKeyHash;
use crate::delivery::{AttemptOutcome, Delivery, DeliveryId, DeliveryJob, DeliveryState};
use crate::message::{Message, MessageDraft, MessageId};
use crate::rate_limit::{RateKey, Window};
use crate::realm::{NewRealm, Realm, RealmId};
use crate::stream::{Stream, StreamId};
use crate::user::{BotService, NewUser, User, UserId};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("a realm with this string id already exists")]
    RealmExists,
    #[error("a user with this email already exists in the realm")]
    EmailTaken,
    #[error("a stream with this name already exists in the realm")]
    StreamExists,
    #[error("this delivery already has a reply")]
    AlreadyReplied,
    /// The sender used this idempotency key within its window; this is the first message.
    #[error("idempotency key already used for message {0}")]
    Duplicate(MessageId),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A conditional write lost to a concurrent one; re-read and decide again.
    #[error("the item changed concurrently")]
    Conflict,
    /// The lease on a delivery or outbox entry is held by someone else, or was lost.
    #[error("the lease is not held")]
    LeaseLost,
    /// A bot storage write would take the bot's storage `over` characters past `limit`.
    #[error("bot storage limit of {limit} characters exceeded by {over}")]
    StorageLimit { over: u64, limit: u64 },
    #[error("stored item is malformed: {0}")]
    Corrupt(String),
    #[error("storage backend error: {0}")]
    Backend(String),
    /// The backend is throttling or did not answer (after the client's own retries); nothing
    /// is known to have been written, and trying again later may succeed.
    #[error("storage backend unavailable: {0}")]
    Unavailable(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

#[async_trait]
pub trait RealmStore: Send + Sync {
    /// Creates a realm and its owner in one commit. The owner's role is forced to owner.
    async fn create_realm(&self, realm: NewRealm, owner: NewUser, now: Millis) -> StoreResult<(Realm, User)>;
    async fn get_realm(&self, id: RealmId) -> StoreResult<Option<Realm>>;
    async fn find_realm(&self, string_id: &str) -> StoreResult<Option<Realm>>;
}

#[async_trait]
pub trait UserStore: Send + Sync {
    /// Creates a user (with its email and API key claims, and a bot's service) in one commit.
    async fn create_user(&self, realm: RealmId, user: NewUser, now: Millis) -> StoreResult<User>;
    async fn get_user(&self, realm: RealmId, id: UserId) -> StoreResult<Option<User>>;
    async fn find_user_by_email(&self, realm: RealmId, email: &str) -> StoreResult<Option<User>>;
    /// Every user of the realm, bots included, by id.
    async fn list_users(&self, realm: RealmId) -> StoreResult<Vec<User>>;
    async fn set_user_active(&self, realm: RealmId, id: UserId, active: bool) -> StoreResult<User>;
    async fn set_full_name(&self, realm: RealmId, id: UserId, full_name: &str) -> StoreResult<User>;
    /// Swaps the user's API key: the old one stops working in the same commit.
    async fn replace_api_key(&self, realm: RealmId, id: UserId, new: ApiKeyHash) -> StoreResult<()>;
    /// Who owns this API key (one strongly consistent read).
    async fn authenticate(&self, key: &ApiKeyHash) -> StoreResult<Option<(RealmId, UserId)>>;
}

#[async_trait]
pub trait StreamStore: Send + Sync {
    async fn create_stream(&self, realm: RealmId, name: &str, description: &str, now: Millis) -> StoreResult<Stream>;
    async fn get_stream(&self, realm: RealmId, id: StreamId) -> StoreResult<Option<Stream>>;
    async fn find_stream(&self, realm: RealmId, name: &str) -> StoreResult<Option<Stream>>;
    async fn list_streams(&self, realm: RealmId) -> StoreResult<Vec<Stream>>;
    /// Idempotent.
    async fn subscribe(&self, realm: RealmId, user: UserId, stream: StreamId) -> StoreResult<()>;
    async fn subscriptions(&self, realm: RealmId, user: UserId) -> StoreResult<Vec<StreamId>>;
}

#[async_trait]
pub trait ServiceStore: Send + Sync {
    async fn get_service(&self, realm: RealmId, bot: UserId) -> StoreResult<Option<BotService>>;
    /// Every outgoing-webhook service of the realm.
    async fn list_services(&self, realm: RealmId) -> StoreResult<Vec<BotService>>;
    /// Replaces a service if nobody changed it since it was read (its `updated_at` is still
    /// `expected_updated_at`); [`StoreError::Conflict`] otherwise.
    async fn update_service(&self, service: &BotService, expected_updated_at: Millis) -> StoreResult<()>;
}

/// Which messages a read walks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageScope {
    /// All of the realm's messages.
    Realm,
    Stream(StreamId),
    /// A stream's topic, compared case-insensitively.
    Topic(StreamId, String),
    /// One direct-message thread: every participant, sorted.
    Direct(Vec<UserId>),
}

/// Which messages of a scope a read keeps.
pub type MessageFilter = dyn for<'m> Fn(&'m Message) -> bool + Send + Sync;

/// Which way a read walks from its anchor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Ids strictly below the anchor, newest first.
    Before,
    /// Ids at or above the anchor, oldest first.
    From,
}

/// Items kept for a message whose bot triggers still have to reach the queue.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OutboxEntry {
    pub realm_id: RealmId,
    pub message_id: MessageId,
    pub jobs: Vec<DeliveryJob>,
    pub created_at: Millis,
    /// While set and in the future, someone is enqueueing the jobs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_until: Option<Millis>,
}

#[async_trait]
pub trait MessageStore: Send + Sync {
    /// Assigns the next id and commits the message, its outbox entry (if it triggers
    /// anything, claimed by the sender for [`crate::message::OUTBOX_SENDER_CLAIM`]), the
    /// idempotency key's claim and, for a reply, the delivery's reply mark, all or nothing.
    /// Ids grow in commit order, so a reader that has seen id n has seen every id below n.
    async fn commit_message(&self, draft: MessageDraft) -> StoreResult<Message>;
    async fn get_message(&self, realm: RealmId, id: MessageId) -> StoreResult<Option<Message>>;
    /// Up to `limit` messages of `scope` on one side of `anchor` that `keep` accepts.
    async fn list_messages(
        &self,
        realm: RealmId,
        scope: &MessageScope,
        anchor: MessageId,
        direction: Direction,
        limit: usize,
        keep: &MessageFilter,
    ) -> StoreResult<Vec<Message>>;
    /// The highest id committed in the realm so far (0 if none).
    async fn last_message_id(&self, realm: RealmId) -> StoreResult<MessageId>;

    /// Outbox entries created before `created_before` and not claimed at `now`.
    async fn pending_outbox(&self, created_before: Millis, now: Millis, limit: usize) -> StoreResult<Vec<OutboxEntry>>;
    /// A message's outbox entry, claimed or not.
    async fn get_outbox(&self, realm: RealmId, message: MessageId) -> StoreResult<Option<OutboxEntry>>;
    /// Claims an outbox entry until `until`; `false` if it is gone or claimed by someone else.
    async fn claim_outbox(&self, realm: RealmId, message: MessageId, now: Millis, until: Millis) -> StoreResult<bool>;
    /// Removes the entry once its jobs are on the queue.
    async fn delete_outbox(&self, realm: RealmId, message: MessageId) -> StoreResult<()>;
}

/// Changes to committed messages (edits, reactions, deletion). Each is a compare-and-swap on
/// the message's `revision`, so two concurrent changes never lose one another: the loser gets
/// [`StoreError::Conflict`], re-reads and decides again.
#[async_trait]
pub trait MessageChangeStore: Send + Sync {
    /// Replaces `current` (the message as read) with `changed` (same realm and id) in every
    /// copy, moving the topic copy when the topic changed, and returns what is stored now (its
    /// revision one higher). [`StoreError::NotFound`] if the message is gone,
    /// [`StoreError::Conflict`] if it changed since `current` was read.
    async fn replace_message(&self, current: &Message, changed: Message) -> StoreResult<Message>;
    /// Deletes `current` and its copies, on the same conditions as
    /// [`MessageChangeStore::replace_message`].
    async fn delete_message(&self, current: &Message) -> StoreResult<()>;
}

/// A bot's key-value storage (Zulip's bot storage): text keys to text values, at most `limit`
/// characters of keys and values together per bot.
#[async_trait]
pub trait BotStorageStore: Send + Sync {
    /// The bot's entries: all of them, or those of `keys` that exist.
    async fn bot_storage(
        &self,
        realm: RealmId,
        bot: UserId,
        keys: Option<&[String]>,
    ) -> StoreResult<BTreeMap<String, String>>;
    /// Sets `entries`, all or nothing, if the bot's total stays within `limit` characters;
    /// [`StoreError::StorageLimit`] otherwise. Concurrent writers cannot together exceed it.
    async fn put_bot_storage(
        &self,
        realm: RealmId,
        bot: UserId,
        entries: &BTreeMap<String, String>,
        limit: u64,
    ) -> StoreResult<()>;
    /// Removes `keys`, all or nothing; [`StoreError::NotFound`] if one of them does not exist.
    async fn remove_bot_storage(&self, realm: RealmId, bot: UserId, keys: &[String]) -> StoreResult<()>;
}

/// The characters an entry counts against a bot's storage limit, as Zulip counts them.
#[must_use]
pub fn storage_entry_size(key: &str, value: &str) -> u64 {
    (key.chars().count() + value.chars().count()) as u64
}

/// What [`DeliveryStore::begin_attempt`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begun {
    /// The lease is the caller's: the delivery as it now stands.
    Claimed(Delivery),
    /// Final, backing off, or leased by someone else: the delivery as stored.
    Held(Delivery),
}

#[async_trait]
pub trait DeliveryStore: Send + Sync {
    /// Creates the delivery record if it does not exist yet, and returns what is stored.
    async fn ensure_delivery(&self, delivery: &Delivery) -> StoreResult<Delivery>;
    async fn get_delivery(&self, realm: RealmId, id: DeliveryId) -> StoreResult<Option<Delivery>>;
    /// Takes the lease for `owner` until `until` if the delivery is claimable at `now`;
    /// `None` if it is final, backing off, or leased by someone else.
    async fn claim_delivery(
        &self,
        realm: RealmId,
        id: DeliveryId,
        owner: &str,
        now: Millis,
        until: Millis,
    ) -> StoreResult<Option<Delivery>>;
    /// What the worker does before each attempt, as one write: creates the delivery record if
    /// it does not exist yet ([`Self::ensure_delivery`]) and takes the lease for `owner` until
    /// `until` if it is claimable at `now` ([`Self::claim_delivery`]).
    async fn begin_attempt(&self, delivery: &Delivery, owner: &str, now: Millis, until: Millis) -> StoreResult<Begun>;
    /// Appends an attempt and moves the state, releasing the lease; [`StoreError::LeaseLost`]
    /// unless `owner` still holds it.
    async fn record_attempt(
        &self,
        realm: RealmId,
        id: DeliveryId,
        owner: &str,
        outcome: AttemptOutcome,
    ) -> StoreResult<Delivery>;
    /// A bot's deliveries, newest trigger first, optionally in one state, after `cursor`.
    async fn list_deliveries(
        &self,
        realm: RealmId,
        bot: UserId,
        state: Option<DeliveryState>,
        cursor: Option<DeliveryId>,
        limit: usize,
    ) -> StoreResult<Vec<Delivery>>;
}

/// Fixed-window rate-limit counters. Counters are not state anyone needs back after a
/// restart: the embedded stores keep them in memory only.
#[async_trait]
pub trait RateLimitStore: Send + Sync {
    /// Counts one event for `key` in `window` if fewer than `limit` are counted there, in one
    /// conditional write; `false` (and nothing counted) when the window is full.
    async fn take(&self, key: &RateKey, window: Window, limit: u32) -> StoreResult<bool>;
    /// How many events are counted for `key` in `window` (an eventually consistent read).
    async fn counted(&self, key: &RateKey, window: Window) -> StoreResult<u32>;
}

/// Everything Hookline stores.
pub trait Store:
    RealmStore
    + UserStore
    + StreamStore
    + ServiceStore
    + MessageStore
    + MessageChangeStore
    + BotStorageStore
    + DeliveryStore
    + RateLimitStore
{
}

impl<
    T: RealmStore
        + UserStore
        + StreamStore
        + ServiceStore
        + MessageStore
        + MessageChangeStore
        + BotStorageStore
        + DeliveryStore
        + RateLimitStore,
> Store for T
{
}
