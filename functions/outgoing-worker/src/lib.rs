//! The SQS adapter of the outgoing worker: one SQS event in, a partial batch response out.
//! The batch's jobs run concurrently, each within the time the invocation has left, so one
//! slow endpoint never delays the others and the function always answers before its timeout.

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use hookline_delivery::schedule::RetrySchedule;
use hookline_delivery::ssrf::AddressPolicy;
use hookline_delivery::worker::{JobOutcome, Worker, WorkerConfig};
use hookline_edge::Services;
use hookline_messaging::send::Sender;

/// The worker for `services`, configured from the environment: `HOOKLINE_RETRY_SCHEDULE`
/// (e.g. `5s,30s,2m,10m,30m,1h`), `HOOKLINE_REQUEST_TIMEOUT_SECONDS`,
/// `HOOKLINE_CONNECT_TIMEOUT_SECONDS`, `HOOKLINE_ENDPOINT_ALLOW_LIST` (CIDRs bot endpoints
/// may live in besides the public internet).
pub fn worker_from_env(services: &Services, sender: Arc<Sender>) -> Result<Worker, String> {
    let mut config = WorkerConfig::default();
    if let Ok(schedule) = std::env::var("HOOKLINE_RETRY_SCHEDULE") {
        config.schedule = RetrySchedule::parse(&schedule)?;
    }
    let seconds = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok()).map(Duration::from_secs);
    if let Some(total) = seconds("HOOKLINE_REQUEST_TIMEOUT_SECONDS") {
        config.timeouts.total = total;
    }
    if let Some(connect) = seconds("HOOKLINE_CONNECT_TIMEOUT_SECONDS") {
        config.timeouts.connect = connect;
    }
    config.policy = match std::env::var("HOOKLINE_ENDPOINT_ALLOW_LIST") {
        Ok(list) if !list.trim().is_empty() => AddressPolicy::with_allow_list(&list)?,
        _ => AddressPolicy::default(),
    };
    config.policy.allow_all_private |= services.settings.allow_private_endpoints;
    Ok(Worker::new(
        services.store.clone(),
        services.queue.clone(),
        services.clock.clone(),
        sender,
        config,
        services.settings.public_url.clone(),
    ))
}

/// Runs every job of `event` concurrently, each for at most `budget`, and reports the ones to
/// retry (or that could not be processed) as batch item failures.
pub async fn handle_event(worker: &Worker, event: SqsEvent, budget: Duration) -> SqsBatchResponse {
    let jobs = event.records.into_iter().map(|record| async move {
        let id = record.message_id.unwrap_or_default();
        let body = record.body.unwrap_or_default();
        let receipt = record.receipt_handle.unwrap_or_default();
        match tokio::time::timeout(budget, worker.process(&body, &receipt)).await {
            Ok(JobOutcome::Done) => None,
            Ok(JobOutcome::RetryAfter(_)) => Some(id),
            Ok(JobOutcome::Broken(why)) => {
                tracing::error!(message_id = id, error = why, "job could not be processed");
                Some(id)
            }
            Err(_) => {
                tracing::warn!(message_id = id, "job ran out of time; it comes back after the visibility timeout");
                Some(id)
            }
        }
    });
    let mut response = SqsBatchResponse::default();
    for id in futures::future::join_all(jobs).await.into_iter().flatten() {
        let mut failure = BatchItemFailure::default();
        failure.item_identifier = id;
        response.batch_item_failures.push(failure);
    }
    response
}
