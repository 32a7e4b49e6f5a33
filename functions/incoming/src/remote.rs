//! What an integration may look up beyond the request: the realm's users by email (Jira names
//! an issue's assignee when they are one of the realm's users), and calls to its sender's API
//! (the `slack` integration looks up user and channel names), the latter through the same guarded client outgoing webhooks use (no private
//! addresses unless the deployment allows them, no redirects, no proxy), with short timeouts,
//! because the sender waits for the answer (Slack gives up after 3 seconds).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use hookline_delivery::client::{Timeouts, http_client};
use hookline_delivery::ssrf::AddressPolicy;
use hookline_edge::Settings;
use hookline_model::RealmId;
use hookline_model::store::Store;
use serde_json::Value;
use url::Url;

/// The most of an answer that is read.
const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// How long one call may take.
pub const TIMEOUTS: Timeouts = Timeouts { connect: Duration::from_millis(1000), total: Duration::from_millis(2000) };

/// What the sender's API answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    /// Response headers, names lowercased.
    pub headers: Vec<(String, String)>,
    /// The body as JSON (`Null` when it is not JSON).
    pub body: Value,
}

impl Answer {
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// Why a call gave no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RemoteError {
    #[error("calls to the sender's API are off here")]
    Offline,
    #[error("the sender's API could not be reached: {0}")]
    Unreachable(String),
}

/// The deployment's way out to senders' APIs.
#[derive(Clone)]
pub struct Remote {
    /// The realm whose users [`Remote::full_name_by_email`] finds.
    directory: Option<(Arc<dyn Store>, RealmId)>,
    client: Option<reqwest::Client>,
    /// Checked on IP literals in URLs; the client's resolver checks what names resolve to.
    policy: AddressPolicy,
    /// Slack's Web API base, from [`Settings::slack_api_url`].
    pub slack_api_url: String,
}

impl Remote {
    /// The remote for a deployment's settings, on a client built once per process (one per
    /// address policy).
    #[must_use]
    pub fn for_settings(settings: &Settings) -> Self {
        static PUBLIC: OnceLock<reqwest::Client> = OnceLock::new();
        static PRIVATE: OnceLock<reqwest::Client> = OnceLock::new();
        let cell = if settings.allow_private_endpoints { &PRIVATE } else { &PUBLIC };
        let policy = AddressPolicy { allow_all_private: settings.allow_private_endpoints, allowed: Vec::new() };
        let client = cell.get_or_init(|| http_client(policy.clone(), TIMEOUTS)).clone();
        Self {
            directory: None,
            client: Some(client),
            policy,
            slack_api_url: settings.slack_api_url.trim_end_matches('/').to_owned(),
        }
    }

    /// A remote that calls nothing (every call is [`RemoteError::Offline`]): for pure previews
    /// and fuzzing.
    #[must_use]
    pub fn offline() -> Self {
        Self { directory: None, client: None, policy: AddressPolicy::default(), slack_api_url: String::new() }
    }

    /// The same, finding users in `realm`.
    #[must_use]
    pub fn in_realm(mut self, store: Arc<dyn Store>, realm: RealmId) -> Self {
        self.directory = Some((store, realm));
        self
    }

    /// The full name of the realm's user with this email, if there is one (and a realm to look
    /// in). A failed lookup is logged and counts as no one.
    pub async fn full_name_by_email(&self, email: &str) -> Option<String> {
        let (store, realm) = self.directory.as_ref()?;
        match store.find_user_by_email(*realm, email).await {
            Ok(user) => user.map(|u| u.full_name),
            Err(error) => {
                tracing::warn!(%error, "user lookup for an incoming webhook failed");
                None
            }
        }
    }

    /// `GET url?query` with `Authorization: Bearer <token>`.
    ///
    /// # Errors
    /// [`RemoteError`] when no answer came back (refused address, timeout, connection error).
    pub async fn get(&self, url: &str, token: &str, query: &[(&str, &str)]) -> Result<Answer, RemoteError> {
        let client = self.client.as_ref().ok_or(RemoteError::Offline)?;
        let mut parsed = Url::parse(url).map_err(|_| RemoteError::Unreachable("not a URL".into()))?;
        if !query.is_empty() {
            parsed.query_pairs_mut().extend_pairs(query);
        }
        self.policy.check_url(&parsed).map_err(|e| RemoteError::Unreachable(e.to_string()))?;
        let mut response = client.get(parsed).bearer_auth(token).send().await.map_err(unreachable)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_ascii_lowercase(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            bytes.extend_from_slice(&chunk);
            if bytes.len() > MAX_ANSWER_BYTES {
                return Err(RemoteError::Unreachable("the answer is too large".into()));
            }
        }
        Ok(Answer { status, headers, body: serde_json::from_slice(&bytes).unwrap_or(Value::Null) })
    }
}

/// A reqwest error, told without the URL (which carries query values).
fn unreachable(error: reqwest::Error) -> RemoteError {
    RemoteError::Unreachable(if error.is_timeout() {
        "timed out".into()
    } else if error.is_connect() {
        "could not connect".into()
    } else {
        error.without_url().to_string()
    })
}
