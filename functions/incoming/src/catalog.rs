//! `GET /api/v1/integrations`: the registry as the API shows it, each integration with its
//! URL and the events it can be filtered on.

use hookline_edge::auth::authenticate;
use hookline_edge::response::success;
use hookline_edge::{HttpResponse, Request, Services};
use serde_json::{Value, json};

use crate::integrations::INTEGRATIONS;

/// The catalogue's route key.
pub const ROUTE: &str = "GET /api/v1/integrations";

/// Every integration, for a realm whose API lives at `public_url`.
#[must_use]
pub fn list(public_url: &str) -> Value {
    let list: Vec<Value> = INTEGRATIONS
        .iter()
        .map(|i| {
            json!({
                "name": i.name(),
                "display_name": i.display_name(),
                "url": format!("{public_url}/api/v1/external/{}", i.name()),
                "event_header": i.event_header(),
                "event_types": i.event_types(),
            })
        })
        .collect();
    json!({ "integrations": list })
}

/// Serves the catalogue to any authenticated user.
pub async fn handle(services: &Services, request: &Request) -> HttpResponse {
    match authenticate(services, request).await {
        Ok(_) => success(list(&services.settings.public_url)),
        Err(error) => error.into_response(),
    }
}
