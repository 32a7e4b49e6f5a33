//! Outgoing webhook delivery: payloads in Zulip's and Slack's formats (`payload`), Standard
//! Webhooks signatures (`signing`), the SSRF-guarded HTTP client (`ssrf`, `client`), reading
//! bot answers (`response`, with `hookline_messaging::pyjson` for how Zulip's Python reads JSON), the
//! retry schedule (`schedule`), Zulip's failure wording (`wording`), and the worker that ties
//! them together (`worker`).

pub mod client;
pub mod payload;
pub mod response;
pub mod schedule;
pub mod signing;
pub mod ssrf;
pub mod wording;
pub mod worker;
