//! The management API as a Lambda function behind API Gateway.

use std::sync::Arc;

use hookline_edge::Services;
use lambda_http::{Error, Request, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    hookline_edge::services::init_lambda_tracing();
    let services = Arc::new(Services::from_env().await?);
    run(service_fn(move |request: Request| {
        let services = services.clone();
        async move { Ok::<_, Error>(hookline_management::handle(&services, request).await) }
    }))
    .await
}
