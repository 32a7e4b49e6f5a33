//! The management API: server settings, realms, users, streams and subscriptions, and bots,
//! Zulip-compatible where Zulip has the endpoint.
//!
//! [`handle`] is the HTTP adapter: it finds the route, authenticates, reads parameters and
//! maps errors; the modules below hold the logic and know nothing of Lambda.

mod bot_storage;
mod bots;
mod deliveries;
mod realms;
mod render;
mod server_settings;
mod streams;
mod users;
pub mod validate;

use hookline_edge::auth::{authenticate, require_deployment_admin};
use hookline_edge::params::{Params, path_id};
use hookline_edge::response::success;
use hookline_edge::routes::route_key;
use hookline_edge::{ApiError, HttpResponse, Request, Services};
use serde_json::Value;

/// Serves one request routed to the management function.
pub async fn handle(services: &Services, request: Request) -> HttpResponse {
    let route = route_key(&request);
    let outcome = dispatch(services, &route, &request).await;
    match outcome {
        Ok(fields) => success(fields),
        Err(error) => {
            if error.status.is_server_error() {
                tracing::error!(route, %error, "request failed");
            } else {
                tracing::info!(route, status = error.status.as_u16(), code = error.code, "request refused");
            }
            error.into_response()
        }
    }
}

async fn dispatch(services: &Services, route: &str, request: &Request) -> Result<Value, ApiError> {
    if route == "GET /api/v1/server_settings" {
        return Ok(server_settings::get(services));
    }
    if !route.starts_with("$default") {
        // Read before authenticating so that a malformed body is reported as such.
        let params = Params::from_request(request)?;
        if route == "POST /api/v1/realms" {
            require_deployment_admin(services, request)?;
            return realms::create(services, &params).await;
        }
        let caller = authenticate(services, request).await?;
        let id = |name| path_id(request, name);
        return match route {
            "GET /api/v1/users" => users::list(services, &caller).await,
            "POST /api/v1/users" => users::create(services, &caller, &params).await,
            "GET /api/v1/users/me" => users::me(services, &caller).await,
            "DELETE /api/v1/users/{user_id}" => users::deactivate(services, &caller, id("user_id")?).await,
            "GET /api/v1/users/me/subscriptions" => streams::subscriptions(services, &caller).await,
            "POST /api/v1/users/me/subscriptions" => streams::subscribe(services, &caller, &params).await,
            "GET /api/v1/streams" => streams::list(services, &caller).await,
            "GET /api/v1/bot_storage" => bot_storage::get(services, &caller, &params).await,
            "PUT /api/v1/bot_storage" => bot_storage::put(services, &caller, &params).await,
            "DELETE /api/v1/bot_storage" => bot_storage::remove(services, &caller, &params).await,
            "GET /api/v1/bots" => bots::list(services, &caller).await,
            "POST /api/v1/bots" => bots::create(services, &caller, &params).await,
            "PATCH /api/v1/bots/{bot_id}" => bots::update(services, &caller, id("bot_id")?, &params).await,
            "DELETE /api/v1/bots/{bot_id}" => bots::deactivate(services, &caller, id("bot_id")?).await,
            "POST /api/v1/bots/{bot_id}/api_key/regenerate" => {
                bots::regenerate_api_key(services, &caller, id("bot_id")?).await
            }
            "GET /api/v1/bots/{bot_id}/deliveries" => deliveries::list(services, &caller, id("bot_id")?, &params).await,
            "POST /api/v1/bots/{bot_id}/deliveries/{delivery_id}/redeliver" => {
                let delivery = hookline_edge::params::path_param(request, "delivery_id")?;
                deliveries::redeliver(services, &caller, id("bot_id")?, &delivery).await
            }
            "POST /api/v1/bots/{bot_id}/signing_secret/rotate" => {
                bots::rotate_signing_secret(services, &caller, id("bot_id")?).await
            }
            _ => Err(ApiError::endpoint_not_found()),
        };
    }
    Err(ApiError::endpoint_not_found())
}
