//! Fixed-window rate limits: at most `limit` events per `window` for one key, counted in the
//! window that contains the moment of the event. Windows are aligned to the Unix epoch, so
//! every process computes the same window for the same moment without sharing anything but
//! the counter.

use crate::Millis;

/// What a limit counts: a kind of caller and who it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RateKey {
    /// The kind of limit, e.g. `user` or `auth-failure`.
    pub scope: &'static str,
    /// Whom it is counted for within the scope, e.g. a realm and user id or a client address.
    pub id: String,
}

/// One counting window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: Millis,
    pub end: Millis,
}

impl Window {
    /// Whole seconds from `now` until the window ends, at least 1: what `Retry-After` says.
    #[must_use]
    pub fn retry_after_seconds(&self, now: Millis) -> u64 {
        let left = (self.end - now).max(1);
        u64::try_from((left + 999) / 1000).unwrap_or(1)
    }
}

/// At most `limit` events per `window_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub limit: u32,
    pub window_ms: i64,
}

impl RateLimit {
    /// `limit` events per `window_ms`; `None` when either is zero (no limit).
    #[must_use]
    pub fn new(limit: u32, window_ms: i64) -> Option<Self> {
        (limit > 0 && window_ms > 0).then_some(Self { limit, window_ms })
    }

    /// The window that holds `now`.
    #[must_use]
    pub fn window_at(&self, now: Millis) -> Window {
        let start = now.div_euclid(self.window_ms) * self.window_ms;
        Window { start, end: start + self.window_ms }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_aligned_to_the_epoch_and_hold_their_moment() {
        let limit = RateLimit::new(200, 60_000).unwrap();
        assert_eq!(limit.window_at(120_000), Window { start: 120_000, end: 180_000 });
        assert_eq!(limit.window_at(179_999), Window { start: 120_000, end: 180_000 });
        assert_eq!(limit.window_at(180_000), Window { start: 180_000, end: 240_000 });
        assert_eq!(limit.window_at(-1), Window { start: -60_000, end: 0 });
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds_and_is_never_zero() {
        let window = RateLimit::new(1, 60_000).unwrap().window_at(120_000);
        assert_eq!(window.retry_after_seconds(120_000), 60);
        assert_eq!(window.retry_after_seconds(120_001), 60);
        assert_eq!(window.retry_after_seconds(178_999), 2);
        assert_eq!(window.retry_after_seconds(179_999), 1);
        assert_eq!(window.retry_after_seconds(180_000), 1);
    }

    #[test]
    fn a_zero_limit_or_window_means_no_limit() {
        assert_eq!(RateLimit::new(0, 60_000), None);
        assert_eq!(RateLimit::new(5, 0), None);
    }
}
