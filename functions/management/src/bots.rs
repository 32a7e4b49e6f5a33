//! Bots: creation (generic, incoming webhook, outgoing webhook), listing, changes, key and
//! signing-secret rotation, deactivation. Only a bot's owner or a realm admin may see or
//! change a bot.

use hookline_delivery::schedule::RetrySchedule;
use hookline_edge::auth::Caller;
use hookline_edge::params::Params;
use hookline_edge::{ApiError, Services};
use hookline_model::credentials::{ApiKeyHash, generate_api_key, generate_service_token, generate_signing_secret};
use hookline_model::store::StoreError;
use hookline_model::user::{BotService, BotType, Interface, NewUser, Role, SigningSecrets, Triggers};
use hookline_model::{StreamId, User, UserId};
use serde_json::{Value, json};

use crate::{render, validate};

const MAX_TRIGGER_WORDS: usize = 20;
const MAX_TRIGGER_WORD: usize = 50;

fn bot_type(params: &Params) -> Result<BotType, ApiError> {
    let raw = params.optional_u64("bot_type")?.unwrap_or(1);
    u8::try_from(raw)
        .ok()
        .and_then(|v| BotType::try_from(v).ok())
        .ok_or_else(|| ApiError::bad_request("Invalid bot type"))
}

fn interface(params: &Params, names: &[&str]) -> Result<Option<Interface>, ApiError> {
    for name in names {
        if let Some(raw) = params.optional_u64(name)? {
            return u8::try_from(raw)
                .ok()
                .and_then(|v| Interface::try_from(v).ok())
                .map(Some)
                .ok_or_else(|| ApiError::bad_request("Invalid interface type"));
        }
    }
    Ok(None)
}

fn trigger_words(params: &Params) -> Result<Option<Vec<String>>, ApiError> {
    let Some(words) = params.optional_json::<Vec<String>>("trigger_words")? else {
        return Ok(None);
    };
    if words.len() > MAX_TRIGGER_WORDS {
        return Err(ApiError::bad_request(format!("At most {MAX_TRIGGER_WORDS} trigger words")));
    }
    words
        .into_iter()
        .map(|w| {
            let w = w.trim().to_lowercase();
            if w.is_empty() || w.chars().count() > MAX_TRIGGER_WORD || w.chars().any(char::is_whitespace) {
                Err(ApiError::bad_request(format!("Invalid trigger word '{w}'")))
            } else {
                Ok(w)
            }
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// `retry_schedule`: the bot's own schedule for retrying failed deliveries, in the syntax of
/// `HOOKLINE_RETRY_SCHEDULE` (`5s,30s,2m`); empty goes back to the deployment's. `None` when
/// the parameter is absent, `Some(None)` to clear it.
fn retry_schedule(params: &Params) -> Result<Option<Option<String>>, ApiError> {
    params.optional_str("retry_schedule")?.map(|text| parse_retry_schedule(&text)).transpose()
}

fn parse_retry_schedule(text: &str) -> Result<Option<String>, ApiError> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    RetrySchedule::parse(text)
        .map(|schedule| Some(schedule.to_string()))
        .map_err(|e| ApiError::bad_request(format!("Invalid retry_schedule: {e}")))
}

/// `stream_triggers`: stream names or ids whose every message triggers the bot.
async fn stream_triggers(
    services: &Services,
    caller: &Caller,
    params: &Params,
) -> Result<Option<Vec<StreamId>>, ApiError> {
    let Some(streams) = params.optional_json::<Vec<Value>>("stream_triggers")? else {
        return Ok(None);
    };
    let mut ids = Vec::new();
    for stream in streams {
        let found = match &stream {
            Value::Number(n) => match n.as_u64() {
                Some(id) => services.store.get_stream(caller.realm.id, id).await?,
                None => None,
            },
            Value::String(name) => services.store.find_stream(caller.realm.id, name).await?,
            _ => None,
        };
        let stream_name = stream.as_str().map_or_else(|| stream.to_string(), str::to_owned);
        let found = found.ok_or_else(|| ApiError::stream_does_not_exist(&stream_name))?;
        if !ids.contains(&found.id) {
            ids.push(found.id);
        }
    }
    Ok(Some(ids))
}

pub async fn create(services: &Services, caller: &Caller, params: &Params) -> Result<Value, ApiError> {
    let full_name = validate::name("Name", &params.str("full_name")?)?;
    let short_name = validate::short_name(&params.str("short_name")?)?;
    let bot_type = bot_type(params)?;
    let now = services.clock.now();
    let email = format!("{short_name}-bot@{}", caller.realm.host);
    let service = match bot_type {
        BotType::Generic => None,
        BotType::OutgoingWebhook | BotType::IncomingWebhook => {
            let base_url = if bot_type == BotType::OutgoingWebhook {
                validate::endpoint_url("payload_url", &params.str("payload_url")?)?
            } else {
                String::new()
            };
            Some(BotService {
                realm_id: caller.realm.id,
                bot_id: 0,
                base_url,
                interface: interface(params, &["interface_type", "service_interface"])?.unwrap_or(Interface::Zulip),
                token: generate_service_token(),
                signing: SigningSecrets {
                    current: generate_signing_secret(),
                    previous: None,
                    previous_expires_at: None,
                },
                webhook_secret: params.optional_str("webhook_secret")?.filter(|s| !s.is_empty()),
                triggers: Triggers {
                    all_messages_in: stream_triggers(services, caller, params).await?.unwrap_or_default(),
                    trigger_words: trigger_words(params)?.unwrap_or_default(),
                },
                is_active: bot_type == BotType::OutgoingWebhook,
                deactivated_reason: None,
                failing_since: None,
                last_owner_notice_at: None,
                retry_schedule: retry_schedule(params)?.flatten(),
                updated_at: now,
            })
        }
    };
    let api_key = generate_api_key();
    let new = NewUser {
        email: email.clone(),
        full_name,
        role: Role::Member,
        bot_type: Some(bot_type),
        bot_owner_id: Some(caller.user.id),
        api_key_hash: ApiKeyHash::of(&api_key),
        service: service.clone(),
    };
    let bot = match services.store.create_user(caller.realm.id, new, now).await {
        Err(StoreError::EmailTaken) => return Err(ApiError::bad_request("Username already in use")),
        other => other?,
    };
    tracing::info!(realm = caller.realm.id, bot = bot.id, bot_type = u8::from(bot_type), "bot created");
    let mut answer = json!({
        "user_id": bot.id,
        "email": bot.email,
        "full_name": bot.full_name,
        "api_key": api_key,
        "bot_type": u8::from(bot_type),
        "avatar_url": null,
        "default_sending_stream": null,
        "default_events_register_stream": null,
        "default_all_public_streams": false,
    });
    if let (BotType::OutgoingWebhook, Some(service)) = (bot_type, &service) {
        answer["services"] = json!([{
            "base_url": service.base_url,
            "interface": u8::from(service.interface),
            "token": service.token,
            "signing_secret": service.signing.current,
            "retry_schedule": service.retry_schedule,
        }]);
    }
    Ok(answer)
}

/// The bot `id` of the caller's realm, if the caller may manage it.
pub(crate) async fn managed_bot(services: &Services, caller: &Caller, id: UserId) -> Result<User, ApiError> {
    let bot = services
        .store
        .get_user(caller.realm.id, id)
        .await?
        .filter(User::is_bot)
        .ok_or_else(|| ApiError::bad_request("No such bot"))?;
    if bot.bot_owner_id != Some(caller.user.id) && !caller.user.role.is_admin() {
        return Err(ApiError::forbidden("Insufficient permission"));
    }
    Ok(bot)
}

async fn stream_names(services: &Services, service: &BotService) -> Result<Vec<String>, ApiError> {
    let mut names = Vec::new();
    for id in &service.triggers.all_messages_in {
        if let Some(stream) = services.store.get_stream(service.realm_id, *id).await? {
            names.push(stream.name);
        }
    }
    Ok(names)
}

async fn bot_json(services: &Services, bot: &User) -> Result<Value, ApiError> {
    let mut entry = json!({
        "user_id": bot.id,
        "username": bot.email,
        "email": bot.email,
        "full_name": bot.full_name,
        "bot_type": bot.bot_type.map(u8::from),
        "is_active": bot.is_active,
        "owner_id": bot.bot_owner_id,
        "avatar_url": null,
        "services": [],
    });
    if let Some(service) = services.store.get_service(bot.realm_id, bot.id).await? {
        let names = stream_names(services, &service).await?;
        entry["services"] = json!([render::service(&service, &names)]);
        entry["services"][0]["retry_schedule"] = json!(service.retry_schedule);
    }
    Ok(entry)
}

pub async fn list(services: &Services, caller: &Caller) -> Result<Value, ApiError> {
    let mut bots = Vec::new();
    for user in services.store.list_users(caller.realm.id).await? {
        if user.is_bot() && (user.bot_owner_id == Some(caller.user.id) || caller.user.role.is_admin()) {
            bots.push(bot_json(services, &user).await?);
        }
    }
    Ok(json!({"bots": bots}))
}

pub async fn update(services: &Services, caller: &Caller, id: UserId, params: &Params) -> Result<Value, ApiError> {
    let bot = managed_bot(services, caller, id).await?;
    let full_name = params.optional_str("full_name")?.map(|n| validate::name("Name", &n)).transpose()?;
    let payload_url = params
        .optional_str_of(&["service_payload_url", "payload_url"])?
        .map(|u| validate::endpoint_url("payload_url", &u))
        .transpose()?;
    let interface = interface(params, &["service_interface", "interface_type"])?;
    let words = trigger_words(params)?;
    let streams = stream_triggers(services, caller, params).await?;
    let webhook_secret = params.optional_str("webhook_secret")?;
    let service_active = params.optional_bool("service_is_active")?;
    let schedule = retry_schedule(params)?;
    let touches_service = schedule.is_some()
        || payload_url.is_some()
        || interface.is_some()
        || words.is_some()
        || streams.is_some()
        || webhook_secret.is_some()
        || service_active.is_some();

    if touches_service {
        let mut service = services
            .store
            .get_service(caller.realm.id, bot.id)
            .await?
            .ok_or_else(|| ApiError::bad_request("This bot has no service to change"))?;
        let read_at = service.updated_at;
        let is_outgoing = bot.bot_type == Some(BotType::OutgoingWebhook);
        let outgoing_only = payload_url.is_some() || interface.is_some() || words.is_some() || streams.is_some();
        if (outgoing_only || schedule.is_some()) && !is_outgoing {
            return Err(ApiError::bad_request("Only outgoing webhook bots have an endpoint and triggers"));
        }
        if let Some(url) = payload_url {
            service.base_url = url;
        }
        if let Some(interface) = interface {
            service.interface = interface;
        }
        if let Some(words) = words {
            service.triggers.trigger_words = words;
        }
        if let Some(streams) = streams {
            service.triggers.all_messages_in = streams;
        }
        if let Some(secret) = webhook_secret {
            service.webhook_secret = Some(secret).filter(|s| !s.is_empty());
        }
        if let Some(schedule) = schedule {
            service.retry_schedule = schedule;
        }
        if is_outgoing {
            // Changing an outgoing service re-enables it (after an automatic shutdown)
            // unless the request says otherwise.
            service.is_active = service_active.unwrap_or(true);
            if service.is_active {
                service.deactivated_reason = None;
                service.failing_since = None;
            }
        }
        service.updated_at = services.clock.now().max(read_at + 1);
        services.store.update_service(&service, read_at).await?;
    }
    if let Some(name) = full_name {
        services.store.set_full_name(caller.realm.id, bot.id, &name).await?;
    }
    let bot =
        services.store.get_user(caller.realm.id, bot.id).await?.ok_or_else(|| ApiError::bad_request("No such bot"))?;
    bot_json(services, &bot).await
}

pub async fn deactivate(services: &Services, caller: &Caller, id: UserId) -> Result<Value, ApiError> {
    let bot = managed_bot(services, caller, id).await?;
    let users = services.store.list_users(caller.realm.id).await?;
    crate::users::deactivate_with_everything_owned(services, caller.realm.id, &users, bot.id).await?;
    Ok(json!({}))
}

pub async fn regenerate_api_key(services: &Services, caller: &Caller, id: UserId) -> Result<Value, ApiError> {
    let bot = managed_bot(services, caller, id).await?;
    let api_key = generate_api_key();
    services.store.replace_api_key(caller.realm.id, bot.id, ApiKeyHash::of(&api_key)).await?;
    Ok(json!({"api_key": api_key}))
}

pub async fn rotate_signing_secret(services: &Services, caller: &Caller, id: UserId) -> Result<Value, ApiError> {
    let bot = managed_bot(services, caller, id).await?;
    if bot.bot_type != Some(BotType::OutgoingWebhook) {
        return Err(ApiError::bad_request("Only outgoing webhook bots sign their requests"));
    }
    let mut service = services
        .store
        .get_service(caller.realm.id, bot.id)
        .await?
        .ok_or_else(|| ApiError::bad_request("This bot has no service"))?;
    let read_at = service.updated_at;
    let now = services.clock.now();
    let overlap = i64::try_from(services.settings.secret_overlap.as_millis()).unwrap_or(i64::MAX);
    service.signing = service.signing.rotated(generate_signing_secret(), now, overlap);
    service.updated_at = now.max(read_at + 1);
    services.store.update_service(&service, read_at).await?;
    Ok(json!({
        "signing_secret": service.signing.current,
        "previous_signing_secret_expires_at": service.signing.previous_expires_at.map(render::seconds),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retry_schedule_is_stored_in_its_plain_form_and_empty_clears_it() {
        assert_eq!(parse_retry_schedule(" 5s, 60s ,2h").unwrap(), Some("5s,1m,2h".to_owned()));
        assert_eq!(parse_retry_schedule("").unwrap(), None);
        assert_eq!(parse_retry_schedule("  ").unwrap(), None);
    }

    #[test]
    fn an_invalid_retry_schedule_is_a_bad_request_that_says_why() {
        for (bad, why) in [
            ("5s,soon", "invalid retry delay \"soon\": expected a whole number and a unit (ms, s, m, h)"),
            ("1d", "invalid retry delay \"1d\": expected a whole number and a unit (ms, s, m, h)"),
            ("13h", "invalid retry delay \"13h\": at most 12h"),
            ("1s,1s,1s,1s,1s,1s,1s,1s,1s", "the retry schedule has 9 waits; at most 8 are allowed"),
        ] {
            let error = parse_retry_schedule(bad).unwrap_err();
            assert_eq!(error, ApiError::bad_request(format!("Invalid retry_schedule: {why}")), "{bad}");
        }
    }
}
