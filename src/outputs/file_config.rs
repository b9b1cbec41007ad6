//! [`FileConfig`]: a file output's settings, their defaults and limits,
//! and the names rotation makes.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::Error;

/// Default largest size of the log file before it is rotated: 100 MiB.
pub const DEFAULT_FILE_MAX_SIZE: u64 = 100 * 1024 * 1024;
/// Default number of rotated files kept: 5.
pub const DEFAULT_FILE_KEEP: usize = 5;
/// Default permissions of created files: `0o640` (owner read/write, group read).
pub const DEFAULT_FILE_MODE: u32 = 0o640;
/// The largest `max_size` accepted: 1 TiB.
pub const MAX_FILE_MAX_SIZE: u64 = 1 << 40;
/// The most rotated files that can be kept: 1,000.
pub const MAX_FILE_KEEP: usize = 1000;
/// The shortest period of rotation by time: 1 s.
pub const MIN_ROTATE_EVERY: Duration = Duration::from_secs(1);
/// The longest period of rotation by time: 7 days.
pub const MAX_ROTATE_EVERY: Duration = Duration::from_secs(7 * 86_400);
/// The longest `max_age`: 3,650 days.
pub const MAX_FILE_MAX_AGE: Duration = Duration::from_secs(3650 * 86_400);

/// File output: where, how large, how many rotated files, permissions.
///
/// | setting | default | environment |
/// |---|---|---|
/// | path | (required) | `LOG_FILE` |
/// | [`max_size`](Self::max_size) | [`DEFAULT_FILE_MAX_SIZE`] (100 MiB), from 1 byte to [`MAX_FILE_MAX_SIZE`] (1 TiB) | `LOG_FILE_MAX_SIZE` (bytes, or with `K`, `M`, `G`: powers of 1024) |
/// | [`keep`](Self::keep) | [`DEFAULT_FILE_KEEP`] (5), from 0 to [`MAX_FILE_KEEP`] (1,000) | `LOG_FILE_KEEP` |
/// | [`compress`](Self::compress) | `false` | |
/// | [`mode`](Self::mode) | [`DEFAULT_FILE_MODE`] (`0o640`) | |
/// | [`rotate_every`](Self::rotate_every) | none (size only) | `LOG_FILE_ROTATE_EVERY` (`1s` to `7d`) |
/// | [`max_age`](Self::max_age) | none | `LOG_FILE_MAX_AGE` (up to `3650d`) |
///
/// **By time**: with `rotate_every`, the file also rotates when a record
/// belongs to another period than the file's records: periods are aligned
/// to UTC (`1d` rotates at midnight UTC, `1h` on the hour), whichever of
/// size and time comes first (periods count from the Unix epoch, so `7d`
/// starts on Thursdays). A rotated file is named after the period its
/// records belong to, `app.log.2026-12-02` (periods of whole days),
/// `app.log.2026-12-02T14` (hours), `app.log.2026-12-02T14-05` (minutes) or
/// `app.log.2026-12-02T14-05-09` (seconds), with `.1`, `.2`, ... after it
/// when size rotates within a period (the name without a number holds the
/// period's first records); every record of a file belongs to its period
/// (by the time it was logged; a record queued after one of the next
/// period, by another thread, joins the newer file: rotation never goes
/// back), and a quiet period makes no file. A rotated name is claimed
/// without replacing a file (hard link, `O_EXCL`). `keep` counts rotated
/// files, the oldest period (by its name) deleted first; `max_age` deletes
/// rotated files older than that: a time-rotated one once the end of its
/// period (the stamp plus `rotate_every`) is, a numbered one (`app.log.3`)
/// by its modification time. Both run at each rotation and when the output is opened, and touch
/// only names rotation makes, by a strict grammar (`app.log.N` with `N` from
/// 1 to 999,999, or a valid UTC stamp as above, maybe `.N` and `.gz`):
/// `app.log.0`, `app.log.bak`, `app.log.20240101`, `app.log.2024-13-45`, or a
/// stamp of a period that has not begun yet, are never deleted nor counted.
/// A modification time in the future counts as now: it never turns rotation
/// off or names a file.
///
/// Rotation happens *before* a record that would take the file past
/// `max_size`: `app.log` becomes `app.log.1` (or `app.log.1.gz` when
/// compressed), older ones move up by one, and the one past `keep` is deleted.
/// So every file holds whole records and is at most `max_size` (unless a
/// single record is larger), and all files together are at most
/// `(keep + 1) * max_size`. Devices and pipes (`/dev/stdout`, `/dev/full`)
/// are written but never rotated.
///
/// Before every record the writer looks at the path (one `stat`): a file
/// that was removed, moved or replaced is noticed and the path reopened, and
/// a file truncated by someone else (logrotate's `copytruncate`) is measured
/// again, so rotation follows its real size and an empty file is never
/// rotated. Rotation first moves the current file aside (`app.log.rotating`);
/// if that fails, the rotated files are left as they are and the record is
/// written to the path. Only the rotated files that exist are moved, so its
/// cost does not depend on `keep`. A record cut short by a full disk is cut
/// off again (the file is only ever shortened, never extended).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileConfig {
    pub(crate) path: PathBuf,
    pub(crate) max_size: u64,
    pub(crate) keep: usize,
    pub(crate) compress: bool,
    pub(crate) mode: u32,
    pub(crate) rotate_every: Option<Duration>,
    pub(crate) max_age: Option<Duration>,
}

impl FileConfig {
    /// File output to `path` with the defaults.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileConfig {
            path: path.into(),
            max_size: DEFAULT_FILE_MAX_SIZE,
            keep: DEFAULT_FILE_KEEP,
            compress: false,
            mode: DEFAULT_FILE_MODE,
            rotate_every: None,
            max_age: None,
        }
    }

    /// Also rotates by time: when a record belongs to another period of
    /// `every` (aligned to UTC) than the file's records; whole seconds from
    /// [`MIN_ROTATE_EVERY`] (1 s) to [`MAX_ROTATE_EVERY`] (7 days).
    pub fn rotate_every(mut self, every: Duration) -> Self {
        self.rotate_every = Some(every);
        self
    }

    /// Deletes rotated files older than `age` (a time-rotated file by the
    /// period in its name, a numbered one by its modification time), besides
    /// [`keep`](Self::keep); at most [`MAX_FILE_MAX_AGE`].
    pub fn max_age(mut self, age: Duration) -> Self {
        self.max_age = Some(age);
        self
    }

    /// Rotates before the file would grow past `bytes` (from 1 to
    /// [`MAX_FILE_MAX_SIZE`]).
    pub fn max_size(mut self, bytes: u64) -> Self {
        self.max_size = bytes;
        self
    }

    /// Keeps this many rotated files, at most [`MAX_FILE_KEEP`] (0: rotation
    /// just starts a new file).
    pub fn keep(mut self, files: usize) -> Self {
        self.keep = files;
        self
    }

    /// Compresses rotated files with gzip (`app.log.1.gz`).
    pub fn compress(mut self, on: bool) -> Self {
        self.compress = on;
        self
    }

    /// Permissions of the files created (also of rotated and compressed
    /// ones), whatever the process umask.
    pub fn mode(mut self, mode: u32) -> Self {
        self.mode = mode;
        self
    }

    /// The log file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        if !(1..=MAX_FILE_MAX_SIZE).contains(&self.max_size) {
            return Err(Error::invalid(
                "file max size",
                self.max_size.to_string(),
                format!("must be from 1 to {MAX_FILE_MAX_SIZE} bytes"),
            ));
        }
        if self.keep > MAX_FILE_KEEP {
            return Err(Error::invalid(
                "file keep",
                self.keep.to_string(),
                format!("at most {MAX_FILE_KEEP} rotated files"),
            ));
        }
        if let Some(every) = self.rotate_every {
            if !(MIN_ROTATE_EVERY..=MAX_ROTATE_EVERY).contains(&every) || every.subsec_nanos() != 0
            {
                return Err(Error::invalid(
                    "file rotate every",
                    crate::settings::format_duration(every),
                    "must be whole seconds from 1s to 7d",
                ));
            }
        }
        if let Some(age) = self.max_age {
            if age.is_zero() || age > MAX_FILE_MAX_AGE {
                return Err(Error::invalid(
                    "file max age",
                    crate::settings::format_duration(age),
                    "must be from 1ms to 3650d",
                ));
            }
        }
        if self.mode > 0o7777 {
            return Err(Error::invalid(
                "file mode",
                format!("{:o}", self.mode),
                "not a permission mode",
            ));
        }
        Ok(())
    }

    /// The `n`th rotated file (`n >= 1`).
    pub(super) fn rotated(&self, n: usize) -> PathBuf {
        let mut name = self.path.clone().into_os_string();
        name.push(format!(".{n}"));
        if self.compress {
            name.push(".gz");
        }
        PathBuf::from(name)
    }

    /// The name of a file rotated by time whose records belong to `period`
    /// (its start in UTC, as precise as the period), with `.n` for the
    /// `n`th more file of that period.
    pub(super) fn timed(&self, period: u64, n: usize) -> PathBuf {
        let every = self.rotate_every.map_or(1, |e| e.as_secs().max(1));
        let start = period * every;
        let (days, rem) = (start / 86_400, start % 86_400);
        let (y, m, d) = crate::format::timestamp::civil_from_days(days);
        let (h, min, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
        let stamp = if every.is_multiple_of(86_400) {
            format!("{y:04}-{m:02}-{d:02}")
        } else if every.is_multiple_of(3600) {
            format!("{y:04}-{m:02}-{d:02}T{h:02}")
        } else if every.is_multiple_of(60) {
            format!("{y:04}-{m:02}-{d:02}T{h:02}-{min:02}")
        } else {
            format!("{y:04}-{m:02}-{d:02}T{h:02}-{min:02}-{s:02}")
        };
        let mut name = self.path.clone().into_os_string();
        name.push(format!(".{stamp}"));
        if n > 0 {
            name.push(format!(".{n}"));
        }
        if self.compress {
            name.push(".gz");
        }
        PathBuf::from(name)
    }

    /// What `file_name` (a name in the log's directory) says if it is one
    /// that rotation makes for this log, by a strict grammar: `<log>.N`,
    /// `<log>.<stamp>` or `<log>.<stamp>.N`, each maybe `.gz`, where `N` is
    /// 1 to 999,999 without leading zeros and `<stamp>` is a valid UTC date
    /// `YYYY-MM-DD`, maybe with `THH`, `THH-MM` or `THH-MM-SS`. Anything
    /// else (`app.log.0`, `app.log.bak`, `app.log.1999-1-1`,
    /// `app.log.2024-13-45`, `app.log.20240101`) is not ours: `None`.
    pub(super) fn rotated_name(&self, file_name: &str) -> Option<RotatedName> {
        let base = self.path.file_name()?.to_str()?;
        let rest = file_name.strip_prefix(base)?.strip_prefix('.')?;
        let rest = rest.strip_suffix(".gz").unwrap_or(rest);
        if let Some(index) = rotation_index(rest) {
            return Some(RotatedName {
                start: None,
                index,
                end: None,
            });
        }
        let (stamp, index) = match rest.split_once('.') {
            Some((stamp, n)) => (stamp, rotation_index(n)?),
            None => (rest, 0),
        };
        let (start, precision) = stamp_period(stamp)?;
        // A period is as long as `rotate_every` (a stamp of days names 7-day
        // periods too), or at least what the stamp's precision says.
        let every = self.rotate_every.map_or(0, |e| e.as_secs());
        Some(RotatedName {
            start: Some(start),
            index,
            end: Some(start + precision.max(every)),
        })
    }

    /// The files in the log's directory whose names rotation makes, with
    /// what their names say ([`rotated_name`](Self::rotated_name)); none if
    /// the directory cannot be read.
    pub(super) fn rotated_files(&self) -> Vec<(RotatedName, PathBuf)> {
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter_map(|e| Some((self.rotated_name(e.file_name().to_str()?)?, e.path())))
            .collect()
    }

    /// Where the current file is moved at the start of a rotation.
    pub(super) fn staged(&self) -> PathBuf {
        let mut name = self.path.clone().into_os_string();
        name.push(".rotating");
        PathBuf::from(name)
    }

    /// Where the current file is moved at the start of a rotation by time:
    /// one name per process, so processes writing one file never share it.
    pub(super) fn staged_timed(&self) -> PathBuf {
        let mut name = self.staged().into_os_string();
        name.push(format!(".{}", std::process::id()));
        PathBuf::from(name)
    }
}

/// What the name of a rotated file says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct RotatedName {
    /// A file rotated by time: the start of its period, in seconds since
    /// the epoch (UTC).
    pub(super) start: Option<u64>,
    /// `.N`: its number (0 for a time-rotated file without one).
    pub(super) index: u32,
    /// A file rotated by time: the end of its period, the stamp's start plus
    /// `rotate_every` (or the stamp's precision, if longer): its newest
    /// record is older.
    pub(super) end: Option<u64>,
}

/// The largest `N` of a rotated name.
pub(super) const MAX_ROTATION_INDEX: u32 = 999_999;

/// `N` of a rotated name: 1 to [`MAX_ROTATION_INDEX`], decimal, no leading
/// zero.
fn rotation_index(s: &str) -> Option<u32> {
    let ok =
        (1..=6).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) && !s.starts_with('0');
    ok.then(|| s.parse().ok()).flatten()
}

/// The start (seconds since the epoch) and the length of the period a stamp
/// names (as precise as the stamp: a day, an hour, a minute, a second):
/// `YYYY-MM-DD`, `YYYY-MM-DDTHH`, `YYYY-MM-DDTHH-MM` or
/// `YYYY-MM-DDTHH-MM-SS`, every field of its exact width and in range (the
/// date a real one: no 2023-02-29), years 1970 to 9999.
fn stamp_period(s: &str) -> Option<(u64, u64)> {
    let num = |t: &str, width: usize| -> Option<u64> {
        (t.len() == width && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse().ok())
            .flatten()
    };
    let (date, time) = match s.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let mut d = date.split('-');
    let (y, m, day) = (num(d.next()?, 4)?, num(d.next()?, 2)?, num(d.next()?, 2)?);
    if d.next().is_some() || y < 1970 || !(1..=12).contains(&m) || day == 0 {
        return None;
    }
    let days = crate::format::timestamp::days_from_civil(y, m, day)?;
    let mut secs = days * 86_400;
    let mut len = 86_400;
    if let Some(time) = time {
        let mut t = time.split('-');
        let limits = [(3600, 24), (60, 60), (1, 60)];
        let mut fields = 0;
        for (part, (unit, max)) in t.by_ref().zip(limits) {
            let v = num(part, 2)?;
            if v >= max {
                return None;
            }
            secs += v * unit;
            len = unit;
            fields += 1;
        }
        if fields == 0 || t.next().is_some() {
            return None;
        }
    }
    Some((secs, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_names_rotation_makes_are_rotated_names() {
        let c = FileConfig::new("/var/log/app.log");
        let ours = [
            ("app.log.1", None, 1),
            ("app.log.17.gz", None, 17),
            ("app.log.2024-01-01", Some("2024-01-01T00:00:00Z"), 0),
            ("app.log.2024-02-29.3", Some("2024-02-29T00:00:00Z"), 3),
            ("app.log.2026-12-07T18", Some("2026-12-07T18:00:00Z"), 0),
            (
                "app.log.2026-12-07T18-05.gz",
                Some("2026-12-07T18:05:00Z"),
                0,
            ),
            (
                "app.log.2026-12-07T18-05-09.2.gz",
                Some("2026-12-07T18:05:09Z"),
                2,
            ),
        ];
        for (name, start, index) in ours {
            let r = c
                .rotated_name(name)
                .unwrap_or_else(|| panic!("{name} is ours"));
            let shown = r.start.map(|s| {
                crate::format::timestamp::Rfc3339Utc(std::time::UNIX_EPOCH + Duration::from_secs(s))
                    .to_string()
                    .replace(".000000Z", "Z")
            });
            assert_eq!((shown.as_deref(), r.index), (start, index), "{name}");
        }
        let foreign = [
            "app.log",
            "app.log.0",
            "app.log.01",
            "app.log.bak",
            "app.log.gz",
            "app.log.1T",
            "app.log.20240101",
            "app.log.1999-1-1",
            "app.log.7.7.7",
            "app.log.2024-13-45",
            "app.log.2023-02-29",
            "app.log.2024-01-01T24",
            "app.log.2024-01-01T",
            "app.log.1.gz.gz",
            "app.log.12345678901234567890",
            "app.log.1969-12-31",
            "app.log.2024-01-01.0",
            "app.log.2024-01-01T10-60",
            "app.log.1234567",
            "other.log.1",
            "app.logx.1",
            "app.log.rotating",
            "app.log.rotating.42",
            "app.log.-1",
            "app.log.+1",
        ];
        for name in foreign {
            assert_eq!(c.rotated_name(name), None, "{name} is not ours");
        }
    }

    #[test]
    fn a_period_ends_rotate_every_after_its_start_whatever_the_stamp_says() {
        let week = FileConfig::new("/l/app.log").rotate_every(Duration::from_secs(7 * 86_400));
        let r = week.rotated_name("app.log.2024-01-04").unwrap();
        assert_eq!(r.end.unwrap() - r.start.unwrap(), 7 * 86_400);
        let ninety = FileConfig::new("/l/app.log").rotate_every(Duration::from_secs(90));
        let r = ninety.rotated_name("app.log.2024-01-04T10-00-30").unwrap();
        assert_eq!(r.end.unwrap() - r.start.unwrap(), 90);
        // No rotation by time set (an earlier run's files): the stamp's.
        let none = FileConfig::new("/l/app.log");
        let r = none.rotated_name("app.log.2024-01-04T10").unwrap();
        assert_eq!(r.end.unwrap() - r.start.unwrap(), 3600);
    }

    #[test]
    fn every_stamp_rotation_writes_is_read_back_to_its_period() {
        for every in [1, 60, 3600, 86_400] {
            let c = FileConfig::new("/l/app.log").rotate_every(Duration::from_secs(every));
            for period in [0, 1, 17, 20_000_000 / every, 4_102_444_800 / every] {
                let name = c.timed(period, 0);
                let name = name.file_name().unwrap().to_str().unwrap();
                let r = c.rotated_name(name).unwrap_or_else(|| panic!("{name}"));
                assert_eq!(r.start, Some(period * every), "{name}");
            }
        }
    }
}
