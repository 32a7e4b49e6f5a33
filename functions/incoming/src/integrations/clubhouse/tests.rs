use serde_json::{Value, json};

use super::*;

fn run(body: &Value) -> Result<Handled, IntegrationError> {
    Clubhouse.handle(&Payload { params: &[], event_type: None, headers: &[], body, raw: b"" })
}

fn story_update(changes: Value) -> Value {
    json!({
        "primary_id": 11,
        "actions": [{
            "id": 11,
            "entity_type": "story",
            "action": "update",
            "name": "Fix it",
            "app_url": "https://app.shortcut.com/a/story/11",
            "changes": changes,
        }],
        "references": [
            {"id": 1, "entity_type": "workflow-state", "name": "To do"},
            {"id": 2, "entity_type": "workflow-state", "name": "Done"},
            {"id": "3", "entity_type": "label", "name": "text id"},
        ],
    })
}

fn message(handled: Handled) -> (String, String) {
    match handled.outcome {
        Outcome::Message { topic, content } => (topic, content),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_sample_renders() {
    let (event, sample) = Clubhouse.sample();
    assert_eq!(event, None);
    let handled = run(&serde_json::from_str(sample).unwrap()).unwrap();
    assert_eq!(handled.event, "story_create");
    assert!(matches!(handled.outcome, Outcome::Message { .. }));
}

#[test]
fn the_event_is_named_after_the_first_change_found() {
    let handled = run(&story_update(json!({"workflow_state_id": {"old": 1, "new": 2}, "name": {}}))).unwrap();
    assert_eq!(handled.event, "story_update_state");
    let (topic, content) = message(handled);
    assert_eq!(topic, "Fix it");
    assert_eq!(
        content,
        "State of the story [Fix it](https://app.shortcut.com/a/story/11) was changed from **To do** to **Done**."
    );
}

#[test]
fn every_event_handled_is_declared() {
    for body in [
        story_update(json!({"workflow_state_id": {"old": 1, "new": 2}})),
        story_update(json!({"file_ids": {"removes": [4]}})),
        json!(null),
        json!({}),
        json!({"actions": []}),
    ] {
        let handled = run(&body).unwrap();
        assert!(Clubhouse.event_types().contains(&handled.event.as_str()), "{}", handled.event);
    }
}

#[test]
fn text_ids_never_match_numeric_ones() {
    let body = story_update(json!({"workflow_state_id": {"old": 1, "new": 3}}));
    assert!(matches!(run(&body), Err(IntegrationError::Malformed(_))));
}

#[test]
fn an_update_with_no_change_it_can_show_is_unsupported() {
    let Err(IntegrationError::Unsupported { event, .. }) = run(&story_update(json!({"deadline": {}}))) else {
        panic!()
    };
    assert_eq!(event, "story_update");
}

#[test]
fn a_batch_with_one_change_shows_that_change() {
    let mut body = story_update(json!({"workflow_state_id": {"old": 1, "new": 2}, "owner_ids": {"adds": ["x"]}}));
    body.as_object_mut().unwrap().remove("primary_id");
    let handled = run(&body).unwrap();
    assert_eq!(handled.event, "story_update_batch");
    assert!(message(handled).1.starts_with("State of the story"));
}

#[test]
fn a_batch_names_missing_references_none() {
    let mut body = story_update(json!({
        "epic_id": {"new": 9},
        "story_type": {"new": "bug", "old": "feature"},
        "label_ids": {"adds": [7, 8]},
    }));
    body.as_object_mut().unwrap().remove("primary_id");
    let (_, content) = message(run(&body).unwrap());
    assert_eq!(
        content,
        "The story [Fix it](https://app.shortcut.com/a/story/11) was moved from Epic **None** to **None**, and \
         changed from type **feature** to **bug**, and added with the new labels ****, ****."
    );
}

#[test]
fn wrong_types_and_missing_fields_are_malformed() {
    for body in [
        json!(7),
        json!({"actions": 7}),
        json!({"actions": [{"entity_type": "story"}]}),
        json!({"primary_id": 5, "actions": [{"id": 4}]}),
        story_update(json!({"archived": {"new": "yes"}})),
        story_update(json!({"label_ids": {"adds": ["a"]}})),
        story_update(json!({"estimate": {"new": "4"}})),
        story_update(json!({"epic_id": {"new": 99}})),
        story_update(json!(["changes"])),
    ] {
        assert!(matches!(run(&body), Err(IntegrationError::Malformed(_))), "{body}");
    }
}
