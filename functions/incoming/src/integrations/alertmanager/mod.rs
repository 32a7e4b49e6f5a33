//! `alertmanager`: Prometheus Alertmanager's webhook receiver, as Zulip's `alertmanager`.
//!
//! Alerts are grouped by a name, the `name` URL option's label (or annotation; `instance` by
//! default), which is the topic; each alert is shown by its `desc` option's label or annotation
//! (`alertname` by default) and a link to its source. One message per name and status, firing
//! before resolved, names in the order they first appear:
//!
//! ```text
//! :alert: **FIRING**
//! * CPU core temperature is 34.75C ([source](http://prometheus:9090/graph?…))
//! * CPU core temperature is 17.625C ([source](http://prometheus:9090/graph?…))
//! ```

#[cfg(test)]
mod tests;

use serde_json::Value;

use crate::integration::{Handled, Integration, IntegrationError, OptionKind, Outcome, Payload, UrlOption, list, text};

pub struct Alertmanager;

impl Integration for Alertmanager {
    fn name(&self) -> &'static str {
        "alertmanager"
    }

    fn display_name(&self) -> &'static str {
        "Alertmanager"
    }

    fn categories(&self) -> &'static [&'static str] {
        &["monitoring"]
    }

    fn url_options(&self) -> &'static [UrlOption] {
        &[
            UrlOption {
                name: "name",
                description: "The alert label that names the instance (default `instance`)",
                kind: OptionKind::Text,
            },
            UrlOption {
                name: "desc",
                description: "The alert label that describes it (default `alertname`)",
                kind: OptionKind::Text,
            },
        ]
    }

    fn event_types(&self) -> &'static [&'static str] {
        &["firing", "resolved"]
    }

    fn handle(&self, payload: &Payload<'_>) -> Result<Handled, IntegrationError> {
        let body = payload.body;
        if body.get("alerts").is_none_or(|alerts| !alerts.is_array()) {
            return Err(IntegrationError::Malformed("expected a list at /alerts".into()));
        }
        let name_field = payload.param("name").unwrap_or("instance");
        let desc_field = payload.param("desc").unwrap_or("alertname");

        // Per name, in order of first appearance: its firing and its resolved alerts' lines.
        let mut topics: Vec<(String, [Vec<String>; 2])> = Vec::new();
        for alert in list(body, "/alerts")? {
            if !alert.is_object() {
                return Err(IntegrationError::Malformed("expected an alert object".into()));
            }
            let name = field(alert, name_field)?.unwrap_or("(unknown)").to_owned();
            let desc =
                field(alert, desc_field)?.map_or_else(|| format!("<missing field: {desc_field}>"), str::to_owned);
            // Zulip's choice: the graph tab rather than the console tab.
            let url = text(alert, "/generatorURL")?.replace("tab=1", "tab=0");
            let resolved = match text(alert, "/status")? {
                "firing" => 0,
                "resolved" => 1,
                other => return Err(IntegrationError::Malformed(format!("unknown alert status '{other}'"))),
            };
            let line = format!("{desc} ([source]({url}))");
            match topics.iter_mut().find(|(topic, _)| *topic == name) {
                Some((_, lines)) => lines[resolved].push(line),
                None => {
                    let mut lines = [Vec::new(), Vec::new()];
                    lines[resolved].push(line);
                    topics.push((name, lines));
                }
            }
        }

        let any_firing = topics.iter().any(|(_, [firing, _])| !firing.is_empty());
        let mut messages = Vec::new();
        for (topic, statuses) in topics {
            for (lines, (icon, title)) in statuses.iter().zip([(":alert:", "FIRING"), (":squared_ok:", "Resolved")]) {
                let content = match lines.as_slice() {
                    [] => continue,
                    [line] => format!("{icon} **{title}** {line}"),
                    lines => format!(
                        "{icon} **{title}**\n{}",
                        lines.iter().map(|l| format!("* {l}")).collect::<Vec<_>>().join("\n")
                    ),
                };
                messages.push((topic.clone(), content));
            }
        }
        let outcome = if messages.is_empty() { Outcome::Ignore } else { Outcome::Messages(messages) };
        Ok(Handled { event: if any_firing { "firing" } else { "resolved" }.into(), outcome })
    }

    fn sample(&self) -> (Option<&'static str>, &'static str) {
        (
            None,
            r#"{"version": "4", "status": "firing", "receiver": "hookline", "groupLabels": {"alertname": "InstanceDown"}, "commonLabels": {"alertname": "InstanceDown", "job": "api-server", "severity": "critical"}, "commonAnnotations": {}, "externalURL": "http://alertmanager:9093", "alerts": [{"status": "firing", "labels": {"alertname": "InstanceDown", "instance": "10.0.3.14:8080", "job": "api-server", "severity": "critical"}, "annotations": {"summary": "api-server at 10.0.3.14:8080 is down"}, "startsAt": "2026-11-22T23:41:07Z", "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prometheus:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1", "fingerprint": "5a3b1c8e9f2d4a61"}]}"#,
        )
    }
}

/// The alert's label `key`, else its annotation `key`; `None` when it has neither. A label or
/// annotation of another type than text is Malformed.
fn field<'v>(alert: &'v Value, key: &str) -> Result<Option<&'v str>, IntegrationError> {
    for map in ["labels", "annotations"] {
        match alert.get(map) {
            None | Some(Value::Null) => {}
            Some(Value::Object(values)) => match values.get(key) {
                None => {}
                Some(Value::String(value)) => return Ok(Some(value)),
                Some(_) => return Err(IntegrationError::Malformed(format!("expected text at {map}.{key}"))),
            },
            Some(_) => return Err(IntegrationError::Malformed(format!("expected an object at {map}"))),
        }
    }
    Ok(None)
}
