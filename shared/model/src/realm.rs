//! A realm: one organization, with its own users, bots, streams and messages.

use serde::{Deserialize, Serialize};

use crate::Millis;

pub type RealmId = u64;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Realm {
    pub id: RealmId,
    /// The short name used in URLs and bot emails, unique across the deployment.
    pub string_id: String,
    pub name: String,
    /// The host bot emails are formed with: `<short_name>-bot@<host>`.
    pub host: String,
    /// Where the realm's web app lives; message links in notices point here.
    pub public_url: String,
    pub created_at: Millis,
    /// Moves forward in the same commit as every change to the realm's users, bot services
    /// and streams, so a directory cached at an older version is known to be stale.
    #[serde(default)]
    pub directory_version: u64,
}

/// What is needed to create a realm; the store assigns the id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRealm {
    pub string_id: String,
    pub name: String,
    pub host: String,
    pub public_url: String,
}
