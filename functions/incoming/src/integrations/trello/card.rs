//! Card actions: a card created, moved, renamed, described, archived or reopened, its due date
//! set or changed, labels, members, attachments, checklists and comments.

use serde_json::Value;

use super::{data_text, data_value, old, optional_data_text, unsupported};
use crate::integration::{IntegrationError, optional_text, text, truthy};

/// The card action types shown: the first ten of [`super::EVENT_TYPES`].
pub const SHOWN: &[&str] = super::EVENT_TYPES.split_at(10).0;

/// The card and list action types that send nothing.
pub const IGNORED: &[&str] = &["copyCard", "createCheckItem", "updateCheckItem", "updateList"];

/// Card fields whose change shows nothing: the card's position in its list, its cover, and
/// whether its due date is done.
const QUIET_FIELDS: &[&str] = &["cover", "dueComplete", "idAttachmentCover", "pos"];

/// What an `updateCard` changed.
enum Update {
    List,
    Name,
    SetDescription,
    ChangeDescription,
    RemoveDescription,
    Archive,
    Reopen,
    SetDue,
    ChangeDue,
    RemoveDue,
}

/// The message for a card action, `None` for an update that shows nothing.
pub fn message(body: &Value, action: &str) -> Result<Option<String>, IntegrationError> {
    let what = match action {
        "updateCard" => match update(body)? {
            Some(update) => updated(body, &update)?,
            None => return Ok(None),
        },
        "createCard" => format!("created {}.", link(body)?),
        "addLabelToCard" | "removeLabelFromCard" => {
            let (verb, to) = if action == "addLabelToCard" { ("added", "to") } else { ("removed", "from") };
            format!(
                "{verb} a {} label with \"{}\" {to} {}.",
                data_text(body, "/value")?,
                data_text(body, "/text")?,
                link(body)?
            )
        }
        "addMemberToCard" => format!("added {} to {}.", text(body, "/action/member/fullName")?, link(body)?),
        "removeMemberFromCard" => format!("removed {} from {}.", text(body, "/action/member/fullName")?, link(body)?),
        "addAttachmentToCard" => format!(
            "added [{}]({}) to {}.",
            data_text(body, "/attachment/name")?,
            data_text(body, "/attachment/url")?,
            link(body)?
        ),
        "addChecklistToCard" => {
            format!("added the {} checklist to {}.", data_text(body, "/checklist/name")?, link(body)?)
        }
        "commentCard" => format!("commented on {}:{}", link(body)?, quote(data_text(body, "/text")?)),
        _ => {
            let checked = if data_text(body, "/checkItem/state")? == "complete" { "checked" } else { "unchecked" };
            format!(
                "{checked} **{}** in **{}** ({}).",
                data_text(body, "/checkItem/name")?,
                data_text(body, "/checklist/name")?,
                link(body)?
            )
        }
    };
    // A member Trello no longer names shows as `None`, as in Zulip.
    let creator = body
        .pointer("/action/memberCreator")
        .filter(|creator| creator.is_object())
        .ok_or_else(|| IntegrationError::Malformed("expected an object at /action/memberCreator".into()))?;
    let creator = optional_text(creator, "fullName")?.unwrap_or("None");
    Ok(Some(format!("{creator} {}", what.trim_end())))
}

/// A quote block on its own lines.
fn quote(text: &str) -> String {
    format!("\n~~~ quote\n{text}\n~~~")
}

/// What an `updateCard` changed, judged in this order from what it says the card held before
/// (`old`) and holds now (`card`); `None` for a change that shows nothing.
fn update(body: &Value) -> Result<Option<Update>, IntegrationError> {
    let old = old(body)?;
    if data_value(body, "/card").is_none_or(|card| !card.is_object()) {
        return Err(IntegrationError::Malformed("expected an object at /action/data/card".into()));
    }
    if data_value(body, "/listBefore").is_some_and(truthy) {
        return Ok(Some(Update::List));
    }
    if optional_data_text(body, "/old/name")?.is_some_and(|name| !name.is_empty()) {
        return Ok(Some(Update::Name));
    }
    match optional_data_text(body, "/old/desc")? {
        Some("") => return Ok(Some(Update::SetDescription)),
        Some(_) if optional_data_text(body, "/card/desc")? == Some("") => {
            return Ok(Some(Update::RemoveDescription));
        }
        Some(_) => return Ok(Some(Update::ChangeDescription)),
        None => {}
    }
    let old_due = optional_data_text(body, "/old/due")?;
    if old.get("due").is_some_and(Value::is_null) {
        return Ok(Some(Update::SetDue));
    }
    if old_due.is_some_and(|due| !due.is_empty()) {
        optional_data_text(body, "/card/due")?;
        let cleared = data_value(body, "/card").is_some_and(|card| card.get("due").is_some_and(Value::is_null));
        return Ok(Some(if cleared { Update::RemoveDue } else { Update::ChangeDue }));
    }
    let old_closed = optional_flag(body, "/old/closed")?;
    let closed = optional_flag(body, "/card/closed")?;
    if old_closed == Some(false) && closed == Some(true) {
        return Ok(Some(Update::Archive));
    }
    if old_closed == Some(true) && closed == Some(false) {
        return Ok(Some(Update::Reopen));
    }
    if QUIET_FIELDS.iter().any(|field| old.contains_key(*field)) {
        return Ok(None);
    }
    Err(unsupported("updateCard"))
}

/// The flag at `field` below the action's data: `None` when missing or null.
fn optional_flag(body: &Value, field: &str) -> Result<Option<bool>, IntegrationError> {
    data_value(body, field)
        .map(|value| {
            value
                .as_bool()
                .ok_or_else(|| IntegrationError::Malformed(format!("expected true or false at /action/data{field}")))
        })
        .transpose()
}

fn updated(body: &Value, update: &Update) -> Result<String, IntegrationError> {
    let card = link(body)?;
    Ok(match update {
        Update::List => format!(
            "moved {card} from {} to {}.",
            data_text(body, "/listBefore/name")?,
            data_text(body, "/listAfter/name")?
        ),
        Update::Name => format!("renamed the card from \"{}\" to {card}.", data_text(body, "/old/name")?),
        Update::SetDescription => format!("set description for {card} to:{}", quote(data_text(body, "/card/desc")?)),
        Update::ChangeDescription => format!(
            "changed description for {card} from{}\nto{}",
            quote(data_text(body, "/old/desc")?),
            quote(data_text(body, "/card/desc")?)
        ),
        Update::RemoveDescription => format!("removed description from {card}."),
        Update::Archive => format!("archived {card}."),
        Update::Reopen => format!("reopened {card}."),
        Update::SetDue => format!("set due date for {card} to {}.", date(data_text(body, "/card/due")?)),
        Update::ChangeDue => format!(
            "changed due date for {card} from {} to {}.",
            date(data_text(body, "/old/due")?),
            date(data_text(body, "/card/due")?)
        ),
        Update::RemoveDue => format!("removed the due date from {card}."),
    })
}

/// Trello's ISO 8601 time (`2016-05-11T10:00:00.000Z`) as `2016-05-11 10:00:00 UTC`.
fn date(iso: &str) -> String {
    iso.replace('T', " ").replace(".000", "").replace('Z', " UTC")
}

/// The card, linked.
fn link(body: &Value) -> Result<String, IntegrationError> {
    Ok(format!("[{}](https://trello.com/c/{})", data_text(body, "/card/name")?, data_text(body, "/card/shortLink")?))
}
