//! Tracker's v5 activities: JSON naming the activity's `kind`, the project, the story
//! (`primary_resources[0]`) and the `changes`, each with its `original_values` and
//! `new_values`.

use serde_json::{Map, Value};

use super::WEBHOOK_NAME;
use crate::integration::{IntegrationError, list};

/// Kinds Tracker sends that show nothing.
const SILENT_KINDS: &[&str] = &[
    "task_create_activity",
    "comment_delete_activity",
    "task_delete_activity",
    "task_update_activity",
    "story_move_from_project_activity",
    "story_delete_activity",
    "story_move_into_project_activity",
    "epic_update_activity",
    "label_create_activity",
];

/// The event name, topic and message (empty for the silent kinds) of a v5 activity.
pub(super) fn render(body: &Value) -> Result<(String, String, String), IntegrationError> {
    let kind = scalar(field(body, "kind")?);
    let project = field(body, "project")?;
    let project_name = scalar(field(project, "name")?);
    let project_id = scalar(field(project, "id")?);
    let story = list(body, "/primary_resources")?
        .first()
        .ok_or_else(|| IntegrationError::Malformed("expected a story in primary_resources".into()))?;
    let story_url = scalar(field(story, "url")?);
    let story_type = story.get("story_type").map_or_else(|| "None".to_owned(), scalar);
    let story_id = scalar(field(story, "id")?);
    let story_name = scalar(field(story, "name")?);
    let performed_by = match body.get("performed_by") {
        None | Some(Value::Null) => String::new(),
        Some(Value::Object(person)) => person.get("name").map(scalar).unwrap_or_default(),
        Some(_) => return Err(IntegrationError::Malformed("expected an object at performed_by".into())),
    };
    let story_info = format!(
        "[{project_name}](https://www.pivotaltracker.com/s/projects/{project_id}): [{story_name}]({story_url})"
    );
    let changes = list(body, "/changes")?;
    let topic = format!("#{story_id}: {story_name}");

    let mut content = String::new();
    match kind.as_str() {
        "story_update_activity" => {
            content.push_str(&format!("{performed_by} updated {story_info}:\n"));
            for change in changes {
                let old = values(change, "original_values")?;
                let new = required_values(change)?;
                if let Some((from, to)) = both(&old, new, "current_state") {
                    content.push_str(&format!("* state changed from **{}** to **{}**\n", scalar(from), scalar(to)));
                }
                if let Some((from, to)) = both(&old, new, "estimate") {
                    let estimate =
                        if from.is_null() { "is now".to_owned() } else { format!("changed from {} to", scalar(from)) };
                    let to = if to.is_null() { "0".to_owned() } else { scalar(to) };
                    content.push_str(&format!("* estimate {estimate} **{to} points**\n"));
                }
                if let Some((from, to)) = both(&old, new, "story_type") {
                    content.push_str(&format!("* type changed from **{}** to **{}**\n", scalar(from), scalar(to)));
                }
                if let Some(comment) = comment(change)? {
                    content.push_str(&format!("* Comment added:\n~~~quote\n{comment}\n~~~\n"));
                }
            }
        }
        "comment_create_activity" => {
            for change in changes {
                if let Some(comment) = comment(change)? {
                    content.push_str(&format!(
                        "{performed_by} added a comment to {story_info}:\n~~~quote\n{comment}\n~~~"
                    ));
                }
            }
        }
        "story_create_activity" => {
            content.push_str(&format!("{performed_by} created {story_type}: {story_info}\n"));
            for change in changes {
                let new = values(change, "new_values")?;
                if let Some(state) = new.get("current_state") {
                    content.push_str(&format!("* State is **{}**\n", scalar(state)));
                }
                if let Some(description) = new.get("description") {
                    content.push_str(&format!("* Description is\n\n> {}", scalar(description)));
                }
            }
        }
        "story_move_activity" => {
            content.push_str(&format!("{performed_by} moved {story_info}"));
            for change in changes {
                let old = values(change, "original_values")?;
                let new = required_values(change)?;
                if let Some((from, to)) = both(&old, new, "current_state") {
                    content.push_str(&format!(" from **{}** to **{}**.", scalar(from), scalar(to)));
                }
            }
        }
        silent if SILENT_KINDS.contains(&silent) => {}
        other => return Err(IntegrationError::Unsupported { event: other.to_owned(), integration: WEBHOOK_NAME }),
    }
    Ok((format!("{kind}_v5"), topic, content))
}

/// The value at `key` (`null` included), or a Malformed error when it is missing.
fn field<'v>(value: &'v Value, key: &str) -> Result<&'v Value, IntegrationError> {
    value.get(key).ok_or_else(|| IntegrationError::Malformed(format!("expected a value at {key}")))
}

/// A value as text: strings as they are, `null` as `None`, booleans as `True`/`False`, numbers
/// and anything else in JSON.
fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "None".to_owned(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        other => other.to_string(),
    }
}

/// A change's `original_values` or `new_values`: empty when missing or null.
fn values(change: &Value, key: &str) -> Result<Map<String, Value>, IntegrationError> {
    match change.get(key) {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(values)) => Ok(values.clone()),
        Some(_) => Err(IntegrationError::Malformed(format!("expected an object at {key}"))),
    }
}

/// A change's `new_values`, which updates and moves must have.
fn required_values(change: &Value) -> Result<&Map<String, Value>, IntegrationError> {
    change
        .get("new_values")
        .and_then(Value::as_object)
        .ok_or_else(|| IntegrationError::Malformed("expected an object at new_values".into()))
}

/// The old and new values of `key`, when both sides have it.
fn both<'v>(old: &'v Map<String, Value>, new: &'v Map<String, Value>, key: &str) -> Option<(&'v Value, &'v Value)> {
    Some((old.get(key)?, new.get(key)?))
}

/// The text of a change that adds a comment.
fn comment(change: &Value) -> Result<Option<String>, IntegrationError> {
    if change.get("kind").and_then(Value::as_str) != Some("comment") {
        return Ok(None);
    }
    Ok(values(change, "new_values")?.get("text").filter(|text| !text.is_null()).map(scalar))
}
