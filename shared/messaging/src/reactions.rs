//! Adding and removing emoji reactions, with Zulip's rules: a reaction names its emoji by
//! `emoji_name`, and optionally `emoji_code` and `reaction_type`; a user reacts once per
//! emoji; a vote for an emoji someone already used takes that reaction's name.

use hookline_model::store::{Store, StoreError};
use hookline_model::{MessageId, Reaction, User};

use crate::access::access_message;
use crate::emoji;

/// How often a change retries when the message changed under it.
const MAX_TRIES: u32 = 20;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReactionError {
    #[error("Invalid message(s)")]
    InvalidMessage,
    #[error("Reaction already exists.")]
    AlreadyExists,
    #[error("Reaction doesn't exist.")]
    DoesNotExist,
    #[error("Emoji '{0}' does not exist")]
    UnknownEmoji(String),
    #[error("Invalid emoji code.")]
    InvalidCode,
    #[error("Invalid emoji name.")]
    InvalidName,
    #[error("Invalid custom emoji.")]
    InvalidCustomEmoji,
    #[error("Invalid emoji type.")]
    InvalidType,
    #[error("At least one of the following arguments must be present: emoji_name, emoji_code")]
    NoEmoji,
    #[error("storage failed: {0}")]
    Store(String),
}

impl From<StoreError> for ReactionError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(_) => Self::InvalidMessage,
            other => Self::Store(other.to_string()),
        }
    }
}

/// A reaction as a client asks for it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmojiRequest {
    pub emoji_name: Option<String>,
    pub emoji_code: Option<String>,
    pub reaction_type: Option<String>,
}

/// Zulip's check that a new reaction's name, code and type belong together. Hookline has no
/// custom emoji, so every `realm_emoji` is unknown.
fn check_emoji(name: &str, code: &str, reaction_type: &str) -> Result<(), ReactionError> {
    match reaction_type {
        "realm_emoji" => Err(ReactionError::InvalidCustomEmoji),
        "zulip_extra_emoji" if code != emoji::ZULIP_EMOJI => Err(ReactionError::InvalidCode),
        "zulip_extra_emoji" if name != code => Err(ReactionError::InvalidName),
        "zulip_extra_emoji" => Ok(()),
        "unicode_emoji" if !emoji::is_unicode_code(code) => Err(ReactionError::InvalidCode),
        "unicode_emoji" if emoji::by_name(name).is_none_or(|e| e.emoji_code != code) => Err(ReactionError::InvalidName),
        "unicode_emoji" => Ok(()),
        _ => Err(ReactionError::InvalidType),
    }
}

/// Adds `user`'s reaction to message `id`.
pub async fn add_reaction(
    store: &dyn Store,
    user: &User,
    id: MessageId,
    name: &str,
    request: &EmojiRequest,
) -> Result<(), ReactionError> {
    for _ in 0..MAX_TRIES {
        let message = access_message(store, user, id).await?.ok_or(ReactionError::InvalidMessage)?;
        let (code, reaction_type) = match (&request.emoji_code, &request.reaction_type) {
            (Some(code), Some(kind)) => (code.clone(), kind.clone()),
            (code, kind) => {
                let data = emoji::by_name(name).ok_or_else(|| ReactionError::UnknownEmoji(name.to_owned()))?;
                (code.clone().unwrap_or(data.emoji_code), kind.clone().unwrap_or(data.reaction_type))
            }
        };
        if message.reactions.iter().any(|r| r.is(user.id, &reaction_type, &code)) {
            return Err(ReactionError::AlreadyExists);
        }
        let existing = message.reactions.iter().find(|r| r.reaction_type == reaction_type && r.emoji_code == code);
        let emoji_name = match existing {
            Some(vote) => vote.emoji_name.clone(),
            None => {
                check_emoji(name, &code, &reaction_type)?;
                name.to_owned()
            }
        };
        let mut changed = message.clone();
        changed.reactions.push(Reaction { user_id: user.id, emoji_name, emoji_code: code, reaction_type });
        match store.replace_message(&message, changed).await {
            Ok(_) => return Ok(()),
            Err(StoreError::Conflict) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Err(ReactionError::Store("the message kept changing".into()))
}

/// Removes `user`'s reaction from message `id`. The emoji is named by code (and type,
/// `unicode_emoji` by default), or by name alone.
pub async fn remove_reaction(
    store: &dyn Store,
    user: &User,
    id: MessageId,
    request: &EmojiRequest,
) -> Result<(), ReactionError> {
    let reaction_type = request.reaction_type.clone().unwrap_or_else(|| "unicode_emoji".into());
    for _ in 0..MAX_TRIES {
        let message = access_message(store, user, id).await?.ok_or(ReactionError::InvalidMessage)?;
        let code = match (&request.emoji_code, &request.emoji_name) {
            (Some(code), _) => code.clone(),
            (None, Some(name)) => {
                emoji::by_name(name).ok_or_else(|| ReactionError::UnknownEmoji(name.clone()))?.emoji_code
            }
            (None, None) => return Err(ReactionError::NoEmoji),
        };
        if !message.reactions.iter().any(|r| r.is(user.id, &reaction_type, &code)) {
            return Err(ReactionError::DoesNotExist);
        }
        let mut changed = message.clone();
        changed.reactions.retain(|r| !r.is(user.id, &reaction_type, &code));
        match store.replace_message(&message, changed).await {
            Ok(_) => return Ok(()),
            Err(StoreError::Conflict) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Err(ReactionError::Store("the message kept changing".into()))
}
