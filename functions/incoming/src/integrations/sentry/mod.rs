//! `sentry`: Sentry's alerts and issue changes, as Zulip's `sentry`.
//!
//! Three kinds of request arrive:
//!
//! - an internal integration's alert rule action (`Sentry-Hook-Resource: event_alert`,
//!   `{"data": {"event": …}}`) or the WebHooks plugin's alert (`{"event": {"event_id": …}, "url":
//!   …}`): an exception (with the frame that raised it, when the stack trace has it) or a
//!   message, in a topic named after the event's title;
//! - an internal integration's issue webhook (`Sentry-Hook-Resource: issue`, `{"action":
//!   "created", "data": {"issue": …}, "actor": …}`): created, resolved, assigned or ignored, in
//!   the issue's title;
//! - the old plugin's alert without an event id: the issue's message, in the project's name.
//!
//! The other resources Sentry names in `Sentry-Hook-Resource` (installations, metric alerts,
//! errors, comments) are answered as unsupported events.

#[cfg(test)]
mod tests;

use serde_json::{Map, Value};

use crate::integration::{Handled, Integration, IntegrationError, Outcome, Payload, text, truthy, utc_date_time};
use crate::signature::{Encoding, Hash, Scheme};

pub struct Sentry;

/// The header naming the resource a request is about.
const RESOURCE_HEADER: &str = "sentry-hook-resource";

/// The resources Zulip's messages cover; the others are unsupported.
const RESOURCES: &[&str] = &["event_alert", "issue"];

/// The issue actions shown, as `issue_<action>` events.
const ISSUE_ACTIONS: &[&str] = &["created", "resolved", "assigned", "ignored"];

/// Sentry's title for the sample event it sends from its settings; it comes with an old SDK
/// version and is shown all the same.
const SAMPLE_TITLE: &str = "This is an example Python exception";

impl Integration for Sentry {
    fn name(&self) -> &'static str {
        "sentry"
    }

    fn display_name(&self) -> &'static str {
        "Sentry"
    }

    fn categories(&self) -> &'static [&'static str] {
        &["monitoring"]
    }

    fn event_types(&self) -> &'static [&'static str] {
        &["event_alert", "issue_created", "issue_resolved", "issue_assigned", "issue_ignored"]
    }

    /// Sentry's integration platform signs with the integration's client secret:
    /// `Sentry-Hook-Signature` is the hex HMAC-SHA256 of the body.
    fn verify(&self, secret: &str, payload: &Payload<'_>) -> Result<(), IntegrationError> {
        Scheme { header: "Sentry-Hook-Signature", prefix: "", hash: Hash::Sha256, encoding: Encoding::Hex }
            .check_body(secret, payload)
    }

    fn handle(&self, payload: &Payload<'_>) -> Result<Handled, IntegrationError> {
        let body = payload.body.as_object().ok_or_else(|| IntegrationError::Malformed("expected an object".into()))?;
        if let Some(resource) = payload.header(RESOURCE_HEADER).map(str::trim)
            && !resource.is_empty()
            && !RESOURCES.contains(&resource)
        {
            return Err(self.unsupported(resource.to_owned()));
        }

        // The WebHooks plugin sends the event beside the issue's URL, without the event's own
        // link and time.
        let plugin_event;
        let data = match body.get("data") {
            None | Some(Value::Null) => {
                plugin_event = from_plugin(body)?;
                plugin_event.as_ref()
            }
            Some(data) if truthy(data) => Some(
                data.as_object().ok_or_else(|| IntegrationError::Malformed("expected an object at /data".into()))?,
            ),
            Some(_) => None,
        };

        let (event, topic, content) = match data {
            Some(data) if data.contains_key("event") => {
                let (topic, content) = self.event(object(&data["event"], "/data/event")?)?;
                ("event_alert".to_owned(), topic, content)
            }
            Some(data) if data.contains_key("issue") => {
                let action = text(payload.body, "/action")?;
                let actor = payload.body.get("actor").ok_or_else(|| missing("/actor"))?;
                let (topic, content) = self.issue(action, &data["issue"], actor)?;
                (format!("issue_{action}"), topic, content)
            }
            Some(data) => {
                let keys: Vec<String> = data.keys().map(|key| python_repr(key)).collect();
                return Err(self.unsupported(format!("[{}]", keys.join(", "))));
            }
            None => {
                let (topic, content) = deprecated(body)?;
                ("event_alert".to_owned(), topic, content)
            }
        };
        Ok(Handled { event, outcome: Outcome::Message { topic, content: content.trim().to_owned() } })
    }

    fn sample(&self) -> (Option<&'static str>, &'static str) {
        (None, include_str!("fixtures/event_for_message_python.json"))
    }
}

impl Sentry {
    fn unsupported(&self, event: String) -> IntegrationError {
        IntegrationError::Unsupported { event, integration: self.display_name() }
    }

    /// An exception or a message event: the topic and the message.
    fn event(&self, event: &Map<String, Value>) -> Result<(String, String), IntegrationError> {
        let title = field_text(event, "title")?;
        let platform = field_text(event, "platform")?;
        // The Raven SDKs for Python (before version 7) are deprecated and not shown.
        if platform == "python"
            && sdk_version(event.get("version").ok_or_else(|| missing("version"))?)? < 7
            && title != SAMPLE_TITLE
        {
            return Err(self.unsupported("Raven SDK".into()));
        }
        let level = field_text(event, "level")?;
        let link = field_text(event, "web_url")?;
        let datetime = short_time(field_text(event, "datetime")?);
        let head = |kind: &str| {
            format!("**New {kind}:** [{title}]({link})\n```quote\n**level:** {level}\n**timestamp:** {datetime}\n")
        };

        if event.contains_key("exception") {
            let metadata = object(event.get("metadata").ok_or_else(|| missing("metadata"))?, "metadata")?;
            let filename = optional(metadata, "filename")?;
            let mut message = format!("{}**filename:** {}\n```\n", head("exception"), filename.unwrap_or("None"));
            if let Some(filename) = filename.filter(|f| !f.is_empty())
                && let Some(frame) = raising_frame(&event["exception"], filename)?
            {
                let syntax = highlight(platform);
                let context_line = field_text(frame, "context_line")?;
                let pre = traceback_lines(frame.get("pre_context"))?;
                let post = traceback_lines(frame.get("post_context"))?;
                message.push_str(&format!("\nTraceback:\n```{syntax}\n{pre}---> {context_line}\n{post}```\n"));
            }
            Ok((title.to_owned(), message))
        } else if event.contains_key("logentry") {
            Ok((title.to_owned(), format!("{}```\n", head("message event"))))
        } else {
            Err(self.unsupported("unknown-event type".into()))
        }
    }

    /// An issue's change: the topic and the message.
    fn issue(&self, action: &str, issue: &Value, actor: &Value) -> Result<(String, String), IntegrationError> {
        let issue = object(issue, "/data/issue")?;
        let title = field_text(issue, "title")?;
        let last_seen = short_time(field_text(issue, "lastSeen")?);
        let assignee = match issue.get("assignedTo") {
            Some(assigned) if truthy(assigned) => {
                let assigned = object(assigned, "/data/issue/assignedTo")?;
                let name = field_text(assigned, "name")?;
                if assigned.get("type").ok_or_else(|| missing("/data/issue/assignedTo/type"))? == "team" {
                    format!("team {name}")
                } else {
                    name.to_owned()
                }
            }
            _ => "No one".to_owned(),
        };
        if !ISSUE_ACTIONS.contains(&action) {
            return Err(self.unsupported(format!("{action} action")));
        }
        let message = if action == "created" {
            let level = field_text(issue, "level")?;
            format!(
                "**New issue created:** {title}\n```quote\n**level:** {level}\n**timestamp:** {last_seen}\n**assignee:** {assignee}\n```"
            )
        } else {
            let actor = text(actor, "/name")?;
            match action {
                "resolved" => format!("Issue **{title}** was marked as resolved by **{actor}**."),
                "assigned" => format!("Issue **{title}** has now been assigned to **{assignee}** by **{actor}**."),
                _ => format!("Issue **{title}** was ignored by **{actor}**."),
            }
        };
        Ok((title.to_owned(), message))
    }
}

/// The WebHooks plugin's payload as an alert's `data`: its event, given the link and the time
/// the alert's payload carries; `None` for the old plugin's payload, whose event has no id.
fn from_plugin(body: &Map<String, Value>) -> Result<Option<Map<String, Value>>, IntegrationError> {
    let mut event = match body.get("event") {
        None => return Ok(None),
        Some(event) => object(event, "/event")?.clone(),
    };
    let id = match event.get("event_id") {
        Some(id) if truthy(id) => {
            id.as_str().ok_or_else(|| IntegrationError::Malformed("expected text at /event/event_id".into()))?
        }
        _ => return Ok(None),
    };
    let url = field_text(body, "url")?;
    let link = join_url(url, &format!("events/{id}/"));
    let seconds = ["timestamp", "received"]
        .iter()
        .find_map(|key| event.get(*key).filter(|t| !t.is_null()))
        .and_then(Value::as_f64)
        .ok_or_else(|| IntegrationError::Malformed("expected a number at /event/timestamp".into()))?;
    // Rounded to the microsecond, as Sentry's times are, then to the second below.
    let seconds = ((seconds * 1e6).round() / 1e6).floor();
    let datetime = (seconds.is_finite() && seconds.abs() < 1e15)
        .then(|| utc_date_time(seconds as i64))
        .flatten()
        .ok_or_else(|| IntegrationError::Malformed("expected a time at /event/timestamp".into()))?;
    event.insert("web_url".into(), Value::from(link));
    event.insert("datetime".into(), Value::from(datetime));
    let mut data = Map::new();
    data.insert("event".into(), Value::Object(event));
    Ok(Some(data))
}

/// The old plugin's alert: the issue's message in the project's name.
fn deprecated(body: &Map<String, Value>) -> Result<(String, String), IntegrationError> {
    let level = field_text(body, "level")?.to_uppercase();
    let shown = |key: &str| optional(body, key).map(|value| value.unwrap_or("None"));
    let (project, url, message) = (shown("project_name")?, shown("url")?, shown("message")?);
    Ok((project.to_owned(), format!("New [issue]({url}) (level: {level}):\n\n``` quote\n{message}\n```")))
}

/// The frame of the exception's last stack trace in the file Sentry names as the exception's,
/// when it shows its line.
fn raising_frame<'v>(exception: &'v Value, filename: &str) -> Result<Option<&'v Map<String, Value>>, IntegrationError> {
    let values = exception
        .get("values")
        .and_then(Value::as_array)
        .ok_or_else(|| IntegrationError::Malformed("expected a list at exception/values".into()))?;
    let mut stacktrace = None;
    for value in values.iter().rev() {
        if let Some(found) = object(value, "exception/values")?.get("stacktrace") {
            stacktrace = Some(found);
            break;
        }
    }
    let Some(stacktrace) = stacktrace.filter(|s| truthy(s)) else { return Ok(None) };
    let frames = object(stacktrace, "stacktrace")?
        .get("frames")
        .and_then(Value::as_array)
        .ok_or_else(|| IntegrationError::Malformed("expected a list at stacktrace/frames".into()))?;
    for frame in frames.iter().rev() {
        let frame = object(frame, "stacktrace/frames")?;
        if frame.get("filename").and_then(Value::as_str) == Some(filename) {
            return Ok(frame.get("context_line").is_some_and(|line| !line.is_null()).then_some(frame));
        }
    }
    Ok(None)
}

/// Source lines around the raising line, indented; an empty line stays empty.
fn traceback_lines(lines: Option<&Value>) -> Result<String, IntegrationError> {
    let lines = match lines {
        None | Some(Value::Null) => return Ok(String::new()),
        Some(Value::Array(lines)) => lines,
        Some(_) => return Err(IntegrationError::Malformed("expected a list of source lines".into())),
    };
    let mut shown = String::new();
    for line in lines {
        match line.as_str() {
            Some("") => shown.push('\n'),
            Some(line) => shown.push_str(&format!("     {line}\n")),
            None => return Err(IntegrationError::Malformed("expected text in the source lines".into())),
        }
    }
    Ok(shown)
}

/// The code block's language for Sentry's platform name.
fn highlight(platform: &str) -> &'static str {
    match platform {
        "go" => "go",
        "java" => "java",
        "javascript" | "node" => "javascript",
        "python" => "python3",
        "ruby" => "ruby",
        _ => "",
    }
}

/// The SDK's major version, given as a number or as text.
fn sdk_version(version: &Value) -> Result<i64, IntegrationError> {
    let malformed = || IntegrationError::Malformed("expected a whole number at version".into());
    match version {
        Value::String(text) => text.trim().parse().map_err(|_| malformed()),
        Value::Number(number) => number
            .as_i64()
            .or_else(|| number.as_f64().filter(|f| f.is_finite() && f.abs() < 1e18).map(|f| f.trunc() as i64))
            .ok_or_else(malformed),
        _ => Err(malformed()),
    }
}

/// An ISO 8601 time without its fraction and zone, `T` shown as a space.
fn short_time(time: &str) -> String {
    time.split('.').next().unwrap_or(time).replace('T', " ")
}

/// `relative` (a path without a leading slash) resolved against `base`, as a browser resolves
/// a relative link: in place of `base`'s last path segment, its query and fragment dropped.
fn join_url(base: &str, relative: &str) -> String {
    let base = base.split(['#', '?']).next().unwrap_or(base);
    let path_start = base
        .find("://")
        .map_or(0, |scheme| base[scheme + 3..].find('/').map_or(base.len(), |slash| scheme + 3 + slash));
    let (authority, path) = base.split_at(path_start);
    match path.rfind('/') {
        Some(last) => format!("{authority}{}{relative}", &path[..=last]),
        None if !authority.is_empty() => format!("{authority}/{relative}"),
        None => relative.to_owned(),
    }
}

/// A string as Python shows it in a list: quoted, `'` preferred.
fn python_repr(text: &str) -> String {
    let quote = if text.contains('\'') && !text.contains('"') { '"' } else { '\'' };
    let mut shown = String::from(quote);
    for c in text.chars() {
        match c {
            '\\' => shown.push_str("\\\\"),
            '\n' => shown.push_str("\\n"),
            '\r' => shown.push_str("\\r"),
            '\t' => shown.push_str("\\t"),
            c if c == quote => {
                shown.push('\\');
                shown.push(c);
            }
            c => shown.push(c),
        }
    }
    shown.push(quote);
    shown
}

fn missing(key: &str) -> IntegrationError {
    IntegrationError::Malformed(format!("expected a value at {key}"))
}

fn object<'v>(value: &'v Value, at: &str) -> Result<&'v Map<String, Value>, IntegrationError> {
    value.as_object().ok_or_else(|| IntegrationError::Malformed(format!("expected an object at {at}")))
}

/// The text at `key` of an object, or a Malformed error.
fn field_text<'v>(object: &'v Map<String, Value>, key: &str) -> Result<&'v str, IntegrationError> {
    object
        .get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| IntegrationError::Malformed(format!("expected text at {key}")))
}

/// The text at `key` of an object: `None` when missing or null.
fn optional<'v>(object: &'v Map<String, Value>, key: &str) -> Result<Option<&'v str>, IntegrationError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(IntegrationError::Malformed(format!("expected text at {key}"))),
    }
}
