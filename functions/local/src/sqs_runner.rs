//! Lambda's SQS event source, emulated: receive up to 10 jobs, hand them to the function as
//! one SQS event, delete the ones it did not report in `batchItemFailures`, and leave the
//! failed ones to come back when their visibility runs out (the handler may have changed it).
//! A handler error fails the whole batch, as in Lambda. Dead-lettering is the queue's.
//!
//! As Lambda's poller does, batches run concurrently: up to `concurrency` invocations at once,
//! so one slow batch (a bot that hangs until its timeout) never holds up the others.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use hookline_model::queue::{DeliveryQueue, MAX_BATCH, ReceivedJob};
use serde_json::json;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

/// Concurrent invocations of the SQS-triggered function unless configured otherwise: the
/// template's default `WorkerMaximumConcurrency`. A burst of 100 jobs to slow bots then finds
/// a free invocation at once even when its batches are received one or two jobs at a time.
pub const DEFAULT_CONCURRENCY: usize = 100;

/// An SQS-triggered function.
#[async_trait]
pub trait SqsHandler: Send + Sync {
    async fn handle(&self, event: SqsEvent) -> Result<SqsBatchResponse, String>;
}

/// The SQS event Lambda would deliver for `jobs`.
#[must_use]
pub fn sqs_event(jobs: &[ReceivedJob], queue_arn: &str) -> SqsEvent {
    let records: Vec<_> = jobs
        .iter()
        .map(|job| {
            json!({
                "messageId": job.message_id,
                "receiptHandle": job.receipt_handle,
                "body": job.body,
                "attributes": {
                    "ApproximateReceiveCount": job.receive_count.to_string(),
                    "SentTimestamp": "0",
                    "SenderId": "local",
                    "ApproximateFirstReceiveTimestamp": "0",
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            })
        })
        .collect();
    serde_json::from_value(json!({ "Records": records })).unwrap_or_default()
}

pub struct SqsRunner {
    queue: Arc<dyn DeliveryQueue>,
    handler: Arc<dyn SqsHandler>,
    queue_arn: String,
    concurrency: usize,
}

impl SqsRunner {
    /// A runner of at most `concurrency` (at least 1) invocations at once.
    #[must_use]
    pub fn new(queue: Arc<dyn DeliveryQueue>, handler: Arc<dyn SqsHandler>, concurrency: usize) -> Self {
        Self {
            queue,
            handler,
            queue_arn: "arn:aws:sqs:us-east-1:000000000000:hookline-deliveries".into(),
            concurrency: concurrency.max(1),
        }
    }

    /// Receives one batch (waiting up to `wait`) and runs it; returns how many jobs it held.
    pub async fn run_once(&self, wait: Duration) -> usize {
        let jobs = self.receive(wait).await;
        let count = jobs.len();
        self.invoke(jobs).await;
        count
    }

    /// Up to one batch, waiting up to `wait` for the first job.
    async fn receive(&self, wait: Duration) -> Vec<ReceivedJob> {
        match self.queue.receive(MAX_BATCH, wait).await {
            Ok(jobs) => jobs,
            Err(e) => {
                tracing::warn!(error = %e, "receive failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
                Vec::new()
            }
        }
    }

    /// One invocation of the function with `jobs`, then the deletes of the ones that succeeded.
    async fn invoke(&self, jobs: Vec<ReceivedJob>) {
        if jobs.is_empty() {
            return;
        }
        match self.handler.handle(sqs_event(&jobs, &self.queue_arn)).await {
            Ok(response) => {
                let failed: Vec<String> = response.batch_item_failures.into_iter().map(|f| f.item_identifier).collect();
                for job in jobs.iter().filter(|job| !failed.contains(&job.message_id)) {
                    if let Err(e) = self.queue.delete(&job.receipt_handle).await {
                        tracing::warn!(error = %e, message_id = job.message_id, "delete failed");
                    }
                }
                if !failed.is_empty() {
                    tracing::info!(failed = failed.len(), "batch items will be retried");
                }
            }
            Err(e) => {
                tracing::error!(error = %e, jobs = jobs.len(), "function failed; the whole batch will be retried")
            }
        }
    }

    /// Polls until `shutdown` turns true, running up to `concurrency` batches at once: a
    /// batch is received only when an invocation is free, so jobs wait on the queue (where
    /// their visibility timeout has not started) rather than in the runner. At shutdown the
    /// running invocations are dropped; their jobs come back after the visibility timeout.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let this = Arc::new(self);
        let free = Arc::new(Semaphore::new(this.concurrency));
        let mut running = JoinSet::new();
        while !*shutdown.borrow() {
            let received = async {
                let permit = free.clone().acquire_owned().await.ok()?;
                Some((permit, this.receive(Duration::from_secs(1)).await))
            };
            let (permit, jobs) = tokio::select! {
                received = received => match received {
                    Some(received) => received,
                    None => return,
                },
                changed = shutdown.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    continue;
                }
            };
            if jobs.is_empty() {
                continue;
            }
            let runner = this.clone();
            running.spawn(async move {
                runner.invoke(jobs).await;
                drop(permit);
            });
            while running.try_join_next().is_some() {}
        }
        running.shutdown().await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use aws_lambda_events::sqs::BatchItemFailure;
    use hookline_model::ManualClock;
    use hookline_model::delivery::{DeliveryJob, QueueJob, Trigger};
    use hookline_model::queue::memory::MemoryQueue;

    use super::*;

    /// Fails the jobs of chosen messages (or the whole batch) and records every batch.
    #[derive(Default)]
    struct StubHandler {
        fail_messages: Vec<u64>,
        fail_everything: bool,
        batches: Mutex<Vec<Vec<(u64, String)>>>,
    }

    #[async_trait]
    impl SqsHandler for StubHandler {
        async fn handle(&self, event: SqsEvent) -> Result<SqsBatchResponse, String> {
            let mut seen = Vec::new();
            let mut response = SqsBatchResponse::default();
            for record in event.records {
                let job: QueueJob =
                    serde_json::from_str(record.body.as_deref().unwrap_or("")).map_err(|e| e.to_string())?;
                let QueueJob::Deliver(job) = job else { return Err("unexpected job".into()) };
                let count = record.attributes.get("ApproximateReceiveCount").cloned().unwrap_or_default();
                seen.push((job.message_id, count));
                if self.fail_messages.contains(&job.message_id) {
                    let mut failure = BatchItemFailure::default();
                    failure.item_identifier = record.message_id.unwrap_or_default();
                    response.batch_item_failures.push(failure);
                }
            }
            self.batches.lock().unwrap().push(seen);
            if self.fail_everything { Err("boom".into()) } else { Ok(response) }
        }
    }

    fn jobs(n: u64) -> Vec<QueueJob> {
        (1..=n)
            .map(|i| {
                QueueJob::Deliver(DeliveryJob {
                    realm_id: 1,
                    message_id: i,
                    bot_id: 2,
                    trigger: Trigger::Mention,
                    redelivery: 0,
                })
            })
            .collect()
    }

    fn setup(handler: StubHandler) -> (Arc<ManualClock>, Arc<MemoryQueue>, Arc<StubHandler>, SqsRunner) {
        let clock = Arc::new(ManualClock::at(0));
        let queue = Arc::new(MemoryQueue::new(clock.clone(), Duration::from_secs(30), 3));
        let handler = Arc::new(handler);
        let runner = SqsRunner::new(queue.clone(), handler.clone(), DEFAULT_CONCURRENCY);
        (clock, queue, handler, runner)
    }

    #[tokio::test]
    async fn jobs_arrive_in_batches_of_at_most_ten_and_succeeded_ones_are_deleted() {
        let (_, queue, handler, runner) = setup(StubHandler::default());
        queue.enqueue(&jobs(25)).await.unwrap();
        let sizes = [
            runner.run_once(Duration::ZERO).await,
            runner.run_once(Duration::ZERO).await,
            runner.run_once(Duration::ZERO).await,
        ];
        assert_eq!(sizes, [10, 10, 5]);
        assert!(queue.is_empty());
        assert_eq!(handler.batches.lock().unwrap().iter().map(Vec::len).sum::<usize>(), 25);
    }

    #[tokio::test]
    async fn a_reported_failure_comes_back_after_its_visibility_timeout() {
        let (clock, queue, handler, runner) = setup(StubHandler { fail_messages: vec![2], ..Default::default() });
        queue.enqueue(&jobs(3)).await.unwrap();
        assert_eq!(runner.run_once(Duration::ZERO).await, 3);
        assert_eq!(queue.len(), 1, "only the failed job stays");
        assert_eq!(runner.run_once(Duration::ZERO).await, 0, "invisible for now");
        clock.advance(30_000);
        assert_eq!(runner.run_once(Duration::ZERO).await, 1);
        assert_eq!(handler.batches.lock().unwrap().last().unwrap(), &vec![(2, "2".to_owned())]);
    }

    #[tokio::test]
    async fn a_function_error_fails_the_whole_batch_and_repeated_failures_dead_letter() {
        let (clock, queue, _, runner) = setup(StubHandler { fail_everything: true, ..Default::default() });
        queue.enqueue(&jobs(2)).await.unwrap();
        for _ in 0..3 {
            assert_eq!(runner.run_once(Duration::ZERO).await, 2);
            clock.advance(30_000);
        }
        // The fourth receive moves both to the dead-letter queue (maxReceiveCount 3)
        assert_eq!(runner.run_once(Duration::ZERO).await, 0);
        assert!(queue.is_empty());
        assert_eq!(queue.receive_dead_letters(10).await.unwrap().len(), 2);
    }

    /// Hangs on the jobs of chosen messages until released; notes when each job arrives.
    struct HangingHandler {
        hang_on: Vec<u64>,
        release: tokio::sync::Semaphore,
        arrived: tokio::sync::mpsc::UnboundedSender<(u64, tokio::time::Instant)>,
    }

    #[async_trait]
    impl SqsHandler for HangingHandler {
        async fn handle(&self, event: SqsEvent) -> Result<SqsBatchResponse, String> {
            for record in &event.records {
                let Ok(QueueJob::Deliver(job)) = serde_json::from_str(record.body.as_deref().unwrap_or("")) else {
                    return Err("unexpected job".into());
                };
                let _ = self.arrived.send((job.message_id, tokio::time::Instant::now()));
                if self.hang_on.contains(&job.message_id) {
                    let _ = self.release.acquire().await.map_err(|e| e.to_string())?;
                }
            }
            Ok(SqsBatchResponse::default())
        }
    }

    type Arrivals = tokio::sync::mpsc::UnboundedReceiver<(u64, tokio::time::Instant)>;

    fn hanging_runner(
        hang_on: Vec<u64>,
        concurrency: usize,
    ) -> (Arc<MemoryQueue>, Arc<HangingHandler>, Arrivals, SqsRunner) {
        let queue = Arc::new(MemoryQueue::new(Arc::new(hookline_model::SystemClock), Duration::from_secs(30), 3));
        let (arrived, arrivals) = tokio::sync::mpsc::unbounded_channel();
        let handler = Arc::new(HangingHandler { hang_on, release: tokio::sync::Semaphore::new(0), arrived });
        let runner = SqsRunner::new(queue.clone(), handler.clone(), concurrency);
        (queue, handler, arrivals, runner)
    }

    fn job(message_id: u64) -> QueueJob {
        QueueJob::Deliver(DeliveryJob {
            realm_id: message_id,
            message_id,
            bot_id: 2,
            trigger: Trigger::Mention,
            redelivery: 0,
        })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_hanging_batch_does_not_hold_up_the_next_one() {
        let (queue, handler, mut arrivals, runner) = hanging_runner(vec![1], DEFAULT_CONCURRENCY);
        let (stop, stopped) = watch::channel(false);
        let running = tokio::spawn(runner.run(stopped));
        queue.enqueue(&[job(1)]).await.unwrap();
        assert_eq!(arrivals.recv().await.unwrap().0, 1, "the hanging job is being handled");

        // WHEN another realm's job arrives while the first batch hangs
        let sent = tokio::time::Instant::now();
        queue.enqueue(&[job(2)]).await.unwrap();
        let (id, at) = tokio::time::timeout(Duration::from_secs(2), arrivals.recv()).await.unwrap().unwrap();
        // THEN it is handled at once, not after the hanging one
        assert_eq!(id, 2);
        assert!(at - sent < Duration::from_millis(500), "waited {:?}", at - sent);
        handler.release.add_permits(1);
        stop.send(true).unwrap();
        running.await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn at_most_the_configured_number_of_batches_run_at_once() {
        let (queue, handler, mut arrivals, runner) = hanging_runner(vec![1, 2, 3], 2);
        let (stop, stopped) = watch::channel(false);
        let running = tokio::spawn(runner.run(stopped));
        for id in 1..=2 {
            queue.enqueue(&[job(id)]).await.unwrap();
            assert_eq!(arrivals.recv().await.unwrap().0, id);
        }
        queue.enqueue(&[job(3)]).await.unwrap();
        // Both invocations hang: the third batch waits on the queue
        assert!(tokio::time::timeout(Duration::from_millis(300), arrivals.recv()).await.is_err());
        assert_eq!(queue.len(), 3);
        handler.release.add_permits(1);
        assert_eq!(tokio::time::timeout(Duration::from_secs(2), arrivals.recv()).await.unwrap().unwrap().0, 3);
        handler.release.add_permits(2);
        stop.send(true).unwrap();
        running.await.unwrap();
    }
}
