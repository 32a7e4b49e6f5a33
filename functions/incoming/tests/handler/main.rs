//! The incoming integrations over HTTP, as API Gateway delivers requests: every case in every
//! integration's `fixtures/cases.toml` through the real handler ([`cases`]), the template's
//! functions generated from the registry ([`template`]), and what no integration may do with
//! garbage: answer 5xx or panic.

mod cases;
mod fake_slack;
mod template;
mod world;

use hookline_edge::{Services, Settings};
use hookline_incoming::integrations::{INTEGRATIONS, find};
use hookline_messaging::send::Sender;
use hookline_model::{Message, Recipient};
use serde_json::Value;

use cases::{Case, Origin, Suite, case_event, expected_messages, suites};
use world::{BOT_KEY, messages, set_webhook_secret, world, world_with};

async fn run(services: &Services, sender: &Sender, integration: &str, event: &str) -> (u16, Value) {
    let request = lambda_http::request::from_str(event).expect("an API Gateway event");
    let integration = find(integration).unwrap_or_else(|| panic!("{integration} is registered"));
    let response = hookline_incoming::http::serve(services, sender, integration, request).await;
    (response.status().as_u16(), serde_json::from_slice(response.body().as_ref()).unwrap_or(Value::Null))
}

/// Runs one case in a realm of its own; what differs from the case's expectations.
async fn check(suite: &Suite, case: &Case) -> Result<(), String> {
    let (services, sender) = world().await;
    if let Some(secret) = &case.secret {
        set_webhook_secret(&services, secret).await;
    }
    let stream =
        case.sent_to_stream.as_deref().unwrap_or_else(|| case.params.get("stream").map_or("dev", String::as_str));
    if !stream.is_empty() && stream != "dev" && stream.parse::<u64>().is_err() {
        services.store.create_stream(1, stream, "", 0).await.map_err(|e| e.to_string())?;
    }
    let (status, body) = run(&services, &sender, &suite.integration, &case_event(suite, case, false)).await;
    let sent = messages(&services).await;
    let expected = expected_messages(case);
    let mut wrong = Vec::new();
    if status >= 500 {
        wrong.push(format!("answered {status}: {body}"));
    }
    match case.status {
        Some(want) if want != status => wrong.push(format!("status {status}, expected {want}: {body}")),
        None if (status, body["result"].as_str()) != (200, Some("success")) => {
            wrong.push(format!("expected success, got {status}: {body}"));
        }
        _ => {}
    }
    for (field, want) in [("code", &case.code), ("msg", &case.error)] {
        if let Some(want) = want
            && body[field].as_str() != Some(want.as_str())
        {
            wrong.push(format!("{field} {}, expected {want:?}", body[field]));
        }
    }
    if expected.is_empty() && !case.nothing && case.status.is_none() {
        wrong.push("the case expects nothing: give a message, `nothing = true` or an error".into());
    }
    if sent.len() != expected.len() {
        let shown: Vec<String> = sent.iter().map(|m| format!("{:?}: {:?}", topic_of(m), m.content)).collect();
        wrong.push(format!("{} messages sent, expected {}: {shown:#?}", sent.len(), expected.len()));
    }
    for (message, want) in sent.iter().zip(&expected) {
        match (&message.recipient, case.direct) {
            (Recipient::Stream { topic, stream_name, .. }, false) => {
                if topic != &want.topic {
                    wrong.push(format!("topic\n  sent:     {topic:?}\n  expected: {:?}", want.topic));
                }
                if !stream.is_empty() && stream.parse::<u64>().is_err() && stream_name != stream {
                    wrong.push(format!("sent to stream {stream_name}, expected {stream}"));
                }
            }
            (Recipient::Direct { user_ids }, true) if user_ids == &vec![1, 2] => {}
            (recipient, _) => wrong.push(format!("sent to {recipient:?}, direct = {}", case.direct)),
        }
        if message.content != want.content {
            wrong.push(format!("content\n  sent:     {:?}\n  expected: {:?}", message.content, want.content));
        }
        let display_name = find(&suite.integration).unwrap().display_name();
        if message.client != display_name {
            wrong.push(format!("client {:?}, expected {display_name:?}", message.client));
        }
    }
    if wrong.is_empty() { Ok(()) } else { Err(wrong.join("\n")) }
}

fn topic_of(message: &Message) -> Option<&str> {
    match &message.recipient {
        Recipient::Stream { topic, .. } => Some(topic),
        Recipient::Direct { .. } => None,
    }
}

#[tokio::test]
async fn every_case_of_every_integration_holds() {
    let mut failures = Vec::new();
    let mut report = Vec::new();
    for suite in suites() {
        let mut counts = [[0_usize; 2]; 2];
        for case in &suite.cases {
            let result = check(&suite, case).await;
            counts[usize::from(case.origin == Origin::Hookline)][usize::from(result.is_ok())] += 1;
            if let Err(why) = result {
                failures.push(format!("{}/{}:\n{why}", suite.integration, case.name));
            }
        }
        let [[zulip_failed, zulip_passed], [own_failed, own_passed]] = counts;
        report.push(format!(
            "{:<16} Zulip's cases {zulip_passed}/{}, Hookline's {own_passed}/{}",
            suite.integration,
            zulip_passed + zulip_failed,
            own_passed + own_failed
        ));
    }
    println!("{}", report.join("\n"));
    assert!(failures.is_empty(), "{} cases failed:\n\n{}", failures.len(), failures.join("\n\n"));
}

/// The preview sends nothing and shows what a delivery would send.
#[tokio::test]
async fn the_preview_of_every_case_shows_its_message_and_sends_nothing() {
    // Without the per-user rate limit: every case previews through the one bot
    let mut settings = Settings::default();
    settings.rate_limits.per_user = None;
    let (services, sender) = world_with(settings).await;
    let mut previewed = 0;
    for suite in suites() {
        for case in suite.cases.iter().filter(|c| c.secret.is_none() && !c.direct) {
            let expected = expected_messages(case);
            let (status, body) = run(&services, &sender, &suite.integration, &case_event(&suite, case, true)).await;
            let name = format!("{}/{}", suite.integration, case.name);
            assert!(status < 500, "{name}: {status} {body}");
            if let [only] = expected.as_slice() {
                assert_eq!((status, body["topic"].as_str()), (200, Some(only.topic.as_str())), "{name}: {body}");
                assert_eq!(body["content"].as_str(), Some(only.content.as_str()), "{name}");
                previewed += 1;
            }
        }
    }
    assert!(messages(&services).await.is_empty(), "a preview sends nothing");
    assert!(previewed > 0);
}

#[test]
fn every_registered_integration_has_its_folder_and_every_folder_is_registered() {
    let mut folders: Vec<String> = suites().into_iter().map(|s| s.integration).collect();
    let mut registered: Vec<String> = INTEGRATIONS.iter().map(|i| i.name().to_owned()).collect();
    folders.sort();
    registered.sort();
    assert_eq!(folders, registered);
    for suite in suites() {
        assert!(!suite.cases.is_empty(), "{} has cases", suite.integration);
        for case in &suite.cases {
            if let Some(file) = &case.fixture {
                assert!(suite.dir.join(file).is_file(), "{}/{}: {file} exists", suite.integration, case.name);
            }
        }
    }
}

/// Every case's event, for the tests that start from real requests.
fn seeds() -> Vec<(String, Vec<Value>, Vec<Vec<u8>>)> {
    suites()
        .into_iter()
        .map(|suite| {
            let events: Vec<Value> = suite
                .cases
                .iter()
                .filter(|c| c.fixture.is_some())
                .map(|c| serde_json::from_str(&case_event(&suite, c, false)).unwrap())
                .collect();
            let bodies = suite.cases.iter().filter(|c| c.fixture.is_some()).map(|c| suite.body(c)).collect();
            (suite.integration, events, bodies)
        })
        .collect()
}

/// The event of `integration`'s first case with a fixture.
fn first_event(integration: &str) -> Value {
    let (_, events, _) = seeds().into_iter().find(|(name, _, _)| name == integration).expect("a suite");
    events.into_iter().next().expect("a case with a fixture")
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
    for (integration, events, _) in seeds() {
        for mut event in events {
            let original = event["body"].as_str().unwrap_or("{}").to_owned();
            // Form-encoded fixtures carry their JSON in `payload=`; send garbage as JSON
            let original = serde_urlencoded::from_str::<Vec<(String, String)>>(&original)
                .ok()
                .and_then(|f| f.into_iter().find(|(k, _)| k == "payload").map(|(_, v)| v))
                .unwrap_or(original);
            // Form-encoded fixtures carry their JSON in `payload=`; send garbage as JSON
            event["headers"]["content-type"] = Value::from("application/json");
            for body in garbage(&original) {
                event["body"] = Value::from(body.clone());
                let (status, answer) = run(&services, &sender, &integration, &event.to_string()).await;
                assert!(status < 500, "{integration}: {status} {answer} for {body:.200}");
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
    let fixtures = seeds();
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
    let event = first_event("json");
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
    set_webhook_secret(&services, "s3cret").await;
    for integration in ["json", "slack_incoming", "grafana", "alertmanager"] {
        let event = first_event(integration).to_string();
        let (status, body) = run(&services, &sender, integration, &event).await;
        assert_eq!(status, 401, "{integration}: {body}");
        assert_eq!(body["result"], "error", "{integration}");
    }
    assert!(messages(&services).await.is_empty(), "nothing was sent unsigned");
}

/// Services that put credentials in the URL's user part (Beanstalk's
/// `https://hooks-bot%40acme.test:<key>@host/api/v1/external/beanstalk`) send HTTP Basic
/// instead of `api_key`; the bot's email must match its key.
#[tokio::test]
async fn basic_auth_stands_in_for_the_api_key() {
    use base64::Engine as _;
    let (services, sender) = world().await;
    let body = std::fs::read(cases::integrations_dir().join("beanstalk/fixtures/git_singlecommit.json")).unwrap();
    let query = [("stream".to_owned(), "dev".to_owned())];
    let basic = |credentials: &str| {
        [
            ("content-type".to_owned(), "application/x-www-form-urlencoded".to_owned()),
            (
                "authorization".to_owned(),
                format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(credentials)),
            ),
        ]
    };
    let form = serde_urlencoded::to_string([("payload", String::from_utf8(body).unwrap())]).unwrap();
    let good = basic(&format!("hooks-bot@acme.test:{BOT_KEY}"));
    let event = cases::gateway_event("/api/v1/external/beanstalk", &query, &good, form.as_bytes());
    let (status, answer) = run(&services, &sender, "beanstalk", &event).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(messages(&services).await.len(), 1);

    let wrong_email = basic(&format!("ada@acme.test:{BOT_KEY}"));
    let event = cases::gateway_event("/api/v1/external/beanstalk", &query, &wrong_email, form.as_bytes());
    let (status, answer) = run(&services, &sender, "beanstalk", &event).await;
    assert_eq!(status, 401, "{answer}");

    let neither = [("content-type".to_owned(), "application/x-www-form-urlencoded".to_owned())];
    let event = cases::gateway_event("/api/v1/external/beanstalk", &query, &neither, form.as_bytes());
    let (status, answer) = run(&services, &sender, "beanstalk", &event).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["msg"], "Missing 'api_key' argument", "{answer}");
    assert_eq!(messages(&services).await.len(), 1, "refused requests send nothing");
}

/// Trello and Intercom check a new webhook's URL with `HEAD` (Zulip's
/// `test_success_on_http_head` for Intercom); other integrations have no `HEAD` route.
#[tokio::test]
async fn head_answers_only_where_the_sender_checks_the_url_with_it() {
    let (services, sender) = world().await;
    let query = [("api_key".to_owned(), BOT_KEY.to_owned()), ("stream".to_owned(), "dev".to_owned())];
    for (integration, want) in [("trello", 200), ("intercom", 200), ("github", 404)] {
        let mut event: Value =
            serde_json::from_str(&cases::gateway_event(&format!("/api/v1/external/{integration}"), &query, &[], b""))
                .unwrap();
        event["requestContext"]["http"]["method"] = Value::from("HEAD");
        let (status, body) = run(&services, &sender, integration, &event.to_string()).await;
        assert_eq!(status, want, "{integration}: {body}");
    }
    assert!(messages(&services).await.is_empty());
}

/// Topics and content are cut by the framework, for every integration, as Zulip cuts them:
/// a topic to 60 characters ending `...`, content to 10,000 ending `[message truncated]`.
#[tokio::test]
async fn long_topics_and_messages_are_cut_as_zulip_cuts_them() {
    let (services, sender) = world().await;
    let mut issue: Value = serde_json::from_str(
        &std::fs::read_to_string(cases::integrations_dir().join("github/fixtures/issues_opened.json")).unwrap(),
    )
    .unwrap();
    issue["issue"]["title"] = Value::from("é".repeat(300));
    issue["issue"]["body"] = Value::from("ü".repeat(12_000));
    let headers = [
        ("content-type".to_owned(), "application/json".to_owned()),
        ("x-github-event".to_owned(), "issues".to_owned()),
    ];
    let query = [("api_key".to_owned(), BOT_KEY.to_owned()), ("stream".to_owned(), "dev".to_owned())];
    let event = cases::gateway_event("/api/v1/external/github", &query, &headers, issue.to_string().as_bytes());
    let (status, body) = run(&services, &sender, "github", &event).await;
    assert_eq!(status, 200, "{body}");
    let sent = messages(&services).await;
    let [message] = sent.as_slice() else { panic!("{sent:?}") };
    let topic = topic_of(message).unwrap();
    assert_eq!(topic.chars().count(), 60, "{topic}");
    assert!(topic.ends_with("..."), "{topic}");
    assert_eq!(message.content.chars().count(), 10_000);
    assert!(message.content.ends_with("\n[message truncated]"), "{}", &message.content[message.content.len() - 40..]);
}

/// The API Gateway events in `events/incoming/` (for `cargo lambda invoke --data-file`) are
/// accepted by the integration their path names.
#[tokio::test]
async fn the_invoke_examples_in_events_are_accepted() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/incoming");
    let mut checked = 0;
    for file in std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()) {
        let (services, sender) = world().await;
        let text = std::fs::read_to_string(&file).unwrap();
        let event: Value = serde_json::from_str(&text).unwrap();
        let integration = event["rawPath"].as_str().unwrap().trim_start_matches("/api/v1/external/").to_owned();
        let (status, body) = run(&services, &sender, &integration, &text).await;
        assert_eq!(status, 200, "{}: {body}", file.display());
        assert_eq!(messages(&services).await.len(), 1, "{}", file.display());
        checked += 1;
    }
    assert!(checked >= 2);
}
