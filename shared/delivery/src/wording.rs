//! What users read when a delivery fails: Zulip's own texts for the reply in the conversation
//! and the direct message to the bot's owner, and Zulip-style links to the message.

use hookline_model::{Message, Recipient};

/// Why a delivery ended without a reply from the bot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Retries exhausted on timeouts.
    Timeout { seconds: u64 },
    /// Retries exhausted on connection errors.
    Connection,
    /// A non-2xx final status.
    Status { status: u16, body_excerpt: String },
    /// A 2xx whose body is not an answer (`error` is e.g. "Invalid JSON in response").
    InvalidAnswer { error: String, body_excerpt: String },
    /// A direct message to a Slack-format service.
    SlackDirectMessage,
    /// The endpoint's address is not one Hookline may connect to. Which address and which rule
    /// is for the delivery log only, never for the conversation or the owner.
    Blocked,
}

/// Zulip's words for a refused address (what its SSRF proxy's 407 turns into).
const DISALLOWED_NETWORK: &str = "The URL configured for the webhook is for a private or disallowed network.";

impl Failure {
    /// The line of the owner's notice that says what went wrong, in Zulip's words.
    fn detail(&self) -> String {
        match self {
            Self::Timeout { seconds } => format!("Request timed out after {seconds} seconds."),
            Self::Connection => "A connection error occurred. Is my bot server down?".to_owned(),
            Self::Status { status, .. } => format!("The webhook got a response with status code *{status}*."),
            Self::InvalidAnswer { error, .. } => format!(
                "The outgoing webhook server attempted to send a message in Zulip, but that request resulted in \
                 the following error:\n> {error}"
            ),
            Self::SlackDirectMessage => "Slack outgoing webhooks don't support direct messages.".to_owned(),
            Self::Blocked => DISALLOWED_NETWORK.to_owned(),
        }
    }

    /// Whether the bot's owner hears of this failure. A direct message to a Slack-format bot is
    /// only answered in the conversation, as Zulip's `fail_with_message` does.
    #[must_use]
    pub fn tells_owner(&self) -> bool {
        !matches!(self, Self::SlackDirectMessage)
    }

    /// The response body to quote to the owner, if there is one.
    fn body_excerpt(&self) -> Option<&str> {
        match self {
            Self::Status { body_excerpt, .. } | Self::InvalidAnswer { body_excerpt, .. } => {
                Some(body_excerpt.as_str()).filter(|excerpt| !excerpt.is_empty())
            }
            _ => None,
        }
    }
}

/// The reply posted in the conversation, as the bot: "Failure! Bot is unavailable" and the
/// like, word for word as Zulip posts them.
#[must_use]
pub fn failure_reply(failure: &Failure) -> String {
    match failure {
        Failure::Timeout { .. } | Failure::Connection => "Failure! Bot is unavailable".to_owned(),
        Failure::Status { status, .. } => format!("Failure! Third party responded with {status}"),
        Failure::InvalidAnswer { error, .. } => format!("Failure! {error}"),
        Failure::SlackDirectMessage => "Failure! Slack outgoing webhooks don't support direct messages.".to_owned(),
        Failure::Blocked => format!("Failure! {DISALLOWED_NETWORK}"),
    }
}

/// The direct message to the bot's owner, as Zulip words it: which message triggered the
/// webhook, what went wrong, and the response payload when there is one.
#[must_use]
pub fn owner_notice(link: &str, bot_name: &str, failure: &Failure) -> String {
    let mut notice = first_line(link, bot_name);
    notice.push('\n');
    notice.push_str(&failure.detail());
    push_payload(&mut notice, failure);
    notice
}

/// The heads-up to the bot's owner that a delivery is still failing after attempt `attempts`
/// and will be retried (Hookline's own wording after Zulip's first line).
#[must_use]
pub fn still_failing_notice(link: &str, bot_name: &str, attempts: u32, failure: &Failure) -> String {
    let mut notice = first_line(link, bot_name);
    notice.push_str(&format!("\nIt is still failing after attempt {attempts}; Hookline will keep retrying.\n"));
    notice.push_str(&failure.detail());
    push_payload(&mut notice, failure);
    notice
}

fn first_line(link: &str, bot_name: &str) -> String {
    format!("[A message]({link}) to your bot @_**{bot_name}** triggered an outgoing webhook.")
}

/// Appends Zulip's quote of the response payload, in a fence the payload cannot close.
fn push_payload(notice: &mut String, failure: &Failure) {
    let Some(excerpt) = failure.body_excerpt() else { return };
    let longest_run = excerpt.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run.max(2) + 1);
    notice.push_str(&format!("\nThe response contains the following payload:\n{fence}\n{excerpt}\n{fence}"));
}

/// A link to the message in the realm's web app, as Zulip writes them:
/// `{public_url}/#narrow/channel/{stream id}-{stream name}/topic/{topic}/near/{id}` for a stream
/// message, `{public_url}/#narrow/dm/{participant ids}-pm/near/{id}` for a direct message, with
/// names and topics encoded the way Zulip encodes URL hash components.
#[must_use]
pub fn message_link(public_url: &str, message: &Message) -> String {
    let base = public_url.trim_end_matches('/');
    match &message.recipient {
        Recipient::Stream { stream_id, stream_name, topic } => {
            let stream = encode_hash_component(&stream_name.replace(' ', "-"));
            let topic = encode_hash_component(topic);
            format!("{base}/#narrow/channel/{stream_id}-{stream}/topic/{topic}/near/{}", message.id)
        }
        Recipient::Direct { user_ids } => {
            let mut ids = user_ids.clone();
            ids.sort_unstable();
            let ids: Vec<String> = ids.iter().map(u64::to_string).collect();
            format!("{base}/#narrow/dm/{}-pm/near/{}", ids.join(","), message.id)
        }
    }
}

/// Zulip's `encode_hash_component`: percent-encoding with `.` in place of `%` (and `.` itself
/// written `.2E`), so browsers leave the hash alone.
fn encode_hash_component(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'~' | b'*' => encoded.push(char::from(byte)),
            _ => encoded.push_str(&format!(".{byte:02X}")),
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINK: &str = "https://acme.example.com/#narrow/channel/9-Verona/topic/lunch/near/77";

    /// A message to `recipient` (read from JSON, so fields the model defaults need not be
    /// spelled out).
    fn message(recipient: Recipient) -> Message {
        serde_json::from_value(serde_json::json!({
            "realm_id": 3,
            "id": 77,
            "sender_id": 5,
            "sender_email": "iago@acme.example.com",
            "sender_full_name": "Iago",
            "sender_is_bot": false,
            "recipient": recipient,
            "content": "@**Helper** hi",
            "timestamp": 0,
            "client": "website",
        }))
        .expect("a message")
    }

    #[test]
    fn failure_replies_are_zulips_words() {
        let cases = [
            (Failure::Timeout { seconds: 10 }, "Failure! Bot is unavailable"),
            (Failure::Connection, "Failure! Bot is unavailable"),
            (Failure::Status { status: 404, body_excerpt: "nope".into() }, "Failure! Third party responded with 404"),
            (
                Failure::InvalidAnswer { error: "Invalid JSON in response".into(), body_excerpt: "ok".into() },
                "Failure! Invalid JSON in response",
            ),
            (Failure::SlackDirectMessage, "Failure! Slack outgoing webhooks don't support direct messages."),
            (Failure::Blocked, "Failure! The URL configured for the webhook is for a private or disallowed network."),
        ];
        for (failure, reply) in cases {
            assert_eq!(failure_reply(&failure), reply);
        }
    }

    #[test]
    fn owner_notice_for_a_status_quotes_the_payload() {
        let failure = Failure::Status { status: 500, body_excerpt: "{\"error\": \"boom\"}".into() };
        assert_eq!(
            owner_notice(LINK, "Helper", &failure),
            format!(
                "[A message]({LINK}) to your bot @_**Helper** triggered an outgoing webhook.\n\
                 The webhook got a response with status code *500*.\n\
                 The response contains the following payload:\n```\n{{\"error\": \"boom\"}}\n```"
            )
        );
    }

    #[test]
    fn owner_notice_leaves_out_an_empty_payload() {
        let failure = Failure::Status { status: 410, body_excerpt: String::new() };
        assert_eq!(
            owner_notice(LINK, "Helper", &failure),
            format!(
                "[A message]({LINK}) to your bot @_**Helper** triggered an outgoing webhook.\n\
                 The webhook got a response with status code *410*."
            )
        );
    }

    #[test]
    fn owner_notice_for_timeouts_and_connection_errors_uses_zulips_lines() {
        let timeout = owner_notice(LINK, "Helper", &Failure::Timeout { seconds: 10 });
        assert!(timeout.ends_with("triggered an outgoing webhook.\nRequest timed out after 10 seconds."), "{timeout}");
        let connection = owner_notice(LINK, "Helper", &Failure::Connection);
        assert!(
            connection.ends_with("triggered an outgoing webhook.\nA connection error occurred. Is my bot server down?"),
            "{connection}"
        );
    }

    #[test]
    fn owner_notice_for_an_invalid_answer_quotes_the_error_and_payload() {
        let failure = Failure::InvalidAnswer { error: "Invalid JSON in response".into(), body_excerpt: "ok".into() };
        assert_eq!(
            owner_notice(LINK, "Helper", &failure),
            format!(
                "[A message]({LINK}) to your bot @_**Helper** triggered an outgoing webhook.\n\
                 The outgoing webhook server attempted to send a message in Zulip, but that request resulted in the \
                 following error:\n> Invalid JSON in response\n\
                 The response contains the following payload:\n```\nok\n```"
            )
        );
    }

    #[test]
    fn owner_notice_for_a_blocked_endpoint_is_zulips_line() {
        assert_eq!(
            owner_notice(LINK, "Helper", &Failure::Blocked),
            format!(
                "[A message]({LINK}) to your bot @_**Helper** triggered an outgoing webhook.\n\
                 The URL configured for the webhook is for a private or disallowed network."
            )
        );
    }

    #[test]
    fn only_a_slack_direct_message_keeps_the_owner_out_of_it() {
        assert!(!Failure::SlackDirectMessage.tells_owner());
        for failure in [
            Failure::Timeout { seconds: 10 },
            Failure::Connection,
            Failure::Status { status: 500, body_excerpt: String::new() },
            Failure::InvalidAnswer { error: "Invalid JSON in response".into(), body_excerpt: String::new() },
            Failure::Blocked,
        ] {
            assert!(failure.tells_owner(), "{failure:?}");
        }
    }

    #[test]
    fn a_payload_with_backticks_cannot_close_its_fence() {
        let failure = Failure::Status { status: 502, body_excerpt: "a ``` b ```` c".into() };
        let notice = owner_notice(LINK, "Helper", &failure);
        assert!(notice.ends_with("payload:\n`````\na ``` b ```` c\n`````"), "{notice}");
    }

    #[test]
    fn still_failing_notice_names_the_attempt_and_the_failure() {
        let failure = Failure::Status { status: 503, body_excerpt: "busy".into() };
        assert_eq!(
            still_failing_notice(LINK, "Helper", 4, &failure),
            format!(
                "[A message]({LINK}) to your bot @_**Helper** triggered an outgoing webhook.\n\
                 It is still failing after attempt 4; Hookline will keep retrying.\n\
                 The webhook got a response with status code *503*.\n\
                 The response contains the following payload:\n```\nbusy\n```"
            )
        );
    }

    #[test]
    fn stream_message_links_follow_zulips_narrow_format() {
        let recipient = Recipient::Stream { stream_id: 9, stream_name: "Verona".into(), topic: "lunch".into() };
        assert_eq!(message_link("https://acme.example.com/", &message(recipient)), LINK);
    }

    #[test]
    fn stream_and_topic_names_are_hash_encoded_like_zulip() {
        let topic = "v1.2 (draft) & café".to_owned();
        let recipient = Recipient::Stream { stream_id: 12, stream_name: "design team".into(), topic };
        let link = message_link("https://acme.example.com", &message(recipient));
        let encoded_topic = "v1.2E2.20.28draft.29.20.26.20caf.C3.A9";
        assert_eq!(
            link,
            format!("https://acme.example.com/#narrow/channel/12-design-team/topic/{encoded_topic}/near/77")
        );
    }

    #[test]
    fn direct_message_links_list_every_participant() {
        let link = message_link("https://acme.example.com", &message(Recipient::Direct { user_ids: vec![20, 5, 31] }));
        assert_eq!(link, "https://acme.example.com/#narrow/dm/5,20,31-pm/near/77");
    }
}
