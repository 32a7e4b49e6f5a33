//! `GET`, `PUT` and `DELETE /api/v1/bot_storage`: a bot's own key-value storage, as Zulip's
//! bot framework uses it. Keys and values are text; a bot holds at most
//! [`STORAGE_SIZE_LIMIT`] characters of keys and values together.

use std::collections::BTreeMap;

use hookline_edge::auth::Caller;
use hookline_edge::params::Params;
use hookline_edge::{ApiError, Services};
use hookline_model::store::StoreError;
use serde_json::{Value, json};

/// Zulip's `USER_STATE_SIZE_LIMIT`, per bot.
pub const STORAGE_SIZE_LIMIT: u64 = 10_000_000;

/// The most bytes one entry (key and value) may take: it is one item of the table.
pub const MAX_ENTRY_BYTES: usize = 350 * 1024;

fn require_bot(caller: &Caller) -> Result<(), ApiError> {
    if caller.user.is_bot() { Ok(()) } else { Err(ApiError::bad_request("This endpoint is only available to bots.")) }
}

fn key_does_not_exist() -> ApiError {
    ApiError::bad_request("Key does not exist.")
}

/// `keys`: a JSON list of strings, or absent (every key).
fn keys(params: &Params) -> Result<Option<Vec<String>>, ApiError> {
    let Some(value) = params.optional_json::<Value>("keys")? else { return Ok(None) };
    let Value::Array(items) = value else { return Err(ApiError::bad_request("keys is not a list")) };
    let keys = items
        .into_iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::String(key) => Ok(key),
            _ => Err(ApiError::bad_request(format!("keys[{i}] is not a string"))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    // Zulip reads an empty list as "every key".
    Ok(if keys.is_empty() { None } else { Some(keys) })
}

pub async fn get(services: &Services, caller: &Caller, params: &Params) -> Result<Value, ApiError> {
    require_bot(caller)?;
    let wanted = keys(params)?;
    let found = services.store.bot_storage(caller.realm.id, caller.user.id, wanted.as_deref()).await?;
    if wanted.is_some_and(|keys| keys.iter().any(|k| !found.contains_key(k))) {
        return Err(key_does_not_exist());
    }
    Ok(json!({"storage": found}))
}

pub async fn put(services: &Services, caller: &Caller, params: &Params) -> Result<Value, ApiError> {
    require_bot(caller)?;
    let storage: Value = params.json("storage")?;
    let Value::Object(map) = storage else { return Err(ApiError::bad_request("storage is not a dict")) };
    let mut entries = BTreeMap::new();
    for (key, value) in map {
        let Value::String(value) = value else {
            return Err(ApiError::bad_request(format!("storage[\"{key}\"] is not a string")));
        };
        if key.len() + value.len() > MAX_ENTRY_BYTES {
            return Err(ApiError::bad_request(format!(
                "The entry for key \"{key}\" is larger than {MAX_ENTRY_BYTES} bytes."
            )));
        }
        entries.insert(key, value);
    }
    services.store.put_bot_storage(caller.realm.id, caller.user.id, &entries, STORAGE_SIZE_LIMIT).await?;
    Ok(json!({}))
}

pub async fn remove(services: &Services, caller: &Caller, params: &Params) -> Result<Value, ApiError> {
    require_bot(caller)?;
    let keys = match keys(params)? {
        Some(keys) => keys,
        None => services.store.bot_storage(caller.realm.id, caller.user.id, None).await?.into_keys().collect(),
    };
    match services.store.remove_bot_storage(caller.realm.id, caller.user.id, &keys).await {
        Err(StoreError::NotFound(_)) => Err(key_does_not_exist()),
        other => other.map(|()| json!({})).map_err(ApiError::from),
    }
}
