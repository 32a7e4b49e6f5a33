//! Streams and subscriptions. Subscribing to a stream that does not exist creates it.

use hookline_edge::auth::Caller;
use hookline_edge::params::Params;
use hookline_edge::{ApiError, Services};
use hookline_model::store::StoreError;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{render, validate};

#[derive(Deserialize)]
struct Subscription {
    name: String,
    #[serde(default)]
    description: String,
}

pub async fn list(services: &Services, caller: &Caller) -> Result<Value, ApiError> {
    let streams = services.store.list_streams(caller.realm.id).await?;
    Ok(json!({"streams": streams.iter().map(render::stream).collect::<Vec<_>>()}))
}

pub async fn subscriptions(services: &Services, caller: &Caller) -> Result<Value, ApiError> {
    let realm = caller.realm.id;
    let mut subscriptions = Vec::new();
    for id in services.store.subscriptions(realm, caller.user.id).await? {
        if let Some(stream) = services.store.get_stream(realm, id).await? {
            let mut entry = render::stream(&stream);
            entry["subscribers"] = json!([]);
            entry["color"] = json!("#76ce90");
            entry["pin_to_top"] = json!(false);
            entry["is_muted"] = json!(false);
            subscriptions.push(entry);
        }
    }
    Ok(json!({"subscriptions": subscriptions}))
}

pub async fn subscribe(services: &Services, caller: &Caller, params: &Params) -> Result<Value, ApiError> {
    let wanted: Vec<Subscription> = params.json("subscriptions")?;
    if wanted.is_empty() {
        return Err(ApiError::bad_request("Nothing to subscribe to"));
    }
    // Validate everything before creating anything.
    let wanted = wanted
        .into_iter()
        .map(|s| Ok((validate::stream_name(&s.name)?, s.description)))
        .collect::<Result<Vec<_>, ApiError>>()?;
    let realm = caller.realm.id;
    let already = services.store.subscriptions(realm, caller.user.id).await?;
    let (mut subscribed, mut already_subscribed) = (Vec::new(), Vec::new());
    for (name, description) in wanted {
        let stream = match services.store.find_stream(realm, &name).await? {
            Some(stream) => stream,
            None => match services.store.create_stream(realm, &name, &description, services.clock.now()).await {
                Ok(stream) => stream,
                // Someone created it meanwhile: use theirs.
                Err(StoreError::StreamExists) => services
                    .store
                    .find_stream(realm, &name)
                    .await?
                    .ok_or_else(|| ApiError::from(StoreError::Conflict))?,
                Err(e) => return Err(e.into()),
            },
        };
        if already.contains(&stream.id) {
            already_subscribed.push(stream.name);
        } else {
            services.store.subscribe(realm, caller.user.id, stream.id).await?;
            subscribed.push(stream.name);
        }
    }
    let email = &caller.user.email;
    Ok(json!({
        "subscribed": if subscribed.is_empty() { json!({}) } else { json!({ email: subscribed }) },
        "already_subscribed": if already_subscribed.is_empty() { json!({}) } else { json!({ email: already_subscribed }) },
    }))
}
