//! `slack`: messages from a Slack workspace's channels, as Zulip's `slack`: from Slack's
//! Events API (a Slack app subscribed to `message.channels`), or from Slack's legacy Outgoing
//! Webhooks (a form with `user_name`, `text` and `channel_name`).
//!
//! Every message reads `**sender**: text`, with shared files listed as links below it. Where
//! it goes depends on `channels_map_to_topics`: absent, the topic `Message from Slack`; `1`,
//! the topic `channel: <name>`; `0`, the stream named like the Slack channel. Events carry only
//! Slack ids, so the integration asks Slack's Web API (with the app's `slack_app_token`, through
//! the guarded outgoing client) who the sender and the mentioned users are, and what the
//! channel is called; an id Slack does not answer for is shown as it is rather than dropping
//! the message. Slack's retries (`X-Slack-Retry-Num`) and messages the Zulip-to-Slack bridge
//! posted are acknowledged without a message, so nothing is posted twice.
//!
//! Slack first checks a new Request URL with a `url_verification` challenge: the answer
//! carries the challenge once the token is known good (it must be a user or bot token with the
//! scopes the integration needs), and the bot's owner is told by direct message what is wrong
//! with it otherwise.

mod api;
mod convert;
#[cfg(test)]
mod tests;

use futures::future::BoxFuture;
use serde_json::{Map, Value};

use crate::integration::{
    Handled, Integration, IntegrationError, OptionKind, Outcome, Payload, UrlOption, optional_text, text,
};
use crate::remote::Remote;
use crate::signature::{self, Encoding, Hash};

pub use api::{Lookups, REQUIRED_SCOPES};

pub struct Slack;

/// The topic every message goes to unless the channel names it.
const TOPIC: &str = "Message from Slack";

const EVENTS: &[&str] = &["message", "url_verification"];

impl Integration for Slack {
    fn name(&self) -> &'static str {
        "slack"
    }

    fn display_name(&self) -> &'static str {
        "Slack"
    }

    fn categories(&self) -> &'static [&'static str] {
        &["communication"]
    }

    fn url_options(&self) -> &'static [UrlOption] {
        &[
            UrlOption {
                name: "slack_app_token",
                description: "The Slack app's bot (xoxb-) or user (xoxp-) token, to look up user and channel names",
                kind: OptionKind::Text,
            },
            UrlOption {
                name: "channels_map_to_topics",
                description: "1: one topic per Slack channel; 0: one stream per Slack channel",
                kind: OptionKind::Text,
            },
        ]
    }

    fn event_types(&self) -> &'static [&'static str] {
        EVENTS
    }

    /// Without Slack's Web API: ids stay ids and the token cannot be checked.
    fn handle(&self, payload: &Payload<'_>) -> Result<Handled, IntegrationError> {
        plan(payload)?.finish(&Lookups::offline())
    }

    fn handle_remote<'a>(
        &'a self,
        payload: &'a Payload<'a>,
        remote: &'a Remote,
    ) -> BoxFuture<'a, Result<Handled, IntegrationError>> {
        Box::pin(async move {
            let plan = plan(payload)?;
            let lookups = api::look_up(remote, &plan.needs()).await;
            plan.finish(&lookups)
        })
    }

    /// Events API requests are signed with the app's signing secret: `X-Slack-Signature` is
    /// `v0=` and the hex HMAC-SHA256 of `v0:<X-Slack-Request-Timestamp>:<body>`. Legacy outgoing
    /// webhooks carry their token in the form's `token` field instead.
    fn verify(&self, secret: &str, payload: &Payload<'_>) -> Result<(), IntegrationError> {
        if is_legacy(payload) {
            return match payload.body.get("token").and_then(Value::as_str) {
                Some(token) if hookline_model::credentials::secrets_equal(token.as_bytes(), secret.as_bytes()) => {
                    Ok(())
                }
                Some(_) => Err(signature::failed()),
                None => Err(IntegrationError::BadSignature(
                    "Missing the outgoing webhook's token: set the bot's webhook secret to Slack's token".into(),
                )),
            };
        }
        let (Some(given), Some(timestamp)) =
            (payload.header("x-slack-signature"), payload.header("x-slack-request-timestamp"))
        else {
            return Err(IntegrationError::BadSignature(
                "Missing the X-Slack-Signature or X-Slack-Request-Timestamp header: set the bot's webhook secret to the Slack app's signing secret"
                    .into(),
            ));
        };
        let given = given.trim().strip_prefix("v0=").ok_or_else(signature::failed)?;
        let signed: [&[u8]; 4] = [b"v0:", timestamp.trim().as_bytes(), b":", payload.raw];
        if signature::matches(Hash::Sha256, Encoding::Hex, secret, &signed, given) {
            Ok(())
        } else {
            Err(signature::failed())
        }
    }

    /// `X-Slack-Request-Timestamp`, for Events API requests.
    fn signed_at(&self, payload: &Payload<'_>) -> Option<i64> {
        if is_legacy(payload) {
            return None;
        }
        payload.header("x-slack-request-timestamp")?.trim().parse().ok()
    }

    fn sample(&self) -> (Option<&'static str>, &'static str) {
        (None, include_str!("fixtures/message_with_normal_text.json"))
    }
}

/// Where messages go, from `channels_map_to_topics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mapping {
    /// Every message in one topic.
    None,
    /// `1`: a topic per channel.
    Topics,
    /// `0`: a stream per channel.
    Streams,
}

impl Mapping {
    fn from(payload: &Payload<'_>) -> Result<Self, IntegrationError> {
        match payload.param("channels_map_to_topics").map(str::trim) {
            None => Ok(Self::None),
            Some("1") => Ok(Self::Topics),
            Some("0") => Ok(Self::Streams),
            Some(_) => {
                Err(IntegrationError::BadRequest("Error: channels_map_to_topics parameter other than 0 or 1".into()))
            }
        }
    }
}

/// What a request asks for, before anything is looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Plan {
    /// A legacy outgoing webhook's message: names are given.
    Legacy { user: String, text: String, channel: String, mapping: Mapping },
    /// Slack checking the Request URL.
    Challenge { challenge: String, token: Option<String> },
    /// A message from the Events API, by ids.
    Message {
        token: Option<String>,
        sender: String,
        text: String,
        files: Vec<(String, String)>,
        channel: String,
        mapping: Mapping,
    },
    /// Acknowledged, nothing sent (a retry, the bridge's own message).
    Ignore,
}

/// What the plan needs from Slack's Web API.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Needs {
    pub token: Option<String>,
    /// Check the token's type and scopes (the challenge).
    pub check_token: bool,
    pub users: Vec<String>,
    pub channel: Option<String>,
}

fn is_legacy(payload: &Payload<'_>) -> bool {
    !payload.header("content-type").is_some_and(|t| t.trim().to_ascii_lowercase().starts_with("application/json"))
}

fn plan(payload: &Payload<'_>) -> Result<Plan, IntegrationError> {
    let body = payload.body;
    if !body.is_object() {
        return Err(IntegrationError::Malformed("expected a JSON object".into()));
    }
    if is_legacy(payload) {
        let field = |name: &str| {
            body.get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| IntegrationError::BadRequest(format!("Missing '{name}' argument")))
        };
        let (user, text, channel) = (field("user_name")?, field("text")?, field("channel_name")?);
        return Ok(Plan::Legacy { user, text, channel, mapping: Mapping::from(payload)? });
    }
    let token = payload.param("slack_app_token").map(|t| t.trim().to_owned());
    if optional_text(body, "type")? == Some("url_verification") {
        return Ok(Plan::Challenge { challenge: text(body, "/challenge")?.to_owned(), token });
    }
    if payload.header("x-slack-retry-num").is_some() || from_the_bridge(body)? {
        return Ok(Plan::Ignore);
    }
    let event = match body.get("event") {
        None | Some(Value::Null) => &Value::Null,
        Some(event @ Value::Object(_)) => event,
        Some(_) => return Err(IntegrationError::Malformed("expected an object at /event".into())),
    };
    let kind = optional_text(event, "type")?
        .ok_or_else(|| IntegrationError::Malformed("expected text at /event/type".into()))?;
    if kind != "message" {
        return Err(unsupported(kind));
    }
    let Some(sender) = optional_text(event, "user")? else {
        let what = if optional_text(event, "subtype")? == Some("bot_message") {
            "integration bot message"
        } else {
            "unknown Slack event"
        };
        return Err(unsupported(what));
    };
    let files = match event.get("files") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(files)) => files
            .iter()
            .map(|file| Ok((text(file, "/title")?.to_owned(), text(file, "/permalink")?.to_owned())))
            .collect::<Result<_, IntegrationError>>()?,
        Some(_) => return Err(IntegrationError::Malformed("expected a list at /event/files".into())),
    };
    Ok(Plan::Message {
        token,
        sender: sender.to_owned(),
        text: optional_text(event, "text")?.unwrap_or_default().to_owned(),
        files,
        channel: text(event, "/channel")?.to_owned(),
        mapping: Mapping::from(payload)?,
    })
}

/// A message the Zulip-to-Slack bridge posted (its app id on the event's bot profile), which
/// must not come back.
fn from_the_bridge(body: &Value) -> Result<bool, IntegrationError> {
    let app = optional_text(body, "api_app_id")?;
    let bot_app = body.pointer("/event/bot_profile/app_id").and_then(Value::as_str);
    Ok(bot_app.is_some() && app == bot_app)
}

fn unsupported(event: &str) -> IntegrationError {
    IntegrationError::Unsupported { event: event.to_owned(), integration: "Slack" }
}

impl Plan {
    fn needs(&self) -> Needs {
        match self {
            Plan::Challenge { token, .. } => Needs { token: token.clone(), check_token: true, ..Needs::default() },
            Plan::Message { token, sender, text, channel, mapping, .. } => {
                let mut users = vec![sender.clone()];
                for id in convert::mentioned_users(text) {
                    if !users.contains(&id) {
                        users.push(id);
                    }
                }
                Needs {
                    token: token.clone(),
                    check_token: false,
                    users,
                    channel: (*mapping != Mapping::None).then(|| channel.clone()),
                }
            }
            Plan::Legacy { .. } | Plan::Ignore => Needs::default(),
        }
    }

    fn finish(self, lookups: &Lookups) -> Result<Handled, IntegrationError> {
        let (event, outcome) = match self {
            Plan::Ignore => ("message", Outcome::Ignore),
            Plan::Challenge { challenge, .. } => ("url_verification", challenge_outcome(challenge, lookups)),
            Plan::Legacy { user, text, channel, mapping } => {
                let content = body(&user, &convert::legacy_to_markdown(&text), &[]);
                ("message", place(mapping, &channel, content))
            }
            Plan::Message { sender, text, files, channel, mapping, .. } => {
                let text = convert::events_text(&text, lookups);
                let content = body(lookups.user_name(&sender), &text, &files);
                let channel = lookups.channel_name(&channel);
                ("message", place(mapping, channel, content))
            }
        };
        Ok(Handled { event: event.to_owned(), outcome })
    }
}

/// The answer to Slack's challenge: the challenge back and a note in the stream when the token
/// is good; otherwise no challenge (so Slack shows the URL as not verified) and a direct message
/// to the bot's owner saying what is wrong.
fn challenge_outcome(challenge: String, lookups: &Lookups) -> Outcome {
    match &lookups.token_problem {
        None => {
            let mut fields = Map::new();
            fields.insert("challenge".into(), Value::String(challenge));
            Outcome::Answer {
                fields,
                then: Box::new(Outcome::Message {
                    topic: "Integration events".into(),
                    content: "Slack webhook has been successfully configured.".into(),
                }),
            }
        }
        Some(problem) => Outcome::ToOwner(invalid_token_message(problem)),
    }
}

/// What the bot's owner is told when the app's token will not do.
#[must_use]
pub fn invalid_token_message(problem: &str) -> String {
    format!(
        "Hi there! It looks like you're trying to set up a Slack webhook\n\
         integration. There seems to be an issue with the Slack app token\n\
         you've included in the URL (if any). Please check the error message\n\
         below to see if you're missing anything:\n\n\
         Error: {problem}\n\n\
         The Slack integration's setup page lists the token's scopes and where to\n\
         find the token."
    )
}

fn body(sender: &str, text: &str, files: &[(String, String)]) -> String {
    let mut content = format!("**{sender}**: {text}");
    for (name, link) in files {
        content.push_str(&format!("\n*[{name}]({link})*"));
    }
    content
}

fn place(mapping: Mapping, channel: &str, content: String) -> Outcome {
    match mapping {
        Mapping::None => Outcome::Message { topic: TOPIC.into(), content },
        Mapping::Topics => Outcome::Message { topic: format!("channel: {channel}"), content },
        Mapping::Streams => Outcome::ToStream { stream: channel.to_owned(), topic: TOPIC.into(), content },
    }
}
