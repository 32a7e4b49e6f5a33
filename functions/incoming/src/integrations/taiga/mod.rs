//! `taiga`: Taiga's project webhooks, as Zulip's `taiga`.
//!
//! Every change to an epic, user story, task, issue or sprint (Taiga's "milestone") becomes one
//! message with a line per thing that changed, the lines in alphabetical order:
//!
//! ```text
//! [Ada](https://tree.taiga.io/profile/ada) changed status of task **Fix it** from New to Done.
//! [Ada](https://tree.taiga.io/profile/ada) commented on task **Fix it**.
//! ```
//!
//! The subject is a link when Taiga sends its permalink, bold otherwise. The topic is the sprint
//! of the item, or `General` for items outside a sprint. Changes that have no sentence (Taiga
//! reports board order and other bookkeeping in the same diff) are left out; a change with
//! nothing to say sends nothing.

#[cfg(test)]
mod tests;

use serde_json::{Map, Value};

use crate::integration::{Handled, Integration, IntegrationError, Outcome, Payload, text};
use crate::signature::{Encoding, Hash, Scheme};

pub struct Taiga;

/// Every event name: `<type>_<action>` for each kind's actions, and Taiga's webhook test.
const EVENT_TYPES: &[&str] = &[
    "epic_create",
    "epic_change",
    "epic_delete",
    "relateduserstory_create",
    "relateduserstory_delete",
    "userstory_create",
    "userstory_change",
    "userstory_delete",
    "milestone_create",
    "milestone_change",
    "milestone_delete",
    "task_create",
    "task_change",
    "task_delete",
    "issue_create",
    "issue_change",
    "issue_delete",
    "test",
];

/// The sentence for each kind of object and what happened to it, after the acting user's
/// link. `{subject}` is the object, `{old}` and `{new}` the changed value before and after,
/// `{userstory}` and `{epic}` the two sides of an epic's related user story.
const SENTENCES: &[(&str, &str, &str)] = &[
    ("epic", "create", "created epic {subject}."),
    ("epic", "set_assigned_to", "assigned epic {subject} to {new}."),
    ("epic", "unset_assigned_to", "unassigned epic {subject}."),
    ("epic", "changed_assigned_to", "reassigned epic {subject} from {old} to {new}."),
    ("epic", "blocked", "blocked epic {subject}."),
    ("epic", "unblocked", "unblocked epic {subject}."),
    ("epic", "changed_status", "changed status of epic {subject} from {old} to {new}."),
    ("epic", "renamed", "renamed epic from **{old}** to **{new}**."),
    ("epic", "description_diff", "updated description of epic {subject}."),
    ("epic", "commented", "commented on epic {subject}."),
    ("epic", "delete", "deleted epic {subject}."),
    ("relateduserstory", "create", "added a related user story {userstory} to the epic {epic}."),
    ("relateduserstory", "delete", "removed a related user story {userstory} from the epic {epic}."),
    ("userstory", "create", "created user story {subject}."),
    ("userstory", "set_assigned_to", "assigned user story {subject} to {new}."),
    ("userstory", "unset_assigned_to", "unassigned user story {subject}."),
    ("userstory", "changed_assigned_to", "reassigned user story {subject} from {old} to {new}."),
    ("userstory", "points", "changed estimation of user story {subject}."),
    ("userstory", "blocked", "blocked user story {subject}."),
    ("userstory", "unblocked", "unblocked user story {subject}."),
    ("userstory", "set_milestone", "added user story {subject} to sprint {new}."),
    ("userstory", "unset_milestone", "removed user story {subject} from sprint {old}."),
    ("userstory", "changed_milestone", "changed sprint of user story {subject} from {old} to {new}."),
    ("userstory", "changed_status", "changed status of user story {subject} from {old} to {new}."),
    ("userstory", "closed", "closed user story {subject}."),
    ("userstory", "reopened", "reopened user story {subject}."),
    ("userstory", "renamed", "renamed user story from {old} to **{new}**."),
    ("userstory", "description_diff", "updated description of user story {subject}."),
    ("userstory", "commented", "commented on user story {subject}."),
    ("userstory", "delete", "deleted user story {subject}."),
    ("userstory", "due_date", "changed due date of user story {subject} from {old} to {new}."),
    ("userstory", "set_due_date", "set due date of user story {subject} to {new}."),
    ("milestone", "create", "created sprint {subject}."),
    ("milestone", "renamed", "renamed sprint from {old} to **{new}**."),
    ("milestone", "estimated_start", "changed estimated start of sprint {subject} from {old} to {new}."),
    ("milestone", "estimated_finish", "changed estimated finish of sprint {subject} from {old} to {new}."),
    ("milestone", "set_estimated_start", "changed estimated start of sprint {subject} to {new}."),
    ("milestone", "set_estimated_finish", "set estimated finish of sprint {subject} to {new}."),
    ("milestone", "delete", "deleted sprint {subject}."),
    ("task", "create", "created task {subject}."),
    ("task", "set_assigned_to", "assigned task {subject} to {new}."),
    ("task", "unset_assigned_to", "unassigned task {subject}."),
    ("task", "changed_assigned_to", "reassigned task {subject} from {old} to {new}."),
    ("task", "blocked", "blocked task {subject}."),
    ("task", "unblocked", "unblocked task {subject}."),
    ("task", "changed_status", "changed status of task {subject} from {old} to {new}."),
    ("task", "renamed", "renamed task {old} to **{new}**."),
    ("task", "description_diff", "updated description of task {subject}."),
    ("task", "set_milestone", "added task {subject} to sprint {new}."),
    ("task", "commented", "commented on task {subject}."),
    ("task", "delete", "deleted task {subject}."),
    ("task", "changed_us", "moved task {subject} from user story {old} to {new}."),
    ("task", "due_date", "changed due date of task {subject} from {old} to {new}."),
    ("task", "set_due_date", "set due date of task {subject} to {new}."),
    ("issue", "create", "created issue {subject}."),
    ("issue", "set_assigned_to", "assigned issue {subject} to {new}."),
    ("issue", "unset_assigned_to", "unassigned issue {subject}."),
    ("issue", "changed_assigned_to", "reassigned issue {subject} from {old} to {new}."),
    ("issue", "set_milestone", "added issue {subject} to sprint {new}."),
    ("issue", "unset_milestone", "detached issue {subject} from sprint {old}."),
    ("issue", "changed_priority", "changed priority of issue {subject} from {old} to {new}."),
    ("issue", "changed_severity", "changed severity of issue {subject} from {old} to {new}."),
    ("issue", "changed_status", "changed status of issue {subject} from {old} to {new}."),
    ("issue", "changed_type", "changed type of issue {subject} from {old} to {new}."),
    ("issue", "renamed", "renamed issue {old} to **{new}**."),
    ("issue", "description_diff", "updated description of issue {subject}."),
    ("issue", "commented", "commented on issue {subject}."),
    ("issue", "delete", "deleted issue {subject}."),
    ("issue", "due_date", "changed due date of issue {subject} from {old} to {new}."),
    ("issue", "set_due_date", "set due date of issue {subject} to {new}."),
    ("issue", "blocked", "blocked issue {subject}."),
    ("issue", "unblocked", "unblocked issue {subject}."),
];

impl Integration for Taiga {
    fn name(&self) -> &'static str {
        "taiga"
    }

    fn display_name(&self) -> &'static str {
        "Taiga"
    }

    fn categories(&self) -> &'static [&'static str] {
        &["project-management"]
    }

    fn event_types(&self) -> &'static [&'static str] {
        EVENT_TYPES
    }

    /// Taiga signs with the webhook's secret key: `X-TAIGA-WEBHOOK-SIGNATURE`, the hex
    /// HMAC-SHA1 of the body.
    fn verify(&self, secret: &str, payload: &Payload<'_>) -> Result<(), IntegrationError> {
        Scheme { header: "X-TAIGA-WEBHOOK-SIGNATURE", prefix: "", hash: Hash::Sha1, encoding: Encoding::Hex }
            .check_body(secret, payload)
    }

    fn handle(&self, payload: &Payload<'_>) -> Result<Handled, IntegrationError> {
        let body = payload.body;
        let action = text(body, "/action")?;
        let (event, lines) = if action == "test" {
            let user = text(body, "/by/full_name")?;
            let link = text(body, "/by/permalink")?;
            ("test".to_owned(), vec![format!("[{user}]({link}) triggered a test of the Taiga integration.")])
        } else {
            let kind = text(body, "/type")?;
            let event = format!("{kind}_{action}");
            if !EVENT_TYPES.contains(&event.as_str()) {
                return Err(IntegrationError::Unsupported { event, integration: self.display_name() });
            }
            let lines = match action {
                "change" => changes(body, kind)?,
                _ => vec![created_or_deleted(body, kind, action)?],
            };
            (event, lines)
        };
        if lines.is_empty() {
            return Ok(Handled { event, outcome: Outcome::Ignore });
        }
        let mut lines = lines;
        lines.sort();
        let content = lines.join("\n");
        Ok(Handled { event, outcome: Outcome::Message { topic: topic(body)?, content } })
    }

    fn sample(&self) -> (Option<&'static str>, &'static str) {
        (
            None,
            r#"{"action": "change", "type": "task", "by": {"full_name": "Ada", "permalink": "https://tree.taiga.io/profile/ada"}, "data": {"subject": "Fix the login form", "permalink": "https://tree.taiga.io/project/ada-site/task/12", "milestone": {"name": "Sprint 3"}}, "change": {"comment": "Done on staging.", "diff": {"status": {"from": "In progress", "to": "Ready for test"}}}}"#,
        )
    }
}

/// The item's sprint, when it is in one, else `General`.
fn topic(body: &Value) -> Result<String, IntegrationError> {
    match body.pointer("/data/milestone") {
        Some(Value::Object(milestone)) if milestone.contains_key("name") => {
            Ok(text(body, "/data/milestone/name")?.to_owned())
        }
        _ => Ok("General".to_owned()),
    }
}

/// What one sentence is filled with.
#[derive(Debug, Default)]
struct Values {
    subject: String,
    old: Option<String>,
    new: Option<String>,
    userstory: String,
    epic: String,
}

/// The acting user's link and the sentence for `event` on a `kind` of object, or `None` when
/// Taiga's change has no sentence for that kind.
fn sentence_for(body: &Value, kind: &str, event: &str, values: &Values) -> Result<Option<String>, IntegrationError> {
    let Some(&(_, _, template)) = SENTENCES.iter().find(|(k, e, _)| *k == kind && *e == event) else {
        return Ok(None);
    };
    let user = text(body, "/by/full_name")?;
    let link = text(body, "/by/permalink")?;
    Ok(Some(format!("[{user}]({link}) {}", fill(template, values))))
}

/// Puts `values` into `template`'s placeholders, in one pass so that a value that looks like
/// a placeholder stays as it is. A value Taiga cleared (null) shows as `None`, as in Zulip.
fn fill(template: &str, values: &Values) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let value = match &after[..end] {
            "subject" => values.subject.as_str(),
            "old" => values.old.as_deref().unwrap_or("None"),
            "new" => values.new.as_deref().unwrap_or("None"),
            "userstory" => values.userstory.as_str(),
            "epic" => values.epic.as_str(),
            _ => "",
        };
        out.push_str(value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// An object's name as a link to it when `object` carries its permalink, bold otherwise. The
/// name is its `subject`, or for sprints, which have none, its `name`.
fn subject_of(body: &Value, pointer: &str, name_fallback: bool) -> Result<String, IntegrationError> {
    let object = body
        .pointer(pointer)
        .and_then(Value::as_object)
        .ok_or_else(|| IntegrationError::Malformed(format!("expected an object at {pointer}")))?;
    let subject = match object.get("subject") {
        None | Some(Value::Null) if name_fallback => None,
        _ => Some(text(body, &format!("{pointer}/subject"))?),
    };
    let subject = match subject {
        Some(subject) if !subject.is_empty() || !name_fallback => subject,
        _ => text(body, &format!("{pointer}/name"))?,
    };
    if object.contains_key("permalink") {
        Ok(format!("[{subject}]({})", text(body, &format!("{pointer}/permalink"))?))
    } else {
        Ok(format!("**{subject}**"))
    }
}

fn created_or_deleted(body: &Value, kind: &str, action: &str) -> Result<String, IntegrationError> {
    let values = if kind == "relateduserstory" {
        Values {
            userstory: subject_of(body, "/data/user_story", false)?,
            epic: subject_of(body, "/data/epic", false)?,
            ..Values::default()
        }
    } else {
        Values { subject: subject_of(body, "/data", true)?, ..Values::default() }
    };
    sentence_for(body, kind, action, &values)?
        .ok_or_else(|| IntegrationError::Unsupported { event: format!("{kind}_{action}"), integration: "Taiga" })
}

/// A changed field's value before (`from`) and after (`to`): text or null.
fn before_and_after(
    diff: &Map<String, Value>,
    field: &str,
) -> Result<(Option<String>, Option<String>), IntegrationError> {
    let change = diff
        .get(field)
        .and_then(Value::as_object)
        .ok_or_else(|| IntegrationError::Malformed(format!("expected an object at /change/diff/{field}")))?;
    let side = |key: &str| match change.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(value)) => Ok(Some(value.clone())),
        Some(_) => Err(IntegrationError::Malformed(format!("expected text at /change/diff/{field}/{key}"))),
    };
    Ok((side("from")?, side("to")?))
}

/// Whether a flag was turned on (`to` is `true`).
fn turned_on(diff: &Map<String, Value>, field: &str) -> Result<bool, IntegrationError> {
    diff.get(field)
        .and_then(|change| change.get("to"))
        .and_then(Value::as_bool)
        .ok_or_else(|| IntegrationError::Malformed(format!("expected true or false at /change/diff/{field}/to")))
}

/// Whether a value is absent or empty.
fn blank(value: Option<&String>) -> bool {
    value.is_none_or(|value| value.is_empty())
}

/// One sentence per changed field that has one, and one for a comment.
fn changes(body: &Value, kind: &str) -> Result<Vec<String>, IntegrationError> {
    let diff = match body.pointer("/change/diff") {
        Some(Value::Object(diff)) => Some(diff),
        Some(Value::Null) => None,
        Some(Value::Array(items)) if items.is_empty() => None,
        _ => return Err(IntegrationError::Malformed("expected an object at /change/diff".into())),
    };
    let comment = text(body, "/change/comment")?;
    let diff = diff.filter(|diff| !diff.is_empty());
    if diff.is_none() && comment.is_empty() {
        return Ok(Vec::new());
    }
    let subject = subject_of(body, "/data", true)?;
    let mut lines = Vec::new();
    if let Some(diff) = diff {
        for field in diff.keys() {
            let Some((event, old, new)) = change(diff, field)? else { continue };
            let values = Values { subject: subject.clone(), old, new, ..Values::default() };
            if let Some(line) = sentence_for(body, kind, &event, &values)? {
                lines.push(line);
            }
        }
    }
    if !comment.is_empty()
        && let Some(line) = sentence_for(body, kind, "commented", &Values { subject, ..Values::default() })?
    {
        lines.push(line);
    }
    Ok(lines)
}

/// What a changed field is called in `SENTENCES`, with the values before and after it shows;
/// `None` for a field without a sentence or a date that did not change.
type Change = Option<(String, Option<String>, Option<String>)>;

fn change(diff: &Map<String, Value>, field: &str) -> Result<Change, IntegrationError> {
    Ok(Some(match field {
        "description_diff" | "points" => (field.to_owned(), None, None),
        "milestone" | "assigned_to" => {
            let (old, new) = before_and_after(diff, field)?;
            if blank(old.as_ref()) {
                (format!("set_{field}"), None, new)
            } else if blank(new.as_ref()) {
                (format!("unset_{field}"), old, None)
            } else {
                (format!("changed_{field}"), old, new)
            }
        }
        "is_blocked" => ((if turned_on(diff, field)? { "blocked" } else { "unblocked" }).to_owned(), None, None),
        "is_closed" => ((if turned_on(diff, field)? { "closed" } else { "reopened" }).to_owned(), None, None),
        "user_story" => {
            let (old, new) = before_and_after(diff, field)?;
            ("changed_us".to_owned(), old, new)
        }
        "subject" | "name" => {
            let (old, new) = before_and_after(diff, field)?;
            ("renamed".to_owned(), old, new)
        }
        "estimated_finish" | "estimated_start" | "due_date" => {
            let (old, new) = before_and_after(diff, field)?;
            if blank(old.as_ref()) {
                (format!("set_{field}"), None, new)
            } else if old != new {
                (field.to_owned(), old, new)
            } else {
                return Ok(None);
            }
        }
        "priority" | "severity" | "type" | "status" => {
            let (old, new) = before_and_after(diff, field)?;
            (format!("changed_{field}"), old, new)
        }
        _ => return Ok(None),
    }))
}
