//! Jira's wiki markup in comments, turned into the Markdown chat messages use: `*bold*`,
//! `{{monospace}}`, `bq. ` quotes, `{quote}`, `{noformat}` and `{code}` blocks, bare and titled
//! links, and `[~user]` mentions (shown in bold: the sender's users are not the realm's).
//!
//! Each rule is one left-to-right pass over the text, replacing non-overlapping matches, in
//! this order; each pass reads what the previous one wrote. Every pass takes linear time: the
//! searches ahead of a match start remember what they found, since starts only move forward.

/// The comment's markup as Markdown.
#[must_use]
pub fn to_markdown(content: &str) -> String {
    let content = bold(content);
    let content = monospace(&content);
    let content = block_quote_lines(&content);
    let content = blocks(&content, "{quote}", "~~~ quote\n");
    let content = blocks(&content, "{noformat}", "~~~\n");
    let content = code_blocks(&content);
    let content = bare_links(&content);
    let content = titled_links(&content);
    mentions(&content)
}

/// What a [`Next`] looks for.
#[derive(Clone, Copy)]
enum Pattern {
    Text(&'static str),
    AnyOf(&'static [char]),
}

/// The next occurrence of a pattern at or after a position that only grows, remembered.
struct Next {
    pattern: Pattern,
    /// Where the last search started and what it found.
    last: Option<(usize, Option<usize>)>,
}

impl Next {
    fn new(pattern: Pattern) -> Self {
        Self { pattern, last: None }
    }

    fn at_or_after(&mut self, text: &str, from: usize) -> Option<usize> {
        if let Some((searched, found)) = self.last
            && searched <= from
            && found.is_none_or(|found| found >= from)
        {
            return found;
        }
        let rest = text.get(from..)?;
        let found = match self.pattern {
            Pattern::Text(text) => rest.find(text),
            Pattern::AnyOf(chars) => rest.find(chars),
        }
        .map(|i| from + i);
        self.last = Some((from, found));
        found
    }
}

/// Replaces, left to right, every match `find(at)` reports (its end and replacement) where
/// `start` occurs.
fn replace_matches(text: &str, start: &str, mut find: impl FnMut(usize) -> Option<(usize, String)>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut from = 0;
    while let Some(found) = text[from..].find(start) {
        let at = from + found;
        if let Some((end, replacement)) = find(at) {
            out.push_str(&text[copied..at]);
            out.push_str(&replacement);
            copied = end;
            from = end;
        } else {
            from = at + text[at..].chars().next().map_or(1, char::len_utf8);
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// The character at `at`, if any.
fn char_at(text: &str, at: usize) -> Option<char> {
    text.get(at..).and_then(|rest| rest.chars().next())
}

/// `*word*` (no star inside, at least one character) becomes `**word**`.
fn bold(text: &str) -> String {
    let mut star = Next::new(Pattern::Text("*"));
    replace_matches(text, "*", |at| {
        let close = star.at_or_after(text, at + 1)?;
        (close > at + 1).then(|| (close + 1, format!("**{}**", &text[at + 1..close])))
    })
}

/// `{{code}}` (the shortest, without a star, at least one character) becomes `` `code` ``.
fn monospace(text: &str) -> String {
    let mut close = Next::new(Pattern::Text("}}"));
    let mut star = Next::new(Pattern::Text("*"));
    replace_matches(text, "{{", |at| {
        let first = char_at(text, at + 2).filter(|&c| c != '*')?;
        let end = close.at_or_after(text, at + 2 + first.len_utf8())?;
        if star.at_or_after(text, at + 2).is_some_and(|star| star < end) {
            return None;
        }
        Some((end + 2, format!("`{}`", &text[at + 2..end])))
    })
}

/// A line's first `bq. ` starts a quote: `> ` and the rest of the line.
fn block_quote_lines(text: &str) -> String {
    text.split('\n').map(|line| line.replacen("bq. ", "> ", 1)).collect::<Vec<_>>().join("\n")
}

/// `<tag>text<tag>` (the shortest) becomes a `~~~` block opened by `fence`.
fn blocks(text: &str, tag: &'static str, fence: &str) -> String {
    let mut close = Next::new(Pattern::Text(tag));
    replace_matches(text, tag, |at| {
        let end = close.at_or_after(text, at + tag.len())?;
        Some((end + tag.len(), format!("{fence}{}\n~~~", &text[at + tag.len()..end])))
    })
}

/// `{code…}text{code}` becomes a `~~~` block. The opening tag (`{code}`, `{code:python}`,
/// `{code:title=a.py|borderStyle=solid}`) ends at its line's last `}` that a `{code}` follows.
fn code_blocks(text: &str) -> String {
    let last_close = text.rfind("{code}");
    let mut line_end = Next::new(Pattern::Text("\n"));
    let mut close = Next::new(Pattern::Text("{code}"));
    // Per line: the last `}` a `{code}` follows.
    let mut brace: Option<(usize, Option<usize>)> = None;
    replace_matches(text, "{code", |at| {
        let after = at + "{code".len();
        let last_close = last_close?;
        let end_of_line = line_end.at_or_after(text, after).unwrap_or(text.len());
        let last_brace = match brace {
            Some((line, found)) if line == end_of_line => found,
            _ => {
                let limit = end_of_line.min(last_close);
                let line_start = text[..at].rfind('\n').map_or(0, |newline| newline + 1);
                let found = text.get(line_start..limit).and_then(|line| line.rfind('}')).map(|b| line_start + b);
                brace = Some((end_of_line, found));
                found
            }
        };
        let body = last_brace.filter(|&b| b >= after)? + 1;
        let end = close.at_or_after(text, body)?;
        Some((end + "{code}".len(), format!("~~~\n{}\n~~~", &text[body..end])))
    })
}

/// `[https://example.com]` (no `|` or `~` inside, the shortest) becomes
/// `[https://example.com](https://example.com)`.
fn bare_links(text: &str) -> String {
    let mut close = Next::new(Pattern::Text("]"));
    let mut forbidden = Next::new(Pattern::AnyOf(&['|', '~']));
    replace_matches(text, "[", |at| {
        let first = char_at(text, at + 1).filter(|&c| c != '|' && c != '~')?;
        let rest = at + 1 + first.len_utf8();
        let end = close.at_or_after(text, rest)?;
        if forbidden.at_or_after(text, rest).is_some_and(|bar| bar < end) {
            return None;
        }
        let target = &text[at + 1..end];
        Some((end + 1, format!("[{target}]({target})")))
    })
}

/// `[title|https://example.com]` becomes `[title](https://example.com)`.
fn titled_links(text: &str) -> String {
    let mut bar = Next::new(Pattern::AnyOf(&['|', '~']));
    let mut close = Next::new(Pattern::Text("]"));
    replace_matches(text, "[", |at| {
        let separator = bar.at_or_after(text, at + 1)?;
        if separator == at + 1 || char_at(text, separator) != Some('|') {
            return None;
        }
        let end = close.at_or_after(text, separator + 1)?;
        Some((end + 1, format!("[{}]({})", &text[at + 1..separator], &text[separator + 1..end])))
    })
}

/// `[~user]` (on one line) becomes `**user**`.
fn mentions(text: &str) -> String {
    let mut close = Next::new(Pattern::AnyOf(&[']', '\n']));
    replace_matches(text, "[~", |at| {
        let end = close.at_or_after(text, at + 2)?;
        (char_at(text, end) == Some(']')).then(|| (end + 1, format!("**{}**", &text[at + 2..end])))
    })
}
