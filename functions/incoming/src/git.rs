//! The message templates Zulip's git integrations share (`zerver/lib/webhooks/git.py`), for
//! GitHub, GitLab, Gitea, Gogs and Bitbucket alike: plain functions that take the values and
//! return Zulip's exact text. Nothing here reads a payload.

use std::collections::HashMap;

/// The all-zero commit hash git services send for "no commit" (a created or deleted ref).
pub const EMPTY_SHA: &str = "0000000000000000000000000000000000000000";

/// A push message lists at most this many commits, then `[and N more commit(s)]`.
pub const COMMITS_LIMIT: usize = 20;

/// A push message names at most this many committers, then `others`.
pub const PUSH_COMMITTERS_LIMIT: usize = 3;

/// Zulip's short commit hash length.
const SHORT_SHA: usize = 11;

/// `{repo} / {branch}`: Zulip's `TOPIC_WITH_BRANCH_TEMPLATE`.
#[must_use]
pub fn topic_with_branch(repo: &str, branch: &str) -> String {
    format!("{repo} / {branch}")
}

/// `{repo} / {kind} #{id} {title}` (`kind` is `PR`, `issue`, `MR`…): Zulip's
/// `TOPIC_WITH_PR_OR_ISSUE_INFO_TEMPLATE`.
#[must_use]
pub fn topic_with_pr_or_issue_info(repo: &str, kind: &str, id: i64, title: &str) -> String {
    format!("{repo} / {kind} #{id} {title}")
}

/// `{repo} / {tag} {title}`: Zulip's `TOPIC_WITH_RELEASE_TEMPLATE`.
#[must_use]
pub fn topic_with_release(repo: &str, tag: &str, title: &str) -> String {
    format!("{repo} / {tag} {title}")
}

/// `\n~~~ quote\n{message}\n~~~`: Zulip's `CONTENT_MESSAGE_TEMPLATE`, the block quote put
/// under a one-line summary.
#[must_use]
pub fn content_message(message: &str) -> String {
    format!("\n~~~ quote\n{message}\n~~~")
}

/// The first 11 characters of a commit hash (never splitting a character).
#[must_use]
pub fn short_sha(sha: &str) -> &str {
    match sha.char_indices().nth(SHORT_SHA) {
        Some((end, _)) => &sha[..end],
        None => sha,
    }
}

/// Whether the text ends with ASCII punctuation (Python's `string.punctuation`).
#[must_use]
pub fn ends_with_punctuation(text: &str) -> bool {
    text.ends_with(|c: char| c.is_ascii_punctuation())
}

/// One commit of a push, as the templates use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Commit<'a> {
    /// Who is counted as its committer (a username, or the author's name).
    pub name: &'a str,
    pub sha: &'a str,
    pub url: &'a str,
    /// The whole message; only its first line is shown.
    pub message: &'a str,
}

/// The commits listed at `pointer` in the shape GitLab and Beanstalk send (`id`, `url`,
/// `message`, `author.name`), each counted under its author's name.
///
/// # Errors
/// A commit without one of those texts, or a non-list at `pointer`.
pub fn commits_by_author_name<'v>(
    body: &'v serde_json::Value,
    pointer: &str,
) -> Result<Vec<Commit<'v>>, crate::integration::IntegrationError> {
    use crate::integration::{list, text};
    list(body, pointer)?
        .iter()
        .map(|commit| {
            Ok(Commit {
                name: text(commit, "/author/name")?,
                sha: text(commit, "/id")?,
                url: text(commit, "/url")?,
                message: text(commit, "/message")?,
            })
        })
        .collect()
}

/// `a, b and c`: Zulip's `get_assignee_string`, the names joined for `(assigned to …)`.
#[must_use]
pub fn assignee_string(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The committers by number of commits, ties alphabetically; past
/// [`PUSH_COMMITTERS_LIMIT`] the rest are summed as `others`: Zulip's `get_all_committers`.
#[must_use]
pub fn all_committers(commits: &[Commit<'_>]) -> Vec<(String, usize)> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for commit in commits {
        *counts.entry(commit.name).or_default() += 1;
    }
    let mut sorted: Vec<(String, usize)> = counts.into_iter().map(|(name, n)| (name.to_owned(), n)).collect();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    if sorted.len() > PUSH_COMMITTERS_LIMIT {
        let others = sorted[PUSH_COMMITTERS_LIMIT..].iter().map(|(_, n)| n).sum();
        sorted.truncate(PUSH_COMMITTERS_LIMIT);
        sorted.push(("others".to_owned(), others));
    }
    sorted
}

/// One `* first line ([short sha](url))` row per commit, at most [`COMMITS_LIMIT`], then
/// `[and N more commit(s)]` (or `[and more commit(s)]` when the sender cut the list itself,
/// `is_truncated`): Zulip's `get_commits_content`. Trailing whitespace removed.
#[must_use]
pub fn commits_content(commits: &[Commit<'_>], is_truncated: bool) -> String {
    let mut content = String::new();
    for commit in commits.iter().take(COMMITS_LIMIT) {
        let first_line = commit.message.split('\n').next().unwrap_or_default();
        content.push_str(&format!("* {first_line} ([{}]({}))\n", short_sha(commit.sha), commit.url));
    }
    if commits.len() > COMMITS_LIMIT {
        content.push_str(&format!("[and {} more commit(s)]", commits.len() - COMMITS_LIMIT));
    } else if is_truncated {
        content.push_str("[and more commit(s)]");
    }
    content.truncate(content.trim_end().len());
    content
}

/// A push: Zulip's `get_push_commits_event_message`.
///
/// - no commits and `deleted`: `{user} [deleted]({compare_url}) the branch {branch}.`
/// - no commits: `{user} [pushed]({compare_url}) the branch {branch}.` (`force pushed` when
///   `force_push`; without the link when there is no compare URL)
/// - commits: `{user} [pushed]({compare_url}) N commit(s) to branch {branch}.`, then
///   ` Commits by A (3), B (2) and C (1).` unless the pusher made them all, a blank line and
///   the [`commits_content`] list.
#[must_use]
pub fn push_commits_event_message(
    user_name: &str,
    compare_url: Option<&str>,
    branch_name: &str,
    commits: &[Commit<'_>],
    is_truncated: bool,
    deleted: bool,
    force_push: bool,
) -> String {
    let compare_url = compare_url.filter(|url| !url.is_empty());
    if commits.is_empty() && deleted {
        return format!("{user_name} [deleted]({}) the branch {branch_name}.", compare_url.unwrap_or("None"));
    }
    let push_type = if force_push { "force pushed" } else { "pushed" };
    if commits.is_empty() {
        return match compare_url {
            Some(url) => format!("{user_name} [{push_type}]({url}) the branch {branch_name}."),
            None => format!("{user_name} {push_type} the branch {branch_name}."),
        };
    }
    let count = commits.len();
    let plural = if count > 1 { "s" } else { "" };
    let pushed = match compare_url {
        Some(url) => format!("[{push_type}]({url}) {count} commit{plural}"),
        None => format!("{push_type} {count} commit{plural}"),
    };
    let committers = all_committers(commits);
    let list = commits_content(commits, is_truncated);
    let mut content = format!("{user_name} {pushed} to branch {branch_name}.");
    if !(committers.len() == 1 && committers[0].0 == user_name) {
        let named: Vec<String> = committers.iter().map(|(name, n)| format!("{name} ({n})")).collect();
        let details = match named.as_slice() {
            [rest @ .., last] if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
            _ => named.join(""),
        };
        content.push_str(&format!(" Commits by {details}."));
    }
    content.push_str("\n\n");
    content.push_str(&list);
    content.truncate(content.trim_end().len());
    content
}

/// `{user} [force pushed]({url}) to branch {branch}. Head is now {head}.`
#[must_use]
pub fn force_push_commits_event_message(user_name: &str, url: &str, branch_name: &str, head: &str) -> String {
    format!("{user_name} [force pushed]({url}) to branch {branch_name}. Head is now {head}.")
}

/// `{user} created [{branch}]({url}) branch.`, or `{user} created {branch} branch.` without a URL.
#[must_use]
pub fn create_branch_event_message(user_name: &str, url: Option<&str>, branch_name: &str) -> String {
    match url {
        Some(url) => format!("{user_name} created [{branch_name}]({url}) branch."),
        None => format!("{user_name} created {branch_name} branch."),
    }
}

/// `{user} deleted branch {branch}.`
#[must_use]
pub fn remove_branch_event_message(user_name: &str, branch_name: &str) -> String {
    format!("{user_name} deleted branch {branch_name}.")
}

/// A pull request, merge request or issue event: Zulip's `get_pull_request_event_message`
/// (and, with `kind: "issue"`, `get_issue_event_message`). Fill what the event has and call
/// [`PullRequestEvent::message`].
#[derive(Debug, Clone, Copy)]
pub struct PullRequestEvent<'a> {
    pub user_name: &'a str,
    /// `opened`, `merged`, `assigned`…; `approval`/`unapproval` become
    /// `added their approval for`/`removed their approval for`.
    pub action: &'a str,
    pub url: &'a str,
    pub number: Option<i64>,
    /// The head branch; shown as ``from `target` to `base` `` when both are set.
    pub target_branch: Option<&'a str>,
    pub base_branch: Option<&'a str>,
    /// The description or comment, quoted under the summary when not empty.
    pub message: Option<&'a str>,
    /// `(assigned to {assignee})`.
    pub assignee: Option<&'a str>,
    /// `(assigned to a, b and c)`; takes precedence over `assignee`.
    pub assignees: &'a [&'a str],
    /// Who was assigned or unassigned, for the actions `assigned` (`… {who} to [PR …]`) and
    /// `unassigned` (`… {who} from [PR …]`).
    pub assignee_updated: Option<&'a str>,
    /// `(assigned reviewers: {reviewer})`, when there is no assignee.
    pub reviewer: Option<&'a str>,
    /// `PR` (the default), `issue`, `MR`…
    pub kind: &'a str,
    /// Put inside the link after the number: `[PR #1 Title](url)`.
    pub title: Option<&'a str>,
}

impl Default for PullRequestEvent<'_> {
    fn default() -> Self {
        Self {
            user_name: "",
            action: "",
            url: "",
            number: None,
            target_branch: None,
            base_branch: None,
            message: None,
            assignee: None,
            assignees: &[],
            assignee_updated: None,
            reviewer: None,
            kind: "PR",
            title: None,
        }
    }
}

impl PullRequestEvent<'_> {
    /// `{user} {action}[ {who} to|from] [{kind} #{id} {title}]({url})[ from `a` to `b`]
    /// [ (assigned to …)|(assigned reviewers: …)]` then `:` and the quote when there is a
    /// message, else `.` (left out after a title that already ends with punctuation).
    #[must_use]
    pub fn message(&self) -> String {
        let action = match self.action {
            "approval" => "added their approval for",
            "unapproval" => "removed their approval for",
            other => other,
        };
        let updated = self.assignee_updated.unwrap_or("None");
        let who = match self.action {
            "assigned" => format!(" {updated} to"),
            "unassigned" => format!(" {updated} from"),
            _ => String::new(),
        };
        let id = self.number.map(|n| format!(" #{n}")).unwrap_or_default();
        let title = self.title.map(|t| format!(" {t}")).unwrap_or_default();
        let mut content = format!("{} {action}{who} [{}{id}{title}]({})", self.user_name, self.kind, self.url);
        let branches = match (self.target_branch, self.base_branch) {
            (Some(target), Some(base)) if !target.is_empty() && !base.is_empty() => {
                content.push_str(&format!(" from `{target}` to `{base}`"));
                true
            }
            _ => false,
        };
        let assignee = self.assignee.filter(|a| !a.is_empty());
        if !self.assignees.is_empty() {
            content.push_str(&format!(" (assigned to {})", assignee_string(self.assignees)));
        } else if let Some(assignee) = assignee {
            content.push_str(&format!(" (assigned to {assignee})"));
        } else if let Some(reviewer) = self.reviewer.filter(|r| !r.is_empty()) {
            content.push_str(&format!(" (assigned reviewers: {reviewer})"));
        }
        let message = self.message.filter(|m| !m.is_empty());
        let punctuate = !self.assignees.is_empty()
            || assignee.is_some()
            || branches
            || self.title.is_none_or(|t| !ends_with_punctuation(t));
        if punctuate {
            content.push(if message.is_some() { ':' } else { '.' });
        }
        if let Some(message) = message {
            content.push('\n');
            content.push_str(&content_message(message));
        }
        content.truncate(content.trim_end().len());
        content
    }
}

/// `[{user}]({user_url}) added|removed the {label} label to|from [Issue #{id}[ {title}]]({url}).`
/// (`action` is `added` or `removed`): Zulip's `get_issue_labeled_or_unlabeled_event_message`.
#[must_use]
pub fn issue_labeled_or_unlabeled_event_message(
    user_name: &str,
    action: &str,
    url: &str,
    number: i64,
    label_name: &str,
    user_url: &str,
    title: Option<&str>,
) -> String {
    let preposition = if action == "added" { "to" } else { "from" };
    let title = title.map(|t| format!(" {t}")).unwrap_or_default();
    format!("[{user_name}]({user_url}) {action} the {label_name} label {preposition} [Issue #{number}{title}]({url}).")
}

/// `[{user}]({user_url}) added|removed milestone [{name}]({milestone_url}) to|from
/// [issue #{id}[ {title}]]({url}).`: Zulip's `get_issue_milestoned_or_demilestoned_event_message`.
#[must_use]
#[allow(clippy::too_many_arguments)]
pub fn issue_milestoned_or_demilestoned_event_message(
    user_name: &str,
    action: &str,
    url: &str,
    number: i64,
    milestone_name: &str,
    milestone_url: &str,
    user_url: &str,
    title: Option<&str>,
) -> String {
    let preposition = if action == "added" { "to" } else { "from" };
    let title = title.map(|t| format!(" {t}")).unwrap_or_default();
    format!(
        "[{user_name}]({user_url}) {action} milestone [{milestone_name}]({milestone_url}) {preposition} [issue #{number}{title}]({url})."
    )
}

/// `{user} {action} tag {tag}` (the tag linked when there is a URL), with a `.` unless the
/// tag ends with punctuation: Zulip's `get_push_tag_event_message`.
#[must_use]
pub fn push_tag_event_message(user_name: &str, tag_name: &str, tag_url: Option<&str>, action: &str) -> String {
    let tag = match tag_url.filter(|url| !url.is_empty()) {
        Some(url) => format!("[{tag_name}]({url})"),
        None => tag_name.to_owned(),
    };
    let mut content = format!("{user_name} {action} tag {tag}");
    if !ends_with_punctuation(tag_name) {
        content.push('.');
    }
    content
}

/// `{user} {action} on [{short sha}]({commit_url})` then `:` and the quoted comment, or `.`:
/// Zulip's `get_commits_comment_action_message`.
#[must_use]
pub fn commits_comment_action_message(
    user_name: &str,
    action: &str,
    commit_url: &str,
    sha: &str,
    message: Option<&str>,
) -> String {
    let mut content = format!("{user_name} {action} on [{}]({commit_url})", short_sha(sha));
    match message.filter(|m| !m.is_empty()) {
        Some(message) => {
            content.push(':');
            content.push_str(&content_message(message));
        }
        None => content.push('.'),
    }
    content
}

/// `{user} {action} release [{name}]({url}) for tag {tag}.`: Zulip's `get_release_event_message`.
#[must_use]
pub fn release_event_message(user_name: &str, action: &str, tagname: &str, release_name: &str, url: &str) -> String {
    format!("{user_name} {action} release [{release_name}]({url}) for tag {tagname}.")
}

/// `Release [{name}]({url}) for tag {tag} was {action}.`, or without the link when there is
/// no URL: Zulip's `RELEASE_MESSAGE_TEMPLATE_WITHOUT_USER_NAME[_WITHOUT_URL]`.
#[must_use]
pub fn release_event_message_without_user_name(
    action: &str,
    tagname: &str,
    release_name: &str,
    url: Option<&str>,
) -> String {
    match url {
        Some(url) => format!("Release [{release_name}]({url}) for tag {tagname} was {action}."),
        None => format!("Release {release_name} for tag {tagname} was {action}."),
    }
}

/// Whether a push to `branch` is wanted under the URL's `branches` option (a comma-separated
/// list; none means every branch): Zulip's `is_branch_name_notifiable`.
#[must_use]
pub fn is_branch_name_notifiable(branch: &str, branches: Option<&str>) -> bool {
    branches.is_none_or(|list| list.split(',').any(|name| name.trim() == branch))
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://github.com/baxterthehacker/public-repo/commit/0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c";
    const COMPARE: &str = "https://github.com/baxterthehacker/public-repo/compare/9049f1265b7d...0d1a26e67d8f";
    const ROW: &str = "* Update README.md ([0d1a26e67d8](https://github.com/baxterthehacker/public-repo/commit/0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c))";

    fn commit<'a>(name: &'a str, message: &'a str) -> Commit<'a> {
        Commit { name, sha: "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", url: URL, message }
    }

    #[test]
    fn topics() {
        assert_eq!(topic_with_branch("repo", "main"), "repo / main");
        assert_eq!(topic_with_pr_or_issue_info("repo", "PR", 1, "Fix"), "repo / PR #1 Fix");
        assert_eq!(topic_with_release("repo", "v1", "First"), "repo / v1 First");
    }

    #[test]
    fn a_push_by_the_pusher_alone_names_no_committers() {
        let commits = [commit("baxterthehacker", "Update README.md\n\nMore.")];
        assert_eq!(
            push_commits_event_message("baxterthehacker", Some(COMPARE), "changes", &commits, false, false, false),
            format!("baxterthehacker [pushed]({COMPARE}) 1 commit to branch changes.\n\n{ROW}")
        );
    }

    #[test]
    fn committers_are_named_most_commits_first_and_the_fourth_on_are_others() {
        let mut commits = vec![commit("Tomasz", "Update README.md"); 3];
        commits.extend(vec![commit("Ben", "Update README.md"); 2]);
        commits.push(commit("baxterthehacker", "Update README.md"));
        let content = push_commits_event_message("baxterthehacker", Some(COMPARE), "b", &commits, false, false, false);
        assert!(
            content.contains(" 6 commits to branch b. Commits by Tomasz (3), Ben (2) and baxterthehacker (1).\n\n")
        );
        commits.push(commit("Zed", "x"));
        commits.push(commit("Ann", "x"));
        let content = push_commits_event_message("u", None, "b", &commits, false, false, true);
        assert!(
            content.starts_with(
                "u force pushed 8 commits to branch b. Commits by Tomasz (3), Ben (2), Ann (1) and others (2).\n\n"
            ),
            "{content}"
        );
    }

    #[test]
    fn only_twenty_commits_are_listed() {
        let commits = vec![commit("u", "Update README.md"); 50];
        let content = push_commits_event_message("u", Some(COMPARE), "b", &commits, false, false, false);
        let rows = format!("{ROW}\n").repeat(COMMITS_LIMIT);
        assert_eq!(content, format!("u [pushed]({COMPARE}) 50 commits to branch b.\n\n{rows}[and 30 more commit(s)]"));
        assert_eq!(commits_content(&commits[..1], true), format!("{ROW}\n[and more commit(s)]"));
    }

    #[test]
    fn pushes_without_commits() {
        assert_eq!(
            push_commits_event_message("u", Some("c"), "b", &[], false, true, false),
            "u [deleted](c) the branch b."
        );
        assert_eq!(
            push_commits_event_message("u", Some("c"), "b", &[], false, false, true),
            "u [force pushed](c) the branch b."
        );
        assert_eq!(push_commits_event_message("u", None, "b", &[], false, false, false), "u pushed the branch b.");
    }

    #[test]
    fn branches_and_tags() {
        assert_eq!(
            force_push_commits_event_message("u", "x", "b", "abc"),
            "u [force pushed](x) to branch b. Head is now abc."
        );
        assert_eq!(create_branch_event_message("u", Some("x"), "b"), "u created [b](x) branch.");
        assert_eq!(create_branch_event_message("u", None, "b"), "u created b branch.");
        assert_eq!(remove_branch_event_message("u", "b"), "u deleted branch b.");
        assert_eq!(push_tag_event_message("u", "v1", None, "pushed"), "u pushed tag v1.");
        assert_eq!(push_tag_event_message("u", "v1!", Some("x"), "removed"), "u removed tag [v1!](x)");
    }

    #[test]
    fn pull_request_messages() {
        let base =
            PullRequestEvent { user_name: "u", action: "opened", url: "x", number: Some(1), ..Default::default() };
        assert_eq!(base.message(), "u opened [PR #1](x).");
        let quoted = PullRequestEvent { message: Some("hi"), ..base };
        assert_eq!(quoted.message(), "u opened [PR #1](x):\n\n~~~ quote\nhi\n~~~");
        let full = PullRequestEvent {
            target_branch: Some("a"),
            base_branch: Some("b"),
            assignees: &["p", "q", "r"],
            title: Some("Fix!"),
            ..base
        };
        assert_eq!(full.message(), "u opened [PR #1 Fix!](x) from `a` to `b` (assigned to p, q and r).");
        let titled = PullRequestEvent { title: Some("Fix!"), ..base };
        assert_eq!(titled.message(), "u opened [PR #1 Fix!](x)");
        let assigned = PullRequestEvent { action: "assigned", assignee_updated: Some("p"), kind: "issue", ..base };
        assert_eq!(assigned.message(), "u assigned p to [issue #1](x).");
        let approval = PullRequestEvent { action: "approval", reviewer: Some("r"), ..base };
        assert_eq!(approval.message(), "u added their approval for [PR #1](x) (assigned reviewers: r).");
    }

    #[test]
    fn issue_label_milestone_comment_release() {
        assert_eq!(
            issue_labeled_or_unlabeled_event_message("u", "removed", "x", 2, "bug", "y", None),
            "[u](y) removed the bug label from [Issue #2](x)."
        );
        assert_eq!(
            issue_milestoned_or_demilestoned_event_message("u", "added", "x", 2, "M", "m", "y", Some("T")),
            "[u](y) added milestone [M](m) to [issue #2 T](x)."
        );
        assert_eq!(
            commits_comment_action_message("u", "[commented](c)", "x", "0d1a26e67d8f5eaf", Some("ok")),
            "u [commented](c) on [0d1a26e67d8](x):\n~~~ quote\nok\n~~~"
        );
        assert_eq!(
            release_event_message("u", "published", "v1", "One", "x"),
            "u published release [One](x) for tag v1."
        );
        assert_eq!(
            release_event_message_without_user_name("deleted", "v1", "One", None),
            "Release One for tag v1 was deleted."
        );
    }

    #[test]
    fn helpers() {
        assert_eq!(short_sha("0d1a26e67d8f5eaf1f6b"), "0d1a26e67d8");
        assert_eq!(short_sha("ééééééééééééé"), "ééééééééééé");
        assert_eq!(assignee_string(&["a", "b"]), "a and b");
        assert!(is_branch_name_notifiable("main", None));
        assert!(is_branch_name_notifiable("main", Some("dev, main")));
        assert!(!is_branch_name_notifiable("main", Some("dev")));
    }
}
