//! A fault-injecting HTTP proxy for the AWS stand-ins (DynamoDB Local, moto): each request is
//! forwarded to the upstream, or, with the probability set by [`FaultProxy::set_rate`], met
//! with one of its faults instead: DynamoDB's throttling errors, a 500, or a dropped
//! connection, either before forwarding or after it (the write happened, the client saw none
//! of it). [`FaultProxy::start_matching`] limits the faults to requests whose body contains a
//! given text (a key prefix, say); the others are always forwarded.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rand::Rng as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    /// 400 `ProvisionedThroughputExceededException`, as DynamoDB throttles a table.
    ProvisionedThroughputExceeded,
    /// 400 `ThrottlingException`, as DynamoDB throttles control-plane and account-level calls.
    Throttling,
    /// 500 `InternalServerError`.
    ServerError,
    /// The connection is closed without forwarding the request.
    DropBeforeForwarding,
    /// The request is forwarded and answered upstream, then the connection is closed.
    DropAfterForwarding,
}

impl Fault {
    pub const ALL: [Self; 5] = [
        Self::ProvisionedThroughputExceeded,
        Self::Throttling,
        Self::ServerError,
        Self::DropBeforeForwarding,
        Self::DropAfterForwarding,
    ];
}

struct State {
    upstream: String,
    http: reqwest::Client,
    faults: Vec<Fault>,
    /// Only requests whose body contains this may meet a fault; `None` for every request.
    only_matching: Option<Vec<u8>>,
    /// Chance of a fault per request, in thousandths.
    per_mille: AtomicU32,
    /// Requests that could meet a fault (all of them without `only_matching`).
    eligible: AtomicU64,
    forwarded: AtomicU64,
    injected: Mutex<BTreeMap<Fault, u64>>,
}

pub struct FaultProxy {
    pub url: String,
    state: Arc<State>,
}

impl FaultProxy {
    /// Listens on a free loopback port, forwarding to `upstream` with no faults yet.
    pub async fn start(upstream: &str, faults: &[Fault]) -> Self {
        Self::launch(upstream, faults, None).await
    }

    /// As [`Self::start`], but only requests whose body contains `needle` may meet a fault
    /// (with DynamoDB's JSON protocol the body names the table, the keys and the values).
    pub async fn start_matching(upstream: &str, faults: &[Fault], needle: &str) -> Self {
        assert!(!needle.is_empty(), "an empty needle matches every request: use start");
        Self::launch(upstream, faults, Some(needle.as_bytes().to_vec())).await
    }

    async fn launch(upstream: &str, faults: &[Fault], only_matching: Option<Vec<u8>>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let state = Arc::new(State {
            upstream: upstream.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
            faults: faults.to_vec(),
            only_matching,
            per_mille: AtomicU32::new(0),
            eligible: AtomicU64::new(0),
            forwarded: AtomicU64::new(0),
            injected: Mutex::default(),
        });
        let serving = state.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let state = serving.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| handle(state.clone(), request));
                    // A dropped connection ends here with an error, as intended.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { url, state }
    }

    /// From now on each request meets a fault with probability `per_mille` / 1000.
    pub fn set_rate(&self, per_mille: u32) {
        self.state.per_mille.store(per_mille, Ordering::SeqCst);
    }

    /// How many requests reached the upstream (those dropped after forwarding included).
    pub fn forwarded(&self) -> u64 {
        self.state.forwarded.load(Ordering::SeqCst)
    }

    /// How many requests could meet a fault: those whose body matched, for
    /// [`Self::start_matching`]; every request otherwise.
    pub fn eligible(&self) -> u64 {
        self.state.eligible.load(Ordering::SeqCst)
    }

    /// How many times each fault was injected.
    pub fn injected(&self) -> BTreeMap<Fault, u64> {
        self.state.injected.lock().unwrap().clone()
    }
}

/// The connection is to be closed without an answer.
#[derive(Debug)]
struct Drop;

impl std::fmt::Display for Drop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped on purpose")
    }
}

impl std::error::Error for Drop {}

async fn handle(state: Arc<State>, request: Request<Incoming>) -> Result<Response<Body>, Drop> {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(Body::new(body), usize::MAX).await.unwrap_or_default();
    let eligible = state.only_matching.as_ref().is_none_or(|needle| body.windows(needle.len()).any(|w| w == needle));
    state.eligible.fetch_add(u64::from(eligible), Ordering::SeqCst);
    let fault = {
        let mut rng = rand::rng();
        let hit = eligible && rng.random_range(0..1000) < state.per_mille.load(Ordering::SeqCst);
        (hit && !state.faults.is_empty()).then(|| state.faults[rng.random_range(0..state.faults.len())])
    };
    if let Some(fault) = fault {
        *state.injected.lock().unwrap().entry(fault).or_default() += 1;
    }
    match fault {
        Some(Fault::ProvisionedThroughputExceeded) => Ok(dynamodb_error(
            StatusCode::BAD_REQUEST,
            "ProvisionedThroughputExceededException",
            "The level of configured provisioned throughput for the table was exceeded.",
        )),
        Some(Fault::Throttling) => Ok(dynamodb_error(
            StatusCode::BAD_REQUEST,
            "ThrottlingException",
            "Rate of requests exceeds the allowed throughput.",
        )),
        Some(Fault::ServerError) => {
            Ok(dynamodb_error(StatusCode::INTERNAL_SERVER_ERROR, "InternalServerError", "Internal server error"))
        }
        Some(Fault::DropBeforeForwarding) => Err(Drop),
        Some(Fault::DropAfterForwarding) => {
            let _ = forward(&state, parts, body).await;
            Err(Drop)
        }
        None => Ok(forward(&state, parts, body).await.unwrap_or_else(|e| {
            dynamodb_error(StatusCode::BAD_GATEWAY, "InternalServerError", &format!("upstream unreachable: {e}"))
        })),
    }
}

/// DynamoDB's JSON error shape (the SDK reads the code after `#`).
fn dynamodb_error(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    let body = serde_json::json!({
        "__type": format!("com.amazonaws.dynamodb.v20120810#{code}"),
        "message": message,
    });
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-amz-json-1.0"));
    response
}

async fn forward(
    state: &State,
    parts: axum::http::request::Parts,
    body: axum::body::Bytes,
) -> Result<Response<Body>, reqwest::Error> {
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut outgoing = state.http.request(parts.method, format!("{}{path}", state.upstream)).body(body);
    for (name, value) in &parts.headers {
        if !hop_by_hop(name) {
            outgoing = outgoing.header(name, value);
        }
    }
    let answer = outgoing.send().await?;
    state.forwarded.fetch_add(1, Ordering::SeqCst);
    let status = answer.status();
    let headers = answer.headers().clone();
    let bytes = answer.bytes().await?;
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    for (name, value) in &headers {
        if !hop_by_hop(name) {
            response.headers_mut().append(name, value.clone());
        }
    }
    Ok(response)
}

fn hop_by_hop(name: &header::HeaderName) -> bool {
    [header::HOST, header::CONTENT_LENGTH, header::CONNECTION, header::TRANSFER_ENCODING].contains(name)
}
