use serde_json::{Value, json};

use super::*;

fn run(body: &Value, event_key: Option<&str>, params: &[(&str, &str)]) -> Result<Handled, IntegrationError> {
    let headers: Vec<(String, String)> =
        event_key.map(|key| ("x-event-key".to_owned(), key.to_owned())).into_iter().collect();
    let params: Vec<(String, String)> = params.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    Bitbucket2.handle(&Payload { params: &params, event_type: None, headers: &headers, body, raw: b"" })
}

fn malformed(body: &Value, event_key: Option<&str>) -> String {
    match run(body, event_key, &[]) {
        Err(IntegrationError::Malformed(msg)) => msg,
        other => panic!("{other:?}"),
    }
}

fn sample() -> Value {
    serde_json::from_str(Bitbucket2.sample().1).unwrap()
}

#[test]
fn the_sample_renders() {
    let handled = run(&sample(), None, &[]).unwrap();
    assert_eq!(handled.event, "push");
    let Outcome::Message { topic, content } = handled.outcome else { panic!("one message") };
    assert_eq!(topic, "Repository name / master");
    assert!(content.starts_with("Tomasz [pushed]("), "{content}");
}

#[test]
fn users_are_named_by_display_name_then_nickname() {
    assert_eq!(user_info(&json!({})).unwrap(), "Unknown user");
    let mut user = json!({"nickname": "alice", "noisy_field": "whatever", "display_name": "Alice Smith"});
    assert_eq!(user_info(&user).unwrap(), "Alice Smith");
    user.as_object_mut().unwrap().remove("display_name");
    assert_eq!(user_info(&user).unwrap(), "alice");
    user.as_object_mut().unwrap().remove("nickname");
    assert_eq!(user_info(&user).unwrap(), "Unknown user");
    assert!(user_info(&json!({"display_name": 3})).is_err());
    assert!(user_info(&json!("alice")).is_err());
}

#[test]
fn the_payload_names_the_event_and_the_header_names_pull_request_actions() {
    let pr = json!({"pullrequest": {}});
    assert_eq!(event_type(&pr, Some("pullrequest:created")).unwrap(), "pull_request_created");
    assert_eq!(event_type(&pr, None), Err(IntegrationError::MissingEventHeader("X-Event-Key")));
    assert!(matches!(event_type(&pr, Some("pullrequest:other")), Err(IntegrationError::Unsupported { .. })));
    assert_eq!(event_type(&json!({"issue": {}, "comment": {}}), None).unwrap(), "issue_commented");
    assert_eq!(event_type(&json!({"issue": {}, "changes": {}, "comment": {}}), None).unwrap(), "issue_updated");
    assert_eq!(event_type(&json!({"comment": {}, "commit": {}}), None).unwrap(), "commit_comment");
    assert_eq!(event_type(&json!({"changes": {}}), Some("repo:updated")).unwrap(), "repo:updated");
    assert!(matches!(event_type(&json!({}), Some("repo:push")), Err(IntegrationError::Unsupported { .. })));
}

#[test]
fn branch_filters_apply_to_each_change() {
    let change = |name: &str| {
        json!({"new": {"type": "branch", "name": name, "target": {"hash": "abc"}}, "old": null,
               "forced": false, "truncated": false, "commits": [], "links": {"html": {"href": "u"}}})
    };
    let body = json!({"actor": {"display_name": "Ada"}, "repository": {"name": "r"},
                      "push": {"changes": [change("main"), change("dev")]}});
    assert_eq!(
        run(&body, None, &[("branches", "main")]).unwrap().outcome,
        Outcome::Message { topic: "r / main".into(), content: "Ada [pushed](u) the branch main.".into() }
    );
    assert!(matches!(run(&body, None, &[]).unwrap().outcome, Outcome::Messages(m) if m.len() == 2));
    assert_eq!(run(&body, None, &[("branches", "x")]).unwrap().outcome, Outcome::Ignore);
}

#[test]
fn repository_updates_show_what_changed() {
    let body = json!({"actor": {"nickname": "ada"}, "repository": {"name": "r"}, "changes": {
        "website": {"new": "", "old": "http://old"},
        "name": {"new": "r", "old": "q"},
        "language": {"new": "rust", "old": null},
        "description": {"new": "Done!", "old": "x"}
    }});
    let Outcome::Message { topic, content } = run(&body, Some("repo:updated"), &[]).unwrap().outcome else {
        panic!("one message")
    };
    assert_eq!(topic, "r");
    assert_eq!(
        content,
        "ada changed the name of the **r** repo from **q** to **r**.\n\
         ada changed the language of the **r** repo to **rust**.\n\
         ada changed the description of the **r** repo from **x** to **Done!**"
    );
    let nothing = json!({"actor": {}, "repository": {"name": "r"}, "changes": {"name": {"new": "", "old": ""}}});
    assert_eq!(run(&nothing, Some("repo:updated"), &[]).unwrap().outcome, Outcome::Ignore);
}

#[test]
fn missing_fields_and_wrong_types_are_malformed() {
    assert_eq!(malformed(&json!([1]), None), "expected a JSON object");
    assert_eq!(malformed(&json!({"fork": {}, "repository": {}}), None), "expected text at /name");
    assert_eq!(malformed(&json!({"fork": {}, "repository": {"name": "r"}}), None), "expected an object at /actor");
    let change = json!({"new": null, "old": null});
    assert_eq!(malformed(&json!({"push": {"changes": [change]}}), None), "a change has neither a new nor an old ref");
    let body = json!({"actor": {}, "repository": {"name": "r"}, "push": {"changes": [{"new": {"type": "branch", "name": "m"}}]}});
    assert_eq!(malformed(&body, None), "expected a boolean at /forced");
    let body = json!({"commit_status": {"links": {"commit": {"href": 1}}}, "repository": {"name": "r"}});
    assert_eq!(malformed(&body, None), "expected text at /commit_status/links/commit/href");
    let body = json!({"pullrequest": {"id": "1"}, "repository": {"name": "r"}});
    assert_eq!(malformed(&body, Some("pullrequest:approved")), "expected a number at /pullrequest/id");
}

#[test]
fn commits_without_a_user_count_under_the_first_word_of_the_author_line() {
    assert_eq!(commit_author(&json!({"author": {"raw": "Ada Lovelace <ada@example.com>"}})).unwrap(), "Ada");
    assert!(commit_author(&json!({"author": {"raw": "  "}})).is_err());
    assert_eq!(commit_author(&json!({"author": {"user": {"display_name": "Ada L."}}})).unwrap(), "Ada L.");
}
