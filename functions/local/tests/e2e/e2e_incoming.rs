//! Incoming integrations end to end on the local stack: Slack's own SDK posts to the Slack
//! endpoint, a GitHub-signed push arrives as a message, and a message from an integration that
//! @-mentions an outgoing bot does not trigger it.

use std::process::Command;

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::e2e_messages::python;
use crate::support::Stack;

const SLACK_SDK_SCRIPT: &str = r#"
import json, sys
from slack_sdk.webhook import WebhookClient
response = WebhookClient(sys.argv[1]).send(
    text="Deploy finished (fallback text)",
    blocks=[{"type": "section", "text": {"type": "mrkdwn",
             "text": "Deploy *finished* for <https://ci.example.com/run/42|run 42>, @**Echo Bot** look"}}],
)
print(json.dumps({"status": response.status_code, "body": response.body}))
"#;

/// The demo stack, its owner, an incoming-webhook bot "Hooks" and an outgoing bot "Echo Bot"
/// whose endpoint refuses connections.
async fn demo_with_bots() -> (Stack, crate::support::Client, Value, Value) {
    let stack = Stack::start(&["--demo", "--allow-private-endpoints"]);
    let (email, api_key) = stack.demo_credentials();
    let owner = stack.client().as_user(&email, &api_key);
    let hooks =
        owner.post("/api/v1/bots", &[("full_name", "Hooks"), ("short_name", "hooks"), ("bot_type", "2")]).await.ok();
    let echo = owner
        .post(
            "/api/v1/bots",
            &[
                ("full_name", "Echo Bot"),
                ("short_name", "echo"),
                ("bot_type", "3"),
                ("payload_url", "http://127.0.0.1:9/"),
            ],
        )
        .await
        .ok();
    (stack, owner, hooks, echo)
}

#[tokio::test]
async fn slacks_sdk_github_and_the_loop_guard_on_the_local_stack() {
    let (stack, owner, hooks, echo) = demo_with_bots().await;
    let hooks_key = hooks["api_key"].as_str().unwrap().to_owned();

    // The integrations are listed with their URLs and events
    let listed = owner.get("/api/v1/integrations").await.ok();
    let names: Vec<&str> =
        listed["integrations"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    for name in ["json", "slack_incoming", "github", "gitlab", "grafana", "alertmanager"] {
        assert!(names.contains(&name), "{names:?}");
    }

    // Slack's SDK posts and sees success
    let url = format!("{}/api/v1/external/slack_incoming?api_key={hooks_key}&stream=general&topic=deploys", stack.url);
    let output = Command::new(python()).args(["-c", SLACK_SDK_SCRIPT, &url]).output().expect("python runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(answer["status"], 200, "{answer}");
    let page = owner
        .send("GET", "/api/v1/messages", &[("anchor", "newest"), ("num_before", "1"), ("apply_markdown", "false")])
        .await
        .ok();
    let message = page["messages"].as_array().unwrap().last().unwrap();
    assert_eq!(
        (message["sender_id"].as_u64(), message["subject"].as_str()),
        (hooks["user_id"].as_u64(), Some("deploys"))
    );
    let content = message["content"].as_str().unwrap();
    assert!(content.contains("[run 42](https://ci.example.com/run/42)"), "{content}");
    assert!(content.contains("**finished**"), "{content}");
    assert!(content.contains("@**Echo Bot**"), "{content}");

    // The integration's message mentioned the outgoing bot, but a bot's message triggers nothing
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let log = owner.get(&format!("/api/v1/bots/{}/deliveries", echo["user_id"])).await.ok();
    assert_eq!(log["deliveries"], json!([]));

    // GitHub: with a webhook secret set, only signed requests get in
    owner
        .send(
            "PATCH",
            &format!("/api/v1/bots/{}", hooks["user_id"]),
            &[("webhook_secret", "It's a Secret to Everybody")],
        )
        .await
        .ok();
    let push = json!({
        "ref": "refs/heads/main", "before": "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
        "after": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", "created": false, "deleted": false, "forced": false,
        "compare": "https://github.com/octo-org/hello-world/compare/6113728f27ae...0d1a26e67d8f",
        "commits": [{
            "id": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", "message": "Fix the frobnicator",
            "timestamp": "2026-11-22T14:33:00Z", "url": "https://github.com/octo-org/hello-world/commit/0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
            "author": {"name": "Mona Octocat", "email": "mona@github.com", "username": "monalisa"},
            "committer": {"name": "Mona Octocat", "email": "mona@github.com", "username": "monalisa"},
            "added": [], "removed": [], "modified": ["README.md"], "distinct": true
        }],
        "head_commit": {"id": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", "message": "Fix the frobnicator", "url": "https://github.com/octo-org/hello-world/commit/0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
                        "timestamp": "2026-11-22T14:33:00Z", "author": {"name": "Mona Octocat", "email": "mona@github.com", "username": "monalisa"}},
        "repository": {"id": 1296269, "name": "hello-world", "full_name": "octo-org/hello-world", "html_url": "https://github.com/octo-org/hello-world",
                       "default_branch": "main", "owner": {"login": "octo-org", "id": 6811672}},
        "pusher": {"name": "monalisa", "email": "mona@github.com"},
        "sender": {"login": "monalisa", "id": 583231, "html_url": "https://github.com/monalisa"}
    })
    .to_string();
    let mut mac = Hmac::<Sha256>::new_from_slice(b"It's a Secret to Everybody").unwrap();
    mac.update(push.as_bytes());
    let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    let http = reqwest::Client::new();
    let github_url = format!("{}/api/v1/external/github?api_key={hooks_key}&stream=general", stack.url);
    let post = |signature: Option<String>| {
        let mut request = http
            .post(&github_url)
            .header("content-type", "application/json")
            .header("x-github-event", "push")
            .header("x-github-delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
            .body(push.clone());
        if let Some(signature) = signature {
            request = request.header("x-hub-signature-256", signature);
        }
        request.send()
    };
    assert_eq!(post(None).await.unwrap().status(), 401);
    assert_eq!(post(Some("sha256=0000".into())).await.unwrap().status(), 401);
    let signed = post(Some(signature)).await.unwrap();
    assert_eq!(signed.status(), 200);
    let answer: Value = signed.json().await.unwrap();
    assert_eq!(answer["result"], "success", "{answer}");
    let page = owner
        .send("GET", "/api/v1/messages", &[("anchor", "newest"), ("num_before", "1"), ("apply_markdown", "false")])
        .await
        .ok();
    let message = page["messages"].as_array().unwrap().last().unwrap();
    assert_eq!(message["sender_id"], hooks["user_id"]);
    assert_eq!(message["subject"], "hello-world / main");
    assert!(message["content"].as_str().unwrap().contains("Fix the frobnicator"), "{message}");
    assert_eq!(message["client"], "GitHub");

    // The webhook secret is never shown in full
    let bots = owner.get("/api/v1/bots").await.ok();
    let shown = bots["bots"].as_array().unwrap().iter().find(|b| b["user_id"] == hooks["user_id"]).unwrap()["services"]
        [0]["webhook_secret"]
        .clone();
    assert_eq!(shown, "••••body");

    // Previewing sends nothing and shows what would be sent
    let before =
        owner.send("GET", "/api/v1/messages", &[("anchor", "newest"), ("num_before", "0")]).await.ok()["anchor"]
            .clone();
    let preview =
        stack.client().post(&format!("/api/v1/external/json/test?api_key={hooks_key}&stream=general"), &[]).await.ok();
    assert_eq!(preview["topic"], "JSON");
    assert!(preview["content"].as_str().unwrap().starts_with("```json"));
    let after =
        owner.send("GET", "/api/v1/messages", &[("anchor", "newest"), ("num_before", "0")]).await.ok()["anchor"]
            .clone();
    assert_eq!(before, after, "the preview sent nothing");
}

/// The newest `n` messages the client can see, oldest first, as raw Markdown.
async fn newest(client: &crate::support::Client, n: usize) -> Vec<Value> {
    let n = n.to_string();
    let page = client
        .send("GET", "/api/v1/messages", &[("anchor", "newest"), ("num_before", &n), ("apply_markdown", "false")])
        .await
        .ok();
    page["messages"].as_array().unwrap().clone()
}

#[tokio::test]
async fn the_owner_tests_integrations_by_dm_with_the_incoming_bot() {
    let (stack, owner, hooks, echo) = demo_with_bots().await;
    let ada = owner.post("/api/v1/users", &[("email", "ada@demo.example"), ("full_name", "Ada")]).await.ok();
    let ada = stack.client().as_user(ada["email"].as_str().unwrap(), ada["api_key"].as_str().unwrap());
    let hooks_email = hooks["email"].as_str().unwrap();
    let dm = |client: &crate::support::Client, content: String| {
        let client = client.clone();
        let to = json!([hooks_email]).to_string();
        async move { client.post("/api/v1/messages", &[("type", "private"), ("to", &to), ("content", &content)]).await.ok() }
    };

    // A preview in the DM: the topic and the message, mentioning the outgoing bot, sent nowhere else
    let body = r#"{"zen": "Speak like a human.", "hook_id": 1, "sender": {"login": "octocat"}, "repository": {"full_name": "octo/hello", "name": "hello"}}"#;
    dm(&owner, format!("!webhook test /github ping {body}")).await;
    dm(&owner, "!webhook test /json {\"note\": \"@**Echo Bot** deploy done\"}".into()).await;
    dm(&owner, "!webstatus".into()).await;
    dm(&ada, "!webstatus".into()).await;
    dm(&owner, "what can you do?".into()).await;
    let messages = newest(&owner, 20).await;
    let from_hooks: Vec<&str> = messages
        .iter()
        .filter(|m| m["sender_id"] == hooks["user_id"])
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(from_hooks.len(), 4, "one answer to each of the owner's messages: {from_hooks:#?}");
    assert!(
        from_hooks[0].starts_with("The github webhook would send (event `ping`):\n\n**Topic:** hello"),
        "{}",
        from_hooks[0]
    );
    assert!(from_hooks[1].contains("@**Echo Bot** deploy done"), "{}", from_hooks[1]);
    assert!(from_hooks[2].contains("/api/v1/external/github?api_key=****"), "{}", from_hooks[2]);
    assert!(!from_hooks[2].contains(hooks["api_key"].as_str().unwrap()), "the key is masked");
    assert_eq!(from_hooks[3], hookline_incoming::chat::USAGE);
    for message in messages.iter().filter(|m| m["sender_id"] == hooks["user_id"]) {
        assert_eq!(message["type"], "private", "answers stay in the DM: {message}");
    }
    let ada_sees = newest(&ada, 5).await;
    let to_ada = ada_sees.iter().filter(|m| m["sender_id"] == hooks["user_id"]).collect::<Vec<_>>();
    assert_eq!(to_ada.len(), 1);
    assert!(to_ada[0]["content"].as_str().unwrap().starts_with("Only this bot's owner"), "{}", to_ada[0]);

    // Nothing triggered the outgoing bot mentioned in a preview
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let log = owner.get(&format!("/api/v1/bots/{}/deliveries", echo["user_id"])).await.ok();
    assert_eq!(log["deliveries"], json!([]));
}
