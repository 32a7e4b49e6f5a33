//! Users, streams and bots as Zulip's API shows them.

use hookline_model::user::{BotService, Role};
use hookline_model::{Stream, User};
use serde_json::{Value, json};

/// Seconds since the epoch, as Zulip's timestamps are.
pub fn seconds(millis: i64) -> i64 {
    millis / 1000
}

fn iso8601(millis: i64) -> String {
    let secs = millis.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = hookline_model::clock::civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}+00:00", rem / 3600, rem % 3600 / 60, rem % 60)
}

pub fn user(user: &User) -> Value {
    json!({
        "user_id": user.id,
        "email": user.email,
        "delivery_email": user.email,
        "full_name": user.full_name,
        "is_active": user.is_active,
        "is_bot": user.is_bot(),
        "bot_type": user.bot_type.map(u8::from),
        "bot_owner_id": user.bot_owner_id,
        "role": user.role.zulip_value(),
        "is_owner": user.role == Role::Owner,
        "is_admin": user.role.is_admin(),
        "is_guest": false,
        "date_joined": iso8601(user.created_at),
        "timezone": "",
        "avatar_url": null,
    })
}

pub fn stream(stream: &Stream) -> Value {
    json!({
        "stream_id": stream.id,
        "name": stream.name,
        "description": stream.description,
        "rendered_description": stream.description,
        "date_created": seconds(stream.created_at),
        "invite_only": false,
        "is_web_public": false,
        "is_announcement_only": false,
        "stream_post_policy": 1,
        "history_public_to_subscribers": true,
    })
}

/// A bot's service as its owner sees it. The incoming `webhook_secret` is never shown whole.
pub fn service(service: &BotService, stream_names: &[String]) -> Value {
    json!({
        "base_url": service.base_url,
        "interface": u8::from(service.interface),
        "token": service.token,
        "signing_secret": service.signing.current,
        "previous_signing_secret_expires_at": service.signing.previous_expires_at.map(seconds),
        "trigger_words": service.triggers.trigger_words,
        "stream_triggers": stream_names,
        "is_active": service.is_active,
        "deactivated_reason": service.deactivated_reason,
        "webhook_secret": service.webhook_secret.as_deref().map(mask),
    })
}

/// `••••abcd`: enough to recognise a secret, not to use it.
pub fn mask(secret: &str) -> String {
    let tail: String = secret.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    format!("••••{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_render_in_iso8601() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00+00:00");
        assert_eq!(iso8601(1_700_000_000_000), "2023-11-14T22:13:20+00:00");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00+00:00");
    }

    #[test]
    fn secrets_are_masked() {
        assert_eq!(mask("supersecret"), "••••cret");
        assert_eq!(mask("ab"), "••••ab");
    }
}
