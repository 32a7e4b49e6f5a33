//! A scripted bot endpoint and a world (realm, people, bots, stream) for the worker cases.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
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

/// One scripted answer: status, extra headers, body, and how long to wait first.
#[derive(Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
    pub delay: Duration,
}

impl Answer {
    pub fn json(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: vec![("content-type", "application/json".into())],
            body: body.into(),
            delay: Duration::ZERO,
        }
    }
}

/// A request the endpoint received.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

#[derive(Default)]
pub struct Script {
    answers: Mutex<VecDeque<Answer>>,
    /// Answer when the script runs out.
    fallback: Mutex<Option<Answer>>,
    pub received: Mutex<Vec<Received>>,
}

impl Script {
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
}

async fn endpoint(State(script): State<Arc<Script>>, headers: HeaderMap, body: Bytes) -> Response {
    script.received.lock().unwrap().push(Received { headers, body: body.to_vec() });
    let answer = script.answers.lock().unwrap().pop_front().or_else(|| script.fallback.lock().unwrap().clone());
    let answer = answer.unwrap_or_else(|| Answer::json(200, ""));
    tokio::time::sleep(answer.delay).await;
    let mut response = (StatusCode::from_u16(answer.status).unwrap(), answer.body).into_response();
    for (name, value) in answer.headers {
        response.headers_mut().insert(name, value.parse().unwrap());
    }
    response
}

/// Starts the scripted endpoint on 127.0.0.1; returns its URL.
pub async fn receiver(script: Arc<Script>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address: SocketAddr = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(endpoint).with_state(script);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
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
    let script = Arc::new(Script::default());
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
}
