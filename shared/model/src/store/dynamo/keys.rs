//! The single table's key design. Every item has a string `PK` and `SK`; numbers in sort keys
//! are zero-padded so that string order is numeric order. `docs/ARCHITECTURE.md` lists the
//! access pattern each key serves.

use crate::Millis;
use crate::delivery::DeliveryId;
use crate::message::MessageId;
use crate::realm::RealmId;
use crate::stream::StreamId;
use crate::user::UserId;

pub type Key = (String, String);

/// Outbox entries are spread over this many partitions; the sweep reads them all.
pub const OUTBOX_SHARDS: u64 = 8;

pub fn realm_pk(realm: RealmId) -> String {
    format!("REALM#{realm}")
}

pub fn realm(realm: RealmId) -> Key {
    (realm_pk(realm), "REALM".into())
}

pub fn realm_name(string_id: &str) -> Key {
    (format!("REALMNAME#{string_id}"), "REALMNAME".into())
}

pub fn realm_counter() -> Key {
    ("COUNTER".into(), "REALM".into())
}

/// A rate-limit counter: one item per key and window, named by the window's start.
pub fn rate_counter(scope: &str, id: &str, window_start: Millis) -> Key {
    (format!("RATE#{scope}#{id}"), format!("{window_start:015}"))
}

pub fn user(realm: RealmId, user: UserId) -> Key {
    (realm_pk(realm), format!("USER#{user:012}"))
}

pub const USER_PREFIX: &str = "USER#";

pub fn email(realm: RealmId, email_key: &str) -> Key {
    (realm_pk(realm), format!("EMAIL#{email_key}"))
}

pub fn api_key(hash: &str) -> Key {
    (format!("APIKEY#{hash}"), "APIKEY".into())
}

pub fn user_counter(realm: RealmId) -> Key {
    (realm_pk(realm), "COUNTER#USER".into())
}

pub fn stream(realm: RealmId, stream: StreamId) -> Key {
    (realm_pk(realm), format!("STREAM#{stream:012}"))
}

pub const STREAM_PREFIX: &str = "STREAM#";

pub fn stream_name(realm: RealmId, name_key: &str) -> Key {
    (realm_pk(realm), format!("STREAMNAME#{name_key}"))
}

pub fn stream_counter(realm: RealmId) -> Key {
    (realm_pk(realm), "COUNTER#STREAM".into())
}

pub fn subscription(realm: RealmId, user: UserId, stream: StreamId) -> Key {
    (realm_pk(realm), format!("SUB#{user:012}#{stream:012}"))
}

pub fn subscriptions_prefix(user: UserId) -> String {
    format!("SUB#{user:012}#")
}

pub fn service(realm: RealmId, bot: UserId) -> Key {
    (realm_pk(realm), format!("SERVICE#{bot:012}"))
}

pub const SERVICE_PREFIX: &str = "SERVICE#";

/// The partition holding every message of a realm, and its id counter.
pub fn messages_pk(realm: RealmId) -> String {
    format!("REALM#{realm}#MSG")
}

/// Sorts before every message id, so range reads over ids never see it.
pub fn message_counter(realm: RealmId) -> Key {
    (messages_pk(realm), "#SEQ".into())
}

pub fn message_sk(id: MessageId) -> String {
    format!("{id:016}")
}

pub fn stream_messages_pk(realm: RealmId, stream: StreamId) -> String {
    format!("REALM#{realm}#STREAM#{stream:012}")
}

pub fn topic_messages_pk(realm: RealmId, stream: StreamId, topic: &str) -> String {
    format!("REALM#{realm}#TOPIC#{stream:012}#{}", topic.to_lowercase())
}

pub fn direct_messages_pk(realm: RealmId, user_ids: &[UserId]) -> String {
    let ids: Vec<String> = user_ids.iter().map(ToString::to_string).collect();
    format!("REALM#{realm}#DM#{}", ids.join(","))
}

pub fn outbox(realm: RealmId, message: MessageId) -> Key {
    (outbox_pk(realm % OUTBOX_SHARDS), format!("{realm:012}#{message:016}"))
}

pub fn outbox_pk(shard: u64) -> String {
    format!("OUTBOX#{shard}")
}

pub fn idempotency(realm: RealmId, sender: UserId, key: &str) -> Key {
    (format!("REALM#{realm}#IDEM#{sender:012}#{key}"), "IDEM".into())
}

pub fn deliveries_pk(realm: RealmId, bot: UserId) -> String {
    format!("REALM#{realm}#BOT#{bot:012}#DLV")
}

pub fn delivery(realm: RealmId, id: DeliveryId) -> Key {
    (deliveries_pk(realm, id.bot_id), format!("{:016}#{:06}", id.message_id, id.redelivery))
}

/// The partition of one bot's storage: its entries and its size counter.
pub fn bot_storage_pk(realm: RealmId, bot: UserId) -> String {
    format!("REALM#{realm}#BOT#{bot:012}#STORAGE")
}

/// The running total of the bot's storage (characters of keys and values).
pub fn bot_storage_size(realm: RealmId, bot: UserId) -> Key {
    (bot_storage_pk(realm, bot), "#SIZE".into())
}

/// Sort keys of storage entries start with this; the size counter's does not.
pub const BOT_STORAGE_ENTRY_PREFIX: &str = "E#";

/// An entry, by the SHA-256 of its key: any key fits a sort key, and no two collide.
pub fn bot_storage_entry(realm: RealmId, bot: UserId, key: &str) -> Key {
    use sha2::Digest as _;
    (bot_storage_pk(realm, bot), format!("{BOT_STORAGE_ENTRY_PREFIX}{}", hex::encode(sha2::Sha256::digest(key))))
}
