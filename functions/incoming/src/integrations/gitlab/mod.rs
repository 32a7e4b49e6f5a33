//! `gitlab`: GitLab project webhooks (and system hooks carrying the same events).
//!
//! Modelled on Zulip's `gitlab`, with its event names (`Push Hook`, `Merge Request Hook open`,
//! `Note Hook Issue`, …: the `X-Gitlab-Event` header, plus the action or the commented kind),
//! its topics (`<project> / <branch>`, `<project> / MR #<iid> <title>`,
//! `<project> / issue #<iid> <title>`) and its messages. URL options as in Zulip: `branches`
//! (pushes to other branches send nothing), `use_merge_request_title=false` (merge request
//! topics without the title), and a `topic`, after which messages name the project and the
//! item's title. When the bot has a webhook secret,
//! requests must carry it in `X-Gitlab-Token`, GitLab's "secret token".

mod events;
#[cfg(test)]
mod tests;

use serde_json::Value;

use crate::git;
use crate::integration::{
    BRANCHES, Handled, Integration, IntegrationError, OptionKind, Outcome, Payload, UrlOption, optional_text, text,
};
use crate::signature;

pub struct Gitlab;

impl Integration for Gitlab {
    fn name(&self) -> &'static str {
        "gitlab"
    }

    fn display_name(&self) -> &'static str {
        "GitLab"
    }

    fn categories(&self) -> &'static [&'static str] {
        &["version-control"]
    }

    fn url_options(&self) -> &'static [UrlOption] {
        &[
            BRANCHES,
            UrlOption {
                name: "use_merge_request_title",
                description: "Name merge request topics by their title (default true)",
                kind: OptionKind::Bool,
            },
        ]
    }

    fn event_types(&self) -> &'static [&'static str] {
        EVENTS
    }

    fn event_header(&self) -> Option<&'static str> {
        Some("X-Gitlab-Event")
    }

    fn handle(&self, payload: &Payload<'_>) -> Result<Handled, IntegrationError> {
        let header = payload.event_type.ok_or(IntegrationError::MissingEventHeader("X-GitLab-Event"))?;
        let body = payload.body;
        if !body.is_object() {
            return Err(IntegrationError::Malformed("expected a JSON object".into()));
        }
        // A JSON boolean, as Zulip reads it, with Zulip's answers for anything else.
        let use_merge_request_title = match payload.param("use_merge_request_title") {
            None => true,
            Some(value) => match serde_json::from_str::<Value>(value) {
                Ok(Value::Bool(flag)) => flag,
                Ok(_) => return Err(IntegrationError::BadRequest("use_merge_request_title is not a boolean".into())),
                Err(_) => return Err(IntegrationError::BadRequest("use_merge_request_title is not valid JSON".into())),
            },
        };
        let event = event_name(header.trim(), body)?;
        let Some(render) = renderer(&event) else {
            return Err(IntegrationError::Unsupported { event, integration: "GitLab" });
        };
        if event == "Push Hook"
            && let Some(branches) = payload.param("branches")
            && !git::is_branch_name_notifiable(&events::branch_name(body)?, Some(branches))
        {
            return Ok(Handled { event, outcome: Outcome::Ignore });
        }
        // A topic in the URL hides the item's title, so the message names it, and the project.
        let include_title = payload.url_topic().is_some();
        let mut content = render(body, include_title)?;
        if include_title {
            content = format!("[[{}]({})] {content}", events::repo_name(body)?, events::homepage(body)?);
        }
        let topic = events::topic(&event, body, use_merge_request_title)?;
        Ok(Handled { event, outcome: Outcome::Message { topic, content } })
    }

    /// GitLab repeats the webhook's secret token in `X-Gitlab-Token`.
    fn verify(&self, secret: &str, payload: &Payload<'_>) -> Result<(), IntegrationError> {
        signature::check_token("X-Gitlab-Token", secret, payload)
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
    "Note Hook DesignManagement::Design",
    "Confidential Note Hook DesignManagement::Design",
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

/// A renderer: the message for a payload, with the item's title when `include_title`.
type Render = fn(&Value, bool) -> Result<String, IntegrationError>;

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
        "Issue Hook open" | "Confidential Issue Hook open" => events::issue_created,
        "Issue Hook close" | "Confidential Issue Hook close" => |body, title| events::issue("closed", body, title),
        "Issue Hook reopen" | "Confidential Issue Hook reopen" => |body, title| events::issue("reopened", body, title),
        "Issue Hook update" | "Confidential Issue Hook update" => |body, title| events::issue("updated", body, title),
        "Note Hook Commit" => events::commit_note,
        "Note Hook MergeRequest" => events::merge_request_note,
        "Note Hook Issue" | "Confidential Note Hook Issue" => events::issue_note,
        "Note Hook DesignManagement::Design" | "Confidential Note Hook DesignManagement::Design" => events::design_note,
        "Note Hook Snippet" => events::snippet_note,
        "Merge Request Hook approved" => |body, title| events::merge_request("approved", body, title),
        "Merge Request Hook unapproved" => |body, title| events::merge_request("unapproved", body, title),
        // GitLab sends approval and unapproval only when more than one approval is required.
        "Merge Request Hook approval" => |body, title| events::merge_request("approval", body, title),
        "Merge Request Hook unapproval" => |body, title| events::merge_request("unapproval", body, title),
        "Merge Request Hook open" => |body, title| events::merge_request_opened_or_updated("created", body, title),
        "Merge Request Hook update" => events::merge_request_updated,
        "Merge Request Hook merge" => |body, title| events::merge_request("merged", body, title),
        "Merge Request Hook close" => |body, title| events::merge_request("closed", body, title),
        "Merge Request Hook reopen" => |body, title| events::merge_request("reopened", body, title),
        "Wiki Page Hook create" => |body, title| events::wiki_page("created", body, title),
        "Wiki Page Hook update" => |body, title| events::wiki_page("updated", body, title),
        "Job Hook" | "Build Hook" => events::build,
        "Pipeline Hook" => events::pipeline,
        "Release Hook" => events::release,
        _ => return None,
    };
    Some(render)
}
