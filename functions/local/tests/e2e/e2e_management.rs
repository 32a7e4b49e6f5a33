//! The management API over real HTTP: realms, users, streams, every bot type, key rotation,
//! isolation between realms, validation, and durability across a `kill -9`.

use serde_json::{Value, json};

use crate::support::{Stack, new_realm, temp_dir};

fn ids(list: &Value, field: &str) -> Vec<u64> {
    list.as_array().unwrap().iter().map(|v| v[field].as_u64().unwrap()).collect()
}

#[tokio::test]
async fn server_settings_need_no_auth_and_unknown_routes_are_zulip_404s() {
    let stack = Stack::start(&[]);
    let settings = stack.client().get("/api/v1/server_settings").await.ok();
    assert_eq!(settings["zulip_feature_level"], 278);
    assert_eq!(settings["realm_uri"], stack.url.as_str());
    stack.client().get("/api/v1/no/such/route").await.error(404, "BAD_REQUEST", "Endpoint not found");
    stack.client().send("PUT", "/api/v1/realms", &[]).await.error(404, "BAD_REQUEST", "Endpoint not found");
}

#[tokio::test]
async fn a_realm_its_users_streams_and_every_kind_of_bot() {
    let stack = Stack::start(&[]);
    // The admin key guards realm creation
    stack.client().post("/api/v1/realms", &[("string_id", "x")]).await.error(401, "UNAUTHORIZED", "");
    let wrong = stack.client().with_auth(crate::support::Auth::Bearer("nope".into()));
    wrong
        .post(
            "/api/v1/realms",
            &[("string_id", "x"), ("name", "X"), ("owner_email", "a@x.io"), ("owner_full_name", "A")],
        )
        .await
        .error(401, "INVALID_API_KEY", "Invalid API key");

    let (realm, owner) = new_realm(&stack, "acme").await;
    assert_eq!(realm["host"], "acme.localhost");
    let me = owner.get("/api/v1/users/me").await.ok();
    assert_eq!((me["role"].as_u64(), me["is_owner"].as_bool()), (Some(100), Some(true)));

    // Users
    let ada = owner.post("/api/v1/users", &[("email", "ada@acme.example"), ("full_name", "Ada Lovelace")]).await.ok();
    let ada_client = stack.client().as_user("ada@acme.example", ada["api_key"].as_str().unwrap());
    assert_eq!(ada_client.get("/api/v1/users/me").await.ok()["full_name"], "Ada Lovelace");
    let members = owner.get("/api/v1/users").await.ok();
    assert_eq!(ids(&members["members"], "user_id"), vec![1, ada["user_id"].as_u64().unwrap()]);
    // Members cannot create users
    ada_client.post("/api/v1/users", &[("email", "eve@acme.example"), ("full_name", "Eve")]).await.error(
        403,
        "UNAUTHORIZED_PRINCIPAL",
        "administrator",
    );

    // Streams and subscriptions
    let subscribed = ada_client
        .post(
            "/api/v1/users/me/subscriptions",
            &[("subscriptions", r#"[{"name": "design", "description": "Pixels"}, {"name": "general"}]"#)],
        )
        .await
        .ok();
    assert_eq!(subscribed["subscribed"]["ada@acme.example"], json!(["design", "general"]));
    let again =
        ada_client.post("/api/v1/users/me/subscriptions", &[("subscriptions", r#"[{"name": "Design"}]"#)]).await.ok();
    assert_eq!(again["already_subscribed"]["ada@acme.example"], json!(["design"]));
    let streams = owner.get("/api/v1/streams").await.ok();
    let names: Vec<&str> = streams["streams"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["design", "general"]);
    assert_eq!(streams["streams"][0]["description"], "Pixels");
    let subs = ada_client.get("/api/v1/users/me/subscriptions").await.ok();
    assert_eq!(subs["subscriptions"].as_array().unwrap().len(), 2);
    assert_eq!(owner.get("/api/v1/users/me/subscriptions").await.ok()["subscriptions"], json!([]));

    // Every bot type
    let generic = ada_client.post("/api/v1/bots", &[("full_name", "Helper"), ("short_name", "helper")]).await.ok();
    assert_eq!((generic["email"].as_str(), generic["bot_type"].as_u64()), (Some("helper-bot@acme.localhost"), Some(1)));
    assert!(generic.get("services").is_none());
    let incoming = ada_client
        .post("/api/v1/bots", &[("full_name", "GitHub"), ("short_name", "github"), ("bot_type", "2")])
        .await
        .ok();
    assert_eq!(incoming["bot_type"], 2);
    let outgoing = ada_client
        .post(
            "/api/v1/bots",
            &[
                ("full_name", "Echo Bot"),
                ("short_name", "echo"),
                ("bot_type", "3"),
                ("payload_url", "https://bots.example.com/echo"),
                ("interface_type", "2"),
                ("trigger_words", r#"["!echo"]"#),
                ("stream_triggers", r#"["design"]"#),
            ],
        )
        .await
        .ok();
    let service = &outgoing["services"][0];
    assert_eq!(
        (service["base_url"].as_str(), service["interface"].as_u64()),
        (Some("https://bots.example.com/echo"), Some(2))
    );
    assert_eq!(service["token"].as_str().unwrap().len(), 32);
    assert!(service["signing_secret"].as_str().unwrap().starts_with("whsec_"));
    let bot_id = outgoing["user_id"].as_u64().unwrap().to_string();

    // The bot authenticates with its own key
    let bot_client = stack.client().as_user("echo-bot@acme.localhost", outgoing["api_key"].as_str().unwrap());
    assert_eq!(bot_client.get("/api/v1/users/me").await.ok()["is_bot"], true);

    // Listing shows the caller's bots with their services
    let bots = ada_client.get("/api/v1/bots").await.ok();
    assert_eq!(bots["bots"].as_array().unwrap().len(), 3);
    let listed = bots["bots"].as_array().unwrap().iter().find(|b| b["user_id"] == outgoing["user_id"]).unwrap().clone();
    assert_eq!(listed["services"][0]["trigger_words"], json!(["!echo"]));
    assert_eq!(listed["services"][0]["stream_triggers"], json!(["design"]));

    // Changing the bot
    let patched = ada_client
        .send(
            "PATCH",
            &format!("/api/v1/bots/{bot_id}"),
            &[
                ("full_name", "Echo"),
                ("service_payload_url", "https://bots.example.com/v2"),
                ("service_interface", "1"),
                ("webhook_secret", "s3cr3t-value"),
            ],
        )
        .await
        .ok();
    assert_eq!(patched["full_name"], "Echo");
    assert_eq!(patched["services"][0]["base_url"], "https://bots.example.com/v2");
    assert_eq!(patched["services"][0]["interface"], 1);
    assert_eq!(patched["services"][0]["webhook_secret"], "••••alue", "never echoed in full");

    // Rotating the bot's API key: the old one stops working at once
    let rotated = ada_client.post(&format!("/api/v1/bots/{bot_id}/api_key/regenerate"), &[]).await.ok();
    bot_client.get("/api/v1/users/me").await.error(401, "INVALID_API_KEY", "Invalid API key");
    let bot_client = stack.client().as_user("echo-bot@acme.localhost", rotated["api_key"].as_str().unwrap());
    bot_client.get("/api/v1/users/me").await.ok();

    // Rotating the signing secret: a new one, the old one overlapping for 24 hours
    let secret = ada_client.post(&format!("/api/v1/bots/{bot_id}/signing_secret/rotate"), &[]).await.ok();
    assert_ne!(secret["signing_secret"], service["signing_secret"]);
    let expires = secret["previous_signing_secret_expires_at"].as_i64().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    assert!((expires - now - 86_400).abs() < 60, "{expires} vs {now}");
    ada_client.post(&format!("/api/v1/bots/{}/signing_secret/rotate", generic["user_id"]), &[]).await.error(
        400,
        "BAD_REQUEST",
        "Only outgoing webhook bots",
    );

    // Deactivating the bot locks it out
    ada_client.send("DELETE", &format!("/api/v1/bots/{bot_id}"), &[]).await.ok();
    bot_client.get("/api/v1/users/me").await.error(401, "USER_DEACTIVATED", "deactivated");

    // Deactivating Ada locks her and her bots out
    owner.send("DELETE", &format!("/api/v1/users/{}", ada["user_id"]), &[]).await.ok();
    ada_client.get("/api/v1/users/me").await.error(401, "USER_DEACTIVATED", "deactivated");
    let helper = stack.client().as_user("helper-bot@acme.localhost", generic["api_key"].as_str().unwrap());
    helper.get("/api/v1/users/me").await.error(401, "USER_DEACTIVATED", "deactivated");
    // The only owner cannot be deactivated
    owner.send("DELETE", "/api/v1/users/1", &[]).await.error(400, "BAD_REQUEST", "only organization owner");
}

#[tokio::test]
async fn one_realm_never_sees_another() {
    let stack = Stack::start(&[]);
    let (_, acme) = new_realm(&stack, "acme").await;
    let (_, globex) = new_realm(&stack, "globex").await;
    acme.post("/api/v1/users/me/subscriptions", &[("subscriptions", r#"[{"name": "secret-plans"}]"#)]).await.ok();
    let bot = acme
        .post(
            "/api/v1/bots",
            &[("full_name", "Spy"), ("short_name", "spy"), ("bot_type", "3"), ("payload_url", "https://x.example/")],
        )
        .await
        .ok();
    let bot_id = bot["user_id"].as_u64().unwrap();

    assert_eq!(globex.get("/api/v1/streams").await.ok()["streams"], json!([]));
    assert_eq!(globex.get("/api/v1/bots").await.ok()["bots"], json!([]));
    assert_eq!(ids(&globex.get("/api/v1/users").await.ok()["members"], "user_id"), vec![1]);
    // Ids are per realm: Globex's owner is user 1 too, yet can't reach Acme's bot by its id
    globex.send("PATCH", &format!("/api/v1/bots/{bot_id}"), &[("full_name", "Mine")]).await.error(
        400,
        "BAD_REQUEST",
        "No such bot",
    );
    globex.post(&format!("/api/v1/bots/{bot_id}/api_key/regenerate"), &[]).await.error(
        400,
        "BAD_REQUEST",
        "No such bot",
    );
    // The same stream name is free in the other realm
    globex.post("/api/v1/users/me/subscriptions", &[("subscriptions", r#"[{"name": "secret-plans"}]"#)]).await.ok();
    // A key works only with its own email
    let acme_key = match &acme.auth {
        crate::support::Auth::Basic(_, key) => key.clone(),
        _ => unreachable!(),
    };
    stack.client().as_user("owner@globex.example", &acme_key).get("/api/v1/users/me").await.error(
        401,
        "INVALID_API_KEY",
        "Invalid API key",
    );
    // Members cannot manage each other's bots
    let member = acme.post("/api/v1/users", &[("email", "m@acme.example"), ("full_name", "Mem")]).await.ok();
    let member = stack.client().as_user("m@acme.example", member["api_key"].as_str().unwrap());
    member.send("DELETE", &format!("/api/v1/bots/{bot_id}"), &[]).await.error(
        403,
        "UNAUTHORIZED_PRINCIPAL",
        "Insufficient permission",
    );
    assert_eq!(member.get("/api/v1/bots").await.ok()["bots"], json!([]));
}

#[tokio::test]
async fn every_validation_error_is_a_clear_400() {
    let stack = Stack::start(&[]);
    let admin = stack.client().as_admin();
    let realm = |string_id: &'static str, email: &'static str, name: &'static str| {
        let admin = admin.clone();
        async move {
            admin
                .post(
                    "/api/v1/realms",
                    &[("string_id", string_id), ("name", "Org"), ("owner_email", email), ("owner_full_name", name)],
                )
                .await
        }
    };
    realm("Bad Id", "a@b.io", "A").await.error(400, "BAD_REQUEST", "Invalid string_id");
    realm("ok", "not-an-email", "A").await.error(400, "BAD_REQUEST", "Invalid email");
    realm("ok", "a@b.io", "   ").await.error(400, "BAD_REQUEST", "can't be empty");
    let long_name = "n".repeat(101);
    admin
        .post(
            "/api/v1/realms",
            &[("string_id", "ok"), ("name", "Org"), ("owner_email", "a@b.io"), ("owner_full_name", &long_name)],
        )
        .await
        .error(400, "BAD_REQUEST", "too long");
    admin.post("/api/v1/realms", &[("string_id", "ok")]).await.error(
        400,
        "REQUEST_VARIABLE_MISSING",
        "Missing 'name' argument",
    );
    realm("dup", "a@b.io", "A").await.ok();
    realm("dup", "a@b.io", "A").await.error(400, "BAD_REQUEST", "already exists");

    let (_, owner) = new_realm(&stack, "acme").await;
    owner.post("/api/v1/users", &[("email", "owner@acme.example"), ("full_name", "Again")]).await.error(
        400,
        "BAD_REQUEST",
        "already in use",
    );
    owner.post("/api/v1/users", &[("email", "x@acme.example")]).await.error(
        400,
        "REQUEST_VARIABLE_MISSING",
        "full_name",
    );
    let bot = |fields: Vec<(&'static str, String)>| {
        let owner = owner.clone();
        async move {
            let form: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            owner.post("/api/v1/bots", &form).await
        }
    };
    let base = |extra: &[(&'static str, &str)]| {
        let mut fields =
            vec![("full_name", "Bot".to_owned()), ("short_name", "b".to_owned()), ("bot_type", "3".to_owned())];
        fields.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        fields
    };
    bot(base(&[])).await.error(400, "REQUEST_VARIABLE_MISSING", "payload_url");
    bot(base(&[("payload_url", "ftp://x.example/")])).await.error(400, "BAD_REQUEST", "http or https");
    bot(base(&[("payload_url", "not a url")])).await.error(400, "BAD_REQUEST", "not a valid URL");
    let long_url = format!("https://x.example/{}", "a".repeat(2048));
    bot(base(&[("payload_url", &long_url)])).await.error(400, "BAD_REQUEST", "too long");
    bot(base(&[("payload_url", "https://x.example/"), ("interface_type", "7")])).await.error(
        400,
        "BAD_REQUEST",
        "Invalid interface",
    );
    bot(base(&[("payload_url", "https://x.example/"), ("trigger_words", "[\"two words\"]")])).await.error(
        400,
        "BAD_REQUEST",
        "trigger word",
    );
    bot(base(&[("payload_url", "https://x.example/"), ("stream_triggers", "[\"nowhere\"]")])).await.error(
        400,
        "STREAM_DOES_NOT_EXIST",
        "nowhere",
    );
    bot(vec![("full_name", "Bot".into()), ("short_name", "b".into()), ("bot_type", "9".into())]).await.error(
        400,
        "BAD_REQUEST",
        "Invalid bot type",
    );
    bot(vec![("full_name", "Bot".into()), ("short_name", "bad name".into())]).await.error(
        400,
        "BAD_REQUEST",
        "Bad name",
    );
    bot(vec![("full_name", "Bot".into()), ("short_name", "b".into())]).await.ok();
    bot(vec![("full_name", "Bot".into()), ("short_name", "b".into())]).await.error(
        400,
        "BAD_REQUEST",
        "already in use",
    );
    owner.send("PATCH", "/api/v1/bots/999", &[("full_name", "X")]).await.error(400, "BAD_REQUEST", "No such bot");
    owner.send("PATCH", "/api/v1/bots/abc", &[]).await.error(404, "BAD_REQUEST", "Endpoint not found");
    owner.post("/api/v1/users/me/subscriptions", &[("subscriptions", "not json")]).await.error(
        400,
        "BAD_REQUEST",
        "Invalid subscriptions",
    );
    let long_stream = format!(r#"[{{"name": "{}"}}]"#, "s".repeat(61));
    owner.post("/api/v1/users/me/subscriptions", &[("subscriptions", &long_stream)]).await.error(
        400,
        "BAD_REQUEST",
        "too long",
    );
    owner.send_raw("POST", "/api/v1/users", "application/json", "{\"email\": ").await.error(
        400,
        "BAD_REQUEST",
        "Malformed JSON",
    );
    // JSON bodies work like forms
    let created = owner
        .send_raw(
            "POST",
            "/api/v1/users",
            "application/json",
            r#"{"email": "j@acme.example", "full_name": "Jay", "extra": 1}"#,
        )
        .await
        .ok();
    assert!(created["api_key"].is_string());
    // Authentication
    stack.client().get("/api/v1/users/me").await.error(401, "UNAUTHORIZED", "");
    let unauthorized = stack.client().as_user("owner@acme.example", "wrong").get("/api/v1/users/me").await;
    unauthorized.error(401, "INVALID_API_KEY", "Invalid API key");
    assert_eq!(unauthorized.headers["www-authenticate"], "Basic realm=\"zulip\"");
}

#[tokio::test]
async fn kill_9_and_restart_keeps_everything_acknowledged() {
    let dir = temp_dir("durable");
    let data_dir = dir.to_str().unwrap();
    let stack = Stack::start(&["--data-dir", data_dir]);
    let (realm, owner) = new_realm(&stack, "acme").await;
    let ada = owner.post("/api/v1/users", &[("email", "ada@acme.example"), ("full_name", "Ada")]).await.ok();
    owner.post("/api/v1/users/me/subscriptions", &[("subscriptions", r#"[{"name": "general"}]"#)]).await.ok();
    let bot = owner
        .post(
            "/api/v1/bots",
            &[("full_name", "Echo"), ("short_name", "echo"), ("bot_type", "3"), ("payload_url", "https://x.example/")],
        )
        .await
        .ok();
    let bot_id = bot["user_id"].as_u64().unwrap();
    let rotated = owner.post(&format!("/api/v1/bots/{bot_id}/api_key/regenerate"), &[]).await.ok();
    owner.send("PATCH", &format!("/api/v1/bots/{bot_id}"), &[("full_name", "Echo Two")]).await.ok();
    let auth = owner.auth.clone();
    stack.kill_hard();

    let stack = Stack::start(&["--data-dir", data_dir]);
    let owner = stack.client().with_auth(auth);
    assert_eq!(owner.get("/api/v1/users/me").await.ok()["user_id"], 1);
    let users = owner.get("/api/v1/users").await.ok();
    assert_eq!(ids(&users["members"], "user_id"), vec![1, ada["user_id"].as_u64().unwrap(), bot_id]);
    assert_eq!(owner.get("/api/v1/users/me/subscriptions").await.ok()["subscriptions"][0]["name"], "general");
    let bots = owner.get("/api/v1/bots").await.ok();
    assert_eq!(bots["bots"][0]["full_name"], "Echo Two");
    // The rotated key works and the old one does not
    let bot_email = bot["email"].as_str().unwrap();
    stack.client().as_user(bot_email, rotated["api_key"].as_str().unwrap()).get("/api/v1/users/me").await.ok();
    stack.client().as_user(bot_email, bot["api_key"].as_str().unwrap()).get("/api/v1/users/me").await.error(
        401,
        "INVALID_API_KEY",
        "",
    );
    // New ids continue after the old ones
    let next = owner.post("/api/v1/users", &[("email", "bo@acme.example"), ("full_name", "Bo")]).await.ok();
    assert_eq!(next["user_id"].as_u64(), Some(bot_id + 1));
    assert_eq!(realm["realm_id"], 1);
    drop(stack);
    let _ = std::fs::remove_dir_all(dir);
}
