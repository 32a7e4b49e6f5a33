//! Finds `@**Full Name**` mentions in a message's Markdown source, following Zulip's rules.
//! What counts as code or as a link target comes from the same Markdown parser `render` uses,
//! so the mentions that notify are exactly the ones the rendered message shows.

use std::collections::HashSet;
use std::ops::Range;

use pulldown_cmark::{Event, LinkType, Options, Parser, Tag, TagEnd};

/// Who or what a mention points at.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MentionTarget {
    /// `@**Full Name**`
    Name(String),
    /// `@**Full Name|123**`: the id decides; the caller checks the name matches that user
    NameAndId(String, u64),
    /// `@**|123**`
    Id(u64),
    /// `@**all**`, `@**everyone**`, `@**stream**`, `@**channel**`, `@**topic**` (case-insensitive); holds the lowercase word
    Wildcard(String),
}

/// One mention found in a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mention {
    pub target: MentionTarget,
    /// `@_**Name**`, or any mention inside a `>` quote (Zulip silences quoted mentions): shown
    /// as a mention, notifies/triggers nobody
    pub silent: bool,
    /// Byte range of the whole mention syntax (from `@` to the closing `**`) in the scanned text
    pub span: Range<usize>,
}

/// The words that mention everyone in a conversation rather than one user.
const WILDCARDS: [&str; 5] = ["all", "everyone", "stream", "channel", "topic"];

/// Characters that may stand right before the `@` of a mention (besides whitespace).
const OPENERS: [char; 7] = ['\'', '"', '(', '{', '[', '/', '<'];

/// The Markdown dialect messages are written in; rendering parses with the same options.
pub(crate) fn markdown_options() -> Options {
    Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES
}

/// Every mention in `content` (raw Markdown), in order; mentions inside code spans, fenced code blocks (``` and ~~~,
/// any length ≥3, closing fence same char and ≥ length) and indented code blocks (4+ spaces or a tab, after a blank
/// line or at the start) are not mentions.
///
/// Following CommonMark, an unclosed fence makes the rest of the document code, and code inside block quotes and
/// list items counts too. Link targets, images, autolinks and link reference definitions hold no mentions either.
///
/// A mention inside a block quote is silent, as Zulip makes it: quoting someone's message does
/// not notify the people it mentions. (A ```` ```quote ```` block is a fence, so it holds no
/// mentions at all.)
pub fn scan(content: &str) -> Vec<Mention> {
    let ranges = block_ranges(content);
    let mut skipped = Skipped::new(&ranges.non_text);
    let mut quoted = Skipped::new(&ranges.quotes);
    let mut mentions = Vec::new();
    let mut from = 0;
    while let Some(at) = content[from..].find('@').map(|offset| from + offset) {
        match mention_at(content, at).filter(|mention| !skipped.overlaps(&mention.span)) {
            Some(mut mention) => {
                from = mention.span.end;
                mention.silent |= quoted.overlaps(&mention.span);
                mentions.push(mention);
            }
            None => from = at + 1,
        }
    }
    mentions
}

/// The users a message notifies: non-silent, non-wildcard targets (deduplicated, in order).
pub fn user_mentions(content: &str) -> Vec<MentionTarget> {
    let mut seen = HashSet::new();
    scan(content)
        .into_iter()
        .filter(|mention| !mention.silent && !matches!(mention.target, MentionTarget::Wildcard(_)))
        .map(|mention| mention.target)
        .filter(|target| seen.insert(target.clone()))
        .collect()
}

/// Reads what a mention's `**…**` holds: a wildcard word, `Name|id`, `|id` or a plain name.
fn parse_target(text: &str) -> MentionTarget {
    if let Some(word) = WILDCARDS.iter().find(|word| word.eq_ignore_ascii_case(text)) {
        return MentionTarget::Wildcard((*word).to_owned());
    }
    match split_id(text) {
        Some(("", id)) => MentionTarget::Id(id),
        Some((name, id)) => MentionTarget::NameAndId(name.to_owned(), id),
        None => MentionTarget::Name(text.to_owned()),
    }
}

/// Splits `Name|123` at its last `|`, when only ASCII digits follow it and they fit a `u64`.
fn split_id(text: &str) -> Option<(&str, u64)> {
    let (name, digits) = text.rsplit_once('|')?;
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().map(|id| (name, id))
}

/// Whether the character before byte `at` allows a mention to start there.
fn may_start_at(content: &str, at: usize) -> bool {
    content[..at].chars().next_back().is_none_or(|before| before.is_whitespace() || OPENERS.contains(&before))
}

/// The mention whose `@` is at byte `at`, if the syntax there is one (whether it sits in code is checked apart).
///
/// The name ends at the first `*` or line break. Scanning stays linear: a later `@**` cannot start inside this name,
/// since its own `**` would have ended the name first.
fn mention_at(content: &str, at: usize) -> Option<Mention> {
    if !may_start_at(content, at) {
        return None;
    }
    let silent = content[at + 1..].starts_with('_');
    let open = at + 1 + usize::from(silent);
    if !content[open..].starts_with("**") {
        return None;
    }
    let name_start = open + 2;
    let name_end = content.as_bytes()[name_start..]
        .iter()
        .position(|byte| matches!(byte, b'*' | b'\n' | b'\r'))
        .map_or(content.len(), |offset| name_start + offset);
    if name_end == name_start || !content[name_end..].starts_with("**") {
        return None;
    }
    let target = parse_target(&content[name_start..name_end]);
    Some(Mention { target, silent, span: at..name_end + 2 })
}

/// A link whose text is being read: its whole range and where its text has reached so far.
struct OpenLink {
    range: Range<usize>,
    text_end: usize,
    autolink: bool,
}

impl OpenLink {
    /// The part of the link that is not its visible text: the whole of an autolink, else everything after the text.
    fn target_range(self) -> Range<usize> {
        if self.autolink { self.range } else { self.text_end..self.range.end }
    }
}

/// Byte ranges of a message, each list sorted and merged.
struct BlockRanges {
    /// What Markdown does not show as text: code, link targets, images, reference definitions.
    non_text: Vec<Range<usize>>,
    /// Block quotes.
    quotes: Vec<Range<usize>>,
}

/// Reads `content` once with the Markdown parser and notes where code and quotes are.
fn block_ranges(content: &str) -> BlockRanges {
    let mut parser = Parser::new_ext(content, markdown_options()).into_offset_iter();
    let mut ranges = Vec::new();
    let mut quotes = Vec::new();
    let mut links: Vec<OpenLink> = Vec::new();
    for (event, range) in parser.by_ref() {
        match event {
            Event::Code(_) | Event::Start(Tag::CodeBlock(_) | Tag::Image { .. }) => ranges.push(range.clone()),
            Event::Start(Tag::BlockQuote(_)) => quotes.push(range.clone()),
            Event::Start(Tag::Link { link_type, .. }) => {
                let autolink = matches!(link_type, LinkType::Autolink | LinkType::Email);
                links.push(OpenLink { text_end: range.start + 1, range, autolink });
                continue;
            }
            Event::End(TagEnd::Link) => {
                ranges.extend(links.pop().map(OpenLink::target_range));
                continue;
            }
            _ => {}
        }
        if let Some(link) = links.last_mut() {
            link.text_end = link.text_end.max(range.end);
        }
    }
    ranges.extend(parser.reference_definitions().iter().map(|(_, definition)| definition.span.clone()));
    BlockRanges { non_text: merge(ranges), quotes: merge(quotes) }
}

/// Sorts ranges and joins the ones that overlap or touch.
fn merge(mut ranges: Vec<Range<usize>>) -> Vec<Range<usize>> {
    ranges.sort_by_key(|range| range.start);
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
    for range in ranges {
        match merged.last_mut() {
            Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
            _ => merged.push(range),
        }
    }
    merged
}

/// Answers whether spans overlap the skipped ranges, for spans asked about in increasing order of start.
struct Skipped<'a> {
    ranges: &'a [Range<usize>],
}

impl<'a> Skipped<'a> {
    fn new(ranges: &'a [Range<usize>]) -> Self {
        Self { ranges }
    }

    fn overlaps(&mut self, span: &Range<usize>) -> bool {
        let passed = self.ranges.iter().take_while(|range| range.end <= span.start).count();
        self.ranges = &self.ranges[passed..];
        self.ranges.first().is_some_and(|range| range.start < span.end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets(content: &str) -> Vec<MentionTarget> {
        scan(content).into_iter().map(|mention| mention.target).collect()
    }

    fn name(text: &str) -> MentionTarget {
        MentionTarget::Name(text.to_owned())
    }

    fn wildcard(word: &str) -> MentionTarget {
        MentionTarget::Wildcard(word.to_owned())
    }

    #[test]
    fn a_mention_inside_a_quote_is_silent_as_zulip_makes_it() {
        for quoted in ["> @**Alice** said so", "hi\n\n> > nested @**Alice**\n", "- > @**Alice** in a list"] {
            let mentions = scan(quoted);
            assert_eq!(mentions.len(), 1, "{quoted:?}");
            assert!(mentions[0].silent, "{quoted:?}");
            assert!(user_mentions(quoted).is_empty(), "{quoted:?}");
        }
        let after = scan("> @**Alice** said\n\n@**Bob** agreed");
        assert_eq!(after.iter().map(|m| m.silent).collect::<Vec<_>>(), vec![true, false]);
        assert_eq!(user_mentions("> quoted\n\n@**Bob** agreed"), vec![name("Bob")]);
    }

    #[test]
    fn a_quote_fence_holds_no_mention_that_notifies() {
        assert!(user_mentions("```quote\n@**Alice** wrote this\n```").is_empty());
        assert!(user_mentions("~~~ quote\n@**Alice**\n~~~\n").is_empty());
    }

    #[test]
    fn a_mention_at_the_start_of_the_text_counts() {
        let mentions = scan("@**Alice** hi");
        assert_eq!(mentions, vec![Mention { target: name("Alice"), silent: false, span: 0..10 }]);
    }

    #[test]
    fn a_mention_may_follow_whitespace_or_an_opening_character() {
        for opener in [" ", "\t", "\n", "'", "\"", "(", "{", "[", "/", "<", "\u{a0}"] {
            let content = format!("x{opener}@**Alice**");
            assert_eq!(targets(&content), vec![name("Alice")], "after {opener:?}");
        }
    }

    #[test]
    fn the_span_covers_the_mention_after_an_opening_parenthesis() {
        let mentions = scan("(@**Alice**)");
        assert_eq!(mentions[0].span, 1..11);
    }

    #[test]
    fn a_mention_does_not_start_right_after_a_letter() {
        assert!(scan("email@**x**").is_empty());
        assert!(scan("a:@**x**").is_empty());
        assert!(scan("@**a**@**b**").iter().map(|mention| &mention.target).eq([&name("a")]));
    }

    #[test]
    fn a_name_keeps_its_spaces_and_unicode_as_written() {
        assert_eq!(targets("@**Zoë Ö**"), vec![name("Zoë Ö")]);
        assert_eq!(targets("@** padded **"), vec![name(" padded ")]);
    }

    #[test]
    fn a_name_may_carry_an_id_after_its_last_bar() {
        assert_eq!(targets("@**Alice|12**"), vec![MentionTarget::NameAndId("Alice".to_owned(), 12)]);
        assert_eq!(targets("@**A|B|7**"), vec![MentionTarget::NameAndId("A|B".to_owned(), 7)]);
    }

    #[test]
    fn a_bar_and_an_id_alone_mention_by_id() {
        assert_eq!(targets("@**|123**"), vec![MentionTarget::Id(123)]);
    }

    #[test]
    fn a_non_numeric_id_makes_the_whole_thing_a_name() {
        assert_eq!(targets("@**Alice|bob**"), vec![name("Alice|bob")]);
        assert_eq!(targets("@**Alice|12a**"), vec![name("Alice|12a")]);
        assert_eq!(targets("@**Alice| 12**"), vec![name("Alice| 12")]);
        assert_eq!(targets("@**Alice|**"), vec![name("Alice|")]);
        assert_eq!(targets("@**|**"), vec![name("|")]);
    }

    #[test]
    fn an_id_too_large_for_u64_makes_the_whole_thing_a_name() {
        assert_eq!(targets("@**A|99999999999999999999**"), vec![name("A|99999999999999999999")]);
    }

    #[test]
    fn an_underscore_makes_a_mention_silent() {
        let mentions = scan("hi @_**Alice**");
        assert_eq!(mentions, vec![Mention { target: name("Alice"), silent: true, span: 3..14 }]);
    }

    #[test]
    fn each_wildcard_word_is_a_wildcard_in_any_case() {
        for word in WILDCARDS {
            assert_eq!(targets(&format!("@**{word}**")), vec![wildcard(word)]);
            assert_eq!(targets(&format!("@**{}**", word.to_uppercase())), vec![wildcard(word)]);
        }
    }

    #[test]
    fn a_silent_wildcard_is_still_a_wildcard() {
        let mentions = scan("@_**all**");
        assert_eq!(mentions, vec![Mention { target: wildcard("all"), silent: true, span: 0..9 }]);
    }

    #[test]
    fn a_mention_inside_a_code_span_does_not_count() {
        assert!(scan("see `@**Alice**` here").is_empty());
        assert!(scan("see ``a ` @**Alice** b`` here").is_empty());
    }

    #[test]
    fn an_unclosed_backtick_run_is_literal_text() {
        assert_eq!(targets("a ` @**Alice**"), vec![name("Alice")]);
        assert_eq!(targets("``a` @**Alice**"), vec![name("Alice")]);
    }

    #[test]
    fn a_mention_right_after_a_closed_code_span_counts() {
        let mentions = scan("`code` @**Alice**");
        assert_eq!(mentions[0].span, 7..17);
    }

    #[test]
    fn a_mention_inside_a_fenced_block_does_not_count() {
        assert!(scan("```\n@**Alice**\n```").is_empty());
        assert!(scan("````rust\n```\n@**Alice**\n````").is_empty());
        assert_eq!(targets("```\n@**A**\n```\n@**B**"), vec![name("B")]);
    }

    #[test]
    fn a_mention_inside_a_tilde_fenced_block_does_not_count() {
        assert!(scan("~~~\n@**Alice**\n```\n~~~").is_empty());
        assert_eq!(targets("~~~~\n@**A**\n~~~~~\n@**B**"), vec![name("B")]);
    }

    #[test]
    fn an_unclosed_fence_makes_the_rest_of_the_text_code() {
        assert_eq!(targets("@**A**\n```\n@**B**\n\n@**C**"), vec![name("A")]);
    }

    #[test]
    fn a_mention_inside_an_indented_block_does_not_count() {
        assert!(scan("    @**Alice**").is_empty());
        assert!(scan("\t@**Alice**").is_empty());
        assert_eq!(targets("intro\n\n    @**A**\n\n@**B**"), vec![name("B")]);
    }

    #[test]
    fn an_indented_line_continuing_a_paragraph_is_not_code() {
        assert_eq!(targets("intro\n    @**Alice**"), vec![name("Alice")]);
    }

    #[test]
    fn a_mention_inside_code_in_a_block_quote_does_not_count() {
        assert!(scan("> ```\n> @**Alice**\n> ```").is_empty());
    }

    #[test]
    fn a_mention_inside_a_link_target_does_not_count() {
        assert_eq!(targets("[@**A**](https://x.test/@**B**)"), vec![name("A")]);
        assert!(scan("<https://x.test/@**B**>").is_empty());
        assert!(scan("![@**A**](a.png)").is_empty());
        assert!(scan("[x]: /u/@**A**\n\n[x]").is_empty());
    }

    #[test]
    fn several_mentions_come_in_order() {
        let mentions = scan("@**A** and @_**B** and @**|3** and @**all**");
        let found: Vec<_> = mentions.iter().map(|mention| (mention.target.clone(), mention.silent)).collect();
        assert_eq!(
            found,
            vec![(name("A"), false), (name("B"), true), (MentionTarget::Id(3), false), (wildcard("all"), false)]
        );
    }

    #[test]
    fn an_empty_mention_is_not_a_mention() {
        assert!(scan("@****").is_empty());
        assert!(scan("@_****").is_empty());
        assert!(scan("@*****").is_empty());
    }

    #[test]
    fn a_line_break_inside_the_name_breaks_the_mention() {
        assert!(scan("@**Al\nice**").is_empty());
        assert!(scan("@**Al\r\nice**").is_empty());
    }

    #[test]
    fn a_star_inside_the_name_breaks_the_mention() {
        assert!(scan("@**Al*ice**").is_empty());
        assert!(scan("@*Alice*").is_empty());
        assert!(scan("@**Alice*").is_empty());
    }

    #[test]
    fn user_mentions_skips_silent_and_wildcard_mentions_and_repeats() {
        let content = "@**A** @_**B** @**all** @**A** @**|3** @_**|4** @**A|5**";
        assert_eq!(
            user_mentions(content),
            vec![name("A"), MentionTarget::Id(3), MentionTarget::NameAndId("A".to_owned(), 5)]
        );
    }

    #[test]
    fn adversarial_input_of_100_kb_scans_in_one_pass() {
        let backticks = "`".repeat(100_000);
        assert!(scan(&backticks).is_empty());
        let unmatched_runs: String = (1..=440).map(|len| format!("{} @**x** ", "`".repeat(len))).collect();
        assert_eq!(scan(&unmatched_runs).len(), 440);
        let openers = "@**".repeat(33_000);
        assert_eq!(targets(&openers), vec![name("@")]);
        let unclosed = "@**name * ".repeat(10_000);
        assert!(scan(&unclosed).is_empty());
        let chained = "@**@".repeat(25_000);
        assert_eq!(targets(&chained), vec![name("@@")]);
        let many = "@**a** ".repeat(14_000);
        assert_eq!(user_mentions(&many), vec![name("a")]);
    }

    #[test]
    fn spans_land_on_character_boundaries_in_multibyte_text() {
        let content = "é @**ü** ß @_**|9** 😀";
        for mention in scan(content) {
            assert!(content.is_char_boundary(mention.span.start) && content.is_char_boundary(mention.span.end));
            assert!(content[mention.span].starts_with('@'));
        }
    }
}
