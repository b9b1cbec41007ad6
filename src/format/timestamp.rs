//! Timestamps: RFC 3339 UTC text, and the time of the record being
//! formatted.
//!
//! The pipeline takes a record's time when it is logged, on the caller's
//! thread; the writer formats it later. The formats ask [`record_time`],
//! which is the captured time while the writer replays an event and the
//! current time everywhere else (a format used as a plain drain).

use std::cell::Cell;
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

thread_local! {
    static RECORD_TIME: Cell<Option<SystemTime>> = const { Cell::new(None) };
}

/// Runs `f` with `time` as the record time of this thread.
pub(crate) fn with_record_time<R>(time: SystemTime, f: impl FnOnce() -> R) -> R {
    struct Reset(Option<SystemTime>);
    impl Drop for Reset {
        fn drop(&mut self) {
            RECORD_TIME.with(|t| t.set(self.0));
        }
    }
    let _reset = Reset(RECORD_TIME.with(|t| t.replace(Some(time))));
    f()
}

/// The captured time of the record being replayed, else now.
pub(crate) fn record_time() -> SystemTime {
    RECORD_TIME.with(Cell::get).unwrap_or_else(SystemTime::now)
}

/// slog-term's timestamp slot: the record time, RFC 3339 UTC.
pub(crate) fn write_term_timestamp(w: &mut dyn std::io::Write) -> std::io::Result<()> {
    write!(w, "{}", Rfc3339Utc(record_time()))
}

/// A time in RFC 3339 UTC with microseconds, `2026-11-21T23:05:09.123456Z`.
///
/// Formatting writes straight into the formatter: no allocation, and the text
/// always has the same width. Times before 1970 are written as the epoch.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use slog_host::format::Rfc3339Utc;
///
/// let t = UNIX_EPOCH + Duration::from_micros(951_782_400_000_042);
/// assert_eq!(Rfc3339Utc(t).to_string(), "2000-02-29T00:00:00.000042Z");
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Rfc3339Utc(pub SystemTime);

impl fmt::Display for Rfc3339Utc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let since = self.0.duration_since(UNIX_EPOCH).unwrap_or_default();
        let secs = since.as_secs();
        let (days, rem) = (secs / 86_400, secs % 86_400);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:06}Z",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60,
            since.subsec_micros()
        )
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day), after
/// Howard Hinnant's `civil_from_days`.
pub(crate) fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

/// The number of days of month `m` (1 to 12) of year `y`.
pub(crate) fn month_days(y: u64, m: u64) -> u64 {
    let leap = y.is_multiple_of(4) && (!y.is_multiple_of(100) || y.is_multiple_of(400));
    match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a (year, month, day), if that day exists: the
/// inverse of [`civil_from_days`] (Howard Hinnant's `days_from_civil`).
pub(crate) fn days_from_civil(y: u64, m: u64, d: u64) -> Option<u64> {
    if !(1..=12).contains(&m) || d == 0 || d > month_days(y, m) {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let (era, yoe) = (y / 400, y % 400);
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe).checked_sub(719_468)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64, micros: u32) -> String {
        let t = UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_micros(micros.into());
        Rfc3339Utc(t).to_string()
    }

    #[test]
    fn known_dates() {
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(at(951_782_400, 0), "2000-02-29T00:00:00.000000Z");
        assert_eq!(at(1_700_000_000, 999_999), "2023-11-14T22:13:20.999999Z");
        assert_eq!(at(4_102_444_799, 1), "2099-12-31T23:59:59.000001Z");
        assert_eq!(at(4_107_542_400, 0), "2100-03-01T00:00:00.000000Z"); // 2100 is not leap
        let before = UNIX_EPOCH - Duration::from_secs(5);
        assert_eq!(
            Rfc3339Utc(before).to_string(),
            "1970-01-01T00:00:00.000000Z"
        );
    }

    #[test]
    fn every_day_of_four_centuries_round_trips() {
        // Day numbers increase by one per day and month/day stay in range.
        let mut prev = civil_from_days(0);
        for day in 1..146_097 * 2 {
            let (y, m, d) = civil_from_days(day);
            assert!((1..=12).contains(&m) && (1..=31).contains(&d));
            let next_day = (y, m, d) > prev;
            assert!(next_day, "{day}: {prev:?} -> {:?}", (y, m, d));
            if d == 1 {
                let (py, pm, pd) = prev;
                assert_eq!(pd, month_days(py, pm), "month {py}-{pm} length");
            }
            prev = (y, m, d);
        }
    }

    #[test]
    fn days_from_civil_inverts_civil_from_days_and_refuses_missing_days() {
        for day in 0..146_097 * 2 {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), Some(day), "{y}-{m}-{d}");
        }
        for (y, m, d) in [
            (2023, 2, 29),
            (2024, 4, 31),
            (2024, 13, 1),
            (2024, 0, 1),
            (2024, 1, 0),
            (1969, 12, 31),
        ] {
            assert_eq!(days_from_civil(y, m, d), None, "{y}-{m}-{d}");
        }
    }
}
