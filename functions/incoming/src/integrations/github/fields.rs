//! Reading GitHub's payloads: the optional and boolean fields the framework's helpers
//! (`text`, `number`, `list`) leave out, and the parts every event shares.

use serde_json::Value;

use crate::integration::{IntegrationError, text};

/// The text at `pointer`, `None` when it is missing or null, Malformed for another type.
pub(super) fn opt_text<'v>(body: &'v Value, pointer: &str) -> Result<Option<&'v str>, IntegrationError> {
    match body.pointer(pointer) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(IntegrationError::Malformed(format!("expected text at {pointer}"))),
    }
}

/// The boolean at `pointer`, which must be there.
pub(super) fn required_flag(body: &Value, pointer: &str) -> Result<bool, IntegrationError> {
    body.pointer(pointer)
        .and_then(Value::as_bool)
        .ok_or_else(|| IntegrationError::Malformed(format!("expected true or false at {pointer}")))
}

/// Whether `pointer` holds something other than null.
pub(super) fn present(body: &Value, pointer: &str) -> bool {
    body.pointer(pointer).is_some_and(|value| !value.is_null())
}

/// The event's action (`opened`, `created`…).
pub(super) fn action(body: &Value) -> Result<&str, IntegrationError> {
    text(body, "/action")
}

/// Who did it: the sender's GitHub login, as Zulip names them.
pub(super) fn sender(body: &Value) -> Result<&str, IntegrationError> {
    text(body, "/sender/login")
}

/// The repository's short name (`Hello-World`), Zulip's default topic.
pub(super) fn repo_name(body: &Value) -> Result<&str, IntegrationError> {
    text(body, "/repository/name")
}
