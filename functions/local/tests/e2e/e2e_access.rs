//! Who may call what, over HTTP on the local stack: bots may not manage bots, deactivating a
//! person stops every key they own, an incoming-webhook bot's key only posts messages, and a
//! bot with a webhook secret is never let in unsigned.

use crate::support::{Client, Stack, new_realm};

fn as_bot(stack: &Stack, bot: &serde_json::Value) -> Client {
    stack.client().as_user(bot["email"].as_str().unwrap(), bot["api_key"].as_str().unwrap())
}

#[tokio::test]
async fn bots_cannot_manage_bots_and_a_deactivated_owner_leaves_no_working_key() {
    let stack = Stack::start(&[]);
    let (_, owner) = new_realm(&stack, "acme").await;
    let ada = owner.post("/api/v1/users", &[("email", "ada@acme.example"), ("full_name", "Ada")]).await.ok();
    let ada_client = stack.client().as_user("ada@acme.example", ada["api_key"].as_str().unwrap());
    let helper = ada_client.post("/api/v1/bots", &[("full_name", "Helper"), ("short_name", "helper")]).await.ok();
    let helper_client = as_bot(&stack, &helper);
    assert_eq!(helper_client.get("/api/v1/users/me").await.ok()["full_name"], "Helper");

    // A bot's key can create, change or list no bots.
    helper_client.post("/api/v1/bots", &[("full_name", "Child"), ("short_name", "child")]).await.error(
        400,
        "BAD_REQUEST",
        "This endpoint does not accept bot requests.",
    );
    helper_client.get("/api/v1/bots").await.error(400, "BAD_REQUEST", "This endpoint does not accept bot requests.");
    let helper_id = helper["user_id"].as_u64().unwrap();
    helper_client.send("PATCH", &format!("/api/v1/bots/{helper_id}"), &[("full_name", "Renamed")]).await.error(
        400,
        "BAD_REQUEST",
        "This endpoint does not accept bot requests.",
    );

    // Deactivating Ada stops her key and her bot's.
    let ada_id = ada["user_id"].as_u64().unwrap();
    owner.send("DELETE", &format!("/api/v1/users/{ada_id}"), &[]).await.ok();
    ada_client.get("/api/v1/users/me").await.error(401, "USER_DEACTIVATED", "");
    helper_client.get("/api/v1/users/me").await.error(401, "USER_DEACTIVATED", "");
}

#[tokio::test]
async fn an_incoming_webhook_bots_key_only_posts_messages_and_webhooks() {
    let stack = Stack::start(&[]);
    let (_, owner) = new_realm(&stack, "acme").await;
    owner.post("/api/v1/users/me/subscriptions", &[("subscriptions", r#"[{"name": "dev"}]"#)]).await.ok();
    let hooks =
        owner.post("/api/v1/bots", &[("full_name", "Hooks"), ("short_name", "hooks"), ("bot_type", "2")]).await.ok();
    let hooks_client = as_bot(&stack, &hooks);
    for (method, path) in [
        ("GET", "/api/v1/users/me"),
        ("GET", "/api/v1/users"),
        ("GET", "/api/v1/messages?anchor=newest&num_before=1&num_after=0"),
        ("GET", "/api/v1/streams"),
        ("POST", "/api/v1/users/me/subscriptions"),
        ("GET", "/api/v1/bots"),
    ] {
        hooks_client.send(method, path, &[]).await.error(
            400,
            "BAD_REQUEST",
            "This API is not available to incoming webhook bots.",
        );
    }
    let sent = hooks_client
        .post("/api/v1/messages", &[("type", "stream"), ("to", "dev"), ("topic", "t"), ("content", "deployed")])
        .await
        .ok();
    assert!(sent["id"].as_u64().is_some());
    let api_key = hooks["api_key"].as_str().unwrap();
    let webhook = stack
        .client()
        .send_raw(
            "POST",
            &format!("/api/v1/external/json?api_key={api_key}&stream=dev&topic=t"),
            "application/json",
            r#"{"hello": "world"}"#,
        )
        .await
        .ok();
    assert_eq!(webhook["result"], "success");
}
