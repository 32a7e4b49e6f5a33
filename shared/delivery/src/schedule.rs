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

/// The most retries a schedule may have: with the first attempt, 9 receives of the job, which
/// leaves 3 of the delivery queue's 12 (`maxReceiveCount`) for receives that end without an
/// attempt before SQS would dead-letter a delivery that still has attempts left.
pub const MAX_RETRIES: usize = 8;

/// The longest single wait: SQS's visibility limit, which a wait is set as.
pub const MAX_DELAY: Duration = MAX_VISIBILITY;

/// A schedule for bots whose outages last minutes rather than seconds: seven attempts over
/// about 1 h 43 min. Chosen per deployment (`HOOKLINE_RETRY_SCHEDULE`) or per bot.
pub const PATIENT: &str = "5s,30s,2m,10m,30m,1h";

impl Default for RetrySchedule {
    /// 2 s, 4 s, 8 s: four attempts, so that a conversation hears "Failure! Bot is unavailable"
    /// within a minute even when every attempt runs into the 10 s timeout and jitter stretches
    /// every wait (4 × 10 s + 1.2 × 14 s = 56.8 s from the first attempt's start).
    fn default() -> Self {
        Self { delays: [2, 4, 8].map(Duration::from_secs).to_vec() }
    }
}

impl std::fmt::Display for RetrySchedule {
    /// The schedule in the syntax [`RetrySchedule::parse`] reads, in the largest whole unit of
    /// each wait: `2s,4s,8s`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let entries: Vec<String> = self.delays.iter().map(|d| format_wait(*d)).collect();
        f.write_str(&entries.join(","))
    }
}

impl RetrySchedule {
    /// [`PATIENT`], parsed.
    #[must_use]
    pub fn patient() -> Self {
        Self::parse(PATIENT).expect("the patient schedule is valid")
    }

    /// Parses a comma-separated list of waits such as `"5s,30s,2m,10m,30m,1h"` (units `ms`,
    /// `s`, `m`, `h`), at most [`MAX_RETRIES`] of them, none longer than [`MAX_DELAY`].
    ///
    /// # Errors
    /// A message naming the entry that is not a whole number followed by a unit or is too long,
    /// or saying that the list is empty or too long.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.trim().is_empty() {
            return Err("the retry schedule is empty".to_owned());
        }
        let delays: Vec<Duration> = text.split(',').map(|entry| parse_wait(entry.trim())).collect::<Result<_, _>>()?;
        if delays.len() > MAX_RETRIES {
            return Err(format!("the retry schedule has {} waits; at most {MAX_RETRIES} are allowed", delays.len()));
        }
        Ok(Self { delays })
    }

    /// The scheduled waits still ahead after `attempts_made` attempts, without jitter.
    #[must_use]
    pub fn remaining_after(&self, attempts_made: u32) -> Duration {
        let used = usize::try_from(attempts_made.saturating_sub(1)).unwrap_or(usize::MAX);
        self.delays.iter().skip(used).sum()
    }

    /// The longest a delivery that never succeeds can take from its first attempt's start to
    /// the end of its last one, when every attempt takes `attempt` and jitter stretches every
    /// wait to its maximum (without `Retry-After`, which timeouts and connection errors lack).
    #[must_use]
    pub fn worst_case_until_final(&self, attempt: Duration) -> Duration {
        let waits: Duration = self.delays.iter().map(|d| d.mul_f64(1.0 + JITTER).min(MAX_DELAY)).sum();
        attempt.saturating_mul(self.max_attempts()) + waits
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
        let mut wait = scheduled.mul_f64(1.0 - JITTER + 2.0 * JITTER * jitter);
        if let Some(asked) = retry_after {
            wait = wait.max(asked.min(scheduled.saturating_mul(2)));
        }
        Some(wait.min(MAX_VISIBILITY))
    }
}

/// How far jitter moves a wait either way, as a fraction of it.
const JITTER: f64 = 0.2;

/// A wait in the largest unit that writes it whole.
fn format_wait(wait: Duration) -> String {
    let ms = wait.as_millis();
    match ms {
        0 => "0s".to_owned(),
        _ if ms.is_multiple_of(3_600_000) => format!("{}h", ms / 3_600_000),
        _ if ms.is_multiple_of(60_000) => format!("{}m", ms / 60_000),
        _ if ms.is_multiple_of(1_000) => format!("{}s", ms / 1_000),
        _ => format!("{ms}ms"),
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
    let wait = amount.checked_mul(millis_per_unit).map(Duration::from_millis).ok_or_else(bad)?;
    if wait > MAX_DELAY {
        return Err(format!("invalid retry delay {entry:?}: at most 12h"));
    }
    Ok(wait)
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
    fn the_patient_schedule_allows_seven_attempts() {
        let schedule = RetrySchedule::patient();
        assert_eq!(schedule.max_attempts(), 7);
        assert_eq!(schedule.delays, vec![secs(5), secs(30), secs(120), secs(600), secs(1800), secs(3600)]);
    }

    #[test]
    fn the_default_schedule_reports_a_dead_bot_within_a_minute_after_three_retries() {
        let schedule = RetrySchedule::default();
        assert!(schedule.max_attempts() >= 4, "at least three retries");
        // Every attempt running to the full request timeout, every wait jittered to its maximum
        let attempt = crate::client::Timeouts::default().total;
        let worst = schedule.worst_case_until_final(attempt);
        assert_eq!(worst, Duration::from_millis(56_800));
        assert!(worst <= secs(60), "{worst:?}");
        let longest: Duration = (1..schedule.max_attempts()).map(|n| schedule.next_delay(n, None, 1.0).unwrap()).sum();
        assert_eq!(attempt * schedule.max_attempts() + longest, worst, "next_delay stretches no further");
        assert!(RetrySchedule::patient().worst_case_until_final(attempt) > Duration::from_secs(6000));
    }

    #[test]
    fn parse_reads_a_schedule_back_from_its_text() {
        assert_eq!(RetrySchedule::parse("2s,4s,8s"), Ok(RetrySchedule::default()));
        assert_eq!(RetrySchedule::default().to_string(), "2s,4s,8s");
        assert_eq!(RetrySchedule::patient().to_string(), PATIENT);
        assert_eq!(RetrySchedule::parse(" 250ms , 1s ").unwrap().delays, vec![Duration::from_millis(250), secs(1)]);
        assert_eq!(RetrySchedule::parse("90s,1500ms,120m,0s").unwrap().to_string(), "90s,1500ms,2h,0s");
    }

    #[test]
    fn parse_refuses_entries_without_a_unit_or_number() {
        for bad in ["", "5", "5s,", "s", "5d", "-5s", "1.5s", "5 s", "99999999999999999999h"] {
            assert!(RetrySchedule::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn parse_refuses_schedules_the_queue_cannot_carry() {
        assert_eq!(RetrySchedule::parse("12h").unwrap().delays, vec![MAX_DELAY]);
        assert_eq!(RetrySchedule::parse("13h"), Err("invalid retry delay \"13h\": at most 12h".to_owned()));
        assert_eq!(RetrySchedule::parse(&["1s"; MAX_RETRIES].join(",")).unwrap().max_attempts(), 9);
        assert_eq!(
            RetrySchedule::parse(&["1s"; MAX_RETRIES + 1].join(",")),
            Err("the retry schedule has 9 waits; at most 8 are allowed".to_owned())
        );
    }

    #[test]
    fn the_remaining_schedule_counts_the_waits_still_ahead() {
        let schedule = RetrySchedule::patient();
        assert_eq!(schedule.remaining_after(1), secs(5 + 30 + 120 + 600 + 1800 + 3600));
        assert_eq!(schedule.remaining_after(3), secs(120 + 600 + 1800 + 3600));
        assert_eq!(schedule.remaining_after(7), Duration::ZERO);
        assert_eq!(RetrySchedule::default().remaining_after(3), secs(8));
    }

    #[test]
    fn each_attempt_waits_its_scheduled_delay_without_jitter() {
        let schedule = RetrySchedule::patient();
        assert_eq!(schedule.next_delay(0, None, 0.5), Some(Duration::ZERO));
        assert_eq!(schedule.next_delay(1, None, 0.5), Some(secs(5)));
        assert_eq!(schedule.next_delay(2, None, 0.5), Some(secs(30)));
        assert_eq!(schedule.next_delay(6, None, 0.5), Some(secs(3600)));
    }

    #[test]
    fn no_wait_is_given_once_the_attempts_are_used_up() {
        let schedule = RetrySchedule::patient();
        assert_eq!(schedule.next_delay(7, None, 0.5), None);
        assert_eq!(schedule.next_delay(u32::MAX, Some(secs(1)), 0.5), None);
        assert_eq!(RetrySchedule { delays: vec![] }.next_delay(1, None, 0.5), None);
    }

    #[test]
    fn jitter_moves_the_delay_by_at_most_twenty_percent() {
        let schedule = RetrySchedule::patient();
        assert_eq!(schedule.next_delay(2, None, 0.0), Some(secs(24)));
        let high = schedule.next_delay(2, None, 0.999_999).unwrap();
        assert!(high > secs(35) && high < secs(36), "{high:?}");
        assert_eq!(schedule.next_delay(2, None, 7.0), Some(secs(36)));
        assert_eq!(schedule.next_delay(2, None, f64::NAN), Some(secs(30)));
    }

    #[test]
    fn retry_after_raises_the_wait_up_to_twice_the_schedule() {
        let schedule = RetrySchedule::patient();
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
