//! Rate-limit counters in the table: one item per key and window (`RATE#<scope>#<id>`,
//! window start), counted by one conditional `ADD` that refuses once the window is full, and
//! removed by TTL once the window is over.

use async_trait::async_trait;

use super::{DynamoStore, TTL_ATTRIBUTE, backend, condition_failed, keys, n};
use crate::rate_limit::{RateKey, Window};
use crate::store::{RateLimitStore, StoreResult};

/// How long after its window a counter is left for TTL to remove.
const KEPT_AFTER_WINDOW_S: i64 = 60;

#[derive(serde::Deserialize)]
struct Counter {
    n: u32,
}

#[async_trait]
impl RateLimitStore for DynamoStore {
    async fn take(&self, key: &RateKey, window: Window, limit: u32) -> StoreResult<bool> {
        let expires_at_s = window.end.div_euclid(1000) + KEPT_AFTER_WINDOW_S;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(self.key(keys::rate_counter(key.scope, &key.id, window.start))))
            .update_expression("ADD n :one SET #ttl = :ttl")
            .condition_expression("attribute_not_exists(n) OR n < :limit")
            .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":ttl", n(expires_at_s))
            .expression_attribute_values(":limit", n(limit))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(backend(e)),
        }
    }

    async fn counted(&self, key: &RateKey, window: Window) -> StoreResult<u32> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(self.key(keys::rate_counter(key.scope, &key.id, window.start))))
            .projection_expression("n")
            .send()
            .await
            .map_err(backend)?;
        let counter: Option<Counter> = out.item.map(super::from_item).transpose()?;
        Ok(counter.map_or(0, |c| c.n))
    }
}
