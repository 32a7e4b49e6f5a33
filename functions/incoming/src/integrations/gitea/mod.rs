//! `gitea`: Gitea repository webhooks, as Zulip's `gitea`. Gitea is a fork of Gogs and sends
//! the same events, so this runs through the Gogs integration's handler
//! ([`super::gogs::handle_host`]) with Gitea's headers and its pull request shape (branches
//! under `head.ref` and `base.ref`, the assignee named after the branches).
//!
//! The event is named in `X-Gitea-Event`; the `branches` URL option limits pushes to those
//! branches. When the bot has a webhook secret, requests must carry `X-Gitea-Signature`, the hex
//! HMAC-SHA256 of the body.

#[cfg(test)]
mod tests;

use serde_json::Value;

use super::gogs::{self, Host};
use crate::git::PullRequestEvent;
use crate::integration::{BRANCHES, Handled, Integration, IntegrationError, Payload, UrlOption, number, text};

pub struct Gitea;

const GITEA: Host = Host {
    display_name: "Gitea",
    event_header: "X-Gitea-Event",
    signature_header: "X-Gitea-Signature",
    pull_request: pull_request_message,
};

impl Integration for Gitea {
    fn name(&self) -> &'static str {
        "gitea"
    }

    fn display_name(&self) -> &'static str {
        "Gitea"
    }

    fn categories(&self) -> &'static [&'static str] {
        &["version-control"]
    }

    fn url_options(&self) -> &'static [UrlOption] {
        &[BRANCHES]
    }

    fn event_types(&self) -> &'static [&'static str] {
        gogs::EVENTS
    }

    fn event_header(&self) -> Option<&'static str> {
        Some(GITEA.event_header)
    }

    fn handle(&self, payload: &Payload<'_>) -> Result<Handled, IntegrationError> {
        gogs::handle_host(&GITEA, payload)
    }

    /// Gitea signs the body with the webhook's secret: hex HMAC-SHA256 in `X-Gitea-Signature`.
    fn verify(&self, secret: &str, payload: &Payload<'_>) -> Result<(), IntegrationError> {
        gogs::verify_host(&GITEA, secret, payload)
    }

    fn sample(&self) -> (Option<&'static str>, &'static str) {
        (Some("pull_request"), include_str!("fixtures/pull_request__merged.json"))
    }
}

/// A Gitea pull request: branches from `head.ref` and `base.ref` when present (not shown for
/// an edit), and its assignee.
fn pull_request_message(body: &Value, include_title: bool) -> Result<String, IntegrationError> {
    let assignee = gogs::login_at(body, "/pull_request/assignee")?;
    let (user_name, action) = gogs::pull_request_actor(body)?;
    let url = text(body, "/pull_request/html_url")?;
    let number = number(body, "/pull_request/number")?;
    let branch = |side: &str| -> Result<Option<&str>, IntegrationError> {
        if action == "edited" || body.pointer(&format!("/pull_request/{side}")).is_none() {
            Ok(None)
        } else {
            text(body, &format!("/pull_request/{side}/ref")).map(Some)
        }
    };
    let target_branch = branch("head")?;
    let base_branch = branch("base")?;
    let title = if include_title { Some(text(body, "/pull_request/title")?) } else { None };
    Ok(PullRequestEvent {
        user_name,
        action,
        url,
        number: Some(number),
        target_branch,
        base_branch,
        title,
        assignee,
        assignee_updated: if action == "assigned" { assignee } else { None },
        ..PullRequestEvent::default()
    }
    .message())
}
