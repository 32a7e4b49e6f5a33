//! `bitbucket2`: Bitbucket Cloud repository webhooks, as Zulip's `bitbucket2` shows them.
//!
//! The payload itself says what happened (a `push`, a `fork`, a commit `comment`, a
//! `commit_status`, an `issue`); only pull request events and `repo:updated` need the
//! `X-Event-Key` header (`pullrequest:created`, `pullrequest:comment_updated`, …).
//!
//! A push holds one change per ref; each becomes its own message: commits pushed, a force
//! push, a deleted branch (in `{repo} / {branch}`) or a pushed or removed tag (in `{repo}`).
//! With the `branches` URL option, changes to other branches send nothing. Pull requests go to
//! `{repo} / PR #{id} {title}`, issues to `{repo} / issue #{id} {title}`, the rest to `{repo}`.
//! When the URL fixes the topic, pull request and issue messages name the item's title.
//!
//! Bitbucket signs a webhook that has a secret with `X-Hub-Signature: sha256=<hex HMAC-SHA256
//! of the body>`; a bot with a webhook secret checks it.

#[cfg(test)]
mod tests;

use serde_json::Value;

use crate::git::{self, Commit, PullRequestEvent};
use crate::integration::{
    BRANCHES, Handled, Integration, IntegrationError, Outcome, Payload, UrlOption, list, number, text, truthy,
};
use crate::signature::{Encoding, Hash, Scheme};

pub struct Bitbucket2;

/// The header naming the event; Bitbucket Cloud sends it with every request, and it is needed
/// for pull request events and repository updates.
const EVENT_KEY: &str = "X-Event-Key";

/// The name Zulip's messages give the webhook, as in its unsupported-event answers.
const WEBHOOK: &str = "Bitbucket2";

/// Bitbucket's signature of the body with the webhook's secret.
pub(crate) const SIGNATURE: Scheme =
    Scheme { header: "X-Hub-Signature", prefix: "sha256=", hash: Hash::Sha256, encoding: Encoding::Hex };

/// Every event name `handle` produces, as Zulip names them.
const EVENTS: &[&str] = &[
    "change_commit_status",
    "pull_request_comment_created",
    "pull_request_updated",
    "pull_request_unapproved",
    "push",
    "pull_request_approved",
    "pull_request_fulfilled",
    "issue_created",
    "issue_commented",
    "fork",
    "pull_request_comment_updated",
    "pull_request_created",
    "pull_request_rejected",
    "repo:updated",
    "issue_updated",
    "commit_comment",
    "pull_request_comment_deleted",
];

/// The pull request actions (after `pullrequest:` in the event key) that have a message.
const PULL_REQUEST_ACTIONS: &[&str] = &[
    "approved",
    "unapproved",
    "created",
    "updated",
    "rejected",
    "fulfilled",
    "comment_created",
    "comment_updated",
    "comment_deleted",
];

impl Integration for Bitbucket2 {
    fn name(&self) -> &'static str {
        "bitbucket2"
    }

    fn display_name(&self) -> &'static str {
        "Bitbucket"
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
        let event_key = payload.header(&EVENT_KEY.to_ascii_lowercase()).map(str::trim);
        let event = event_type(body, event_key)?;
        if event == "push" {
            return push(body, payload.param("branches"));
        }
        let include_title = payload.url_topic().is_some();
        let repository = object(body, "/repository")?;
        let repo = text(repository, "/name")?;
        let (topic, content) = match event.as_str() {
            "fork" => (repo.to_owned(), fork(body)?),
            "commit_comment" => (repo.to_owned(), commit_comment(body)?),
            "change_commit_status" => (repo.to_owned(), commit_status(body)?),
            "repo:updated" => (repo.to_owned(), repo_updated(body)?),
            issue if issue.starts_with("issue") => {
                let topic = git::topic_with_pr_or_issue_info(
                    repo,
                    "issue",
                    number(body, "/issue/id")?,
                    text(body, "/issue/title")?,
                );
                (topic, issue_message(body, issue, include_title)?)
            }
            pull_request => {
                let topic = git::topic_with_pr_or_issue_info(
                    repo,
                    "PR",
                    number(body, "/pullrequest/id")?,
                    text(body, "/pullrequest/title")?,
                );
                (topic, pull_request_message(body, pull_request, include_title)?)
            }
        };
        // A repository update that changed none of the settings shown has nothing to say.
        if content.is_empty() {
            return Ok(Handled { event, outcome: Outcome::Ignore });
        }
        Ok(Handled { event, outcome: Outcome::Message { topic, content } })
    }

    /// Bitbucket signs the body with the webhook's secret in `X-Hub-Signature`.
    fn verify(&self, secret: &str, payload: &Payload<'_>) -> Result<(), IntegrationError> {
        SIGNATURE.check_body(secret, payload)
    }

    fn sample(&self) -> (Option<&'static str>, &'static str) {
        (None, include_str!("fixtures/push.json"))
    }
}

/// The event, told by the payload's keys; pull requests and anything else need the event key.
fn event_type(body: &Value, event_key: Option<&str>) -> Result<String, IntegrationError> {
    let has = |key: &str| body.get(key).is_some();
    let event = if has("push") {
        "push"
    } else if has("fork") {
        "fork"
    } else if has("comment") && has("commit") {
        "commit_comment"
    } else if has("commit_status") {
        "change_commit_status"
    } else if has("issue") {
        if has("changes") {
            "issue_updated"
        } else if has("comment") {
            "issue_commented"
        } else {
            "issue_created"
        }
    } else {
        let key = event_key.ok_or(IntegrationError::MissingEventHeader(EVENT_KEY))?;
        if has("pullrequest") {
            if let Some(action) = key.strip_prefix("pullrequest:")
                && PULL_REQUEST_ACTIONS.contains(&action)
            {
                return Ok(format!("pull_request_{action}"));
            }
        } else if key == "repo:updated" {
            return Ok(key.to_owned());
        }
        return Err(IntegrationError::Unsupported { event: key.to_owned(), integration: WEBHOOK });
    };
    Ok(event.to_owned())
}

/// The object at `pointer`, or a Malformed error.
pub(crate) fn object<'v>(body: &'v Value, pointer: &str) -> Result<&'v Value, IntegrationError> {
    body.pointer(pointer)
        .filter(|value| value.is_object())
        .ok_or_else(|| IntegrationError::Malformed(format!("expected an object at {pointer}")))
}

/// A person's name: since Bitbucket stopped sending usernames, its `display_name`, else its
/// `nickname`, else `Unknown user`.
pub(crate) fn user_info(user: &Value) -> Result<&str, IntegrationError> {
    if !user.is_object() {
        return Err(IntegrationError::Malformed("expected a user object".into()));
    }
    for key in ["display_name", "nickname"] {
        if let Some(value) = user.get(key) {
            return value.as_str().ok_or_else(|| IntegrationError::Malformed(format!("expected text at {key}")));
        }
    }
    Ok("Unknown user")
}

/// Who did it: the payload's `actor`.
fn actor(body: &Value) -> Result<&str, IntegrationError> {
    user_info(object(body, "/actor")?)
}

/// One message per change of a push (none without changes, or for branches the `branches`
/// option leaves out).
fn push(body: &Value, branches: Option<&str>) -> Result<Handled, IntegrationError> {
    let changes = list(body, "/push/changes")?;
    let mut messages = Vec::new();
    for change in changes {
        let new = ref_state(change, "new")?;
        let old = ref_state(change, "old")?;
        let Some(target) = new.or(old) else {
            return Err(IntegrationError::Malformed("a change has neither a new nor an old ref".into()));
        };
        let repo = text(body, "/repository/name")?;
        if text(target, "/type")? == "tag" {
            let (tag, action) = match new {
                Some(tag) => (tag, "pushed"),
                None => (target, "removed"),
            };
            let content = git::push_tag_event_message(
                actor(body)?,
                text(tag, "/name")?,
                Some(text(tag, "/links/html/href")?),
                action,
            );
            messages.push((repo.to_owned(), content));
            continue;
        }
        let branch = text(target, "/name")?;
        if !git::is_branch_name_notifiable(branch, branches) {
            continue;
        }
        let content = match new {
            None => git::remove_branch_event_message(actor(body)?, branch),
            Some(new) if flag(change, "/forced")? => git::force_push_commits_event_message(
                actor(body)?,
                text(change, "/links/html/href")?,
                branch,
                text(new, "/target/hash")?,
            ),
            Some(_) => {
                let commits = list(change, "/commits")?
                    .iter()
                    .map(|commit| {
                        Ok(Commit {
                            name: commit_author(commit)?,
                            sha: text(commit, "/hash")?,
                            url: text(commit, "/links/html/href")?,
                            message: text(commit, "/message")?,
                        })
                    })
                    .collect::<Result<Vec<_>, IntegrationError>>()?;
                git::push_commits_event_message(
                    actor(body)?,
                    Some(text(change, "/links/html/href")?),
                    branch,
                    &commits,
                    flag(change, "/truncated")?,
                    false,
                    false,
                )
            }
        };
        messages.push((git::topic_with_branch(repo, branch), content));
    }
    let outcome = Outcome::from_messages(messages);
    Ok(Handled { event: "push".into(), outcome })
}

/// A change's `new` or `old` ref: `None` when null (a created or deleted ref).
fn ref_state<'v>(change: &'v Value, key: &str) -> Result<Option<&'v Value>, IntegrationError> {
    match change.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value @ Value::Object(_)) => Ok(Some(value)),
        Some(_) => Err(IntegrationError::Malformed(format!("expected an object at {key}"))),
    }
}

/// The boolean at `pointer`, or a Malformed error.
fn flag(value: &Value, pointer: &str) -> Result<bool, IntegrationError> {
    value
        .pointer(pointer)
        .and_then(Value::as_bool)
        .ok_or_else(|| IntegrationError::Malformed(format!("expected a boolean at {pointer}")))
}

/// A commit's author: the Bitbucket user when known, else the first word of the raw author
/// line (`Tomasz Kolek <tomasz@example.com>`).
fn commit_author(commit: &Value) -> Result<&str, IntegrationError> {
    let author = object(commit, "/author")?;
    if let Some(user) = author.get("user") {
        return user_info(user);
    }
    text(author, "/raw")?
        .split_whitespace()
        .next()
        .ok_or_else(|| IntegrationError::Malformed("expected an author at /author/raw".into()))
}

fn fork(body: &Value) -> Result<String, IntegrationError> {
    Ok(format!(
        "{} forked the repository into [{}]({}).",
        actor(body)?,
        text(body, "/fork/full_name")?,
        text(body, "/fork/links/html/href")?
    ))
}

fn commit_comment(body: &Value) -> Result<String, IntegrationError> {
    let comment = object(body, "/comment")?;
    let action = format!("[commented]({})", text(comment, "/links/html/href")?);
    Ok(git::commits_comment_action_message(
        actor(body)?,
        &action,
        text(comment, "/commit/links/html/href")?,
        text(comment, "/commit/hash")?,
        Some(text(comment, "/content/raw")?),
    ))
}

/// `[System {key}]({url}) changed status of [{short sha}]({repo}/commits/{sha}) to {state}.`
fn commit_status(body: &Value) -> Result<String, IntegrationError> {
    let api_url = text(body, "/commit_status/links/commit/href")?;
    let sha = api_url.rsplit('/').next().unwrap_or_default();
    let repo_url = text(body, "/repository/links/html/href")?;
    Ok(format!(
        "[System {}]({}) changed status of [{}]({repo_url}/commits/{sha}) to {}.",
        text(body, "/commit_status/key")?,
        text(body, "/commit_status/url")?,
        git::short_sha(sha),
        text(body, "/commit_status/state")?
    ))
}

fn issue_message(body: &Value, event: &str, include_title: bool) -> Result<String, IntegrationError> {
    let issue = object(body, "/issue")?;
    let (action, assignee, message) = match event {
        "issue_created" => {
            let assignee = match issue.get("assignee") {
                Some(user) if truthy(user) => Some(user_info(user)?),
                _ => None,
            };
            ("created".to_owned(), assignee, Some(text(issue, "/content/raw")?))
        }
        "issue_commented" => (format!("[commented]({}) on", text(body, "/comment/links/html/href")?), None, None),
        _ => ("updated".to_owned(), None, None),
    };
    Ok(PullRequestEvent {
        user_name: actor(body)?,
        action: &action,
        url: text(issue, "/links/html/href")?,
        number: Some(number(issue, "/id")?),
        message,
        assignee,
        kind: "issue",
        title: if include_title { Some(text(issue, "/title")?) } else { None },
        ..PullRequestEvent::default()
    }
    .message())
}

fn pull_request_message(body: &Value, event: &str, include_title: bool) -> Result<String, IntegrationError> {
    let pr = object(body, "/pullrequest")?;
    let user_name = actor(body)?;
    let number = Some(number(pr, "/id")?);
    let title = if include_title { Some(text(pr, "/title")?) } else { None };
    let action = event.strip_prefix("pull_request_").unwrap_or(event);
    let branches = || -> Result<(Option<&str>, Option<&str>), IntegrationError> {
        Ok((Some(text(pr, "/source/branch/name")?), Some(text(pr, "/destination/branch/name")?)))
    };
    let event = match action {
        "created" | "updated" => {
            let assignee = match list(pr, "/reviewers")?.first() {
                Some(reviewer) => Some(user_info(reviewer)?),
                None => None,
            };
            let (target_branch, base_branch) = if action == "created" { branches()? } else { (None, None) };
            PullRequestEvent {
                action,
                target_branch,
                base_branch,
                message: Some(text(pr, "/description")?),
                assignee,
                ..PullRequestEvent::default()
            }
        }
        "comment_created" | "comment_updated" | "comment_deleted" => {
            let link = text(body, "/comment/links/html/href")?;
            let action = match action {
                "comment_created" => format!("[commented]({link}) on"),
                "comment_updated" => format!("updated a [comment]({link}) on"),
                _ => format!("deleted a [comment]({link}) on"),
            };
            let content = PullRequestEvent {
                user_name,
                action: &action,
                url: text(pr, "/links/html/href")?,
                number,
                message: Some(text(body, "/comment/content/raw")?),
                title,
                ..PullRequestEvent::default()
            }
            .message();
            return Ok(content);
        }
        "fulfilled" => {
            let (target_branch, base_branch) = branches()?;
            PullRequestEvent { action: "merged", target_branch, base_branch, ..PullRequestEvent::default() }
        }
        other => PullRequestEvent { action: other, ..PullRequestEvent::default() },
    };
    Ok(PullRequestEvent { user_name, url: text(pr, "/links/html/href")?, number, title, ..event }.message())
}

/// A changed value as the message shows it: text as it is, anything else as JSON.
fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        other => other.to_string(),
    }
}

/// `{actor} changed the {change} of the **{repo}** repo from **{old}** to **{new}**` (or
/// `… repo to **{new}**` when there was no old value), with a `.` unless the new value ends
/// with punctuation. Bitbucket Server's repository renames use it too.
pub(crate) fn repo_changed_message(actor: &str, change: &str, repo: &str, old: Option<&str>, new: &str) -> String {
    let mut message = match old {
        Some(old) => format!("{actor} changed the {change} of the **{repo}** repo from **{old}** to **{new}**"),
        None => format!("{actor} changed the {change} of the **{repo}** repo to **{new}**"),
    };
    if !git::ends_with_punctuation(new) {
        message.push('.');
    }
    message
}

/// One line per changed repository setting (website, name, links, language, full name,
/// description), in that order.
fn repo_updated(body: &Value) -> Result<String, IntegrationError> {
    let repo = text(body, "/repository/name")?;
    let actor = actor(body)?;
    let changes = object(body, "/changes")?;
    let mut lines = Vec::new();
    for (key, label) in [
        ("website", "website"),
        ("name", "name"),
        ("links", "links"),
        ("language", "language"),
        ("full_name", "full name"),
        ("description", "description"),
    ] {
        let Some(change) = changes.get(key) else { continue };
        if !change.is_object() {
            return Err(IntegrationError::Malformed(format!("expected an object at /changes/{key}")));
        }
        let new = change.get("new").unwrap_or(&Value::Null);
        let old = change.get("old").unwrap_or(&Value::Null);
        if !truthy(new) {
            continue;
        }
        let old = truthy(old).then(|| shown(old));
        lines.push(repo_changed_message(actor, label, repo, old.as_deref(), &shown(new)));
    }
    Ok(lines.join("\n"))
}
