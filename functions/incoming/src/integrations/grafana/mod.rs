//! `grafana`: Grafana alerting's webhook contact point (Grafana 8 and later: `alerts[]`) and
//! Grafana 7's legacy dashboard alerts (`ruleName`, `state`, `evalMatches`), as Zulip's
//! `grafana`: one message per alert, in the topic `[<alertname>]` (the fingerprint without an
//! alert name), showing its status, name, times, labels, values, annotations and links; a
//! legacy alert in the topic of its title. The event is the alert's status (`firing`,
//! `resolved`), or the legacy alert's state (`alerting`, `ok`, …).

#[cfg(test)]
mod tests;

use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::integration::{Handled, Integration, IntegrationError, Outcome, Payload, list, text};
use hookline_messaging::pyjson::PyValue;

/// Go's zero time: Grafana's `endsAt` of an alert that has not ended.
const NOT_ENDED: &str = "0001-01-01T00:00:00Z";

pub struct Grafana;

impl Integration for Grafana {
    fn name(&self) -> &'static str {
        "grafana"
    }

    fn display_name(&self) -> &'static str {
        "Grafana"
    }

    fn categories(&self) -> &'static [&'static str] {
        &["monitoring"]
    }

    fn event_types(&self) -> &'static [&'static str] {
        &["firing", "resolved", "alerting", "ok", "pending", "paused", "no_data", "unknown"]
    }

    fn handle(&self, payload: &Payload<'_>) -> Result<Handled, IntegrationError> {
        let body = payload.body;
        if !body.is_object() {
            return Err(IntegrationError::Malformed("expected a JSON object".into()));
        }
        if body.get("alerts").is_some() { alerting(body) } else { legacy(body) }
    }

    fn sample(&self) -> (Option<&'static str>, &'static str) {
        (
            None,
            r#"{"receiver": "hookline", "status": "firing", "orgId": 1, "alerts": [{"status": "firing", "labels": {"alertname": "High memory usage", "grafana_folder": "Infrastructure", "instance": "db-2"}, "annotations": {"summary": "Memory on db-2 is above 90%"}, "startsAt": "2026-11-22T23:41:00Z", "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "https://grafana.example.com/alerting/grafana/cdx8p1zq2k3cwa/view?orgId=1", "fingerprint": "9f8e7d6c5b4a3921", "silenceURL": "https://grafana.example.com/alerting/silence/new?alertmanager=grafana&matcher=alertname%3DHigh+memory+usage&orgId=1", "dashboardURL": "", "panelURL": "", "values": {"A": 93.4, "C": 1}, "valueString": "[ var='A' labels={instance=db-2} value=93.4 ], [ var='C' labels={instance=db-2} value=1 ]"}], "groupLabels": {"alertname": "High memory usage"}, "commonLabels": {"alertname": "High memory usage", "grafana_folder": "Infrastructure", "instance": "db-2"}, "commonAnnotations": {"summary": "Memory on db-2 is above 90%"}, "externalURL": "https://grafana.example.com/", "version": "1", "groupKey": "{}:{alertname=\"High memory usage\"}", "truncatedAlerts": 0, "title": "[FIRING:1] High memory usage Infrastructure (db-2)", "state": "alerting", "message": "**Firing**\n\nValue: A=93.4, C=1"}"#,
        )
    }
}

/// Grafana 8+ alerting: one message per alert.
fn alerting(body: &Value) -> Result<Handled, IntegrationError> {
    if !body["alerts"].is_array() {
        return Err(IntegrationError::Malformed("expected a list at /alerts".into()));
    }
    let mut messages = Vec::new();
    let mut statuses = Vec::new();
    for alert in list(body, "/alerts")? {
        let (status, topic, content) = render_alert(alert)?;
        statuses.push(status);
        messages.push((topic, content));
    }
    // The event of the notification: firing while any of its alerts is.
    let event = if statuses.contains(&"firing") || statuses.is_empty() { "firing" } else { "resolved" };
    let outcome = if messages.is_empty() { Outcome::Ignore } else { Outcome::Messages(messages) };
    Ok(Handled { event: event.into(), outcome })
}

/// One alert: `(status, topic, content)`.
fn render_alert(alert: &Value) -> Result<(&'static str, String, String), IntegrationError> {
    if !alert.is_object() {
        return Err(IntegrationError::Malformed("expected an alert object".into()));
    }
    let (status, icon) = match text(alert, "/status")? {
        "firing" => ("firing", ":alert:"),
        "resolved" => ("resolved", ":checkbox:"),
        other => return Err(IntegrationError::Malformed(format!("unknown alert status '{other}'"))),
    };
    let mut body = format!("{icon} **{}**\n\n", status.to_uppercase());
    let labels = object(alert, "labels")?;
    let alertname = match labels.get("alertname") {
        None | Some(Value::Null) => None,
        Some(Value::String(name)) => Some(name.as_str()).filter(|name| !name.is_empty()),
        Some(_) => return Err(IntegrationError::Malformed("expected text at labels.alertname".into())),
    };
    let topic = match alertname {
        Some(name) => {
            let _ = write!(body, "**{name}**\n\n");
            format!("[{name}]")
        }
        // Without an alert name, the alert's fingerprint.
        None => format!("[{}]", text(alert, "/fingerprint")?),
    };
    let _ = write!(body, "This alert was fired at <time:{}>.", text(alert, "/startsAt")?);
    let ends_at = text(alert, "/endsAt")?;
    if ends_at != NOT_ENDED {
        let _ = write!(body, "\n\nThis alert was resolved at <time:{ends_at}>.");
    }
    if !labels.is_empty() {
        let _ = write!(body, "\n\nLabels:\n{}\n", bullets(labels, "labels", |v| v.as_str().map(str::to_owned))?);
    }
    match alert.get("values") {
        Some(Value::Object(values)) if !values.is_empty() => {
            let _ = write!(body, "Values:\n{}\n", bullets(values, "values", |v| Some(python_str(v)))?);
        }
        _ => {
            if let Some(values) = truthy_text(alert, "valueString")? {
                let _ = write!(body, "Values:\n{values}\n\n");
            }
        }
    }
    let annotations = object(alert, "annotations")?;
    if !annotations.is_empty() {
        let _ =
            write!(body, "Annotations:\n{}", bullets(annotations, "annotations", |v| v.as_str().map(str::to_owned))?);
    }
    for (key, label) in [("generatorURL", "Generator"), ("silenceURL", "Silence"), ("imageURL", "Image")] {
        if key != "imageURL" && alert.get(key).is_none() {
            return Err(IntegrationError::Malformed(format!("expected text at /{key}")));
        }
        if let Some(url) = truthy_text(alert, key)? {
            let _ = write!(body, "\n[{label}]({url})");
        }
    }
    Ok((status, topic, normalized(&body)))
}

/// `- key: value` lines, each ending with a newline; a value `show` cannot show is Malformed.
fn bullets(
    map: &Map<String, Value>,
    name: &str,
    show: impl Fn(&Value) -> Option<String>,
) -> Result<String, IntegrationError> {
    let mut lines = String::new();
    for (key, value) in map {
        let value = show(value).ok_or_else(|| IntegrationError::Malformed(format!("expected text at {name}.{key}")))?;
        let _ = writeln!(lines, "- {key}: {value}");
    }
    Ok(lines)
}

/// A value as Python's `str()` shows it.
fn python_str(value: &Value) -> String {
    python_value(value).to_python_str()
}

fn python_value(value: &Value) -> PyValue {
    serde_json::from_value(value.clone()).unwrap_or(PyValue::None)
}

/// Grafana 7's legacy alert: one message in the topic of its title.
fn legacy(body: &Value) -> Result<Handled, IntegrationError> {
    let topic = text(body, "/title")?.to_owned();
    let mut eval_matches = String::new();
    for found in list(body, "/evalMatches")? {
        let metric = text(found, "/metric")?;
        let value = match found.get("value") {
            None => return Err(IntegrationError::Malformed("expected a number at evalMatches.value".into())),
            Some(value @ (Value::Null | Value::Number(_))) => python_str(value),
            Some(_) => return Err(IntegrationError::Malformed("expected a number at evalMatches.value".into())),
        };
        let _ = writeln!(eval_matches, "**{metric}:** {value}");
    }
    let message = match body.get("message") {
        None => String::new(),
        Some(_) => format!("{}\n\n", text(body, "/message")?),
    };
    let state = text(body, "/state")?;
    let icon = match state {
        "alerting" => ":alert:",
        "ok" => ":squared_ok:",
        "no_data" | "paused" | "pending" | "unknown" => ":info:",
        other => return Err(IntegrationError::Malformed(format!("unknown state '{other}'"))),
    };
    let mut content = format!(
        "{icon} **{}**\n\n[{}]({})\n\n{message}{eval_matches}",
        state.to_uppercase(),
        text(body, "/ruleName")?,
        text(body, "/ruleUrl")?
    );
    if body.get("imageUrl").is_some() {
        let _ = write!(content, "\n[Click to view visualization]({})", text(body, "/imageUrl")?);
    }
    Ok(Handled { event: state.to_owned(), outcome: Outcome::Message { topic, content: content.trim().to_owned() } })
}

/// The message as Zulip stores it: no trailing whitespace, no leading blank lines.
fn normalized(content: &str) -> String {
    content.trim_end().trim_start_matches('\n').to_owned()
}

/// The object at `key`, which must be there.
fn object<'v>(value: &'v Value, key: &str) -> Result<&'v Map<String, Value>, IntegrationError> {
    value
        .get(key)
        .and_then(Value::as_object)
        .ok_or_else(|| IntegrationError::Malformed(format!("expected an object at /{key}")))
}

/// The text at `key` when it is there and not empty (missing, null and "" are `None`); another
/// type is Malformed.
fn truthy_text<'v>(value: &'v Value, key: &str) -> Result<Option<&'v str>, IntegrationError> {
    match value.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str()).filter(|s| !s.is_empty())),
        Some(_) => Err(IntegrationError::Malformed(format!("expected text at /{key}"))),
    }
}
