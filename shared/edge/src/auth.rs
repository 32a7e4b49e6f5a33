//! Who is calling: HTTP Basic `email:api_key` for users and bots, `Bearer <admin key>` for
//! the deployment admin. Keys are hashed before anything else touches them and never logged.

use base64::Engine as _;
use hookline_model::credentials::{ApiKeyHash, secrets_equal};
use hookline_model::user::{BotType, email_key};
use hookline_model::{Realm, User};

use crate::routes::{INCOMING_BOT_ROUTES, manages_bots, route_key};
use crate::{ApiError, Request, Services, rate_limit};

/// An authenticated, active user (or bot) and their realm.
#[derive(Debug, Clone)]
pub struct Caller {
    pub realm: Realm,
    pub user: User,
}

impl Caller {
    /// Owners and admins administer the realm.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.user.role.is_admin() {
            Ok(())
        } else {
            Err(ApiError::forbidden("Must be an organization administrator"))
        }
    }
}

fn authorization(request: &Request) -> Option<&str> {
    request.headers().get("authorization").and_then(|v| v.to_str().ok())
}

/// The caller of a request authenticated with HTTP Basic `email:api_key`, within the rate
/// limits (see [`crate::rate_limit`]).
pub async fn authenticate(services: &Services, request: &Request) -> Result<Caller, ApiError> {
    let header = authorization(request).ok_or_else(ApiError::unauthorized)?;
    let caller = limited(services, request, basic_caller(services, header)).await?;
    check_route_access(&caller.user, &route_key(request))?;
    Ok(caller)
}

/// The caller an API key given in the request (not its `Authorization` header) belongs to,
/// within the rate limits, as incoming webhooks authenticate.
pub async fn authenticate_key(services: &Services, request: &Request, api_key: &str) -> Result<Caller, ApiError> {
    limited(services, request, caller_for_key(services, api_key, None)).await
}

/// The caller named by HTTP Basic `email:api_key`, if the request carries that header: how
/// services that put credentials in the URL's user part (Beanstalk's
/// `https://bot%40example.com:key@host/…`) authenticate to an incoming webhook. `None` without
/// the header; no route check (the caller's route is its own integration's).
pub async fn authenticate_basic_if_present(services: &Services, request: &Request) -> Option<Result<Caller, ApiError>> {
    let header = authorization(request)?;
    Some(limited(services, request, basic_caller(services, header)).await)
}

/// Runs an authentication unless the request's address is over its failures, counts a
/// failure against the address and a success against the caller.
async fn limited(
    services: &Services,
    request: &Request,
    authentication: impl std::future::Future<Output = Result<Caller, ApiError>>,
) -> Result<Caller, ApiError> {
    rate_limit::refuse_blocked_address(services, request).await?;
    let caller = match authentication.await {
        Ok(caller) => caller,
        Err(failure) => return Err(rate_limit::count_auth_failure(services, request, failure).await),
    };
    rate_limit::count_request(services, &caller.user).await?;
    Ok(caller)
}

async fn basic_caller(services: &Services, header: &str) -> Result<Caller, ApiError> {
    let (scheme, credentials) = header.split_once(' ').ok_or_else(ApiError::unauthorized)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(ApiError::unauthorized());
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(credentials.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(ApiError::unauthorized)?;
    let (email, api_key) = decoded.split_once(':').ok_or_else(ApiError::unauthorized)?;
    caller_for_key(services, api_key, Some(email)).await
}

/// Refuses the routes a kind of caller may not use, with Zulip's words: an incoming-webhook
/// bot's key may only send messages; bots may not manage bots.
fn check_route_access(user: &User, route: &str) -> Result<(), ApiError> {
    if user.bot_type == Some(BotType::IncomingWebhook) && !INCOMING_BOT_ROUTES.contains(&route) {
        return Err(ApiError::bad_request("This API is not available to incoming webhook bots."));
    }
    if user.is_bot() && manages_bots(route) {
        return Err(ApiError::bad_request("This endpoint does not accept bot requests."));
    }
    Ok(())
}

/// The active user an API key belongs to; with `email`, the key must also be that user's.
pub async fn caller_for_key(services: &Services, api_key: &str, email: Option<&str>) -> Result<Caller, ApiError> {
    let (realm_id, user_id) =
        services.store.authenticate(&ApiKeyHash::of(api_key)).await?.ok_or_else(ApiError::invalid_api_key)?;
    // Both reads at once: a request waits for one round trip, not two.
    let (user, realm) =
        tokio::try_join!(services.store.get_user(realm_id, user_id), services.store.get_realm(realm_id))?;
    let (user, realm) = (user.ok_or_else(ApiError::invalid_api_key)?, realm.ok_or_else(ApiError::invalid_api_key)?);
    if email.is_some_and(|email| email_key(email) != email_key(&user.email)) {
        return Err(ApiError::invalid_api_key());
    }
    if !user.is_active {
        return Err(ApiError::user_deactivated());
    }
    Ok(Caller { realm, user })
}

/// Checks `Authorization: Bearer <admin key>` against the deployment's admin key.
pub fn require_deployment_admin(services: &Services, request: &Request) -> Result<(), ApiError> {
    let Some(expected) = &services.settings.admin_key_hash else {
        return Err(ApiError::forbidden("This deployment has no admin key"));
    };
    let token = authorization(request)
        .and_then(|h| h.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or_else(ApiError::unauthorized)?;
    if secrets_equal(ApiKeyHash::of(token).as_str().as_bytes(), expected.as_str().as_bytes()) {
        Ok(())
    } else {
        Err(ApiError::invalid_api_key())
    }
}
