//! Scenarios 1–4: the local stack under load, measured from outside. Senders post stream
//! messages that mention an outgoing bot; the bot's endpoint ([`Receiver`]) notes when each
//! POST arrives. Every run starts a fresh stack (in memory, or `--data-dir` in a new
//! directory) and checks that every accepted message was delivered exactly once.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::Scale;
use crate::api::Realm;
use crate::receiver::{Answer, Receiver, stamp};
use crate::report::{Table, ms, whole};
use crate::stack::Stack;
use crate::stats::{median, percentile};

/// Where the stack keeps its state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    Memory,
    /// `--data-dir`: the journaled store and queue, every write fsynced.
    DataDir,
}

impl Storage {
    fn label(self) -> &'static str {
        match self {
            Self::Memory => "in memory",
            Self::DataDir => "`--data-dir`",
        }
    }
}

/// How one stack is set up.
#[derive(Debug, Clone, Copy)]
pub struct Setup {
    pub storage: Storage,
    pub answer: Answer,
    /// `--delivery-concurrency`, or the stack's default.
    pub concurrency: Option<usize>,
}

/// A fresh stack with one realm, one stream and one bot pointing at a fresh receiver.
struct Bench {
    stack: Stack,
    receiver: Receiver,
    realm: Realm,
    data_dir: Option<PathBuf>,
}

impl Bench {
    async fn start(setup: Setup) -> Result<Self, String> {
        let receiver = Receiver::start(setup.answer).await?;
        let mut args = Vec::new();
        let data_dir = match setup.storage {
            Storage::Memory => None,
            Storage::DataDir => Some(temp_dir()?),
        };
        if let Some(dir) = &data_dir {
            // No compaction within a run, so the journal's lines count every store write.
            args.extend(["--data-dir".to_owned(), dir.display().to_string()]);
            args.extend(["--compact-journal-after".to_owned(), "4096".to_owned()]);
        }
        if let Some(concurrency) = setup.concurrency {
            args.extend(["--delivery-concurrency".to_owned(), concurrency.to_string()]);
        }
        let stack = Stack::start(&args).await?;
        let mut realm = Realm::create(&stack.admin(), "bench").await?;
        realm.add_bot(&receiver.url).await?;
        Ok(Self { stack, receiver, realm, data_dir })
    }

    /// Sends message `number`, mentioning the bot and stamped with the time.
    async fn send(&self, number: u64) -> Result<(), String> {
        self.realm.send("load", &format!("{} {}", self.realm.mentions[0], stamp(number))).await
    }

    /// Lines in the data dir's store journal: one per store write.
    fn journal_lines(&self) -> Option<u64> {
        self.data_dir.as_deref().map(journal_lines)
    }

    async fn stop(self) {
        self.stack.stop().await;
        if let Some(dir) = self.data_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn temp_dir() -> Result<PathBuf, String> {
    static RUN: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "hookline-bench-{}-{}",
        std::process::id(),
        RUN.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

fn journal_lines(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .filter_map(Result::ok)
        .filter(|entry| {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            name.starts_with("journal") && name.ends_with(".jsonl")
        })
        .filter_map(|entry| std::fs::read(entry.path()).ok())
        .map(|bytes| bytes.iter().filter(|b| **b == b'\n').count() as u64)
        .sum()
}

/// What one closed-loop run measured.
#[derive(Debug, Clone, Copy, Default)]
struct LoadRun {
    accepted_per_s: f64,
    delivered_per_s: f64,
    p50: f64,
    p95: f64,
    p99: f64,
    lost: u64,
    doubled: u64,
    refused: u64,
    cpu_ms_per_delivery: f64,
    peak_rss_mib: f64,
    writes_per_message: f64,
}

/// How many messages are sent, and delivered, before measuring starts.
const WARM_UP: u64 = 20;

/// `senders` senders, each sending its next message as soon as the last was accepted, for
/// `duration`; then waits until every accepted message was delivered.
async fn closed_loop(setup: Setup, senders: usize, duration: Duration) -> Result<LoadRun, String> {
    let bench = Arc::new(Bench::start(setup).await?);
    for n in 0..WARM_UP {
        bench.send(n).await?;
    }
    bench.receiver.wait_for(WARM_UP as usize, Duration::from_secs(10)).await;
    let lines_before = bench.journal_lines();
    let cpu_before = bench.stack.cpu_time();
    let next = Arc::new(AtomicU64::new(WARM_UP));
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..senders {
        let (bench, next) = (bench.clone(), next.clone());
        tasks.spawn(async move {
            let (mut accepted, mut refused) = (Vec::new(), 0u64);
            while Instant::now() < deadline {
                let n = next.fetch_add(1, Ordering::Relaxed);
                match bench.send(n).await {
                    Ok(()) => accepted.push(n),
                    Err(_) => refused += 1,
                }
            }
            (accepted, refused)
        });
    }
    let (mut accepted, mut refused) = (HashSet::new(), 0);
    while let Some(done) = tasks.join_next().await {
        let (numbers, failed) = done.map_err(|e| e.to_string())?;
        accepted.extend(numbers);
        refused += failed;
    }
    let sending = started.elapsed();
    let expected = WARM_UP as usize + accepted.len();
    bench.receiver.wait_for(expected, Duration::from_secs(10)).await;
    let cpu = bench.stack.cpu_time().saturating_sub(cpu_before);
    let arrivals: Vec<_> = bench.receiver.arrivals().into_iter().filter(|a| a.number >= WARM_UP).collect();
    let delivered: HashSet<u64> = arrivals.iter().map(|a| a.number).collect();
    let last = arrivals.iter().map(|a| a.at).max().unwrap_or(started);
    let latencies: Vec<f64> = arrivals.iter().map(|a| a.latency_ms).collect();
    let count = delivered.len() as f64;
    let writes = match (lines_before, bench.journal_lines()) {
        (Some(before), Some(after)) if !accepted.is_empty() => (after - before) as f64 / accepted.len() as f64,
        _ => f64::NAN,
    };
    let run = LoadRun {
        accepted_per_s: accepted.len() as f64 / sending.as_secs_f64(),
        delivered_per_s: count / (last - started).as_secs_f64().max(f64::EPSILON),
        p50: percentile(&latencies, 50.0),
        p95: percentile(&latencies, 95.0),
        p99: percentile(&latencies, 99.0),
        lost: accepted.difference(&delivered).count() as u64,
        doubled: (arrivals.len() - delivered.len()) as u64,
        refused,
        cpu_ms_per_delivery: cpu.as_secs_f64() * 1000.0 / count.max(1.0),
        peak_rss_mib: bench.stack.peak_rss_mib(),
        writes_per_message: writes,
    };
    if let Ok(bench) = Arc::try_unwrap(bench) {
        bench.stop().await;
    }
    Ok(run)
}

/// The medians of the runs' figures; lost, doubled and refused are the worst run's.
fn summarize(runs: &[LoadRun]) -> LoadRun {
    let of = |f: fn(&LoadRun) -> f64| median(&runs.iter().map(f).collect::<Vec<_>>());
    let worst = |f: fn(&LoadRun) -> u64| runs.iter().map(f).max().unwrap_or(0);
    LoadRun {
        accepted_per_s: of(|r| r.accepted_per_s),
        delivered_per_s: of(|r| r.delivered_per_s),
        p50: of(|r| r.p50),
        p95: of(|r| r.p95),
        p99: of(|r| r.p99),
        lost: worst(|r| r.lost),
        doubled: worst(|r| r.doubled),
        refused: worst(|r| r.refused),
        cpu_ms_per_delivery: of(|r| r.cpu_ms_per_delivery),
        peak_rss_mib: of(|r| r.peak_rss_mib),
        writes_per_message: of(|r| r.writes_per_message),
    }
}

/// Scenarios 1 and 4: closed loops of 1–256 senders, in memory and with `--data-dir`, with a
/// bot that does not reply and one that replies (its reply stored as a message).
pub async fn closed_loops(scale: &Scale) -> Result<Vec<Table>, String> {
    let duration = scale.pick(Duration::from_secs(5), Duration::from_millis(300));
    let senders: &[usize] = scale.pick(&[1, 8, 32, 64, 256], &[1, 8]);
    let mut plan = Vec::new();
    for storage in [Storage::Memory, Storage::DataDir] {
        for &n in senders {
            plan.push((storage, Answer::Quiet, n));
        }
        plan.push((storage, Answer::Reply, scale.pick(32, 8)));
    }
    let mut table = Table::new(
        "1. Closed loop: senders each send their next mention once the last is accepted",
        format!(
            "{} s of sending per run, after {WARM_UP} warm-up messages; send → POST is from just before the \
             send request to the bot's POST arriving; delivered/s counts distinct POSTs until the last one; CPU \
             and peak RSS are the stack process's (`/proc/<pid>/stat`, `VmHWM`); store writes are the lines \
             appended to the store's journal per accepted message (no compaction during a run). Lost, doubled and refused are the \
             worst run's.",
            duration.as_secs_f64()
        ),
        &[
            "state",
            "bot",
            "senders",
            "accepted/s",
            "delivered/s",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "lost",
            "doubled",
            "refused",
            "CPU ms/delivery",
            "peak RSS MiB",
            "store writes/msg",
        ],
    );
    for (storage, answer, senders) in plan {
        let setup = Setup { storage, answer, concurrency: None };
        let mut runs = Vec::new();
        for _ in 0..scale.repeats {
            runs.push(closed_loop(setup, senders, duration).await?);
        }
        let r = summarize(&runs);
        table.row(vec![
            storage.label().into(),
            if answer == Answer::Reply { "replies".into() } else { "no reply".into() },
            senders.to_string(),
            whole(r.accepted_per_s),
            whole(r.delivered_per_s),
            ms(r.p50),
            ms(r.p95),
            ms(r.p99),
            r.lost.to_string(),
            r.doubled.to_string(),
            r.refused.to_string(),
            format!("{:.3}", r.cpu_ms_per_delivery),
            format!("{:.1}", r.peak_rss_mib),
            if r.writes_per_message.is_nan() { "–".into() } else { format!("{:.2}", r.writes_per_message) },
        ]);
    }
    Ok(vec![table])
}

/// Scenario 2: an open loop, a message every 50 ms whatever the answers do.
pub async fn open_loop(scale: &Scale) -> Result<Vec<Table>, String> {
    let duration = scale.pick(Duration::from_secs(10), Duration::from_secs(1));
    let mut table = Table::new(
        "2. Open loop: 20 messages a second",
        format!("{} s per run; send → POST as in 1.", duration.as_secs_f64()),
        &["state", "messages", "p50 ms", "p95 ms", "p99 ms", "lost"],
    );
    for storage in [Storage::Memory, Storage::DataDir] {
        let mut runs = Vec::new();
        for _ in 0..scale.repeats {
            runs.push(open_loop_run(storage, duration).await?);
        }
        let of = |i: usize| median(&runs.iter().map(|r: &[f64; 5]| r[i]).collect::<Vec<_>>());
        let lost = runs.iter().map(|r| r[4]).fold(0.0, f64::max);
        table.row(vec![storage.label().into(), whole(of(0)), ms(of(1)), ms(of(2)), ms(of(3)), whole(lost)]);
    }
    Ok(vec![table])
}

/// One open-loop run: messages sent, p50, p95, p99, lost.
async fn open_loop_run(storage: Storage, duration: Duration) -> Result<[f64; 5], String> {
    let bench = Arc::new(Bench::start(Setup { storage, answer: Answer::Quiet, concurrency: None }).await?);
    for n in 0..WARM_UP {
        bench.send(n).await?;
    }
    bench.receiver.wait_for(WARM_UP as usize, Duration::from_secs(10)).await;
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    let mut sends = tokio::task::JoinSet::new();
    let count = (duration.as_millis() / 50) as u64;
    for n in WARM_UP..WARM_UP + count {
        tick.tick().await;
        let bench = bench.clone();
        sends.spawn(async move { bench.send(n).await });
    }
    while let Some(sent) = sends.join_next().await {
        sent.map_err(|e| e.to_string())??;
    }
    bench.receiver.wait_for((WARM_UP + count) as usize, Duration::from_secs(10)).await;
    let arrivals: Vec<_> = bench.receiver.arrivals().into_iter().filter(|a| a.number >= WARM_UP).collect();
    let latencies: Vec<f64> = arrivals.iter().map(|a| a.latency_ms).collect();
    let delivered: HashSet<u64> = arrivals.iter().map(|a| a.number).collect();
    let result = [
        count as f64,
        percentile(&latencies, 50.0),
        percentile(&latencies, 95.0),
        percentile(&latencies, 99.0),
        count.saturating_sub(delivered.len() as u64) as f64,
    ];
    if let Ok(bench) = Arc::try_unwrap(bench) {
        bench.stop().await;
    }
    Ok(result)
}

/// How long the slow bots take to answer.
const SLOW_BOT: Duration = Duration::from_millis(200);

/// Scenario 3: many mentions at once to a bot that takes 200 ms to answer, against the same
/// bot's mentions handled one at a time (Zulip's outgoing-webhook worker handles one event at
/// a time).
pub async fn burst(scale: &Scale) -> Result<Vec<Table>, String> {
    let at_once = scale.pick(100, 10);
    let one_by_one = scale.pick(10, 2);
    let mut table = Table::new(
        format!("3. {at_once} mentions at once to a bot that answers after 200 ms"),
        format!(
            "All delivered: from the first send until the bot has answered the last POST, for the second of two \
             bursts on the same stack (the first warms connections and caches). One at a time: \
             {one_by_one} mentions, each sent once the bot answered the one before, scaled to {at_once} \
             (what a worker that handles one job at a time takes). The stack's default delivery concurrency."
        ),
        &[
            "state",
            "all delivered ms",
            "one at a time, per job ms",
            &format!("one at a time, {at_once} jobs ms"),
            "ratio",
        ],
    );
    for storage in [Storage::Memory, Storage::DataDir] {
        let mut concurrent = Vec::new();
        let mut serial = Vec::new();
        for _ in 0..scale.repeats {
            let (all, each) = burst_run(storage, at_once, one_by_one).await?;
            concurrent.push(all);
            serial.push(each);
        }
        let (all, each) = (median(&concurrent), median(&serial));
        let scaled = each * at_once as f64;
        table.row(vec![storage.label().into(), ms(all), ms(each), ms(scaled), format!("{:.1}×", scaled / all)]);
    }
    Ok(vec![table])
}

/// One burst run: (ms until all `at_once` were answered, ms per job one at a time). A first
/// burst, not measured, warms what a busy stack has warm: connections from the senders and to
/// the bot, and the realm's directory.
async fn burst_run(storage: Storage, at_once: u64, one_by_one: u64) -> Result<(f64, f64), String> {
    let bench = Arc::new(Bench::start(Setup { storage, answer: Answer::After(SLOW_BOT), concurrency: None }).await?);
    one_burst(&bench, 0, at_once).await?;
    let all = one_burst(&bench, at_once, at_once).await?;
    let answered = 2 * at_once as usize;
    let serial_started = Instant::now();
    for (i, n) in (2 * at_once..2 * at_once + one_by_one).enumerate() {
        bench.send(n).await?;
        bench.receiver.wait_for(answered + i + 1, Duration::from_secs(10)).await;
    }
    let each = serial_started.elapsed() / u32::try_from(one_by_one).unwrap_or(1);
    if let Ok(bench) = Arc::try_unwrap(bench) {
        bench.stop().await;
    }
    Ok((all.as_secs_f64() * 1000.0, each.as_secs_f64() * 1000.0))
}

/// Sends messages `first..first + count` at once and returns how long until the bot had
/// answered them all.
async fn one_burst(bench: &Arc<Bench>, first: u64, count: u64) -> Result<Duration, String> {
    let started = Instant::now();
    let mut sends = tokio::task::JoinSet::new();
    for n in first..first + count {
        let bench = bench.clone();
        sends.spawn(async move { bench.send(n).await });
    }
    while let Some(sent) = sends.join_next().await {
        sent.map_err(|e| e.to_string())??;
    }
    bench.receiver.wait_for((first + count) as usize, Duration::from_secs(30)).await;
    let arrivals = bench.receiver.arrivals();
    let burst: Vec<_> = arrivals.iter().filter(|a| (first..first + count).contains(&a.number)).collect();
    if burst.len() as u64 != count {
        return Err(format!("{} of {count} mentions were delivered", burst.len()));
    }
    Ok(burst.iter().map(|a| a.answered).max().unwrap_or(started) - started)
}
