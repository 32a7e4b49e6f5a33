//! Hostile input over real HTTP: oversized bodies, 100,000-deep JSON, wrong content types,
//! invalid UTF-8, a huge `only_events`, pathological Markdown and mentions, wrong and replayed
//! GitHub signatures. Each gets an answer within a deadline, a 4xx in Zulip's JSON error shape
//! or a success where Zulip accepts, and the server goes on serving.

use std::time::Duration;

use hmac::{Hmac, Mac as _};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::support::Stack;

/// Every hostile request must be answered within this.
const DEADLINE: Duration = Duration::from_secs(20);

struct Hostile {
    http: reqwest::Client,
    url: String,
    email: String,
    key: String,
}

impl Hostile {
    /// Sends `body` as it is, under `content_type`, as the demo user.
    async fn send(&self, path: &str, content_type: &str, body: Vec<u8>, headers: &[(&str, &str)]) -> (u16, Value) {
        let mut request = self
            .http
            .post(format!("{}{path}", self.url))
            .basic_auth(&self.email, Some(&self.key))
            .header("content-type", content_type)
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap_or_else(|e| panic!("{path}: no answer within {DEADLINE:?}: {e}"));
        let status = response.status().as_u16();
        let types: Vec<_> = response.headers().get_all("content-type").iter().cloned().collect();
        assert_eq!(types, ["application/json"], "{path}: one content type");
        let text = response.text().await.expect("a body");
        let body: Value =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("{path} {status}: not JSON: {text:.300}"));
        assert!(status < 500, "{path}: {status} {body}");
        if status >= 400 {
            assert_eq!(body["result"], "error", "{path}: {body}");
            assert!(body["msg"].as_str().is_some_and(|m| !m.is_empty()), "{path}: {body}");
            assert!(body["code"].as_str().is_some_and(|c| !c.is_empty()), "{path}: {body}");
        }
        (status, body)
    }

    async fn form(&self, path: &str, pairs: &[(&str, &str)]) -> (u16, Value) {
        let body = serde_urlencoded::to_string(pairs).unwrap().into_bytes();
        self.send(path, "application/x-www-form-urlencoded", body, &[]).await
    }

    async fn still_serving(&self) {
        let answer = self.http.get(format!("{}/api/v1/server_settings", self.url)).send().await.expect("still serving");
        assert_eq!(answer.status(), 200);
    }
}

fn deep(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

#[tokio::test]
async fn hostile_bodies_get_zulip_shaped_4xx_in_time_and_the_server_keeps_serving() {
    let stack = Stack::start(&["--demo"]);
    let (email, key) = stack.demo_credentials();
    let hostile = Hostile {
        http: reqwest::Client::builder().timeout(DEADLINE).build().unwrap(),
        url: stack.url.clone(),
        email,
        key,
    };
    let send = "/api/v1/messages";
    let message = |content: &str| -> Vec<(&'static str, String)> {
        vec![
            ("type", "stream".into()),
            ("to", "general".into()),
            ("topic", "hostile".into()),
            ("content", content.into()),
        ]
    };
    let as_form = |pairs: &[(&str, String)]| serde_urlencoded::to_string(pairs).unwrap().into_bytes();
    let form_type = "application/x-www-form-urlencoded";

    // Oversized bodies: 413, as a form and as JSON
    let (status, body) = hostile.form(send, &[("type", "stream"), ("content", &"a".repeat(3 * 1024 * 1024))]).await;
    assert_eq!(status, 413, "{body}");
    let big = json!({"type": "stream", "to": "general", "content": "b".repeat(3 * 1024 * 1024)}).to_string();
    assert_eq!(hostile.send(send, "application/json", big.into_bytes(), &[]).await.0, 413);

    // 100,000-deep JSON in a form value and in a JSON body
    let (status, body) =
        hostile.form(send, &[("type", "stream"), ("to", &deep(100_000)), ("topic", "t"), ("content", "deep")]).await;
    assert_eq!(status, 400, "{body}");
    let deep_body = format!(r#"{{"type": "stream", "to": "general", "topic": "t", "content": {}}}"#, deep(100_000));
    let (status, body) = hostile.send(send, "application/json", deep_body.into_bytes(), &[]).await;
    assert_eq!((status, body["msg"].as_str()), (400, Some("Malformed JSON")));

    // Wrong content types: a form body labelled JSON, JSON labelled a form, multipart garbage
    assert_eq!(hostile.send(send, "application/json", as_form(&message("typed wrong")), &[]).await.0, 400);
    let json_body = json!({"type": "stream", "to": "general", "topic": "t", "content": "x"}).to_string();
    let (status, _) = hostile.send(send, "application/x-www-form-urlencoded", json_body.into_bytes(), &[]).await;
    assert_eq!(status, 400, "JSON read as a form has no type");
    hostile.send(send, "multipart/form-data; boundary=zz", b"--zz\r\n\xff\xfe--".to_vec(), &[]).await;
    hostile.send(send, "text/plain", b"\x00\x01\x02".to_vec(), &[]).await;

    // Invalid UTF-8: raw in a form, percent-encoded in a form, raw in JSON
    // A form is decoded with replacement characters, as Django decodes it: sent
    let mut raw = b"type=stream&to=general&topic=t&content=".to_vec();
    raw.extend_from_slice(b"\xff\xfe\xc0\x80");
    let (status, body) = hostile.send(send, form_type, raw, &[]).await;
    assert_eq!((status, body["result"].as_str()), (200, Some("success")), "{body}");
    let encoded = b"type=stream&to=general&topic=t&content=%FF%FE%ED%A0%80".to_vec();
    hostile.send(send, "application/x-www-form-urlencoded", encoded, &[]).await;
    let mut json_raw = br#"{"type": "stream", "to": "general", "topic": "t", "content": ""#.to_vec();
    json_raw.extend_from_slice(b"\xff\"}");
    assert_eq!(hostile.send(send, "application/json", json_raw, &[]).await.0, 400);

    // Pathological Markdown and mentions are sent, and rendered when read back
    for content in
        [">".repeat(10_000), "*".repeat(10_000), "[".repeat(10_000), "@**".repeat(3_000), "@_**a|".repeat(1_500)]
    {
        let (status, body) = hostile.send(send, form_type, as_form(&message(&content)), &[]).await;
        assert_eq!((status, body["result"].as_str()), (200, Some("success")), "{body}");
    }
    let page = hostile
        .http
        .get(format!("{}/api/v1/messages?anchor=newest&num_before=5&num_after=0&apply_markdown=true", hostile.url))
        .basic_auth(&hostile.email, Some(&hostile.key))
        .send()
        .await
        .expect("rendered in time");
    assert_eq!(page.status(), 200);
    let page: Value = page.json().await.unwrap();
    let rendered = page["messages"].as_array().expect("messages");
    let hostile_topic = rendered.iter().filter(|m| m["subject"] == "hostile").count();
    assert_eq!(hostile_topic, 5, "every pathological message is read back rendered");

    hostile.still_serving().await;
}

#[tokio::test]
async fn huge_only_events_and_wrong_or_replayed_signatures_on_the_incoming_endpoints() {
    let stack = Stack::start(&["--demo"]);
    let (email, key) = stack.demo_credentials();
    let hostile = Hostile {
        http: reqwest::Client::builder().timeout(DEADLINE).build().unwrap(),
        url: stack.url.clone(),
        email,
        key,
    };
    let (_, hooks) =
        hostile.form("/api/v1/bots", &[("full_name", "Hooks"), ("short_name", "hooks"), ("bot_type", "2")]).await;
    let hooks_key = hooks["api_key"].as_str().expect("an incoming bot").to_owned();

    // A huge only_events, in the query as far as a URL goes, and in the body
    let events = |n: usize| serde_json::to_string(&(0..n).map(|i| format!("event_{i}*")).collect::<Vec<_>>()).unwrap();
    let json_path = format!("/api/v1/external/json?api_key={hooks_key}&stream=general");
    let query = serde_urlencoded::to_string([("only_events", events(1_500))]).unwrap();
    let (status, body) =
        hostile.send(&format!("{json_path}&{query}"), "application/json", b"{\"a\": 1}".to_vec(), &[]).await;
    assert_eq!((status, body["result"].as_str()), (200, Some("success")), "filtered out: {body}");
    let form = serde_urlencoded::to_string([("only_events", events(50_000))]).unwrap();
    hostile.send(&json_path, "application/x-www-form-urlencoded", form.into_bytes(), &[]).await;
    let (status, _) = hostile.send(&json_path, "application/json", deep(100_000).into_bytes(), &[]).await;
    assert_eq!(status, 400);

    // GitHub with a webhook secret: wrong, malformed, moved to another body, and replayed
    let patched = hostile
        .http
        .patch(format!("{}/api/v1/bots/{}", hostile.url, hooks["user_id"]))
        .basic_auth(&hostile.email, Some(&hostile.key))
        .form(&[("webhook_secret", "s3cret")])
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/../incoming/src/integrations/github/fixtures/push.json");
    let push = std::fs::read_to_string(fixture).unwrap();
    let sign = |body: &str| {
        let mut mac = Hmac::<Sha256>::new_from_slice(b"s3cret").unwrap();
        mac.update(body.as_bytes());
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    };
    let github = format!("/api/v1/external/github?api_key={hooks_key}&stream=general");
    let post = |body: String, signature: String| {
        let hostile = &hostile;
        let github = &github;
        async move {
            hostile
                .send(
                    github,
                    "application/json",
                    body.into_bytes(),
                    &[("x-github-event", "push"), ("x-hub-signature-256", &signature)],
                )
                .await
        }
    };
    for signature in ["sha256=00", "sha256=zz", "sha1=abcdef", "", &"f".repeat(100_000)] {
        let (status, body) = post(push.clone(), signature.to_owned()).await;
        assert_eq!(status, 401, "{signature:.20}: {body}");
    }
    let other = push.replacen("refs/heads", "refs/evil", 1);
    assert_ne!(other, push);
    assert_eq!(post(other, sign(&push)).await.0, 401, "a signature only fits its own body");
    // GitHub's signature carries no timestamp: as in Zulip, a replay is a valid request
    for _ in 0..2 {
        let (status, body) = post(push.clone(), sign(&push)).await;
        assert_eq!((status, body["result"].as_str()), (200, Some("success")), "{body}");
    }

    hostile.still_serving().await;
}
