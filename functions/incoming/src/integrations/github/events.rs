//! One function per GitHub event: what Zulip's `zerver/webhooks/github/view.py` posts for it.

use serde_json::Value;

use super::fields::{action, flag, numbered_topic, opt_text, present, repo_name, required_flag, sender};
use super::format::{COMMITS_LIMIT, Commit, Notice, end_sentence, push_commits, quote, short_sha};
use crate::integration::{IntegrationError, Outcome, list, number, text};

type Result<T> = std::result::Result<T, IntegrationError>;

/// Events GitHub sends that Zulip knowingly drops.
const IGNORED_EVENTS: &[&str] =
    &["check_suite", "label", "meta", "milestone", "organization", "project_card", "repository_vulnerability_alert"];

/// Pull request actions Zulip knowingly drops.
const IGNORED_PULL_REQUEST_ACTIONS: &[&str] = &["converted_to_draft", "labeled", "unlabeled", "review_request_removed"];

/// Issue actions that produce a message (GitHub's documented ones, less `typed`/`untyped`).
const ISSUE_ACTIONS: &[&str] = &[
    "opened",
    "edited",
    "deleted",
    "closed",
    "reopened",
    "assigned",
    "unassigned",
    "labeled",
    "unlabeled",
    "milestoned",
    "demilestoned",
    "locked",
    "unlocked",
    "pinned",
    "unpinned",
    "transferred",
];

const RELEASE_ACTIONS: &[&str] =
    &["published", "unpublished", "created", "edited", "deleted", "prereleased", "released"];

/// Every event name [`dispatch`] can return, for `only_events` and `exclude_events`.
pub(super) const EVENT_TYPES: &[&str] = &[
    "ping",
    "push",
    "create",
    "delete",
    "fork",
    "star",
    "watch",
    "public",
    "member",
    "gollum",
    "commit_comment",
    "status",
    "deployment",
    "deployment_status",
    "check_run",
    "workflow_run",
    "issue_comment",
    "pull_request_review_comment",
    "pull_request_review_submitted",
    "pull_request_review_edited",
    "pull_request_review_dismissed",
    "pull_request_opened",
    "pull_request_reopened",
    "pull_request_edited",
    "pull_request_synchronize",
    "pull_request_closed",
    "pull_request_merged",
    "pull_request_assigned",
    "pull_request_unassigned",
    "pull_request_review_requested",
    "pull_request_ready_for_review",
    "pull_request_locked",
    "pull_request_unlocked",
    "pull_request_auto_merge_enabled",
    "pull_request_auto_merge_disabled",
    "pull_request_converted_to_draft",
    "pull_request_labeled",
    "pull_request_unlabeled",
    "pull_request_review_request_removed",
    "issues_opened",
    "issues_edited",
    "issues_deleted",
    "issues_closed",
    "issues_reopened",
    "issues_assigned",
    "issues_unassigned",
    "issues_labeled",
    "issues_unlabeled",
    "issues_milestoned",
    "issues_demilestoned",
    "issues_locked",
    "issues_unlocked",
    "issues_pinned",
    "issues_unpinned",
    "issues_transferred",
    "release_published",
    "release_unpublished",
    "release_created",
    "release_edited",
    "release_deleted",
    "release_prereleased",
    "release_released",
    "check_suite",
    "label",
    "meta",
    "milestone",
    "organization",
    "project_card",
    "repository_vulnerability_alert",
];

/// The event's name (see [`EVENT_TYPES`]) and what it becomes.
pub(super) fn dispatch(event: &str, body: &Value) -> Result<(String, Outcome)> {
    let outcome = match event {
        "pull_request" => return pull_request(body),
        "pull_request_review" => return pull_request_review(body),
        "issues" => return issues(body),
        "release" => return release(body),
        "ping" => ping(body)?,
        "push" => push(body)?,
        "create" => created_or_deleted(body, "created")?,
        "delete" => created_or_deleted(body, "deleted")?,
        "fork" => fork(body)?,
        "star" => star(body)?,
        "watch" => watch(body)?,
        "public" => public(body)?,
        "member" => member(body)?,
        "gollum" => gollum(body)?,
        "commit_comment" => commit_comment(body)?,
        "status" => status(body)?,
        "deployment" => deployment(body)?,
        "deployment_status" => deployment_status(body)?,
        "check_run" => check_run(body)?,
        "workflow_run" => workflow_run(body)?,
        "issue_comment" => issue_comment(body)?,
        "pull_request_review_comment" => pull_request_review_comment(body)?,
        ignored if IGNORED_EVENTS.contains(&ignored) => Outcome::Ignore,
        _ => return Err(unsupported(event, body)),
    };
    Ok((event.to_owned(), outcome))
}

/// Zulip names an unsupported event `event:action`.
fn unsupported(event: &str, body: &Value) -> IntegrationError {
    let name = match body.get("action").and_then(Value::as_str) {
        Some(action) => format!("{event}:{action}"),
        None => event.to_owned(),
    };
    // The name is echoed in the reply: keep a sender's garbage from making it long.
    IntegrationError::Unsupported { event: name.chars().take(100).collect(), integration: "GitHub" }
}

fn message(topic: &str, content: String) -> Outcome {
    Outcome::Message { topic: topic.to_owned(), content }
}

fn ping(body: &Value) -> Result<Outcome> {
    let user = sender(body)?;
    // A hook on an organization has no repository: its topic is the organization.
    let topic = if present(body, "/repository") { repo_name(body)? } else { text(body, "/organization/login")? };
    Ok(message(topic, format!("GitHub webhook has been successfully configured by {user}.")))
}

fn push(body: &Value) -> Result<Outcome> {
    let git_ref = text(body, "/ref")?;
    if git_ref.starts_with("refs/heads/gh-readonly-queue/") {
        // The merge queue's temporary branches.
        return Ok(Outcome::Ignore);
    }
    let user = sender(body)?;
    let repo = repo_name(body)?;
    let deleted = flag(body, "/deleted")?;
    let Some(branch) = git_ref.strip_prefix("refs/heads/") else {
        let tag = git_ref.strip_prefix("refs/tags/").unwrap_or(git_ref);
        let verb = if deleted { "removed" } else { "pushed" };
        return Ok(message(repo, end_sentence(format!("{user} {verb} tag {tag}"))));
    };
    let topic = format!("{repo} / {branch}");
    let compare = opt_text(body, "/compare")?.unwrap_or_default();
    let forced = flag(body, "/forced")?;
    let commits = commits(body)?;
    if !commits.is_empty() {
        return Ok(message(&topic, push_commits(user, compare, branch, &commits, forced)));
    }
    let verb = if deleted {
        "deleted"
    } else if forced {
        "force pushed"
    } else if flag(body, "/created")? {
        "pushed"
    } else {
        // No new commits, and the branch was neither created, deleted nor rewritten.
        return Ok(Outcome::Ignore);
    };
    let verb = if compare.is_empty() { verb.to_owned() } else { format!("[{verb}]({compare})") };
    Ok(message(&topic, format!("{user} {verb} the branch {branch}.")))
}

fn commits(body: &Value) -> Result<Vec<Commit<'_>>> {
    list(body, "/commits")?
        .iter()
        .map(|commit| {
            let name = match opt_text(commit, "/author/username")? {
                Some(username) if !username.is_empty() => username,
                _ => text(commit, "/author/name")?,
            };
            Ok(Commit {
                name,
                sha: text(commit, "/id")?,
                url: text(commit, "/url")?,
                message: text(commit, "/message")?,
            })
        })
        .collect()
}

fn pull_request(body: &Value) -> Result<(String, Outcome)> {
    let action = action(body)?;
    if IGNORED_PULL_REQUEST_ACTIONS.contains(&action) {
        return Ok((format!("pull_request_{action}"), Outcome::Ignore));
    }
    let known = [
        "opened",
        "reopened",
        "edited",
        "synchronize",
        "closed",
        "assigned",
        "unassigned",
        "review_requested",
        "ready_for_review",
        "locked",
        "unlocked",
        "auto_merge_enabled",
        "auto_merge_disabled",
    ];
    if !known.contains(&action) {
        return Err(unsupported("pull_request", body));
    }
    let user = sender(body)?;
    let number = number(body, "/pull_request/number")?;
    let url = text(body, "/pull_request/html_url")?;
    let topic = numbered_topic(body, "PR", "/pull_request")?;
    let pr = Notice { user, action, kind: "PR", number: Some(number), url, ..Notice::default() };
    let mut name = format!("pull_request_{action}");

    let content = match action {
        "opened" | "reopened" | "edited" | "synchronize" => {
            let branches = if action == "opened" {
                Some((text(body, "/pull_request/head/label")?, text(body, "/pull_request/base/label")?))
            } else {
                None
            };
            let description = if action == "opened" || present(body, "/changes/body") {
                opt_text(body, "/pull_request/body")?
            } else {
                None
            };
            Notice {
                action: if action == "synchronize" { "updated" } else { action },
                branches,
                assignee: opt_text(body, "/pull_request/assignee/login")?,
                quote: description,
                ..pr
            }
            .render()
        }
        "closed" => {
            let merged = required_flag(body, "/pull_request/merged")?;
            if merged {
                name = "pull_request_merged".into();
            }
            Notice { action: if merged { "merged" } else { "closed without merge" }, ..pr }.render()
        }
        "assigned" | "unassigned" => {
            let assignee = text(body, "/assignee/login")?;
            let preposition = if action == "assigned" { "to" } else { "from" };
            Notice { action: &format!("{action} {assignee} {preposition}"), ..pr }.render()
        }
        "review_requested" => {
            let reviewer = if present(body, "/requested_reviewer") {
                format!(
                    "[{}]({})",
                    text(body, "/requested_reviewer/login")?,
                    text(body, "/requested_reviewer/html_url")?
                )
            } else {
                format!("[{}]({})", text(body, "/requested_team/name")?, text(body, "/requested_team/html_url")?)
            };
            format!("**{user}** requested {reviewer} for a review on [PR #{number}]({url}).")
        }
        "ready_for_review" => format!("**{user}** has marked [PR #{number}]({url}) as ready for review."),
        "locked" => match opt_text(body, "/pull_request/active_lock_reason")? {
            Some(reason) => format!(
                "{user} has locked [PR #{number}]({url}) as {reason} and limited conversation to collaborators."
            ),
            None => format!("{user} has locked [PR #{number}]({url}) and limited conversation to collaborators."),
        },
        "unlocked" => format!("{user} has unlocked [PR #{number}]({url})."),
        "auto_merge_enabled" => format!("{user} has enabled auto merge for [PR #{number}]({url})."),
        _ => format!("{user} has disabled auto merge for [PR #{number}]({url})."),
    };
    Ok((name, message(&topic, content)))
}

fn pull_request_review(body: &Value) -> Result<(String, Outcome)> {
    let action = action(body)?;
    if !["submitted", "edited", "dismissed"].contains(&action) {
        return Err(unsupported("pull_request_review", body));
    }
    let name = format!("pull_request_review_{action}");
    // GitHub follows a review with an "edited" event that changes nothing: one message is enough.
    let unchanged = body.get("changes").is_none_or(|changes| changes.as_object().is_some_and(|c| c.is_empty()));
    if action == "edited" && unchanged {
        return Ok((name, Outcome::Ignore));
    }
    let content = Notice {
        user: sender(body)?,
        action,
        kind: "PR review",
        url: text(body, "/review/html_url")?,
        quote: opt_text(body, "/review/body")?,
        ..Notice::default()
    }
    .render();
    Ok((name, message(&numbered_topic(body, "PR", "/pull_request")?, content)))
}

fn pull_request_review_comment(body: &Value) -> Result<Outcome> {
    let action = action(body)?;
    if !["created", "edited", "deleted"].contains(&action) {
        return Err(unsupported("pull_request_review_comment", body));
    }
    if comment_unchanged(body, action)? {
        return Ok(Outcome::Ignore);
    }
    let comment = if action == "created" { opt_text(body, "/comment/body")? } else { None };
    let content = Notice {
        user: sender(body)?,
        action,
        kind: "PR review comment",
        url: text(body, "/comment/html_url")?,
        quote: comment,
        ..Notice::default()
    }
    .render();
    Ok(message(&numbered_topic(body, "PR", "/pull_request")?, content))
}

/// An edit that left a comment's text as it was (GitHub sends those too).
fn comment_unchanged(body: &Value, action: &str) -> Result<bool> {
    if action != "edited" {
        return Ok(false);
    }
    let old = opt_text(body, "/changes/body/from")?;
    Ok(old.is_some() && old == opt_text(body, "/comment/body")?)
}

fn issues(body: &Value) -> Result<(String, Outcome)> {
    let action = action(body)?;
    if !ISSUE_ACTIONS.contains(&action) {
        return Err(unsupported("issues", body));
    }
    let user = sender(body)?;
    let id = number(body, "/issue/number")?;
    let url = text(body, "/issue/html_url")?;
    let topic = numbered_topic(body, "issue", "/issue")?;
    let content = match action {
        "labeled" | "unlabeled" => {
            let (verb, preposition) = if action == "labeled" { ("added", "to") } else { ("removed", "from") };
            format!(
                "[{user}]({}) {verb} the {} label {preposition} [Issue #{id}]({url}).",
                text(body, "/sender/html_url")?,
                text(body, "/label/name")?,
            )
        }
        "milestoned" | "demilestoned" => {
            let (verb, preposition) = if action == "milestoned" { ("added", "to") } else { ("removed", "from") };
            format!(
                "[{user}]({}) {verb} milestone [{}]({}) {preposition} [issue #{id}]({url}).",
                text(body, "/sender/html_url")?,
                text(body, "/milestone/title")?,
                text(body, "/milestone/html_url")?,
            )
        }
        "transferred" => format!(
            "{user} transferred [issue #{id} {}]({url}) to [{}/#{}]({}).",
            text(body, "/issue/title")?,
            text(body, "/changes/new_repository/full_name")?,
            number(body, "/changes/new_issue/number")?,
            text(body, "/changes/new_issue/html_url")?,
        ),
        "opened" if present(body, "/changes/old_issue") => format!(
            "[Issue #{id} {}]({url}) was transferred from [{}#{}]({}).",
            text(body, "/issue/title")?,
            text(body, "/changes/old_repository/full_name")?,
            number(body, "/changes/old_issue/number")?,
            text(body, "/changes/old_issue/html_url")?,
        ),
        "assigned" | "unassigned" => {
            let preposition = if action == "assigned" { "to" } else { "from" };
            let verb = match opt_text(body, "/assignee/login")? {
                Some(assignee) => format!("{action} {assignee} {preposition}"),
                None => action.to_owned(),
            };
            Notice { user, action: &verb, kind: "issue", number: Some(id), url, ..Notice::default() }.render()
        }
        _ => Notice {
            user,
            action,
            kind: "issue",
            number: Some(id),
            url,
            quote: opt_text(body, "/issue/body")?,
            ..Notice::default()
        }
        .render(),
    };
    Ok((format!("issues_{action}"), message(&topic, content)))
}

fn issue_comment(body: &Value) -> Result<Outcome> {
    let action = action(body)?;
    if !["created", "edited", "deleted"].contains(&action) {
        return Err(unsupported("issue_comment", body));
    }
    if comment_unchanged(body, action)? {
        return Ok(Outcome::Ignore);
    }
    // GitHub sends comments on pull requests as comments on issues, marked by `issue.pull_request`.
    let kind = if present(body, "/issue/pull_request") { "PR" } else { "issue" };
    let comment_url = text(body, "/comment/html_url")?;
    let verb = if action == "created" {
        format!("[commented]({comment_url}) on")
    } else {
        format!("{action} a [comment]({comment_url}) on")
    };
    let content = Notice {
        user: sender(body)?,
        action: &verb,
        kind,
        number: Some(number(body, "/issue/number")?),
        url: text(body, "/issue/html_url")?,
        quote: opt_text(body, "/comment/body")?,
        ..Notice::default()
    }
    .render();
    Ok(message(&numbered_topic(body, kind, "/issue")?, content))
}

fn created_or_deleted(body: &Value, verb: &str) -> Result<Outcome> {
    let content = format!("{} {verb} {} {}.", sender(body)?, text(body, "/ref_type")?, text(body, "/ref")?);
    Ok(message(repo_name(body)?, content))
}

fn release(body: &Value) -> Result<(String, Outcome)> {
    let action = action(body)?;
    if !RELEASE_ACTIONS.contains(&action) {
        return Err(unsupported("release", body));
    }
    let tag = text(body, "/release/tag_name")?;
    // Not every release has a name; Zulip shows the tag then.
    let name = opt_text(body, "/release/name")?.filter(|name| !name.is_empty()).unwrap_or(tag);
    let content =
        format!("{} {action} release [{name}]({}) for tag {tag}.", sender(body)?, text(body, "/release/html_url")?);
    Ok((format!("release_{action}"), message(repo_name(body)?, content)))
}

fn star(body: &Value) -> Result<Outcome> {
    let verb = match action(body)? {
        "created" => "starred",
        "deleted" => "unstarred",
        _ => return Err(unsupported("star", body)),
    };
    let content = format!(
        "[{}]({}) {verb} the repository [{}]({}).",
        sender(body)?,
        text(body, "/sender/html_url")?,
        text(body, "/repository/full_name")?,
        text(body, "/repository/html_url")?,
    );
    Ok(message(repo_name(body)?, content))
}

fn watch(body: &Value) -> Result<Outcome> {
    let content = format!(
        "{} starred the repository [{}]({}).",
        sender(body)?,
        text(body, "/repository/full_name")?,
        text(body, "/repository/html_url")?,
    );
    Ok(message(repo_name(body)?, content))
}

fn fork(body: &Value) -> Result<Outcome> {
    let content =
        format!("{} forked [{}]({}).", sender(body)?, text(body, "/forkee/name")?, text(body, "/forkee/html_url")?);
    Ok(message(repo_name(body)?, content))
}

fn public(body: &Value) -> Result<Outcome> {
    let content = format!(
        "{} made the repository [{}]({}) public.",
        sender(body)?,
        text(body, "/repository/full_name")?,
        text(body, "/repository/html_url")?,
    );
    Ok(message(repo_name(body)?, content))
}

fn member(body: &Value) -> Result<Outcome> {
    let action = action(body)?;
    let preposition = match action {
        "added" | "edited" => "to",
        "removed" => "from",
        _ => return Err(unsupported("member", body)),
    };
    let repo = repo_name(body)?;
    let content = format!(
        "{} {action} [{}]({}) {preposition} [{repo}]({}).",
        sender(body)?,
        text(body, "/member/login")?,
        text(body, "/member/html_url")?,
        text(body, "/repository/html_url")?,
    );
    Ok(message(repo, content))
}

fn gollum(body: &Value) -> Result<Outcome> {
    let pages = list(body, "/pages")?;
    if pages.is_empty() {
        return Ok(Outcome::Ignore);
    }
    let mut content = format!("{}:", sender(body)?);
    for page in pages.iter().take(COMMITS_LIMIT) {
        content.push_str(&format!(
            "\n* {} [{}]({})",
            text(page, "/action")?,
            text(page, "/title")?,
            text(page, "/html_url")?
        ));
    }
    if pages.len() > COMMITS_LIMIT {
        content.push_str(&format!("\n[and {} more page(s)]", pages.len() - COMMITS_LIMIT));
    }
    Ok(message(&format!("{} / wiki pages", repo_name(body)?), content))
}

fn commit_comment(body: &Value) -> Result<Outcome> {
    let comment_url = text(body, "/comment/html_url")?;
    let commit_url = comment_url.split('#').next().unwrap_or_default();
    let sha = short_sha(text(body, "/comment/commit_id")?);
    let mut content = format!("{} [commented]({comment_url}) on [{sha}]({commit_url})", sender(body)?);
    match opt_text(body, "/comment/body")?.filter(|comment| !comment.is_empty()) {
        Some(comment) => {
            content.push(':');
            content.push_str(&quote(comment));
        }
        None => content.push('.'),
    }
    Ok(message(repo_name(body)?, content))
}

fn status(body: &Value) -> Result<Outcome> {
    let state = text(body, "/state")?;
    let state = match opt_text(body, "/target_url")?.filter(|url| !url.is_empty()) {
        Some(target) => format!("[{state}]({target})"),
        None => state.to_owned(),
    };
    let content = format!(
        "[{}]({}) changed its status to {state}.",
        short_sha(text(body, "/sha")?),
        text(body, "/commit/html_url")?,
    );
    Ok(message(repo_name(body)?, content))
}

fn deployment_topic(body: &Value) -> Result<String> {
    Ok(format!("{} / Deployment on {}", repo_name(body)?, text(body, "/deployment/environment")?))
}

fn deployment(body: &Value) -> Result<Outcome> {
    let content = format!("{} created new deployment.", sender(body)?);
    Ok(message(&deployment_topic(body)?, content))
}

fn deployment_status(body: &Value) -> Result<Outcome> {
    let content = format!("Deployment changed status to {}.", text(body, "/deployment_status/state")?);
    Ok(message(&deployment_topic(body)?, content))
}

fn check_run(body: &Value) -> Result<Outcome> {
    if text(body, "/check_run/status")? != "completed" {
        return Ok(Outcome::Ignore);
    }
    let sha = text(body, "/check_run/head_sha")?;
    let content = format!(
        "Check [{}]({}) completed ({}). ([{}]({}/commit/{sha}))",
        text(body, "/check_run/name")?,
        text(body, "/check_run/html_url")?,
        text(body, "/check_run/conclusion")?,
        short_sha(sha),
        text(body, "/repository/html_url")?,
    );
    Ok(message(&format!("{} / checks", repo_name(body)?), content))
}

/// Zulip has no message for GitHub Actions runs; this one reads like its check run message.
fn workflow_run(body: &Value) -> Result<Outcome> {
    if text(body, "/workflow_run/status")? != "completed" {
        return Ok(Outcome::Ignore);
    }
    let sha = text(body, "/workflow_run/head_sha")?;
    let branch = match opt_text(body, "/workflow_run/head_branch")? {
        Some(branch) => format!(" on branch {branch}"),
        None => String::new(),
    };
    let content = format!(
        "Workflow [{} #{}]({}) completed ({}){branch}. ([{}]({}/commit/{sha}))",
        text(body, "/workflow_run/name")?,
        number(body, "/workflow_run/run_number")?,
        text(body, "/workflow_run/html_url")?,
        opt_text(body, "/workflow_run/conclusion")?.unwrap_or("unknown"),
        short_sha(sha),
        text(body, "/repository/html_url")?,
    );
    Ok(message(&format!("{} / workflows", repo_name(body)?), content))
}
