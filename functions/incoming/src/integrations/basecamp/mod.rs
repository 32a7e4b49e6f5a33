//! `basecamp`: Basecamp 3's webhooks, as Zulip's `basecamp`.
//!
//! Each event on a project's documents, messages, questions and their answers, to-do lists,
//! to-dos and comments becomes one sentence in the topic named after the project:
//!
//! ```text
//! Tomasz changed title of the document [New doc edit](https://3.basecamp.com/…/documents/432522214).
//! Tomasz created the [answer](https://3.basecamp.com/…#__recording_432529636) of the question [Question](https://3.basecamp.com/…/questions/432527747).
//! ```
//!
//! The sentence ends with a full stop unless the title already ends with punctuation.

#[cfg(test)]
mod tests;

use crate::integration::{Handled, Integration, IntegrationError, Outcome, Payload, text};

pub struct Basecamp;

/// The recording kinds whose events are shown (the prefix of Basecamp's `kind`, like
/// `question_answer` in `question_answer_created`), longest first so that `question_answer_…`
/// is not read as a question's event. They are also the event names.
const EVENT_TYPES: &[&str] = &["document", "question_answer", "question", "message", "todolist", "todo", "comment"];

/// The `kind`s shown; any other is answered as an unsupported event.
const SUPPORTED_KINDS: &[&str] = &[
    "document_active",
    "document_created",
    "document_archived",
    "document_unarchived",
    "document_publicized",
    "document_title_changed",
    "document_content_changed",
    "document_trashed",
    "question_archived",
    "question_created",
    "question_trashed",
    "question_unarchived",
    "question_answer_archived",
    "question_answer_content_changed",
    "question_answer_created",
    "question_answer_trashed",
    "question_answer_unarchived",
    "message_archived",
    "message_content_changed",
    "message_created",
    "message_subject_changed",
    "message_trashed",
    "message_unarchived",
    "comment_created",
    "todolist_created",
    "todolist_description_changed",
    "todolist_name_changed",
    "todo_assignment_changed",
    "todo_completed",
    "todo_uncompleted",
    "todo_created",
    "todo_due_on_changed",
];

impl Integration for Basecamp {
    fn name(&self) -> &'static str {
        "basecamp"
    }

    fn display_name(&self) -> &'static str {
        "Basecamp"
    }

    fn categories(&self) -> &'static [&'static str] {
        &["project-management"]
    }

    fn event_types(&self) -> &'static [&'static str] {
        EVENT_TYPES
    }

    fn handle(&self, payload: &Payload<'_>) -> Result<Handled, IntegrationError> {
        let body = payload.body;
        let kind = text(body, "/kind")?;
        let unsupported = || IntegrationError::Unsupported { event: kind.to_owned(), integration: self.display_name() };
        if !SUPPORTED_KINDS.contains(&kind) {
            return Err(unsupported());
        }
        let (event, action) = EVENT_TYPES
            .iter()
            .find_map(|event| {
                kind.strip_prefix(event).and_then(|rest| rest.strip_prefix('_')).map(|rest| (*event, rest))
            })
            .ok_or_else(unsupported)?;

        let topic = text(body, "/recording/bucket/name")?.to_owned();
        let user = text(body, "/creator/name")?;
        let verb = verb(action);
        let url = text(body, "/recording/app_url")?;
        let (sentence, title) = match event {
            "question_answer" | "comment" => {
                let parent_title = text(body, "/recording/parent/title")?;
                let parent_url = text(body, "/recording/parent/app_url")?;
                let (what, parent) = if event == "comment" { ("comment", "task") } else { ("answer", "question") };
                (
                    format!("{user} {verb} the [{what}]({url}) of the {parent} [{parent_title}]({parent_url})"),
                    parent_title,
                )
            }
            _ => {
                let title = text(body, "/recording/title")?;
                let noun = match event {
                    "document" => "document",
                    "question" => "question",
                    "message" => "message",
                    "todolist" => "todo list",
                    _ => "todo task",
                };
                (format!("{user} {verb} the {noun} [{title}]({url})"), title)
            }
        };
        let content = if title.ends_with(|c: char| c.is_ascii_punctuation()) { sentence } else { sentence + "." };
        Ok(Handled { event: event.to_owned(), outcome: Outcome::Message { topic, content } })
    }

    fn sample(&self) -> (Option<&'static str>, &'static str) {
        (None, include_str!("fixtures/todo_completed.json"))
    }
}

/// What happened, as a verb: `created`, `activated` for `active`, `changed title of` for
/// `title_changed`.
fn verb(action: &str) -> String {
    if action == "active" {
        "activated".to_owned()
    } else if let Some(field) = action.strip_suffix("_changed") {
        format!("changed {field} of")
    } else {
        action.to_owned()
    }
}
