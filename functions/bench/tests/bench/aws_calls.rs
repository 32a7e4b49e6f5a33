//! `hookline-bench --tiny aws-calls` against DynamoDB Local and moto (`scripts/aws-local run`
//! exports their endpoints). Without them the case fails when `HOOKLINE_REQUIRE_AWS_LOCAL=1`
//! (as `scripts/test` runs it) and is skipped otherwise.

use std::process::Command;

const ENDPOINTS: [&str; 2] = ["HOOKLINE_TEST_DYNAMODB_ENDPOINT", "HOOKLINE_TEST_SQS_ENDPOINT"];

/// Whether the stand-ins are there; panics when they are required and missing.
fn stand_ins_present() -> bool {
    let missing: Vec<&str> = ENDPOINTS.iter().copied().filter(|var| std::env::var(var).is_err()).collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        std::env::var("HOOKLINE_REQUIRE_AWS_LOCAL").as_deref() != Ok("1"),
        "{missing:?} not set but HOOKLINE_REQUIRE_AWS_LOCAL=1: run under scripts/aws-local run (scripts/test does)"
    );
    eprintln!("skipped: {missing:?} not set (run under scripts/aws-local run)");
    false
}

/// The cells of the table's row for `bots`, by column name.
fn row<'a>(report: &'a str, bots: &str) -> Vec<(&'a str, &'a str)> {
    let mut lines = report.lines().skip_while(|line| !line.starts_with("### AWS calls per message"));
    let header =
        lines.find(|line| line.starts_with("| bots mentioned")).unwrap_or_else(|| panic!("no table in:\n{report}"));
    let cells = |line: &'a str| -> Vec<&'a str> { line.trim_matches('|').split('|').map(str::trim).collect() };
    let columns = cells(header);
    let line = lines
        .find(|line| cells(line).first() == Some(&bots))
        .unwrap_or_else(|| panic!("no row for {bots} bots in:\n{report}"));
    let values = cells(line);
    assert_eq!(values.len(), columns.len(), "row of the wrong width: {line}");
    columns.into_iter().zip(values).collect()
}

fn cell<'a>(row: &[(&str, &'a str)], column: &str) -> &'a str {
    row.iter()
        .find(|(name, _)| *name == column)
        .map(|(_, value)| *value)
        .unwrap_or_else(|| panic!("no column {column}"))
}

/// The median a cell starts with ("7" or "7 (7–8)").
fn number(row: &[(&str, &str)], column: &str) -> f64 {
    let text = cell(row, column);
    text.split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{column}: not a number: {text}"))
}

#[test]
fn aws_calls_are_counted_per_send_and_per_delivery() {
    if !stand_ins_present() {
        return;
    }
    let output = Command::new(env!("CARGO_BIN_EXE_hookline-bench"))
        .args(["--tiny", "aws-calls"])
        .output()
        .expect("run hookline-bench");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "hookline-bench failed:\n{report}\n{}", String::from_utf8_lossy(&output.stderr));

    let none = row(&report, "0");
    let one = row(&report, "1");
    // Every send authenticates and commits through DynamoDB; without bots it needs no SQS.
    assert!(number(&none, "per send: DynamoDB") >= 1.0, "{none:?}");
    assert_eq!(number(&none, "per send: SQS"), 0.0, "{none:?}");
    assert!(cell(&none, "per send: by operation").contains("TransactWriteItems"), "{none:?}");
    assert_eq!(cell(&none, "per delivery (worker): calls"), "–", "{none:?}");
    // A bot's job goes to SQS with the send; its delivery reads and writes DynamoDB.
    assert!(number(&one, "per send: SQS") >= 1.0, "{one:?}");
    assert!(cell(&one, "per send: by operation").contains("SendMessageBatch"), "{one:?}");
    assert_eq!(
        number(&one, "per send: calls"),
        number(&one, "per send: DynamoDB") + number(&one, "per send: SQS"),
        "{one:?}"
    );
    assert!(number(&one, "per delivery (worker): calls") >= 1.0, "{one:?}");
    // The event source received the job and deleted it; the worker itself does neither.
    assert!(number(&one, "SQS poller per message: calls") >= 2.0, "{one:?}");
    assert!(cell(&one, "SQS poller: by operation").contains("ReceiveMessage"), "{one:?}");
    assert!(!cell(&one, "per delivery: by operation").contains("ReceiveMessage"), "{one:?}");
}
