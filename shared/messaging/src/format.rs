//! Messages as Zulip's API shows them: in `GET /api/v1/messages` and in the `message` field of
//! an outgoing webhook's payload.

use hookline_model::{Message, Recipient};
use md5::{Digest as _, Md5};
use serde_json::{Value, json};

use crate::directory::Directory;
use crate::render::{ResolvedUser, render};
use crate::triggers::resolve;

/// Zulip's `recipient_id` for a message: the stream's id, or a stable number for a DM thread.
#[must_use]
pub fn recipient_id(recipient: &Recipient) -> u64 {
    match recipient {
        Recipient::Stream { stream_id, .. } => *stream_id,
        Recipient::Direct { user_ids } => {
            // FNV-1a over the sorted participants, kept below 2^31 like Zulip's ids.
            let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
            for id in user_ids {
                for byte in id.to_le_bytes() {
                    hash ^= u64::from(byte);
                    hash = hash.wrapping_mul(0x0100_0000_01b3);
                }
            }
            hash % (1 << 31)
        }
    }
}

/// The avatar Zulip serves for a user who has not uploaded one: Gravatar's identicon for the
/// MD5 of the lowercased email, at avatar version 1. The same URL for the same email, always.
#[must_use]
pub fn avatar_url(email: &str) -> String {
    let hash = Md5::digest(email.to_lowercase().as_bytes());
    format!("https://secure.gravatar.com/avatar/{hash:x}?d=identicon&version=1")
}

/// The message's content rendered to HTML, with its mentions resolved in `directory`.
#[must_use]
pub fn rendered_content(message: &Message, directory: &Directory) -> String {
    render(&message.content, &|target| {
        resolve(directory, target).map(|u| ResolvedUser { id: u.id, full_name: u.full_name.clone() })
    })
}

/// The message as Zulip's API shows it; `content` is HTML when `apply_markdown`, else Markdown.
#[must_use]
pub fn message_json(message: &Message, directory: &Directory, apply_markdown: bool) -> Value {
    let rendered = rendered_content(message, directory);
    let (kind, display_recipient, stream_id, topic) = match &message.recipient {
        Recipient::Stream { stream_id, stream_name, topic } => {
            let name = directory.stream(*stream_id).map_or(stream_name.as_str(), |s| s.name.as_str());
            ("stream", json!(name), Some(*stream_id), topic.as_str())
        }
        Recipient::Direct { user_ids } => {
            let people: Vec<Value> = user_ids
                .iter()
                .map(|id| {
                    let user = directory.user(*id);
                    json!({
                        "id": id,
                        "email": user.map_or("", |u| u.email.as_str()),
                        "full_name": user.map_or("", |u| u.full_name.as_str()),
                        "is_mirror_dummy": false,
                    })
                })
                .collect();
            ("private", Value::Array(people), None, "")
        }
    };
    let mut value = json!({
        "id": message.id,
        "sender_id": message.sender_id,
        "sender_email": message.sender_email,
        "sender_full_name": message.sender_full_name,
        "sender_realm_str": directory.realm.string_id,
        "type": kind,
        "display_recipient": display_recipient,
        "recipient_id": recipient_id(&message.recipient),
        "subject": topic,
        "topic_links": [],
        "timestamp": message.timestamp / 1000,
        "content": if apply_markdown { rendered.clone() } else { message.content.clone() },
        "content_type": if apply_markdown { "text/html" } else { "text/x-markdown" },
        "rendered_content": rendered,
        "client": message.client,
        "avatar_url": avatar_url(&message.sender_email),
        "is_me_message": message.content.starts_with("/me "),
        "reactions": reactions_json(message, directory),
        "submessages": [],
        "flags": ["read"],
    });
    if let Some(id) = stream_id {
        value["stream_id"] = json!(id);
    }
    if let Some(edited) = message.last_edit_timestamp {
        value["last_edit_timestamp"] = json!(edited / 1000);
    }
    value
}

/// A message's reactions as Zulip lists them, each with the user who reacted.
fn reactions_json(message: &Message, directory: &Directory) -> Value {
    message
        .reactions
        .iter()
        .map(|r| {
            let user = directory.user(r.user_id);
            json!({
                "emoji_name": r.emoji_name,
                "emoji_code": r.emoji_code,
                "reaction_type": r.reaction_type,
                "user_id": r.user_id,
                "user": {
                    "id": r.user_id,
                    "email": user.map_or("", |u| u.email.as_str()),
                    "full_name": user.map_or("", |u| u.full_name.as_str()),
                    "is_mirror_dummy": false,
                },
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use hookline_model::Realm;

    use super::*;

    fn directory() -> Directory {
        let realm: Realm = serde_json::from_value(json!({
            "id": 1,
            "string_id": "zulip",
            "name": "Zulip",
            "host": "zulip.example.com",
            "public_url": "https://zulip.example.com",
            "created_at": 0,
        }))
        .expect("a realm");
        Directory { realm, users: vec![], services: vec![], streams: vec![] }
    }

    /// A stream message from `sender_email` (read from JSON, so fields the model defaults need
    /// not be spelled out).
    fn message(sender_email: &str) -> Message {
        let recipient = Recipient::Stream { stream_id: 2, stream_name: "Verona".into(), topic: "lunch".into() };
        serde_json::from_value(json!({
            "realm_id": 1,
            "id": 7,
            "sender_id": 3,
            "sender_email": sender_email,
            "sender_full_name": "Iago",
            "sender_is_bot": false,
            "recipient": recipient,
            "content": "*hi*",
            "timestamp": 1_000_500,
            "client": "website",
        }))
        .expect("a message")
    }

    #[test]
    fn every_user_has_zulips_gravatar_style_avatar() {
        let expected = "https://secure.gravatar.com/avatar/af4f06322c177ef4e1e9b2c424986b54?d=identicon&version=1";
        assert_eq!(avatar_url("iago@zulip.com"), expected);
        assert_eq!(avatar_url("Iago@Zulip.COM"), expected, "the hash is of the lowercased email");
        assert_ne!(avatar_url("hamlet@zulip.com"), expected);
    }

    #[test]
    fn message_json_shows_the_senders_avatar_and_the_content_type() {
        let markdown = message_json(&message("Iago@zulip.com"), &directory(), false);
        assert_eq!(markdown["avatar_url"], avatar_url("iago@zulip.com"));
        assert_eq!(
            (markdown["content"].as_str(), markdown["content_type"].as_str()),
            (Some("*hi*"), Some("text/x-markdown"))
        );
        let html = message_json(&message("iago@zulip.com"), &directory(), true);
        assert_eq!(html["content_type"], "text/html");
        assert_eq!(html["content"], html["rendered_content"]);
        assert_eq!(html["avatar_url"], markdown["avatar_url"]);
        assert_eq!(html["timestamp"], 1000);
    }
}
