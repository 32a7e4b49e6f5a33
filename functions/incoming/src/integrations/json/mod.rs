//! `json`: any JSON object, pretty-printed in a code block, topic "JSON".
//!
//! Zulip prints the payload with Python's `json.dumps(payload, indent=2)`: the keys in the
//! order the sender wrote them, non-ASCII characters escaped, floats in Python's shortest
//! form: `hookline_messaging::pyjson` reads the payload as Python does (a duplicated key keeps
//! its first place and its last value) and prints it as `json.dumps` does.

#[cfg(test)]
mod tests;

use hookline_messaging::pyjson::PyValue;

use crate::integration::{Handled, Integration, IntegrationError, Outcome, Payload};

pub struct Json;

impl Integration for Json {
    fn name(&self) -> &'static str {
        "json"
    }

    fn display_name(&self) -> &'static str {
        "JSON"
    }

    fn categories(&self) -> &'static [&'static str] {
        &["misc"]
    }

    fn event_types(&self) -> &'static [&'static str] {
        &["json"]
    }

    fn handle(&self, payload: &Payload<'_>) -> Result<Handled, IntegrationError> {
        if !payload.body.is_object() {
            return Err(IntegrationError::Malformed("expected a JSON object".into()));
        }
        let pretty = ordered(payload)?.to_json_indented();
        // Zulip's fence is three backticks; a longer one only when the payload holds a run of
        // three or more, so that it cannot close the block.
        let fence = "`".repeat(longest_backtick_run(&pretty).max(2) + 1);
        Ok(Handled {
            event: "json".into(),
            outcome: Outcome::Message { topic: "JSON".into(), content: format!("{fence}json\n{pretty}\n{fence}") },
        })
    }

    fn sample(&self) -> (Option<&'static str>, &'static str) {
        (None, r#"{"status": "ok", "checks": [{"name": "disk", "free_gb": 42}]}"#)
    }
}

/// The payload with its keys in the sender's order: parsed again from the raw body (or from
/// the form's `payload` field), since the framework's document sorts its keys.
fn ordered(payload: &Payload<'_>) -> Result<PyValue, IntegrationError> {
    let malformed = |e: serde_json::Error| IntegrationError::Malformed(e.to_string());
    if let Ok(document) = serde_json::from_slice::<PyValue>(payload.raw) {
        return Ok(document);
    }
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(payload.raw).unwrap_or_default();
    match fields.iter().find(|(name, _)| name == "payload") {
        Some((_, text)) => serde_json::from_str(text).map_err(malformed),
        // Neither: the body the framework read (its keys sorted).
        None => serde_json::from_value(payload.body.clone()).map_err(malformed),
    }
}

fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}
