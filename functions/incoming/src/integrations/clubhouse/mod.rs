//! `clubhouse`: Shortcut's (formerly Clubhouse's) webhooks for stories, epics, tasks,
//! comments and GitHub links, as Zulip's `clubhouse`.
//!
//! A Shortcut request carries a list of `actions` (what changed) and `references` (the
//! entities they point at, such as workflow states, epics, labels and files). When it names a
//! `primary_id`, the action with that id is the event; without one it is a batch update of
//! several stories, and every action is an event of its own. Each event becomes one message in
//! the topic named after its story or epic:
//!
//! ```text
//! State of the story [Add cool feature!](https://app.clubhouse.io/zulip/story/11) was changed
//! from **Unscheduled** to **Ready for Review**.
//! ```
//!
//! A pull request or branch linked to several stories sends one message per story. Events with
//! nothing to show (a task marked incomplete, an attachment or label removed, a comment edited,
//! an empty request) are acknowledged without a message.

mod render;
#[cfg(test)]
mod tests;

use serde_json::Value;

use crate::integration::{Handled, Integration, IntegrationError, Outcome, Payload, list, text};
use crate::signature::{Encoding, Hash, Scheme};

pub struct Clubhouse;

/// The events a message can come from, as Zulip names them (`<entity>_<action>`, with the
/// change for updates), then the ones acknowledged without a message.
const EVENT_TYPES: &[&str] = &[
    "story_update_archived",
    "epic_update_archived",
    "story_create",
    "pull-request_create",
    "pull-request_comment",
    "branch_create",
    "story_delete",
    "epic_delete",
    "story-task_create",
    "story-task_delete",
    "story-task_update_complete",
    "story_update_epic",
    "story_update_estimate",
    "story_update_attachment",
    "story_update_label",
    "story_update_owner",
    "story_update_project",
    "story_update_type",
    "epic_create",
    "epic-comment_create",
    "story-comment_create",
    "epic_update_description",
    "story_update_description",
    "epic_update_state",
    "story_update_state",
    "epic_update_name",
    "story_update_name",
    "story_update_batch",
    // A comment edited: acknowledged, never shown.
    "story-comment_update",
    // Shortcut sometimes posts an empty request.
    "empty",
];

/// Acknowledged without a message.
const IGNORED_EVENTS: &[&str] = &["story-comment_update"];

/// The change an update is named after: the first of these keys found in its `changes`.
const CHANGES: &[(&str, &str)] = &[
    ("description", "description"),
    ("state", "state"),
    ("workflow_state_id", "state"),
    ("name", "name"),
    ("archived", "archived"),
    ("complete", "complete"),
    ("epic_id", "epic"),
    ("estimate", "estimate"),
    ("file_ids", "attachment"),
    ("label_ids", "label"),
    ("project_id", "project"),
    ("story_type", "type"),
    ("owner_ids", "owner"),
];

/// Events about a GitHub pull request or branch, shown once for every story whose `changes`
/// link it (under this key).
const LINKED_TO_STORIES: &[(&str, &str)] = &[
    ("pull-request_create", "pull_request_ids"),
    ("pull-request_comment", "pull_request_ids"),
    ("branch_create", "branch_ids"),
];

impl Integration for Clubhouse {
    fn name(&self) -> &'static str {
        "clubhouse"
    }

    fn display_name(&self) -> &'static str {
        "Clubhouse"
    }

    fn categories(&self) -> &'static [&'static str] {
        &["project-management"]
    }

    fn event_types(&self) -> &'static [&'static str] {
        EVENT_TYPES
    }

    /// Shortcut signs with the webhook's secret: `Payload-Signature`, the hex HMAC-SHA256 of
    /// the body.
    fn verify(&self, secret: &str, payload: &Payload<'_>) -> Result<(), IntegrationError> {
        Scheme { header: "Payload-Signature", prefix: "", hash: Hash::Sha256, encoding: Encoding::Hex }
            .check_body(secret, payload)
    }

    fn handle(&self, payload: &Payload<'_>) -> Result<Handled, IntegrationError> {
        let body = payload.body;
        if body.is_null() || body.as_object().is_some_and(serde_json::Map::is_empty) {
            return Ok(Handled { event: "empty".into(), outcome: Outcome::Ignore });
        }
        if !body.is_object() {
            return Err(IntegrationError::Malformed("expected an object".into()));
        }
        let events: Vec<&Value> = match body.get("primary_id") {
            Some(_) => vec![primary_action(body)?],
            None => list(body, "/actions")?.iter().collect(),
        };
        let mut first_event = None;
        let mut messages: Vec<(String, String, String)> = Vec::new();
        for action in events {
            let Some(event) = event_of(body, action)? else { continue };
            let subjects: Vec<&Value> = match LINKED_TO_STORIES.iter().find(|(name, _)| *name == event) {
                Some((_, key)) => stories_linking(body, key)?,
                None => vec![action],
            };
            for subject in subjects {
                if let Some((topic, content)) = render::message(self, body, &event, subject)? {
                    messages.push((event.clone(), topic, content));
                }
            }
            first_event.get_or_insert(event);
        }
        let event =
            messages.first().map(|(event, _, _)| event.clone()).or(first_event).unwrap_or_else(|| "empty".into());
        let messages: Vec<(String, String)> =
            messages.into_iter().map(|(_, topic, content)| (topic, content)).collect();
        let outcome = Outcome::from_messages(messages);
        Ok(Handled { event, outcome })
    }

    fn sample(&self) -> (Option<&'static str>, &'static str) {
        (None, include_str!("fixtures/story_create.json"))
    }
}

/// The action the request is about: the (last) one whose id is the `primary_id`.
fn primary_action(body: &Value) -> Result<&Value, IntegrationError> {
    let primary = body.get("primary_id");
    list(body, "/actions")?
        .iter()
        .rev()
        .find(|action| action.get("id") == primary)
        .ok_or_else(|| IntegrationError::Malformed("no action has the primary_id".into()))
}

/// The event an action is: `<entity_type>_<action>`, with the change for updates;
/// `story_update_batch` for a story updated in a batch; `None` for one never shown.
fn event_of(body: &Value, action: &Value) -> Result<Option<String>, IntegrationError> {
    let event = format!("{}_{}", text(action, "/entity_type")?, text(action, "/action")?);
    if event == "story_update" && body.get("primary_id").is_none() {
        return Ok(Some("story_update_batch".into()));
    }
    if IGNORED_EVENTS.contains(&event.as_str()) {
        return Ok(None);
    }
    let Some(changes) = action.get("changes") else { return Ok(Some(event)) };
    let changes =
        changes.as_object().ok_or_else(|| IntegrationError::Malformed("expected an object at /changes".into()))?;
    Ok(Some(match CHANGES.iter().find(|(key, _)| changes.contains_key(*key)) {
        Some((_, change)) => format!("{event}_{change}"),
        None => event,
    }))
}

/// The story actions whose changes name `key` (the stories a pull request or branch was linked
/// to), in order.
fn stories_linking<'v>(body: &'v Value, key: &str) -> Result<Vec<&'v Value>, IntegrationError> {
    let mut stories = Vec::new();
    for action in list(body, "/actions")? {
        if text(action, "/entity_type")? == "story" && action.get("changes").and_then(|c| c.get(key)).is_some() {
            stories.push(action);
        }
    }
    Ok(stories)
}
