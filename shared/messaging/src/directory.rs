//! A realm's directory (users, outgoing services, streams), read in a few queries and kept
//! for a short time by a warm function: mention resolution and trigger matching then cost no
//! AWS round trip. Staleness is bounded by the lifetime, and the worker re-checks that a bot
//! and its service are still active before it delivers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hookline_model::store::{Store, StoreResult};
use hookline_model::user::{BotService, email_key};
use hookline_model::{Realm, RealmId, Stream, StreamId, User, UserId};

/// How long a cached directory is used.
pub const DIRECTORY_LIFETIME: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct Directory {
    pub realm: Realm,
    pub users: Vec<User>,
    pub services: Vec<BotService>,
    pub streams: Vec<Stream>,
}

impl Directory {
    pub async fn load(store: &dyn Store, realm: Realm) -> StoreResult<Self> {
        let (users, services, streams) =
            tokio::try_join!(store.list_users(realm.id), store.list_services(realm.id), store.list_streams(realm.id))?;
        Ok(Self { realm, users, services, streams })
    }

    #[must_use]
    pub fn user(&self, id: UserId) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    #[must_use]
    pub fn user_by_email(&self, email: &str) -> Option<&User> {
        let key = email_key(email);
        self.users.iter().find(|u| email_key(&u.email) == key)
    }

    /// Users whose full name is `name`, compared case-insensitively.
    pub fn users_named<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a User> + use<'a> {
        let name = name.to_lowercase();
        self.users.iter().filter(move |u| u.full_name.to_lowercase() == name)
    }

    #[must_use]
    pub fn stream(&self, id: StreamId) -> Option<&Stream> {
        self.streams.iter().find(|s| s.id == id)
    }

    #[must_use]
    pub fn stream_named(&self, name: &str) -> Option<&Stream> {
        let key = hookline_model::stream::name_key(name);
        self.streams.iter().find(|s| hookline_model::stream::name_key(&s.name) == key)
    }

    #[must_use]
    pub fn service(&self, bot: UserId) -> Option<&BotService> {
        self.services.iter().find(|s| s.bot_id == bot)
    }
}

/// Directories by realm, each used for [`DIRECTORY_LIFETIME`].
#[derive(Default)]
pub struct DirectoryCache {
    entries: Mutex<HashMap<RealmId, (Arc<Directory>, Instant)>>,
}

impl DirectoryCache {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The realm's directory, from the cache while it is fresh.
    pub async fn get(&self, store: &dyn Store, realm: &Realm) -> StoreResult<Arc<Directory>> {
        if let Some(found) = self.fresh(realm.id) {
            return Ok(found);
        }
        self.reload(store, realm).await
    }

    /// Reads the directory again (after a miss that a newer directory may answer).
    pub async fn reload(&self, store: &dyn Store, realm: &Realm) -> StoreResult<Arc<Directory>> {
        let directory = Arc::new(Directory::load(store, realm.clone()).await?);
        self.lock().insert(realm.id, (directory.clone(), Instant::now()));
        Ok(directory)
    }

    /// Whether the cached directory was loaded a moment ago (a reload would not help).
    #[must_use]
    pub fn just_loaded(&self, realm: RealmId) -> bool {
        self.lock().get(&realm).is_some_and(|(_, at)| at.elapsed() < Duration::from_millis(200))
    }

    fn fresh(&self, realm: RealmId) -> Option<Arc<Directory>> {
        self.lock().get(&realm).filter(|(_, at)| at.elapsed() < DIRECTORY_LIFETIME).map(|(d, _)| d.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<RealmId, (Arc<Directory>, Instant)>> {
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
