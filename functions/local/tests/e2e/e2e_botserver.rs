//! Stateful bots of Zulip's `zulip_bots` package, run unchanged by `zulip-botserver` against
//! the local stack: they keep their state in bot storage and edit their own messages through
//! Hookline's API, and answer what their own tests in the package expect.

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use crate::e2e_messages::python;
use crate::support::{Client, Stack};

/// `zulip-botserver` running the bots of its configuration; killed when dropped.
pub struct BotServer(Child);

impl Drop for BotServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `zulip-botserver` on `port` with `config` (bot name -> email, key, site, token) and
/// waits until it listens.
pub fn start_botserver(config: &Value, port: u16) -> BotServer {
    let child = Command::new(python())
        .args([
            "-m",
            "zulip_botserver.server",
            "--use-env-vars",
            "--hostname",
            "127.0.0.1",
            "--port",
            &port.to_string(),
        ])
        .env("ZULIP_BOTSERVER_CONFIG", config.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("zulip-botserver starts");
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(30), "zulip-botserver did not listen");
        std::thread::sleep(Duration::from_millis(100));
    }
    BotServer(child)
}

/// Polls topic `topic` of `general` until `found` picks something from the messages `sender_id`
/// posted there (oldest first); `what` names it when it never comes.
async fn poll_topic<T>(
    client: &Client,
    topic: &str,
    sender_id: u64,
    what: &str,
    found: impl Fn(Vec<Value>) -> Option<T>,
) -> T {
    let narrow = json!([{"operator": "stream", "operand": "general"}, {"operator": "topic", "operand": topic}]);
    let started = Instant::now();
    loop {
        let page = client
            .send(
                "GET",
                "/api/v1/messages",
                &[
                    ("anchor", "newest"),
                    ("num_before", "100"),
                    ("narrow", &narrow.to_string()),
                    ("apply_markdown", "false"),
                ],
            )
            .await
            .ok();
        let from: Vec<Value> =
            page["messages"].as_array().unwrap().iter().filter(|m| m["sender_id"] == sender_id).cloned().collect();
        if let Some(answer) = found(from) {
            return answer;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "no {what} from {sender_id}: {page}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The messages of topic `topic` in `general` from `sender_id`, oldest first, once there are
/// `count` of them.
async fn messages_from(client: &Client, topic: &str, sender_id: u64, count: usize) -> Vec<Value> {
    let what = format!("{count} replies");
    poll_topic(client, topic, sender_id, &what, |from| (from.len() >= count).then_some(from)).await
}

/// The first message from `sender_id` in topic `topic` of `general` that contains `text`.
async fn message_containing(client: &Client, topic: &str, sender_id: u64, text: &str) -> String {
    message_matching(client, topic, sender_id, text, |content| content.contains(text)).await
}

/// The first message from `sender_id` in topic `topic` of `general` that passes `wanted`.
async fn message_matching(
    client: &Client,
    topic: &str,
    sender_id: u64,
    what: &str,
    wanted: impl Fn(&str) -> bool,
) -> String {
    poll_topic(client, topic, sender_id, what, |from| {
        from.iter().filter_map(|m| m["content"].as_str()).find(|content| wanted(content)).map(str::to_owned)
    })
    .await
}

/// Polls message `id` until its content is `content`.
async fn wait_for_content(client: &Client, id: u64, content: &str) -> Value {
    let started = Instant::now();
    loop {
        let answer = client.send("GET", &format!("/api/v1/messages/{id}"), &[("apply_markdown", "false")]).await.ok();
        if answer["message"]["content"] == content {
            return answer["message"].clone();
        }
        assert!(started.elapsed() < Duration::from_secs(30), "message {id} never became {content:?}: {answer}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn mention(client: &Client, topic: &str, bot: &str, text: &str) {
    let content = format!("@**{bot}** {text}");
    client
        .post("/api/v1/messages", &[("type", "stream"), ("to", "general"), ("topic", topic), ("content", &content)])
        .await
        .ok();
}

#[tokio::test]
async fn stateful_zulip_bots_keep_state_and_edit_their_messages_through_hookline() {
    let stack = Stack::start(&["--demo", "--allow-private-endpoints"]);
    let (email, api_key) = stack.demo_credentials();
    let owner = stack.client().as_user(&email, &api_key);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut config = Map::new();
    let mut ids = Map::new();
    for (name, full_name) in
        [("incrementor", "Incrementor"), ("virtual_fs", "Virtual FS"), ("tictactoe", "Tic Tac Toe")]
    {
        let bot = owner
            .post(
                "/api/v1/bots",
                &[
                    ("full_name", full_name),
                    ("short_name", &name.replace('_', "-")),
                    ("bot_type", "3"),
                    ("payload_url", &format!("http://127.0.0.1:{port}/")),
                ],
            )
            .await
            .ok();
        config.insert(
            name.into(),
            json!({"email": bot["email"], "key": bot["api_key"], "site": stack.url, "token": bot["services"][0]["token"]}),
        );
        ids.insert(name.into(), bot["user_id"].clone());
    }
    let _botserver = start_botserver(&Value::Object(config), port);
    let id = |name: &str| ids[name].as_u64().unwrap();

    // incrementor: the first mention is answered with 1, later ones edit that message
    // (test_incrementor: the updates are "2", "3", "4")
    mention(&owner, "counting", "Incrementor", "go").await;
    let first = messages_from(&owner, "counting", id("incrementor"), 1).await;
    assert_eq!(first[0]["content"], "1");
    let counter = first[0]["id"].as_u64().unwrap();
    for expected in ["2", "3", "4"] {
        mention(&owner, "counting", "Incrementor", "go").await;
        let edited = wait_for_content(&owner, counter, expected).await;
        assert!(edited["last_edit_timestamp"].is_u64(), "{edited}");
    }
    assert_eq!(messages_from(&owner, "counting", id("incrementor"), 1).await.len(), 1, "edited, never re-sent");

    // virtual_fs: its state lives in bot storage (test_commands_1)
    let me = email.as_str();
    let dialog = [
        ("cd /home", "ERROR: invalid path"),
        ("mkdir home", "directory created"),
        ("pwd", "/"),
        ("write test hello world", "file written"),
        ("read test", "hello world"),
    ];
    for (i, (command, reply)) in dialog.iter().enumerate() {
        mention(&owner, "files", "Virtual FS", command).await;
        let replies = messages_from(&owner, "files", id("virtual_fs"), i + 1).await;
        assert_eq!(replies[i]["content"], format!("{me}:\n{reply}"), "after {command:?}");
    }

    // tictactoe: the game handler answers help with its usage, naming the bot as Hookline
    // reported it (its profile)
    mention(&owner, "games", "Tic Tac Toe", "help").await;
    let help = messages_from(&owner, "games", id("tictactoe"), 1).await;
    let text = help[0]["content"].as_str().unwrap();
    assert!(text.starts_with("** Tic Tac Toe Bot Help:**\n*Preface all commands with @**Tic Tac Toe***"), "{text}");
    assert!(text.contains("* To start a game with the computer, type\n`start game with` @**Tic Tac Toe**"), "{text}");

    // tictactoe against the computer (the game handler's own flow): the game starts in the
    // topic, a move is acknowledged with the board, and the computer answers with its token
    mention(&owner, "games", "Tic Tac Toe", "start game with @**Tic Tac Toe**").await;
    let started = message_containing(&owner, "games", id("tictactoe"), "The game has started in #general games").await;
    assert!(started.contains("> Tic Tac Toe\n> 2/2 players"), "{started}");
    let welcome = message_containing(&owner, "games", id("tictactoe"), "Welcome to tic-tac-toe!").await;
    assert!(welcome.contains("started.\n*Remember to start your message with* @**Tic Tac Toe**"), "{welcome}");
    message_containing(&owner, "games", id("tictactoe"), ":one: :two: :three:\n\n:four: :five: :six:").await;
    // The computer opens; the player takes the centre, and the computer answers.
    mention(&owner, "games", "Tic Tac Toe", "move 5").await;
    let moved = message_containing(&owner, "games", id("tictactoe"), "put a token at 5").await;
    assert!(moved.contains(":four: :x: :six:") && moved.contains("(:o:) turn"), "{moved}");
    // The computer takes its turn (where is up to it), and it is the player's turn again with
    // the player's token still on the board.
    message_matching(&owner, "games", id("tictactoe"), "the player's turn after the computer's", |content| {
        content.contains(":four: :x: :six:") && content.ends_with("It's **Demo Owner**'s (:x:) turn.")
    })
    .await;

    // The bots' storage is theirs: the owner cannot read it
    owner.get("/api/v1/bot_storage").await.error(400, "BAD_REQUEST", "only available to bots");
}
