//! Zulip's limits on what a message holds, and how it brings content and topics within them.
//! Every message is normalized here on its way into the store, whatever sent it (a person, a
//! bot's reply, an incoming integration), and lengths count characters, as Zulip's do.

/// The most characters a message's content keeps.
pub const MAX_CONTENT_CHARS: usize = 10_000;
/// The most characters a topic keeps.
pub const MAX_TOPIC_CHARS: usize = 60;

/// What ends content that was cut to [`MAX_CONTENT_CHARS`].
pub const CONTENT_TRUNCATED: &str = "\n[message truncated]";
/// What ends a topic that was cut to [`MAX_TOPIC_CHARS`].
pub const TOPIC_TRUNCATED: &str = "...";

/// Why content cannot be a message at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ContentError {
    #[error("Message must not be empty")]
    Empty,
    #[error("Message must not contain null bytes")]
    NullByte,
}

/// Content as Zulip stores it: trailing whitespace and leading newlines stripped (leading
/// spaces stay: they can start an indented code block), refused when nothing is left or when
/// it holds a NUL, and cut to [`MAX_CONTENT_CHARS`] ending in [`CONTENT_TRUNCATED`].
///
/// # Errors
/// [`ContentError`] when the content is empty or holds a NUL character.
pub fn normalize_content(content: &str) -> Result<String, ContentError> {
    let content = content.trim_end().trim_start_matches('\n');
    if content.is_empty() {
        return Err(ContentError::Empty);
    }
    if content.contains('\0') {
        return Err(ContentError::NullByte);
    }
    Ok(truncate_content(content))
}

/// Content cut to [`MAX_CONTENT_CHARS`] ending in [`CONTENT_TRUNCATED`], if it is longer.
#[must_use]
pub fn truncate_content(content: &str) -> String {
    truncate(content, MAX_CONTENT_CHARS, CONTENT_TRUNCATED)
}

/// A topic as Zulip stores it: cut to [`MAX_TOPIC_CHARS`] ending in [`TOPIC_TRUNCATED`].
#[must_use]
pub fn truncate_topic(topic: &str) -> String {
    truncate(topic, MAX_TOPIC_CHARS, TOPIC_TRUNCATED)
}

/// `text` if it has at most `max` characters, else its first characters followed by `marker`,
/// `max` characters in all.
fn truncate(text: &str, max: usize, marker: &str) -> String {
    let Some((cut, _)) = text.char_indices().nth(max) else { return text.to_owned() };
    let keep = max - marker.chars().count();
    let end = text[..cut].char_indices().nth(keep).map_or(cut, |(at, _)| at);
    let mut truncated = String::with_capacity(end + marker.len());
    truncated.push_str(&text[..end]);
    truncated.push_str(marker);
    truncated
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_within_the_limit_is_kept_as_written() {
        assert_eq!(normalize_content("hello"), Ok("hello".to_owned()));
        let full = "é".repeat(MAX_CONTENT_CHARS);
        assert_eq!(normalize_content(&full).unwrap(), full, "10,000 characters fit, whatever their bytes");
    }

    #[test]
    fn longer_content_is_cut_to_the_limit_ending_in_zulips_marker() {
        let long = "é".repeat(MAX_CONTENT_CHARS + 1);
        let cut = normalize_content(&long).unwrap();
        assert_eq!(cut.chars().count(), MAX_CONTENT_CHARS);
        assert!(cut.ends_with("é\n[message truncated]"));
        assert_eq!(cut.chars().filter(|c| *c == 'é').count(), MAX_CONTENT_CHARS - CONTENT_TRUNCATED.len());
    }

    #[test]
    fn leading_newlines_and_trailing_whitespace_go_but_leading_spaces_stay() {
        assert_eq!(normalize_content("\n\n  code\n\t \n"), Ok("  code".to_owned()));
        assert_eq!(
            normalize_content("\r\nx"),
            Ok("\r\nx".to_owned()),
            "only \\n is stripped at the start, as Zulip does"
        );
    }

    #[test]
    fn empty_content_and_nul_bytes_are_refused_with_zulips_words() {
        for empty in ["", "   ", "\n\n\t"] {
            assert_eq!(normalize_content(empty), Err(ContentError::Empty), "{empty:?}");
        }
        assert_eq!(normalize_content("a\0b"), Err(ContentError::NullByte));
        assert_eq!(ContentError::NullByte.to_string(), "Message must not contain null bytes");
    }

    #[test]
    fn long_topics_end_in_an_ellipsis_of_three_dots() {
        let topic = "testing-gh / issue #6 This is a sample issue to test GH Integration";
        assert_eq!(truncate_topic(topic), "testing-gh / issue #6 This is a sample issue to test GH I...");
        assert_eq!(truncate_topic(&"ü".repeat(60)), "ü".repeat(60));
        assert_eq!(truncate_topic(&"ü".repeat(61)).chars().count(), 60);
    }
}
