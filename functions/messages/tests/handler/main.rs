//! The send-message function's handler, fed the API Gateway fixtures in `events/messages/`
//! (the same files `cargo lambda invoke --data-file` takes).

use std::sync::Arc;
use std::time::Duration;

use hookline_edge::{Services, Settings};
use hookline_messages::MessagesApp;
use hookline_model::ManualClock;
use hookline_model::credentials::ApiKeyHash;
use hookline_model::delivery::{QueueJob, Trigger};
use hookline_model::queue::memory::MemoryQueue;
use hookline_model::realm::NewRealm;
use hookline_model::store::memory::MemoryStore;
use hookline_model::user::{BotService, BotType, Interface, NewUser, Role, SigningSecrets, Triggers};
use serde_json::Value;

const OWNER_KEY: &str = "fixtureApiKey0123456789abcdefghijklmnopq";

/// Acme, its owner (the fixtures' caller), an outgoing bot `Echo Bot` and a stream `general`.
async fn app() -> (MessagesApp, Arc<MemoryQueue>) {
    let clock = Arc::new(ManualClock::at(1_795_910_399_000));
    let queue = Arc::new(MemoryQueue::new(clock.clone(), Duration::from_secs(30), 3));
    let services =
        Services { store: Arc::new(MemoryStore::new()), queue: queue.clone(), clock, settings: Settings::default() };
    let user = |email: &str, name: &str, key: &str| NewUser {
        email: email.into(),
        full_name: name.into(),
        role: Role::Owner,
        bot_type: None,
        bot_owner_id: None,
        api_key_hash: ApiKeyHash::of(key),
        service: None,
    };
    let realm = NewRealm {
        string_id: "acme".into(),
        name: "Acme".into(),
        host: "acme.example".into(),
        public_url: "https://acme.example".into(),
    };
    let (realm, owner) =
        services.store.create_realm(realm, user("owner@acme.example", "Olive Owner", OWNER_KEY), 0).await.unwrap();
    let mut bot = user("echo-bot@acme.example", "Echo Bot", "bot-key");
    bot.bot_type = Some(BotType::OutgoingWebhook);
    bot.bot_owner_id = Some(owner.id);
    bot.service = Some(BotService {
        realm_id: 0,
        bot_id: 0,
        base_url: "https://bots.example.com/echo".into(),
        interface: Interface::Zulip,
        token: "token".into(),
        signing: SigningSecrets { current: "whsec_c2VjcmV0".into(), previous: None, previous_expires_at: None },
        webhook_secret: None,
        triggers: Triggers::default(),
        is_active: true,
        deactivated_reason: None,
        failing_since: None,
        last_owner_notice_at: None,
        retry_schedule: None,
        updated_at: 0,
    });
    services.store.create_user(realm.id, bot, 0).await.unwrap();
    services.store.create_stream(realm.id, "general", "", 0).await.unwrap();
    (MessagesApp::new(Arc::new(services)), queue)
}

async fn run(app: &MessagesApp, fixture: &str) -> (u16, Value) {
    let path = format!("{}/../../events/messages/{fixture}", env!("CARGO_MANIFEST_DIR"));
    let event = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let request = lambda_http::request::from_str(&event).expect("an API Gateway event");
    let response = app.handle(request).await;
    (response.status().as_u16(), serde_json::from_slice(response.body().as_ref()).expect("JSON"))
}

async fn queued(queue: &MemoryQueue) -> Vec<QueueJob> {
    use hookline_model::queue::DeliveryQueue as _;
    queue.receive(10, Duration::ZERO).await.unwrap().iter().map(|r| r.job().unwrap()).collect()
}

#[tokio::test]
async fn a_stream_message_with_a_mention_is_stored_and_triggers_the_bot() {
    let (app, queue) = app().await;
    let (status, body) = run(&app, "send_stream_mention.json").await;
    assert_eq!((status, body["id"].as_u64()), (200, Some(1)), "{body}");
    let jobs = queued(&queue).await;
    assert!(
        matches!(&jobs[..], [QueueJob::Deliver(job)] if job.trigger == Trigger::Mention && job.bot_id == 2),
        "{jobs:?}"
    );
    let (status, body) = run(&app, "get_messages_narrow.json").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["messages"][0]["content"], "@**Echo Bot** ship it?");
    assert_eq!(body["messages"][0]["subject"], "deploys");
}

#[tokio::test]
async fn a_direct_message_to_the_bot_triggers_it() {
    let (app, queue) = app().await;
    let (status, body) = run(&app, "send_direct_message.json").await;
    assert_eq!(status, 200, "{body}");
    let jobs = queued(&queue).await;
    assert!(matches!(&jobs[..], [QueueJob::Deliver(job)] if job.trigger == Trigger::DirectMessage), "{jobs:?}");
}

#[tokio::test]
async fn a_bad_request_is_refused_and_stores_nothing() {
    let (app, queue) = app().await;
    let (status, body) = run(&app, "send_bad_request.json").await;
    assert_eq!((status, body["code"].as_str()), (400, Some("REQUEST_VARIABLE_MISSING")));
    assert_eq!(body["msg"], "Missing 'content' argument");
    assert!(queued(&queue).await.is_empty());
    let (_, page) = run(&app, "get_messages_narrow.json").await;
    assert_eq!(page["messages"], serde_json::json!([]));
}

#[tokio::test]
async fn one_message_is_read_reacted_to_edited_and_deleted_through_its_fixtures() {
    let (app, queue) = app().await;
    run(&app, "send_stream_mention.json").await;
    assert_eq!(queued(&queue).await.len(), 1, "the mention triggered the bot");

    let (status, body) = run(&app, "get_message.json").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["message"]["content"], "@**Echo Bot** ship it?");
    assert_eq!(body["raw_content"], "@**Echo Bot** ship it?");

    let (status, body) = run(&app, "add_reaction.json").await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = run(&app, "get_message.json").await;
    let reactions = body["message"]["reactions"].as_array().expect("reactions");
    assert_eq!((reactions.len(), &reactions[0]["emoji_name"]), (1, &Value::from("thumbs_up")), "{reactions:?}");
    assert_eq!(reactions[0]["emoji_code"], "1f44d");
    let (status, body) = run(&app, "add_reaction.json").await;
    assert_eq!((status, body["msg"].as_str()), (400, Some("Reaction already exists.")), "{body}");
    assert_eq!(run(&app, "remove_reaction.json").await.0, 200);
    let (_, body) = run(&app, "get_message.json").await;
    assert_eq!(body["message"]["reactions"], serde_json::json!([]));

    // An edit keeps the mention but triggers no bot, as in Zulip.
    let (status, body) = run(&app, "edit_message.json").await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = run(&app, "get_message.json").await;
    assert_eq!(
        (&body["message"]["content"], &body["message"]["subject"]),
        (&Value::from("@**Echo Bot** ship it now?"), &Value::from("releases"))
    );
    assert!(queued(&queue).await.is_empty(), "an edit triggers no bot");

    let (status, body) = run(&app, "get_unknown_message.json").await;
    assert_eq!((status, body["msg"].as_str()), (400, Some("Invalid message(s)")), "{body}");
    assert_eq!(run(&app, "delete_message.json").await.0, 200);
    let (status, body) = run(&app, "get_message.json").await;
    assert_eq!((status, body["msg"].as_str()), (400, Some("Invalid message(s)")), "{body}");
}
