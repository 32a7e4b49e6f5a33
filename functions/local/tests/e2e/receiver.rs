//! A scripted bot endpoint for the runtime tests: each path behaves one way, and every
//! request it is sent is recorded with the trigger's message id and when it arrived.
//!
//! `/echo` answers at once, `/echo/<ms>` after that long, `/hang` never (the worker's timeout
//! ends it), `/fail` with a 400 (a final failure). A reply is `re <message id>`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use crate::support::Client;

/// One request a bot was sent.
#[derive(Debug, Clone)]
pub struct Arrival {
    pub path: String,
    pub message_id: u64,
    pub at: Instant,
}

#[derive(Clone, Default)]
pub struct Receiver {
    pub base_url: String,
    arrivals: Arc<Mutex<Vec<Arrival>>>,
}

impl Receiver {
    /// Starts listening on a free loopback port.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base_url = format!("http://{}", listener.local_addr().expect("addr"));
        let receiver = Self { base_url, arrivals: Arc::default() };
        let app = axum::Router::new()
            .route("/{behaviour}", post(answer))
            .route("/{behaviour}/{ms}", post(answer_after))
            .with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.expect("receiver serves") });
        receiver
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.base_url)
    }

    pub fn arrivals(&self) -> Vec<Arrival> {
        self.arrivals.lock().unwrap().clone()
    }

    /// Waits until `path` was sent the trigger `message_id`, and returns when it was.
    pub async fn wait_for(&self, path: &str, message_id: u64, within: Duration) -> Instant {
        let started = Instant::now();
        loop {
            if let Some(arrival) = self.arrivals().into_iter().find(|a| a.path == path && a.message_id == message_id) {
                return arrival.at;
            }
            assert!(started.elapsed() < within, "no request for message {message_id} in {within:?}");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}

async fn answer(State(receiver): State<Receiver>, Path(behaviour): Path<String>, body: Bytes) -> Response {
    respond(&receiver, behaviour.clone(), behaviour, None, &body).await
}

async fn answer_after(
    State(receiver): State<Receiver>,
    Path((behaviour, ms)): Path<(String, u64)>,
    body: Bytes,
) -> Response {
    respond(&receiver, format!("{behaviour}/{ms}"), behaviour, Some(Duration::from_millis(ms)), &body).await
}

async fn respond(
    receiver: &Receiver,
    path: String,
    behaviour: String,
    delay: Option<Duration>,
    body: &[u8],
) -> Response {
    let body: Value = serde_json::from_slice(body).unwrap_or_default();
    let message_id = body["message"]["id"].as_u64().unwrap_or_default();
    receiver.arrivals.lock().unwrap().push(Arrival { path, message_id, at: Instant::now() });
    match behaviour.as_str() {
        "hang" => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::OK.into_response()
        }
        "fail" => (StatusCode::BAD_REQUEST, "no").into_response(),
        _ => {
            if let Some(delay) = delay {
                tokio::time::sleep(delay).await;
            }
            let reply = json!({ "content": format!("re {message_id}") }).to_string();
            ([(header::CONTENT_TYPE, "application/json")], reply).into_response()
        }
    }
}

/// Creates an outgoing webhook bot of `owner`'s realm that lives at `url`; returns its id.
pub async fn outgoing_bot(owner: &Client, short_name: &str, url: &str) -> u64 {
    let bot = owner
        .post(
            "/api/v1/bots",
            &[("full_name", short_name), ("short_name", short_name), ("bot_type", "3"), ("payload_url", url)],
        )
        .await
        .ok();
    bot["user_id"].as_u64().expect("bot id")
}

/// Sends `bot` a direct message; returns the message's id once the API acknowledged it.
pub async fn dm(owner: &Client, bot: u64, content: &str) -> u64 {
    let sent =
        owner.post("/api/v1/messages", &[("type", "direct"), ("to", &format!("[{bot}]")), ("content", content)]).await;
    sent.ok()["id"].as_u64().expect("message id")
}

/// Every message of `owner`'s DM thread with `bot` (up to 5,000).
pub async fn dm_thread(owner: &Client, bot: u64) -> Vec<Value> {
    let narrow = json!([{"operator": "dm", "operand": [bot]}]).to_string();
    let page = owner
        .send(
            "GET",
            "/api/v1/messages",
            &[("anchor", "newest"), ("num_before", "4999"), ("narrow", &narrow), ("apply_markdown", "false")],
        )
        .await
        .ok();
    page["messages"].as_array().expect("messages").clone()
}

/// How many replies `bot` posted to each trigger in `messages` (`re <id>`), by trigger id.
pub fn replies_by_trigger(messages: &[Value], bot: u64) -> std::collections::BTreeMap<u64, usize> {
    let mut replies = std::collections::BTreeMap::new();
    for message in messages.iter().filter(|m| m["sender_id"] == bot) {
        if let Some(id) = message["content"].as_str().and_then(|c| c.strip_prefix("re ")).and_then(|id| id.parse().ok())
        {
            *replies.entry(id).or_insert(0) += 1;
        }
    }
    replies
}
