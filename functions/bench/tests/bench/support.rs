//! Running `hookline-bench` and reading the tables it prints.

use std::process::Command;

/// Runs `hookline-bench --tiny <args>` and returns what it printed; panics with its stderr if
/// it failed.
pub fn run_tiny(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_hookline-bench"))
        .arg("--tiny")
        .args(args)
        .output()
        .expect("hookline-bench runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "hookline-bench {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The rows of the table titled `title` (starting with it), each a map of column → cell.
pub fn table(output: &str, title: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    let start = output.find(&format!("### {title}")).unwrap_or_else(|| panic!("no table {title:?} in:\n{output}"));
    let lines: Vec<&str> = output[start..]
        .lines()
        .skip(1)
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .collect();
    let cells = |line: &str| line.trim_matches('|').split('|').map(|c| c.trim().to_owned()).collect::<Vec<_>>();
    let columns = cells(lines[0]);
    lines[2..].iter().map(|line| columns.iter().cloned().zip(cells(line)).collect()).collect()
}

/// A cell as a number (thousands separators allowed).
pub fn number(cell: &str) -> f64 {
    cell.trim_end_matches('×').replace(',', "").parse().unwrap_or_else(|_| panic!("not a number: {cell:?}"))
}
