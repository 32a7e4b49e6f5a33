use serde_json::{Value, json};

use super::events::EMPTY_SHA;
use super::*;

fn run(event: &str, body: &Value) -> Result<Handled, IntegrationError> {
    Gitlab.handle(&Payload { params: &[], event_type: Some(event), headers: &[], body, raw: b"" })
}

fn message(event: &str, body: &Value) -> (String, String) {
    match run(event, body).unwrap().outcome {
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

fn commit(sha: &str, message: &str, author: &str) -> Value {
    json!({"id": sha, "message": message, "url": format!("https://gitlab.example.com/acme/billing/-/commit/{sha}"), "author": {"name": author}})
}

fn push(commits: Vec<Value>) -> Value {
    json!({
        "before": "1111111111111111111111111111111111111111", "after": "2222222222222222222222222222222222222222",
        "ref": "refs/heads/main", "user_name": "Ana", "project": project(), "commits": commits
    })
}

#[test]
fn the_sample_renders() {
    let (event, sample) = Gitlab.sample();
    let (topic, content) = message(event.unwrap(), &serde_json::from_str(sample).unwrap());
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
    let system_mr = json!({"object_kind": "merge_request", "user": {"name": "Ana"}, "project": project(),
        "object_attributes": {"iid": 3, "title": "T", "url": "u", "action": "close"}});
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
        unsupported("Note Hook", json!({"object_attributes": {"noteable_type": "DesignManagement::Design"}})).0,
        "Note Hook DesignManagement::Design"
    );
    assert_eq!(unsupported("System Hook", json!({"event_name": "user_create"})).0, "User Create Hook");
}

#[test]
fn a_missing_event_header_is_reported() {
    let result = Gitlab.handle(&Payload { params: &[], event_type: None, headers: &[], body: &json!({}), raw: b"" });
    assert_eq!(result, Err(IntegrationError::MissingEventHeader("X-Gitlab-Event")));
}

#[test]
fn pushes_credit_other_committers() {
    let commits = vec![
        commit("a1", "one", "Bo"),
        commit("a2", "two", "Cy"),
        commit("a3", "three", "Bo"),
        commit("a4", "four", "Di"),
        commit("a5", "five", "Ed"),
        commit("a6", "six", "Ed"),
    ];
    let (_, content) = message("Push Hook", &push(commits));
    assert!(
        content.starts_with(
            "Ana [pushed](https://gitlab.example.com/acme/billing/-/compare/1111111111111111111111111111111111111111...\
             2222222222222222222222222222222222222222) 6 commits to branch main. Commits by Bo (2), Ed (2), Cy (1) and others (1).\n\n\
             * one ([a1](https://gitlab.example.com/acme/billing/-/commit/a1))\n"
        ),
        "{content}"
    );
    let (_, content) = message("Push Hook", &push(vec![commit("a1", "one", "Bo")]));
    assert!(content.contains("1 commit to branch main. Commits by Bo (1).\n\n"), "{content}");
    let (_, content) = message("Push Hook", &push(vec![commit("a1", "one", "Ana")]));
    assert!(content.contains("1 commit to branch main.\n\n"), "{content}");
}

#[test]
fn long_pushes_are_counted() {
    let commits: Vec<Value> = (0..30).map(|i| commit(&format!("{i:040}"), &format!("c{i}\n\nbody"), "Ana")).collect();
    let mut body = push(commits);
    body["total_commits_count"] = json!(45);
    let (_, content) = message("Push Hook", &body);
    assert!(content.contains(") 45 commits to branch main.\n\n* c0 ([00000000000]("), "{content}");
    assert_eq!(content.lines().filter(|l| l.starts_with("* ")).count(), 20);
    assert!(
        content.ends_with("/-/commit/0000000000000000000000000000000000000019))\n[and 25 more commit(s)]"),
        "{content}"
    );
}

#[test]
fn branches_are_created_and_deleted() {
    let mut body = push(vec![]);
    body["before"] = json!(EMPTY_SHA);
    assert_eq!(
        message("Push Hook", &body).1,
        "Ana created [main](https://gitlab.example.com/acme/billing/-/tree/main) branch."
    );
    body["commits"] = json!([commit("a1", "one", "Ana")]);
    assert!(
        message("Push Hook", &body)
            .1
            .starts_with("Ana [pushed](https://gitlab.example.com/acme/billing/-/commits/main) 1 commit")
    );
    let mut body = push(vec![]);
    body["after"] = json!(EMPTY_SHA);
    assert_eq!(message("Push Hook", &body), ("billing / main".into(), "Ana deleted branch main.".into()));
    let body = push(vec![]);
    assert!(message("Push Hook", &body).1.ends_with("2222222222222222222222222222222222222222) the branch main."));
}

#[test]
fn tags_are_pushed_and_removed() {
    let tag = |reference: &str, checkout: Value| {
        let body = json!({"ref": reference, "checkout_sha": checkout, "user_name": "Ana", "project": project()});
        message("Tag Push Hook", &body)
    };
    assert_eq!(
        tag("refs/tags/v1.0", json!("abc")),
        ("billing".into(), "Ana pushed tag [v1.0](https://gitlab.example.com/acme/billing/-/tags/v1.0).".into())
    );
    assert_eq!(tag("refs/tags/v1.0", Value::Null).1, "Ana removed tag v1.0.");
    assert_eq!(tag("refs/tags/rc!", Value::Null).1, "Ana removed tag rc!");
}

#[test]
fn merge_requests_read_like_zulips() {
    let mr = |action: &str, extra: Value| {
        let mut attributes = json!({"iid": 5, "title": "Fix it.", "url": "https://gitlab.example.com/acme/billing/-/merge_requests/5",
            "source_branch": "fix", "target_branch": "main", "description": "Fixes *it*.", "action": action});
        attributes.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let body = json!({"user": {"name": "Ana"}, "project": project(), "object_attributes": attributes,
            "assignees": [{"name": "Bo"}, {"name": "Cy"}, {"name": "Di"}]});
        message("Merge Request Hook", &body)
    };
    let link = "[MR #5](https://gitlab.example.com/acme/billing/-/merge_requests/5)";
    let (topic, content) = mr("open", json!({}));
    assert_eq!(topic, "billing / MR #5 Fix it.");
    assert_eq!(
        content,
        format!("Ana created {link} from `fix` to `main` (assigned to Bo, Cy and Di):\n\n~~~ quote\nFixes *it*.\n~~~")
    );
    assert_eq!(mr("update", json!({"oldrev": "abc"})).1, format!("Ana added commit(s) to {link}."));
    assert_eq!(mr("update", json!({"description": ""})).1, format!("Ana updated {link} (assigned to Bo, Cy and Di)."));
    assert_eq!(mr("merge", json!({})).1, format!("Ana merged {link} from `fix` to `main`."));
    assert_eq!(mr("approval", json!({})).1, format!("Ana added their approval for {link}."));
    assert_eq!(mr("unapproved", json!({})).1, format!("Ana unapproved {link}."));
}

#[test]
fn issues_read_like_zulips() {
    let body = json!({"user": {"name": "Ana"}, "project": project(), "assignee": {"name": "Bo"},
        "object_attributes": {"iid": 7, "title": "Broken", "url": "https://x/issues/7", "action": "open",
            "description": "<!-- template -->Steps:\n<!-- more\ntemplate -->1. run <!-- unclosed"}});
    let (topic, content) = message("Issue Hook", &body);
    assert_eq!(topic, "billing / issue #7 Broken");
    assert_eq!(
        content,
        "Ana created [issue #7](https://x/issues/7) (assigned to Bo):\n\n~~~ quote\nSteps:\n1. run <!-- unclosed\n~~~"
    );
    let mut body = body;
    body["object_attributes"]["description"] = json!("<!-- only a template -->\n");
    assert_eq!(message("Issue Hook", &body).1, "Ana created [issue #7](https://x/issues/7) (assigned to Bo).");
    body["object_attributes"]["action"] = json!("close");
    assert_eq!(message("Issue Hook", &body).1, "Ana closed [issue #7](https://x/issues/7).");
}

#[test]
fn many_assignees_are_counted() {
    let assignees: Vec<Value> = (0..14).map(|i| json!({ "name": format!("P{i}") })).collect();
    let body = json!({"user": {"name": "Ana"}, "project": project(), "assignees": assignees,
        "object_attributes": {"iid": 7, "title": "T", "url": "u", "action": "open"}});
    assert!(
        message("Issue Hook", &body).1.ends_with("(assigned to P0, P1, P2, P3, P4, P5, P6, P7, P8, P9 and 4 others).")
    );
}

#[test]
fn snippet_notes_link_the_snippet() {
    let body = json!({"user": {"name": "Ana"}, "project": project(),
        "object_attributes": {"noteable_type": "Snippet", "note": "+1", "url": "https://x/snippets/3#note_1"},
        "snippet": {"id": 3, "title": "Query"}});
    assert_eq!(
        message("Note Hook", &body),
        (
            "billing / snippet #3 Query".into(),
            "Ana [commented](https://x/snippets/3#note_1) on [snippet #3](https://gitlab.example.com/acme/billing/-/snippets/3):\n\n\
             ~~~ quote\n+1\n~~~"
                .into()
        )
    );
}

#[test]
fn pipelines_list_their_jobs() {
    let builds: Vec<Value> =
        (0..25).map(|i| json!({"id": i, "name": format!("job{i}"), "status": "success"})).collect();
    let body = json!({"project": project(), "object_attributes": {"id": 9, "status": "running", "ref": "main"}, "builds": builds});
    let (topic, content) = message("Pipeline Hook", &body);
    assert_eq!(topic, "billing / main");
    assert!(content.starts_with(
        "[Pipeline (9)](https://gitlab.example.com/acme/billing/-/pipelines/9) started with build(s):\n* [job0]("
    ));
    assert!(content.ends_with("/-/jobs/19) - success.\n[and 5 more build(s)]"), "{content}");
    let empty =
        json!({"project": project(), "object_attributes": {"id": 9, "status": "pending", "ref": "main"}, "builds": []});
    assert_eq!(
        message("Pipeline Hook", &empty).1,
        "[Pipeline (9)](https://gitlab.example.com/acme/billing/-/pipelines/9) was created."
    );
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
    assert_eq!(malformed("Push Hook", json!({})), "expected text at /user_name");
    assert_eq!(malformed("Push Hook", json!({"user_name": "A", "ref": 1})), "expected text at /ref");
    assert_eq!(
        malformed("Push Hook", json!({"user_name": "A", "ref": "main", "project": project(), "commits": {}})),
        "expected a list at /commits"
    );
    assert_eq!(
        malformed(
            "Push Hook",
            json!({"user_name": "A", "ref": "main", "project": project(), "commits": [{"id": "x"}]})
        ),
        "expected text at /author/name"
    );
    assert_eq!(
        malformed("Push Hook", json!({"user_name": "A", "ref": "main", "before": 0})),
        "expected text at /repository/name"
    );
    assert_eq!(
        malformed("Push Hook", json!({"user_name": "A", "ref": "main", "project": project(), "before": 0})),
        "expected text at before"
    );
    assert_eq!(malformed("Issue Hook", json!({"object_attributes": []})), "expected an object at /object_attributes");
    assert_eq!(malformed("Issue Hook", json!({"object_attributes": {"action": 3}})), "expected text at action");
    assert_eq!(
        malformed(
            "Issue Hook",
            json!({"user": {"name": "A"}, "project": project(), "object_attributes": {"iid": "7"}})
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
            json!({"project": project(), "object_attributes": {"id": 1, "status": "x", "ref": "m"}, "builds": [{}]})
        ),
        "expected a number at /id"
    );
    assert_eq!(
        malformed(
            "Pipeline Hook",
            json!({"project": project(), "object_attributes": {"id": 1, "status": "x", "ref": "m"},
                "builds": [{"id": 1, "name": "n", "status": "s", "artifacts_file": {"filename": 5}}]})
        ),
        "expected text at filename"
    );
}
