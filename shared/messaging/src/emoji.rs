//! Emoji names and codes as Zulip's reactions use them: a unicode emoji's code is its
//! codepoints in hex (`1f44d`), its names are Zulip's canonical name and aliases (`+1`,
//! `thumbs_up`). Zulip's extra emoji `zulip` is its own code.

/// `(code, canonical name, aliases)`, after Zulip's emoji name table.
const UNICODE_EMOJI: &[(&str, &str, &[&str])] = &[
    ("1f600", "grinning", &["happy"]),
    ("1f603", "smiley", &[]),
    ("1f604", "big_smile", &[]),
    ("1f601", "grinning_face_with_smiling_eyes", &[]),
    ("1f606", "laughing", &["lol"]),
    ("1f605", "sweat_smile", &[]),
    ("1f602", "joy", &["tears", "laughter_tears"]),
    ("1f923", "rolling_on_the_floor_laughing", &["rofl"]),
    ("263a", "smile", &["relaxed"]),
    ("1f60a", "blush", &[]),
    ("1f607", "innocent", &["halo"]),
    ("1f642", "slight_smile", &[]),
    ("1f643", "upside_down", &["oops"]),
    ("1f609", "wink", &[]),
    ("1f60c", "relieved", &[]),
    ("1f60d", "heart_eyes", &["in_love"]),
    ("1f618", "heart_kiss", &["blow_a_kiss"]),
    ("1f617", "kiss", &[]),
    ("1f60b", "yum", &[]),
    ("1f61c", "stuck_out_tongue_wink", &["joking", "crazy"]),
    ("1f61d", "stuck_out_tongue", &[]),
    ("1f911", "money_face", &["kaching"]),
    ("1f917", "hug", &["arms_open"]),
    ("1f913", "nerd", &["geek"]),
    ("1f60e", "sunglasses", &[]),
    ("1f921", "clown", &[]),
    ("1f920", "cowboy", &[]),
    ("1f60f", "smirk", &["smug"]),
    ("1f612", "unamused", &[]),
    ("1f61e", "disappointed", &[]),
    ("1f614", "pensive", &["tired"]),
    ("1f61f", "worried", &[]),
    ("1f615", "oh_no", &["half_frown", "concerned", "confused"]),
    ("1f641", "frown", &["slight_frown"]),
    ("2639", "sad", &["big_frown"]),
    ("1f623", "persevere", &["helpless"]),
    ("1f616", "confounded", &["agony"]),
    ("1f62b", "anguish", &[]),
    ("1f629", "weary", &["distraught"]),
    ("1f624", "triumph", &[]),
    ("1f620", "angry", &[]),
    ("1f621", "rage", &["mad", "grumpy", "very_angry"]),
    ("1f636", "speechless", &["no_mouth", "blank", "poker_face"]),
    ("1f610", "neutral", &[]),
    ("1f611", "expressionless", &[]),
    ("1f62f", "hushed", &[]),
    ("1f62e", "open_mouth", &["surprise"]),
    ("1f632", "astonished", &[]),
    ("1f635", "dizzy", &[]),
    ("1f633", "flushed", &["embarrassed", "blushing"]),
    ("1f631", "scream", &[]),
    ("1f628", "fear", &["scared", "shock"]),
    ("1f622", "cry", &[]),
    ("1f625", "exhausted", &["disappointed_relieved", "stressed"]),
    ("1f62d", "sob", &[]),
    ("1f613", "sweat", &[]),
    ("1f62a", "sleepy", &[]),
    ("1f634", "sleeping", &[]),
    ("1f644", "rolling_eyes", &[]),
    ("1f914", "thinking", &[]),
    ("1f62c", "grimacing", &["nervous", "anxious"]),
    ("1f910", "silence", &["quiet", "hush", "zip_it", "lips_are_sealed"]),
    ("1f912", "sick", &["flu", "face_with_thermometer"]),
    ("1f608", "smiling_devil", &["smiling_imp", "smiling_face_with_horns"]),
    ("1f4a9", "poop", &["pile_of_poo"]),
    ("1f47b", "ghost", &["boo", "spooky", "haunted"]),
    ("1f480", "skull", &[]),
    ("1f47d", "alien", &["ufo"]),
    ("1f916", "robot", &[]),
    ("1f383", "jack-o-lantern", &["pumpkin"]),
    ("1f64c", "raised_hands", &["praise"]),
    ("1f44f", "clap", &["applause"]),
    ("1f64f", "pray", &["welcome", "thank_you", "namaste"]),
    ("1f91d", "handshake", &["done_deal"]),
    ("1f44d", "+1", &["thumbs_up"]),
    ("1f44e", "-1", &["thumbs_down"]),
    ("1f44a", "fist_bump", &["punch"]),
    ("270a", "fist", &["power"]),
    ("1f91e", "fingers_crossed", &[]),
    ("270c", "peace_sign", &["victory"]),
    ("1f918", "rock_on", &["sign_of_the_horns"]),
    ("1f44c", "ok", &["got_it"]),
    ("1f448", "point_left", &[]),
    ("1f449", "point_right", &[]),
    ("1f446", "point_up", &["this"]),
    ("1f447", "point_down", &[]),
    ("270b", "hand", &["raised_hand"]),
    ("1f590", "high_five", &["palm"]),
    ("1f44b", "wave", &["hello", "hi"]),
    ("1f4aa", "muscle", &[]),
    ("1f440", "eyes", &["looking"]),
];

/// Zulip's own extra emoji.
pub const ZULIP_EMOJI: &str = "zulip";

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
    UNICODE_EMOJI
        .iter()
        .find(|(_, canonical, aliases)| *canonical == name || aliases.contains(&name))
        .map(|(code, _, _)| EmojiData { emoji_code: (*code).into(), reaction_type: "unicode_emoji".into() })
}

/// Whether `code` is a unicode emoji Zulip knows.
#[must_use]
pub fn is_unicode_code(code: &str) -> bool {
    UNICODE_EMOJI.iter().any(|(c, _, _)| *c == code)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn no_name_stands_for_two_emoji() {
        let mut names: Vec<&str> = UNICODE_EMOJI
            .iter()
            .flat_map(|(_, c, aliases)| std::iter::once(*c).chain(aliases.iter().copied()))
            .collect();
        let all = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all);
    }
}
