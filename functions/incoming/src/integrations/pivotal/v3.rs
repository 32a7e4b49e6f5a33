//! Tracker's v3 activities: XML documents whose `description` already says what happened
//! (`Leo Franchi accepted "My new Feature story"`); the message adds a link to the story.

use roxmltree::{Document, Node};

use super::WEBHOOK_NAME;
use crate::integration::IntegrationError;

/// The event name, topic and message of a v3 activity.
pub(super) fn render(document: &Document<'_>) -> Result<(String, String, String), IntegrationError> {
    let root = document.root_element();
    let event_type = required(root, "event_type")?;
    let description = required(root, "description")?;
    let project_id = child(root, "project_id")
        .ok_or_else(|| IntegrationError::Malformed("expected a <project_id>".into()))?
        .text()
        .unwrap_or("None");
    let story_id = story_text(root, "id");
    // The XML's own URL is an API address; this one opens the story in Tracker.
    let url = format!("https://www.pivotaltracker.com/s/projects/{project_id}/stories/{story_id}");
    let name = story_name(description).unwrap_or("Story changed");
    let more_info = format!(" [(view)]({url}).");
    let (topic, content) = match event_type {
        "story_update" => (name.to_owned(), format!("{description}{more_info}")),
        "note_create" => ("Comment added".to_owned(), format!("{description}{more_info}")),
        "story_create" => {
            let estimate = story_text(root, "estimate");
            let estimate = if estimate.is_empty() { String::new() } else { format!(" worth {estimate} story points") };
            let content = format!(
                "{description} ({} {}{estimate}):\n\n~~~ quote\n{}\n~~~\n\n{more_info}",
                story_text(root, "current_state"),
                story_text(root, "story_type"),
                story_text(root, "description"),
            );
            (name.to_owned(), content)
        }
        other => {
            return Err(IntegrationError::Unsupported { event: other.to_owned(), integration: WEBHOOK_NAME });
        }
    };
    Ok((format!("{event_type}_v3"), topic, content))
}

/// The first child element named `name`.
fn child<'a, 'input>(node: Node<'a, 'input>, name: &str) -> Option<Node<'a, 'input>> {
    node.children().find(|n| n.is_element() && n.tag_name().name() == name)
}

/// The text of the root's child `name`, which must be there and not empty.
fn required<'a>(root: Node<'a, '_>, name: &str) -> Result<&'a str, IntegrationError> {
    child(root, name)
        .and_then(|node| node.text())
        .ok_or_else(|| IntegrationError::Malformed(format!("expected text in <{name}>")))
}

/// The text of `<stories><story><name>`, or nothing when any of them is missing.
fn story_text<'a>(root: Node<'a, '_>, name: &str) -> &'a str {
    child(root, "stories")
        .and_then(|stories| child(stories, "story"))
        .and_then(|story| child(story, name))
        .and_then(|node| node.text())
        .unwrap_or_default()
}

/// The story's name: Tracker does not send it, but the description quotes it first
/// (`… accepted "My story"`). Nothing when the description starts with the quote or quotes
/// nothing.
pub(super) fn story_name(description: &str) -> Option<&str> {
    let open = description.find('"').filter(|&at| at > 0)?;
    let rest = &description[open + 1..];
    let close = rest.find('"').filter(|&at| at > 0)?;
    Some(&rest[..close])
}
