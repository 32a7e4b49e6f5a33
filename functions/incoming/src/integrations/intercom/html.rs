//! The text of an HTML fragment (Intercom's conversation parts): tags and comments dropped,
//! character references decoded.

/// The text of `html`. A `<` that does not open a tag (`a < b`) is text; a tag left open at the
/// end is dropped.
pub(super) fn text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find(['<', '&']) {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        if rest.starts_with('&') {
            let (decoded, used) = reference(rest);
            out.push_str(&decoded);
            rest = &rest[used..];
            continue;
        }
        let opens_tag = rest[1..].starts_with(|c: char| c.is_ascii_alphabetic() || matches!(c, '/' | '!' | '?'));
        if !opens_tag {
            out.push('<');
            rest = &rest[1..];
            continue;
        }
        let end =
            if rest.starts_with("<!--") { rest.find("-->").map(|e| e + 3) } else { rest.find('>').map(|e| e + 1) };
        match end {
            Some(end) => rest = &rest[end..],
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

/// The character a reference at the start of `s` (which starts with `&`) stands for, and how
/// many bytes it takes; a lone `&` stands for itself.
fn reference(s: &str) -> (String, usize) {
    let body = &s[1..];
    let end = body.find(|c: char| !(c.is_ascii_alphanumeric() || c == '#')).unwrap_or(body.len());
    let name = &body[..end];
    let used = 1 + end + usize::from(body[end..].starts_with(';'));
    let decoded = if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok(),
            None => number.parse().ok(),
        };
        code.map(|c| char::from_u32(c).unwrap_or('\u{fffd}'))
    } else {
        NAMED.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
    };
    match decoded {
        Some(c) => (c.to_string(), used),
        None => ("&".to_owned(), 1),
    }
}

/// The named references that appear in ordinary text.
const NAMED: &[(&str, char)] = &[
    ("amp", '&'),
    ("lt", '<'),
    ("gt", '>'),
    ("quot", '"'),
    ("apos", '\''),
    ("nbsp", '\u{a0}'),
    ("copy", '©'),
    ("reg", '®'),
    ("trade", '™'),
    ("hellip", '…'),
    ("mdash", '—'),
    ("ndash", '–'),
    ("lsquo", '‘'),
    ("rsquo", '’'),
    ("ldquo", '“'),
    ("rdquo", '”'),
    ("euro", '€'),
    ("pound", '£'),
    ("yen", '¥'),
    ("cent", '¢'),
    ("deg", '°'),
    ("times", '×'),
    ("divide", '÷'),
    ("middot", '·'),
    ("bull", '•'),
];
