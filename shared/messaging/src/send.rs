//! The send path, the only way a message comes to exist: validate, resolve the recipient,
//! work out which bots it triggers, commit the message with its outbox entry (one
//! transaction, which also assigns the id), then hand the jobs to the queue. If the queue
//! cannot be reached the outbox entry stays, and the sweep enqueues it later: no trigger is
//! lost, and once the message is committed the sender is never told it failed.

use std::sync::Arc;

use hookline_model::delivery::{DeliveryJob, QueueJob};
use hookline_model::queue::{DeliveryQueue, MAX_BATCH};
use hookline_model::store::{Store, StoreError};
use hookline_model::{
    Clock, DeliveryId, IdempotencyKey, Message, MessageDraft, Realm, Recipient, Stream, User, UserId,
};

use crate::directory::{Directory, DirectoryCache};
use crate::limits::{ContentError, normalize_content, truncate_topic};
use crate::triggers::triggered_bots;

/// How long an `Idempotency-Key` holds.
pub const IDEMPOTENCY_WINDOW: i64 = 24 * 60 * 60 * 1000;

/// Where a message goes, as the sender named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A stream by name or id, and a topic.
    Stream { stream: StreamRef, topic: String },
    /// Direct-message recipients by id or email (the sender joins the thread).
    Direct(Vec<UserRef>),
    /// An exact thread, already resolved (replies go back where the trigger came from).
    Thread(Recipient),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamRef {
    Id(u64),
    Name(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserRef {
    Id(UserId),
    Email(String),
}

#[derive(Debug, Clone)]
pub struct SendRequest {
    pub realm: Realm,
    pub sender: User,
    pub destination: Destination,
    pub content: String,
    /// The client's name (`ZulipPython`, `Hookline`, an integration's name, …).
    pub client: String,
    pub idempotency_key: Option<String>,
    /// For a bot's reply: the delivery it answers (at most one reply is ever stored).
    pub reply_to: Option<DeliveryId>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SendError {
    #[error("{0}")]
    Content(#[from] ContentError),
    #[error("Missing topic")]
    MissingTopic,
    #[error("Invalid idempotency key")]
    InvalidIdempotencyKey,
    #[error("Channel '{0}' does not exist")]
    StreamNotFound(String),
    #[error("Invalid user ID {0}")]
    UnknownUserId(UserId),
    #[error("Invalid email '{0}'")]
    UnknownEmail(String),
    #[error("'{0}' is no longer using Zulip.")]
    RecipientDeactivated(String),
    #[error("Message must have recipients")]
    NoRecipients,
    #[error("this delivery already has a reply")]
    AlreadyReplied,
    #[error("storage failed: {0}")]
    Store(String),
    /// The store is throttling or unreachable; the message was not acknowledged.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
}

impl From<StoreError> for SendError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(why) => Self::Unavailable(why),
            other => Self::Store(other.to_string()),
        }
    }
}

/// What sending did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub message: Message,
    /// The request repeated an `Idempotency-Key`: this is the first message, nothing new was stored.
    pub duplicate: bool,
    /// How many bots the message triggered.
    pub triggered: usize,
}

/// What Zulip's clients show for the empty topic; sent as a topic, it is the empty topic.
pub const NO_TOPIC: &str = "(no topic)";

/// When a committed message's jobs are handed to the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandOver {
    /// Before the send returns: what a Lambda function must do, since its sandbox may be
    /// frozen as soon as it has answered.
    BeforeAnswering,
    /// In a task of its own, the sender answered once the message is committed: for a
    /// long-lived process. The outbox entry committed with the message covers a crash before
    /// the jobs are on the queue; the sweep enqueues it then.
    InBackground,
}

/// The send path, built once per process.
pub struct Sender {
    store: Arc<dyn Store>,
    queue: Arc<dyn DeliveryQueue>,
    clock: Arc<dyn Clock>,
    directories: DirectoryCache,
    hand_over: HandOver,
}

impl Sender {
    #[must_use]
    pub fn new(store: Arc<dyn Store>, queue: Arc<dyn DeliveryQueue>, clock: Arc<dyn Clock>) -> Self {
        Self { store, queue, clock, directories: DirectoryCache::new(), hand_over: HandOver::BeforeAnswering }
    }

    /// The same send path, handing jobs over as `hand_over` says.
    #[must_use]
    pub fn handing_over(self, hand_over: HandOver) -> Self {
        Self { hand_over, ..self }
    }

    /// The realm's directory (cached while `realm`, freshly read, says it is current).
    pub async fn directory(&self, realm: &Realm) -> Result<Arc<Directory>, StoreError> {
        self.directories.get(self.store.as_ref(), realm).await
    }

    /// Sends a message.
    pub async fn send(&self, request: SendRequest) -> Result<Sent, SendError> {
        let content = normalize_content(&request.content)?;
        let idempotency = match request.idempotency_key {
            Some(key) if key.is_empty() || key.len() > 255 || key.chars().any(char::is_control) => {
                return Err(SendError::InvalidIdempotencyKey);
            }
            Some(key) => Some(IdempotencyKey { key, window: IDEMPOTENCY_WINDOW }),
            None => None,
        };
        let directory = self.directory(&request.realm).await?;
        let recipient = self.recipient(&directory, &request.sender, &request.destination)?;
        let triggered = triggered_bots(&directory, &request.sender, &recipient, &content);
        let jobs: Vec<DeliveryJob> = triggered
            .iter()
            .map(|(bot, trigger)| DeliveryJob {
                realm_id: request.realm.id,
                message_id: 0,
                bot_id: *bot,
                trigger: *trigger,
                redelivery: 0,
            })
            .collect();
        let draft = MessageDraft {
            realm_id: request.realm.id,
            sender_id: request.sender.id,
            sender_email: request.sender.email.clone(),
            sender_full_name: request.sender.full_name.clone(),
            sender_is_bot: request.sender.is_bot(),
            recipient,
            content,
            timestamp: self.clock.now(),
            client: request.client,
            outbox: jobs.clone(),
            reply_to: request.reply_to,
            idempotency,
        };
        let message = match self.store.commit_message(draft).await {
            Ok(message) => message,
            Err(StoreError::Duplicate(first)) => {
                let message =
                    self.store.get_message(request.realm.id, first).await?.ok_or(StoreError::NotFound("message"))?;
                return Ok(Sent { message, duplicate: true, triggered: 0 });
            }
            Err(StoreError::AlreadyReplied) => return Err(SendError::AlreadyReplied),
            Err(e) => return Err(e.into()),
        };
        // Committed: from here on nothing fails the send.
        if !jobs.is_empty() {
            let jobs = jobs.into_iter().map(|job| DeliveryJob { message_id: message.id, ..job }).collect();
            let (store, queue, realm, id) = (self.store.clone(), self.queue.clone(), message.realm_id, message.id);
            match self.hand_over {
                HandOver::BeforeAnswering => hand_over(store.as_ref(), queue.as_ref(), realm, id, jobs).await,
                HandOver::InBackground => {
                    tokio::spawn(async move { hand_over(store.as_ref(), queue.as_ref(), realm, id, jobs).await });
                }
            }
        }
        Ok(Sent { message, duplicate: false, triggered: triggered.len() })
    }

    fn recipient(
        &self,
        directory: &Directory,
        sender: &User,
        destination: &Destination,
    ) -> Result<Recipient, SendError> {
        match destination {
            Destination::Thread(recipient) => Ok(recipient.clone()),
            Destination::Stream { stream, topic } => {
                // Zulip's empty topic ("general chat"): an organization without mandatory
                // topics, as every Hookline realm is, takes "" and stores "(no topic)" as "".
                let topic = match topic.trim() {
                    NO_TOPIC => "",
                    topic => topic,
                };
                let found: Option<&Stream> = match stream {
                    StreamRef::Id(id) => directory.stream(*id),
                    StreamRef::Name(name) => directory.stream_named(name),
                };
                let stream_label = match stream {
                    StreamRef::Id(id) => id.to_string(),
                    StreamRef::Name(name) => name.clone(),
                };
                let stream = found.ok_or(SendError::StreamNotFound(stream_label))?;
                Ok(Recipient::Stream {
                    stream_id: stream.id,
                    stream_name: stream.name.clone(),
                    topic: truncate_topic(topic),
                })
            }
            Destination::Direct(people) => {
                if people.is_empty() {
                    return Err(SendError::NoRecipients);
                }
                let mut ids = Vec::new();
                for person in people {
                    let user = match person {
                        UserRef::Id(id) => directory.user(*id).ok_or(SendError::UnknownUserId(*id))?,
                        UserRef::Email(email) => {
                            directory.user_by_email(email).ok_or_else(|| SendError::UnknownEmail(email.clone()))?
                        }
                    };
                    if !user.is_active {
                        return Err(SendError::RecipientDeactivated(user.email.clone()));
                    }
                    ids.push(user.id);
                }
                Ok(Recipient::direct(sender.id, ids))
            }
        }
    }
}

/// Puts a message's jobs on the queue and clears its outbox entry. Up to one batch goes
/// straight on the queue; more travel as one fan-out job the worker expands, so a send makes a
/// bounded number of calls. On failure the entry stays for the sweep.
async fn hand_over(store: &dyn Store, queue: &dyn DeliveryQueue, realm: u64, message: u64, jobs: Vec<DeliveryJob>) {
    let count = jobs.len();
    let jobs: Vec<QueueJob> = if count <= MAX_BATCH {
        jobs.into_iter().map(QueueJob::Deliver).collect()
    } else {
        vec![QueueJob::FanOut { realm_id: realm, message_id: message }]
    };
    match queue.enqueue(&jobs).await {
        Ok(()) if count <= MAX_BATCH => {
            if let Err(e) = store.delete_outbox(realm, message).await {
                // Harmless: the sweep re-enqueues it, and the worker's lease and reply guard
                // make a repeated job a no-op.
                tracing::warn!(message, error = %e, "outbox entry not cleared");
            }
        }
        Ok(()) => {}
        Err(e) => tracing::warn!(message, error = %e, "queue unreachable; the sweep will enqueue"),
    }
}
