//! `jira`: Jira's webhooks for issues and comments, as Zulip's `jira`.
//!
//! The topic is `<issue key>: <summary>`; the message names who did what, links the issue
//! (`<site>/browse/<key>`, the site taken from the issue's REST URL) and shows the assignee,
//! the changes or the comment:
//!
//! ```text
//! Leo Franchi updated [BUG-15: New bug with hook](http://jira.example.com/browse/BUG-15):
//!
//! * Changed priority from **Critical** to **Major**
//! ```
//!
//! Sprints, versions, worklogs, attachments and issue links are acknowledged without a
//! message. An assignee is shown by full name when their email is one of the realm's users'
//! (as Zulip looks them up), by email otherwise; a `[~user]` mention in a comment by the
//! user's name, both in bold.

mod markup;
#[cfg(test)]
mod tests;

use futures::future::BoxFuture;
use serde_json::Value;

use crate::integration::{Handled, Integration, IntegrationError, Outcome, Payload, optional_text, text, truthy};
use crate::remote::Remote;
use crate::signature::{Encoding, Hash, Scheme};

pub struct Jira;

/// The events shown.
const EVENT_TYPES: &[&str] = &[
    "jira:issue_created",
    "jira:issue_deleted",
    "jira:issue_updated",
    "comment_created",
    "comment_updated",
    "comment_deleted",
];

/// The events acknowledged without a message.
const IGNORED_EVENTS: &[&str] = &[
    "attachment_created",
    "issuelink_created",
    "issuelink_deleted",
    "jira:version_released",
    "jira:worklog_updated",
    "sprint_closed",
    "sprint_started",
    "worklog_created",
    "worklog_updated",
];

/// The title shown for a comment from a Jira too old to say which issue it is on.
const NO_TITLE: &str = "Upgrade Jira to get the issue title here.";

impl Integration for Jira {
    fn name(&self) -> &'static str {
        "jira"
    }

    fn display_name(&self) -> &'static str {
        "Jira"
    }

    fn categories(&self) -> &'static [&'static str] {
        &["project-management"]
    }

    fn event_types(&self) -> &'static [&'static str] {
        EVENT_TYPES
    }

    /// Jira Cloud's admin webhooks with a secret sign every request: `X-Hub-Signature` is
    /// `sha256=<hex HMAC-SHA256 of the body>`.
    fn verify(&self, secret: &str, payload: &Payload<'_>) -> Result<(), IntegrationError> {
        Scheme { header: "X-Hub-Signature", prefix: "sha256=", hash: Hash::Sha256, encoding: Encoding::Hex }
            .check_body(secret, payload)
    }

    /// Jira escapes its webhook URLs twice.
    fn unquotes_url_parameters(&self) -> bool {
        true
    }

    /// Without the realm's users: an assignee is shown by email.
    fn handle(&self, payload: &Payload<'_>) -> Result<Handled, IntegrationError> {
        self.handle_naming(payload, None)
    }

    /// An assignee who is one of the realm's users (by email) is shown by their full name.
    fn handle_remote<'a>(
        &'a self,
        payload: &'a Payload<'a>,
        remote: &'a Remote,
    ) -> BoxFuture<'a, Result<Handled, IntegrationError>> {
        Box::pin(async move {
            // Only issue updates name the assignee (transitions from old servers name no event).
            let updated = matches!(payload.body.get("webhookEvent"), None | Some(Value::Null))
                || payload.body["webhookEvent"] == "jira:issue_updated";
            let email = payload.body.pointer("/issue/fields/assignee/emailAddress").and_then(Value::as_str);
            let name = match email.filter(|e| updated && !e.is_empty()) {
                Some(email) => remote.full_name_by_email(email).await,
                None => None,
            };
            self.handle_naming(payload, name.as_deref())
        })
    }

    fn sample(&self) -> (Option<&'static str>, &'static str) {
        (None, include_str!("fixtures/created_v2.json"))
    }
}

impl Jira {
    /// The message, naming the assignee `assignee_name` when the realm knows them.
    fn handle_naming(&self, payload: &Payload<'_>, assignee_name: Option<&str>) -> Result<Handled, IntegrationError> {
        let body = payload.body;
        if !body.is_object() {
            return Err(IntegrationError::Malformed("expected an object".into()));
        }
        let event = match optional_text(body, "webhookEvent")? {
            Some(event) => event,
            // Old Jira servers send transitions without naming the event.
            None if body.get("transition").is_some_and(truthy) => "jira:issue_updated",
            None => {
                return Err(IntegrationError::BadRequest(format!(
                    "Unable to parse request: Did {} generate this event?",
                    self.display_name()
                )));
            }
        };
        if IGNORED_EVENTS.contains(&event) {
            return Ok(Handled { event: event.to_owned(), outcome: Outcome::Ignore });
        }
        let content = match event {
            "jira:issue_created" => created(body)?,
            "jira:issue_deleted" => deleted(body)?,
            "jira:issue_updated" => updated(body, assignee_name)?,
            "comment_created" => comment(body, "commented on", false)?,
            "comment_updated" => comment(body, "updated their comment on", false)?,
            "comment_deleted" => comment(body, "deleted their comment on", true)?,
            other => {
                return Err(IntegrationError::Unsupported {
                    event: other.to_owned(),
                    integration: self.display_name(),
                });
            }
        };
        let topic = format!("{}: {}", issue_key(body)?, issue_title(body)?);
        Ok(Handled { event: event.to_owned(), outcome: Outcome::Message { topic, content: content.trim().to_owned() } })
    }
}

/// `… created [KEY: summary](link):` with the priority and the assignee.
fn created(body: &Value) -> Result<String, IntegrationError> {
    Ok(format!(
        "{} created {}:\n\n* **Priority**: {}\n* **Assignee**: {}",
        author(body)?,
        issue_link(body, &issue_key(body)?)?,
        text_in(body, &["issue", "fields", "priority", "name"], "")?,
        text_in(body, &["issue", "fields", "assignee", "displayName"], "no one")?,
    ))
}

/// `… deleted [KEY: summary](link).`, without the full stop after a summary ending in one.
fn deleted(body: &Value) -> Result<String, IntegrationError> {
    let title = issue_title(body)?;
    let stop = if title.chars().last().is_some_and(|c| c.is_ascii_punctuation()) { "" } else { "." };
    Ok(format!("{} deleted {}{stop}", author(body)?, issue_link(body, &issue_key(body)?)?))
}

/// The newer comment events: `… commented on [KEY: summary](link)` and the comment quoted.
fn comment(body: &Value, verb: &str, struck: bool) -> Result<String, IntegrationError> {
    let author = text(body, "/comment/author/displayName")?;
    // Jira escapes `!` in these comments as `\!`.
    let comment = text(body, "/comment/body")?.replace("\\!", "!");
    let comment = if struck { format!("~~{comment}~~") } else { comment };
    Ok(format!("{author} {verb} {}\n``` quote\n{comment}\n```", issue_link(body, &issue_key(body)?)?))
}

/// `jira:issue_updated`, which covers comments, reassignments, transitions and field changes:
/// the comment quoted, or the changes listed.
fn updated(body: &Value, assignee_name: Option<&str>) -> Result<String, IntegrationError> {
    let key = text_in(body, &["issue", "key"], "")?;
    let issue = issue_link(body, key)?;
    let email = text_in(body, &["issue", "fields", "assignee", "emailAddress"], "")?;
    let assignee = match assignee_name {
        _ if email.is_empty() => String::new(),
        Some(name) => format!("**{name}**"),
        None => format!("**{email}**"),
    };
    let assigned = if assignee.is_empty() { String::new() } else { format!(" (assigned to {assignee})") };

    let kind = match body.get("issue_event_type_name") {
        None | Some(Value::Null) => "",
        Some(Value::String(kind)) => kind.as_str(),
        Some(_) => return Err(IntegrationError::Malformed("expected text at issue_event_type_name".into())),
    };
    let kind = match kind {
        "" if body.get("comment").is_some_and(truthy) => "issue_commented",
        "" if body.get("transition").is_some_and(truthy) => "issue_transited",
        kind => kind,
    };

    if kind.contains("comment") {
        let verb = match kind {
            "issue_commented" => "commented on",
            "issue_comment_edited" => "edited a comment on",
            _ => "deleted a comment from",
        };
        let author = if body.get("webhookEvent").and_then(Value::as_str) == Some("comment_created") {
            text(body, "/comment/author/displayName")?
        } else {
            author(body)?
        };
        let content = format!("{author} {verb} {issue}{assigned}");
        let comment = text_in(body, &["comment", "body"], "")?;
        return Ok(if comment.is_empty() {
            format!("{content}.")
        } else {
            format!("{content}:\n\n``` quote\n{}\n```", markup::to_markdown(comment))
        });
    }

    let mut content = format!("{} updated {issue}{assigned}:\n\n", author(body)?);
    match body.get("changelog") {
        Some(changelog) if truthy(changelog) => {
            let items = changelog
                .get("items")
                .and_then(Value::as_array)
                .ok_or_else(|| IntegrationError::Malformed("expected a list at /changelog/items".into()))?;
            for item in items {
                if !item.is_object() {
                    return Err(IntegrationError::Malformed("expected an object in /changelog/items".into()));
                }
                let field = optional_text(item, "field")?;
                let to = if field == Some("assignee") && !assignee.is_empty() {
                    assignee.clone()
                } else {
                    format!("**{}**", optional_text(item, "toString")?.unwrap_or("None"))
                };
                change(&mut content, field.unwrap_or("None"), optional_text(item, "fromString")?, &to);
            }
        }
        _ if kind == "issue_transited" => {
            let from = text_in(body, &["transition", "from_status"], "")?;
            let to = format!("**{}**", text_in(body, &["transition", "to_status"], "")?);
            change(&mut content, "status", Some(from), &to);
        }
        _ => {}
    }
    Ok(content)
}

/// One changed field: `* Changed <field> from **<old>** to <new>`.
fn change(content: &mut String, field: &str, from: Option<&str>, to: &str) {
    content.push_str(&format!("* Changed {field}"));
    if let Some(from) = from.filter(|from| !from.is_empty()) {
        content.push_str(&format!(" from **{from}**"));
    }
    if !to.is_empty() {
        content.push_str(&format!(" to {to}\n"));
    }
}

/// Who acted: the webhook's user.
fn author(body: &Value) -> Result<&str, IntegrationError> {
    text_in(body, &["user", "displayName"], "")
}

/// The issue's key; a comment from an old Jira without its issue has only the issue's number,
/// in the comment's REST URL (`…/issue/10000/comment/10001`).
fn issue_key(body: &Value) -> Result<String, IntegrationError> {
    if body.get("issue").is_some() {
        return text_in(body, &["issue", "key"], "").map(str::to_owned);
    }
    let url = text(body, "/comment/self")?;
    let parts: Vec<&str> = url.split('/').collect();
    parts
        .len()
        .checked_sub(3)
        .and_then(|i| parts.get(i))
        .map(|part| (*part).to_owned())
        .ok_or_else(|| IntegrationError::Malformed("expected a comment URL at /comment/self".into()))
}

/// The issue's summary.
fn issue_title(body: &Value) -> Result<&str, IntegrationError> {
    if body.get("issue").is_none() {
        return Ok(NO_TITLE);
    }
    text_in(body, &["issue", "fields", "summary"], "")
}

/// `KEY: summary`, linked to `<site>/browse/KEY` when the issue's REST URL names the
/// site (`<site>/rest/api/…`).
fn issue_link(body: &Value, key: &str) -> Result<String, IntegrationError> {
    let shown = format!("{key}: {}", issue_title(body)?);
    let rest_url = text_in(body, &["issue", "self"], "")?;
    // The REST URL's first line, up to its last `/rest/api/`.
    let first_line = rest_url.split('\n').next().unwrap_or(rest_url);
    Ok(match first_line.rfind("/rest/api/") {
        Some(end) => format!("[{shown}]({}/browse/{key})", &first_line[..end]),
        None => shown,
    })
}

/// The text at `path`, `default` when some step of the path is missing or not an object; a
/// Malformed error when the value found is not text.
fn text_in<'v>(body: &'v Value, path: &[&str], default: &'v str) -> Result<&'v str, IntegrationError> {
    let mut value = body;
    for key in path {
        match value.get(key) {
            Some(next) => value = next,
            None => return Ok(default),
        }
    }
    value.as_str().ok_or_else(|| IntegrationError::Malformed(format!("expected text at /{}", path.join("/"))))
}
