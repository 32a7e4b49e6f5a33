//! One function per event Zulip's GitHub integration formats (`zerver/webhooks/github/view.py`):
//! GitHub's header event, refined by the payload into Zulip's event name, a topic and a body.

use serde_json::Value;

use super::fields::{action, opt_text, present, repo_name, required_flag, sender};
use crate::git::{
    Commit, PullRequestEvent, commits_comment_action_message, content_message, is_branch_name_notifiable,
    issue_labeled_or_unlabeled_event_message, issue_milestoned_or_demilestoned_event_message,
    push_commits_event_message, push_tag_event_message, release_event_message, short_sha, topic_with_branch,
    topic_with_pr_or_issue_info,
};
use crate::integration::{IntegrationError, Outcome, list, number, text};

type Result<T> = std::result::Result<T, IntegrationError>;

/// Zulip's event names (what `only_events` / `exclude_events` select): the ones that produce a
/// message, GitHub Sponsors' among them.
const MESSAGE_EVENTS: &[&str] = &[
    "commit_comment",
    "closed_pull_request",
    "create",
    "check_run",
    "delete",
    "deployment",
    "deployment_status",
    "discussion",
    "discussion_comment",
    "fork",
    "gollum",
    "issue_comment",
    "issue_labeled_or_unlabeled",
    "issue_milestoned_or_demilestoned",
    "issues_opened_via_transfer",
    "issues_transferred",
    "issues",
    "member",
    "membership",
    "opened_pull_request",
    "updated_pull_request",
    "assigned_or_unassigned_pull_request",
    "page_build",
    "ping",
    "public",
    "pull_request_ready_for_review",
    "pull_request_review",
    "pull_request_review_comment",
    "pull_request_review_requested",
    "pull_request_auto_merge",
    "locked_or_unlocked_pull_request",
    "push_commits",
    "push_tags",
    "release",
    "repository",
    "star",
    "status",
    "team",
    "team_add",
    "watch",
    "cancelled",
    "created",
    "edited",
    "pending_cancellation",
    "pending_tier_change",
    "tier_changed",
    // Not in Zulip: GitHub Actions runs, worded like a check run.
    "workflow_run",
];

/// GitHub Sponsors' events, all in the topic `sponsors`.
pub(super) const SPONSORS_EVENTS: &[&str] =
    &["cancelled", "created", "edited", "pending_cancellation", "pending_tier_change", "tier_changed"];

/// Events GitHub sends that Zulip knowingly drops.
const IGNORED_EVENTS: &[&str] =
    &["check_suite", "label", "meta", "milestone", "organization", "project_card", "repository_vulnerability_alert"];

/// Pull request actions Zulip knowingly drops.
const IGNORED_PULL_REQUEST_ACTIONS: &[&str] =
    &["approved", "converted_to_draft", "labeled", "review_request_removed", "unlabeled"];

/// Team actions Zulip knowingly drops.
const IGNORED_TEAM_ACTIONS: &[&str] = &["added_to_repository", "created", "deleted", "removed_from_repository"];

/// GitHub's header events that are dropped without a message of their own (`push` to an
/// unwatched branch, an ignored pull request action or review…), beside [`IGNORED_EVENTS`].
const DROPPED_HEADER_EVENTS: &[&str] = &["pull_request", "pull_request_review", "push"];

/// Every event name [`dispatch`] can return: Zulip's names for what becomes a message, and
/// GitHub's header event for what is dropped.
pub(super) static EVENT_TYPES: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
    let mut names: Vec<&'static str> = Vec::new();
    for name in MESSAGE_EVENTS.iter().chain(DROPPED_HEADER_EVENTS).chain(IGNORED_EVENTS) {
        if !names.contains(name) {
            names.push(name);
        }
    }
    names
});

/// The URL's options, as Zulip's view reads them.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Options<'a> {
    /// `branches`: only pushes to these (comma-separated) branches.
    pub branches: Option<&'a str>,
    /// `ignore_private_repositories=true`: drop every event of a private repository.
    pub ignore_private: bool,
    /// The URL fixes the topic: the item's title moves into the message.
    pub include_title: bool,
}

/// The event's name (see [`EVENT_TYPES`]) and what it becomes.
pub(super) fn dispatch(header: &str, body: &Value, options: Options<'_>) -> Result<(String, Outcome)> {
    if options.ignore_private && present(body, "/repository") && required_flag(body, "/repository/private")? {
        return Ok((header.to_owned(), Outcome::Ignore));
    }
    // An edit that left a comment's text as it was (GitHub sends those too); discussion
    // comments excepted.
    if header.contains("comment")
        && !header.contains("discussion")
        && opt_text(body, "/action")? == Some("edited")
        && opt_text(body, "/changes/body/from")?
            .is_some_and(|old| Some(old) == opt_text(body, "/comment/body").ok().flatten())
    {
        return Ok((header.to_owned(), Outcome::Ignore));
    }
    let Some(event) = zulip_event(header, body, options.branches)? else {
        return Ok((header.to_owned(), Outcome::Ignore));
    };
    let topic = topic(body, &event)?;
    let content = content(&event, body, options.include_title)?;
    Ok((event, Outcome::Message { topic, content }))
}

/// Zulip's name for the event, `None` for one it drops, unsupported for one it does not know.
fn zulip_event(header: &str, body: &Value, branches: Option<&str>) -> Result<Option<String>> {
    let named = |name: &str| Ok(Some(name.to_owned()));
    match header {
        "pull_request" => {
            let action = action(body)?;
            match action {
                "opened" | "reopened" => return named("opened_pull_request"),
                "synchronize" | "edited" => return named("updated_pull_request"),
                "assigned" | "unassigned" => return named("assigned_or_unassigned_pull_request"),
                "closed" => return named("closed_pull_request"),
                "review_requested" => return named("pull_request_review_requested"),
                "ready_for_review" => return named("pull_request_ready_for_review"),
                "locked" | "unlocked" => return named("locked_or_unlocked_pull_request"),
                "auto_merge_enabled" | "auto_merge_disabled" => return named("pull_request_auto_merge"),
                ignored if IGNORED_PULL_REQUEST_ACTIONS.contains(&ignored) => return Ok(None),
                _ => {}
            }
        }
        "pull_request_review" => {
            // GitHub follows a review with an "edited" event that changes nothing.
            let no_changes = body.get("changes").is_none_or(|c| c.as_object().is_none_or(serde_json::Map::is_empty));
            if action(body)? == "edited" && no_changes {
                return Ok(None);
            }
            return named("pull_request_review");
        }
        "push" => {
            let git_ref = text(body, "/ref")?;
            if git_ref.starts_with("refs/heads/gh-readonly-queue/") {
                // The merge queue's temporary branches.
                return Ok(None);
            }
            if let Some(branch) = git_ref.strip_prefix("refs/heads/") {
                if !is_branch_name_notifiable(branch, branches) {
                    return Ok(None);
                }
                return named("push_commits");
            }
            return named("push_tags");
        }
        "check_run" => {
            if text(body, "/check_run/status")? != "completed" {
                return Ok(None);
            }
            return named("check_run");
        }
        "workflow_run" => {
            if text(body, "/workflow_run/status")? != "completed" {
                return Ok(None);
            }
            return named("workflow_run");
        }
        "team" => {
            let action = action(body)?;
            if action == "edited" {
                return named("team");
            }
            if IGNORED_TEAM_ACTIONS.contains(&action) {
                return Ok(None);
            }
            return Err(unsupported(format!("unsupported team action {action}")));
        }
        "issues" => {
            let action = action(body)?;
            return match action {
                "labeled" | "unlabeled" => named("issue_labeled_or_unlabeled"),
                "milestoned" | "demilestoned" => named("issue_milestoned_or_demilestoned"),
                "transferred" => named("issues_transferred"),
                "opened" if truthy(body, "/changes/old_issue") => named("issues_opened_via_transfer"),
                _ => named("issues"),
            };
        }
        // GitHub Sponsors names the change in the action of a `sponsorship` event.
        "sponsorship" => {
            let action = action(body)?;
            if SPONSORS_EVENTS.contains(&action) {
                return named(action);
            }
        }
        known if MESSAGE_EVENTS.contains(&known) => return named(known),
        ignored if IGNORED_EVENTS.contains(&ignored) => return Ok(None),
        _ => {}
    }
    let action = match body.get("action") {
        None => "???",
        Some(value) => value.as_str().ok_or_else(|| IntegrationError::Malformed("expected text at /action".into()))?,
    };
    Err(unsupported(format!("{header}:{action}")))
}

fn unsupported(event: String) -> IntegrationError {
    // The name is echoed in the reply: keep a sender's garbage from making it long.
    IntegrationError::Unsupported { event: event.chars().take(100).collect(), integration: "GitHub" }
}

/// Whether `pointer` holds something Python counts as true (not null, false, 0, "", [] or {}).
fn truthy(body: &Value, pointer: &str) -> bool {
    match body.pointer(pointer) {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        Some(Value::Number(n)) => n.as_f64() != Some(0.0),
    }
}

/// Zulip's topic for the event.
fn topic(body: &Value, event: &str) -> Result<String> {
    if event.contains("pull_request") {
        return item_topic(body, "PR", "/pull_request");
    }
    if event.starts_with("issue") {
        return item_topic(body, comment_kind(body), "/issue");
    }
    if event.starts_with("deployment") {
        return Ok(format!("{} / Deployment on {}", repo_name(body)?, text(body, "/deployment/environment")?));
    }
    if event.starts_with("discussion") {
        return Ok(format!(
            "{} discussion #{}: {}",
            repo_name(body)?,
            number(body, "/discussion/number")?,
            text(body, "/discussion/title")?
        ));
    }
    if SPONSORS_EVENTS.contains(&event) {
        return Ok("sponsors".into());
    }
    Ok(match event {
        "membership" => format!("{} organization", text(body, "/organization/login")?),
        "team" => format!("team {}", text(body, "/team/name")?),
        "push_commits" => topic_with_branch(repo_name(body)?, branch_name(text(body, "/ref")?)),
        "gollum" => topic_with_branch(repo_name(body)?, "wiki pages"),
        "ping" if !truthy(body, "/repository") => text(body, "/organization/login")?.to_owned(),
        "check_run" => format!("{} / checks", repo_name(body)?),
        "workflow_run" => format!("{} / workflows", repo_name(body)?),
        _ => repo_name(body)?.to_owned(),
    })
}

fn item_topic(body: &Value, kind: &str, item: &str) -> Result<String> {
    Ok(topic_with_pr_or_issue_info(
        repo_name(body)?,
        kind,
        number(body, &format!("{item}/number"))?,
        text(body, &format!("{item}/title"))?,
    ))
}

/// GitHub sends comments on pull requests as comments on issues, marked by `issue.pull_request`.
fn comment_kind(body: &Value) -> &'static str {
    if body.pointer("/issue/pull_request").is_some() { "PR" } else { "issue" }
}

fn branch_name(git_ref: &str) -> &str {
    git_ref.strip_prefix("refs/heads/").unwrap_or(git_ref)
}

/// The message for Zulip's event name.
fn content(event: &str, body: &Value, include_title: bool) -> Result<String> {
    let title_of = |item: &str| -> Result<Option<&str>> {
        if include_title { text(body, &format!("{item}/title")).map(Some) } else { Ok(None) }
    };
    Ok(match event {
        "opened_pull_request" | "updated_pull_request" => {
            let action = match action(body)? {
                "synchronize" => "updated",
                other => other,
            };
            let description = if present(body, "/changes/body") || action == "opened" {
                opt_text(body, "/pull_request/body")?
            } else {
                None
            };
            let (target, base) = if action == "opened" || action == "merged" {
                (Some(text(body, "/pull_request/head/label")?), Some(text(body, "/pull_request/base/label")?))
            } else {
                (None, None)
            };
            let assignee = if truthy(body, "/pull_request/assignee") {
                Some(text(body, "/pull_request/assignee/login")?)
            } else {
                None
            };
            PullRequestEvent {
                user_name: sender(body)?,
                action,
                url: text(body, "/pull_request/html_url")?,
                number: Some(number(body, "/pull_request/number")?),
                target_branch: target,
                base_branch: base,
                message: description,
                assignee,
                title: title_of("/pull_request")?,
                ..PullRequestEvent::default()
            }
            .message()
        }
        "assigned_or_unassigned_pull_request" => PullRequestEvent {
            user_name: sender(body)?,
            action: action(body)?,
            url: text(body, "/pull_request/html_url")?,
            number: Some(number(body, "/pull_request/number")?),
            title: title_of("/pull_request")?,
            assignee_updated: Some(text(body, "/assignee/login")?),
            ..PullRequestEvent::default()
        }
        .message(),
        "closed_pull_request" => PullRequestEvent {
            user_name: sender(body)?,
            action: if required_flag(body, "/pull_request/merged")? { "merged" } else { "closed without merge" },
            url: text(body, "/pull_request/html_url")?,
            number: Some(number(body, "/pull_request/number")?),
            title: title_of("/pull_request")?,
            ..PullRequestEvent::default()
        }
        .message(),
        "membership" => {
            let action = action(body)?;
            format!(
                "{} {action} [{}]({}) {} the {} team.",
                sender(body)?,
                text(body, "/member/login")?,
                text(body, "/member/html_url")?,
                if action == "removed" { "from" } else { "to" },
                text(body, "/team/name")?,
            )
        }
        "member" => format!(
            "{} {} [{}]({}) to [{}]({}).",
            sender(body)?,
            action(body)?,
            text(body, "/member/login")?,
            text(body, "/member/html_url")?,
            repo_name(body)?,
            text(body, "/repository/html_url")?,
        ),
        "issues" => {
            let action = action(body)?;
            let message =
                if action == "assigned" || action == "unassigned" { None } else { opt_text(body, "/issue/body")? };
            let assignee_updated =
                if body.get("assignee").is_some() { Some(text(body, "/assignee/login")?) } else { None };
            PullRequestEvent {
                user_name: sender(body)?,
                action,
                url: text(body, "/issue/html_url")?,
                number: Some(number(body, "/issue/number")?),
                message,
                title: title_of("/issue")?,
                assignee_updated,
                kind: "issue",
                ..PullRequestEvent::default()
            }
            .message()
        }
        "issue_comment" => PullRequestEvent {
            user_name: sender(body)?,
            action: &comment_action(body)?,
            url: text(body, "/issue/html_url")?,
            number: Some(number(body, "/issue/number")?),
            message: Some(text(body, "/comment/body")?),
            title: title_of("/issue")?,
            kind: comment_kind(body),
            ..PullRequestEvent::default()
        }
        .message(),
        "issue_labeled_or_unlabeled" => issue_labeled_or_unlabeled_event_message(
            sender(body)?,
            if action(body)? == "labeled" { "added" } else { "removed" },
            text(body, "/issue/html_url")?,
            number(body, "/issue/number")?,
            text(body, "/label/name")?,
            text(body, "/sender/html_url")?,
            title_of("/issue")?,
        ),
        "issue_milestoned_or_demilestoned" => issue_milestoned_or_demilestoned_event_message(
            sender(body)?,
            if action(body)? == "milestoned" { "added" } else { "removed" },
            text(body, "/issue/html_url")?,
            number(body, "/issue/number")?,
            text(body, "/milestone/title")?,
            text(body, "/milestone/html_url")?,
            text(body, "/sender/html_url")?,
            title_of("/issue")?,
        ),
        "issues_transferred" => format!(
            "{} transferred [issue #{} {}]({}) to [{}/#{}]({}).",
            sender(body)?,
            number(body, "/issue/number")?,
            text(body, "/issue/title")?,
            text(body, "/issue/html_url")?,
            text(body, "/changes/new_repository/full_name")?,
            number(body, "/changes/new_issue/number")?,
            text(body, "/changes/new_issue/html_url")?,
        ),
        "issues_opened_via_transfer" => format!(
            "[Issue #{} {}]({}) was transferred from [{}#{}]({}).",
            number(body, "/issue/number")?,
            text(body, "/issue/title")?,
            text(body, "/issue/html_url")?,
            text(body, "/changes/old_repository/full_name")?,
            number(body, "/changes/old_issue/number")?,
            text(body, "/changes/old_issue/html_url")?,
        ),
        "fork" => {
            format!("{} forked [{}]({}).", sender(body)?, text(body, "/forkee/name")?, text(body, "/forkee/html_url")?)
        }
        "deployment" => format!("{} created new deployment.", sender(body)?),
        "deployment_status" => format!("Deployment changed status to {}.", text(body, "/deployment_status/state")?),
        "create" | "delete" => {
            let verb = if event == "create" { "created" } else { "deleted" };
            let content = format!("{} {verb} {} {}.", sender(body)?, text(body, "/ref_type")?, text(body, "/ref")?);
            content.trim_end().to_owned()
        }
        "commit_comment" => {
            let comment_url = text(body, "/comment/html_url")?;
            commits_comment_action_message(
                sender(body)?,
                &format!("[commented]({comment_url})"),
                comment_url.split('#').next().unwrap_or_default(),
                text(body, "/comment/commit_id")?,
                Some(text(body, "/comment/body")?),
            )
        }
        "push_tags" => {
            let git_ref = text(body, "/ref")?;
            let tag = git_ref.strip_prefix("refs/tags/").unwrap_or(git_ref);
            let action = if required_flag(body, "/created")? { "pushed" } else { "removed" };
            push_tag_event_message(sender(body)?, tag, None, action)
        }
        "push_commits" => {
            let commits = commits(body)?;
            push_commits_event_message(
                sender(body)?,
                Some(text(body, "/compare")?),
                branch_name(text(body, "/ref")?),
                &commits,
                false,
                required_flag(body, "/deleted")?,
                required_flag(body, "/forced")?,
            )
        }
        "discussion" => discussion(body, include_title)?,
        "discussion_comment" => PullRequestEvent {
            user_name: sender(body)?,
            action: &comment_action(body)?,
            url: text(body, "/discussion/html_url")?,
            number: Some(number(body, "/discussion/number")?),
            message: Some(text(body, "/comment/body")?),
            title: title_of("/discussion")?,
            kind: "discussion",
            ..PullRequestEvent::default()
        }
        .message(),
        "public" => format!(
            "{} made the repository [{}]({}) public.",
            sender(body)?,
            text(body, "/repository/full_name")?,
            text(body, "/repository/html_url")?,
        ),
        "gollum" => {
            let mut pages = String::new();
            for page in list(body, "/pages")? {
                pages.push_str(&format!(
                    "* {} [{}]({})\n",
                    text(page, "/action")?,
                    text(page, "/title")?,
                    text(page, "/html_url")?
                ));
            }
            format!("{}:\n{}", sender(body)?, pages.trim_end())
        }
        "watch" => format!(
            "{} starred the repository [{}]({}).",
            sender(body)?,
            text(body, "/repository/full_name")?,
            text(body, "/repository/html_url")?,
        ),
        "repository" => format!(
            "{} {} the repository [{}]({}).",
            sender(body)?,
            action(body)?,
            text(body, "/repository/full_name")?,
            text(body, "/repository/html_url")?,
        ),
        "team_add" => format!(
            "The repository [{}]({}) was added to team {}.",
            text(body, "/repository/full_name")?,
            text(body, "/repository/html_url")?,
            text(body, "/team/name")?,
        ),
        "team" => team(body)?,
        "release" => {
            let tag = text(body, "/release/tag_name")?;
            // Not every release has a name; Zulip shows the tag then.
            let name = if truthy(body, "/release/name") { text(body, "/release/name")? } else { tag };
            release_event_message(sender(body)?, action(body)?, tag, name, text(body, "/release/html_url")?)
        }
        "page_build" => page_build(body)?,
        "status" => {
            let state = text(body, "/state")?;
            let state = if truthy(body, "/target_url") {
                format!("[{state}]({})", text(body, "/target_url")?)
            } else {
                state.to_owned()
            };
            format!(
                "[{}]({}) changed its status to {state}.",
                short_sha(text(body, "/sha")?),
                text(body, "/commit/html_url")?
            )
        }
        "locked_or_unlocked_pull_request" => {
            let (user, id, url) =
                (sender(body)?, number(body, "/pull_request/number")?, text(body, "/pull_request/html_url")?);
            if action(body)? == "unlocked" {
                format!("{user} has unlocked [PR #{id}]({url}).")
            } else {
                let reason = if truthy(body, "/pull_request/active_lock_reason") {
                    text(body, "/pull_request/active_lock_reason")?
                } else {
                    "None"
                };
                format!("{user} has locked [PR #{id}]({url}) as {reason} and limited conversation to collaborators.")
            }
        }
        "pull_request_auto_merge" => {
            let verb = if action(body)? == "auto_merge_disabled" { "disabled" } else { "enabled" };
            format!(
                "{} has {verb} auto merge for [PR #{}]({}).",
                sender(body)?,
                number(body, "/pull_request/number")?,
                text(body, "/pull_request/html_url")?
            )
        }
        "pull_request_ready_for_review" => format!(
            "**{}** has marked [PR #{}]({}) as ready for review.",
            sender(body)?,
            number(body, "/pull_request/number")?,
            text(body, "/pull_request/html_url")?
        ),
        "pull_request_review" => {
            let title =
                format!("for #{} {}", number(body, "/pull_request/number")?, text(body, "/pull_request/title")?);
            PullRequestEvent {
                user_name: sender(body)?,
                action: "submitted",
                url: text(body, "/review/html_url")?,
                kind: "PR review",
                title: include_title.then_some(title.as_str()),
                message: opt_text(body, "/review/body")?,
                ..PullRequestEvent::default()
            }
            .message()
        }
        "pull_request_review_comment" => {
            let action = action(body)?;
            let message = if action == "created" { Some(text(body, "/comment/body")?) } else { None };
            let title = format!("on #{} {}", number(body, "/pull_request/number")?, text(body, "/pull_request/title")?);
            PullRequestEvent {
                user_name: sender(body)?,
                action,
                url: text(body, "/comment/html_url")?,
                message,
                kind: "PR review comment",
                title: include_title.then_some(title.as_str()),
                ..PullRequestEvent::default()
            }
            .message()
        }
        "pull_request_review_requested" => {
            let reviewers = if body.get("requested_reviewer").is_some() {
                format!(
                    "[{}]({})",
                    text(body, "/requested_reviewer/login")?,
                    text(body, "/requested_reviewer/html_url")?
                )
            } else {
                format!("[{}]({})", text(body, "/requested_team/name")?, text(body, "/requested_team/html_url")?)
            };
            let title = title_of("/pull_request")?.map(|t| format!(" {t}")).unwrap_or_default();
            format!(
                "**{}** requested {reviewers} for a review on [PR #{}{title}]({}).",
                sender(body)?,
                number(body, "/pull_request/number")?,
                text(body, "/pull_request/html_url")?
            )
        }
        "check_run" => {
            let sha = text(body, "/check_run/head_sha")?;
            format!(
                "Check [{}]({}) {} ({}). ([{}]({}/commit/{sha}))",
                text(body, "/check_run/name")?,
                text(body, "/check_run/html_url")?,
                text(body, "/check_run/status")?,
                text(body, "/check_run/conclusion")?,
                short_sha(sha),
                text(body, "/repository/html_url")?,
            )
        }
        "workflow_run" => workflow_run(body)?,
        "star" => format!(
            "[{}]({}) {} the repository [{}]({}).",
            sender(body)?,
            text(body, "/sender/html_url")?,
            if action(body)? == "created" { "starred" } else { "unstarred" },
            text(body, "/repository/full_name")?,
            text(body, "/repository/html_url")?,
        ),
        "ping" => format!("GitHub webhook has been successfully configured by {}.", sender(body)?),
        "cancelled" => format!("{} cancelled their {} subscription.", sender(body)?, tier(body)?),
        "created" => format!("{} subscribed for {}.", sender(body)?, tier(body)?),
        "edited" => format!(
            "{} changed who can see their sponsorship from {} to {}.",
            sender(body)?,
            text(body, "/changes/privacy_level/from")?,
            text(body, "/sponsorship/privacy_level")?,
        ),
        "pending_cancellation" => {
            format!("{}'s {} subscription will be cancelled on {}.", sender(body)?, tier(body)?, effective_date(body)?)
        }
        "pending_tier_change" => format!(
            "{}'s subscription will change from {} to {} on {}.",
            sender(body)?,
            text(body, "/changes/tier/from/name")?,
            tier(body)?,
            effective_date(body)?
        ),
        "tier_changed" => format!(
            "{} changed their subscription from {} to {}.",
            sender(body)?,
            text(body, "/changes/tier/from/name")?,
            tier(body)?
        ),
        other => return Err(unsupported(other.to_owned())),
    })
}

fn commits(body: &Value) -> Result<Vec<Commit<'_>>> {
    list(body, "/commits")?
        .iter()
        .map(|commit| {
            let name = if truthy(commit, "/author/username") {
                text(commit, "/author/username")?
            } else {
                text(commit, "/author/name")?
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

/// `[commented](url) on` or `edited a [comment](url) on`.
fn comment_action(body: &Value) -> Result<String> {
    let url = text(body, "/comment/html_url")?;
    Ok(match action(body)? {
        "created" => format!("[commented]({url}) on"),
        other => format!("{other} a [comment]({url}) on"),
    })
}

fn discussion(body: &Value, include_title: bool) -> Result<String> {
    let user = sender(body)?;
    let action = action(body)?;
    let id = number(body, "/discussion/number")?;
    let url = text(body, "/discussion/html_url")?;
    let title = text(body, "/discussion/title")?;
    let configured = if include_title { format!(" {title}") } else { String::new() };
    let link = format!("[discussion #{id}{configured}]({url})");
    Ok(match action {
        "created" => format!(
            "{user} created {link} in {}:\n\n~~~ quote\n### {title}\n{}\n~~~",
            text(body, "/discussion/category/name")?,
            text(body, "/discussion/body")?
        ),
        "unlocked" | "pinned" | "unpinned" | "reopened" => format!("{user} {action} {link}."),
        "deleted" => format!("{user} {action} discussion #{id}{configured}."),
        "closed" => format!("{user} {action} {link} as {}.", text(body, "/discussion/state_reason")?),
        "locked" => {
            let reason = if truthy(body, "/discussion/active_lock_reason") {
                format!(" as {}", text(body, "/discussion/active_lock_reason")?)
            } else {
                String::new()
            };
            // Zulip repeats the configured title after the URL here.
            format!("{user} {action} [discussion #{id}{configured}]({url}{configured}){reason}.")
        }
        "labeled" => format!("{user} added the {} label to {link}.", text(body, "/label/name")?),
        "unlabeled" => format!("{user} removed the {} label from {link}.", text(body, "/label/name")?),
        "category_changed" => format!(
            "{user} changed the category of {link} from {} to {}.",
            text(body, "/changes/category/from/name")?,
            text(body, "/discussion/category/name")?
        ),
        "transferred" => format!(
            "{user} {action} discussion #{id}{configured} from {} to {} as [discussion #{}]({url}).",
            repo_name(body)?,
            text(body, "/changes/new_repository/name")?,
            number(body, "/changes/new_discussion/number")?
        ),
        "answered" => format!(
            "{user} marked [comment #{}]({}) as the answer:\n\n~~~ quote\n{}\n~~~",
            number(body, "/answer/id")?,
            text(body, "/answer/html_url")?,
            text(body, "/answer/body")?
        ),
        "unanswered" => format!(
            "{user} marked [comment #{}]({}) as not the answer.",
            number(body, "/old_answer/id")?,
            text(body, "/old_answer/html_url")?
        ),
        "edited" if body.pointer("/changes/body").is_some() => {
            format!("{user} edited {link}:\n\n~~~ quote\n{}\n~~~", text(body, "/discussion/body")?)
        }
        "edited" => format!("{user} edited the title of {link}:\n\n~~~ quote\n### {title}\n~~~"),
        other => return Err(unsupported(format!("discussion:{other}"))),
    })
}

fn team(body: &Value) -> Result<String> {
    let changes = body
        .get("changes")
        .and_then(Value::as_object)
        .ok_or_else(|| IntegrationError::Malformed("expected an object at /changes".into()))?;
    if changes.contains_key("description") {
        return Ok(format!(
            "**{}** changed the team description to:\n\n~~~ quote\n{}\n~~~",
            sender(body)?,
            text(body, "/team/description")?
        ));
    }
    if changes.contains_key("name") {
        return Ok(format!(
            "Team `{}` was renamed to `{}`.",
            text(body, "/changes/name/from")?,
            text(body, "/team/name")?
        ));
    }
    if changes.contains_key("privacy") {
        return Ok(format!("Team visibility changed to `{}`", text(body, "/team/privacy")?));
    }
    // Something else changed: say what, so that people know to look on GitHub.
    let mut keys: Vec<&str> = changes.keys().map(String::as_str).collect();
    keys.sort_unstable();
    Ok(format!("Team has changes to `{}` data.", keys.join("/")))
}

fn page_build(body: &Value) -> Result<String> {
    let status = text(body, "/build/status")?;
    let mut action = match status {
        "null" => "has yet to be built".to_owned(),
        "building" => "is being built".to_owned(),
        "errored" => "has failed: {}".to_owned(),
        "built" => "has finished building".to_owned(),
        other => format!("is {other}"),
    };
    if truthy(body, "/build/error/message") {
        action = action.replace("{}", &content_message(text(body, "/build/error/message")?));
    }
    Ok(format!("GitHub Pages build, triggered by {}, {action}.", text(body, "/build/pusher/login")?))
}

fn tier(body: &Value) -> Result<&str> {
    text(body, "/sponsorship/tier/name")
}

/// The effective date's day, as `January 05, 2020`.
fn effective_date(body: &Value) -> Result<String> {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let raw = text(body, "/effective_date")?;
    let bad = || IntegrationError::Malformed("expected a date (YYYY-MM-DD) at /effective_date".into());
    let day = raw.get(..10).ok_or_else(bad)?;
    let mut parts = day.split('-');
    let (Some(y), Some(m), Some(d), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !(all_digits(y) && all_digits(m) && all_digits(d)) {
        return Err(bad());
    }
    let (year, month, dom): (u32, usize, u32) =
        (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?, d.parse().map_err(|_| bad())?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if !(1..=12).contains(&month) || !(1..=days).contains(&dom) {
        return Err(bad());
    }
    Ok(format!("{} {dom:02}, {year:04}", MONTHS[month - 1]))
}

/// Zulip has no message for GitHub Actions runs; this one reads like its check run message.
fn workflow_run(body: &Value) -> Result<String> {
    let sha = text(body, "/workflow_run/head_sha")?;
    let branch = match opt_text(body, "/workflow_run/head_branch")? {
        Some(branch) => format!(" on branch {branch}"),
        None => String::new(),
    };
    Ok(format!(
        "Workflow [{} #{}]({}) completed ({}){branch}. ([{}]({}/commit/{sha}))",
        text(body, "/workflow_run/name")?,
        number(body, "/workflow_run/run_number")?,
        text(body, "/workflow_run/html_url")?,
        opt_text(body, "/workflow_run/conclusion")?.unwrap_or("unknown"),
        short_sha(sha),
        text(body, "/repository/html_url")?,
    ))
}
