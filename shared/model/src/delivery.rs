//! Deliveries: one message × one triggered bot service, with every attempt made.

use serde::{Deserialize, Serialize};

use crate::{MessageId, Millis, RealmId, UserId};

/// Names one delivery: `<message id>-<bot id>` for a trigger's first delivery, and
/// `<message id>-<bot id>-r<n>` for its n-th manual redelivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeliveryId {
    pub message_id: MessageId,
    pub bot_id: UserId,
    pub redelivery: u32,
}

impl std::fmt::Display for DeliveryId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.message_id, self.bot_id)?;
        if self.redelivery > 0 {
            write!(f, "-r{}", self.redelivery)?;
        }
        Ok(())
    }
}

impl std::str::FromStr for DeliveryId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("invalid delivery id {s:?}");
        let mut parts = s.split('-');
        let message_id = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let bot_id = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let redelivery = match parts.next() {
            None => 0,
            Some(p) => p.strip_prefix('r').and_then(|n| n.parse().ok()).filter(|n| *n > 0).ok_or_else(bad)?,
        };
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(Self { message_id, bot_id, redelivery })
    }
}

impl Serialize for DeliveryId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DeliveryId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

/// Why a bot was triggered; the wire value is Zulip's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    Mention,
    DirectMessage,
    /// Beyond Zulip: the service watches every message of the stream.
    StreamMessage,
    /// Beyond Zulip: the message's first word is one of the service's trigger words.
    TriggerWord,
}

impl Trigger {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mention => "mention",
            Self::DirectMessage => "direct_message",
            Self::StreamMessage => "stream_message",
            Self::TriggerWord => "trigger_word",
        }
    }
}

/// What the queue carries: enough to find the delivery, nothing that can go stale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryJob {
    pub realm_id: RealmId,
    pub message_id: MessageId,
    pub bot_id: UserId,
    pub trigger: Trigger,
    /// 0 for the trigger's own delivery; n for its n-th manual redelivery, which has its own
    /// record and is never retried.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub redelivery: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl DeliveryJob {
    /// The delivery this job works on.
    #[must_use]
    pub fn delivery_id(&self) -> DeliveryId {
        DeliveryId { message_id: self.message_id, bot_id: self.bot_id, redelivery: self.redelivery }
    }

    /// The Standard Webhooks `webhook-id`: the same on every retry and redelivery of one trigger.
    #[must_use]
    pub fn webhook_id(&self) -> String {
        format!("msg_{}_{}_{}", self.realm_id, self.message_id, self.bot_id)
    }
}

/// What travels on the delivery queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum QueueJob {
    /// Deliver one message to one bot.
    Deliver(DeliveryJob),
    /// Put every job of a message's outbox entry on the queue: a message that triggers more
    /// bots than one `SendMessageBatch` holds is handed over with this one job, so sending
    /// stays a bounded number of calls whatever the number of bots.
    FanOut { realm_id: RealmId, message_id: MessageId },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Created, not attempted yet.
    Pending,
    /// Failed at least once and will be tried again at `next_attempt_at`.
    Retrying,
    Delivered,
    /// Gave up: a final error, or no attempts left.
    Failed,
}

impl DeliveryState {
    #[must_use]
    pub fn is_final(self) -> bool {
        matches!(self, Self::Delivered | Self::Failed)
    }

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Retrying => "retrying",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }
}

/// One POST to the bot's endpoint and what came of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    pub at: Millis,
    pub status: Option<u16>,
    pub latency_ms: u64,
    pub error: Option<String>,
    /// At most [`Attempt::MAX_EXCERPT`] bytes of the response body.
    pub response_excerpt: String,
}

impl Attempt {
    pub const MAX_EXCERPT: usize = 20_000;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub realm_id: RealmId,
    pub id: DeliveryId,
    pub message_id: MessageId,
    pub bot_id: UserId,
    pub trigger: Trigger,
    pub webhook_id: String,
    pub state: DeliveryState,
    pub attempt_count: u32,
    pub attempts: Vec<Attempt>,
    /// Who holds the lease and until when: while it holds, nobody else attempts the delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_until: Option<Millis>,
    /// No attempt before this time (backoff).
    pub next_attempt_at: Millis,
    /// Manual redeliveries are attempted once.
    pub retries_allowed: bool,
    /// The bot's reply, once posted. Set in the same commit as the reply message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_message_id: Option<MessageId>,
    pub created_at: Millis,
    /// When the record may be cleaned up.
    pub expires_at: Millis,
}

impl Delivery {
    /// A fresh delivery record for `job`, kept until `created_at + keep_for`.
    #[must_use]
    pub fn new(job: &DeliveryJob, created_at: Millis, keep_for: Millis) -> Self {
        Self {
            realm_id: job.realm_id,
            id: job.delivery_id(),
            message_id: job.message_id,
            bot_id: job.bot_id,
            trigger: job.trigger,
            webhook_id: job.webhook_id(),
            state: DeliveryState::Pending,
            attempt_count: 0,
            attempts: Vec::new(),
            lease_owner: None,
            lease_until: None,
            next_attempt_at: created_at,
            retries_allowed: job.redelivery == 0,
            reply_message_id: None,
            created_at,
            expires_at: created_at + keep_for,
        }
    }

    /// Whether `owner` may take the lease at `now`.
    #[must_use]
    pub fn claimable(&self, now: Millis) -> bool {
        !self.state.is_final() && self.next_attempt_at <= now && self.lease_until.is_none_or(|until| until <= now)
    }
}

/// The outcome of an attempt, as recorded by the lease holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptOutcome {
    pub attempt: Attempt,
    pub state: DeliveryState,
    /// For [`DeliveryState::Retrying`]: when to try again.
    pub next_attempt_at: Millis,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> DeliveryJob {
        DeliveryJob { realm_id: 1, message_id: 42, bot_id: 7, trigger: Trigger::Mention, redelivery: 0 }
    }

    #[test]
    fn a_redelivery_keeps_the_webhook_id_but_not_the_delivery_id() {
        let first = job();
        let again = DeliveryJob { redelivery: 1, ..job() };
        assert_eq!(first.webhook_id(), again.webhook_id());
        assert_eq!(first.delivery_id().to_string(), "42-7");
        assert_eq!(again.delivery_id().to_string(), "42-7-r1");
        assert_eq!("42-7-r1".parse::<DeliveryId>(), Ok(again.delivery_id()));
        for bad in ["", "42", "42-x", "42-7-r0", "42-7-1", "42-7-r1-2"] {
            assert!(bad.parse::<DeliveryId>().is_err(), "{bad}");
        }
        assert!(!Delivery::new(&again, 0, 1).retries_allowed);
    }

    #[test]
    fn a_leased_or_backed_off_delivery_cannot_be_claimed() {
        let mut d = Delivery::new(&job(), 1_000, 10);
        assert!(d.claimable(1_000));
        d.lease_until = Some(2_000);
        assert!(!d.claimable(1_999));
        assert!(d.claimable(2_000));
        d.next_attempt_at = 5_000;
        assert!(!d.claimable(4_999));
        d.state = DeliveryState::Delivered;
        assert!(!d.claimable(9_999));
    }
}
