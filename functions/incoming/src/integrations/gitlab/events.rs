//! Each GitLab event's message and topic, in Zulip's words (its gitlab view), built on the
//! templates Zulip's git integrations share (`crate::git`).
//!
//! A message function gets the payload and `include_title`: whether the URL fixes the topic,
//! in which case the item's title goes into the message, since the topic no longer shows it.

use serde_json::Value;

use crate::git::{self, PullRequestEvent};
use crate::integration::{IntegrationError, list, number, optional_text, text};

pub use crate::git::EMPTY_SHA;

/// A message, or why the payload cannot give one.
type Body = Result<String, IntegrationError>;

pub fn push(body: &Value, _include_title: bool) -> Body {
    if truthy(body.get("after")) && text(body, "/after")? == EMPTY_SHA {
        return Ok(git::remove_branch_event_message(user_name(body)?, &branch_name(body)?));
    }
    let compare_url = format!("{}/-/compare/{}...{}", homepage(body)?, text(body, "/before")?, text(body, "/after")?);
    let commits = git::commits_by_author_name(body, "/commits")?;
    Ok(git::push_commits_event_message(
        user_name(body)?,
        Some(&compare_url),
        &branch_name(body)?,
        &commits,
        false,
        false,
        false,
    ))
}

pub fn tag_push(body: &Value, _include_title: bool) -> Body {
    let tag = text(body, "/ref")?.replace("refs/tags/", "");
    let action = if truthy(body.get("checkout_sha")) { "pushed" } else { "removed" };
    Ok(git::push_tag_event_message(user_name(body)?, &tag, None, action))
}

pub fn test(body: &Value, _include_title: bool) -> Body {
    Ok(format!("Webhook for **{}** has been configured successfully! :tada:", repo_name(body)?))
}

pub fn issue_created(body: &Value, include_title: bool) -> Body {
    let attributes = attributes(body)?;
    // Issue templates hide their guidance in HTML comments; Zulip leaves them out.
    let description = match attributes.get("description") {
        Some(description) if truthy(Some(description)) => {
            Some(without_html_comments(text(attributes, "/description")?).trim_end().to_owned())
        }
        _ => None,
    };
    let assignees = assignees(body)?;
    Ok(PullRequestEvent {
        user_name: issue_user_name(body)?,
        action: "created",
        url: text(attributes, "/url")?,
        number: Some(number(attributes, "/iid")?),
        message: description.as_deref(),
        assignees: &assignees,
        kind: "issue",
        title: title(attributes, include_title)?,
        ..PullRequestEvent::default()
    }
    .message())
}

pub fn issue(action: &str, body: &Value, include_title: bool) -> Body {
    let attributes = attributes(body)?;
    Ok(PullRequestEvent {
        user_name: issue_user_name(body)?,
        action,
        url: text(attributes, "/url")?,
        number: Some(number(attributes, "/iid")?),
        kind: "issue",
        title: title(attributes, include_title)?,
        ..PullRequestEvent::default()
    }
    .message())
}

/// An update that pushed commits says so; another quotes the description.
pub fn merge_request_updated(body: &Value, include_title: bool) -> Body {
    if truthy(attributes(body)?.get("oldrev")) {
        return merge_request("added commit(s) to", body, include_title);
    }
    merge_request_opened_or_updated("updated", body, include_title)
}

pub fn merge_request(action: &str, body: &Value, include_title: bool) -> Body {
    let attributes = attributes(body)?;
    let (target_branch, base_branch) = if action == "merged" {
        (Some(text(attributes, "/source_branch")?), Some(text(attributes, "/target_branch")?))
    } else {
        (None, None)
    };
    Ok(PullRequestEvent {
        user_name: issue_user_name(body)?,
        action,
        url: text(attributes, "/url")?,
        number: Some(number(attributes, "/iid")?),
        target_branch,
        base_branch,
        kind: "MR",
        title: title(attributes, include_title)?,
        ..PullRequestEvent::default()
    }
    .message())
}

pub fn merge_request_opened_or_updated(action: &str, body: &Value, include_title: bool) -> Body {
    let attributes = attributes(body)?;
    let (target_branch, base_branch) = if action == "created" {
        (Some(text(attributes, "/source_branch")?), Some(text(attributes, "/target_branch")?))
    } else {
        (None, None)
    };
    let assignees = assignees(body)?;
    Ok(PullRequestEvent {
        user_name: issue_user_name(body)?,
        action,
        url: text(attributes, "/url")?,
        number: Some(number(attributes, "/iid")?),
        target_branch,
        base_branch,
        message: optional_text(attributes, "description")?,
        assignees: &assignees,
        kind: "MR",
        title: title(attributes, include_title)?,
        ..PullRequestEvent::default()
    }
    .message())
}

pub fn commit_note(body: &Value, _include_title: bool) -> Body {
    let action = format!("[commented]({})", text(body, "/object_attributes/url")?);
    Ok(git::commits_comment_action_message(
        issue_user_name(body)?,
        &action,
        text(body, "/commit/url")?,
        text(body, "/commit/id")?,
        Some(text(body, "/object_attributes/note")?),
    ))
}

pub fn merge_request_note(body: &Value, include_title: bool) -> Body {
    noted_item(body, "/merge_request", "MR", None, include_title)
}

pub fn issue_note(body: &Value, include_title: bool) -> Body {
    noted_item(body, "/issue", "issue", None, include_title)
}

pub fn snippet_note(body: &Value, include_title: bool) -> Body {
    let snippet = object(body, "/snippet")?;
    // Snippets carry their URL since GitLab 16.1.
    let url = if snippet.get("url").is_some() {
        text(snippet, "/url")?.to_owned()
    } else {
        format!("{}/-/snippets/{}", text(body, "/project/web_url")?, number(snippet, "/id")?)
    };
    noted_item(body, "/snippet", "snippet", Some(&url), include_title)
}

/// A comment on a merge request, issue or snippet: `… [commented](…) on [MR #1](…):` and
/// the comment quoted. Snippets are numbered by `id`, the others by `iid`.
fn noted_item(body: &Value, pointer: &str, kind: &str, url: Option<&str>, include_title: bool) -> Body {
    let item = object(body, pointer)?;
    let action = format!("[commented]({}) on", text(body, "/object_attributes/url")?);
    let number = if kind == "snippet" { number(item, "/id")? } else { number(item, "/iid")? };
    Ok(PullRequestEvent {
        user_name: issue_user_name(body)?,
        action: &action,
        url: match url {
            Some(url) => url,
            None => text(item, "/url")?,
        },
        number: Some(number),
        message: Some(text(body, "/object_attributes/note")?),
        kind,
        title: title(item, include_title)?,
        ..PullRequestEvent::default()
    }
    .message())
}

/// A comment on an issue's design (an image): GitLab names neither the issue nor the design
/// but in the design's path, `designs/issue-<number>/<name>`.
pub fn design_note(body: &Value, _include_title: bool) -> Body {
    let comment = attributes(body)?;
    let homepage = text(body, "/repository/homepage")?;
    let note_id = number(comment, "/id")?;
    let (issue, design_name) = design_path(comment)?;
    let design_url = format!("{homepage}/-/issues/{issue}/designs/{design_name}");
    Ok(format!(
        "{} [commented]({design_url}#note_{note_id}) on design [{design_name}]({design_url}):\n{}",
        issue_user_name(body)?,
        git::content_message(text(comment, "/note")?),
    ))
}

/// The issue number and the design's name from `designs/issue-<number>/<name>`.
fn design_path(comment: &Value) -> Result<(&str, &str), IntegrationError> {
    let path = text(comment, "/position/new_path")?;
    let parts: Vec<&str> = path.split('/').collect();
    let [_, issue, name] = parts.as_slice() else {
        return Err(IntegrationError::Malformed(format!(
            "expected a design path like designs/issue-1/name at /object_attributes/position/new_path, got {path:?}"
        )));
    };
    Ok((issue.rsplit('-').next().unwrap_or_default(), name))
}

pub fn wiki_page(action: &str, body: &Value, _include_title: bool) -> Body {
    Ok(format!(
        "{} {action} [wiki page \"{}\"]({}).",
        issue_user_name(body)?,
        text(body, "/object_attributes/title")?,
        text(body, "/object_attributes/url")?,
    ))
}

pub fn build(body: &Value, _include_title: bool) -> Body {
    let action = match text(body, "/build_status")? {
        "created" => "was created".to_owned(),
        "running" => "started".to_owned(),
        status => format!("changed status to {status}"),
    };
    Ok(format!("Build {} from {} stage {action}.", text(body, "/build_name")?, text(body, "/build_stage")?))
}

pub fn pipeline(body: &Value, _include_title: bool) -> Body {
    let id = number(body, "/object_attributes/id")?;
    let action = match text(body, "/object_attributes/status")? {
        "pending" => "was created".to_owned(),
        "running" => "started".to_owned(),
        status => format!("changed status to {status}"),
    };
    let homepage = homepage(body)?;
    let mut builds = String::new();
    for build in list(body, "/builds")? {
        let build_url = format!("{homepage}/-/jobs/{}", number(build, "/id")?);
        builds.push_str(&format!("* [{}]({build_url}) - {}\n", text(build, "/name")?, text(build, "/status")?));
        let artifact = match build.get("artifacts_file") {
            Some(file @ Value::Object(_)) if truthy(file.get("filename")) => Some(text(file, "/filename")?),
            _ => None,
        };
        if let Some(artifact) = artifact {
            builds.push_str(&format!(
                "  * built artifact: *{artifact}* [[Browse]({build_url}/artifacts/browse)|[Download]({build_url}/artifacts/download)]\n"
            ));
        }
    }
    builds.pop();
    Ok(format!("[Pipeline ({id})]({homepage}/-/pipelines/{id}) {action} with build(s):\n{builds}."))
}

pub fn release(body: &Value, _include_title: bool) -> Body {
    let action = text(body, "/action")?;
    let name = text(body, "/name")?;
    let tag = text(body, "/tag")?;
    let done = format!("{action}d");
    if action == "delete" {
        return Ok(git::release_event_message_without_user_name(&done, tag, name, None));
    }
    let mut content = git::release_event_message_without_user_name(&done, tag, name, Some(text(body, "/url")?));
    if body.get("description").is_some() {
        content.push_str(&git::content_message(text(body, "/description")?));
    }
    Ok(content)
}

/// Zulip's topic for each event (before a topic in the URL replaces it).
pub fn topic(event: &str, body: &Value, use_merge_request_title: bool) -> Result<String, IntegrationError> {
    let repo = repo_name(body)?;
    let item = |pointer: &str, kind: &str, id: &str, with_title: bool| -> Result<String, IntegrationError> {
        let item = object(body, pointer)?;
        let title = if with_title { text(item, "/title")? } else { "" };
        let topic = git::topic_with_pr_or_issue_info(repo, kind, number(item, id)?, title);
        Ok(topic.trim_end().to_owned())
    };
    Ok(match event {
        "Push Hook" => git::topic_with_branch(repo, &branch_name(body)?),
        "Job Hook" | "Build Hook" => git::topic_with_branch(text(body, "/repository/name")?, &branch_name(body)?),
        "Pipeline Hook" => {
            git::topic_with_branch(repo, &text(body, "/object_attributes/ref")?.replace("refs/heads/", ""))
        }
        "Note Hook Issue" | "Confidential Note Hook Issue" => item("/issue", "issue", "/iid", true)?,
        "Note Hook DesignManagement::Design" | "Confidential Note Hook DesignManagement::Design" => {
            let path = text(body, "/object_attributes/position/new_path")?;
            format!("{repo} / design {}", path.rsplit('/').next().unwrap_or_default())
        }
        "Note Hook MergeRequest" => item("/merge_request", "MR", "/iid", use_merge_request_title)?,
        "Note Hook Snippet" => item("/snippet", "snippet", "/id", true)?,
        event if event.starts_with("Merge Request Hook") => {
            item("/object_attributes", "MR", "/iid", use_merge_request_title)?
        }
        event if event.starts_with("Issue Hook") || event.starts_with("Confidential Issue Hook") => {
            item("/object_attributes", "issue", "/iid", true)?
        }
        _ => repo.to_owned(),
    })
}

/// The project's name; job events have it under `repository` only.
pub fn repo_name(body: &Value) -> Result<&str, IntegrationError> {
    if body.get("project").is_some() { text(body, "/project/name") } else { text(body, "/repository/name") }
}

pub fn homepage(body: &Value) -> Result<&str, IntegrationError> {
    if body.get("project").is_some() { text(body, "/project/web_url") } else { text(body, "/repository/homepage") }
}

pub fn branch_name(body: &Value) -> Result<String, IntegrationError> {
    Ok(text(body, "/ref")?.replace("refs/heads/", ""))
}

fn user_name(body: &Value) -> Result<&str, IntegrationError> {
    text(body, "/user_name")
}

fn issue_user_name(body: &Value) -> Result<&str, IntegrationError> {
    text(body, "/user/name")
}

/// The item's title when the message must carry it.
fn title(item: &Value, include_title: bool) -> Result<Option<&str>, IntegrationError> {
    if include_title { Ok(Some(text(item, "/title")?)) } else { Ok(None) }
}

/// The assignees' names: the `assignees` list, else the single `assignee`, else none.
fn assignees(body: &Value) -> Result<Vec<&str>, IntegrationError> {
    if truthy(body.get("assignees")) {
        return list(body, "/assignees")?.iter().map(|person| text(person, "/name")).collect();
    }
    if truthy(body.get("assignee")) {
        return Ok(vec![text(body, "/assignee/name")?]);
    }
    Ok(Vec::new())
}

fn attributes(body: &Value) -> Result<&Value, IntegrationError> {
    object(body, "/object_attributes")
}

fn object<'v>(body: &'v Value, pointer: &str) -> Result<&'v Value, IntegrationError> {
    body.pointer(pointer)
        .filter(|value| value.is_object())
        .ok_or_else(|| IntegrationError::Malformed(format!("expected an object at {pointer}")))
}

/// Python's truthiness, which Zulip's checks use: missing, null, false, 0, "", [] and {} are false.
pub fn truthy(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|n| n != 0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(items)) => !items.is_empty(),
        Some(Value::Object(fields)) => !fields.is_empty(),
    }
}

/// The text without its `<!-- … -->` comments (an unclosed one is kept).
pub fn without_html_comments(description: &str) -> String {
    let mut out = String::with_capacity(description.len());
    let mut rest = description;
    while let Some(start) = rest.find("<!--") {
        let Some(length) = rest[start + 4..].find("-->") else { break };
        out.push_str(&rest[..start]);
        rest = &rest[start + 4 + length + 3..];
    }
    out.push_str(rest);
    out
}
