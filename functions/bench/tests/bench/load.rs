//! Scenarios 1–4 at a tiny size: every accepted message delivered once, figures that make sense.

use crate::support::{number, run_tiny, table};

#[test]
fn closed_loops_deliver_every_message_once_in_memory_and_with_a_data_dir() {
    let output = run_tiny(&["load"]);
    let rows = table(&output, "1. Closed loop");
    assert_eq!(rows.len(), 6, "two sizes and a replying bot, for each state: {rows:?}");
    for row in &rows {
        assert_eq!(
            (row["lost"].as_str(), row["doubled"].as_str(), row["refused"].as_str()),
            ("0", "0", "0"),
            "{row:?}"
        );
        assert!(number(&row["delivered/s"]) > 0.0, "{row:?}");
        let (p50, p99) = (number(&row["p50 ms"]), number(&row["p99 ms"]));
        assert!(p50 > 0.0 && p50 <= p99, "{row:?}");
        assert!(number(&row["CPU ms/delivery"]) > 0.0 && number(&row["peak RSS MiB"]) > 1.0, "{row:?}");
    }
    // A message, its outbox entry cleared, its delivery begun and its attempt recorded: the
    // journal holds at least a write per step, and a replying bot's answer is one more.
    let writes = |state: &str, bot: &str| {
        let row = rows.iter().find(|r| r["state"] == state && r["bot"] == bot && r["senders"] == "8").unwrap();
        number(&row["store writes/msg"])
    };
    assert!(writes("`--data-dir`", "no reply") >= 3.0);
    assert!(writes("`--data-dir`", "replies") > writes("`--data-dir`", "no reply"));
}

#[test]
fn an_open_loop_and_a_burst_are_measured() {
    let open = run_tiny(&["open-loop"]);
    for row in table(&open, "2. Open loop") {
        assert_eq!(row["lost"], "0", "{row:?}");
        assert_eq!(number(&row["messages"]), 20.0, "20 a second for a second: {row:?}");
        assert!(number(&row["p50 ms"]) > 0.0);
    }
    let burst = run_tiny(&["burst"]);
    for row in table(&burst, "3. 10 mentions at once") {
        // The bot takes 200 ms for each; at once they take about that, one at a time ten times.
        assert!(number(&row["all delivered ms"]) >= 200.0, "{row:?}");
        assert!(number(&row["one at a time, per job ms"]) >= 200.0, "{row:?}");
        assert!(number(&row["ratio"]) > 1.0, "{row:?}");
    }
}

#[test]
fn all_runs_every_scenario_once() {
    // `all` needs DynamoDB Local and moto for its AWS-calls part: the test command has them.
    if std::env::var("HOOKLINE_TEST_DYNAMODB_ENDPOINT").is_err() {
        assert_ne!(
            std::env::var("HOOKLINE_REQUIRE_AWS_LOCAL").as_deref(),
            Ok("1"),
            "HOOKLINE_TEST_DYNAMODB_ENDPOINT not set but HOOKLINE_REQUIRE_AWS_LOCAL=1: run under scripts/aws-local run"
        );
        eprintln!("skipped: run under scripts/aws-local run");
        return;
    }
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_hookline-bench")).parent().expect("the binary's directory");
    let output = run_tiny(&["all", "--bin-dir", bin_dir.to_str().expect("a UTF-8 path")]);
    for title in [
        "1. Closed loop",
        "2. Open loop",
        "3. 10 mentions at once",
        "AWS calls per message",
        "Cold start, per Lambda function",
        "Micro-benchmarks",
    ] {
        assert!(!table(&output, title).is_empty(), "{title}: no rows");
    }
}
