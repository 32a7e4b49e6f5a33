//! `slack_incoming`: Slack-compatible incoming webhooks, so anything that can post to a Slack
//! webhook URL can post here. Modelled on Zulip's `slack_incoming`: the topic is the payload's
//! `channel` (without its `#` or `@`), the message is the payload's `text` (unless blocks stand
//! in for it), its Block Kit `blocks` and its legacy `attachments`, in Zulip's layout, with
//! Slack's mrkdwn turned into Markdown.

mod mrkdwn;
#[cfg(test)]
mod tests;

use serde_json::{Value, json};

use crate::integration::{Handled, Integration, IntegrationError, Outcome, Payload, list, optional_text, text};

pub use mrkdwn::to_markdown;

/// Slack allows 50 blocks a message and recommends at most 20 attachments; anything past these
/// is counted, not shown.
const MAX_BLOCKS: usize = 50;
const MAX_ATTACHMENTS: usize = 20;
/// Fields of a section or an attachment, elements of a context block.
const MAX_ITEMS: usize = 20;

pub struct SlackIncoming;

impl Integration for SlackIncoming {
    fn name(&self) -> &'static str {
        "slack_incoming"
    }

    fn display_name(&self) -> &'static str {
        "Slack"
    }

    fn event_types(&self) -> &'static [&'static str] {
        &["message"]
    }

    fn handle(&self, payload: &Payload<'_>) -> Result<Handled, IntegrationError> {
        let body = payload.body;
        if !body.is_object() {
            return Err(IntegrationError::Malformed("expected a JSON object".into()));
        }
        let topic = match optional_text(body, "channel")? {
            Some(channel) => channel.strip_prefix(['#', '@']).unwrap_or(channel).trim(),
            None => "",
        };
        let topic = if topic.is_empty() { "(no topic)" } else { topic };
        let formatting = body.get("mrkdwn").and_then(Value::as_bool) != Some(false);
        let blocks = list(body, "/blocks")?;
        let attachments = list(body, "/attachments")?;
        let message_text = optional_text(body, "text")?.filter(|t| !t.trim().is_empty());
        if blocks.is_empty() && attachments.is_empty() && message_text.is_none() {
            return Err(IntegrationError::Malformed("no text, blocks or attachments".into()));
        }

        let mut pieces = Vec::new();
        let rendered_blocks = render_each(blocks, MAX_BLOCKS, render_block)?;
        // With blocks, `text` is Slack's notification fallback; it is the message only when
        // the blocks show nothing (e.g. only buttons, or rich text that repeats it).
        if let Some(message_text) = message_text
            && rendered_blocks.is_empty()
        {
            let emoji = optional_text(body, "icon_emoji")?.map(str::trim).filter(|e| !e.is_empty());
            let converted = to_markdown(message_text, formatting);
            pieces.push(match emoji {
                Some(emoji) => format!("{emoji} {converted}"),
                None => converted,
            });
        }
        pieces.extend(rendered_blocks);
        pieces.extend(render_each(attachments, MAX_ATTACHMENTS, render_attachment)?);
        let content = join(pieces);
        let outcome =
            if content.is_empty() { Outcome::Ignore } else { Outcome::Message { topic: topic.to_owned(), content } };
        Ok(Handled { event: "message".into(), outcome })
    }

    fn success_body(&self) -> Option<Value> {
        Some(json!({"ok": true}))
    }

    fn sample(&self) -> (Option<&'static str>, &'static str) {
        (
            None,
            r##"{"channel": "#deploys", "text": "*billing* 2.14.1 is live on <https://billing.example.com|production>", "attachments": [{"title": "Release notes", "title_link": "https://git.example.com/billing/-/releases/2.14.1", "text": "Faster invoice exports, fixed _rounding_ of refunds.", "fields": [{"title": "Duration", "value": "3m 12s", "short": true}], "footer": "deploybot"}]}"##,
        )
    }
}

/// Renders up to `max` items, dropping the empty ones, and counts the rest.
fn render_each(
    items: &[Value],
    max: usize,
    render: impl Fn(&Value) -> Result<String, IntegrationError>,
) -> Result<Vec<String>, IntegrationError> {
    let mut rendered = Vec::new();
    for item in items.iter().take(max) {
        let piece = render(item)?;
        if !piece.trim().is_empty() {
            rendered.push(piece);
        }
    }
    if items.len() > max {
        rendered.push(format!("[and {} more]", items.len() - max));
    }
    Ok(rendered)
}

/// Pieces of a message, each trimmed, separated by blank lines.
fn join(pieces: impl IntoIterator<Item = String>) -> String {
    let pieces: Vec<String> = pieces.into_iter().map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()).collect();
    pieces.join("\n\n")
}

/// A Block Kit block (<https://api.slack.com/reference/block-kit/blocks>). Interactive blocks
/// (`actions`, `input`) and `rich_text` (which repeats the payload's `text`) show nothing.
fn render_block(block: &Value) -> Result<String, IntegrationError> {
    let kind = text(block, "/type")?;
    Ok(match kind {
        "section" => {
            let mut pieces = Vec::new();
            if let Some(text_object) = present(block, "text") {
                pieces.push(render_text_object(text_object)?);
            }
            if let Some(accessory) = present(block, "accessory") {
                pieces.push(render_element(accessory)?);
            }
            let fields = list(block, "/fields")?;
            if let [field] = fields {
                pieces.push(render_text_object(field)?);
            } else if !fields.is_empty() {
                pieces.push(render_fields_table(fields)?);
            }
            join(pieces)
        }
        "header" => format!("## {}", render_text_object(block.get("text").unwrap_or(&Value::Null))?),
        "context" => {
            let elements = list(block, "/elements")?;
            join(render_each(elements, MAX_ITEMS, render_element)?)
        }
        "divider" => "----".into(),
        "image" => {
            let alt = match present(block, "title") {
                Some(title) => render_text_object(title)?,
                None => optional_text(block, "alt_text")?.unwrap_or_default().to_owned(),
            };
            match optional_text(block, "image_url")? {
                Some(url) => format!("[{alt}]({url})"),
                None => String::new(),
            }
        }
        _ => String::new(),
    })
}

/// A block element: images become links; text objects (in context blocks) their text; buttons
/// and other interactive elements nothing.
fn render_element(element: &Value) -> Result<String, IntegrationError> {
    match text(element, "/type")? {
        "image" => Ok(match optional_text(element, "image_url")? {
            Some(url) => format!("[{}]({url})", optional_text(element, "alt_text")?.unwrap_or_default()),
            None => String::new(),
        }),
        "mrkdwn" | "plain_text" => render_text_object(element),
        _ => Ok(String::new()),
    }
}

/// A text object: `mrkdwn` is converted, `plain_text` kept as written.
fn render_text_object(object: &Value) -> Result<String, IntegrationError> {
    let content = text(object, "/text")?;
    Ok(match object.get("type").and_then(Value::as_str) {
        Some("mrkdwn") => to_markdown(content, true),
        _ => content.to_owned(),
    })
}

/// A section's fields, two columns as Slack shows them, as a table with an empty header (a
/// table cell holds no newline or pipe, so those become spaces).
fn render_fields_table(fields: &[Value]) -> Result<String, IntegrationError> {
    let mut cells = Vec::with_capacity(fields.len().min(MAX_ITEMS));
    for field in fields.iter().take(MAX_ITEMS) {
        cells.push(render_text_object(field)?.replace(['\n', '|'], " "));
    }
    let mut table = String::from("| | |\n|-|-|\n");
    for pair in cells.chunks(2) {
        let right = pair.get(1).map_or("", String::as_str);
        table.push_str(&format!("| {} | {right} |\n", pair[0]));
    }
    if fields.len() > MAX_ITEMS {
        table.push_str(&format!("\n[and {} more]", fields.len() - MAX_ITEMS));
    }
    Ok(table)
}

/// A legacy attachment (<https://api.slack.com/reference/messaging/attachments>), in Zulip's
/// order: title, pretext, text, fields, blocks, image, footer, time.
fn render_attachment(attachment: &Value) -> Result<String, IntegrationError> {
    if !attachment.is_object() {
        return Err(IntegrationError::Malformed("expected an attachment object".into()));
    }
    let mut pieces = Vec::new();
    if let Some(title) = non_empty_text(attachment, "title")? {
        let title = to_markdown(title, true);
        pieces.push(match non_empty_text(attachment, "title_link")? {
            Some(link) => format!("## [{title}]({link})"),
            None => format!("## {title}"),
        });
    }
    for key in ["pretext", "text"] {
        if let Some(piece) = non_empty_text(attachment, key)? {
            pieces.push(to_markdown(piece, true));
        }
    }
    let fields = list(attachment, "/fields")?;
    if !fields.is_empty() {
        let mut lines = Vec::new();
        for field in fields.iter().take(MAX_ITEMS) {
            let title = non_empty_text(field, "title")?.map(|t| to_markdown(t, true));
            let value = field_value(field)?.map(|v| to_markdown(&v, true));
            match (title, value) {
                (Some(title), Some(value)) => lines.push(format!("**{title}**: {value}")),
                (Some(title), None) => lines.push(format!("**{title}**")),
                (None, Some(value)) => lines.push(value),
                (None, None) => {}
            }
        }
        if fields.len() > MAX_ITEMS {
            lines.push(format!("[and {} more]", fields.len() - MAX_ITEMS));
        }
        pieces.push(lines.join("\n"));
    }
    pieces.extend(render_each(list(attachment, "/blocks")?, MAX_BLOCKS, render_block)?);
    if let Some(image_url) = non_empty_text(attachment, "image_url")? {
        pieces.push(format!("[]({image_url})"));
    }
    if let Some(footer) = non_empty_text(attachment, "footer")? {
        pieces.push(to_markdown(footer, true));
    }
    if let Some(time) = attachment.get("ts").and_then(timestamp).map(global_time) {
        pieces.push(time);
    }
    Ok(join(pieces))
}

/// The value at `key` unless it is missing or null.
fn present<'v>(value: &'v Value, key: &str) -> Option<&'v Value> {
    value.get(key).filter(|v| !v.is_null())
}

fn non_empty_text<'v>(value: &'v Value, key: &str) -> Result<Option<&'v str>, IntegrationError> {
    if !value.is_object() {
        return Err(IntegrationError::Malformed("expected an object".into()));
    }
    Ok(optional_text(value, key)?.filter(|t| !t.trim().is_empty()))
}

/// A field's value: text, though senders also put numbers and booleans there.
fn field_value(field: &Value) -> Result<Option<String>, IntegrationError> {
    match field.get("value") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone()).filter(|s| !s.trim().is_empty())),
        Some(scalar @ (Value::Number(_) | Value::Bool(_))) => Ok(Some(scalar.to_string())),
        Some(_) => Err(IntegrationError::Malformed("expected text at value".into())),
    }
}

/// Unix seconds from an attachment's `ts`: a number, or a string like `"1655945306.000200"`.
fn timestamp(ts: &Value) -> Option<i64> {
    let seconds = match ts {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    // Zulip skips a zero `ts` too; the upper bound is the end of year 9999.
    (1.0..253_402_300_800.0).contains(&seconds).then(|| seconds.trunc() as i64)
}

/// Zulip's global time syntax, `<time:2022-06-23T00:48:26+00:00>`, for Unix seconds.
fn global_time(seconds: i64) -> String {
    let (days, rest) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!("<time:{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}+00:00>", rest / 3600, rest % 3600 / 60, rest % 60)
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}
