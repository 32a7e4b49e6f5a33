//! The README's promises: its first command starts the stack, and its walkthrough, run as
//! written against that stack, ends with a created bot.

use std::process::Command;

use crate::support::Stack;

const README: &str = include_str!("../../../../README.md");

/// The first fenced `sh` block: the command that runs Hookline locally.
fn first_command() -> &'static str {
    README.split("```sh\n").nth(1).and_then(|b| b.split("\n```").next()).expect("a first sh block").trim()
}

fn walkthrough() -> &'static str {
    let block = README
        .split("<!-- walkthrough -->")
        .nth(1)
        .and_then(|b| b.split("<!-- /walkthrough -->").next())
        .expect("walkthrough markers");
    block.trim().trim_start_matches("```sh").trim_end_matches("```")
}

#[tokio::test]
async fn the_readme_walkthrough_creates_a_bot_on_the_demo_stack() {
    // The first command is the local stack with its demo; run the same binary with its arguments.
    let command = first_command();
    assert!(command.starts_with("scripts/local "), "{command}");
    let args: Vec<&str> = command.split_whitespace().skip(1).collect();
    let stack = Stack::start(&args);
    let (email, api_key) = stack.demo_credentials();

    // Run the walkthrough as a newcomer would, with the printed credentials.
    let script: String =
        walkthrough().lines().filter(|line| !line.starts_with("export ")).collect::<Vec<_>>().join("\n");
    let output = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .env("HOOKLINE_URL", &stack.url)
        .env("EMAIL", &email)
        .env("API_KEY", &api_key)
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    // curl prints each answer without a newline: read them as a stream of JSON values.
    let answers: Vec<serde_json::Value> =
        serde_json::Deserializer::from_str(&stdout).into_iter().collect::<Result<_, _>>().expect("JSON answers");
    assert_eq!(answers.len(), 4, "{stdout}");
    assert!(answers.iter().all(|a| a["result"] == "success"), "{stdout}");
    assert_eq!(answers[1]["subscribed"][&email], serde_json::json!(["bots"]));
    assert_eq!(answers[2]["email"], "echo-bot@demo.localhost");
    assert_eq!(answers[3]["bots"][0]["services"][0]["base_url"], "https://bots.example.com/echo");
}
