//! Zulip's rate limits over HTTP on the local stack: a user's or incoming bot's requests per
//! window, and failed authentications per client address, answered with 429
//! `RATE_LIMIT_HIT` and `Retry-After` until the window ends. On DynamoDB behind a fault proxy
//! that fails every counter call, the limits let requests through, and hold again once the
//! counters answer.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::fault_proxy::{Fault, FaultProxy};
use crate::support::{Answer, Auth, Client, Stack, new_realm};

/// Long enough that a handful of local requests made right after a window starts end inside it.
const WINDOW_S: u64 = 5;

/// Sleeps until just after the next rate-limit window starts (windows are aligned to the
/// epoch, and the stack runs on this machine's clock).
async fn at_window_start() {
    at_start_of(WINDOW_S).await;
}

/// Sleeps until just after the next window of `window_s` seconds starts.
async fn at_start_of(window_s: u64) {
    let window_ms = u128::from(window_s * 1000);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis();
    let wait = window_ms - now % window_ms + 50;
    tokio::time::sleep(Duration::from_millis(u64::try_from(wait).unwrap())).await;
}

/// Checks Zulip's 429 and returns its `Retry-After` seconds.
fn rate_limited(answer: &Answer) -> u64 {
    rate_limited_in(answer, WINDOW_S)
}

/// As [`rate_limited`], for a window of `window_s` seconds.
fn rate_limited_in(answer: &Answer, window_s: u64) -> u64 {
    answer.error(429, "RATE_LIMIT_HIT", "API usage exceeded rate limit");
    let header: u64 = answer.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert_eq!(answer.body["retry-after"], header, "{:?}", answer.body);
    assert!((1..=window_s).contains(&header), "{header}");
    header
}

#[tokio::test]
async fn users_and_incoming_bots_are_limited_per_window_and_recover() {
    let window = WINDOW_S.to_string();
    let stack = Stack::start(&["--demo", "--user-rate-limit", "5", "--rate-limit-window", &window]);
    let (email, api_key) = stack.demo_credentials();
    let owner = stack.client().as_user(&email, &api_key);
    let hooks =
        owner.post("/api/v1/bots", &[("full_name", "Hooks"), ("short_name", "hooks"), ("bot_type", "2")]).await.ok();
    let hook_url = format!("/api/v1/external/json?api_key={}&stream=general", hooks["api_key"].as_str().unwrap());
    let anonymous = stack.client();
    let webhook = || anonymous.send_raw("POST", &hook_url, "application/json", r#"{"build": "green"}"#);

    at_window_start().await;
    for _ in 0..5 {
        owner.get("/api/v1/users/me").await.ok();
    }
    let retry_after = rate_limited(&owner.get("/api/v1/users/me").await);
    // Any endpoint: the limit is the user's, not the route's
    rate_limited(&owner.get("/api/v1/streams").await);
    // The incoming bot has its own window, also through its webhook URL
    for _ in 0..5 {
        webhook().await.ok();
    }
    rate_limited(&webhook().await);
    // Another user of the realm is not held back by the owner's use
    let (_, other_owner) = new_realm(&stack, "other").await;
    other_owner.get("/api/v1/users/me").await.ok();

    tokio::time::sleep(Duration::from_secs(retry_after)).await;
    owner.get("/api/v1/users/me").await.ok();
    webhook().await.ok();
}

#[tokio::test]
async fn key_guesses_are_limited_per_address_even_when_the_next_guess_is_right() {
    let window = WINDOW_S.to_string();
    let stack = Stack::start(&["--auth-failure-limit", "3", "--rate-limit-window", &window]);
    let (created, owner) = new_realm(&stack, "guarded").await;
    let email = created["owner"]["email"].as_str().unwrap().to_owned();
    let guesser = stack.client().as_user(&email, "not-the-key");

    at_window_start().await;
    guesser.get("/api/v1/users/me").await.error(401, "INVALID_API_KEY", "Invalid API key");
    stack.client().send_raw("POST", "/api/v1/external/json?api_key=guessed-key", "application/json", "{}").await.error(
        401,
        "INVALID_API_KEY",
        "Invalid API key",
    );
    // A header that is not HTTP Basic is a failure too
    stack.client().with_auth(Auth::Bearer("x".into())).get("/api/v1/users/me").await.error(401, "UNAUTHORIZED", "");
    let retry_after = rate_limited(&guesser.get("/api/v1/users/me").await);
    // Now even the right key is refused from this address: guessing it gains nothing
    rate_limited(&owner.get("/api/v1/users/me").await);

    tokio::time::sleep(Duration::from_secs(retry_after)).await;
    owner.get("/api/v1/users/me").await.ok();
    guesser.get("/api/v1/users/me").await.error(401, "INVALID_API_KEY", "Invalid API key");
}

fn endpoint(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| panic!("{var} is not set: run the tests with scripts/aws-local"))
}

/// Runs `request` on every client at once; the answers, in order, and the slowest one's time.
async fn all_at_once<F, Fut>(clients: Vec<Client>, request: F) -> (Vec<Answer>, Duration)
where
    F: Fn(usize, Client) -> Fut,
    Fut: Future<Output = Answer> + Send + 'static,
{
    let started = Instant::now();
    let tasks: Vec<_> = clients.into_iter().enumerate().map(|(i, client)| tokio::spawn(request(i, client))).collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.expect("request task"));
    }
    (answers, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_limits_let_requests_through_while_their_counters_fail_and_hold_again_after() {
    // Long enough for a faulted phase whose counter calls each go through the SDK's retries.
    const WINDOW: u64 = 20;
    const USER_LIMIT: usize = 3;
    const FAILURE_LIMIT: usize = 2;
    // Every counter item's key starts with RATE#; the messages and users are left alone. The
    // faults all answer before forwarding, so no counter is written while they last.
    let dynamodb = FaultProxy::start_matching(
        &endpoint("HOOKLINE_TEST_DYNAMODB_ENDPOINT"),
        &[Fault::ProvisionedThroughputExceeded, Fault::Throttling, Fault::ServerError],
        "RATE#",
    )
    .await;
    let table = format!("hookline-rate-faults-{}", std::process::id());
    let dynamodb_url = dynamodb.url.clone();
    // The proxy runs on this runtime: start the stack (a blocking wait for its banner) aside.
    let stack = tokio::task::spawn_blocking(move || {
        let (window, users, failures) = (WINDOW.to_string(), USER_LIMIT.to_string(), FAILURE_LIMIT.to_string());
        Stack::start_with(
            &[
                "--demo",
                "--store",
                "dynamodb",
                "--user-rate-limit",
                &users,
                "--auth-failure-limit",
                &failures,
                "--rate-limit-window",
                &window,
            ],
            &[
                ("AWS_ENDPOINT_URL_DYNAMODB", &dynamodb_url),
                ("AWS_ACCESS_KEY_ID", "test"),
                ("AWS_SECRET_ACCESS_KEY", "test"),
                ("AWS_REGION", "us-east-1"),
                ("HOOKLINE_TABLE", &table),
            ],
        )
    })
    .await
    .expect("stack starts");
    let (email, api_key) = stack.demo_credentials();
    let owner = stack.client().as_user(&email, &api_key);
    let guesser = stack.client().as_user(&email, "not-the-key");

    // Counters down: twice the user's limit of sends at once, all answered and stored.
    at_start_of(WINDOW).await;
    dynamodb.set_rate(1000);
    let sends = 2 * USER_LIMIT;
    let (sent, sends_took) = all_at_once(vec![owner.clone(); sends], |i, client| async move {
        let content = format!("while the counters are down {i}");
        let form = [("type", "stream"), ("to", "general"), ("topic", "limiter outage"), ("content", &content)];
        client.post("/api/v1/messages", &form).await
    })
    .await;
    let ids: Vec<u64> = sent.into_iter().map(|answer| answer.ok()["id"].as_u64().expect("id")).collect();
    let page = owner
        .send("GET", "/api/v1/messages", &[("anchor", "newest"), ("num_before", "50"), ("apply_markdown", "false")])
        .await
        .ok();
    for (i, id) in ids.iter().enumerate() {
        let stored = page["messages"].as_array().unwrap().iter().find(|m| m["id"] == *id);
        let stored = stored.unwrap_or_else(|| panic!("message {id} is not stored: {page}"));
        assert_eq!(stored["content"], format!("while the counters are down {i}"));
    }
    // Twice the failure limit of wrong keys, all plain 401s, then the right key is answered.
    let guesses = 2 * FAILURE_LIMIT;
    let (guessed, guesses_took) =
        all_at_once(vec![guesser.clone(); guesses], |_, client| async move { client.get("/api/v1/users/me").await })
            .await;
    for answer in &guessed {
        answer.error(401, "INVALID_API_KEY", "Invalid API key");
    }
    owner.get("/api/v1/users/me").await.ok();
    let outage_took = sends_took + guesses_took;
    let (counter_calls, injected) = (dynamodb.eligible(), dynamodb.injected());
    assert!(counter_calls > 0, "the counters were called");
    assert_eq!(injected.values().sum::<u64>(), counter_calls, "every counter call failed: {injected:?}");

    // Counters back, in a fresh window: the user's limit holds, then the address's.
    dynamodb.set_rate(0);
    at_start_of(WINDOW).await;
    for _ in 0..USER_LIMIT {
        owner.get("/api/v1/users/me").await.ok();
    }
    rate_limited_in(&owner.get("/api/v1/users/me").await, WINDOW);
    for _ in 0..FAILURE_LIMIT {
        guesser.get("/api/v1/users/me").await.error(401, "INVALID_API_KEY", "Invalid API key");
    }
    rate_limited_in(&guesser.get("/api/v1/users/me").await, WINDOW);
    println!(
        "limiter outage: {sends} sends against a limit of {USER_LIMIT} all stored (slowest {sends_took:?}); \
         {guesses} wrong keys against a limit of {FAILURE_LIMIT} all 401 (slowest {guesses_took:?}), then the \
         right key answered; {counter_calls} counter calls, all faulted {injected:?}; \
         after recovery {USER_LIMIT} answered then 429, {FAILURE_LIMIT} wrong keys then 429 \
         ({} counter calls in all, outage phase {outage_took:?})",
        dynamodb.eligible(),
    );
}
