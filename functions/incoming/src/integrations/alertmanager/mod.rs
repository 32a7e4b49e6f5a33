//! `alertmanager`: Prometheus Alertmanager's webhook receiver (payload version 4).
//!
//! Modelled on Zulip's `alertmanager`, with one message per notification rather than one per
//! `instance`: the topic is the group's alert name (`commonLabels.alertname`, else
//! `groupLabels`), and the message lists the firing alerts, then the resolved ones, each with
//! its severity's emoji, its summary and a link to its source:
//!
//! ```text
//! **FIRING**
//! * :alert: api-server at 10.0.3.14:8080 is down ([source](http://prometheus:9090/graph?…))
//! * :warning: api-server at 10.0.3.15:8080 is slow ([source](http://prometheus:9090/graph?…))
//! ```

#[cfg(test)]
mod tests;

use serde_json::{Map, Value};

use crate::integration::{Handled, Integration, IntegrationError, Outcome, Payload, list, optional_text};

/// Alerts shown in one message; the rest are counted.
const MAX_ALERTS: usize = 20;

pub struct Alertmanager;

impl Integration for Alertmanager {
    fn name(&self) -> &'static str {
        "alertmanager"
    }

    fn display_name(&self) -> &'static str {
        "Alertmanager"
    }

    fn event_types(&self) -> &'static [&'static str] {
        &["firing", "resolved"]
    }

    fn handle(&self, payload: &Payload<'_>) -> Result<Handled, IntegrationError> {
        let body = payload.body;
        if !body.is_object() {
            return Err(IntegrationError::Malformed("expected a JSON object".into()));
        }
        let alerts = list(body, "/alerts")?;
        if alerts.is_empty() {
            return Err(IntegrationError::Malformed("no alerts".into()));
        }
        let status = match optional_text(body, "status")? {
            Some(status @ ("firing" | "resolved")) => status,
            Some(other) => return Err(IntegrationError::Malformed(format!("unknown status '{other}'"))),
            None => "",
        };

        let mut firing = Vec::new();
        let mut resolved = Vec::new();
        for alert in alerts.iter().take(MAX_ALERTS) {
            let alert_status = optional_text(alert, "status")?.unwrap_or(status);
            if alert_status == "resolved" {
                resolved.push(alert_line(alert, true)?);
            } else {
                firing.push(alert_line(alert, false)?);
            }
        }
        let mut sections: Vec<String> = [("FIRING", &firing), ("Resolved", &resolved)]
            .into_iter()
            .filter(|(_, lines)| !lines.is_empty())
            .map(|(title, lines)| match lines.as_slice() {
                [line] => format!("**{title}** {line}"),
                lines => {
                    format!("**{title}**\n{}", lines.iter().map(|l| format!("* {l}")).collect::<Vec<_>>().join("\n"))
                }
            })
            .collect();
        if alerts.len() > MAX_ALERTS {
            sections.push(format!("[and {} more]", alerts.len() - MAX_ALERTS));
        }

        // Without a status, the notification is firing while any of its alerts is.
        let event = match status {
            "" if firing.is_empty() => "resolved",
            "" => "firing",
            status => status,
        };
        Ok(Handled {
            event: event.into(),
            outcome: Outcome::Message { topic: topic(body), content: sections.join("\n\n") },
        })
    }

    fn sample(&self) -> (Option<&'static str>, &'static str) {
        (
            None,
            r#"{"version": "4", "status": "firing", "receiver": "hookline", "groupLabels": {"alertname": "InstanceDown"}, "commonLabels": {"alertname": "InstanceDown", "job": "api-server", "severity": "critical"}, "commonAnnotations": {}, "externalURL": "http://alertmanager:9093", "alerts": [{"status": "firing", "labels": {"alertname": "InstanceDown", "instance": "10.0.3.14:8080", "job": "api-server", "severity": "critical"}, "annotations": {"summary": "api-server at 10.0.3.14:8080 is down"}, "startsAt": "2026-11-22T23:41:07Z", "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prometheus:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1", "fingerprint": "5a3b1c8e9f2d4a61"}]}"#,
        )
    }
}

/// The group's alert name, or its grouping labels' values, or "Alertmanager".
fn topic(body: &Value) -> String {
    let alertname = |labels: &str| {
        body.pointer(&format!("/{labels}/alertname")).and_then(Value::as_str).filter(|n| !n.trim().is_empty())
    };
    if let Some(name) = alertname("commonLabels").or_else(|| alertname("groupLabels")) {
        return name.trim().to_owned();
    }
    let values: Vec<&str> = body
        .get("groupLabels")
        .and_then(Value::as_object)
        .map(|labels| labels.values().filter_map(Value::as_str).filter(|v| !v.trim().is_empty()).collect())
        .unwrap_or_default();
    if values.is_empty() { "Alertmanager".into() } else { values.join(" / ") }
}

/// `:warning: <summary> ([source](<generatorURL>))`.
fn alert_line(alert: &Value, resolved: bool) -> Result<String, IntegrationError> {
    if !alert.is_object() {
        return Err(IntegrationError::Malformed("expected an alert object".into()));
    }
    let labels = string_map(alert, "labels")?;
    let annotations = string_map(alert, "annotations")?;
    let label = |key: &str| optional_text_in(labels, key, "labels");
    let annotation = |key: &str| optional_text_in(annotations, key, "annotations");
    let summary = match annotation("summary")?.or(annotation("description")?).or(label("alertname")?) {
        // A line of a list: newlines in a description would break it.
        Some(summary) => summary.split_whitespace().collect::<Vec<_>>().join(" "),
        None => "(no summary)".into(),
    };
    let emoji = if resolved { ":squared_ok:" } else { severity_emoji(label("severity")?.unwrap_or_default()) };
    Ok(match optional_text(alert, "generatorURL")?.map(str::trim).filter(|u| !u.is_empty()) {
        // Zulip's choice: the graph tab rather than the console tab.
        Some(url) => format!("{emoji} {summary} ([source]({}))", url.replace("tab=1", "tab=0")),
        None => format!("{emoji} {summary}"),
    })
}

/// Zulip's emoji for the usual `severity` labels; unknown severities count as alerts.
fn severity_emoji(severity: &str) -> &'static str {
    match severity.trim().to_ascii_lowercase().as_str() {
        "warning" | "warn" | "major" => ":warning:",
        "info" | "notice" | "low" | "debug" => ":info:",
        _ => ":alert:",
    }
}

fn optional_text_in<'v>(
    map: Option<&'v Map<String, Value>>,
    key: &str,
    name: &str,
) -> Result<Option<&'v str>, IntegrationError> {
    match map.and_then(|m| m.get(key)) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str()).filter(|s| !s.trim().is_empty())),
        Some(_) => Err(IntegrationError::Malformed(format!("expected text at {name}.{key}"))),
    }
}

/// An object of labels or annotations: missing is empty, another type is Malformed.
fn string_map<'v>(alert: &'v Value, key: &str) -> Result<Option<&'v Map<String, Value>>, IntegrationError> {
    match alert.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map)),
        Some(_) => Err(IntegrationError::Malformed(format!("expected an object at {key}"))),
    }
}
