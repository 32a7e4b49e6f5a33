//! `bitbucket3`: Bitbucket Server (and Data Center) webhooks, as Zulip's `bitbucket3` shows
//! them.
//!
//! The payload's `eventKey` names the event (`repo:refs_changed`, `pr:opened`,
//! `pr:comment:added`, …); a payload without one, like the connection test's, is named by the
//! `X-Event-Key` header. People are shown as links to their profiles: `[name](profile)`.
//!
//! A push (`repo:refs_changed`) sends one message per ref changed: a branch created, updated
//! (with its new head) or deleted, in `{repo} / {branch}`, or a tag pushed or removed, in
//! `{repo}`. With the `branches` URL option, changes to other branches send nothing. Pull
//! request events go to `{repo} / PR #{id} {title}`; commit comments, forks and renames to
//! `{repo}`. When the URL fixes the topic, pull request messages name the title.
//!
//! Bitbucket Server signs a webhook that has a secret as Bitbucket Cloud does:
//! `X-Hub-Signature: sha256=<hex HMAC-SHA256 of the body>`.

#[cfg(test)]
mod tests;

use serde_json::Value;

use super::bitbucket2::{self, object};
use crate::git::{self, PullRequestEvent};
use crate::integration::{
    BRANCHES, Handled, Integration, IntegrationError, Outcome, Payload, UrlOption, list, number, optional_text, text,
};

pub struct Bitbucket3;

/// The header naming the event when the payload does not.
const EVENT_KEY: &str = "X-Event-Key";

/// The name Zulip's messages give the webhook, as in its unsupported-event answers.
const WEBHOOK: &str = "Bitbucket3";

/// Every event name `handle` produces: Bitbucket Server's event keys.
const EVENTS: &[&str] = &[
    "diagnostics:ping",
    "repo:comment:added",
    "repo:comment:edited",
    "repo:comment:deleted",
    "repo:forked",
    "repo:modified",
    "repo:refs_changed",
    "pr:comment:added",
    "pr:comment:edited",
    "pr:comment:deleted",
    "pr:declined",
    "pr:deleted",
    "pr:merged",
    "pr:modified",
    "pr:opened",
    "pr:reviewer:approved",
    "pr:reviewer:needs_work",
    "pr:reviewer:updated",
    "pr:reviewer:unapproved",
];

impl Integration for Bitbucket3 {
    fn name(&self) -> &'static str {
        "bitbucket3"
    }

    fn display_name(&self) -> &'static str {
        "Bitbucket Server"
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

    fn handle(&self, payload: &Payload<'_>) -> Result<Handled, IntegrationError> {
        let body = payload.body;
        if !body.is_object() {
            return Err(IntegrationError::Malformed("expected a JSON object".into()));
        }
        let event = match optional_text(body, "eventKey")? {
            Some(key) => key,
            None => payload
                .header(&EVENT_KEY.to_ascii_lowercase())
                .map(str::trim)
                .ok_or(IntegrationError::MissingEventHeader(EVENT_KEY))?,
        };
        let Some(&event) = EVENTS.iter().find(|known| **known == event) else {
            return Err(IntegrationError::Unsupported { event: event.to_owned(), integration: WEBHOOK });
        };
        let include_title = payload.url_topic().is_some();
        let messages = match event {
            "diagnostics:ping" => vec![(
                "Bitbucket Server Ping".to_owned(),
                "Congratulations! The Bitbucket Server webhook was configured successfully!".to_owned(),
            )],
            "repo:comment:added" => vec![commit_comment(body, "commented")?],
            "repo:comment:edited" => vec![commit_comment(body, "edited their comment")?],
            "repo:comment:deleted" => vec![commit_comment(body, "deleted their comment")?],
            "repo:forked" => vec![fork(body)?],
            "repo:modified" => vec![renamed(body)?],
            "repo:refs_changed" => push(body, event, payload.param("branches"))?,
            "pr:comment:added" => vec![pull_request_comment(body, "commented on", include_title)?],
            "pr:comment:edited" => vec![pull_request_comment(body, "edited their comment on", include_title)?],
            "pr:comment:deleted" => vec![pull_request_comment(body, "deleted their comment on", include_title)?],
            pull_request => vec![pull_request_event(body, pull_request, include_title)?],
        };
        let outcome = Outcome::from_messages(messages);
        Ok(Handled { event: event.to_owned(), outcome })
    }

    /// Bitbucket Server signs the body with the webhook's secret in `X-Hub-Signature`.
    fn verify(&self, secret: &str, payload: &Payload<'_>) -> Result<(), IntegrationError> {
        bitbucket2::SIGNATURE.check_body(secret, payload)
    }

    fn sample(&self) -> (Option<&'static str>, &'static str) {
        (None, include_str!("fixtures/repo_push_update_single_branch.json"))
    }
}

/// The first link of a Bitbucket Server `links.self` list.
fn self_link<'v>(value: &'v Value, pointer: &str) -> Result<&'v str, IntegrationError> {
    text(value, &format!("{pointer}/links/self/0/href"))
}

/// `[name](profile)` for the object at `pointer` (the actor, a reviewer).
fn user_link(value: &Value, pointer: &str) -> Result<String, IntegrationError> {
    Ok(format!("[{}]({})", text(value, &format!("{pointer}/name"))?, self_link(value, pointer)?))
}

fn actor(body: &Value) -> Result<String, IntegrationError> {
    user_link(body, "/actor")
}

/// A comment on a commit: `{actor} {action} on [{short sha}]({commit})` with the comment
/// quoted (struck through once deleted).
fn commit_comment(body: &Value, action: &str) -> Result<(String, String), IntegrationError> {
    let repo = text(body, "/repository/name")?;
    let sha = text(body, "/commit")?;
    let browse = self_link(body, "/repository")?;
    let commit_url = format!("{}commits/{sha}", browse.strip_suffix("browse").unwrap_or(browse));
    let mut comment = text(body, "/comment/text")?.to_owned();
    if action == "deleted their comment" {
        comment = format!("~~{comment}~~");
    }
    let content = git::commits_comment_action_message(&actor(body)?, action, &commit_url, sha, Some(&comment));
    Ok((repo.to_owned(), content))
}

/// `User {display name}(login: {actor}) forked the repository into [{fork}]({url}).`, in the
/// original repository's topic.
fn fork(body: &Value) -> Result<(String, String), IntegrationError> {
    let content = format!(
        "User {}(login: {}) forked the repository into [{}]({}).",
        text(body, "/actor/displayName")?,
        actor(body)?,
        text(body, "/repository/name")?,
        self_link(body, "/repository")?
    );
    Ok((text(body, "/repository/origin/name")?.to_owned(), content))
}

/// A repository renamed (the only change Bitbucket Server reports), in the new name's topic.
fn renamed(body: &Value) -> Result<(String, String), IntegrationError> {
    let old = text(body, "/old/name")?;
    let new = text(body, "/new/name")?;
    Ok((new.to_owned(), bitbucket2::repo_changed_message(&actor(body)?, "name", old, Some(old), new)))
}

/// One message per ref changed, leaving out branches the `branches` option does not name.
fn push(body: &Value, event: &str, branches: Option<&str>) -> Result<Vec<(String, String)>, IntegrationError> {
    let repo = text(body, "/repository/name")?;
    let mut messages = Vec::new();
    for change in list(body, "/changes")? {
        let kind = text(change, "/type")?;
        let name = text(change, "/ref/displayId")?;
        match text(change, "/ref/type")? {
            "BRANCH" => {
                if !git::is_branch_name_notifiable(name, branches) {
                    continue;
                }
                let user = actor(body)?;
                let content = match kind {
                    "ADD" => git::create_branch_event_message(&user, None, name),
                    "UPDATE" => {
                        format!("{user} pushed to branch {name}. Head is now {}.", text(change, "/toHash")?)
                    }
                    "DELETE" => git::remove_branch_event_message(&user, name),
                    other => {
                        return Err(IntegrationError::Unsupported {
                            event: format!("{event}.{other}"),
                            integration: WEBHOOK,
                        });
                    }
                };
                messages.push((git::topic_with_branch(repo, name), content));
            }
            "TAG" => {
                let action = match kind {
                    "ADD" => "pushed",
                    "DELETE" => "removed",
                    other => {
                        return Err(IntegrationError::Unsupported {
                            event: format!("{event}.{other}"),
                            integration: WEBHOOK,
                        });
                    }
                };
                messages.push((repo.to_owned(), git::push_tag_event_message(&actor(body)?, name, None, action)));
            }
            other => {
                return Err(IntegrationError::Unsupported { event: format!("{event}.{other}"), integration: WEBHOOK });
            }
        }
    }
    Ok(messages)
}

/// The pull request's reviewers as `[a](…), [b](…) and [c](…)`, or `None` without any.
fn reviewers(pr: &Value) -> Result<Option<String>, IntegrationError> {
    let links =
        list(pr, "/reviewers")?.iter().map(|reviewer| user_link(reviewer, "/user")).collect::<Result<Vec<_>, _>>()?;
    let names: Vec<&str> = links.iter().map(String::as_str).collect();
    Ok((!names.is_empty()).then(|| git::assignee_string(&names)))
}

/// `{repo} / PR #{id} {title}`, the repository being the one merged into.
fn pull_request_topic(pr: &Value) -> Result<String, IntegrationError> {
    Ok(git::topic_with_pr_or_issue_info(
        text(pr, "/toRef/repository/name")?,
        "PR",
        number(pr, "/id")?,
        text(pr, "/title")?,
    ))
}

/// `[PR #{id}]({url})`, with the title inside the link when `include_title`.
fn pull_request_link(pr: &Value, include_title: bool) -> Result<String, IntegrationError> {
    let id = number(pr, "/id")?;
    let url = self_link(pr, "")?;
    Ok(if include_title { format!("[PR #{id} {}]({url})", text(pr, "/title")?) } else { format!("[PR #{id}]({url})") })
}

fn pull_request_comment(body: &Value, action: &str, include_title: bool) -> Result<(String, String), IntegrationError> {
    let pr = object(body, "/pullRequest")?;
    let topic = pull_request_topic(pr)?;
    let mut comment = text(body, "/comment/text")?.to_owned();
    if action == "deleted their comment on" {
        comment = format!("~~{comment}~~");
    }
    let content = PullRequestEvent {
        user_name: &actor(body)?,
        action,
        url: self_link(pr, "")?,
        number: Some(number(pr, "/id")?),
        message: Some(&comment),
        title: if include_title { Some(text(pr, "/title")?) } else { None },
        ..PullRequestEvent::default()
    }
    .message();
    Ok((topic, content))
}

fn pull_request_event(body: &Value, event: &str, include_title: bool) -> Result<(String, String), IntegrationError> {
    let pr = object(body, "/pullRequest")?;
    let topic = pull_request_topic(pr)?;
    let user = actor(body)?;
    let content = match event {
        "pr:reviewer:needs_work" => {
            format!("{user} marked {} as \"needs work\".", pull_request_link(pr, include_title)?)
        }
        "pr:reviewer:updated" => match reviewers(pr)? {
            Some(reviewers) => format!("{user} reassigned {} to {reviewers}.", pull_request_link(pr, include_title)?),
            None => {
                let mut content =
                    format!("{user} removed all reviewers from {}", pull_request_link(pr, include_title)?);
                if !include_title || !git::ends_with_punctuation(text(pr, "/title")?) {
                    content.push('.');
                }
                content
            }
        },
        _ => {
            let action = match event {
                "pr:opened" => "opened",
                "pr:modified" => "modified",
                "pr:merged" => "merged",
                "pr:declined" => "declined",
                "pr:deleted" => "deleted",
                "pr:reviewer:approved" => "approved",
                // The one pull request event left: `pr:reviewer:unapproved`.
                _ => "unapproved",
            };
            let branches = matches!(action, "opened" | "merged");
            let (target_branch, base_branch) = if branches {
                (Some(text(pr, "/fromRef/displayId")?), Some(text(pr, "/toRef/displayId")?))
            } else {
                (None, None)
            };
            let described = matches!(action, "opened" | "modified");
            let message = if described { optional_text(pr, "description")? } else { None };
            let reviewer = if described { reviewers(pr)? } else { None };
            PullRequestEvent {
                user_name: &user,
                action,
                url: self_link(pr, "")?,
                number: Some(number(pr, "/id")?),
                target_branch,
                base_branch,
                message,
                reviewer: reviewer.as_deref(),
                title: if include_title { Some(text(pr, "/title")?) } else { None },
                ..PullRequestEvent::default()
            }
            .message()
        }
    };
    Ok((topic, content))
}
