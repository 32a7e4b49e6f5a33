use serde_json::{Value, json};

use super::convert::{events_text, mentioned_users};
use super::*;

fn json_payload<'a>(body: &'a Value, headers: &'a [(String, String)], params: &'a [(String, String)]) -> Payload<'a> {
    Payload { event_type: None, headers, body, raw: b"", params }
}

fn json_headers() -> Vec<(String, String)> {
    vec![("content-type".into(), "application/json".into())]
}

fn message(text: &str) -> Value {
    json!({"type": "event_callback", "event": {"type": "message", "user": "U1", "channel": "C1", "text": text}})
}

fn named(users: &[(&str, &str)]) -> Lookups {
    Lookups {
        users: users.iter().map(|(id, name)| ((*id).to_owned(), (*name).to_owned())).collect(),
        ..Lookups::default()
    }
}

#[test]
fn mentions_are_found_once_each_in_order() {
    assert_eq!(mentioned_users("<@U2> hi <@U1|ana> and <@U2> <#C1|general> <@bad id> <@>"), ["U2", "U1"]);
}

#[test]
fn mentions_shed_their_formatting_but_keep_punctuation() {
    let lookups = named(&[("U1", "Ana")]);
    assert_eq!(events_text("~_*<@U1>*_~ (<@U1>), <#C9|ops>.", &lookups), "@**Ana** (@**Ana**), **#ops**.");
    assert_eq!(events_text("<@U7|bob> <@U8> <#C2>", &lookups), "@bob @U8 **#[private Slack channel]**");
}

#[test]
fn slack_formatting_becomes_markdown_and_escapes_stay() {
    let lookups = Lookups::default();
    assert_eq!(events_text("*b* _i_ ~s~ a_snake_name", &lookups), "**b** *i* ~~s~~ a_snake_name");
    assert_eq!(events_text("&gt; quoted &amp; <!here>", &lookups), "&gt; quoted &amp; @**all**");
    assert_eq!(
        events_text("see <https://x.io/a?b=1&amp;c=2|the docs>", &lookups),
        "see [the docs](https://x.io/a?b=1&c=2)"
    );
}

#[test]
fn channels_map_to_topics_or_streams() {
    let body = message("hi");
    let headers = json_headers();
    let lookups = Lookups { channel: Some(("C1".into(), "ops".into())), ..named(&[("U1", "Ana")]) };
    let outcome = |map: &str| {
        let params = vec![("channels_map_to_topics".to_owned(), map.to_owned())];
        plan(&json_payload(&body, &headers, &params)).and_then(|p| p.finish(&lookups)).map(|h| h.outcome)
    };
    assert_eq!(outcome("1").unwrap(), Outcome::Message { topic: "channel: ops".into(), content: "**Ana**: hi".into() });
    assert_eq!(
        outcome("0").unwrap(),
        Outcome::ToStream { stream: "ops".into(), topic: "Message from Slack".into(), content: "**Ana**: hi".into() }
    );
    assert!(matches!(outcome("2"), Err(IntegrationError::BadRequest(_))));
}

#[test]
fn what_is_looked_up_is_what_the_message_needs() {
    let body = message("<@U2> <@U3> <@U2>");
    let headers = json_headers();
    let params = vec![("slack_app_token".to_owned(), "xoxb-1".to_owned())];
    let needs = plan(&json_payload(&body, &headers, &params)).unwrap().needs();
    assert_eq!(needs.users, ["U1", "U2", "U3"]);
    assert_eq!(needs.channel, None, "the channel's name is only needed when it names a topic or stream");
    assert_eq!(needs.token.as_deref(), Some("xoxb-1"));
}

#[test]
fn without_slacks_api_ids_stay_and_the_challenge_is_not_answered() {
    let body = message("<@U2|bo> hello");
    let headers = json_headers();
    let handled = Slack.handle(&json_payload(&body, &headers, &[])).unwrap();
    assert_eq!(handled.outcome, Outcome::Message { topic: TOPIC.into(), content: "**U1**: @bo hello".into() });
    let challenge = json!({"type": "url_verification", "challenge": "abc"});
    let handled = Slack.handle(&json_payload(&challenge, &headers, &[])).unwrap();
    assert!(matches!(handled.outcome, Outcome::ToOwner(_)), "{:?}", handled.outcome);
}

#[tokio::test]
async fn unreachable_lookups_leave_ids_in_place() {
    // Nothing listens on port 9 of loopback, and the offline remote refuses every call.
    let needs = Needs { token: Some("xoxb-1".into()), users: vec!["U1".into()], ..Needs::default() };
    let lookups = api::look_up(&Remote::offline(), &needs).await;
    assert_eq!(lookups.user_name("U1"), "U1");
    let check = Needs { token: Some("xoxb-1".into()), check_token: true, ..Needs::default() };
    let lookups = api::look_up(&Remote::offline(), &check).await;
    assert!(lookups.token_problem.unwrap().starts_with("Could not check the Slack token"));
}

#[test]
fn the_signature_covers_the_timestamp_and_the_body() {
    let body = json!({});
    let raw = br#"{"type":"event_callback"}"#;
    let sign = |secret: &str, ts: &str| {
        format!("v0={}", hex::encode(signature::mac(Hash::Sha256, secret, &[b"v0:", ts.as_bytes(), b":", raw])))
    };
    let headers = |sig: String, ts: &str| {
        vec![
            ("content-type".to_owned(), "application/json".to_owned()),
            ("x-slack-signature".to_owned(), sig),
            ("x-slack-request-timestamp".to_owned(), ts.to_owned()),
        ]
    };
    let check = |headers: &[(String, String)]| {
        Slack.verify("s3cret", &Payload { event_type: None, headers, body: &body, raw, params: &[] })
    };
    assert!(check(&headers(sign("s3cret", "100"), "100")).is_ok());
    assert!(check(&headers(sign("s3cret", "100"), "101")).is_err());
    assert!(check(&headers(sign("other", "100"), "100")).is_err());
    assert!(check(&json_headers()).is_err());
}

#[test]
fn garbage_is_refused_without_panicking() {
    let headers = json_headers();
    for body in [
        json!([]),
        json!({"event": "x"}),
        json!({"event": {"type": 3}}),
        json!({"event": {"type": "message", "user": "U1"}}),
        json!({"event": {"type": "message", "user": "U1", "channel": "C", "files": [{"title": 1}]}}),
        json!({"type": "url_verification"}),
    ] {
        assert!(Slack.handle(&json_payload(&body, &headers, &[])).is_err(), "{body}");
    }
}
