//! Emoji names and codes as Zulip's reactions use them: a unicode emoji's code is its
//! codepoints in hex (`1f44d`, or `0031-20e3` for several), its names are Zulip's canonical
//! name and aliases (`+1`, `thumbs_up`). Zulip's extra emoji `zulip` is its own code.
//!
//! The unicode emoji come from Zulip's emoji name table, kept as data in `emoji_names.tsv`:
//! one emoji a line, `code<TAB>canonical name<TAB>aliases`, the aliases space-separated.
//! Lines starting with `#` and blank lines are not entries.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

/// Zulip's emoji name table, one `code<TAB>canonical name<TAB>aliases` line per emoji.
const EMOJI_NAMES_TSV: &str = include_str!("emoji_names.tsv");

/// Zulip's own extra emoji.
pub const ZULIP_EMOJI: &str = "zulip";

/// One emoji of the table: its code, canonical name and aliases.
struct Entry<'a> {
    code: &'a str,
    canonical: &'a str,
    aliases: Vec<&'a str>,
}

/// The entries of the table, in order; the lines that are not entries are skipped.
/// A line without three tab-separated fields yields `Err` with its line number.
fn entries(table: &str) -> impl Iterator<Item = Result<Entry<'_>, usize>> {
    table.lines().enumerate().filter(|(_, line)| !line.trim().is_empty() && !line.starts_with('#')).map(
        |(index, line)| {
            let mut fields = line.split('\t');
            match (fields.next(), fields.next(), fields.next(), fields.next()) {
                (Some(code), Some(canonical), Some(aliases), None) => {
                    Ok(Entry { code, canonical, aliases: aliases.split(' ').filter(|a| !a.is_empty()).collect() })
                }
                _ => Err(index + 1),
            }
        },
    )
}

/// Every name, canonical or alias, with the code of the emoji it stands for, and the set
/// of codes, built once from the table. A malformed line is left out here; the tests
/// check that there is none.
struct Table {
    by_name: HashMap<&'static str, &'static str>,
    codes: HashSet<&'static str>,
}

static TABLE: LazyLock<Table> = LazyLock::new(|| {
    let mut by_name = HashMap::new();
    let mut codes = HashSet::new();
    for entry in entries(EMOJI_NAMES_TSV).flatten() {
        codes.insert(entry.code);
        for name in std::iter::once(entry.canonical).chain(entry.aliases) {
            by_name.entry(name).or_insert(entry.code);
        }
    }
    Table { by_name, codes }
});

/// What an emoji name stands for when a client sends only the name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmojiData {
    pub emoji_code: String,
    pub reaction_type: String,
}

/// The code and type of the emoji named `name`, if there is one.
#[must_use]
pub fn by_name(name: &str) -> Option<EmojiData> {
    if name == ZULIP_EMOJI {
        return Some(EmojiData { emoji_code: ZULIP_EMOJI.into(), reaction_type: "zulip_extra_emoji".into() });
    }
    TABLE.by_name.get(name).map(|code| EmojiData { emoji_code: (*code).into(), reaction_type: "unicode_emoji".into() })
}

/// Whether `code` is a unicode emoji Zulip knows.
#[must_use]
pub fn is_unicode_code(code: &str) -> bool {
    TABLE.codes.contains(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_entries() -> Vec<Entry<'static>> {
        entries(EMOJI_NAMES_TSV)
            .map(|entry| entry.unwrap_or_else(|line| panic!("emoji_names.tsv:{line}: not three tab-separated fields")))
            .collect()
    }

    fn is_code(code: &str) -> bool {
        code.split('-')
            .all(|group| !group.is_empty() && group.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)))
    }

    fn is_name(name: &str) -> bool {
        !name.is_empty() && !name.chars().any(char::is_whitespace)
    }

    #[test]
    fn every_line_of_the_table_is_well_formed() {
        for (index, line) in EMOJI_NAMES_TSV.lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split('\t').collect();
            assert_eq!(fields.len(), 3, "emoji_names.tsv:{}: {line:?}", index + 1);
            assert!(is_code(fields[0]), "emoji_names.tsv:{}: bad code {:?}", index + 1, fields[0]);
            assert!(is_name(fields[1]), "emoji_names.tsv:{}: bad canonical name {:?}", index + 1, fields[1]);
            if !fields[2].is_empty() {
                for alias in fields[2].split(' ') {
                    assert!(is_name(alias), "emoji_names.tsv:{}: bad alias {alias:?}", index + 1);
                }
            }
        }
    }

    #[test]
    fn the_table_is_zulips_whole_table() {
        let all = all_entries();
        assert!(all.len() > 1_000, "only {} emoji", all.len());
        let mut codes: Vec<&str> = all.iter().map(|e| e.code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len(), "a code is listed twice");
        assert_eq!(TABLE.codes.len(), all.len());
    }

    #[test]
    fn names_and_aliases_lead_to_one_code() {
        assert_eq!(by_name("+1").unwrap().emoji_code, "1f44d");
        assert_eq!(by_name("thumbs_up").unwrap().emoji_code, "1f44d");
        assert_eq!(by_name("zulip").unwrap().reaction_type, "zulip_extra_emoji");
        assert_eq!(by_name("no_such_emoji"), None);
        assert!(is_unicode_code("1f600"));
        assert!(!is_unicode_code("zzzz"));
    }

    #[test]
    fn names_from_all_over_the_table() {
        let cases = [
            ("grinning", "1f600"),
            ("happy", "1f600"),
            ("octopus", "1f419"),
            ("rooster", "1f413"),
            ("cock-a-doodle-doo", "1f413"),
            ("gooooooooal", "1f945"),
            ("rocket", "1f680"),
            ("working_on_it", "1f6e0"),
            ("tools", "1f6e0"),
            ("tada", "1f389"),
            ("congratulations", "1f389"),
            ("heart", "2764"),
            ("love_you", "2764"),
            ("100", "1f4af"),
            ("hundred", "1f4af"),
            ("check", "2705"),
            ("approved", "2705"),
            ("one", "0031-20e3"),
            ("1", "0031-20e3"),
            ("asterisk", "002a-20e3"),
            ("crossed_flags", "1f38c"),
        ];
        for (name, code) in cases {
            let data = by_name(name).unwrap_or_else(|| panic!("{name} is not a known emoji"));
            assert_eq!((name, data.emoji_code.as_str(), data.reaction_type.as_str()), (name, code, "unicode_emoji"));
            assert!(is_unicode_code(code), "{code}");
        }
    }

    #[test]
    fn commented_out_emoji_are_not_entries() {
        // Zulip's table leaves these out (blond hair, the half-hour clocks).
        assert_eq!(by_name("person_with_blond_hair"), None);
        assert_eq!(by_name("clock130"), None);
        assert!(!is_unicode_code("1f471"));
    }

    #[test]
    fn no_name_stands_for_two_emoji() {
        let mut names: Vec<&str> =
            all_entries().iter().flat_map(|e| std::iter::once(e.canonical).chain(e.aliases.iter().copied())).collect();
        let all = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all);
        assert_eq!(TABLE.by_name.len(), all);
    }
}
