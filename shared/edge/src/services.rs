//! What a function is built from: the store, the queue, the clock and the deployment's
//! settings. A Lambda `main` builds these once per cold start with [`Services::from_env`];
//! the local stack builds them from its flags.

use std::sync::Arc;
use std::time::Duration;

use hookline_model::credentials::ApiKeyHash;
use hookline_model::queue::DeliveryQueue;
use hookline_model::queue::sqs::SqsQueue;
use hookline_model::store::Store;
use hookline_model::store::dynamo::DynamoStore;
use hookline_model::{Clock, SystemClock};

/// The version reported to clients and sent in `User-Agent`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

#[derive(Debug, Clone)]
pub struct Settings {
    /// SHA-256 of the deployment admin's key; `None` disables admin routes.
    pub admin_key_hash: Option<ApiKeyHash>,
    /// Where the deployment's API is reached, e.g. `https://chat.example.com`.
    pub public_url: String,
    /// Realm hosts are `<string_id>.<realm_domain>` unless given when the realm is created.
    pub realm_domain: String,
    /// Lets bot endpoints live on loopback and private networks (local development).
    pub allow_private_endpoints: bool,
    /// How long the previous signing secret keeps signing after a rotation.
    pub secret_overlap: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            admin_key_hash: None,
            public_url: "http://127.0.0.1:9000".into(),
            realm_domain: "localhost".into(),
            allow_private_endpoints: false,
            secret_overlap: Duration::from_secs(24 * 60 * 60),
        }
    }
}

pub struct Services {
    pub store: Arc<dyn Store>,
    pub queue: Arc<dyn DeliveryQueue>,
    pub clock: Arc<dyn Clock>,
    pub settings: Settings,
}

impl Services {
    /// Services for a deployed function: DynamoDB table `HOOKLINE_TABLE`, SQS queue
    /// `HOOKLINE_QUEUE_URL` (with `HOOKLINE_DLQ_URL`), admin key hash
    /// `HOOKLINE_ADMIN_KEY_SHA256`, `HOOKLINE_PUBLIC_URL`, `HOOKLINE_REALM_DOMAIN`.
    pub async fn from_env() -> Result<Self, String> {
        let var = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set"));
        let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), var("HOOKLINE_TABLE")?);
        let queue = SqsQueue::new(
            aws_sdk_sqs::Client::new(&config),
            var("HOOKLINE_QUEUE_URL")?,
            std::env::var("HOOKLINE_DLQ_URL").ok(),
        );
        let defaults = Settings::default();
        let settings = Settings {
            admin_key_hash: std::env::var("HOOKLINE_ADMIN_KEY_SHA256")
                .ok()
                .filter(|h| !h.is_empty())
                .map(|h| ApiKeyHash::from_stored(h.to_lowercase())),
            public_url: std::env::var("HOOKLINE_PUBLIC_URL").unwrap_or(defaults.public_url),
            realm_domain: std::env::var("HOOKLINE_REALM_DOMAIN").unwrap_or(defaults.realm_domain),
            ..defaults
        };
        Ok(Self { store: Arc::new(store), queue: Arc::new(queue), clock: Arc::new(SystemClock), settings })
    }
}

/// Log lines for a deployed function: `tracing` to stdout without colours or timestamps
/// (CloudWatch adds its own), filtered by `RUST_LOG` (default `info`).
pub fn init_lambda_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(false).without_time().try_init();
}
