//! Reading messages as Zulip's `GET /messages` does: an anchor, how many before and after it,
//! and a narrow. The narrow picks the store's scope (stream, topic, DM thread) and a filter
//! (who may see a message, its sender); the viewer never sees DMs they are not part of.

use hookline_model::store::{Direction, MessageScope, Store, StoreError};
use hookline_model::{MAX_MESSAGE_ID, Message, MessageId, Recipient, User, UserId};
use serde_json::Value;

use crate::directory::Directory;

/// Zulip's cap on `num_before + num_after`.
pub const MAX_MESSAGES: u64 = 5000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    Newest,
    Oldest,
    Id(MessageId),
}

impl Anchor {
    /// `newest`, `oldest`, `first_unread` (read as `newest`: Hookline keeps no unread state), or an id.
    pub fn parse(text: &str) -> Result<Self, HistoryError> {
        match text.trim() {
            "newest" | "first_unread" => Ok(Self::Newest),
            "oldest" => Ok(Self::Oldest),
            other => other.parse().map(Self::Id).map_err(|_| HistoryError::BadAnchor),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HistoryError {
    #[error("Invalid anchor")]
    BadAnchor,
    #[error("Too many messages requested (maximum {MAX_MESSAGES}).")]
    TooMany,
    #[error("Invalid narrow operator: {0}")]
    BadNarrow(String),
    #[error("storage failed: {0}")]
    Store(String),
}

impl From<StoreError> for HistoryError {
    fn from(e: StoreError) -> Self {
        Self::Store(e.to_string())
    }
}

/// A page of messages around the anchor, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub messages: Vec<Message>,
    pub anchor: MessageId,
    pub found_anchor: bool,
    pub found_oldest: bool,
    pub found_newest: bool,
}

/// What a narrow resolves to.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Narrow {
    stream: Option<u64>,
    topic: Option<String>,
    direct: Option<Vec<UserId>>,
    sender: Option<UserId>,
    only_direct: bool,
}

/// Zulip's narrow: a JSON list of `{"operator", "operand"}` objects or `[operator, operand]`
/// pairs.
fn parse_narrow(narrow: &Value, directory: &Directory, viewer: &User) -> Result<Narrow, HistoryError> {
    let bad = |why: &str| HistoryError::BadNarrow(why.to_owned());
    let mut resolved = Narrow::default();
    let Some(terms) = narrow.as_array() else { return Err(bad("narrow must be a list")) };
    for term in terms {
        let (operator, operand, negated) = match term {
            Value::Object(map) => (
                map.get("operator").and_then(Value::as_str).ok_or_else(|| bad("missing operator"))?,
                map.get("operand").cloned().unwrap_or(Value::Null),
                map.get("negated").and_then(Value::as_bool).unwrap_or(false),
            ),
            Value::Array(pair) if pair.len() == 2 => {
                (pair[0].as_str().ok_or_else(|| bad("missing operator"))?, pair[1].clone(), false)
            }
            _ => return Err(bad("malformed term")),
        };
        if negated {
            return Err(bad("negated terms are not supported"));
        }
        match operator {
            "stream" | "channel" => {
                let stream = match &operand {
                    Value::Number(n) => n.as_u64().and_then(|id| directory.stream(id)),
                    Value::String(s) => {
                        s.parse().ok().and_then(|id| directory.stream(id)).or_else(|| directory.stream_named(s))
                    }
                    _ => None,
                };
                resolved.stream = Some(stream.ok_or_else(|| bad("unknown channel"))?.id);
            }
            "topic" | "subject" => {
                resolved.topic = Some(operand.as_str().ok_or_else(|| bad("topic must be text"))?.to_owned())
            }
            "dm" | "pm-with" => {
                let people: Vec<Value> = match operand {
                    Value::Array(items) => items,
                    Value::String(s) => s.split(',').map(|e| Value::String(e.trim().to_owned())).collect(),
                    Value::Number(n) => vec![Value::Number(n)],
                    _ => return Err(bad("dm needs users")),
                };
                let mut ids = vec![viewer.id];
                for person in people {
                    ids.push(person_id(directory, &person).ok_or_else(|| bad("unknown user"))?);
                }
                ids.sort_unstable();
                ids.dedup();
                resolved.direct = Some(ids);
            }
            "sender" => resolved.sender = Some(person_id(directory, &operand).ok_or_else(|| bad("unknown user"))?),
            "is" if matches!(operand.as_str(), Some("dm" | "private")) => resolved.only_direct = true,
            other => return Err(HistoryError::BadNarrow(format!("unsupported operator '{other}'"))),
        }
    }
    if resolved.topic.is_some() && resolved.stream.is_none() {
        return Err(bad("topic needs a channel"));
    }
    Ok(resolved)
}

fn person_id(directory: &Directory, person: &Value) -> Option<UserId> {
    match person {
        Value::Number(n) => n.as_u64().filter(|id| directory.user(*id).is_some()),
        Value::String(s) => match s.parse::<UserId>() {
            Ok(id) => directory.user(id).map(|u| u.id),
            Err(_) => directory.user_by_email(s).map(|u| u.id),
        },
        _ => None,
    }
}

/// The page `viewer` asked for.
pub async fn read(
    store: &dyn Store,
    directory: &Directory,
    viewer: &User,
    narrow: &Value,
    anchor: Anchor,
    num_before: u64,
    num_after: u64,
) -> Result<Page, HistoryError> {
    if num_before.saturating_add(num_after) > MAX_MESSAGES {
        return Err(HistoryError::TooMany);
    }
    let narrow = parse_narrow(narrow, directory, viewer)?;
    let scope = match (&narrow.direct, narrow.stream, &narrow.topic) {
        (Some(ids), _, _) => MessageScope::Direct(ids.clone()),
        (None, Some(stream), Some(topic)) => MessageScope::Topic(stream, topic.clone()),
        (None, Some(stream), None) => MessageScope::Stream(stream),
        (None, None, _) => MessageScope::Realm,
    };
    let viewer_id = viewer.id;
    let (sender, only_direct) = (narrow.sender, narrow.only_direct);
    let keep = move |m: &Message| {
        m.recipient.visible_to(viewer_id)
            && sender.is_none_or(|s| m.sender_id == s)
            && (!only_direct || matches!(m.recipient, Recipient::Direct { .. }))
    };
    let realm = directory.realm.id;
    let (before_limit, after_limit) =
        (usize::try_from(num_before).unwrap_or(usize::MAX), usize::try_from(num_after).unwrap_or(usize::MAX));
    let (anchor_id, before, after) = match anchor {
        Anchor::Newest => {
            // The newest message is the anchor itself; then num_before older ones.
            let mut newest = store
                .list_messages(realm, &scope, MAX_MESSAGE_ID + 1, Direction::Before, before_limit + 1, &keep)
                .await?;
            newest.reverse();
            let anchor = newest.last().map_or(0, |m| m.id);
            let found_oldest = newest.len() <= before_limit;
            return Ok(Page {
                found_anchor: !newest.is_empty(),
                messages: newest,
                anchor,
                found_oldest,
                found_newest: true,
            });
        }
        Anchor::Oldest => {
            (0, Vec::new(), store.list_messages(realm, &scope, 0, Direction::From, after_limit + 2, &keep).await?)
        }
        Anchor::Id(id) => (
            id,
            if before_limit > 0 {
                store.list_messages(realm, &scope, id, Direction::Before, before_limit, &keep).await?
            } else {
                Vec::new()
            },
            // Two beyond `num_after`: the anchor itself, and one to learn whether there are newer.
            store.list_messages(realm, &scope, id, Direction::From, after_limit + 2, &keep).await?,
        ),
    };
    let found_anchor = after.first().is_some_and(|m| m.id == anchor_id);
    // `num_after` does not count the anchor.
    let wanted_after = if found_anchor { after_limit + 1 } else { after_limit };
    let found_newest = after.len() <= wanted_after;
    let found_oldest = anchor == Anchor::Oldest || before.len() < before_limit;
    let mut messages: Vec<Message> = before.into_iter().rev().collect();
    messages.extend(after.into_iter().take(wanted_after));
    Ok(Page { messages, anchor: anchor_id, found_anchor, found_oldest, found_newest })
}
