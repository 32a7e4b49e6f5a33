use serde_json::{Value, json};

use super::*;

fn run(body: &Value) -> Result<Handled, IntegrationError> {
    Grafana.handle(&Payload { params: &[], event_type: None, headers: &[], body, raw: b"" })
}

fn messages(body: &Value) -> Vec<(String, String)> {
    match run(body).unwrap().outcome {
        Outcome::Messages(messages) => messages,
        Outcome::Message { topic, content } => vec![(topic, content)],
        Outcome::Ignore => Vec::new(),
        other => panic!("Grafana sends to the URL's stream: {other:?}"),
    }
}

fn alert(status: &str, labels: Value) -> Value {
    json!({
        "status": status,
        "labels": labels,
        "annotations": {},
        "startsAt": "2024-03-01T02:09:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "",
        "silenceURL": "",
        "fingerprint": "e634"
    })
}

#[test]
fn the_sample_renders() {
    let (event, sample) = Grafana.sample();
    assert_eq!(event, None);
    let sent = messages(&serde_json::from_str(sample).unwrap());
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, "[High memory usage]");
    assert!(sent[0].1.starts_with(":alert: **FIRING**\n\n**High memory usage**\n\n"), "{}", sent[0].1);
}

#[test]
fn one_message_per_alert_in_the_topic_of_its_name_or_fingerprint() {
    let body = json!({"alerts": [alert("firing", json!({"alertname": "Disk"})), alert("resolved", json!({}))]});
    assert_eq!(
        messages(&body),
        vec![
            (
                "[Disk]".to_owned(),
                ":alert: **FIRING**\n\n**Disk**\n\nThis alert was fired at <time:2024-03-01T02:09:00Z>.\n\nLabels:\n- alertname: Disk"
                    .to_owned()
            ),
            ("[e634]".to_owned(), ":checkbox: **RESOLVED**\n\nThis alert was fired at <time:2024-03-01T02:09:00Z>.".to_owned()),
        ]
    );
    assert_eq!(run(&body).unwrap().event, "firing");
}

#[test]
fn values_are_shown_as_python_shows_them() {
    let mut one = alert("firing", json!({}));
    one["values"] = json!({"A": 1, "B": 2.5, "C": null, "D": true, "E": "x", "F": [1, "y"]});
    let (_, content) = messages(&json!({ "alerts": [one] })).remove(0);
    assert!(content.ends_with(".Values:\n- A: 1\n- B: 2.5\n- C: None\n- D: True\n- E: x\n- F: [1, 'y']"), "{content}");
}

#[test]
fn legacy_alerts_read_like_zulips() {
    let body = json!({
        "title": "[Alerting] Disk", "ruleName": "Disk", "ruleUrl": "http://g/", "state": "alerting",
        "evalMatches": [{"metric": "free", "value": 1.5}, {"metric": "gone", "value": null}],
    });
    assert_eq!(
        messages(&body),
        vec![(
            "[Alerting] Disk".to_owned(),
            ":alert: **ALERTING**\n\n[Disk](http://g/)\n\n**free:** 1.5\n**gone:** None".to_owned()
        )]
    );
    assert_eq!(run(&body).unwrap().event, "alerting");
}

#[test]
fn garbage_is_malformed() {
    for body in [
        json!([]),
        json!({"alerts": 3}),
        json!({"alerts": [3]}),
        json!({"alerts": [{"status": "odd"}]}),
        json!({"alerts": [{"status": "firing", "labels": 3}]}),
        json!({"alerts": [alert("firing", json!({"alertname": 3}))]}),
        json!({"title": "t", "ruleName": "r", "ruleUrl": "u", "state": "weird"}),
        json!({"title": "t", "ruleName": "r", "ruleUrl": "u", "state": "ok", "evalMatches": [{"metric": "m", "value": "x"}]}),
        json!({"state": "ok"}),
    ] {
        assert!(matches!(run(&body), Err(IntegrationError::Malformed(_))), "{body}");
    }
}
