//! `json`: any JSON payload, pretty-printed in a code block, topic "JSON".

use crate::integration::{Handled, Integration, IntegrationError, Outcome, Payload};

pub struct Json;

impl Integration for Json {
    fn name(&self) -> &'static str {
        "json"
    }

    fn display_name(&self) -> &'static str {
        "JSON"
    }

    fn event_types(&self) -> &'static [&'static str] {
        &["json"]
    }

    fn handle(&self, payload: &Payload<'_>) -> Result<Handled, IntegrationError> {
        let pretty =
            serde_json::to_string_pretty(payload.body).map_err(|e| IntegrationError::Malformed(e.to_string()))?;
        // A longer fence than any run of backticks inside, so the payload cannot close it.
        let longest = longest_backtick_run(&pretty);
        let fence = "`".repeat(longest.max(2) + 1);
        Ok(Handled {
            event: "json".into(),
            outcome: Outcome::Message { topic: "JSON".into(), content: format!("{fence}json\n{pretty}\n{fence}") },
        })
    }

    fn sample(&self) -> (Option<&'static str>, &'static str) {
        (None, r#"{"status": "ok", "checks": [{"name": "disk", "free_gb": 42}]}"#)
    }
}

fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn handle(body: &Value) -> Outcome {
        Json.handle(&Payload { params: &[], event_type: None, headers: &[], body, raw: b"" }).unwrap().outcome
    }

    #[test]
    fn the_payload_is_pretty_printed_in_a_json_block() {
        let outcome = handle(&serde_json::json!({"a": [1, 2]}));
        assert_eq!(
            outcome,
            Outcome::Message {
                topic: "JSON".into(),
                content: "```json\n{\n  \"a\": [\n    1,\n    2\n  ]\n}\n```".into()
            }
        );
    }

    #[test]
    fn backticks_in_the_payload_cannot_close_the_block() {
        let Outcome::Message { content, .. } = handle(&serde_json::json!({"md": "````"})) else { panic!() };
        assert!(content.starts_with("`````json\n"), "{content}");
        assert!(content.ends_with("\n`````"));
    }
}
