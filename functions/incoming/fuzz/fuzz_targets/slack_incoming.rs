//! Feeds arbitrary bytes to the `slack_incoming` integration: as a whole body, as a block, as
//! an attachment, and as mrkdwn text. It must answer (a message, nothing, or an error), never
//! panic, and keep its messages within Zulip's limit.

#![no_main]

use hookline_incoming::integration::{Integration, Outcome, Payload};
use hookline_incoming::integrations::slack_incoming::{SlackIncoming, to_markdown};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for formatting in [true, false] {
        let _ = to_markdown(&text, formatting);
    }
    let mut bodies = vec![json!({ "text": text, "channel": text })];
    if let Ok(value) = serde_json::from_str::<Value>(&text) {
        bodies.push(json!({ "blocks": [value], "text": "fallback" }));
        bodies.push(json!({ "attachments": [value] }));
        bodies.push(value);
    }
    for body in &bodies {
        let payload = Payload { event_type: None, headers: &[], body, raw: data };
        if let Ok(handled) = SlackIncoming.handle(&payload) {
            assert!(SlackIncoming.event_types().contains(&handled.event.as_str()), "{}", handled.event);
            if let Outcome::Message { content, .. } = handled.outcome {
                assert!(content.len() <= 10_000, "{} bytes", content.len());
            }
        }
    }
});
