//! Scenario `aws-calls`: how many AWS calls a warm stack makes per message sent and per
//! delivery, against DynamoDB Local and moto. The stack runs in this process on SDK clients
//! whose interceptor ([`CallCounter`]) counts every request by operation and by who made it:
//! the functions (the messages function's send path, the outgoing worker), or what Lambda
//! does for them (the SQS event source's receives and deletes) or beside them (the sweep).
//!
//! A message is measured in two steps. Its send: from the request going out to its answer,
//! with the event source held back (see [`GatedQueue`]) so the worker is idle. Then its
//! deliveries: the event source is let through for the message's jobs, and the calls up to
//! the last job's delete are the worker's and the event source's.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use hookline_edge::rate_limit::RateLimits;
use hookline_edge::{Services, Settings};
use hookline_model::SystemClock;
use hookline_model::credentials::ApiKeyHash;
use hookline_model::delivery::QueueJob;
use hookline_model::queue::sqs::SqsQueue;
use hookline_model::queue::{DeliveryQueue, QueueError, ReceivedJob};
use hookline_model::store::dynamo::DynamoStore;
use tokio::sync::{oneshot, watch};

use crate::Scale;
use crate::api::{Client, Realm};
use crate::interceptor::{Call, CallCounter, Counts, Origin};
use crate::report::Table;
use crate::stack::ADMIN_KEY;
use crate::stats::median;

/// Where DynamoDB Local and moto listen, as `scripts/aws-local run` exports them.
const DYNAMODB_ENDPOINT: &str = "HOOKLINE_TEST_DYNAMODB_ENDPOINT";
const SQS_ENDPOINT: &str = "HOOKLINE_TEST_SQS_ENDPOINT";

/// How long one message's deliveries may take before the run gives up.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(30);

/// What bots answer: Zulip's "no reply", so a delivery posts no message back.
const NO_REPLY: &str = r#"{"response_not_required": true}"#;

pub async fn run(scale: &Scale) -> Result<Vec<Table>, String> {
    let bot_counts: &[usize] = scale.pick(&[0, 1, 3, 10], &[0, 1]);
    // Warm-ups fill the caches (the realm's directory, the last message id) and, being sent
    // after the bots were created, see the directory version those moved.
    let warm_ups = scale.pick(3, 2);
    // Each owner stays well inside the deployed 200 requests a minute.
    let messages = scale.pick((5 * scale.repeats).clamp(5, 100), 1);

    let bench = Bench::start().await?;
    let mut rows = Vec::new();
    let result = async {
        for &bots in bot_counts {
            rows.push(bench.measure(bots, warm_ups, messages).await?);
        }
        Ok::<_, String>(())
    }
    .await;
    let sweep = bench.counter.snapshot().requests(|call| call.origin == Origin::Sweep);
    bench.stop().await;
    result?;
    Ok(vec![table(&rows, warm_ups, messages, sweep)])
}

/// The endpoints of the stand-ins; an error that says how to get them when they are absent.
fn endpoint(var: &str) -> Result<String, String> {
    match std::env::var(var) {
        Ok(url) if !url.trim().is_empty() => Ok(url),
        _ => Err(format!(
            "aws-calls needs DynamoDB Local and moto, and {var} is not set: run it as \
             `scripts/aws-local run -- cargo run --release -p hookline-bench -- aws-calls`"
        )),
    }
}

/// Dummy credentials: the stand-ins accept any, and real ones must never be picked up.
fn credentials() -> Credentials {
    Credentials::new("test", "test", None, None, "hookline-bench")
}

fn dynamodb_client(endpoint: &str, counter: &CallCounter) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(credentials())
        .interceptor(counter.clone())
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

fn sqs_client(endpoint: &str, counter: &CallCounter) -> aws_sdk_sqs::Client {
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(credentials())
        .interceptor(counter.clone())
        .build();
    aws_sdk_sqs::Client::from_conf(config)
}

/// A name no earlier run used, so runs share the stand-ins without meeting.
fn unique_name(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("{prefix}-{}-{:x}", std::process::id(), nanos % (1 << 40))
}

/// The SQS queue, with the event source's receives held back until jobs are let through:
/// while a send is measured no receive reaches SQS, so the worker is idle; then exactly the
/// message's jobs are let through, and their deletes say when the worker is done with them.
pub struct GatedQueue {
    inner: SqsQueue,
    /// Jobs the event source may still receive; its receives wait while this is 0.
    allowance: watch::Sender<usize>,
    /// Jobs the event source has deleted, i.e. the worker finished.
    deleted: watch::Sender<usize>,
}

impl GatedQueue {
    fn new(inner: SqsQueue) -> Self {
        Self { inner, allowance: watch::Sender::new(0), deleted: watch::Sender::new(0) }
    }

    /// Lets `jobs` more through to the event source.
    fn allow(&self, jobs: usize) {
        self.allowance.send_modify(|n| *n += jobs);
    }

    fn deleted(&self) -> usize {
        *self.deleted.borrow()
    }

    /// Waits until `count` jobs in all have been deleted.
    async fn deleted_reaches(&self, count: usize, timeout: Duration) -> Result<(), String> {
        let mut deleted = self.deleted.subscribe();
        let reached = tokio::time::timeout(timeout, deleted.wait_for(|n| *n >= count)).await.is_ok_and(|r| r.is_ok());
        if reached {
            Ok(())
        } else {
            Err(format!(
                "the worker did not finish its jobs within {timeout:?} ({} of {count} deleted)",
                self.deleted()
            ))
        }
    }
}

#[async_trait]
impl DeliveryQueue for GatedQueue {
    async fn enqueue(&self, jobs: &[QueueJob]) -> Result<(), QueueError> {
        self.inner.enqueue(jobs).await
    }

    /// Waits up to `wait` for jobs to be let through, as an empty long poll would; then
    /// receives from SQS.
    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<ReceivedJob>, QueueError> {
        let mut allowance = self.allowance.subscribe();
        let open = tokio::time::timeout(wait, allowance.wait_for(|n| *n > 0)).await.is_ok_and(|r| r.is_ok());
        if !open {
            return Ok(Vec::new());
        }
        let jobs = self.inner.receive(max, wait).await?;
        self.allowance.send_modify(|n| *n = n.saturating_sub(jobs.len()));
        Ok(jobs)
    }

    async fn delete(&self, receipt_handle: &str) -> Result<(), QueueError> {
        self.inner.delete(receipt_handle).await?;
        self.deleted.send_modify(|n| *n += 1);
        Ok(())
    }

    async fn change_visibility(&self, receipt_handle: &str, timeout: Duration) -> Result<(), QueueError> {
        self.inner.change_visibility(receipt_handle, timeout).await
    }

    async fn receive_dead_letters(&self, max: usize) -> Result<Vec<ReceivedJob>, QueueError> {
        self.inner.receive_dead_letters(max).await
    }
}

/// The bots' endpoint: answers every POST with "no reply" and counts them.
struct BotReceiver {
    url: String,
    posts: Arc<AtomicUsize>,
    stop: oneshot::Sender<()>,
    served: tokio::task::JoinHandle<()>,
}

impl BotReceiver {
    async fn start() -> Result<Self, String> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("cannot listen for the bots' POSTs: {e}"))?;
        let address = listener.local_addr().map_err(|e| e.to_string())?;
        let posts = Arc::new(AtomicUsize::new(0));
        let counted = posts.clone();
        let router = axum::Router::new().route(
            "/bot",
            axum::routing::post(move || {
                let counted = counted.clone();
                async move {
                    counted.fetch_add(1, Ordering::SeqCst);
                    ([(axum::http::header::CONTENT_TYPE, "application/json")], NO_REPLY)
                }
            }),
        );
        let (stop, stopped) = oneshot::channel::<()>();
        let served = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            if let Err(e) = axum::serve(listener, router).with_graceful_shutdown(shutdown).await {
                eprintln!("aws-calls: the bots' endpoint failed: {e}");
            }
        });
        Ok(Self { url: format!("http://{address}/bot"), posts, stop, served })
    }

    fn posts(&self) -> usize {
        self.posts.load(Ordering::SeqCst)
    }
}

/// The stack in this process on counted clients, and the bots' endpoint.
struct Bench {
    counter: CallCounter,
    queue: Arc<GatedQueue>,
    admin: Client,
    receiver: BotReceiver,
    stop: oneshot::Sender<()>,
    served: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Bench {
    /// Builds the services as `hookline-local --store dynamodb --queue sqs` does, on a fresh
    /// table and queue, with the deployed settings, and serves them on a free port.
    async fn start() -> Result<Self, String> {
        let (dynamodb, sqs) = (endpoint(DYNAMODB_ENDPOINT)?, endpoint(SQS_ENDPOINT)?);
        let counter = CallCounter::default();
        let client = dynamodb_client(&dynamodb, &counter);
        let table = unique_name("hookline-bench");
        DynamoStore::ensure_table(&client, &table)
            .await
            .map_err(|e| format!("DynamoDB table {table} at {dynamodb}: {e}"))?;
        let store = Arc::new(DynamoStore::new(client, table));
        let sqs_queue = SqsQueue::ensure(
            sqs_client(&sqs, &counter),
            &unique_name("hookline-bench"),
            hookline_local::VISIBILITY_TIMEOUT,
            hookline_local::MAX_RECEIVES,
        )
        .await
        .map_err(|e| format!("SQS queue at {sqs}: {e}"))?;
        let queue = Arc::new(GatedQueue::new(sqs_queue));

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("cannot listen for the API: {e}"))?;
        let address = listener.local_addr().map_err(|e| e.to_string())?;
        let url = format!("http://{address}");
        let settings = Settings {
            admin_key_hash: Some(ApiKeyHash::of(ADMIN_KEY)),
            public_url: url.clone(),
            allow_private_endpoints: true,
            // The deployed limits: what `Services::from_env` falls back to and `template.yaml`
            // sets by default (200 requests a minute per user, 20 failed authentications a
            // minute per address).
            rate_limits: RateLimits::default(),
            ..Settings::default()
        };
        let services = Arc::new(Services { store, queue: queue.clone(), clock: Arc::new(SystemClock), settings });
        let options = hookline_local::options::Options {
            listen: address,
            allow_private_endpoints: true,
            // As the deployed messages function: the jobs are on the queue before it answers.
            hand_over: hookline_messaging::send::HandOver::BeforeAnswering,
            ..Default::default()
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let served = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            hookline_local::serve(listener, services, &options, shutdown).await
        });
        let receiver = BotReceiver::start().await?;
        Ok(Self { counter, queue, admin: Client::new(&url).bearer(ADMIN_KEY), receiver, stop, served })
    }

    /// A realm with `bots` outgoing bots, `warm_ups` messages mentioning all of them, then
    /// `messages` measured ones.
    async fn measure(&self, bots: usize, warm_ups: usize, messages: usize) -> Result<Row, String> {
        let mut realm = Realm::create(&self.admin, &unique_name(&format!("calls{bots}"))).await?;
        for _ in 0..bots {
            realm.add_bot(&self.receiver.url).await?;
        }
        let content = if bots == 0 { "Hello".to_owned() } else { format!("{} hello", realm.mentions.join(" ")) };
        for _ in 0..warm_ups {
            self.message(&realm, bots, &content).await?;
        }
        let mut samples = Vec::new();
        for _ in 0..messages {
            samples.push(self.message(&realm, bots, &content).await?);
        }
        Ok(Row { bots, samples })
    }

    /// Sends one message and lets its deliveries through; the calls of each step.
    async fn message(&self, realm: &Realm, bots: usize, content: &str) -> Result<Sample, String> {
        let before = self.counter.snapshot();
        realm.send("calls", content).await?;
        let sent = self.counter.snapshot();
        let send = sent.since(&before);
        if bots == 0 {
            return Ok(Sample { send, deliveries: None });
        }
        let (deleted, posts) = (self.queue.deleted(), self.receiver.posts());
        self.queue.allow(bots);
        self.queue.deleted_reaches(deleted + bots, DELIVERY_TIMEOUT).await?;
        let deliveries = self.counter.snapshot().since(&sent);
        let posted = self.receiver.posts() - posts;
        if posted != bots {
            return Err(format!("{bots} bots were mentioned but {posted} were POSTed to"));
        }
        Ok(Sample { send, deliveries: Some(deliveries) })
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.served.await;
        let _ = self.receiver.stop.send(());
        let _ = self.receiver.served.await;
    }
}

/// One measured message: the calls of its send, and of its deliveries (none without bots).
struct Sample {
    send: Counts,
    deliveries: Option<Counts>,
}

/// The messages measured with one number of bots.
struct Row {
    bots: usize,
    samples: Vec<Sample>,
}

/// A figure over the samples: the median, with the range when they differ.
struct Figure {
    median: f64,
    min: f64,
    max: f64,
}

impl Figure {
    fn of(values: &[f64]) -> Self {
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Self { median: median(values), min, max }
    }

    fn show(&self) -> String {
        if self.median.is_nan() {
            "–".into()
        } else if self.min < self.max {
            format!("{} ({}–{})", count(self.median), count(self.min), count(self.max))
        } else {
            count(self.median)
        }
    }
}

/// A count, whole when it is one (a per-delivery share may not be).
fn count(value: f64) -> String {
    if (value - value.round()).abs() < 0.005 { format!("{value:.0}") } else { format!("{value:.2}") }
}

/// The requests of `origin` in each of `counts`, divided by `per`, by operation: "GetItem 4,
/// SendMessageBatch 1" (the medians; an operation whose median is 0 is left out).
fn by_operation(counts: &[&Counts], origin: Origin, per: f64) -> String {
    let operations: BTreeSet<&Call> =
        counts.iter().flat_map(|c| c.0.keys()).filter(|call| call.origin == origin).collect();
    let mut parts = Vec::new();
    for call in operations {
        let values: Vec<f64> =
            counts.iter().map(|c| c.0.get(call).map_or(0.0, |tally| tally.requests as f64) / per).collect();
        let figure = median(&values);
        if figure > 0.0 {
            parts.push(format!("{} {}", call.operation, count(figure)));
        }
    }
    if parts.is_empty() { "–".into() } else { parts.join(", ") }
}

/// The requests of the calls `which` picks in each of `counts`, divided by `per`.
fn figure(counts: &[&Counts], per: f64, which: impl Fn(&Call) -> bool + Copy) -> String {
    if counts.is_empty() {
        return "–".into();
    }
    let values: Vec<f64> = counts.iter().map(|c| c.requests(which) as f64 / per).collect();
    Figure::of(&values).show()
}

fn table(rows: &[Row], warm_ups: usize, messages: usize, sweep: u64) -> Table {
    let retries: u64 = rows
        .iter()
        .flat_map(|row| &row.samples)
        .map(|sample| sample.send.retries() + sample.deliveries.as_ref().map_or(0, Counts::retries))
        .sum();
    let note = format!(
        "Requests the SDK sent to DynamoDB Local and moto (an interceptor on both clients), the stack in \
         this process on a warm function: per number of bots, a realm of its own, {warm_ups} warm-up \
         messages mentioning every bot, then the medians (range when they differ) of {messages} \
         measured messages. Per send: from `POST /api/v1/messages` going out to its answer, the \
         outgoing worker idle (the event source is held back until the answer is in). Per delivery: \
         the worker's calls for one job (its jobs' calls divided by the bots). SQS poller: the \
         `ReceiveMessage` and `DeleteMessage` calls of the local runner, which stands in for Lambda's \
         SQS event source (deployed it deletes with `DeleteMessageBatch`): not the functions' calls, \
         per message. Rate limits as deployed (`Services::from_env`'s and template.yaml's defaults: \
         200 requests a minute per user, 20 failed authentications a minute per client address). \
         Bots answer `{{\"response_not_required\": true}}`, so nothing is posted back. Not counted: \
         the outbox sweep's {sweep} queries during the run. SDK retries among the requests: \
         {retries}. Goal: calls per send the same whatever the number of bots, and at most 4."
    );
    let mut table = Table::new(
        "AWS calls per message (warm function)",
        note,
        &[
            "bots mentioned",
            "per send: calls",
            "per send: DynamoDB",
            "per send: SQS",
            "per send: by operation",
            "per delivery (worker): calls",
            "per delivery: by operation",
            "SQS poller per message: calls",
            "SQS poller: by operation",
        ],
    );
    let function = |call: &Call| call.origin == Origin::Function;
    for row in rows {
        let sends: Vec<&Counts> = row.samples.iter().map(|s| &s.send).collect();
        let deliveries: Vec<&Counts> = row.samples.iter().filter_map(|s| s.deliveries.as_ref()).collect();
        let per_job = row.bots.max(1) as f64;
        let (delivery_calls, delivery_ops, poller_calls, poller_ops) = if deliveries.is_empty() {
            ("–".into(), "–".into(), "–".into(), "–".into())
        } else {
            (
                figure(&deliveries, per_job, function),
                by_operation(&deliveries, Origin::Function, per_job),
                figure(&deliveries, 1.0, |call| call.origin == Origin::Poller),
                by_operation(&deliveries, Origin::Poller, 1.0),
            )
        };
        table.row(vec![
            row.bots.to_string(),
            figure(&sends, 1.0, function),
            figure(&sends, 1.0, |call| function(call) && call.service == "DynamoDB"),
            figure(&sends, 1.0, |call| function(call) && call.service == "SQS"),
            by_operation(&sends, Origin::Function, 1.0),
            delivery_calls,
            delivery_ops,
            poller_calls,
            poller_ops,
        ]);
    }
    table
}

#[cfg(test)]
mod tests {
    use crate::interceptor::Tally;

    use super::*;

    fn counts(calls: &[(Origin, &str, &str, u64)]) -> Counts {
        Counts(
            calls
                .iter()
                .map(|(origin, service, operation, n)| {
                    (
                        Call { origin: *origin, service: (*service).into(), operation: (*operation).into() },
                        Tally { operations: *n, requests: *n },
                    )
                })
                .collect(),
        )
    }

    #[test]
    fn a_row_shows_medians_per_send_per_delivery_and_the_pollers_calls_apart() {
        let send = counts(&[
            (Origin::Function, "DynamoDB", "GetItem", 4),
            (Origin::Function, "DynamoDB", "TransactWriteItems", 1),
            (Origin::Function, "SQS", "SendMessageBatch", 1),
        ]);
        let deliveries = counts(&[
            (Origin::Function, "DynamoDB", "GetItem", 8),
            (Origin::Function, "DynamoDB", "UpdateItem", 4),
            (Origin::Poller, "SQS", "ReceiveMessage", 1),
            (Origin::Poller, "SQS", "DeleteMessage", 2),
        ]);
        let rows = [
            Row { bots: 0, samples: vec![Sample { send: send.clone(), deliveries: None }] },
            Row { bots: 2, samples: vec![Sample { send, deliveries: Some(deliveries) }] },
        ];
        let table = table(&rows, 1, 1, 8);
        assert_eq!(
            table.rows[0],
            ["0", "6", "5", "1", "GetItem 4, TransactWriteItems 1, SendMessageBatch 1", "–", "–", "–", "–"]
        );
        assert_eq!(
            table.rows[1][5..],
            ["6", "GetItem 4, UpdateItem 2", "3", "DeleteMessage 2, ReceiveMessage 1"].map(String::from)
        );
        assert!(table.note.contains("sweep's 8 queries"), "{}", table.note);
    }

    #[test]
    fn figures_that_vary_show_their_range() {
        assert_eq!(Figure::of(&[7.0, 7.0, 8.0]).show(), "7 (7–8)");
        assert_eq!(Figure::of(&[7.0, 7.0]).show(), "7");
        assert_eq!(count(7.0 / 3.0), "2.33");
    }

    #[test]
    fn missing_endpoints_are_an_error_that_says_how_to_get_them() {
        let error = endpoint("HOOKLINE_BENCH_SURELY_UNSET_ENDPOINT").unwrap_err();
        assert!(error.contains("scripts/aws-local run"), "{error}");
    }
}
