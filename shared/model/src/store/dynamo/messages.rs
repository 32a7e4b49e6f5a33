//! Messages, their id counter, their scope copies, and the outbox, in the table.
//!
//! A message id is the realm's counter plus one, and the counter moves in the same
//! transaction that writes the message: commits happen in id order, so a reader paging by id
//! never skips a message that commits late. The price is one writer at a time per realm;
//! concurrent senders retry on conflict (see `docs/ARCHITECTURE.md`).

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use rand::Rng as _;

use super::identity::TransactFailure;
use super::{DynamoStore, Item, backend, condition_failed, from_item, item, keys, n, s};
use crate::Millis;
use crate::delivery::DeliveryJob;
use crate::message::{MAX_MESSAGE_ID, Message, MessageDraft, MessageId, Recipient};
use crate::realm::RealmId;
use crate::store::{Direction, MessageFilter, MessageScope, MessageStore, OutboxEntry, StoreError, StoreResult};

/// How often a commit retries after losing the counter to a concurrent sender.
const MAX_COMMIT_TRIES: u32 = 50;

/// How many items one page of a filtered message read asks for.
const PAGE: i32 = 100;

impl DynamoStore {
    async fn read_counter(&self, realm: RealmId) -> StoreResult<MessageId> {
        #[derive(serde::Deserialize)]
        struct Counter {
            n: MessageId,
        }
        Ok(self.get::<Counter>(keys::message_counter(realm)).await?.map_or(0, |c| c.n))
    }

    fn remember_last_id(&self, realm: RealmId, id: MessageId) {
        let mut seen = self.last_seen_ids.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = seen.entry(realm).or_insert(0);
        *entry = (*entry).max(id);
    }

    fn guessed_last_id(&self, realm: RealmId) -> Option<MessageId> {
        self.last_seen_ids.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&realm).copied()
    }

    /// The writes that commit `message` as id `id`, given the counter was `previous`.
    fn commit_writes(
        &self,
        message: &Message,
        previous: MessageId,
        draft: &MessageDraft,
    ) -> StoreResult<Vec<TransactWriteItem>> {
        let realm = message.realm_id;
        let (counter_condition, mut counter) = if previous == 0 {
            ("attribute_not_exists(n)", Update::builder())
        } else {
            ("n = :previous", Update::builder().expression_attribute_values(":previous", n(previous)))
        };
        counter = counter
            .table_name(&self.table)
            .set_key(Some(self.key(keys::message_counter(realm))))
            .update_expression("SET n = :id")
            .condition_expression(counter_condition)
            .expression_attribute_values(":id", n(message.id));
        let mut writes = vec![
            TransactWriteItem::builder().update(counter.build().map_err(backend)?).build(),
            self.put(item((keys::messages_pk(realm), keys::message_sk(message.id)), message)?, None)?,
        ];
        if let Some(reply_to) = draft.reply_to {
            let mark = Update::builder()
                .table_name(&self.table)
                .set_key(Some(self.key(keys::delivery(realm, reply_to))))
                .update_expression("SET reply_message_id = :id")
                .condition_expression("attribute_exists(PK) AND attribute_not_exists(reply_message_id)")
                .expression_attribute_values(":id", n(message.id))
                .build()
                .map_err(backend)?;
            writes.push(TransactWriteItem::builder().update(mark).build());
        }
        for pk in scope_partitions(message) {
            writes.push(self.put(item((pk, keys::message_sk(message.id)), message)?, None)?);
        }
        if !draft.outbox.is_empty() {
            let entry = OutboxEntry {
                realm_id: realm,
                message_id: message.id,
                jobs: draft.outbox.iter().map(|j| DeliveryJob { message_id: message.id, ..j.clone() }).collect(),
                created_at: message.timestamp,
                claimed_until: Some(message.timestamp + crate::message::OUTBOX_SENDER_CLAIM),
            };
            writes.push(self.put(item(keys::outbox(realm, message.id), &entry)?, None)?);
        }
        if let Some(claim) = &draft.idempotency {
            // Taken unless a claim younger than the window exists; an older one is replaced.
            // The window is checked here, on the timestamp, not left to the item's TTL.
            let record = IdempotencyRecord { message_id: message.id, created_at: message.timestamp };
            let mut record = item(keys::idempotency(realm, message.sender_id, &claim.key), &record)?;
            record.insert(super::TTL_ATTRIBUTE.into(), n((message.timestamp + claim.window) / 1000 + 1));
            let put = aws_sdk_dynamodb::types::Put::builder()
                .table_name(&self.table)
                .set_item(Some(record))
                .condition_expression("attribute_not_exists(PK) OR created_at <= :cutoff")
                .expression_attribute_values(":cutoff", n(message.timestamp - claim.window))
                .build()
                .map_err(backend)?;
            writes.push(TransactWriteItem::builder().put(put).build());
        }
        Ok(writes)
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct IdempotencyRecord {
    message_id: MessageId,
    created_at: Millis,
}

/// The partitions besides the realm's own that hold a copy of `message`, one per scope a
/// reader can narrow to.
pub(super) fn scope_partitions(message: &Message) -> Vec<String> {
    match &message.recipient {
        Recipient::Stream { stream_id, topic, .. } => vec![
            keys::stream_messages_pk(message.realm_id, *stream_id),
            keys::topic_messages_pk(message.realm_id, *stream_id, topic),
        ],
        Recipient::Direct { user_ids } => vec![keys::direct_messages_pk(message.realm_id, user_ids)],
    }
}

fn scope_pk(realm: RealmId, scope: &MessageScope) -> String {
    match scope {
        MessageScope::Realm => keys::messages_pk(realm),
        MessageScope::Stream(stream) => keys::stream_messages_pk(realm, *stream),
        MessageScope::Topic(stream, topic) => keys::topic_messages_pk(realm, *stream, topic),
        MessageScope::Direct(user_ids) => keys::direct_messages_pk(realm, user_ids),
    }
}

#[async_trait]
impl MessageStore for DynamoStore {
    async fn commit_message(&self, draft: MessageDraft) -> StoreResult<Message> {
        let realm = draft.realm_id;
        let mut previous = match self.guessed_last_id(realm) {
            Some(id) => id,
            None => self.read_counter(realm).await?,
        };
        for attempt in 0..MAX_COMMIT_TRIES {
            let id = previous + 1;
            if id > MAX_MESSAGE_ID {
                return Err(StoreError::Backend("message ids exhausted".into()));
            }
            let message = draft.clone().into_message(id);
            let writes = self.commit_writes(&message, previous, &draft)?;
            let last = writes.len() - 1;
            match self.transact(writes).await {
                Ok(()) => {
                    self.remember_last_id(realm, id);
                    return Ok(message);
                }
                Err(f) if draft.reply_to.is_some() && f.failed_at(2) => return Err(StoreError::AlreadyReplied),
                Err(f) if draft.idempotency.is_some() && f.failed_at(last) => {
                    let key = &draft.idempotency.as_ref().map(|c| c.key.clone()).unwrap_or_default();
                    let first: Option<IdempotencyRecord> =
                        self.get(keys::idempotency(realm, draft.sender_id, key)).await?;
                    return Err(first.map_or(StoreError::Conflict, |r| StoreError::Duplicate(r.message_id)));
                }
                Err(TransactFailure::Cancelled(_)) => {
                    // Another sender took this id (or a transaction touched the counter):
                    // back off a little, re-read, try the next id.
                    let pause = rand::rng().random_range(0..=(5 + 5 * u64::from(attempt.min(10))));
                    tokio::time::sleep(Duration::from_millis(pause)).await;
                    previous = self.read_counter(realm).await?;
                }
                Err(TransactFailure::Other(e)) => return Err(e),
            }
        }
        Err(StoreError::Conflict)
    }

    async fn get_message(&self, realm: RealmId, id: MessageId) -> StoreResult<Option<Message>> {
        self.get((keys::messages_pk(realm), keys::message_sk(id))).await
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
        let (low, high, forward) = match direction {
            Direction::Before if anchor == 0 => return Ok(Vec::new()),
            Direction::Before => (0, anchor - 1, false),
            Direction::From => (anchor, MAX_MESSAGE_ID, true),
        };
        let mut found = Vec::new();
        let mut start: Option<Item> = None;
        while found.len() < limit {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk AND SK BETWEEN :low AND :high")
                .expression_attribute_values(":pk", s(scope_pk(realm, scope)))
                .expression_attribute_values(":low", s(keys::message_sk(low)))
                .expression_attribute_values(":high", s(keys::message_sk(high)))
                .scan_index_forward(forward)
                .consistent_read(true)
                .limit(PAGE)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(backend)?;
            for raw in out.items.unwrap_or_default() {
                let message: Message = from_item(raw)?;
                if keep(&message) {
                    found.push(message);
                    if found.len() == limit {
                        break;
                    }
                }
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        Ok(found)
    }

    async fn last_message_id(&self, realm: RealmId) -> StoreResult<MessageId> {
        let id = self.read_counter(realm).await?;
        self.remember_last_id(realm, id);
        Ok(id)
    }

    async fn pending_outbox(&self, created_before: Millis, now: Millis, limit: usize) -> StoreResult<Vec<OutboxEntry>> {
        let mut found = Vec::new();
        for shard in 0..keys::OUTBOX_SHARDS {
            let entries: Vec<OutboxEntry> = self.query_prefix(keys::outbox_pk(shard), "").await?;
            found.extend(
                entries
                    .into_iter()
                    .filter(|e| e.created_at < created_before && e.claimed_until.is_none_or(|until| until <= now)),
            );
            if found.len() >= limit {
                found.truncate(limit);
                break;
            }
        }
        Ok(found)
    }

    async fn get_outbox(&self, realm: RealmId, message: MessageId) -> StoreResult<Option<OutboxEntry>> {
        self.get(keys::outbox(realm, message)).await
    }

    async fn claim_outbox(&self, realm: RealmId, message: MessageId, now: Millis, until: Millis) -> StoreResult<bool> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(self.key(keys::outbox(realm, message))))
            .update_expression("SET claimed_until = :until")
            .condition_expression(
                "attribute_exists(PK) AND (attribute_not_exists(claimed_until) OR claimed_until <= :now)",
            )
            .expression_attribute_values(":until", n(until))
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        match out {
            Ok(_) => Ok(true),
            // A retried request whose first try was applied fails its condition: read back.
            Err(e) if condition_failed(&e) => Ok(self
                .get::<OutboxEntry>(keys::outbox(realm, message))
                .await?
                .is_some_and(|entry| entry.claimed_until == Some(until))),
            Err(e) => Err(backend(e)),
        }
    }

    async fn delete_outbox(&self, realm: RealmId, message: MessageId) -> StoreResult<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(self.key(keys::outbox(realm, message))))
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }
}
