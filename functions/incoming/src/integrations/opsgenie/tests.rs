use serde_json::{Value, json};

use super::*;

fn run(body: &Value) -> Result<Handled, IntegrationError> {
    Opsgenie.handle(&Payload { params: &[], event_type: None, headers: &[], body, raw: b"" })
}

fn malformed(body: &Value) -> String {
    match run(body) {
        Err(IntegrationError::Malformed(msg)) => msg,
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_sample_renders() {
    let (event, sample) = Opsgenie.sample();
    assert_eq!(event, None);
    let handled = run(&serde_json::from_str(sample).unwrap()).unwrap();
    assert_eq!(handled.event, "AddNote");
    assert_eq!(
        handled.outcome,
        Outcome::Message {
            topic: "Integration1".into(),
            content: "[Opsgenie alert for Integration1](https://app.opsgenie.com/alert/V2#/show/052652ac-5d1c-464a-812a-7dd18bbfba8c):\n\
                      * **Type**: AddNote\n* **Note**: note to test alert\n* **Message**: test alert\n* **Tags**: `tag1`, `tag2`"
                .into(),
        }
    );
}

#[test]
fn an_alert_without_fields_is_its_type_alone() {
    let handled = run(&json!({"action": "Close", "alert": {"alertId": "a1"}, "integrationName": "Ops"})).unwrap();
    assert_eq!(
        handled.outcome,
        Outcome::Message {
            topic: "Ops".into(),
            content: "[Opsgenie alert for Ops](https://app.opsgenie.com/alert/V2#/show/a1):\n* **Type**: Close".into(),
        }
    );
}

#[test]
fn missing_fields_are_malformed() {
    assert_eq!(malformed(&json!({"alert": {"alertId": "a"}, "integrationName": "i"})), "expected text at /action");
    assert_eq!(malformed(&json!({"action": "Close", "integrationName": "i"})), "expected text at /alert/alertId");
    assert_eq!(malformed(&json!({"action": "Close", "alert": {"alertId": "a"}})), "expected text at /integrationName");
}

#[test]
fn wrong_types_are_malformed() {
    let base = |alert: Value| json!({"action": "Close", "alert": alert, "integrationName": "i"});
    assert_eq!(malformed(&base(json!({"alertId": 3}))), "expected text at /alert/alertId");
    assert_eq!(malformed(&base(json!({"alertId": "a", "tags": "x"}))), "expected a list at /alert/tags");
    assert_eq!(malformed(&base(json!({"alertId": "a", "tags": [1]}))), "expected text in /alert/tags");
    assert_eq!(malformed(&base(json!({"alertId": "a", "note": null}))), "expected text at /alert/note");
    let mut body = base(json!({"alertId": "a"}));
    body["escalationName"] = json!(["x"]);
    assert_eq!(malformed(&body), "expected text at /escalationName");
    assert_eq!(malformed(&json!([1])), "expected text at /action");
}
