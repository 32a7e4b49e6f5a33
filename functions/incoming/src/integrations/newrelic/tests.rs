use serde_json::{Value, json};

use super::*;

fn run(body: &Value) -> Result<Handled, IntegrationError> {
    let raw = serde_json::to_vec(body).unwrap();
    Newrelic.handle(&Payload { params: &[], event_type: None, headers: &[], body, raw: &raw })
}

fn incident() -> Value {
    json!({
        "issueUrl": "https://example.com/issue",
        "title": "Disk full",
        "priority": "LOW",
        "totalIncidents": 2,
        "state": "CREATED",
        "createdAt": 0,
        "updatedAt": 1_000,
        "alertPolicyNames": ["P"],
        "alertConditionNames": ["C"],
    })
}

fn malformed(body: &Value) -> bool {
    matches!(run(body), Err(IntegrationError::Malformed(_)))
}

#[test]
fn the_sample_renders() {
    let (event, sample) = Newrelic.sample();
    assert_eq!(event, None);
    let handled = run(&serde_json::from_str(sample).unwrap()).unwrap();
    assert_eq!(handled.event, "ACTIVATED");
}

#[test]
fn a_whole_second_has_no_fraction() {
    let Outcome::Message { topic, content } = run(&incident()).unwrap().outcome else { panic!() };
    assert_eq!(topic, "Disk full");
    assert!(content.contains("**Updated at**: <time: 1970-01-01 00:00:01+00:00 >"), "{content}");
    assert!(content.starts_with(":blue_circle: **[Disk full](https://example.com/issue)**"), "{content}");
}

#[test]
fn wrong_types_are_malformed() {
    for (key, value) in [
        ("title", json!(3)),
        ("priority", json!("URGENT")),
        ("state", json!("OPEN")),
        ("totalIncidents", json!("2")),
        ("alertPolicyNames", json!("P")),
        ("alertConditionNames", json!([1])),
        ("owner", json!(["x"])),
        ("zulipCustomFields", json!([])),
        ("createdAt", json!(null)),
    ] {
        let mut body = incident();
        body[key] = value;
        assert!(malformed(&body), "{key}");
    }
    assert!(malformed(&json!([1])));
}

#[test]
fn text_or_huge_times_are_refused() {
    for value in [json!("1713766657383"), json!(253_402_300_800_000_i64)] {
        let mut body = incident();
        body["updatedAt"] = value;
        assert!(matches!(run(&body), Err(IntegrationError::BadRequest(_))));
    }
}

#[test]
fn custom_fields_keep_their_order() {
    let raw = br#"{"issueUrl": "u", "title": "t", "priority": "LOW", "totalIncidents": 1, "state": "CLOSED", "createdAt": 0, "updatedAt": 0, "alertPolicyNames": [], "alertConditionNames": [], "zulipCustomFields": {"zeta": 1.0, "alpha": [true, null, {}]}}"#;
    let body: Value = serde_json::from_slice(raw).unwrap();
    let handled = Newrelic.handle(&Payload { params: &[], event_type: None, headers: &[], body: &body, raw }).unwrap();
    let Outcome::Message { content, .. } = handled.outcome else { panic!() };
    assert!(content.contains("- **Zeta**: 1.0\n- **Alpha**: *Value is not a supported data type*\n"), "{content}");
}
