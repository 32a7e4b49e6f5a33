//! A Slack message's text as Markdown: Slack's formatting converted (see
//! [`crate::mrkdwn`]), then mentions named. A user mention becomes `@**name**` (a mention-like
//! text: Slack users are not this realm's users) and a channel mention `**#name**`; either
//! replaces the formatting around it, as Zulip's `slack` integration does.

use super::api::Lookups;
use crate::mrkdwn::events_to_markdown;

/// The formatting markers a mention sheds.
const MARKERS: &[char] = &['*', '_', '~'];

/// The ids of the users `text` mentions (`<@U123>` or `<@U123|name>`), in order, each once.
#[must_use]
pub fn mentioned_users(text: &str) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("<@") {
        rest = &rest[at..];
        match mention(rest) {
            Some((Mention::User { id, .. }, len)) => {
                if !ids.iter().any(|known| known == id) {
                    ids.push(id.to_owned());
                }
                rest = &rest[len..];
            }
            _ => rest = &rest[2..],
        }
    }
    ids
}

/// The text of an Events API message, its mentions named from `lookups`.
#[must_use]
pub fn events_text(text: &str, lookups: &Lookups) -> String {
    let converted = events_to_markdown(text);
    converted.split(' ').map(|word| name_mentions(word, lookups)).collect::<Vec<_>>().join(" ")
}

/// The text of a legacy outgoing webhook's message (which names nobody by id).
#[must_use]
pub fn legacy_to_markdown(text: &str) -> String {
    events_text(text, &Lookups::default())
}

#[derive(Debug, PartialEq, Eq)]
enum Mention<'a> {
    User { id: &'a str, label: Option<&'a str> },
    Channel { label: Option<&'a str> },
}

/// The mention `<@id|label>` or `<#id|label>` at the start of `text`, and its length.
fn mention(text: &str) -> Option<(Mention<'_>, usize)> {
    let sigil = text.strip_prefix('<')?.chars().next()?;
    if sigil != '@' && sigil != '#' {
        return None;
    }
    let end = text.find('>')?;
    let inner = &text[2..end];
    let (id, label) = match inner.split_once('|') {
        Some((id, label)) => (id, Some(label)),
        None => (inner, None),
    };
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let found = if sigil == '@' { Mention::User { id, label } } else { Mention::Channel { label } };
    Some((found, end + 1))
}

/// One space-separated word with its mentions named and the formatting around them dropped.
fn name_mentions(word: &str, lookups: &Lookups) -> String {
    let mut spans: Vec<(usize, usize, String)> = Vec::new();
    let mut at = 0;
    while let Some(offset) = word[at..].find('<') {
        let start = at + offset;
        match mention(&word[start..]) {
            Some((found, len)) => {
                spans.push((start, start + len, shown(&found, lookups)));
                at = start + len;
            }
            None => at = start + 1,
        }
    }
    let (Some(first), Some(last)) = (spans.first(), spans.last()) else { return word.to_owned() };
    let mut out = word[..first.0].trim_end_matches(MARKERS).to_owned();
    let mut previous_end = first.0;
    for (start, end, text) in &spans {
        out.push_str(&word[previous_end..*start]);
        out.push_str(text);
        previous_end = *end;
    }
    out.push_str(word[last.1..].trim_start_matches(MARKERS));
    out
}

fn shown(mention: &Mention<'_>, lookups: &Lookups) -> String {
    match mention {
        Mention::User { id, label } => match (lookups.known_user(id), label.filter(|l| !l.is_empty())) {
            (Some(name), _) => format!("@**{name}**"),
            (None, Some(label)) => format!("@{label}"),
            (None, None) => format!("@{id}"),
        },
        Mention::Channel { label: Some(label) } if !label.is_empty() => format!("**#{label}**"),
        Mention::Channel { .. } => "**#[private Slack channel]**".to_owned(),
    }
}
