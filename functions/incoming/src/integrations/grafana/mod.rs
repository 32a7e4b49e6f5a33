//! `grafana`: Grafana alerting's webhook contact point (Grafana 8 and later: `status`,
//! `alerts[]`, `commonLabels`, …) and Grafana 7's legacy dashboard alerts (`ruleName`, `state`,
//! `evalMatches`).
//!
//! Modelled on Zulip's `grafana`: each alert shows its status, name, times, labels, values,
//! annotations and links, in Zulip's layout. Zulip sends one message per alert; here one
//! notification is one message (its alerts one after another, at most [`MAX_ALERTS`]), in the
//! topic of its alert rule, so that an alert and its resolution share a topic. The event is the
//! notification's status (`firing`, `resolved`), or a legacy alert's state (`alerting`, `ok`, …).

#[cfg(test)]
mod tests;

use serde_json::{Map, Value};

use crate::integration::{Handled, Integration, IntegrationError, Outcome, Payload, list, optional_text, text};

/// Alerts shown in one message; the rest are counted.
pub const MAX_ALERTS: usize = 20;
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

    fn event_types(&self) -> &'static [&'static str] {
        &["firing", "resolved", "alerting", "ok", "pending", "paused", "no_data", "unknown"]
    }

    fn handle(&self, payload: &Payload<'_>) -> Result<Handled, IntegrationError> {
        let body = payload.body;
        if !body.is_object() {
            return Err(IntegrationError::Malformed("expected a JSON object".into()));
        }
        let (event, topic, content) = if body.get("alerts").is_some() { alerting(body)? } else { legacy(body)? };
        let topic = if topic.trim().is_empty() { "Grafana".to_owned() } else { topic.trim().to_owned() };
        Ok(Handled { event, outcome: Outcome::Message { topic, content } })
    }

    fn sample(&self) -> (Option<&'static str>, &'static str) {
        (
            None,
            r#"{"receiver": "hookline", "status": "firing", "orgId": 1, "alerts": [{"status": "firing", "labels": {"alertname": "High memory usage", "grafana_folder": "Infrastructure", "instance": "db-2"}, "annotations": {"summary": "Memory on db-2 is above 90%"}, "startsAt": "2026-11-22T23:41:00Z", "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "https://grafana.example.com/alerting/grafana/cdx8p1zq2k3cwa/view?orgId=1", "fingerprint": "9f8e7d6c5b4a3921", "silenceURL": "https://grafana.example.com/alerting/silence/new?alertmanager=grafana&matcher=alertname%3DHigh+memory+usage&orgId=1", "dashboardURL": "", "panelURL": "", "values": {"A": 93.4, "C": 1}, "valueString": "[ var='A' labels={instance=db-2} value=93.4 ], [ var='C' labels={instance=db-2} value=1 ]"}], "groupLabels": {"alertname": "High memory usage"}, "commonLabels": {"alertname": "High memory usage", "grafana_folder": "Infrastructure", "instance": "db-2"}, "commonAnnotations": {"summary": "Memory on db-2 is above 90%"}, "externalURL": "https://grafana.example.com/", "version": "1", "groupKey": "{}:{alertname=\"High memory usage\"}", "truncatedAlerts": 0, "title": "[FIRING:1] High memory usage Infrastructure (db-2)", "state": "alerting", "message": "**Firing**\n\nValue: A=93.4, C=1"}"#,
        )
    }
}

/// Grafana 8+ alerting: `(event, topic, content)`.
fn alerting(body: &Value) -> Result<(String, String, String), IntegrationError> {
    let alerts = list(body, "/alerts")?;
    if alerts.is_empty() {
        return Err(IntegrationError::Malformed("no alerts".into()));
    }
    let status = match optional_text(body, "status")? {
        Some(status @ ("firing" | "resolved")) => status,
        Some(other) => return Err(IntegrationError::Malformed(format!("unknown status '{other}'"))),
        None => {
            let any_firing = alerts.iter().any(|a| a.get("status").and_then(Value::as_str) != Some("resolved"));
            if any_firing { "firing" } else { "resolved" }
        }
    };
    let mut pieces = Vec::new();
    for alert in alerts.iter().take(MAX_ALERTS) {
        pieces.push(render_alert(alert, status)?);
    }
    // Grafana itself drops alerts past its own limit and counts them in `truncatedAlerts`.
    let dropped = body.get("truncatedAlerts").and_then(Value::as_u64).unwrap_or(0);
    let hidden = (alerts.len().saturating_sub(MAX_ALERTS) as u64).saturating_add(dropped);
    let mut content = pieces.join("\n\n----\n\n");
    if hidden > 0 {
        content.push_str(&format!("\n\n[and {hidden} more]"));
    }
    Ok((status.to_owned(), rule_name(body, alerts), content))
}

/// The alert rule the notification is about: the alert name its alerts share, else its title
/// without the `[FIRING:2]` prefix (which would split firing and resolved into two topics).
fn rule_name(body: &Value, alerts: &[Value]) -> String {
    if let Some(name) = alertname(body.get("commonLabels")) {
        return name.to_owned();
    }
    if let [alert] = alerts
        && let Some(name) = alertname(alert.get("labels"))
    {
        return name.to_owned();
    }
    if let Some(name) = alertname(body.get("groupLabels")) {
        return name.to_owned();
    }
    let title = body.get("title").and_then(Value::as_str).unwrap_or_default().trim();
    match title.strip_prefix('[').and_then(|rest| rest.split_once(']')) {
        Some((status, rest)) if status.starts_with("FIRING") || status.starts_with("RESOLVED") => {
            rest.trim().to_owned()
        }
        _ => title.to_owned(),
    }
}

fn alertname(labels: Option<&Value>) -> Option<&str> {
    labels.and_then(|l| l.get("alertname")).and_then(Value::as_str).filter(|n| !n.trim().is_empty())
}

/// One alert, in Zulip's layout.
fn render_alert(alert: &Value, notification_status: &str) -> Result<String, IntegrationError> {
    if !alert.is_object() {
        return Err(IntegrationError::Malformed("expected an alert object".into()));
    }
    let status = optional_text(alert, "status")?.unwrap_or(notification_status);
    let icon = match status {
        "firing" => ":alert:",
        "resolved" => ":checkbox:",
        _ => ":info:",
    };
    let labels = object(alert, "labels")?;
    let mut sections = vec![format!("{icon} **{}**", status.to_uppercase())];
    if let Some(name) = labels.and_then(|l| l.get("alertname")).and_then(Value::as_str).filter(|n| !n.is_empty()) {
        sections.push(format!("**{name}**"));
    }
    if let Some(starts) = non_empty_text(alert, "startsAt")? {
        sections.push(format!("This alert was fired at {}.", global_time(starts)));
    }
    if status == "resolved"
        && let Some(ends) = non_empty_text(alert, "endsAt")?.filter(|e| *e != NOT_ENDED)
    {
        sections.push(format!("This alert was resolved at {}.", global_time(ends)));
    }
    if let Some(labels) = labels.filter(|l| !l.is_empty()) {
        sections.push(format!("Labels:\n{}", bullets(labels, "labels")?));
    }
    if let Some(values) = object(alert, "values")?.filter(|v| !v.is_empty()) {
        sections.push(format!("Values:\n{}", bullets(values, "values")?));
    } else if let Some(values) = non_empty_text(alert, "valueString")? {
        sections.push(format!("Values:\n{values}"));
    }
    if let Some(annotations) = object(alert, "annotations")?.filter(|a| !a.is_empty()) {
        sections.push(format!("Annotations:\n{}", bullets(annotations, "annotations")?));
    }
    let mut links = Vec::new();
    for (key, label) in [
        ("generatorURL", "Generator"),
        ("silenceURL", "Silence"),
        ("dashboardURL", "Dashboard"),
        ("panelURL", "Panel"),
        ("imageURL", "Image"),
    ] {
        if let Some(url) = non_empty_text(alert, key)? {
            links.push(format!("[{label}]({url})"));
        }
    }
    if !links.is_empty() {
        sections.push(links.join("\n"));
    }
    Ok(sections.join("\n\n"))
}

/// `- key: value` lines. Values are text (labels, annotations) or numbers (`values`).
fn bullets(map: &Map<String, Value>, name: &str) -> Result<String, IntegrationError> {
    let mut lines = Vec::with_capacity(map.len());
    for (key, value) in map {
        let value = match value {
            Value::String(s) => s.clone(),
            Value::Number(_) | Value::Bool(_) | Value::Null => value.to_string(),
            _ => return Err(IntegrationError::Malformed(format!("expected text at {name}.{key}"))),
        };
        lines.push(format!("- {key}: {value}"));
    }
    Ok(lines.join("\n"))
}

/// Grafana 7's legacy alerts: `(event, topic, content)`, as Zulip renders them.
fn legacy(body: &Value) -> Result<(String, String, String), IntegrationError> {
    let state = text(body, "/state")?;
    let icon = match state {
        "alerting" => ":alert:",
        "ok" => ":squared_ok:",
        "pending" | "paused" | "no_data" | "unknown" => ":info:",
        other => return Err(IntegrationError::Malformed(format!("unknown state '{other}'"))),
    };
    let rule = optional_text(body, "ruleName")?.unwrap_or_default();
    let mut sections = vec![format!("{icon} **{}**", state.to_uppercase())];
    match non_empty_text(body, "ruleUrl")? {
        Some(url) if !rule.is_empty() => sections.push(format!("[{rule}]({url})")),
        _ if !rule.is_empty() => sections.push(rule.to_owned()),
        _ => {}
    }
    if let Some(message) = non_empty_text(body, "message")? {
        sections.push(message.to_owned());
    }
    let matches = list(body, "/evalMatches")?;
    if !matches.is_empty() {
        let mut lines = Vec::new();
        for eval_match in matches.iter().take(MAX_ALERTS) {
            let metric = text(eval_match, "/metric")?;
            let value = match eval_match.get("value") {
                Some(value @ Value::Number(_)) => value.to_string(),
                None | Some(Value::Null) => "null".to_owned(),
                Some(_) => return Err(IntegrationError::Malformed("expected a number at /value".into())),
            };
            lines.push(format!("**{metric}:** {value}"));
        }
        if matches.len() > MAX_ALERTS {
            lines.push(format!("[and {} more]", matches.len() - MAX_ALERTS));
        }
        sections.push(lines.join("\n"));
    }
    if let Some(image) = non_empty_text(body, "imageUrl")? {
        sections.push(format!("[Click to view visualization]({image})"));
    }
    let title = optional_text(body, "title")?.filter(|t| !t.trim().is_empty()).unwrap_or(rule);
    Ok((state.to_owned(), title.to_owned(), sections.join("\n\n")))
}

/// Zulip's global time syntax for an RFC 3339 time, to the second in its own offset:
/// `2021-10-12T09:51:03.157076+02:00` → `<time:2021-10-12T09:51:03+02:00>`. Anything else is
/// shown as it came.
fn global_time(time: &str) -> String {
    rfc3339_to_the_second(time).map_or_else(|| time.to_owned(), |time| format!("<time:{time}>"))
}

fn rfc3339_to_the_second(time: &str) -> Option<String> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !time.is_ascii() || time.len() < 20 {
        return None;
    }
    let (date, separator, clock, rest) = (&time[..10], &time[10..11], &time[11..19], &time[19..]);
    let date_ok =
        digits(&date[..4]) && &date[4..5] == "-" && digits(&date[5..7]) && &date[7..8] == "-" && digits(&date[8..]);
    let clock_ok = digits(&clock[..2])
        && &clock[2..3] == ":"
        && digits(&clock[3..5])
        && &clock[5..6] == ":"
        && digits(&clock[6..]);
    if !date_ok || !clock_ok || !matches!(separator, "T" | "t" | " ") {
        return None;
    }
    let offset = match rest.strip_prefix('.') {
        Some(fraction) => &fraction[fraction.find(|c: char| !c.is_ascii_digit())?..],
        None => rest,
    };
    let sign = offset.starts_with(['+', '-']);
    let offset = match offset.len() {
        _ if offset.eq_ignore_ascii_case("z") => "+00:00".to_owned(),
        6 if sign && &offset[3..4] == ":" && digits(&offset[1..3]) && digits(&offset[4..]) => offset.to_owned(),
        5 if sign && digits(&offset[1..]) => format!("{}:{}", &offset[..3], &offset[3..]),
        _ => return None,
    };
    Some(format!("{date}T{clock}{offset}"))
}

fn non_empty_text<'v>(value: &'v Value, key: &str) -> Result<Option<&'v str>, IntegrationError> {
    Ok(optional_text(value, key)?.map(str::trim).filter(|t| !t.is_empty()))
}

/// The object at `key`: missing is `None`, another type is Malformed.
fn object<'v>(value: &'v Value, key: &str) -> Result<Option<&'v Map<String, Value>>, IntegrationError> {
    match value.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map)),
        Some(_) => Err(IntegrationError::Malformed(format!("expected an object at {key}"))),
    }
}
