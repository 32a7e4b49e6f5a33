//! The management function's handler, fed the API Gateway fixtures in `events/management/`
//! (the same files `cargo lambda invoke --data-file` takes).

use std::sync::Arc;

use hookline_edge::{Services, Settings};
use hookline_model::ManualClock;
use hookline_model::credentials::ApiKeyHash;
use hookline_model::queue::memory::MemoryQueue;
use hookline_model::realm::NewRealm;
use hookline_model::store::memory::MemoryStore;
use hookline_model::user::{BotType, NewUser, Role};
use serde_json::Value;

const OWNER_KEY: &str = "fixtureApiKey0123456789abcdefghijklmnopq";
const ADMIN_KEY: &str = "fixture-admin-key-0123456789abcdefghij";

/// Services with the realm the fixtures authenticate against: Acme, its owner, and a bot.
async fn services() -> Services {
    let clock = Arc::new(ManualClock::at(1_795_910_399_000));
    let store = Arc::new(MemoryStore::new());
    let user = |email: &str, key: &str, bot: Option<BotType>| NewUser {
        email: email.into(),
        full_name: "Olive Owner".into(),
        role: Role::Owner,
        bot_type: bot,
        bot_owner_id: bot.map(|_| 1),
        api_key_hash: ApiKeyHash::of(key),
        service: None,
    };
    let realm = NewRealm {
        string_id: "acme".into(),
        name: "Acme".into(),
        host: "acme.example".into(),
        public_url: "https://acme.example".into(),
    };
    let services = Services {
        store: store.clone(),
        queue: Arc::new(MemoryQueue::new(clock.clone(), std::time::Duration::from_secs(30), 3)),
        clock,
        settings: Settings { admin_key_hash: Some(ApiKeyHash::of(ADMIN_KEY)), ..Settings::default() },
    };
    let (realm, _) = services.store.create_realm(realm, user("owner@acme.example", OWNER_KEY, None), 0).await.unwrap();
    services
        .store
        .create_user(realm.id, user("helper-bot@acme.example", "helper-key", Some(BotType::Generic)), 0)
        .await
        .unwrap();
    services
}

async fn run(fixture: &str) -> (u16, Value) {
    let path = format!("{}/../../events/management/{fixture}", env!("CARGO_MANIFEST_DIR"));
    let event = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let request = lambda_http::request::from_str(&event).expect("an API Gateway event");
    let response = hookline_management::handle(&services().await, request).await;
    let body = serde_json::from_slice(response.body().as_ref()).expect("JSON body");
    (response.status().as_u16(), body)
}

#[tokio::test]
async fn server_settings() {
    let (status, body) = run("server_settings.json").await;
    assert_eq!(status, 200);
    assert_eq!((body["result"].as_str(), body["zulip_feature_level"].as_u64()), (Some("success"), Some(278)));
}

#[tokio::test]
async fn create_realm() {
    let (status, body) = run("create_realm.json").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["string_id"], "globex");
    assert_eq!(body["owner"]["email"], "hank@globex.example");
    assert_eq!(body["owner"]["api_key"].as_str().unwrap().len(), 40);
}

#[tokio::test]
async fn create_outgoing_bot() {
    let (status, body) = run("create_outgoing_bot.json").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["email"], "echo-bot@acme.example");
    assert_eq!(body["services"][0]["base_url"], "https://bots.example.com/echo");
    assert_eq!(body["services"][0]["interface"], 1);
}

#[tokio::test]
async fn update_bot() {
    let (status, body) = run("update_bot.json").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["user_id"].as_u64(), body["full_name"].as_str()), (Some(2), Some("Helper Two")));
}

#[tokio::test]
async fn create_bot_bad_url() {
    let (status, body) = run("create_bot_bad_url.json").await;
    assert_eq!((status, body["code"].as_str()), (400, Some("BAD_REQUEST")));
    assert_eq!(body["msg"], "payload_url must be an http or https URL");
}

#[tokio::test]
async fn get_users_unauthenticated() {
    let (status, body) = run("get_users_unauthenticated.json").await;
    assert_eq!((status, body["code"].as_str()), (401, Some("UNAUTHORIZED")));
}

#[tokio::test]
async fn unknown_route() {
    let (status, body) = run("unknown_route.json").await;
    assert_eq!((status, body["msg"].as_str()), (404, Some("Endpoint not found")));
}

/// Runs fixtures one after another on the same services.
async fn run_all(fixtures: &[&str]) -> Vec<(u16, Value)> {
    let services = services().await;
    let mut answers = Vec::new();
    for fixture in fixtures {
        let path = format!("{}/../../events/management/{fixture}", env!("CARGO_MANIFEST_DIR"));
        let event = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let response = hookline_management::handle(&services, lambda_http::request::from_str(&event).unwrap()).await;
        answers.push((response.status().as_u16(), serde_json::from_slice(response.body().as_ref()).unwrap()));
    }
    answers
}

#[tokio::test]
async fn bot_storage_keeps_a_bots_text_values() {
    let answers = run_all(&[
        "bot_storage_put.json",
        "bot_storage_put_not_string.json",
        "bot_storage_put_not_object.json",
        "bot_storage_get_unknown_key.json",
        "bot_storage_get_as_user.json",
    ])
    .await;
    assert_eq!(answers[0].0, 200, "{}", answers[0].1);
    let refused: Vec<(u16, &str)> = answers[1..].iter().map(|(s, b)| (*s, b["msg"].as_str().unwrap())).collect();
    assert_eq!(
        refused,
        [
            (400, "storage[\"number\"] is not a string"),
            (400, "storage is not a dict"),
            (400, "Key does not exist."),
            (400, "This endpoint is only available to bots."),
        ]
    );
}

#[tokio::test]
async fn create_outgoing_bot_with_its_own_retry_schedule() {
    let (status, body) = run("create_outgoing_bot_retry_schedule.json").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["services"][0]["retry_schedule"], "5s,30s,2m,10m");
    let (status, body) = run("create_outgoing_bot.json").await;
    assert_eq!((status, &body["services"][0]["retry_schedule"]), (200, &Value::Null), "the deployment's schedule");
}

#[tokio::test]
async fn create_bot_bad_retry_schedule() {
    let (status, body) = run("create_bot_bad_retry_schedule.json").await;
    assert_eq!((status, body["result"].as_str(), body["code"].as_str()), (400, Some("error"), Some("BAD_REQUEST")));
    assert_eq!(
        body["msg"],
        "Invalid retry_schedule: invalid retry delay \"soon\": expected a whole number and a unit (ms, s, m, h)"
    );
}
