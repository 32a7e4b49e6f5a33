//! The route table: every HTTP route, its method and the function that serves it. The local
//! router matches requests against it, and `template.yaml` declares exactly these routes (a
//! test in the local stack compares the two).

/// A Lambda function behind API Gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Function {
    /// The `[[bin]]` name (and `cargo lambda` target).
    pub binary: &'static str,
    /// The function's logical id in `template.yaml`.
    pub resource: &'static str,
}

pub const MANAGEMENT: Function = Function { binary: "management", resource: "ManagementFunction" };
pub const MESSAGES: Function = Function { binary: "messages", resource: "MessagesFunction" };
/// Every incoming integration is its own function (resource `Incoming<Integration>Function`)
/// on its own static routes; the table names them once with the `{integration}` parameter.
/// All of them run the one `incoming` binary, configured with the integration they serve.
pub const INCOMING: Function = Function { binary: "incoming", resource: "Incoming{Integration}Function" };
/// The integration catalogue: the `incoming` binary configured with no integration.
pub const INTEGRATIONS: Function = Function { binary: "incoming", resource: "IntegrationsFunction" };

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// `GET`, `POST`, … or `ANY`.
    pub method: &'static str,
    /// An API Gateway path template (`/api/v1/bots/{bot_id}`), or `$default`.
    pub path: &'static str,
    pub function: Function,
}

const fn route(method: &'static str, path: &'static str, function: Function) -> Route {
    Route { method, path, function }
}

/// Every route. `$default` catches what no other route matches and answers Zulip's 404.
pub const ROUTES: &[Route] = &[
    route("GET", "/api/v1/server_settings", MANAGEMENT),
    route("POST", "/api/v1/realms", MANAGEMENT),
    route("GET", "/api/v1/users", MANAGEMENT),
    route("POST", "/api/v1/users", MANAGEMENT),
    route("GET", "/api/v1/users/me", MANAGEMENT),
    route("DELETE", "/api/v1/users/{user_id}", MANAGEMENT),
    route("GET", "/api/v1/users/me/subscriptions", MANAGEMENT),
    route("POST", "/api/v1/users/me/subscriptions", MANAGEMENT),
    route("GET", "/api/v1/streams", MANAGEMENT),
    route("GET", "/api/v1/bots", MANAGEMENT),
    route("POST", "/api/v1/bots", MANAGEMENT),
    route("PATCH", "/api/v1/bots/{bot_id}", MANAGEMENT),
    route("DELETE", "/api/v1/bots/{bot_id}", MANAGEMENT),
    route("POST", "/api/v1/bots/{bot_id}/api_key/regenerate", MANAGEMENT),
    route("POST", "/api/v1/bots/{bot_id}/signing_secret/rotate", MANAGEMENT),
    route("GET", "/api/v1/bots/{bot_id}/deliveries", MANAGEMENT),
    route("POST", "/api/v1/bots/{bot_id}/deliveries/{delivery_id}/redeliver", MANAGEMENT),
    route("GET", "/api/v1/bot_storage", MANAGEMENT),
    route("PUT", "/api/v1/bot_storage", MANAGEMENT),
    route("DELETE", "/api/v1/bot_storage", MANAGEMENT),
    route("POST", "/api/v1/messages", MESSAGES),
    route("GET", "/api/v1/messages", MESSAGES),
    route("GET", "/api/v1/messages/{message_id}", MESSAGES),
    route("PATCH", "/api/v1/messages/{message_id}", MESSAGES),
    route("DELETE", "/api/v1/messages/{message_id}", MESSAGES),
    route("POST", "/api/v1/messages/{message_id}/reactions", MESSAGES),
    route("DELETE", "/api/v1/messages/{message_id}/reactions", MESSAGES),
    route("GET", "/api/v1/integrations", INTEGRATIONS),
    route("POST", "/api/v1/external/{integration}", INCOMING),
    route("POST", "/api/v1/external/{integration}/test", INCOMING),
    // Only for integrations whose senders check the URL with HEAD before using it (Trello,
    // Intercom); the template declares it for those alone.
    route("HEAD", "/api/v1/external/{integration}", INCOMING),
    route("ANY", "$default", MANAGEMENT),
];

/// A request matched to its route, with the path parameters it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    pub route: Route,
    pub path_parameters: Vec<(String, String)>,
}

impl Matched {
    /// API Gateway's `routeKey`: `"POST /api/v1/bots"`, or `"$default"`.
    #[must_use]
    pub fn route_key(&self) -> String {
        if self.route.path == "$default" {
            "$default".into()
        } else {
            format!("{} {}", self.route.method, self.route.path)
        }
    }
}

/// The route API Gateway would pick for `method` and `path`: among the routes whose template
/// matches, the most specific (static segments beat parameters, left to right); `$default` when
/// none does.
#[must_use]
pub fn match_route(method: &str, path: &str) -> Matched {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let mut best: Option<(Vec<bool>, Matched)> = None;
    for route in ROUTES.iter().filter(|r| r.path != "$default") {
        if route.method != "ANY" && !route.method.eq_ignore_ascii_case(method) {
            continue;
        }
        let pattern: Vec<&str> = route.path.split('/').collect();
        if pattern.len() != segments.len() {
            continue;
        }
        let mut params = Vec::new();
        let mut specificity = Vec::new();
        let matches = pattern.iter().zip(&segments).all(|(p, s)| {
            if let Some(name) = p.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                params.push((name.to_owned(), (*s).to_owned()));
                specificity.push(false);
                !s.is_empty()
            } else {
                specificity.push(true);
                p == s
            }
        });
        if matches && best.as_ref().is_none_or(|(b, _)| specificity > *b) {
            best = Some((specificity, Matched { route: *route, path_parameters: params }));
        }
    }
    best.map(|(_, m)| m).unwrap_or_else(|| Matched { route: default_route(), path_parameters: Vec::new() })
}

/// The route a request was matched to: API Gateway's `routeKey` from the event, or the one the
/// table gives for the request's method and path when the event carries none.
#[must_use]
pub fn route_key(request: &crate::Request) -> String {
    use lambda_http::RequestExt as _;
    use lambda_http::request::RequestContext;
    match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) if context.route_key.is_some() => {
            context.route_key.clone().unwrap_or_default()
        }
        _ => match_route(request.method().as_str(), request.uri().path()).route_key(),
    }
}

/// The only routes an incoming-webhook bot's key may call besides its integrations' URLs:
/// that key lives in URLs pasted into third-party services, so, as in Zulip, it can post
/// messages and nothing else.
pub const INCOMING_BOT_ROUTES: &[&str] = &["POST /api/v1/messages"];

/// Whether a route manages bots, which only people may do (Zulip: "This endpoint does not
/// accept bot requests."), so that no bot ever owns a bot.
#[must_use]
pub fn manages_bots(route_key: &str) -> bool {
    route_key.split_once(' ').is_some_and(|(_, path)| path == "/api/v1/bots" || path.starts_with("/api/v1/bots/"))
}

fn default_route() -> Route {
    *ROUTES.iter().find(|r| r.path == "$default").expect("the table has a $default route")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_segments_beat_parameters() {
        let m = match_route("GET", "/api/v1/users/me");
        assert_eq!(m.route.path, "/api/v1/users/me");
        let m = match_route("DELETE", "/api/v1/users/12");
        assert_eq!(m.route_key(), "DELETE /api/v1/users/{user_id}");
        assert_eq!(m.path_parameters, vec![("user_id".to_owned(), "12".to_owned())]);
    }

    #[test]
    fn unknown_paths_and_methods_fall_to_default() {
        assert_eq!(match_route("GET", "/api/v1/nope").route_key(), "$default");
        assert_eq!(match_route("PUT", "/api/v1/realms").route_key(), "$default");
        assert_eq!(match_route("DELETE", "/api/v1/users/").route_key(), "$default");
        assert_eq!(match_route("post", "/api/v1/realms/").route_key(), "POST /api/v1/realms");
    }

    #[test]
    fn the_access_rules_name_routes_of_the_table() {
        for key in INCOMING_BOT_ROUTES {
            assert!(ROUTES.iter().any(|r| format!("{} {}", r.method, r.path) == *key), "{key}");
        }
        let managing: Vec<String> =
            ROUTES.iter().map(|r| format!("{} {}", r.method, r.path)).filter(|key| manages_bots(key)).collect();
        assert!(managing.contains(&"POST /api/v1/bots".to_owned()), "{managing:?}");
        assert!(managing.contains(&"PATCH /api/v1/bots/{bot_id}".to_owned()), "{managing:?}");
        assert!(!manages_bots("GET /api/v1/bot_storage") && !manages_bots("POST /api/v1/messages"));
    }

    #[test]
    fn the_table_has_no_duplicates() {
        for (i, a) in ROUTES.iter().enumerate() {
            assert!(!ROUTES[i + 1..].iter().any(|b| a.method == b.method && a.path == b.path), "{a:?}");
        }
    }
}
