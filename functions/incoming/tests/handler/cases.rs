//! The integrations' cases: `src/integrations/<name>/fixtures/cases.toml` beside the raw
//! payloads it names. A case is sent as API Gateway delivers a third party's request (the
//! harness builds the event: headers, URL parameters, the body as the service sends it) and
//! says what must come of it: a message (topic and content), several, nothing sent, or an
//! error. The schema is documented in `docs/ADDING_AN_INTEGRATION.md`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Value, json};

use crate::world::BOT_KEY;

/// Where a case comes from: Zulip's own test suite for the integration, or Hookline's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    #[default]
    Zulip,
    Hookline,
}

/// One expected message.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    pub topic: String,
    pub content: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// Zulip's test name for Zulip's cases.
    pub name: String,
    #[serde(default)]
    pub origin: Origin,
    /// The raw payload's file in the fixtures folder; none sends an empty body.
    pub fixture: Option<String>,
    /// Sends the payload as a form's `payload` field (`application/x-www-form-urlencoded`).
    #[serde(default)]
    pub form_payload: bool,
    /// The body's content type (default `application/json`).
    pub content_type: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// URL parameters beside `api_key`; `stream` is `dev` unless given (empty: no stream, so
    /// the message goes to the bot's owner).
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// The stream the message must reach, when it is not the URL's `stream` as written (an
    /// integration that decodes its URL parameters once more).
    pub sent_to_stream: Option<String>,
    /// The bot's webhook secret for this case.
    pub secret: Option<String>,
    pub topic: Option<String>,
    pub content: Option<String>,
    /// Several messages, in order.
    #[serde(default)]
    pub messages: Vec<Expected>,
    /// The message goes to the bot's owner as a direct message (its topic is not checked).
    #[serde(default)]
    pub direct: bool,
    /// Answered with success and nothing sent.
    #[serde(default)]
    pub nothing: bool,
    /// The answer's status, for errors (and Zulip's 200 "unsupported event").
    pub status: Option<u16>,
    /// The error's `code`.
    pub code: Option<String>,
    /// The error's `msg`.
    pub error: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    case: Vec<Case>,
}

/// An integration's cases, read from its folder.
pub struct Suite {
    pub integration: String,
    pub dir: PathBuf,
    pub cases: Vec<Case>,
}

impl Suite {
    /// The body a case sends, as the third party sends it.
    pub fn body(&self, case: &Case) -> Vec<u8> {
        let raw = case.fixture.as_ref().map_or_else(Vec::new, |file| {
            std::fs::read(self.dir.join(file)).unwrap_or_else(|e| panic!("{}: {file}: {e}", self.integration))
        });
        if case.form_payload {
            let payload = String::from_utf8(raw).expect("a form payload is text");
            serde_urlencoded::to_string([("payload", payload)]).unwrap().into_bytes()
        } else {
            raw
        }
    }
}

pub fn integrations_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/integrations")
}

/// Every integration folder's suite, by folder name.
pub fn suites() -> Vec<Suite> {
    let mut suites: Vec<Suite> = std::fs::read_dir(integrations_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .map(|folder| {
            let integration = folder.file_name().unwrap().to_string_lossy().into_owned();
            let dir = folder.join("fixtures");
            let file = dir.join("cases.toml");
            let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let parsed: CaseFile = toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            Suite { integration, dir, cases: parsed.case }
        })
        .collect();
    suites.sort_by(|a, b| a.integration.cmp(&b.integration));
    suites
}

/// The content type a case's body is sent with.
pub fn content_type(case: &Case) -> &str {
    match &case.content_type {
        Some(content_type) => content_type,
        None if case.form_payload => "application/x-www-form-urlencoded",
        None => "application/json",
    }
}

/// The URL parameters a case sends: the bot's key, `stream=dev` unless the case names its
/// own (an empty one is left out), then the case's own.
pub fn query(case: &Case) -> Vec<(String, String)> {
    let mut query = vec![("api_key".to_owned(), BOT_KEY.to_owned())];
    if !case.params.contains_key("stream") {
        query.push(("stream".into(), "dev".into()));
    }
    query.extend(
        case.params
            .iter()
            .filter(|(k, v)| !(k.as_str() == "stream" && v.is_empty()))
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    query
}

/// An API Gateway (HTTP API, payload 2.0) event for `POST path?query` with `headers` and
/// `body` (base64 when it is not UTF-8, as API Gateway sends binary bodies).
pub fn gateway_event(path: &str, query: &[(String, String)], headers: &[(String, String)], body: &[u8]) -> String {
    use base64::Engine as _;
    let mut header_map = serde_json::Map::new();
    header_map.insert("host".into(), "abc123.execute-api.us-east-1.amazonaws.com".into());
    header_map.insert("content-length".into(), body.len().to_string().into());
    header_map.insert("x-forwarded-for".into(), "203.0.113.9".into());
    for (name, value) in headers {
        header_map.insert(name.to_ascii_lowercase(), value.clone().into());
    }
    let (body, base64) = match std::str::from_utf8(body) {
        Ok(text) => (text.to_owned(), false),
        Err(_) => (base64::engine::general_purpose::STANDARD.encode(body), true),
    };
    let params: serde_json::Map<String, Value> =
        query.iter().map(|(k, v)| (k.clone(), Value::from(v.as_str()))).collect();
    json!({
        "version": "2.0",
        "routeKey": if path.ends_with("/test") { "POST /api/v1/external/{integration}/test" } else { "POST /api/v1/external/{integration}" },
        "rawPath": path,
        "rawQueryString": serde_urlencoded::to_string(query).unwrap(),
        "headers": header_map,
        "queryStringParameters": params,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "http": {"method": "POST", "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9", "userAgent": "fixture"},
            "requestId": "fixture",
            "routeKey": "POST /api/v1/external/{integration}",
            "stage": "$default",
            "time": "01/Dec/2026:00:00:00 +0000",
            "timeEpoch": 1_795_910_399_000_u64
        },
        "body": body,
        "isBase64Encoded": base64
    })
    .to_string()
}

/// A case's event.
pub fn case_event(suite: &Suite, case: &Case, preview: bool) -> String {
    let mut headers: Vec<(String, String)> = vec![("content-type".into(), content_type(case).to_owned())];
    headers.extend(case.headers.iter().map(|(k, v)| (k.clone(), v.clone())));
    let path = format!("/api/v1/external/{}{}", suite.integration, if preview { "/test" } else { "" });
    gateway_event(&path, &query(case), &headers, &suite.body(case))
}

/// What a case expects to be sent.
pub fn expected_messages(case: &Case) -> Vec<Expected> {
    let mut expected = Vec::new();
    if case.topic.is_some() || case.content.is_some() {
        expected.push(Expected {
            topic: case.topic.clone().unwrap_or_default(),
            content: case.content.clone().unwrap_or_else(|| panic!("{}: a topic without content", case.name)),
        });
    }
    expected.extend(case.messages.iter().cloned());
    expected
}
