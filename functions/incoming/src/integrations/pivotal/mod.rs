//! `pivotal`: Pivotal Tracker's activity webhooks, as Zulip's `pivotal`. Tracker sends either
//! of two formats, depending on the webhook's API version:
//!
//! - v3, XML: an `<activity>` with an `event_type` and a one-line `description`
//!   ([`v3`]); stories go to a topic named after the story, comments to `Comment added`.
//! - v5, JSON: an activity `kind` with the story and its changes ([`v5`]); every message goes
//!   to `#{story id}: {story name}`.
//!
//! ```text
//! Leo Franchi updated [Hard Code](https://www.pivotaltracker.com/s/projects/807213): [Story of the Year](http://www.pivotaltracker.com/story/show/63486316):
//! * state changed from **unstarted** to **accepted**
//! ```
//!
//! A v5 activity of a kind Tracker sends but that shows nothing (tasks, epics, labels, …) is
//! refused as a payload Hookline cannot show. Tracker signs nothing, so a bot with a webhook
//! secret refuses its requests.

#[cfg(test)]
mod tests;
mod v3;
mod v5;

use crate::integration::{Handled, Integration, IntegrationError, Outcome, Payload};

pub struct Pivotal;

/// The name Tracker's unsupported events are answered with.
const WEBHOOK_NAME: &str = "Pivotal";

impl Integration for Pivotal {
    fn name(&self) -> &'static str {
        "pivotal"
    }

    fn display_name(&self) -> &'static str {
        "Pivotal Tracker"
    }

    fn categories(&self) -> &'static [&'static str] {
        &["project-management"]
    }

    fn event_types(&self) -> &'static [&'static str] {
        &[
            "story_update_v3",
            "note_create_v3",
            "story_create_v3",
            "story_move_activity_v5",
            "story_create_activity_v5",
            "story_update_activity_v5",
            "comment_create_activity_v5",
        ]
    }

    fn handle(&self, payload: &Payload<'_>) -> Result<Handled, IntegrationError> {
        // An XML document is a v3 activity; anything else is read as v5's JSON.
        let xml = std::str::from_utf8(payload.raw).ok().and_then(|text| roxmltree::Document::parse(text).ok());
        let (event, topic, content) = match xml {
            Some(document) => v3::render(&document)?,
            None => v5::render(payload.body)?,
        };
        let content = content.trim_end().trim_start_matches('\n');
        if content.is_empty() {
            return Err(IntegrationError::BadRequest("Unable to handle Pivotal payload".into()));
        }
        Ok(Handled { event, outcome: Outcome::Message { topic, content: content.to_owned() } })
    }

    /// v3 activities are XML.
    fn reads_xml(&self) -> bool {
        true
    }

    fn sample(&self) -> (Option<&'static str>, &'static str) {
        (None, include_str!("fixtures/v5_type_changed.json"))
    }
}
