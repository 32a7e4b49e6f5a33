//! What a function is built from: the store, the queue, the clock and the deployment's
//! settings. A Lambda `main` builds these once per cold start with [`Services::from_env`];
//! the local stack builds them from its flags.

use std::sync::Arc;
use std::time::Duration;

use hookline_model::credentials::ApiKeyHash;
use hookline_model::queue::DeliveryQueue;
use hookline_model::queue::sqs::SqsQueue;
use hookline_model::rate_limit::RateLimit;
use hookline_model::store::Store;
use hookline_model::store::dynamo::DynamoStore;
use hookline_model::{Clock, SystemClock};

use crate::rate_limit::{DEFAULT_AUTH_FAILURE_LIMIT, DEFAULT_USER_LIMIT, DEFAULT_WINDOW_MS, RateLimits};

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
    /// Requests per user and failed authentications per address, per window.
    pub rate_limits: RateLimits,
    /// Where the `slack` integration calls Slack's Web API (`users.info`, `conversations.info`,
    /// `auth.test`): `https://slack.com/api`, or a local fake in tests.
    pub slack_api_url: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            admin_key_hash: None,
            public_url: "http://127.0.0.1:9000".into(),
            realm_domain: "localhost".into(),
            allow_private_endpoints: false,
            secret_overlap: Duration::from_secs(24 * 60 * 60),
            rate_limits: RateLimits::default(),
            slack_api_url: "https://slack.com/api".into(),
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
    /// `HOOKLINE_ADMIN_KEY_SHA256`, `HOOKLINE_PUBLIC_URL`, `HOOKLINE_REALM_DOMAIN`, `HOOKLINE_SLACK_API_URL`, and the rate
    /// limits `HOOKLINE_USER_RATE_LIMIT` and `HOOKLINE_AUTH_FAILURE_RATE_LIMIT` (per
    /// `HOOKLINE_RATE_LIMIT_WINDOW_SECONDS`; 0 turns a limit off).
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
            rate_limits: rate_limits_from_env()?,
            slack_api_url: std::env::var("HOOKLINE_SLACK_API_URL")
                .ok()
                .filter(|url| !url.trim().is_empty())
                .unwrap_or(defaults.slack_api_url),
            ..defaults
        };
        Ok(Self { store: Arc::new(store), queue: Arc::new(queue), clock: Arc::new(SystemClock), settings })
    }
}

fn rate_limits_from_env() -> Result<RateLimits, String> {
    let number = |name: &str, default: u64| match std::env::var(name) {
        Ok(text) if !text.trim().is_empty() => {
            text.trim().parse::<u32>().map(u64::from).map_err(|_| format!("{name} is not a whole number: {text}"))
        }
        _ => Ok(default),
    };
    let window_s = number("HOOKLINE_RATE_LIMIT_WINDOW_SECONDS", (DEFAULT_WINDOW_MS / 1000) as u64)?;
    let window_ms = i64::try_from(window_s * 1000).unwrap_or(DEFAULT_WINDOW_MS);
    let limit = |name: &str, default: u32| -> Result<Option<RateLimit>, String> {
        let n = u32::try_from(number(name, u64::from(default))?).unwrap_or(u32::MAX);
        Ok(RateLimit::new(n, window_ms))
    };
    Ok(RateLimits {
        per_user: limit("HOOKLINE_USER_RATE_LIMIT", DEFAULT_USER_LIMIT)?,
        auth_failures_per_address: limit("HOOKLINE_AUTH_FAILURE_RATE_LIMIT", DEFAULT_AUTH_FAILURE_LIMIT)?,
    })
}

/// Log lines for a deployed function: `tracing` to stdout without colours or timestamps
/// (CloudWatch adds its own), filtered by `RUST_LOG` (default `info`).
pub fn init_lambda_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(false).without_time().try_init();
}
