use serde_json::{Value, json};

use super::*;

fn run(body: &Value) -> Result<Handled> {
    Intercom.handle(&Payload { params: &[], event_type: None, headers: &[], body, raw: b"" })
}

fn replied(part: &str) -> Value {
    json!({
        "topic": "conversation.user.replied",
        "data": {"item": {
            "user": {"type": "lead", "name": null, "pseudonym": "Blue Fox", "email": "fox@example.com"},
            "conversation_parts": {"conversation_parts": [{"body": part}]},
        }},
    })
}

#[test]
fn the_sample_renders() {
    let (event, sample) = Intercom.sample();
    assert_eq!(event, None);
    assert_eq!(run(&serde_json::from_str(sample).unwrap()).unwrap().event, "conversation.admin.replied");
}

#[test]
fn a_part_is_shown_as_its_text() {
    let Outcome::Message { topic, content } =
        run(&replied("<p>Fish &amp; chips &lt;3 &#x1F41F;</p><!-- x --><br/>a < b")).unwrap().outcome
    else {
        panic!()
    };
    assert_eq!(topic, "Lead: Blue Fox");
    assert_eq!(content, "Someone replied to the conversation:\n\n``` quote\nFish & chips <3 \u{1F41F}a < b\n```");
}

#[test]
fn html_text_survives_odd_input() {
    assert_eq!(html::text("&bogus; & &#99999999; &#;"), "&bogus; & \u{fffd} &#;");
    assert_eq!(html::text("ok <p unclosed"), "ok ");
    assert_eq!(html::text("é<b>ü</b>&eacute"), "éü&eacute");
}

#[test]
fn person_types_are_capitalized() {
    assert_eq!(person(&json!({"type": "uSER", "email": "a@b.c"})).unwrap(), "User: a@b.c");
    assert!(person(&json!({"type": 7})).is_err());
}

#[test]
fn wrong_types_and_missing_fields_are_malformed() {
    for body in [
        json!({}),
        json!({"topic": 7}),
        json!({"topic": "company.created", "data": {"item": {"name": "A", "user_count": "1"}}}),
        json!({"topic": "conversation.user.replied", "data": {"item": {"user": {"type": "lead"}}}}),
        replied("x").pointer("/data").cloned().unwrap(),
    ] {
        assert!(matches!(run(&body), Err(IntegrationError::Malformed(_))), "{body}");
    }
    let mut empty = replied("x");
    *empty.pointer_mut("/data/item/conversation_parts/conversation_parts").unwrap() = json!([]);
    assert!(matches!(run(&empty), Err(IntegrationError::Malformed(_))));
}

#[test]
fn unknown_topics_are_unsupported() {
    let Err(IntegrationError::Unsupported { event, .. }) = run(&json!({"topic": "content_stat.news_item"})) else {
        panic!()
    };
    assert_eq!(event, "content_stat.news_item");
}
