//! `opsgenie`: Opsgenie's outgoing webhook, as Zulip's `opsgenie`.
//!
//! Every alert action becomes one message in the topic named after the Opsgenie integration
//! that sent it, linking to the alert and listing what the action carries:
//!
//! ```text
//! [Opsgenie alert for Integration1](https://app.opsgenie.com/alert/V2#/show/052652ac-…):
//! * **Type**: AddNote
//! * **Note**: note to test alert
//! * **Message**: test alert
//! * **Tags**: `tag1`, `tag2`
//! ```

#[cfg(test)]
mod tests;

use crate::integration::{Handled, Integration, IntegrationError, Outcome, Payload, list, text};

pub struct Opsgenie;

/// Opsgenie's alert actions (custom actions arrive under their own names).
const EVENT_TYPES: &[&str] = &[
    "AddTeam",
    "UnAcknowledge",
    "AddNote",
    "TestAction",
    "Close",
    "Escalate",
    "AddRecipient",
    "RemoveTags",
    "Acknowledge",
    "Delete",
    "AddTags",
    "TakeOwnership",
    "Create",
    "AssignOwnership",
];

/// The alert's fields shown, in this order, with their labels. `tags` is the alert's tag list;
/// `escalationName` is read from the top of the payload first.
const FIELDS: &[(&str, &str)] = &[
    ("note", "Note"),
    ("recipient", "Recipient"),
    ("addedTags", "Tags added"),
    ("team", "Team added"),
    ("owner", "Assigned owner"),
    ("removedTags", "Tags removed"),
    ("message", "Message"),
    ("tags", "Tags"),
    ("escalationName", "Escalation"),
];

impl Integration for Opsgenie {
    fn name(&self) -> &'static str {
        "opsgenie"
    }

    fn display_name(&self) -> &'static str {
        "Opsgenie"
    }

    fn categories(&self) -> &'static [&'static str] {
        &["meta-integration", "monitoring"]
    }

    fn event_types(&self) -> &'static [&'static str] {
        EVENT_TYPES
    }

    fn handle(&self, payload: &Payload<'_>) -> Result<Handled, IntegrationError> {
        let body = payload.body;
        let action = text(body, "/action")?;
        let alert_id = text(body, "/alert/alertId")?;
        let integration_name = text(body, "/integrationName")?;
        let alert = &body["alert"];
        let tags = list(body, "/alert/tags")?
            .iter()
            .map(|tag| tag.as_str().map(|tag| format!("`{tag}`")))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| IntegrationError::Malformed("expected text in /alert/tags".into()))?
            .join(", ");

        let mut content = format!(
            "[Opsgenie alert for {integration_name}](https://app.opsgenie.com/alert/V2#/show/{alert_id}):\n\
             * **Type**: {action}"
        );
        for &(field, label) in FIELDS {
            let value = if field == "tags" {
                if tags.is_empty() {
                    continue;
                }
                tags.as_str()
            } else if field == "escalationName" && body.get(field).is_some() {
                text(body, &format!("/{field}"))?
            } else if alert.get(field).is_some() {
                text(body, &format!("/alert/{field}"))?
            } else {
                continue;
            };
            content.push_str(&format!("\n* **{label}**: {value}"));
        }

        // Zulip strips the message's end.
        content.truncate(content.trim_end().len());
        Ok(Handled {
            event: action.to_owned(),
            outcome: Outcome::Message { topic: integration_name.to_owned(), content },
        })
    }

    fn sample(&self) -> (Option<&'static str>, &'static str) {
        (
            None,
            r#"{"action": "AddNote", "alert": {"alertId": "052652ac-5d1c-464a-812a-7dd18bbfba8c", "message": "test alert", "note": "note to test alert", "tags": ["tag1", "tag2"], "tinyId": "23", "username": "fili@ifountain.com"}, "integrationId": "37c8f316-17c6-49d7-899b-9c7e540c048d", "integrationName": "Integration1"}"#,
        )
    }
}
