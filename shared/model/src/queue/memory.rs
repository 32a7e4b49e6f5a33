//! An in-process queue with SQS's semantics, for the local stack and fast tests: a received
//! job is invisible for the visibility timeout, comes back unless deleted, counts its
//! receives, and moves to the dead-letter list when received more than `max_receives` times.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;

use super::{DeliveryQueue, MAX_BATCH, MAX_VISIBILITY, QueueError, ReceivedJob, job_body};
use crate::clock::{Clock, Millis};
use crate::delivery::QueueJob;

#[derive(Debug, Clone)]
struct Entry {
    message_id: String,
    body: String,
    receive_count: u32,
    visible_at: Millis,
    /// The receipt of the latest receive; older receipts are stale.
    receipt: Option<String>,
}

/// A job as the durable queue keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredJob {
    pub message_id: String,
    pub body: String,
    pub visible_at: Millis,
}

#[derive(Debug, Default)]
struct State {
    next_id: u64,
    entries: VecDeque<Entry>,
    dead: VecDeque<Entry>,
}

pub struct MemoryQueue {
    clock: Arc<dyn Clock>,
    visibility: Duration,
    max_receives: u32,
    state: Mutex<State>,
    arrived: Notify,
}

impl MemoryQueue {
    #[must_use]
    pub fn new(clock: Arc<dyn Clock>, visibility: Duration, max_receives: u32) -> Self {
        Self { clock, visibility, max_receives, state: Mutex::new(State::default()), arrived: Notify::new() }
    }

    /// A queue holding `jobs` (visible from their `visible_at` on) and `dead` letters, whose
    /// ids so far are below `next_id`: the durable queue's state after a restart.
    pub(crate) fn restore(
        clock: Arc<dyn Clock>,
        visibility: Duration,
        max_receives: u32,
        jobs: Vec<StoredJob>,
        dead: Vec<StoredJob>,
        next_id: u64,
    ) -> Self {
        let entry = |job: StoredJob| Entry {
            message_id: job.message_id,
            body: job.body,
            receive_count: 0,
            visible_at: job.visible_at,
            receipt: None,
        };
        let state = State {
            next_id,
            entries: jobs.into_iter().map(entry).collect(),
            dead: dead.into_iter().map(entry).collect(),
        };
        Self { clock, visibility, max_receives, state: Mutex::new(state), arrived: Notify::new() }
    }

    /// Puts a raw body on the queue (tests use it for malformed jobs).
    pub fn send_raw(&self, body: String) {
        let id = self.new_ids(1).remove(0);
        self.push(id, body);
    }

    /// `n` fresh message ids, as `local-<number>` with growing numbers.
    pub(crate) fn new_ids(&self, n: usize) -> Vec<String> {
        let mut state = self.lock();
        (0..n)
            .map(|_| {
                state.next_id += 1;
                format!("local-{}", state.next_id)
            })
            .collect()
    }

    /// Makes a job visible now under `message_id` (from [`Self::new_ids`]).
    pub(crate) fn push(&self, message_id: String, body: String) {
        let now = self.clock.now();
        self.lock().entries.push_back(Entry { message_id, body, receive_count: 0, visible_at: now, receipt: None });
        self.arrived.notify_waiters();
    }

    /// Every job on the queue and every dead letter, in order.
    pub(crate) fn stored(&self) -> (Vec<StoredJob>, Vec<StoredJob>) {
        let state = self.lock();
        let stored =
            |e: &Entry| StoredJob { message_id: e.message_id.clone(), body: e.body.clone(), visible_at: e.visible_at };
        (state.entries.iter().map(stored).collect(), state.dead.iter().map(stored).collect())
    }

    /// As [`DeliveryQueue::receive`], and the ids of the jobs this receive dead-lettered.
    pub(crate) async fn receive_noting_dead(&self, max: usize, wait: Duration) -> (Vec<ReceivedJob>, Vec<String>) {
        let max = max.clamp(1, MAX_BATCH);
        let deadline = tokio::time::Instant::now() + wait;
        let mut dead = Vec::new();
        loop {
            let arrived = self.arrived.notified();
            let received = self.take_visible(max, &mut dead);
            if !received.is_empty() || tokio::time::Instant::now() >= deadline {
                return (received, dead);
            }
            // Wake on a new job, or re-check soon for jobs whose visibility ran out.
            let tick = deadline.min(tokio::time::Instant::now() + Duration::from_millis(50));
            let _ = tokio::time::timeout_at(tick, arrived).await;
        }
    }

    /// Deletes the job `receipt_handle` names; returns its message id.
    pub(crate) fn remove(&self, receipt_handle: &str) -> Result<String, QueueError> {
        let mut state = self.lock();
        let index = state
            .entries
            .iter()
            .position(|e| e.receipt.as_deref() == Some(receipt_handle))
            .ok_or(QueueError::StaleReceipt)?;
        Ok(state.entries.remove(index).map(|e| e.message_id).unwrap_or_default())
    }

    /// Sets when the job `receipt_handle` names is visible again; returns its id and that time.
    pub(crate) fn set_visibility(
        &self,
        receipt_handle: &str,
        timeout: Duration,
    ) -> Result<(String, Millis), QueueError> {
        let now = self.clock.now();
        let mut state = self.lock();
        let entry = state
            .entries
            .iter_mut()
            .find(|e| e.receipt.as_deref() == Some(receipt_handle))
            .ok_or(QueueError::StaleReceipt)?;
        entry.visible_at = now + millis(timeout.min(MAX_VISIBILITY));
        let changed = (entry.message_id.clone(), entry.visible_at);
        drop(state);
        self.arrived.notify_waiters();
        Ok(changed)
    }

    /// Jobs on the queue, visible or not (not the dead letters).
    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn take_visible(&self, max: usize, dead_lettered: &mut Vec<String>) -> Vec<ReceivedJob> {
        let now = self.clock.now();
        let mut state = self.lock();
        let mut received = Vec::new();
        let mut index = 0;
        while index < state.entries.len() && received.len() < max {
            if state.entries[index].visible_at > now {
                index += 1;
                continue;
            }
            if state.entries[index].receive_count >= self.max_receives {
                // As SQS's redrive policy does: past the limit, a receive moves the job.
                if let Some(mut dead) = state.entries.remove(index) {
                    dead.receipt = None;
                    dead_lettered.push(dead.message_id.clone());
                    state.dead.push_back(dead);
                }
                continue;
            }
            state.next_id += 1;
            let receipt = format!("{}:{}", state.entries[index].message_id, state.next_id);
            let entry = &mut state.entries[index];
            entry.receive_count += 1;
            entry.visible_at = now + millis(self.visibility);
            entry.receipt = Some(receipt.clone());
            received.push(ReceivedJob {
                message_id: entry.message_id.clone(),
                receipt_handle: receipt,
                body: entry.body.clone(),
                receive_count: entry.receive_count,
            });
            index += 1;
        }
        received
    }
}

fn millis(d: Duration) -> Millis {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[async_trait]
impl DeliveryQueue for MemoryQueue {
    async fn enqueue(&self, jobs: &[QueueJob]) -> Result<(), QueueError> {
        for job in jobs {
            self.send_raw(job_body(job));
        }
        Ok(())
    }

    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<ReceivedJob>, QueueError> {
        Ok(self.receive_noting_dead(max, wait).await.0)
    }

    async fn delete(&self, receipt_handle: &str) -> Result<(), QueueError> {
        self.remove(receipt_handle).map(drop)
    }

    async fn change_visibility(&self, receipt_handle: &str, timeout: Duration) -> Result<(), QueueError> {
        self.set_visibility(receipt_handle, timeout).map(drop)
    }

    async fn receive_dead_letters(&self, max: usize) -> Result<Vec<ReceivedJob>, QueueError> {
        let state = self.lock();
        Ok(state
            .dead
            .iter()
            .take(max)
            .map(|e| ReceivedJob {
                message_id: e.message_id.clone(),
                receipt_handle: String::new(),
                body: e.body.clone(),
                receive_count: e.receive_count,
            })
            .collect())
    }
}
