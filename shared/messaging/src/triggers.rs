//! Which outgoing bots a message triggers, by Zulip's rules plus Hookline's stream and
//! trigger-word rules. Pure: it reads the directory and the message, nothing else.
//!
//! - Nothing a bot sends triggers a bot (the loop guard; it covers a bot mentioning itself).
//! - A stream message triggers each active outgoing bot it @-mentions (not silently, not by
//!   wildcard, not inside code or a quote), with `mention`.
//! - A direct message triggers each active outgoing bot among its recipients, with
//!   `direct_message`; mentioning a bot in a DM it is not part of does nothing.
//! - Beyond Zulip, on streams: a service watching the stream fires with `stream_message`, and
//!   one whose trigger word is the message's first word with `trigger_word`.

use hookline_model::delivery::Trigger;
use hookline_model::user::BotType;
use hookline_model::{Recipient, User, UserId};

use crate::directory::Directory;
use crate::mentions::{MentionTarget, user_mentions};

/// The user a mention target names, if exactly one does.
#[must_use]
pub fn resolve<'a>(directory: &'a Directory, target: &MentionTarget) -> Option<&'a User> {
    match target {
        MentionTarget::Id(id) => directory.user(*id),
        MentionTarget::NameAndId(name, id) => {
            directory.user(*id).filter(|u| u.full_name.to_lowercase() == name.to_lowercase())
        }
        MentionTarget::Name(name) => {
            let mut named = directory.users_named(name);
            let first = named.next();
            // An ambiguous name mentions nobody; Zulip asks for `@**Name|id**` then.
            if named.next().is_some() { None } else { first }
        }
        MentionTarget::Wildcard(_) => None,
    }
}

/// Whether `user` is a bot whose outgoing service would receive a trigger now.
fn is_live_outgoing_bot(directory: &Directory, user: &User) -> bool {
    user.is_active
        && user.bot_type == Some(BotType::OutgoingWebhook)
        && directory.service(user.id).is_some_and(|s| s.is_active)
}

/// The bots `content`, sent by `sender` to `recipient`, triggers, each once, in a stable order.
#[must_use]
pub fn triggered_bots(
    directory: &Directory,
    sender: &User,
    recipient: &Recipient,
    content: &str,
) -> Vec<(UserId, Trigger)> {
    if sender.is_bot() {
        return Vec::new();
    }
    let mut fired: Vec<(UserId, Trigger)> = Vec::new();
    let mut fire = |bot: UserId, trigger: Trigger| {
        if bot != sender.id && !fired.iter().any(|(b, _)| *b == bot) {
            fired.push((bot, trigger));
        }
    };
    match recipient {
        Recipient::Direct { user_ids } => {
            for id in user_ids {
                if let Some(user) = directory.user(*id)
                    && is_live_outgoing_bot(directory, user)
                {
                    fire(user.id, Trigger::DirectMessage);
                }
            }
        }
        Recipient::Stream { stream_id, .. } => {
            for target in user_mentions(content) {
                if let Some(user) = resolve(directory, &target)
                    && is_live_outgoing_bot(directory, user)
                {
                    fire(user.id, Trigger::Mention);
                }
            }
            let first_word = content.split_whitespace().next().map(str::to_lowercase);
            for service in directory.services.iter().filter(|s| s.is_active) {
                let Some(bot) = directory.user(service.bot_id).filter(|u| is_live_outgoing_bot(directory, u)) else {
                    continue;
                };
                if service.triggers.all_messages_in.contains(stream_id) {
                    fire(bot.id, Trigger::StreamMessage);
                } else if first_word.as_ref().is_some_and(|w| service.triggers.trigger_words.contains(w)) {
                    fire(bot.id, Trigger::TriggerWord);
                }
            }
        }
    }
    fired
}

#[cfg(test)]
mod tests {
    use hookline_model::Realm;
    use hookline_model::credentials::ApiKeyHash;
    use hookline_model::user::{BotService, Interface, Role, SigningSecrets, Triggers};

    use super::*;

    fn user(id: UserId, name: &str, bot: Option<BotType>) -> User {
        User {
            realm_id: 1,
            id,
            email: format!("u{id}@acme.example"),
            full_name: name.into(),
            role: Role::Member,
            bot_type: bot,
            bot_owner_id: bot.map(|_| 1),
            is_active: true,
            api_key_hash: ApiKeyHash::of(&id.to_string()),
            created_at: 0,
        }
    }

    fn service(bot: UserId, triggers: Triggers) -> BotService {
        BotService {
            realm_id: 1,
            bot_id: bot,
            base_url: "https://bots.example.com".into(),
            interface: Interface::Zulip,
            token: "t".into(),
            signing: SigningSecrets { current: "whsec_x".into(), previous: None, previous_expires_at: None },
            webhook_secret: None,
            triggers,
            is_active: true,
            deactivated_reason: None,
            failing_since: None,
            last_owner_notice_at: None,
            retry_schedule: None,
            updated_at: 0,
        }
    }

    /// Ada (1) and Bob (2) are people; Echo (10) and Weather (11) outgoing bots; Helper (12) a
    /// generic bot; Echo watches stream 7, Weather answers to `!weather`.
    fn directory() -> Directory {
        Directory {
            realm: Realm {
                id: 1,
                string_id: "acme".into(),
                name: "Acme".into(),
                host: "acme".into(),
                public_url: "x".into(),
                created_at: 0,
                directory_version: 0,
            },
            users: vec![
                user(1, "Ada", None),
                user(2, "Bob", None),
                user(10, "Echo", Some(BotType::OutgoingWebhook)),
                user(11, "Weather", Some(BotType::OutgoingWebhook)),
                user(12, "Helper", Some(BotType::Generic)),
            ],
            services: vec![
                service(10, Triggers { all_messages_in: vec![7], trigger_words: vec![] }),
                service(11, Triggers { all_messages_in: vec![], trigger_words: vec!["!weather".into()] }),
            ],
            streams: vec![],
        }
    }

    fn stream(id: u64) -> Recipient {
        Recipient::Stream { stream_id: id, stream_name: "s".into(), topic: "t".into() }
    }

    fn fired(d: &Directory, sender: UserId, to: &Recipient, content: &str) -> Vec<(UserId, Trigger)> {
        triggered_bots(d, d.user(sender).unwrap(), to, content)
    }

    #[test]
    fn a_mention_on_a_stream_triggers_the_bot_in_every_zulip_form() {
        let d = directory();
        for content in ["@**Echo** hi", "hey @**echo**", "(@**Echo|10**)", "@**|10** yo", "x\n@**Echo**"] {
            assert_eq!(fired(&d, 1, &stream(1), content), vec![(10, Trigger::Mention)], "{content}");
        }
    }

    #[test]
    fn silent_wildcard_code_and_mismatched_mentions_do_not_trigger() {
        let d = directory();
        for content in [
            "@_**Echo** hi",
            "@**all**",
            "@**everyone** @**topic**",
            "`@**Echo**`",
            "```\n@**Echo**\n```",
            "> @**Echo** said hi",
            "```quote\n@**Echo**\n```",
            "@**Weather|10**",
            "mail@**Echo**",
            "@**Helper**",
            "@**Nobody**",
        ] {
            assert_eq!(fired(&d, 1, &stream(1), content), vec![], "{content}");
        }
    }

    #[test]
    fn nothing_a_bot_sends_triggers_a_bot() {
        let d = directory();
        assert_eq!(fired(&d, 11, &stream(7), "@**Echo** hi"), vec![]);
        assert_eq!(fired(&d, 12, &Recipient::direct(12, [10]), "hi"), vec![]);
        assert_eq!(fired(&d, 10, &stream(1), "@**Echo** myself"), vec![]);
    }

    #[test]
    fn direct_messages_trigger_every_bot_among_the_recipients() {
        let d = directory();
        assert_eq!(fired(&d, 1, &Recipient::direct(1, [10]), "hello"), vec![(10, Trigger::DirectMessage)]);
        assert_eq!(
            fired(&d, 1, &Recipient::direct(1, [2, 10, 11, 12]), "hi all"),
            vec![(10, Trigger::DirectMessage), (11, Trigger::DirectMessage)]
        );
        // A bot mentioned in a DM it is not part of is not triggered
        assert_eq!(fired(&d, 1, &Recipient::direct(1, [2]), "@**Echo** look"), vec![]);
    }

    #[test]
    fn inactive_bots_and_services_do_not_trigger() {
        let mut d = directory();
        d.users[2].is_active = false;
        assert_eq!(fired(&d, 1, &stream(1), "@**Echo**"), vec![]);
        let mut d = directory();
        d.services[0].is_active = false;
        assert_eq!(fired(&d, 1, &Recipient::direct(1, [10]), "x"), vec![]);
    }

    #[test]
    fn watched_streams_and_trigger_words_fire_beyond_zulip() {
        let d = directory();
        assert_eq!(fired(&d, 1, &stream(7), "anything at all"), vec![(10, Trigger::StreamMessage)]);
        assert_eq!(fired(&d, 1, &stream(1), "!Weather Paris"), vec![(11, Trigger::TriggerWord)]);
        assert_eq!(fired(&d, 1, &stream(1), "what about !weather"), vec![], "only the first word");
        // One delivery per bot even when several rules match
        assert_eq!(fired(&d, 1, &stream(7), "@**Echo** hi"), vec![(10, Trigger::Mention)]);
    }

    #[test]
    fn an_ambiguous_name_mentions_nobody_but_its_id_form_does() {
        let mut d = directory();
        d.users.push(user(13, "Echo", Some(BotType::OutgoingWebhook)));
        d.services.push(service(13, Triggers::default()));
        assert_eq!(fired(&d, 1, &stream(1), "@**Echo**"), vec![]);
        assert_eq!(fired(&d, 1, &stream(1), "@**Echo|13**"), vec![(13, Trigger::Mention)]);
    }
}
