//! The outgoing webhook worker: turns queue jobs into POSTs to bots and their answers into
//! replies. For each job it claims the delivery's lease (a conditional update, so a duplicate
//! job or the sweep never runs one delivery twice at once), re-checks that the bot and its
//! service are still active, POSTs the signed payload, and then replies, retries or fails the
//! way Zulip does. Attempts are counted in the delivery record, not from SQS's receive count.

use std::sync::Arc;
use std::time::Duration;

use hookline_messaging::format::message_json;
use hookline_messaging::send::{Destination, SendError, SendRequest, Sender, UserRef};
use hookline_model::delivery::{AttemptOutcome, DeliveryJob, QueueJob};
use hookline_model::queue::{DeliveryQueue, MAX_BATCH};
use hookline_model::store::{Begun, Store, StoreError};
use hookline_model::user::BotService;
use hookline_model::{Attempt, Clock, Delivery, DeliveryState, Message, Millis, Realm, User};

use crate::client::{HttpOutcome, Timeouts, TransportError, post};
use crate::payload::{PayloadError, PayloadInput, build};
use crate::response::{BotAnswer, read_answer};
use crate::schedule::{RetrySchedule, Verdict, classify_status};
use crate::signing::signature_header;
use crate::ssrf::AddressPolicy;
use crate::wording::{Failure, failure_reply, message_link, owner_notice, still_failing_notice};

/// How the worker behaves; the defaults are the deployed ones.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub schedule: RetrySchedule,
    pub timeouts: Timeouts,
    pub policy: AddressPolicy,
    /// How long delivery records (the delivery log) are kept.
    pub keep_log_for: Millis,
    /// At most one failure notice per bot to its owner in this long.
    pub owner_notice_interval: Millis,
    /// A service whose every delivery failed for this long is switched off.
    pub disable_after: Millis,
    /// The attempt after which the owner hears that a delivery is still failing...
    pub warn_after_attempt: u32,
    /// ...when at least this much of its schedule is still ahead (with a short schedule the
    /// final notice comes soon enough).
    pub warn_if_remaining: Duration,
    /// Where each wait's jitter comes from.
    pub jitter: Jitter,
}

/// The jitter of retry waits, a fraction in [0, 1) for [`RetrySchedule::next_delay`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Jitter {
    Random,
    /// Always this fraction (1.0 stretches every wait to its maximum).
    Fixed(f64),
}

impl Jitter {
    fn draw(self) -> f64 {
        match self {
            Self::Random => rand::random::<f64>(),
            Self::Fixed(fraction) => fraction,
        }
    }
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            schedule: RetrySchedule::default(),
            timeouts: Timeouts::default(),
            policy: AddressPolicy::default(),
            keep_log_for: 14 * DAY,
            owner_notice_interval: 10 * MINUTE,
            disable_after: DAY,
            warn_after_attempt: 3,
            warn_if_remaining: Duration::from_secs(10 * 60),
            jitter: Jitter::Random,
        }
    }
}

/// The client every message the worker posts is sent with (replies, `Failure!` replies, owner
/// notices), as Zulip's `send_response_message` sends them.
pub const REPLY_CLIENT: &str = "OutgoingWebhookResponse";

const MINUTE: Millis = 60_000;
const DAY: Millis = 24 * 60 * MINUTE;

/// What became of one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    /// Finished (delivered, failed for good, or nothing left to do): delete the job.
    Done,
    /// Try again after this long: set the job's visibility and report it as a failure.
    RetryAfter(Duration),
    /// The worker could not process the job: report it as a failure as it is, so that SQS
    /// retries it and eventually dead-letters it.
    Broken(String),
}

pub struct Worker {
    store: Arc<dyn Store>,
    queue: Arc<dyn DeliveryQueue>,
    clock: Arc<dyn Clock>,
    sender: Arc<Sender>,
    client: reqwest::Client,
    config: WorkerConfig,
    /// Names this process in delivery leases.
    lease_owner: String,
    /// The deployment's public URL, for message links in owner notices.
    public_url: String,
}

/// Why a bot's reply was not posted.
enum ReplyError {
    /// The store failed; trying again later may succeed.
    Store(StoreError),
    /// The reply itself was refused (e.g. empty or over a limit), or its realm is gone.
    Refused(String),
}

/// What a finished attempt needs to tell people about.
struct Conclusion {
    state: DeliveryState,
    next_attempt_at: Millis,
    failure: Option<Failure>,
    retry_in: Option<Duration>,
}

impl Worker {
    #[must_use]
    pub fn new(
        store: Arc<dyn Store>,
        queue: Arc<dyn DeliveryQueue>,
        clock: Arc<dyn Clock>,
        sender: Arc<Sender>,
        config: WorkerConfig,
        public_url: String,
    ) -> Self {
        let client = crate::client::http_client(config.policy.clone(), config.timeouts);
        let lease_owner = format!("worker-{:016x}", rand::random::<u64>());
        Self { store, queue, clock, sender, client, config, lease_owner, public_url }
    }

    /// How long a delivery's lease lasts: longer than a whole POST, so it never runs out while
    /// the holder works, short enough that a crashed worker's delivery is soon picked up again.
    fn lease(&self) -> Millis {
        millis(self.config.timeouts.total) + 20_000
    }

    /// Handles one job from the queue; `receipt` lets it set the job's visibility.
    pub async fn process(&self, body: &str, receipt: &str) -> JobOutcome {
        let job: QueueJob = match serde_json::from_str(body) {
            Ok(job) => job,
            Err(e) => return JobOutcome::Broken(format!("malformed job: {e}")),
        };
        let outcome = match job {
            QueueJob::FanOut { realm_id, message_id } => self.fan_out(realm_id, message_id).await,
            QueueJob::Deliver(job) => self.deliver(&job).await,
        };
        if let JobOutcome::RetryAfter(wait) = &outcome
            && let Err(e) = self.queue.change_visibility(receipt, *wait).await
        {
            // The job then returns after the queue's own visibility timeout; its delivery
            // record still holds the backoff, so it will not be attempted early.
            tracing::warn!(error = %e, "could not set the job's visibility");
        }
        outcome
    }

    /// Puts every job of a message's outbox entry on the queue, then removes the entry.
    async fn fan_out(&self, realm: u64, message: u64) -> JobOutcome {
        let entry = match self.store.get_outbox(realm, message).await {
            Ok(Some(entry)) => entry,
            // Already expanded (this job came twice) or swept.
            Ok(None) => return JobOutcome::Done,
            Err(e) => return JobOutcome::Broken(e.to_string()),
        };
        let jobs: Vec<QueueJob> = entry.jobs.into_iter().map(QueueJob::Deliver).collect();
        for chunk in jobs.chunks(MAX_BATCH) {
            if let Err(e) = self.queue.enqueue(chunk).await {
                return JobOutcome::Broken(e.to_string());
            }
        }
        match self.store.delete_outbox(realm, message).await {
            Ok(()) => JobOutcome::Done,
            Err(e) => JobOutcome::Broken(e.to_string()),
        }
    }

    async fn deliver(&self, job: &DeliveryJob) -> JobOutcome {
        match self.try_deliver(job).await {
            Ok(outcome) => outcome,
            Err(e) => JobOutcome::Broken(e.to_string()),
        }
    }

    async fn try_deliver(&self, job: &DeliveryJob) -> Result<JobOutcome, StoreError> {
        let now = self.clock.now();
        let fresh = Delivery::new(job, now, self.config.keep_log_for);
        let delivery = match self.store.begin_attempt(&fresh, &self.lease_owner, now, now + self.lease()).await? {
            Begun::Claimed(delivery) => delivery,
            Begun::Held(delivery) if delivery.state.is_final() => return Ok(JobOutcome::Done),
            Begun::Held(delivery) if delivery.next_attempt_at > now => {
                return Ok(JobOutcome::RetryAfter(wait(delivery.next_attempt_at - now)));
            }
            Begun::Held(delivery) => {
                // Someone else holds the lease (or a worker that died holding it did): look
                // again once it runs out, not a whole new lease from now.
                let left = delivery.lease_until.map_or(self.lease(), |until| until - now);
                return Ok(JobOutcome::RetryAfter(wait(left.clamp(1_000, self.lease()))));
            }
        };

        let realm = self.store.get_realm(job.realm_id).await?.ok_or(StoreError::NotFound("realm"))?;
        let message =
            self.store.get_message(job.realm_id, job.message_id).await?.ok_or(StoreError::NotFound("message"))?;
        // The bot and its service as the realm's directory holds them: it is at least as new as
        // the realm just read, and every change to a bot or its service (address, secrets,
        // activation) moves the realm's directory version, so nothing read here is stale.
        let directory = self.sender.directory(&realm).await?;
        let (Some(bot), Some(service)) = (directory.user(job.bot_id).cloned(), directory.service(job.bot_id).cloned())
        else {
            return self.abandon(&delivery, "the bot no longer exists").await;
        };
        if !bot.is_active || !service.is_active {
            return self.abandon(&delivery, "the bot or its service is deactivated").await;
        }

        let rendered = message_json(&message, &directory, false);
        let input = PayloadInput {
            message: &message,
            message_json: &rendered,
            realm: &realm,
            bot: &bot,
            service: &service,
            trigger: job.trigger,
        };
        let started = self.clock.now();
        let (attempt, conclusion) = match build(&input) {
            Err(PayloadError::SlackDirectMessage) => {
                let attempt = attempt_record(started, None, 0, Some(PayloadError::SlackDirectMessage.to_string()), &[]);
                (attempt, self.final_failure(Failure::SlackDirectMessage, started))
            }
            Ok(body) => {
                let timestamp = started / 1000;
                let signature =
                    signature_header(&service.signing.active(started), &delivery.webhook_id, timestamp, &body.bytes);
                let headers = vec![
                    ("webhook-id".to_owned(), delivery.webhook_id.clone()),
                    ("webhook-timestamp".to_owned(), timestamp.to_string()),
                    ("webhook-signature".to_owned(), signature),
                ];
                let result =
                    post(&self.client, &self.config.policy, &service.base_url, &body, &headers, self.config.timeouts)
                        .await;
                self.conclude(&delivery, &service, &bot, &message, started, result).await?
            }
        };
        let failure = conclusion.failure.clone();
        let outcome = AttemptOutcome { attempt, state: conclusion.state, next_attempt_at: conclusion.next_attempt_at };
        let recorded = match self.store.record_attempt(job.realm_id, delivery.id, &self.lease_owner, outcome).await {
            Ok(recorded) => recorded,
            // The lease ran out and someone else took over: they own the outcome now.
            Err(StoreError::LeaseLost) => return Ok(JobOutcome::Done),
            Err(e) => return Err(e),
        };
        self.after_attempt(&realm, &bot, &service, &message, &recorded, failure.as_ref()).await;
        Ok(match conclusion.retry_in {
            Some(wait) => JobOutcome::RetryAfter(wait),
            None => JobOutcome::Done,
        })
    }

    /// Reads the bot's answer (posting its reply) or decides between retrying and failing.
    async fn conclude(
        &self,
        delivery: &Delivery,
        service: &BotService,
        bot: &User,
        message: &Message,
        started: Millis,
        result: Result<HttpOutcome, TransportError>,
    ) -> Result<(Attempt, Conclusion), StoreError> {
        let latency = |r: &Result<HttpOutcome, TransportError>| match r {
            Ok(o) => u64::try_from(o.latency.as_millis()).unwrap_or(u64::MAX),
            Err(_) => u64::try_from((self.clock.now() - started).max(0)).unwrap_or(0),
        };
        let took = latency(&result);
        Ok(match result {
            Ok(outcome) => {
                let status = Some(outcome.status);
                match classify_status(outcome.status) {
                    Verdict::Success => match read_answer(service.interface, &outcome.body) {
                        Ok(answer) => {
                            let error = match answer {
                                // The store failing to take the reply is not the bot's fault:
                                // the job fails and comes back, and the reply mark keeps the
                                // next run from posting a second one.
                                BotAnswer::Reply(text) => match self.post_reply(delivery, bot, message, text).await {
                                    Ok(()) => None,
                                    Err(ReplyError::Store(e)) => return Err(e),
                                    Err(ReplyError::Refused(why)) => Some(why),
                                },
                                BotAnswer::NoReply => None,
                            };
                            let attempt = attempt_record(started, status, took, error.clone(), &outcome.body);
                            match error {
                                None => (
                                    attempt,
                                    Conclusion {
                                        state: DeliveryState::Delivered,
                                        next_attempt_at: started,
                                        failure: None,
                                        retry_in: None,
                                    },
                                ),
                                Some(error) => {
                                    let failure =
                                        Failure::InvalidAnswer { error, body_excerpt: excerpt(&outcome.body) };
                                    (attempt, self.final_failure(failure, started))
                                }
                            }
                        }
                        Err(e) => {
                            let attempt = attempt_record(started, status, took, Some(e.to_string()), &outcome.body);
                            let failure =
                                Failure::InvalidAnswer { error: e.to_string(), body_excerpt: excerpt(&outcome.body) };
                            (attempt, self.final_failure(failure, started))
                        }
                    },
                    verdict => {
                        let error = format!("HTTP {}", outcome.status);
                        let attempt = attempt_record(started, status, took, Some(error), &outcome.body);
                        let failure = Failure::Status { status: outcome.status, body_excerpt: excerpt(&outcome.body) };
                        let conclusion = if verdict == Verdict::Retry {
                            self.retry_or_fail(delivery, service, failure, outcome.retry_after, started)
                        } else {
                            self.final_failure(failure, started)
                        };
                        (attempt, conclusion)
                    }
                }
            }
            Err(error) => {
                let attempt = attempt_record(started, None, took, Some(error.to_string()), &[]);
                let conclusion = match &error {
                    TransportError::Timeout(seconds) => {
                        self.retry_or_fail(delivery, service, Failure::Timeout { seconds: *seconds }, None, started)
                    }
                    TransportError::Connection(_) => {
                        self.retry_or_fail(delivery, service, Failure::Connection, None, started)
                    }
                    TransportError::Blocked(_) => self.final_failure(Failure::Blocked, started),
                };
                (attempt, conclusion)
            }
        })
    }

    /// The bot's own retry schedule when it has a valid one, else the deployment's.
    fn schedule_for(&self, service: &BotService) -> RetrySchedule {
        match service.retry_schedule.as_deref().map(RetrySchedule::parse) {
            Some(Ok(schedule)) => schedule,
            Some(Err(e)) => {
                tracing::warn!(bot = service.bot_id, error = %e, "ignoring the bot's invalid retry schedule");
                self.config.schedule.clone()
            }
            None => self.config.schedule.clone(),
        }
    }

    fn retry_or_fail(
        &self,
        delivery: &Delivery,
        service: &BotService,
        failure: Failure,
        retry_after: Option<Duration>,
        now: Millis,
    ) -> Conclusion {
        let attempts_made = delivery.attempt_count + 1;
        let next = if delivery.retries_allowed {
            self.schedule_for(service).next_delay(attempts_made, retry_after, self.config.jitter.draw())
        } else {
            None
        };
        match next {
            Some(wait) => Conclusion {
                state: DeliveryState::Retrying,
                next_attempt_at: now + millis(wait),
                failure: Some(failure),
                retry_in: Some(wait),
            },
            None => self.final_failure(failure, now),
        }
    }

    fn final_failure(&self, failure: Failure, now: Millis) -> Conclusion {
        Conclusion { state: DeliveryState::Failed, next_attempt_at: now, failure: Some(failure), retry_in: None }
    }

    /// Posts the bot's answer as the bot, where the trigger came from, through the send path.
    /// The commit marks the delivery replied, so a second reply is refused.
    async fn post_reply(
        &self,
        delivery: &Delivery,
        bot: &User,
        message: &Message,
        text: String,
    ) -> Result<(), ReplyError> {
        let realm = self
            .store
            .get_realm(message.realm_id)
            .await
            .map_err(ReplyError::Store)?
            .ok_or_else(|| ReplyError::Refused("the realm is gone".into()))?;
        let request = SendRequest {
            realm,
            sender: bot.clone(),
            destination: Destination::Thread(message.recipient.clone()),
            content: text,
            client: REPLY_CLIENT.into(),
            idempotency_key: None,
            reply_to: Some(delivery.id),
        };
        match self.sender.send(request).await {
            // A reply already exists: an earlier run posted it before it could record the attempt.
            Ok(_) | Err(SendError::AlreadyReplied) => Ok(()),
            Err(SendError::Store(why)) => Err(ReplyError::Store(StoreError::Backend(why))),
            Err(SendError::Unavailable(why)) => Err(ReplyError::Store(StoreError::Unavailable(why))),
            Err(e) => Err(ReplyError::Refused(e.to_string())),
        }
    }

    /// Ends a delivery whose bot went away meanwhile, without a reply.
    async fn abandon(&self, delivery: &Delivery, why: &str) -> Result<JobOutcome, StoreError> {
        let now = self.clock.now();
        let outcome = AttemptOutcome {
            attempt: attempt_record(now, None, 0, Some(why.to_owned()), &[]),
            state: DeliveryState::Failed,
            next_attempt_at: now,
        };
        match self.store.record_attempt(delivery.realm_id, delivery.id, &self.lease_owner, outcome).await {
            Ok(_) | Err(StoreError::LeaseLost) => Ok(JobOutcome::Done),
            Err(e) => Err(e),
        }
    }

    /// Tells the people involved: the conversation gets Zulip's `Failure!` reply when a
    /// delivery fails for good and the owner Zulip's notice (always: a final notice is never
    /// rate limited); while retries go on, the owner may get one "still failing" notice when
    /// much of the schedule is still ahead (at most one per interval per bot). A service that answers 410 Gone, or has failed everything for
    /// a day, is switched off. A direct message to a Slack-format bot only gets its reply: the
    /// bot's endpoint was never asked, so neither its owner nor its failing streak hears of it.
    async fn after_attempt(
        &self,
        realm: &Realm,
        bot: &User,
        service: &BotService,
        message: &Message,
        delivery: &Delivery,
        failure: Option<&Failure>,
    ) {
        let now = self.clock.now();
        let Some(failure) = failure else {
            if service.failing_since.is_some() {
                self.update_service(service, |s| s.failing_since = None).await;
            }
            return;
        };
        let failing_since = service.failing_since.unwrap_or(now);
        let gone = matches!(failure, Failure::Status { status: 410, .. });
        let failing_too_long = now - failing_since >= self.config.disable_after;
        let base = if realm.public_url.is_empty() { &self.public_url } else { &realm.public_url };
        let link = message_link(base, message);
        let may_notify = service.last_owner_notice_at.is_none_or(|at| now - at >= self.config.owner_notice_interval);
        let mut notice = None;
        if delivery.state == DeliveryState::Failed {
            let reply = failure_reply(failure);
            self.send_as_bot(realm, bot, Destination::Thread(message.recipient.clone()), reply).await;
            if !failure.tells_owner() {
                return;
            }
            notice = Some(owner_notice(&link, &bot.full_name, failure));
        } else if delivery.attempt_count == self.config.warn_after_attempt
            && self.schedule_for(service).remaining_after(delivery.attempt_count) >= self.config.warn_if_remaining
            && may_notify
        {
            notice = Some(still_failing_notice(&link, &bot.full_name, delivery.attempt_count, failure));
        }
        let disable = gone || (delivery.state == DeliveryState::Failed && failing_too_long);
        let mut notified = false;
        if disable {
            let reason = if gone {
                "the endpoint answered 410 Gone".to_owned()
            } else {
                "every delivery failed for 24 hours".to_owned()
            };
            let text = format!(
                "{}\n\nI switched off the outgoing webhook of @_**{}** because {reason}. Change the bot's settings (`PATCH /api/v1/bots/{}`) to switch it on again.",
                owner_notice(&link, &bot.full_name, failure),
                bot.full_name,
                bot.id
            );
            self.notify_owner(realm, bot, text).await;
            notified = true;
        } else if let Some(text) = notice {
            self.notify_owner(realm, bot, text).await;
            notified = true;
        }
        self.update_service(service, |s| {
            s.failing_since = Some(failing_since);
            if disable {
                s.is_active = false;
                s.deactivated_reason = Some(if gone { "410 Gone" } else { "failing for 24 hours" }.into());
            }
            if notified {
                s.last_owner_notice_at = Some(now);
            }
        })
        .await;
    }

    async fn notify_owner(&self, realm: &Realm, bot: &User, text: String) {
        if let Some(owner) = bot.bot_owner_id {
            self.send_as_bot(realm, bot, Destination::Direct(vec![UserRef::Id(owner)]), text).await;
        }
    }

    async fn send_as_bot(&self, realm: &Realm, bot: &User, destination: Destination, content: String) {
        let request = SendRequest {
            realm: realm.clone(),
            sender: bot.clone(),
            destination,
            content,
            client: REPLY_CLIENT.into(),
            idempotency_key: None,
            reply_to: None,
        };
        if let Err(e) = self.sender.send(request).await {
            tracing::warn!(bot = bot.id, error = %e, "could not post a failure message");
        }
    }

    /// Changes the service from its latest state (optimistically; a lost race is retried once).
    async fn update_service(&self, service: &BotService, change: impl Fn(&mut BotService)) {
        let mut current = service.clone();
        for _ in 0..3 {
            let read_at = current.updated_at;
            let mut next = current.clone();
            change(&mut next);
            if next == current {
                return;
            }
            next.updated_at = self.clock.now().max(read_at + 1);
            match self.store.update_service(&next, read_at).await {
                Ok(()) => return,
                Err(StoreError::Conflict) => match self.store.get_service(service.realm_id, service.bot_id).await {
                    Ok(Some(latest)) => current = latest,
                    _ => return,
                },
                Err(e) => {
                    tracing::warn!(error = %e, "could not update the service");
                    return;
                }
            }
        }
    }
}

fn attempt_record(at: Millis, status: Option<u16>, latency_ms: u64, error: Option<String>, body: &[u8]) -> Attempt {
    Attempt { at, status, latency_ms, error, response_excerpt: excerpt(body) }
}

/// At most [`Attempt::MAX_EXCERPT`] bytes of a response, cut on a character boundary.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut end = text.len().min(Attempt::MAX_EXCERPT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

fn millis(d: Duration) -> Millis {
    Millis::try_from(d.as_millis()).unwrap_or(Millis::MAX)
}

fn wait(ms: Millis) -> Duration {
    Duration::from_millis(u64::try_from(ms.max(0)).unwrap_or(0))
}
