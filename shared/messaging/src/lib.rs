//! The send path and what it needs: mention scanning, trigger rules, rendering, the realm
//! directory, and the outbox sweep. Knows nothing of Lambda or HTTP.

pub mod access;
pub mod directory;
pub mod edit;
pub mod emoji;
pub mod format;
pub mod history;
pub mod limits;
pub mod mentions;
pub mod pyjson;
pub mod reactions;
pub mod render;
pub mod send;
pub mod sweep;
pub mod triggers;

#[cfg(test)]
mod changes_tests;
