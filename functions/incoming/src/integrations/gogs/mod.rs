//! `gogs`: Gogs repository webhooks, as Zulip's `gogs`. Gitea, a fork of Gogs, sends the same
//! events in nearly the same shape, so its integration (`super::gitea`) runs through
//! [`handle_host`] with its own header and pull request reader.
//!
//! The event is named in `X-Gogs-Event`. Pushes go to `{repo} / {branch}` (only the `branches`
//! URL option's branches, when it is given), new branches likewise, pull requests to
//! `{repo} / PR #{id} {title}`, issues and their comments to `{repo} / issue #{number} {title}`,
//! releases to `{repo} / {tag} {name}`:
//!
//! ```text
//! john opened [PR #1](http://localhost:3000/john/try-git/pulls/1) from `feature` to `master`.
//! ```
//!
//! With a `topic` in the URL the item's title is put in the message instead. When the bot has a
//! webhook secret, requests must carry `X-Gogs-Signature`, the hex HMAC-SHA256 of the body.

#[cfg(test)]
mod tests;

use serde_json::Value;

use crate::git::{self, Commit, PullRequestEvent};
use crate::integration::{
    BRANCHES, Handled, Integration, IntegrationError, Outcome, Payload, UrlOption, number, text, truthy,
};
use crate::signature::{Encoding, Hash, Scheme};

pub struct Gogs;

/// Every event `handle` shows, named as the event header names them.
pub(crate) const EVENTS: &[&str] = &["issue_comment", "issues", "create", "pull_request", "push", "release"];

/// Renders a pull request event's message; the title goes in the message when the flag is set.
pub(crate) type PullRequestFormat = fn(&Value, bool) -> Result<String, IntegrationError>;

/// What tells Gogs and its fork Gitea apart.
pub(crate) struct Host {
    /// The service's name, for the unsupported-event answer.
    pub display_name: &'static str,
    /// The header naming the event (`X-Gogs-Event`).
    pub event_header: &'static str,
    /// The header carrying the body's signature (`X-Gogs-Signature`).
    pub signature_header: &'static str,
    /// How this host's pull request payloads read.
    pub pull_request: PullRequestFormat,
}

const GOGS: Host = Host {
    display_name: "Gogs",
    event_header: "X-Gogs-Event",
    signature_header: "X-Gogs-Signature",
    pull_request: pull_request_message,
};

impl Integration for Gogs {
    fn name(&self) -> &'static str {
        "gogs"
    }

    fn display_name(&self) -> &'static str {
        "Gogs"
    }

    fn categories(&self) -> &'static [&'static str] {
        &["version-control"]
    }

    fn url_options(&self) -> &'static [UrlOption] {
        &[BRANCHES]
    }

    fn event_types(&self) -> &'static [&'static str] {
        EVENTS
    }

    fn event_header(&self) -> Option<&'static str> {
        Some(GOGS.event_header)
    }

    fn handle(&self, payload: &Payload<'_>) -> Result<Handled, IntegrationError> {
        handle_host(&GOGS, payload)
    }

    /// Gogs signs the body with the webhook's secret: hex HMAC-SHA256 in `X-Gogs-Signature`.
    fn verify(&self, secret: &str, payload: &Payload<'_>) -> Result<(), IntegrationError> {
        verify_host(&GOGS, secret, payload)
    }

    fn sample(&self) -> (Option<&'static str>, &'static str) {
        (Some("pull_request"), include_str!("fixtures/pull_request__opened.json"))
    }
}

/// Checks the host's signature header: the hex HMAC-SHA256 of the raw body.
pub(crate) fn verify_host(host: &Host, secret: &str, payload: &Payload<'_>) -> Result<(), IntegrationError> {
    Scheme { header: host.signature_header, prefix: "", hash: Hash::Sha256, encoding: Encoding::Hex }
        .check_body(secret, payload)
}

/// Turns a Gogs-shaped event into its topic and message.
pub(crate) fn handle_host(host: &Host, payload: &Payload<'_>) -> Result<Handled, IntegrationError> {
    let body = payload.body;
    if !body.is_object() {
        return Err(IntegrationError::Malformed("expected a JSON object".into()));
    }
    let repo = text(body, "/repository/name")?;
    let event = payload.event_type.ok_or(IntegrationError::MissingEventHeader(host.event_header))?.trim();
    let include_title = payload.url_topic().is_some();
    let (topic, content) = match event {
        "push" => {
            let branch = text(body, "/ref")?.replace("refs/heads/", "");
            if !git::is_branch_name_notifiable(&branch, payload.param("branches")) {
                return Ok(Handled { event: event.to_owned(), outcome: Outcome::Ignore });
            }
            (git::topic_with_branch(repo, &branch), push_message(body, &branch)?)
        }
        "create" => {
            let branch = text(body, "/ref")?;
            (git::topic_with_branch(repo, branch), create_message(body, branch)?)
        }
        "pull_request" => {
            let content = (host.pull_request)(body, include_title)?;
            let id = number(body, "/pull_request/id")?;
            let title = text(body, "/pull_request/title")?;
            (git::topic_with_pr_or_issue_info(repo, "PR", id, title), content)
        }
        "issues" | "issue_comment" => {
            let content = if event == "issues" {
                issue_message(body, include_title)?
            } else {
                comment_message(body, include_title)?
            };
            let id = number(body, "/issue/number")?;
            let title = text(body, "/issue/title")?;
            (git::topic_with_pr_or_issue_info(repo, "issue", id, title), content)
        }
        "release" => {
            let content = release_message(body)?;
            let tag = text(body, "/release/tag_name")?;
            let name = text(body, "/release/name")?;
            (git::topic_with_release(repo, tag, name), content)
        }
        other => {
            return Err(IntegrationError::Unsupported { event: other.to_owned(), integration: host.display_name });
        }
    };
    Ok(Handled { event: event.to_owned(), outcome: Outcome::Message { topic, content } })
}

/// An issue's page: Gogs and Gitea send only the repository's.
fn issue_url(body: &Value, number: i64) -> Result<String, IntegrationError> {
    Ok(format!("{}/issues/{number}", text(body, "/repository/html_url")?))
}

/// The login of the user at `pointer`, when there is one (`null` or `{}` is nobody).
pub(crate) fn login_at<'v>(body: &'v Value, pointer: &str) -> Result<Option<&'v str>, IntegrationError> {
    match body.pointer(pointer) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(user)) if user.is_empty() => Ok(None),
        Some(Value::Object(_)) => text(body, &format!("{pointer}/login")).map(Some),
        Some(_) => Err(IntegrationError::Malformed(format!("expected a user at {pointer}"))),
    }
}

/// Whether the value at `pointer` is `true` (a boolean is required).
pub(crate) fn flag(body: &Value, pointer: &str) -> Result<bool, IntegrationError> {
    body.pointer(pointer)
        .and_then(Value::as_bool)
        .ok_or_else(|| IntegrationError::Malformed(format!("expected a boolean at {pointer}")))
}

/// Who acted on a pull request and how: the merger for a merged one, else its author and the
/// payload's action.
pub(crate) fn pull_request_actor(body: &Value) -> Result<(&str, &str), IntegrationError> {
    if flag(body, "/pull_request/merged")? {
        Ok((text(body, "/pull_request/merged_by/username")?, "merged"))
    } else {
        Ok((text(body, "/pull_request/user/username")?, text(body, "/action")?))
    }
}

/// A push: the usual git push message, each commit counted under its author's username (or
/// the first word of the author's name when the username is empty).
fn push_message(body: &Value, branch: &str) -> Result<String, IntegrationError> {
    let user = text(body, "/sender/username")?;
    let compare_url = text(body, "/compare_url")?;
    let commits = crate::integration::list(body, "/commits")?
        .iter()
        .map(|commit| {
            let username = text(commit, "/author/username")?;
            let name = if username.is_empty() {
                text(commit, "/author/name")?
                    .split_whitespace()
                    .next()
                    .ok_or_else(|| IntegrationError::Malformed("expected a name at /author/name".into()))?
            } else {
                username
            };
            Ok(Commit {
                name,
                sha: text(commit, "/id")?,
                url: text(commit, "/url")?,
                message: text(commit, "/message")?,
            })
        })
        .collect::<Result<Vec<_>, IntegrationError>>()?;
    Ok(git::push_commits_event_message(user, Some(compare_url), branch, &commits, false, false, false))
}

/// A new branch, linked to its tree.
fn create_message(body: &Value, branch: &str) -> Result<String, IntegrationError> {
    let url = format!("{}/src/{branch}", text(body, "/repository/html_url")?);
    Ok(git::create_branch_event_message(text(body, "/sender/username")?, Some(&url), branch))
}

/// A Gogs pull request: branches from `head_branch` and `base_branch` (not shown for an
/// edit), and for an assignment whom it went to.
fn pull_request_message(body: &Value, include_title: bool) -> Result<String, IntegrationError> {
    let (user_name, action) = pull_request_actor(body)?;
    let url = text(body, "/pull_request/html_url")?;
    let number = number(body, "/pull_request/number")?;
    let (target_branch, base_branch) = if action == "edited" {
        (None, None)
    } else {
        (Some(text(body, "/pull_request/head_branch")?), Some(text(body, "/pull_request/base_branch")?))
    };
    let title = if include_title { Some(text(body, "/pull_request/title")?) } else { None };
    let has_action = body.get("action").is_some_and(truthy);
    let assignee = if has_action { login_at(body, "/pull_request/assignee")? } else { None };
    Ok(PullRequestEvent {
        user_name,
        action,
        url,
        number: Some(number),
        target_branch,
        base_branch,
        title,
        assignee_updated: assignee,
        ..PullRequestEvent::default()
    }
    .message())
}

/// An issue event, with its body quoted and its assignee.
fn issue_message(body: &Value, include_title: bool) -> Result<String, IntegrationError> {
    let number = number(body, "/issue/number")?;
    let assignee = login_at(body, "/issue/assignee")?;
    let action = text(body, "/action")?;
    let url = issue_url(body, number)?;
    Ok(PullRequestEvent {
        user_name: text(body, "/sender/login")?,
        action,
        url: &url,
        number: Some(number),
        message: Some(text(body, "/issue/body")?),
        assignee,
        assignee_updated: if action == "assigned" { assignee } else { None },
        kind: "issue",
        title: if include_title { Some(text(body, "/issue/title")?) } else { None },
        ..PullRequestEvent::default()
    }
    .message())
}

/// A comment on an issue (or a pull request, which Gogs and Gitea send as an issue), quoted.
fn comment_message(body: &Value, include_title: bool) -> Result<String, IntegrationError> {
    let action = text(body, "/action")?;
    let comment_url = text(body, "/comment/html_url")?;
    let action = if action == "created" {
        format!("[commented]({comment_url}) on")
    } else {
        format!("{action} a [comment]({comment_url}) on")
    };
    let number = number(body, "/issue/number")?;
    let url = issue_url(body, number)?;
    Ok(PullRequestEvent {
        user_name: text(body, "/sender/login")?,
        action: &action,
        url: &url,
        number: Some(number),
        message: Some(text(body, "/comment/body")?),
        kind: "issue",
        title: if include_title { Some(text(body, "/issue/title")?) } else { None },
        ..PullRequestEvent::default()
    }
    .message())
}

/// A release, linked to the repository.
fn release_message(body: &Value) -> Result<String, IntegrationError> {
    Ok(git::release_event_message(
        text(body, "/release/author/username")?,
        text(body, "/action")?,
        text(body, "/release/tag_name")?,
        text(body, "/release/name")?,
        text(body, "/repository/html_url")?,
    ))
}
