//! The file output (writer thread): whole lines appended, rotated by size
//! and by time, retention by count and age, optional compression.

use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::file_config::{FileConfig, RotatedName, MAX_ROTATION_INDEX};
use super::stdio::{pipe_chunk, wait_writable};
use crate::error::Error;
use crate::record::queue::FLUSH_TIMEOUT;

/// The writer behind [`Output::File`](crate::Output::File).
///
/// It runs on the writer thread only. The format drains write a record in
/// pieces and flush once per record; pieces are buffered and the whole record
/// is committed at the flush, so rotation never splits a record.
pub(crate) struct RotatingFile {
    config: FileConfig,
    file: Option<File>,
    /// Size of the open file, as last measured plus what was written since.
    size: u64,
    /// Regular file (rotated) or device/pipe (never rotated).
    regular: bool,
    /// Device and inode of the open file, to notice removal or replacement.
    identity: (u64, u64),
    /// A rotation failed and was reported; reported again once one works.
    rotation_failing: bool,
    record: Vec<u8>,
    /// With rotation by time: the period the file's records belong to.
    period: Option<u64>,
    /// The period of the lines being written.
    writing: Option<u64>,
    /// The fork generation it was opened in (`crate::fork`).
    born: u64,
    /// Bytes written, write by write (the writer's progress).
    accepted: super::accepted::Accepted,
    /// A full FIFO made the last write wait FLUSH_TIMEOUT in vain.
    fifo_stalled: bool,
}

/// Moves `staged` to the next free name of `period` (compressed if asked),
/// never replacing a file: the name is claimed with a hard link or an
/// exclusive create, and taken again one number higher if it was taken.
fn place(c: &FileConfig, staged: &Path, period: u64) -> io::Result<()> {
    let mut n = next_index(c, period);
    if n > MAX_ROTATION_INDEX as usize {
        // The top number is taken (a planted `.999999`): the lowest free ones.
        n = 1;
    }
    for _ in 0..1000 {
        if n > MAX_ROTATION_INDEX as usize {
            break;
        }
        let to = c.timed(period, n);
        let claimed = if c.compress {
            compress(staged, &to, c.mode)
        } else {
            fs::hard_link(staged, &to)
        };
        match claimed {
            Ok(()) => return fs::remove_file(staged),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => n += 1,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other("no free name for a rotated file"))
}

/// The number for the next file of `period`: one past the highest there
/// (never a gap that retention left: numbers follow the order of records).
fn next_index(c: &FileConfig, period: u64) -> usize {
    let start = period * c.rotate_every.map_or(1, |e| e.as_secs().max(1));
    // Only numbers rotation makes (a planted `.18446744073709551615` or
    // `.999999` must not push the next name out of the grammar).
    c.rotated_files()
        .iter()
        .filter(|(name, _)| name.start == Some(start))
        .map(|(name, _)| name.index as usize + 1)
        .max()
        .unwrap_or(0)
}

/// The period of `every` that time `t` falls in (a count since the epoch).
pub(crate) fn period_of(t: SystemTime, every: Duration) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / every.as_secs().max(1))
}

impl RotatingFile {
    /// Opens (or creates) the file; an error names `setting` and the path.
    pub(crate) fn open(config: FileConfig, setting: &str) -> Result<Self, Error> {
        config.validate()?;
        let mut w = RotatingFile {
            config,
            file: None,
            size: 0,
            regular: true,
            identity: (0, 0),
            rotation_failing: false,
            record: Vec::with_capacity(1024),
            period: None,
            writing: None,
            born: crate::fork::generation(),
            accepted: super::accepted::Accepted::default(),
            fifo_stalled: false,
        };
        w.reopen().map_err(|e| {
            Error::invalid(
                setting,
                w.config.path.display().to_string(),
                format!("cannot open: {e}"),
            )
        })?;
        w.prune();
        Ok(w)
    }

    /// Counts the bytes it writes into `accepted`.
    pub(crate) fn count_accepted(&mut self, accepted: super::accepted::Accepted) {
        self.accepted = accepted;
    }

    /// The configuration it was opened with.
    pub(crate) fn config(&self) -> &FileConfig {
        &self.config
    }

    fn reopen(&mut self) -> io::Result<()> {
        self.file = None;
        let path = &self.config.path;
        let existed = fs::symlink_metadata(path).is_ok();
        // Never through a symbolic link (O_NOFOLLOW), and never waiting in
        // `open` (O_NONBLOCK): a FIFO without a reader fails at once.
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(self.config.mode)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(path)
            .map_err(explain_open)?;
        let meta = file.metadata()?;
        if meta.is_file() && meta.nlink() > 1 {
            // Another name for the same file: one planted in the log
            // directory (a hard link to a file someone else reads).
            return Err(io::Error::other(format!(
                "it is a hard link ({} names for one file), and log files are never written \
                 through one",
                meta.nlink()
            )));
        }
        self.regular = meta.is_file();
        if !existed && self.regular {
            // `mode` at creation is masked by the umask; set it exactly (on
            // the open file: the path may name another one by now).
            file.set_permissions(Permissions::from_mode(self.config.mode))?;
        }
        self.size = if self.regular { meta.len() } else { 0 };
        self.identity = (meta.dev(), meta.ino());
        // A file with records from before: their period is the one it was
        // last written in.
        // Never later than now: a modification time in the future (a clock
        // step, a planted file) must not stop rotation or name files after it.
        self.period = match (self.config.rotate_every, self.size) {
            (Some(every), 1..) => meta
                .modified()
                .ok()
                .map(|t| period_of(t.min(SystemTime::now()), every)),
            _ => None,
        };
        self.file = Some(file);
        if !existed {
            self.prune();
        }
        Ok(())
    }

    /// Deletes rotated files past `keep` (rotation by time: the oldest
    /// first) and older than `max_age`.
    fn prune(&mut self) {
        let c = &self.config;
        if c.rotate_every.is_none() && c.max_age.is_none() {
            return;
        }
        let now = SystemTime::now();
        let now_secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        // Only names rotation makes (a strict grammar, `rotated_name`); never
        // another file that starts like the log. Ordered and aged by what
        // the name says: a time-rotated file by the end of the period in its
        // name, a numbered one by its modification time, never in the future.
        let mut rotated: Vec<(RotatedName, u64, PathBuf)> = c
            .rotated_files()
            .into_iter()
            .filter_map(|(name, path)| {
                // Rotation never names a period that has not begun: such a
                // name is not ours (nor the newest, whatever it says).
                if name.start.is_some_and(|start| start > now_secs) {
                    return None;
                }
                let born = match name.end {
                    Some(end) => end,
                    None => fs::symlink_metadata(&path)
                        .ok()?
                        .modified()
                        .ok()?
                        .duration_since(UNIX_EPOCH)
                        .map_or(0, |d| d.as_secs()),
                };
                Some((name, born.min(now_secs), path))
            })
            .collect();
        rotated.sort();
        let mut kept = Vec::new();
        for (name, born, path) in rotated {
            let old = c
                .max_age
                .is_some_and(|age| now_secs.saturating_sub(born) > age.as_secs());
            if old {
                let _ = fs::remove_file(&path);
            } else if name.start.is_some() {
                kept.push(path);
            }
        }
        // Rotation by time: the oldest periods past `keep` go.
        if c.rotate_every.is_some() && kept.len() > c.keep {
            for path in &kept[..kept.len() - c.keep] {
                let _ = fs::remove_file(path);
            }
        }
    }

    /// Looks at the path before a record is written: reopens it when it no
    /// longer names the open file (removed, moved or replaced), and takes the
    /// file's real size, which shrinks when someone else truncates it.
    fn check_path(&mut self) -> io::Result<()> {
        if self.file.is_none() {
            return self.reopen();
        }
        if !self.regular {
            return Ok(());
        }
        // `lstat`: a link put at the path is a replacement, even one to
        // this very file.
        match fs::symlink_metadata(&self.config.path) {
            Ok(m) if (m.dev(), m.ino()) == self.identity => {
                self.size = m.len();
                Ok(())
            }
            _ => self.reopen(),
        }
    }

    /// Moves the current file aside, then the rotated ones up, and opens a
    /// new file at the path. If the current file cannot be moved, nothing
    /// else is touched and the path is reopened, so the record is written
    /// there (past `max_size` if the path still names the same file).
    fn rotate(&mut self) -> io::Result<()> {
        if let (Some(_), Some(period)) = (self.config.rotate_every, self.period) {
            return self.rotate_timed(period);
        }
        let c = &self.config;
        let staged = c.staged();
        let moved = if c.keep == 0 {
            fs::remove_file(&c.path)
        } else {
            fs::rename(&c.path, &staged)
        };
        let result = match moved {
            // Moved or removed by someone else since `check_path`: nothing
            // to rotate; the record goes to a new file at the path.
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
            Ok(()) if c.keep == 0 => Ok(()),
            Ok(()) => {
                self.file = None;
                shift_rotated(c, &staged).map(drop)
            }
        };
        self.report_rotation(&result);
        self.reopen()
    }

    /// Rotation by time: the file becomes the first free name of `period`,
    /// then the oldest rotated files past `keep` or `max_age` go.
    fn rotate_timed(&mut self, period: u64) -> io::Result<()> {
        let c = self.config.clone();
        let staged = c.staged_timed();
        // A file left staged by a rotation that failed (a full disk while
        // compressing) is put in place first, never renamed over.
        if fs::symlink_metadata(&staged).is_ok() {
            place(&c, &staged, period)?;
        }
        let result = match fs::rename(&c.path, &staged) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
            Ok(()) => {
                self.file = None;
                place(&c, &staged, period)
            }
        };
        self.report_rotation(&result);
        self.reopen()?;
        self.prune();
        Ok(())
    }

    /// Reports a rotation failure once, and once when rotating works again.
    fn report_rotation(&mut self, result: &io::Result<()>) {
        match result {
            Err(e) if !self.rotation_failing => {
                self.rotation_failing = true;
                crate::error::report(format_args!(
                    "cannot rotate {}: {e}; records are still written to the file",
                    self.config.path.display()
                ));
            }
            Ok(()) if self.rotation_failing => {
                self.rotation_failing = false;
                crate::error::report(format_args!(
                    "rotating {} works again",
                    self.config.path.display()
                ));
            }
            _ => {}
        }
    }

    /// Writes a batch of whole lines (records), as few writes as rotation
    /// allows: the lines that fit before `max_size` go in one write, and a
    /// line that does not fit rotates first. Returns how many lines could
    /// not be written, and the last error. Every line is written whole or
    /// not at all.
    ///
    /// With rotation by time, the lines' records all belong to `period`: a
    /// file holding another period's records is rotated first.
    pub(crate) fn write_lines(
        &mut self,
        batch: &[u8],
        period: Option<u64>,
    ) -> (u64, Option<io::Error>) {
        self.writing = period;
        let (mut failed, mut last) = (0, None);
        let mut rest = batch;
        while !rest.is_empty() {
            // At least one line per write, even if it alone is larger.
            let room = if self.regular {
                self.config.max_size.saturating_sub(self.size)
            } else {
                u64::MAX
            };
            let mut take = 0;
            for line in rest.split_inclusive(|b| *b == b'\n') {
                if take > 0 && (take + line.len()) as u64 > room {
                    break;
                }
                take += line.len();
                if take as u64 > room {
                    break; // one line larger than the room: it rotates first
                }
            }
            let (chunk, tail) = rest.split_at(take);
            self.record.clear();
            self.record.extend_from_slice(chunk);
            if let Err(e) = self.commit() {
                failed += chunk.iter().filter(|b| **b == b'\n').count().max(1) as u64;
                last = Some(e);
            }
            rest = tail;
        }
        (failed, last)
    }

    /// Writes the buffered record, rotating first if it would not fit.
    fn commit(&mut self) -> io::Result<()> {
        if self.record.is_empty() {
            return Ok(());
        }
        let result = self.commit_record();
        self.record.clear();
        if result.is_err() {
            // Start over from the path next time: the fault may be gone then.
            self.file = None;
        }
        result
    }

    fn commit_record(&mut self) -> io::Result<()> {
        self.check_path()?;
        let writing = self.writing.filter(|_| self.regular);
        if let Some(p) = writing {
            if self.size > 0 && self.period.is_some_and(|fp| p > fp) {
                self.rotate()?;
            }
        }
        let len = self.record.len() as u64;
        // An empty file is never rotated, however large the record.
        if self.regular && self.size > 0 && self.size.saturating_add(len) > self.config.max_size {
            // Named after the period of what the file holds.
            self.rotate()?;
        }
        // The file's period, set after any rotation: a rotation opens an
        // empty file with none, and the record written now gives it its own
        // (before, a size rotation left it unset, so the next period's
        // records joined this one's file).
        if let Some(p) = writing {
            self.period = Some(self.period.map_or(p, |fp| fp.max(p)));
        }
        let file = self.file.as_mut().expect("opened above");
        let mut written = 0;
        // A FIFO (opened non-blocking) that is full: wait for its reader
        // while it reads, at most FLUSH_TIMEOUT without taking a byte; then
        // the record is counted as not written and the writer goes on.
        let mut deadline: Option<Instant> = None;
        while written < self.record.len() {
            let rest = &self.record[written..];
            // A FIFO may have other writers: whole lines, PIPE_BUF a call.
            let rest = if self.regular {
                rest
            } else {
                &rest[..pipe_chunk(rest)]
            };
            match file.write(rest) {
                Ok(0) => {
                    return Err(cut(
                        file,
                        self.regular,
                        written,
                        io::ErrorKind::WriteZero.into(),
                    ))
                }
                Ok(n) => {
                    written += n;
                    deadline = None;
                    self.fifo_stalled = false;
                    self.accepted.add(n as u64);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    let until = *deadline.get_or_insert_with(|| Instant::now() + FLUSH_TIMEOUT);
                    // After one wait in vain, a full FIFO fails at once until
                    // it takes a byte again (one wait per stall).
                    if self.fifo_stalled || !wait_writable(&*file, until) {
                        self.fifo_stalled = true;
                        return Err(cut(file, self.regular, written, e));
                    }
                }
                Err(e) => return Err(cut(file, self.regular, written, e)),
            }
        }
        self.size += len;
        Ok(())
    }
}

/// Says what an `open` error means for a log file: a link at the path (it
/// is never followed), or a FIFO no process reads.
fn explain_open(e: io::Error) -> io::Error {
    match e.raw_os_error() {
        Some(libc::ELOOP) => io::Error::new(
            e.kind(),
            "it is a symbolic link, and log files are never written through one \
             (give the link's target as the path)",
        ),
        Some(libc::ENXIO) => io::Error::new(
            e.kind(),
            "it is a FIFO that no process has open for reading (start the reader first)",
        ),
        _ => e,
    }
}

/// Opens a staged rotated file to compress it: never through a link, and
/// only a regular file with no other name (a hard link made to another
/// file, put in its place, is not read into an archive). A name that is
/// not the log file is removed (the name only: never what it points to),
/// so the next rotation is not stuck on it.
fn open_staged(path: &Path) -> io::Result<File> {
    let opened = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path);
    let foreign = match &opened {
        Err(e) => e.raw_os_error() == Some(libc::ELOOP),
        Ok(f) => f
            .metadata()
            .map_or(true, |m| !m.is_file() || m.nlink() != 1),
    };
    if foreign {
        let _ = fs::remove_file(path);
        return Err(io::Error::other(format!(
            "{} is not the rotated log file (a link, or not a regular file with one \
             name): its name is removed, nothing is read or compressed",
            path.display()
        )));
    }
    opened
}

/// After a failed write, cuts off the `written` bytes of the record that did
/// reach the file (a full disk can take part of one), so the file only holds
/// whole records. Appends go to the end, so they are the file's last bytes;
/// the file is only ever shortened, never extended. Returns `err`.
fn cut(file: &File, regular: bool, written: usize, err: io::Error) -> io::Error {
    if regular && written > 0 {
        if let Ok(m) = file.metadata() {
            if let Some(end) = m.len().checked_sub(written as u64) {
                let _ = file.set_len(end);
            }
        }
    }
    err
}

/// Makes room for `staged` as rotated file 1: the rotated files that exist
/// from 1 up to the first gap move up by one (the one at `keep` is
/// deleted), then `staged` becomes file 1. Files past a gap stay where they
/// are, so the work is one `stat` and one rename per existing file, whatever
/// `keep` is. Returns how many `stat`s it made.
fn shift_rotated(c: &FileConfig, staged: &Path) -> io::Result<usize> {
    let mut run = 0;
    let mut stats = 0;
    while run < c.keep && {
        stats += 1;
        fs::symlink_metadata(c.rotated(run + 1)).is_ok()
    } {
        run += 1;
    }
    if run == c.keep {
        fs::remove_file(c.rotated(c.keep))?;
        run -= 1;
    }
    for n in (1..=run).rev() {
        fs::rename(c.rotated(n), c.rotated(n + 1))?;
    }
    if c.compress {
        compress(staged, &c.rotated(1), c.mode)?;
        fs::remove_file(staged)?;
    } else {
        fs::rename(staged, c.rotated(1))?;
    }
    Ok(stats)
}

/// Compresses `from` into `to`, a new name (`O_EXCL`: never through a link,
/// never over a file); a `to` left half written by a failure is removed.
fn compress(from: &Path, to: &Path, mode: u32) -> io::Result<()> {
    let mut input = open_staged(from)?;
    let out = OpenOptions::new()
        .create_new(true)
        .write(true)
        .mode(mode)
        .open(to)?;
    out.set_permissions(Permissions::from_mode(mode))?;
    let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::default());
    let result = io::copy(&mut input, &mut gz).and_then(|_| gz.finish()?.sync_all());
    if result.is_err() {
        let _ = fs::remove_file(to);
    }
    result
}

impl Write for RotatingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.record.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.commit()
    }
}

impl Drop for RotatingFile {
    fn drop(&mut self) {
        // A forked child dropping the parent's copy: what it holds is the
        // parent's to write.
        if crate::fork::generation() == self.born {
            let _ = self.commit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outputs::file_config::MAX_FILE_KEEP;

    /// A fresh directory with `files` in it (name, content).
    fn dir_with(name: &str, files: &[(&str, &str)]) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("slog-host-unit-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        for (f, text) in files {
            fs::write(dir.join(f), text).unwrap();
        }
        dir
    }

    fn read(dir: &Path, name: &str) -> Option<String> {
        fs::read_to_string(dir.join(name)).ok()
    }

    #[test]
    fn shifting_costs_the_files_present_not_keep() {
        let dir = dir_with(
            "shift",
            &[("a.rotating", "new"), ("a.1", "one"), ("a.2", "two")],
        );
        let c = FileConfig::new(dir.join("a")).keep(MAX_FILE_KEEP);
        let stats = shift_rotated(&c, &c.staged()).unwrap();
        assert_eq!(stats, 3, "a.1, a.2 and the gap at a.3: not 1,000");
        assert_eq!(read(&dir, "a.1").as_deref(), Some("new"));
        assert_eq!(read(&dir, "a.2").as_deref(), Some("one"));
        assert_eq!(read(&dir, "a.3").as_deref(), Some("two"));
        assert_eq!(read(&dir, "a.rotating"), None);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn shifting_deletes_the_one_past_keep_and_leaves_files_past_a_gap() {
        let dir = dir_with(
            "shift-full",
            &[
                ("a.rotating", "new"),
                ("a.1", "one"),
                ("a.2", "two"),
                ("a.4", "four"),
            ],
        );
        let c = FileConfig::new(dir.join("a")).keep(2);
        assert_eq!(shift_rotated(&c, &c.staged()).unwrap(), 2);
        assert_eq!(read(&dir, "a.1").as_deref(), Some("new"));
        assert_eq!(read(&dir, "a.2").as_deref(), Some("one"));
        assert_eq!(read(&dir, "a.3"), None, "two was past keep");
        let c = FileConfig::new(dir.join("a")).keep(5);
        fs::write(c.staged(), "newer").unwrap();
        assert_eq!(shift_rotated(&c, &c.staged()).unwrap(), 3);
        assert_eq!(read(&dir, "a.3").as_deref(), Some("one"));
        assert_eq!(read(&dir, "a.4").as_deref(), Some("four"), "past the gap");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn rotated_names() {
        let c = FileConfig::new("/var/log/app.log");
        assert_eq!(c.rotated(2), PathBuf::from("/var/log/app.log.2"));
        assert_eq!(
            c.compress(true).rotated(1),
            PathBuf::from("/var/log/app.log.1.gz")
        );
    }

    #[test]
    fn after_a_size_rotation_the_next_period_still_rotates_by_time() {
        let dir = dir_with("size-then-time", &[]);
        let config = FileConfig::new(dir.join("app.log"))
            .rotate_every(Duration::from_secs(1))
            .max_size(100)
            .keep(1000);
        let mut f = RotatingFile::open(config, "test").unwrap();
        let line = |c: char| format!("{}\n", c.to_string().repeat(59));
        // Period 100 (1970-01-01T00:01:40): two lines, the second rotates by
        // size; then a line of period 101.
        for (text, period) in [(line('a'), 100), (line('b'), 100), (line('c'), 101)] {
            let (failed, e) = f.write_lines(text.as_bytes(), Some(period));
            assert_eq!((failed, e.map(|e| e.to_string())), (0, None));
        }
        assert_eq!(
            read(&dir, "app.log").unwrap(),
            line('c'),
            "the live file: period 101 only"
        );
        assert_eq!(
            read(&dir, "app.log.1970-01-01T00-01-40").unwrap(),
            line('a')
        );
        assert_eq!(
            read(&dir, "app.log.1970-01-01T00-01-40.1").unwrap(),
            line('b')
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn planted_numbers_past_the_grammar_never_name_a_rotated_file() {
        let stamp = "app.log.1970-01-01T00-01-40";
        let dir = dir_with(
            "planted-numbers",
            &[
                (&format!("{stamp}.18446744073709551615"), "planted"),
                (&format!("{stamp}.999999"), "planted"),
            ],
        );
        let config = FileConfig::new(dir.join("app.log"))
            .rotate_every(Duration::from_secs(1))
            .max_size(100)
            .keep(1000);
        let mut f = RotatingFile::open(config, "test").unwrap();
        let line = |c: char| format!("{}\n", c.to_string().repeat(59));
        for (text, period) in [(line('a'), 100), (line('b'), 100)] {
            let (failed, e) = f.write_lines(text.as_bytes(), Some(period));
            assert_eq!((failed, e.map(|e| e.to_string())), (0, None));
        }
        // The top number is taken: the lowest free one, inside the grammar.
        assert_eq!(read(&dir, &format!("{stamp}.1")).unwrap(), line('a'));
        assert_eq!(read(&dir, "app.log").unwrap(), line('b'));
        fs::remove_dir_all(&dir).unwrap();
    }
}
