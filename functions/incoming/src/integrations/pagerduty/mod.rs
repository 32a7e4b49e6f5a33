//! `pagerduty`: PagerDuty's incident webhooks, as Zulip's `pagerduty`, in all three of
//! PagerDuty's webhook versions:
//!
//! - v1 (`{"messages": [{"type": "incident.trigger", "data": {"incident": …}}]}`) and v2
//!   (`{"messages": [{"event": "incident.trigger", "incident": …}]}`): one message per entry;
//! - v3 (`{"event": {"event_type": "incident.triggered", "data": …}}`): one message.
//!
//! The topic is `Incident <number>` (`Incident <title> (#<number>)` in v3); the message says
//! what happened to the incident, who caused it or to whom it is assigned, and quotes the
//! trigger's summary (v1) or the incident's description (v2):
//!
//! ```text
//! Incident [3](https://acme.pagerduty.com/incidents/P140S4Y) triggered by [Test service](https://acme.pagerduty.com/services/PIL5CUQ) (assigned to [armooo](https://acme.pagerduty.com/users/POBCFRJ)).
//!
//! ``` quote
//! foo
//! ```
//! ```

#[cfg(test)]
mod tests;

use serde_json::Value;

use crate::integration::{
    Handled, Integration, IntegrationError, Outcome, Payload, number, optional_text, text, truthy,
};
use crate::signature::{Encoding, Hash, failed, matches};

pub struct Pagerduty;

/// The header PagerDuty v3 signs with.
const SIGNATURE_HEADER: &str = "X-PagerDuty-Signature";

/// Every event name a message can carry: the past tense of the incident's change.
const EVENT_TYPES: &[&str] =
    &["resolved", "assigned", "unacknowledged", "acknowledged", "triggered", "reassigned", "escalated", "delineated"];

/// What a message says happened, by the webhook version's event name.
fn action(version: Version, event: &str) -> Option<&'static str> {
    let action = match (version, event) {
        (Version::V1 | Version::V2, "incident.trigger") => "triggered",
        (Version::V1 | Version::V2, "incident.acknowledge") => "acknowledged",
        (Version::V1, "incident.unacknowledge") => "unacknowledged",
        (Version::V1 | Version::V2, "incident.resolve") => "resolved",
        (Version::V1 | Version::V2, "incident.assign") => "assigned",
        (Version::V1, "incident.escalate") => "escalated",
        // Zulip's word for a delegated incident.
        (Version::V1, "incident.delegate") => "delineated",
        (Version::V3, "incident.triggered") => "triggered",
        (Version::V3, "incident.acknowledged") => "acknowledged",
        (Version::V3, "incident.unacknowledged") => "unacknowledged",
        (Version::V3, "incident.resolved") => "resolved",
        (Version::V3, "incident.reassigned") => "reassigned",
        _ => return None,
    };
    Some(action)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    V1,
    V2,
    V3,
}

/// One incident's change, read from any version's payload.
struct Incident {
    action: &'static str,
    /// The incident's number, or in v3 `<title> (#<number>)`.
    title: String,
    url: String,
    service: String,
    service_url: String,
    /// `[name](url)` of the first assignee, or `nobody`.
    assignee: String,
    /// `[name](url)` of who made the change, when the payload says.
    agent: Option<String>,
    /// What is quoted under the message; v3 quotes nothing.
    quote: Option<String>,
}

impl Integration for Pagerduty {
    fn name(&self) -> &'static str {
        "pagerduty"
    }

    fn display_name(&self) -> &'static str {
        "PagerDuty"
    }

    fn categories(&self) -> &'static [&'static str] {
        &["monitoring"]
    }

    fn event_types(&self) -> &'static [&'static str] {
        EVENT_TYPES
    }

    /// PagerDuty v3 signs with the webhook subscription's secret: `X-PagerDuty-Signature` is
    /// `v1=<hex HMAC-SHA256 of the body>`, several of them comma-separated while a secret is
    /// being rotated; any one matching passes.
    fn verify(&self, secret: &str, payload: &Payload<'_>) -> Result<(), IntegrationError> {
        let Some(value) = payload.header(&SIGNATURE_HEADER.to_ascii_lowercase()) else {
            return Err(IntegrationError::BadSignature(format!(
                "Missing the {SIGNATURE_HEADER} header: set the same secret on the sender's webhook"
            )));
        };
        let signed = value
            .split(',')
            .filter_map(|signature| signature.trim().strip_prefix("v1="))
            .any(|signature| matches(Hash::Sha256, Encoding::Hex, secret, &[payload.raw], signature));
        if signed { Ok(()) } else { Err(failed()) }
    }

    fn handle(&self, payload: &Payload<'_>) -> Result<Handled, IntegrationError> {
        let body = payload.body;
        if !body.is_object() {
            return Err(IntegrationError::Malformed("expected an object".into()));
        }
        let incidents = match body.get("messages") {
            Some(messages) if truthy(messages) => {
                let Value::Array(messages) = messages else {
                    return Err(IntegrationError::Malformed("expected a list at /messages".into()));
                };
                self.v1_and_v2(messages)?
            }
            _ => match body.get("event") {
                Some(event) => vec![self.v3(event)?],
                None => Vec::new(),
            },
        };
        let event = incidents.first().map_or("unknown", |incident| incident.action).to_owned();
        let messages: Vec<(String, String)> =
            incidents.iter().map(|incident| (format!("Incident {}", incident.title), render(incident))).collect();
        let outcome = match <[_; 1]>::try_from(messages) {
            Ok([(topic, content)]) => Outcome::Message { topic, content },
            Err(messages) if messages.is_empty() => Outcome::Ignore,
            Err(messages) => Outcome::Messages(messages),
        };
        Ok(Handled { event, outcome })
    }

    fn sample(&self) -> (Option<&'static str>, &'static str) {
        (None, include_str!("fixtures/triggered_v3.json"))
    }
}

impl Pagerduty {
    /// The entries of a v1 or v2 `messages` list: the leading entries that name a v1 `type`,
    /// then the leading entries that name a v2 `event`.
    fn v1_and_v2(&self, messages: &[Value]) -> Result<Vec<Incident>, IntegrationError> {
        let mut incidents = Vec::new();
        for (key, version) in [("type", Version::V1), ("event", Version::V2)] {
            for message in messages {
                if !message.is_object() {
                    return Err(IntegrationError::Malformed("expected an object in /messages".into()));
                }
                let Some(kind) = optional_text(message, key)? else { break };
                let action = self.supported(version, kind)?;
                incidents.push(if version == Version::V1 { v1(message, action)? } else { v2(message, action)? });
            }
        }
        Ok(incidents)
    }

    fn v3(&self, event: &Value) -> Result<Incident, IntegrationError> {
        let kind = text(event, "/event_type")?;
        let action = self.supported(Version::V3, kind)?;
        let data = at(event, "/data")?;
        let assignee = match data.get("assignees") {
            Some(assignees) if truthy(assignees) => reference(first(assignees, "/data/assignees")?)?,
            Some(_) => "nobody".to_owned(),
            None => return Err(IntegrationError::Malformed("expected a list at /event/data/assignees".into())),
        };
        text(data, "/id")?;
        Ok(Incident {
            action,
            title: format!("{} (#{})", text(data, "/title")?, number(data, "/number")?),
            url: text(data, "/html_url")?.to_owned(),
            service: text(data, "/service/summary")?.to_owned(),
            service_url: text(data, "/service/html_url")?.to_owned(),
            assignee,
            agent: event.get("agent").filter(|agent| !agent.is_null()).map(reference).transpose()?,
            quote: None,
        })
    }

    fn supported(&self, version: Version, event: &str) -> Result<&'static str, IntegrationError> {
        action(version, event)
            .ok_or_else(|| IntegrationError::Unsupported { event: event.to_owned(), integration: self.display_name() })
    }
}

/// A v1 entry: `data.incident`, its users named by their email's local part.
fn v1(message: &Value, action: &'static str) -> Result<Incident, IntegrationError> {
    let incident = at(message, "/data/incident")?;
    text(incident, "/id")?;
    let user = |key: &str| -> Result<Option<String>, IntegrationError> {
        match incident.get(key) {
            Some(user) if truthy(user) => {
                let email = text(user, "/email")?;
                let name = email.rsplit_once('@').map_or(email, |(local, _)| local);
                Ok(Some(format!("[{name}]({})", text(user, "/html_url")?)))
            }
            _ => Ok(None),
        }
    };
    let mut quoted = Vec::new();
    if let Some(summary) = incident.get("trigger_summary_data").filter(|summary| truthy(summary)) {
        if !summary.is_object() {
            return Err(IntegrationError::Malformed("expected an object at trigger_summary_data".into()));
        }
        for key in ["subject", "description"] {
            match summary.get(key) {
                None => {}
                Some(Value::String(line)) if line.is_empty() => {}
                Some(Value::String(line)) => quoted.push(line.as_str()),
                Some(_) => {
                    return Err(IntegrationError::Malformed(format!("expected text at trigger_summary_data/{key}")));
                }
            }
        }
    }
    Ok(Incident {
        action,
        title: number(incident, "/incident_number")?.to_string(),
        url: text(incident, "/html_url")?.to_owned(),
        service: text(incident, "/service/name")?.to_owned(),
        service_url: text(incident, "/service/html_url")?.to_owned(),
        assignee: user("assigned_to_user")?.unwrap_or_else(|| "nobody".to_owned()),
        agent: user("resolved_by_user")?,
        quote: Some(quoted.join("\n")),
    })
}

/// A v2 entry: `incident`, with its first assignment and its description.
fn v2(message: &Value, action: &'static str) -> Result<Incident, IntegrationError> {
    let incident = at(message, "/incident")?;
    text(incident, "/id")?;
    let assignee = match incident.get("assignments") {
        Some(assignments) if truthy(assignments) => {
            reference(at(first(assignments, "/incident/assignments")?, "/assignee")?)?
        }
        Some(_) => "nobody".to_owned(),
        None => return Err(IntegrationError::Malformed("expected a list at /incident/assignments".into())),
    };
    let quote = match incident.get("description") {
        None | Some(Value::Null) => None,
        Some(Value::String(description)) => Some(description.clone()),
        Some(_) => return Err(IntegrationError::Malformed("expected text at /incident/description".into())),
    };
    Ok(Incident {
        action,
        title: number(incident, "/incident_number")?.to_string(),
        url: text(incident, "/html_url")?.to_owned(),
        service: text(incident, "/service/name")?.to_owned(),
        service_url: text(incident, "/service/html_url")?.to_owned(),
        assignee,
        agent: incident.get("last_status_change_by").filter(|agent| !agent.is_null()).map(reference).transpose()?,
        quote,
    })
}

/// The message for one incident's change.
fn render(incident: &Incident) -> String {
    let Incident { action, title, url, service, service_url, assignee, agent, quote } = incident;
    let incident_link = format!("Incident [{title}]({url})");
    let mut message = match *action {
        "triggered" | "unacknowledged" => {
            format!("{incident_link} {action} by [{service}]({service_url}) (assigned to {assignee}).")
        }
        "resolved" => match agent {
            Some(agent) => format!("{incident_link} resolved by {agent}."),
            None => format!("{incident_link} resolved."),
        },
        "assigned" | "reassigned" => format!("{incident_link} {action} to {assignee}."),
        _ => format!("{incident_link} {action} by {assignee}."),
    };
    if let Some(quote) = quote {
        message.push_str(&format!("\n\n``` quote\n{quote}\n```"));
    }
    message
}

/// A PagerDuty reference (a user, a service): `[summary](html_url)`.
fn reference(value: &Value) -> Result<String, IntegrationError> {
    Ok(format!("[{}]({})", text(value, "/summary")?, text(value, "/html_url")?))
}

/// The value at `pointer`, or a Malformed error.
fn at<'v>(value: &'v Value, pointer: &str) -> Result<&'v Value, IntegrationError> {
    value.pointer(pointer).ok_or_else(|| IntegrationError::Malformed(format!("expected a value at {pointer}")))
}

/// The first item of a non-empty list.
fn first<'v>(value: &'v Value, pointer: &str) -> Result<&'v Value, IntegrationError> {
    value
        .as_array()
        .and_then(|items| items.first())
        .ok_or_else(|| IntegrationError::Malformed(format!("expected a list at {pointer}")))
}
