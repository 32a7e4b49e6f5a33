//! `beanstalk`: Beanstalk's modular webhooks for Git and Subversion repositories, as Zulip's
//! `beanstalk`. The JSON document arrives as the `payload` field of a form.
//!
//! A Git push (the payload has a `uri`) is Zulip's usual push message in `{repo} / {branch}`,
//! kept only for the `branches` URL option's branches when it is given:
//!
//! ```text
//! Leo Franchi [pushed](http://lfranchi-svn.beanstalkapp.com/work-test) 1 commit to branch master.
//!
//! * add some stuff ([e50508df24c](http://lfranchi-svn.beanstalkapp.com/work-test/changesets/e50508df))
//! ```
//!
//! A Subversion commit goes to `svn r{revision}` with the first line of its message:
//!
//! ```text
//! Leo Franchi pushed [revision 2](http://lfranchi-svn.beanstalkapp.com/work-test/changesets/2):
//!
//! > Added some code
//! ```

#[cfg(test)]
mod tests;

use serde_json::Value;

use crate::git;
use crate::integration::{BRANCHES, Handled, Integration, IntegrationError, Outcome, Payload, UrlOption, number, text};

pub struct Beanstalk;

impl Integration for Beanstalk {
    fn name(&self) -> &'static str {
        "beanstalk"
    }

    fn display_name(&self) -> &'static str {
        "Beanstalk"
    }

    fn categories(&self) -> &'static [&'static str] {
        &["version-control"]
    }

    fn url_options(&self) -> &'static [UrlOption] {
        &[BRANCHES]
    }

    fn event_types(&self) -> &'static [&'static str] {
        &["push", "svn_commit"]
    }

    fn handle(&self, payload: &Payload<'_>) -> Result<Handled, IntegrationError> {
        let body = payload.body;
        if !body.is_object() {
            return Err(IntegrationError::Malformed("expected a JSON object".into()));
        }
        // Only Git repositories' payloads carry a `uri`.
        if body.get("uri").is_some() { git_push(body, payload.param("branches")) } else { svn_commit(body) }
    }

    fn sample(&self) -> (Option<&'static str>, &'static str) {
        (
            None,
            r#"{"after": "e50508df24cee0c6e6b1c051ce348282ea152cb3", "before": "d190b0f5f1873f809db4050f0b31e89d349381f1", "branch": "master", "commits": [{"author": {"email": "lfranchi@kde.org", "name": "Leo Franchi"}, "id": "e50508df24cee0c6e6b1c051ce348282ea152cb3", "message": "add some stuff", "timestamp": "2013-04-01T19:21:11Z", "url": "http://lfranchi-svn.beanstalkapp.com/work-test/changesets/e50508df"}], "pusher_name": "Leo Franchi", "ref": "refs/heads/master", "repository": {"name": "work-test", "url": "http://lfranchi-svn.beanstalkapp.com/work-test"}, "uri": "git@lfranchi-svn.beanstalkapp.com:/work-test.git"}"#,
        )
    }
}

fn git_push(body: &Value, branches: Option<&str>) -> Result<Handled, IntegrationError> {
    let branch = text(body, "/branch")?;
    if !git::is_branch_name_notifiable(branch, branches) {
        return Ok(Handled { event: "push".into(), outcome: Outcome::Ignore });
    }
    let repo = text(body, "/repository/name")?;
    let reference = text(body, "/ref")?;
    let short_ref = reference.strip_prefix("refs/heads/").unwrap_or(reference);
    text(body, "/before")?;
    text(body, "/after")?;
    let url = text(body, "/repository/url")?;
    let pusher = text(body, "/pusher_name")?;
    let commits = git::commits_by_author_name(body, "/commits")?;
    let content = git::push_commits_event_message(pusher, Some(url), short_ref, &commits, false, false, false);
    Ok(Handled {
        event: "push".into(),
        outcome: Outcome::Message { topic: git::topic_with_branch(repo, short_ref), content },
    })
}

fn svn_commit(body: &Value) -> Result<Handled, IntegrationError> {
    let author = text(body, "/author_full_name")?;
    let url = text(body, "/changeset_url")?;
    let revision = number(body, "/revision")?;
    let message = text(body, "/message")?;
    let first_line = message.split('\n').next().unwrap_or_default();
    Ok(Handled {
        event: "svn_commit".into(),
        outcome: Outcome::Message {
            topic: format!("svn r{revision}"),
            content: format!("{author} pushed [revision {revision}]({url}):\n\n> {first_line}"),
        },
    })
}
