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
    route("POST", "/api/v1/messages", MESSAGES),
    route("GET", "/api/v1/messages", MESSAGES),
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

fn default_route() -> Route {
    *ROUTES.iter().find(|r| r.path == "$default").expect("the table has a $default route")
}

/// Every function some route reaches.
#[must_use]
pub fn http_functions() -> Vec<Function> {
    let mut functions: Vec<Function> = Vec::new();
    for route in ROUTES {
        if !functions.contains(&route.function) {
            functions.push(route.function);
        }
    }
    functions
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

    /// An event block being read: whether it is an `HttpApi` event, its method and path.
    type EventBlock = Option<(bool, Option<String>, Option<String>)>;

    /// The `(resource, method, path)` of every `HttpApi` event in `template.yaml`; an event
    /// without `Path` is the `$default` route.
    fn template_routes() -> Vec<(String, String, String)> {
        let template = include_str!("../../../template.yaml");
        let mut routes = Vec::new();
        let (mut resource, mut event): (String, EventBlock) = (String::new(), None);
        let mut flush = |resource: &str, event: &mut EventBlock| {
            if let Some((true, method, path)) = event.take() {
                let method = method.unwrap_or_else(|| "ANY".into()).to_uppercase();
                routes.push((resource.to_owned(), method, path.unwrap_or_else(|| "$default".into())));
            }
        };
        for line in template.lines() {
            let indent = line.len() - line.trim_start().len();
            let text = line.trim();
            if text.is_empty() || text.starts_with('#') {
                continue;
            }
            if indent <= 8 {
                flush(&resource, &mut event);
            }
            if indent == 2 && text.ends_with(':') {
                resource = text.trim_end_matches(':').to_owned();
            } else if indent == 8 && text.ends_with(':') && line.contains(char::is_alphabetic) {
                event = Some((false, None, None));
            } else if let Some((is_api, method, path)) = event.as_mut() {
                match text.split_once(':').map(|(k, v)| (k.trim(), v.trim())) {
                    Some(("Type", "HttpApi")) if indent == 10 => *is_api = true,
                    Some(("Method", v)) if indent == 12 => *method = Some(v.to_owned()),
                    Some(("Path", v)) if indent == 12 => *path = Some(v.to_owned()),
                    _ => {}
                }
            }
        }
        flush(&resource, &mut event);
        routes
    }

    #[test]
    fn template_yaml_declares_exactly_the_route_table() {
        let mut declared = template_routes();
        let mut table: Vec<(String, String, String)> =
            ROUTES.iter().map(|r| (r.function.resource.to_owned(), r.method.to_owned(), r.path.to_owned())).collect();
        declared.sort();
        table.sort();
        assert_eq!(declared, table);
    }

    #[test]
    fn the_table_has_no_duplicates() {
        for (i, a) in ROUTES.iter().enumerate() {
            assert!(!ROUTES[i + 1..].iter().any(|b| a.method == b.method && a.path == b.path), "{a:?}");
        }
    }
}
