//! `hookline-bench --tiny cold-start` over the workspace's debug binaries (`scripts/test`
//! builds them with `cargo build --workspace --bins` before it runs the tests): one row per
//! Lambda function, with figures that are positive numbers, an init no later than the first
//! answer and a fastest init no later than the median.

use std::path::Path;

use crate::support::{number, run_tiny, table};

/// The functions the table must have a row for, as it names them.
const FUNCTIONS: [&str; 5] = ["messages", "management", "incoming (github)", "outgoing-worker", "outbox-sweep"];

#[test]
fn every_function_starts_and_answers() {
    // The functions' binaries are built next to this one, in the same target directory.
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_hookline-bench")).parent().expect("the bench binary's directory");
    let bin_dir = bin_dir.to_str().expect("a UTF-8 target directory");
    let output = run_tiny(&["cold-start", "--bin-dir", bin_dir]);

    let rows = table(&output, "Cold start, per Lambda function");
    let names: Vec<&str> = rows.iter().map(|row| row["function"].as_str()).collect();
    assert_eq!(names, FUNCTIONS, "{output}");
    for row in &rows {
        let positive = |column: &str| {
            let value = number(&row[column]);
            assert!(value > 0.0 && value.is_finite(), "{}: {column} is {value}", row["function"]);
            value
        };
        let (init, answer) = (positive("init ms"), positive("first answer ms"));
        assert!(init <= answer, "{}: init {init} ms after its first answer {answer} ms", row["function"]);
        let fastest = positive("fastest init ms");
        assert!(fastest <= init, "{}: the fastest init {fastest} ms is above the median {init} ms", row["function"]);
        positive("peak RSS MiB");
        positive("binary MiB");
    }
}
