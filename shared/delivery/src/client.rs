//! The HTTP side of a delivery: one guarded client per process, and a POST that reports the
//! status, a bounded body, `Retry-After` and latency, or why no response came back.

use std::error::Error as _;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use url::Url;

use crate::payload::OutgoingBody;
use crate::ssrf::{AddressPolicy, GuardedResolver, SsrfError};

/// Sent with every request.
const USER_AGENT: &str = concat!("Hookline/", env!("CARGO_PKG_VERSION"));

/// The most of a response body that is read; the rest is left unread.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// How long a request may take.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// To open the connection (TCP and TLS).
    pub connect: Duration,
    /// For the whole exchange, reading the response body included.
    pub total: Duration,
}

impl Default for Timeouts {
    /// 5 s to connect, 10 s in all (Zulip's timeout).
    fn default() -> Self {
        Self { connect: Duration::from_secs(5), total: Duration::from_secs(10) }
    }
}

/// One reqwest client for the process: rustls, no proxy from the environment, no redirects, the
/// guarded resolver (the system resolver, filtered by `policy`), connect and total timeouts, and
/// `User-Agent: Hookline/<version>`.
///
/// # Panics
/// If the TLS backend cannot be initialised, which leaves the process unable to deliver at all.
#[must_use]
pub fn http_client(policy: AddressPolicy, timeouts: Timeouts) -> reqwest::Client {
    http_client_with_resolver(GuardedResolver::new(policy), timeouts)
}

/// The client [`http_client`] builds, with `resolver` in place of the one it makes: for tests
/// that give the resolver a scripted [`Lookup`](crate::ssrf::Lookup).
///
/// # Panics
/// If the TLS backend cannot be initialised.
#[doc(hidden)]
#[must_use]
pub fn http_client_with_resolver(resolver: GuardedResolver, timeouts: Timeouts) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(resolver)
        .connect_timeout(timeouts.connect)
        .timeout(timeouts.total)
        .user_agent(USER_AGENT)
        .build()
        .expect("the HTTP client's TLS backend initialises")
}

/// What the endpoint answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpOutcome {
    pub status: u16,
    /// At most [`MAX_RESPONSE_BYTES`] of the body.
    pub body: Vec<u8>,
    /// The `Retry-After` header, in seconds or as an HTTP date, as a wait from now.
    pub retry_after: Option<Duration>,
    /// From sending the request to the end of the body read.
    pub latency: Duration,
}

/// Why no response came back. The text of each is what the delivery log records: Zulip's words
/// with the cause beside them.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TransportError {
    /// No complete response within the timeout (in whole seconds, rounded up).
    #[error("Request timed out after {0} seconds.")]
    Timeout(u64),
    /// The connection failed or broke, or the answer could not be read; the cause says which
    /// ("the connection was refused: …", "the answer's headers are too large: …").
    #[error("A connection error occurred. Is my bot server down? ({0})")]
    Connection(String),
    /// The request was not sent: the endpoint is not one Hookline may reach. The reason names
    /// the address and the rule; it is for the delivery log only.
    #[error("{0}")]
    Blocked(String),
}

/// POSTs `body` to `url` with `headers` (name, value pairs).
///
/// A URL that is not http(s), or whose IP literal the policy refuses, is
/// [`TransportError::Blocked`] before anything is sent, and so is a name the guarded resolver
/// finds no allowed address for. Timeouts are [`TransportError::Timeout`]; other failures to
/// connect or to read the response are [`TransportError::Connection`]. Any status is an
/// [`HttpOutcome`]: redirects are not followed.
///
/// # Errors
/// [`TransportError`] when no response came back.
pub async fn post(
    client: &reqwest::Client,
    policy: &AddressPolicy,
    url: &str,
    body: &OutgoingBody,
    headers: &[(String, String)],
    timeouts: Timeouts,
) -> Result<HttpOutcome, TransportError> {
    let url = Url::parse(url).map_err(|e| TransportError::Blocked(format!("the endpoint URL is not valid: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(TransportError::Blocked(format!("the endpoint URL must be http or https, not {}", url.scheme())));
    }
    policy.check_url(&url).map_err(|refusal| TransportError::Blocked(refusal.to_string()))?;

    let mut request =
        client.post(url).header(CONTENT_TYPE, body.content_type).body(body.bytes.clone()).timeout(timeouts.total);
    for (name, value) in headers {
        request = request.header(name.as_str(), value.as_str());
    }

    let started = Instant::now();
    let mut response = request.send().await.map_err(|e| transport_error(&e, timeouts))?;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| parse_retry_after(value, SystemTime::now()));
    let success = response.status().is_success();
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| transport_error(&e, timeouts))? {
        let room = MAX_RESPONSE_BYTES - bytes.len();
        if success && chunk.len() > room {
            // An answer is read whole or not at all; the body of a failure is only quoted.
            return Err(TransportError::Connection(format!(
                "the answer is larger than {} KiB",
                MAX_RESPONSE_BYTES / 1024
            )));
        }
        bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if !success && bytes.len() == MAX_RESPONSE_BYTES {
            break;
        }
    }
    Ok(HttpOutcome { status, body: bytes, retry_after, latency: started.elapsed() })
}

fn transport_error(error: &reqwest::Error, timeouts: Timeouts) -> TransportError {
    let mut source = error.source();
    while let Some(cause) = source {
        if let Some(refusal) = cause.downcast_ref::<SsrfError>() {
            return TransportError::Blocked(refusal.to_string());
        }
        source = cause.source();
    }
    if error.is_timeout() {
        let limit = if error.is_connect() { timeouts.connect } else { timeouts.total };
        return TransportError::Timeout(whole_seconds(limit));
    }
    let chain = describe(error);
    match cause(error) {
        Some(cause) => TransportError::Connection(format!("{cause}: {chain}")),
        None => TransportError::Connection(chain),
    }
}

/// What went wrong, in a few words, from the first cause in the error's chain that tells.
fn cause(error: &reqwest::Error) -> Option<&'static str> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if let Some(hyper) = current.downcast_ref::<hyper::Error>() {
            if hyper.is_parse_too_large() {
                return Some("the answer's headers are too large");
            }
            if hyper.is_parse() || hyper.is_parse_status() {
                return Some("the answer is not valid HTTP");
            }
            if hyper.is_incomplete_message() {
                return Some("the connection closed before the answer was complete");
            }
        }
        if current.downcast_ref::<rustls::Error>().is_some() {
            return Some("the TLS handshake failed");
        }
        if let Some(io) = current.downcast_ref::<std::io::Error>()
            && let Some(cause) = io_cause(io)
        {
            return Some(cause);
        }
        source = current.source();
    }
    None
}

/// What an I/O error says, looking through the I/O errors it wraps (TLS errors come as an
/// `InvalidData` error inside an `Other` one).
fn io_cause(io: &std::io::Error) -> Option<&'static str> {
    use std::io::ErrorKind;
    let inner = io.get_ref();
    if inner.is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some()) {
        return Some("the TLS handshake failed");
    }
    match io.kind() {
        ErrorKind::ConnectionRefused => Some("the connection was refused"),
        ErrorKind::ConnectionReset => Some("the connection was reset"),
        ErrorKind::ConnectionAborted => Some("the connection was aborted"),
        ErrorKind::UnexpectedEof => Some("the connection closed before the answer was complete"),
        _ => inner.and_then(|inner| inner.downcast_ref::<std::io::Error>()).and_then(io_cause),
    }
}

/// `limit` in seconds, rounded up so that a sub-second limit does not read as zero.
fn whole_seconds(limit: Duration) -> u64 {
    limit.as_secs() + u64::from(limit.subsec_nanos() > 0)
}

/// The error with its chain of causes, for the delivery log.
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A `Retry-After` value as a wait from `now`: delay-seconds, or an HTTP date
/// (`Sun, 06 Nov 1994 08:49:37 GMT`), a past date meaning no wait.
fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = UNIX_EPOCH + Duration::from_secs(u64::try_from(parse_http_date(value)?).ok()?);
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Seconds since the Unix epoch of an IMF-fixdate, the HTTP date format senders must use.
fn parse_http_date(value: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let [weekday, day, month, year, time, zone] = value.split_ascii_whitespace().collect::<Vec<_>>()[..] else {
        return None;
    };
    if !weekday.ends_with(',') || zone != "GMT" {
        return None;
    }
    let day: i64 = day.parse().ok().filter(|d| (1..=31).contains(d))?;
    let month = MONTHS.iter().position(|m| *m == month)?;
    let year: i64 = year.parse().ok().filter(|_| year.len() == 4)?;
    let [hour, minute, second] = time.split(':').collect::<Vec<_>>()[..] else { return None };
    let hour: i64 = hour.parse().ok().filter(|h| (0..24).contains(h))?;
    let minute: i64 = minute.parse().ok().filter(|m| (0..60).contains(m))?;
    let second: i64 = second.parse().ok().filter(|s| (0..=60).contains(s))?;
    let days = days_from_civil(year, i64::try_from(month).ok()? + 1, day);
    Some(days * 86_400 + hour * 3_600 + minute * 60 + second)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use axum::Router;
    use axum::body::Bytes;
    use axum::http::{HeaderMap, StatusCode, header};
    use axum::response::IntoResponse;
    use axum::routing::post as route_post;

    use super::*;

    fn open_policy() -> AddressPolicy {
        AddressPolicy { allow_all_private: true, allowed: vec![] }
    }

    fn json_body(text: &str) -> OutgoingBody {
        OutgoingBody { content_type: "application/json", bytes: text.as_bytes().to_vec() }
    }

    async fn echo(headers: HeaderMap, body: Bytes) -> String {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        format!(
            "{}|{}|{}|{}",
            header("content-type"),
            header("webhook-id"),
            header("user-agent"),
            String::from_utf8_lossy(&body)
        )
    }

    async fn big() -> Vec<u8> {
        vec![b'x'; 2 * MAX_RESPONSE_BYTES + 17]
    }

    async fn big_failure() -> impl IntoResponse {
        (StatusCode::INTERNAL_SERVER_ERROR, vec![b'x'; 2 * MAX_RESPONSE_BYTES + 17])
    }

    async fn just_fits() -> Vec<u8> {
        vec![b'x'; MAX_RESPONSE_BYTES]
    }

    async fn moved() -> impl IntoResponse {
        (StatusCode::FOUND, [(header::LOCATION, "/echo")], "moved")
    }

    async fn busy() -> impl IntoResponse {
        (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, "120")], "busy")
    }

    async fn slow() -> &'static str {
        tokio::time::sleep(Duration::from_secs(3)).await;
        "late"
    }

    /// A bot server on a free loopback port.
    async fn serve() -> SocketAddr {
        let app = Router::new()
            .route("/echo", route_post(echo))
            .route("/big", route_post(big))
            .route("/big-failure", route_post(big_failure))
            .route("/just-fits", route_post(just_fits))
            .route("/moved", route_post(moved))
            .route("/busy", route_post(busy))
            .route("/slow", route_post(slow));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        addr
    }

    /// A hostile server on a free loopback port: each connection is handed to `answer`, which
    /// may read the request or not and write anything.
    async fn raw_server<F, Fut>(answer: F) -> SocketAddr
    where
        F: Fn(tokio::net::TcpStream) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(answer(stream));
            }
        });
        addr
    }

    /// Reads a request's head and its `Content-Length` body.
    async fn read_request(stream: &mut tokio::net::TcpStream) {
        use tokio::io::AsyncReadExt as _;
        let mut seen = Vec::new();
        let mut buf = [0_u8; 4096];
        let head_end = loop {
            let n = stream.read(&mut buf).await.unwrap_or(0);
            if n == 0 {
                return;
            }
            seen.extend_from_slice(&buf[..n]);
            if let Some(at) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
        };
        let head = String::from_utf8_lossy(&seen[..head_end]).to_lowercase();
        let length: usize = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        let mut body = seen.len() - head_end;
        while body < length {
            let n = stream.read(&mut buf).await.unwrap_or(0);
            if n == 0 {
                return;
            }
            body += n;
        }
    }

    /// Answers every request with `bytes`, then closes the connection.
    async fn answering(bytes: Vec<u8>) -> SocketAddr {
        let bytes = std::sync::Arc::new(bytes);
        raw_server(move |mut stream| {
            let bytes = bytes.clone();
            async move {
                use tokio::io::AsyncWriteExt as _;
                read_request(&mut stream).await;
                let _ = stream.write_all(&bytes).await;
                let _ = stream.shutdown().await;
            }
        })
        .await
    }

    fn connection_cause(result: Result<HttpOutcome, TransportError>) -> String {
        match result {
            Err(TransportError::Connection(cause)) => cause,
            other => panic!("expected a connection error, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_reset_connection_is_a_connection_error_that_says_so() {
        let addr = raw_server(|mut stream| async move {
            use tokio::io::AsyncReadExt as _;
            // Closing with the request unread makes the kernel answer with a reset.
            let _ = stream.read(&mut [0_u8; 1]).await;
            tokio::time::sleep(Duration::from_millis(50)).await;
            drop(stream);
        })
        .await;
        let cause = connection_cause(post_to(open_policy(), &format!("http://{addr}/"), Timeouts::default()).await);
        assert!(
            cause.starts_with("the connection was reset") || cause.starts_with("the connection closed before"),
            "{cause}"
        );
    }

    #[tokio::test]
    async fn a_malformed_answer_is_a_connection_error_that_says_so() {
        for garbage in [&b"HTTP/1.1 abc\r\n\r\n"[..], b"SSH-2.0-OpenSSH_9.6\r\n\r\n", b"\x00\xff\xfe\r\n\r\n"] {
            let addr = answering(garbage.to_vec()).await;
            let cause = connection_cause(post_to(open_policy(), &format!("http://{addr}/"), Timeouts::default()).await);
            assert!(cause.starts_with("the answer is not valid HTTP: "), "{cause}");
        }
    }

    #[tokio::test]
    async fn huge_headers_are_a_connection_error_that_says_so() {
        let mut answer = b"HTTP/1.1 200 OK\r\nX-Padding: ".to_vec();
        answer.extend(std::iter::repeat_n(b'a', 1024 * 1024));
        answer.extend_from_slice(b"\r\nContent-Length: 2\r\n\r\n{}");
        let addr = answering(answer).await;
        let cause = connection_cause(post_to(open_policy(), &format!("http://{addr}/"), Timeouts::default()).await);
        assert!(cause.starts_with("the answer's headers are too large: "), "{cause}");
    }

    #[tokio::test]
    async fn a_content_length_that_overstates_the_body_is_a_connection_error() {
        let addr = answering(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{}".to_vec()).await;
        let cause = connection_cause(post_to(open_policy(), &format!("http://{addr}/"), Timeouts::default()).await);
        assert!(cause.starts_with("the connection closed before the answer was complete: "), "{cause}");
    }

    #[tokio::test]
    async fn a_content_length_that_understates_the_body_reads_only_what_it_says() {
        let addr = answering(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}{\"content\": \"extra\"}".to_vec()).await;
        let outcome = post_to(open_policy(), &format!("http://{addr}/"), Timeouts::default()).await.unwrap();
        assert_eq!((outcome.status, outcome.body.as_slice()), (200, &b"{}"[..]));
    }

    #[tokio::test]
    async fn a_hundred_megabyte_answer_is_refused_after_the_first_mebibyte() {
        let addr = raw_server(|mut stream| async move {
            use tokio::io::AsyncWriteExt as _;
            read_request(&mut stream).await;
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 104857600\r\n\r\n").await;
            let chunk = vec![b' '; 64 * 1024];
            for _ in 0..1600 {
                if stream.write_all(&chunk).await.is_err() {
                    return;
                }
            }
        })
        .await;
        let error = post_to(open_policy(), &format!("http://{addr}/"), Timeouts::default()).await.unwrap_err();
        assert_eq!(error, TransportError::Connection("the answer is larger than 1024 KiB".into()));
    }

    #[tokio::test]
    async fn held_and_trickling_connections_end_at_the_total_timeout() {
        let held = raw_server(|mut stream| async move {
            read_request(&mut stream).await;
            tokio::time::sleep(Duration::from_secs(30)).await;
        })
        .await;
        let trickle = raw_server(|mut stream| async move {
            use tokio::io::AsyncWriteExt as _;
            read_request(&mut stream).await;
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n").await;
            for _ in 0..1000 {
                if stream.write_all(b" ").await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await;
        let trickled_head = raw_server(|mut stream| async move {
            use tokio::io::AsyncWriteExt as _;
            read_request(&mut stream).await;
            for byte in b"HTTP/1.1 200 OK\r\n".iter().cycle().take(1000) {
                if stream.write_all(&[*byte]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await;
        let timeouts = Timeouts { connect: Duration::from_secs(1), total: Duration::from_millis(600) };
        for addr in [held, trickle, trickled_head] {
            let started = Instant::now();
            let error = post_to(open_policy(), &format!("http://{addr}/"), timeouts).await.unwrap_err();
            assert_eq!(error, TransportError::Timeout(1), "{addr}");
            assert!(started.elapsed() < Duration::from_secs(3), "{addr}: {:?}", started.elapsed());
        }
    }

    #[tokio::test]
    async fn a_tls_failure_is_a_connection_error_that_says_so() {
        // A plain HTTP server that answers before the client's TLS hello is even read.
        let addr = raw_server(|mut stream| async move {
            use tokio::io::AsyncWriteExt as _;
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n").await;
            tokio::time::sleep(Duration::from_millis(200)).await;
        })
        .await;
        let cause = connection_cause(post_to(open_policy(), &format!("https://{addr}/"), Timeouts::default()).await);
        assert!(cause.starts_with("the TLS handshake failed: "), "{cause}");
    }

    #[tokio::test]
    async fn an_answer_that_is_not_utf8_is_returned_as_it_is() {
        let addr = answering(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n\"\xff\xfe\"".to_vec()).await;
        let outcome = post_to(open_policy(), &format!("http://{addr}/"), Timeouts::default()).await.unwrap();
        assert_eq!(outcome.body, b"\"\xff\xfe\"");
    }

    async fn post_to(policy: AddressPolicy, url: &str, timeouts: Timeouts) -> Result<HttpOutcome, TransportError> {
        let client = http_client(policy.clone(), timeouts);
        post(&client, &policy, url, &json_body(r#"{"data": "hi"}"#), &[], timeouts).await
    }

    #[tokio::test]
    async fn a_success_returns_status_body_and_latency() {
        let addr = serve().await;
        let policy = open_policy();
        let client = http_client(policy.clone(), Timeouts::default());
        let headers = [("webhook-id".to_owned(), "msg_1_2_3".to_owned())];
        let url = format!("http://{addr}/echo");
        let outcome =
            post(&client, &policy, &url, &json_body(r#"{"data": "hi"}"#), &headers, Timeouts::default()).await.unwrap();
        assert_eq!(outcome.status, 200);
        let expected = format!(r#"application/json|msg_1_2_3|Hookline/{}|{{"data": "hi"}}"#, env!("CARGO_PKG_VERSION"));
        assert_eq!(String::from_utf8(outcome.body).unwrap(), expected);
        assert_eq!(outcome.retry_after, None);
        assert!(outcome.latency < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn an_answer_over_the_limit_is_a_connection_error() {
        let addr = serve().await;
        let error = post_to(open_policy(), &format!("http://{addr}/big"), Timeouts::default()).await.unwrap_err();
        assert_eq!(error, TransportError::Connection("the answer is larger than 1024 KiB".into()));
        let outcome = post_to(open_policy(), &format!("http://{addr}/just-fits"), Timeouts::default()).await.unwrap();
        assert_eq!((outcome.status, outcome.body.len()), (200, MAX_RESPONSE_BYTES));
    }

    #[tokio::test]
    async fn the_large_body_of_a_failure_is_cut_at_the_limit() {
        let addr = serve().await;
        let outcome = post_to(open_policy(), &format!("http://{addr}/big-failure"), Timeouts::default()).await.unwrap();
        assert_eq!(outcome.status, 500);
        assert_eq!(outcome.body.len(), MAX_RESPONSE_BYTES);
    }

    #[tokio::test]
    async fn a_redirect_is_returned_not_followed() {
        let addr = serve().await;
        let outcome = post_to(open_policy(), &format!("http://{addr}/moved"), Timeouts::default()).await.unwrap();
        assert_eq!(outcome.status, 302);
        assert_eq!(outcome.body, b"moved");
    }

    #[tokio::test]
    async fn retry_after_is_read_from_the_response() {
        let addr = serve().await;
        let outcome = post_to(open_policy(), &format!("http://{addr}/busy"), Timeouts::default()).await.unwrap();
        assert_eq!(outcome.status, 503);
        assert_eq!(outcome.retry_after, Some(Duration::from_secs(120)));
    }

    #[tokio::test]
    async fn a_slow_endpoint_times_out() {
        let addr = serve().await;
        let timeouts = Timeouts { connect: Duration::from_secs(1), total: Duration::from_millis(300) };
        let started = Instant::now();
        let error = post_to(open_policy(), &format!("http://{addr}/slow"), timeouts).await.unwrap_err();
        assert_eq!(error, TransportError::Timeout(1));
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(error.to_string(), "Request timed out after 1 seconds.");
    }

    #[tokio::test]
    async fn a_closed_port_is_a_connection_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let error = post_to(open_policy(), &format!("http://{addr}/"), Timeouts::default()).await.unwrap_err();
        let TransportError::Connection(cause) = &error else { panic!("{error:?}") };
        assert!(cause.starts_with("the connection was refused: "), "{cause}");
        assert!(
            error
                .to_string()
                .starts_with("A connection error occurred. Is my bot server down? (the connection was refused"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn a_private_ip_literal_is_blocked_before_sending() {
        let addr = serve().await;
        let error = post_to(AddressPolicy::default(), &format!("http://{addr}/echo"), Timeouts::default()).await;
        assert_eq!(error, Err(TransportError::Blocked(SsrfError::Refused(addr.ip()).to_string())));
    }

    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_blocked_by_the_resolver() {
        let addr = serve().await;
        let url = format!("http://localhost:{}/echo", addr.port());
        let error = post_to(AddressPolicy::default(), &url, Timeouts::default()).await;
        let refusal = SsrfError::NoAllowedAddress("localhost".to_owned());
        assert_eq!(error, Err(TransportError::Blocked(refusal.to_string())));
    }

    #[tokio::test]
    async fn urls_that_are_not_http_are_blocked() {
        for url in ["ftp://example.com/", "not a url"] {
            let error = post_to(open_policy(), url, Timeouts::default()).await.unwrap_err();
            assert!(matches!(error, TransportError::Blocked(_)), "{url}: {error:?}");
        }
    }

    /// A server on a free loopback port that answers `200 {}` and counts the connections it
    /// accepts.
    async fn counting_server() -> (SocketAddr, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let accepted = std::sync::Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        let addr = raw_server(move |mut stream| {
            counter.fetch_add(1, Ordering::SeqCst);
            async move {
                use tokio::io::AsyncWriteExt as _;
                read_request(&mut stream).await;
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}").await;
                let _ = stream.shutdown().await;
            }
        })
        .await;
        (addr, accepted)
    }

    /// Posts twice to `rebind.example` on the server's port through the real client, whose
    /// resolver asks a lookup that answers 127.0.0.2 (where nothing listens: the server is bound
    /// to 127.0.0.1 only) and then 127.0.0.1, the address of the server. Returns both results,
    /// how many connections the server accepted and how many lookups were made.
    async fn post_to_a_rebinding_name(
        policy: AddressPolicy,
    ) -> (Result<HttpOutcome, TransportError>, Result<HttpOutcome, TransportError>, usize, usize) {
        use std::sync::atomic::Ordering;
        let (addr, accepted) = counting_server().await;
        let lookup = crate::ssrf::ScriptedLookup::new(&[&["127.0.0.2"], &["127.0.0.1"]]);
        let timeouts = Timeouts { connect: Duration::from_secs(2), total: Duration::from_secs(5) };
        let client = http_client_with_resolver(GuardedResolver::with_lookup(policy.clone(), lookup.clone()), timeouts);
        let url = format!("http://rebind.example:{}/", addr.port());
        let body = json_body(r#"{"data": "hi"}"#);
        let first = post(&client, &policy, &url, &body, &[], timeouts).await;
        let second = post(&client, &policy, &url, &body, &[], timeouts).await;
        (first, second, accepted.load(Ordering::SeqCst), lookup.calls())
    }

    #[tokio::test]
    async fn a_name_that_rebinds_to_loopback_is_blocked_and_nothing_reaches_the_server() {
        let policy = AddressPolicy::with_allow_list("127.0.0.2/32").unwrap();
        let (first, second, accepted, lookups) = post_to_a_rebinding_name(policy).await;
        // The opened address has no server behind it: the first request reaches nothing.
        let cause = connection_cause(first);
        assert!(cause.starts_with("the connection was refused: "), "{cause}");
        // The second connection resolves again, to loopback, and the guard refuses it.
        let refusal = SsrfError::NoAllowedAddress("rebind.example".to_owned());
        assert_eq!(second, Err(TransportError::Blocked(refusal.to_string())));
        assert_eq!(lookups, 2, "every connection resolves the name again");
        assert_eq!(accepted, 0, "the server on 127.0.0.1 was never connected to");
    }

    #[tokio::test]
    async fn the_rebinding_name_reaches_the_server_when_the_policy_opens_loopback() {
        // The same scripted lookup with 127.0.0.1 opened: the second request does arrive, so the
        // test above is refused by the policy and not by a lookup that was never used.
        let policy = AddressPolicy::with_allow_list("127.0.0.1/32,127.0.0.2/32").unwrap();
        let (first, second, accepted, lookups) = post_to_a_rebinding_name(policy).await;
        let cause = connection_cause(first);
        assert!(cause.starts_with("the connection was refused: "), "{cause}");
        let outcome = second.expect("the second request reaches the server");
        assert_eq!((outcome.status, outcome.body.as_slice()), (200, &b"{}"[..]));
        assert_eq!((lookups, accepted), (2, 1));
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:51:37 GMT", now), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("Sat, 05 Nov 1994 08:49:37 GMT", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Wed, 01 Mar 2000 00:00:00 GMT", now),
            Some(Duration::from_secs(951_868_800 - 784_111_777))
        );
    }

    #[test]
    fn retry_after_ignores_what_it_cannot_read() {
        let now = UNIX_EPOCH;
        for bad in [
            "",
            "-5",
            "1.5",
            "soon",
            "Sun, 06 Nov 1994 08:49:37 PST",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
        ] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
        }
    }

    #[test]
    fn timeouts_default_to_five_and_ten_seconds() {
        let timeouts = Timeouts::default();
        assert_eq!((timeouts.connect, timeouts.total), (Duration::from_secs(5), Duration::from_secs(10)));
        assert_eq!(whole_seconds(timeouts.total), 10);
        assert_eq!(whole_seconds(Duration::from_millis(300)), 1);
    }
}
