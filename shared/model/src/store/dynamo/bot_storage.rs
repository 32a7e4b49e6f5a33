//! Bot storage in the table: one item per entry (`E#<sha256 of key>`) and one size counter
//! (`#SIZE`) per bot, in the bot's storage partition.
//!
//! The limit holds under concurrency because every write moves the counter in the same
//! transaction as its entries: the counter's `ADD` is conditioned on the room left
//! (`n <= limit - delta`), and each entry's write on the size it had when it was read, so a
//! concurrent change to the same entry cancels the transaction instead of skewing the count.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem, Update};
use rand::Rng as _;

use super::identity::TransactFailure;
use super::{DynamoStore, backend, item, keys, n};
use crate::realm::RealmId;
use crate::store::{BotStorageStore, StoreError, StoreResult, storage_entry_size};
use crate::user::UserId;

/// DynamoDB allows 100 actions per transaction; one is the counter.
const ENTRIES_PER_COMMIT: usize = 99;

/// How often a write retries after a concurrent change to one of its entries.
const MAX_TRIES: u32 = 20;

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Entry {
    key: String,
    value: String,
    /// What the entry counts against the limit.
    chars: u64,
}

#[derive(serde::Deserialize)]
struct Size {
    n: i64,
}

impl DynamoStore {
    async fn storage_entry(&self, realm: RealmId, bot: UserId, key: &str) -> StoreResult<Option<Entry>> {
        self.get(keys::bot_storage_entry(realm, bot, key)).await
    }

    async fn storage_size(&self, realm: RealmId, bot: UserId) -> StoreResult<u64> {
        let size: Option<Size> = self.get(keys::bot_storage_size(realm, bot)).await?;
        Ok(size.map_or(0, |s| u64::try_from(s.n).unwrap_or(0)))
    }

    /// The write of an entry, conditioned on the size it had when read (absent: 0).
    fn entry_write(
        &self,
        realm: RealmId,
        bot: UserId,
        entry: &Entry,
        old: Option<u64>,
    ) -> StoreResult<TransactWriteItem> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item(keys::bot_storage_entry(realm, bot, &entry.key), entry)?));
        let put = match old {
            None => put.condition_expression("attribute_not_exists(PK)"),
            Some(chars) => put.condition_expression("chars = :old").expression_attribute_values(":old", n(chars)),
        };
        Ok(TransactWriteItem::builder().put(put.build().map_err(backend)?).build())
    }

    fn entry_delete(&self, realm: RealmId, bot: UserId, key: &str, chars: u64) -> StoreResult<TransactWriteItem> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(self.key(keys::bot_storage_entry(realm, bot, key))))
            .condition_expression("chars = :old")
            .expression_attribute_values(":old", n(chars))
            .build()
            .map_err(backend)?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// Moves the size counter by `delta`; when it grows, only if `limit` still holds.
    fn size_write(&self, realm: RealmId, bot: UserId, delta: i64, limit: u64) -> StoreResult<TransactWriteItem> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(self.key(keys::bot_storage_size(realm, bot))))
            .update_expression("ADD n :delta")
            .expression_attribute_values(":delta", n(delta));
        let update = if delta > 0 {
            let room = i64::try_from(limit).unwrap_or(i64::MAX) - delta;
            update
                .condition_expression("(attribute_not_exists(n) AND :zero <= :room) OR n <= :room")
                .expression_attribute_values(":room", n(room))
                .expression_attribute_values(":zero", n(0))
        } else {
            update
        };
        Ok(TransactWriteItem::builder().update(update.build().map_err(backend)?).build())
    }

    /// One commit of up to [`ENTRIES_PER_COMMIT`] entries, retried while other writers change
    /// the same entries.
    async fn put_storage_chunk(
        &self,
        realm: RealmId,
        bot: UserId,
        entries: &[(&String, &String)],
        limit: u64,
    ) -> StoreResult<()> {
        for attempt in 0..MAX_TRIES {
            let mut writes = Vec::with_capacity(entries.len() + 1);
            let mut delta: i64 = 0;
            for (key, value) in entries {
                let old = self.storage_entry(realm, bot, key).await?.map(|e| e.chars);
                let entry =
                    Entry { key: (*key).clone(), value: (*value).clone(), chars: storage_entry_size(key, value) };
                delta += i64::try_from(entry.chars).unwrap_or(i64::MAX) - i64::try_from(old.unwrap_or(0)).unwrap_or(0);
                writes.push(self.entry_write(realm, bot, &entry, old)?);
            }
            let counter = writes.len();
            writes.push(self.size_write(realm, bot, delta, limit)?);
            match self.transact(writes).await {
                Ok(()) => return Ok(()),
                Err(f) if f.failed_at(counter) && (0..counter).all(|i| !f.failed_at(i)) => {
                    let total = i64::try_from(self.storage_size(realm, bot).await?).unwrap_or(i64::MAX) + delta;
                    let over = u64::try_from(total).unwrap_or(0).saturating_sub(limit);
                    if over > 0 {
                        return Err(StoreError::StorageLimit { over, limit });
                    }
                }
                Err(TransactFailure::Cancelled(_)) => {}
                Err(TransactFailure::Other(e)) => return Err(e),
            }
            let pause = rand::rng().random_range(0..=(5 + 5 * u64::from(attempt.min(10))));
            tokio::time::sleep(Duration::from_millis(pause)).await;
        }
        Err(StoreError::Conflict)
    }
}

#[async_trait]
impl BotStorageStore for DynamoStore {
    async fn bot_storage(
        &self,
        realm: RealmId,
        bot: UserId,
        keys: Option<&[String]>,
    ) -> StoreResult<BTreeMap<String, String>> {
        let entries: Vec<Entry> = match keys {
            None => self.query_prefix(keys::bot_storage_pk(realm, bot), keys::BOT_STORAGE_ENTRY_PREFIX).await?,
            Some(wanted) => {
                let mut found = Vec::with_capacity(wanted.len());
                for key in wanted {
                    found.extend(self.storage_entry(realm, bot, key).await?);
                }
                found
            }
        };
        Ok(entries.into_iter().map(|e| (e.key, e.value)).collect())
    }

    /// All or nothing up to 99 entries (one transaction); a larger write commits in steps of
    /// 99, each within the limit.
    async fn put_bot_storage(
        &self,
        realm: RealmId,
        bot: UserId,
        entries: &BTreeMap<String, String>,
        limit: u64,
    ) -> StoreResult<()> {
        let entries: Vec<(&String, &String)> = entries.iter().collect();
        for chunk in entries.chunks(ENTRIES_PER_COMMIT) {
            self.put_storage_chunk(realm, bot, chunk, limit).await?;
        }
        Ok(())
    }

    /// All or nothing up to 99 keys; more are removed in steps of 99 once all were seen to exist.
    async fn remove_bot_storage(&self, realm: RealmId, bot: UserId, keys: &[String]) -> StoreResult<()> {
        for attempt in 0..MAX_TRIES {
            let mut found = Vec::with_capacity(keys.len());
            for key in keys {
                let entry = self.storage_entry(realm, bot, key).await?.ok_or(StoreError::NotFound("key"))?;
                found.push(entry);
            }
            let mut conflict = false;
            for chunk in found.chunks(ENTRIES_PER_COMMIT) {
                let mut writes = Vec::with_capacity(chunk.len() + 1);
                let mut freed: i64 = 0;
                for entry in chunk {
                    writes.push(self.entry_delete(realm, bot, &entry.key, entry.chars)?);
                    freed += i64::try_from(entry.chars).unwrap_or(0);
                }
                writes.push(self.size_write(realm, bot, -freed, 0)?);
                match self.transact(writes).await {
                    Ok(()) => {}
                    Err(TransactFailure::Cancelled(_)) => {
                        conflict = true;
                        break;
                    }
                    Err(TransactFailure::Other(e)) => return Err(e),
                }
            }
            if !conflict {
                return Ok(());
            }
            let pause = rand::rng().random_range(0..=(5 + 5 * u64::from(attempt.min(10))));
            tokio::time::sleep(Duration::from_millis(pause)).await;
        }
        Err(StoreError::Conflict)
    }
}
