use serde_json::{Value, json};

use super::*;

fn run(body: &Value) -> Result<Handled, IntegrationError> {
    let headers = [("content-type".to_owned(), "application/json".to_owned())];
    SlackIncoming.handle(&Payload { params: &[], event_type: None, headers: &headers, body, raw: b"" })
}

fn message(body: &Value) -> (String, String) {
    match run(body).unwrap().outcome {
        Outcome::Message { topic, content } => (topic, content),
        other => panic!("not one message: {other:?} for {body}"),
    }
}

fn content(body: Value) -> String {
    message(&body).1
}

fn malformed(body: Value) -> String {
    match run(&body) {
        Err(IntegrationError::Malformed(why)) => why,
        other => panic!("{body}: {other:?}"),
    }
}

#[test]
fn the_sample_renders() {
    let (event, sample) = SlackIncoming.sample();
    assert_eq!(event, None);
    let (topic, content) = message(&serde_json::from_str(sample).unwrap());
    assert_eq!(topic, "deploys");
    assert_eq!(
        content,
        "## [Release notes](https://git.example.com/billing/-/releases/2.14.1)\n\n\
         Faster invoice exports, fixed *rounding* of refunds.\n\n\
         **Duration**: 3m 12s\n\n\
         deploybot"
    );
}

#[test]
fn the_topic_is_the_channel_without_its_sigil() {
    assert_eq!(message(&json!({"channel": "#ops", "text": "hi"})).0, "ops");
    assert_eq!(message(&json!({"channel": "@ana", "text": "hi"})).0, "ana");
    assert_eq!(message(&json!({"channel": "C024BE7LR", "text": "hi"})).0, "C024BE7LR");
    assert_eq!(message(&json!({"channel": "##x", "text": "hi"})).0, "#x");
    assert_eq!(message(&json!({"text": "hi"})).0, "");
    assert_eq!(message(&json!({"channel": "#", "text": "hi"})).0, "");
}

#[test]
fn emphasis_follows_slack_and_zulip() {
    let cases = [
        ("some *foo* word", "some **foo** word"),
        ("*foo*", "**foo**"),
        ("*foo* *bar*", "**foo** **bar**"),
        ("*foo*a*bar*", "*foo*a*bar*"),
        ("some _foo_ word", "some *foo* word"),
        ("~gone~ and _slanted_ and *bold*.", "~~gone~~ and *slanted* and **bold**."),
        ("*_both_*", "***both***"),
        ("(*in parens*)", "(**in parens**)"),
        ("snake_case_name and 2*3*4", "snake_case_name and 2*3*4"),
        ("* not bold *", "* not bold *"),
        ("*across\nlines*", "*across\nlines*"),
        ("**already markdown**", "**already markdown**"),
        ("a * b * c", "a * b * c"),
        ("_", "_"),
        ("~", "~"),
    ];
    for (mrkdwn, markdown) in cases {
        assert_eq!(to_markdown(mrkdwn, true), markdown, "{mrkdwn}");
    }
}

#[test]
fn code_is_left_alone() {
    assert_eq!(to_markdown("run `make *all*` then *ship*", true), "run `make *all*` then **ship**");
    assert_eq!(to_markdown("```\n*x* _y_\n```\n*z*", true), "```\n*x* _y_\n```\n**z**");
    assert_eq!(to_markdown("a ` lone *tick*", true), "a ` lone **tick**");
    assert_eq!(to_markdown("``a`b`` *c*", true), "``a`b`` **c**");
}

#[test]
fn links_and_mentions_become_markdown() {
    let cases = [
        ("<https://x.io|the site>", "[the site](https://x.io)"),
        ("<https://x.io>", "https://x.io"),
        ("<https://x.io|https://x.io>", "https://x.io"),
        ("<https://x.io/?a=1&amp;b=2|A &amp; B>", "[A & B](https://x.io/?a=1&b=2)"),
        ("<mailto:ops@x.io|ops@x.io>", "[ops@x.io](mailto:ops@x.io)"),
        ("<@U024BE7LH>", "@U024BE7LH"),
        ("<@U024BE7LH|bob>", "@bob"),
        ("<#C024BE7LR|general>", "#general"),
        ("<#C024BE7LR>", "#C024BE7LR"),
        ("<!here> <!channel> <!everyone> <!here|here>", "@here @channel @everyone @here"),
        ("<!subteam^SAZ94GDB8|@oncall>", "@oncall"),
        ("<!date^1392734382^{date_num}|2014-02-18>", "<time:1392734382>"),
        ("a <b> c", "a <b> c"),
        ("1 < 2 > 0", "1 < 2 > 0"),
        ("<https://x.io", "<https://x.io"),
        ("<>", "<>"),
        ("<not a url|x>", "<not a url|x>"),
    ];
    for (mrkdwn, markdown) in cases {
        assert_eq!(to_markdown(mrkdwn, true), markdown, "{mrkdwn}");
    }
}

#[test]
fn escapes_are_undone_once() {
    assert_eq!(to_markdown("a &amp; b &lt;c&gt; &amp;lt; &nbsp;", true), "a & b <c> &lt; &nbsp;");
    // An escaped bracket is text, never a link.
    assert_eq!(to_markdown("&lt;https://x.io|y&gt;", true), "<https://x.io|y>");
}

#[test]
fn emphasis_never_reaches_into_links() {
    assert_eq!(
        to_markdown("*<https://x.io/_a_/b|Graph>* and https://x.io/_next_/data *done*", true),
        "**[Graph](https://x.io/_a_/b)** and https://x.io/_next_/data **done**"
    );
    assert_eq!(to_markdown("see https://x.io/~ana/ ~old~", true), "see https://x.io/~ana/ ~~old~~");
}

#[test]
fn mrkdwn_false_keeps_emphasis_markers() {
    assert_eq!(content(json!({"text": "*a* &amp; <https://x.io|b>", "mrkdwn": false})), "*a* & [b](https://x.io)");
}

#[test]
fn text_shows_unless_blocks_stand_in_for_it() {
    let section = json!({"type": "section", "text": {"type": "mrkdwn", "text": "from *blocks*"}});
    assert_eq!(content(json!({"text": "fallback", "blocks": [section]})), "from **blocks**");
    let button =
        json!({"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Go"}}]});
    assert_eq!(content(json!({"text": "fallback", "blocks": [button]})), "fallback");
    let rich = json!({"type": "rich_text", "elements": []});
    assert_eq!(content(json!({"text": "typed *text*", "blocks": [rich]})), "typed **text**");
    assert_eq!(
        content(json!({"text": "first", "icon_emoji": ":ghost:", "attachments": [{"text": "second"}]})),
        "second"
    );
}

#[test]
fn attachments_render_like_zulips() {
    let attachment = json!({
        "title": "Sample title.", "title_link": "https://www.google.com",
        "pretext": "Sample pretext.", "text": "Sample text.",
        "image_url": "https://example.com/cat.jpg", "footer": "Sample footer.", "ts": 1655945306
    });
    assert_eq!(
        content(json!({"attachments": [attachment]})),
        "## [Sample title.](https://www.google.com)\n\nSample pretext.\n\nSample text.\n\n\
         [](https://example.com/cat.jpg)\n\nSample footer.\n\n<time:1655945306>"
    );
    let fields = json!({"fields": [
        {"title": "Requested by", "value": "Some user"},
        {"title": "Title with null value", "value": null},
        {"title": "Title without value"},
        {"title": null, "value": "Value with null title"},
        {"value": "Value without title"},
        {"title": null, "value": null}
    ], "pretext": "Build bla bla succeeded"});
    assert_eq!(
        content(json!({"attachments": [fields]})),
        "Build bla bla succeeded\n\n**Requested by**: Some user\n**Title with null value**\n**Title without value**\n\
         Value with null title\nValue without title"
    );
}

#[test]
fn attachment_times_take_the_forms_slack_senders_use() {
    let time = |ts: Value| content(json!({"attachments": [{"text": "t", "ts": ts}]}));
    assert_eq!(time(json!("1655945306.000200")), "t\n\n<time:1655945306>");
    assert_eq!(time(json!(951782400)), "t\n\n<time:951782400>");
    assert_eq!(time(json!(0)), "t");
    assert_eq!(time(json!(null)), "t");
    for odd in [json!(1e300), json!("soon"), json!([1])] {
        assert_eq!(malformed(json!({"attachments": [{"text": "t", "ts": odd}]})), "expected a timestamp at ts");
    }
}

#[test]
fn blocks_render_like_zulips() {
    let blocks = json!([
        {"type": "section", "text": {"type": "mrkdwn", "text": "This is a section block with an accessory image."},
         "accessory": {"type": "image", "image_url": "https://example.com/cat.jpg", "alt_text": "cute cat"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "This is a section block with a button."},
         "accessory": {"type": "button", "text": {"type": "plain_text", "text": "Click Me"}, "value": "click_me_123"}},
        {"type": "section", "fields": [
            {"type": "plain_text", "text": "one"}, {"type": "plain_text", "text": "two"},
            {"type": "plain_text", "text": "three"}, {"type": "plain_text", "text": "four"},
            {"type": "mrkdwn", "text": "*five*\n|5|"}
        ]}
    ]);
    assert_eq!(
        content(json!({"attachments": [{"blocks": blocks}]})),
        "This is a section block with an accessory image.\n\n[cute cat](https://example.com/cat.jpg)\n\n\
         This is a section block with a button.\n\n| | |\n|-|-|\n| one | two |\n| three | four |\n| **five**  5  |  |"
    );
}

#[test]
fn nothing_to_show_sends_nothing() {
    let outcome = run(&json!({"attachments": [{"title": null, "text": null, "ts": null}]})).unwrap();
    assert_eq!(outcome, Handled { event: "message".into(), outcome: Outcome::Ignore });
    let outcome = run(&json!({"blocks": [{"type": "actions", "elements": []}]})).unwrap();
    assert_eq!(outcome.outcome, Outcome::Ignore);
}

#[test]
fn long_lists_are_cut() {
    let blocks: Vec<Value> = (0..60).map(|_| json!({"type": "divider"})).collect();
    let text = content(json!({ "blocks": blocks }));
    assert_eq!(text.matches("----").count(), MAX_BLOCKS);
    assert!(text.ends_with("----\n\n[and 10 more]"), "{text}");
    let attachments: Vec<Value> = (0..25).map(|i| json!({ "text": format!("a{i}") })).collect();
    let text = content(json!({ "attachments": attachments }));
    assert!(text.ends_with("a19\n\n[and 5 more]"), "{text}");
    let fields: Vec<Value> = (0..30).map(|i| json!({"title": format!("f{i}"), "value": "v"})).collect();
    let text = content(json!({"attachments": [{ "fields": fields }]}));
    assert!(text.ends_with("**f19**: v\n[and 10 more]"), "{text}");
}

#[test]
fn garbage_is_malformed() {
    assert_eq!(malformed(json!({"text": "x", "channel": null})), "expected text at channel");
    assert_eq!(malformed(json!([1, 2])), "expected a JSON object");
    assert_eq!(malformed(json!("text")), "expected a JSON object");
    assert_eq!(malformed(json!({"text": 5})), "expected text at text");
    assert_eq!(malformed(json!({"text": "x", "channel": ["#a"]})), "expected text at channel");
    assert_eq!(malformed(json!({"blocks": "section"})), "expected a list at /blocks");
    assert_eq!(malformed(json!({"blocks": [7]})), "expected text at /type");
    assert_eq!(malformed(json!({"blocks": [{"type": "header"}]})), "expected text at /type");
    assert_eq!(malformed(json!({"blocks": [{"type": "carousel"}]})), "unknown block type 'carousel'");
    assert_eq!(
        malformed(json!({"blocks": [{"type": "section", "text": {"type": "mrkdwn"}}]})),
        "expected text at /text"
    );
    assert_eq!(malformed(json!({"blocks": [{"type": "section", "fields": {}}]})), "expected a list at /fields");
    assert_eq!(malformed(json!({"attachments": ["x"]})), "expected an attachment object");
    assert_eq!(malformed(json!({"attachments": [{"title": {"a": 1}}]})), "expected text at title");
    assert_eq!(malformed(json!({"attachments": [{"fields": [3]}]})), "expected a field object");
    assert_eq!(malformed(json!({"attachments": [{"fields": [{"value": [1]}]}]})), "expected text at value");
}

#[test]
fn deep_or_odd_values_do_not_panic() {
    let mut nested = json!("x");
    for _ in 0..64 {
        nested = json!({ "type": "section", "text": nested });
    }
    let _ = run(&json!({ "blocks": [nested] }));
    let odd = "<<<>>>&amp&lt;<@|><#|><!|><!^><|>~*_`*_~``~_*\u{0}\u{202e}é́<https://é.io|é>";
    for formatting in [true, false] {
        let _ = to_markdown(odd, formatting);
        let _ = to_markdown(&odd.repeat(50), formatting);
    }
    let _ = content(json!({ "text": odd }));
}

#[test]
fn long_unclosed_markers_stay_fast() {
    let text = "*a _b ~c `d ".repeat(20_000);
    let started = std::time::Instant::now();
    assert_eq!(to_markdown(&text, true), text);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    let ticks: String = (1..400).map(|n| format!("{} x ", "`".repeat(n))).collect();
    assert_eq!(to_markdown(&ticks, true), ticks);
}

#[test]
fn without_text_blocks_or_attachments_nothing_is_sent() {
    for body in [json!({}), json!({"text": null}), json!({"text": "  ", "blocks": [], "attachments": null})] {
        assert_eq!(run(&body).unwrap().outcome, Outcome::Ignore, "{body}");
    }
}

#[test]
fn a_form_without_a_payload_field_is_refused_as_zulip_does() {
    let headers = [("content-type".to_owned(), "application/x-www-form-urlencoded".to_owned())];
    let body = json!({"text": "hi"});
    let handle = |raw: &[u8]| {
        SlackIncoming.handle(&Payload { params: &[], event_type: None, headers: &headers, body: &body, raw })
    };
    assert_eq!(handle(b"text=hi"), Err(IntegrationError::BadRequest("Missing 'payload' argument".into())));
    assert!(handle(b"payload=%7B%22text%22%3A%22hi%22%7D").is_ok());
}

/// Zulip's `test_message_formatting`: the message goes to Zulip's empty topic.
#[test]
fn zulips_message_formatting() {
    for (input, output) in [
        ("some *foo* word", "some **foo** word"),
        ("*foo*", "**foo**"),
        ("*foo* *bar*", "**foo** **bar**"),
        ("*foo*a*bar*", "*foo*a*bar*"),
        ("some _foo_ word", "some *foo* word"),
    ] {
        assert_eq!(message(&json!({ "text": input })), (String::new(), output.to_owned()));
    }
}

#[test]
fn errors_and_successes_carry_slacks_ok_field() {
    assert_eq!(SlackIncoming.success_body(), Some(json!({"ok": true})));
    assert_eq!(
        SlackIncoming.error_fields("Missing 'payload' argument"),
        Some(json!({"ok": false, "error": "Missing 'payload' argument"}))
    );
}
