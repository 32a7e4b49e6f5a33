//! `hookline-bench`: the benchmark command. Each scenario starts what it measures itself (the
//! local stack in a process of its own, a receiver for the bots' POSTs) and reports Markdown
//! tables, the medians of repeated runs.

pub mod api;
pub mod aws_calls;
pub mod cold_start;
pub mod interceptor;
pub mod load;
pub mod micro;
pub mod process;
pub mod receiver;
pub mod report;
pub mod runtime_api;
pub mod stack;
pub mod stats;

/// How big and how often a scenario runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scale {
    /// Each scenario once, at a size that only shows it still works (the test command's run).
    pub tiny: bool,
    /// How many times each measurement is repeated; the figures are the medians.
    pub repeats: usize,
}

impl Scale {
    /// The full size unless tiny, or the tiny one.
    #[must_use]
    pub fn pick<T>(&self, full: T, tiny: T) -> T {
        if self.tiny { tiny } else { full }
    }
}
