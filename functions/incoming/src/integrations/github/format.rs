//! The message shapes Zulip's git integrations share (`zerver/lib/webhooks/git.py`), as the
//! GitHub integration uses them: commit lists, "user did X to [PR #n](url)" lines, quotes.

use std::collections::HashMap;

/// Zulip lists at most this many commits of a push, then "[and N more commit(s)]".
pub(super) const COMMITS_LIMIT: usize = 20;
/// Zulip names at most this many committers, then "others".
const COMMITTERS_LIMIT: usize = 3;
/// Zulip's short commit hash: the first 11 characters.
const SHORT_SHA: usize = 11;

/// The first characters of a commit hash, as Zulip shows it.
pub(super) fn short_sha(sha: &str) -> &str {
    match sha.char_indices().nth(SHORT_SHA) {
        Some((end, _)) => &sha[..end],
        None => sha,
    }
}

/// A block quote, as Zulip puts a description or a comment under its one-line summary.
pub(super) fn quote(text: &str) -> String {
    format!("\n~~~ quote\n{text}\n~~~")
}

/// `.` after a sentence, unless it already ends with punctuation (Python's `string.punctuation`).
pub(super) fn end_sentence(mut text: String) -> String {
    if !text.ends_with(|c: char| c.is_ascii_punctuation()) {
        text.push('.');
    }
    text
}

/// One commit of a push.
#[derive(Debug, Clone, Copy)]
pub(super) struct Commit<'v> {
    /// The author's GitHub username, or their name when the commit has none.
    pub name: &'v str,
    pub sha: &'v str,
    pub url: &'v str,
    pub message: &'v str,
}

/// A push of one or more commits to a branch: Zulip's `get_push_commits_event_message`.
pub(super) fn push_commits(
    user: &str,
    compare_url: &str,
    branch: &str,
    commits: &[Commit<'_>],
    forced: bool,
) -> String {
    let push_type = if forced { "force pushed" } else { "pushed" };
    let count = commits.len();
    let plural = if count > 1 { "s" } else { "" };
    let pushed = if compare_url.is_empty() {
        format!("{push_type} {count} commit{plural}")
    } else {
        format!("[{push_type}]({compare_url}) {count} commit{plural}")
    };
    let mut content = format!("{user} {pushed} to branch {branch}.");

    let committers = committers(commits);
    let only_the_pusher = committers.len() == 1 && committers[0].0 == user;
    if !only_the_pusher && !committers.is_empty() {
        content.push_str(" Commits by ");
        let last = committers.len() - 1;
        for (i, (name, n)) in committers.iter().enumerate() {
            if i > 0 {
                content.push_str(if i == last { " and " } else { ", " });
            }
            content.push_str(&format!("{name} ({n})"));
        }
        content.push('.');
    }
    content.push_str("\n\n");
    content.push_str(&commit_list(commits));
    content.truncate(content.trim_end().len());
    content
}

/// Committers by number of commits (ties alphabetically), the fourth and later as "others".
fn committers<'v>(commits: &[Commit<'v>]) -> Vec<(&'v str, usize)> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for commit in commits {
        *counts.entry(commit.name).or_default() += 1;
    }
    let mut sorted: Vec<(&str, usize)> = counts.into_iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    if sorted.len() > COMMITTERS_LIMIT {
        let others = sorted[COMMITTERS_LIMIT..].iter().map(|(_, n)| n).sum();
        sorted.truncate(COMMITTERS_LIMIT);
        sorted.push(("others", others));
    }
    sorted
}

/// `* first line of the message ([short sha](url))`, one per commit, at most [`COMMITS_LIMIT`].
fn commit_list(commits: &[Commit<'_>]) -> String {
    let mut list = String::new();
    for commit in commits.iter().take(COMMITS_LIMIT) {
        let first_line = commit.message.split('\n').next().unwrap_or_default();
        list.push_str(&format!("* {first_line} ([{}]({}))\n", short_sha(commit.sha), commit.url));
    }
    if commits.len() > COMMITS_LIMIT {
        list.push_str(&format!("[and {} more commit(s)]", commits.len() - COMMITS_LIMIT));
    }
    list.truncate(list.trim_end().len());
    list
}

/// "user action [PR #1](url) from `a` to `b` (assigned to c):" and a quote: Zulip's
/// `get_pull_request_event_message`, used for pull requests, issues, reviews and comments.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Notice<'a> {
    pub user: &'a str,
    /// What the user did, with anything that goes before the link (`assigned bob to`).
    pub action: &'a str,
    /// `PR`, `issue`, `PR review`, `PR review comment`.
    pub kind: &'a str,
    pub number: Option<i64>,
    pub url: &'a str,
    /// The head and base branches of a pull request that was just opened.
    pub branches: Option<(&'a str, &'a str)>,
    pub assignee: Option<&'a str>,
    /// The description or comment, quoted under the summary when not empty.
    pub quote: Option<&'a str>,
}

impl Notice<'_> {
    pub(super) fn render(&self) -> String {
        let id = self.number.map(|n| format!(" #{n}")).unwrap_or_default();
        let mut content = format!("{} {} [{}{id}]({})", self.user, self.action, self.kind, self.url);
        if let Some((head, base)) = self.branches {
            content.push_str(&format!(" from `{head}` to `{base}`"));
        }
        if let Some(assignee) = self.assignee {
            content.push_str(&format!(" (assigned to {assignee})"));
        }
        match self.quote.filter(|text| !text.is_empty()) {
            Some(text) => {
                content.push_str(":\n");
                content.push_str(&quote(text));
            }
            None => content.push('.'),
        }
        content.truncate(content.trim_end().len());
        content
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit<'a>(name: &'a str, message: &'a str) -> Commit<'a> {
        Commit {
            name,
            sha: "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
            url: "https://github.com/baxterthehacker/public-repo/commit/0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
            message,
        }
    }

    const ROW: &str = "* Update README.md ([0d1a26e67d8](https://github.com/baxterthehacker/public-repo/commit/0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c))";
    const COMPARE: &str = "https://github.com/baxterthehacker/public-repo/compare/9049f1265b7d...0d1a26e67d8f";

    #[test]
    fn committers_other_than_the_pusher_are_named_most_commits_first() {
        let mut commits = vec![commit("Tomasz", "Update README.md"); 3];
        commits.extend(vec![commit("Ben", "Update README.md"); 2]);
        commits.push(commit("baxterthehacker", "Update README.md\n\nMore detail."));
        let content = push_commits("baxterthehacker", COMPARE, "changes", &commits, false);
        let rows = [ROW; 6].join("\n");
        assert_eq!(
            content,
            format!(
                "baxterthehacker [pushed]({COMPARE}) 6 commits to branch changes. Commits by Tomasz (3), Ben (2) and baxterthehacker (1).\n\n{rows}"
            )
        );
    }

    #[test]
    fn a_fourth_committer_and_beyond_are_others() {
        let mut commits = vec![commit("Tomasz", "Update README.md"); 4];
        commits.extend(vec![commit("Ben", "Update README.md"); 3]);
        commits.extend(vec![commit("James", "Update README.md"); 2]);
        commits.push(commit("Zed", "Update README.md"));
        let content = push_commits("baxterthehacker", COMPARE, "changes", &commits, false);
        assert!(content.contains(". Commits by Tomasz (4), Ben (3), James (2) and others (1).\n\n"), "{content}");
    }

    #[test]
    fn only_twenty_commits_are_listed() {
        let commits = vec![commit("baxterthehacker", "Update README.md"); 50];
        let content = push_commits("baxterthehacker", COMPARE, "changes", &commits, false);
        let rows = format!("{ROW}\n").repeat(COMMITS_LIMIT);
        assert_eq!(
            content,
            format!(
                "baxterthehacker [pushed]({COMPARE}) 50 commits to branch changes.\n\n{rows}[and 30 more commit(s)]"
            )
        );
    }

    #[test]
    fn a_notice_ends_with_a_colon_and_a_quote_or_a_period() {
        let base = Notice {
            user: "u",
            action: "opened",
            kind: "PR",
            number: Some(1),
            url: "https://x/1",
            ..Notice::default()
        };
        assert_eq!(base.render(), "u opened [PR #1](https://x/1).");
        let quoted = Notice { quote: Some("hi"), ..base };
        assert_eq!(quoted.render(), "u opened [PR #1](https://x/1):\n\n~~~ quote\nhi\n~~~");
        let empty = Notice { quote: Some(""), ..base };
        assert_eq!(empty.render(), "u opened [PR #1](https://x/1).");
    }

    #[test]
    fn short_shas_are_eleven_characters_and_never_split_a_character() {
        assert_eq!(short_sha("0d1a26e67d8f5eaf1f6b"), "0d1a26e67d8");
        assert_eq!(short_sha("abc"), "abc");
        assert_eq!(short_sha("ééééééééééééé"), "ééééééééééé");
    }
}
