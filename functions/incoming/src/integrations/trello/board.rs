//! Board actions: members added or removed, lists created, the board renamed.

use serde_json::Value;

use super::{data_text, old, unsupported};
use crate::integration::{IntegrationError, text};

/// The board action types shown: the four after the card actions in [`super::EVENT_TYPES`].
pub const SHOWN: &[&str] = super::EVENT_TYPES.split_at(14).1.split_at(4).0;

/// The message for a board action, `None` for one that shows nothing (a new background).
pub fn message(body: &Value, action: &str) -> Result<Option<String>, IntegrationError> {
    let what = match action {
        "removeMemberFromBoard" => format!("removed {} from {}.", text(body, "/action/member/fullName")?, link(body)?),
        "addMemberToBoard" => format!("added {} to {}.", text(body, "/action/member/fullName")?, link(body)?),
        "createList" => format!("added {} list to {}.", data_text(body, "/list/name")?, link(body)?),
        _ => {
            let old = old(body)?;
            if old.get("prefs").and_then(Value::as_object).is_some_and(|prefs| prefs.contains_key("background")) {
                return Ok(None);
            }
            let old_name = data_text(body, "/old/name")?;
            if old_name.is_empty() {
                return Err(unsupported(action));
            }
            format!("renamed the board from {old_name} to {}.", link(body)?)
        }
    };
    Ok(Some(format!("{} {what}", text(body, "/action/memberCreator/fullName")?)))
}

/// The board, linked.
fn link(body: &Value) -> Result<String, IntegrationError> {
    Ok(format!("[{}](https://trello.com/b/{})", data_text(body, "/board/name")?, data_text(body, "/board/shortLink")?))
}
