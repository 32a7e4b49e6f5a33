//! `kill -9` of the local stack with `--data-dir`: every acknowledged trigger is delivered
//! once after the restart. The queue is journaled like the store, and the leases the killed
//! process held are released when the store opens again.
//!
//! `HOOKLINE_CRASH_ROUNDS` sets how many random kills the repeated test makes (default 3).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::receiver::{Receiver, dm, dm_thread, outgoing_bot, replies_by_trigger};
use crate::support::{Client, Stack, new_realm, temp_dir};

fn start(dir: &std::path::Path) -> Stack {
    Stack::start(&["--allow-private-endpoints", "--data-dir", dir.to_str().unwrap()])
}

/// Waits until every message of `expected` has its reply; fails on a second reply to any.
async fn wait_for_replies(owner: &Client, bot: u64, expected: &BTreeSet<u64>, within: Duration) {
    let started = Instant::now();
    loop {
        let replies = replies_by_trigger(&dm_thread(owner, bot).await, bot);
        let doubled: Vec<_> = replies.iter().filter(|(_, n)| **n > 1).collect();
        assert!(doubled.is_empty(), "replied more than once: {doubled:?}");
        let missing: Vec<_> = expected.iter().filter(|id| !replies.contains_key(id)).collect();
        if missing.is_empty() {
            return;
        }
        assert!(started.elapsed() < within, "{} of {} never answered: {missing:?}", missing.len(), expected.len());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn triggers_of_a_slow_bot_are_all_answered_once_after_a_kill() {
    let dir = temp_dir("crash-slow-bot");
    let receiver = Receiver::start().await;
    let stack = start(&dir);
    let (created, owner) = new_realm(&stack, "crashy").await;
    let bot = outgoing_bot(&owner, "sloth", &receiver.url("echo/1500")).await;
    let mut acknowledged = BTreeSet::new();
    for i in 0..12 {
        acknowledged.insert(dm(&owner, bot, &format!("trigger {i}")).await);
    }
    // GIVEN the bot is working on some of them; WHEN the stack is killed
    receiver.wait_for("echo/1500", 1, Duration::from_secs(5)).await;
    stack.kill_hard();

    let stack = start(&dir);
    let key = created["owner"]["api_key"].as_str().unwrap();
    let owner = stack.client().as_user(created["owner"]["email"].as_str().unwrap(), key);
    // THEN all twelve are answered, once each (the deadline is generous: other end-to-end
    // tests load the same machine while this one runs)
    wait_for_replies(&owner, bot, &acknowledged, Duration::from_secs(60)).await;
    let log = owner.send("GET", &format!("/api/v1/bots/{bot}/deliveries"), &[("limit", "100")]).await.ok();
    let states: Vec<&str> =
        log["deliveries"].as_array().unwrap().iter().map(|d| d["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["delivered"; 12]);
}

#[tokio::test]
async fn repeated_kills_at_random_moments_lose_and_double_nothing() {
    let rounds: usize = std::env::var("HOOKLINE_CRASH_ROUNDS").ok().and_then(|n| n.parse().ok()).unwrap_or(3);
    let dir = temp_dir("crash-repeated");
    let receiver = Receiver::start().await;
    let stack = start(&dir);
    let (created, owner) = new_realm(&stack, "crashloop").await;
    let bot = outgoing_bot(&owner, "steady", &receiver.url("echo/200")).await;
    let (email, key) = (created["owner"]["email"].as_str().unwrap(), created["owner"]["api_key"].as_str().unwrap());
    let mut stack = Some(stack);
    let mut acknowledged = BTreeSet::new();
    for round in 0..rounds {
        let running = stack.take().unwrap_or_else(|| start(&dir));
        let owner = running.client().as_user(email, key);
        // Four senders, until the kill at a random moment
        let senders: Vec<_> = (0..4)
            .map(|s| {
                let owner = owner.clone();
                tokio::spawn(async move {
                    let mut acked = Vec::new();
                    for i in 0.. {
                        let content = format!("round {round} sender {s} #{i}");
                        let sent = owner
                            .send_or_fail(
                                "POST",
                                "/api/v1/messages",
                                &[("type", "direct"), ("to", &format!("[{bot}]")), ("content", &content)],
                            )
                            .await;
                        match sent {
                            Some(answer) => acked.push(answer.ok()["id"].as_u64().unwrap()),
                            None => return acked,
                        }
                    }
                    acked
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(300 + rand_below(1200))).await;
        running.kill_hard();
        for sender in senders {
            acknowledged.extend(sender.await.unwrap());
        }
    }
    let stack = start(&dir);
    let owner = stack.client().as_user(email, key);
    // Every acknowledged message is stored, and answered exactly once
    let thread = dm_thread(&owner, bot).await;
    let stored: BTreeSet<u64> = thread.iter().map(|m| m["id"].as_u64().unwrap()).collect();
    let lost: Vec<_> = acknowledged.difference(&stored).collect();
    assert!(lost.is_empty(), "acknowledged but not stored: {lost:?}");
    wait_for_replies(&owner, bot, &acknowledged, Duration::from_secs(60)).await;
    eprintln!("{rounds} kills: {} acknowledged triggers, each answered once", acknowledged.len());
}

fn rand_below(n: u64) -> u64 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    u64::from(nanos) % n
}
