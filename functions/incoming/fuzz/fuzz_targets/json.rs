//! Arbitrary bytes as a `json` integration body: it must never panic.
#![no_main]

use hookline_incoming::integration::{Integration, Payload};
use hookline_incoming::integrations::json::Json;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = Json.handle(&Payload { event_type: None, headers: &[], body: &body, raw: data });
    }
});
