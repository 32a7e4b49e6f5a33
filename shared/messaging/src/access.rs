//! Which messages a user may act on, as Zulip's `access_message` decides: a message of their
//! realm that they can read. Anything else, including a message that does not exist, is the
//! same "Invalid message(s)", so ids of other people's DMs cannot be probed.

use hookline_model::store::{Store, StoreError};
use hookline_model::{Message, MessageId, User};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("Invalid message(s)")]
pub struct InvalidMessage;

/// The message `id` if `user` may read it; `Ok(None)` when they may not (or it does not exist).
pub async fn access_message(store: &dyn Store, user: &User, id: MessageId) -> Result<Option<Message>, StoreError> {
    Ok(store.get_message(user.realm_id, id).await?.filter(|m| m.recipient.visible_to(user.id)))
}
