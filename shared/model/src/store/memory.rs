//! The embedded store: everything in one mutex-guarded map set. The local stack's default
//! and the fast unit tests' store; passes the same contract suite as [`super::dynamo`].

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{
    Begun, BotStorageStore, DeliveryStore, Direction, MessageChangeStore, MessageFilter, MessageScope, MessageStore,
    OutboxEntry, RateLimitStore, RealmStore, ServiceStore, StoreError, StoreResult, StreamStore, UserStore,
    storage_entry_size,
};
use crate::Millis;
use crate::credentials::ApiKeyHash;
use crate::delivery::{AttemptOutcome, Delivery, DeliveryId, DeliveryState};
use crate::message::{MAX_MESSAGE_ID, Message, MessageDraft, MessageId, Recipient};
use crate::rate_limit::{RateKey, Window};
use crate::realm::{NewRealm, Realm, RealmId};
use crate::stream::{Stream, StreamId, name_key};
use crate::user::{BotService, NewUser, Role, User, UserId, email_key};

/// The whole state, behind one lock. It is also the journal's snapshot, so every field must
/// serialize: a map whose key is not a string is written as pairs (`with = "super::pairs"`).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct MemoryState {
    next_realm_id: RealmId,
    realms: BTreeMap<RealmId, Realm>,
    realm_names: HashMap<String, RealmId>,
    next_user_id: HashMap<RealmId, UserId>,
    #[serde(with = "super::pairs")]
    users: BTreeMap<(RealmId, UserId), User>,
    #[serde(with = "super::pairs")]
    emails: HashMap<(RealmId, String), UserId>,
    api_keys: HashMap<ApiKeyHash, (RealmId, UserId)>,
    next_stream_id: HashMap<RealmId, StreamId>,
    #[serde(with = "super::pairs")]
    streams: BTreeMap<(RealmId, StreamId), Stream>,
    #[serde(with = "super::pairs")]
    stream_names: HashMap<(RealmId, String), StreamId>,
    subscriptions: BTreeSet<(RealmId, UserId, StreamId)>,
    #[serde(with = "super::pairs")]
    services: BTreeMap<(RealmId, UserId), BotService>,
    last_message_id: HashMap<RealmId, MessageId>,
    #[serde(with = "super::pairs")]
    messages: BTreeMap<(RealmId, MessageId), Message>,
    #[serde(with = "super::pairs")]
    outbox: BTreeMap<(RealmId, MessageId), OutboxEntry>,
    /// `(realm, sender, key)` → `(message id, when it was claimed)`.
    #[serde(with = "super::pairs")]
    idempotency: HashMap<(RealmId, UserId, String), (MessageId, Millis)>,
    #[serde(with = "super::pairs")]
    deliveries: BTreeMap<(RealmId, DeliveryId), Delivery>,
    #[serde(with = "super::pairs")]
    bot_storage: HashMap<(RealmId, UserId), BTreeMap<String, String>>,
}

#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<MemoryState>,
    /// Rate-limit counters: outside the state, so neither journaled nor snapshotted.
    rate_counters: Mutex<HashMap<RateKey, (Window, u32)>>,
}

impl MemoryStore {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryState> {
        // A panic while holding the lock cannot leave a half-applied commit behind: every
        // method checks all its conditions before it changes anything.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl MemoryStore {
    /// Writes the whole state to `out` as JSON, after forgetting the final deliveries whose
    /// log has expired at `now` (their TTL: no rule reads them any more).
    pub(crate) fn write_snapshot(&self, out: &mut dyn std::io::Write, now: Millis) -> serde_json::Result<()> {
        let mut state = self.lock();
        state.deliveries.retain(|_, d| !(d.state.is_final() && d.expires_at <= now));
        serde_json::to_writer(out, &*state)
    }

    /// The store a snapshot describes.
    pub(crate) fn read_snapshot(input: impl std::io::Read) -> serde_json::Result<Self> {
        Ok(Self { state: Mutex::new(serde_json::from_reader(input)?), rate_counters: Mutex::default() })
    }

    /// Lets go of every delivery lease and outbox claim (their holders are gone: the process
    /// that owned them has stopped); returns how many were held.
    pub(crate) fn release_claims(&self) -> usize {
        let mut state = self.lock();
        let mut released = 0;
        for delivery in state.deliveries.values_mut().filter(|d| d.lease_owner.is_some() || d.lease_until.is_some()) {
            delivery.lease_owner = None;
            delivery.lease_until = None;
            released += 1;
        }
        for entry in state.outbox.values_mut().filter(|e| e.claimed_until.is_some()) {
            entry.claimed_until = None;
            released += 1;
        }
        released
    }
}

impl MemoryState {
    /// Moves the realm's directory version on, as every change to users, services and
    /// streams does.
    fn directory_changed(&mut self, realm: RealmId) {
        if let Some(realm) = self.realms.get_mut(&realm) {
            realm.directory_version += 1;
        }
    }

    fn insert_user(&mut self, realm: RealmId, new: NewUser, now: Millis) -> StoreResult<User> {
        let email = email_key(&new.email);
        if self.emails.contains_key(&(realm, email.clone())) {
            return Err(StoreError::EmailTaken);
        }
        if self.api_keys.contains_key(&new.api_key_hash) {
            return Err(StoreError::Conflict);
        }
        let counter = self.next_user_id.entry(realm).or_insert(0);
        *counter += 1;
        let id = *counter;
        let user = User {
            realm_id: realm,
            id,
            email: new.email.trim().to_owned(),
            full_name: new.full_name,
            role: new.role,
            bot_type: new.bot_type,
            bot_owner_id: new.bot_owner_id,
            is_active: true,
            api_key_hash: new.api_key_hash.clone(),
            created_at: now,
        };
        self.emails.insert((realm, email), id);
        self.api_keys.insert(new.api_key_hash, (realm, id));
        self.users.insert((realm, id), user.clone());
        if let Some(mut service) = new.service {
            service.realm_id = realm;
            service.bot_id = id;
            self.services.insert((realm, id), service);
        }
        Ok(user)
    }
}

fn in_scope(message: &Message, scope: &MessageScope) -> bool {
    match (scope, &message.recipient) {
        (MessageScope::Realm, _) => true,
        (MessageScope::Stream(id), Recipient::Stream { stream_id, .. }) => id == stream_id,
        (MessageScope::Topic(id, topic), Recipient::Stream { stream_id, topic: t, .. }) => {
            id == stream_id && t.to_lowercase() == topic.to_lowercase()
        }
        (MessageScope::Direct(ids), Recipient::Direct { user_ids }) => ids == user_ids,
        _ => false,
    }
}

/// Counters beyond this many keys are swept of ended windows before one more is added.
const RATE_COUNTERS_SWEPT_ABOVE: usize = 10_000;

#[async_trait]
impl RateLimitStore for MemoryStore {
    async fn take(&self, key: &RateKey, window: Window, limit: u32) -> StoreResult<bool> {
        let mut counters = self.rate_counters.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if counters.len() >= RATE_COUNTERS_SWEPT_ABOVE && !counters.contains_key(key) {
            counters.retain(|_, (counted, _)| counted.end > window.start);
        }
        let entry = counters.entry(key.clone()).or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        if entry.1 >= limit {
            return Ok(false);
        }
        entry.1 += 1;
        Ok(true)
    }

    async fn counted(&self, key: &RateKey, window: Window) -> StoreResult<u32> {
        let counters = self.rate_counters.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(counters.get(key).filter(|(counted, _)| *counted == window).map_or(0, |(_, n)| *n))
    }
}

#[async_trait]
impl RealmStore for MemoryStore {
    async fn create_realm(&self, new: NewRealm, mut owner: NewUser, now: Millis) -> StoreResult<(Realm, User)> {
        let mut state = self.lock();
        if state.realm_names.contains_key(&new.string_id) {
            return Err(StoreError::RealmExists);
        }
        if state.api_keys.contains_key(&owner.api_key_hash) {
            return Err(StoreError::Conflict);
        }
        state.next_realm_id += 1;
        let realm = Realm {
            id: state.next_realm_id,
            string_id: new.string_id,
            name: new.name,
            host: new.host,
            public_url: new.public_url,
            created_at: now,
            directory_version: 0,
        };
        owner.role = Role::Owner;
        let user = state.insert_user(realm.id, owner, now)?;
        state.realm_names.insert(realm.string_id.clone(), realm.id);
        state.realms.insert(realm.id, realm.clone());
        Ok((realm, user))
    }

    async fn get_realm(&self, id: RealmId) -> StoreResult<Option<Realm>> {
        Ok(self.lock().realms.get(&id).cloned())
    }

    async fn find_realm(&self, string_id: &str) -> StoreResult<Option<Realm>> {
        let state = self.lock();
        Ok(state.realm_names.get(string_id).and_then(|id| state.realms.get(id)).cloned())
    }
}

#[async_trait]
impl UserStore for MemoryStore {
    async fn create_user(&self, realm: RealmId, user: NewUser, now: Millis) -> StoreResult<User> {
        let mut state = self.lock();
        if !state.realms.contains_key(&realm) {
            return Err(StoreError::NotFound("realm"));
        }
        let user = state.insert_user(realm, user, now)?;
        state.directory_changed(realm);
        Ok(user)
    }

    async fn get_user(&self, realm: RealmId, id: UserId) -> StoreResult<Option<User>> {
        Ok(self.lock().users.get(&(realm, id)).cloned())
    }

    async fn find_user_by_email(&self, realm: RealmId, email: &str) -> StoreResult<Option<User>> {
        let state = self.lock();
        Ok(state.emails.get(&(realm, email_key(email))).and_then(|id| state.users.get(&(realm, *id))).cloned())
    }

    async fn list_users(&self, realm: RealmId) -> StoreResult<Vec<User>> {
        Ok(self.lock().users.range((realm, 0)..=(realm, UserId::MAX)).map(|(_, u)| u.clone()).collect())
    }

    async fn set_user_active(&self, realm: RealmId, id: UserId, active: bool) -> StoreResult<User> {
        let mut state = self.lock();
        let user = state.users.get_mut(&(realm, id)).ok_or(StoreError::NotFound("user"))?;
        user.is_active = active;
        let user = user.clone();
        state.directory_changed(realm);
        Ok(user)
    }

    async fn set_full_name(&self, realm: RealmId, id: UserId, full_name: &str) -> StoreResult<User> {
        let mut state = self.lock();
        let user = state.users.get_mut(&(realm, id)).ok_or(StoreError::NotFound("user"))?;
        full_name.clone_into(&mut user.full_name);
        let user = user.clone();
        state.directory_changed(realm);
        Ok(user)
    }

    async fn replace_api_key(&self, realm: RealmId, id: UserId, new: ApiKeyHash) -> StoreResult<()> {
        let mut state = self.lock();
        if state.api_keys.contains_key(&new) {
            return Err(StoreError::Conflict);
        }
        let user = state.users.get_mut(&(realm, id)).ok_or(StoreError::NotFound("user"))?;
        let old = std::mem::replace(&mut user.api_key_hash, new.clone());
        state.api_keys.remove(&old);
        state.api_keys.insert(new, (realm, id));
        Ok(())
    }

    async fn authenticate(&self, key: &ApiKeyHash) -> StoreResult<Option<(RealmId, UserId)>> {
        Ok(self.lock().api_keys.get(key).copied())
    }
}

#[async_trait]
impl StreamStore for MemoryStore {
    async fn create_stream(&self, realm: RealmId, name: &str, description: &str, now: Millis) -> StoreResult<Stream> {
        let mut state = self.lock();
        let key = (realm, name_key(name));
        if state.stream_names.contains_key(&key) {
            return Err(StoreError::StreamExists);
        }
        let counter = state.next_stream_id.entry(realm).or_insert(0);
        *counter += 1;
        let stream = Stream {
            realm_id: realm,
            id: *counter,
            name: name.trim().to_owned(),
            description: description.to_owned(),
            created_at: now,
        };
        state.stream_names.insert(key, stream.id);
        state.streams.insert((realm, stream.id), stream.clone());
        state.directory_changed(realm);
        Ok(stream)
    }

    async fn get_stream(&self, realm: RealmId, id: StreamId) -> StoreResult<Option<Stream>> {
        Ok(self.lock().streams.get(&(realm, id)).cloned())
    }

    async fn find_stream(&self, realm: RealmId, name: &str) -> StoreResult<Option<Stream>> {
        let state = self.lock();
        Ok(state.stream_names.get(&(realm, name_key(name))).and_then(|id| state.streams.get(&(realm, *id))).cloned())
    }

    async fn list_streams(&self, realm: RealmId) -> StoreResult<Vec<Stream>> {
        Ok(self.lock().streams.range((realm, 0)..=(realm, StreamId::MAX)).map(|(_, s)| s.clone()).collect())
    }

    async fn subscribe(&self, realm: RealmId, user: UserId, stream: StreamId) -> StoreResult<()> {
        self.lock().subscriptions.insert((realm, user, stream));
        Ok(())
    }

    async fn subscriptions(&self, realm: RealmId, user: UserId) -> StoreResult<Vec<StreamId>> {
        Ok(self
            .lock()
            .subscriptions
            .range((realm, user, 0)..=(realm, user, StreamId::MAX))
            .map(|(_, _, s)| *s)
            .collect())
    }
}

#[async_trait]
impl ServiceStore for MemoryStore {
    async fn get_service(&self, realm: RealmId, bot: UserId) -> StoreResult<Option<BotService>> {
        Ok(self.lock().services.get(&(realm, bot)).cloned())
    }

    async fn list_services(&self, realm: RealmId) -> StoreResult<Vec<BotService>> {
        Ok(self.lock().services.range((realm, 0)..=(realm, UserId::MAX)).map(|(_, s)| s.clone()).collect())
    }

    async fn update_service(&self, service: &BotService, expected_updated_at: Millis) -> StoreResult<()> {
        let mut state = self.lock();
        let stored =
            state.services.get_mut(&(service.realm_id, service.bot_id)).ok_or(StoreError::NotFound("service"))?;
        if stored.updated_at != expected_updated_at {
            return Err(StoreError::Conflict);
        }
        *stored = service.clone();
        state.directory_changed(service.realm_id);
        Ok(())
    }
}

#[async_trait]
impl MessageStore for MemoryStore {
    async fn commit_message(&self, draft: MessageDraft) -> StoreResult<Message> {
        let mut state = self.lock();
        let realm = draft.realm_id;
        if let Some(reply_to) = draft.reply_to {
            let delivery = state.deliveries.get(&(realm, reply_to)).ok_or(StoreError::NotFound("delivery"))?;
            if delivery.reply_message_id.is_some() {
                return Err(StoreError::AlreadyReplied);
            }
        }
        if let Some(claim) = &draft.idempotency
            && let Some((first, at)) = state.idempotency.get(&(realm, draft.sender_id, claim.key.clone()))
            && *at > draft.timestamp - claim.window
        {
            return Err(StoreError::Duplicate(*first));
        }
        let id = state.last_message_id.get(&realm).copied().unwrap_or(0) + 1;
        if id > MAX_MESSAGE_ID {
            return Err(StoreError::Backend("message ids exhausted".into()));
        }
        state.last_message_id.insert(realm, id);
        if let Some(claim) = &draft.idempotency {
            state.idempotency.insert((realm, draft.sender_id, claim.key.clone()), (id, draft.timestamp));
        }
        if let Some(reply_to) = draft.reply_to
            && let Some(delivery) = state.deliveries.get_mut(&(realm, reply_to))
        {
            delivery.reply_message_id = Some(id);
        }
        if !draft.outbox.is_empty() {
            let jobs = draft.outbox.iter().map(|j| crate::DeliveryJob { message_id: id, ..j.clone() }).collect();
            state.outbox.insert(
                (realm, id),
                OutboxEntry {
                    realm_id: realm,
                    message_id: id,
                    jobs,
                    created_at: draft.timestamp,
                    claimed_until: Some(draft.timestamp + crate::message::OUTBOX_SENDER_CLAIM),
                },
            );
        }
        let message = draft.into_message(id);
        state.messages.insert((realm, id), message.clone());
        Ok(message)
    }

    async fn get_message(&self, realm: RealmId, id: MessageId) -> StoreResult<Option<Message>> {
        Ok(self.lock().messages.get(&(realm, id)).cloned())
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
        let state = self.lock();
        let matches = |m: &&Message| in_scope(m, scope) && keep(m);
        let found = match direction {
            Direction::Before => state
                .messages
                .range((realm, 0)..(realm, anchor))
                .rev()
                .map(|(_, m)| m)
                .filter(matches)
                .take(limit)
                .cloned()
                .collect(),
            Direction::From => state
                .messages
                .range((realm, anchor)..=(realm, MessageId::MAX))
                .map(|(_, m)| m)
                .filter(matches)
                .take(limit)
                .cloned()
                .collect(),
        };
        Ok(found)
    }

    async fn last_message_id(&self, realm: RealmId) -> StoreResult<MessageId> {
        Ok(self.lock().last_message_id.get(&realm).copied().unwrap_or(0))
    }

    async fn pending_outbox(&self, created_before: Millis, now: Millis, limit: usize) -> StoreResult<Vec<OutboxEntry>> {
        Ok(self
            .lock()
            .outbox
            .values()
            .filter(|e| e.created_at < created_before && e.claimed_until.is_none_or(|until| until <= now))
            .take(limit)
            .cloned()
            .collect())
    }

    async fn get_outbox(&self, realm: RealmId, message: MessageId) -> StoreResult<Option<OutboxEntry>> {
        Ok(self.lock().outbox.get(&(realm, message)).cloned())
    }

    async fn claim_outbox(&self, realm: RealmId, message: MessageId, now: Millis, until: Millis) -> StoreResult<bool> {
        let mut state = self.lock();
        match state.outbox.get_mut(&(realm, message)) {
            Some(entry) if entry.claimed_until.is_none_or(|u| u <= now) => {
                entry.claimed_until = Some(until);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn delete_outbox(&self, realm: RealmId, message: MessageId) -> StoreResult<()> {
        self.lock().outbox.remove(&(realm, message));
        Ok(())
    }
}

impl MemoryState {
    /// The stored message `current` was read from, if it is still that revision.
    fn current_message(&mut self, current: &Message) -> StoreResult<&mut Message> {
        let stored = self.messages.get_mut(&(current.realm_id, current.id)).ok_or(StoreError::NotFound("message"))?;
        if stored.revision != current.revision {
            return Err(StoreError::Conflict);
        }
        Ok(stored)
    }
}

#[async_trait]
impl MessageChangeStore for MemoryStore {
    async fn replace_message(&self, current: &Message, mut changed: Message) -> StoreResult<Message> {
        let mut state = self.lock();
        let stored = state.current_message(current)?;
        changed.realm_id = current.realm_id;
        changed.id = current.id;
        changed.revision = current.revision + 1;
        *stored = changed.clone();
        Ok(changed)
    }

    async fn delete_message(&self, current: &Message) -> StoreResult<()> {
        let mut state = self.lock();
        state.current_message(current)?;
        state.messages.remove(&(current.realm_id, current.id));
        Ok(())
    }
}

#[async_trait]
impl BotStorageStore for MemoryStore {
    async fn bot_storage(
        &self,
        realm: RealmId,
        bot: UserId,
        keys: Option<&[String]>,
    ) -> StoreResult<BTreeMap<String, String>> {
        let state = self.lock();
        let Some(entries) = state.bot_storage.get(&(realm, bot)) else { return Ok(BTreeMap::new()) };
        Ok(match keys {
            None => entries.clone(),
            Some(keys) => {
                keys.iter().filter_map(|k| entries.get_key_value(k)).map(|(k, v)| (k.clone(), v.clone())).collect()
            }
        })
    }

    async fn put_bot_storage(
        &self,
        realm: RealmId,
        bot: UserId,
        entries: &BTreeMap<String, String>,
        limit: u64,
    ) -> StoreResult<()> {
        let mut state = self.lock();
        let stored = state.bot_storage.entry((realm, bot)).or_default();
        let size = |map: &BTreeMap<String, String>| map.iter().map(|(k, v)| storage_entry_size(k, v)).sum::<u64>();
        let mut changed = stored.clone();
        changed.extend(entries.iter().map(|(k, v)| (k.clone(), v.clone())));
        let total = size(&changed);
        if total > limit {
            return Err(StoreError::StorageLimit { over: total - limit, limit });
        }
        *stored = changed;
        Ok(())
    }

    async fn remove_bot_storage(&self, realm: RealmId, bot: UserId, keys: &[String]) -> StoreResult<()> {
        let mut state = self.lock();
        let stored = state.bot_storage.entry((realm, bot)).or_default();
        if !keys.iter().all(|k| stored.contains_key(k)) {
            return Err(StoreError::NotFound("key"));
        }
        for key in keys {
            stored.remove(key);
        }
        Ok(())
    }
}

#[async_trait]
impl DeliveryStore for MemoryStore {
    async fn ensure_delivery(&self, delivery: &Delivery) -> StoreResult<Delivery> {
        Ok(self.lock().deliveries.entry((delivery.realm_id, delivery.id)).or_insert_with(|| delivery.clone()).clone())
    }

    async fn get_delivery(&self, realm: RealmId, id: DeliveryId) -> StoreResult<Option<Delivery>> {
        Ok(self.lock().deliveries.get(&(realm, id)).cloned())
    }

    async fn claim_delivery(
        &self,
        realm: RealmId,
        id: DeliveryId,
        owner: &str,
        now: Millis,
        until: Millis,
    ) -> StoreResult<Option<Delivery>> {
        let mut state = self.lock();
        let Some(delivery) = state.deliveries.get_mut(&(realm, id)) else {
            return Ok(None);
        };
        if !delivery.claimable(now) {
            return Ok(None);
        }
        delivery.lease_owner = Some(owner.to_owned());
        delivery.lease_until = Some(until);
        Ok(Some(delivery.clone()))
    }

    async fn begin_attempt(&self, delivery: &Delivery, owner: &str, now: Millis, until: Millis) -> StoreResult<Begun> {
        let mut state = self.lock();
        let stored = state.deliveries.entry((delivery.realm_id, delivery.id)).or_insert_with(|| delivery.clone());
        if !stored.claimable(now) {
            return Ok(Begun::Held(stored.clone()));
        }
        stored.lease_owner = Some(owner.to_owned());
        stored.lease_until = Some(until);
        Ok(Begun::Claimed(stored.clone()))
    }

    async fn record_attempt(
        &self,
        realm: RealmId,
        id: DeliveryId,
        owner: &str,
        outcome: AttemptOutcome,
    ) -> StoreResult<Delivery> {
        let mut state = self.lock();
        let delivery = state.deliveries.get_mut(&(realm, id)).ok_or(StoreError::NotFound("delivery"))?;
        if delivery.lease_owner.as_deref() != Some(owner) {
            return Err(StoreError::LeaseLost);
        }
        delivery.attempts.push(outcome.attempt);
        delivery.attempt_count += 1;
        delivery.state = outcome.state;
        delivery.next_attempt_at = outcome.next_attempt_at;
        delivery.lease_owner = None;
        delivery.lease_until = None;
        Ok(delivery.clone())
    }

    async fn list_deliveries(
        &self,
        realm: RealmId,
        bot: UserId,
        state_filter: Option<DeliveryState>,
        cursor: Option<DeliveryId>,
        limit: usize,
    ) -> StoreResult<Vec<Delivery>> {
        let state = self.lock();
        let mut found: Vec<&Delivery> = state
            .deliveries
            .range((realm, DeliveryId { message_id: 0, bot_id: 0, redelivery: 0 })..)
            .take_while(|((r, _), _)| *r == realm)
            .map(|(_, d)| d)
            .filter(|d| d.bot_id == bot && state_filter.is_none_or(|s| d.state == s))
            .filter(|d| cursor.is_none_or(|c| newest_first_key(&d.id) > newest_first_key(&c)))
            .collect();
        found.sort_by_key(|d| newest_first_key(&d.id));
        Ok(found.into_iter().take(limit).cloned().collect())
    }
}

/// The order deliveries are listed in: newest triggering message first, then newest redelivery.
fn newest_first_key(id: &DeliveryId) -> (std::cmp::Reverse<MessageId>, std::cmp::Reverse<u32>) {
    (std::cmp::Reverse(id.message_id), std::cmp::Reverse(id.redelivery))
}
