//! What must hold for any message: mention spans lie on character boundaries inside the text, and rendering never
//! lets markup through that did not come from the renderer itself (no `<script`, no unknown tags, no unsafe links).
//! The fuzz target and the corpus test in the main crate both run [`check`].

use hookline_messaging::mentions::{self, MentionTarget};
use hookline_messaging::render::{self, ResolvedUser};

/// Tags the renderer itself produces; anything else in the output came from the sender.
const RENDERED_TAGS: [&str; 27] = [
    "a",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "span",
    "strong",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
];

/// Runs every check on one input, panicking on the first that fails.
pub fn check(content: &str) {
    check_spans(content);
    let html = render::render(content, &resolve_everyone);
    check_html(content, &html);
}

/// Resolves every name and id to one user, whose name tries to smuggle in a script.
pub fn resolve_everyone(_target: &MentionTarget) -> Option<ResolvedUser> {
    Some(ResolvedUser { id: 42, full_name: "Eve <script>alert(1)</script>".to_owned() })
}

fn check_spans(content: &str) {
    let found = mentions::scan(content);
    let mut previous_end = 0;
    for mention in &found {
        let span = &mention.span;
        assert!(previous_end <= span.start && span.start < span.end && span.end <= content.len(), "{span:?}");
        assert!(content.is_char_boundary(span.start) && content.is_char_boundary(span.end), "{span:?}");
        let text = &content[span.clone()];
        assert!(text.starts_with('@') && text.ends_with("**"), "{text:?}");
        previous_end = span.end;
    }
    assert!(mentions::user_mentions(content).len() <= found.len());
}

fn check_html(content: &str, html: &str) {
    assert!(!html.to_ascii_lowercase().contains("<script"), "{html}");
    let spans = html.matches("<span").count();
    assert!(spans <= mentions::scan(content).len(), "{spans} spans from fewer mentions: {html}");
    for tag in tag_names(html) {
        assert!(RENDERED_TAGS.contains(&tag), "unexpected <{tag}> in {html}");
    }
    for url in attribute_values(html, " href=\"").chain(attribute_values(html, " src=\"")) {
        assert!(!has_unsafe_scheme(&url.replace("&amp;", "&")), "unsafe link {url:?} in {html}");
    }
}

/// The name of every tag opened or closed in `html`.
fn tag_names(html: &str) -> impl Iterator<Item = &str> {
    html.match_indices('<').map(move |(at, _)| {
        let name = html[at + 1..].trim_start_matches('/');
        let len = name.bytes().take_while(u8::is_ascii_alphanumeric).count();
        &name[..len]
    })
}

/// Every value of the attribute that `prefix` (` name="`) opens.
fn attribute_values<'h>(html: &'h str, prefix: &'h str) -> impl Iterator<Item = &'h str> {
    html.match_indices(prefix).map(move |(at, _)| {
        let value = &html[at + prefix.len()..];
        &value[..value.find('"').unwrap_or(value.len())]
    })
}

fn has_unsafe_scheme(url: &str) -> bool {
    let lower = url.trim_start().to_ascii_lowercase();
    ["javascript:", "vbscript:", "data:"].iter().any(|scheme| lower.starts_with(scheme))
}
