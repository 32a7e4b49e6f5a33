use serde_json::{Value, json};

use super::*;

fn run(body: &Value) -> Result<Handled, IntegrationError> {
    Grafana.handle(&Payload { params: &[], event_type: None, headers: &[], body, raw: b"" })
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

#[test]
fn the_sample_renders() {
    let (event, sample) = Grafana.sample();
    assert_eq!(event, None);
    let (event, topic, content) = message(&serde_json::from_str(sample).unwrap());
    assert_eq!((event.as_str(), topic.as_str()), ("firing", "High memory usage"));
    assert!(
        content.starts_with(":alert: **FIRING**\n\n**High memory usage**\n\nThis alert was fired at "),
        "{content}"
    );
    assert!(content.contains("\n\nValues:\n- A: 93.4\n- C: 1\n\n"), "{content}");
}

/// Zulip's `alert_multiple_v8` fixture, first alert: the same text as Zulip's message.
#[test]
fn an_alert_reads_like_zulips() {
    let body = json!({"status": "firing", "alerts": [{
        "status": "firing",
        "labels": {"alertname": "High memory usage", "team": "blue", "zone": "us-1"},
        "annotations": {
            "description": "The system has high memory usage",
            "runbook_url": "https://myrunbook.com/runbook/1234",
            "summary": "This alert was triggered for zone us-1"
        },
        "startsAt": "2021-10-12T09:51:03.157076+02:00",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "https://play.grafana.org/alerting/1afz29v7z/edit",
        "fingerprint": "c6eadffa33fcdf37",
        "silenceURL": "https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DT2%2Cteam%3Dblue%2Czone%3Dus-1",
        "dashboardURL": "",
        "panelURL": "",
        "valueString": "[ metric='' labels={} value=14151.331895396988 ]"
    }]});
    let (_, topic, content) = message(&body);
    assert_eq!(topic, "High memory usage");
    assert_eq!(
        content,
        ":alert: **FIRING**\n\n**High memory usage**\n\nThis alert was fired at <time:2021-10-12T09:51:03+02:00>.\n\n\
         Labels:\n- alertname: High memory usage\n- team: blue\n- zone: us-1\n\n\
         Values:\n[ metric='' labels={} value=14151.331895396988 ]\n\n\
         Annotations:\n- description: The system has high memory usage\n- runbook_url: https://myrunbook.com/runbook/1234\n\
         - summary: This alert was triggered for zone us-1\n\n\
         [Generator](https://play.grafana.org/alerting/1afz29v7z/edit)\n\
         [Silence](https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DT2%2Cteam%3Dblue%2Czone%3Dus-1)"
    );
}

#[test]
fn the_topic_is_the_alert_rule() {
    let topic = |body: Value| message(&body).1;
    let alert = |name: &str| json!({"status": "firing", "labels": {"alertname": name}});
    assert_eq!(topic(json!({"commonLabels": {"alertname": "A"}, "alerts": [alert("B")]})), "A");
    assert_eq!(topic(json!({"alerts": [alert("B")]})), "B");
    assert_eq!(topic(json!({"groupLabels": {"alertname": "C"}, "alerts": [alert("B"), alert("D")]})), "C");
    assert_eq!(topic(json!({"title": "[FIRING:2] Disk (prod)", "alerts": [alert("B"), alert("D")]})), "Disk (prod)");
    assert_eq!(topic(json!({"title": "[RESOLVED] Disk", "alerts": [alert("B"), alert("D")]})), "Disk");
    assert_eq!(topic(json!({"title": "[prod] Disk", "alerts": [alert("B"), alert("D")]})), "[prod] Disk");
    assert_eq!(topic(json!({"alerts": [{"status": "firing"}]})), "Grafana");
    assert_eq!(topic(json!({"state": "ok", "ruleName": "Rule"})), "Rule");
    assert_eq!(topic(json!({"state": "ok", "title": " ", "ruleName": "Rule"})), "Rule");
    assert_eq!(topic(json!({"state": "ok"})), "Grafana");
}

#[test]
fn the_event_is_the_status_or_the_legacy_state() {
    let event = |body: Value| message(&body).0;
    assert_eq!(event(json!({"status": "resolved", "alerts": [{"status": "resolved"}]})), "resolved");
    assert_eq!(event(json!({"alerts": [{"status": "resolved"}, {"status": "firing"}]})), "firing");
    assert_eq!(event(json!({"alerts": [{"status": "resolved"}]})), "resolved");
    for state in ["alerting", "ok", "pending", "paused", "no_data", "unknown"] {
        assert_eq!(event(json!({ "state": state, "ruleName": "r" })), state);
        assert!(Grafana.event_types().contains(&state));
    }
}

#[test]
fn times_are_kept_to_the_second_in_their_offset() {
    assert_eq!(global_time("2024-03-01T02:09:00Z"), "<time:2024-03-01T02:09:00+00:00>");
    assert_eq!(global_time("2024-03-01T02:09:00.123456789-05:30"), "<time:2024-03-01T02:09:00-05:30>");
    assert_eq!(global_time("2024-03-01 02:09:00+0100"), "<time:2024-03-01T02:09:00+01:00>");
    for odd in [
        "",
        "yesterday",
        "2024-03-01",
        "2024-03-01T02:09:00",
        "2024-03-01T02:09:00.Zulu",
        "2024-03-01T02:09:00+1",
        "２０２４-03-01T02:09:00Z",
    ] {
        assert_eq!(global_time(odd), odd);
    }
}

#[test]
fn resolved_alerts_say_when() {
    let body = json!({"status": "resolved", "alerts": [{
        "status": "resolved", "startsAt": "2024-03-01T02:09:00Z", "endsAt": "2024-03-01T02:19:00Z",
        "labels": {}, "annotations": {}, "values": {}, "imageURL": "https://x.io/i.png"
    }]});
    assert_eq!(
        message(&body).2,
        ":checkbox: **RESOLVED**\n\nThis alert was fired at <time:2024-03-01T02:09:00+00:00>.\n\n\
         This alert was resolved at <time:2024-03-01T02:19:00+00:00>.\n\n[Image](https://x.io/i.png)"
    );
}

#[test]
fn legacy_alerts_read_like_zulips() {
    let body = json!({
        "evalMatches": [{"value": 100, "metric": "High value", "tags": null}, {"value": 200, "metric": "Higher Value"}],
        "imageUrl": "https://grafana.com/assets/img/blog/mixed_styles.png",
        "message": "Someone is testing the alert notification within grafana.",
        "ruleName": "Test rule", "ruleUrl": "http://localhost:3000/", "state": "alerting",
        "title": "[Alerting] Test notification"
    });
    let (event, topic, content) = message(&body);
    assert_eq!((event.as_str(), topic.as_str()), ("alerting", "[Alerting] Test notification"));
    assert_eq!(
        content,
        ":alert: **ALERTING**\n\n[Test rule](http://localhost:3000/)\n\n\
         Someone is testing the alert notification within grafana.\n\n**High value:** 100\n**Higher Value:** 200\n\n\
         [Click to view visualization](https://grafana.com/assets/img/blog/mixed_styles.png)"
    );
    let paused = json!({"state": "paused", "ruleName": "Test rule", "evalMatches": null, "title": "[Paused] Test"});
    assert_eq!(message(&paused).2, ":info: **PAUSED**\n\nTest rule");
}

#[test]
fn many_alerts_are_counted_not_listed() {
    let alerts: Vec<Value> =
        (0..30).map(|i| json!({"status": "firing", "labels": {"alertname": format!("a{i}")}})).collect();
    let (_, _, content) = message(&json!({ "status": "firing", "alerts": alerts, "truncatedAlerts": 7 }));
    assert_eq!(content.matches(":alert: **FIRING**").count(), MAX_ALERTS);
    assert!(content.ends_with("**a19**\n\nLabels:\n- alertname: a19\n\n[and 17 more]"), "{content}");
    let matches: Vec<Value> = (0..25).map(|i| json!({"metric": format!("m{i}"), "value": i})).collect();
    let (_, _, content) = message(&json!({ "state": "alerting", "evalMatches": matches }));
    assert!(content.ends_with("**m19:** 19\n[and 5 more]"), "{content}");
}

#[test]
fn garbage_is_malformed() {
    assert_eq!(malformed(json!("alert")), "expected a JSON object");
    assert_eq!(malformed(json!({})), "expected text at /state");
    assert_eq!(malformed(json!({"alerts": []})), "no alerts");
    assert_eq!(malformed(json!({"alerts": "firing"})), "expected a list at /alerts");
    assert_eq!(malformed(json!({"alerts": [[]]})), "expected an alert object");
    assert_eq!(malformed(json!({"status": "burning", "alerts": [{}]})), "unknown status 'burning'");
    assert_eq!(malformed(json!({"alerts": [{"labels": "a=b"}]})), "expected an object at labels");
    assert_eq!(malformed(json!({"alerts": [{"labels": {"a": ["b"]}}]})), "expected text at labels.a");
    assert_eq!(malformed(json!({"alerts": [{"values": {"A": {"v": 1}}}]})), "expected text at values.A");
    assert_eq!(malformed(json!({"alerts": [{"startsAt": 1700000000}]})), "expected text at startsAt");
    assert_eq!(malformed(json!({"alerts": [{"silenceURL": true}]})), "expected text at silenceURL");
    assert_eq!(malformed(json!({"state": 3})), "expected text at /state");
    assert_eq!(malformed(json!({"state": "melting"})), "unknown state 'melting'");
    assert_eq!(malformed(json!({"state": "ok", "evalMatches": [{"value": 1}]})), "expected text at /metric");
    assert_eq!(
        malformed(json!({"state": "ok", "evalMatches": [{"metric": "m", "value": "1"}]})),
        "expected a number at /value"
    );
    assert_eq!(malformed(json!({"state": "ok", "evalMatches": {}})), "expected a list at /evalMatches");
}
