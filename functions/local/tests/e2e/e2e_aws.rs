//! The same stack on DynamoDB (DynamoDB Local) and SQS (moto) instead of the embedded store
//! and queue: a message is stored and read back, and a DM to an outgoing bot travels through
//! SQS to a receiver whose answer comes back as the bot's reply.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::Stack;

fn endpoint(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| panic!("{var} is not set: run the tests with scripts/test"))
}

/// A bot endpoint that answers every POST with `{"content": "pong"}`.
async fn pong_receiver() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let app =
        axum::Router::new().fallback(|| async { ([("content-type", "application/json")], r#"{"content": "pong"}"#) });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

#[tokio::test]
async fn the_stack_runs_on_dynamodb_and_sqs() {
    let table = format!("hookline-e2e-{}", std::process::id());
    let stack = Stack::start_with(
        &["--demo", "--store", "dynamodb", "--queue", "sqs", "--allow-private-endpoints"],
        &[
            ("AWS_ENDPOINT_URL_DYNAMODB", &endpoint("HOOKLINE_TEST_DYNAMODB_ENDPOINT")),
            ("AWS_ENDPOINT_URL_SQS", &endpoint("HOOKLINE_TEST_SQS_ENDPOINT")),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_REGION", "us-east-1"),
            ("HOOKLINE_TABLE", &table),
        ],
    );
    let (email, api_key) = stack.demo_credentials();
    let owner = stack.client().as_user(&email, &api_key);
    let sent = owner
        .post(
            "/api/v1/messages",
            &[("type", "stream"), ("to", "general"), ("topic", "aws"), ("content", "on DynamoDB")],
        )
        .await
        .ok();
    let page = owner
        .send("GET", "/api/v1/messages", &[("anchor", "newest"), ("num_before", "5"), ("apply_markdown", "false")])
        .await
        .ok();
    assert_eq!(page["messages"][0]["id"], sent["id"]);
    assert_eq!(page["messages"][0]["content"], "on DynamoDB");

    let url = pong_receiver().await;
    let bot = owner
        .post(
            "/api/v1/bots",
            &[("full_name", "Pong"), ("short_name", "pong"), ("bot_type", "3"), ("payload_url", &url)],
        )
        .await
        .ok();
    let bot_id = bot["user_id"].as_u64().unwrap();
    owner
        .post("/api/v1/messages", &[("type", "direct"), ("to", &format!("[{bot_id}]")), ("content", "ping")])
        .await
        .ok();
    let narrow = json!([{"operator": "dm", "operand": [bot_id]}]).to_string();
    let started = Instant::now();
    loop {
        let page = owner
            .send(
                "GET",
                "/api/v1/messages",
                &[("anchor", "newest"), ("num_before", "5"), ("narrow", &narrow), ("apply_markdown", "false")],
            )
            .await
            .ok();
        if page["messages"].as_array().unwrap().iter().any(|m| m["sender_id"] == bot_id && m["content"] == "pong") {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "no reply through SQS: {page}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
