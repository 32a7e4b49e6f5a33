//! Fuzzes the mention scanner and the renderer with arbitrary text.
//! The properties checked live in the crate's library, shared with the corpus test.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    hookline_messaging_fuzz::check(&String::from_utf8_lossy(data));
});
