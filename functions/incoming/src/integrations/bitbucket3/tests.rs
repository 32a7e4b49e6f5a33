use serde_json::{Value, json};

use super::*;

fn run(body: &Value, event_key: Option<&str>, params: &[(&str, &str)]) -> Result<Handled, IntegrationError> {
    let headers: Vec<(String, String)> =
        event_key.map(|key| ("x-event-key".to_owned(), key.to_owned())).into_iter().collect();
    let params: Vec<(String, String)> = params.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    Bitbucket3.handle(&Payload { params: &params, event_type: None, headers: &headers, body, raw: b"" })
}

fn malformed(body: &Value) -> String {
    match run(body, None, &[]) {
        Err(IntegrationError::Malformed(msg)) => msg,
        other => panic!("{other:?}"),
    }
}

fn user(name: &str) -> Value {
    json!({"name": name, "links": {"self": [{"href": format!("http://bb/users/{name}")}]}})
}

fn pull_request(title: &str, reviewers: &[&str]) -> Value {
    json!({
        "id": 3, "title": title,
        "links": {"self": [{"href": "http://bb/pr/3"}]},
        "fromRef": {"displayId": "feature"},
        "toRef": {"displayId": "main", "repository": {"name": "app"}},
        "reviewers": reviewers.iter().map(|name| json!({"user": user(name)})).collect::<Vec<_>>(),
    })
}

#[test]
fn the_sample_renders() {
    let body: Value = serde_json::from_str(Bitbucket3.sample().1).unwrap();
    let handled = run(&body, None, &[]).unwrap();
    assert_eq!(handled.event, "repo:refs_changed");
    let Outcome::Message { topic, .. } = handled.outcome else { panic!("one message") };
    assert_eq!(topic, "sandbox / master");
}

#[test]
fn the_payload_names_the_event_before_the_header() {
    let body = json!({"eventKey": "pr:other"});
    assert!(matches!(
        run(&body, Some("diagnostics:ping"), &[]),
        Err(IntegrationError::Unsupported { event, .. }) if event == "pr:other"
    ));
    assert_eq!(run(&json!({}), None, &[]), Err(IntegrationError::MissingEventHeader("X-Event-Key")));
    assert_eq!(run(&json!({"test": true}), Some("diagnostics:ping"), &[]).unwrap().event, "diagnostics:ping");
    assert_eq!(malformed(&json!({"eventKey": 1})), "expected text at eventKey");
}

#[test]
fn reviewer_updates() {
    let body = |title: &str, reviewers: &[&str]| json!({"eventKey": "pr:reviewer:updated", "actor": user("ada"), "pullRequest": pull_request(title, reviewers)});
    let content = |body: &Value, params: &[(&str, &str)]| match run(body, None, params).unwrap().outcome {
        Outcome::Message { content, .. } => content,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        content(&body("Fix", &["bo", "cy", "di"]), &[]),
        "[ada](http://bb/users/ada) reassigned [PR #3](http://bb/pr/3) to [bo](http://bb/users/bo), [cy](http://bb/users/cy) and [di](http://bb/users/di)."
    );
    assert_eq!(
        content(&body("Fix?", &[]), &[("topic", "t")]),
        "[ada](http://bb/users/ada) removed all reviewers from [PR #3 Fix?](http://bb/pr/3)"
    );
    assert_eq!(
        content(&body("Fix", &[]), &[("topic", "t")]),
        "[ada](http://bb/users/ada) removed all reviewers from [PR #3 Fix](http://bb/pr/3)."
    );
}

#[test]
fn pushes_of_unknown_ref_kinds_are_unsupported() {
    let body = json!({"eventKey": "repo:refs_changed", "actor": user("ada"), "repository": {"name": "app"},
                      "changes": [{"type": "ADD", "ref": {"type": "NOTE", "displayId": "n"}, "toHash": "h"}]});
    assert!(matches!(
        run(&body, None, &[]),
        Err(IntegrationError::Unsupported { event, .. }) if event == "repo:refs_changed.NOTE"
    ));
    let body = json!({"eventKey": "repo:refs_changed", "actor": user("ada"), "repository": {"name": "app"},
                      "changes": [{"type": "UPDATE", "ref": {"type": "TAG", "displayId": "v1"}, "toHash": "h"}]});
    assert!(matches!(
        run(&body, None, &[]),
        Err(IntegrationError::Unsupported { event, .. }) if event == "repo:refs_changed.UPDATE"
    ));
}

#[test]
fn missing_fields_and_wrong_types_are_malformed() {
    assert_eq!(malformed(&json!([1])), "expected a JSON object");
    assert_eq!(malformed(&json!({"eventKey": "pr:opened"})), "expected an object at /pullRequest");
    let mut pr = pull_request("Fix", &[]);
    pr["links"]["self"] = json!([]);
    assert_eq!(
        malformed(&json!({"eventKey": "pr:opened", "actor": user("ada"), "pullRequest": pr})),
        "expected text at /links/self/0/href"
    );
    assert_eq!(
        malformed(&json!({"eventKey": "repo:refs_changed", "repository": {"name": "a"}, "changes": {}})),
        "expected a list at /changes"
    );
    let mut pr = pull_request("Fix", &[]);
    pr["description"] = json!(5);
    assert_eq!(
        malformed(&json!({"eventKey": "pr:modified", "actor": user("ada"), "pullRequest": pr})),
        "expected text at description"
    );
}
