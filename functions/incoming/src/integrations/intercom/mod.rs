//! `intercom`: Intercom's webhook notifications about companies, contacts, users, events and
//! conversations, as Zulip's `intercom`.
//!
//! The notification's `topic` (like `conversation.admin.replied`) is the event. Messages about
//! a person go to a topic naming them (`Lead: Eeshan Garg`, `User: Aaron Smith`); companies go
//! to `Companies` and events to `Events`. Conversation parts arrive as HTML and are shown as
//! their text, quoted. Intercom's `ping` is acknowledged without a message.

mod html;
#[cfg(test)]
mod tests;

use serde_json::Value;

use crate::integration::{Handled, Integration, IntegrationError, Outcome, Payload, list, number, optional_text, text};
use crate::signature::{Encoding, Hash, Scheme};

pub struct Intercom;

const EVENT_TYPES: &[&str] = &[
    "company.created",
    "contact.added_email",
    "contact.created",
    "contact.signed_up",
    "contact.tag.created",
    "contact.tag.deleted",
    "conversation.admin.assigned",
    "conversation.admin.closed",
    "conversation.admin.opened",
    "conversation.admin.snoozed",
    "conversation.admin.unsnoozed",
    "conversation.admin.replied",
    "conversation.admin.noted",
    "conversation.admin.single.created",
    "conversation.user.created",
    "conversation.user.replied",
    "event.created",
    "user.created",
    "user.deleted",
    "user.email.updated",
    "user.tag.created",
    "user.tag.deleted",
    "user.unsubscribed",
    "visitor.signed_up",
    // Sent when the webhook is set up or tested: acknowledged, never shown.
    "ping",
];

type Result<T> = std::result::Result<T, IntegrationError>;

impl Integration for Intercom {
    fn name(&self) -> &'static str {
        "intercom"
    }

    fn display_name(&self) -> &'static str {
        "Intercom"
    }

    fn categories(&self) -> &'static [&'static str] {
        &["customer-support"]
    }

    fn event_types(&self) -> &'static [&'static str] {
        EVENT_TYPES
    }

    /// Intercom signs with the app's client secret: `X-Hub-Signature` is `sha1=` and the hex
    /// HMAC-SHA1 of the body.
    fn verify(&self, secret: &str, payload: &Payload<'_>) -> Result<()> {
        Scheme { header: "X-Hub-Signature", prefix: "sha1=", hash: Hash::Sha1, encoding: Encoding::Hex }
            .check_body(secret, payload)
    }

    /// Intercom checks a new webhook's URL with `HEAD`.
    fn checks_url_with_head(&self) -> bool {
        true
    }

    fn handle(&self, payload: &Payload<'_>) -> Result<Handled> {
        let body = payload.body;
        let event = text(body, "/topic")?;
        if event == "ping" {
            return Ok(Handled { event: event.to_owned(), outcome: Outcome::Ignore });
        }
        if !EVENT_TYPES.contains(&event) {
            return Err(IntegrationError::Unsupported { event: event.to_owned(), integration: self.display_name() });
        }
        let item = body.pointer("/data/item").unwrap_or(&Value::Null);
        let (topic, content) = message(event, item)?;
        Ok(Handled { event: event.to_owned(), outcome: Outcome::Message { topic, content } })
    }

    fn sample(&self) -> (Option<&'static str>, &'static str) {
        (None, include_str!("fixtures/conversation_admin_replied.json"))
    }
}

/// The topic and message for a (supported) event about `item`, the notification's subject.
fn message(event: &str, item: &Value) -> Result<(String, String)> {
    let admin_action = |action: &str| -> Result<(String, String)> {
        Ok((person(&item["user"])?, format!("{} {action} the conversation.", name_of(&item["assignee"])?)))
    };
    let admin_reply = |action: &str| -> Result<(String, String)> {
        Ok((
            person(&item["user"])?,
            reply(name_of(&item["assignee"])?, &format!("{action} the conversation"), first_part(item)?),
        ))
    };
    Ok(match event {
        "company.created" => (
            "Companies".to_owned(),
            format!(
                "New company **{}** created:\n* **User count**: {}\n* **Monthly spending**: {}",
                text(item, "/name")?,
                number(item, "/user_count")?,
                number(item, "/monthly_spend")?
            ),
        ),
        "contact.added_email" => (person(item)?, format!("New email {} added to contact.", text(item, "/email")?)),
        "contact.created" => {
            let name = optional_text(item, "name")?
                .filter(|n| !n.is_empty())
                .or(optional_text(item, "pseudonym")?)
                .unwrap_or("");
            (
                person(item)?,
                format!(
                    "New contact created:\n* **Name (or pseudonym)**: {name}\n* **Email**: {}\n* **Location**: {}",
                    text(item, "/email")?,
                    location(item)?
                ),
            )
        }
        "contact.signed_up" | "visitor.signed_up" => (
            person(item)?,
            format!("Contact signed up:\n* **Email**: {}\n* **Location**: {}", text(item, "/email")?, location(item)?),
        ),
        "contact.tag.created" => {
            (person(&item["contact"])?, format!("Contact tagged with the `{}` tag.", text(item, "/tag/name")?))
        }
        "contact.tag.deleted" => {
            (person(&item["contact"])?, format!("The tag `{}` was removed from the contact.", text(item, "/tag/name")?))
        }
        "conversation.admin.assigned" => {
            (person(&item["user"])?, format!("{} assigned to conversation.", text(item, "/assignee/name")?))
        }
        "conversation.admin.closed" => admin_action("closed")?,
        "conversation.admin.opened" => admin_action("opened")?,
        "conversation.admin.snoozed" => admin_action("snoozed")?,
        "conversation.admin.unsnoozed" => admin_action("unsnoozed")?,
        "conversation.admin.replied" => admin_reply("replied to")?,
        "conversation.admin.noted" => admin_reply("added a note to")?,
        "conversation.admin.single.created" => (
            person(&item["user"])?,
            reply(name_of(&item["assignee"])?, "initiated a conversation", text(item, "/conversation_message/body")?),
        ),
        "conversation.user.created" => (
            person(&item["user"])?,
            reply(name_of(&item["user"])?, "initiated a conversation", text(item, "/conversation_message/body")?),
        ),
        "conversation.user.replied" => {
            (person(&item["user"])?, reply(name_of(&item["user"])?, "replied to the conversation", first_part(item)?))
        }
        "event.created" => ("Events".to_owned(), format!("New event **{}** created.", text(item, "/event_name")?)),
        "user.created" => (
            person(item)?,
            format!("New user created:\n* **Name**: {}\n* **Email**: {}", text(item, "/name")?, text(item, "/email")?),
        ),
        "user.deleted" => (person(item)?, "User deleted.".to_owned()),
        "user.email.updated" => (person(item)?, format!("User's email was updated to {}.", text(item, "/email")?)),
        "user.tag.created" | "user.tag.deleted" => {
            let action = if event == "user.tag.created" { "added to" } else { "removed from" };
            (person(&item["user"])?, format!("The tag `{}` was {action} the user.", text(item, "/tag/name")?))
        }
        _ => (person(item)?, "User unsubscribed from emails.".to_owned()),
    })
}

/// The topic for a person: their type, capitalized, and their name, pseudonym or email
/// (`Lead: Eeshan Garg`).
fn person(who: &Value) -> Result<String> {
    let kind = text(who, "/type")?;
    let mut chars = kind.chars();
    let kind: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars.flat_map(char::to_lowercase)).collect(),
        None => String::new(),
    };
    let mut name = "";
    for field in ["name", "pseudonym", "email"] {
        if let Some(value) = optional_text(who, field)?.filter(|v| !v.is_empty()) {
            name = value;
            break;
        }
    }
    Ok(format!("{kind}: {name}"))
}

/// Who acted: a name, which Intercom may leave out.
fn name_of(who: &Value) -> Result<&str> {
    Ok(optional_text(who, "name")?.unwrap_or("Someone"))
}

/// `<who> <did>:` and the HTML body's text, quoted.
fn reply(who: &str, did: &str, html: &str) -> String {
    format!("{who} {did}:\n\n``` quote\n{}\n```", html::text(html))
}

/// The body of the conversation's first (newest) part.
fn first_part(item: &Value) -> Result<&str> {
    let parts = list(item, "/conversation_parts/conversation_parts")?;
    match parts.first() {
        Some(part) => text(part, "/body"),
        None => Err(IntegrationError::Malformed("expected a conversation part".into())),
    }
}

/// `City, Region, Country`.
fn location(contact: &Value) -> Result<String> {
    Ok(format!(
        "{}, {}, {}",
        text(contact, "/location_data/city_name")?,
        text(contact, "/location_data/region_name")?,
        text(contact, "/location_data/country_name")?
    ))
}
