//! The body POSTed to a bot's endpoint, in Zulip's own format (JSON) or in Slack's legacy
//! outgoing-webhook format (form fields), field for field as Zulip sends them.

use hookline_model::{BotService, Interface, Message, Realm, Recipient, Trigger, User};
use serde_json::{Value, json};

/// `Content-Type` of the Zulip format.
const JSON: &str = "application/json";
/// `Content-Type` of the Slack format.
const FORM: &str = "application/x-www-form-urlencoded";

/// The body of one outgoing request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingBody {
    /// The `Content-Type` header to send with `bytes`.
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// Why no body can be built for a delivery.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PayloadError {
    #[error("Slack outgoing webhooks don't support direct messages.")]
    SlackDirectMessage,
}

/// What a payload is built from.
pub struct PayloadInput<'a> {
    pub message: &'a Message,
    /// `format::message_json(message, directory, false)`: the raw Markdown in `content`,
    /// `content_type` `text/x-markdown`, and the HTML in `rendered_content`
    pub message_json: &'a Value,
    pub realm: &'a Realm,
    pub bot: &'a User,
    pub service: &'a BotService,
    pub trigger: Trigger,
}

/// Zulip format (interface 1): JSON `{data, token, trigger, bot_email, bot_full_name, message}`;
/// Slack (2): the form fields in Zulip's order (`token`, `team_id` "T<realm id>", `team_domain`
/// realm host, `channel_id` "C<stream id>", `channel_name`, `thread_ts`, `timestamp` (seconds),
/// `user_id` "U<sender id>", `user_name` (sender full name), `text` (raw content), `trigger_word`
/// (the trigger), `service_id` (bot id)); Slack refuses direct messages.
///
/// # Errors
/// [`PayloadError::SlackDirectMessage`] for a direct message to a Slack-format service.
pub fn build(input: &PayloadInput<'_>) -> Result<OutgoingBody, PayloadError> {
    match input.service.interface {
        Interface::Zulip => Ok(zulip_body(input)),
        Interface::Slack => slack_body(input),
    }
}

fn zulip_body(input: &PayloadInput<'_>) -> OutgoingBody {
    let body = json!({
        "data": input.message.content,
        "token": input.service.token,
        "trigger": input.trigger.as_str(),
        "bot_email": input.bot.email,
        "bot_full_name": input.bot.full_name,
        "message": zulip_message(input),
    });
    OutgoingBody { content_type: JSON, bytes: serde_json::to_vec(&body).expect("a JSON value always serializes") }
}

/// The message as Zulip puts it in the payload (`MessageDict.finalize_payload` with
/// `apply_markdown=False, keep_rendered_content=True`): the raw Markdown in `content`,
/// `content_type` `text/x-markdown`, the HTML in `rendered_content`, and no `flags`, which
/// belong to a reader and are not part of the message.
fn zulip_message(input: &PayloadInput<'_>) -> Value {
    let mut message = input.message_json.clone();
    if let Some(fields) = message.as_object_mut() {
        fields.insert("content".to_owned(), Value::String(input.message.content.clone()));
        fields.insert("content_type".to_owned(), Value::String("text/x-markdown".to_owned()));
        fields.remove("flags");
    }
    message
}

fn slack_body(input: &PayloadInput<'_>) -> Result<OutgoingBody, PayloadError> {
    let message = input.message;
    let Recipient::Stream { stream_id, stream_name, .. } = &message.recipient else {
        return Err(PayloadError::SlackDirectMessage);
    };
    let channel_name = input.message_json.get("display_recipient").and_then(Value::as_str).unwrap_or(stream_name);
    let timestamp = message.timestamp.div_euclid(1000).to_string();
    let fields: [(&str, String); 12] = [
        ("token", input.service.token.clone()),
        ("team_id", format!("T{}", input.realm.id)),
        ("team_domain", input.realm.host.clone()),
        ("channel_id", format!("C{stream_id}")),
        ("channel_name", channel_name.to_owned()),
        ("thread_ts", timestamp.clone()),
        ("timestamp", timestamp),
        ("user_id", format!("U{}", message.sender_id)),
        ("user_name", message.sender_full_name.clone()),
        ("text", message.content.clone()),
        ("trigger_word", input.trigger.as_str().to_owned()),
        ("service_id", input.bot.id.to_string()),
    ];
    let encoded = serde_urlencoded::to_string(fields).expect("string pairs always encode");
    Ok(OutgoingBody { content_type: FORM, bytes: encoded.into_bytes() })
}

#[cfg(test)]
mod tests {
    use hookline_model::credentials::ApiKeyHash;
    use hookline_model::{BotType, Role, SigningSecrets, Triggers};

    use super::*;

    fn realm() -> Realm {
        serde_json::from_value(json!({
            "id": 3,
            "string_id": "acme",
            "name": "Acme",
            "host": "acme.example.com",
            "public_url": "https://acme.example.com",
            "created_at": 0,
        }))
        .expect("a realm")
    }

    fn bot() -> User {
        User {
            realm_id: 3,
            id: 20,
            email: "helper-bot@acme.example.com".into(),
            full_name: "Helper".into(),
            role: Role::Member,
            bot_type: Some(BotType::OutgoingWebhook),
            bot_owner_id: Some(5),
            is_active: true,
            api_key_hash: ApiKeyHash::of("key"),
            created_at: 0,
        }
    }

    fn service(interface: Interface) -> BotService {
        BotService {
            realm_id: 3,
            bot_id: 20,
            base_url: "https://bots.example.com/hook".into(),
            interface,
            token: "tok123".into(),
            signing: SigningSecrets { current: "whsec_AAAA".into(), previous: None, previous_expires_at: None },
            webhook_secret: None,
            triggers: Triggers::default(),
            is_active: true,
            deactivated_reason: None,
            failing_since: None,
            last_owner_notice_at: None,
            retry_schedule: None,
            updated_at: 0,
        }
    }

    fn stream_message() -> Message {
        let recipient = Recipient::Stream { stream_id: 9, stream_name: "Verona".into(), topic: "lunch".into() };
        message_from(recipient)
    }

    /// A message from Iago to `recipient` (read from JSON, so fields the model defaults need
    /// not be spelled out).
    fn message_from(recipient: Recipient) -> Message {
        serde_json::from_value(json!({
            "realm_id": 3,
            "id": 77,
            "sender_id": 5,
            "sender_email": "iago@acme.example.com",
            "sender_full_name": "Iago",
            "sender_is_bot": false,
            "recipient": recipient,
            "content": "@**Helper** what's for *lunch*?",
            "timestamp": 1_527_876_931_250_i64,
            "client": "website",
        }))
        .expect("a message")
    }

    /// What `format::message_json(message, directory, false)` gives for [`stream_message`].
    fn stream_message_json() -> Value {
        json!({
            "id": 77,
            "sender_id": 5,
            "sender_email": "iago@acme.example.com",
            "sender_full_name": "Iago",
            "sender_realm_str": "acme",
            "type": "stream",
            "stream_id": 9,
            "display_recipient": "Verona",
            "recipient_id": 9,
            "subject": "lunch",
            "topic_links": [],
            "timestamp": 1_527_876_931,
            "content": "@**Helper** what's for *lunch*?",
            "content_type": "text/x-markdown",
            "rendered_content": "<p>@Helper what's for <em>lunch</em>?</p>",
            "client": "website",
            "avatar_url": avatar(),
            "is_me_message": false,
            "reactions": [],
            "submessages": [],
            "flags": ["read"],
        })
    }

    fn avatar() -> String {
        hookline_messaging::format::avatar_url("iago@acme.example.com")
    }

    fn body_for(message: &Message, message_json: &Value, interface: Interface, trigger: Trigger) -> OutgoingBody {
        let (realm, bot, service) = (realm(), bot(), service(interface));
        let input = PayloadInput { message, message_json, realm: &realm, bot: &bot, service: &service, trigger };
        build(&input).expect("payload builds")
    }

    #[test]
    fn zulip_format_sends_every_field_zulip_sends() {
        let body = body_for(&stream_message(), &stream_message_json(), Interface::Zulip, Trigger::Mention);
        assert_eq!(body.content_type, "application/json");
        let sent: Value = serde_json::from_slice(&body.bytes).unwrap();
        assert_eq!(
            sent,
            json!({
                "data": "@**Helper** what's for *lunch*?",
                "token": "tok123",
                "trigger": "mention",
                "bot_email": "helper-bot@acme.example.com",
                "bot_full_name": "Helper",
                "message": {
                    "id": 77,
                    "sender_id": 5,
                    "sender_email": "iago@acme.example.com",
                    "sender_full_name": "Iago",
                    "sender_realm_str": "acme",
                    "type": "stream",
                    "stream_id": 9,
                    "display_recipient": "Verona",
                    "recipient_id": 9,
                    "subject": "lunch",
                    "topic_links": [],
                    "timestamp": 1_527_876_931,
                    "content": "@**Helper** what's for *lunch*?",
                    "content_type": "text/x-markdown",
                    "rendered_content": "<p>@Helper what's for <em>lunch</em>?</p>",
                    "client": "website",
                    "avatar_url": avatar(),
                    "is_me_message": false,
                    "reactions": [],
                    "submessages": [],
                },
            })
        );
    }

    #[test]
    fn zulip_format_passes_on_reactions_and_the_edit_time() {
        let mut message_json = stream_message_json();
        let reaction =
            json!({"emoji_name": "tada", "emoji_code": "1f389", "reaction_type": "unicode_emoji", "user_id": 5});
        message_json["reactions"] = json!([reaction]);
        message_json["last_edit_timestamp"] = json!(1_527_877_000);
        let body = body_for(&stream_message(), &message_json, Interface::Zulip, Trigger::Mention);
        let sent: Value = serde_json::from_slice(&body.bytes).unwrap();
        assert_eq!(sent["message"]["reactions"], json!([reaction]));
        assert_eq!(sent["message"]["last_edit_timestamp"], 1_527_877_000);
        assert!(sent["message"].get("flags").is_none());
    }

    #[test]
    fn zulip_format_sends_each_trigger_by_its_wire_name() {
        let message = stream_message();
        let message_json = stream_message_json();
        for (trigger, wire) in [
            (Trigger::Mention, "mention"),
            (Trigger::DirectMessage, "direct_message"),
            (Trigger::StreamMessage, "stream_message"),
            (Trigger::TriggerWord, "trigger_word"),
        ] {
            let body = body_for(&message, &message_json, Interface::Zulip, trigger);
            let sent: Value = serde_json::from_slice(&body.bytes).unwrap();
            assert_eq!(sent["trigger"], wire);
        }
    }

    #[test]
    fn zulip_format_sends_direct_messages_with_their_recipients() {
        let message = message_from(Recipient::direct(5, [20]));
        let people = json!([
            {"id": 5, "email": "iago@acme.example.com", "full_name": "Iago", "is_mirror_dummy": false},
            {"id": 20, "email": "helper-bot@acme.example.com", "full_name": "Helper", "is_mirror_dummy": false},
        ]);
        let mut message_json = stream_message_json();
        message_json["type"] = json!("private");
        message_json["display_recipient"] = people.clone();
        message_json.as_object_mut().unwrap().remove("stream_id");
        let body = body_for(&message, &message_json, Interface::Zulip, Trigger::DirectMessage);
        let sent: Value = serde_json::from_slice(&body.bytes).unwrap();
        assert_eq!(sent["trigger"], "direct_message");
        assert_eq!(sent["message"]["type"], "private");
        assert_eq!(sent["message"]["display_recipient"], people);
        assert!(sent["message"].get("stream_id").is_none());
    }

    #[test]
    fn slack_format_sends_zulips_fields_in_zulips_order() {
        let body = body_for(&stream_message(), &stream_message_json(), Interface::Slack, Trigger::Mention);
        assert_eq!(body.content_type, "application/x-www-form-urlencoded");
        let sent: Vec<(String, String)> = serde_urlencoded::from_bytes(&body.bytes).unwrap();
        let expected = [
            ("token", "tok123"),
            ("team_id", "T3"),
            ("team_domain", "acme.example.com"),
            ("channel_id", "C9"),
            ("channel_name", "Verona"),
            ("thread_ts", "1527876931"),
            ("timestamp", "1527876931"),
            ("user_id", "U5"),
            ("user_name", "Iago"),
            ("text", "@**Helper** what's for *lunch*?"),
            ("trigger_word", "mention"),
            ("service_id", "20"),
        ];
        let expected: Vec<(String, String)> =
            expected.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        assert_eq!(sent, expected);
    }

    #[test]
    fn slack_format_takes_the_current_stream_name() {
        let mut message_json = stream_message_json();
        message_json["display_recipient"] = json!("Verona & friends");
        let body = body_for(&stream_message(), &message_json, Interface::Slack, Trigger::StreamMessage);
        let sent: Vec<(String, String)> = serde_urlencoded::from_bytes(&body.bytes).unwrap();
        assert!(sent.contains(&("channel_name".to_owned(), "Verona & friends".to_owned())));
        assert!(sent.contains(&("trigger_word".to_owned(), "stream_message".to_owned())));
    }

    #[test]
    fn slack_format_refuses_direct_messages() {
        let message = message_from(Recipient::direct(5, [20]));
        let (realm, bot, service) = (realm(), bot(), service(Interface::Slack));
        let message_json = stream_message_json();
        let input = PayloadInput {
            message: &message,
            message_json: &message_json,
            realm: &realm,
            bot: &bot,
            service: &service,
            trigger: Trigger::DirectMessage,
        };
        let refused = build(&input).unwrap_err();
        assert_eq!(refused, PayloadError::SlackDirectMessage);
        assert_eq!(refused.to_string(), "Slack outgoing webhooks don't support direct messages.");
    }
}
