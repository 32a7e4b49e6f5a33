//! Users: list, create (admins), the caller's own profile, deactivation (admins).

use hookline_edge::auth::Caller;
use hookline_edge::params::Params;
use hookline_edge::{ApiError, Services};
use hookline_model::credentials::{ApiKeyHash, generate_api_key};
use hookline_model::store::StoreError;
use hookline_model::user::{NewUser, Role};
use hookline_model::{User, UserId};
use serde_json::{Value, json};

use crate::{render, validate};

pub async fn list(services: &Services, caller: &Caller) -> Result<Value, ApiError> {
    let users = services.store.list_users(caller.realm.id).await?;
    Ok(json!({"members": users.iter().map(render::user).collect::<Vec<_>>()}))
}

pub async fn me(services: &Services, caller: &Caller) -> Result<Value, ApiError> {
    let mut profile = render::user(&caller.user);
    profile["max_message_id"] = json!(services.store.last_message_id(caller.realm.id).await?);
    Ok(profile)
}

pub async fn create(services: &Services, caller: &Caller, params: &Params) -> Result<Value, ApiError> {
    caller.require_admin()?;
    let email = validate::email(&params.str("email")?)?;
    let full_name = validate::name("Full name", &params.str("full_name")?)?;
    let api_key = generate_api_key();
    let new = NewUser {
        email: email.clone(),
        full_name,
        role: Role::Member,
        bot_type: None,
        bot_owner_id: None,
        api_key_hash: ApiKeyHash::of(&api_key),
        service: None,
    };
    let user = match services.store.create_user(caller.realm.id, new, services.clock.now()).await {
        Err(StoreError::EmailTaken) => return Err(ApiError::bad_request(format!("Email '{email}' already in use"))),
        other => other?,
    };
    Ok(json!({"user_id": user.id, "email": user.email, "api_key": api_key}))
}

/// Deactivates a user and the bots they own, as Zulip does. The realm keeps at least one
/// active owner.
pub async fn deactivate(services: &Services, caller: &Caller, id: UserId) -> Result<Value, ApiError> {
    caller.require_admin()?;
    let realm = caller.realm.id;
    let users = services.store.list_users(realm).await?;
    let target =
        users.iter().find(|u| u.id == id && !u.is_bot()).ok_or_else(|| ApiError::bad_request("No such user"))?;
    if target.role == Role::Owner
        && !users.iter().any(|u| u.id != id && u.role == Role::Owner && u.is_active && !u.is_bot())
    {
        return Err(ApiError::bad_request("Cannot deactivate the only organization owner"));
    }
    deactivate_with_everything_owned(services, realm, &users, id).await?;
    Ok(json!({}))
}

/// Deactivates `id` and every bot it owns, and every bot those own, and so on: no key of
/// theirs keeps working. Owned bots go first, so a failure part way leaves `id` active for
/// the caller to try again rather than leaving a working key behind a deactivated owner.
pub(crate) async fn deactivate_with_everything_owned(
    services: &Services,
    realm: hookline_model::RealmId,
    users: &[User],
    id: UserId,
) -> Result<(), ApiError> {
    let mut owned = vec![id];
    let mut next = 0;
    while let Some(&owner) = owned.get(next) {
        next += 1;
        let bots: Vec<UserId> =
            users.iter().filter(|u| u.bot_owner_id == Some(owner) && !owned.contains(&u.id)).map(|u| u.id).collect();
        owned.extend(bots);
    }
    for &user in owned.iter().rev() {
        if users.iter().any(|u| u.id == user && u.is_active) {
            services.store.set_user_active(realm, user, false).await?;
        }
    }
    Ok(())
}
