//! `github`: GitHub's repository and organization webhooks, posted the way Zulip's GitHub
//! integration posts them.
//!
//! The event comes in the `X-GitHub-Event` header. Topics are Zulip's: `repo / branch` for
//! pushes, `repo / PR #1 Title` and `repo / issue #2 Title` for pull requests and issues (with
//! their reviews and comments), `repo discussion #3: Title`, `repo / checks`,
//! `repo / wiki pages`, `repo / Deployment on <environment>`, `org organization` for
//! memberships, `team <name>` for teams, `sponsors` for GitHub Sponsors, and the repository's
//! name for the rest (the organization's for an organization's `ping`). When the URL fixes the
//! topic, the item's title moves into the message (`[PR #1 Title](url)`), as in Zulip.
//!
//! Event names for `only_events` / `exclude_events` are Zulip's (`push_commits`, `push_tags`,
//! `opened_pull_request`, `closed_pull_request`, `issue_comment`, `discussion`…). URL options:
//! `branches` (comma-separated; pushes to other branches are dropped) and
//! `ignore_private_repositories=true`. Events and actions with nothing to say (a `check_run`
//! still running, a label added to a pull request) are ignored; unknown ones are unsupported,
//! as in Zulip.
//!
//! With a webhook secret, requests must carry GitHub's `X-Hub-Signature-256`.

mod events;
mod fields;
#[cfg(test)]
mod tests;

use crate::integration::{BRANCHES, Handled, Integration, IntegrationError, OptionKind, Payload, UrlOption};
use crate::signature::{Encoding, Hash, Scheme};

const EVENT_HEADER: &str = "X-GitHub-Event";
/// `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`.
const SIGNATURE: Scheme =
    Scheme { header: "X-Hub-Signature-256", prefix: "sha256=", hash: Hash::Sha256, encoding: Encoding::Hex };

pub struct Github;

/// The URL's options Zulip's GitHub integration reads.
fn options<'a>(payload: &'a Payload<'_>) -> Result<events::Options<'a>, IntegrationError> {
    let ignore_private = match payload.param("ignore_private_repositories").map(str::trim) {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            return Err(IntegrationError::Malformed("ignore_private_repositories must be true or false".into()));
        }
    };
    Ok(events::Options {
        branches: payload.param("branches"),
        ignore_private,
        include_title: payload.url_topic().is_some(),
    })
}

/// What the GitHub Sponsors integration shares: the same events, options and signatures.
pub(crate) fn handle_payload(payload: &Payload<'_>) -> Result<Handled, IntegrationError> {
    Github.handle(payload)
}

/// Every event name the handler can produce.
pub(crate) fn event_types() -> &'static [&'static str] {
    &events::EVENT_TYPES
}

impl Integration for Github {
    fn name(&self) -> &'static str {
        "github"
    }

    fn display_name(&self) -> &'static str {
        "GitHub"
    }

    fn categories(&self) -> &'static [&'static str] {
        &["version-control"]
    }

    fn url_options(&self) -> &'static [UrlOption] {
        &[
            BRANCHES,
            UrlOption {
                name: "ignore_private_repositories",
                description: "Exclude notifications from private repositories",
                kind: OptionKind::Bool,
            },
        ]
    }

    fn event_types(&self) -> &'static [&'static str] {
        event_types()
    }

    fn event_header(&self) -> Option<&'static str> {
        Some(EVENT_HEADER)
    }

    fn handle(&self, payload: &Payload<'_>) -> Result<Handled, IntegrationError> {
        let event = payload.event_type.ok_or(IntegrationError::MissingEventHeader(EVENT_HEADER))?;
        if !payload.body.is_object() {
            return Err(IntegrationError::Malformed("expected a JSON object".into()));
        }
        let (event, outcome) = events::dispatch(event, payload.body, options(payload)?)?;
        Ok(Handled { event, outcome })
    }

    /// GitHub signs the body with the webhook's secret: `sha256=<hex HMAC-SHA256>`.
    fn verify(&self, secret: &str, payload: &Payload<'_>) -> Result<(), IntegrationError> {
        SIGNATURE.check_body(secret, payload)
    }

    fn sample(&self) -> (Option<&'static str>, &'static str) {
        (Some("ping"), include_str!("ping.json"))
    }
}
