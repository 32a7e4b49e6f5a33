use serde_json::{Value, json};

use super::markup::to_markdown;
use super::*;

fn run(body: &Value) -> Result<Handled, IntegrationError> {
    Jira.handle(&Payload { params: &[], event_type: None, headers: &[], body, raw: b"" })
}

fn message(body: &Value) -> (String, String) {
    match run(body).unwrap().outcome {
        Outcome::Message { topic, content } => (topic, content),
        other => panic!("{other:?}"),
    }
}

fn issue(event: &str) -> Value {
    json!({
        "webhookEvent": event,
        "user": {"displayName": "Ada"},
        "issue": {
            "key": "ACME-1",
            "self": "https://acme.atlassian.net/rest/api/2/issue/10000",
            "fields": {"summary": "Broken?", "priority": {"name": "High"}, "assignee": null},
        },
    })
}

#[test]
fn the_sample_renders() {
    let (event, sample) = Jira.sample();
    assert_eq!(event, None);
    assert_eq!(run(&serde_json::from_str(sample).unwrap()).unwrap().event, "jira:issue_created");
}

#[test]
fn issues_link_to_their_site() {
    assert_eq!(
        message(&issue("jira:issue_created")),
        (
            "ACME-1: Broken?".to_owned(),
            "Ada created [ACME-1: Broken?](https://acme.atlassian.net/browse/ACME-1):\n\n* **Priority**: High\n\
             * **Assignee**: no one"
                .to_owned()
        )
    );
    // No full stop after a summary ending in punctuation.
    assert_eq!(
        message(&issue("jira:issue_deleted")).1,
        "Ada deleted [ACME-1: Broken?](https://acme.atlassian.net/browse/ACME-1)"
    );
    let mut unlinked = issue("jira:issue_deleted");
    unlinked["issue"]["self"] = json!("elsewhere");
    unlinked["issue"]["fields"]["summary"] = json!("");
    assert_eq!(message(&unlinked).1, "Ada deleted ACME-1: .");
}

#[test]
fn updates_list_their_changes() {
    let mut body = issue("jira:issue_updated");
    body["issue"]["fields"]["assignee"] = json!({"emailAddress": "bo@acme.test"});
    body["changelog"] = json!({"items": [
        {"field": "assignee", "fromString": null, "toString": "Bo"},
        {"field": "resolution", "fromString": "Open", "toString": null},
    ]});
    assert_eq!(
        message(&body).1,
        "Ada updated [ACME-1: Broken?](https://acme.atlassian.net/browse/ACME-1) (assigned to **bo@acme.test**):\n\n\
         * Changed assignee to **bo@acme.test**\n* Changed resolution from **Open** to **None**"
    );
}

#[test]
fn a_transition_without_an_event_name_is_an_update() {
    let mut body = issue("x");
    body.as_object_mut().unwrap().remove("webhookEvent");
    body["transition"] = json!({"from_status": "Open", "to_status": "Done"});
    let handled = run(&body).unwrap();
    assert_eq!(handled.event, "jira:issue_updated");
    let Outcome::Message { content, .. } = handled.outcome else { panic!() };
    assert!(content.ends_with("* Changed status from **Open** to **Done**"), "{content}");
}

#[test]
fn comment_events_quote_the_comment() {
    let mut body = issue("comment_deleted");
    body["comment"] = json!({"author": {"displayName": "Bo"}, "body": "Done\\!"});
    assert_eq!(
        message(&body).1,
        "Bo deleted their comment on [ACME-1: Broken?](https://acme.atlassian.net/browse/ACME-1)\n``` quote\n~~Done!~~\n```"
    );
    let old = json!({"webhookEvent": "comment_created", "comment": {
        "self": "https://jira.test/rest/api/2/issue/10000/comment/10001",
        "author": {"displayName": "Bo"}, "body": "Hi",
    }});
    assert_eq!(message(&old).0, "10000: Upgrade Jira to get the issue title here.");
}

#[test]
fn ignored_unknown_and_anomalous_events() {
    assert_eq!(run(&json!({"webhookEvent": "sprint_started"})).unwrap().outcome, Outcome::Ignore);
    assert!(matches!(run(&issue("jira:issue_moved")), Err(IntegrationError::Unsupported { .. })));
    assert_eq!(
        run(&json!({"username": "ada"})),
        Err(IntegrationError::BadRequest("Unable to parse request: Did Jira generate this event?".into()))
    );
}

#[test]
fn wrong_types_and_missing_fields_are_malformed() {
    for pointer in ["/webhookEvent", "/user/displayName", "/issue/key", "/issue/self", "/issue/fields/summary"] {
        let mut body = issue("jira:issue_created");
        *body.pointer_mut(pointer).unwrap() = json!(7);
        assert!(matches!(run(&body), Err(IntegrationError::Malformed(_))), "{pointer}");
    }
    let mut body = issue("jira:issue_updated");
    body["changelog"] = json!({"items": "x"});
    assert!(matches!(run(&body), Err(IntegrationError::Malformed(_))));
    body["changelog"] = json!({"items": [7]});
    assert!(matches!(run(&body), Err(IntegrationError::Malformed(_))));
    let comment = json!({"webhookEvent": "comment_created", "comment": {"self": "x", "author": {"displayName": "B"}, "body": "b"}});
    assert!(matches!(run(&comment), Err(IntegrationError::Malformed(_))));
    assert!(matches!(run(&json!([])), Err(IntegrationError::Malformed(_))));
}

#[test]
fn markup_becomes_markdown() {
    assert_eq!(to_markdown("a *b* c ** d"), "a **b** c ** d");
    assert_eq!(to_markdown("{{x}} and {{a*b}}"), "`x` and {{a*b}}");
    assert_eq!(to_markdown("bq. said bq. twice\nbq. again"), "> said bq. twice\n> again");
    assert_eq!(to_markdown("{quote}q{quote}{noformat}n{noformat}"), "~~~ quote\nq\n~~~~~~\nn\n~~~");
    assert_eq!(to_markdown("{code:python}\nx = 1\n{code}"), "~~~\n\nx = 1\n\n~~~");
    assert_eq!(to_markdown("{code}a{code}b}"), "~~~\na\n~~~b}");
    assert_eq!(
        to_markdown("see [https://a.test] or [A|https://a.test]"),
        "see [https://a.test](https://a.test) or [A](https://a.test)"
    );
    assert_eq!(to_markdown("hi [~ada] and [~]"), "hi **ada** and ****");
    assert_eq!(to_markdown("[~no\nend] [ unclosed"), "[~no\nend] [ unclosed");
}

#[test]
fn markup_takes_linear_time_on_unclosed_tags() {
    for open in ["*", "{{", "{quote}", "{code", "[", "[~", "[a|"] {
        let text = open.repeat(200_000);
        assert!(to_markdown(&text).len() >= text.len() / 2, "{open}");
    }
}
