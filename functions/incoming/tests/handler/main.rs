//! Every integration's fixtures in `events/incoming/<integration>/` run through the HTTP
//! handler exactly as API Gateway delivers them, compared with the exact topic and message
//! text in the matching `.expected.json`; and garbage bodies never get a 5xx or a panic.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use hookline_edge::{Services, Settings};
use hookline_incoming::integrations::{INTEGRATIONS, find};
use hookline_messaging::send::Sender;
use hookline_model::credentials::ApiKeyHash;
use hookline_model::queue::memory::MemoryQueue;
use hookline_model::realm::NewRealm;
use hookline_model::store::memory::MemoryStore;
use hookline_model::store::{Direction, MessageScope};
use hookline_model::user::{BotService, BotType, Interface, NewUser, Role, SigningSecrets, Triggers};
use hookline_model::{ManualClock, Message, Recipient};
use serde_json::Value;

const BOT_KEY: &str = "incomingFixtureKey0123456789abcdefghijkl";

/// Acme with Ada, her incoming-webhook bot (the fixtures' `api_key`) and a stream `dev`.
async fn world() -> (Arc<Services>, Sender) {
    world_with(Settings::default()).await
}

async fn world_with(settings: Settings) -> (Arc<Services>, Sender) {
    let clock = Arc::new(ManualClock::at(1_795_910_399_000));
    let services = Arc::new(Services {
        store: Arc::new(MemoryStore::new()),
        queue: Arc::new(MemoryQueue::new(clock.clone(), Duration::from_secs(180), 12)),
        clock,
        settings,
    });
    let person = |email: &str, name: &str, key: &str| NewUser {
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
        host: "acme.test".into(),
        public_url: "https://acme.test".into(),
    };
    let (realm, ada) = services.store.create_realm(realm, person("ada@acme.test", "Ada", "ada-key"), 0).await.unwrap();
    let mut bot = person("hooks-bot@acme.test", "Hooks", BOT_KEY);
    bot.bot_type = Some(BotType::IncomingWebhook);
    bot.bot_owner_id = Some(ada.id);
    bot.service = Some(BotService {
        realm_id: 0,
        bot_id: 0,
        base_url: String::new(),
        interface: Interface::Zulip,
        token: "t".into(),
        signing: SigningSecrets { current: "whsec_c2VjcmV0".into(), previous: None, previous_expires_at: None },
        webhook_secret: None,
        triggers: Triggers::default(),
        is_active: false,
        deactivated_reason: None,
        failing_since: None,
        last_owner_notice_at: None,
        retry_schedule: None,
        updated_at: 0,
    });
    services.store.create_user(realm.id, bot, 0).await.unwrap();
    services.store.create_stream(realm.id, "dev", "", 0).await.unwrap();
    let sender = Sender::new(services.store.clone(), services.queue.clone(), services.clock.clone());
    (services, sender)
}

fn fixtures(integration: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/incoming").join(integration);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json") && !p.to_string_lossy().ends_with(".expected.json"))
        .collect();
    files.sort();
    files
}

async fn run(services: &Services, sender: &Sender, integration: &str, event: &str) -> (u16, Value) {
    let request = lambda_http::request::from_str(event).expect("an API Gateway event");
    let response = hookline_incoming::http::handle(services, sender, find(integration).unwrap(), request).await;
    (response.status().as_u16(), serde_json::from_slice(response.body().as_ref()).unwrap_or(Value::Null))
}

async fn messages(services: &Services) -> Vec<Message> {
    services.store.list_messages(1, &MessageScope::Realm, 0, Direction::From, 100, &|_| true).await.unwrap()
}

#[tokio::test]
async fn every_fixture_produces_its_exact_topic_and_message() {
    let mut checked = 0;
    for integration in INTEGRATIONS {
        let files = fixtures(integration.name());
        assert!(!files.is_empty(), "{} has no fixtures", integration.name());
        for file in files {
            let (services, sender) = world().await;
            let expected_path = file.with_extension("expected.json");
            let expected: Value = serde_json::from_str(
                &std::fs::read_to_string(&expected_path).unwrap_or_else(|e| panic!("{}: {e}", expected_path.display())),
            )
            .unwrap();
            let (status, body) =
                run(&services, &sender, integration.name(), &std::fs::read_to_string(&file).unwrap()).await;
            let name = file.display().to_string();
            assert_eq!(Some(u64::from(status)), expected["status"].as_u64(), "{name}: {body}");
            let sent = messages(&services).await;
            if let Some(code) = expected["code"].as_str() {
                assert_eq!(body["code"], code, "{name}");
            }
            if let Some(msg) = expected["msg"].as_str() {
                assert_eq!(body["msg"], msg, "{name}");
            }
            if let Some(topic) = expected["topic"].as_str() {
                assert_eq!(sent.len(), 1, "{name}: {body}");
                let Recipient::Stream { topic: sent_topic, stream_name, .. } = &sent[0].recipient else {
                    panic!("{name}")
                };
                assert_eq!((sent_topic.as_str(), stream_name.as_str()), (topic, "dev"), "{name}");
                assert_eq!(sent[0].content, expected["content"].as_str().unwrap(), "{name}");
                assert_eq!(sent[0].client, integration.display_name());
            } else {
                // Ignored, unsupported or refused: nothing is sent
                assert!(sent.is_empty(), "{name}: {sent:?}");
            }
            checked += 1;
        }
    }
    assert!(checked >= INTEGRATIONS.len());
}

/// Bodies no integration should choke on.
fn garbage(original: &str) -> Vec<String> {
    let mut bodies = vec![
        original[..original.len() / 2].to_owned(),
        "{\"a\":".into(),
        "[]".into(),
        "\"just a string\"".into(),
        "12".into(),
        "null".into(),
        "{}".into(),
    ];
    if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(original) {
        // Every field replaced by the wrong type, one at a time and all at once
        let mut all = map.clone();
        for key in map.keys() {
            let mut one = map.clone();
            one.insert(key.clone(), Value::from(7));
            bodies.push(Value::Object(one).to_string());
            all.insert(key.clone(), Value::from(vec![Value::Null; 3]));
        }
        bodies.push(Value::Object(all).to_string());
        // Huge arrays wherever there is an array
        let mut huge = map.clone();
        for value in huge.values_mut() {
            if value.is_array() {
                *value = Value::from(vec![serde_json::json!({"id": 1, "message": "m", "title": "t"}); 20_000]);
            }
        }
        bodies.push(Value::Object(huge).to_string());
    }
    bodies
}

#[tokio::test]
async fn garbage_gets_a_clear_4xx_never_a_5xx_or_a_panic() {
    let (services, sender) = world().await;
    for integration in INTEGRATIONS {
        for file in fixtures(integration.name()) {
            let mut event: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
            let original = event["body"].as_str().unwrap_or("{}").to_owned();
            // Form-encoded fixtures carry their JSON in `payload=`; send garbage as JSON
            event["headers"]["content-type"] = Value::from("application/json");
            for body in garbage(&original) {
                event["body"] = Value::from(body.clone());
                let (status, answer) = run(&services, &sender, integration.name(), &event.to_string()).await;
                assert!(status < 500, "{} {}: {status} {answer} for {:.200}", integration.name(), file.display(), body);
                if status >= 400 {
                    assert!(answer["msg"].as_str().is_some_and(|m| !m.is_empty()), "a clear message: {answer}");
                }
            }
        }
    }
}

/// One fixture's event with `body` in place of its own (base64 when it is not UTF-8, as API
/// Gateway sends binary bodies), under one of several content types.
fn with_body(template: &Value, body: &[u8], content_type: Option<&str>, query: Option<&str>) -> String {
    use base64::Engine as _;
    let mut event = template.clone();
    match std::str::from_utf8(body) {
        Ok(text) => {
            event["body"] = Value::from(text);
            event["isBase64Encoded"] = Value::from(false);
        }
        Err(_) => {
            event["body"] = Value::from(base64::engine::general_purpose::STANDARD.encode(body));
            event["isBase64Encoded"] = Value::from(true);
        }
    }
    if let Some(content_type) = content_type {
        event["headers"]["content-type"] = Value::from(content_type);
    }
    if let Some(query) = query {
        let mut params = event["queryStringParameters"].as_object().cloned().unwrap_or_default();
        params.insert("only_events".into(), Value::from(query));
        event["rawQueryString"] = Value::from(
            serde_urlencoded::to_string(
                params.iter().map(|(k, v)| (k.as_str(), v.as_str().unwrap_or(""))).collect::<Vec<_>>(),
            )
            .unwrap(),
        );
        event["queryStringParameters"] = params.into();
    }
    event.to_string()
}

/// Every integration's fixtures mutated at random (bit flips, truncation, splicing, deep
/// nesting, invalid UTF-8), under the right and wrong content types and with a huge
/// `only_events`, through the HTTP handler: never a 5xx or a panic, and every refusal is
/// Zulip's JSON error shape.
#[tokio::test]
async fn randomized_bodies_for_every_integration_get_an_answer_never_a_5xx() {
    // Without rate limits, so that every input reaches its integration
    let mut settings = Settings::default();
    settings.rate_limits.per_user = None;
    settings.rate_limits.auth_failures_per_address = None;
    let (services, sender) = world_with(settings).await;
    // Per integration: its name, its fixtures' events and their bodies (the seed corpus)
    type Seeds = (&'static str, Vec<Value>, Vec<Vec<u8>>);
    let fixtures: Vec<Seeds> = INTEGRATIONS
        .iter()
        .map(|integration| {
            let events: Vec<Value> = fixtures(integration.name())
                .iter()
                .map(|file| serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap())
                .collect();
            let bodies = events.iter().map(|e| e["body"].as_str().unwrap_or("{}").as_bytes().to_vec()).collect();
            (integration.name(), events, bodies)
        })
        .collect();
    let huge_only_events =
        serde_json::to_string(&(0..2_000).map(|i| format!("event_{i}*")).collect::<Vec<_>>()).unwrap();
    let content_types =
        [None, Some("application/json"), Some("application/x-www-form-urlencoded"), Some("text/plain"), Some("")];
    let mut fuzzer = hookline_model::fuzzing::Fuzzer::from_env("integrations").with_dictionary(&[
        "\"action\":",
        "\"ref\":",
        "\"alerts\":",
        "\"object_kind\":",
        "null",
        "[]",
        "{}",
        "payload=",
        "%7B",
        "\\u0000",
    ]);
    let mut answered = [0_usize; 3];
    loop {
        let (name, events, bodies) = &fixtures[fuzzer.below(fixtures.len())];
        let template = &events[fuzzer.below(events.len())];
        let Some(body) = fuzzer.next_input(bodies) else { break };
        let content_type = content_types[fuzzer.below(content_types.len())];
        let query = (fuzzer.below(8) == 0).then_some(huge_only_events.as_str());
        let (status, answer) = run(&services, &sender, name, &with_body(template, &body, content_type, query)).await;
        let shown = String::from_utf8_lossy(&body).chars().take(200).collect::<String>();
        let context = format!("seed {}: {name} {content_type:?} {status} {answer} for {shown:?}", fuzzer.seed());
        assert!(status < 500, "{context}");
        if answer["result"] == "error" {
            assert!(answer["msg"].as_str().is_some_and(|m| !m.is_empty()), "{context}");
            // An unsupported event is Zulip's one error answered with 200
            assert!(status >= 400 || answer["code"] == "UNSUPPORTED_WEBHOOK_EVENT_TYPE", "{context}");
            assert!(answer["code"].as_str().is_some_and(|c| !c.is_empty()), "{context}");
        } else {
            assert_eq!((status, answer["result"].as_str()), (200, Some("success")), "{context}");
        }
        answered[usize::from(status / 100 - 2).min(2)] += 1;
    }
    println!("{} inputs: {} 2xx, {} 4xx", fuzzer.iterations(), answered[0], answered[2]);
    assert!(fuzzer.iterations() > 0);
}

#[tokio::test]
async fn keys_events_filters_topics_and_missing_streams_behave_as_in_zulip() {
    let (services, sender) = world().await;
    let file = fixtures("json").into_iter().next().expect("a json fixture");
    let event: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let with_query = |query: &str| {
        let mut e = event.clone();
        e["rawQueryString"] = Value::from(query);
        e["queryStringParameters"] = serde_urlencoded::from_str::<Vec<(String, String)>>(query)
            .unwrap()
            .into_iter()
            .map(|(k, v)| (k, Value::from(v)))
            .collect::<serde_json::Map<_, _>>()
            .into();
        e.to_string()
    };
    let (status, body) = run(&services, &sender, "json", &with_query("stream=dev")).await;
    assert_eq!((status, body["msg"].as_str()), (400, Some("Missing 'api_key' argument")));
    let (status, body) = run(&services, &sender, "json", &with_query("api_key=nope&stream=dev")).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("INVALID_API_KEY")));
    let (status, _) = run(&services, &sender, "json", &with_query("api_key=ada-key&stream=dev")).await;
    assert_eq!(status, 400, "a person's key is not an incoming webhook bot's");

    // Filtered out: success, nothing sent
    let (status, _) = run(
        &services,
        &sender,
        "json",
        &with_query(&format!("api_key={BOT_KEY}&stream=dev&only_events=%5B%22push*%22%5D")),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = run(
        &services,
        &sender,
        "json",
        &with_query(&format!("api_key={BOT_KEY}&stream=dev&exclude_events=%5B%22*%22%5D")),
    )
    .await;
    assert_eq!(status, 200);
    assert!(messages(&services).await.is_empty());

    // Topic override, stream by id
    run(&services, &sender, "json", &with_query(&format!("api_key={BOT_KEY}&stream=1&topic=Deploys"))).await;
    let sent = messages(&services).await;
    assert!(matches!(&sent[0].recipient, Recipient::Stream { topic, .. } if topic == "Deploys"));

    // No stream: a DM to the bot's owner
    run(&services, &sender, "json", &with_query(&format!("api_key={BOT_KEY}"))).await;
    let sent = messages(&services).await;
    assert!(matches!(&sent[1].recipient, Recipient::Direct { user_ids } if user_ids == &vec![1, 2]));

    // A stream that does not exist: success, and the owner hears (once a minute at most)
    for _ in 0..3 {
        let (status, _) =
            run(&services, &sender, "json", &with_query(&format!("api_key={BOT_KEY}&stream=nowhere"))).await;
        assert_eq!(status, 200);
    }
    let notices: Vec<Message> =
        messages(&services).await.into_iter().filter(|m| m.content.contains("does not exist")).collect();
    assert_eq!(notices.len(), 1);
    assert!(notices[0].content.contains("#**nowhere**"));

    // Bodies over 1 MiB get 413
    let mut big = event.clone();
    big["body"] = Value::from(format!("{{\"x\": \"{}\"}}", "a".repeat(1024 * 1024)));
    big["rawQueryString"] = Value::from(format!("api_key={BOT_KEY}&stream=dev"));
    big["queryStringParameters"] = serde_json::json!({"api_key": BOT_KEY, "stream": "dev"});
    assert_eq!(run(&services, &sender, "json", &big.to_string()).await.0, 413);
}

#[tokio::test]
async fn a_bot_with_a_webhook_secret_is_refused_where_its_secret_cannot_be_checked() {
    let (services, sender) = world().await;
    let mut service = services.store.get_service(1, 2).await.unwrap().expect("the bot's service");
    let read_at = service.updated_at;
    service.webhook_secret = Some("s3cret".into());
    service.updated_at = read_at + 1;
    services.store.update_service(&service, read_at).await.unwrap();
    for integration in ["json", "slack_incoming", "grafana", "alertmanager"] {
        let file = fixtures(integration).into_iter().next().expect("a fixture");
        let event = std::fs::read_to_string(&file).unwrap();
        let (status, body) = run(&services, &sender, integration, &event).await;
        assert_eq!(status, 401, "{integration}: {body}");
        assert_eq!(body["result"], "error", "{integration}");
    }
    assert!(messages(&services).await.is_empty(), "nothing was sent unsigned");
}
