//! Editing and deleting messages, with Zulip's permissions under its default realm settings:
//! only the sender edits content, within 10 minutes; the sender (or an admin) moves a message
//! to another topic, a non-admin within 7 days; only admins delete messages (Zulip's default
//! `delete_own_message_policy`). An edit never triggers a bot.

use hookline_model::store::{Direction, MessageScope, Store, StoreError};
use hookline_model::{Message, MessageId, Millis, Recipient, User};

use crate::access::access_message;
use crate::limits::{normalize_content, truncate_topic};

/// Zulip's default `message_content_edit_limit_seconds`.
pub const CONTENT_EDIT_LIMIT: Millis = 600 * 1000;
/// Zulip's default `move_messages_within_stream_limit_seconds` for non-admins.
pub const TOPIC_EDIT_LIMIT: Millis = 7 * 24 * 3600 * 1000;
/// What Zulip stores for content edited to nothing.
pub const DELETED_CONTENT: &str = "(deleted)";

const MAX_TRIES: u32 = 20;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EditError {
    #[error("Invalid message(s)")]
    InvalidMessage,
    #[error("Nothing to change")]
    NothingToChange,
    #[error("Invalid propagate_mode without topic edit")]
    PropagateWithoutTopic,
    #[error("Invalid propagate_mode")]
    InvalidPropagateMode,
    #[error("You don't have permission to edit this message")]
    EditNotAllowed,
    #[error("The time limit for editing this message has passed")]
    ContentTimeLimit,
    #[error("The time limit for editing this message's topic has passed")]
    TopicTimeLimit,
    #[error("Direct messages cannot have topics.")]
    DirectMessageTopic,
    #[error("Topic can't be empty!")]
    EmptyTopic,
    #[error("Message must not contain null bytes")]
    NullByte,
    #[error("You don't have permission to delete this message")]
    DeleteNotAllowed,
    #[error("storage failed: {0}")]
    Store(String),
}

impl From<StoreError> for EditError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(_) => Self::InvalidMessage,
            other => Self::Store(other.to_string()),
        }
    }
}

/// Which messages a topic edit moves, as in Zulip: the one message, it and the later messages
/// of its topic, or its whole topic.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PropagateMode {
    #[default]
    ChangeOne,
    ChangeLater,
    ChangeAll,
}

impl PropagateMode {
    pub fn parse(text: &str) -> Result<Self, EditError> {
        match text {
            "change_one" => Ok(Self::ChangeOne),
            "change_later" => Ok(Self::ChangeLater),
            "change_all" => Ok(Self::ChangeAll),
            _ => Err(EditError::InvalidPropagateMode),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Edit {
    pub content: Option<String>,
    pub topic: Option<String>,
    pub propagate_mode: PropagateMode,
}

/// Applies `edit` to message `id` as `user` at `now`.
pub async fn edit_message(
    store: &dyn Store,
    user: &User,
    id: MessageId,
    edit: &Edit,
    now: Millis,
) -> Result<(), EditError> {
    if edit.content.is_none() && edit.topic.is_none() {
        return Err(if edit.propagate_mode == PropagateMode::ChangeOne {
            EditError::NothingToChange
        } else {
            EditError::PropagateWithoutTopic
        });
    }
    let content = match &edit.content {
        None => None,
        Some(text) if text.trim_end().is_empty() => Some(DELETED_CONTENT.to_owned()),
        Some(text) => Some(normalize_content(text).map_err(|_| EditError::NullByte)?),
    };
    for _ in 0..MAX_TRIES {
        let message = access_message(store, user, id).await?.ok_or(EditError::InvalidMessage)?;
        let age = now - message.timestamp;
        let mut changed = message.clone();
        if let Some(content) = &content {
            if message.sender_id != user.id {
                return Err(EditError::EditNotAllowed);
            }
            if age > CONTENT_EDIT_LIMIT {
                return Err(EditError::ContentTimeLimit);
            }
            changed.content.clone_from(content);
        }
        if let Some(topic) = &edit.topic {
            let Recipient::Stream { topic: current, .. } = &mut changed.recipient else {
                return Err(EditError::DirectMessageTopic);
            };
            if message.sender_id != user.id && !user.role.is_admin() {
                return Err(EditError::EditNotAllowed);
            }
            if !user.role.is_admin() && age > TOPIC_EDIT_LIMIT {
                return Err(EditError::TopicTimeLimit);
            }
            let topic = topic.trim();
            if topic.is_empty() {
                return Err(EditError::EmptyTopic);
            }
            *current = truncate_topic(topic);
        }
        if changed == message {
            return Ok(());
        }
        changed.last_edit_timestamp = Some(now);
        let moved_to = topic_change(&message, &changed);
        match store.replace_message(&message, changed).await {
            Ok(_) => {
                if let Some((stream_id, from, to)) = moved_to
                    && edit.propagate_mode != PropagateMode::ChangeOne
                {
                    let anchor = if edit.propagate_mode == PropagateMode::ChangeLater { id } else { 0 };
                    move_topic(store, user, message.realm_id, stream_id, &from, &to, anchor, now).await?;
                }
                return Ok(());
            }
            Err(StoreError::Conflict) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Err(EditError::Store("the message kept changing".into()))
}

/// The stream and the old and new topic, when `changed` moves `message` to another topic.
fn topic_change(message: &Message, changed: &Message) -> Option<(u64, String, String)> {
    match (&message.recipient, &changed.recipient) {
        (Recipient::Stream { stream_id, topic: from, .. }, Recipient::Stream { topic: to, .. }) if from != to => {
            Some((*stream_id, from.clone(), to.clone()))
        }
        _ => None,
    }
}

/// Moves the messages of topic `from` with ids from `anchor` on to topic `to`, page by page.
/// A non-admin may move only messages within Zulip's time limit for moving.
#[allow(clippy::too_many_arguments)]
async fn move_topic(
    store: &dyn Store,
    user: &User,
    realm: hookline_model::RealmId,
    stream_id: u64,
    from: &str,
    to: &str,
    mut anchor: MessageId,
    now: Millis,
) -> Result<(), EditError> {
    const PAGE: usize = 500;
    let scope = MessageScope::Topic(stream_id, from.to_owned());
    loop {
        let page = store.list_messages(realm, &scope, anchor, Direction::From, PAGE, &|_| true).await?;
        for message in &page {
            if !user.role.is_admin() && now - message.timestamp > TOPIC_EDIT_LIMIT {
                return Err(EditError::TopicTimeLimit);
            }
            move_one(store, message, to, now).await?;
        }
        match page.last() {
            Some(last) if page.len() == PAGE => anchor = last.id + 1,
            _ => return Ok(()),
        }
    }
}

/// Moves one message to topic `to`, re-reading it when it changed meanwhile.
async fn move_one(store: &dyn Store, message: &Message, to: &str, now: Millis) -> Result<(), EditError> {
    let mut current = message.clone();
    for _ in 0..MAX_TRIES {
        let mut changed = current.clone();
        match &mut changed.recipient {
            Recipient::Stream { topic, .. } if topic != to => to.clone_into(topic),
            _ => return Ok(()),
        }
        changed.last_edit_timestamp = Some(now);
        match store.replace_message(&current, changed).await {
            Ok(_) | Err(StoreError::NotFound(_)) => return Ok(()),
            Err(StoreError::Conflict) => match store.get_message(current.realm_id, current.id).await? {
                Some(latest) => current = latest,
                None => return Ok(()),
            },
            Err(e) => return Err(e.into()),
        }
    }
    Err(EditError::Store("the message kept changing".into()))
}

/// Deletes message `id` as `user`: an admin may delete any message they can read; under
/// Zulip's default policy nobody else may delete one, not even their own.
pub async fn delete_message(store: &dyn Store, user: &User, id: MessageId) -> Result<(), EditError> {
    for _ in 0..MAX_TRIES {
        let message = access_message(store, user, id).await?.ok_or(EditError::InvalidMessage)?;
        if !user.role.is_admin() {
            return Err(EditError::DeleteNotAllowed);
        }
        match store.delete_message(&message).await {
            Ok(()) => return Ok(()),
            Err(StoreError::Conflict) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Err(EditError::Store("the message kept changing".into()))
}
