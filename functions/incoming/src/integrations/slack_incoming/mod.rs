//! `slack_incoming`: Slack-compatible incoming webhooks, so anything that can post to a Slack
//! webhook URL can post here. As Zulip's `slack_incoming`: the topic is the payload's `channel`
//! (without its `#` or `@`); the message is its Block Kit `blocks` and its legacy `attachments`
//! in Zulip's layout, or, when those show nothing, its `text` (after its `icon_emoji`), with
//! Slack's mrkdwn turned into Markdown over the whole message. The payload is the body when it
//! is sent as JSON, else the form's `payload` field.

#[cfg(test)]
mod tests;

use serde_json::{Value, json};

use crate::integration::{Handled, Integration, IntegrationError, Outcome, Payload, list, text};

pub use crate::mrkdwn::to_markdown;

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

    fn categories(&self) -> &'static [&'static str] {
        &["communication", "meta-integration"]
    }

    fn event_types(&self) -> &'static [&'static str] {
        &["message"]
    }

    fn handle(&self, payload: &Payload<'_>) -> Result<Handled, IntegrationError> {
        // Like Slack (and Zulip), the JSON is the body when it is sent as JSON, else the form's
        // `payload` field.
        let json =
            payload.header("content-type").and_then(|t| t.split(';').next()).map(str::trim) == Some("application/json");
        if !json && !form_has_payload(payload.raw) {
            return Err(IntegrationError::BadRequest("Missing 'payload' argument".into()));
        }
        let body = payload.body;
        if !body.is_object() {
            return Err(IntegrationError::Malformed("expected a JSON object".into()));
        }
        let topic = match body.get("channel") {
            None => None,
            Some(Value::String(channel)) => Some(channel.strip_prefix(['#', '@']).unwrap_or(channel).to_owned()),
            Some(_) => return Err(IntegrationError::Malformed("expected text at channel".into())),
        };
        // A message without a channel goes to Zulip's empty topic.
        let topic = topic.unwrap_or_default();
        let formatting = body.get("mrkdwn").and_then(Value::as_bool) != Some(false);

        let mut pieces = Vec::new();
        pieces.extend(render_each(list(body, "/blocks")?, MAX_BLOCKS, render_block)?);
        pieces.extend(render_each(list(body, "/attachments")?, MAX_ATTACHMENTS, render_attachment)?);
        let mut content = join(pieces);
        // Without blocks or attachments to show, the message is `text` (with blocks it is
        // Slack's notification fallback).
        if content.is_empty()
            && let Some(message_text) = truthy_text(body, "text")?
        {
            if let Some(emoji) = truthy_text(body, "icon_emoji")? {
                content = format!("{emoji} ");
            }
            content.push_str(message_text);
            content = content.trim().to_owned();
        }
        let outcome = if content.is_empty() {
            Outcome::Ignore
        } else {
            Outcome::Message { topic, content: to_markdown(&content, formatting).trim().to_owned() }
        };
        Ok(Handled { event: "message".into(), outcome })
    }

    fn success_body(&self) -> Option<Value> {
        Some(json!({"ok": true}))
    }

    /// Slack's error shape, as Zulip answers Slack senders.
    fn error_fields(&self, msg: &str) -> Option<Value> {
        Some(json!({"ok": false, "error": msg}))
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

/// Whether a form body has a `payload` field.
fn form_has_payload(raw: &[u8]) -> bool {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(raw)
        .is_ok_and(|fields| fields.iter().any(|(k, _)| k == "payload"))
}

/// A Block Kit block (<https://api.slack.com/reference/block-kit/blocks>), as Zulip renders it;
/// interactive blocks (`actions`, `input`), `rich_text` (which repeats the payload's `text`)
/// and the kinds Zulip does not show give nothing. Text is converted later, with the message.
fn render_block(block: &Value) -> Result<String, IntegrationError> {
    Ok(match text(block, "/type")? {
        "actions" | "call" | "contact_card" | "condition" | "file" | "input" | "rich_text" | "table" => String::new(),
        "context" => {
            let mut pieces = Vec::new();
            for element in list(block, "/elements")? {
                pieces.push(match text(element, "/type")? {
                    "image" => render_element(element)?,
                    "plain_text" | "mrkdwn" => text_object(element, false)?.to_owned(),
                    other => return Err(IntegrationError::Malformed(format!("unknown context element '{other}'"))),
                });
            }
            join(pieces)
        }
        "divider" => "----".into(),
        "header" => format!("## {}", text_object(block.get("text").unwrap_or(&Value::Null), true)?),
        "image" => {
            let url = text(block, "/image_url")?;
            let alt = match block.get("title") {
                Some(title) => text_object(title, true)?,
                None => text(block, "/alt_text")?,
            };
            format!("[{alt}]({url})")
        }
        "section" => {
            let mut pieces = Vec::new();
            if let Some(text_block) = block.get("text") {
                pieces.push(text_object(text_block, false)?.to_owned());
            }
            if let Some(accessory) = block.get("accessory") {
                pieces.push(render_element(accessory)?);
            }
            if block.get("fields").is_some() {
                let fields = list(block, "/fields")?;
                if let [field] = fields {
                    pieces.push(text_object(field, false)?.to_owned());
                } else {
                    pieces.push(render_fields_table(fields)?);
                }
            }
            join(pieces)
        }
        other => return Err(IntegrationError::Malformed(format!("unknown block type '{other}'"))),
    })
}

/// A block element: an image becomes a link; interactive elements show nothing.
fn render_element(element: &Value) -> Result<String, IntegrationError> {
    Ok(match text(element, "/type")? {
        "image" => format!("[{}]({})", text(element, "/alt_text")?, text(element, "/image_url")?),
        _ => String::new(),
    })
}

/// A text object's text (`plain_text`, or `mrkdwn` unless only plain text is allowed there).
fn text_object(object: &Value, plain_only: bool) -> Result<&str, IntegrationError> {
    match text(object, "/type")? {
        "plain_text" => {}
        "mrkdwn" if !plain_only => {}
        other => return Err(IntegrationError::Malformed(format!("unexpected text object type '{other}'"))),
    }
    text(object, "/text")
}

/// A section's fields, two columns as Slack shows them, as a table with an empty header (a
/// table cell holds no newline or pipe, so those become spaces).
fn render_fields_table(fields: &[Value]) -> Result<String, IntegrationError> {
    let mut cells = Vec::with_capacity(fields.len().min(MAX_ITEMS));
    for field in fields.iter().take(MAX_ITEMS) {
        cells.push(text_object(field, false)?.replace(['\n', '|'], " "));
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
/// order: title, pretext, text, fields, blocks, image, footer, time. Every field is optional
/// and may be null.
fn render_attachment(attachment: &Value) -> Result<String, IntegrationError> {
    if !attachment.is_object() {
        return Err(IntegrationError::Malformed("expected an attachment object".into()));
    }
    let mut pieces = Vec::new();
    if let Some(title) = truthy_text(attachment, "title")? {
        pieces.push(match truthy_text(attachment, "title_link")? {
            Some(link) => format!("## [{title}]({link})"),
            None => format!("## {title}"),
        });
    }
    for key in ["pretext", "text"] {
        if let Some(piece) = truthy_text(attachment, key)? {
            pieces.push(piece.to_owned());
        }
    }
    if attachment.get("fields").is_some() {
        let fields = list(attachment, "/fields")?;
        let mut lines = Vec::new();
        for field in fields.iter().take(MAX_ITEMS) {
            if !field.is_object() {
                return Err(IntegrationError::Malformed("expected a field object".into()));
            }
            match (truthy_text(field, "title")?, field_value(field)?) {
                (Some(title), Some(value)) => lines.push(format!("*{title}*: {value}")),
                (Some(title), None) => lines.push(format!("*{title}*")),
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
    if let Some(image_url) = truthy_text(attachment, "image_url")? {
        pieces.push(format!("[]({image_url})"));
    }
    if let Some(footer) = truthy_text(attachment, "footer")? {
        pieces.push(footer.to_owned());
    }
    if let Some(seconds) = timestamp(attachment.get("ts").unwrap_or(&Value::Null))? {
        pieces.push(format!("<time:{seconds}>"));
    }
    Ok(join(pieces))
}

/// The text at `key` unless it is missing, null, empty or false (Python's falsy values);
/// another type is Malformed.
fn truthy_text<'v>(value: &'v Value, key: &str) -> Result<Option<&'v str>, IntegrationError> {
    match value.get(key) {
        None | Some(Value::Null | Value::Bool(false)) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str()).filter(|s| !s.is_empty())),
        Some(_) => Err(IntegrationError::Malformed(format!("expected text at {key}"))),
    }
}

/// A field's value: text, though senders also put numbers and booleans there.
fn field_value(field: &Value) -> Result<Option<String>, IntegrationError> {
    match field.get("value") {
        None | Some(Value::Null | Value::Bool(false)) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone()).filter(|s| !s.is_empty())),
        Some(scalar @ (Value::Number(_) | Value::Bool(_))) => Ok(Some(scalar.to_string())),
        Some(_) => Err(IntegrationError::Malformed("expected text at value".into())),
    }
}

/// Unix seconds from an attachment's `ts`: a number, or a string like `"1655945306.000200"`;
/// `None` when it is missing, null or zero.
fn timestamp(ts: &Value) -> Result<Option<i64>, IntegrationError> {
    let bad = || IntegrationError::Malformed("expected a timestamp at ts".into());
    let seconds = match ts {
        Value::Null | Value::Bool(false) => return Ok(None),
        Value::Number(n) => n.as_f64().ok_or_else(bad)?,
        Value::String(s) if s.is_empty() => return Ok(None),
        Value::String(s) => s.trim().parse::<f64>().map_err(|_| bad())?,
        _ => return Err(bad()),
    };
    if !seconds.is_finite() || seconds.abs() > 1e15 {
        return Err(bad());
    }
    Ok(Some(seconds.trunc() as i64).filter(|s| *s != 0))
}
