//! The messages: one per event, named after the story or epic it is about.

use serde_json::Value;

use super::Clubhouse;
use crate::integration::{Integration, IntegrationError, list, number, optional_text, text};

type Result<T> = std::result::Result<T, IntegrationError>;

/// The topic and message for `event` about `action`, `None` when there is nothing to show.
pub(super) fn message(
    integration: &Clubhouse,
    body: &Value,
    event: &str,
    action: &Value,
) -> Result<Option<(String, String)>> {
    let unsupported =
        || IntegrationError::Unsupported { event: event.to_owned(), integration: integration.display_name() };
    let entity = match text(action, "/entity_type")? {
        "story" | "pull-request" | "branch" | "story-comment" | "story-task" => "story",
        "epic" | "epic-comment" => "epic",
        _ => return Err(unsupported()),
    };
    if !super::EVENT_TYPES.contains(&event) || super::IGNORED_EVENTS.contains(&event) || event == "empty" {
        return Err(unsupported());
    }
    let Some(topic) = entity_name(body, entity, action)?.filter(|topic| !topic.is_empty()) else { return Ok(None) };
    Ok(content(body, event, action)?.filter(|content| !content.is_empty()).map(|content| (topic.to_owned(), content)))
}

/// The message for `event` about `action`; `None` when the event has nothing to show.
fn content(body: &Value, event: &str, action: &Value) -> Result<Option<String>> {
    let message = match event {
        "story_create" => story_created(body, action)?,
        "epic_create" => format!("New epic **{}**({}) was created.", text(action, "/name")?, text(action, "/state")?),
        "story_delete" | "epic_delete" => {
            format!("The {} **{}** was deleted.", text(action, "/entity_type")?, text(action, "/name")?)
        }
        "story_update_archived" | "epic_update_archived" => {
            let archived = flag(action, "/changes/archived/new")?;
            format!(
                "The {} {} was {}.",
                entity_of(event),
                link(entity_of(event), action)?,
                if archived { "archived" } else { "unarchived" }
            )
        }
        "story-comment_create" | "epic-comment_create" => comment_added(body, entity_of(event))?,
        "story_update_description" | "epic_update_description" => description_changed(event, action)?,
        "epic_update_state" => format!(
            "State of the epic **{}** was changed from **{}** to **{}**.",
            text(action, "/name")?,
            text(action, "/changes/state/old")?,
            text(action, "/changes/state/new")?
        ),
        "story_update_state" => {
            let old = reference_name(body, number(action, "/changes/workflow_state_id/old")?)?;
            let new = reference_name(body, number(action, "/changes/workflow_state_id/new")?)?;
            format!("State of the story {} was changed from **{old}** to **{new}**.", story_link(action)?)
        }
        "story_update_name" | "epic_update_name" => format!(
            "The name of the {} {} was changed from:\n{}\nto\n{}",
            entity_of(event),
            link(entity_of(event), action)?,
            quote(text(action, "/changes/name/old")?),
            quote(text(action, "/changes/name/new")?)
        ),
        "story-task_create" | "story-task_delete" => {
            let operation = if event == "story-task_create" { "added to" } else { "removed from" };
            let story = list(body, "/actions")?
                .iter()
                .rfind(|a| a.get("entity_type").and_then(Value::as_str) == Some("story"))
                .ok_or_else(|| IntegrationError::Malformed("no story action for the task".into()))?;
            format!("Task **{}** was {operation} the story {}.", text(action, "/description")?, story_link(story)?)
        }
        "story-task_update_complete" => {
            if !flag(action, "/changes/complete/new")? {
                return Ok(None);
            }
            let story = reference(body, number(action, "/story_id")?)?
                .ok_or_else(|| IntegrationError::Malformed("no reference for the task's story".into()))?;
            format!("Task **{}** ({}) was completed. :tada:", text(action, "/description")?, story_link(story)?)
        }
        "story_update_epic" => return epic_changed(body, action),
        "story_update_estimate" => {
            let estimate = match action.pointer("/changes/estimate/new") {
                None | Some(Value::Null) => "*Unestimated*".to_owned(),
                Some(_) => format!("{} points", number(action, "/changes/estimate/new")?),
            };
            format!("The estimate for the story {} was set to {estimate}.", story_link(action)?)
        }
        "story_update_attachment" => {
            let Some(&file) = ids(action, "/changes/file_ids/adds")?.first() else { return Ok(None) };
            let file = reference(body, file)?
                .ok_or_else(|| IntegrationError::Malformed("no reference for the attached file".into()))?;
            format!(
                "A {} attachment `{}` was added to the story {}.",
                text(file, "/entity_type")?,
                text(file, "/name")?,
                story_link(action)?
            )
        }
        "story_update_label" => {
            if action.pointer("/changes/label_ids/adds").is_none() {
                return Ok(None);
            }
            let added = ids(action, "/changes/label_ids/adds")?;
            let (noun, verb) = if added.len() == 1 { ("label", "was") } else { ("labels", "were") };
            format!("The {noun} {} {verb} added to the story {}.", labels(body, &added)?, story_link(action)?)
        }
        "story_update_project" => {
            let old = reference_name(body, number(action, "/changes/project_id/old")?)?;
            let new = reference_name(body, number(action, "/changes/project_id/new")?)?;
            format!("The story {} was moved from the **{old}** project to **{new}**.", story_link(action)?)
        }
        "story_update_type" => format!(
            "The type of the story {} was changed from **{}** to **{}**.",
            story_link(action)?,
            text(action, "/changes/story_type/old")?,
            text(action, "/changes/story_type/new")?
        ),
        "story_update_owner" => format!("New owner added to the story {}.", story_link(action)?),
        "pull-request_create" | "pull-request_comment" | "branch_create" => github_linked(body, event, action)?,
        "story_update_batch" => return batch(body, action),
        _ => return Ok(None),
    };
    Ok(Some(message))
}

/// `story` or `epic`, from an event's name.
fn entity_of(event: &str) -> &'static str {
    if event.starts_with("epic") { "epic" } else { "story" }
}

/// The name the topic takes: the action's own (a branch's is not a story's), else that of the
/// last action about `entity`, else that of the last reference to one.
fn entity_name<'v>(body: &'v Value, entity: &str, action: &'v Value) -> Result<Option<&'v str>> {
    let mut name = match action.get("name") {
        Some(_) => Some(text(action, "/name")?),
        None => None,
    };
    if name.is_none() || text(action, "/entity_type")? == "branch" {
        for other in list(body, "/actions")? {
            if text(other, "/entity_type")? == entity {
                name = Some(text(other, "/name")?);
            }
        }
    }
    if name.is_none() {
        for reference in list(body, "/references")? {
            if text(reference, "/entity_type")? == entity {
                name = Some(text(reference, "/name")?);
            }
        }
    }
    Ok(name)
}

/// A story as a link (`[name](app_url)`).
fn story_link(story: &Value) -> Result<String> {
    Ok(format!("[{}]({})", text(story, "/name")?, text(story, "/app_url")?))
}

/// A story as a link, an epic (which has no page link in the payload) in bold.
fn link(entity: &str, action: &Value) -> Result<String> {
    if entity == "story" { story_link(action) } else { Ok(format!("**{}**", text(action, "/name")?)) }
}

fn quote(text: &str) -> String {
    format!("``` quote\n{text}\n```")
}

/// The boolean at `pointer`, or a Malformed error.
fn flag(value: &Value, pointer: &str) -> Result<bool> {
    value
        .pointer(pointer)
        .and_then(Value::as_bool)
        .ok_or_else(|| IntegrationError::Malformed(format!("expected true or false at {pointer}")))
}

/// The number at `pointer`, `None` when missing or null.
fn optional_number(value: &Value, pointer: &str) -> Result<Option<i64>> {
    match value.pointer(pointer) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => number(value, pointer).map(Some),
    }
}

/// The list of ids at `pointer`.
fn ids(value: &Value, pointer: &str) -> Result<Vec<i64>> {
    list(value, pointer)?
        .iter()
        .map(Value::as_i64)
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| IntegrationError::Malformed(format!("expected numbers at {pointer}")))
}

/// The (last) reference with this id. Ids are numbers or text; text never names a numeric id.
fn reference(body: &Value, id: i64) -> Result<Option<&Value>> {
    let mut found = None;
    for reference in list(body, "/references")? {
        match reference.get("id") {
            Some(Value::Number(n)) if n.as_i64() == Some(id) => found = Some(reference),
            Some(Value::Number(_) | Value::String(_)) => {}
            _ => return Err(IntegrationError::Malformed("expected a number or text at /references/id".into())),
        }
    }
    Ok(found)
}

/// The name of the reference with this id, which must be there.
fn reference_name(body: &Value, id: i64) -> Result<&str> {
    match reference(body, id)? {
        Some(reference) => text(reference, "/name"),
        None => Err(IntegrationError::Malformed(format!("no reference with the id {id}"))),
    }
}

/// The name of the reference with this id, `None` when there is no id or no such reference
/// (shown as `None`, as Zulip shows it, in batch updates).
fn name_or_none(body: &Value, id: Option<i64>) -> Result<&str> {
    match id {
        Some(id) => match reference(body, id)? {
            Some(reference) => text(reference, "/name"),
            None => Ok("None"),
        },
        None => Ok("None"),
    }
}

fn story_created(body: &Value, action: &Value) -> Result<String> {
    let link = story_link(action)?;
    if action.get("epic_id").is_none() {
        return Ok(format!("New story {link} of type **{}** was created.", text(action, "/story_type")?));
    }
    let epic = reference_name(body, number(action, "/epic_id")?)?;
    Ok(format!("New story {link} was created and added to the epic **{epic}**."))
}

/// A comment: its text is the primary action's, the commented story or epic another action.
fn comment_added(body: &Value, entity: &str) -> Result<String> {
    let primary = body.get("primary_id");
    let (mut comment, mut subject) = (None, None);
    for action in list(body, "/actions")? {
        if action.get("id") == primary {
            comment = Some(text(action, "/text")?);
        } else if action.get("entity_type").and_then(Value::as_str) == Some(entity) {
            subject = Some(link(entity, action)?);
        }
    }
    let comment = comment.ok_or_else(|| IntegrationError::Malformed("no comment action".into()))?;
    let subject = subject.ok_or_else(|| IntegrationError::Malformed(format!("no {entity} for the comment")))?;
    Ok(format!("New comment added to the {entity} {subject}:\n{}", quote(comment)))
}

fn description_changed(event: &str, action: &Value) -> Result<String> {
    let entity = entity_of(event);
    let subject = link(entity, action)?;
    let change = action.pointer("/changes/description").unwrap_or(&Value::Null);
    let old = optional_text(change, "old")?.unwrap_or("");
    let new = optional_text(change, "new")?.unwrap_or("");
    Ok(match (old.is_empty(), new.is_empty()) {
        (false, false) => {
            format!("Description for the {entity} {subject} was changed from:\n{}\nto\n{}", quote(old), quote(new))
        }
        (true, false) => format!("New description added to the {entity} {subject}:\n{}", quote(new)),
        (_, true) => format!("Description for the {entity} {subject} was removed."),
    })
}

/// A story moved between epics, added to one or removed from one.
fn epic_changed(body: &Value, action: &Value) -> Result<Option<String>> {
    let story = story_link(action)?;
    let old = optional_number(action, "/changes/epic_id/old")?;
    let new = optional_number(action, "/changes/epic_id/new")?;
    Ok(Some(match (old, new) {
        (Some(old), Some(new)) => format!(
            "The story {story} was moved from **{}** to **{}**.",
            reference_name(body, old)?,
            reference_name(body, new)?
        ),
        (_, Some(new)) => format!("The story {story} was added to the epic **{}**.", reference_name(body, new)?),
        (Some(old), None) => {
            format!("The story {story} was removed from the epic **{}**.", reference_name(body, old)?)
        }
        (None, None) => return Ok(None),
    }))
}

/// Labels in bold, named by the action that created them or else by their reference.
fn labels(body: &Value, added: &[i64]) -> Result<String> {
    let actions = list(body, "/actions")?;
    let mut names = Vec::with_capacity(added.len());
    for &id in added {
        let mut name = "";
        for action in actions {
            if number(action, "/id")? == id {
                name = optional_text(action, "name")?.unwrap_or("");
            }
        }
        if name.is_empty() {
            name = match reference(body, id)? {
                Some(reference) => text(reference, "/name")?,
                None => "",
            };
        }
        names.push(format!("**{name}**"));
    }
    Ok(names.join(", "))
}

/// A pull request or branch linked to `story`, with the story's workflow change when linking
/// moved it.
fn github_linked(body: &Value, event: &str, story: &Value) -> Result<String> {
    let linked = super::primary_action(body)?;
    let name = if event == "branch_create" {
        text(linked, "/name")?.to_owned()
    } else {
        format!("#{}", number(linked, "/number")?)
    };
    let url = text(linked, "/url")?;
    let subject = story_link(story)?;
    let moved = match story.pointer("/changes/workflow_state_id") {
        Some(_) => format!(
            " ({} -> {})",
            reference_name(body, number(story, "/changes/workflow_state_id/old")?)?,
            reference_name(body, number(story, "/changes/workflow_state_id/new")?)?
        ),
        None => String::new(),
    };
    Ok(match event {
        "pull-request_create" => format!("New GitHub PR [{name}]({url}) opened for story {subject}{moved}."),
        "pull-request_comment" => {
            format!("Existing GitHub PR [{name}]({url}) associated with story {subject}{moved}.")
        }
        _ => format!("New GitHub branch [{name}]({url}) associated with story {subject}{moved}."),
    })
}

/// One story of a batch update. Several changes are listed in one sentence; a single one is
/// shown as that change's own message (the last kind of change found names it), and changes
/// that cannot be shown (owners, deadlines, …) send nothing.
fn batch(body: &Value, action: &Value) -> Result<Option<String>> {
    let story = story_link(action)?;
    let changes = action.get("changes").unwrap_or(&Value::Null);
    let mut parts: Vec<String> = Vec::new();
    let mut last = None;
    let mut moves = Vec::new();
    for (key, label, event) in
        [("epic_id", "Epic", "story_update_epic"), ("project_id", "Project", "story_update_project")]
    {
        if changes.get(key).is_some() {
            last = Some(event);
            let old = name_or_none(body, optional_number(changes, &format!("/{key}/old"))?)?;
            let new = name_or_none(body, optional_number(changes, &format!("/{key}/new"))?)?;
            moves.push(format!("{label} **{old}** to **{new}**"));
        }
    }
    if !moves.is_empty() {
        parts.push(format!("was moved from {}", moves.join(", ")));
    }
    let joiner = |parts: &[String]| if parts.is_empty() { "was" } else { "and" };
    if let Some(change) = changes.get("story_type") {
        last = Some("story_update_type");
        let old = optional_text(change, "old")?.unwrap_or("None");
        let new = optional_text(change, "new")?.unwrap_or("None");
        parts.push(format!("{} changed from type **{old}** to **{new}**", joiner(&parts)));
    }
    if changes.pointer("/label_ids/adds").is_some() {
        last = Some("story_update_label");
        let added = ids(changes, "/label_ids/adds")?;
        let plural = if added.len() > 1 { "s" } else { "" };
        parts.push(format!("{} added with the new label{plural} {}", joiner(&parts), labels(body, &added)?));
    }
    let mut moved = String::new();
    if changes.get("workflow_state_id").is_some() {
        last = Some("story_update_state");
        moved = format!(
            " ({} -> {})",
            name_or_none(body, optional_number(changes, "/workflow_state_id/old")?)?,
            name_or_none(body, optional_number(changes, "/workflow_state_id/new")?)?
        );
    }
    if parts.len() <= 1 {
        return match last {
            Some(event) => content(body, event, action),
            None => Ok(None),
        };
    }
    Ok(Some(format!("The story {story} {}{moved}.", parts.join(", "))))
}
