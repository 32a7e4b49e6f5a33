//! `front`: Front's "Send to a Webhook" rule action, as Zulip's `front`.
//!
//! Every event is about one conversation, whose id (`cnv_keo696`) is the topic. Messages in
//! and out show a link to the message, who wrote to whom and the subject; comments quote the
//! comment; assignments, archiving, reopening, deletion, restoring and tags name who did it:
//!
//! ```text
//! **Leela Turanga** assigned **Bender Rodriguez**.
//! ```

#[cfg(test)]
mod tests;

use serde_json::Value;

use crate::integration::{Handled, Integration, IntegrationError, Outcome, Payload, text};
use crate::signature::{Encoding, Hash, Scheme};

pub struct Front;

/// Every event type Front sends that becomes a message.
const EVENT_TYPES: &[&str] = &[
    "inbound",
    "outbound",
    "out_reply",
    "comment",
    "mention",
    "assign",
    "unassign",
    "archive",
    "reopen",
    "trash",
    "restore",
    "tag",
    "untag",
];

impl Integration for Front {
    fn name(&self) -> &'static str {
        "front"
    }

    fn display_name(&self) -> &'static str {
        "Front"
    }

    fn categories(&self) -> &'static [&'static str] {
        &["customer-support"]
    }

    fn event_types(&self) -> &'static [&'static str] {
        EVENT_TYPES
    }

    /// Front signs a rule's webhook with the company's API secret: `X-Front-Signature`, the
    /// base64 HMAC-SHA1 of the body.
    fn verify(&self, secret: &str, payload: &Payload<'_>) -> Result<(), IntegrationError> {
        Scheme { header: "X-Front-Signature", prefix: "", hash: Hash::Sha1, encoding: Encoding::Base64 }
            .check_body(secret, payload)
    }

    fn handle(&self, payload: &Payload<'_>) -> Result<Handled, IntegrationError> {
        let body = payload.body;
        let event = text(body, "/type")?;
        if !EVENT_TYPES.contains(&event) {
            return Err(IntegrationError::BadRequest("Unknown webhook request".into()));
        }
        let topic = text(body, "/conversation/id")?.to_owned();
        let content = match event {
            "inbound" => {
                let message = MessageData::read(body)?;
                format!(
                    "[Inbound message]({}) from **{}** to **{}**:\n```quote\n*Subject*: {}\n```",
                    message.link, message.outbox, message.inbox, message.subject
                )
            }
            "outbound" => {
                let message = MessageData::read(body)?;
                format!(
                    "[Outbound message]({}) from **{}** to **{}**:\n```quote\n*Subject*: {}\n```",
                    message.link, message.inbox, message.outbox, message.subject
                )
            }
            "out_reply" => {
                let message = MessageData::read(body)?;
                format!("[Outbound reply]({}) from **{}** to **{}**.", message.link, message.inbox, message.outbox)
            }
            "comment" | "mention" => {
                let name = source_name(body)?;
                let comment = text(body, "/target/data/body")?;
                format!("**{name}** left a comment:\n```quote\n{comment}\n```")
            }
            "assign" => {
                let source = source_name(body)?;
                let first = text(body, "/target/data/first_name")?;
                let last = text(body, "/target/data/last_name")?;
                let target = format!("{first} {last}");
                if source == target {
                    format!("**{source}** assigned themselves.")
                } else {
                    format!("**{source}** assigned **{target}**.")
                }
            }
            "unassign" => format!("Unassigned by **{}**.", source_name(body)?),
            "archive" => format!("Archived by **{}**.", source_name(body)?),
            "reopen" => format!("Reopened by **{}**.", source_name(body)?),
            "trash" => format!("Deleted by **{}**.", source_name(body)?),
            "restore" => format!("Restored by **{}**.", source_name(body)?),
            "tag" => format!("**{}** added tag **{}**.", source_name(body)?, text(body, "/target/data/name")?),
            // "untag", the last of EVENT_TYPES.
            _ => format!("**{}** removed tag **{}**.", source_name(body)?, text(body, "/target/data/name")?),
        };
        Ok(Handled { event: event.to_owned(), outcome: Outcome::Message { topic, content } })
    }

    fn sample(&self) -> (Option<&'static str>, &'static str) {
        (
            None,
            r#"{"id": "evt_28du7y2", "type": "tag", "emitted_at": 1518307966.678, "conversation": {"id": "cnv_keocka", "subject": "Being a robot is great, but...", "status": "assigned", "recipient": {"handle": "calculon@momsbot.com", "role": "from"}}, "source": {"_meta": {"type": "teammate"}, "data": {"id": "tea_40yq", "email": "leela@planet-express.com", "username": "leela", "first_name": "Leela", "last_name": "Turanga"}}, "target": {"_meta": {"type": "tag"}, "data": {"id": "tag_11dg2", "name": "Urgent"}}}"#,
        )
    }
}

/// What Zulip shows of a message: its link, the conversation's correspondent (`outbox`), the
/// inbox it went through and the conversation's subject.
struct MessageData<'v> {
    link: String,
    outbox: &'v str,
    inbox: &'v str,
    subject: &'v str,
}

impl<'v> MessageData<'v> {
    fn read(body: &'v Value) -> Result<Self, IntegrationError> {
        Ok(Self {
            link: format!("https://app.frontapp.com/open/{}", text(body, "/target/data/id")?),
            outbox: text(body, "/conversation/recipient/handle")?,
            inbox: text(body, "/source/data/0/address")?,
            subject: text(body, "/conversation/subject")?,
        })
    }
}

/// Who caused the event: a teammate's full name, a rule by its name, or another source's type
/// in parentheses (`(gmail)`).
fn source_name(body: &Value) -> Result<String, IntegrationError> {
    Ok(match text(body, "/source/_meta/type")? {
        "teammate" => {
            format!("{} {}", text(body, "/source/data/first_name")?, text(body, "/source/data/last_name")?)
        }
        "rule" => format!("'{}' rule", text(body, "/source/data/name")?),
        other => format!("({other})"),
    })
}
