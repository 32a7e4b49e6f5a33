//! `hookline-bench --tiny micro`: every micro-benchmark runs and reports a positive median.

use std::process::Command;

/// Every benchmark the scenario registers, in the table's order.
const BENCHMARKS: [&str; 10] = [
    "mentions-short",
    "mentions-long",
    "triggers-short-50-users",
    "triggers-long-50-users",
    "triggers-long-2000-users",
    "message-json-short",
    "payload-zulip-short",
    "payload-slack-short",
    "signing-1-KiB",
    "signing-64-KiB",
];

/// The cells of the Micro-benchmarks table's rows (header and rule left out).
fn rows(report: &str) -> Vec<Vec<String>> {
    let table = report.split("### Micro-benchmarks").nth(1).unwrap_or_else(|| panic!("no table in:\n{report}"));
    table
        .lines()
        .skip_while(|line| !line.starts_with('|'))
        .take_while(|line| line.starts_with('|'))
        .skip(2)
        .map(|line| line.trim_matches('|').split(" | ").map(|cell| cell.trim().to_owned()).collect())
        .collect()
}

#[test]
fn every_micro_benchmark_reports_a_positive_median() {
    let output = Command::new(env!("CARGO_BIN_EXE_hookline-bench"))
        .args(["--tiny", "micro"])
        .output()
        .expect("hookline-bench starts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "hookline-bench failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));

    let rows = rows(&stdout);
    let names: Vec<&str> = rows.iter().map(|row| row[0].trim_matches('`')).collect();
    assert_eq!(names, BENCHMARKS, "one row per benchmark, in order");
    for row in &rows {
        assert_eq!(row.len(), 5, "{row:?}");
        let median: f64 = row[2].parse().unwrap_or_else(|_| panic!("median of {row:?} is not a number"));
        assert!(median > 0.0, "{row:?}");
        let calls: f64 = row[3].replace(',', "").parse().unwrap_or_else(|_| panic!("calls/s of {row:?}"));
        assert!(calls > 0.0, "{row:?}");
    }
    for signing in rows.iter().filter(|row| row[0].contains("signing")) {
        let rate: f64 = signing[4].parse().unwrap_or_else(|_| panic!("MiB/s of {signing:?}"));
        assert!(rate > 0.0, "{signing:?}");
    }
}
