//! `linear`: Linear's webhooks for issues, sub-issues and comments, as Zulip's `linear`.
//!
//! The topic is `Issue: <title>` (`Sub-Issue: <title>` for an issue with a parent), the
//! comment's issue for comments. Labels, projects, project updates, cycles and reactions are
//! acknowledged without a message.

#[cfg(test)]
mod tests;

use serde_json::Value;

use crate::integration::{Handled, Integration, IntegrationError, Outcome, Payload, number, text};
use crate::signature::{Encoding, Hash, Scheme};

pub struct Linear;

/// Every event: the three that become messages, then the ones acknowledged without one.
const EVENTS: &[&str] =
    &["issue", "sub_issue", "comment", "IssueLabel", "Project", "ProjectUpdate", "Cycle", "Reaction"];
const IGNORED_EVENTS: &[&str] = EVENTS.split_at(3).1;

impl Integration for Linear {
    fn name(&self) -> &'static str {
        "linear"
    }

    fn display_name(&self) -> &'static str {
        "Linear"
    }

    fn categories(&self) -> &'static [&'static str] {
        &["project-management"]
    }

    fn event_types(&self) -> &'static [&'static str] {
        EVENTS
    }

    /// Linear signs with the webhook's signing secret: `Linear-Signature`, the hex
    /// HMAC-SHA256 of the body.
    fn verify(&self, secret: &str, payload: &Payload<'_>) -> Result<(), IntegrationError> {
        Scheme { header: "Linear-Signature", prefix: "", hash: Hash::Sha256, encoding: Encoding::Hex }
            .check_body(secret, payload)
    }

    fn handle(&self, payload: &Payload<'_>) -> Result<Handled, IntegrationError> {
        let body = payload.body;
        let kind = text(body, "/type")?;
        let event = match kind {
            "Issue" => {
                if data(body)?.get("parentId").is_some() {
                    "sub_issue"
                } else {
                    "issue"
                }
            }
            "Comment" => "comment",
            ignored if IGNORED_EVENTS.contains(&ignored) => {
                return Ok(Handled { event: ignored.to_owned(), outcome: Outcome::Ignore });
            }
            other => {
                let action = match body.get("action") {
                    None => "???",
                    Some(_) => text(body, "/action")?,
                };
                return Err(IntegrationError::Unsupported {
                    event: format!("{other}:{action}"),
                    integration: self.display_name(),
                });
            }
        };

        let topic = match payload.url_topic() {
            Some(topic) => topic.to_owned(),
            None if event == "comment" => format!("Issue: {}", text(body, "/data/issue/title")?),
            None if event == "sub_issue" => format!("Sub-Issue: {}", text(body, "/data/title")?),
            None => format!("Issue: {}", text(body, "/data/title")?),
        };
        let action = text(body, "/action")?;
        let content = if event == "comment" { comment(body, action)? } else { issue(body, event, action)? };
        // Zulip strips the trailing newline that ends a quote.
        let content = content.trim_end().to_owned();
        Ok(Handled { event: event.to_owned(), outcome: Outcome::Message { topic, content } })
    }

    fn sample(&self) -> (Option<&'static str>, &'static str) {
        (None, include_str!("fixtures/issue_create_simple_without_description.json"))
    }
}

/// The payload's `data` object.
fn data(body: &Value) -> Result<&serde_json::Map<String, Value>, IntegrationError> {
    body.get("data")
        .and_then(Value::as_object)
        .ok_or_else(|| IntegrationError::Malformed("expected an object at /data".into()))
}

fn quote(text: &str) -> String {
    format!("\n~~~ quote\n{text}\n~~~\n")
}

fn issue(body: &Value, event: &str, action: &str) -> Result<String, IntegrationError> {
    number(body, "/data/number")?;
    text(body, "/data/title")?;
    let team = text(body, "/data/team/name")?;
    if action == "remove" {
        return Ok(format!("This issue has been removed from team {team}."));
    }
    let kind = if event == "issue" { "Issue" } else { "Sub-Issue" };
    let url = text(body, "/url")?;
    let action = if action == "create" { "created" } else { "updated" };
    let mut message = format!("[{kind}]({url}) was {action} in team {team}");
    let data = data(body)?;
    if data.contains_key("description") {
        message.push(':');
        message.push_str(&quote(text(body, "/data/description")?));
    } else {
        message.push('.');
    }
    let mut to_add = Vec::new();
    let priority = text(body, "/data/priorityLabel")?;
    if priority != "No priority" {
        to_add.push(format!("Priority: {priority}"));
    }
    if data.contains_key("assignee") {
        to_add.push(format!("Assignee: {}", text(body, "/data/assignee/name")?));
    }
    to_add.push(format!("Status: {}", text(body, "/data/state/name")?));
    message.push_str(&format!("\n{}.", to_add.join(", ")));
    Ok(message)
}

fn comment(body: &Value, action: &str) -> Result<String, IntegrationError> {
    let user = text(body, "/data/user/name")?;
    if action == "remove" {
        return Ok(format!("{user} has removed a comment."));
    }
    let action = if action == "create" { "commented" } else { "updated comment" };
    let url = text(body, "/url")?;
    let title = text(body, "/data/issue/title")?;
    let comment = text(body, "/data/body")?;
    Ok(format!("{user} [{action}]({url}) on issue **{title}**:{}", quote(comment)))
}
