//! Load on the local stack with `--data-dir`: many concurrent senders in several realms, each
//! message triggering a bot that answers slowly, fails outright, or hangs until its timeout.
//! Checked afterwards: every accepted message is stored, every trigger delivered or reported
//! failed, every reply posted once, and the process's memory stayed flat. The journal is
//! compacted many times meanwhile (a small compaction threshold), and a restart at the end
//! finds everything again. Deliveries run 40 batches at once, so the hanging bots drain soon.
//!
//! Bounded by default (200 senders for 10 s); `HOOKLINE_LOAD_SENDERS` and
//! `HOOKLINE_LOAD_SECONDS` scale it (docs/RELIABILITY.md gives the long run's command).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::receiver::{Receiver, dm_thread, outgoing_bot, replies_by_trigger};
use crate::support::{Client, Stack, new_realm, temp_dir};

const REALMS: usize = 4;
/// Each realm's bots: where they live, and whether their deliveries end delivered.
const BOTS: [(&str, bool); 4] = [("echo/300", true), ("echo/1000", true), ("fail", false), ("hang", false)];

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The resident set size of `pid`, in KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn start(dir: &std::path::Path) -> Stack {
    Stack::start_with(
        &[
            "--allow-private-endpoints",
            "--data-dir",
            dir.to_str().unwrap(),
            "--compact-journal-after",
            "1",
            "--delivery-concurrency",
            "40",
        ],
        // Hanging bots time out after 2 s and are retried twice, 1 s apart, then fail
        &[("HOOKLINE_RETRY_SCHEDULE", "1s,1s"), ("HOOKLINE_REQUEST_TIMEOUT_SECONDS", "2")],
    )
}

/// Every delivery of `bot`, through the delivery log's pages.
async fn deliveries(owner: &Client, bot: u64) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut query = vec![("limit", "100".to_owned())];
        if let Some(cursor) = &cursor {
            query.push(("before", cursor.clone()));
        }
        let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let page = owner.send("GET", &format!("/api/v1/bots/{bot}/deliveries"), &query).await.ok();
        all.extend(page["deliveries"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return all,
        }
    }
}

struct Realm {
    owner: Client,
    bots: Vec<(u64, bool)>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_senders_with_slow_and_failing_bots_lose_and_double_nothing() {
    let senders = usize::try_from(env_or("HOOKLINE_LOAD_SENDERS", 200)).unwrap();
    let seconds = env_or("HOOKLINE_LOAD_SECONDS", 10);
    let dir = temp_dir("load");
    let receiver = Receiver::start().await;
    let stack = start(&dir);
    let mut realms = Vec::new();
    for r in 0..REALMS {
        let (_, owner) = new_realm(&stack, &format!("load{r}")).await;
        let mut bots = Vec::new();
        for (b, (path, answers)) in BOTS.iter().enumerate() {
            bots.push((outgoing_bot(&owner, &format!("bot{b}"), &receiver.url(path)).await, *answers));
        }
        realms.push(Realm { owner, bots });
    }

    // Memory, sampled every 250 ms from the start of the load until the end of the check
    let pid = stack.pid();
    let (stop_sampling, mut sampling) = tokio::sync::watch::channel(false);
    let sampler = tokio::spawn(async move {
        let mut samples = Vec::new();
        let started = Instant::now();
        loop {
            if let Some(kib) = rss_kib(pid) {
                samples.push((started.elapsed(), kib));
            }
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(250)) => {}
                _ = sampling.changed() => return samples,
            }
        }
    });

    let until = Instant::now() + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..senders)
        .map(|s| {
            let realm = &realms[s % REALMS];
            let owner = realm.owner.clone();
            let (bot, _) = realm.bots[(s / REALMS) % BOTS.len()];
            tokio::spawn(async move {
                let (mut accepted, mut refused) = (Vec::new(), Vec::new());
                let mut i = 0;
                while Instant::now() < until {
                    i += 1;
                    let content = format!("sender {s} message {i}");
                    let to = format!("[{bot}]");
                    let answer =
                        owner.post("/api/v1/messages", &[("type", "direct"), ("to", &to), ("content", &content)]).await;
                    if answer.status == 200 {
                        accepted.push(answer.body["id"].as_u64().unwrap());
                    } else {
                        refused.push((answer.status, answer.body));
                    }
                }
                (s, bot, accepted, refused)
            })
        })
        .collect();
    let mut accepted: BTreeMap<(usize, u64), BTreeSet<u64>> = BTreeMap::new();
    let mut refused = Vec::new();
    for task in tasks {
        let (s, bot, ids, no) = task.await.unwrap();
        accepted.entry((s % REALMS, bot)).or_default().extend(ids);
        refused.extend(no);
    }
    let sent_at = Instant::now();
    let total: usize = accepted.values().map(BTreeSet::len).sum();
    // Nothing is refused under load: a refusal would have to be a 503 with Retry-After
    for (status, body) in &refused {
        assert_eq!(*status, 503, "{body}");
    }

    // Every trigger ends delivered or failed, within a bound
    for (r, realm) in realms.iter().enumerate() {
        for (bot, answers) in &realm.bots {
            let expected = accepted.get(&(r, *bot)).cloned().unwrap_or_default();
            let started = Instant::now();
            loop {
                let log = deliveries(&realm.owner, *bot).await;
                let finished = log.iter().filter(|d| d["state"] == "delivered" || d["state"] == "failed").count();
                if finished >= expected.len() {
                    let ids: BTreeSet<u64> = log.iter().map(|d| d["message_id"].as_u64().unwrap()).collect();
                    assert_eq!(ids, expected, "one delivery per accepted trigger");
                    let want = if *answers { "delivered" } else { "failed" };
                    assert!(log.iter().all(|d| d["state"] == want), "bot {bot}: every delivery {want}");
                    break;
                }
                assert!(
                    started.elapsed() < Duration::from_secs(180),
                    "bot {bot}: {finished} of {} deliveries finished",
                    expected.len()
                );
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
    let drained_after = sent_at.elapsed();
    let _ = stop_sampling.send(true);
    let samples = sampler.await.unwrap();

    // Accepted = stored, and every answering bot's reply posted exactly once; then the same
    // after a restart (the journal was compacted many times meanwhile)
    let check_stored = |owner: Client,
                        realm: usize,
                        bots: Vec<(u64, bool)>,
                        accepted: BTreeMap<(usize, u64), BTreeSet<u64>>| async move {
        for (bot, answers) in bots {
            let expected = accepted.get(&(realm, bot)).cloned().unwrap_or_default();
            let thread = dm_thread(&owner, bot).await;
            let stored: BTreeSet<u64> =
                thread.iter().filter(|m| m["sender_id"] != bot).map(|m| m["id"].as_u64().unwrap()).collect();
            assert_eq!(stored, expected, "accepted = stored for bot {bot}");
            let replies = replies_by_trigger(&thread, bot);
            if answers {
                assert_eq!(replies.keys().copied().collect::<BTreeSet<_>>(), expected, "bot {bot}: a reply each");
                assert!(replies.values().all(|n| *n == 1), "bot {bot}: every reply once");
            } else {
                assert!(replies.is_empty(), "bot {bot} never answered");
            }
        }
    };
    for (r, realm) in realms.iter().enumerate() {
        check_stored(realm.owner.clone(), r, realm.bots.clone(), accepted.clone()).await;
    }
    let keys: Vec<_> = realms.iter().map(|r| r.owner.auth.clone()).collect();
    stack.kill_hard();
    // The tail's name carries the journal's generation: how many compactions there were
    let tails = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().to_string_lossy().strip_prefix("journal-").map(str::to_owned))
        .collect::<Vec<_>>();
    let restarted = start(&dir);
    for (r, realm) in realms.iter().enumerate() {
        let owner = restarted.client().with_auth(keys[r].clone());
        check_stored(owner, r, realm.bots.clone(), accepted.clone()).await;
    }

    // Memory stays flat: after the first seconds it grows by no more than the messages take
    let kib_at = |from: Duration| samples.iter().filter(|(at, _)| *at >= from).map(|(_, kib)| *kib).collect::<Vec<_>>();
    let warm = kib_at(Duration::from_secs(2)).first().copied().unwrap_or(0);
    let peak = samples.iter().map(|(_, kib)| *kib).max().unwrap_or(0);
    let last = samples.last().map_or(0, |(_, kib)| *kib);
    eprintln!(
        "load: {senders} senders for {seconds} s: {total} accepted ({:.0}/s), {} refused; drained {drained_after:.1?} after; \
         RSS after 2 s {warm} KiB, peak {peak} KiB, at the end {last} KiB; journal tail {tails:?}",
        total as f64 / seconds as f64,
        refused.len(),
    );
    assert!(total > 0, "nothing was accepted");
    assert!(peak < warm + 64 * 1024, "memory grew from {warm} KiB to {peak} KiB");
}
