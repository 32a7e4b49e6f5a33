//! A realm's directory (users, outgoing services, streams), read in a few queries and kept by
//! a warm function for as long as it is current: mention resolution and trigger matching then
//! cost no AWS round trip. The worker also re-checks that a bot and its service are still
//! active before it delivers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use hookline_model::store::{Store, StoreResult};
use hookline_model::user::{BotService, email_key};
use hookline_model::{Realm, RealmId, Stream, StreamId, User, UserId};

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

/// Directories by realm. A cached directory is used only while the realm, as the caller just
/// read it, still has the directory version the directory was loaded at: every change to
/// users, services and streams moves that version in the same commit, so a directory that
/// could miss a bot, a name or a trigger rule is never used, and reusing a fresh one costs no
/// round trip beyond the realm read the caller already made.
#[derive(Default)]
pub struct DirectoryCache {
    entries: Mutex<HashMap<RealmId, Arc<Directory>>>,
}

impl DirectoryCache {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The realm's directory: the cached one if `realm` (freshly read) has not moved past it.
    pub async fn get(&self, store: &dyn Store, realm: &Realm) -> StoreResult<Arc<Directory>> {
        if let Some(found) = self.current(realm) {
            return Ok(found);
        }
        self.reload(store, realm).await
    }

    /// Reads the directory again. It is at least as new as `realm`'s version, since the
    /// realm was read before its users, services and streams are.
    async fn reload(&self, store: &dyn Store, realm: &Realm) -> StoreResult<Arc<Directory>> {
        let directory = Arc::new(Directory::load(store, realm.clone()).await?);
        let mut entries = self.lock();
        // Keep whichever of two concurrent loads saw the newer realm.
        let newer =
            entries.get(&realm.id).is_none_or(|cached| cached.realm.directory_version <= realm.directory_version);
        if newer {
            entries.insert(realm.id, directory.clone());
        }
        Ok(directory)
    }

    fn current(&self, realm: &Realm) -> Option<Arc<Directory>> {
        self.lock().get(&realm.id).filter(|cached| cached.realm.directory_version == realm.directory_version).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<RealmId, Arc<Directory>>> {
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use hookline_model::credentials::ApiKeyHash;
    use hookline_model::realm::NewRealm;
    use hookline_model::store::memory::MemoryStore;
    use hookline_model::store::{RealmStore, StreamStore};
    use hookline_model::user::{NewUser, Role};

    use super::*;

    async fn realm_with_owner(store: &MemoryStore) -> Realm {
        let owner = NewUser {
            email: "ada@acme.example".into(),
            full_name: "Ada".into(),
            role: Role::Owner,
            bot_type: None,
            bot_owner_id: None,
            api_key_hash: ApiKeyHash::of("k"),
            service: None,
        };
        let new =
            NewRealm { string_id: "acme".into(), name: "Acme".into(), host: "acme".into(), public_url: "x".into() };
        store.create_realm(new, owner, 1).await.unwrap().0
    }

    #[tokio::test]
    async fn a_cached_directory_is_reused_until_the_realm_moves_on() {
        let store = MemoryStore::new();
        let realm = realm_with_owner(&store).await;
        let cache = DirectoryCache::new();
        let first = cache.get(&store, &realm).await.unwrap();
        let again = cache.get(&store, &realm).await.unwrap();
        assert!(Arc::ptr_eq(&first, &again), "same version: no reload");

        store.create_stream(realm.id, "new", "", 2).await.unwrap();
        let realm = store.get_realm(realm.id).await.unwrap().unwrap();
        let after = cache.get(&store, &realm).await.unwrap();
        assert!(after.stream_named("new").is_some(), "a stream created a moment ago is seen at once");
    }

    #[tokio::test]
    async fn an_older_realm_read_never_replaces_a_newer_directory() {
        let store = MemoryStore::new();
        let old = realm_with_owner(&store).await;
        store.create_stream(old.id, "new", "", 2).await.unwrap();
        let new = store.get_realm(old.id).await.unwrap().unwrap();
        let cache = DirectoryCache::new();
        cache.get(&store, &new).await.unwrap();
        cache.reload(&store, &old).await.unwrap();
        let kept = cache.current(&new).expect("the newer directory stays cached");
        assert_eq!(kept.realm.directory_version, new.directory_version);
    }
}
