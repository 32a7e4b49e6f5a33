//! `wekan`: Wekan's outgoing webhooks, as Zulip's `wekan`. Wekan writes each activity out as
//! a sentence followed, on the last line, by the link to the card or board; every message goes
//! to the topic `Wekan Notification` as that sentence and a link:
//!
//! ```text
//! JohnFish commented on card "Markdown and emoji's": "This feature is important" at list "Design" at swimlane "Default" at board "Bucket List".
//!
//! [See in Wekan](http://127.0.0.1/b/Jinj4Xj7qnHLRmrTY/bucket-list/pMtu7kPZvMuhhC4hL)
//! ```
//!
//! Wekan labels its JSON body as a form; the framework reads it as JSON all the same. Wekan
//! signs nothing, so a bot with a webhook secret refuses its requests.

#[cfg(test)]
mod tests;

use crate::integration::{Handled, Integration, IntegrationError, Outcome, Payload, text};

pub struct Wekan;

/// The one topic Wekan's messages go to.
const TOPIC: &str = "Wekan Notification";

impl Integration for Wekan {
    fn name(&self) -> &'static str {
        "wekan"
    }

    fn display_name(&self) -> &'static str {
        "Wekan"
    }

    fn categories(&self) -> &'static [&'static str] {
        &["productivity"]
    }

    fn event_types(&self) -> &'static [&'static str] {
        &["notification"]
    }

    fn handle(&self, payload: &Payload<'_>) -> Result<Handled, IntegrationError> {
        let activity = text(payload.body, "/text")?;
        Ok(Handled {
            event: "notification".into(),
            outcome: Outcome::Message { topic: TOPIC.into(), content: message(activity) },
        })
    }

    fn sample(&self) -> (Option<&'static str>, &'static str) {
        (None, include_str!("fixtures/add_comment.json"))
    }
}

/// The activity's sentence, with the link (its last line) taken out and the line breaks
/// dropped, then a link to the link.
fn message(activity: &str) -> String {
    let url = activity.rsplit('\n').next().unwrap_or_default();
    let sentence = if url.is_empty() { activity.to_owned() } else { activity.replace(url, "") };
    let sentence = sentence.replace('\n', "");
    format!("{sentence}.\n\n[See in Wekan]({url})")
}
