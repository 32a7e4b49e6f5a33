//! Arbitrary bytes as a bot's 2xx answer, read for both interfaces: it must never panic.
#![no_main]

use hookline_delivery::response::read_answer;
use hookline_model::Interface;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for interface in [Interface::Zulip, Interface::Slack] {
        let _ = read_answer(interface, data);
    }
});
