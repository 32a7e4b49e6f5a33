//! Randomized hostile inputs for property tests that run on stable Rust: a seeded, fast
//! pseudo-random generator mutating a seed corpus (bit flips, truncation, splicing, repeated
//! ranges, deep nesting, dictionary tokens, invalid UTF-8), bounded by iterations and wall time.
//!
//! Budget: by default each run stops after [`DEFAULT_SECONDS`] seconds or
//! [`DEFAULT_ITERATIONS`] inputs, whichever comes first. `HOOKLINE_FUZZ_SECONDS=<n>` runs for
//! `n` seconds with no iteration cap; `HOOKLINE_FUZZ_SEED=<n>` changes the (otherwise fixed,
//! reproducible) seed. The seed is printed so a failing run can be replayed.

use std::time::{Duration, Instant};

/// Wall time of one run unless `HOOKLINE_FUZZ_SECONDS` says otherwise.
pub const DEFAULT_SECONDS: f64 = 5.0;
/// Inputs of one run unless `HOOKLINE_FUZZ_SECONDS` says otherwise.
pub const DEFAULT_ITERATIONS: u64 = 100_000;

/// Byte sequences that are never valid UTF-8, or are edge cases of it.
const AWKWARD_BYTES: [&[u8]; 8] = [
    b"\xff",
    b"\xc0\x80",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    b"\xe2\x82",
    b"\x00",
    b"\xef\xbb\xbf",
    "\u{202e}".as_bytes(),
];

/// Generates mutated inputs from a seed corpus until its budget is spent.
pub struct Fuzzer {
    state: u64,
    seed: u64,
    deadline: Instant,
    max_iterations: u64,
    iterations: u64,
    dictionary: Vec<Vec<u8>>,
}

impl Fuzzer {
    /// A fuzzer named `name` (which varies the default seed) with its budget from the environment.
    #[must_use]
    pub fn from_env(name: &str) -> Self {
        let (seconds, max_iterations) = match std::env::var("HOOKLINE_FUZZ_SECONDS").ok().and_then(|s| s.parse().ok()) {
            Some(seconds) => (seconds, u64::MAX),
            None => (DEFAULT_SECONDS, DEFAULT_ITERATIONS),
        };
        let base = std::env::var("HOOKLINE_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5eed);
        let seed = name.bytes().fold(base, |h: u64, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
        println!("fuzz {name}: seed {seed}, {seconds} s, at most {max_iterations} inputs");
        Self::new(seed, Duration::from_secs_f64(seconds), max_iterations)
    }

    /// A fuzzer with an explicit seed and budget.
    #[must_use]
    pub fn new(seed: u64, time: Duration, max_iterations: u64) -> Self {
        Self {
            state: seed,
            seed,
            deadline: Instant::now() + time,
            max_iterations,
            iterations: 0,
            dictionary: Vec::new(),
        }
    }

    /// Tokens worth inserting whole (delimiters, keywords of the format under test).
    #[must_use]
    pub fn with_dictionary(mut self, tokens: &[&str]) -> Self {
        self.dictionary.extend(tokens.iter().map(|t| t.as_bytes().to_vec()));
        self
    }

    /// The seed this run started from.
    #[must_use]
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// How many inputs were handed out.
    #[must_use]
    pub fn iterations(&self) -> u64 {
        self.iterations
    }

    /// The next input, mutated from one of `corpus`; `None` once the budget is spent.
    pub fn next_input(&mut self, corpus: &[Vec<u8>]) -> Option<Vec<u8>> {
        if self.iterations >= self.max_iterations
            || (self.iterations.is_multiple_of(16) && Instant::now() >= self.deadline)
        {
            return None;
        }
        self.iterations += 1;
        let mut input = if corpus.is_empty() { Vec::new() } else { corpus[self.below(corpus.len())].clone() };
        for _ in 0..=self.below(4) {
            self.mutate(&mut input, corpus);
        }
        Some(input)
    }

    /// A uniformly random number below `n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        // The modulo bias is irrelevant here.
        usize::try_from(self.next_u64() % n as u64).unwrap_or(0)
    }

    /// splitmix64.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn mutate(&mut self, input: &mut Vec<u8>, corpus: &[Vec<u8>]) {
        let at = self.below(input.len() + 1);
        match self.below(9) {
            0 if !input.is_empty() => {
                let i = self.below(input.len());
                input[i] ^= 1 << self.below(8);
            }
            1 if !input.is_empty() => {
                let i = self.below(input.len());
                input[i] = self.next_u64().to_le_bytes()[0];
            }
            2 => input.truncate(at),
            3 if !input.is_empty() => {
                let end = (at + 1 + self.below(64)).min(input.len());
                input.drain(at.min(end)..end);
            }
            4 if !corpus.is_empty() => {
                // Splice: this input's head with another's tail
                let other = &corpus[self.below(corpus.len())];
                let from = self.below(other.len() + 1);
                input.truncate(at);
                input.extend_from_slice(&other[from..]);
            }
            5 if !input.is_empty() => {
                // Repeat a short range many times
                let end = (at + 1 + self.below(8)).min(input.len());
                let start = at.min(end.saturating_sub(1));
                let piece = input[start..end].to_vec();
                let times = 1 + self.below(2_000);
                let repeated: Vec<u8> = piece.iter().copied().cycle().take(piece.len() * times).collect();
                input.splice(at..at, repeated);
            }
            6 => {
                let opener: &[u8] = [&b"["[..], b"{\"a\":", b">", b"*", b"[x](", b"> * ", b"`", b"@**"][self.below(8)];
                let depth = [10, 1_000, 10_000, 100_000][self.below(4)];
                input.splice(at..at, opener.repeat(depth));
            }
            7 if !self.dictionary.is_empty() => {
                let pick = self.below(self.dictionary.len());
                let token = self.dictionary[pick].clone();
                input.splice(at..at, token);
            }
            _ => {
                let bytes = AWKWARD_BYTES[self.below(AWKWARD_BYTES.len())];
                input.splice(at..at, bytes.iter().copied());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_inputs_and_the_budget_ends_the_run() {
        let corpus = vec![b"{\"a\": [1, 2]}".to_vec(), b"x=1&y=2".to_vec()];
        let run = |seed| {
            let mut fuzzer = Fuzzer::new(seed, Duration::from_secs(60), 50).with_dictionary(&["@**"]);
            std::iter::from_fn(|| fuzzer.next_input(&corpus)).collect::<Vec<_>>()
        };
        let first = run(7);
        assert_eq!(first.len(), 50);
        assert_eq!(first, run(7));
        assert_ne!(first, run(8));
        assert!(first.iter().any(|input| std::str::from_utf8(input).is_err()), "some inputs are not UTF-8");
        let mut timed_out = Fuzzer::new(1, Duration::ZERO, u64::MAX);
        assert_eq!(timed_out.next_input(&corpus), None);
    }
}
