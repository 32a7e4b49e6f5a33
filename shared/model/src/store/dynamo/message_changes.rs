//! Edits, reactions and deletion of committed messages: every copy of the message (the
//! realm's, and one per scope a reader narrows to) changes in one transaction, conditioned on
//! the realm copy still being the revision the change was computed from.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};

use super::identity::TransactFailure;
use super::messages::scope_partitions;
use super::{DynamoStore, backend, item, keys, n};
use crate::message::Message;
use crate::store::{MessageChangeStore, StoreError, StoreResult};

impl DynamoStore {
    /// The condition on the realm copy: it exists and is still `revision` (messages stored
    /// before revisions were kept have none, which counts as 0).
    fn revision_condition(revision: u64) -> &'static str {
        if revision == 0 {
            "attribute_exists(PK) AND (attribute_not_exists(revision) OR revision = :revision)"
        } else {
            "revision = :revision"
        }
    }

    fn delete_copy(&self, pk: String, message: &Message) -> StoreResult<TransactWriteItem> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(self.key((pk, keys::message_sk(message.id)))))
            .build()
            .map_err(backend)?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// Runs a change whose first write is conditioned on the realm copy's revision, and tells
    /// a message that is gone from one that changed meanwhile.
    async fn change_message(&self, current: &Message, writes: Vec<TransactWriteItem>) -> StoreResult<()> {
        match self.transact(writes).await {
            Ok(()) => Ok(()),
            Err(f) if f.failed_at(0) => {
                let stored: Option<Message> =
                    self.get((keys::messages_pk(current.realm_id), keys::message_sk(current.id))).await?;
                Err(if stored.is_some() { StoreError::Conflict } else { StoreError::NotFound("message") })
            }
            Err(TransactFailure::Cancelled(_)) => Err(StoreError::Conflict),
            Err(TransactFailure::Other(e)) => Err(e),
        }
    }
}

#[async_trait]
impl MessageChangeStore for DynamoStore {
    async fn replace_message(&self, current: &Message, mut changed: Message) -> StoreResult<Message> {
        changed.realm_id = current.realm_id;
        changed.id = current.id;
        changed.revision = current.revision + 1;
        let realm_copy = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item((keys::messages_pk(changed.realm_id), keys::message_sk(changed.id)), &changed)?))
            .condition_expression(Self::revision_condition(current.revision))
            .expression_attribute_values(":revision", n(current.revision))
            .build()
            .map_err(backend)?;
        let mut writes = vec![TransactWriteItem::builder().put(realm_copy).build()];
        let new_scopes = scope_partitions(&changed);
        for pk in scope_partitions(current).into_iter().filter(|pk| !new_scopes.contains(pk)) {
            writes.push(self.delete_copy(pk, current)?);
        }
        for pk in new_scopes {
            writes.push(self.put(item((pk, keys::message_sk(changed.id)), &changed)?, None)?);
        }
        self.change_message(current, writes).await?;
        Ok(changed)
    }

    async fn delete_message(&self, current: &Message) -> StoreResult<()> {
        let realm_copy = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(self.key((keys::messages_pk(current.realm_id), keys::message_sk(current.id)))))
            .condition_expression(Self::revision_condition(current.revision))
            .expression_attribute_values(":revision", n(current.revision))
            .build()
            .map_err(backend)?;
        let mut writes = vec![TransactWriteItem::builder().delete(realm_copy).build()];
        for pk in scope_partitions(current) {
            writes.push(self.delete_copy(pk, current)?);
        }
        self.change_message(current, writes).await
    }
}
