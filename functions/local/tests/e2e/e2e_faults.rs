//! The stack on DynamoDB and SQS behind a fault proxy: throttling, 500s and dropped
//! connections for a while, then none. Every send answers 200 or Zulip's error shape with a
//! 5xx (503 with `Retry-After` when the store was throttled); a client that retries with its
//! `Idempotency-Key` gets its message stored exactly once; after recovery every trigger of an
//! acknowledged message is answered, and no reply is doubled. `HOOKLINE_FAULT_SECONDS` (8)
//! sets how long the faults last.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::fault_proxy::{Fault, FaultProxy};
use crate::receiver::{Receiver, dm_thread, outgoing_bot, replies_by_trigger};
use crate::support::Stack;

fn endpoint(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| panic!("{var} is not set: run the tests with scripts/test"))
}

/// A queue of this test's own on moto (so no other test's stack takes its jobs), with a short
/// visibility timeout so a job whose receive answer was dropped comes back soon.
async fn own_queue(sqs: &str, name: &str) -> String {
    let created: Value = reqwest::Client::new()
        .post(sqs)
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amz-target", "AmazonSQS.CreateQueue")
        // moto's server tells the service from the credential scope.
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0",
        )
        .body(json!({"QueueName": name, "Attributes": {"VisibilityTimeout": "5"}}).to_string())
        .send()
        .await
        .expect("moto answers")
        .json()
        .await
        .expect("CreateQueue JSON");
    created["QueueUrl"].as_str().unwrap_or_else(|| panic!("no QueueUrl: {created}")).to_owned()
}

/// What the senders saw.
#[derive(Default, Debug)]
struct Tally {
    /// Answers by status.
    statuses: BTreeMap<u16, u64>,
    /// Non-200 answers that were not Zulip's error shape with a 5xx (503 with `Retry-After`).
    wrong: Vec<String>,
    /// Acknowledged messages: content → id.
    acknowledged: BTreeMap<String, u64>,
    /// Acknowledged after at least one failed attempt with the same key.
    acknowledged_after_retry: u64,
}

/// Sends `content` with `key` until it is acknowledged, recording every answer.
async fn send_until_acknowledged(
    http: &reqwest::Client,
    stack_url: &str,
    auth: (&str, &str),
    to: u64,
    content: &str,
    key: &str,
    tally: &Mutex<Tally>,
) {
    let mut failed = false;
    loop {
        let answer = http
            .post(format!("{stack_url}/api/v1/messages"))
            .basic_auth(auth.0, Some(auth.1))
            .header("Idempotency-Key", key)
            .form(&[("type", "direct"), ("to", &format!("[{to}]")), ("content", content)])
            .send()
            .await
            .expect("the stack always answers");
        let status = answer.status().as_u16();
        let retry_after = answer.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let text = answer.text().await.expect("body");
        if record(tally, status, retry_after, &text, content, failed) {
            return;
        }
        failed = true;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Records one answer; whether it acknowledged the message.
fn record(
    tally: &Mutex<Tally>,
    status: u16,
    retry_after: Option<String>,
    text: &str,
    content: &str,
    failed: bool,
) -> bool {
    let body: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    let mut tally = tally.lock().unwrap();
    *tally.statuses.entry(status).or_default() += 1;
    if status == 200 && body["result"] == "success" {
        let id = body["id"].as_u64().expect("id");
        tally.acknowledged.insert(content.to_owned(), id);
        tally.acknowledged_after_retry += u64::from(failed);
        return true;
    }
    let zulip_shape = body["result"] == "error" && body["msg"].is_string() && body["code"].is_string();
    if !(zulip_shape && (status == 500 || (status == 503 && retry_after.is_some()))) {
        tally.wrong.push(format!("{status} retry-after={retry_after:?} {text}"));
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_500s_and_dropped_connections_lose_nothing_and_double_nothing() {
    let dynamodb = FaultProxy::start(&endpoint("HOOKLINE_TEST_DYNAMODB_ENDPOINT"), &Fault::ALL).await;
    let sqs = FaultProxy::start(
        &endpoint("HOOKLINE_TEST_SQS_ENDPOINT"),
        &[Fault::ServerError, Fault::DropBeforeForwarding, Fault::DropAfterForwarding],
    )
    .await;
    let run = format!("hookline-faults-{}", std::process::id());
    let queue_url = own_queue(&endpoint("HOOKLINE_TEST_SQS_ENDPOINT"), &run).await;
    // The proxies run on this runtime: start the stack (a blocking wait for its banner) aside.
    let (dynamodb_url, sqs_url) = (dynamodb.url.clone(), sqs.url.clone());
    let stack = tokio::task::spawn_blocking(move || {
        Stack::start_with(
            &["--demo", "--store", "dynamodb", "--queue", "sqs", "--allow-private-endpoints"],
            &[
                ("AWS_ENDPOINT_URL_DYNAMODB", &dynamodb_url),
                ("AWS_ENDPOINT_URL_SQS", &sqs_url),
                ("AWS_ACCESS_KEY_ID", "test"),
                ("AWS_SECRET_ACCESS_KEY", "test"),
                ("AWS_REGION", "us-east-1"),
                ("HOOKLINE_TABLE", &run),
                ("HOOKLINE_QUEUE_URL", &queue_url),
                ("HOOKLINE_SWEEP_INTERVAL_MS", "500"),
            ],
        )
    })
    .await
    .expect("stack starts");
    let (email, api_key) = stack.demo_credentials();
    let owner = stack.client().as_user(&email, &api_key);
    let receiver = Receiver::start().await;
    let bot = outgoing_bot(&owner, "steady", &receiver.url("echo")).await;

    // Faults on: about one DynamoDB call in three and one SQS call in five meet a fault
    // (the SDK retries each call up to three times before the stack sees an error).
    let seconds = std::env::var("HOOKLINE_FAULT_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(8);
    let faulty_for = Duration::from_secs(seconds);
    // The first 4 s every DynamoDB call fails, so some sends surely outlast the SDK's retries.
    let outage = Duration::from_secs(4);
    dynamodb.set_rate(1000);
    sqs.set_rate(200);
    let tally = Arc::new(Mutex::new(Tally::default()));
    let http = reqwest::Client::new();
    let started = Instant::now();
    let senders: Vec<_> = (0..4)
        .map(|sender| {
            let (tally, http, url, email, api_key) =
                (tally.clone(), http.clone(), stack.url.clone(), email.clone(), api_key.clone());
            tokio::spawn(async move {
                let mut n = 0;
                while started.elapsed() < faulty_for {
                    let content = format!("faulty {sender}-{n}");
                    let key = format!("key-{sender}-{n}");
                    send_until_acknowledged(&http, &url, (&email, &api_key), bot, &content, &key, &tally).await;
                    n += 1;
                }
            })
        })
        .collect();
    // Faults off once the window is over; senders still retrying then succeed.
    tokio::time::sleep(outage).await;
    dynamodb.set_rate(330);
    tokio::time::sleep(faulty_for.saturating_sub(outage)).await;
    dynamodb.set_rate(0);
    sqs.set_rate(0);
    for sender in senders {
        sender.await.expect("sender");
    }
    let recovered_at = Instant::now();
    let tally = Arc::try_unwrap(tally).expect("senders done").into_inner().unwrap();
    assert!(tally.wrong.is_empty(), "answers other than 200 or Zulip's 5xx shape: {:?}", tally.wrong);
    let failures: u64 = tally.statuses.iter().filter(|(s, _)| **s != 200).map(|(_, n)| n).sum();
    assert!(failures > 0, "the faults reached the senders: {:?}", tally.statuses);
    assert!(tally.statuses.contains_key(&503), "a throttled store answers 503: {:?}", tally.statuses);

    // Every acknowledged message stored exactly once, under the id it was acknowledged with.
    let thread = dm_thread(&owner, bot).await;
    let mut stored: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for message in thread.iter().filter(|m| m["sender_id"] != bot) {
        stored
            .entry(message["content"].as_str().unwrap().to_owned())
            .or_default()
            .push(message["id"].as_u64().unwrap());
    }
    for (content, id) in &tally.acknowledged {
        assert_eq!(stored.get(content), Some(&vec![*id]), "{content} stored once as {id}");
    }
    assert_eq!(stored.len(), tally.acknowledged.len(), "nothing stored that was not acknowledged");

    // Every trigger answered (the sweep picks up those whose hand-over failed), none twice.
    let deadline = Duration::from_secs(120);
    let replies = loop {
        let replies = replies_by_trigger(&dm_thread(&owner, bot).await, bot);
        if tally.acknowledged.values().all(|id| replies.contains_key(id)) {
            break replies;
        }
        assert!(
            recovered_at.elapsed() < deadline,
            "triggers {:?} of {} unanswered {deadline:?} after recovery",
            tally.acknowledged.values().filter(|id| !replies.contains_key(id)).collect::<Vec<_>>(),
            tally.acknowledged.len()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let answered_after = recovered_at.elapsed();
    // Let any redelivered job run out before counting replies.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let replies_now = replies_by_trigger(&dm_thread(&owner, bot).await, bot);
    assert_eq!(replies_now.len(), replies.len());
    let doubled: Vec<_> = replies_now.iter().filter(|(_, n)| **n != 1).collect();
    assert!(doubled.is_empty(), "triggers answered more than once: {doubled:?}");
    let posts = receiver.arrivals().len();
    println!(
        "faults: {} sends ({} acknowledged, {} after a retry with the same key), answers {:?}; \
         DynamoDB faults {:?} of {} forwarded; SQS faults {:?} of {} forwarded; \
         every trigger answered once {answered_after:?} after recovery ({posts} POSTs to the bot)",
        tally.statuses.values().sum::<u64>(),
        tally.acknowledged.len(),
        tally.acknowledged_after_retry,
        tally.statuses,
        dynamodb.injected(),
        dynamodb.forwarded(),
        sqs.injected(),
        sqs.forwarded(),
    );
}
