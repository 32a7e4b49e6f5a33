use serde_json::{Value, json};

use super::*;

fn run(body: &Value, params: &[(&str, &str)]) -> Result<Handled, IntegrationError> {
    let params: Vec<(String, String)> = params.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    Beanstalk.handle(&Payload { params: &params, event_type: None, headers: &[], body, raw: b"" })
}

fn malformed(body: &Value) -> String {
    match run(body, &[]) {
        Err(IntegrationError::Malformed(msg)) => msg,
        other => panic!("{other:?}"),
    }
}

fn sample() -> Value {
    serde_json::from_str(Beanstalk.sample().1).unwrap()
}

#[test]
fn the_sample_renders() {
    let handled = run(&sample(), &[]).unwrap();
    assert_eq!(handled.event, "push");
    assert_eq!(
        handled.outcome,
        Outcome::Message {
            topic: "work-test / master".into(),
            content: "Leo Franchi [pushed](http://lfranchi-svn.beanstalkapp.com/work-test) 1 commit to branch master.\n\n\
                      * add some stuff ([e50508df24c](http://lfranchi-svn.beanstalkapp.com/work-test/changesets/e50508df))"
                .into(),
        }
    );
}

#[test]
fn other_branches_are_ignored() {
    assert_eq!(run(&sample(), &[("branches", "dev")]).unwrap().outcome, Outcome::Ignore);
}

#[test]
fn an_svn_commit_shows_its_first_line() {
    let body = json!({"author_full_name": "Ada", "changeset_url": "http://x/changesets/7", "message": "Fix\n\nmore", "revision": 7});
    let handled = run(&body, &[]).unwrap();
    assert_eq!(handled.event, "svn_commit");
    assert_eq!(
        handled.outcome,
        Outcome::Message {
            topic: "svn r7".into(),
            content: "Ada pushed [revision 7](http://x/changesets/7):\n\n> Fix".into()
        }
    );
}

#[test]
fn missing_fields_and_wrong_types_are_malformed() {
    assert_eq!(malformed(&json!([1])), "expected a JSON object");
    assert_eq!(malformed(&json!({"author_full_name": "Ada"})), "expected text at /changeset_url");
    assert_eq!(
        malformed(&json!({"author_full_name": "Ada", "changeset_url": "u", "message": "m", "revision": "7"})),
        "expected a number at /revision"
    );
    let mut body = sample();
    body["branch"] = json!(1);
    assert_eq!(malformed(&body), "expected text at /branch");
    let mut body = sample();
    body["commits"] = json!({});
    assert_eq!(malformed(&body), "expected a list at /commits");
    let mut body = sample();
    body["commits"][0]["author"] = json!("Leo");
    assert_eq!(malformed(&body), "expected text at /author/name");
    let mut body = sample();
    body.as_object_mut().unwrap().remove("pusher_name");
    assert_eq!(malformed(&body), "expected text at /pusher_name");
}
