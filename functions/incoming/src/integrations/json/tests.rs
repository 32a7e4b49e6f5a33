use serde_json::{Value, json};

use super::*;

fn handle(raw: &[u8], content_type: &str) -> Result<Outcome, IntegrationError> {
    let headers = [("content-type".to_owned(), content_type.to_owned())];
    let body: Value = serde_json::from_slice(raw).unwrap_or_else(|_| json!({}));
    Json.handle(&Payload { params: &[], event_type: None, headers: &headers, body: &body, raw }).map(|h| h.outcome)
}

fn content(raw: &str) -> String {
    match handle(raw.as_bytes(), "application/json").unwrap() {
        Outcome::Message { content, .. } => content,
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_payload_is_printed_in_the_senders_key_order() {
    assert_eq!(
        handle(br#"{"b": [1, 2], "a": {}}"#, "application/json").unwrap(),
        Outcome::Message {
            topic: "JSON".into(),
            content: "```json\n{\n  \"b\": [\n    1,\n    2\n  ],\n  \"a\": {}\n}\n```".into()
        }
    );
}

#[test]
fn a_repeated_key_keeps_its_first_place_and_last_value() {
    assert_eq!(content(r#"{"a": 1, "b": 2, "a": 3}"#), "```json\n{\n  \"a\": 3,\n  \"b\": 2\n}\n```");
}

#[test]
fn text_is_escaped_as_python_does() {
    assert_eq!(
        content(r#"{"t": "é😀\u007f\"\\\n/"}"#),
        "```json\n{\n  \"t\": \"\\u00e9\\ud83d\\ude00\\u007f\\\"\\\\\\n/\"\n}\n```"
    );
}

#[test]
fn floats_are_printed_as_python_does() {
    for (f, text) in [
        (1.0, "1.0"),
        (0.0, "0.0"),
        (-2.5, "-2.5"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (1e15, "1000000000000000.0"),
        (1e16, "1e+16"),
        (1.5e300, "1.5e+300"),
        (123.456, "123.456"),
        (21.573108436586445, "21.573108436586445"),
    ] {
        assert_eq!(hookline_messaging::pyjson::float_repr(f), text, "{f}");
    }
}

#[test]
fn a_form_payload_field_keeps_its_order_too() {
    let raw = b"payload=%7B%22z%22%3A1%2C%22a%22%3A2%7D";
    let Outcome::Message { content, .. } = handle(raw, "application/x-www-form-urlencoded").unwrap() else { panic!() };
    assert_eq!(content, "```json\n{\n  \"z\": 1,\n  \"a\": 2\n}\n```");
}

#[test]
fn backticks_in_the_payload_cannot_close_the_block() {
    let content = content(r#"{"md": "````"}"#);
    assert!(content.starts_with("`````json\n"), "{content}");
    assert!(content.ends_with("\n`````"));
}

#[test]
fn only_an_object_is_accepted() {
    assert!(matches!(handle(b"[1]", "application/json"), Err(IntegrationError::Malformed(_))));
}
