//! Feeds arbitrary bytes to the `github` integration as a request body, under every event
//! it knows and one it does not: it must answer (a message, ignore, or an error), never panic,
//! and keep its messages within Zulip's limits. The signature check gets the same bytes.

#![no_main]

use hookline_incoming::integration::{Integration, Outcome, Payload};
use hookline_incoming::integrations::github::Github;
use libfuzzer_sys::fuzz_target;

const EVENTS: &[&str] = &[
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
    "check_suite",
    "sponsorship",
];

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(body) = serde_json::from_str::<serde_json::Value>(&text) else {
        return;
    };
    let headers = [("x-hub-signature-256".to_owned(), format!("sha256={}", text.chars().take(64).collect::<String>()))];
    for &event in EVENTS {
        let payload = Payload { event_type: Some(event), headers: &headers, body: &body, raw: data };
        if let Ok(handled) = Github.handle(&payload) {
            assert!(Github.event_types().contains(&handled.event.as_str()), "{event}: {}", handled.event);
            if let Outcome::Message { topic, content } = handled.outcome {
                assert!(topic.chars().count() <= 60, "{event}: topic {topic:?}");
                assert!(content.len() <= 10_000, "{event}: {} bytes", content.len());
            }
        }
        let _ = Github.verify("fuzzing secret", &payload);
    }
});
