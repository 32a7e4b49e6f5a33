//! The benchmark command, run once at a tiny size.

mod load;
mod support;
