//! The realm every case runs in: Acme with Ada, her incoming-webhook bot and a stream `dev`.

use std::sync::Arc;
use std::time::Duration;

use hookline_edge::{Services, Settings};
use hookline_messaging::send::Sender;
use hookline_model::credentials::ApiKeyHash;
use hookline_model::queue::memory::MemoryQueue;
use hookline_model::realm::NewRealm;
use hookline_model::store::memory::MemoryStore;
use hookline_model::store::{Direction, MessageScope};
use hookline_model::user::{BotService, BotType, Interface, NewUser, Role, SigningSecrets, Triggers};
use hookline_model::{ManualClock, Message};

pub const BOT_KEY: &str = "incomingFixtureKey0123456789abcdefghijkl";

/// Acme with Ada, her incoming-webhook bot (the fixtures' `api_key`) and a stream `dev`.
pub async fn world() -> (Arc<Services>, Sender) {
    world_with(Settings::default()).await
}

/// The realm, with `settings` pointed at the local stand-in for Slack's Web API (on loopback,
/// so private endpoints are allowed).
pub async fn world_with(mut settings: Settings) -> (Arc<Services>, Sender) {
    settings.slack_api_url = crate::fake_slack::url();
    settings.allow_private_endpoints = true;
    let clock = Arc::new(ManualClock::at(1_795_910_399_000));
    let services = Arc::new(Services {
        store: Arc::new(MemoryStore::new()),
        queue: Arc::new(MemoryQueue::new(clock.clone(), Duration::from_secs(180), 12)),
        clock,
        settings,
    });
    let person = |email: &str, name: &str, key: &str| NewUser {
        email: email.into(),
        full_name: name.into(),
        role: Role::Owner,
        bot_type: None,
        bot_owner_id: None,
        api_key_hash: ApiKeyHash::of(key),
        service: None,
    };
    let realm = NewRealm {
        string_id: "acme".into(),
        name: "Acme".into(),
        host: "acme.test".into(),
        public_url: "https://acme.test".into(),
    };
    let (realm, ada) = services.store.create_realm(realm, person("ada@acme.test", "Ada", "ada-key"), 0).await.unwrap();
    let mut bot = person("hooks-bot@acme.test", "Hooks", BOT_KEY);
    bot.bot_type = Some(BotType::IncomingWebhook);
    bot.bot_owner_id = Some(ada.id);
    bot.service = Some(BotService {
        realm_id: 0,
        bot_id: 0,
        base_url: String::new(),
        interface: Interface::Zulip,
        token: "t".into(),
        signing: SigningSecrets { current: "whsec_c2VjcmV0".into(), previous: None, previous_expires_at: None },
        webhook_secret: None,
        triggers: Triggers::default(),
        is_active: false,
        deactivated_reason: None,
        failing_since: None,
        last_owner_notice_at: None,
        retry_schedule: None,
        updated_at: 0,
    });
    services.store.create_user(realm.id, bot, 0).await.unwrap();
    // A member as in Zulip's test realm, whom Jira's fixtures assign issues to.
    let othello = person("othello@zulip.com", "Othello, the Moor of Venice", "othello-key");
    services.store.create_user(realm.id, NewUser { role: Role::Member, ..othello }, 0).await.unwrap();
    services.store.create_stream(realm.id, "dev", "", 0).await.unwrap();
    let sender = Sender::new(services.store.clone(), services.queue.clone(), services.clock.clone());
    (services, sender)
}

/// Every message in the realm, oldest first.
pub async fn messages(services: &Services) -> Vec<Message> {
    services.store.list_messages(1, &MessageScope::Realm, 0, Direction::From, 1000, &|_| true).await.unwrap()
}

/// Gives the bot a webhook secret.
pub async fn set_webhook_secret(services: &Services, secret: &str) {
    let mut service = services.store.get_service(1, 2).await.unwrap().expect("the bot's service");
    let read_at = service.updated_at;
    service.webhook_secret = Some(secret.into());
    service.updated_at = read_at + 1;
    services.store.update_service(&service, read_at).await.unwrap();
}
