use serde_json::{Value, json};

use super::*;

fn run(body: &Value) -> Result<Handled, IntegrationError> {
    Wekan.handle(&Payload { event_type: None, headers: &[], body, raw: b"", params: &[] })
}

#[test]
fn the_last_line_is_the_link() {
    assert_eq!(
        run(&json!({"text": "Ana moved card \"A\"\nto list \"B\"\nhttp://wekan/b/1/c/2"})).unwrap(),
        Handled {
            event: "notification".into(),
            outcome: Outcome::Message {
                topic: "Wekan Notification".into(),
                content: "Ana moved card \"A\"to list \"B\".\n\n[See in Wekan](http://wekan/b/1/c/2)".into(),
            },
        }
    );
}

#[test]
fn a_single_line_is_taken_for_the_link() {
    assert_eq!(message("http://wekan/b/1"), ".\n\n[See in Wekan](http://wekan/b/1)");
    assert_eq!(message("Ana did something\n"), "Ana did something.\n\n[See in Wekan]()");
}

#[test]
fn the_sample_renders() {
    let body: Value = serde_json::from_str(Wekan.sample().1).unwrap();
    assert!(run(&body).is_ok());
}

#[test]
fn the_text_must_be_text() {
    assert_eq!(run(&json!({"text": 1})), Err(IntegrationError::Malformed("expected text at /text".into())));
    assert_eq!(run(&json!([])), Err(IntegrationError::Malformed("expected text at /text".into())));
}
