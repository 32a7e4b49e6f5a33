//! JSON as Zulip's Python reads and prints it: `json.loads` into values whose objects keep
//! their keys in order; `str()` of those values, which is how Zulip turns a bot's non-string
//! `content` into the text it posts (`42` → `42`, `true` → `True`, `null` → `None`,
//! `["a", 1]` → `['a', 1]`) and how integrations show a payload's values; and
//! `json.dumps(value, indent=2)`, how the `json` integration prints a payload.

use std::fmt::{self, Write as _};

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// A JSON value as Python's `json.loads` gives it.
#[derive(Debug, Clone, PartialEq)]
pub enum PyValue {
    None,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    List(Vec<PyValue>),
    /// Keys in the order the object first names them; a repeated key keeps its first place and
    /// takes its last value, as a Python `dict` built from the pairs does.
    Dict(Vec<(String, PyValue)>),
}

impl PyValue {
    /// The value under `key` of a dict.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&PyValue> {
        match self {
            Self::Dict(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Python's truthiness: `None`, `False`, zero and empty strings, lists and dicts are false.
    #[must_use]
    pub fn is_truthy(&self) -> bool {
        match self {
            Self::None => false,
            Self::Bool(b) => *b,
            Self::Int(n) => *n != 0,
            Self::Float(f) => *f != 0.0,
            Self::Str(s) => !s.is_empty(),
            Self::List(items) => !items.is_empty(),
            Self::Dict(fields) => !fields.is_empty(),
        }
    }

    /// Python's `json.dumps(value, indent=2)`: keys in order, non-ASCII characters escaped
    /// (`ensure_ascii`), floats as Python's `repr` writes them.
    #[must_use]
    pub fn to_json_indented(&self) -> String {
        let mut out = String::new();
        self.write_json(0, &mut out);
        out
    }

    fn write_json(&self, depth: usize, out: &mut String) {
        let indent = |out: &mut String, depth: usize| {
            out.push('\n');
            out.push_str(&"  ".repeat(depth));
        };
        match self {
            Self::None => out.push_str("null"),
            Self::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Self::Int(n) => {
                let _ = write!(out, "{n}");
            }
            Self::Float(f) => out.push_str(&float_repr(*f)),
            Self::Str(s) => json_str(s, out),
            Self::List(items) if items.is_empty() => out.push_str("[]"),
            Self::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    indent(out, depth + 1);
                    item.write_json(depth + 1, out);
                }
                indent(out, depth);
                out.push(']');
            }
            Self::Dict(fields) if fields.is_empty() => out.push_str("{}"),
            Self::Dict(fields) => {
                out.push('{');
                for (i, (key, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    indent(out, depth + 1);
                    json_str(key, out);
                    out.push_str(": ");
                    value.write_json(depth + 1, out);
                }
                indent(out, depth);
                out.push('}');
            }
        }
    }

    /// Python's `str(value)`: a string as it is, everything else as its `repr`.
    #[must_use]
    pub fn to_python_str(&self) -> String {
        match self {
            Self::Str(s) => s.clone(),
            other => {
                let mut out = String::new();
                other.write_repr(&mut out);
                out
            }
        }
    }

    /// Python's `repr(value)`.
    fn write_repr(&self, out: &mut String) {
        match self {
            Self::None => out.push_str("None"),
            Self::Bool(true) => out.push_str("True"),
            Self::Bool(false) => out.push_str("False"),
            Self::Int(n) => {
                let _ = write!(out, "{n}");
            }
            Self::Float(f) => out.push_str(&float_repr(*f)),
            Self::Str(s) => str_repr(s, out),
            Self::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.write_repr(out);
                }
                out.push(']');
            }
            Self::Dict(fields) => {
                out.push('{');
                for (i, (key, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    str_repr(key, out);
                    out.push_str(": ");
                    value.write_repr(out);
                }
                out.push('}');
            }
        }
    }
}

/// Python's `str.strip()` leaves nothing: every character is whitespace to Python, which
/// counts the information separators U+001C–U+001F as whitespace besides Unicode's.
#[must_use]
pub fn is_blank(text: &str) -> bool {
    text.chars().all(|c| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c))
}

/// A string as Python's `json.dumps` (with `ensure_ascii`) writes it: everything outside
/// printable ASCII as `\uXXXX` (UTF-16 halves beyond the BMP).
fn json_str(s: &str, out: &mut String) {
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

/// Python's `repr(float)`: the shortest digits that read back as the same number, in fixed
/// notation for exponents from -4 to 15 (with `.0` when whole), else as `1.5e+16` / `1e-05`.
#[must_use]
pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    // `{:e}` gives the shortest round-trip digits: "-1.5e16", "1e-5", "0e0".
    let scientific = format!("{f:e}");
    let (mantissa, exponent) = scientific.split_once('e').expect("`{:e}` always writes an exponent");
    let exponent: i32 = exponent.parse().expect("`{:e}` writes a decimal exponent");
    let (sign, mantissa) = mantissa.strip_prefix('-').map_or(("", mantissa), |m| ("-", m));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if (-4..16).contains(&exponent) {
        let point = exponent + 1;
        let body = if point <= 0 {
            format!("0.{}{digits}", "0".repeat(usize::try_from(-point).unwrap_or(0)))
        } else {
            let point = usize::try_from(point).unwrap_or(0);
            if digits.len() <= point {
                format!("{digits}{}.0", "0".repeat(point - digits.len()))
            } else {
                format!("{}.{}", &digits[..point], &digits[point..])
            }
        };
        format!("{sign}{body}")
    } else {
        let (first, rest) = digits.split_at(1);
        let fraction = if rest.is_empty() { String::new() } else { format!(".{rest}") };
        let exponent_sign = if exponent < 0 { '-' } else { '+' };
        format!("{sign}{first}{fraction}e{exponent_sign}{:02}", exponent.abs())
    }
}

/// Python's `repr(str)`: single quotes unless the text has a single quote and no double one;
/// backslashes, the quote, `\t`, `\n`, `\r` and unprintable characters escaped.
fn str_repr(text: &str, out: &mut String) {
    let quote = if text.contains('\'') && !text.contains('"') { '"' } else { '\'' };
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if is_printable(c) => out.push(c),
            c => {
                let code = u32::from(c);
                let _ = match code {
                    0..=0xff => write!(out, "\\x{code:02x}"),
                    0x100..=0xffff => write!(out, "\\u{code:04x}"),
                    _ => write!(out, "\\U{code:08x}"),
                };
            }
        }
    }
    out.push(quote);
}

/// Python's `str.isprintable()` for one character: not a control or format character, not a
/// separator other than the space, not private-use or a noncharacter. (Unassigned code points,
/// which Python also escapes, are printed as they are.)
fn is_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() {
        return false;
    }
    let code = u32::from(c);
    let unprintable: &[(u32, u32)] = &[
        (0x00a0, 0x00a0),    // no-break space
        (0x00ad, 0x00ad),    // soft hyphen
        (0x0600, 0x0605),    // Arabic number signs
        (0x061c, 0x061c),    // Arabic letter mark
        (0x06dd, 0x06dd),    // Arabic end of ayah
        (0x070f, 0x070f),    // Syriac abbreviation mark
        (0x1680, 0x1680),    // Ogham space mark
        (0x180e, 0x180e),    // Mongolian vowel separator
        (0x2000, 0x200f),    // spaces, zero-width characters, directional marks
        (0x2028, 0x202f),    // line and paragraph separators, embeddings, narrow no-break space
        (0x205f, 0x2064),    // medium mathematical space, word joiner, invisible operators
        (0x2066, 0x206f),    // directional isolates, deprecated format characters
        (0x3000, 0x3000),    // ideographic space
        (0xd800, 0xf8ff),    // surrogates, private use
        (0xfeff, 0xfeff),    // byte order mark
        (0xfff9, 0xfffb),    // interlinear annotation
        (0xfffe, 0xffff),    // noncharacters
        (0x110bd, 0x110bd),  // Kaithi number sign
        (0x1d173, 0x1d17a),  // musical format characters
        (0xe0001, 0xe007f),  // tags
        (0xf0000, 0x10ffff), // private use planes
    ];
    !unprintable.iter().any(|&(low, high)| (low..=high).contains(&code))
}

impl<'de> Deserialize<'de> for PyValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(PyValueVisitor)
    }
}

struct PyValueVisitor;

impl<'de> Visitor<'de> for PyValueVisitor {
    type Value = PyValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<PyValue, E> {
        Ok(PyValue::None)
    }

    fn visit_none<E>(self) -> Result<PyValue, E> {
        Ok(PyValue::None)
    }

    fn visit_bool<E>(self, b: bool) -> Result<PyValue, E> {
        Ok(PyValue::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<PyValue, E> {
        Ok(PyValue::Int(i128::from(n)))
    }

    fn visit_u64<E>(self, n: u64) -> Result<PyValue, E> {
        Ok(PyValue::Int(i128::from(n)))
    }

    fn visit_f64<E>(self, f: f64) -> Result<PyValue, E> {
        Ok(PyValue::Float(f))
    }

    fn visit_str<E>(self, s: &str) -> Result<PyValue, E> {
        Ok(PyValue::Str(s.to_owned()))
    }

    fn visit_string<E>(self, s: String) -> Result<PyValue, E> {
        Ok(PyValue::Str(s))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PyValue, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(PyValue::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PyValue, A::Error> {
        let mut fields: Vec<(String, PyValue)> = Vec::new();
        while let Some((key, value)) = map.next_entry::<String, PyValue>()? {
            match fields.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = value,
                None => fields.push((key, value)),
            }
        }
        Ok(PyValue::Dict(fields))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn py_str(json: &str) -> String {
        serde_json::from_str::<PyValue>(json).expect("valid JSON").to_python_str()
    }

    #[test]
    fn scalars_print_as_python_prints_them() {
        for (json, printed) in [
            (r#""text""#, "text"),
            ("42", "42"),
            ("-7", "-7"),
            ("18446744073709551615", "18446744073709551615"),
            ("true", "True"),
            ("false", "False"),
            ("null", "None"),
        ] {
            assert_eq!(py_str(json), printed, "{json}");
        }
    }

    #[test]
    fn floats_print_as_pythons_repr() {
        for (json, printed) in [
            ("1.5", "1.5"),
            ("2.0", "2.0"),
            ("-0.0", "-0.0"),
            ("0.1", "0.1"),
            ("100.25", "100.25"),
            ("1e3", "1000.0"),
            ("0.0001", "0.0001"),
            ("0.00001", "1e-05"),
            ("1.25e-7", "1.25e-07"),
            ("1234567890123456.0", "1234567890123456.0"),
            ("1e16", "1e+16"),
            ("-1.5e16", "-1.5e+16"),
            ("1e300", "1e+300"),
            ("3.141592653589793", "3.141592653589793"),
        ] {
            assert_eq!(py_str(json), printed, "{json}");
        }
    }

    #[test]
    fn lists_and_dicts_print_as_their_repr_in_order() {
        assert_eq!(py_str(r#"["a", 1]"#), "['a', 1]");
        assert_eq!(py_str(r#"{"k": "v"}"#), "{'k': 'v'}");
        assert_eq!(py_str(r#"{"z": 1, "a": [true, null, 1.5], "m": {}}"#), "{'z': 1, 'a': [True, None, 1.5], 'm': {}}");
        assert_eq!(py_str("[]"), "[]");
        assert_eq!(py_str(r#"{"a": 1, "b": 2, "a": 3}"#), "{'a': 3, 'b': 2}", "a repeated key keeps its place");
    }

    #[test]
    fn strings_inside_containers_are_quoted_and_escaped_like_python() {
        assert_eq!(py_str(r#"["it's"]"#), r#"["it's"]"#);
        assert_eq!(py_str(r#"["say \"hi\""]"#), r#"['say "hi"']"#);
        assert_eq!(py_str(r#"["both ' and \""]"#), r#"['both \' and "']"#);
        assert_eq!(py_str(r#"["a\\b\n\t\r"]"#), r"['a\\b\n\t\r']");
        assert_eq!(py_str(r#"["\u0001\u007f\u0085\u00a0"]"#), r"['\x01\x7f\x85\xa0']");
        assert_eq!(py_str(r#"["\u200b\ufeff\ue000"]"#), r"['\u200b\ufeff\ue000']");
        assert_eq!(py_str(r#"["café ☕ 𝄞"]"#), "['café ☕ 𝄞']");
        assert_eq!(py_str(r#"["\udb80\udc00"]"#), r"['\U000f0000']");
        assert_eq!(py_str(r#"{"it's": "x"}"#), r#"{"it's": 'x'}"#);
    }

    #[test]
    fn truthiness_is_pythons() {
        for falsy in ["null", "false", "0", "0.0", r#""""#, "[]", "{}"] {
            assert!(!serde_json::from_str::<PyValue>(falsy).unwrap().is_truthy(), "{falsy}");
        }
        for truthy in ["true", "1", "-1", "0.5", r#""no""#, "[0]", r#"{"a": null}"#] {
            assert!(serde_json::from_str::<PyValue>(truthy).unwrap().is_truthy(), "{truthy}");
        }
    }

    #[test]
    fn blank_is_what_pythons_strip_empties() {
        assert!(is_blank(""));
        assert!(is_blank(" \n\t\r\u{b}\u{c}\u{1c}\u{1f}\u{85}\u{a0}\u{2003}\u{3000}"));
        assert!(!is_blank(" x "));
        assert!(!is_blank("\u{200b}"), "a zero-width space is not whitespace to Python");
    }
}
