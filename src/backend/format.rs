//! Record formats: the JSON layout and its timestamp.

use std::fmt;
use std::io;
use std::time::{SystemTime, UNIX_EPOCH};

pub use super::json::Json;
use crate::{Error, Schema};

/// The longest record written by default: 32 KiB (`Builder::max_record_bytes`).
pub const DEFAULT_MAX_RECORD_BYTES: usize = 32 * 1024;
/// The smallest `max_record_bytes`: 1 KiB.
pub const MIN_RECORD_CAP: usize = 1024;
/// The largest `max_record_bytes`: 16 MiB.
pub const MAX_RECORD_CAP: usize = 16 << 20;

/// Record format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line: `ts` (RFC 3339 UTC), `level`, `msg`, then the
    /// fields ([`format::json`](crate::format::json)).
    Json,
    /// slog-term's full format: timestamp, level, message, fields.
    Full,
    /// slog-term's compact format: fields of nested loggers grouped.
    Compact,
}

impl Format {
    pub(crate) fn parse(setting: &str, value: &str) -> Result<Format, Error> {
        match value.trim().to_ascii_lowercase().as_str() {
            "json" => Ok(Format::Json),
            "full" => Ok(Format::Full),
            "compact" => Ok(Format::Compact),
            _ => Err(Error::invalid(
                setting,
                value,
                "expected json, full or compact",
            )),
        }
    }
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

/// The record keys of the JSON format.
pub mod json_keys {
    /// Timestamp, RFC 3339 UTC.
    pub const TS: &str = "ts";
    /// Level: `TRACE`, `DEBUG`, `INFO`, `WARN`, `ERROR`, `FATAL`.
    pub const LEVEL: &str = "level";
    /// The message.
    pub const MSG: &str = "msg";
}

/// A drain writing one JSON object per line: `ts` (RFC 3339 UTC), `level`,
/// `msg`, `target`, then the record's and the logger's fields.
///
/// Control characters and line separators are escaped, a field named like a
/// record key (or, with host fields, like a host key of the schema or an
/// extra host field) is written as `fields.<name>`, and no line has a key
/// twice (see [`docs::security`](crate::docs::security)). It allocates nothing per record once
/// its buffer is warm, and writes each line with one `write_all`; wrap a slow
/// writer in a buffer.
///
/// ```
/// use slog::{info, o, Drain};
///
/// let drain = std::sync::Mutex::new(slog_host::format::json(std::io::stdout())).fuse();
/// let log = slog::Logger::root(drain, o!());
/// info!(log, "hello"; "n" => 1);
/// // {"ts":"2026-11-21T23:05:09.123456Z","level":"INFO","msg":"hello","target":"rust_out","n":1}
/// ```
pub fn json<W: io::Write>(writer: W) -> Json<W> {
    Json::new(writer, Schema::Otel, None)
}

/// [`json`] with the record keys of `schema` (`@timestamp`, `log.level`,
/// `message`, `ecs.version` and `log.logger` for [`Schema::Ecs`]).
pub fn json_with_schema<W: io::Write>(writer: W, schema: Schema) -> Json<W> {
    Json::new(writer, schema, None)
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
                let leap = py % 4 == 0 && (py % 100 != 0 || py % 400 == 0);
                let len = [
                    31,
                    if leap { 29 } else { 28 },
                    31,
                    30,
                    31,
                    30,
                    31,
                    31,
                    30,
                    31,
                    30,
                    31,
                ];
                assert_eq!(pd, len[pm as usize - 1], "month {py}-{pm} length");
            }
            prev = (y, m, d);
        }
    }

    #[test]
    fn json_lines_have_ts_level_msg_and_fields() {
        use slog::{info, Drain};
        use std::sync::Mutex;
        let buf = crate::backend::writer::SharedBuf::default();
        let log = slog::Logger::root(Mutex::new(json(buf.clone())).fuse(), slog::o!("svc" => "x"));
        info!(log, "hello {}", "world"; "n" => 7);
        let mut out = Vec::new();
        buf.move_into(&mut out);
        let text = String::from_utf8(out).unwrap();
        let line = text.strip_suffix('\n').unwrap();
        assert!(line.starts_with(r#"{"ts":""#), "{line}");
        assert!(
            line.contains(r#""level":"INFO","msg":"hello world""#),
            "{line}"
        );
        assert!(line.ends_with(r#""n":7,"svc":"x"}"#), "{line}");
    }
}
