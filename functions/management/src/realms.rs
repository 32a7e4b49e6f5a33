//! `POST /api/v1/realms`: the deployment admin creates an organization and its owner.

use hookline_edge::params::Params;
use hookline_edge::{ApiError, Services};
use hookline_model::credentials::{ApiKeyHash, generate_api_key};
use hookline_model::realm::NewRealm;
use hookline_model::store::StoreError;
use hookline_model::user::{NewUser, Role};
use serde_json::{Value, json};

use crate::validate;

pub async fn create(services: &Services, params: &Params) -> Result<Value, ApiError> {
    let string_id = validate::string_id(&params.str("string_id")?)?;
    let name = validate::name("Organization name", &params.str("name")?)?;
    let owner_email = validate::email(&params.str("owner_email")?)?;
    let owner_full_name = validate::name("Full name", &params.str("owner_full_name")?)?;
    let host = match params.optional_str("host")? {
        Some(host) => host.trim().to_lowercase(),
        None => format!("{string_id}.{}", services.settings.realm_domain),
    };
    let public_url = match params.optional_str("url")? {
        Some(url) => validate::endpoint_url("url", &url)?,
        None => services.settings.public_url.clone(),
    };
    let api_key = generate_api_key();
    let owner = NewUser {
        email: owner_email,
        full_name: owner_full_name,
        role: Role::Owner,
        bot_type: None,
        bot_owner_id: None,
        api_key_hash: ApiKeyHash::of(&api_key),
        service: None,
    };
    let realm = NewRealm { string_id, name, host, public_url };
    let (realm, owner) = match services.store.create_realm(realm, owner, services.clock.now()).await {
        Err(StoreError::RealmExists) => {
            return Err(ApiError::bad_request("An organization with this string_id already exists"));
        }
        other => other?,
    };
    tracing::info!(realm = realm.id, string_id = realm.string_id, "realm created");
    Ok(json!({
        "realm_id": realm.id,
        "string_id": realm.string_id,
        "name": realm.name,
        "host": realm.host,
        "url": realm.public_url,
        "owner": {"user_id": owner.id, "email": owner.email, "full_name": owner.full_name, "api_key": api_key},
    }))
}
