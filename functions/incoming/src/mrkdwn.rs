//! Slack's mrkdwn to Zulip's Markdown, for the two integrations that read it
//! (`slack_incoming` and `slack`).
//!
//! Slack escapes `&`, `<` and `>` in text and writes links and mentions in angle brackets:
//! `<https://x.io|label>`, `<https://x.io>`, `<@U123|ana>`, `<#C123|general>`, `<!here>`. Those
//! become Markdown links and plain `@name`/`#name` text (never Zulip mentions: a webhook cannot
//! know who `U123` is, and a wildcard mention could be refused by the stream's policy). Slack's
//! emphasis is one character where Markdown's is two: `*bold*` → `**bold**`, `_italic_` →
//! `*italic*`, `~strike~` → `~~strike~~`, with Slack's rule that the markers sit at word
//! boundaries (`snake_case_name` stays as it is). Code spans and links are left alone.
//!
//! Messages from Slack's Events API ([`events_to_markdown`]) are read as Zulip's `slack`
//! integration reads them: escapes stay as Slack wrote them, `<!here>`, `<!channel>` and
//! `<!everyone>` become `@**all**`, and user and channel mentions are kept as they are, for the
//! integration to name once it has asked Slack who they are.

/// How a text's brackets and escapes are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    /// Slack-format incoming webhooks (`slack_incoming`).
    IncomingWebhook,
    /// Messages from Slack's Events API (`slack`).
    Events,
}

/// Converts one mrkdwn text. With `formatting` off (a payload's `"mrkdwn": false`) only links,
/// mentions and escapes are converted.
#[must_use]
pub fn to_markdown(text: &str, formatting: bool) -> String {
    convert(text, formatting, Dialect::IncomingWebhook)
}

/// Converts the text of a message from Slack's Events API, leaving `<@U123>` and
/// `<#C123|name>` mentions in place.
#[must_use]
pub fn events_to_markdown(text: &str) -> String {
    convert(text, true, Dialect::Events)
}

fn convert(text: &str, formatting: bool, dialect: Dialect) -> String {
    let tokens = tokenize(text, dialect);
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    if formatting {
        emphasis(&tokens, &mut out);
    } else {
        tokens.iter().for_each(|token| token.push_to(&mut out));
    }
    out
}

/// The text as characters, with links, mentions and bare URLs as atoms that emphasis never
/// looks into.
#[derive(Debug)]
enum Token {
    Char(char),
    Atom(String),
}

impl Token {
    fn push_to(&self, out: &mut String) {
        match self {
            Token::Char(c) => out.push(*c),
            Token::Atom(text) => out.push_str(text),
        }
    }

    fn is(&self, wanted: char) -> bool {
        matches!(self, Token::Char(c) if *c == wanted)
    }

    fn is_space(&self) -> bool {
        matches!(self, Token::Char(c) if c.is_whitespace())
    }
}

fn tokenize(text: &str, dialect: Dialect) -> Vec<Token> {
    let mut tokens: Vec<Token> = Vec::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let taken = match c {
            '<' => bracketed(rest, dialect).map(|(atom, len)| (Token::Atom(atom), len)),
            '&' if dialect == Dialect::IncomingWebhook => entity(rest).map(|(c, len)| (Token::Char(c), len)),
            'h' if at_word_start(tokens.last()) => bare_url(rest).map(|url| (Token::Atom(unescape(url)), url.len())),
            _ => None,
        };
        let (token, len) = taken.unwrap_or((Token::Char(c), c.len_utf8()));
        tokens.push(token);
        rest = &rest[len..];
    }
    tokens
}

fn at_word_start(previous: Option<&Token>) -> bool {
    match previous {
        None => true,
        Some(Token::Char(c)) => !c.is_alphanumeric(),
        Some(Token::Atom(_)) => false,
    }
}

const ENTITIES: [(&str, char); 3] = [("&amp;", '&'), ("&lt;", '<'), ("&gt;", '>')];

fn entity(text: &str) -> Option<(char, usize)> {
    ENTITIES.iter().find(|(name, _)| text.starts_with(name)).map(|(name, c)| (*c, name.len()))
}

fn unescape(text: &str) -> String {
    // `&amp;` last, so `&amp;lt;` becomes `&lt;` and not `<`.
    text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

/// A URL written without brackets, kept whole so emphasis cannot break it.
fn bare_url(text: &str) -> Option<&str> {
    if !(text.starts_with("https://") || text.starts_with("http://")) {
        return None;
    }
    let end = text.find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '*' | '`')).unwrap_or(text.len());
    Some(&text[..end])
}

/// `<…>` at the start of `text`: the Markdown it becomes and how many bytes it spans. `None`
/// when it is not one of Slack's bracketed forms (the `<` is then plain text).
fn bracketed(text: &str, dialect: Dialect) -> Option<(String, usize)> {
    let end = 1 + text[1..].find(['>', '<', '\n'])?;
    if !text[end..].starts_with('>') {
        return None;
    }
    let inner = &text[1..end];
    // Zulip's own global time syntax (what `<!date^…>` and attachment times become) stays.
    if inner.starts_with("time:") {
        return Some((text[..=end].to_owned(), end + 1));
    }
    let (target, label) = match inner.split_once('|') {
        Some((target, label)) => (target, Some(unescape(label)).filter(|l| !l.trim().is_empty())),
        None => (inner, None),
    };
    if dialect == Dialect::Events {
        if target.starts_with(['@', '#']) {
            return Some((text[..=end].to_owned(), end + 1));
        }
        if matches!(target, "!here" | "!channel" | "!everyone") {
            return Some(("@**all**".to_owned(), end + 1));
        }
    }
    let rendered = if let Some(user) = target.strip_prefix('@') {
        named('@', user, label)?
    } else if let Some(channel) = target.strip_prefix('#') {
        named('#', channel, label)?
    } else if let Some(command) = target.strip_prefix('!') {
        special(command, label)?
    } else {
        let url = unescape(target);
        if !looks_like_url(&url) {
            return None;
        }
        match label {
            Some(label) if label != url => format!("[{label}]({url})"),
            _ => url,
        }
    };
    Some((rendered, end + 1))
}

/// `<@U123|ana>` → `@ana`, `<@U123>` → `@U123`; the same for channels with `#`.
fn named(sigil: char, id: &str, label: Option<String>) -> Option<String> {
    if id.is_empty() {
        return None;
    }
    let name = label.unwrap_or_else(|| unescape(id));
    Some(format!("{sigil}{}", name.trim_start_matches(sigil)))
}

/// `<!here>`, `<!channel>`, `<!everyone>` → `@here`…; `<!date^1655945306^{date}|fallback>` →
/// Zulip's `<time:1655945306>`, which shows the time in each reader's zone;
/// `<!subteam^ID|@team>` → its label.
fn special(command: &str, label: Option<String>) -> Option<String> {
    let mut parts = command.split('^');
    let name = parts.next().unwrap_or_default();
    if name == "date"
        && let Some(seconds) = parts.next().and_then(|s| s.parse::<i64>().ok())
    {
        return Some(format!("<time:{seconds}>"));
    }
    match name {
        "" => None,
        "here" | "channel" | "everyone" => Some(format!("@{name}")),
        _ => Some(label.unwrap_or_else(|| format!("@{}", unescape(name)))),
    }
}

fn looks_like_url(url: &str) -> bool {
    let Some((scheme, rest)) = url.split_once(':') else { return false };
    scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !rest.is_empty()
        && !url.contains(char::is_whitespace)
}

/// Converts emphasis in `tokens` into `out`, leaving code spans as they are.
fn emphasis(tokens: &[Token], out: &mut String) {
    // Backtick runs with no closing run after them: later runs of that length cannot close
    // either, so each length is searched for once.
    let mut unclosed: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let token = &tokens[i];
        if token.is('`') {
            let run = tokens[i..].iter().take_while(|t| t.is('`')).count();
            if !unclosed.contains(&run) {
                if let Some(close) = closing_backticks(tokens, i + run, run) {
                    tokens[i..close + run].iter().for_each(|t| t.push_to(out));
                    i = close + run;
                    continue;
                }
                unclosed.push(run);
            }
            tokens[i..i + run].iter().for_each(|t| t.push_to(out));
            i += run;
            continue;
        }
        if let Token::Char(marker @ ('*' | '_' | '~')) = *token
            && let Some(close) = closing_marker(tokens, i, marker)
        {
            let markdown = match marker {
                '*' => "**",
                '_' => "*",
                _ => "~~",
            };
            out.push_str(markdown);
            // The span holds no `marker`, so this recursion is at most three deep.
            emphasis(&tokens[i + 1..close], out);
            out.push_str(markdown);
            i = close + 1;
            continue;
        }
        token.push_to(out);
        i += 1;
    }
}

/// Where a run of exactly `run` backticks starts at or after `from`.
fn closing_backticks(tokens: &[Token], from: usize, run: usize) -> Option<usize> {
    let mut i = from;
    while i < tokens.len() {
        if tokens[i].is('`') {
            let length = tokens[i..].iter().take_while(|t| t.is('`')).count();
            if length == run {
                return Some(i);
            }
            i += length;
        } else {
            i += 1;
        }
    }
    None
}

/// The index of the marker closing the span that `tokens[open]` opens, if it opens one: the
/// markers sit at word boundaries, hug non-blank text, and the span stays on one line.
fn closing_marker(tokens: &[Token], open: usize, marker: char) -> Option<usize> {
    let before = open.checked_sub(1).map(|i| &tokens[i]);
    if !boundary(before, marker, "`@\\)]}’”»") {
        return None;
    }
    let first = tokens.get(open + 1)?;
    if first.is_space() || first.is(marker) {
        return None;
    }
    let close = open + 1 + tokens[open + 1..].iter().position(|t| t.is(marker) || t.is('\n'))?;
    if !tokens[close].is(marker) || tokens[close - 1].is_space() {
        return None;
    }
    boundary(tokens.get(close + 1), marker, "`@\\([{‘“«").then_some(close)
}

/// Whether `neighbour` lets a marker sit next to it: the start or end of the text, white
/// space, or punctuation other than the marker itself and `excluded`.
fn boundary(neighbour: Option<&Token>, marker: char, excluded: &str) -> bool {
    match neighbour {
        None => true,
        Some(Token::Atom(_)) => false,
        Some(Token::Char(c)) => c.is_whitespace() || (!c.is_alphanumeric() && *c != marker && !excluded.contains(*c)),
    }
}
