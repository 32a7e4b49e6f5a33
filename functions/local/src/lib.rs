//! `hookline-local`: every Hookline function in one process. HTTP requests go through an
//! emulated API Gateway ([`gateway`]) into the same `lambda_http` handlers Lambda runs; the
//! SQS-triggered functions are fed by an emulated event source ([`sqs_runner`]).

pub mod demo;
pub mod gateway;
pub mod http_server;
pub mod options;
pub mod sqs_runner;
mod template_routes;

use std::sync::Arc;
use std::time::Duration;

use hookline_delivery::worker::Worker;
use hookline_edge::rate_limit::RateLimits;
use hookline_edge::{Services, Settings};
use hookline_messages::MessagesApp;
use hookline_messaging::send::{HandOver, Sender};
use hookline_messaging::sweep::{sweep, sweep_older_than};
use hookline_model::SystemClock;
use hookline_model::credentials::{ApiKeyHash, generate_api_key};
use hookline_model::queue::DeliveryQueue;
use hookline_model::queue::journal::JournalQueue;
use hookline_model::queue::memory::MemoryQueue;
use hookline_model::queue::sqs::SqsQueue;
use hookline_model::rate_limit::RateLimit;
use hookline_model::store::Store;
use hookline_model::store::dynamo::DynamoStore;
use hookline_model::store::journal::{JournalOptions, JournalStore};
use hookline_model::store::memory::MemoryStore;
use hookline_outgoing_worker::{handle_event, worker_from_env};
use options::{Backend, Options};
use sqs_runner::{SqsHandler, SqsRunner};

/// How long a received job stays invisible, as `template.yaml` sets it.
pub const VISIBILITY_TIMEOUT: Duration = Duration::from_secs(180);
/// Receives before a job is dead-lettered, as `template.yaml` sets it.
pub const MAX_RECEIVES: u32 = 12;

/// The admin key: `HOOKLINE_ADMIN_KEY`, or a fresh one (returned so it can be printed).
#[must_use]
pub fn admin_key() -> (String, bool) {
    match std::env::var("HOOKLINE_ADMIN_KEY") {
        Ok(key) if !key.is_empty() => (key, false),
        _ => (generate_api_key(), true),
    }
}

/// The services the stack runs on, as `options` chooses.
pub async fn build_services(options: &Options, admin_key: &str) -> Result<Services, String> {
    let aws = if options.store == Backend::Aws || options.queue == Backend::Aws {
        Some(aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await)
    } else {
        None
    };
    let store: Arc<dyn Store> = match (options.store, &options.data_dir, &aws) {
        (Backend::Aws, _, Some(config)) => {
            let client = aws_sdk_dynamodb::Client::new(config);
            let table = std::env::var("HOOKLINE_TABLE").unwrap_or_else(|_| "hookline".into());
            DynamoStore::ensure_table(&client, &table).await.map_err(|e| format!("DynamoDB table {table}: {e}"))?;
            Arc::new(DynamoStore::new(client, table))
        }
        (_, Some(dir), _) => {
            let journal =
                JournalOptions { compact_after_bytes: options.compact_journal_after, clock: Arc::new(SystemClock) };
            Arc::new(JournalStore::open_with(dir, journal).await.map_err(|e| format!("{}: {e}", dir.display()))?)
        }
        _ => Arc::new(MemoryStore::new()),
    };
    let clock = Arc::new(SystemClock);
    let queue: Arc<dyn DeliveryQueue> = match (options.queue, &aws) {
        (Backend::Aws, Some(config)) => {
            let client = aws_sdk_sqs::Client::new(config);
            match std::env::var("HOOKLINE_QUEUE_URL") {
                Ok(url) => Arc::new(SqsQueue::new(client, url, std::env::var("HOOKLINE_DLQ_URL").ok())),
                Err(_) => Arc::new(
                    SqsQueue::ensure(client, "hookline-deliveries", VISIBILITY_TIMEOUT, MAX_RECEIVES)
                        .await
                        .map_err(|e| format!("SQS queue: {e}"))?,
                ),
            }
        }
        // With --data-dir the queue is durable too: an acknowledged trigger survives a crash.
        _ => match &options.data_dir {
            Some(dir) => Arc::new(
                JournalQueue::open(dir, clock.clone(), VISIBILITY_TIMEOUT, MAX_RECEIVES)
                    .map_err(|e| format!("{}: {e}", dir.display()))?,
            ),
            None => Arc::new(MemoryQueue::new(clock.clone(), VISIBILITY_TIMEOUT, MAX_RECEIVES)),
        },
    };
    let settings = Settings {
        admin_key_hash: Some(ApiKeyHash::of(admin_key)),
        public_url: options.public_url.clone().unwrap_or_else(|| format!("http://{}", options.listen)),
        allow_private_endpoints: options.allow_private_endpoints,
        rate_limits: rate_limits(options),
        ..Settings::default()
    };
    Ok(Services { store, queue, clock, settings })
}

fn rate_limits(options: &Options) -> RateLimits {
    let window_ms = i64::try_from(options.rate_limit_window.as_millis()).unwrap_or(i64::MAX);
    RateLimits {
        per_user: RateLimit::new(options.user_rate_limit, window_ms),
        auth_failures_per_address: RateLimit::new(options.auth_failure_limit, window_ms),
    }
}

/// Every function of the stack, each built once, as a cold start would.
pub struct Functions {
    pub services: Arc<Services>,
    pub messages: MessagesApp,
    pub worker: Arc<Worker>,
}

impl Functions {
    /// The functions on `services`, handing a send's jobs to the queue as `hand_over` says:
    /// a long-lived process may answer a send once committed and hand its jobs over meanwhile
    /// (the outbox entry covers a crash in between).
    pub fn new(services: Arc<Services>, hand_over: HandOver) -> Result<Self, String> {
        let sender =
            Sender::new(services.store.clone(), services.queue.clone(), services.clock.clone()).handing_over(hand_over);
        let messages = MessagesApp::with_sender(services.clone(), Arc::new(sender));
        let worker = Arc::new(worker_from_env(&services, messages.sender())?);
        Ok(Self { services, messages, worker })
    }
}

/// The outgoing worker behind the emulated SQS event source.
struct WorkerHandler(Arc<Worker>);

#[async_trait::async_trait]
impl SqsHandler for WorkerHandler {
    async fn handle(
        &self,
        event: aws_lambda_events::sqs::SqsEvent,
    ) -> Result<aws_lambda_events::sqs::SqsBatchResponse, String> {
        // The deployed function has 30 s; keep the same budget.
        Ok(handle_event(&self.0, event, Duration::from_secs(28)).await)
    }
}

/// The HTTP side: every route of the table, through the emulated API Gateway.
pub fn router(functions: Arc<Functions>) -> axum::Router {
    axum::Router::new()
        .fallback(gateway::serve)
        .layer(axum::extract::DefaultBodyLimit::max(gateway::MAX_BODY))
        .with_state(functions)
}

/// How often the local stack sweeps the outbox (the deployed schedule runs every minute);
/// `HOOKLINE_SWEEP_INTERVAL_MS` changes it.
fn sweep_interval() -> Duration {
    std::env::var("HOOKLINE_SWEEP_INTERVAL_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .map_or(Duration::from_secs(10), Duration::from_millis)
}

/// The scheduled functions: the outbox sweep, until `shutdown` turns true.
pub async fn run_schedules(services: Arc<Services>, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(sweep_interval());
    loop {
        tokio::select! {
            _ = tick.tick() => {
                if let Err(e) = sweep(services.store.as_ref(), services.queue.as_ref(), services.clock.now()).await {
                    tracing::warn!(error = %e, "outbox sweep failed");
                }
            }
            _ = shutdown.changed() => return,
        }
    }
}

/// Serves every function on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    services: Arc<Services>,
    options: &Options,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let functions = Arc::new(Functions::new(services.clone(), options.hand_over).map_err(std::io::Error::other)?);
    if options.data_dir.is_some() {
        // The data dir is this process's alone: whatever the outbox holds, the process before
        // left behind (it crashed between a commit and the hand-over). Enqueue it all now.
        let now = services.clock.now();
        if let Err(e) = sweep_older_than(services.store.as_ref(), services.queue.as_ref(), now, 0).await {
            tracing::warn!(error = %e, "outbox sweep at start failed; the scheduled one will retry");
        }
    }
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let schedules = tokio::spawn(run_schedules(services.clone(), stopped.clone()));
    let handler = Arc::new(WorkerHandler(functions.worker.clone()));
    let runner = SqsRunner::new(services.queue.clone(), handler, options.delivery_concurrency);
    let deliveries = tokio::spawn(runner.run(stopped));
    let served = http_server::serve(listener, router(functions), options.http, shutdown).await;
    let _ = stop.send(true);
    let _ = schedules.await;
    let _ = deliveries.await;
    served
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

/// Runs the stack as `options` say, printing its URL (and any generated credentials) on
/// stdout, until Ctrl-C.
pub async fn run(options: options::Options) -> Result<(), String> {
    let (admin_key, generated) = admin_key();
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", options.listen))?;
    // With port 0 the system picks one: report the address actually bound.
    let options = options::Options { listen: listener.local_addr().map_err(|e| e.to_string())?, ..options };
    let services = Arc::new(build_services(&options, &admin_key).await?);
    let url = services.settings.public_url.clone();

    // Credentials go to stdout, once; logs (stderr) never carry them.
    println!("Hookline is running at {url}");
    if generated {
        println!("Admin key (set HOOKLINE_ADMIN_KEY to choose one): {admin_key}");
    }
    if options.demo {
        let credentials = demo::seed(&services).await.map_err(|e| format!("demo seed: {e}"))?;
        println!(
            "Demo realm ready: email {} api key {} stream #{}",
            credentials.email, credentials.api_key, credentials.stream
        );
        println!("Try: curl -u {}:{} {url}/api/v1/users/me", credentials.email, credentials.api_key);
    }
    tracing::info!(
        %url,
        store = ?options.store,
        queue = ?options.queue,
        durable = options.data_dir.is_some(),
        "listening"
    );
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    };
    serve(listener, services, &options, shutdown).await.map_err(|e| e.to_string())
}
