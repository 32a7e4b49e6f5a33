//! Zulip's rate limits over HTTP on the local stack: a user's or incoming bot's requests per
//! window, and failed authentications per client address, answered with 429
//! `RATE_LIMIT_HIT` and `Retry-After` until the window ends.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::support::{Answer, Auth, Stack, new_realm};

/// Long enough that a handful of local requests made right after a window starts end inside it.
const WINDOW_S: u64 = 5;

/// Sleeps until just after the next rate-limit window starts (windows are aligned to the
/// epoch, and the stack runs on this machine's clock).
async fn at_window_start() {
    let window_ms = u128::from(WINDOW_S * 1000);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis();
    let wait = window_ms - now % window_ms + 50;
    tokio::time::sleep(Duration::from_millis(u64::try_from(wait).unwrap())).await;
}

/// Checks Zulip's 429 and returns its `Retry-After` seconds.
fn rate_limited(answer: &Answer) -> u64 {
    answer.error(429, "RATE_LIMIT_HIT", "API usage exceeded rate limit");
    let header: u64 = answer.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert_eq!(answer.body["retry-after"], header, "{:?}", answer.body);
    assert!((1..=WINDOW_S).contains(&header), "{header}");
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
