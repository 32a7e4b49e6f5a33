//! Checks that `template.yaml` declares exactly the routes the stack serves: the route table,
//! with the `{integration}` routes expanded to one static pair per registered integration, each
//! on its own function, and that every function's binary exists.

#[cfg(test)]
mod tests {
    use hookline_edge::routes::{INCOMING, ROUTES};
    use hookline_incoming::integration::serves_method;
    use hookline_incoming::integrations::INTEGRATIONS;

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
            } else if indent == 8 && text.ends_with(':') {
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

    fn camel(name: &str) -> String {
        name.split('_').map(|w| w[..1].to_uppercase() + &w[1..]).collect()
    }

    /// The routes the stack serves, as `template.yaml` must declare them.
    fn served_routes() -> Vec<(String, String, String)> {
        let mut routes = Vec::new();
        for route in ROUTES {
            if route.function == INCOMING {
                for integration in INTEGRATIONS.iter().filter(|i| serves_method(**i, route.method)) {
                    let path = route.path.replace("{integration}", integration.name());
                    let resource = format!("Incoming{}Function", camel(integration.name()));
                    routes.push((resource, route.method.to_owned(), path));
                }
            } else {
                routes.push((route.function.resource.to_owned(), route.method.to_owned(), route.path.to_owned()));
            }
        }
        routes
    }

    #[test]
    fn template_yaml_declares_exactly_the_served_routes() {
        let (mut declared, mut served) = (template_routes(), served_routes());
        declared.sort();
        served.sort();
        assert_eq!(declared, served);
    }

    #[test]
    fn every_function_runs_a_binary_that_exists() {
        let bins = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../incoming/src/bin");
        let binaries: Vec<String> = std::fs::read_dir(bins)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().trim_end_matches(".rs").to_owned())
            .collect();
        assert_eq!(binaries, [INCOMING.binary], "one binary for every incoming function");
        let template = include_str!("../../../template.yaml");
        for function in ROUTES.iter().map(|r| r.function) {
            assert!(
                template.contains(&format!("Binary: {}\n", function.binary)),
                "template.yaml builds {}",
                function.binary
            );
        }
    }

    #[test]
    fn the_local_delivery_concurrency_is_the_templates_default() {
        let template = include_str!("../../../template.yaml");
        let parameter = template.split("  WorkerMaximumConcurrency:\n").nth(1).expect("the parameter");
        let default = parameter
            .lines()
            .find_map(|line| line.trim().strip_prefix("Default: "))
            .and_then(|value| value.parse::<usize>().ok())
            .expect("a numeric default");
        assert_eq!(default, crate::sqs_runner::DEFAULT_CONCURRENCY);
    }
}
