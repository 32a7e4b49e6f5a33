//! The worker's SQS handler, fed the SQS event fixtures in `events/outgoing-worker/` (the
//! same files `cargo lambda invoke --data-file` takes).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lambda_events::sqs::SqsEvent;
use hookline_edge::{Services, Settings};
use hookline_messaging::send::{Destination, SendRequest, Sender, StreamRef};
use hookline_model::ManualClock;
use hookline_model::credentials::ApiKeyHash;
use hookline_model::queue::memory::MemoryQueue;
use hookline_model::realm::NewRealm;
use hookline_model::store::memory::MemoryStore;
use hookline_model::user::{BotService, BotType, Interface, NewUser, Role, SigningSecrets, Triggers};
use hookline_outgoing_worker::{handle_event, worker_from_env};

/// A bot endpoint on loopback that counts its calls and answers with a reply.
async fn endpoint(calls: Arc<Mutex<u32>>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback(move || {
        let calls = calls.clone();
        async move {
            *calls.lock().unwrap() += 1;
            ([("content-type", "application/json")], r#"{"content": "pong"}"#)
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// Realm 1 with Ada (user 1), her bot (user 2) and message 1 mentioning it, as the fixtures expect.
async fn services(url: String) -> (Arc<Services>, Arc<MemoryStore>) {
    let clock = Arc::new(ManualClock::at(4_000_000_000_000));
    let store = Arc::new(MemoryStore::new());
    let services = Arc::new(Services {
        store: store.clone(),
        queue: Arc::new(MemoryQueue::new(clock.clone(), Duration::from_secs(180), 12)),
        clock,
        settings: Settings { allow_private_endpoints: true, ..Settings::default() },
    });
    let person = |email: &str, name: &str| NewUser {
        email: email.into(),
        full_name: name.into(),
        role: Role::Owner,
        bot_type: None,
        bot_owner_id: None,
        api_key_hash: ApiKeyHash::of(email),
        service: None,
    };
    let realm = NewRealm {
        string_id: "acme".into(),
        name: "Acme".into(),
        host: "acme.test".into(),
        public_url: "https://acme.test".into(),
    };
    let (realm, ada) = services.store.create_realm(realm, person("ada@acme.test", "Ada"), 0).await.unwrap();
    let mut bot = person("echo-bot@acme.test", "Echo Bot");
    bot.bot_type = Some(BotType::OutgoingWebhook);
    bot.bot_owner_id = Some(ada.id);
    bot.service = Some(BotService {
        realm_id: 0,
        bot_id: 0,
        base_url: url,
        interface: Interface::Zulip,
        token: "t".into(),
        signing: SigningSecrets {
            current: "whsec_c2VjcmV0c2VjcmV0c2VjcmV0".into(),
            previous: None,
            previous_expires_at: None,
        },
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
    let sender = Sender::new(services.store.clone(), services.queue.clone(), services.clock.clone());
    let request = SendRequest {
        realm,
        sender: ada,
        destination: Destination::Stream { stream: StreamRef::Name("general".into()), topic: "t".into() },
        content: "@**Echo Bot** ping".into(),
        client: "test".into(),
        idempotency_key: None,
        reply_to: None,
    };
    sender.send(request).await.unwrap();
    (services, store)
}

fn fixture(name: &str) -> SqsEvent {
    let path = format!("{}/../../events/outgoing-worker/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).expect("an SQS event")
}

#[tokio::test]
async fn a_mention_delivery_is_posted_and_its_job_succeeds() {
    let calls = Arc::new(Mutex::new(0));
    let (services, _) = services(endpoint(calls.clone()).await).await;
    let sender = Arc::new(Sender::new(services.store.clone(), services.queue.clone(), services.clock.clone()));
    let worker = worker_from_env(&services, sender).unwrap();
    let response = handle_event(&worker, fixture("mention_delivery.json"), Duration::from_secs(20)).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(*calls.lock().unwrap(), 1);
}

#[tokio::test]
async fn a_duplicate_is_a_no_op_and_a_malformed_job_is_reported_failed() {
    let calls = Arc::new(Mutex::new(0));
    let (services, _) = services(endpoint(calls.clone()).await).await;
    let sender = Arc::new(Sender::new(services.store.clone(), services.queue.clone(), services.clock.clone()));
    let worker = worker_from_env(&services, sender).unwrap();
    handle_event(&worker, fixture("mention_delivery.json"), Duration::from_secs(20)).await;
    let response = handle_event(&worker, fixture("duplicate_and_malformed.json"), Duration::from_secs(20)).await;
    let failed: Vec<&str> = response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
    assert_eq!(failed, ["5f1c8f2a-3e1b-4c8e-9d7a-0b6a2f4e8c11"], "only the malformed job comes back");
    assert_eq!(*calls.lock().unwrap(), 1, "the duplicate found the delivery finished");
}
