//! The HTTP side every integration shares: `POST /api/v1/external/<integration>?api_key=…`
//! authenticated as an incoming-webhook bot, the body read as JSON, a form, or a form with the
//! JSON in `payload=`, the signature checked when the bot has a webhook secret, the event run
//! through the integration, `only_events`/`exclude_events` applied, and the message sent
//! through the shared send path to `stream` (and `topic`), or to the bot's owner without one.

use hookline_edge::auth::{authenticate_basic_if_present, authenticate_key};
use hookline_edge::error::UNAVAILABLE_RETRY_AFTER;
use hookline_edge::response::success;
use hookline_edge::{ApiError, HttpResponse, Request, Services};
use hookline_messaging::limits::normalize_content;
use hookline_messaging::send::{Destination, SendError, SendRequest, Sender, StreamRef, UserRef};
use hookline_model::user::BotType;
use hookline_model::{Realm, User};
use lambda_http::RequestExt as _;
use lambda_http::http::StatusCode;
use serde_json::{Map, Value, json};

use crate::integration::{
    Handled, Integration, IntegrationError, Outcome, Payload, SIGNATURE_TOLERANCE_SECONDS, fit_content, fit_topic,
    serves_method,
};
use crate::remote::Remote;

/// Bodies above this get 413.
pub const MAX_BODY: usize = 1024 * 1024;
/// At most one "that stream does not exist" notice per bot in this long.
const MISSING_STREAM_NOTICE_INTERVAL: i64 = 60_000;

/// A request read and authenticated, ready for its integration.
struct Incoming {
    realm: Realm,
    bot: User,
    headers: Vec<(String, String)>,
    body: Value,
    raw: Vec<u8>,
}

/// Serves a request on one of `integration`'s routes: `…/test` is the preview, which sends
/// nothing; anything else is a delivery from the third party. Lambda and the local stack both
/// dispatch through here.
pub async fn serve(
    services: &Services,
    sender: &Sender,
    integration: &dyn Integration,
    request: Request,
) -> HttpResponse {
    if request.method() == lambda_http::http::Method::HEAD {
        // The sender's check that the URL exists; nothing is read or sent.
        return if serves_method(integration, "HEAD") {
            success(json!({}))
        } else {
            ApiError::endpoint_not_found().into_response()
        };
    }
    if request.uri().path().trim_end_matches('/').ends_with("/test") {
        preview(services, sender, integration, request).await
    } else {
        handle(services, sender, integration, request).await
    }
}

/// Serves one delivery for `integration`.
pub async fn handle(
    services: &Services,
    sender: &Sender,
    integration: &dyn Integration,
    request: Request,
) -> HttpResponse {
    match run(services, sender, integration, &request, false).await {
        Ok(Sent::Done(answer)) => {
            // Zulip's success shape with the third party's fields added, as `json_success(data=...)`
            let mut body = integration.success_body().unwrap_or_else(|| json!({}));
            if let Value::Object(fields) = &mut body {
                fields.extend(answer);
            }
            success(body)
        }
        Ok(Sent::Preview(preview)) => success(preview),
        Err(mut error) => {
            if let Some(Value::Object(fields)) = integration.error_fields(&error.msg) {
                error.extra.extend(fields);
            }
            if error.status.is_server_error() {
                tracing::error!(integration = integration.name(), %error, "incoming webhook failed");
            } else {
                tracing::info!(
                    integration = integration.name(),
                    status = error.status.as_u16(),
                    code = error.code,
                    "incoming webhook refused"
                );
            }
            error.into_response()
        }
    }
}

/// `POST /api/v1/external/<integration>/test`: runs the posted body (or the integration's
/// sample when there is none) and answers with the message it would send, sending nothing.
pub async fn preview(
    services: &Services,
    sender: &Sender,
    integration: &dyn Integration,
    request: Request,
) -> HttpResponse {
    match run(services, sender, integration, &request, true).await {
        Ok(Sent::Preview(preview)) => success(preview),
        Ok(Sent::Done(_)) => success(json!({})),
        Err(error) => error.into_response(),
    }
}

enum Sent {
    /// Sent (or filtered out), with the fields the sender expects in the answer.
    Done(Map<String, Value>),
    Preview(Value),
}

async fn run(
    services: &Services,
    sender: &Sender,
    integration: &dyn Integration,
    request: &Request,
    dry_run: bool,
) -> Result<Sent, ApiError> {
    let query = request.query_string_parameters();
    let params: Vec<(String, String)> = query
        .iter()
        .map(|(name, value)| {
            let value = if integration.unquotes_url_parameters() && (name == "stream" || name == "topic") {
                // Decoded once more (`%XX` only, not `+`, as Zulip's `unquote`).
                percent_encoding::percent_decode_str(value).decode_utf8_lossy().into_owned()
            } else {
                value.to_owned()
            };
            (name.to_owned(), value)
        })
        .collect();
    let mut incoming = read(services, request, query.first("api_key"), integration.reads_xml()).await?;
    let mut event_type =
        integration.event_header().and_then(|h| header(&incoming.headers, &h.to_ascii_lowercase()).map(str::to_owned));
    if dry_run && incoming.raw.is_empty() {
        let (sample_event, sample_body) = integration.sample();
        incoming.body = serde_json::from_str(sample_body).map_err(|_| ApiError::internal())?;
        incoming.raw = sample_body.as_bytes().to_vec();
        event_type = event_type.or_else(|| sample_event.map(str::to_owned));
    }
    if let Some(name) = integration.event_header()
        && event_type.is_none()
    {
        return Err(ApiError::bad_request(IntegrationError::MissingEventHeader(name).to_string()));
    }
    let payload = Payload {
        event_type: event_type.as_deref(),
        headers: &incoming.headers,
        body: &incoming.body,
        raw: &incoming.raw,
        params: &params,
    };
    if !dry_run
        && let Some(secret) =
            services.store.get_service(incoming.realm.id, incoming.bot.id).await?.and_then(|s| s.webhook_secret)
    {
        integration.verify(&secret, &payload).map_err(integration_error)?;
        if let Some(signed_at) = integration.signed_at(&payload)
            && (services.clock.now().div_euclid(1000) - signed_at).abs() > SIGNATURE_TOLERANCE_SECONDS
        {
            return Err(integration_error(IntegrationError::BadSignature(format!(
                "The request was signed more than {} minutes from now; refusing it as a replay",
                SIGNATURE_TOLERANCE_SECONDS / 60
            ))));
        }
    }
    let remote = Remote::for_settings(&services.settings).in_realm(services.store.clone(), incoming.realm.id);
    let Rendering { event, messages, answer } =
        render(integration, &payload, &remote).await.map_err(integration_error)?;
    let only: Option<Vec<String>> = json_list(query.first("only_events"), "only_events")?;
    let exclude: Option<Vec<String>> = json_list(query.first("exclude_events"), "exclude_events")?;
    let wanted = only.as_ref().is_none_or(|patterns| patterns.iter().any(|p| wildcard_match(p, &event)))
        && !exclude.as_ref().is_some_and(|patterns| patterns.iter().any(|p| wildcard_match(p, &event)));
    if dry_run {
        return Ok(Sent::Preview(preview_of(&event, &messages, answer, wanted)));
    }
    if !wanted {
        return Ok(Sent::Done(answer));
    }
    for Rendered { to, topic, content } in messages {
        let stream = match &to {
            To::Url => params.iter().find(|(name, _)| name == "stream").map(|(_, value)| value.as_str()),
            To::Stream(stream) => Some(stream.as_str()),
            To::Owner => None,
        };
        send(services, sender, integration, &incoming, stream, topic, content).await?;
    }
    Ok(Sent::Done(answer))
}

/// What the preview answers: the first message's topic and content, every message, and
/// whether the URL's event filters would drop it.
fn preview_of(event: &str, messages: &[Rendered], answer: Map<String, Value>, wanted: bool) -> Value {
    let Some(first) = messages.first() else {
        return json!({"event": event, "ignored": true, "answer": answer});
    };
    let all: Vec<Value> = messages
        .iter()
        .map(|m| {
            let mut one = json!({"topic": m.topic, "content": m.content});
            match &m.to {
                To::Url => {}
                To::Stream(stream) => one["stream"] = Value::from(stream.as_str()),
                To::Owner => one["direct_to_owner"] = Value::Bool(true),
            }
            one
        })
        .collect();
    json!({
        "event": event,
        "topic": first.topic,
        "content": first.content,
        "messages": all,
        "answer": answer,
        "filtered_out": !wanted,
    })
}

/// Sends one message to `stream` (by name or id) and `topic`, or to the bot's owner without a
/// stream.
async fn send(
    services: &Services,
    sender: &Sender,
    integration: &dyn Integration,
    incoming: &Incoming,
    stream: Option<&str>,
    topic: String,
    content: String,
) -> Result<(), ApiError> {
    let destination = match stream.filter(|s| !s.trim().is_empty()) {
        Some(stream) => Destination::Stream {
            stream: stream.trim().parse().map_or_else(|_| StreamRef::Name(stream.trim().to_owned()), StreamRef::Id),
            topic,
        },
        None => Destination::Direct(incoming.bot.bot_owner_id.map(UserRef::Id).into_iter().collect()),
    };
    let send = SendRequest {
        realm: incoming.realm.clone(),
        sender: incoming.bot.clone(),
        destination,
        content,
        client: integration.display_name().into(),
        idempotency_key: None,
        reply_to: None,
    };
    match sender.send(send).await {
        Ok(_) => Ok(()),
        Err(SendError::StreamNotFound(stream)) => {
            tell_owner_stream_is_missing(services, sender, incoming, &stream).await;
            Ok(())
        }
        Err(SendError::Store(why)) => {
            tracing::error!(error = why, "incoming message not stored");
            Err(ApiError::internal())
        }
        Err(SendError::Unavailable(why)) => {
            tracing::warn!(error = why, "incoming message refused: storage unavailable");
            Err(ApiError::unavailable(UNAVAILABLE_RETRY_AFTER))
        }
        Err(other) => Err(ApiError::bad_request(other.to_string())),
    }
}

/// Where one message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum To {
    /// The URL's `stream` (the bot's owner, by direct message, without one).
    Url,
    /// The stream the event names.
    Stream(String),
    /// The bot's owner, by direct message.
    Owner,
}

/// One message an event sends, cut as Zulip cuts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub to: To,
    pub topic: String,
    pub content: String,
}

/// What an event becomes: its name, the messages it sends in order, and the fields the sender
/// expects in the answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendering {
    pub event: String,
    pub messages: Vec<Rendered>,
    pub answer: Map<String, Value>,
}

/// What `payload` becomes, calling the sender's API through `remote` where the integration
/// needs to: the delivery and the preview go through here.
///
/// # Errors
/// The integration's refusal of the payload.
pub async fn render(
    integration: &dyn Integration,
    payload: &Payload<'_>,
    remote: &Remote,
) -> Result<Rendering, IntegrationError> {
    let handled = integration.handle_remote(payload, remote).await?;
    Ok(rendering(payload, handled))
}

/// The messages of a handled event, with the URL's `topic` in place of the integration's and
/// both cut as Zulip cuts them. Pure: the chat test uses it with [`Integration::handle`].
#[must_use]
pub fn rendering(payload: &Payload<'_>, handled: Handled) -> Rendering {
    let Handled { event, mut outcome } = handled;
    let mut answer = Map::new();
    while let Outcome::Answer { fields, then } = outcome {
        answer.extend(fields);
        outcome = *then;
    }
    let messages = match outcome {
        Outcome::Message { topic, content } => vec![(To::Url, topic, content)],
        Outcome::Messages(messages) => messages.into_iter().map(|(topic, content)| (To::Url, topic, content)).collect(),
        Outcome::ToStream { stream, topic, content } => vec![(To::Stream(stream), topic, content)],
        Outcome::ToOwner(content) => vec![(To::Owner, String::new(), content)],
        Outcome::Ignore | Outcome::Answer { .. } => Vec::new(),
    };
    let url_topic = payload.url_topic();
    let messages = messages
        .into_iter()
        .map(|(to, topic, content)| {
            let topic = if to == To::Owner { topic } else { fit_topic(url_topic.unwrap_or(&topic)) };
            // As the send path stores it, so the preview shows what is sent.
            let content = normalize_content(&content).unwrap_or_else(|_| fit_content(content));
            Rendered { to, topic, content }
        })
        .collect();
    Rendering { event, messages, answer }
}

/// Authenticates the bot and reads the body.
async fn read(
    services: &Services,
    request: &Request,
    api_key: Option<&str>,
    reads_xml: bool,
) -> Result<Incoming, ApiError> {
    let raw = request.body().as_ref().to_vec();
    if raw.len() > MAX_BODY {
        return Err(ApiError::payload_too_large(MAX_BODY));
    }
    let caller = match api_key {
        Some(api_key) => authenticate_key(services, request, api_key).await?,
        None => authenticate_basic_if_present(services, request)
            .await
            .ok_or_else(|| ApiError::missing_argument("api_key"))??,
    };
    if caller.user.bot_type != Some(BotType::IncomingWebhook) {
        return Err(ApiError::bad_request("This API key is not an incoming webhook bot's"));
    }
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|(name, value)| {
            (name.as_str().to_ascii_lowercase(), String::from_utf8_lossy(value.as_bytes()).into_owned())
        })
        .collect();
    let content_type = header(&headers, "content-type").unwrap_or("").to_ascii_lowercase();
    let body = match parse_body(&content_type, &raw) {
        Err(_) if reads_xml && is_xml(&content_type, &raw) => Value::Null,
        parsed => parsed?,
    };
    Ok(Incoming { realm: caller.realm, bot: caller.user, headers, body, raw })
}

fn header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// An XML body: labelled so, or starting with `<`.
fn is_xml(content_type: &str, raw: &[u8]) -> bool {
    content_type.contains("xml") || raw.trim_ascii_start().starts_with(b"<")
}

/// JSON, or a form (with the JSON in `payload=` when there is one), as one JSON document.
pub(crate) fn parse_body(content_type: &str, raw: &[u8]) -> Result<Value, ApiError> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Map::new()));
    }
    // Some senders (Grafana among them) label a JSON document as a form; like Zulip, which
    // reads such bodies as JSON whatever their content type, take a body that is JSON as JSON.
    if content_type.starts_with("application/x-www-form-urlencoded")
        && let Ok(document) = serde_json::from_slice::<Value>(raw)
        && (document.is_object() || document.is_array())
    {
        return Ok(document);
    }
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let fields: Vec<(String, String)> =
            serde_urlencoded::from_bytes(raw).map_err(|_| ApiError::bad_request("Malformed form body"))?;
        if let Some((_, payload)) = fields.iter().find(|(k, _)| k == "payload") {
            return serde_json::from_str(payload).map_err(|_| ApiError::bad_request("Malformed JSON"));
        }
        return Ok(Value::Object(fields.into_iter().map(|(k, v)| (k, Value::String(v))).collect()));
    }
    serde_json::from_slice(raw).map_err(|_| ApiError::bad_request("Malformed JSON"))
}

fn json_list(text: Option<&str>, name: &str) -> Result<Option<Vec<String>>, ApiError> {
    text.map(|t| serde_json::from_str(t).map_err(|e| ApiError::invalid_argument(name, e))).transpose()
}

/// `*` matches any run of characters, as in Zulip's event filters.
#[must_use]
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || !text[first.len()..].ends_with(last) || text.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

pub(crate) fn integration_error(e: IntegrationError) -> ApiError {
    match e {
        IntegrationError::Unsupported { .. } => {
            ApiError::new(StatusCode::OK, "UNSUPPORTED_WEBHOOK_EVENT_TYPE", e.to_string())
        }
        IntegrationError::BadSignature(why) => ApiError::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", why),
        IntegrationError::MissingEventHeader(_) | IntegrationError::Malformed(_) | IntegrationError::BadRequest(_) => {
            ApiError::bad_request(e.to_string())
        }
    }
}

/// Zulip tells a bot's owner when the bot posts to a stream that does not exist; at most one
/// notice a minute per bot.
async fn tell_owner_stream_is_missing(services: &Services, sender: &Sender, incoming: &Incoming, stream: &str) {
    let Some(owner) = incoming.bot.bot_owner_id else { return };
    let Ok(Some(mut service)) = services.store.get_service(incoming.realm.id, incoming.bot.id).await else { return };
    let now = services.clock.now();
    if service.last_owner_notice_at.is_some_and(|at| now - at < MISSING_STREAM_NOTICE_INTERVAL) {
        return;
    }
    let read_at = service.updated_at;
    service.last_owner_notice_at = Some(now);
    service.updated_at = now.max(read_at + 1);
    // Whoever wins the update sends the notice; a concurrent request stays quiet.
    if services.store.update_service(&service, read_at).await.is_err() {
        return;
    }
    let content = format!(
        "Your bot @_**{}** tried to send a message to channel #**{stream}**, but that channel does not exist. Click [here](#channels/new) to create it.",
        incoming.bot.full_name
    );
    let notice = SendRequest {
        realm: incoming.realm.clone(),
        sender: incoming.bot.clone(),
        destination: Destination::Direct(vec![UserRef::Id(owner)]),
        content,
        client: "Hookline".into(),
        idempotency_key: None,
        reply_to: None,
    };
    if let Err(e) = sender.send(notice).await {
        tracing::warn!(error = %e, "could not tell the owner about a missing stream");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_like_zulips_event_filters() {
        assert!(wildcard_match("pull_request_*", "pull_request_opened"));
        assert!(wildcard_match("*_opened", "issues_opened"));
        assert!(wildcard_match("*", "anything"));
        assert!(wildcard_match("push", "push"));
        assert!(wildcard_match("p*sh*", "push_hook"));
        assert!(!wildcard_match("pull_request_*", "issues_opened"));
        assert!(!wildcard_match("push", "push_hook"));
        assert!(!wildcard_match("a*a", "a"));
    }

    #[test]
    fn bodies_are_json_forms_or_forms_carrying_json() {
        assert_eq!(parse_body("application/json", br#"{"a": 1}"#).unwrap(), json!({"a": 1}));
        assert_eq!(
            parse_body("application/x-www-form-urlencoded", b"payload=%7B%22text%22%3A%22hi%22%7D").unwrap(),
            json!({"text": "hi"})
        );
        assert_eq!(parse_body("application/x-www-form-urlencoded", b"a=1&b=x").unwrap(), json!({"a": "1", "b": "x"}));
        assert_eq!(parse_body("application/json", b"").unwrap(), json!({}));
        // A JSON document labelled as a form is read as JSON
        assert_eq!(
            parse_body("application/x-www-form-urlencoded", b" {\"state\": \"ok\"}\n").unwrap(),
            json!({"state": "ok"})
        );
        assert_eq!(parse_body("application/x-www-form-urlencoded", b"[1]").unwrap(), json!([1]));
        assert_eq!(parse_body("application/x-www-form-urlencoded", b"12").unwrap(), json!({"12": ""}));
        assert_eq!(parse_body("application/json", b"{\"a\": ").unwrap_err().msg, "Malformed JSON");
        assert_eq!(
            parse_body("application/x-www-form-urlencoded", b"payload=%7Bnope").unwrap_err().msg,
            "Malformed JSON"
        );
    }
}
