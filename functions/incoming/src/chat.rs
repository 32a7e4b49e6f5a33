//! Testing integrations through chat: the owner of an incoming-webhook bot DMs it
//! `!webhook test /<integration> [event] <body>` and the bot answers in the DM with the topic
//! and message the integration would send (or its error), sending nothing anywhere else;
//! `!webstatus` answers with the bot's URL for every integration and its event types. Anyone
//! else, and anything else, gets a one-line usage answer. Pure: the caller posts the answer.

use hookline_model::{Realm, User};
use serde_json::Value;

use crate::http::{Rendered, Rendering, integration_error, parse_body, rendering};
use crate::integration::{Integration, IntegrationError, Payload};
use crate::integrations::{INTEGRATIONS, find};

/// The one-line answer to anything that is not a command the bot understands.
pub const USAGE: &str = "Usage: `!webhook test /<integration> [event] <JSON or form body>` previews what an integration would send; `!webstatus` lists this bot's webhook URLs.";

/// The answer of `bot` to a direct message `content` from `asker`.
#[must_use]
pub fn answer(realm: &Realm, bot: &User, asker: &User, content: &str) -> String {
    let command = content.trim();
    if bot.bot_owner_id != Some(asker.id) {
        return format!("Only this bot's owner can use its commands. {USAGE}");
    }
    if command == "!webstatus" {
        return status(realm, bot);
    }
    match command.strip_prefix("!webhook test ").map(str::trim_start) {
        Some(rest) => test(rest),
        None => USAGE.to_owned(),
    }
}

/// `/<integration> [event] <body>`.
fn test(rest: &str) -> String {
    let Some(rest) = rest.strip_prefix('/') else { return USAGE.to_owned() };
    let (name, rest) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let Some(integration) = find(name) else {
        return format!("There is no integration `{name}`. {USAGE}");
    };
    let rest = rest.trim();
    // An event name may precede the body for integrations that read one from a header.
    let (event, body) = match rest.split_once(char::is_whitespace) {
        Some((first, body)) if integration.event_header().is_some() && !looks_like_body(first) => {
            (Some(first), body.trim())
        }
        _ => (None, rest),
    };
    if body.is_empty() {
        return USAGE.to_owned();
    }
    let content_type = if looks_like_json(body) { "application/json" } else { "application/x-www-form-urlencoded" };
    let parsed: Value = match parse_body(content_type, body.as_bytes()) {
        Ok(parsed) => parsed,
        Err(error) => return format!("The {} webhook would answer {}: {}", name, error.status.as_u16(), error.msg),
    };
    if let Some(header) = integration.event_header()
        && event.is_none()
    {
        let error = integration_error(IntegrationError::MissingEventHeader(header));
        return format!(
            "The {name} webhook would answer {}: {} (put the event's name before the body)",
            error.status.as_u16(),
            error.msg
        );
    }
    let payload = Payload { event_type: event, headers: &[], body: &parsed, raw: body.as_bytes(), params: &[] };
    match integration.handle(&payload).map(|handled| rendering(&payload, handled)) {
        Ok(Rendering { event, messages, .. }) if messages.is_empty() => {
            format!("The {name} webhook would send nothing: it ignores this `{event}` event.")
        }
        Ok(Rendering { event, messages, .. }) => {
            let mut out = format!("The {name} webhook would send (event `{event}`):");
            for Rendered { topic, content, .. } in messages {
                let fence = fence_for(&content);
                out.push_str(&format!("\n\n**Topic:** {topic}\n{fence}quote\n{content}\n{fence}"));
            }
            out
        }
        Err(error) => {
            let error = integration_error(error);
            format!("The {name} webhook would answer {}: {}", error.status.as_u16(), error.msg)
        }
    }
}

fn looks_like_json(text: &str) -> bool {
    text.starts_with('{') || text.starts_with('[')
}

fn looks_like_body(word: &str) -> bool {
    looks_like_json(word) || word.contains('=')
}

/// A code fence longer than any run of backticks in `content`, so the quote holds it whole.
fn fence_for(content: &str) -> String {
    let longest = content.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

/// Every integration's URL for this bot, the key masked, with the events it can filter on.
fn status(realm: &Realm, bot: &User) -> String {
    let mut out = format!(
        "Webhook URLs for @**{}** (put the bot's API key in place of `****`, and add `&stream=…&topic=…`):",
        bot.full_name
    );
    for integration in INTEGRATIONS {
        out.push_str(&format!(
            "\n* **{}**: `{}/api/v1/external/{}?api_key=****`; events: {}",
            integration.display_name(),
            realm.public_url,
            integration.name(),
            event_list(*integration)
        ));
    }
    out
}

fn event_list(integration: &dyn Integration) -> String {
    let events = integration.event_types();
    if events.is_empty() {
        return "all".to_owned();
    }
    events.iter().map(|e| format!("`{e}`")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use hookline_model::credentials::ApiKeyHash;
    use hookline_model::user::{BotType, Role};

    use super::*;

    fn user(id: u64, owner: Option<u64>) -> User {
        User {
            realm_id: 1,
            id,
            email: format!("u{id}@acme.test"),
            full_name: format!("User {id}"),
            role: Role::Member,
            bot_type: owner.map(|_| BotType::IncomingWebhook),
            bot_owner_id: owner,
            is_active: true,
            api_key_hash: ApiKeyHash::of("k"),
            created_at: 0,
        }
    }

    fn realm() -> Realm {
        Realm {
            id: 1,
            string_id: "acme".into(),
            name: "Acme".into(),
            host: "acme.test".into(),
            public_url: "https://acme.test".into(),
            created_at: 0,
            directory_version: 0,
        }
    }

    #[test]
    fn the_owner_previews_a_json_body() {
        let (bot, owner) = (user(2, Some(1)), user(1, None));
        let text = answer(&realm(), &bot, &owner, "!webhook test /json {\"deploy\": \"done\"}");
        assert!(text.starts_with("The json webhook would send (event `json`):"), "{text}");
        assert!(text.contains("\"deploy\": \"done\""), "{text}");
    }

    #[test]
    fn an_event_name_may_precede_the_body() {
        let (bot, owner) = (user(2, Some(1)), user(1, None));
        let ping = r#"{"zen": "Keep it logically awesome.", "hook_id": 1, "sender": {"login": "octocat"}, "repository": {"full_name": "octo/hello", "name": "hello"}}"#;
        let text = answer(&realm(), &bot, &owner, &format!("!webhook test /github ping {ping}"));
        assert!(text.contains("**Topic:** hello"), "{text}");
        let text = answer(&realm(), &bot, &owner, &format!("!webhook test /github {ping}"));
        assert!(text.contains("Missing the HTTP event header 'X-GitHub-Event'"), "{text}");
    }

    #[test]
    fn form_bodies_and_errors_are_answered() {
        let (bot, owner) = (user(2, Some(1)), user(1, None));
        let text = answer(&realm(), &bot, &owner, "!webhook test /slack_incoming payload=%7B%22text%22%3A%22hi%22%7D");
        assert!(text.contains("hi"), "{text}");
        let text = answer(&realm(), &bot, &owner, "!webhook test /json {\"a\":");
        assert_eq!(text, "The json webhook would answer 400: Malformed JSON");
        let text = answer(&realm(), &bot, &owner, "!webhook test /nope {}");
        assert!(text.starts_with("There is no integration `nope`."), "{text}");
    }

    #[test]
    fn status_lists_every_integration_with_the_key_masked() {
        let (bot, owner) = (user(2, Some(1)), user(1, None));
        let text = answer(&realm(), &bot, &owner, "!webstatus");
        for integration in INTEGRATIONS {
            assert!(text.contains(&format!("https://acme.test/api/v1/external/{}?api_key=****", integration.name())));
        }
        assert!(text.contains("`push`"), "github's events are listed: {text}");
    }

    #[test]
    fn others_and_anything_else_get_one_line_of_usage() {
        let (bot, owner, stranger) = (user(2, Some(1)), user(1, None), user(3, None));
        assert!(answer(&realm(), &bot, &stranger, "!webstatus").starts_with("Only this bot's owner"));
        for text in ["hello", "!webhook", "!webhook test", "!webhook test json {}", "!webhook test /json"] {
            let got = answer(&realm(), &bot, &owner, text);
            assert_eq!(got, USAGE, "{text}");
            assert!(!got.contains('\n'));
        }
    }

    #[test]
    fn fences_outgrow_the_backticks_inside() {
        assert_eq!(fence_for("plain"), "```");
        assert_eq!(fence_for("a ```` b"), "`````");
    }
}
