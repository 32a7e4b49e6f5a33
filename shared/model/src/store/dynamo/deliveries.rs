//! Delivery records in the table: created once, leased with conditional updates, and kept
//! until their TTL.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};

use super::{DynamoStore, Item, TTL_ATTRIBUTE, backend, condition_failed, from_item, item, keys, n, s};
use crate::Millis;
use crate::delivery::{AttemptOutcome, Delivery, DeliveryId, DeliveryState};
use crate::realm::RealmId;
use crate::store::{Begun, DeliveryStore, StoreError, StoreResult};
use crate::user::UserId;

fn delivery_item(delivery: &Delivery) -> StoreResult<Item> {
    let mut item = item(keys::delivery(delivery.realm_id, delivery.id), delivery)?;
    item.insert(TTL_ATTRIBUTE.into(), n(delivery.expires_at / 1000));
    Ok(item)
}

fn state_value(state: DeliveryState) -> aws_sdk_dynamodb::types::AttributeValue {
    s(state.as_str())
}

#[async_trait]
impl DeliveryStore for DynamoStore {
    async fn ensure_delivery(&self, delivery: &Delivery) -> StoreResult<Delivery> {
        let out = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(delivery_item(delivery)?))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await;
        match out {
            Ok(_) => Ok(delivery.clone()),
            Err(e) if condition_failed(&e) => {
                self.get_delivery(delivery.realm_id, delivery.id).await?.ok_or(StoreError::NotFound("delivery"))
            }
            Err(e) => Err(backend(e)),
        }
    }

    async fn get_delivery(&self, realm: RealmId, id: DeliveryId) -> StoreResult<Option<Delivery>> {
        self.get(keys::delivery(realm, id)).await
    }

    async fn claim_delivery(
        &self,
        realm: RealmId,
        id: DeliveryId,
        owner: &str,
        now: Millis,
        until: Millis,
    ) -> StoreResult<Option<Delivery>> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(self.key(keys::delivery(realm, id))))
            .update_expression("SET lease_owner = :owner, lease_until = :until")
            .condition_expression(
                "attribute_exists(PK) AND #state IN (:pending, :retrying) AND next_attempt_at <= :now \
                 AND (attribute_not_exists(lease_until) OR lease_until <= :now)",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":owner", s(owner))
            .expression_attribute_values(":until", n(until))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":pending", state_value(DeliveryState::Pending))
            .expression_attribute_values(":retrying", state_value(DeliveryState::Retrying))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match out {
            Ok(out) => Ok(Some(from_item(out.attributes.unwrap_or_default())?)),
            // The SDK retries a request whose answer was lost; if the first try took the
            // lease, the retry fails its condition. Read back to tell that from a real loss.
            Err(e) if condition_failed(&e) => Ok(self
                .get_delivery(realm, id)
                .await?
                .filter(|d| d.lease_owner.as_deref() == Some(owner) && d.lease_until == Some(until))),
            Err(e) => Err(backend(e)),
        }
    }

    /// A first attempt is one call: the record is put already leased, on the condition that it
    /// does not exist. When it does, the failed put returns what is stored (no read), and the
    /// lease is claimed on it as [`Self::claim_delivery`] does.
    async fn begin_attempt(&self, delivery: &Delivery, owner: &str, now: Millis, until: Millis) -> StoreResult<Begun> {
        let mut leased = delivery.clone();
        leased.lease_owner = Some(owner.to_owned());
        leased.lease_until = Some(until);
        let stored = if delivery.claimable(now) {
            let out = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(delivery_item(&leased)?))
                .condition_expression("attribute_not_exists(PK)")
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .send()
                .await;
            match out {
                Ok(_) => return Ok(Begun::Claimed(leased)),
                Err(e) if condition_failed(&e) => match e.into_service_error() {
                    PutItemError::ConditionalCheckFailedException(failed) if failed.item.is_some() => {
                        from_item::<Delivery>(failed.item.unwrap_or_default())?
                    }
                    _ => self
                        .get_delivery(delivery.realm_id, delivery.id)
                        .await?
                        .ok_or(StoreError::NotFound("delivery"))?,
                },
                Err(e) => return Err(backend(e)),
            }
        } else {
            self.ensure_delivery(delivery).await?
        };
        // The SDK retried a put whose answer was lost: the record is the one this call made.
        if stored.lease_owner.as_deref() == Some(owner) && stored.lease_until == Some(until) {
            return Ok(Begun::Claimed(stored));
        }
        if !stored.claimable(now) {
            return Ok(Begun::Held(stored));
        }
        Ok(match self.claim_delivery(stored.realm_id, stored.id, owner, now, until).await? {
            Some(claimed) => Begun::Claimed(claimed),
            None => Begun::Held(self.get_delivery(stored.realm_id, stored.id).await?.unwrap_or(stored)),
        })
    }

    async fn record_attempt(
        &self,
        realm: RealmId,
        id: DeliveryId,
        owner: &str,
        outcome: AttemptOutcome,
    ) -> StoreResult<Delivery> {
        let attempt =
            serde_dynamo::to_attribute_value(vec![&outcome.attempt]).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(self.key(keys::delivery(realm, id))))
            .update_expression(
                "SET attempts = list_append(attempts, :attempt), attempt_count = attempt_count + :one, \
                 #state = :state, next_attempt_at = :next REMOVE lease_owner, lease_until",
            )
            .condition_expression("lease_owner = :owner")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":attempt", attempt)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":state", state_value(outcome.state))
            .expression_attribute_values(":next", n(outcome.next_attempt_at))
            .expression_attribute_values(":owner", s(owner))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match out {
            Ok(out) => from_item(out.attributes.unwrap_or_default()),
            // As for claims: a retried request whose first try was applied fails its condition.
            Err(e) if condition_failed(&e) => match self.get_delivery(realm, id).await? {
                Some(d) if d.lease_owner.is_none() && d.attempts.last() == Some(&outcome.attempt) => Ok(d),
                _ => Err(StoreError::LeaseLost),
            },
            Err(e) => Err(backend(e)),
        }
    }

    async fn list_deliveries(
        &self,
        realm: RealmId,
        bot: UserId,
        state: Option<DeliveryState>,
        cursor: Option<DeliveryId>,
        limit: usize,
    ) -> StoreResult<Vec<Delivery>> {
        let mut found = Vec::new();
        let mut start = cursor.map(|c| self.key(keys::delivery(realm, DeliveryId { bot_id: bot, ..c })));
        while found.len() < limit {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk")
                .expression_attribute_values(":pk", s(keys::deliveries_pk(realm, bot)))
                .scan_index_forward(false)
                .consistent_read(true)
                .limit(100)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(backend)?;
            for raw in out.items.unwrap_or_default() {
                let delivery: Delivery = from_item(raw)?;
                if state.is_none_or(|s| delivery.state == s) {
                    found.push(delivery);
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
}
