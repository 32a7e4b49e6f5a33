//! Renders a message's Markdown to the HTML Zulip clients display.
//! Mentions become Zulip's mention markup; raw HTML from the sender is shown as text, never passed through.

use pulldown_cmark::{CodeBlockKind, CowStr, Event, Parser, Tag, TagEnd, html};

use crate::mentions::{self, Mention, MentionTarget};

/// What a mention resolves to: the user's id and full name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedUser {
    pub id: u64,
    pub full_name: String,
}

/// Looks up the user a mention points at.
type Resolve<'r> = dyn Fn(&MentionTarget) -> Option<ResolvedUser> + 'r;

/// Opens a placeholder; the piece's index in decimal and [`PLACEHOLDER_END`] follow.
const PLACEHOLDER_START: char = '\u{E000}';
/// Closes a placeholder.
const PLACEHOLDER_END: char = '\u{E001}';

/// URL schemes a link or image may use; others (`javascript:`, `data:`, …) could run code in the reader's browser.
const SAFE_SCHEMES: [&str; 4] = ["http", "https", "mailto", "ftp"];

/// Renders `content` (CommonMark) to HTML. Mentions that `resolve` knows become Zulip's markup:
/// `<span class="user-mention" data-user-id="7">@Full Name</span>`; silent ones
/// `<span class="user-mention silent" data-user-id="7">Full Name</span>`; wildcards
/// `<span class="user-mention" data-user-id="*">@all</span>` (silent: class "user-mention silent", text without @).
/// Unresolved mentions stay as the literal text (escaped). Wildcards never reach `resolve`.
/// Raw HTML in the content is escaped, never passed through (it is user input). Mentions in code are left as code.
/// Links and images whose target uses an unsafe scheme lose their tags and show only their text, as in Zulip.
pub fn render(content: &str, resolve: &Resolve<'_>) -> String {
    let mentions = mentions::scan(content);
    let protected = Protected::new(content, &mentions);
    let parser = Parser::new_ext(&protected.text, mentions::markdown_options());
    let events = Rewriter::new(&protected.pieces, resolve).rewrite(parser);
    let mut out = String::with_capacity(content.len() + content.len() / 2);
    html::push_html(&mut out, events.into_iter());
    out.truncate(out.trim_end_matches('\n').len());
    out
}

/// Source text the Markdown parser must not see, stood in for by a placeholder.
enum Piece<'a> {
    /// A mention, and its syntax as written.
    Mention(&'a Mention, &'a str),
    /// A placeholder character the sender wrote, directly or as a numeric reference: as written and as meant.
    Reserved { written: &'a str, meant: char },
}

impl Piece<'_> {
    fn written(&self) -> &str {
        match self {
            Piece::Mention(_, written) | Piece::Reserved { written, .. } => written,
        }
    }
}

/// The content with every mention and every placeholder character swapped for a numbered placeholder. Mentions
/// thus survive parsing whole (their `**` would otherwise be emphasis), and the sender cannot forge a placeholder.
struct Protected<'a> {
    text: String,
    pieces: Vec<Piece<'a>>,
}

impl<'a> Protected<'a> {
    fn new(content: &'a str, mentions: &'a [Mention]) -> Self {
        let mut protected = Self { text: String::with_capacity(content.len()), pieces: Vec::new() };
        let mut mentions = mentions.iter().peekable();
        let mut copied = 0;
        let mut at = 0;
        while at < content.len() {
            let piece = match mentions.next_if(|mention| mention.span.start == at) {
                Some(mention) => Some(Piece::Mention(mention, &content[mention.span.clone()])),
                None => reserved_at(content, at),
            };
            let Some(piece) = piece else {
                at += 1;
                continue;
            };
            protected.text.push_str(&content[copied..at]);
            at += piece.written().len();
            copied = at;
            protected.push(piece);
        }
        protected.text.push_str(&content[copied..]);
        protected
    }

    fn push(&mut self, piece: Piece<'a>) {
        self.text.push(PLACEHOLDER_START);
        self.text.push_str(&self.pieces.len().to_string());
        self.text.push(PLACEHOLDER_END);
        self.pieces.push(piece);
    }
}

/// A placeholder character, or a numeric character reference to one, starting at byte `at`.
fn reserved_at(content: &str, at: usize) -> Option<Piece<'_>> {
    let (len, meant) = match content.as_bytes()[at] {
        // Every character in U+E000..=U+E001 is encoded starting with this byte, which only ever starts a character.
        0xEE => content[at..].chars().next().map(|ch| (ch.len_utf8(), ch))?,
        b'&' => numeric_reference(&content.as_bytes()[at..])?,
        _ => return None,
    };
    matches!(meant, PLACEHOLDER_START | PLACEHOLDER_END)
        .then(|| Piece::Reserved { written: &content[at..at + len], meant })
}

/// Reads `&#123;` or `&#x7B;` at the start of `bytes`: its length and the character it stands for.
/// Accepts any number of digits, more than Markdown does, so nothing the parser decodes slips through.
fn numeric_reference(bytes: &[u8]) -> Option<(usize, char)> {
    let rest = bytes.strip_prefix(b"&#")?;
    let (radix, digits_start) = match rest.first() {
        Some(b'x' | b'X') => (16, 3),
        _ => (10, 2),
    };
    let digits = bytes[digits_start..].iter().take_while(|byte| char::from(**byte).is_digit(radix)).count();
    let end = digits_start + digits;
    if digits == 0 || bytes.get(end) != Some(&b';') {
        return None;
    }
    let value = bytes[digits_start..end].iter().fold(0u32, |value, byte| {
        let digit = char::from(*byte).to_digit(radix).unwrap_or(0);
        value.saturating_mul(radix).saturating_add(digit)
    });
    Some((end + 1, char::from_u32(value)?))
}

/// Where a piece of text sits, which decides what its placeholders turn back into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Prose: mentions become markup, placeholder characters are what the sender meant.
    Prose,
    /// The sender's raw HTML, shown as typed: mentions become markup, the rest stays as written.
    Markup,
    /// Code: everything stays as written.
    Code,
    /// Link targets, titles and image descriptions, which hold no markup: mentions stay as written.
    Plain,
}

/// Rendered text between placeholders: text still to be escaped, or finished markup.
enum Chunk {
    Text(String),
    Markup(String),
}

/// Turns the parser's events for the protected text into the events for the final HTML.
struct Rewriter<'p, 'r, 't> {
    pieces: &'p [Piece<'p>],
    resolve: &'r Resolve<'r>,
    events: Vec<Event<'t>>,
    /// Consecutive text of one mode, joined so a placeholder is never cut in two.
    pending: String,
    pending_mode: Mode,
    in_code_block: bool,
    open_images: usize,
    /// For each open link or image, whether its target is unsafe and its tags are left out.
    unsafe_links: Vec<bool>,
}

impl<'p, 'r, 't> Rewriter<'p, 'r, 't> {
    fn new(pieces: &'p [Piece<'p>], resolve: &'r Resolve<'r>) -> Self {
        Self {
            pieces,
            resolve,
            events: Vec::new(),
            pending: String::new(),
            pending_mode: Mode::Prose,
            in_code_block: false,
            open_images: 0,
            unsafe_links: Vec::new(),
        }
    }

    fn rewrite(mut self, parser: impl Iterator<Item = Event<'t>>) -> Vec<Event<'t>> {
        for event in parser {
            self.take(event);
        }
        self.flush();
        self.events
    }

    fn take(&mut self, event: Event<'t>) {
        match event {
            Event::Text(text) => self.buffer(self.text_mode(), &text),
            Event::Html(html) | Event::InlineHtml(html) => self.buffer(self.html_mode(), &html),
            Event::Code(code) => {
                self.flush();
                let code = self.plain(code, Mode::Code);
                self.events.push(Event::Code(code));
            }
            Event::Start(tag) => {
                self.flush();
                if let Some(tag) = self.start(tag) {
                    self.events.push(Event::Start(tag));
                }
            }
            Event::End(tag) => self.end(tag),
            other => {
                self.flush();
                self.events.push(other);
            }
        }
    }

    fn text_mode(&self) -> Mode {
        if self.in_code_block {
            Mode::Code
        } else if self.open_images > 0 {
            Mode::Plain
        } else {
            Mode::Prose
        }
    }

    fn html_mode(&self) -> Mode {
        if self.open_images > 0 { Mode::Plain } else { Mode::Markup }
    }

    /// The tag to open in place of `tag`, if any.
    fn start(&mut self, tag: Tag<'t>) -> Option<Tag<'t>> {
        let tag = match tag {
            Tag::CodeBlock(kind) => {
                self.in_code_block = true;
                Tag::CodeBlock(match kind {
                    CodeBlockKind::Fenced(info) => CodeBlockKind::Fenced(self.plain(info, Mode::Plain)),
                    indented => indented,
                })
            }
            Tag::Image { link_type, dest_url, title, id } => {
                self.open_images += 1;
                let (dest_url, title) = (self.plain(dest_url, Mode::Plain), self.plain(title, Mode::Plain));
                return self.open_link(Tag::Image { link_type, dest_url, title, id });
            }
            Tag::Link { link_type, dest_url, title, id } => {
                let (dest_url, title) = (self.plain(dest_url, Mode::Plain), self.plain(title, Mode::Plain));
                return self.open_link(Tag::Link { link_type, dest_url, title, id });
            }
            // Raw HTML is shown as a paragraph of text, as Zulip does.
            Tag::HtmlBlock => Tag::Paragraph,
            other => other,
        };
        Some(tag)
    }

    /// Opens a link or image, or leaves its tags out when its target is unsafe.
    fn open_link(&mut self, tag: Tag<'t>) -> Option<Tag<'t>> {
        let safe = match &tag {
            Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. } => is_safe_url(dest_url),
            _ => true,
        };
        self.unsafe_links.push(!safe);
        safe.then_some(tag)
    }

    fn end(&mut self, tag: TagEnd) {
        if tag == TagEnd::HtmlBlock {
            self.pending.truncate(self.pending.trim_end_matches('\n').len());
        }
        self.flush();
        let tag = match tag {
            TagEnd::CodeBlock => {
                self.in_code_block = false;
                tag
            }
            TagEnd::Image | TagEnd::Link => {
                if tag == TagEnd::Image {
                    self.open_images = self.open_images.saturating_sub(1);
                }
                if self.unsafe_links.pop().unwrap_or(false) {
                    return;
                }
                tag
            }
            TagEnd::HtmlBlock => TagEnd::Paragraph,
            other => other,
        };
        self.events.push(Event::End(tag));
    }

    fn buffer(&mut self, mode: Mode, text: &str) {
        if mode != self.pending_mode {
            self.flush();
            self.pending_mode = mode;
        }
        self.pending.push_str(text);
    }

    /// Emits the pending text with its placeholders replaced.
    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let text = std::mem::take(&mut self.pending);
        for chunk in self.expand(&text, self.pending_mode) {
            self.events.push(match chunk {
                Chunk::Text(text) => Event::Text(text.into()),
                Chunk::Markup(html) => Event::InlineHtml(html.into()),
            });
        }
    }

    /// `text` with its placeholders replaced, for a mode that never produces markup.
    fn plain(&self, text: CowStr<'t>, mode: Mode) -> CowStr<'t> {
        if !text.contains(PLACEHOLDER_START) {
            return text;
        }
        let mut plain = String::with_capacity(text.len());
        for chunk in self.expand(&text, mode) {
            match chunk {
                Chunk::Text(text) | Chunk::Markup(text) => plain.push_str(&text),
            }
        }
        plain.into()
    }

    /// Splits `text` into plain text and markup, replacing each placeholder by what it stands for in `mode`.
    fn expand(&self, text: &str, mode: Mode) -> Vec<Chunk> {
        let mut chunks = Vec::new();
        let mut literal = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find(PLACEHOLDER_START) {
            literal.push_str(&rest[..start]);
            let after = &rest[start + PLACEHOLDER_START.len_utf8()..];
            let Some((index, len)) = placeholder_index(after, self.pieces.len()) else {
                literal.push(PLACEHOLDER_START);
                rest = after;
                continue;
            };
            rest = &after[len..];
            match self.replacement(&self.pieces[index], mode) {
                Chunk::Text(text) => literal.push_str(&text),
                Chunk::Markup(html) => {
                    if !literal.is_empty() {
                        chunks.push(Chunk::Text(std::mem::take(&mut literal)));
                    }
                    chunks.push(Chunk::Markup(html));
                }
            }
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            chunks.push(Chunk::Text(literal));
        }
        chunks
    }

    fn replacement(&self, piece: &Piece<'_>, mode: Mode) -> Chunk {
        match (piece, mode) {
            (Piece::Mention(mention, written), Mode::Prose | Mode::Markup) => {
                self.mention_markup(mention).map_or_else(|| Chunk::Text((*written).to_owned()), Chunk::Markup)
            }
            (Piece::Reserved { meant, .. }, Mode::Prose | Mode::Plain) => Chunk::Text(meant.to_string()),
            (piece, _) => Chunk::Text(piece.written().to_owned()),
        }
    }

    /// Zulip's markup for a mention, or `None` when it names no known user.
    fn mention_markup(&self, mention: &Mention) -> Option<String> {
        let (id, name) = match &mention.target {
            MentionTarget::Wildcard(word) => ("*".to_owned(), word.clone()),
            target => {
                let user = (self.resolve)(target)?;
                (user.id.to_string(), user.full_name)
            }
        };
        let (class, prefix) = if mention.silent { ("user-mention silent", "") } else { ("user-mention", "@") };
        Some(format!(r#"<span class="{class}" data-user-id="{id}">{prefix}{}</span>"#, escape_html(&name)))
    }
}

/// Reads `123` + [`PLACEHOLDER_END`] at the start of `text`: the index, if below `count`, and the length read.
fn placeholder_index(text: &str, count: usize) -> Option<(usize, usize)> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    if !text[digits..].starts_with(PLACEHOLDER_END) {
        return None;
    }
    let index: usize = text[..digits].parse().ok()?;
    (index < count).then_some((index, digits + PLACEHOLDER_END.len_utf8()))
}

/// Whether a link target is relative or uses a safe scheme. Browsers ignore leading control characters and spaces
/// and any tab or line break when reading a scheme, so those are dropped before looking.
fn is_safe_url(url: &str) -> bool {
    let cleaned: String =
        url.trim_start_matches(|ch: char| ch <= ' ').chars().filter(|ch| !matches!(ch, '\t' | '\n' | '\r')).collect();
    match cleaned.find([':', '/', '?', '#']) {
        Some(colon) if cleaned[colon..].starts_with(':') => {
            SAFE_SCHEMES.iter().any(|scheme| scheme.eq_ignore_ascii_case(&cleaned[..colon]))
        }
        _ => true,
    }
}

/// Escapes text for use inside an element or a quoted attribute.
fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Resolves `Alice` (any case) and id 7 to Alice, and `Mallory` to a user whose name holds HTML.
    fn resolve(target: &MentionTarget) -> Option<ResolvedUser> {
        let alice = || ResolvedUser { id: 7, full_name: "Alice Zoë".to_owned() };
        match target {
            MentionTarget::Name(name) if name.eq_ignore_ascii_case("alice") => Some(alice()),
            MentionTarget::Id(7) | MentionTarget::NameAndId(_, 7) => Some(alice()),
            MentionTarget::Name(name) if name == "Mallory" => {
                Some(ResolvedUser { id: 9, full_name: "<b>Mal</b> & \"co\"".to_owned() })
            }
            _ => None,
        }
    }

    fn html(content: &str) -> String {
        render(content, &resolve)
    }

    #[test]
    fn a_plain_paragraph_renders_as_commonmark() {
        assert_eq!(html("hello *world*"), "<p>hello <em>world</em></p>");
    }

    #[test]
    fn blocks_are_separated_by_newlines_with_none_after_the_last() {
        assert_eq!(html("one\n\ntwo ~~old~~\n"), "<p>one</p>\n<p>two <del>old</del></p>");
    }

    #[test]
    fn tables_are_rendered() {
        assert!(html("| a |\n| - |\n| b |").starts_with("<table>"));
    }

    #[test]
    fn a_resolved_mention_becomes_a_user_mention_span() {
        assert_eq!(
            html("hi @**alice**!"),
            r#"<p>hi <span class="user-mention" data-user-id="7">@Alice Zoë</span>!</p>"#
        );
    }

    #[test]
    fn a_mention_by_id_uses_the_resolved_name() {
        assert_eq!(html("@**|7**"), r#"<p><span class="user-mention" data-user-id="7">@Alice Zoë</span></p>"#);
    }

    #[test]
    fn a_silent_mention_has_the_silent_class_and_no_at_sign() {
        assert_eq!(
            html("@_**Alice**"),
            r#"<p><span class="user-mention silent" data-user-id="7">Alice Zoë</span></p>"#
        );
    }

    #[test]
    fn a_wildcard_becomes_a_mention_of_everyone() {
        assert_eq!(html("@**ALL**"), r#"<p><span class="user-mention" data-user-id="*">@all</span></p>"#);
        assert_eq!(html("@_**topic**"), r#"<p><span class="user-mention silent" data-user-id="*">topic</span></p>"#);
    }

    #[test]
    fn an_unresolved_mention_stays_as_escaped_literal_text() {
        assert_eq!(html("hi @**Bob <i>**"), "<p>hi @**Bob &lt;i&gt;**</p>");
    }

    #[test]
    fn a_mention_inside_code_stays_code() {
        assert_eq!(html("`@**Alice**`"), "<p><code>@**Alice**</code></p>");
        assert_eq!(html("```\n@**Alice**\n```"), "<pre><code>@**Alice**\n</code></pre>");
    }

    #[test]
    fn a_mention_inside_emphasis_or_a_link_text_still_renders() {
        let span = r#"<span class="user-mention" data-user-id="7">@Alice Zoë</span>"#;
        assert_eq!(html("*hey @**Alice***"), format!("<p><em>hey {span}</em></p>"));
        assert_eq!(html("[@**Alice**](https://x.test)"), format!(r#"<p><a href="https://x.test">{span}</a></p>"#));
    }

    #[test]
    fn raw_html_is_escaped() {
        assert_eq!(html("<script>alert(1)</script>"), "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>");
        assert_eq!(html("a <b onclick=\"x\">b</b>"), "<p>a &lt;b onclick=\"x\"&gt;b&lt;/b&gt;</p>");
    }

    #[test]
    fn a_mention_inside_raw_html_is_still_a_mention() {
        assert_eq!(
            html("<div>\n@**Alice**\n</div>"),
            "<p>&lt;div&gt;\n<span class=\"user-mention\" data-user-id=\"7\">@Alice Zoë</span>\n&lt;/div&gt;</p>"
        );
    }

    #[test]
    fn a_name_with_html_is_escaped_inside_the_span() {
        assert_eq!(
            html("@**Mallory**"),
            r#"<p><span class="user-mention" data-user-id="9">@&lt;b&gt;Mal&lt;/b&gt; &amp; &quot;co&quot;</span></p>"#
        );
    }

    #[test]
    fn forged_placeholder_characters_do_not_produce_spans() {
        let forged = ["\u{E000}0\u{E001}", "&#xE000;0&#xE001;", "&#57344;0&#57345;", "&#x0000e000;0&#xE001;"];
        for content in forged {
            let rendered = html(&format!("{content} @**Alice**"));
            assert_eq!(rendered.matches("<span").count(), 1, "{content:?} gave {rendered}");
        }
        assert_eq!(html("\u{E000}0\u{E001}"), "<p>\u{E000}0\u{E001}</p>");
        assert_eq!(html("`&#xE000;`"), "<p><code>&amp;#xE000;</code></p>");
    }

    #[test]
    fn a_mention_in_a_link_target_stays_as_written() {
        assert_eq!(html("[x](https://x.test/@**Alice**)"), r#"<p><a href="https://x.test/@**Alice**">x</a></p>"#);
    }

    #[test]
    fn adversarial_input_of_100_kb_renders_in_one_pass() {
        assert!(html(&format!("a{}", "`".repeat(100_000))).starts_with("<p>a``"));
        assert_eq!(html(&"@**Alice** ".repeat(9_000)).matches("<span").count(), 9_000);
        assert_eq!(html(&"[@**Alice**](".repeat(8_000)).matches("<span").count(), 8_000);
        assert!(!html(&"<a @**Alice**>".repeat(7_000)).contains("<a"));
        assert_eq!(html(&"&#xE000;0&#xE001;".repeat(6_000)).matches('\u{E000}').count(), 6_000);
        assert!(html(&"*_".repeat(50_000)).starts_with("<p>"));
    }

    #[test]
    fn a_link_with_an_unsafe_scheme_shows_only_its_text() {
        assert_eq!(html("[x](javascript:alert(1))"), "<p>x</p>");
        assert_eq!(html("[x](JavaScript&#58;alert(1))"), "<p>x</p>");
        assert_eq!(html("[x](< java\tscript:alert(1)>)"), "<p>x</p>");
        assert_eq!(html("<javascript:alert(1)>"), "<p>javascript:alert(1)</p>");
        assert_eq!(html("![pic](data:image/png;base64,AA)"), "<p>pic</p>");
    }

    #[test]
    fn links_that_are_relative_or_use_a_safe_scheme_are_kept() {
        assert_eq!(html("[x](https://a.test)"), r#"<p><a href="https://a.test">x</a></p>"#);
        assert_eq!(html("[x](/a:b)"), r#"<p><a href="/a:b">x</a></p>"#);
        assert_eq!(html("<mailto:a@b.test>"), r#"<p><a href="mailto:a@b.test">mailto:a@b.test</a></p>"#);
    }
}
