use serde_json::{Value, json};

use super::*;

fn run(body: &Value) -> Result<Handled, IntegrationError> {
    Taiga.handle(&Payload { params: &[], event_type: None, headers: &[], body, raw: b"" })
}

fn message(body: &Value) -> (String, String) {
    match run(body).unwrap().outcome {
        Outcome::Message { topic, content } => (topic, content),
        other => panic!("{other:?}"),
    }
}

fn malformed(body: &Value) -> String {
    match run(body) {
        Err(IntegrationError::Malformed(msg)) => msg,
        other => panic!("{other:?}"),
    }
}

fn task_change(diff: Value, comment: &str) -> Value {
    json!({
        "action": "change",
        "type": "task",
        "by": {"full_name": "Ada", "permalink": "https://t/ada"},
        "data": {"subject": "Fix it"},
        "change": {"diff": diff, "comment": comment},
    })
}

#[test]
fn the_sample_renders() {
    let (event, sample) = Taiga.sample();
    assert_eq!(event, None);
    let handled = run(&serde_json::from_str(sample).unwrap()).unwrap();
    assert_eq!(handled.event, "task_change");
    let Outcome::Message { topic, content } = handled.outcome else { panic!() };
    assert_eq!(topic, "Sprint 3");
    assert_eq!(
        content,
        "[Ada](https://tree.taiga.io/profile/ada) changed status of task [Fix the login form](https://tree.taiga.io/project/ada-site/task/12) from In progress to Ready for test.\n\
         [Ada](https://tree.taiga.io/profile/ada) commented on task [Fix the login form](https://tree.taiga.io/project/ada-site/task/12)."
    );
}

#[test]
fn lines_are_sorted_and_unknown_fields_left_out() {
    let diff = json!({
        "taskboard_order": {"from": 1, "to": 2},
        "status": {"from": "New", "to": "Done"},
        "is_blocked": {"from": false, "to": true},
    });
    let (topic, content) = message(&task_change(diff, ""));
    assert_eq!(topic, "General");
    assert_eq!(
        content,
        "[Ada](https://t/ada) blocked task **Fix it**.\n[Ada](https://t/ada) changed status of task **Fix it** from New to Done."
    );
}

#[test]
fn dates_that_did_not_change_and_empty_changes_send_nothing() {
    let same = json!({"due_date": {"from": "2020-01-01", "to": "2020-01-01"}});
    assert_eq!(run(&task_change(same, "")).unwrap().outcome, Outcome::Ignore);
    assert_eq!(run(&task_change(json!({}), "")).unwrap().outcome, Outcome::Ignore);
    assert_eq!(run(&task_change(Value::Null, "")).unwrap().outcome, Outcome::Ignore);
}

#[test]
fn a_cleared_value_reads_none() {
    let diff = json!({"user_story": {"from": "#1 Old", "to": null}});
    assert_eq!(
        message(&task_change(diff, "")).1,
        "[Ada](https://t/ada) moved task **Fix it** from user story #1 Old to None."
    );
}

#[test]
fn values_that_look_like_placeholders_stay() {
    let diff = json!({"subject": {"from": "{new}", "to": "{old}"}});
    assert_eq!(message(&task_change(diff, "")).1, "[Ada](https://t/ada) renamed task {new} to **{old}**.");
}

#[test]
fn sprints_are_named_by_name() {
    let body = json!({
        "action": "create", "type": "milestone",
        "by": {"full_name": "Ada", "permalink": "https://t/ada"},
        "data": {"name": "Sprint 1", "subject": null},
    });
    assert_eq!(message(&body).1, "[Ada](https://t/ada) created sprint **Sprint 1**.");
}

#[test]
fn unknown_types_and_actions_are_unsupported() {
    for (kind, action, event) in [("wikipage", "create", "wikipage_create"), ("task", "move", "task_move")] {
        let body = json!({"action": action, "type": kind});
        let Err(IntegrationError::Unsupported { event: got, .. }) = run(&body) else { panic!("{kind} {action}") };
        assert_eq!(got, event);
    }
}

#[test]
fn wrong_types_are_malformed() {
    assert_eq!(malformed(&json!({"type": "task"})), "expected text at /action");
    assert_eq!(malformed(&task_change(json!({"status": "x"}), "")), "expected an object at /change/diff/status");
    assert_eq!(
        malformed(&task_change(json!({"status": {"from": 1, "to": "x"}}), "")),
        "expected text at /change/diff/status/from"
    );
    assert_eq!(
        malformed(&task_change(json!({"is_blocked": {"to": "yes"}}), "")),
        "expected true or false at /change/diff/is_blocked/to"
    );
    assert_eq!(malformed(&task_change(json!([1]), "")), "expected an object at /change/diff");
    let mut body = task_change(json!({"points": {}}), "");
    body["data"]["permalink"] = json!(5);
    assert_eq!(malformed(&body), "expected text at /data/permalink");
    body["data"] = json!("x");
    assert_eq!(malformed(&body), "expected an object at /data");
    let mut body = task_change(json!({"description_diff": {}}), "");
    body["by"] = json!(null);
    assert_eq!(malformed(&body), "expected text at /by/full_name");
}
