//! File output: rotation, compression, permissions, full disks.
//!
//! # File output
//!
//! `LOG_FILE=/var/log/orders.log` (or `Output::File(FileConfig::new(path))`) writes to a file that never takes
//! more disk than configured:
//!
//! ```rust,ignore
//! use slog_host::{Builder, FileConfig, Output};
//! let guard = Builder::from_env()?
//!     .output(Output::File(
//!         FileConfig::new("/var/log/orders.log").max_size(10 << 20).keep(3).compress(true).mode(0o640),
//!     ))
//!     .init()?;
//! ```
//!
//! - **Never through a link.** The path is opened with `O_NOFOLLOW`: a symbolic link there is an `init()`
//!   error naming `LOG_FILE` and the path ("it is a symbolic link, and log files are never written through
//!   one"); give the link's target instead. A link put at the path while the service runs is noticed before
//!   the next write (the path no longer names the open file) and its records are counted as write errors,
//!   never written to the target. Rotation renames names (a rename moves a link, never its target),
//!   compresses only a staged file that is a regular file with one name (`O_NOFOLLOW`, link count 1; any
//!   other name is removed, not read), and creates archives with `O_EXCL`. `tests/faults.rs` plants a link
//!   to a 0600 file at the path and at `app.log.1.gz`: the target is untouched and no archive holds it. A
//!   regular file at the path with more than one name (a hard link planted in a shared directory) is
//!   refused the same way. A regular file someone else created at the path is still written (its owner
//!   is not checked): keep the log directory writable by the service alone.
//! - **FIFOs**: opened without waiting (`O_NONBLOCK`): a FIFO no process reads is an `init()` error ("a FIFO
//!   that no process has open for reading"); if the reader leaves later, the lines are counted as write
//!   errors and the FIFO is opened again before each later batch, never blocking. Lines go in whole, at
//!   most 4 KiB a write; a full FIFO is waited for at most `FLUSH_TIMEOUT` without progress.
//! - **Rotation before the limit.** A record that would take the file past `max_size` first rotates it:
//!   `app.log` becomes `app.log.1` (`app.log.1.gz` with `compress`), older files move up one, the one past
//!   `keep` is deleted. Every file holds whole records and is at most `max_size` (unless one record is
//!   larger), so all files together stay within `(keep + 1) * max_size`. Tested: 185,000 records (229 MB)
//!   with 1 MiB files and `keep(3)` left 3,815,833 bytes in 4 files, the newest records all present and in
//!   order; two threads logging through 77 rotations lost and tore nothing.
//! - **Rotation never loses a record.** It first renames the current file to `app.log.rotating`. If that
//!   fails (someone moved the file away, the directory refuses), the rotated files are left exactly as they
//!   are, the failure is reported once on stderr, and the record is written to the path (a new file, or past
//!   `max_size` in the same one). Only the rotated files that exist, up to the first missing number, are
//!   moved, so a rotation costs one `stat` and one rename per file present, whatever `keep` is. Limits:
//!   `keep` at most 1,000 (`MAX_FILE_KEEP`), `max_size` at most 1 TiB (`MAX_FILE_MAX_SIZE`); beyond, `init()`
//!   fails with an error naming the setting. Tested: the file moved away (`mv`) every 2 ms while 20,000
//!   records rotate through 32 KiB files: every record found exactly once, whole; a rotation blocked by a
//!   directory in the way left `app.log.1` and `app.log.2` untouched and lost nothing.
//! - **Permissions** are set exactly (default `0o640`), whatever the umask, on the log file, rotated files and
//!   compressed files.
//! - **Write faults never stop the service.** A failed write (disk full, directory removed, permission
//!   denied) is counted (`LogGuard::write_errors()`, `output_failing()`, `last_write_error()`), reported once
//!   on stderr when writing starts failing and once when it works again, and the next record retries from
//!   the path. The part of a record that a full disk did take is cut off again (the file is shortened by
//!   exactly those bytes, never extended), so the file only holds whole lines. Tested on a full tmpfs (every
//!   record either written or counted, then writing resumes when space returns), on `/dev/full`, and with
//!   the log directory removed and re-created.
//! - **Batched writes.** The writer hands the file a whole batch of records: the records that fit before
//!   `max_size` go in one `write`, so a batch costs one `stat` and one `write` (plus a rotation when one is
//!   due), not one per record.
//! - **Someone else's hands on the file.** Before every write the writer looks at the path (one `stat`, on
//!   the writer thread): a file that was removed, moved or replaced (logrotate's default `create` mode, an
//!   operator's `mv` or `rm`) is noticed and the path reopened before the record is written; a file
//!   truncated in place (logrotate's `copytruncate`) is measured again, so rotation follows its real size and
//!   an empty file is never rotated. Tested: three rounds of copy, truncate and a full disk on a 256 KiB
//!   tmpfs left no NUL byte and only whole lines. (Records written between logrotate's copy and its
//!   truncation are lost; that race is `copytruncate`'s own, so prefer the `create` mode.)
//! - Devices and pipes (`LOG_FILE=/dev/stderr`) are written but never rotated.
//! - Not a separate process: rotation and compression run on the writer thread, so a slow disk delays the
//!   writer, and with `Overflow::Block` eventually the loggers; `Overflow::DropAndReport` trades that for
//!   counted drops.
//!
//! # Rotation by time, retention by age
//!
//! `LOG_FILE_ROTATE_EVERY` / [`FileConfig::rotate_every`](crate::FileConfig::rotate_every)
//! and `LOG_FILE_MAX_AGE` / [`FileConfig::max_age`](crate::FileConfig::max_age):
//! the naming, the periods and what retention deletes are in
//! [`FileConfig`](crate::FileConfig)'s documentation. `tests/outputs/rotation.rs`
//! checks, over 5 s of records at `1s` with size rotation also due, that
//! every record is in exactly one file, each file's records belong to the
//! second its name says, and a quiet second makes no file.
//!
//! Several processes writing one time-rotated file (a pre-fork server, two
//! replicas on one volume) each rotate by their own clock and queue: around
//! a period's end, a process that has not rotated yet can still append a few
//! records of the old period to the file another process just opened for
//! the new one (7, 5 and 5 of 1,600 records in three reported trials with
//! `1s` periods). No record is lost or cut, but a file's
//! period is then exact only per process. Give each process its own file
//! (`LOG_FILE=/var/log/app-$(hostname)-$$.log`, or one per replica) when
//! periods must be exact.
//!
//! ## Collectors that tail the files
//!
//! A collector that tails files itself (OpenTelemetry filelog, Vector, Fluent Bit) should include the
//! rotated names (`app.log*`) and follow by file identity, so that it finishes a renamed file; it loses
//! records when files rotate faster than it looks at them (when this was written, syslog-ng 3.38's
//! `wildcard-file()` with its defaults lost the end of renamed 1 MiB files at 20,000 records/s, and
//! `file()` polling every 10 ms skipped whole 64 KiB files): keep each file alive for several of the
//! collector's polls, e.g. a size of tens of MiB or a period of a minute or more. Periods count from
//! the Unix epoch, so `LOG_FILE_ROTATE_EVERY=7d` starts on Thursdays.
