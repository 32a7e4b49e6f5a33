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
                "categories": i.categories(),
                "url_options": i
                    .url_options()
                    .iter()
                    .map(|o| json!({ "name": o.name, "description": o.description, "type": o.kind.as_str() }))
                    .collect::<Vec<_>>(),
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

/// Zulip's integration categories, the only ones an integration may name.
pub const CATEGORIES: &[&str] = &[
    "meta-integration",
    "continuous-integration",
    "customer-support",
    "deployment",
    "entertainment",
    "communication",
    "financial",
    "hr",
    "marketing",
    "misc",
    "monitoring",
    "project-management",
    "productivity",
    "version-control",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_integration_is_filed_under_zulip_categories_with_distinct_options() {
        for integration in INTEGRATIONS {
            let name = integration.name();
            assert!(!integration.categories().is_empty(), "{name} has no category");
            for category in integration.categories() {
                assert!(CATEGORIES.contains(category), "{name}: unknown category {category}");
            }
            let options = integration.url_options();
            for (i, option) in options.iter().enumerate() {
                assert!(!["api_key", "stream", "topic", "only_events", "exclude_events"].contains(&option.name));
                assert!(options[..i].iter().all(|o| o.name != option.name), "{name}: {} twice", option.name);
            }
        }
    }

    #[test]
    fn the_catalogue_lists_categories_and_url_options() {
        let list = list("https://chat.example");
        let github = list["integrations"].as_array().unwrap().iter().find(|i| i["name"] == "github").unwrap();
        assert_eq!(github["categories"], serde_json::json!(["version-control"]));
        assert_eq!(github["url_options"][0]["name"], "branches");
        assert_eq!(github["url_options"][1]["type"], "bool");
        assert_eq!(github["url"], "https://chat.example/api/v1/external/github");
    }
}
