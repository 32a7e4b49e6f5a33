//! Reading a bot's answer to a delivery: the body of a 2xx response, read exactly as Zulip
//! reads it (`process_success_response` and the services' `process_success`), in Zulip's
//! format or Slack's.

use hookline_model::Interface;

use hookline_messaging::pyjson::{PyValue, is_blank};

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

/// Reads a 2xx body exactly as Zulip does. The body is decoded as UTF-8 with invalid bytes
/// replaced (as `requests` decodes `response.text`) and parsed as JSON: a body that is not JSON,
/// an empty one included, is [`AnswerError::InvalidJson`]; the JSON string `""` (what bot
/// servers before 2021 answered) is no reply; JSON that is not an object is
/// [`AnswerError::InvalidFormat`].
///
/// Zulip interface: a truthy `response_not_required` is no reply; else a `response_string`
/// (legacy), when present even as `null`, wins over `content`; either is turned into text with
/// Python's `str()` (`42` → `42`, `null` → `None`, `["a"]` → `['a']`). Slack interface: `text`,
/// taken as it is: `null` is no reply, a non-string is [`AnswerError::InvalidFormat`].
/// Content that is empty or whitespace to Python is no reply.
///
/// # Errors
/// [`AnswerError`] when the body is not JSON, or not an answer of the expected shape.
pub fn read_answer(interface: Interface, body: &[u8]) -> Result<BotAnswer, AnswerError> {
    let text = String::from_utf8_lossy(body);
    let value: PyValue = serde_json::from_str(&text).map_err(|_| AnswerError::InvalidJson)?;
    let answer = match &value {
        PyValue::Str(s) if s.is_empty() => return Ok(BotAnswer::NoReply),
        PyValue::Dict(_) => &value,
        _ => return Err(AnswerError::InvalidFormat),
    };
    let content = match interface {
        Interface::Zulip => zulip_content(answer),
        Interface::Slack => slack_content(answer)?,
    };
    Ok(match content {
        Some(text) if !is_blank(&text) => BotAnswer::Reply(text),
        _ => BotAnswer::NoReply,
    })
}

/// `GenericOutgoingWebhookService.process_success`: the text to post, if any.
fn zulip_content(answer: &PyValue) -> Option<String> {
    if answer.get("response_not_required").is_some_and(PyValue::is_truthy) {
        return None;
    }
    answer.get("response_string").or_else(|| answer.get("content")).map(PyValue::to_python_str)
}

/// `SlackOutgoingWebhookService.process_success`: `text` as it is; Zulip strips it, which only
/// a string survives.
fn slack_content(answer: &PyValue) -> Result<Option<String>, AnswerError> {
    match answer.get("text") {
        None | Some(PyValue::None) => Ok(None),
        Some(PyValue::Str(text)) => Ok(Some(text.clone())),
        Some(_) => Err(AnswerError::InvalidFormat),
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
    fn an_empty_body_is_invalid_json() {
        assert_eq!(zulip(""), Err(AnswerError::InvalidJson));
        assert_eq!(zulip(" \n"), Err(AnswerError::InvalidJson));
        assert_eq!(slack(""), Err(AnswerError::InvalidJson));
    }

    #[test]
    fn the_empty_json_string_means_no_reply() {
        assert_eq!(zulip(r#""""#), Ok(BotAnswer::NoReply));
        assert_eq!(zulip(" \"\" \n"), Ok(BotAnswer::NoReply));
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
    fn invalid_utf8_is_read_with_replacement_characters() {
        let body = b"{\"content\": \"caf\xe9\"}";
        assert_eq!(read_answer(Interface::Zulip, body), reply("caf\u{fffd}"));
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
    fn the_legacy_response_string_wins_over_content_even_when_null() {
        assert_eq!(zulip(r#"{"response_string": "old", "content": "new"}"#), reply("old"));
        assert_eq!(zulip(r#"{"response_string": null, "content": "new"}"#), reply("None"));
        assert_eq!(zulip(r#"{"content": "new", "response_string": 7}"#), reply("7"));
    }

    #[test]
    fn an_object_without_content_means_no_reply() {
        assert_eq!(zulip("{}"), Ok(BotAnswer::NoReply));
        assert_eq!(zulip(r#"{"text": "a Slack field"}"#), Ok(BotAnswer::NoReply));
    }

    #[test]
    fn whitespace_only_content_means_no_reply() {
        assert_eq!(zulip(r#"{"content": ""}"#), Ok(BotAnswer::NoReply));
        assert_eq!(zulip(r#"{"content": " \n\t\u001f "}"#), Ok(BotAnswer::NoReply));
        assert_eq!(zulip(r#"{"response_string": "  "}"#), Ok(BotAnswer::NoReply));
        assert_eq!(slack(r#"{"text": "  "}"#), Ok(BotAnswer::NoReply));
    }

    #[test]
    fn content_that_is_not_a_string_is_posted_as_pythons_str() {
        for (content, posted) in [
            ("42", "42"),
            ("true", "True"),
            ("false", "False"),
            ("null", "None"),
            ("1.5", "1.5"),
            ("1e20", "1e+20"),
            (r#"["a", 1]"#, "['a', 1]"),
            (r#"{"k": "v"}"#, "{'k': 'v'}"),
            ("[]", "[]"),
        ] {
            assert_eq!(zulip(&format!(r#"{{"content": {content}}}"#)), reply(posted), "{content}");
        }
        assert_eq!(zulip(r#"{"response_string": ["hi"]}"#), reply("['hi']"));
    }

    #[test]
    fn slack_answers_reply_with_text_only() {
        assert_eq!(slack(r#"{"text": "Pizza."}"#), reply("Pizza."));
        assert_eq!(slack(r#"{"content": "ignored"}"#), Ok(BotAnswer::NoReply));
        assert_eq!(slack(r#"{"response_not_required": true, "text": "still sent"}"#), reply("still sent"));
        assert_eq!(slack(r#"{"text": null}"#), Ok(BotAnswer::NoReply));
        assert_eq!(slack("[1]"), Err(AnswerError::InvalidFormat));
    }

    #[test]
    fn a_slack_text_that_is_not_a_string_is_an_invalid_format() {
        for text in ["false", "42", "1.5", "[]", r#"{"a": 1}"#] {
            assert_eq!(slack(&format!(r#"{{"text": {text}}}"#)), Err(AnswerError::InvalidFormat), "{text}");
        }
    }

    #[test]
    fn randomized_answers_are_read_or_refused_without_panicking() {
        let corpus: Vec<Vec<u8>> = [
            r#"{"content": "hi @**Ada**"}"#,
            r#"{"response_string": ["a", 1, null, true, 1.5e3, {"k": "v"}]}"#,
            r#"{"response_not_required": 0, "content": {"nested": [[], {}]}}"#,
            r#"{"text": "from slack \ud83d\ude00"}"#,
            r#""""#,
            "[1, 2]",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
        let mut fuzzer = hookline_model::fuzzing::Fuzzer::from_env("answers").with_dictionary(&[
            "\"content\":",
            "\"text\":",
            "\"response_string\":",
            "null",
            "\\u0000",
            "\\ud800",
            "1e400",
        ]);
        while let Some(input) = fuzzer.next_input(&corpus) {
            for interface in [Interface::Zulip, Interface::Slack] {
                let answer = std::panic::catch_unwind(|| read_answer(interface, &input));
                let Ok(answer) = answer else {
                    panic!("seed {}: panicked on {:?}", fuzzer.seed(), String::from_utf8_lossy(&input));
                };
                if let Ok(BotAnswer::Reply(text)) = answer {
                    assert!(!is_blank(&text), "a reply has content");
                }
            }
        }
        assert!(fuzzer.iterations() > 0);
        println!("{} inputs checked", fuzzer.iterations());
    }
}
