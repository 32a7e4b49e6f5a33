//! The in-process queue made durable, for the local stack's `--data-dir`: a [`MemoryQueue`]
//! whose changes are appended to `queue.jsonl`. A job is on the journal, fsynced, before
//! `enqueue` returns (concurrent enqueues share an fsync), so an acknowledged trigger survives
//! a `kill -9`. Receivers may take it as soon as it is appended: the send path clears the
//! message's outbox entry only once `enqueue` has returned, so until then a crash leaves the
//! entry, and the sweep enqueues the job again. Deletes, visibility changes and dead-lettering are appended without an fsync:
//! losing one to a power cut only brings a job back, which the worker's lease and reply guard
//! make harmless.
//!
//! After a restart every job is visible (its receiver is gone) unless a visibility change
//! put it off (a retry's backoff); receive counts start again from zero. The journal is
//! rewritten to just the jobs still queued on open and whenever it holds mostly finished
//! jobs: the new content goes to a temporary file, is fsynced and renamed over the journal.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::memory::{MemoryQueue, StoredJob};
use super::{DeliveryQueue, QueueError, ReceivedJob, job_body};
use crate::clock::{Clock, Millis};
use crate::delivery::QueueJob;

const JOURNAL: &str = "queue.jsonl";
const JOURNAL_TEMP: &str = "queue.jsonl.tmp";
/// The journal is rewritten once it holds this many lines more than it did when last
/// rewritten, and four times as many as there are jobs queued.
const REWRITE_AFTER_LINES: u64 = 4096;

/// One line of the journal.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Change {
    Sent { id: String, body: String },
    Deleted { id: String },
    Visible { id: String, at: Millis },
    Dead { id: String },
}

struct Journal {
    file: File,
    /// Lines appended since the journal was last rewritten.
    lines: u64,
    /// Enqueues appended so far, and those appended but not yet on the queue (the journal
    /// is rewritten only when there are none, so a rewrite never misses a job).
    enqueues: u64,
    in_flight: u64,
    /// Set when a job could not be made durable: enqueueing is refused from then on.
    broken: bool,
}

pub struct JournalQueue {
    inner: MemoryQueue,
    journal: Mutex<Journal>,
    /// Enqueues known durable. One enqueuer at a time fsyncs, for every enqueue appended so
    /// far, so concurrent enqueuers share an fsync (group commit).
    synced: tokio::sync::Mutex<u64>,
    dir: PathBuf,
    rewrite_after_lines: u64,
}

/// The queue a journal describes, by message number (the order jobs were sent in).
#[derive(Default)]
struct Replayed {
    jobs: BTreeMap<u64, StoredJob>,
    dead: BTreeMap<u64, StoredJob>,
    last_number: u64,
}

fn number(id: &str) -> u64 {
    id.rsplit('-').next().and_then(|n| n.parse().ok()).unwrap_or(0)
}

impl Replayed {
    fn apply(&mut self, change: Change) {
        match change {
            Change::Sent { id, body } => {
                let n = number(&id);
                self.last_number = self.last_number.max(n);
                self.jobs.insert(n, StoredJob { message_id: id, body, visible_at: 0 });
            }
            Change::Deleted { id } => {
                self.jobs.remove(&number(&id));
            }
            Change::Visible { id, at } => {
                if let Some(job) = self.jobs.get_mut(&number(&id)) {
                    job.visible_at = at;
                }
            }
            Change::Dead { id } => {
                if let Some(job) = self.jobs.remove(&number(&id)) {
                    self.dead.insert(number(&id), job);
                }
            }
        }
    }
}

impl JournalQueue {
    /// Opens (or creates) the queue journal in `dir`, with SQS's visibility timeout and
    /// receive limit as [`MemoryQueue::new`] takes them.
    pub fn open(
        dir: &Path,
        clock: Arc<dyn Clock>,
        visibility: Duration,
        max_receives: u32,
    ) -> Result<Self, QueueError> {
        std::fs::create_dir_all(dir).map_err(io)?;
        let mut replayed = Replayed::default();
        match File::open(dir.join(JOURNAL)) {
            Ok(file) => {
                for line in BufReader::new(file).split(b'\n') {
                    // A line torn by a crash (or the torn rest of the file) was never acknowledged.
                    let Ok(change) = serde_json::from_slice::<Change>(&line.map_err(io)?) else { break };
                    replayed.apply(change);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(e)),
        }
        let inner = MemoryQueue::restore(
            clock,
            visibility,
            max_receives,
            replayed.jobs.into_values().collect(),
            replayed.dead.into_values().collect(),
            replayed.last_number,
        );
        let file = rewrite(dir, &inner)?;
        let journal = Mutex::new(Journal { file, lines: 0, enqueues: 0, in_flight: 0, broken: false });
        let synced = tokio::sync::Mutex::new(0);
        Ok(Self { inner, journal, synced, dir: dir.to_owned(), rewrite_after_lines: REWRITE_AFTER_LINES })
    }

    /// Jobs on the queue, visible or not (not the dead letters).
    #[must_use]
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Journal> {
        self.journal.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Appends `changes` (not yet durable).
    fn append(&self, journal: &mut Journal, changes: &[Change]) -> Result<(), QueueError> {
        let mut text = Vec::new();
        for change in changes {
            serde_json::to_writer(&mut text, change).map_err(|e| QueueError::Backend(e.to_string()))?;
            text.push(b'\n');
        }
        journal.file.write_all(&text).map_err(io)?;
        journal.lines += changes.len() as u64;
        if journal.in_flight == 0
            && journal.lines > self.rewrite_after_lines
            && journal.lines > 4 * self.inner.len() as u64
        {
            match rewrite(&self.dir, &self.inner) {
                Ok(file) => {
                    journal.file = file;
                    journal.lines = 0;
                }
                Err(e) => tracing::warn!(error = %e, "queue journal could not be rewritten"),
            }
        }
        Ok(())
    }

    /// Returns once enqueue `seq` is durable: fsyncs the journal for every enqueue appended so
    /// far, unless an fsync made while this one waited already covered it.
    async fn make_durable(&self, seq: u64) -> Result<(), QueueError> {
        let mut synced = self.synced.lock().await;
        if *synced >= seq {
            return Ok(());
        }
        let appended = self.lock().enqueues;
        // By path: an fsync of any handle on the file makes every write to it durable. On a
        // blocking thread, so the runtime's workers go on meanwhile.
        let path = self.dir.join(JOURNAL);
        tokio::task::spawn_blocking(move || File::open(path).and_then(|f| f.sync_data()))
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)))
            .map_err(io)?;
        *synced = appended;
        Ok(())
    }

    /// Appends a change that only brings jobs back if lost; a failure is logged, not returned.
    fn note(&self, changes: &[Change]) {
        if changes.is_empty() {
            return;
        }
        let mut journal = self.lock();
        if let Err(e) = self.append(&mut journal, changes) {
            tracing::warn!(error = %e, "queue journal: a finished job may come back after a restart");
        }
    }
}

/// Writes the journal afresh from `queue`'s jobs: to a temporary file, fsynced, then renamed
/// over the journal, the directory fsynced. Returns the new journal, open for appending.
fn rewrite(dir: &Path, queue: &MemoryQueue) -> Result<File, QueueError> {
    let (jobs, dead) = queue.stored();
    let temp = dir.join(JOURNAL_TEMP);
    let mut out = std::io::BufWriter::new(File::create(&temp).map_err(io)?);
    for job in jobs.iter().chain(&dead) {
        let sent = Change::Sent { id: job.message_id.clone(), body: job.body.clone() };
        serde_json::to_writer(&mut out, &sent).map_err(|e| QueueError::Backend(e.to_string()))?;
        out.write_all(b"\n").map_err(io)?;
    }
    for job in &jobs {
        let visible = Change::Visible { id: job.message_id.clone(), at: job.visible_at };
        serde_json::to_writer(&mut out, &visible).map_err(|e| QueueError::Backend(e.to_string()))?;
        out.write_all(b"\n").map_err(io)?;
    }
    for job in &dead {
        serde_json::to_writer(&mut out, &Change::Dead { id: job.message_id.clone() })
            .map_err(|e| QueueError::Backend(e.to_string()))?;
        out.write_all(b"\n").map_err(io)?;
    }
    out.into_inner().map_err(|e| io(e.into_error()))?.sync_all().map_err(io)?;
    std::fs::rename(&temp, dir.join(JOURNAL)).map_err(io)?;
    File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
    OpenOptions::new().append(true).open(dir.join(JOURNAL)).map_err(io)
}

fn io(e: std::io::Error) -> QueueError {
    QueueError::Backend(format!("queue journal: {e}"))
}

#[async_trait]
impl DeliveryQueue for JournalQueue {
    async fn enqueue(&self, jobs: &[QueueJob]) -> Result<(), QueueError> {
        if jobs.is_empty() {
            return Ok(());
        }
        let ids = self.inner.new_ids(jobs.len());
        let sent: Vec<Change> =
            ids.iter().zip(jobs).map(|(id, job)| Change::Sent { id: id.clone(), body: job_body(job) }).collect();
        let seq = {
            let mut journal = self.lock();
            if journal.broken {
                return Err(QueueError::Backend("the queue journal could not be written; restart to recover".into()));
            }
            if let Err(e) = self.append(&mut journal, &sent) {
                journal.broken = true;
                return Err(e);
            }
            // Receivers may take the jobs before the fsync: the caller keeps what would bring
            // them back after a crash (the outbox entry) until this returns.
            for change in sent {
                if let Change::Sent { id, body } = change {
                    self.inner.push(id, body);
                }
            }
            journal.enqueues += 1;
            journal.in_flight += 1;
            journal.enqueues
        };
        let durable = self.make_durable(seq).await;
        let mut journal = self.lock();
        journal.in_flight -= 1;
        if let Err(e) = durable {
            journal.broken = true;
            return Err(e);
        }
        Ok(())
    }

    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<ReceivedJob>, QueueError> {
        let (received, dead) = self.inner.receive_noting_dead(max, wait).await;
        self.note(&dead.into_iter().map(|id| Change::Dead { id }).collect::<Vec<_>>());
        Ok(received)
    }

    async fn delete(&self, receipt_handle: &str) -> Result<(), QueueError> {
        let id = self.inner.remove(receipt_handle)?;
        self.note(&[Change::Deleted { id }]);
        Ok(())
    }

    async fn change_visibility(&self, receipt_handle: &str, timeout: Duration) -> Result<(), QueueError> {
        let (id, at) = self.inner.set_visibility(receipt_handle, timeout)?;
        self.note(&[Change::Visible { id, at }]);
        Ok(())
    }

    async fn receive_dead_letters(&self, max: usize) -> Result<Vec<ReceivedJob>, QueueError> {
        self.inner.receive_dead_letters(max).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ManualClock;
    use crate::delivery::{DeliveryJob, Trigger};

    fn dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("hookline-queue-{}-{}", std::process::id(), rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn job(message_id: u64) -> QueueJob {
        QueueJob::Deliver(DeliveryJob { realm_id: 1, message_id, bot_id: 2, trigger: Trigger::Mention, redelivery: 0 })
    }

    fn open(dir: &Path, clock: &Arc<ManualClock>) -> JournalQueue {
        JournalQueue::open(dir, clock.clone(), Duration::from_secs(30), 3).unwrap()
    }

    fn messages(received: &[ReceivedJob]) -> Vec<u64> {
        received
            .iter()
            .map(|r| match r.job().unwrap() {
                QueueJob::Deliver(job) => job.message_id,
                QueueJob::FanOut { message_id, .. } => message_id,
            })
            .collect()
    }

    #[tokio::test]
    async fn enqueued_jobs_survive_a_restart_and_come_back_visible_in_order() {
        let dir = dir();
        let clock = Arc::new(ManualClock::at(1_000));
        let queue = open(&dir, &clock);
        queue.enqueue(&[job(1), job(2), job(3)]).await.unwrap();
        // One finished, one being worked on when the process dies, one never received
        let received = queue.receive(2, Duration::ZERO).await.unwrap();
        queue.delete(&received[0].receipt_handle).await.unwrap();
        drop(queue);

        let reopened = open(&dir, &clock);
        let again = reopened.receive(10, Duration::ZERO).await.unwrap();
        assert_eq!(messages(&again), [2, 3]);
        // Ids stay unique across restarts
        reopened.enqueue(&[job(4)]).await.unwrap();
        let fourth = reopened.receive(10, Duration::ZERO).await.unwrap();
        assert_eq!(messages(&fourth), [4]);
        assert!(again.iter().all(|r| r.message_id != fourth[0].message_id));
    }

    #[tokio::test]
    async fn a_backoff_survives_a_restart_and_dead_letters_stay_dead() {
        let dir = dir();
        let clock = Arc::new(ManualClock::at(1_000));
        let queue = open(&dir, &clock);
        queue.enqueue(&[job(1), job(2)]).await.unwrap();
        let received = queue.receive(10, Duration::ZERO).await.unwrap();
        let backing_off = received.iter().find(|r| messages(std::slice::from_ref(r)) == [1]).unwrap();
        queue.change_visibility(&backing_off.receipt_handle, Duration::from_secs(600)).await.unwrap();
        // Job 2 is received until it dead-letters (3 receives allowed)
        for _ in 0..3 {
            clock.advance(30_000);
            queue.receive(10, Duration::ZERO).await.unwrap();
        }
        assert_eq!(messages(&queue.receive_dead_letters(10).await.unwrap()), [2]);
        drop(queue);

        let reopened = open(&dir, &clock);
        assert!(reopened.receive(10, Duration::ZERO).await.unwrap().is_empty(), "job 1 is still backing off");
        assert_eq!(messages(&reopened.receive_dead_letters(10).await.unwrap()), [2]);
        clock.advance(600_000);
        assert_eq!(messages(&reopened.receive(10, Duration::ZERO).await.unwrap()), [1]);
    }

    #[tokio::test]
    async fn a_torn_last_line_is_dropped_and_the_journal_is_rewritten_small() {
        let dir = dir();
        let clock = Arc::new(ManualClock::at(1_000));
        let queue = open(&dir, &clock);
        for i in 0..20 {
            queue.enqueue(&[job(i)]).await.unwrap();
            let received = queue.receive(1, Duration::ZERO).await.unwrap();
            queue.delete(&received[0].receipt_handle).await.unwrap();
        }
        queue.enqueue(&[job(9_999)]).await.unwrap();
        drop(queue);
        let mut file = OpenOptions::new().append(true).open(dir.join(JOURNAL)).unwrap();
        file.write_all(br#"{"op":"sent","id":"local-99999","bo"#).unwrap();
        drop(file);

        let reopened = open(&dir, &clock);
        assert_eq!(messages(&reopened.receive(10, Duration::ZERO).await.unwrap()), [9_999]);
        // Reopening rewrote the journal to the one job left
        let lines = std::fs::read_to_string(dir.join(JOURNAL)).unwrap().lines().count();
        assert_eq!(lines, 2, "one job: its line and its visibility");
    }

    #[tokio::test]
    async fn the_journal_is_rewritten_while_running_once_it_holds_mostly_finished_jobs() {
        let dir = dir();
        let clock = Arc::new(ManualClock::at(1_000));
        let mut queue = open(&dir, &clock);
        queue.rewrite_after_lines = 100;
        queue.enqueue(&[job(0)]).await.unwrap();
        for i in 1..500 {
            queue.enqueue(&[job(i)]).await.unwrap();
            let received = queue.receive(1, Duration::ZERO).await.unwrap();
            queue.delete(&received[0].receipt_handle).await.unwrap();
        }
        let lines = std::fs::read_to_string(dir.join(JOURNAL)).unwrap().lines().count() as u64;
        assert!(lines <= 100 + 4, "{lines} lines");
        drop(queue);
        let reopened = open(&dir, &clock);
        assert_eq!(messages(&reopened.receive(10, Duration::ZERO).await.unwrap()), [499]);
    }
}
