use serde_json::{Value, json};

use super::*;

fn run(body: &Value, params: &[(&str, &str)]) -> Result<Handled, IntegrationError> {
    let params: Vec<(String, String)> = params.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    Alertmanager.handle(&Payload { params: &params, event_type: None, headers: &[], body, raw: b"" })
}

fn messages(body: &Value, params: &[(&str, &str)]) -> Vec<(String, String)> {
    match run(body, params).unwrap().outcome {
        Outcome::Messages(messages) => messages,
        other => panic!("{other:?}"),
    }
}

fn alert(status: &str, instance: &str, alertname: &str) -> Value {
    json!({
        "status": status,
        "labels": {"alertname": alertname, "instance": instance},
        "annotations": {"summary": format!("{alertname} on {instance}")},
        "generatorURL": "http://prometheus:9090/graph?g0.tab=1"
    })
}

#[test]
fn the_sample_renders() {
    let (event, sample) = Alertmanager.sample();
    assert_eq!(event, None);
    let body = serde_json::from_str(sample).unwrap();
    assert_eq!(
        messages(&body, &[]),
        vec![(
            "10.0.3.14:8080".to_owned(),
            ":alert: **FIRING** InstanceDown ([source](http://prometheus:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=0))"
                .to_owned()
        )]
    );
}

#[test]
fn one_message_per_name_and_status_firing_first() {
    let body = json!({"alerts": [
        alert("resolved", "b", "Down"),
        alert("firing", "a", "Down"),
        alert("firing", "b", "Slow"),
        alert("firing", "b", "Down"),
    ]});
    let source = "([source](http://prometheus:9090/graph?g0.tab=0))";
    assert_eq!(
        messages(&body, &[]),
        vec![
            ("b".to_owned(), format!(":alert: **FIRING**\n* Slow {source}\n* Down {source}")),
            ("b".to_owned(), format!(":squared_ok: **Resolved** Down {source}")),
            ("a".to_owned(), format!(":alert: **FIRING** Down {source}")),
        ]
    );
}

#[test]
fn the_name_and_desc_options_pick_labels_or_annotations() {
    let body = json!({"alerts": [alert("firing", "a", "Down")]});
    assert_eq!(
        messages(&body, &[("name", "alertname"), ("desc", "summary")]),
        vec![(
            "Down".to_owned(),
            ":alert: **FIRING** Down on a ([source](http://prometheus:9090/graph?g0.tab=0))".to_owned()
        )]
    );
    assert_eq!(
        messages(&body, &[("name", "nope"), ("desc", "nada")]),
        vec![(
            "(unknown)".to_owned(),
            ":alert: **FIRING** <missing field: nada> ([source](http://prometheus:9090/graph?g0.tab=0))".to_owned()
        )]
    );
}

#[test]
fn no_alerts_send_nothing() {
    assert_eq!(run(&json!({"alerts": []}), &[]).unwrap().outcome, Outcome::Ignore);
}

#[test]
fn garbage_is_malformed() {
    for body in [
        json!({}),
        json!({"alerts": 3}),
        json!({"alerts": [3]}),
        json!({"alerts": [{"status": "firing", "labels": {"instance": 3}, "generatorURL": "u"}]}),
        json!({"alerts": [{"status": "firing", "labels": []}]}),
        json!({"alerts": [{"status": "firing"}]}),
        json!({"alerts": [{"status": "odd", "generatorURL": "u"}]}),
    ] {
        assert!(matches!(run(&body, &[]), Err(IntegrationError::Malformed(_))), "{body}");
    }
}
