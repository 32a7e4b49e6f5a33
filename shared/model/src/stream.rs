//! Streams (Zulip's channels): named conversations split into topics.

use serde::{Deserialize, Serialize};

use crate::{Millis, RealmId};

pub type StreamId = u64;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stream {
    pub realm_id: RealmId,
    pub id: StreamId,
    /// Unique within the realm, compared case-insensitively (see [`name_key`]).
    pub name: String,
    pub description: String,
    pub created_at: Millis,
}

/// The form of a stream name that uniqueness and lookups use.
#[must_use]
pub fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}
