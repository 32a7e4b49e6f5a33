//! Backends for the contract suite. The DynamoDB and SQS cases run against DynamoDB Local and
//! moto's server, whose endpoints `scripts/test` exports; without them these cases fail, never
//! skip.

use std::sync::Arc;
use std::time::Duration;

use hookline_model::SystemClock;
use hookline_model::credentials::{ApiKeyHash, generate_api_key};
use hookline_model::queue::DeliveryQueue;
use hookline_model::queue::journal::JournalQueue;
use hookline_model::queue::memory::MemoryQueue;
use hookline_model::queue::sqs::SqsQueue;
use hookline_model::realm::NewRealm;
use hookline_model::store::Store;
use hookline_model::store::dynamo::DynamoStore;
use hookline_model::store::journal::JournalStore;
use hookline_model::store::memory::MemoryStore;
use hookline_model::user::{NewUser, Role};
use rand::Rng as _;

/// How long a received job stays invisible in the contract cases.
pub const VISIBILITY: Duration = Duration::from_secs(30);
/// Receives before a job moves to the dead-letter queue in the contract cases.
pub const MAX_RECEIVES: u32 = 2;

fn endpoint(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!("{var} is not set: run the tests with scripts/test, which starts DynamoDB Local and moto")
    })
}

/// A name no other test uses, so cases run in parallel on one server.
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}-{}-{:08x}", std::process::id(), rand::rng().random::<u32>())
}

pub fn memory_store() -> Arc<dyn Store> {
    Arc::new(MemoryStore::new())
}

pub async fn journal_store() -> Arc<dyn Store> {
    let dir = std::env::temp_dir().join(unique_name("hookline-journal"));
    Arc::new(JournalStore::open(&dir).await.expect("open journal"))
}

pub async fn dynamo_store() -> Arc<dyn Store> {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .endpoint_url(endpoint("HOOKLINE_TEST_DYNAMODB_ENDPOINT"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("test", "test", None, None, "contract-tests"))
        .build();
    let client = aws_sdk_dynamodb::Client::from_conf(config);
    let table = unique_name("hookline");
    DynamoStore::ensure_table(&client, &table).await.expect("create table on DynamoDB Local");
    Arc::new(DynamoStore::new(client, table))
}

pub fn memory_queue() -> Arc<dyn DeliveryQueue> {
    Arc::new(MemoryQueue::new(Arc::new(SystemClock), VISIBILITY, MAX_RECEIVES))
}

pub fn journal_queue() -> Arc<dyn DeliveryQueue> {
    let dir = std::env::temp_dir().join(unique_name("hookline-queue"));
    Arc::new(JournalQueue::open(&dir, Arc::new(SystemClock), VISIBILITY, MAX_RECEIVES).expect("open queue journal"))
}

pub async fn sqs_queue() -> Arc<dyn DeliveryQueue> {
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
        .region(aws_sdk_sqs::config::Region::new("us-east-1"))
        .endpoint_url(endpoint("HOOKLINE_TEST_SQS_ENDPOINT"))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new("test", "test", None, None, "contract-tests"))
        .build();
    let client = aws_sdk_sqs::Client::from_conf(config);
    Arc::new(
        SqsQueue::ensure(client, &unique_name("deliveries"), VISIBILITY, MAX_RECEIVES)
            .await
            .expect("create queue on moto"),
    )
}

pub fn new_user(email: &str, name: &str) -> NewUser {
    NewUser {
        email: email.into(),
        full_name: name.into(),
        role: Role::Member,
        bot_type: None,
        bot_owner_id: None,
        api_key_hash: ApiKeyHash::of(&generate_api_key()),
        service: None,
    }
}

pub fn new_realm(string_id: &str) -> NewRealm {
    NewRealm {
        string_id: string_id.into(),
        name: format!("{string_id} Inc."),
        host: format!("{string_id}.example.com"),
        public_url: format!("https://{string_id}.example.com"),
    }
}
