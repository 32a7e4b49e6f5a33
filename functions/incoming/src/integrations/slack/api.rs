//! What the `slack` integration asks Slack's Web API: who a user is (`users.info`), what a
//! channel is called (`conversations.info`), and whether the app's token will do
//! (`auth.test`, whose `X-OAuth-Scopes` header lists the token's scopes). Calls run at once, at
//! most [`MAX_USERS`] users per message; whatever Slack does not answer is left out, and the
//! message shows the id instead.

use futures::future::join_all;
use serde_json::Value;

use super::Needs;
use crate::remote::Remote;

/// The scopes the integration needs of the app's token.
pub const REQUIRED_SCOPES: &[&str] =
    &["channels:history", "channels:read", "emoji:read", "team:read", "users:read", "users:read.email"];

/// The most users one message's lookups name; further mentions show their ids.
pub const MAX_USERS: usize = 10;

/// What Slack answered.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Lookups {
    /// `(user id, name)` for each user Slack named.
    pub users: Vec<(String, String)>,
    pub channel: Option<(String, String)>,
    /// Why the token will not do, when it was checked and will not. Without a check (no
    /// Web API), [`Lookups::default`] says so.
    pub token_problem: Option<String>,
}

impl Lookups {
    /// Nothing looked up, and the token unchecked: what an integration without Slack's Web
    /// API knows.
    #[must_use]
    pub fn offline() -> Self {
        Self { token_problem: Some("Slack's Web API cannot be reached from here".into()), ..Self::default() }
    }

    /// The user's name, or the id when Slack did not say.
    #[must_use]
    pub fn user_name<'a>(&'a self, id: &'a str) -> &'a str {
        self.users.iter().find(|(user, _)| user == id).map_or(id, |(_, name)| name.as_str())
    }

    /// The user's name, if Slack said.
    #[must_use]
    pub fn known_user(&self, id: &str) -> Option<&str> {
        self.users.iter().find(|(user, _)| user == id).map(|(_, name)| name.as_str())
    }

    /// The channel's name, or the id when Slack did not say.
    #[must_use]
    pub fn channel_name<'a>(&'a self, id: &'a str) -> &'a str {
        self.channel.as_ref().filter(|(channel, _)| channel == id).map_or(id, |(_, name)| name.as_str())
    }
}

/// Asks Slack what `needs` names.
pub async fn look_up(remote: &Remote, needs: &Needs) -> Lookups {
    let Some(token) = needs.token.as_deref().filter(|t| !t.is_empty()) else {
        let token_problem = needs.check_token.then(|| "slack_app_token is missing.".to_owned());
        return Lookups { token_problem, ..Lookups::default() };
    };
    if needs.check_token {
        return Lookups { token_problem: check_token(remote, token).await.err(), ..Lookups::default() };
    }
    let users = needs.users.iter().take(MAX_USERS).map(|id| async move {
        let name = named(remote, token, "users.info", "user", id).await;
        name.map(|name| (id.clone(), name))
    });
    let channel = async {
        match &needs.channel {
            Some(id) => named(remote, token, "conversations.info", "channel", id).await.map(|name| (id.clone(), name)),
            None => None,
        }
    };
    let (users, channel) = futures::join!(join_all(users), channel);
    Lookups { users: users.into_iter().flatten().collect(), channel, token_problem: None }
}

/// `users.info?user=…` → `user.real_name` (or `user.name`); `conversations.info?channel=…` →
/// `channel.name`.
async fn named(remote: &Remote, token: &str, method: &str, key: &str, id: &str) -> Option<String> {
    let url = format!("{}/{method}", remote.slack_api_url);
    match remote.get(&url, token, &[(key, id)]).await {
        Ok(answer) if answer.status == 200 && answer.body["ok"] == Value::Bool(true) => {
            let object = &answer.body[key];
            let name = ["real_name", "name"].iter().find_map(|field| object[*field].as_str().filter(|n| !n.is_empty()));
            if name.is_none() {
                tracing::warn!(method, "Slack's answer names no one");
            }
            name.map(str::to_owned)
        }
        Ok(answer) => {
            tracing::warn!(method, status = answer.status, error = %answer.body["error"], "Slack refused a lookup");
            None
        }
        Err(error) => {
            tracing::warn!(method, %error, "Slack lookup failed");
            None
        }
    }
}

/// Whether the token is a user (`xoxp-`) or bot (`xoxb-`) token that Slack accepts, with
/// every scope in [`REQUIRED_SCOPES`].
async fn check_token(remote: &Remote, token: &str) -> Result<(), String> {
    if !(token.starts_with("xoxp-") || token.starts_with("xoxb-")) {
        return Err("Unknown token type -- must start with xoxb- or xoxp-".into());
    }
    let url = format!("{}/auth.test", remote.slack_api_url);
    let answer = remote.get(&url, token, &[]).await.map_err(|e| format!("Could not check the Slack token: {e}"))?;
    if answer.status != 200 || answer.body["ok"] != Value::Bool(true) {
        let why = answer.body["error"].as_str().unwrap_or("refused");
        return Err(format!("Invalid Slack token: {why} ({})", answer.status));
    }
    let granted: Vec<&str> = answer.header("x-oauth-scopes").unwrap_or("").split(',').map(str::trim).collect();
    let missing: Vec<String> =
        REQUIRED_SCOPES.iter().filter(|scope| !granted.contains(scope)).map(|scope| format!("'{scope}'")).collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("Slack token is missing the following required scopes: [{}]", missing.join(", ")))
    }
}
