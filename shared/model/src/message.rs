//! Messages: to a stream and topic, or to a set of direct-message recipients.

use serde::{Deserialize, Serialize};

use crate::delivery::{DeliveryId, DeliveryJob};
use crate::{Millis, RealmId, StreamId, UserId};

pub type MessageId = u64;

/// Message ids stay below 2^53 so JavaScript clients read them exactly.
pub const MAX_MESSAGE_ID: MessageId = (1 << 53) - 1;

/// Where a message goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Recipient {
    Stream {
        stream_id: StreamId,
        /// The stream's name when the message was sent, for rendering.
        stream_name: String,
        topic: String,
    },
    /// A direct-message thread: every participant, the sender included, sorted and distinct.
    Direct { user_ids: Vec<UserId> },
}

impl Recipient {
    /// A direct-message thread made of `sender` and `others`, in canonical form.
    #[must_use]
    pub fn direct(sender: UserId, others: impl IntoIterator<Item = UserId>) -> Self {
        let mut user_ids: Vec<UserId> = others.into_iter().chain([sender]).collect();
        user_ids.sort_unstable();
        user_ids.dedup();
        Self::Direct { user_ids }
    }

    /// Whether `user` may read a message sent here (streams are public to the realm).
    #[must_use]
    pub fn visible_to(&self, user: UserId) -> bool {
        match self {
            Self::Stream { .. } => true,
            Self::Direct { user_ids } => user_ids.contains(&user),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub realm_id: RealmId,
    pub id: MessageId,
    pub sender_id: UserId,
    pub sender_email: String,
    pub sender_full_name: String,
    pub sender_is_bot: bool,
    pub recipient: Recipient,
    /// Raw Markdown, as sent.
    pub content: String,
    pub timestamp: Millis,
    /// The client the sender used (`Hookline`, `ZulipPython`, an integration's name, …).
    pub client: String,
    /// Emoji reactions, in the order they were added.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<Reaction>,
    /// When the content or topic was last edited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_edit_timestamp: Option<Millis>,
    /// How many times the stored message has been replaced (edits, reactions): the store
    /// replaces a message only if this is still the revision the change was computed from.
    #[serde(default)]
    pub revision: u64,
}

/// One user's emoji reaction to a message. A user reacts at most once per
/// `(reaction_type, emoji_code)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    pub user_id: UserId,
    pub emoji_name: String,
    pub emoji_code: String,
    /// `unicode_emoji`, `realm_emoji` or `zulip_extra_emoji`.
    pub reaction_type: String,
}

impl Reaction {
    /// Whether this is `user`'s reaction with this emoji.
    #[must_use]
    pub fn is(&self, user: UserId, reaction_type: &str, emoji_code: &str) -> bool {
        self.user_id == user && self.reaction_type == reaction_type && self.emoji_code == emoji_code
    }
}

/// A message about to be committed: everything but its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageDraft {
    pub realm_id: RealmId,
    pub sender_id: UserId,
    pub sender_email: String,
    pub sender_full_name: String,
    pub sender_is_bot: bool,
    pub recipient: Recipient,
    pub content: String,
    pub timestamp: Millis,
    pub client: String,
    /// The deliveries this message triggers, stored in the same commit as one outbox entry.
    pub outbox: Vec<DeliveryJob>,
    /// When the message is a bot's reply to a delivery: the commit also records it as that
    /// delivery's reply, and fails if the delivery already has one.
    pub reply_to: Option<DeliveryId>,
    /// The sender's `Idempotency-Key`: the commit also claims it, and fails with the first
    /// message's id if the same sender used it within the window.
    pub idempotency: Option<IdempotencyKey>,
}

/// A client's idempotency key for one send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyKey {
    pub key: String,
    /// How long the key holds (24 hours for the API), checked against timestamps on read.
    pub window: Millis,
}

/// How long a fresh outbox entry is left to its sender before the sweep may take it over.
pub const OUTBOX_SENDER_CLAIM: Millis = 60_000;

impl MessageDraft {
    #[must_use]
    pub fn into_message(self, id: MessageId) -> Message {
        Message {
            realm_id: self.realm_id,
            id,
            sender_id: self.sender_id,
            sender_email: self.sender_email,
            sender_full_name: self.sender_full_name,
            sender_is_bot: self.sender_is_bot,
            recipient: self.recipient,
            content: self.content,
            timestamp: self.timestamp,
            client: self.client,
            reactions: Vec::new(),
            last_edit_timestamp: None,
            revision: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direct_threads_are_canonical_whoever_sends() {
        assert_eq!(Recipient::direct(3, [1, 2]), Recipient::direct(1, [3, 2, 2]));
        assert!(Recipient::direct(3, [1]).visible_to(1));
        assert!(!Recipient::direct(3, [1]).visible_to(2));
    }
}
