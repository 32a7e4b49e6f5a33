//! The incoming functions' Lambda entry point. Every integration's function runs this one
//! binary: `HOOKLINE_INTEGRATION` names the integration it serves on its routes
//! (`POST /api/v1/external/<name>` and its `/test` preview). The catalogue route
//! (`GET /api/v1/integrations`) is served by whichever function API Gateway sends it to;
//! the template gives it a function of its own, without `HOOKLINE_INTEGRATION`.

use std::sync::Arc;

use hookline_edge::{ApiError, Services};
use hookline_messaging::send::Sender;
use lambda_http::{Error, Request, service_fn};

use crate::integration::Integration;
use crate::integrations::find;

/// The configuration variable naming a function's integration.
pub const INTEGRATION_VAR: &str = "HOOKLINE_INTEGRATION";

/// Serves the configured integration (or only the catalogue, when none is configured)
/// behind API Gateway.
pub async fn run() -> Result<(), Error> {
    hookline_edge::services::init_lambda_tracing();
    let integration: Option<&'static dyn Integration> = match std::env::var(INTEGRATION_VAR) {
        Ok(name) if !name.is_empty() => Some(find(&name).ok_or_else(|| format!("no integration named {name}"))?),
        _ => None,
    };
    let services = Arc::new(Services::from_env().await?);
    let sender = Arc::new(Sender::new(services.store.clone(), services.queue.clone(), services.clock.clone()));
    lambda_http::run(service_fn(move |request: Request| {
        let (services, sender) = (services.clone(), sender.clone());
        async move {
            if hookline_edge::routes::route_key(&request) == crate::catalog::ROUTE {
                return Ok::<_, Error>(crate::catalog::handle(&services, &request).await);
            }
            Ok(match integration {
                Some(integration) => crate::http::serve(&services, &sender, integration, request).await,
                None => ApiError::endpoint_not_found().into_response(),
            })
        }
    }))
    .await
}
