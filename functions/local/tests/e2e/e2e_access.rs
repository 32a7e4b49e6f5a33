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

/// The status and Zulip code a request to `/api/v1/users/me` gets with this `Authorization`.
async fn with_authorization(stack: &Stack, header: Option<&str>) -> (u16, serde_json::Value) {
    let mut request = reqwest::Client::new().get(format!("{}/api/v1/users/me", stack.url));
    if let Some(header) = header {
        request = request.header("authorization", header);
    }
    let response = request.send().await.expect("an answer");
    let status = response.status().as_u16();
    (status, response.json().await.expect("Zulip's JSON"))
}

#[tokio::test]
async fn wrong_missing_malformed_and_deactivated_keys_are_refused_in_zulips_shape() {
    use base64::Engine as _;
    let stack = Stack::start(&[]);
    let (created, owner) = new_realm(&stack, "acme").await;
    let email = created["owner"]["email"].as_str().unwrap();
    let key = created["owner"]["api_key"].as_str().unwrap();
    let basic = |credentials: &str| format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(credentials));
    let cases: Vec<(Option<String>, u16, &str)> = vec![
        (None, 401, "UNAUTHORIZED"),
        (Some("Basic".into()), 401, "UNAUTHORIZED"),
        (Some("Basic !!!not-base64!!!".into()), 401, "UNAUTHORIZED"),
        (
            Some(format!("Basic {}", base64::engine::general_purpose::STANDARD.encode([0xff, 0xfe, b':', b'x']))),
            401,
            "UNAUTHORIZED",
        ),
        (Some(basic("no-colon-here")), 401, "UNAUTHORIZED"),
        (Some(format!("Bearer {key}")), 401, "UNAUTHORIZED"),
        (Some(basic(&format!("{email}:"))), 401, "INVALID_API_KEY"),
        (Some(basic(&format!("{email}:{}", &key[..key.len() - 1]))), 401, "INVALID_API_KEY"),
        (Some(basic(&format!("{email}:{key}x"))), 401, "INVALID_API_KEY"),
        (Some(basic(&format!("someone-else@acme.example:{key}"))), 401, "INVALID_API_KEY"),
        (Some(basic(&format!("{email}:{}", "k".repeat(100_000)))), 401, "INVALID_API_KEY"),
    ];
    for (header, status, code) in cases {
        let (got, body) = with_authorization(&stack, header.as_deref()).await;
        assert_eq!(
            (got, body["result"].as_str(), body["code"].as_str()),
            (status, Some("error"), Some(code)),
            "{header:?}: {body}"
        );
    }
    let (got, body) = with_authorization(&stack, Some(&basic(&format!("{}:{key}", email.to_uppercase())))).await;
    assert_eq!(got, 200, "emails compare case-insensitively, as in Zulip: {body}");

    // A deactivated user's key stops at once.
    let ada = owner.post("/api/v1/users", &[("email", "ada@acme.example"), ("full_name", "Ada")]).await.ok();
    let ada_key = ada["api_key"].as_str().unwrap();
    owner.send("DELETE", &format!("/api/v1/users/{}", ada["user_id"]), &[]).await.ok();
    let (got, body) = with_authorization(&stack, Some(&basic(&format!("ada@acme.example:{ada_key}")))).await;
    assert_eq!((got, body["code"].as_str()), (401, Some("USER_DEACTIVATED")), "{body}");
}

#[tokio::test]
async fn a_realm_never_reads_or_triggers_another_realms_messages_bots_or_deliveries() {
    let receiver = crate::receiver::Receiver::start().await;
    let stack = Stack::start(&["--allow-private-endpoints"]);
    let (_, acme) = new_realm(&stack, "acme").await;
    let (_, globex) = new_realm(&stack, "globex").await;
    for realm in [&acme, &globex] {
        realm.post("/api/v1/users/me/subscriptions", &[("subscriptions", r#"[{"name": "general"}]"#)]).await.ok();
    }
    let acme_bot = crate::receiver::outgoing_bot(&acme, "oracle", &receiver.url("echo")).await;
    // Ids are per realm: Acme's secret gets an id Globex's messages never reach in this test.
    for n in 0..5 {
        acme.post(
            "/api/v1/messages",
            &[("type", "stream"), ("to", "general"), ("topic", "filler"), ("content", &n.to_string())],
        )
        .await
        .ok();
    }
    let secret = acme
        .post(
            "/api/v1/messages",
            &[("type", "stream"), ("to", "general"), ("topic", "plans"), ("content", "@**oracle** secret")],
        )
        .await
        .ok()["id"]
        .as_u64()
        .unwrap();
    receiver.wait_for("echo", secret, std::time::Duration::from_secs(30)).await;

    // Globex mentions a bot of the same name and DMs Acme's bot id: neither reaches Acme's bot.
    globex
        .post(
            "/api/v1/messages",
            &[("type", "stream"), ("to", "general"), ("topic", "t"), ("content", "@**oracle** hi")],
        )
        .await
        .ok();
    globex
        .post("/api/v1/messages", &[("type", "direct"), ("to", &format!("[{acme_bot}]")), ("content", "hi")])
        .await
        .error(400, "BAD_REQUEST", "Invalid user ID");
    // Acme's message, by its id: not readable, editable, deletable or reactable from Globex.
    let path = format!("/api/v1/messages/{secret}");
    globex.get(&path).await.error(400, "BAD_REQUEST", "Invalid message(s)");
    globex.send("PATCH", &path, &[("content", "mine now")]).await.error(400, "BAD_REQUEST", "Invalid message(s)");
    globex.send("DELETE", &path, &[]).await.error(400, "BAD_REQUEST", "Invalid message(s)");
    globex.post(&format!("{path}/reactions"), &[("emoji_name", "thumbs_up")]).await.error(
        400,
        "BAD_REQUEST",
        "Invalid message(s)",
    );
    let history = globex
        .send("GET", "/api/v1/messages", &[("anchor", "newest"), ("num_before", "100"), ("num_after", "0")])
        .await
        .ok();
    let contents: Vec<&str> =
        history["messages"].as_array().unwrap().iter().filter_map(|m| m["content"].as_str()).collect();
    assert!(!contents.iter().any(|c| c.contains("secret")), "{contents:?}");
    // Nor its bot's delivery log.
    globex.get(&format!("/api/v1/bots/{acme_bot}/deliveries")).await.error(400, "BAD_REQUEST", "No such bot");
    // Acme's bot was POSTed Acme's message only.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(receiver.arrivals().iter().filter(|a| a.path == "echo").count(), 1);
    assert_eq!(acme.get(&path).await.ok()["raw_content"], "@**oracle** secret", "and the message is intact");
}
