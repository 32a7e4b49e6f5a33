//! The benchmark command, run once at a tiny size.

mod aws_calls;
mod cold_start;
mod load;
mod micro;
mod support;
