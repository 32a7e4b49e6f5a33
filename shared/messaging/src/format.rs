//! Messages as Zulip's API shows them: in `GET /api/v1/messages` and in the `message` field of
//! an outgoing webhook's payload.

use hookline_model::{Message, Recipient};
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
        "avatar_url": null,
        "is_me_message": message.content.starts_with("/me "),
        "reactions": [],
        "submessages": [],
        "flags": ["read"],
    });
    if let Some(id) = stream_id {
        value["stream_id"] = json!(id);
    }
    value
}
