use serde_json::{Value, json};

use super::*;

fn run(event: &str, body: &Value, params: &[(&str, &str)]) -> Result<Handled, IntegrationError> {
    let params: Vec<(String, String)> = params.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    Gogs.handle(&Payload { event_type: Some(event), headers: &[], body, raw: b"", params: &params })
}

fn malformed(event: &str, body: &Value) -> String {
    match run(event, body, &[]) {
        Err(IntegrationError::Malformed(msg)) => msg,
        other => panic!("{other:?}"),
    }
}

fn push() -> Value {
    json!({
        "ref": "refs/heads/main",
        "compare_url": "https://git.example.com/ana/shop/compare/a...b",
        "commits": [{
            "id": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
            "message": "Fix totals\n\nDetails.",
            "url": "https://git.example.com/ana/shop/commit/0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
            "author": {"name": "Bo Chen", "username": ""}
        }],
        "repository": {"name": "shop", "html_url": "https://git.example.com/ana/shop"},
        "sender": {"login": "ana", "username": "ana"}
    })
}

#[test]
fn the_sample_renders() {
    let (event, sample) = Gogs.sample();
    let body: Value = serde_json::from_str(sample).unwrap();
    let handled = run(event.unwrap(), &body, &[]).unwrap();
    assert_eq!(handled.event, "pull_request");
    assert!(matches!(handled.outcome, Outcome::Message { .. }));
}

#[test]
fn a_commit_without_a_username_counts_under_the_first_word_of_the_name() {
    let handled = run("push", &push(), &[]).unwrap();
    assert_eq!(
        handled.outcome,
        Outcome::Message {
            topic: "shop / main".into(),
            content: "ana [pushed](https://git.example.com/ana/shop/compare/a...b) 1 commit to branch main. \
                      Commits by Bo (1).\n\n\
                      * Fix totals ([0d1a26e67d8](https://git.example.com/ana/shop/commit/0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c))"
                .into(),
        }
    );
    assert_eq!(run("push", &push(), &[("branches", "dev,main")]).unwrap().outcome, push_outcome());
    assert_eq!(run("push", &push(), &[("branches", "dev")]).unwrap().outcome, Outcome::Ignore);
}

fn push_outcome() -> Outcome {
    run("push", &push(), &[]).unwrap().outcome
}

#[test]
fn other_events_are_unsupported() {
    assert_eq!(
        run("fork", &push(), &[]),
        Err(IntegrationError::Unsupported { event: "fork".into(), integration: "Gogs" })
    );
}

#[test]
fn missing_fields_and_wrong_types_are_malformed() {
    assert_eq!(malformed("push", &json!([])), "expected a JSON object");
    assert_eq!(malformed("push", &json!({})), "expected text at /repository/name");
    let mut body = push();
    body["commits"][0]["author"]["name"] = json!("  ");
    assert_eq!(malformed("push", &body), "expected a name at /author/name");
    let mut body = push();
    body["commits"] = json!("x");
    assert_eq!(malformed("push", &body), "expected a list at /commits");
    let body = json!({"repository": {"name": "r"}, "pull_request": {"merged": "no"}});
    assert_eq!(malformed("pull_request", &body), "expected a boolean at /pull_request/merged");
    let body = json!({
        "action": "assigned",
        "repository": {"name": "r", "html_url": "u"},
        "sender": {"login": "a"},
        "issue": {"number": 1, "title": "t", "body": "b", "assignee": "bo"}
    });
    assert_eq!(malformed("issues", &body), "expected a user at /issue/assignee");
}

#[test]
fn an_empty_assignee_is_nobody() {
    let body = json!({
        "action": "opened",
        "repository": {"name": "r", "html_url": "https://x/r"},
        "sender": {"login": "a"},
        "issue": {"number": 1, "title": "t", "body": "", "assignee": {}}
    });
    assert_eq!(
        run("issues", &body, &[]).unwrap().outcome,
        Outcome::Message {
            topic: "r / issue #1 t".into(),
            content: "a opened [issue #1](https://x/r/issues/1).".into()
        }
    );
}
