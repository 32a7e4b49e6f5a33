//! `--demo`: a realm, its owner and a stream, so a newcomer can send a first message at once.

use hookline_edge::Services;
use hookline_model::credentials::{ApiKeyHash, generate_api_key};
use hookline_model::realm::NewRealm;
use hookline_model::store::StoreError;
use hookline_model::user::{NewUser, Role};

pub const REALM: &str = "demo";
pub const OWNER_EMAIL: &str = "owner@demo.localhost";
pub const STREAM: &str = "general";

/// What `--demo` prints.
pub struct DemoCredentials {
    pub email: String,
    pub api_key: String,
    pub stream: String,
}

/// Creates the demo realm, or, when it exists already (a `--data-dir` restart), gives its
/// owner a fresh API key: only key hashes are stored, so the old key cannot be shown again.
pub async fn seed(services: &Services) -> Result<DemoCredentials, StoreError> {
    let api_key = generate_api_key();
    let now = services.clock.now();
    let realm = match services.store.find_realm(REALM).await? {
        Some(realm) => {
            let owner = services
                .store
                .find_user_by_email(realm.id, OWNER_EMAIL)
                .await?
                .ok_or(StoreError::NotFound("demo owner"))?;
            services.store.replace_api_key(realm.id, owner.id, ApiKeyHash::of(&api_key)).await?;
            realm
        }
        None => {
            let realm = NewRealm {
                string_id: REALM.into(),
                name: "Demo".into(),
                host: format!("{REALM}.localhost"),
                public_url: services.settings.public_url.clone(),
            };
            let owner = NewUser {
                email: OWNER_EMAIL.into(),
                full_name: "Demo Owner".into(),
                role: Role::Owner,
                bot_type: None,
                bot_owner_id: None,
                api_key_hash: ApiKeyHash::of(&api_key),
                service: None,
            };
            services.store.create_realm(realm, owner, now).await?.0
        }
    };
    let stream = match services.store.find_stream(realm.id, STREAM).await? {
        Some(stream) => stream,
        None => services.store.create_stream(realm.id, STREAM, "Say hello", now).await?,
    };
    let owner =
        services.store.find_user_by_email(realm.id, OWNER_EMAIL).await?.ok_or(StoreError::NotFound("demo owner"))?;
    services.store.subscribe(realm.id, owner.id, stream.id).await?;
    Ok(DemoCredentials { email: OWNER_EMAIL.into(), api_key, stream: stream.name })
}
