use serde_json::{Value, json};

use super::*;

fn run(body: &Value) -> Result<Handled, IntegrationError> {
    Alertmanager.handle(&Payload { params: &[], event_type: None, headers: &[], body, raw: b"" })
}

fn message(body: &Value) -> (String, String, String) {
    match run(body).unwrap() {
        Handled { event, outcome: Outcome::Message { topic, content } } => (event, topic, content),
        other => panic!("{other:?}"),
    }
}

fn malformed(body: Value) -> String {
    match run(&body) {
        Err(IntegrationError::Malformed(why)) => why,
        other => panic!("{body}: {other:?}"),
    }
}

fn alert(status: &str, summary: &str, severity: &str) -> Value {
    json!({
        "status": status,
        "labels": {"alertname": "Probe", "severity": severity},
        "annotations": {"summary": summary},
        "generatorURL": "http://prometheus:9090/graph?g0.tab=1"
    })
}

#[test]
fn the_sample_renders() {
    let (event, sample) = Alertmanager.sample();
    assert_eq!(event, None);
    let (event, topic, content) = message(&serde_json::from_str(sample).unwrap());
    assert_eq!((event.as_str(), topic.as_str()), ("firing", "InstanceDown"));
    assert_eq!(
        content,
        "**FIRING** :alert: api-server at 10.0.3.14:8080 is down \
         ([source](http://prometheus:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=0))"
    );
}

#[test]
fn firing_alerts_come_before_resolved_ones() {
    let body = json!({"status": "firing", "alerts": [
        alert("resolved", "r1", "critical"),
        alert("firing", "f1", "critical"),
        alert("firing", "f2", "Warning"),
        alert("firing", "f3", "info"),
        alert("firing", "f4", "page-someone"),
    ]});
    let (event, _, content) = message(&body);
    assert_eq!(event, "firing");
    let source = "([source](http://prometheus:9090/graph?g0.tab=0))";
    assert_eq!(
        content,
        format!(
            "**FIRING**\n* :alert: f1 {source}\n* :warning: f2 {source}\n* :info: f3 {source}\n* :alert: f4 {source}\n\n\
             **Resolved** :squared_ok: r1 {source}"
        )
    );
}

#[test]
fn the_summary_falls_back_to_the_description_then_the_alert_name() {
    let line = |annotations: Value| {
        let body =
            json!({"status": "firing", "alerts": [{"labels": {"alertname": "Probe"}, "annotations": annotations}]});
        message(&body).2
    };
    assert_eq!(line(json!({"summary": "s", "description": "d"})), "**FIRING** :alert: s");
    assert_eq!(line(json!({"summary": " ", "description": "two\nlines  here"})), "**FIRING** :alert: two lines here");
    assert_eq!(line(json!({})), "**FIRING** :alert: Probe");
    let bare = json!({"alerts": [{"status": "resolved"}]});
    assert_eq!(
        message(&bare),
        ("resolved".into(), "Alertmanager".into(), "**Resolved** :squared_ok: (no summary)".into())
    );
}

#[test]
fn the_topic_is_the_groups_alert_name() {
    let topic = |extra: Value| {
        let mut body = json!({"status": "firing", "alerts": [alert("firing", "x", "")]});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        message(&body).1
    };
    assert_eq!(topic(json!({"commonLabels": {"alertname": "A"}, "groupLabels": {"alertname": "B"}})), "A");
    assert_eq!(topic(json!({"commonLabels": {}, "groupLabels": {"alertname": "B"}})), "B");
    assert_eq!(topic(json!({"groupLabels": {"service": "api", "cluster": "prod-eu"}})), "prod-eu / api");
    assert_eq!(topic(json!({"groupLabels": {}})), "Alertmanager");
    assert_eq!(topic(json!({"commonLabels": [1], "groupLabels": "x"})), "Alertmanager");
}

#[test]
fn many_alerts_are_counted_not_listed() {
    let alerts: Vec<Value> = (0..45).map(|i| alert("firing", &format!("a{i}"), "critical")).collect();
    let (_, _, content) = message(&json!({ "status": "firing", "alerts": alerts }));
    assert_eq!(content.lines().filter(|l| l.starts_with("* ")).count(), MAX_ALERTS);
    assert!(content.ends_with("a19 ([source](http://prometheus:9090/graph?g0.tab=0))\n\n[and 25 more]"), "{content}");
}

#[test]
fn garbage_is_malformed() {
    assert_eq!(malformed(json!([])), "expected a JSON object");
    assert_eq!(malformed(json!({})), "no alerts");
    assert_eq!(malformed(json!({"alerts": []})), "no alerts");
    assert_eq!(malformed(json!({"alerts": {"a": 1}})), "expected a list at /alerts");
    assert_eq!(malformed(json!({"alerts": [1]})), "expected an alert object");
    assert_eq!(malformed(json!({"status": "exploded", "alerts": [{}]})), "unknown status 'exploded'");
    assert_eq!(malformed(json!({"status": 3, "alerts": [{}]})), "expected text at status");
    assert_eq!(malformed(json!({"alerts": [{"status": false}]})), "expected text at status");
    assert_eq!(malformed(json!({"alerts": [{"labels": ["a"]}]})), "expected an object at labels");
    assert_eq!(malformed(json!({"alerts": [{"annotations": {"summary": 1}}]})), "expected text at annotations.summary");
    assert_eq!(malformed(json!({"alerts": [{"labels": {"severity": {}}}]})), "expected text at labels.severity");
    assert_eq!(malformed(json!({"alerts": [{"generatorURL": 9}]})), "expected text at generatorURL");
}
