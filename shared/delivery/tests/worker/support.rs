//! A scripted bot endpoint and a world (realm, people, bots, stream) for the worker cases.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use hookline_delivery::ssrf::AddressPolicy;
use hookline_delivery::worker::{JobOutcome, Worker, WorkerConfig};
use hookline_messaging::send::{Destination, SendRequest, Sender, StreamRef};
use hookline_model::credentials::{ApiKeyHash, generate_signing_secret};
use hookline_model::delivery::QueueJob;
use hookline_model::queue::DeliveryQueue as _;
use hookline_model::queue::memory::MemoryQueue;
use hookline_model::realm::NewRealm;
use hookline_model::store::memory::MemoryStore;
use hookline_model::store::{
    Direction, MessageScope, MessageStore as _, RealmStore as _, StreamStore as _, UserStore as _,
};
use hookline_model::user::{BotService, BotType, Interface, NewUser, Role, SigningSecrets, Triggers};
use hookline_model::{Clock as _, ManualClock, Message, Realm, User};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// What the endpoint does with a request once it has read it.
#[derive(Clone)]
pub enum Behaviour {
    /// Answers with the status, headers and body.
    Respond,
    /// Writes these bytes as they are (any HTTP, or none), then closes.
    Raw(Vec<u8>),
    /// Resets the connection without answering.
    Reset,
}

/// One scripted answer: status, extra headers, body, how long to wait first (in real time),
/// and how far to move the world's clock before answering (time the request took).
#[derive(Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
    pub delay: Duration,
    pub takes: Duration,
    pub behaviour: Behaviour,
}

impl Answer {
    pub fn json(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: vec![("content-type", "application/json".into())],
            body: body.as_bytes().to_vec(),
            delay: Duration::ZERO,
            takes: Duration::ZERO,
            behaviour: Behaviour::Respond,
        }
    }

    /// These bytes instead of an HTTP answer.
    pub fn raw(bytes: &[u8]) -> Self {
        Self { behaviour: Behaviour::Raw(bytes.to_vec()), ..Self::json(200, "") }
    }

    /// A connection reset instead of an answer.
    pub fn reset() -> Self {
        Self { behaviour: Behaviour::Reset, ..Self::json(200, "") }
    }

    /// The same answer after moving the world's clock by `takes`.
    pub fn taking(self, takes: Duration) -> Self {
        Self { takes, ..self }
    }
}

/// A request the endpoint received.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

pub struct Script {
    answers: Mutex<VecDeque<Answer>>,
    /// Answer when the script runs out.
    fallback: Mutex<Option<Answer>>,
    pub received: Mutex<Vec<Received>>,
    clock: Arc<ManualClock>,
}

impl Script {
    fn new(clock: Arc<ManualClock>) -> Self {
        Self { answers: Mutex::default(), fallback: Mutex::default(), received: Mutex::default(), clock }
    }
    pub fn then(&self, answer: Answer) -> &Self {
        self.answers.lock().unwrap().push_back(answer);
        self
    }
    pub fn always(&self, answer: Answer) {
        *self.fallback.lock().unwrap() = Some(answer);
    }
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
    fn next_answer(&self) -> Answer {
        let answer = self.answers.lock().unwrap().pop_front().or_else(|| self.fallback.lock().unwrap().clone());
        answer.unwrap_or_else(|| Answer::json(200, "{}"))
    }
}

/// Reads one request (head and `Content-Length` body); `None` if the connection ends first.
async fn read_request(stream: &mut TcpStream) -> Option<Received> {
    let mut seen = Vec::new();
    let mut buf = [0_u8; 8192];
    let head_end = loop {
        if let Some(at) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut buf).await.ok().filter(|n| *n > 0)?;
        seen.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&seen[..head_end]).into_owned();
    let mut headers = HeaderMap::new();
    for line in head.split("\r\n").skip(1) {
        if let Some((name, value)) = line.split_once(':')
            && let (Ok(name), Ok(value)) = (HeaderName::try_from(name.trim()), HeaderValue::try_from(value.trim()))
        {
            headers.append(name, value);
        }
    }
    let length: usize =
        headers.get("content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).unwrap_or(0);
    let mut body = seen[head_end..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut buf).await.ok().filter(|n| *n > 0)?;
        body.extend_from_slice(&buf[..n]);
    }
    body.truncate(length);
    Some(Received { headers, body })
}

async fn serve_connection(script: Arc<Script>, mut stream: TcpStream) {
    let Some(received) = read_request(&mut stream).await else { return };
    script.received.lock().unwrap().push(received);
    let answer = script.next_answer();
    tokio::time::sleep(answer.delay).await;
    script.clock.advance(i64::try_from(answer.takes.as_millis()).unwrap());
    match answer.behaviour {
        Behaviour::Respond => {
            let mut out = format!("HTTP/1.1 {} Scripted\r\n", answer.status).into_bytes();
            for (name, value) in &answer.headers {
                out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
            }
            out.extend_from_slice(
                format!("content-length: {}\r\nconnection: close\r\n\r\n", answer.body.len()).as_bytes(),
            );
            out.extend_from_slice(&answer.body);
            let _ = stream.write_all(&out).await;
            let _ = stream.shutdown().await;
        }
        Behaviour::Raw(bytes) => {
            let _ = stream.write_all(&bytes).await;
            let _ = stream.shutdown().await;
        }
        Behaviour::Reset => {
            // Closing with unread data makes the kernel send a reset: leave a byte unread.
            let _ = stream.set_zero_linger();
            drop(stream);
        }
    }
}

/// Starts the scripted endpoint on 127.0.0.1; returns its URL.
pub async fn receiver(script: Arc<Script>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve_connection(script.clone(), stream));
        }
    });
    format!("http://{address}/bot")
}

pub struct World {
    pub clock: Arc<ManualClock>,
    pub store: Arc<MemoryStore>,
    pub queue: Arc<MemoryQueue>,
    pub sender: Arc<Sender>,
    pub worker: Worker,
    pub realm: Realm,
    pub ada: User,
    pub bot: User,
    pub script: Arc<Script>,
}

fn person(email: &str, name: &str) -> NewUser {
    NewUser {
        email: email.into(),
        full_name: name.into(),
        role: Role::Member,
        bot_type: None,
        bot_owner_id: None,
        api_key_hash: ApiKeyHash::of(email),
        service: None,
    }
}

pub const START: i64 = 4_000_000_000_000;

/// Ada, her outgoing bot "Echo Bot" (interface `interface`) pointing at a scripted endpoint,
/// and the stream `general`. The worker may reach loopback endpoints unless `guarded`.
pub async fn world(interface: Interface, guarded: bool) -> World {
    world_with(interface, guarded, WorkerConfig::default()).await
}

/// [`world`] with the worker configured by `config` (its address policy still set by `guarded`).
pub async fn world_with(interface: Interface, guarded: bool, config: WorkerConfig) -> World {
    let clock = Arc::new(ManualClock::at(START));
    let store = Arc::new(MemoryStore::new());
    let queue = Arc::new(MemoryQueue::new(clock.clone(), Duration::from_secs(180), 12));
    let script = Arc::new(Script::new(clock.clone()));
    let url = receiver(script.clone()).await;
    let realm = NewRealm {
        string_id: "acme".into(),
        name: "Acme".into(),
        host: "acme.test".into(),
        public_url: "https://chat.acme.test".into(),
    };
    let (realm, ada) = store.create_realm(realm, person("ada@acme.test", "Ada"), START).await.unwrap();
    store.create_stream(realm.id, "general", "", START).await.unwrap();
    let mut bot = person("echo-bot@acme.test", "Echo Bot");
    bot.bot_type = Some(BotType::OutgoingWebhook);
    bot.bot_owner_id = Some(ada.id);
    bot.service = Some(BotService {
        realm_id: 0,
        bot_id: 0,
        base_url: url.clone(),
        interface,
        token: "the-service-token".into(),
        signing: SigningSecrets { current: generate_signing_secret(), previous: None, previous_expires_at: None },
        webhook_secret: None,
        triggers: Triggers::default(),
        is_active: true,
        deactivated_reason: None,
        failing_since: None,
        last_owner_notice_at: None,
        retry_schedule: None,
        updated_at: START,
    });
    let bot = store.create_user(realm.id, bot, START).await.unwrap();
    let sender = Arc::new(Sender::new(store.clone(), queue.clone(), clock.clone()));
    let config = WorkerConfig { policy: AddressPolicy { allow_all_private: !guarded, allowed: Vec::new() }, ..config };
    let worker = Worker::new(
        store.clone(),
        queue.clone(),
        clock.clone(),
        sender.clone(),
        config,
        "https://chat.acme.test".into(),
    );
    World { clock, store, queue, sender, worker, realm, ada, bot, script }
}

impl World {
    /// Ada says `content` in #general > lunch.
    pub async fn say(&self, content: &str) -> Message {
        let request = SendRequest {
            realm: self.realm.clone(),
            sender: self.ada.clone(),
            destination: Destination::Stream { stream: StreamRef::Name("general".into()), topic: "lunch".into() },
            content: content.into(),
            client: "test".into(),
            idempotency_key: None,
            reply_to: None,
        };
        self.sender.send(request).await.unwrap().message
    }

    /// Ada sends `content` to the bot directly.
    pub async fn dm(&self, content: &str) -> Message {
        let request = SendRequest {
            realm: self.realm.clone(),
            sender: self.ada.clone(),
            destination: Destination::Direct(vec![hookline_messaging::send::UserRef::Id(self.bot.id)]),
            content: content.into(),
            client: "test".into(),
            idempotency_key: None,
            reply_to: None,
        };
        self.sender.send(request).await.unwrap().message
    }

    /// Receives the next visible job and lets the worker process it.
    pub async fn work(&self) -> Option<(QueueJob, JobOutcome)> {
        let job = self.queue.receive(1, Duration::ZERO).await.unwrap().pop()?;
        let outcome = self.worker.process(&job.body, &job.receipt_handle).await;
        if outcome == JobOutcome::Done {
            self.queue.delete(&job.receipt_handle).await.unwrap();
        }
        Some((job.job().unwrap(), outcome))
    }

    /// Every message the bot posted, oldest first.
    pub async fn bot_messages(&self) -> Vec<Message> {
        let bot = self.bot.id;
        self.store
            .list_messages(self.realm.id, &MessageScope::Realm, 0, Direction::From, 100, &move |m| m.sender_id == bot)
            .await
            .unwrap()
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The worker of another process (another lease owner) on the same store and queue, as
    /// the one that takes over after this world's worker died.
    pub fn another_worker(&self) -> Worker {
        let config = WorkerConfig {
            policy: AddressPolicy { allow_all_private: true, allowed: Vec::new() },
            ..WorkerConfig::default()
        };
        Worker::new(
            self.store.clone(),
            self.queue.clone(),
            self.clock.clone(),
            self.sender.clone(),
            config,
            "https://chat.acme.test".into(),
        )
    }
}
