//! Micro-benchmarks of the pure functions every message and delivery goes through: mention
//! scanning, trigger matching, the payload a bot receives and its signature. They run in this
//! process under criterion, which writes its estimates to a directory of its own; the table
//! shows each benchmark's median time per call, read back from those estimates.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::Criterion;
use hookline_delivery::payload::{self, PayloadInput};
use hookline_delivery::signing::signature_header;
use hookline_messaging::directory::Directory;
use hookline_messaging::format::message_json;
use hookline_messaging::mentions;
use hookline_messaging::triggers::triggered_bots;
use hookline_model::credentials::ApiKeyHash;
use hookline_model::{
    BotService, BotType, Interface, Message, Realm, Recipient, Role, SigningSecrets, Stream, Trigger, Triggers, User,
    UserId,
};

use crate::Scale;
use crate::report::{Table, whole};

/// One measured function call: what criterion names it (also its directory under the output
/// directory) and what the table says about its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Benchmark {
    pub name: &'static str,
    pub input: String,
    /// The bytes one call processes, when a rate in MiB/s says something.
    pub bytes: Option<usize>,
}

/// Runs every micro-benchmark and reports their medians in one table.
///
/// # Errors
/// When the inputs do not exercise the path they are meant to, criterion fails, or its
/// estimates cannot be read.
pub async fn run(scale: &Scale) -> Result<Vec<Table>, String> {
    let scale = *scale;
    tokio::task::spawn_blocking(move || measure(scale))
        .await
        .map_err(|e| format!("micro-benchmarks: the measuring thread failed: {e}"))?
}

/// Measures in a fresh output directory, reads the medians, and removes the directory.
fn measure(scale: Scale) -> Result<Vec<Table>, String> {
    let output = std::env::temp_dir().join(format!("hookline-bench-micro-{}", std::process::id()));
    remove_dir(&output)?;
    let mut criterion = configured(scale, &output);
    let measured = register(&mut criterion).and_then(|benchmarks| {
        let medians = benchmarks.iter().map(|b| median_ns(&output, b.name)).collect::<Result<Vec<_>, _>>()?;
        Ok(vec![table(scale, &benchmarks, &medians)])
    });
    remove_dir(&output)?;
    measured
}

/// Criterion set up for this run: no plots, its files in `output`, and as short as it allows
/// when tiny (10 samples, a few milliseconds of warm-up and measurement).
fn configured(scale: Scale, output: &Path) -> Criterion {
    let criterion = Criterion::default().without_plots().with_output_color(false).output_directory(output);
    if scale.tiny {
        criterion
            .sample_size(10)
            .warm_up_time(Duration::from_millis(5))
            .measurement_time(Duration::from_millis(10))
            .nresamples(TINY_RESAMPLES)
    } else {
        criterion.warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3))
    }
}

/// Bootstrap resamples of a tiny run: the default 100,000 take most of a tiny run's time in an
/// unoptimized build, and a tiny run's figures only have to exist.
const TINY_RESAMPLES: usize = 2_000;

/// Removes a directory left by an earlier run, if there is one.
fn remove_dir(path: &Path) -> Result<(), String> {
    match std::fs::remove_dir_all(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(format!("{}: {e}", path.display())),
        _ => Ok(()),
    }
}

/// Criterion's median time of one call of benchmark `name`, in nanoseconds, from the estimates
/// it wrote for this run.
fn median_ns(output: &Path, name: &str) -> Result<f64, String> {
    let path: PathBuf = output.join(name).join("new").join("estimates.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let estimates: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", path.display()))?;
    estimates["median"]["point_estimate"]
        .as_f64()
        .ok_or_else(|| format!("{}: no median.point_estimate", path.display()))
}

fn table(scale: Scale, benchmarks: &[Benchmark], medians: &[f64]) -> Table {
    let note = format!(
        "Criterion's median time per call over {} samples after {} of warm-up, in this process; \
         calls/s is its inverse, MiB/s the bytes one call processes over that time. \
         `--repeats` does not apply: criterion repeats each call itself.",
        scale.pick(100, 10),
        scale.pick("1 s", "5 ms"),
    );
    let mut table = Table::new("Micro-benchmarks", note, &["benchmark", "input", "median (µs)", "calls/s", "MiB/s"]);
    for (benchmark, &ns) in benchmarks.iter().zip(medians) {
        let seconds = ns / 1e9;
        let rate = benchmark
            .bytes
            .map_or_else(|| "–".to_owned(), |bytes| format!("{:.0}", bytes as f64 / seconds / (1024.0 * 1024.0)));
        table.row(vec![
            format!("`{}`", benchmark.name),
            benchmark.input.clone(),
            micros(ns),
            whole(1.0 / seconds),
            rate,
        ]);
    }
    table
}

/// Nanoseconds as microseconds with three significant digits (at least three decimals below
/// one microsecond, so a fast call never shows as zero).
fn micros(ns: f64) -> String {
    let us = ns / 1000.0;
    if us < 1.0 { format!("{us:.3}") } else { crate::report::ms(us) }
}

/// Registers (and so runs) every benchmark with `criterion`, in the table's order; used by the
/// `micro` scenario and by `cargo bench`.
///
/// # Errors
/// When an input does not take the path it is meant to measure (a message that triggers no
/// bot, a payload that does not build).
pub fn register(criterion: &mut Criterion) -> Result<Vec<Benchmark>, String> {
    let mut suite = Suite { criterion, benchmarks: Vec::new() };
    let long = long_message();
    let small = BenchRealm::new(50);
    suite.mentions(&long);
    suite.triggers(&small, &BenchRealm::new(2_000), &long)?;
    suite.payloads(&small)?;
    suite.signing();
    Ok(suite.benchmarks)
}

/// The benchmarks registered so far, with the criterion that runs them.
struct Suite<'a> {
    criterion: &'a mut Criterion,
    benchmarks: Vec<Benchmark>,
}

impl Suite<'_> {
    /// Measures `routine` as benchmark `name` (its result is kept from the optimizer).
    fn measure<O>(&mut self, name: &'static str, input: String, bytes: Option<usize>, mut routine: impl FnMut() -> O) {
        self.criterion.bench_function(name, |bencher| bencher.iter(&mut routine));
        self.benchmarks.push(Benchmark { name, input, bytes });
    }

    /// Mention scanning of a short and a long message.
    fn mentions(&mut self, long: &str) {
        self.measure("mentions-short", describe("short", SHORT), Some(SHORT.len()), || {
            mentions::scan(black_box(SHORT))
        });
        self.measure("mentions-long", describe("long", long), Some(long.len()), || mentions::scan(black_box(long)));
    }

    /// Trigger matching of a stream message (mention scanning, name resolution, the services'
    /// rules) in a small and, for the long message, a large realm.
    fn triggers(&mut self, small: &BenchRealm, large: &BenchRealm, long: &str) -> Result<(), String> {
        for (name, realm, kind, content) in [
            ("triggers-short-50-users", small, "short", SHORT),
            ("triggers-long-50-users", small, "long", long),
            ("triggers-long-2000-users", large, "long", long),
        ] {
            let message = realm.stream_message(content);
            let fired = realm.triggered(&message);
            if fired.is_empty() {
                return Err(format!("micro-benchmarks: {name}: the message triggers no bot"));
            }
            let input = format!(
                "{kind} message, realm of {} people and {} bots; {} fire",
                whole(realm.people as f64),
                realm.directory.services.len(),
                fired.len()
            );
            self.measure(name, input, None, || realm.triggered(black_box(&message)));
        }
        Ok(())
    }

    /// What the worker does before it sends: the message as the API shows it (which renders
    /// it), then the body in each interface's format.
    fn payloads(&mut self, realm: &BenchRealm) -> Result<(), String> {
        let message = realm.stream_message(SHORT);
        self.measure("message-json-short", "short message: render + API JSON".to_owned(), None, || {
            message_json(black_box(&message), &realm.directory, false)
        });
        let shown = message_json(&message, &realm.directory, false);
        for (name, interface) in [("payload-zulip-short", Interface::Zulip), ("payload-slack-short", Interface::Slack)]
        {
            let (bot, service) = realm.deploy_bot(interface)?;
            let input = PayloadInput {
                message: &message,
                message_json: &shown,
                realm: &realm.directory.realm,
                bot,
                service: &service,
                trigger: Trigger::Mention,
            };
            let body = payload::build(&input).map_err(|e| format!("micro-benchmarks: {name}: {e}"))?;
            let what = format!("short message, {} body of {} B", body.content_type, whole(body.bytes.len() as f64));
            self.measure(name, what, None, || payload::build(black_box(&input)));
        }
        Ok(())
    }

    /// The `webhook-signature` header of a small and a large body.
    fn signing(&mut self) {
        for (name, size) in [("signing-1-KiB", 1024), ("signing-64-KiB", 64 * 1024)] {
            let body = body_of(size);
            let input = format!("HMAC-SHA256 of a {} KiB body, one secret", size / 1024);
            self.measure(name, input, Some(size), || {
                signature_header(&[SECRET], "msg_2Qx0v8CkXb3yFq7n", 1_764_700_000, black_box(&body))
            });
        }
    }
}

/// A typical bot command: one line, one mention, a code span and a link.
const SHORT: &str =
    "@**Deploy Bot** deploy `api` to staging, please: build https://ci.acme.example.com/builds/4711 is green.";

/// The secret bots are signed for: `whsec_` and 32 bytes in base64, as Hookline makes them.
const SECRET: &str = "whsec_BwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSY=";

/// A long status post (about 4 KiB): ten sections, each with mentions of people and a bot, a
/// silent one, a wildcard, one by name and id, one in a quote, and mentions inside a code span
/// and a fenced code block that do not count.
fn long_message() -> String {
    (0..10_u64)
        .map(|week| {
            let (a, b, c, d) = (week * 4 + 2, week * 4 + 3, week * 4 + 4, week * 4 + 5);
            format!(
                "### Week {week}\n\n\
                 @**Person {a}** shipped the parser that skips `@**Person {b}**` in code spans, and \
                 @_**Person {b}** reviewed it. Numbers below.\n\n\
                 ```rust\nfn notify() {{\n    // @**Deploy Bot** is not mentioned in here\n    send(\"@**all**\");\n}}\n```\n\n\
                 > @**Person {c}** wrote: looks good, see [build {week}](https://ci.acme.example.com/builds/{week})\n\n\
                 - @**Deploy Bot** deploy `api` to staging\n\
                 - cc @**all** and @**Person {d}|{d}**\n\n"
            )
        })
        .collect()
}

/// What a `kind` message is, for the table: its size, its mentions and its code blocks.
fn describe(kind: &str, content: &str) -> String {
    let fences = content.matches("```").count() / 2;
    let mentions = mentions::scan(content).len();
    format!(
        "{kind} message, {} B, {mentions} mention{}, {fences} code block{}",
        whole(content.len() as f64),
        plural(mentions),
        plural(fences)
    )
}

/// The ending of a count's noun.
fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

/// A body of `size` bytes that looks like JSON text (HMAC costs the same for any bytes).
fn body_of(size: usize) -> Vec<u8> {
    br#"{"data":"@**Deploy Bot** deploy","token":"tok","trigger":"mention"},"#.iter().copied().cycle().take(size).collect()
}

/// A realm for trigger matching: people named `Person <id>` (ids from 1) and four outgoing bots
/// (Deploy Bot by mention, Echo watching the stream, Weather by trigger word, Standup in Slack's
/// format), with their services; the messages go to its stream 3.
struct BenchRealm {
    directory: Directory,
    people: u64,
}

/// Where the bots' ids start, above every person's.
const FIRST_BOT: UserId = 100_000;
/// The stream the benchmark messages go to; Echo watches it.
const STREAM: u64 = 3;

impl BenchRealm {
    fn new(people: u64) -> Self {
        let realm = Realm {
            id: 1,
            string_id: "acme".into(),
            name: "Acme".into(),
            host: "acme.example.com".into(),
            public_url: "https://acme.example.com".into(),
            created_at: 0,
            directory_version: 1,
        };
        let mut users: Vec<User> = (1..=people).map(|id| user(id, &format!("Person {id}"), None)).collect();
        let bots = [
            ("Deploy Bot", Interface::Zulip, Triggers::default()),
            ("Echo", Interface::Zulip, Triggers { all_messages_in: vec![STREAM], trigger_words: vec![] }),
            ("Weather", Interface::Zulip, Triggers { all_messages_in: vec![], trigger_words: vec!["!weather".into()] }),
            ("Standup", Interface::Slack, Triggers::default()),
        ];
        let mut services = Vec::new();
        for (offset, (name, interface, triggers)) in (0..).zip(bots) {
            let id = FIRST_BOT + offset;
            users.push(user(id, name, Some(BotType::OutgoingWebhook)));
            services.push(service(id, interface, triggers));
        }
        let streams = vec![Stream {
            realm_id: 1,
            id: STREAM,
            name: "engineering".into(),
            description: "Builds, deploys and the weekly status".into(),
            created_at: 0,
        }];
        Self { directory: Directory { realm, users, services, streams }, people }
    }

    /// A message from Person 1 to the stream.
    fn stream_message(&self, content: &str) -> Message {
        Message {
            realm_id: 1,
            id: 4_242,
            sender_id: 1,
            sender_email: "u1@acme.example.com".into(),
            sender_full_name: "Person 1".into(),
            sender_is_bot: false,
            recipient: Recipient::Stream {
                stream_id: STREAM,
                stream_name: "engineering".into(),
                topic: "weekly status".into(),
            },
            content: content.to_owned(),
            timestamp: 1_764_700_000_123,
            client: "website".into(),
            reactions: Vec::new(),
            last_edit_timestamp: None,
            revision: 0,
        }
    }

    /// The bots `message` triggers, as the send path computes them.
    fn triggered(&self, message: &Message) -> Vec<(UserId, Trigger)> {
        match self.directory.user(message.sender_id) {
            Some(sender) => triggered_bots(&self.directory, sender, &message.recipient, &message.content),
            None => Vec::new(),
        }
    }

    /// Deploy Bot, with its service in `interface`'s format.
    fn deploy_bot(&self, interface: Interface) -> Result<(&User, BotService), String> {
        let bot = self.directory.user(FIRST_BOT).ok_or("micro-benchmarks: the realm has no Deploy Bot")?;
        Ok((bot, service(FIRST_BOT, interface, Triggers::default())))
    }
}

fn user(id: UserId, name: &str, bot_type: Option<BotType>) -> User {
    User {
        realm_id: 1,
        id,
        email: format!("u{id}@acme.example.com"),
        full_name: name.to_owned(),
        role: Role::Member,
        bot_type,
        bot_owner_id: bot_type.map(|_| 1),
        is_active: true,
        api_key_hash: ApiKeyHash::of(&format!("key-{id}")),
        created_at: 0,
    }
}

fn service(bot_id: UserId, interface: Interface, triggers: Triggers) -> BotService {
    BotService {
        realm_id: 1,
        bot_id,
        base_url: "https://bots.acme.example.com/hook".into(),
        interface,
        token: "b9f2c1d4e5a6".into(),
        signing: SigningSecrets { current: SECRET.into(), previous: None, previous_expires_at: None },
        webhook_secret: None,
        triggers,
        is_active: true,
        deactivated_reason: None,
        failing_since: None,
        last_owner_notice_at: None,
        retry_schedule: None,
        updated_at: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_long_message_has_many_mentions_some_in_code() {
        let long = long_message();
        assert!((3_000..6_000).contains(&long.len()), "{}", long.len());
        assert_eq!(mentions::scan(&long).len(), 60);
        assert_eq!(long.matches("```").count(), 20);
    }

    #[test]
    fn the_benchmark_messages_trigger_the_bots_they_should() {
        let realm = BenchRealm::new(50);
        let fired = realm.triggered(&realm.stream_message(SHORT));
        assert_eq!(fired, vec![(FIRST_BOT, Trigger::Mention), (FIRST_BOT + 1, Trigger::StreamMessage)]);
    }

    #[test]
    fn microseconds_keep_three_significant_digits() {
        assert_eq!(micros(412.0), "0.412");
        assert_eq!(micros(1_234.0), "1.23");
        assert_eq!(micros(12_345.0), "12.3");
        assert_eq!(micros(1_234_567.0), "1235");
    }
}
