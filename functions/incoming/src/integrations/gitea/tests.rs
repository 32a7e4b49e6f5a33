use serde_json::{Value, json};

use super::*;
use crate::integration::Outcome;

fn run(event: &str, body: &Value) -> Result<Handled, IntegrationError> {
    Gitea.handle(&Payload { event_type: Some(event), headers: &[], body, raw: b"", params: &[] })
}

fn pull_request(head: Option<&str>) -> Value {
    let mut body = json!({
        "action": "assigned",
        "repository": {"name": "shop"},
        "pull_request": {
            "id": 77, "number": 5, "title": "Fix totals", "merged": false,
            "html_url": "https://git.example.com/ana/shop/pulls/5",
            "user": {"username": "ana"},
            "assignee": {"login": "bo"},
            "base": {"ref": "main"}
        }
    });
    if let Some(head) = head {
        body["pull_request"]["head"] = json!({ "ref": head });
    }
    body
}

#[test]
fn the_sample_renders() {
    let (event, sample) = Gitea.sample();
    let body: Value = serde_json::from_str(sample).unwrap();
    let handled = run(event.unwrap(), &body).unwrap();
    assert_eq!(handled.event, "pull_request");
    assert!(matches!(handled.outcome, Outcome::Message { .. }));
}

#[test]
fn an_assigned_pull_request_names_the_assignee_after_the_branches() {
    assert_eq!(
        run("pull_request", &pull_request(Some("fix"))).unwrap().outcome,
        Outcome::Message {
            topic: "shop / PR #77 Fix totals".into(),
            content: "ana assigned bo to [PR #5](https://git.example.com/ana/shop/pulls/5) from `fix` to `main` \
                      (assigned to bo)."
                .into(),
        }
    );
}

#[test]
fn without_a_head_the_branches_are_left_out() {
    assert_eq!(
        run("pull_request", &pull_request(None)).unwrap().outcome,
        Outcome::Message {
            topic: "shop / PR #77 Fix totals".into(),
            content: "ana assigned bo to [PR #5](https://git.example.com/ana/shop/pulls/5) (assigned to bo).".into(),
        }
    );
}

#[test]
fn a_branch_without_a_ref_is_malformed() {
    let mut body = pull_request(Some("fix"));
    body["pull_request"]["head"] = json!({"ref": 1});
    assert_eq!(
        run("pull_request", &body),
        Err(IntegrationError::Malformed("expected text at /pull_request/head/ref".into()))
    );
    assert_eq!(
        run("wiki", &pull_request(None)),
        Err(IntegrationError::Unsupported { event: "wiki".into(), integration: "Gitea" })
    );
}
