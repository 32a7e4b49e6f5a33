//! The outbox sweep: finds messages whose triggers never reached the queue (the queue was
//! down, or the sender died after committing), and enqueues them. It claims each entry with a
//! conditional update first, so two sweeps, or a sweep and the sender, never enqueue the same
//! entry at once; an entry is deleted only after its jobs are on the queue.

use hookline_model::Millis;
use hookline_model::delivery::QueueJob;
use hookline_model::queue::DeliveryQueue;
use hookline_model::store::{Store, StoreResult};

/// Entries younger than this are left to their sender.
pub const SWEEP_GRACE: Millis = 30_000;
/// How long a sweep holds an entry it is enqueueing.
pub const SWEEP_CLAIM: Millis = 60_000;
/// Entries handled per run.
pub const SWEEP_BATCH: usize = 500;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SweepReport {
    /// Outbox entries whose jobs were enqueued and which were then removed.
    pub enqueued: usize,
    /// Entries left for a later run (the queue refused, or another sweep holds them).
    pub left: usize,
}

/// One sweep at `now`.
pub async fn sweep(store: &dyn Store, queue: &dyn DeliveryQueue, now: Millis) -> StoreResult<SweepReport> {
    sweep_older_than(store, queue, now, SWEEP_GRACE).await
}

/// One sweep at `now` of the entries older than `grace`. A process that knows no sender is
/// still at work on the entries (it has just opened a store only it may use) takes them all.
pub async fn sweep_older_than(
    store: &dyn Store,
    queue: &dyn DeliveryQueue,
    now: Millis,
    grace: Millis,
) -> StoreResult<SweepReport> {
    let mut report = SweepReport::default();
    for entry in store.pending_outbox(now - grace, now, SWEEP_BATCH).await? {
        if !store.claim_outbox(entry.realm_id, entry.message_id, now, now + SWEEP_CLAIM).await? {
            report.left += 1;
            continue;
        }
        let jobs: Vec<QueueJob> = entry.jobs.into_iter().map(QueueJob::Deliver).collect();
        match queue.enqueue(&jobs).await {
            Ok(()) => {
                store.delete_outbox(entry.realm_id, entry.message_id).await?;
                report.enqueued += 1;
            }
            Err(e) => {
                tracing::warn!(message = entry.message_id, error = %e, "sweep could not enqueue");
                report.left += 1;
            }
        }
    }
    if report.enqueued + report.left > 0 {
        tracing::info!(enqueued = report.enqueued, left = report.left, "outbox swept");
    }
    Ok(report)
}
