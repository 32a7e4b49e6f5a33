//! The bots' endpoint: records every POST the worker makes, with the time from the send to its
//! arrival. Each benchmark message carries its number and the moment it was sent
//! (`#<n> t=<µs>`, microseconds on this process's clock), so the receiver needs no shared
//! table with the senders and the latency is measured on one clock.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::routing::post;
use serde_json::{Value, json};

/// How a bot answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// `{"response_not_required": true}` at once.
    Quiet,
    /// A short reply at once, which the worker posts back as the bot.
    Reply,
    /// No reply, after this long.
    After(Duration),
}

/// One POST the bot was sent.
#[derive(Debug, Clone, Copy)]
pub struct Arrival {
    pub number: u64,
    /// Send → POST, in milliseconds.
    pub latency_ms: f64,
    /// When the POST arrived, and when its answer was sent.
    pub at: Instant,
    pub answered: Instant,
}

/// The clock messages are stamped with: time since this process first asked.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// The stamp of a message sent now, numbered `number`.
#[must_use]
pub fn stamp(number: u64) -> String {
    format!("#{number} t={}", epoch().elapsed().as_micros())
}

/// The number and send time of a stamped message's text.
fn read_stamp(content: &str) -> Option<(u64, Duration)> {
    let mut number = None;
    let mut sent = None;
    for word in content.split_whitespace() {
        if let Some(n) = word.strip_prefix('#') {
            number = n.parse().ok();
        } else if let Some(t) = word.strip_prefix("t=") {
            sent = t.parse().ok().map(Duration::from_micros);
        }
    }
    Some((number?, sent?))
}

#[derive(Clone)]
struct Shared {
    answer: Answer,
    arrivals: Arc<Mutex<Vec<Arrival>>>,
}

/// A running receiver.
pub struct Receiver {
    pub url: String,
    arrivals: Arc<Mutex<Vec<Arrival>>>,
    server: tokio::task::JoinHandle<()>,
}

impl Receiver {
    /// Starts a receiver on a free loopback port whose bot answers as `answer`.
    pub async fn start(answer: Answer) -> Result<Self, String> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
        let url = format!("http://{}/bot", listener.local_addr().map_err(|e| e.to_string())?);
        let arrivals = Arc::new(Mutex::new(Vec::new()));
        let app =
            axum::Router::new().route("/bot", post(receive)).with_state(Shared { answer, arrivals: arrivals.clone() });
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("receiver stopped: {e}");
            }
        });
        epoch();
        Ok(Self { url, arrivals, server })
    }

    /// Every POST so far.
    #[must_use]
    pub fn arrivals(&self) -> Vec<Arrival> {
        self.arrivals.lock().map(|a| a.clone()).unwrap_or_default()
    }

    /// How many POSTs have been answered.
    #[must_use]
    pub fn count(&self) -> usize {
        self.arrivals.lock().map(|a| a.len()).unwrap_or_default()
    }

    /// Waits until `expected` POSTs were answered or nothing new came for `quiet`.
    pub async fn wait_for(&self, expected: usize, quiet: Duration) {
        let mut seen = self.count();
        let mut last_change = Instant::now();
        while seen < expected && last_change.elapsed() < quiet {
            tokio::time::sleep(Duration::from_millis(2)).await;
            let now = self.count();
            if now != seen {
                seen = now;
                last_change = Instant::now();
            }
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn receive(
    State(shared): State<Shared>,
    body: axum::body::Bytes,
) -> ([(axum::http::HeaderName, &'static str); 1], String) {
    let at = Instant::now();
    let stamp =
        serde_json::from_slice::<Value>(&body).ok().and_then(|payload| payload["data"].as_str().and_then(read_stamp));
    let answer = match shared.answer {
        Answer::Quiet => json!({"response_not_required": true}),
        Answer::Reply => json!({"content": "ok"}),
        Answer::After(wait) => {
            tokio::time::sleep(wait).await;
            json!({"response_not_required": true})
        }
    };
    if let Some((number, sent)) = stamp {
        let latency_ms = (at - epoch()).saturating_sub(sent).as_secs_f64() * 1000.0;
        if let Ok(mut arrivals) = shared.arrivals.lock() {
            arrivals.push(Arrival { number, latency_ms, at, answered: Instant::now() });
        }
    }
    ([(axum::http::header::CONTENT_TYPE, "application/json")], answer.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_reads_back_as_its_number_and_time() {
        let text = format!("@**Bench Bot 1** {}", stamp(42));
        let (number, sent) = read_stamp(&text).unwrap();
        assert_eq!(number, 42);
        assert!(sent <= epoch().elapsed());
        assert_eq!(read_stamp("@**Bot** hello"), None);
    }
}
