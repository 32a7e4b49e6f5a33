//! The outgoing worker as an SQS-triggered Lambda function (`ReportBatchItemFailures`).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_lambda_events::sqs::SqsEvent;
use hookline_edge::Services;
use hookline_messaging::send::Sender;
use hookline_outgoing_worker::{handle_event, worker_from_env};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

/// Time kept back from the invocation's deadline to answer in.
const MARGIN: Duration = Duration::from_secs(2);

#[tokio::main]
async fn main() -> Result<(), Error> {
    hookline_edge::services::init_lambda_tracing();
    let services = Services::from_env().await?;
    let sender = Arc::new(Sender::new(services.store.clone(), services.queue.clone(), services.clock.clone()));
    let worker = Arc::new(worker_from_env(&services, sender)?);
    run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let worker = worker.clone();
        async move {
            let left = event.context.deadline().duration_since(SystemTime::now()).unwrap_or_default();
            Ok::<_, Error>(handle_event(&worker, event.payload, left.saturating_sub(MARGIN)).await)
        }
    }))
    .await
}
