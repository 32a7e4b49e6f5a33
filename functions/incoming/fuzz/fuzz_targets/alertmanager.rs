//! Feeds arbitrary bytes to the `alertmanager` integration, as a notification and as one of
//! its alerts: it must answer (a message or an error), never panic, and keep its messages
//! within Zulip's limit.

#![no_main]

use hookline_incoming::integration::{Integration, Outcome, Payload};
use hookline_incoming::integrations::alertmanager::Alertmanager;
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(value) = serde_json::from_str::<Value>(&text) else {
        return;
    };
    let bodies = [json!({ "status": "firing", "alerts": [value, value] }), json!({ "alerts": [value] }), value];
    for body in &bodies {
        let payload = Payload { event_type: None, headers: &[], body, raw: data };
        if let Ok(handled) = Alertmanager.handle(&payload) {
            assert!(Alertmanager.event_types().contains(&handled.event.as_str()), "{}", handled.event);
            if let Outcome::Message { content, .. } = handled.outcome {
                assert!(content.len() <= 10_000, "{} bytes", content.len());
            }
        }
    }
});
