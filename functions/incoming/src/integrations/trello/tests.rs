use serde_json::{Value, json};

use super::*;

fn run_raw(body: &Value, raw: &[u8]) -> Result<Handled, IntegrationError> {
    Trello.handle(&Payload { params: &[], event_type: None, headers: &[], body, raw })
}

fn run(body: &Value) -> Result<Handled, IntegrationError> {
    run_raw(body, b"{}")
}

fn content(body: &Value) -> String {
    match run(body).unwrap().outcome {
        Outcome::Message { content, .. } => content,
        other => panic!("{other:?}"),
    }
}

fn update(old: Value, card: Value) -> Value {
    let mut card = card;
    card["name"] = json!("C");
    card["shortLink"] = json!("abc");
    json!({"action": {
        "type": "updateCard",
        "memberCreator": {"fullName": "Ada"},
        "data": {"board": {"name": "B", "shortLink": "b1"}, "card": card, "old": old},
    }})
}

#[test]
fn the_sample_renders() {
    let (event, sample) = Trello.sample();
    assert_eq!(event, None);
    assert_eq!(run(&serde_json::from_str(sample).unwrap()).unwrap().event, "updateCard");
}

#[test]
fn the_url_check_sends_nothing() {
    let handled = run_raw(&json!({}), b"").unwrap();
    assert_eq!(handled, Handled { event: URL_CHECK.into(), outcome: Outcome::Ignore });
}

#[test]
fn card_updates_are_told_apart() {
    let card = "[C](https://trello.com/c/abc)";
    let cases = [
        (
            json!({"due": null}),
            json!({"due": "2020-01-02T03:04:05.000Z"}),
            format!("Ada set due date for {card} to 2020-01-02 03:04:05 UTC."),
        ),
        (
            json!({"due": "2020-01-02T03:04:05.000Z"}),
            json!({"due": null}),
            format!("Ada removed the due date from {card}."),
        ),
        (json!({"closed": false}), json!({"closed": true}), format!("Ada archived {card}.")),
        (json!({"closed": true}), json!({"closed": false}), format!("Ada reopened {card}.")),
        (json!({"desc": "a"}), json!({"desc": ""}), format!("Ada removed description from {card}.")),
    ];
    for (old, new, expected) in cases {
        assert_eq!(content(&update(old, new)), expected);
    }
    assert_eq!(run(&update(json!({"pos": 1}), json!({}))).unwrap().outcome, Outcome::Ignore);
    assert!(matches!(run(&update(json!({"idLabels": []}), json!({}))), Err(IntegrationError::Unsupported { .. })));
}

#[test]
fn a_board_rename_needs_the_old_name() {
    let body = json!({"action": {
        "type": "updateBoard",
        "memberCreator": {"fullName": "Ada"},
        "data": {"board": {"name": "New", "shortLink": "b1"}, "old": {"name": ""}},
    }});
    assert!(matches!(run(&body), Err(IntegrationError::Unsupported { .. })));
}

#[test]
fn unknown_actions_are_unsupported() {
    let Err(IntegrationError::Unsupported { event, .. }) = run(&json!({"action": {"type": "deleteCard"}})) else {
        panic!()
    };
    assert_eq!(event, "deleteCard");
}

#[test]
fn wrong_types_are_malformed() {
    assert!(matches!(run(&json!({"action": {"type": 3}})), Err(IntegrationError::Malformed(_))));
    assert!(matches!(run(&update(json!({"name": 3}), json!({}))), Err(IntegrationError::Malformed(_))));
    assert!(matches!(run(&update(json!({"closed": "no"}), json!({}))), Err(IntegrationError::Malformed(_))));
    let mut body = update(json!({"closed": false}), json!({"closed": true}));
    body["action"]["memberCreator"] = json!("Ada");
    assert!(matches!(run(&body), Err(IntegrationError::Malformed(_))));
    let mut body = update(json!({"closed": false}), json!({"closed": true}));
    body["action"]["data"]["old"] = json!([]);
    assert!(matches!(run(&body), Err(IntegrationError::Malformed(_))));
}
