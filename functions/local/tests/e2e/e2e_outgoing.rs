//! Outgoing webhooks end to end on the local stack: Zulip's own bot server, unchanged, as the
//! receiver. It is POSTed the trigger, and posts its reply through Hookline's API as the bot.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::e2e_botserver::start_botserver;
use crate::support::{Client, Stack};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Polls `narrow` until a message from `sender_id` shows up.
async fn wait_for_message_from(client: &Client, narrow: Value, sender_id: u64) -> Value {
    let started = Instant::now();
    loop {
        let page = client
            .send(
                "GET",
                "/api/v1/messages",
                &[
                    ("anchor", "newest"),
                    ("num_before", "20"),
                    ("narrow", &narrow.to_string()),
                    ("apply_markdown", "false"),
                ],
            )
            .await
            .ok();
        if let Some(found) = page["messages"].as_array().unwrap().iter().find(|m| m["sender_id"] == sender_id) {
            return found.clone();
        }
        assert!(started.elapsed() < Duration::from_secs(30), "no reply from {sender_id} in {narrow}: {page}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn zulips_bot_server_answers_a_mention_and_a_dm_through_hookline() {
    let stack = Stack::start(&["--demo", "--allow-private-endpoints"]);
    let (email, api_key) = stack.demo_credentials();
    let owner = stack.client().as_user(&email, &api_key);
    let port = free_port();
    let bot = owner
        .post(
            "/api/v1/bots",
            &[
                ("full_name", "Encrypt Bot"),
                ("short_name", "encrypt"),
                ("bot_type", "3"),
                ("payload_url", &format!("http://127.0.0.1:{port}/")),
            ],
        )
        .await
        .ok();
    let config = json!({"encrypt": {
        "email": bot["email"], "key": bot["api_key"], "site": stack.url, "token": bot["services"][0]["token"],
    }});
    let _botserver = start_botserver(&config, port);
    let bot_id = bot["user_id"].as_u64().unwrap();

    // A mention in a stream: the reply lands in the same topic
    owner
        .post(
            "/api/v1/messages",
            &[("type", "stream"), ("to", "general"), ("topic", "secrets"), ("content", "@**Encrypt Bot** hello")],
        )
        .await
        .ok();
    let narrow = json!([{"operator": "stream", "operand": "general"}, {"operator": "topic", "operand": "secrets"}]);
    let reply = wait_for_message_from(&owner, narrow, bot_id).await;
    assert_eq!(reply["content"], "Encrypted/Decrypted text: uryyb");
    assert_eq!(reply["subject"], "secrets");

    // A direct message: the reply lands in the same DM thread
    owner
        .post("/api/v1/messages", &[("type", "direct"), ("to", &format!("[{bot_id}]")), ("content", "sphinx")])
        .await
        .ok();
    let reply = wait_for_message_from(&owner, json!([{"operator": "dm", "operand": [bot_id]}]), bot_id).await;
    assert_eq!(reply["content"], "Encrypted/Decrypted text: fcuvak");
    assert_eq!(reply["type"], "private");

    // The delivery log shows both deliveries, delivered
    let log = owner.get(&format!("/api/v1/bots/{bot_id}/deliveries")).await.ok();
    let states: Vec<&str> =
        log["deliveries"].as_array().unwrap().iter().map(|d| d["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["delivered", "delivered"]);
    assert_eq!(log["deliveries"][0]["trigger"], "direct_message");
    assert_eq!(log["deliveries"][0]["attempts"][0]["status"], 200);
}

#[tokio::test]
async fn the_delivery_log_pages_filters_and_redelivers_for_the_owner_only() {
    let stack = Stack::start(&["--demo", "--allow-private-endpoints"]);
    let (email, api_key) = stack.demo_credentials();
    let owner = stack.client().as_user(&email, &api_key);
    // An endpoint nobody listens on: every delivery fails (connection refused)
    let port = free_port();
    let bot = owner
        .post(
            "/api/v1/bots",
            &[
                ("full_name", "Ghost"),
                ("short_name", "ghost"),
                ("bot_type", "3"),
                ("payload_url", &format!("http://127.0.0.1:{port}/")),
            ],
        )
        .await
        .ok();
    let bot_id = bot["user_id"].as_u64().unwrap();
    for i in 0..3 {
        owner
            .post(
                "/api/v1/messages",
                &[("type", "direct"), ("to", &format!("[{bot_id}]")), ("content", &format!("boo {i}"))],
            )
            .await
            .ok();
    }
    // Wait until the three first attempts are logged
    let started = Instant::now();
    let log = loop {
        let log = owner.get(&format!("/api/v1/bots/{bot_id}/deliveries")).await.ok();
        if log["deliveries"].as_array().unwrap().iter().filter(|d| d["attempt_count"] == 1).count() == 3 {
            break log;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "{log}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let first = &log["deliveries"][0];
    assert_eq!(first["state"], "retrying");
    assert!(first["attempts"][0]["error"].as_str().unwrap().contains("connection error"), "{first}");

    let page = owner.send("GET", &format!("/api/v1/bots/{bot_id}/deliveries"), &[("limit", "2")]).await.ok();
    assert_eq!(page["deliveries"].as_array().unwrap().len(), 2);
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    let rest = owner.send("GET", &format!("/api/v1/bots/{bot_id}/deliveries"), &[("before", &cursor)]).await.ok();
    assert_eq!(rest["deliveries"].as_array().unwrap().len(), 1);
    let delivered =
        owner.send("GET", &format!("/api/v1/bots/{bot_id}/deliveries"), &[("state", "delivered")]).await.ok();
    assert_eq!(delivered["deliveries"], json!([]));

    let id = first["id"].as_str().unwrap();
    let again = owner.post(&format!("/api/v1/bots/{bot_id}/deliveries/{id}/redeliver"), &[]).await.ok();
    assert_eq!(again["delivery_id"], format!("{id}-r1").as_str());
    assert_eq!(again["webhook_id"], first["webhook_id"]);

    // Another member may not see or redeliver it
    let eve = owner.post("/api/v1/users", &[("email", "eve@demo.localhost"), ("full_name", "Eve")]).await.ok();
    let eve = stack.client().as_user("eve@demo.localhost", eve["api_key"].as_str().unwrap());
    eve.get(&format!("/api/v1/bots/{bot_id}/deliveries")).await.error(
        403,
        "UNAUTHORIZED_PRINCIPAL",
        "Insufficient permission",
    );
    eve.post(&format!("/api/v1/bots/{bot_id}/deliveries/{id}/redeliver"), &[]).await.error(
        403,
        "UNAUTHORIZED_PRINCIPAL",
        "",
    );
    owner.post(&format!("/api/v1/bots/{bot_id}/deliveries/999-1/redeliver"), &[]).await.error(
        400,
        "BAD_REQUEST",
        "No such delivery",
    );
}

#[tokio::test]
async fn a_bot_created_a_moment_before_it_is_mentioned_replies() {
    let stack = Stack::start(&["--demo", "--allow-private-endpoints"]);
    let (email, api_key) = stack.demo_credentials();
    let owner = stack.client().as_user(&email, &api_key);
    let receiver = crate::receiver::Receiver::start().await;
    let url = receiver.url("echo");
    // The realm's directory is read and cached by a first message.
    owner
        .post("/api/v1/messages", &[("type", "stream"), ("to", "general"), ("topic", "t"), ("content", "warm")])
        .await
        .ok();
    let bot = owner
        .post(
            "/api/v1/bots",
            &[("full_name", "Quick Bot"), ("short_name", "quick"), ("bot_type", "3"), ("payload_url", &url)],
        )
        .await
        .ok();
    let bot_id = bot["user_id"].as_u64().unwrap();
    // Mentioned at once, in a stream, and renamed then mentioned again by its new name.
    let mention = owner
        .post(
            "/api/v1/messages",
            &[("type", "stream"), ("to", "general"), ("topic", "quick"), ("content", "@**Quick Bot** you there?")],
        )
        .await
        .ok()["id"]
        .clone();
    let narrow = json!([["stream", "general"], ["topic", "quick"]]);
    let reply = wait_for_message_from(&owner, narrow, bot_id).await;
    assert_eq!(reply["content"], format!("re {mention}"));

    owner.send("PATCH", &format!("/api/v1/bots/{bot_id}"), &[("full_name", "Renamed Bot")]).await.ok();
    let mention = owner
        .post(
            "/api/v1/messages",
            &[("type", "stream"), ("to", "general"), ("topic", "renamed"), ("content", "@**Renamed Bot** and now?")],
        )
        .await
        .ok()["id"]
        .clone();
    let narrow = json!([["stream", "general"], ["topic", "renamed"]]);
    assert_eq!(wait_for_message_from(&owner, narrow, bot_id).await["content"], format!("re {mention}"));
}
