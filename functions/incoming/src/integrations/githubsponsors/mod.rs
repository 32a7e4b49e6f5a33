//! `githubsponsors`: GitHub Sponsors' webhooks, on their own URL as in Zulip. They are GitHub's
//! webhooks (same header, signature and handler as [`super::github`]); sponsorship events
//! (`created`, `cancelled`, `edited`, `tier_changed`, `pending_cancellation`,
//! `pending_tier_change`) go to the topic `sponsors`.

use crate::integration::{Handled, Integration, IntegrationError, Payload};

pub struct GithubSponsors;

impl Integration for GithubSponsors {
    fn name(&self) -> &'static str {
        "githubsponsors"
    }

    fn display_name(&self) -> &'static str {
        "GitHub Sponsors"
    }

    fn categories(&self) -> &'static [&'static str] {
        &["financial"]
    }

    fn event_types(&self) -> &'static [&'static str] {
        super::github::event_types()
    }

    fn event_header(&self) -> Option<&'static str> {
        super::github::Github.event_header()
    }

    fn handle(&self, payload: &Payload<'_>) -> Result<Handled, IntegrationError> {
        super::github::handle_payload(payload)
    }

    fn verify(&self, secret: &str, payload: &Payload<'_>) -> Result<(), IntegrationError> {
        super::github::Github.verify(secret, payload)
    }

    fn sample(&self) -> (Option<&'static str>, &'static str) {
        (Some("sponsorship"), include_str!("fixtures/created.json"))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::integration::Outcome;

    #[test]
    fn the_sample_is_a_new_sponsorship() {
        let (event, body) = GithubSponsors.sample();
        let body: Value = serde_json::from_str(body).unwrap();
        let payload = Payload { params: &[], event_type: event, headers: &[], body: &body, raw: b"" };
        let handled = GithubSponsors.handle(&payload).unwrap();
        assert_eq!(handled.event, "created");
        assert_eq!(
            handled.outcome,
            Outcome::Message { topic: "sponsors".into(), content: "monalisa subscribed for $5 a month.".into() }
        );
    }
}
