//! When to try a delivery again: the backoff schedule with its jitter and `Retry-After`
//! handling, and which HTTP statuses are worth retrying at all.

use std::time::Duration;

use hookline_model::queue::MAX_VISIBILITY;

/// The waits between the attempts of one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule {
    /// Waits before retry 1, 2, …; attempts allowed = `delays.len() + 1`.
    pub delays: Vec<Duration>,
}

impl Default for RetrySchedule {
    /// 5 s, 30 s, 2 min, 10 min, 30 min, 1 h: seven attempts over about 1 h 43 min.
    fn default() -> Self {
        let delays = [5, 30, 2 * 60, 10 * 60, 30 * 60, 60 * 60].map(Duration::from_secs).to_vec();
        Self { delays }
    }
}

impl RetrySchedule {
    /// Parses a comma-separated list of waits such as `"5s,30s,2m,10m,30m,1h"` (units `ms`,
    /// `s`, `m`, `h`).
    ///
    /// # Errors
    /// A message naming the entry that is not a whole number followed by a unit, or when the list
    /// is empty.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.trim().is_empty() {
            return Err("the retry schedule is empty".to_owned());
        }
        let delays = text.split(',').map(|entry| parse_wait(entry.trim())).collect::<Result<_, _>>()?;
        Ok(Self { delays })
    }

    /// How many attempts a delivery gets: the first plus one per delay.
    #[must_use]
    pub fn max_attempts(&self) -> u32 {
        u32::try_from(self.delays.len()).unwrap_or(u32::MAX).saturating_add(1)
    }

    /// The wait before the next attempt after `attempts_made` attempts (1-based count of
    /// attempts already made; none made means no wait), or `None` when none are left.
    ///
    /// The scheduled delay is jittered by ±20 % from `jitter` in [0, 1) (0.5 leaves it as is),
    /// raised to `retry_after` (from a 429 or 503) when given, but never beyond twice the
    /// scheduled delay, nor beyond SQS's 12-hour visibility limit.
    #[must_use]
    pub fn next_delay(&self, attempts_made: u32, retry_after: Option<Duration>, jitter: f64) -> Option<Duration> {
        let Some(index) = attempts_made.checked_sub(1) else { return Some(Duration::ZERO) };
        let scheduled = *self.delays.get(usize::try_from(index).ok()?)?;
        let jitter = if jitter.is_finite() { jitter.clamp(0.0, 1.0) } else { 0.5 };
        let mut wait = scheduled.mul_f64(0.8 + 0.4 * jitter);
        if let Some(asked) = retry_after {
            wait = wait.max(asked.min(scheduled.saturating_mul(2)));
        }
        Some(wait.min(MAX_VISIBILITY))
    }
}

/// One entry of a schedule: a whole number and its unit.
fn parse_wait(entry: &str) -> Result<Duration, String> {
    let bad = || format!("invalid retry delay {entry:?}: expected a whole number and a unit (ms, s, m, h)");
    let split = entry.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (digits, unit) = entry.split_at(split);
    let amount: u64 = digits.parse().map_err(|_| bad())?;
    let millis_per_unit = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return Err(bad()),
    };
    amount.checked_mul(millis_per_unit).map(Duration::from_millis).ok_or_else(bad)
}

/// What an HTTP status means for a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Delivered; read the answer.
    Success,
    /// Try again later.
    Retry,
    /// Give up now and report the failure.
    Final,
}

/// 2xx is [`Verdict::Success`]; 429 and every 5xx (502, 503 and 504 included) are
/// [`Verdict::Retry`]; everything else (3xx, the other 4xx including 410) is [`Verdict::Final`].
#[must_use]
pub fn classify_status(status: u16) -> Verdict {
    match status {
        200..=299 => Verdict::Success,
        429 | 500..=599 => Verdict::Retry,
        _ => Verdict::Final,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn the_default_schedule_allows_seven_attempts() {
        let schedule = RetrySchedule::default();
        assert_eq!(schedule.max_attempts(), 7);
        assert_eq!(schedule.delays, vec![secs(5), secs(30), secs(120), secs(600), secs(1800), secs(3600)]);
    }

    #[test]
    fn parse_reads_the_default_schedule_back() {
        assert_eq!(RetrySchedule::parse("5s,30s,2m,10m,30m,1h"), Ok(RetrySchedule::default()));
        assert_eq!(RetrySchedule::parse(" 250ms , 1s ").unwrap().delays, vec![Duration::from_millis(250), secs(1)]);
    }

    #[test]
    fn parse_refuses_entries_without_a_unit_or_number() {
        for bad in ["", "5", "5s,", "s", "5d", "-5s", "1.5s", "5 s", "99999999999999999999h"] {
            assert!(RetrySchedule::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn each_attempt_waits_its_scheduled_delay_without_jitter() {
        let schedule = RetrySchedule::default();
        assert_eq!(schedule.next_delay(0, None, 0.5), Some(Duration::ZERO));
        assert_eq!(schedule.next_delay(1, None, 0.5), Some(secs(5)));
        assert_eq!(schedule.next_delay(2, None, 0.5), Some(secs(30)));
        assert_eq!(schedule.next_delay(6, None, 0.5), Some(secs(3600)));
    }

    #[test]
    fn no_wait_is_given_once_the_attempts_are_used_up() {
        let schedule = RetrySchedule::default();
        assert_eq!(schedule.next_delay(7, None, 0.5), None);
        assert_eq!(schedule.next_delay(u32::MAX, Some(secs(1)), 0.5), None);
        assert_eq!(RetrySchedule { delays: vec![] }.next_delay(1, None, 0.5), None);
    }

    #[test]
    fn jitter_moves_the_delay_by_at_most_twenty_percent() {
        let schedule = RetrySchedule::default();
        assert_eq!(schedule.next_delay(2, None, 0.0), Some(secs(24)));
        let high = schedule.next_delay(2, None, 0.999_999).unwrap();
        assert!(high > secs(35) && high < secs(36), "{high:?}");
        assert_eq!(schedule.next_delay(2, None, 7.0), Some(secs(36)));
        assert_eq!(schedule.next_delay(2, None, f64::NAN), Some(secs(30)));
    }

    #[test]
    fn retry_after_raises_the_wait_up_to_twice_the_schedule() {
        let schedule = RetrySchedule::default();
        assert_eq!(schedule.next_delay(2, Some(secs(45)), 0.5), Some(secs(45)));
        assert_eq!(schedule.next_delay(2, Some(secs(3600)), 0.5), Some(secs(60)));
        assert_eq!(schedule.next_delay(2, Some(secs(1)), 0.5), Some(secs(30)));
    }

    #[test]
    fn no_wait_exceeds_the_queues_visibility_limit() {
        let schedule = RetrySchedule { delays: vec![secs(20 * 3600)] };
        assert_eq!(schedule.next_delay(1, None, 0.5), Some(MAX_VISIBILITY));
        assert_eq!(schedule.next_delay(1, Some(secs(30 * 3600)), 0.9), Some(MAX_VISIBILITY));
    }

    #[test]
    fn statuses_are_classified_like_standard_webhooks_senders() {
        for ok in [200, 201, 204, 299] {
            assert_eq!(classify_status(ok), Verdict::Success, "{ok}");
        }
        for again in [429, 500, 502, 503, 504, 599] {
            assert_eq!(classify_status(again), Verdict::Retry, "{again}");
        }
        for done in [100, 301, 302, 400, 401, 404, 410, 428, 430, 600] {
            assert_eq!(classify_status(done), Verdict::Final, "{done}");
        }
    }
}
