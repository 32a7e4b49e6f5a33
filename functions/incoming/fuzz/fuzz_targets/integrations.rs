//! Feeds arbitrary bytes to every integration in the registry. The first byte picks the
//! integration; the input up to the first newline is the event header's value (for the
//! integrations that read one) and the rest is the body. Each must answer (a message, ignore
//! or an error) without panicking, name only events it declares, and its signature check gets
//! the same bytes.

#![no_main]

use hookline_incoming::integration::Payload;
use hookline_incoming::integrations::INTEGRATIONS;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let integration = INTEGRATIONS[usize::from(pick) % INTEGRATIONS.len()];
    let (event, raw) = match rest.iter().position(|&b| b == b'\n') {
        Some(at) => (String::from_utf8_lossy(&rest[..at]).into_owned(), &rest[at + 1..]),
        None => (String::new(), rest),
    };
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(raw) else { return };
    let text = String::from_utf8_lossy(raw);
    // Every signature header an integration reads, each with a slice of the input.
    let signed: String = text.chars().take(64).collect();
    let headers: Vec<(String, String)> = [
        "x-hub-signature-256",
        "x-hub-signature",
        "x-gitlab-token",
        "x-front-signature",
        "linear-signature",
        "x-slack-signature",
        "x-slack-request-timestamp",
        "stripe-signature",
        "sentry-hook-signature",
        "x-pagerduty-signature",
        "payload-signature",
        "x-gogs-signature",
        "x-gitea-signature",
        "x-taiga-webhook-signature",
        "content-type",
    ]
    .iter()
    .map(|name| ((*name).to_owned(), signed.clone()))
    .collect();
    let params = [("topic".to_owned(), text.chars().take(8).collect::<String>())];
    let payload = Payload {
        event_type: integration.event_header().map(|_| event.as_str()),
        headers: &headers,
        body: &body,
        raw,
        params: &params,
    };
    if let Ok(handled) = integration.handle(&payload) {
        assert!(
            integration.event_types().contains(&handled.event.as_str()),
            "{}: undeclared event {}",
            integration.name(),
            handled.event
        );
    }
    let _ = integration.verify("fuzzing secret", &payload);
});
