//! `GET /api/v1/server_settings`: what a client learns before logging in.

use hookline_edge::Services;
use hookline_edge::services::VERSION;
use serde_json::{Value, json};

/// The Zulip server version whose API Hookline follows, and its feature level.
pub const ZULIP_VERSION: &str = "9.0";
pub const ZULIP_FEATURE_LEVEL: u32 = 278;

pub fn get(services: &Services) -> Value {
    json!({
        "zulip_version": ZULIP_VERSION,
        "zulip_feature_level": ZULIP_FEATURE_LEVEL,
        "zulip_merge_base": ZULIP_VERSION,
        "hookline_version": VERSION,
        "push_notifications_enabled": false,
        "is_incompatible": false,
        "email_auth_enabled": false,
        "require_email_format_usernames": true,
        "authentication_methods": {"password": false, "dev": false, "email": false, "ldap": false},
        "external_authentication_methods": [],
        "realm_uri": services.settings.public_url,
        "realm_url": services.settings.public_url,
    })
}
