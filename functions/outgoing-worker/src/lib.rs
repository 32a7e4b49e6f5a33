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

/// The worker for `services`, configured from the environment (see [`worker_config`]).
///
/// # Errors
/// A message naming the variable whose value is not valid.
pub fn worker_from_env(services: &Services, sender: Arc<Sender>) -> Result<Worker, String> {
    let mut config = worker_config(|name| std::env::var(name).ok())?;
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

/// The worker's configuration from the variables `var` reads: `HOOKLINE_RETRY_SCHEDULE` (the
/// deployment's retry schedule, e.g. `5s,30s,2m,10m,30m,1h`; unset or empty, the chat schedule
/// `2s,4s,8s`; a bot's own `retry_schedule` overrides it), `HOOKLINE_REQUEST_TIMEOUT_SECONDS`,
/// `HOOKLINE_CONNECT_TIMEOUT_SECONDS`, `HOOKLINE_ENDPOINT_ALLOW_LIST` (CIDRs bot endpoints may
/// live in besides the public internet).
///
/// # Errors
/// A message naming the variable whose value is not valid.
pub fn worker_config(var: impl Fn(&str) -> Option<String>) -> Result<WorkerConfig, String> {
    let mut config = WorkerConfig::default();
    let set = |name: &str| var(name).filter(|value| !value.trim().is_empty());
    if let Some(schedule) = set("HOOKLINE_RETRY_SCHEDULE") {
        config.schedule = RetrySchedule::parse(&schedule).map_err(|e| format!("HOOKLINE_RETRY_SCHEDULE: {e}"))?;
    }
    let seconds = |name: &str| {
        set(name)
            .map(|value| {
                value.trim().parse::<u64>().map(Duration::from_secs).map_err(|_| format!("{name}: not a whole number"))
            })
            .transpose()
    };
    if let Some(total) = seconds("HOOKLINE_REQUEST_TIMEOUT_SECONDS")? {
        config.timeouts.total = total;
    }
    if let Some(connect) = seconds("HOOKLINE_CONNECT_TIMEOUT_SECONDS")? {
        config.timeouts.connect = connect;
    }
    if let Some(list) = set("HOOKLINE_ENDPOINT_ALLOW_LIST") {
        config.policy = AddressPolicy::with_allow_list(&list)?;
    }
    Ok(config)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<WorkerConfig, String> {
        worker_config(|name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned()))
    }

    #[test]
    fn without_variables_the_chat_schedule_and_zulips_timeout_apply() {
        let unset = config(&[]).unwrap();
        assert_eq!(unset.schedule, RetrySchedule::default());
        assert_eq!(unset.timeouts.total, Duration::from_secs(10));
        assert_eq!(config(&[("HOOKLINE_RETRY_SCHEDULE", " ")]).unwrap().schedule, RetrySchedule::default());
    }

    #[test]
    fn a_deployment_may_choose_a_longer_schedule_and_timeouts() {
        let config = config(&[
            ("HOOKLINE_RETRY_SCHEDULE", hookline_delivery::schedule::PATIENT),
            ("HOOKLINE_REQUEST_TIMEOUT_SECONDS", "20"),
            ("HOOKLINE_CONNECT_TIMEOUT_SECONDS", "3"),
            ("HOOKLINE_ENDPOINT_ALLOW_LIST", "10.0.0.0/8"),
        ])
        .unwrap();
        assert_eq!(config.schedule, RetrySchedule::patient());
        assert_eq!((config.timeouts.total, config.timeouts.connect), (Duration::from_secs(20), Duration::from_secs(3)));
        assert!(config.policy.is_allowed("10.1.2.3".parse().unwrap()));
    }

    #[test]
    fn invalid_values_are_refused_by_name() {
        let error = config(&[("HOOKLINE_RETRY_SCHEDULE", "5s,soon")]).unwrap_err();
        assert!(error.starts_with("HOOKLINE_RETRY_SCHEDULE: invalid retry delay \"soon\""), "{error}");
        let error = config(&[("HOOKLINE_REQUEST_TIMEOUT_SECONDS", "ten")]).unwrap_err();
        assert_eq!(error, "HOOKLINE_REQUEST_TIMEOUT_SECONDS: not a whole number");
        assert!(config(&[("HOOKLINE_ENDPOINT_ALLOW_LIST", "nonsense")]).is_err());
    }
}
