//! Users, human or bot, and the outgoing-webhook service a bot may have.

use serde::{Deserialize, Serialize};

use crate::{Millis, RealmId, StreamId};

pub type UserId = u64;

/// A realm role, with Zulip's numeric values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Admin,
    Member,
}

impl Role {
    /// Zulip's `role` value for this role.
    #[must_use]
    pub fn zulip_value(self) -> u16 {
        match self {
            Self::Owner => 100,
            Self::Admin => 200,
            Self::Member => 400,
        }
    }

    /// Owners and admins administer the realm.
    #[must_use]
    pub fn is_admin(self) -> bool {
        matches!(self, Self::Owner | Self::Admin)
    }
}

/// Zulip's bot types. Embedded bots (4) are not offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub enum BotType {
    Generic = 1,
    IncomingWebhook = 2,
    OutgoingWebhook = 3,
}

impl From<BotType> for u8 {
    fn from(t: BotType) -> u8 {
        t as u8
    }
}

impl TryFrom<u8> for BotType {
    type Error = String;
    fn try_from(v: u8) -> Result<Self, String> {
        match v {
            1 => Ok(Self::Generic),
            2 => Ok(Self::IncomingWebhook),
            3 => Ok(Self::OutgoingWebhook),
            other => Err(format!("unknown bot type {other}")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub realm_id: RealmId,
    pub id: UserId,
    /// Unique within the realm, compared case-insensitively (see [`email_key`]).
    pub email: String,
    pub full_name: String,
    pub role: Role,
    /// `None` for humans.
    pub bot_type: Option<BotType>,
    /// The human who owns a bot.
    pub bot_owner_id: Option<UserId>,
    pub is_active: bool,
    /// SHA-256 of the current API key.
    pub api_key_hash: crate::credentials::ApiKeyHash,
    pub created_at: Millis,
}

impl User {
    #[must_use]
    pub fn is_bot(&self) -> bool {
        self.bot_type.is_some()
    }
}

/// What is needed to create a user; the store assigns the id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUser {
    pub email: String,
    pub full_name: String,
    pub role: Role,
    pub bot_type: Option<BotType>,
    pub bot_owner_id: Option<UserId>,
    /// SHA-256 of the user's API key; the key itself is never stored.
    pub api_key_hash: crate::credentials::ApiKeyHash,
    /// An outgoing-webhook bot's service, created in the same commit as the bot
    /// (`realm_id` and `bot_id` are filled in by the store).
    pub service: Option<BotService>,
}

/// The form of an email that uniqueness and lookups use.
#[must_use]
pub fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// The payload format an outgoing webhook speaks, with Zulip's numeric values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub enum Interface {
    Zulip = 1,
    Slack = 2,
}

impl From<Interface> for u8 {
    fn from(i: Interface) -> u8 {
        i as u8
    }
}

impl TryFrom<u8> for Interface {
    type Error = String;
    fn try_from(v: u8) -> Result<Self, String> {
        match v {
            1 => Ok(Self::Zulip),
            2 => Ok(Self::Slack),
            other => Err(format!("unknown interface {other}")),
        }
    }
}

/// The Standard Webhooks secrets a service signs with. During a rotation the previous secret
/// keeps signing alongside the current one until `previous_expires_at`; that rule is checked
/// against the clock on read ([`SigningSecrets::active`]), never left to a TTL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningSecrets {
    /// `whsec_<base64>`.
    pub current: String,
    pub previous: Option<String>,
    pub previous_expires_at: Option<Millis>,
}

impl SigningSecrets {
    /// The secrets to sign with at `now`: the current one, plus the previous one while it lasts.
    #[must_use]
    pub fn active(&self, now: Millis) -> Vec<&str> {
        let mut secrets = vec![self.current.as_str()];
        if let (Some(previous), Some(expires)) = (&self.previous, self.previous_expires_at)
            && now < expires
        {
            secrets.push(previous.as_str());
        }
        secrets
    }

    /// Makes `new` the current secret; the old one signs too until `now + overlap`.
    #[must_use]
    pub fn rotated(&self, new: String, now: Millis, overlap: Millis) -> Self {
        Self { current: new, previous: Some(self.current.clone()), previous_expires_at: Some(now + overlap) }
    }
}

/// What makes an outgoing bot fire. Mentions and direct messages always do (as in Zulip);
/// beyond Zulip, every message in chosen streams, or messages whose first word is a trigger word.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Triggers {
    #[serde(default)]
    pub all_messages_in: Vec<StreamId>,
    #[serde(default)]
    pub trigger_words: Vec<String>,
}

/// An outgoing webhook bot's service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BotService {
    pub realm_id: RealmId,
    pub bot_id: UserId,
    /// The endpoint Hookline POSTs to.
    pub base_url: String,
    pub interface: Interface,
    /// Sent in every payload so the receiver can tell the request is ours.
    pub token: String,
    pub signing: SigningSecrets,
    /// Secret third parties sign incoming webhooks with (incoming-webhook bots).
    pub webhook_secret: Option<String>,
    #[serde(default)]
    pub triggers: Triggers,
    pub is_active: bool,
    /// Why the service was switched off automatically, if it was.
    pub deactivated_reason: Option<String>,
    /// When the current streak of failed deliveries began; a success clears it.
    pub failing_since: Option<Millis>,
    /// When the bot's owner was last told about a failing delivery (notices are rate limited).
    #[serde(default)]
    pub last_owner_notice_at: Option<Millis>,
    /// The bot's own retry schedule for failed deliveries (`2s,4s,8s` style), when it has one
    /// instead of the deployment's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_schedule: Option<String>,
    pub updated_at: Millis,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previous_secret_signs_only_until_it_expires() {
        // GIVEN a rotation with a one-hour overlap
        let secrets = SigningSecrets { current: "whsec_old".into(), previous: None, previous_expires_at: None }
            .rotated("whsec_new".into(), 1_000, 3_600_000);
        // THEN both sign during the overlap, only the new one after it
        assert_eq!(secrets.active(1_000 + 3_599_999), vec!["whsec_new", "whsec_old"]);
        assert_eq!(secrets.active(1_000 + 3_600_000), vec!["whsec_new"]);
    }

    #[test]
    fn a_service_stored_before_retry_schedules_existed_still_reads() {
        let stored = serde_json::json!({
            "realm_id": 1, "bot_id": 2, "base_url": "https://bots.example.com", "interface": 1,
            "token": "t", "signing": {"current": "whsec_x", "previous": null, "previous_expires_at": null},
            "webhook_secret": null, "is_active": true, "deactivated_reason": null, "failing_since": null,
            "updated_at": 0,
        });
        let service: BotService = serde_json::from_value(stored).unwrap();
        assert_eq!(service.retry_schedule, None);
        let mut with = service.clone();
        with.retry_schedule = Some("5s,30s".into());
        let read_back: BotService = serde_json::from_value(serde_json::to_value(&with).unwrap()).unwrap();
        assert_eq!(read_back, with);
    }

    #[test]
    fn bot_type_and_interface_keep_zulips_numbers() {
        assert_eq!(u8::from(BotType::OutgoingWebhook), 3);
        assert_eq!(BotType::try_from(2), Ok(BotType::IncomingWebhook));
        assert!(BotType::try_from(4).is_err());
        assert_eq!(Interface::try_from(2), Ok(Interface::Slack));
        assert_eq!(Role::Admin.zulip_value(), 200);
    }
}
