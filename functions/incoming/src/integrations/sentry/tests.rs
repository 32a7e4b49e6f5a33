use serde_json::{Value, json};

use super::*;

fn run_with(body: &Value, headers: &[(String, String)]) -> Result<Handled, IntegrationError> {
    Sentry.handle(&Payload { params: &[], event_type: None, headers, body, raw: b"" })
}

fn run(body: &Value) -> Result<Handled, IntegrationError> {
    run_with(body, &[])
}

fn message(body: &Value) -> (String, String) {
    match run(body).unwrap().outcome {
        Outcome::Message { topic, content } => (topic, content),
        other => panic!("{other:?}"),
    }
}

fn exception() -> Value {
    json!({"data": {"event": {
        "title": "ValueError: boom",
        "platform": "python",
        "version": "7",
        "level": "error",
        "web_url": "https://sentry.test/e/1/",
        "datetime": "2024-01-02T03:04:05.678Z",
        "metadata": {"filename": "app.py"},
        "exception": {"values": [{"stacktrace": {"frames": [
            {"filename": "app.py", "context_line": "    raise ValueError()", "pre_context": ["def f():", ""], "post_context": null},
            {"filename": "lib.py", "context_line": "x"},
        ]}}]},
    }}})
}

fn issue(action: &str) -> Value {
    json!({"action": action, "actor": {"name": "Ada"}, "data": {"issue": {
        "title": "Boom", "lastSeen": "2024-01-02T03:04:05.6Z", "level": "error",
        "assignedTo": {"type": "team", "name": "core"},
    }}})
}

#[test]
fn the_sample_renders() {
    let (event, sample) = Sentry.sample();
    assert_eq!(event, None);
    assert_eq!(run(&serde_json::from_str(sample).unwrap()).unwrap().event, "event_alert");
}

#[test]
fn an_exception_shows_the_line_that_raised_it() {
    assert_eq!(
        message(&exception()),
        (
            "ValueError: boom".to_owned(),
            "**New exception:** [ValueError: boom](https://sentry.test/e/1/)\n```quote\n**level:** error\n\
             **timestamp:** 2024-01-02 03:04:05\n**filename:** app.py\n```\n\nTraceback:\n```python3\n     def f():\n\n\
             --->     raise ValueError()\n```"
                .to_owned()
        )
    );
    let mut without = exception();
    without["data"]["event"]["metadata"] = json!({});
    assert!(message(&without).1.ends_with("**filename:** None\n```"));
}

#[test]
fn issues_name_the_team_or_the_person() {
    assert_eq!(message(&issue("assigned")).1, "Issue **Boom** has now been assigned to **team core** by **Ada**.");
    assert!(message(&issue("created")).1.contains("**timestamp:** 2024-01-02 03:04:05\n**assignee:** team core"));
    assert_eq!(run(&issue("resolved")).unwrap().event, "issue_resolved");
    assert!(
        matches!(run(&issue("archived")), Err(IntegrationError::Unsupported { event, .. }) if event == "archived action")
    );
}

#[test]
fn the_plugins_event_is_linked_and_timed_from_the_alert() {
    let body = json!({"url": "https://sentry.test/org/issues/9/?ref=x", "event": {
        "event_id": "abc", "timestamp": 1_603_322_711.147_672, "received": 1,
        "title": "Hi", "platform": "go", "level": "info", "logentry": {},
    }});
    assert_eq!(
        message(&body).1,
        "**New message event:** [Hi](https://sentry.test/org/issues/9/events/abc/)\n```quote\n**level:** info\n\
         **timestamp:** 2020-10-21 23:25:11\n```"
    );
}

#[test]
fn the_old_plugin_shows_the_project() {
    assert_eq!(
        message(&json!({"level": "warning", "event": {}})),
        ("None".to_owned(), "New [issue](None) (level: WARNING):\n\n``` quote\nNone\n```".to_owned())
    );
}

#[test]
fn other_resources_and_data_are_unsupported() {
    let header = vec![("sentry-hook-resource".to_owned(), "metric_alert".to_owned())];
    assert!(
        matches!(run_with(&issue("created"), &header), Err(IntegrationError::Unsupported { event, .. }) if event == "metric_alert")
    );
    let body = json!({"data": {"installation": {}, "it's": 1}});
    assert!(
        matches!(run(&body), Err(IntegrationError::Unsupported { event, .. }) if event == "['installation', \"it's\"]")
    );
    let mut raven = exception();
    raven["data"]["event"]["version"] = json!(6);
    assert!(matches!(run(&raven), Err(IntegrationError::Unsupported { event, .. }) if event == "Raven SDK"));
}

#[test]
fn wrong_types_and_missing_fields_are_malformed() {
    for pointer in [
        "/data/event/title",
        "/data/event/version",
        "/data/event/metadata",
        "/data/event/exception",
        "/data/event/exception/values/0/stacktrace/frames",
        "/data/event/exception/values/0/stacktrace/frames/0/pre_context",
        "/data/event/exception/values/0/stacktrace/frames/0/context_line",
    ] {
        let mut body = exception();
        *body.pointer_mut(pointer).unwrap() = json!([7]);
        assert!(matches!(run(&body), Err(IntegrationError::Malformed(_))), "{pointer}");
    }
    for body in [json!([]), json!({"data": "x"}), json!({"event": {"event_id": "a", "timestamp": 1e300}, "url": "u"})] {
        assert!(matches!(run(&body), Err(IntegrationError::Malformed(_))), "{body}");
    }
}

#[test]
fn urls_join_as_links_resolve() {
    assert_eq!(join_url("https://s.test/a/b/", "events/1/"), "https://s.test/a/b/events/1/");
    assert_eq!(join_url("https://s.test/a/b", "events/1/"), "https://s.test/a/events/1/");
    assert_eq!(join_url("https://s.test", "events/1/"), "https://s.test/events/1/");
    assert_eq!(join_url("nothing", "events/1/"), "events/1/");
}

#[test]
fn unix_times_are_shown_in_utc() {
    assert_eq!(utc_date_time(0).as_deref(), Some("1970-01-01 00:00:00"));
    assert_eq!(utc_date_time(951_782_400).as_deref(), Some("2000-02-29 00:00:00"));
    assert_eq!(utc_date_time(-1).as_deref(), Some("1969-12-31 23:59:59"));
    assert_eq!(utc_date_time(i64::MAX), None);
}
