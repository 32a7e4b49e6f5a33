//! The outbox sweep as a scheduled Lambda function (an EventBridge schedule invokes it).

use std::sync::Arc;

use hookline_edge::Services;
use hookline_messaging::sweep::sweep;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), Error> {
    hookline_edge::services::init_lambda_tracing();
    let services = Arc::new(Services::from_env().await?);
    run(service_fn(move |_: LambdaEvent<Value>| {
        let services = services.clone();
        async move {
            let report = sweep(services.store.as_ref(), services.queue.as_ref(), services.clock.now()).await?;
            Ok::<_, Error>(json!({"enqueued": report.enqueued, "left": report.left}))
        }
    }))
    .await
}
