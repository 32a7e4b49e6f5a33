//! The DynamoDB store: one table, string `PK`/`SK` keys (see [`keys`]), items mapped with
//! `serde_dynamo`, uniqueness by conditional writes and transactions, every read that decides
//! something strongly consistent.

mod bot_storage;
mod deliveries;
mod identity;
pub mod keys;
mod message_changes;
mod messages;
mod rate_limits;

use std::collections::HashMap;
use std::sync::Mutex;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, CancellationReason, KeySchemaElement, KeyType,
    ScalarAttributeType, TimeToLiveSpecification,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{StoreError, StoreResult};
use crate::MessageId;
use crate::realm::RealmId;

/// The attribute DynamoDB's TTL reads (Unix seconds). TTL only cleans up, days late at worst;
/// every time-bound rule is checked against timestamps when an item is read.
pub const TTL_ATTRIBUTE: &str = "expires_at_s";

pub type Item = HashMap<String, AttributeValue>;

pub struct DynamoStore {
    client: Client,
    table: String,
    /// The last message id this process saw committed per realm: the next commit tries
    /// the id after it without reading the counter first.
    last_seen_ids: Mutex<HashMap<RealmId, MessageId>>,
}

impl DynamoStore {
    #[must_use]
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into(), last_seen_ids: Mutex::new(HashMap::new()) }
    }

    /// Creates the table as `template.yaml` declares it, if it does not exist. For tests and
    /// the local stack; deployed tables come from the template.
    pub async fn ensure_table(client: &Client, table: &str) -> StoreResult<()> {
        let key = |name: &str, kind: KeyType| {
            KeySchemaElement::builder().attribute_name(name).key_type(kind).build().map_err(backend)
        };
        let attr = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(backend)
        };
        let created = client
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key("PK", KeyType::Hash)?)
            .key_schema(key("SK", KeyType::Range)?)
            .attribute_definitions(attr("PK")?)
            .attribute_definitions(attr("SK")?)
            .send()
            .await;
        match created {
            Ok(_) => {}
            Err(e) if e.as_service_error().is_some_and(|e| e.is_resource_in_use_exception()) => return Ok(()),
            Err(e) => return Err(backend(e)),
        }
        client
            .update_time_to_live()
            .table_name(table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .enabled(true)
                    .attribute_name(TTL_ATTRIBUTE)
                    .build()
                    .map_err(backend)?,
            )
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }

    fn key(&self, (pk, sk): keys::Key) -> Item {
        HashMap::from([("PK".to_owned(), AttributeValue::S(pk)), ("SK".to_owned(), AttributeValue::S(sk))])
    }

    /// A consistent read of one item.
    async fn get<T: DeserializeOwned>(&self, key: keys::Key) -> StoreResult<Option<T>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(self.key(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        out.item.map(from_item).transpose()
    }

    /// Every item of a partition whose sort key starts with `prefix` (all of them for an
    /// empty prefix), consistently read.
    async fn query_prefix<T: DeserializeOwned>(&self, pk: String, prefix: &str) -> StoreResult<Vec<T>> {
        let mut found = Vec::new();
        let mut start = None;
        loop {
            let query = self
                .client
                .query()
                .table_name(&self.table)
                .expression_attribute_values(":pk", AttributeValue::S(pk.clone()));
            let query = if prefix.is_empty() {
                query.key_condition_expression("PK = :pk")
            } else {
                query
                    .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
                    .expression_attribute_values(":prefix", AttributeValue::S(prefix.to_owned()))
            };
            let out = query.consistent_read(true).set_exclusive_start_key(start).send().await.map_err(backend)?;
            for item in out.items.unwrap_or_default() {
                found.push(from_item(item)?);
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(found);
            }
        }
    }
}

/// `value` as an item under `key`.
fn item<T: Serialize>(key: keys::Key, value: &T) -> StoreResult<Item> {
    let mut item: Item = serde_dynamo::to_item(value).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    item.insert("PK".into(), AttributeValue::S(key.0));
    item.insert("SK".into(), AttributeValue::S(key.1));
    Ok(item)
}

fn from_item<T: DeserializeOwned>(item: Item) -> StoreResult<T> {
    serde_dynamo::from_item(item).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// A failed call as the store's error. Throttling, a 5xx, a timeout or a lost connection that
/// outlasted the SDK's own retries is [`StoreError::Unavailable`]; anything else `Backend`.
fn backend(e: impl Failure) -> StoreError {
    let text = DisplayErrorContext(&e).to_string();
    if e.is_transient() { StoreError::Unavailable(text) } else { StoreError::Backend(text) }
}

/// DynamoDB's error codes for "too many requests, slow down".
const THROTTLING_CODES: [&str; 3] =
    ["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"];

/// An error from building or sending a request, which may pass if tried again later.
trait Failure: std::error::Error {
    fn is_transient(&self) -> bool;
}

impl Failure for aws_sdk_dynamodb::error::BuildError {
    fn is_transient(&self) -> bool {
        false
    }
}

impl<E> Failure for SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    fn is_transient(&self) -> bool {
        match self {
            SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
            SdkError::ServiceError(failure) => {
                failure.raw().status().is_server_error()
                    || failure.err().code().is_some_and(|code| THROTTLING_CODES.contains(&code))
            }
            _ => false,
        }
    }
}

/// Whether an SDK error is a failed condition of a single-item write.
fn condition_failed<E, R>(e: &SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    e.as_service_error().and_then(aws_sdk_dynamodb::error::ProvideErrorMetadata::code)
        == Some("ConditionalCheckFailedException")
}

/// Why a transaction was cancelled: per action, its reason code ("None" when it was fine).
/// `None` if the error is not a cancellation.
fn cancellation_codes(
    e: &SdkError<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
        aws_sdk_dynamodb::config::http::HttpResponse,
    >,
) -> Option<Vec<String>> {
    match e.as_service_error()? {
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c) => {
            Some(
                c.cancellation_reasons()
                    .iter()
                    .map(|r: &CancellationReason| r.code().unwrap_or("None").to_owned())
                    .collect(),
            )
        }
        _ => None,
    }
}
