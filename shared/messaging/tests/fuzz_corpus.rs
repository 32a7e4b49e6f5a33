//! Runs the fuzzer's checks over its committed corpus on stable Rust, so every input the fuzzer
//! kept stays covered by the ordinary test suite.

#[path = "../fuzz/src/lib.rs"]
mod fuzz_checks;

use std::fs;
use std::path::Path;

#[test]
fn every_input_in_the_fuzz_corpus_passes_the_fuzz_checks() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/mentions");
    let mut checked = 0;
    for entry in fs::read_dir(&corpus).expect("the fuzz corpus directory exists") {
        let path = entry.expect("corpus entries are readable").path();
        let bytes = fs::read(&path).expect("corpus files are readable");
        // Printed only when a check fails, to name the input.
        println!("checking {}", path.display());
        fuzz_checks::check(&String::from_utf8_lossy(&bytes));
        checked += 1;
    }
    assert!(checked > 0, "the fuzz corpus is empty");
}
