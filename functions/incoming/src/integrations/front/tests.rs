use serde_json::{Value, json};

use super::*;

fn run(body: &Value) -> Result<Handled, IntegrationError> {
    Front.handle(&Payload { params: &[], event_type: None, headers: &[], body, raw: b"" })
}

fn tag_event() -> Value {
    serde_json::from_str(Front.sample().1).unwrap()
}

#[test]
fn the_sample_renders() {
    assert_eq!(
        run(&tag_event()).unwrap(),
        Handled {
            event: "tag".into(),
            outcome: Outcome::Message {
                topic: "cnv_keocka".into(),
                content: "**Leela Turanga** added tag **Urgent**.".into()
            }
        }
    );
}

#[test]
fn an_unknown_type_is_refused() {
    let mut body = tag_event();
    body["type"] = json!("qwerty");
    assert_eq!(run(&body), Err(IntegrationError::BadRequest("Unknown webhook request".into())));
}

#[test]
fn missing_or_mistyped_fields_are_malformed() {
    let mut body = tag_event();
    body["type"] = json!(3);
    assert!(matches!(run(&body), Err(IntegrationError::Malformed(_))));

    let mut body = tag_event();
    body["conversation"]["id"] = json!(null);
    assert!(matches!(run(&body), Err(IntegrationError::Malformed(_))));

    let mut body = tag_event();
    body["source"]["data"]["first_name"] = json!(["Leela"]);
    assert!(matches!(run(&body), Err(IntegrationError::Malformed(_))));

    // A message event needs the inbox list a teammate's event lacks.
    let mut body = tag_event();
    body["type"] = json!("inbound");
    assert!(matches!(run(&body), Err(IntegrationError::Malformed(_))));

    assert!(matches!(run(&json!([1, 2])), Err(IntegrationError::Malformed(_))));
}

#[test]
fn a_rule_and_other_sources_are_named() {
    let mut body = tag_event();
    body["source"] = json!({"_meta": {"type": "rule"}, "data": {"name": "Urgent mail"}});
    let Outcome::Message { content, .. } = run(&body).unwrap().outcome else { panic!() };
    assert_eq!(content, "**'Urgent mail' rule** added tag **Urgent**.");

    body["source"] = json!({"_meta": {"type": "api"}, "data": null});
    let Outcome::Message { content, .. } = run(&body).unwrap().outcome else { panic!() };
    assert_eq!(content, "**(api)** added tag **Urgent**.");
}
