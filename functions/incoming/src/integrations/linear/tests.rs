use serde_json::{Value, json};

use super::*;

fn run(body: &Value) -> Result<Handled, IntegrationError> {
    Linear.handle(&Payload { params: &[], event_type: None, headers: &[], body, raw: b"" })
}

fn comment() -> Value {
    json!({
        "type": "Comment",
        "action": "create",
        "url": "https://linear.app/c",
        "data": {"body": "Hi", "user": {"name": "Ada"}, "issue": {"title": "Bug"}},
    })
}

#[test]
fn the_sample_renders() {
    let (event, sample) = Linear.sample();
    assert_eq!(event, None);
    assert_eq!(run(&serde_json::from_str(sample).unwrap()).unwrap().event, "issue");
}

#[test]
fn a_comment_quotes_its_body() {
    let Outcome::Message { topic, content } = run(&comment()).unwrap().outcome else { panic!() };
    assert_eq!(topic, "Issue: Bug");
    assert_eq!(content, "Ada [commented](https://linear.app/c) on issue **Bug**:\n~~~ quote\nHi\n~~~");
}

#[test]
fn wrong_types_and_missing_fields_are_malformed() {
    for pointer in ["/type", "/action", "/url", "/data/body", "/data/user/name", "/data/issue"] {
        let mut body = comment();
        *body.pointer_mut(pointer).unwrap() = json!(7);
        assert!(matches!(run(&body), Err(IntegrationError::Malformed(_))), "{pointer}");
    }
    let issue = json!({"type": "Issue", "action": "create", "data": {"title": "T", "number": "1"}});
    assert!(matches!(run(&issue), Err(IntegrationError::Malformed(_))));
    assert!(matches!(run(&json!({"type": "Issue"})), Err(IntegrationError::Malformed(_))));
}

#[test]
fn unknown_types_are_unsupported() {
    let Err(IntegrationError::Unsupported { event, .. }) = run(&json!({"type": "Document", "action": "create"})) else {
        panic!()
    };
    assert_eq!(event, "Document:create");
}
