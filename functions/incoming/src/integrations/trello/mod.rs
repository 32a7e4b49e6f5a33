//! `trello`: Trello's board webhooks, as Zulip's `trello`.
//!
//! Card actions (created, moved, renamed, described, due dates, labels, members, attachments,
//! checklists, comments) and board actions (members, new lists, renames) each become one
//! message in the topic named after the board, starting with the member who acted:
//!
//! ```text
//! TomaszKolek moved [This is a card.](https://trello.com/c/r33ylX2Z) from Basics to Intermediate.
//! ```
//!
//! Trello checks a new webhook's callback URL with a bodiless request; that request, the card
//! and list actions that say nothing worth a message (a card's position in its list, its cover,
//! copies, check items edited) and board background changes answer success and send nothing.

mod board;
mod card;
#[cfg(test)]
mod tests;

use serde_json::Value;

use crate::integration::{Handled, Integration, IntegrationError, Outcome, Payload, text};

pub struct Trello;

/// The event name of Trello's bodiless check of a new webhook's URL.
const URL_CHECK: &str = "webhook_url_check";

/// Every event name: the card actions shown (10), the card actions acknowledged without a
/// message (4), the board actions shown (4), and the URL check. `card::SHOWN` and
/// `board::SHOWN` are slices of it.
const EVENT_TYPES: &[&str] = &[
    "updateCard",
    "createCard",
    "addLabelToCard",
    "removeLabelFromCard",
    "addMemberToCard",
    "removeMemberFromCard",
    "addAttachmentToCard",
    "addChecklistToCard",
    "commentCard",
    "updateCheckItemStateOnCard",
    "copyCard",
    "createCheckItem",
    "updateCheckItem",
    "updateList",
    "removeMemberFromBoard",
    "addMemberToBoard",
    "createList",
    "updateBoard",
    URL_CHECK,
];

impl Integration for Trello {
    fn name(&self) -> &'static str {
        "trello"
    }

    fn display_name(&self) -> &'static str {
        "Trello"
    }

    fn categories(&self) -> &'static [&'static str] {
        &["project-management"]
    }

    fn event_types(&self) -> &'static [&'static str] {
        EVENT_TYPES
    }

    /// Trello checks a new webhook's callback URL with `HEAD`.
    fn checks_url_with_head(&self) -> bool {
        true
    }

    fn handle(&self, payload: &Payload<'_>) -> Result<Handled, IntegrationError> {
        if payload.raw.iter().all(u8::is_ascii_whitespace) {
            return Ok(Handled { event: URL_CHECK.to_owned(), outcome: Outcome::Ignore });
        }
        let body = payload.body;
        let action = text(body, "/action/type")?;
        let message = if card::SHOWN.contains(&action) {
            card::message(body, action)?
        } else if card::IGNORED.contains(&action) {
            None
        } else if board::SHOWN.contains(&action) {
            board::message(body, action)?
        } else {
            return Err(unsupported(action));
        };
        let outcome = match message {
            Some(content) => Outcome::Message { topic: text(body, "/action/data/board/name")?.to_owned(), content },
            None => Outcome::Ignore,
        };
        Ok(Handled { event: action.to_owned(), outcome })
    }

    fn sample(&self) -> (Option<&'static str>, &'static str) {
        (None, include_str!("fixtures/changing_cards_list.json"))
    }
}

fn unsupported(action: &str) -> IntegrationError {
    IntegrationError::Unsupported { event: action.to_owned(), integration: "Trello" }
}

/// The action's `data`, where Trello puts the board, card and what changed.
const DATA: &str = "/action/data";

/// The text at `field` (a pointer below the action's data).
fn data_text<'v>(body: &'v Value, field: &str) -> Result<&'v str, IntegrationError> {
    text(body, &format!("{DATA}{field}"))
}

/// The value at `field` below the action's data, `None` when missing or null.
fn data_value<'v>(body: &'v Value, field: &str) -> Option<&'v Value> {
    body.pointer(&format!("{DATA}{field}")).filter(|value| !value.is_null())
}

/// The text at `field` below the action's data: `None` when missing or null, a Malformed error
/// for another type.
fn optional_data_text<'v>(body: &'v Value, field: &str) -> Result<Option<&'v str>, IntegrationError> {
    data_value(body, field).map(|_| data_text(body, field)).transpose()
}

/// The action's `data.old`, what a changed field held before, which must be an object.
fn old(body: &Value) -> Result<&serde_json::Map<String, Value>, IntegrationError> {
    body.pointer(&format!("{DATA}/old"))
        .and_then(Value::as_object)
        .ok_or_else(|| IntegrationError::Malformed(format!("expected an object at {DATA}/old")))
}
