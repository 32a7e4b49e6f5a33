//! Each GitLab event's topic and message, in Zulip's words (its gitlab view and the helpers
//! Zulip shares between git integrations).

use std::collections::HashMap;

use serde_json::Value;

use crate::integration::{IntegrationError, list, number, optional_text, text};

/// The all-zero commit id: a branch's `before` when it is created, its `after` when deleted.
pub const EMPTY_SHA: &str = "0000000000000000000000000000000000000000";
/// Commits and jobs listed in a message; the rest are counted.
const MAX_COMMITS: usize = 20;
const MAX_BUILDS: usize = 20;
/// Assignees named; the rest are counted.
const MAX_ASSIGNEES: usize = 10;
/// Committers credited by name in a push; the rest are "others".
const MAX_COMMITTERS: usize = 3;
/// Zulip's short commit ids.
const SHORT_SHA: usize = 11;

/// A topic and a message.
type Rendered = Result<(String, String), IntegrationError>;

pub fn push(body: &Value) -> Rendered {
    let user = text(body, "/user_name")?;
    let branch = branch_name(text(body, "/ref")?);
    let topic = format!("{} / {branch}", repo_name(body)?);
    let before = optional_text(body, "before")?.unwrap_or_default();
    let after = optional_text(body, "after")?.unwrap_or_default();
    if after == EMPTY_SHA {
        return Ok((topic, format!("{user} deleted branch {branch}.")));
    }
    let homepage = homepage(body)?;
    let commits = list(body, "/commits")?.iter().map(Commit::from_json).collect::<Result<Vec<_>, _>>()?;
    if commits.is_empty() {
        let content = if before == EMPTY_SHA {
            format!("{user} created [{branch}]({homepage}/-/tree/{branch}) branch.")
        } else {
            format!("{user} [pushed]({homepage}/-/compare/{before}...{after}) the branch {branch}.")
        };
        return Ok((topic, content));
    }
    // A new branch has nothing to compare with: link its commits instead.
    let url = if before == EMPTY_SHA || before.is_empty() {
        format!("{homepage}/-/commits/{branch}")
    } else {
        format!("{homepage}/-/compare/{before}...{after}")
    };
    // GitLab sends at most 20 commits and counts them all in `total_commits_count`.
    let total = body
        .get("total_commits_count")
        .and_then(Value::as_u64)
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(0)
        .max(commits.len());
    let mut content =
        format!("{user} [pushed]({url}) {total} commit{} to branch {branch}.", if total > 1 { "s" } else { "" });
    let committers = committers(&commits);
    if !(committers.len() == 1 && committers[0].0 == user) {
        content.push_str(&format!(" Commits by {}.", credits(&committers)));
    }
    content.push_str("\n\n");
    let lines: Vec<String> = commits.iter().take(MAX_COMMITS).map(Commit::line).collect();
    content.push_str(&lines.join("\n"));
    if total > lines.len() {
        content.push_str(&format!("\n[and {} more commit(s)]", total - lines.len()));
    }
    Ok((topic, content))
}

struct Commit<'v> {
    author: &'v str,
    sha: &'v str,
    message: &'v str,
    url: &'v str,
}

impl<'v> Commit<'v> {
    fn from_json(commit: &'v Value) -> Result<Self, IntegrationError> {
        Ok(Commit {
            author: text(commit, "/author/name")?,
            sha: text(commit, "/id")?,
            message: text(commit, "/message")?,
            url: text(commit, "/url")?,
        })
    }

    /// `* <first line of the message> ([<short sha>](<url>))`.
    fn line(&self) -> String {
        let title = self.message.lines().next().unwrap_or_default();
        format!("* {title} ([{}]({}))", short_sha(self.sha), self.url)
    }
}

/// Commit authors with their commit counts, most commits first (then by name), the fourth and
/// later ones summed up as "others".
fn committers<'v>(commits: &[Commit<'v>]) -> Vec<(&'v str, usize)> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for commit in commits {
        *counts.entry(commit.author).or_default() += 1;
    }
    let mut committers: Vec<(&str, usize)> = counts.into_iter().collect();
    committers.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    if committers.len() > MAX_COMMITTERS {
        let others = committers[MAX_COMMITTERS..].iter().map(|(_, n)| n).sum();
        committers.truncate(MAX_COMMITTERS);
        committers.push(("others", others));
    }
    committers
}

/// `Ana (2), Bo (1) and others (3)`.
fn credits(committers: &[(&str, usize)]) -> String {
    and_list(&committers.iter().map(|(name, n)| format!("{name} ({n})")).collect::<Vec<_>>())
}

pub fn tag_push(body: &Value) -> Rendered {
    let user = text(body, "/user_name")?;
    let reference = text(body, "/ref")?;
    let tag = reference.strip_prefix("refs/tags/").unwrap_or(reference);
    let pushed = optional_text(body, "checkout_sha")?.is_some_and(|sha| !sha.is_empty());
    let mut content = if pushed {
        format!("{user} pushed tag [{tag}]({}/-/tags/{tag})", homepage(body)?)
    } else {
        format!("{user} removed tag {tag}")
    };
    if !tag.ends_with(|c: char| c.is_ascii_punctuation()) {
        content.push('.');
    }
    Ok((repo_name(body)?.to_owned(), content))
}

pub fn test(body: &Value) -> Rendered {
    let repo = repo_name(body)?;
    Ok((repo.to_owned(), format!("Webhook for **{repo}** has been configured successfully! :tada:")))
}

pub fn issue_opened(body: &Value) -> Rendered {
    let attributes = attributes(body)?;
    let description = optional_text(attributes, "description")?.map(without_html_comments);
    let content = sentence(Sentence {
        user: text(body, "/user/name")?,
        action: "created",
        kind: "issue",
        number: number(attributes, "/iid")?,
        url: text(attributes, "/url")?,
        branches: None,
        assignees: assignees(body)?,
        message: description.as_deref(),
    });
    Ok((issue_topic(body)?, content))
}

pub fn issue(body: &Value, action: &str) -> Rendered {
    let attributes = attributes(body)?;
    let content = sentence(Sentence {
        user: text(body, "/user/name")?,
        action,
        kind: "issue",
        number: number(attributes, "/iid")?,
        url: text(attributes, "/url")?,
        ..Sentence::default()
    });
    Ok((issue_topic(body)?, content))
}

fn issue_topic(body: &Value) -> Result<String, IntegrationError> {
    let attributes = attributes(body)?;
    Ok(item_topic(repo_name(body)?, "issue", number(attributes, "/iid")?, text(attributes, "/title")?))
}

pub fn merge_request_opened(body: &Value) -> Rendered {
    let attributes = attributes(body)?;
    let content = sentence(Sentence {
        user: text(body, "/user/name")?,
        action: "created",
        kind: "MR",
        number: number(attributes, "/iid")?,
        url: text(attributes, "/url")?,
        branches: Some((text(attributes, "/source_branch")?, text(attributes, "/target_branch")?)),
        assignees: assignees(body)?,
        message: optional_text(attributes, "description")?,
    });
    Ok((merge_request_topic(body)?, content))
}

/// An update that pushed commits names them ("added commit(s) to"); another update quotes the
/// description, as Zulip does.
pub fn merge_request_updated(body: &Value) -> Rendered {
    let attributes = attributes(body)?;
    if optional_text(attributes, "oldrev")?.is_some_and(|rev| !rev.is_empty()) {
        return merge_request(body, "added commit(s) to");
    }
    let content = sentence(Sentence {
        user: text(body, "/user/name")?,
        action: "updated",
        kind: "MR",
        number: number(attributes, "/iid")?,
        url: text(attributes, "/url")?,
        branches: None,
        assignees: assignees(body)?,
        message: optional_text(attributes, "description")?,
    });
    Ok((merge_request_topic(body)?, content))
}

pub fn merge_request(body: &Value, action: &str) -> Rendered {
    let attributes = attributes(body)?;
    let branches = if action == "merged" {
        Some((text(attributes, "/source_branch")?, text(attributes, "/target_branch")?))
    } else {
        None
    };
    let content = sentence(Sentence {
        user: text(body, "/user/name")?,
        action,
        kind: "MR",
        number: number(attributes, "/iid")?,
        url: text(attributes, "/url")?,
        branches,
        ..Sentence::default()
    });
    Ok((merge_request_topic(body)?, content))
}

fn merge_request_topic(body: &Value) -> Result<String, IntegrationError> {
    let attributes = attributes(body)?;
    Ok(item_topic(repo_name(body)?, "MR", number(attributes, "/iid")?, text(attributes, "/title")?))
}

pub fn commit_note(body: &Value) -> Rendered {
    let note = text(body, "/object_attributes/note")?;
    let mut content = format!(
        "{} [commented]({}) on [{}]({})",
        text(body, "/user/name")?,
        text(body, "/object_attributes/url")?,
        short_sha(text(body, "/commit/id")?),
        text(body, "/commit/url")?,
    );
    if note.trim().is_empty() {
        content.push('.');
    } else {
        content.push(':');
        content.push_str(&quote(note));
    }
    Ok((repo_name(body)?.to_owned(), content))
}

pub fn merge_request_note(body: &Value) -> Rendered {
    let iid = number(body, "/merge_request/iid")?;
    let action = format!("[commented]({}) on", text(body, "/object_attributes/url")?);
    let content = sentence(Sentence {
        user: text(body, "/user/name")?,
        action: &action,
        kind: "MR",
        number: iid,
        url: text(body, "/merge_request/url")?,
        message: Some(text(body, "/object_attributes/note")?),
        ..Sentence::default()
    });
    Ok((item_topic(repo_name(body)?, "MR", iid, text(body, "/merge_request/title")?), content))
}

pub fn issue_note(body: &Value) -> Rendered {
    let iid = number(body, "/issue/iid")?;
    let action = format!("[commented]({}) on", text(body, "/object_attributes/url")?);
    let content = sentence(Sentence {
        user: text(body, "/user/name")?,
        action: &action,
        kind: "issue",
        number: iid,
        url: text(body, "/issue/url")?,
        message: Some(text(body, "/object_attributes/note")?),
        ..Sentence::default()
    });
    Ok((item_topic(repo_name(body)?, "issue", iid, text(body, "/issue/title")?), content))
}

pub fn snippet_note(body: &Value) -> Rendered {
    let id = number(body, "/snippet/id")?;
    let action = format!("[commented]({}) on", text(body, "/object_attributes/url")?);
    // Snippets carry their URL since GitLab 16.1.
    let url = match optional_text(&body["snippet"], "url")? {
        Some(url) => url.to_owned(),
        None => format!("{}/-/snippets/{id}", homepage(body)?),
    };
    let content = sentence(Sentence {
        user: text(body, "/user/name")?,
        action: &action,
        kind: "snippet",
        number: id,
        url: &url,
        message: Some(text(body, "/object_attributes/note")?),
        ..Sentence::default()
    });
    Ok((item_topic(repo_name(body)?, "snippet", id, text(body, "/snippet/title")?), content))
}

pub fn wiki_page(body: &Value, action: &str) -> Rendered {
    let content = format!(
        "{} {action} [wiki page \"{}\"]({}).",
        text(body, "/user/name")?,
        text(body, "/object_attributes/title")?,
        text(body, "/object_attributes/url")?,
    );
    Ok((repo_name(body)?.to_owned(), content))
}

pub fn job(body: &Value) -> Rendered {
    let action = match text(body, "/build_status")? {
        "created" => "was created".to_owned(),
        "running" => "started".to_owned(),
        status => format!("changed status to {status}"),
    };
    let content = format!("Build {} from {} stage {action}.", text(body, "/build_name")?, text(body, "/build_stage")?);
    Ok((format!("{} / {}", repo_name(body)?, branch_name(text(body, "/ref")?)), content))
}

pub fn pipeline(body: &Value) -> Rendered {
    let id = number(body, "/object_attributes/id")?;
    let action = match text(body, "/object_attributes/status")? {
        "pending" => "was created".to_owned(),
        "running" => "started".to_owned(),
        status => format!("changed status to {status}"),
    };
    let homepage = homepage(body)?;
    let builds = list(body, "/builds")?;
    let mut lines = Vec::new();
    for build in builds.iter().take(MAX_BUILDS) {
        let build_url = format!("{homepage}/-/jobs/{}", number(build, "/id")?);
        lines.push(format!("* [{}]({build_url}) - {}", text(build, "/name")?, text(build, "/status")?));
        let artifact = match build.get("artifacts_file") {
            Some(file @ Value::Object(_)) => optional_text(file, "filename")?.filter(|f| !f.is_empty()),
            _ => None,
        };
        if let Some(artifact) = artifact {
            lines.push(format!(
                "  * built artifact: *{artifact}* [[Browse]({build_url}/artifacts/browse)|[Download]({build_url}/artifacts/download)]"
            ));
        }
    }
    let head = format!("[Pipeline ({id})]({homepage}/-/pipelines/{id}) {action}");
    let mut content =
        if lines.is_empty() { format!("{head}.") } else { format!("{head} with build(s):\n{}.", lines.join("\n")) };
    if builds.len() > MAX_BUILDS {
        content.push_str(&format!("\n[and {} more build(s)]", builds.len() - MAX_BUILDS));
    }
    let topic = format!("{} / {}", repo_name(body)?, branch_name(text(body, "/object_attributes/ref")?));
    Ok((topic, content))
}

pub fn release(body: &Value) -> Rendered {
    let name = text(body, "/name")?;
    let tag = text(body, "/tag")?;
    let action = text(body, "/action")?;
    let done = match action {
        "create" => "created",
        "update" => "updated",
        "delete" => "deleted",
        other => other,
    };
    let content = if action == "delete" {
        format!("Release {name} for tag {tag} was {done}.")
    } else {
        let mut content = format!("Release [{name}]({}) for tag {tag} was {done}.", text(body, "/url")?);
        if let Some(description) = optional_text(body, "description")?.filter(|d| !d.trim().is_empty()) {
            content.push_str(&quote(description));
        }
        content
    };
    Ok((repo_name(body)?.to_owned(), content))
}

/// Zulip's sentence for merge requests, issues and what notes comment on:
/// `<user> <action> [<kind> #<number>](<url>) from `a` to `b` (assigned to X):` and a quote.
#[derive(Default)]
struct Sentence<'a> {
    user: &'a str,
    action: &'a str,
    kind: &'a str,
    number: i64,
    url: &'a str,
    branches: Option<(&'a str, &'a str)>,
    assignees: Vec<&'a str>,
    message: Option<&'a str>,
}

fn sentence(s: Sentence<'_>) -> String {
    let mut out = format!("{} {} [{} #{}]({})", s.user, s.action, s.kind, s.number, s.url);
    if let Some((source, target)) = s.branches {
        out.push_str(&format!(" from `{source}` to `{target}`"));
    }
    if !s.assignees.is_empty() {
        let mut names: Vec<String> = s.assignees.iter().take(MAX_ASSIGNEES).map(|&name| name.to_owned()).collect();
        if s.assignees.len() > MAX_ASSIGNEES {
            names.push(format!("{} others", s.assignees.len() - MAX_ASSIGNEES));
        }
        out.push_str(&format!(" (assigned to {})", and_list(&names)));
    }
    match s.message.filter(|m| !m.trim().is_empty()) {
        Some(message) => {
            out.push_str(":\n");
            out.push_str(&quote(message));
        }
        None => out.push('.'),
    }
    out.trim_end().to_owned()
}

/// Zulip's quote block, on a line of its own.
fn quote(message: &str) -> String {
    format!("\n~~~ quote\n{message}\n~~~")
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The names of the assignees: the `assignees` list, else the single `assignee`.
fn assignees(body: &Value) -> Result<Vec<&str>, IntegrationError> {
    let many = list(body, "/assignees")?;
    let people: Vec<&Value> = if many.is_empty() {
        body.get("assignee").filter(|a| !a.is_null()).into_iter().collect()
    } else {
        many.iter().collect()
    };
    people.into_iter().map(|person| text(person, "/name")).collect()
}

/// Descriptions hide template guidance in `<!-- … -->`; Zulip leaves it out.
fn without_html_comments(description: &str) -> String {
    let mut out = String::with_capacity(description.len());
    let mut rest = description;
    while let Some(start) = rest.find("<!--") {
        let Some(length) = rest[start + 4..].find("-->") else { break };
        out.push_str(&rest[..start]);
        rest = &rest[start + 4 + length + 3..];
    }
    out.push_str(rest);
    // What a leading comment leaves behind is blank lines.
    out.trim_end().trim_start_matches(['\n', '\r']).to_owned()
}

fn attributes(body: &Value) -> Result<&Value, IntegrationError> {
    body.get("object_attributes")
        .filter(|a| a.is_object())
        .ok_or_else(|| IntegrationError::Malformed("expected an object at /object_attributes".into()))
}

/// `<project> / <kind> #<number> <title>`.
fn item_topic(repo: &str, kind: &str, number: i64, title: &str) -> String {
    format!("{repo} / {kind} #{number} {title}")
}

/// The project's name; job events have it under `repository`.
fn repo_name(body: &Value) -> Result<&str, IntegrationError> {
    if body.get("project").is_some_and(Value::is_object) {
        text(body, "/project/name")
    } else {
        text(body, "/repository/name")
    }
}

fn homepage(body: &Value) -> Result<&str, IntegrationError> {
    if body.get("project").is_some_and(Value::is_object) {
        text(body, "/project/web_url")
    } else {
        text(body, "/repository/homepage")
    }
}

fn branch_name(reference: &str) -> &str {
    reference.strip_prefix("refs/heads/").unwrap_or(reference)
}

fn short_sha(sha: &str) -> &str {
    sha.char_indices().nth(SHORT_SHA).map_or(sha, |(end, _)| &sha[..end])
}
