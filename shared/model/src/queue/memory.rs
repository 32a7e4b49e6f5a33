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

    /// Puts a raw body on the queue (tests use it for malformed jobs).
    pub fn send_raw(&self, body: String) {
        let now = self.clock.now();
        let mut state = self.lock();
        state.next_id += 1;
        let message_id = format!("local-{}", state.next_id);
        state.entries.push_back(Entry { message_id, body, receive_count: 0, visible_at: now, receipt: None });
        drop(state);
        self.arrived.notify_waiters();
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

    fn take_visible(&self, max: usize) -> Vec<ReceivedJob> {
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
        let max = max.clamp(1, MAX_BATCH);
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let arrived = self.arrived.notified();
            let received = self.take_visible(max);
            if !received.is_empty() || tokio::time::Instant::now() >= deadline {
                return Ok(received);
            }
            // Wake on a new job, or re-check soon for jobs whose visibility ran out.
            let tick = deadline.min(tokio::time::Instant::now() + Duration::from_millis(50));
            let _ = tokio::time::timeout_at(tick, arrived).await;
        }
    }

    async fn delete(&self, receipt_handle: &str) -> Result<(), QueueError> {
        let mut state = self.lock();
        let index = state
            .entries
            .iter()
            .position(|e| e.receipt.as_deref() == Some(receipt_handle))
            .ok_or(QueueError::StaleReceipt)?;
        state.entries.remove(index);
        Ok(())
    }

    async fn change_visibility(&self, receipt_handle: &str, timeout: Duration) -> Result<(), QueueError> {
        let now = self.clock.now();
        let mut state = self.lock();
        let entry = state
            .entries
            .iter_mut()
            .find(|e| e.receipt.as_deref() == Some(receipt_handle))
            .ok_or(QueueError::StaleReceipt)?;
        entry.visible_at = now + millis(timeout.min(MAX_VISIBILITY));
        drop(state);
        self.arrived.notify_waiters();
        Ok(())
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
