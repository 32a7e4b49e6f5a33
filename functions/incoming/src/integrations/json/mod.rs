//! `json`: any JSON object, pretty-printed in a code block, topic "JSON".
//!
//! Zulip prints the payload with Python's `json.dumps(payload, indent=2)`: the keys in the
//! order the sender wrote them, non-ASCII characters escaped, floats in Python's shortest
//! form. [`Document`] keeps the order as parsed (a duplicated key keeps its first place and its
//! last value, as a Python dict does) and [`python_dumps`] prints it as Python does.

#[cfg(test)]
mod tests;

use std::fmt::Write as _;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::integration::{Handled, Integration, IntegrationError, Outcome, Payload};

pub struct Json;

impl Integration for Json {
    fn name(&self) -> &'static str {
        "json"
    }

    fn display_name(&self) -> &'static str {
        "JSON"
    }

    fn event_types(&self) -> &'static [&'static str] {
        &["json"]
    }

    fn handle(&self, payload: &Payload<'_>) -> Result<Handled, IntegrationError> {
        if !payload.body.is_object() {
            return Err(IntegrationError::Malformed("expected a JSON object".into()));
        }
        let document = ordered(payload)?;
        let mut pretty = String::new();
        python_dumps(&document, 0, &mut pretty);
        // Zulip's fence is three backticks; a longer one only when the payload holds a run of
        // three or more, so that it cannot close the block.
        let fence = "`".repeat(longest_backtick_run(&pretty).max(2) + 1);
        Ok(Handled {
            event: "json".into(),
            outcome: Outcome::Message { topic: "JSON".into(), content: format!("{fence}json\n{pretty}\n{fence}") },
        })
    }

    fn sample(&self) -> (Option<&'static str>, &'static str) {
        (None, r#"{"status": "ok", "checks": [{"name": "disk", "free_gb": 42}]}"#)
    }
}

/// The payload with its keys in the sender's order: parsed again from the raw body (or from
/// the form's `payload` field), since the framework's document sorts its keys.
fn ordered(payload: &Payload<'_>) -> Result<Document, IntegrationError> {
    let malformed = |e: serde_json::Error| IntegrationError::Malformed(e.to_string());
    if let Ok(document) = serde_json::from_slice::<Document>(payload.raw) {
        return Ok(document);
    }
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(payload.raw).unwrap_or_default();
    match fields.iter().find(|(name, _)| name == "payload") {
        Some((_, text)) => serde_json::from_str(text).map_err(malformed),
        // Neither: the body the framework read (its keys sorted).
        None => serde_json::from_value(payload.body.clone()).map_err(malformed),
    }
}

/// A JSON value whose objects keep their keys' order.
#[derive(Debug, Clone, PartialEq)]
pub enum Document {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Text(String),
    List(Vec<Document>),
    Object(Vec<(String, Document)>),
}

impl<'de> Deserialize<'de> for Document {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DocumentVisitor)
    }
}

struct DocumentVisitor;

impl<'de> Visitor<'de> for DocumentVisitor {
    type Value = Document;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Document, E> {
        Ok(Document::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Document, E> {
        Ok(Document::Null)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Document, E> {
        Ok(Document::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Document, E> {
        Ok(Document::Int(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Document, E> {
        Ok(Document::Int(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Document, E> {
        Ok(Document::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Document, E> {
        Ok(Document::Text(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Document, E> {
        Ok(Document::Text(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Document, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Document::List(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Document, A::Error> {
        let mut entries: Vec<(String, Document)> = Vec::new();
        while let Some((key, value)) = map.next_entry::<String, Document>()? {
            match entries.iter_mut().find(|(k, _)| *k == key) {
                Some(entry) => entry.1 = value,
                None => entries.push((key, value)),
            }
        }
        Ok(Document::Object(entries))
    }
}

/// Appends `value` as Python's `json.dumps(value, indent=2)` prints it, at nesting `depth`.
pub fn python_dumps(value: &Document, depth: usize, out: &mut String) {
    let indent = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    };
    match value {
        Document::Null => out.push_str("null"),
        Document::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Document::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Document::Float(f) => out.push_str(&python_float(*f)),
        Document::Text(s) => python_string(s, out),
        Document::List(items) if items.is_empty() => out.push_str("[]"),
        Document::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                indent(out, depth + 1);
                python_dumps(item, depth + 1, out);
            }
            indent(out, depth);
            out.push(']');
        }
        Document::Object(entries) if entries.is_empty() => out.push_str("{}"),
        Document::Object(entries) => {
            out.push('{');
            for (i, (key, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                indent(out, depth + 1);
                python_string(key, out);
                out.push_str(": ");
                python_dumps(item, depth + 1, out);
            }
            indent(out, depth);
            out.push('}');
        }
    }
}

/// A string as Python's `json.dumps` (with `ensure_ascii`) writes it: everything outside
/// printable ASCII as `\uXXXX` (UTF-16 halves beyond the BMP).
fn python_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0_u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

/// A float as Python's `repr` writes it: the shortest digits that read back the same, in
/// positional form from 1e-4 up to 1e16 (with at least one decimal, `1.0`), else as `1e-05`
/// or `1.5e+16`.
#[must_use]
pub fn python_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    // Rust's `{:e}` gives the shortest round-trip digits: `-1.2345e6`.
    let scientific = format!("{f:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (sign, mantissa) = mantissa.strip_prefix('-').map_or(("", mantissa), |m| ("-", m));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if (-4..16).contains(&exponent) {
        let point = exponent + 1;
        let text = if point <= 0 {
            format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
        } else {
            let point = point as usize;
            if digits.len() > point {
                format!("{}.{}", &digits[..point], &digits[point..])
            } else {
                format!("{digits}{}.0", "0".repeat(point - digits.len()))
            }
        };
        format!("{sign}{text}")
    } else {
        let mantissa = if digits.len() > 1 { format!("{}.{}", &digits[..1], &digits[1..]) } else { digits };
        let exponent_sign = if exponent < 0 { '-' } else { '+' };
        format!("{sign}{mantissa}e{exponent_sign}{:02}", exponent.unsigned_abs())
    }
}

fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}
