use serde_json::{Value, json};

use super::*;

fn run(body: &Value) -> Result<Handled, IntegrationError> {
    Basecamp.handle(&Payload { params: &[], event_type: None, headers: &[], body, raw: b"" })
}

fn todo(kind: &str, title: &str) -> Value {
    json!({
        "kind": kind,
        "creator": {"name": "Ada"},
        "recording": {"title": title, "app_url": "https://b/t", "bucket": {"name": "HQ"}},
    })
}

#[test]
fn the_sample_renders() {
    let (event, sample) = Basecamp.sample();
    assert_eq!(event, None);
    let handled = run(&serde_json::from_str(sample).unwrap()).unwrap();
    assert_eq!(handled.event, "todo");
}

#[test]
fn punctuation_ends_the_sentence_once() {
    let Outcome::Message { topic, content } = run(&todo("todo_due_on_changed", "Call Bob")).unwrap().outcome else {
        panic!()
    };
    assert_eq!(topic, "HQ");
    assert_eq!(content, "Ada changed due_on of the todo task [Call Bob](https://b/t).");
    let Outcome::Message { content, .. } = run(&todo("todo_created", "Call Bob?")).unwrap().outcome else { panic!() };
    assert_eq!(content, "Ada created the todo task [Call Bob?](https://b/t)");
    let Outcome::Message { content, .. } = run(&todo("todo_created", "")).unwrap().outcome else { panic!() };
    assert_eq!(content, "Ada created the todo task [](https://b/t).");
}

#[test]
fn answers_name_their_question() {
    let mut body = todo("question_answer_created", "Answer");
    body["recording"]["parent"] = json!({"title": "Why", "app_url": "https://b/q"});
    let handled = run(&body).unwrap();
    assert_eq!(handled.event, "question_answer");
    let Outcome::Message { content, .. } = handled.outcome else { panic!() };
    assert_eq!(content, "Ada created the [answer](https://b/t) of the question [Why](https://b/q).");
}

#[test]
fn other_kinds_are_unsupported() {
    for kind in ["vault_created", "todo_", "question_answer", "upload_created"] {
        let Err(IntegrationError::Unsupported { event, .. }) = run(&todo(kind, "x")) else { panic!("{kind}") };
        assert_eq!(event, kind);
    }
}

#[test]
fn wrong_types_are_malformed() {
    for pointer in ["/kind", "/creator/name", "/recording/title", "/recording/app_url", "/recording/bucket/name"] {
        let mut body = todo("todo_created", "x");
        *body.pointer_mut(pointer).unwrap() = json!(1);
        assert!(matches!(run(&body), Err(IntegrationError::Malformed(_))), "{pointer}");
    }
    assert!(matches!(run(&todo("comment_created", "x")), Err(IntegrationError::Malformed(_))));
}
