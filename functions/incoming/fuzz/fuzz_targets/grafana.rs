//! Feeds arbitrary bytes to the `grafana` integration, as a notification, as one of its
//! alerts, and as a legacy alert: it must answer (a message or an error), never panic, and
//! keep its messages within Zulip's limit.

#![no_main]

use hookline_incoming::integration::{Integration, Outcome, Payload};
use hookline_incoming::integrations::grafana::Grafana;
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(value) = serde_json::from_str::<Value>(&text) else {
        return;
    };
    let bodies = [
        json!({ "status": "firing", "alerts": [value, value] }),
        json!({ "state": "alerting", "evalMatches": [value], "ruleName": text }),
        value,
    ];
    for body in &bodies {
        let payload = Payload { event_type: None, headers: &[], body, raw: data };
        if let Ok(handled) = Grafana.handle(&payload) {
            assert!(Grafana.event_types().contains(&handled.event.as_str()), "{}", handled.event);
            if let Outcome::Message { content, .. } = handled.outcome {
                assert!(content.len() <= 10_000, "{} bytes", content.len());
            }
        }
    }
});
