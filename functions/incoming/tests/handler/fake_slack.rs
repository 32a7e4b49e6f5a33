//! A local stand-in for Slack's Web API, for the `slack` integration's cases: every user is
//! John Doe, every channel is #general (the names Zulip's own tests use), and `auth.test`
//! grants every scope the integration needs, except to tokens that say otherwise
//! (`…missing-scopes…` lacks `users:read` and `users:read.email`; `…invalid…` is refused).

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::Router;
use axum::extract::Query;
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::json;

/// The fake's base URL, started on first use and kept for the test binary's life.
pub fn url() -> String {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(format!("http://{}", listener.local_addr().unwrap())).unwrap();
                axum::serve(listener, app()).await.unwrap();
            });
        });
        rx.recv().unwrap()
    })
    .clone()
}

fn app() -> Router {
    Router::new()
        .route("/users.info", get(users_info))
        .route("/conversations.info", get(conversations_info))
        .route("/auth.test", get(auth_test))
}

/// A JSON answer with Slack's `X-OAuth-Scopes` header.
fn answer(scopes: &str, body: &serde_json::Value) -> impl IntoResponse + use<> {
    (
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (header::HeaderName::from_static("x-oauth-scopes"), scopes.to_owned()),
        ],
        body.to_string(),
    )
}

fn token(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").filter(|t| !t.is_empty())
}

async fn users_info(headers: HeaderMap, Query(query): Query<HashMap<String, String>>) -> impl IntoResponse {
    match (token(&headers), query.get("user")) {
        (Some(_), Some(id)) => answer("", &json!({"ok": true, "user": {"id": id, "name": "John Doe"}})),
        (None, _) => answer("", &json!({"ok": false, "error": "not_authed"})),
        (_, None) => answer("", &json!({"ok": false, "error": "user_not_found"})),
    }
}

async fn conversations_info(headers: HeaderMap, Query(query): Query<HashMap<String, String>>) -> impl IntoResponse {
    match (token(&headers), query.get("channel")) {
        (Some(_), Some(id)) => answer("", &json!({"ok": true, "channel": {"id": id, "name": "general"}})),
        (None, _) => answer("", &json!({"ok": false, "error": "not_authed"})),
        (_, None) => answer("", &json!({"ok": false, "error": "channel_not_found"})),
    }
}

async fn auth_test(headers: HeaderMap) -> impl IntoResponse {
    let token = token(&headers).unwrap_or_default().to_owned();
    if token.is_empty() || token.contains("invalid") {
        return answer("", &json!({"ok": false, "error": "invalid_auth"}));
    }
    let scopes = if token.contains("missing-scopes") {
        "channels:read,channels:history,emoji:read,team:read"
    } else {
        "channels:read,channels:history,emoji:read,team:read,users:read,users:read.email,chat:write"
    };
    answer(scopes, &json!({"ok": true, "team": "Acme", "user": "zulip-bridge"}))
}
