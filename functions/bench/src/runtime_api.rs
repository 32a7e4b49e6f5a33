//! A minimal AWS Lambda Runtime API (the `2018-06-01` interface a function's runtime client
//! polls): it hands one event to the first `GET /runtime/invocation/next`, keeps every later
//! poll waiting as Lambda does between invocations, and records when the function first polled
//! and when and how it answered (`/invocation/{id}/response`, `/invocation/{id}/error` or
//! `/init/error`).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The one invocation the emulator hands out.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// `Lambda-Runtime-Aws-Request-Id`: the id the answer must be posted under.
    pub request_id: String,
    /// `Lambda-Runtime-Invoked-Function-Arn`.
    pub function_arn: String,
    /// How long the function has to answer, from the moment the event is handed out
    /// (`Lambda-Runtime-Deadline-Ms` is that moment plus this, in epoch milliseconds).
    pub timeout: Duration,
    /// The event, as JSON.
    pub event: String,
}

/// How the function answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `POST /runtime/invocation/{id}/response`.
    Response,
    /// `POST /runtime/invocation/{id}/error`, with its `Lambda-Runtime-Function-Error-Type`.
    Error(String),
    /// `POST /runtime/init/error`: the function failed before it could take the event.
    InitError(String),
}

/// The function's answer and when it arrived.
#[derive(Debug, Clone)]
pub struct Answer {
    pub at: Instant,
    pub outcome: Outcome,
    pub body: String,
}

/// What the handlers share.
struct Shared {
    invocation: Invocation,
    /// When the function first asked for an event.
    first_next: Mutex<Option<Instant>>,
    /// Whether the event has been handed out (it is handed out once).
    handed_out: Mutex<bool>,
    /// The first answer; later ones are ignored.
    answer: watch::Sender<Option<Answer>>,
    /// Set when the emulator stops, to release the polls kept waiting.
    closed: watch::Sender<bool>,
}

/// A running emulator on `127.0.0.1`; it stops when dropped.
pub struct RuntimeApi {
    address: SocketAddr,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

impl RuntimeApi {
    /// Starts the emulator on a free port, ready to hand out `invocation`.
    pub async fn start(invocation: Invocation) -> Result<Self, String> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("cannot listen for the Lambda Runtime API: {e}"))?;
        let address = listener.local_addr().map_err(|e| format!("Lambda Runtime API address: {e}"))?;
        let shared = Arc::new(Shared {
            invocation,
            first_next: Mutex::new(None),
            handed_out: Mutex::new(false),
            answer: watch::Sender::new(None),
            closed: watch::Sender::new(false),
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(invocation_error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("Lambda Runtime API emulator stopped: {e}");
            }
        });
        Ok(Self { address, shared, server })
    }

    /// What `AWS_LAMBDA_RUNTIME_API` is set to: `host:port`, without a scheme.
    #[must_use]
    pub fn address(&self) -> String {
        self.address.to_string()
    }

    /// When the function first asked for an event, if it has.
    #[must_use]
    pub fn first_next(&self) -> Option<Instant> {
        *lock(&self.shared.first_next)
    }

    /// Waits for the function's answer (returns at once if it has answered already).
    pub async fn answer(&self) -> Answer {
        let mut answers = self.shared.answer.subscribe();
        // The channel's sender lives in `shared`, which `self` holds: it cannot close.
        match answers.wait_for(Option::is_some).await.ok().and_then(|answer| answer.clone()) {
            Some(answer) => answer,
            None => std::future::pending().await,
        }
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.shared.closed.send_replace(true);
        self.server.abort();
    }
}

/// Locks `mutex`, also after a handler panicked while holding it (the values stay valid).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// `GET /runtime/invocation/next`: the event the first time, then a wait that lasts until the
/// emulator stops (Lambda freezes or ends a function that has no next event).
async fn next(State(shared): State<Arc<Shared>>) -> Response {
    let now = Instant::now();
    lock(&shared.first_next).get_or_insert(now);
    let first = !std::mem::replace(&mut *lock(&shared.handed_out), true);
    if first {
        return event_response(&shared.invocation);
    }
    let mut closed = shared.closed.subscribe();
    let _ = closed.wait_for(|closed| *closed).await;
    (StatusCode::GONE, "the emulator stopped").into_response()
}

/// The event with the headers Lambda sends with it.
fn event_response(invocation: &Invocation) -> Response {
    let deadline = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default() + invocation.timeout;
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    set("content-type", "application/json");
    set("lambda-runtime-aws-request-id", &invocation.request_id);
    set("lambda-runtime-deadline-ms", &deadline.as_millis().to_string());
    set("lambda-runtime-invoked-function-arn", &invocation.function_arn);
    set("lambda-runtime-trace-id", &trace_id(&invocation.request_id));
    (StatusCode::OK, headers, invocation.event.clone()).into_response()
}

/// An X-Ray trace header in Lambda's form (`Root=1-<time>-<24 hex>;Parent=<16 hex>;Sampled=0`),
/// its ids taken from the request id so that they are unique per invocation.
fn trace_id(request_id: &str) -> String {
    let hex: String =
        request_id.chars().filter(char::is_ascii_hexdigit).chain(std::iter::repeat('0')).take(40).collect();
    let seconds = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    format!("Root=1-{seconds:08x}-{};Parent={};Sampled=0", &hex[..24], &hex[24..])
}

/// `POST /runtime/invocation/{id}/response`.
async fn response(State(shared): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> Response {
    record(&shared, &id, Outcome::Response, &body)
}

/// `POST /runtime/invocation/{id}/error`.
async fn invocation_error(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    record(&shared, &id, Outcome::Error(error_type(&headers)), &body)
}

/// `POST /runtime/init/error`.
async fn init_error(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let id = shared.invocation.request_id.clone();
    record(&shared, &id, Outcome::InitError(error_type(&headers)), &body)
}

fn error_type(headers: &HeaderMap) -> String {
    headers
        .get("lambda-runtime-function-error-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("Unhandled")
        .to_owned()
}

/// Keeps the first answer to the invocation; an answer under another id is refused as Lambda
/// refuses it (400 `InvalidRequestID`).
fn record(shared: &Shared, id: &str, outcome: Outcome, body: &[u8]) -> Response {
    let at = Instant::now();
    if id != shared.invocation.request_id {
        return (StatusCode::BAD_REQUEST, r#"{"errorType":"InvalidRequestID"}"#).into_response();
    }
    let body = String::from_utf8_lossy(body).into_owned();
    shared.answer.send_if_modified(|answer| {
        if answer.is_some() {
            return false;
        }
        *answer = Some(Answer { at, outcome, body });
        true
    });
    (StatusCode::ACCEPTED, r#"{"status":"OK"}"#).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invocation() -> Invocation {
        Invocation {
            request_id: "8476a536-e9f4-11e8-9739-2dfe598c3fcd".into(),
            function_arn: "arn:aws:lambda:us-east-1:123456789012:function:test".into(),
            timeout: Duration::from_secs(30),
            event: r#"{"hello":"world"}"#.into(),
        }
    }

    #[tokio::test]
    async fn the_event_is_handed_out_once_and_the_answer_is_recorded() {
        let api = RuntimeApi::start(invocation()).await.unwrap();
        let base = format!("http://{}/2018-06-01/runtime", api.address());
        let client = reqwest::Client::new();
        assert!(api.first_next().is_none());

        let event = client.get(format!("{base}/invocation/next")).send().await.unwrap();
        assert_eq!(event.status(), 200);
        let header = |name: &str| event.headers()[name].to_str().unwrap().to_owned();
        assert_eq!(header("lambda-runtime-aws-request-id"), "8476a536-e9f4-11e8-9739-2dfe598c3fcd");
        assert_eq!(
            header("lambda-runtime-invoked-function-arn"),
            "arn:aws:lambda:us-east-1:123456789012:function:test"
        );
        assert!(header("lambda-runtime-trace-id").starts_with("Root=1-"));
        let deadline: u128 = header("lambda-runtime-deadline-ms").parse().unwrap();
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis();
        assert!(deadline > now + 20_000 && deadline <= now + 30_000, "deadline {deadline}, now {now}");
        assert_eq!(event.text().await.unwrap(), r#"{"hello":"world"}"#);
        let polled = api.first_next().unwrap();

        // A second poll waits: there is no other event.
        let second = client.get(format!("{base}/invocation/next")).send();
        assert!(tokio::time::timeout(Duration::from_millis(100), second).await.is_err());

        let wrong = client.post(format!("{base}/invocation/other/response")).body("{}").send().await.unwrap();
        assert_eq!(wrong.status(), 400);
        let right = client
            .post(format!("{base}/invocation/8476a536-e9f4-11e8-9739-2dfe598c3fcd/response"))
            .body(r#"{"ok":true}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(right.status(), 202);
        let answer = api.answer().await;
        assert_eq!(answer.outcome, Outcome::Response);
        assert_eq!(answer.body, r#"{"ok":true}"#);
        assert!(answer.at >= polled);
        assert_eq!(api.first_next(), Some(polled), "the first poll's instant is kept");
    }

    #[tokio::test]
    async fn errors_are_recorded_with_their_type() {
        let api = RuntimeApi::start(invocation()).await.unwrap();
        let client = reqwest::Client::new();
        client
            .post(format!("http://{}/2018-06-01/runtime/init/error", api.address()))
            .header("lambda-runtime-function-error-type", "Runtime.InitError")
            .body(r#"{"errorType":"x","errorMessage":"no table"}"#)
            .send()
            .await
            .unwrap();
        let answer = api.answer().await;
        assert_eq!(answer.outcome, Outcome::InitError("Runtime.InitError".into()));
        assert!(answer.body.contains("no table"));

        let api = RuntimeApi::start(invocation()).await.unwrap();
        client
            .post(format!(
                "http://{}/2018-06-01/runtime/invocation/8476a536-e9f4-11e8-9739-2dfe598c3fcd/error",
                api.address()
            ))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(api.answer().await.outcome, Outcome::Error("Unhandled".into()));
    }
}
