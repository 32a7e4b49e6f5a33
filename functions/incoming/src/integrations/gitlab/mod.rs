//! `gitlab`: GitLab project webhooks (and system hooks carrying the same events).
//!
//! Modelled on Zulip's `gitlab`, with its event names (`Push Hook`, `Merge Request Hook open`,
//! `Note Hook Issue`, …: the `X-Gitlab-Event` header, plus the action or the commented kind),
//! its topics (`<project> / <branch>`, `<project> / MR #<iid> <title>`,
//! `<project> / issue #<iid> <title>`) and its messages. When the bot has a webhook secret,
//! requests must carry it in `X-Gitlab-Token`, GitLab's "secret token".

mod events;
#[cfg(test)]
mod tests;

use hookline_model::credentials::secrets_equal;
use serde_json::Value;

use crate::integration::{Handled, Integration, IntegrationError, Outcome, Payload, optional_text, text};

pub struct Gitlab;

impl Integration for Gitlab {
    fn name(&self) -> &'static str {
        "gitlab"
    }

    fn display_name(&self) -> &'static str {
        "GitLab"
    }

    fn event_types(&self) -> &'static [&'static str] {
        EVENTS
    }

    fn event_header(&self) -> Option<&'static str> {
        Some("X-Gitlab-Event")
    }

    fn handle(&self, payload: &Payload<'_>) -> Result<Handled, IntegrationError> {
        let header = payload.event_type.ok_or(IntegrationError::MissingEventHeader("X-Gitlab-Event"))?;
        let body = payload.body;
        if !body.is_object() {
            return Err(IntegrationError::Malformed("expected a JSON object".into()));
        }
        let event = event_name(header.trim(), body)?;
        let Some(render) = renderer(&event) else {
            return Err(IntegrationError::Unsupported { event, integration: "GitLab" });
        };
        let (topic, content) = render(body)?;
        Ok(Handled { event, outcome: Outcome::Message { topic, content } })
    }

    fn verify(&self, secret: &str, payload: &Payload<'_>) -> Result<(), IntegrationError> {
        match payload.header("x-gitlab-token") {
            Some(token) if secrets_equal(token.as_bytes(), secret.as_bytes()) => Ok(()),
            Some(_) => Err(IntegrationError::BadSignature("Invalid X-Gitlab-Token".into())),
            None => Err(IntegrationError::BadSignature("Missing the X-Gitlab-Token header".into())),
        }
    }

    fn sample(&self) -> (Option<&'static str>, &'static str) {
        (
            Some("Push Hook"),
            r#"{"object_kind": "push", "event_name": "push", "before": "95790bf891e76fee5e1747ab589903a6a1f80f22", "after": "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", "ref": "refs/heads/main", "checkout_sha": "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", "user_name": "Ana Lima", "user_username": "ana", "project": {"id": 15, "name": "billing", "web_url": "https://gitlab.example.com/acme/billing", "path_with_namespace": "acme/billing", "default_branch": "main"}, "commits": [{"id": "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", "message": "Round refunds to the cent\n\nCloses #42", "title": "Round refunds to the cent", "url": "https://gitlab.example.com/acme/billing/-/commit/da1560886d4f094c3e6c9ef40349f7d38b5d27d7", "author": {"name": "Ana Lima", "email": "ana@example.com"}}], "total_commits_count": 1}"#,
        )
    }
}

/// Every event name `handle` produces, as Zulip names them.
const EVENTS: &[&str] = &[
    "Push Hook",
    "Tag Push Hook",
    "Test Hook",
    "Issue Hook open",
    "Issue Hook close",
    "Issue Hook reopen",
    "Issue Hook update",
    "Confidential Issue Hook open",
    "Confidential Issue Hook close",
    "Confidential Issue Hook reopen",
    "Confidential Issue Hook update",
    "Note Hook Commit",
    "Note Hook MergeRequest",
    "Note Hook Issue",
    "Confidential Note Hook Issue",
    "Note Hook Snippet",
    "Merge Request Hook open",
    "Merge Request Hook update",
    "Merge Request Hook merge",
    "Merge Request Hook close",
    "Merge Request Hook reopen",
    "Merge Request Hook approved",
    "Merge Request Hook unapproved",
    "Merge Request Hook approval",
    "Merge Request Hook unapproval",
    "Wiki Page Hook create",
    "Wiki Page Hook update",
    "Job Hook",
    "Build Hook",
    "Pipeline Hook",
    "Release Hook",
];

/// A renderer: the topic and the message for a payload.
type Render = fn(&Value) -> Result<(String, String), IntegrationError>;

/// Zulip's event name: the header, with the action of issues, merge requests and wiki pages,
/// or the kind of thing a note comments on. System hooks name the event in the payload.
fn event_name(header: &str, body: &Value) -> Result<String, IntegrationError> {
    let hook = if header == "System Hook" {
        let name = match optional_text(body, "event_name")? {
            Some(name) => name,
            None => text(body, "/object_kind")?,
        };
        format!("{} Hook", title_case(&name.split("__").next().unwrap_or_default().replace('_', " ")))
    } else {
        header.to_owned()
    };
    Ok(match hook.as_str() {
        "Issue Hook" | "Confidential Issue Hook" | "Merge Request Hook" | "Wiki Page Hook" => {
            let action = match body.get("object_attributes") {
                Some(attributes) => optional_text(attributes, "action")?,
                None => None,
            };
            format!("{hook} {}", action.unwrap_or("open"))
        }
        "Note Hook" | "Confidential Note Hook" => format!("{hook} {}", text(body, "/object_attributes/noteable_type")?),
        _ => hook,
    })
}

/// Like Python's `str.title()`, which Zulip uses to name system hook events.
fn title_case(words: &str) -> String {
    let mut out = String::with_capacity(words.len());
    let mut start = true;
    for c in words.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
        start = !c.is_alphabetic();
    }
    out
}

fn renderer(event: &str) -> Option<Render> {
    let render: Render = match event {
        "Push Hook" => events::push,
        "Tag Push Hook" => events::tag_push,
        "Test Hook" => events::test,
        "Issue Hook open" | "Confidential Issue Hook open" => events::issue_opened,
        "Issue Hook close" | "Confidential Issue Hook close" => |body| events::issue(body, "closed"),
        "Issue Hook reopen" | "Confidential Issue Hook reopen" => |body| events::issue(body, "reopened"),
        "Issue Hook update" | "Confidential Issue Hook update" => |body| events::issue(body, "updated"),
        "Note Hook Commit" => events::commit_note,
        "Note Hook MergeRequest" => events::merge_request_note,
        "Note Hook Issue" | "Confidential Note Hook Issue" => events::issue_note,
        "Note Hook Snippet" => events::snippet_note,
        "Merge Request Hook open" => events::merge_request_opened,
        "Merge Request Hook update" => events::merge_request_updated,
        "Merge Request Hook merge" => |body| events::merge_request(body, "merged"),
        "Merge Request Hook close" => |body| events::merge_request(body, "closed"),
        "Merge Request Hook reopen" => |body| events::merge_request(body, "reopened"),
        "Merge Request Hook approved" => |body| events::merge_request(body, "approved"),
        "Merge Request Hook unapproved" => |body| events::merge_request(body, "unapproved"),
        "Merge Request Hook approval" => |body| events::merge_request(body, "added their approval for"),
        "Merge Request Hook unapproval" => |body| events::merge_request(body, "removed their approval for"),
        "Wiki Page Hook create" => |body| events::wiki_page(body, "created"),
        "Wiki Page Hook update" => |body| events::wiki_page(body, "updated"),
        "Job Hook" | "Build Hook" => events::job,
        "Pipeline Hook" => events::pipeline,
        "Release Hook" => events::release,
        _ => return None,
    };
    Some(render)
}
