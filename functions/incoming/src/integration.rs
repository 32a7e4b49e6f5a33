//! What an integration is: a small, pure translation of a third party's event into a topic
//! and a message (or "ignore"). The framework around it (authentication, body parsing,
//! signatures, event filters, sending) is the same for every integration.

use futures::future::BoxFuture;
use serde_json::Value;

use crate::remote::Remote;

/// One incoming request, as an integration sees it.
#[derive(Debug, Clone, Copy)]
pub struct Payload<'a> {
    /// The value of the integration's event header, when it has one.
    pub event_type: Option<&'a str>,
    /// Every header, names lowercased.
    pub headers: &'a [(String, String)],
    /// The parsed body: the JSON document (from a JSON body or a `payload=` form field), or
    /// the form's fields as a JSON object of strings.
    pub body: &'a Value,
    /// The body exactly as received, for signature checks.
    pub raw: &'a [u8],
    /// The URL's parameters, for the integration's own options (Zulip's `url_options`, like
    /// `branches`), and `topic`: Zulip's integrations word some messages differently when the
    /// URL fixes the topic.
    pub params: &'a [(String, String)],
}

impl Payload<'_> {
    /// A header by (lowercase) name.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// A URL parameter by name; an empty value counts as absent, as in Zulip.
    #[must_use]
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(n, v)| n == name && !v.trim().is_empty()).map(|(_, v)| v.as_str())
    }

    /// The topic the URL fixes, if it does.
    #[must_use]
    pub fn url_topic(&self) -> Option<&str> {
        self.param("topic")
    }
}

/// What an event becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Message {
        topic: String,
        content: String,
    },
    /// Several messages, sent in order (Grafana sends one per alert).
    Messages(Vec<(String, String)>),
    /// A known event that produces no message (e.g. a GitHub `push` with no commits to show).
    Ignore,
    /// A message to the stream the event names, in place of the URL's (Slack's channels mapped
    /// to streams).
    ToStream {
        stream: String,
        topic: String,
        content: String,
    },
    /// A direct message to the bot's owner: a setup problem only they can fix.
    ToOwner(String),
    /// Fields the sender expects in the success answer (Slack's `challenge`), and what else
    /// comes of the event.
    Answer {
        fields: serde_json::Map<String, Value>,
        then: Box<Outcome>,
    },
}

impl Outcome {
    /// The outcome of sending `messages` in order: nothing, one message, or several.
    #[must_use]
    pub fn from_messages(mut messages: Vec<(String, String)>) -> Self {
        match messages.len() {
            0 => Self::Ignore,
            1 => {
                let (topic, content) = messages.remove(0);
                Self::Message { topic, content }
            }
            _ => Self::Messages(messages),
        }
    }
}

/// A handled event: its name for `only_events`/`exclude_events` (like `pull_request_opened`)
/// and what it became.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handled {
    pub event: String,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntegrationError {
    /// 400.
    #[error("Missing the HTTP event header '{0}'")]
    MissingEventHeader(&'static str),
    /// 200 with `UNSUPPORTED_WEBHOOK_EVENT_TYPE`, as Zulip answers.
    #[error("The '{event}' event isn't currently supported by the {integration} webhook; ignoring")]
    Unsupported { event: String, integration: &'static str },
    /// 400: the payload lacks something the event needs, or has it in the wrong type.
    #[error("Malformed payload: {0}")]
    Malformed(String),
    /// 400 with exactly this message (Zulip's wording for a request it refuses, like
    /// "Missing 'payload' argument").
    #[error("{0}")]
    BadRequest(String),
    /// 401: the request's signature is missing or wrong.
    #[error("{0}")]
    BadSignature(String),
}

/// A URL parameter an integration reads beside `stream` and `topic` (Zulip's
/// `config_options`, like GitHub's `branches`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UrlOption {
    pub name: &'static str,
    pub description: &'static str,
    pub kind: OptionKind,
}

/// What a URL option's value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionKind {
    /// Free text (`branches=main,release`).
    Text,
    /// `true` or `false`.
    Bool,
}

impl OptionKind {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "string",
            Self::Bool => "bool",
        }
    }
}

/// The `branches` option every git host shares: only pushes to these (comma-separated)
/// branches are shown.
pub const BRANCHES: UrlOption = UrlOption {
    name: "branches",
    description: "Only notify for these branches (comma-separated)",
    kind: OptionKind::Text,
};

/// How far from now a signed timestamp may be: five minutes, as Stripe's and Slack's own
/// libraries allow.
pub const SIGNATURE_TOLERANCE_SECONDS: i64 = 300;

/// Whether `integration` is served on a route of `method`: `HEAD` only where the sender checks
/// the URL with it.
#[must_use]
pub fn serves_method(integration: &dyn Integration, method: &str) -> bool {
    !method.eq_ignore_ascii_case("HEAD") || integration.checks_url_with_head()
}

pub trait Integration: Send + Sync {
    /// The URL name: `/api/v1/external/<name>`.
    fn name(&self) -> &'static str;
    /// The name people know, used in messages (`GitHub`).
    fn display_name(&self) -> &'static str;
    /// Zulip's categories for it (`version-control`, `monitoring`, ...).
    fn categories(&self) -> &'static [&'static str];
    /// The URL parameters it reads beside `stream` and `topic`.
    fn url_options(&self) -> &'static [UrlOption] {
        &[]
    }
    /// Every event name `handle` can produce (what `only_events` can select).
    fn event_types(&self) -> &'static [&'static str];
    /// The header that names the event, if the third party sends one (`X-GitHub-Event`).
    fn event_header(&self) -> Option<&'static str> {
        None
    }
    /// Turns a request into a message.
    fn handle(&self, payload: &Payload<'_>) -> Result<Handled, IntegrationError>;
    /// Turns a request into a message, calling the sender's API through `remote` where the
    /// integration needs to (Slack's user and channel names). The default is
    /// [`handle`](Self::handle); an integration that overrides this keeps `handle` as what it
    /// does without the sender's API.
    fn handle_remote<'a>(
        &'a self,
        payload: &'a Payload<'a>,
        _remote: &'a Remote,
    ) -> BoxFuture<'a, Result<Handled, IntegrationError>> {
        Box::pin(std::future::ready(self.handle(payload)))
    }
    /// Checks the request's signature against the bot's webhook secret. Integrations whose
    /// senders sign override this. The default refuses: a bot with a secret expects every
    /// request to prove it knows the secret, and an integration that cannot check one must not
    /// let its key through unsigned.
    fn verify(&self, _secret: &str, _payload: &Payload<'_>) -> Result<(), IntegrationError> {
        Err(IntegrationError::BadSignature(format!(
            "This bot has a webhook secret, and {} requests carry no signature to check it with",
            self.display_name()
        )))
    }
    /// Whether the sender checks the URL with a `HEAD` request before using it (Trello does,
    /// when a webhook is created): the URL then answers `HEAD` with 200.
    fn checks_url_with_head(&self) -> bool {
        false
    }
    /// Whether the URL's `stream` and `topic` are decoded once more (Jira escapes its webhook
    /// URLs twice, so `%20` would otherwise stay in a stream's name).
    fn unquotes_url_parameters(&self) -> bool {
        false
    }
    /// Whether it reads XML bodies (Pivotal Tracker's v3 activity): an XML body then reaches
    /// [`handle`](Self::handle) in [`Payload::raw`], with `body` null, where it would otherwise
    /// be refused as malformed JSON.
    fn reads_xml(&self) -> bool {
        false
    }
    /// When the request says it was signed, in seconds since the epoch, for senders that sign
    /// a timestamp with the body (Stripe, Slack): a signed request older or newer than
    /// [`SIGNATURE_TOLERANCE_SECONDS`] is refused, so a captured one cannot be replayed later.
    fn signed_at(&self, _payload: &Payload<'_>) -> Option<i64> {
        None
    }
    /// Fields the third party expects in the success body beside Zulip's (`{"ok": true}` for Slack).
    fn success_body(&self) -> Option<Value> {
        None
    }
    /// Fields the third party expects in an error body beside Zulip's, given the error's
    /// message (`{"ok": false, "error": msg}` for Slack).
    fn error_fields(&self, _msg: &str) -> Option<Value> {
        None
    }
    /// A sample request for `POST …/test` without a body: event type and JSON body.
    fn sample(&self) -> (Option<&'static str>, &'static str);
}

/// The string at `pointer` (a JSON pointer like `/repository/full_name`), or a Malformed error.
pub fn text<'v>(body: &'v Value, pointer: &str) -> Result<&'v str, IntegrationError> {
    body.pointer(pointer)
        .and_then(Value::as_str)
        .ok_or_else(|| IntegrationError::Malformed(format!("expected text at {pointer}")))
}

/// The number at `pointer`, or a Malformed error.
pub fn number(body: &Value, pointer: &str) -> Result<i64, IntegrationError> {
    body.pointer(pointer)
        .and_then(Value::as_i64)
        .ok_or_else(|| IntegrationError::Malformed(format!("expected a number at {pointer}")))
}

/// The array at `pointer` (missing means empty), or a Malformed error for another type.
pub fn list<'v>(body: &'v Value, pointer: &str) -> Result<&'v [Value], IntegrationError> {
    match body.pointer(pointer) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(IntegrationError::Malformed(format!("expected a list at {pointer}"))),
    }
}

/// Zulip's topic limit: 60 characters, the last three `...` when cut.
#[must_use]
pub fn fit_topic(topic: &str) -> String {
    hookline_messaging::limits::truncate_topic(topic)
}

/// Zulip's message limit, in characters.
pub const MAX_CONTENT_CHARS: usize = hookline_messaging::limits::MAX_CONTENT_CHARS;

/// Cuts a message to the length Zulip allows, the way Zulip does, ending with
/// `[message truncated]`.
#[must_use]
pub fn fit_content(content: String) -> String {
    if content.chars().count() <= MAX_CONTENT_CHARS {
        content
    } else {
        hookline_messaging::limits::truncate_content(&content)
    }
}

/// The string at `key`: `None` when missing or null, a Malformed error for another type.
pub fn optional_text<'v>(value: &'v Value, key: &str) -> Result<Option<&'v str>, IntegrationError> {
    match value.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(IntegrationError::Malformed(format!("expected text at {key}"))),
    }
}

/// Unix seconds as `YYYY-MM-DD HH:MM:SS` in UTC (how Zulip's integrations show a sender's
/// timestamps), or `None` outside the years 1 to 9999.
#[must_use]
pub fn utc_date_time(seconds: i64) -> Option<String> {
    // 0001-01-01T00:00:00 to 9999-12-31T23:59:59.
    if !(-62_135_596_800..=253_402_300_799).contains(&seconds) {
        return None;
    }
    let (days, second_of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = hookline_model::clock::civil_from_days(days);
    let (hour, minute, second) = (second_of_day / 3600, second_of_day % 3600 / 60, second_of_day % 60);
    Some(format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}"))
}

/// Whether a JSON value counts as given, as senders that leave fields empty mean it: not
/// null, `false`, zero, `""`, `[]` or `{}`.
#[must_use]
pub fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
    }
}
