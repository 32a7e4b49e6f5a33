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

/// The fuzzer's checks on stable Rust: the corpus mutated at random (invalid UTF-8 decoded as
/// the edge does, deep `>`/`*`/`[` nesting, mention syntax spliced in) for a bounded time.
#[test]
fn randomized_mutations_of_the_corpus_pass_the_fuzz_checks() {
    let corpus_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/mentions");
    let mut corpus: Vec<Vec<u8>> =
        fs::read_dir(&corpus_dir).unwrap().map(|entry| fs::read(entry.unwrap().path()).unwrap()).collect();
    corpus.push("@**Ada|12** and @_**Bob** in > quote *em* [l](https://x) `c` ```\ncode\n```".into());
    let mut fuzzer = hookline_model::fuzzing::Fuzzer::from_env("mentions").with_dictionary(&[
        "@**",
        "@_**",
        "**",
        "|",
        "@*",
        "*",
        "`",
        "```\n",
        "> ",
        "\n",
        "[",
        "](",
        ")",
        "javascript:",
        "<script>",
        "&lt;",
        "<",
        "\"",
        "![i](",
        "~~",
        "# ",
    ]);
    while let Some(input) = fuzzer.next_input(&corpus) {
        let text = String::from_utf8_lossy(&input);
        if let Err(panic) = std::panic::catch_unwind(|| fuzz_checks::check(&text)) {
            panic!(
                "seed {}: the checks failed on {:?}: {panic:?}",
                fuzzer.seed(),
                text.chars().take(300).collect::<String>()
            );
        }
    }
    assert!(fuzzer.iterations() > 0);
    println!("{} inputs checked", fuzzer.iterations());
}
