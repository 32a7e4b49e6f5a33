//! What each integration's `main` runs: the integration's HTTP handler as a Lambda function.

use std::sync::Arc;

use hookline_edge::Services;
use hookline_messaging::send::Sender;
use lambda_http::{Error, Request, service_fn};

use crate::integrations::find;

/// Serves integration `name` (its registry name) behind API Gateway.
pub async fn run(name: &'static str) -> Result<(), Error> {
    hookline_edge::services::init_lambda_tracing();
    let integration = find(name).ok_or_else(|| format!("no integration named {name}"))?;
    let services = Arc::new(Services::from_env().await?);
    let sender = Arc::new(Sender::new(services.store.clone(), services.queue.clone(), services.clock.clone()));
    lambda_http::run(service_fn(move |request: Request| {
        let (services, sender) = (services.clone(), sender.clone());
        async move { Ok::<_, Error>(crate::http::handle(&services, &sender, integration, request).await) }
    }))
    .await
}
