use serde_json::{Value, json};

use super::*;

fn run_with(event: &str, body: &Value, params: &[(&str, &str)]) -> Result<Handled, IntegrationError> {
    let params: Vec<(String, String)> = params.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    Gitlab.handle(&Payload { params: &params, event_type: Some(event), headers: &[], body, raw: b"" })
}

fn run(event: &str, body: &Value) -> Result<Handled, IntegrationError> {
    run_with(event, body, &[])
}

fn message(event: &str, body: &Value, params: &[(&str, &str)]) -> (String, String) {
    match run_with(event, body, params).unwrap().outcome {
        Outcome::Message { topic, content } => (topic, content),
        other => panic!("not one message: {other:?}"),
    }
}

fn malformed(event: &str, body: Value) -> String {
    match run(event, &body) {
        Err(IntegrationError::Malformed(why)) => why,
        other => panic!("{event} {body}: {other:?}"),
    }
}

fn project() -> Value {
    json!({"name": "billing", "web_url": "https://gitlab.example.com/acme/billing"})
}

fn merge_request() -> Value {
    json!({"user": {"name": "Ana"}, "project": project(),
        "object_attributes": {"iid": 3, "title": "Export refunds", "url": "https://gitlab.example.com/acme/billing/-/merge_requests/3", "action": "close"}})
}

#[test]
fn the_sample_renders() {
    let (event, sample) = Gitlab.sample();
    let (topic, content) = message(event.unwrap(), &serde_json::from_str(sample).unwrap(), &[]);
    assert_eq!(topic, "billing / main");
    assert_eq!(
        content,
        "Ana Lima [pushed](https://gitlab.example.com/acme/billing/-/compare/95790bf891e76fee5e1747ab589903a6a1f80f22...da1560886d4f094c3e6c9ef40349f7d38b5d27d7) \
         1 commit to branch main.\n\n\
         * Round refunds to the cent ([da1560886d4](https://gitlab.example.com/acme/billing/-/commit/da1560886d4f094c3e6c9ef40349f7d38b5d27d7))"
    );
}

#[test]
fn event_names_are_zulips() {
    let name = |header: &str, body: Value| run(header, &body).map(|h| h.event).unwrap_or_else(|e| format!("{e:?}"));
    let issue = json!({"user": {"name": "Ana"}, "project": project(),
        "object_attributes": {"iid": 1, "title": "T", "url": "u", "action": "reopen"}});
    assert_eq!(name("Issue Hook", issue.clone()), "Issue Hook reopen");
    assert_eq!(name("Confidential Issue Hook", issue), "Confidential Issue Hook reopen");
    // No action: GitLab's older payloads, an opened issue.
    let opened = json!({"user": {"name": "Ana"}, "project": project(), "object_attributes": {"iid": 1, "title": "T", "url": "u"}});
    assert_eq!(name("Issue Hook", opened), "Issue Hook open");
    let system = json!({"event_name": "push", "ref": "refs/heads/main", "user_name": "Ana", "project": project(),
        "before": "1", "after": "2", "commits": []});
    assert_eq!(name("System Hook", system), "Push Hook");
    let mut system_mr = merge_request();
    system_mr["object_kind"] = json!("merge_request");
    assert_eq!(name("System Hook", system_mr), "Merge Request Hook close");
    for event in Gitlab.event_types() {
        assert!(renderer(event).is_some(), "{event}");
    }
}

#[test]
fn unknown_events_are_unsupported() {
    let unsupported = |header: &str, body: Value| match run(header, &body) {
        Err(IntegrationError::Unsupported { event, integration }) => (event, integration),
        other => panic!("{other:?}"),
    };
    assert_eq!(unsupported("Deployment Hook", json!({})), ("Deployment Hook".into(), "GitLab"));
    assert_eq!(
        unsupported("Merge Request Hook", json!({"object_attributes": {"action": "explode"}})).0,
        "Merge Request Hook explode"
    );
    assert_eq!(
        unsupported("Confidential Note Hook", json!({"object_attributes": {"noteable_type": "MergeRequest"}})).0,
        "Confidential Note Hook MergeRequest"
    );
    assert_eq!(unsupported("System Hook", json!({"event_name": "user_create"})).0, "User Create Hook");
}

#[test]
fn a_missing_event_header_is_reported() {
    let result = Gitlab.handle(&Payload { params: &[], event_type: None, headers: &[], body: &json!({}), raw: b"" });
    assert_eq!(result, Err(IntegrationError::MissingEventHeader("X-GitLab-Event")));
}

#[test]
fn merge_request_titles_can_be_left_out_of_topics() {
    assert_eq!(message("Merge Request Hook", &merge_request(), &[]).0, "billing / MR #3 Export refunds");
    assert_eq!(
        message("Merge Request Hook", &merge_request(), &[("use_merge_request_title", "false")]).0,
        "billing / MR #3"
    );
    let refused = |value: &str| run_with("Merge Request Hook", &merge_request(), &[("use_merge_request_title", value)]);
    assert_eq!(refused("nope"), Err(IntegrationError::BadRequest("use_merge_request_title is not valid JSON".into())));
    assert_eq!(refused("1"), Err(IntegrationError::BadRequest("use_merge_request_title is not a boolean".into())));
}

#[test]
fn a_topic_in_the_url_puts_the_project_and_the_title_in_the_message() {
    let (_, content) = message("Merge Request Hook", &merge_request(), &[("topic", "releases")]);
    assert_eq!(
        content,
        "[[billing](https://gitlab.example.com/acme/billing)] Ana closed [MR #3 Export refunds](https://gitlab.example.com/acme/billing/-/merge_requests/3)."
    );
}

#[test]
fn pushes_to_other_branches_are_ignored_when_branches_are_chosen() {
    let push = json!({"ref": "refs/heads/main", "user_name": "Ana", "project": project(),
        "before": "1", "after": "2", "commits": []});
    let outcome = |branches: &str| run_with("Push Hook", &push, &[("branches", branches)]).unwrap().outcome;
    assert_eq!(outcome("dev, release"), Outcome::Ignore);
    assert!(matches!(outcome("dev, main"), Outcome::Message { .. }));
    // Only pushes are filtered by branch.
    assert!(matches!(
        run_with("Merge Request Hook", &merge_request(), &[("branches", "dev")]).unwrap().outcome,
        Outcome::Message { .. }
    ));
}

#[test]
fn design_comments_need_a_design_path() {
    let note = |path: &str| {
        json!({"user": {"name": "Ana"}, "project": project(),
            "repository": {"name": "billing", "homepage": "https://gitlab.example.com/acme/billing"},
            "object_attributes": {"id": 9, "noteable_type": "DesignManagement::Design", "note": "hi",
                "position": {"new_path": path}}})
    };
    let (topic, content) = message("Note Hook", &note("designs/issue-12/mock.png"), &[]);
    assert_eq!(topic, "billing / design mock.png");
    assert_eq!(
        content,
        "Ana [commented](https://gitlab.example.com/acme/billing/-/issues/12/designs/mock.png#note_9) on design \
         [mock.png](https://gitlab.example.com/acme/billing/-/issues/12/designs/mock.png):\n\n~~~ quote\nhi\n~~~"
    );
    assert!(malformed("Note Hook", note("mock.png")).contains("design path"));
}

#[test]
fn hidden_comments_are_left_out() {
    assert_eq!(events::without_html_comments("a<!-- x\ny -->b<!-- c -->d<!-- open"), "abd<!-- open");
}

#[test]
fn the_gitlab_token_is_checked() {
    let check = |headers: &[(String, String)]| {
        Gitlab.verify(
            "s3cret",
            &Payload { params: &[], event_type: Some("Push Hook"), headers, body: &json!({}), raw: b"" },
        )
    };
    assert_eq!(check(&[("x-gitlab-token".into(), "s3cret".into())]), Ok(()));
    assert!(matches!(check(&[("x-gitlab-token".into(), "s3cre".into())]), Err(IntegrationError::BadSignature(_))));
    assert!(matches!(check(&[("x-gitlab-token".into(), String::new())]), Err(IntegrationError::BadSignature(_))));
    assert!(matches!(check(&[]), Err(IntegrationError::BadSignature(_))));
}

#[test]
fn garbage_is_malformed() {
    assert_eq!(malformed("Push Hook", json!([])), "expected a JSON object");
    assert_eq!(malformed("Push Hook", json!({})), "expected text at /repository/homepage");
    assert_eq!(malformed("Push Hook", json!({"after": 5})), "expected text at /after");
    assert_eq!(
        malformed(
            "Push Hook",
            json!({"user_name": "A", "ref": "main", "project": project(), "before": "1", "after": "2", "commits": {}})
        ),
        "expected a list at /commits"
    );
    assert_eq!(
        malformed(
            "Push Hook",
            json!({"user_name": "A", "ref": "main", "project": project(), "before": "1", "after": "2", "commits": [{"id": "x"}]})
        ),
        "expected text at /author/name"
    );
    assert_eq!(malformed("Issue Hook", json!({"object_attributes": []})), "expected an object at /object_attributes");
    assert_eq!(malformed("Issue Hook", json!({"object_attributes": {"action": 3}})), "expected text at action");
    assert_eq!(
        malformed(
            "Issue Hook",
            json!({"user": {"name": "A"}, "project": project(), "object_attributes": {"iid": "7", "url": "u"}})
        ),
        "expected a number at /iid"
    );
    assert_eq!(
        malformed(
            "Issue Hook",
            json!({"user": {"name": "A"}, "project": project(), "assignees": [{"id": 1}],
                "object_attributes": {"iid": 7, "title": "T", "url": "u"}})
        ),
        "expected text at /name"
    );
    assert_eq!(
        malformed("Note Hook", json!({"object_attributes": {}})),
        "expected text at /object_attributes/noteable_type"
    );
    assert_eq!(malformed("System Hook", json!({})), "expected text at /object_kind");
    assert_eq!(
        malformed(
            "Pipeline Hook",
            json!({"project": project(), "object_attributes": {"id": 1, "status": "x", "ref": "m"},
                "builds": [{"id": 1, "name": "n", "status": "s", "artifacts_file": {"filename": 5}}]})
        ),
        "expected text at /filename"
    );
    assert_eq!(
        malformed(
            "Release Hook",
            json!({"project": project(), "action": "create", "name": "n", "tag": "t", "url": "u", "description": null})
        ),
        "expected text at /description"
    );
}
