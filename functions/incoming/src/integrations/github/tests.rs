use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::*;
use crate::integration::Outcome;

fn handle(event: &str, body: &Value) -> Result<Handled, IntegrationError> {
    Github.handle(&Payload { params: &[], event_type: Some(event), headers: &[], body, raw: b"" })
}

fn message(event: &str, body: &Value) -> (String, String) {
    match handle(event, body) {
        Ok(Handled { outcome: Outcome::Message { topic, content }, .. }) => (topic, content),
        other => panic!("expected a message for {event}, got {other:?}"),
    }
}

fn malformed(result: Result<Handled, IntegrationError>) -> bool {
    matches!(result, Err(IntegrationError::Malformed(_)))
}

// ------------------------------------------------------------------------------------------
// Event names, from the payloads in `fixtures/` (whose cases the handler test runs).

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/integrations/github/fixtures")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn event_names_are_zulips() {
    let names: Vec<(&str, &str, &str)> = vec![
        ("pull_request__opened", "pull_request", "opened_pull_request"),
        ("pull_request__merged", "pull_request", "closed_pull_request"),
        ("pull_request__synchronized", "pull_request", "updated_pull_request"),
        ("issues", "issues", "issues"),
        ("issues__labeled", "issues", "issue_labeled_or_unlabeled"),
        ("issue_comment__pull_request_comment", "issue_comment", "issue_comment"),
        ("star", "star", "star"),
        ("push__1_commit", "push", "push_commits"),
        ("push__tag", "push", "push_tags"),
        ("release", "release", "release"),
        ("pull_request_review", "pull_request_review", "pull_request_review"),
        ("discussion__created", "discussion", "discussion"),
    ];
    for (fixture, header, want) in names {
        let body = read_json(&fixtures_dir().join(format!("{fixture}.json")));
        let handled = handle(header, &body).unwrap();
        assert_eq!(handled.event, want, "{fixture}");
        assert!(Github.event_types().contains(&want), "{want}");
    }
}

#[test]
fn the_sample_is_a_ping() {
    let (event, body) = Github.sample();
    assert_eq!(event, Some("ping"));
    let body: Value = serde_json::from_str(body).unwrap();
    let (topic, content) = message("ping", &body);
    assert_eq!(topic, "Hello-World");
    assert_eq!(content, "GitHub webhook has been successfully configured by Codertocat.");
}

// ------------------------------------------------------------------------------------------
// Headers, events and actions.

#[test]
fn without_the_event_header_the_header_is_named() {
    let result = Github.handle(&Payload { params: &[], event_type: None, headers: &[], body: &json!({}), raw: b"{}" });
    assert_eq!(result, Err(IntegrationError::MissingEventHeader("X-GitHub-Event")));
    assert_eq!(Github.event_header(), Some("X-GitHub-Event"));
}

#[test]
fn unknown_events_and_actions_are_unsupported_with_zulips_name() {
    let unsupported = |event: &str, body: Value| match handle(event, &body) {
        Err(IntegrationError::Unsupported { event, integration: "GitHub" }) => event,
        other => panic!("{other:?}"),
    };
    assert_eq!(unsupported("sponsorship", json!({"action": "exploded"})), "sponsorship:exploded");
    assert_eq!(unsupported("merge_group", json!({})), "merge_group:???");
    assert_eq!(unsupported("pull_request", json!({"action": "enqueued"})), "pull_request:enqueued");
    assert_eq!(unsupported("team", json!({"action": "exploded"})), "unsupported team action exploded");
    let long = "x".repeat(10_000);
    assert_eq!(unsupported("pull_request", json!({ "action": long })).chars().count(), 100);
}

#[test]
fn events_zulip_knowingly_drops_are_ignored() {
    for event in ["check_suite", "label", "meta", "milestone", "organization", "project_card"] {
        let handled = handle(event, &json!({})).unwrap();
        assert_eq!((handled.event.as_str(), handled.outcome), (event, Outcome::Ignore));
    }
    for action in ["approved", "converted_to_draft", "labeled", "unlabeled", "review_request_removed"] {
        let handled = handle("pull_request", &json!({ "action": action })).unwrap();
        assert_eq!(handled.outcome, Outcome::Ignore, "{action}");
        assert!(Github.event_types().contains(&handled.event.as_str()));
    }
}

#[test]
fn an_empty_review_edit_is_ignored() {
    let body = json!({"action": "edited", "changes": {}});
    assert_eq!(handle("pull_request_review", &body).unwrap().outcome, Outcome::Ignore);
}

// ------------------------------------------------------------------------------------------
// Signatures.

// GitHub's documented example: this secret and body give this signature.
const DOC_SECRET: &str = "It's a Secret to Everybody";
const DOC_BODY: &[u8] = b"Hello, World!";
const DOC_SIGNATURE: &str = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

fn verify(secret: &str, signature: Option<&str>, raw: &[u8]) -> Result<(), IntegrationError> {
    let headers: Vec<(String, String)> =
        signature.map(|s| vec![("x-hub-signature-256".to_owned(), s.to_owned())]).unwrap_or_default();
    Github
        .verify(secret, &Payload { params: &[], event_type: Some("ping"), headers: &headers, body: &Value::Null, raw })
}

#[test]
fn a_correct_signature_is_accepted() {
    assert_eq!(verify(DOC_SECRET, Some(DOC_SIGNATURE), DOC_BODY), Ok(()));
    assert_eq!(verify(DOC_SECRET, Some(&DOC_SIGNATURE.to_uppercase().replace("SHA256=", "sha256=")), DOC_BODY), Ok(()));

    let mut mac = Hmac::<Sha256>::new_from_slice(b"s3cret").unwrap();
    let raw = br#"{"zen":"Design for failure."}"#;
    mac.update(raw);
    let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(verify("s3cret", Some(&signature), raw), Ok(()));
}

#[test]
fn a_missing_signature_is_refused_and_said_to_be_missing() {
    let Err(IntegrationError::BadSignature(reason)) = verify(DOC_SECRET, None, DOC_BODY) else { panic!() };
    assert!(reason.contains("Missing the X-Hub-Signature-256 header"), "{reason}");
}

#[test]
fn a_wrong_signature_is_refused() {
    let failed = Err(IntegrationError::BadSignature("Webhook signature verification failed.".into()));
    assert_eq!(verify("another secret", Some(DOC_SIGNATURE), DOC_BODY), failed);
    assert_eq!(verify(DOC_SECRET, Some(DOC_SIGNATURE), b"Hello, World?"), failed);
    assert_eq!(verify(DOC_SECRET, Some(&DOC_SIGNATURE[..20]), DOC_BODY), failed);
    assert_eq!(verify(DOC_SECRET, Some(DOC_SIGNATURE.trim_start_matches("sha256=")), DOC_BODY), failed);
    assert_eq!(verify(DOC_SECRET, Some("sha1=757107ea0eb2509fc211221cce984b8a37570b6d"), DOC_BODY), failed);
    assert_eq!(verify(DOC_SECRET, Some("sha256=not hex at all"), DOC_BODY), failed);
    assert_eq!(verify(DOC_SECRET, Some(""), DOC_BODY), failed);
}

// ------------------------------------------------------------------------------------------
// Garbage in: a Malformed answer, never a panic.

fn push_body(commits: Value) -> Value {
    json!({
        "ref": "refs/heads/main",
        "compare": "https://github.com/o/r/compare/a...b",
        "created": false, "deleted": false, "forced": false,
        "commits": commits,
        "repository": {"name": "r"},
        "sender": {"login": "u"},
    })
}

#[test]
fn fields_of_the_wrong_type_are_malformed() {
    assert!(malformed(handle("push", &push_body(json!("x")))));
    assert!(malformed(handle("push", &push_body(json!([{"id": 1}])))));
    assert!(malformed(handle(
        "push",
        &push_body(json!([{"id": "a", "url": "u", "message": ["m"], "author": {"name": "n"}}]))
    )));
    let mut forced_as_text = push_body(json!([]));
    forced_as_text["forced"] = json!("yes");
    assert!(malformed(handle("push", &forced_as_text)));
    assert!(malformed(handle("pull_request", &json!({"action": 1}))));
    assert!(malformed(handle("issues", &json!({"action": "opened", "issue": {"number": "7"}}))));
    assert!(malformed(handle("ping", &json!({"sender": {"login": 5}, "repository": {"name": "r"}}))));
}

#[test]
fn a_missing_repository_is_malformed() {
    let body = json!({
        "action": "opened",
        "issue": {"number": 7, "title": "t", "html_url": "https://github.com/o/r/issues/7", "body": "b"},
        "sender": {"login": "u", "html_url": "https://github.com/u"},
    });
    assert!(malformed(handle("issues", &body)));
    assert!(malformed(handle("star", &json!({"action": "created", "sender": {"login": "u", "html_url": "h"}}))));
    assert!(malformed(handle("ping", &json!({"sender": {"login": "u"}}))));
}

#[test]
fn bodies_that_are_not_objects_are_malformed() {
    for body in [json!(null), json!([]), json!("push"), json!(42), json!(true)] {
        assert!(malformed(handle("push", &body)), "{body}");
    }
}

#[test]
fn ten_thousand_commits_make_a_bounded_message() {
    let commits: Vec<Value> = (0..10_000)
        .map(|i| {
            json!({
                "id": format!("{i:040x}"),
                "url": format!("https://github.com/o/r/commit/{i:040x}"),
                "message": format!("Commit {i}\n\nwith a body"),
                "author": {"name": format!("Author {}", i % 7), "email": "a@example.com"},
            })
        })
        .collect();
    let (topic, content) = message("push", &push_body(Value::Array(commits)));
    assert_eq!(topic, "r / main");
    assert!(
        content
            .starts_with("u [pushed](https://github.com/o/r/compare/a...b) 10000 commits to branch main. Commits by ")
    );
    assert!(content.contains("and others (5713)."), "{content}");
    assert_eq!(content.lines().filter(|line| line.starts_with("* Commit ")).count(), 20);
    assert!(content.ends_with("[and 9980 more commit(s)]"));
    assert!(content.len() < 4_000, "{}", content.len());
}

#[test]
fn every_event_survives_garbage() {
    let events = [
        "ping",
        "push",
        "pull_request",
        "pull_request_review",
        "pull_request_review_comment",
        "issues",
        "issue_comment",
        "create",
        "delete",
        "release",
        "star",
        "watch",
        "fork",
        "public",
        "member",
        "gollum",
        "commit_comment",
        "status",
        "deployment",
        "deployment_status",
        "check_run",
        "workflow_run",
        "discussion",
        "discussion_comment",
        "team",
        "team_add",
        "membership",
        "repository",
        "page_build",
        "sponsorship",
        "cancelled",
        "pending_cancellation",
    ];
    let garbage = [
        json!({}),
        json!({"action": null}),
        json!({"action": ["opened"], "sender": "u", "repository": 1}),
        json!({"action": "opened", "sender": {"login": null}, "pull_request": [], "issue": "x"}),
        json!({"ref": 7, "commits": {"0": {}}, "pages": "x", "check_run": {"status": 1}}),
        json!({"action": "completed", "check_run": {"status": "completed"}, "workflow_run": {"status": "completed"}}),
        json!({"action": "closed", "pull_request": {"number": 1e300, "merged": "yes"}}),
    ];
    for event in events {
        for body in &garbage {
            // Anything but a panic; nothing this broken is a message.
            if let Ok(Handled { outcome: Outcome::Message { .. }, .. }) = handle(event, body) {
                panic!("{event}: {body} became a message");
            }
        }
    }
}

// ------------------------------------------------------------------------------------------
// URL options and sponsorship dates.

fn handle_with(event: &str, body: &Value, params: &[(String, String)]) -> Result<Handled, IntegrationError> {
    Github.handle(&Payload { params, event_type: Some(event), headers: &[], body, raw: b"" })
}

#[test]
fn ignore_private_repositories_takes_true_or_false_only() {
    let body = json!({"repository": {"name": "r", "private": true}, "sender": {"login": "u"}});
    let param = |value: &str| vec![("ignore_private_repositories".to_owned(), value.to_owned())];
    assert_eq!(handle_with("ping", &body, &param("true")).unwrap().outcome, Outcome::Ignore);
    assert!(matches!(handle_with("ping", &body, &param("false")).unwrap().outcome, Outcome::Message { .. }));
    assert!(malformed(handle_with("ping", &body, &param("maybe"))));
    let not_a_flag = json!({"repository": {"name": "r", "private": "yes"}, "sender": {"login": "u"}});
    assert!(malformed(handle_with("ping", &not_a_flag, &param("true"))));
}

#[test]
fn sponsorship_dates_read_as_zulip_writes_them() {
    let body = |date: &str| {
        json!({
            "action": "pending_cancellation",
            "effective_date": date,
            "sponsorship": {"tier": {"name": "$5 a month"}},
            "sender": {"login": "monalisa"},
        })
    };
    let (topic, content) = message("sponsorship", &body("2020-01-05T00:00:00+00:00"));
    assert_eq!(topic, "sponsors");
    assert_eq!(content, "monalisa's $5 a month subscription will be cancelled on January 05, 2020.");
    assert!(message("sponsorship", &body("2020-02-29")).1.ends_with("on February 29, 2020."));
    for bad in ["2020-13-05T00:00:00", "2019-02-29", "soon", "2020-1-5", "2020-01-0x", "é2020-01-05"] {
        assert!(malformed(handle("sponsorship", &body(bad))), "{bad}");
    }
}
