use serde_json::{Value, json};

use super::*;

/// Handles a raw body the way the framework hands it over: parsed as JSON when it is JSON.
fn run(raw: &str) -> Result<Handled, IntegrationError> {
    let body: Value = serde_json::from_str(raw).unwrap_or(Value::Null);
    Pivotal.handle(&Payload { event_type: None, headers: &[], body: &body, raw: raw.as_bytes(), params: &[] })
}

fn message(raw: &str) -> (String, String, String) {
    match run(raw).unwrap() {
        Handled { event, outcome: Outcome::Message { topic, content } } => (event, topic, content),
        other => panic!("{other:?}"),
    }
}

const VIEW_48276573: &str = "[(view)](https://www.pivotaltracker.com/s/projects/807213/stories/48276573).";
const VIEW_48278289: &str = "[(view)](https://www.pivotaltracker.com/s/projects/807213/stories/48278289).";

// Zulip's v3 (XML) cases, checked on the handler itself.
#[test]
fn v3_activities_quote_the_description_and_link_the_story() {
    let cases = [
        (
            include_str!("fixtures/accepted.xml"),
            "My new Feature story",
            format!("Leo Franchi accepted \"My new Feature story\" {VIEW_48276573}"),
        ),
        (
            include_str!("fixtures/bad_accepted.xml"),
            "Story changed",
            format!("Leo Franchi accepted My new Feature story {VIEW_48276573}"),
        ),
        (
            include_str!("fixtures/commented.xml"),
            "Comment added",
            format!("Leo Franchi added comment: \"FIX THIS NOW\" {VIEW_48276573}"),
        ),
        (
            include_str!("fixtures/delivered.xml"),
            "Another new story",
            format!("Leo Franchi delivered \"Another new story\" {VIEW_48278289}"),
        ),
        (
            include_str!("fixtures/finished.xml"),
            "Another new story",
            format!("Leo Franchi finished \"Another new story\" {VIEW_48278289}"),
        ),
        (
            include_str!("fixtures/moved.xml"),
            "My new Feature story",
            format!("Leo Franchi edited \"My new Feature story\" {VIEW_48276573}"),
        ),
        (
            include_str!("fixtures/rejected.xml"),
            "Another new story",
            format!(
                "Leo Franchi rejected \"Another new story\" with comments: \"Not good enough, sorry\" {VIEW_48278289}"
            ),
        ),
        (
            include_str!("fixtures/started.xml"),
            "Another new story",
            format!("Leo Franchi started \"Another new story\" {VIEW_48278289}"),
        ),
        (
            include_str!("fixtures/type_changed.xml"),
            "My new Feature story",
            format!("Leo Franchi edited \"My new Feature story\" {VIEW_48276573}"),
        ),
        (
            include_str!("fixtures/created.xml"),
            "My new Feature story",
            format!(
                "Leo Franchi added \"My new Feature story\" (unscheduled feature):\n\n~~~ quote\nThis is my long description\n~~~\n\n {VIEW_48276573}"
            ),
        ),
        (
            include_str!("fixtures/created_estimate.xml"),
            "Another new story",
            format!(
                "Leo Franchi added \"Another new story\" (unscheduled feature worth 2 story points):\n\n~~~ quote\nSome loong description\n~~~\n\n {VIEW_48278289}"
            ),
        ),
    ];
    for (xml, topic, content) in cases {
        let (event, got_topic, got_content) = message(xml);
        assert!(Pivotal.event_types().contains(&event.as_str()), "{event}");
        assert_eq!((got_topic.as_str(), got_content.as_str()), (topic, content.as_str()));
    }
}

#[test]
fn v3_event_names() {
    assert_eq!(message(include_str!("fixtures/commented.xml")).0, "note_create_v3");
    assert_eq!(message(include_str!("fixtures/created.xml")).0, "story_create_v3");
    assert_eq!(message(include_str!("fixtures/accepted.xml")).0, "story_update_v3");
}

#[test]
fn v3_other_events_and_missing_parts() {
    assert_eq!(
        run(
            "<activity><event_type>task_create</event_type><description>x</description><project_id>1</project_id></activity>"
        ),
        Err(IntegrationError::Unsupported { event: "task_create".into(), integration: "Pivotal" })
    );
    assert_eq!(
        run("<activity><event_type>story_update</event_type><project_id>1</project_id></activity>"),
        Err(IntegrationError::Malformed("expected text in <description>".into()))
    );
    let (_, topic, content) = message(
        "<activity><event_type>story_update</event_type><description>Ana edited \"S\"</description><project_id>1</project_id></activity>",
    );
    assert_eq!(topic, "S");
    assert_eq!(content, "Ana edited \"S\" [(view)](https://www.pivotaltracker.com/s/projects/1/stories/).");
}

#[test]
fn the_story_name_is_the_first_quoted_text() {
    assert_eq!(v3::story_name("Ana accepted \"A\" and \"B\""), Some("A"));
    assert_eq!(v3::story_name("\"A\" was accepted"), None);
    assert_eq!(v3::story_name("Ana accepted \"\""), None);
    assert_eq!(v3::story_name("Ana accepted \"A"), None);
    assert_eq!(v3::story_name("Ana accepted A"), None);
}

#[test]
fn the_sample_renders() {
    let (_, topic, _) = message(Pivotal.sample().1);
    assert_eq!(topic, "#63496066: Pivotal Test");
}

fn activity(kind: &str, changes: Value) -> String {
    json!({
        "kind": kind,
        "project": {"name": "P", "id": 1},
        "primary_resources": [{"url": "u", "id": 2, "name": "S", "story_type": "chore"}],
        "performed_by": {"name": "Ana"},
        "changes": changes
    })
    .to_string()
}

#[test]
fn v5_updates_list_each_change() {
    let changes = json!([
        {"kind": "story", "original_values": {"estimate": null}, "new_values": {"estimate": 5}},
        {"kind": "comment", "new_values": {"text": "Why?"}}
    ]);
    let (event, topic, content) = message(&activity("story_update_activity", changes));
    assert_eq!(event, "story_update_activity_v5");
    assert_eq!(topic, "#2: S");
    assert_eq!(
        content,
        "Ana updated [P](https://www.pivotaltracker.com/s/projects/1): [S](u):\n* estimate is now **5 points**\n\
         * Comment added:\n~~~quote\nWhy?\n~~~"
    );
}

#[test]
fn v5_silent_kinds_and_unknown_kinds() {
    assert_eq!(
        run(&activity("task_create_activity", json!([]))),
        Err(IntegrationError::BadRequest("Unable to handle Pivotal payload".into()))
    );
    assert_eq!(
        run(&activity("comment_create_activity", json!([{"kind": "story", "new_values": {}}]))),
        Err(IntegrationError::BadRequest("Unable to handle Pivotal payload".into()))
    );
    assert_eq!(
        run(&activity("story_explode_activity", json!([]))),
        Err(IntegrationError::Unsupported { event: "story_explode_activity".into(), integration: "Pivotal" })
    );
}

#[test]
fn v5_missing_parts_are_malformed() {
    let malformed = |raw: &str| match run(raw) {
        Err(IntegrationError::Malformed(why)) => why,
        other => panic!("{other:?}"),
    };
    assert_eq!(malformed("{}"), "expected a value at kind");
    assert_eq!(malformed("[1]"), "expected a value at kind");
    assert_eq!(
        malformed(r#"{"kind": "x", "project": {"name": "P", "id": 1}}"#),
        "expected a story in primary_resources"
    );
    assert_eq!(
        malformed(&activity("story_update_activity", json!([{"original_values": {}}]))),
        "expected an object at new_values"
    );
    assert_eq!(
        malformed(&activity("story_move_activity", json!([{"original_values": 3, "new_values": {}}]))),
        "expected an object at original_values"
    );
    assert_eq!(malformed(&activity("story_move_activity", json!({}))), "expected a list at /changes");
}
