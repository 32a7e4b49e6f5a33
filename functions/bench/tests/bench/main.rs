//! The benchmark command, run once at a tiny size.

mod aws_calls;
mod load;
mod micro;
mod support;
