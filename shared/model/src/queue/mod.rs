//! The delivery-queue port: [`sqs::SqsQueue`] in AWS, [`memory::MemoryQueue`] in-process with
//! SQS's semantics (visibility timeout, receive count, change-visibility, dead-letter after N
//! receives), and [`journal::JournalQueue`], the in-process queue made durable. All pass the
//! same contract suite.

pub mod journal;
pub mod memory;
pub mod sqs;

use std::time::Duration;

use async_trait::async_trait;

use crate::delivery::QueueJob;

/// SQS's longest visibility timeout: 12 hours.
pub const MAX_VISIBILITY: Duration = Duration::from_secs(12 * 60 * 60);

/// SQS's `SendMessageBatch` limit.
pub const MAX_BATCH: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// Some jobs could not be sent even after retrying; the others were sent.
    #[error("{failed} of {total} jobs could not be enqueued: {reason}")]
    PartiallySent { failed: usize, total: usize, reason: String },
    #[error("the receipt handle is no longer valid")]
    StaleReceipt,
    #[error("queue backend error: {0}")]
    Backend(String),
}

/// A job as received: the body stays raw so that a malformed one can still be reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedJob {
    pub message_id: String,
    pub receipt_handle: String,
    pub body: String,
    /// How many times the queue has handed this job out, this time included.
    pub receive_count: u32,
}

impl ReceivedJob {
    /// The job the body carries.
    pub fn job(&self) -> Result<QueueJob, serde_json::Error> {
        serde_json::from_str(&self.body)
    }
}

#[async_trait]
pub trait DeliveryQueue: Send + Sync {
    /// Sends the jobs in batches of at most [`MAX_BATCH`], retrying the entries a batch
    /// reports as failed.
    async fn enqueue(&self, jobs: &[QueueJob]) -> Result<(), QueueError>;
    /// Up to `max` (≤ 10) visible jobs, waiting up to `wait` for one to arrive.
    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<ReceivedJob>, QueueError>;
    /// Done with a job: it never comes back.
    async fn delete(&self, receipt_handle: &str) -> Result<(), QueueError>;
    /// The job becomes visible again `timeout` from now (capped at [`MAX_VISIBILITY`]).
    async fn change_visibility(&self, receipt_handle: &str, timeout: Duration) -> Result<(), QueueError>;
    /// Up to `max` jobs from the dead-letter queue (for operators and tests).
    async fn receive_dead_letters(&self, max: usize) -> Result<Vec<ReceivedJob>, QueueError>;
}

fn job_body(job: &QueueJob) -> String {
    serde_json::to_string(job).unwrap_or_else(|_| unreachable!("a QueueJob always serializes"))
}
