//! Messaging over real HTTP: Zulip's own Python client against the local stack, Zulip's error
//! statuses, and idempotent retries.

use std::process::Command;

use serde_json::{Value, json};

use crate::support::Stack;

/// The Python that has Zulip's client installed (`scripts/py-tools`, set up by `scripts/test`).
pub fn python() -> String {
    std::env::var("HOOKLINE_TEST_PYTHON")
        .unwrap_or_else(|_| panic!("HOOKLINE_TEST_PYTHON is not set: run the tests with scripts/test"))
}

const ZULIP_CLIENT_SCRIPT: &str = r#"
import json, sys, zulip
site, email, key, bot_email = sys.argv[1:5]
client = zulip.Client(email=email, api_key=key, site=site)
out = {}
out["profile"] = client.get_profile()
out["subscribe"] = client.add_subscriptions(streams=[{"name": "python", "description": "From the client"}])
out["stream_send"] = client.send_message(
    {"type": "stream", "to": "python", "topic": "greetings", "content": "Hello **world**, @**Echo Bot**"})
out["dm_send"] = client.send_message({"type": "private", "to": [bot_email], "content": "psst"})
narrow = [{"operator": "stream", "operand": "python"}, {"operator": "topic", "operand": "greetings"}]
out["html"] = client.get_messages({"anchor": "newest", "num_before": 10, "num_after": 0, "narrow": narrow})
out["raw"] = client.get_messages(
    {"anchor": "newest", "num_before": 10, "num_after": 0, "narrow": narrow, "apply_markdown": False})
out["dm"] = client.get_messages(
    {"anchor": "oldest", "num_before": 0, "num_after": 10, "narrow": [{"operator": "dm", "operand": [bot_email]}]})
out["missing"] = client.send_message({"type": "stream", "to": "nowhere", "topic": "t", "content": "x"})
print(json.dumps(out))
"#;

#[tokio::test]
async fn zulips_python_client_works_unchanged() {
    let stack = Stack::start(&["--demo"]);
    let (email, api_key) = stack.demo_credentials();
    let owner = stack.client().as_user(&email, &api_key);
    let bot = owner
        .post(
            "/api/v1/bots",
            &[
                ("full_name", "Echo Bot"),
                ("short_name", "echo"),
                ("bot_type", "3"),
                ("payload_url", "https://bots.example.com/"),
            ],
        )
        .await
        .ok();
    let bot_email = bot["email"].as_str().unwrap();

    let output = Command::new(python())
        .args(["-c", ZULIP_CLIENT_SCRIPT, &stack.url, &email, &api_key, bot_email])
        .output()
        .expect("python runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let out: Value = serde_json::from_slice(&output.stdout).expect("the script prints JSON");

    assert_eq!(out["profile"]["email"], email.as_str());
    assert_eq!(out["subscribe"]["subscribed"][&email], json!(["python"]));
    let stream_id = out["stream_send"]["id"].as_u64().expect("an id");
    let dm_id = out["dm_send"]["id"].as_u64().expect("an id");
    assert!(dm_id > stream_id);

    let html = &out["html"]["messages"];
    assert_eq!(html.as_array().unwrap().len(), 1, "{html}");
    let message = &html[0];
    assert_eq!((message["id"].as_u64(), message["subject"].as_str()), (Some(stream_id), Some("greetings")));
    assert_eq!((message["type"].as_str(), message["display_recipient"].as_str()), (Some("stream"), Some("python")));
    let expected_html = format!(
        "<p>Hello <strong>world</strong>, <span class=\"user-mention\" data-user-id=\"{}\">@Echo Bot</span></p>",
        bot["user_id"]
    );
    assert_eq!(message["content"], expected_html.as_str());
    assert_eq!(message["client"], "ZulipPython");
    assert_eq!(out["raw"]["messages"][0]["content"], "Hello **world**, @**Echo Bot**");
    assert_eq!(out["raw"]["messages"][0]["rendered_content"], expected_html.as_str());

    let dms = out["dm"]["messages"].as_array().unwrap();
    assert_eq!(dms.len(), 1);
    assert_eq!((dms[0]["id"].as_u64(), dms[0]["type"].as_str()), (Some(dm_id), Some("private")));
    let people: Vec<&str> =
        dms[0]["display_recipient"].as_array().unwrap().iter().map(|p| p["email"].as_str().unwrap()).collect();
    assert!(people.contains(&bot_email) && people.contains(&email.as_str()), "{people:?}");

    assert_eq!(out["missing"]["code"], "STREAM_DOES_NOT_EXIST");
}

#[tokio::test]
async fn sending_errors_have_zulips_statuses_and_retries_are_idempotent() {
    let stack = Stack::start(&["--demo"]);
    let (email, api_key) = stack.demo_credentials();
    let me = stack.client().as_user(&email, &api_key);
    let send = |fields: Vec<(&'static str, String)>| {
        let me = me.clone();
        async move {
            let form: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            me.post("/api/v1/messages", &form).await
        }
    };
    let stream = |extra: &[(&'static str, &str)]| {
        let mut fields = vec![("type", "stream".to_owned()), ("to", "general".to_owned()), ("topic", "t".to_owned())];
        fields.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        fields
    };
    send(stream(&[])).await.error(400, "REQUEST_VARIABLE_MISSING", "Missing 'content' argument");
    send(stream(&[("content", "  ")])).await.error(400, "BAD_REQUEST", "Message must not be empty");
    send(stream(&[("content", "nul \u{0} byte")])).await.error(
        400,
        "BAD_REQUEST",
        "Message must not contain null bytes",
    );
    send(vec![("type", "stream".into()), ("to", "general".into()), ("content", "x".into())]).await.error(
        400,
        "BAD_REQUEST",
        "Missing topic",
    );
    send(vec![("type", "stream".into()), ("to", "nope".into()), ("topic", "t".into()), ("content", "x".into())])
        .await
        .error(400, "STREAM_DOES_NOT_EXIST", "Channel 'nope' does not exist");
    send(vec![("type", "carrier-pigeon".into()), ("to", "general".into()), ("content", "x".into())]).await.error(
        400,
        "BAD_REQUEST",
        "Invalid message type",
    );
    send(vec![("type", "direct".into()), ("to", "[424242]".into()), ("content", "x".into())]).await.error(
        400,
        "BAD_REQUEST",
        "Invalid user ID 424242",
    );
    stack.client().post("/api/v1/messages", &[("type", "stream")]).await.error(401, "UNAUTHORIZED", "");
    me.get("/api/v1/messages?anchor=sideways").await.error(400, "BAD_REQUEST", "Invalid anchor");
    me.send("GET", "/api/v1/messages", &[("narrow", r#"[{"operator": "search", "operand": "x"}]"#)]).await.error(
        400,
        "BAD_REQUEST",
        "Invalid narrow operator",
    );

    // The same Idempotency-Key returns the first answer and stores nothing new
    let http = reqwest::Client::new();
    let post = || {
        http.post(format!("{}/api/v1/messages", stack.url))
            .basic_auth(&email, Some(&api_key))
            .header("Idempotency-Key", "9f1c6a52-retry")
            .form(&[("type", "stream"), ("to", "general"), ("topic", "t"), ("content", "only once")])
            .send()
    };
    let first: Value = post().await.unwrap().json().await.unwrap();
    let second: Value = post().await.unwrap().json().await.unwrap();
    assert_eq!(first["result"], "success");
    assert_eq!(first["id"], second["id"]);
    let newest = me.send("GET", "/api/v1/messages", &[("anchor", "newest"), ("num_before", "5")]).await.ok();
    let contents: Vec<&str> =
        newest["messages"].as_array().unwrap().iter().map(|m| m["content"].as_str().unwrap()).collect();
    assert_eq!(contents, ["<p>only once</p>"]);
    assert_eq!((newest["found_newest"].as_bool(), newest["found_oldest"].as_bool()), (Some(true), Some(true)));
}
