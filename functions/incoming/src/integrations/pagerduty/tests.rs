use serde_json::{Value, json};

use super::*;
use crate::signature::mac;

fn run(body: &Value) -> Result<Handled, IntegrationError> {
    Pagerduty.handle(&Payload { params: &[], event_type: None, headers: &[], body, raw: b"" })
}

fn v1(kind: &str) -> Value {
    json!({"type": kind, "data": {"incident": {
        "id": "P1",
        "incident_number": 7,
        "html_url": "https://pd/i/P1",
        "service": {"name": "Web", "html_url": "https://pd/s/S1"},
        "assigned_to_user": {"email": "ada@acme.test", "html_url": "https://pd/u/ada"},
        "trigger_summary_data": {"subject": "Disk full", "description": "on db1"},
    }}})
}

fn v3(kind: &str) -> Value {
    json!({"event": {"event_type": kind, "agent": null, "data": {
        "id": "P2",
        "number": 8,
        "title": "Outage",
        "html_url": "https://pd/i/P2",
        "service": {"summary": "Web", "html_url": "https://pd/s/S1"},
        "assignees": [],
    }}})
}

fn messages(body: &Value) -> Vec<(String, String)> {
    match run(body).unwrap().outcome {
        Outcome::Message { topic, content } => vec![(topic, content)],
        Outcome::Messages(messages) => messages,
        Outcome::Ignore => Vec::new(),
        other => panic!("PagerDuty sends to the URL's stream: {other:?}"),
    }
}

#[test]
fn the_sample_renders() {
    let (event, sample) = Pagerduty.sample();
    assert_eq!(event, None);
    assert_eq!(run(&serde_json::from_str(sample).unwrap()).unwrap().event, "triggered");
}

#[test]
fn v1_quotes_the_trigger_summary_and_names_users_by_their_email() {
    assert_eq!(
        messages(&json!({"messages": [v1("incident.acknowledge")]})),
        [(
            "Incident 7".to_owned(),
            "Incident [7](https://pd/i/P1) acknowledged by [ada](https://pd/u/ada).\n\n``` quote\nDisk full\non db1\n```"
                .to_owned()
        )]
    );
}

#[test]
fn every_entry_of_a_list_is_a_message() {
    let sent = messages(&json!({"messages": [v1("incident.trigger"), v1("incident.escalate")]}));
    assert_eq!(sent.len(), 2);
    assert!(sent[1].1.starts_with("Incident [7](https://pd/i/P1) escalated by [ada]"));
    assert_eq!(run(&json!({"messages": [v1("incident.trigger")]})).unwrap().event, "triggered");
}

#[test]
fn v3_without_an_agent_or_assignees() {
    assert_eq!(
        messages(&v3("incident.resolved")),
        [("Incident Outage (#8)".to_owned(), "Incident [Outage (#8)](https://pd/i/P2) resolved.".to_owned())]
    );
    assert_eq!(
        messages(&v3("incident.triggered"))[0].1,
        "Incident [Outage (#8)](https://pd/i/P2) triggered by [Web](https://pd/s/S1) (assigned to nobody)."
    );
}

#[test]
fn nothing_to_show_sends_nothing() {
    assert_eq!(run(&json!({})).unwrap().outcome, Outcome::Ignore);
    assert_eq!(run(&json!({"messages": []})).unwrap().outcome, Outcome::Ignore);
    assert_eq!(run(&json!({"messages": [{"id": 1}]})).unwrap().outcome, Outcome::Ignore);
}

#[test]
fn unknown_events_are_unsupported() {
    for body in [json!({"messages": [v1("incident.nope")]}), v3("incident.annotated"), v3("incident.trigger")] {
        assert!(matches!(run(&body), Err(IntegrationError::Unsupported { .. })), "{body}");
    }
}

#[test]
fn wrong_types_and_missing_fields_are_malformed() {
    for pointer in [
        "/data/incident/incident_number",
        "/data/incident/html_url",
        "/data/incident/service",
        "/data/incident/assigned_to_user",
        "/data/incident/trigger_summary_data/subject",
    ] {
        let mut message = v1("incident.trigger");
        *message.pointer_mut(pointer).unwrap() = json!([7]);
        assert!(matches!(run(&json!({"messages": [message]})), Err(IntegrationError::Malformed(_))), "{pointer}");
    }
    for pointer in ["/event/data/number", "/event/data/title", "/event/data/assignees", "/event/agent"] {
        let mut body = v3("incident.resolved");
        *body.pointer_mut(pointer).unwrap() = json!(["x"]);
        assert!(matches!(run(&body), Err(IntegrationError::Malformed(_))), "{pointer}");
    }
    for body in [json!({"messages": "x"}), json!({"messages": [7]}), json!({"event": 7}), json!([1])] {
        assert!(matches!(run(&body), Err(IntegrationError::Malformed(_))), "{body}");
    }
}

#[test]
fn any_of_several_signatures_passes() {
    let raw = br#"{"event":{}}"#;
    let good = hex::encode(mac(Hash::Sha256, "s3cret", &[raw]));
    let body = Value::Null;
    let check = |value: &str| {
        let headers = vec![("x-pagerduty-signature".to_owned(), value.to_owned())];
        Pagerduty.verify("s3cret", &Payload { params: &[], event_type: None, headers: &headers, body: &body, raw })
    };
    assert!(check(&format!("v1={good}")).is_ok());
    assert!(check(&format!("v1=abcd,v1={good}")).is_ok());
    assert!(check(&good).is_err(), "the version prefix is required");
    assert!(check("v1=abcd").is_err());
    let unsigned = Payload { params: &[], event_type: None, headers: &[], body: &body, raw };
    assert!(matches!(Pagerduty.verify("s3cret", &unsigned), Err(IntegrationError::BadSignature(_))));
}
