//! Reading a bot's answer to a delivery: the body of a 2xx response, read exactly as Zulip
//! reads it, in Zulip's format or Slack's.

use hookline_model::Interface;
use serde_json::{Map, Value};

/// What the bot wants posted back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BotAnswer {
    /// Post this content, as the bot, where the message was sent.
    Reply(String),
    /// The bot handled the message and has nothing to say.
    NoReply,
}

/// Why a 2xx body is not an answer Zulip would accept.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AnswerError {
    #[error("Invalid JSON in response")]
    InvalidJson,
    #[error("Invalid response format")]
    InvalidFormat,
}

/// Reads a 2xx body exactly as Zulip does: an empty body or the JSON string `""` is no reply; a
/// body that is not JSON is [`AnswerError::InvalidJson`]; JSON that is not an object is
/// [`AnswerError::InvalidFormat`]. Zulip interface: a truthy `response_not_required` is no reply,
/// else `response_string` (legacy) if present, else `content`. Slack interface: `text`. Empty or
/// whitespace-only content is no reply, and so is a `null` one; any other non-string is
/// [`AnswerError::InvalidFormat`].
///
/// # Errors
/// [`AnswerError`] when the body is not JSON, or not an answer of the expected shape.
pub fn read_answer(interface: Interface, body: &[u8]) -> Result<BotAnswer, AnswerError> {
    if body.trim_ascii().is_empty() {
        return Ok(BotAnswer::NoReply);
    }
    let value: Value = serde_json::from_slice(body).map_err(|_| AnswerError::InvalidJson)?;
    let fields = match value {
        // Bot servers before 2021 answered `""` when they had nothing to say.
        Value::String(s) if s.is_empty() => return Ok(BotAnswer::NoReply),
        Value::Object(fields) => fields,
        _ => return Err(AnswerError::InvalidFormat),
    };
    let content = match interface {
        Interface::Zulip => zulip_content(&fields),
        Interface::Slack => fields.get("text"),
    };
    match content {
        None | Some(Value::Null) => Ok(BotAnswer::NoReply),
        Some(Value::String(text)) if text.trim().is_empty() => Ok(BotAnswer::NoReply),
        Some(Value::String(text)) => Ok(BotAnswer::Reply(text.clone())),
        Some(_) => Err(AnswerError::InvalidFormat),
    }
}

/// The field a Zulip-format answer takes its content from, if any.
fn zulip_content(fields: &Map<String, Value>) -> Option<&Value> {
    if fields.get("response_not_required").is_some_and(truthy) {
        return None;
    }
    match fields.get("response_string") {
        Some(legacy) if !legacy.is_null() => Some(legacy),
        _ => fields.get("content"),
    }
}

/// Python's truthiness, which is what Zulip applies to `response_not_required`.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(fields) => !fields.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zulip(body: &str) -> Result<BotAnswer, AnswerError> {
        read_answer(Interface::Zulip, body.as_bytes())
    }

    fn slack(body: &str) -> Result<BotAnswer, AnswerError> {
        read_answer(Interface::Slack, body.as_bytes())
    }

    fn reply(text: &str) -> Result<BotAnswer, AnswerError> {
        Ok(BotAnswer::Reply(text.to_owned()))
    }

    #[test]
    fn content_becomes_the_reply() {
        assert_eq!(zulip(r#"{"content": "Pizza, as always."}"#), reply("Pizza, as always."));
        assert_eq!(zulip(r#"{"content": "  padded  ", "widget_content": null}"#), reply("  padded  "));
    }

    #[test]
    fn an_empty_body_or_the_empty_json_string_means_no_reply() {
        assert_eq!(zulip(""), Ok(BotAnswer::NoReply));
        assert_eq!(zulip(" \n"), Ok(BotAnswer::NoReply));
        assert_eq!(zulip(r#""""#), Ok(BotAnswer::NoReply));
        assert_eq!(slack(r#""""#), Ok(BotAnswer::NoReply));
    }

    #[test]
    fn a_body_that_is_not_json_is_invalid_json() {
        assert_eq!(zulip("ok"), Err(AnswerError::InvalidJson));
        assert_eq!(zulip("{\"content\": "), Err(AnswerError::InvalidJson));
        assert_eq!(read_answer(Interface::Zulip, &[0xff, 0xfe]), Err(AnswerError::InvalidJson));
        assert_eq!(AnswerError::InvalidJson.to_string(), "Invalid JSON in response");
    }

    #[test]
    fn json_that_is_not_an_object_is_an_invalid_format() {
        for body in [r#""hello""#, "[]", "42", "null", "true"] {
            assert_eq!(zulip(body), Err(AnswerError::InvalidFormat), "{body}");
        }
        assert_eq!(AnswerError::InvalidFormat.to_string(), "Invalid response format");
    }

    #[test]
    fn a_truthy_response_not_required_silences_the_reply() {
        assert_eq!(zulip(r#"{"response_not_required": true, "content": "hi"}"#), Ok(BotAnswer::NoReply));
        assert_eq!(zulip(r#"{"response_not_required": 1, "content": "hi"}"#), Ok(BotAnswer::NoReply));
        assert_eq!(zulip(r#"{"response_not_required": "yes", "content": "hi"}"#), Ok(BotAnswer::NoReply));
    }

    #[test]
    fn a_falsy_response_not_required_still_replies() {
        for flag in ["false", "0", "null", r#""""#, "[]", "{}"] {
            let body = format!(r#"{{"response_not_required": {flag}, "content": "hi"}}"#);
            assert_eq!(zulip(&body), reply("hi"), "{flag}");
        }
    }

    #[test]
    fn the_legacy_response_string_wins_over_content() {
        assert_eq!(zulip(r#"{"response_string": "old", "content": "new"}"#), reply("old"));
        assert_eq!(zulip(r#"{"response_string": null, "content": "new"}"#), reply("new"));
    }

    #[test]
    fn an_object_without_content_means_no_reply() {
        assert_eq!(zulip("{}"), Ok(BotAnswer::NoReply));
        assert_eq!(zulip(r#"{"content": null}"#), Ok(BotAnswer::NoReply));
        assert_eq!(zulip(r#"{"text": "a Slack field"}"#), Ok(BotAnswer::NoReply));
    }

    #[test]
    fn whitespace_only_content_means_no_reply() {
        assert_eq!(zulip(r#"{"content": ""}"#), Ok(BotAnswer::NoReply));
        assert_eq!(zulip(r#"{"content": " \n\t "}"#), Ok(BotAnswer::NoReply));
        assert_eq!(slack(r#"{"text": "  "}"#), Ok(BotAnswer::NoReply));
    }

    #[test]
    fn content_that_is_not_a_string_is_an_invalid_format() {
        assert_eq!(zulip(r#"{"content": 42}"#), Err(AnswerError::InvalidFormat));
        assert_eq!(zulip(r#"{"content": {"text": "hi"}}"#), Err(AnswerError::InvalidFormat));
        assert_eq!(zulip(r#"{"response_string": ["hi"]}"#), Err(AnswerError::InvalidFormat));
        assert_eq!(slack(r#"{"text": false}"#), Err(AnswerError::InvalidFormat));
    }

    #[test]
    fn slack_answers_reply_with_text_only() {
        assert_eq!(slack(r#"{"text": "Pizza."}"#), reply("Pizza."));
        assert_eq!(slack(r#"{"content": "ignored"}"#), Ok(BotAnswer::NoReply));
        assert_eq!(slack(r#"{"response_not_required": true, "text": "still sent"}"#), reply("still sent"));
        assert_eq!(slack("[1]"), Err(AnswerError::InvalidFormat));
    }
}
