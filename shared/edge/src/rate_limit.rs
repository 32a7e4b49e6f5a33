//! Zulip's rate limits: every authenticated user (or bot) may make so many requests per
//! window, and every client address may fail authentication so many times per window. Over
//! either, the answer is 429 `RATE_LIMIT_HIT` with `Retry-After`.
//!
//! An address that used up its failures is refused before its key is even looked at, so a
//! right guess made after the limit is refused like a wrong one. Each request makes at most
//! one counting write (its user's or its address's). When the counters cannot be reached the
//! request goes through with a warning: the limits must not lock everyone out.

use hookline_model::rate_limit::{RateKey, RateLimit};
use hookline_model::user::User;
use lambda_http::RequestExt as _;
use lambda_http::request::RequestContext;

use crate::{ApiError, Request, Services};

/// Zulip's default: 200 API requests a minute per user.
pub const DEFAULT_USER_LIMIT: u32 = 200;
/// Failed authentications a minute per client address.
pub const DEFAULT_AUTH_FAILURE_LIMIT: u32 = 20;
pub const DEFAULT_WINDOW_MS: i64 = 60_000;

const USER_SCOPE: &str = "user";
const AUTH_FAILURE_SCOPE: &str = "authfail";

/// The deployment's limits; `None` turns one off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    pub per_user: Option<RateLimit>,
    pub auth_failures_per_address: Option<RateLimit>,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            per_user: RateLimit::new(DEFAULT_USER_LIMIT, DEFAULT_WINDOW_MS),
            auth_failures_per_address: RateLimit::new(DEFAULT_AUTH_FAILURE_LIMIT, DEFAULT_WINDOW_MS),
        }
    }
}

impl RateLimits {
    /// No limits at all.
    #[must_use]
    pub fn off() -> Self {
        Self { per_user: None, auth_failures_per_address: None }
    }
}

/// Counts one request of an authenticated user; 429 once the user's window is full.
pub async fn count_request(services: &Services, user: &User) -> Result<(), ApiError> {
    let Some(limit) = services.settings.rate_limits.per_user else { return Ok(()) };
    let key = RateKey { scope: USER_SCOPE, id: format!("{}:{}", user.realm_id, user.id) };
    let now = services.clock.now();
    let window = limit.window_at(now);
    match services.store.take(&key, window, limit.limit).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(ApiError::rate_limited(window.retry_after_seconds(now))),
        Err(e) => {
            tracing::warn!(error = %e, "rate-limit counter unavailable; request let through");
            Ok(())
        }
    }
}

/// 429 if the request's address has used up its failed authentications in this window.
pub async fn refuse_blocked_address(services: &Services, request: &Request) -> Result<(), ApiError> {
    let Some((limit, key)) = address_limit(services, request) else { return Ok(()) };
    let now = services.clock.now();
    let window = limit.window_at(now);
    match services.store.counted(&key, window).await {
        Ok(n) if n >= limit.limit => Err(ApiError::rate_limited(window.retry_after_seconds(now))),
        Ok(_) => Ok(()),
        Err(e) => {
            tracing::warn!(error = %e, "rate-limit counter unavailable; request let through");
            Ok(())
        }
    }
}

/// Counts a failed authentication (a 401) against the request's address: the answer is the
/// failure itself, or 429 once the address's window is full.
pub async fn count_auth_failure(services: &Services, request: &Request, failure: ApiError) -> ApiError {
    if failure.status != lambda_http::http::StatusCode::UNAUTHORIZED {
        return failure;
    }
    let Some((limit, key)) = address_limit(services, request) else { return failure };
    let now = services.clock.now();
    let window = limit.window_at(now);
    match services.store.take(&key, window, limit.limit).await {
        Ok(true) => failure,
        Ok(false) => {
            tracing::warn!(address = %key.id, "failed authentications over the limit");
            ApiError::rate_limited(window.retry_after_seconds(now))
        }
        Err(e) => {
            tracing::warn!(error = %e, "rate-limit counter unavailable; failure not counted");
            failure
        }
    }
}

fn address_limit(services: &Services, request: &Request) -> Option<(RateLimit, RateKey)> {
    let limit = services.settings.rate_limits.auth_failures_per_address?;
    let address = client_address(request)?;
    Some((limit, RateKey { scope: AUTH_FAILURE_SCOPE, id: address }))
}

/// The client's address as API Gateway saw it.
fn client_address(request: &Request) -> Option<String> {
    match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.http.source_ip.clone().filter(|ip| !ip.is_empty()),
        _ => None,
    }
}
