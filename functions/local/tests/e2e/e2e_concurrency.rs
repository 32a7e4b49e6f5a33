//! Delivery is concurrent in the local stack, as Lambda runs concurrent invocations of the
//! worker: one realm's bot that hangs, or answers slowly, holds up no other realm's bot.

use std::time::{Duration, Instant};

use crate::receiver::{Receiver, dm, outgoing_bot};
use crate::support::{Stack, new_realm};

/// While realm A's bot holds its delivery (at `slow_path`), realm B's bot is sent its trigger
/// at once; returns how long B's request took to arrive after B's message was acknowledged.
async fn delay_behind(slow_path: &str) -> Duration {
    let stack = Stack::start(&["--allow-private-endpoints"]);
    let receiver = Receiver::start().await;
    let (_, a) = new_realm(&stack, "slowrealm").await;
    let (_, b) = new_realm(&stack, "quickrealm").await;
    let slow = outgoing_bot(&a, "slow", &receiver.url(slow_path)).await;
    let quick = outgoing_bot(&b, "quick", &receiver.url("echo")).await;

    let held = dm(&a, slow, "take your time").await;
    receiver.wait_for(slow_path, held, Duration::from_secs(10)).await;
    // GIVEN realm A's delivery is in progress; WHEN realm B's bot is triggered
    let sent = Instant::now();
    let quick_message = dm(&b, quick, "hello").await;
    let arrived = receiver.wait_for("echo", quick_message, Duration::from_secs(5)).await;
    let delay = arrived.saturating_duration_since(sent);
    // THEN its reply is posted while A's bot still has not answered
    let started = Instant::now();
    loop {
        let page = b
            .send("GET", "/api/v1/messages", &[("anchor", "newest"), ("num_before", "5"), ("apply_markdown", "false")])
            .await
            .ok();
        let replies = page["messages"].as_array().unwrap().iter().filter(|m| m["sender_id"] == quick).count();
        if replies == 1 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "no reply from the quick bot: {page}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(receiver.arrivals().iter().filter(|r| r.path == "echo").count(), 1);
    delay
}

#[tokio::test]
async fn a_hanging_bot_does_not_delay_another_realms_bot() {
    let delay = delay_behind("hang").await;
    eprintln!("behind a hanging bot, another realm's bot was POSTed {delay:?} after its message was acknowledged");
    assert!(delay < Duration::from_millis(500), "{delay:?}");
}

#[tokio::test]
async fn a_bot_answering_after_eight_seconds_does_not_hold_up_another_realms_bot() {
    let delay = delay_behind("echo/8000").await;
    eprintln!("behind an 8 s bot, another realm's bot was POSTed {delay:?} after its message was acknowledged");
    assert!(delay < Duration::from_millis(500), "{delay:?}");
}
