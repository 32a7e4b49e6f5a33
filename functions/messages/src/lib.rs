//! `POST /api/v1/messages` and `GET /api/v1/messages`, Zulip-compatible, over the shared send
//! path, and the routes of one message: `GET`/`PATCH`/`DELETE /api/v1/messages/{message_id}`
//! and its reactions. The adapter reads parameters and maps errors; the send path, history,
//! edits and reactions live in `hookline-messaging`.

mod changes;

use std::sync::Arc;

use hookline_edge::auth::{Caller, authenticate};
use hookline_edge::error::UNAVAILABLE_RETRY_AFTER;
use hookline_edge::params::Params;
use hookline_edge::response::success;
use hookline_edge::routes::route_key;
use hookline_edge::{ApiError, HttpResponse, Request, Services};
use hookline_messaging::format::message_json;
use hookline_messaging::history::{self, Anchor, HistoryError};
use hookline_messaging::send::{Destination, SendError, SendRequest, Sender, StreamRef, UserRef};
use hookline_model::user::BotType;
use hookline_model::{Message, Recipient};
use serde_json::{Value, json};

/// The function's state, built once per cold start.
pub struct MessagesApp {
    services: Arc<Services>,
    sender: Arc<Sender>,
}

impl MessagesApp {
    #[must_use]
    pub fn new(services: Arc<Services>) -> Self {
        let sender = Arc::new(Sender::new(services.store.clone(), services.queue.clone(), services.clock.clone()));
        Self::with_sender(services, sender)
    }

    /// The function on a send path built elsewhere (the local stack's, which hands jobs over
    /// in the background).
    #[must_use]
    pub fn with_sender(services: Arc<Services>, sender: Arc<Sender>) -> Self {
        Self { services, sender }
    }

    /// The send path this function uses (the local stack shares it with other functions).
    #[must_use]
    pub fn sender(&self) -> Arc<Sender> {
        self.sender.clone()
    }

    pub async fn handle(&self, request: Request) -> HttpResponse {
        let route = route_key(&request);
        let outcome = match authenticate(&self.services, &request).await {
            Err(e) => Err(e),
            Ok(caller) => match route.as_str() {
                "POST /api/v1/messages" => self.send(&caller, &request).await,
                "GET /api/v1/messages" => self.read(&caller, &request).await,
                _ => changes::handle(&self.services, self.sender.as_ref(), &route, &caller, &request).await,
            },
        };
        match outcome {
            Ok(fields) => success(fields),
            Err(error) => {
                if error.status.is_server_error() {
                    tracing::error!(%error, "messages request failed");
                }
                error.into_response()
            }
        }
    }

    async fn send(&self, caller: &Caller, request: &Request) -> Result<Value, ApiError> {
        let params = Params::from_request(request)?;
        let kind = params.str("type")?;
        let destination = match kind.as_str() {
            "stream" | "channel" => {
                let topic = params
                    .optional_str_of(&["topic", "subject"])?
                    .ok_or_else(|| send_error(SendError::MissingTopic))?;
                Destination::Stream { stream: stream_ref(&params)?, topic }
            }
            "private" | "direct" => Destination::Direct(user_refs(&params)?),
            _ => return Err(ApiError::bad_request("Invalid message type")),
        };
        let send = SendRequest {
            realm: caller.realm.clone(),
            sender: caller.user.clone(),
            destination,
            content: params.str("content")?,
            client: client_name(request),
            idempotency_key: request.headers().get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned),
            reply_to: None,
        };
        let sent = self.sender.send(send).await.map_err(send_error)?;
        tracing::info!(
            realm = caller.realm.id,
            message = sent.message.id,
            triggered = sent.triggered,
            duplicate = sent.duplicate,
            "message sent"
        );
        if !sent.duplicate && !caller.user.is_bot() {
            self.answer_incoming_bots(caller, &sent.message).await;
        }
        Ok(json!({"id": sent.message.id}))
    }

    /// An incoming-webhook bot in a direct message answers it in the same thread: its owner can
    /// test integrations there (`hookline_incoming::chat`). The person's message is stored
    /// whatever happens here; an answer that cannot be sent is logged.
    async fn answer_incoming_bots(&self, caller: &Caller, message: &Message) {
        let Recipient::Direct { user_ids } = &message.recipient else { return };
        let directory = match self.sender.directory(&caller.realm).await {
            Ok(directory) => directory,
            Err(e) => {
                tracing::warn!(message = message.id, error = %e, "incoming bots' answers not sent");
                return;
            }
        };
        let bots = user_ids.iter().filter_map(|id| directory.user(*id)).filter(|user| {
            user.id != caller.user.id && user.is_active && user.bot_type == Some(BotType::IncomingWebhook)
        });
        for bot in bots {
            let answer = SendRequest {
                realm: caller.realm.clone(),
                sender: bot.clone(),
                destination: Destination::Thread(message.recipient.clone()),
                content: hookline_incoming::chat::answer(&caller.realm, bot, &caller.user, &message.content),
                client: "Hookline".into(),
                idempotency_key: None,
                reply_to: None,
            };
            if let Err(e) = self.sender.send(answer).await {
                tracing::warn!(message = message.id, bot = bot.id, error = %e, "incoming bot's answer not sent");
            }
        }
    }

    async fn read(&self, caller: &Caller, request: &Request) -> Result<Value, ApiError> {
        let params = Params::from_request(request)?;
        let anchor = Anchor::parse(&params.optional_str("anchor")?.unwrap_or_else(|| "newest".into()))
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        let num_before = params.optional_u64("num_before")?.unwrap_or(0);
        let num_after = params.optional_u64("num_after")?.unwrap_or(0);
        let narrow: Value = params.optional_json("narrow")?.unwrap_or_else(|| json!([]));
        let apply_markdown = params.optional_bool("apply_markdown")?.unwrap_or(true);
        let directory = self.sender.directory(&caller.realm).await?;
        let page = history::read(
            self.services.store.as_ref(),
            &directory,
            &caller.user,
            &narrow,
            anchor,
            num_before,
            num_after,
        )
        .await
        .map_err(|e| match e {
            HistoryError::Store(why) => {
                tracing::error!(error = why, "reading messages failed");
                ApiError::internal()
            }
            other => ApiError::bad_request(other.to_string()),
        })?;
        let messages: Vec<Value> = page.messages.iter().map(|m| message_json(m, &directory, apply_markdown)).collect();
        Ok(json!({
            "messages": messages,
            "anchor": page.anchor,
            "found_anchor": page.found_anchor,
            "found_oldest": page.found_oldest,
            "found_newest": page.found_newest,
            "history_limited": false,
        }))
    }
}

/// `to` for a stream: a name, an id, or (as older clients send it) a one-element list.
fn stream_ref(params: &Params) -> Result<StreamRef, ApiError> {
    let to: Value = params.json("to")?;
    let single = match to {
        Value::Array(mut items) if items.len() == 1 => items.remove(0),
        other => other,
    };
    match single {
        Value::Number(n) => {
            n.as_u64().map(StreamRef::Id).ok_or_else(|| ApiError::invalid_argument("to", "not a stream"))
        }
        Value::String(name) => Ok(StreamRef::Name(name)),
        _ => Err(ApiError::invalid_argument("to", "not a stream")),
    }
}

/// `to` for a DM: a list of ids or emails, or a comma-separated list of emails.
fn user_refs(params: &Params) -> Result<Vec<UserRef>, ApiError> {
    let to: Value = params.json("to")?;
    let items = match to {
        Value::Array(items) => items,
        Value::String(text) => text.split(',').map(|e| Value::String(e.trim().to_owned())).collect(),
        Value::Number(n) => vec![Value::Number(n)],
        _ => return Err(ApiError::invalid_argument("to", "not a list of users")),
    };
    items
        .into_iter()
        .filter(|v| v.as_str() != Some(""))
        .map(|v| match v {
            Value::Number(n) => {
                n.as_u64().map(UserRef::Id).ok_or_else(|| ApiError::invalid_argument("to", "bad user id"))
            }
            Value::String(s) => Ok(s.parse().map_or_else(|_| UserRef::Email(s.clone()), UserRef::Id)),
            _ => Err(ApiError::invalid_argument("to", "not a list of users")),
        })
        .collect()
}

/// Zulip names the client after the first word of its `User-Agent` (`ZulipPython/0.9` →
/// `ZulipPython`).
fn client_name(request: &Request) -> String {
    request
        .headers()
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .and_then(|ua| ua.split(['/', ' ']).next())
        .filter(|name| !name.is_empty())
        .unwrap_or("API")
        .chars()
        .take(30)
        .collect()
}

fn send_error(e: SendError) -> ApiError {
    match e {
        SendError::StreamNotFound(name) => ApiError::stream_does_not_exist(&name),
        SendError::Store(why) => {
            tracing::error!(error = why, "send failed before commit");
            ApiError::internal()
        }
        SendError::Unavailable(why) => {
            tracing::warn!(error = why, "send refused: storage unavailable");
            ApiError::unavailable(UNAVAILABLE_RETRY_AFTER)
        }
        other => ApiError::bad_request(other.to_string()),
    }
}
