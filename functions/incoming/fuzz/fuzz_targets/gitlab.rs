//! Feeds arbitrary bytes to the `gitlab` integration as a request body, under every event
//! header it knows, a system hook and one it does not: it must answer (a message or an error),
//! never panic, name only events it lists, and keep its messages within Zulip's limit. The
//! token check gets the same bytes.

#![no_main]

use hookline_incoming::integration::{Integration, Outcome, Payload};
use hookline_incoming::integrations::gitlab::Gitlab;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const HEADERS: &[&str] = &[
    "Push Hook",
    "Tag Push Hook",
    "Test Hook",
    "Issue Hook",
    "Confidential Issue Hook",
    "Merge Request Hook",
    "Note Hook",
    "Confidential Note Hook",
    "Wiki Page Hook",
    "Job Hook",
    "Build Hook",
    "Pipeline Hook",
    "Release Hook",
    "System Hook",
    "Deployment Hook",
];

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(body) = serde_json::from_str::<Value>(&text) else {
        return;
    };
    let headers = [("x-gitlab-token".to_owned(), text.chars().take(64).collect::<String>())];
    for &event in HEADERS {
        let payload = Payload { event_type: Some(event), headers: &headers, body: &body, raw: data };
        if let Ok(handled) = Gitlab.handle(&payload) {
            assert!(Gitlab.event_types().contains(&handled.event.as_str()), "{event}: {}", handled.event);
            if let Outcome::Message { content, .. } = handled.outcome {
                assert!(content.len() <= 10_000, "{event}: {} bytes", content.len());
            }
        }
        let _ = Gitlab.verify("fuzzing secret", &payload);
    }
});
