//! File output: rotation bounds the disk use, records stay whole and in
//! order across rotations, write faults are counted and recovered from, and
//! files get the configured permissions. Private pipelines in this process;
//! a suite of the `outputs` test binary (`main.rs`, `harness = false`).

use std::collections::HashMap;
use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::{capture, runner};

use capture::wait_for;
use slog_host::{Builder, FileConfig, Format, LogGuard, Output};

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("slog-host-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn start(file: FileConfig) -> LogGuard {
    Builder::new()
        .global(false)
        .flood(None)
        .format(Format::Json)
        .output(Output::File(file))
        .init()
        .unwrap()
}

/// The log files in `dir`, oldest first: `app.log.N` ... `app.log.1`, `app.log`.
fn files_oldest_first(dir: &Path) -> Vec<PathBuf> {
    let mut rotated: Vec<(usize, PathBuf)> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?.to_owned();
            let n = name
                .strip_prefix("app.log.")?
                .trim_end_matches(".gz")
                .parse()
                .ok()?;
            Some((n, p))
        })
        .collect();
    rotated.sort_by_key(|r| std::cmp::Reverse(r.0));
    let mut files: Vec<PathBuf> = rotated.into_iter().map(|(_, p)| p).collect();
    files.push(dir.join("app.log"));
    files
}

fn read_text(path: &Path) -> String {
    let bytes = fs::read(path).unwrap();
    if path.extension().is_some_and(|e| e == "gz") {
        let mut text = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut text)
            .unwrap();
        text
    } else {
        String::from_utf8(bytes).unwrap()
    }
}

/// The `msg` of every line of one file (a torn line fails here).
fn messages(path: &Path) -> Vec<String> {
    read_text(path)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("torn line in {path:?} ({e}): {l}"));
            v["msg"].as_str().unwrap().to_owned()
        })
        .collect()
}

/// Every line of every file, oldest first, parsed (a torn line fails here).
fn records(dir: &Path) -> Vec<serde_json::Value> {
    files_oldest_first(dir)
        .iter()
        .flat_map(|f| {
            read_text(f)
                .lines()
                .map(|l| {
                    serde_json::from_str(l)
                        .unwrap_or_else(|e| panic!("torn line in {f:?} ({e}): {l}"))
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

fn total_size(dir: &Path) -> u64 {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum()
}

fn two_hundred_megabytes_into_1mb_files_keep_3_stay_under_4mb() {
    const MAX: u64 = 1 << 20;
    let dir = TempDir::new("bound");
    let guard = start(FileConfig::new(dir.0.join("app.log")).max_size(MAX).keep(3));
    // 185,000 records of about 1,190 bytes each: over 200 MB.
    const N: u64 = 185_000;
    let payload = "x".repeat(1000);
    for seq in 0..N {
        slog::info!(guard.logger(), "record"; "seq" => seq, "payload" => &payload);
    }
    drop(guard);

    let files = files_oldest_first(&dir.0);
    let names: Vec<_> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        vec!["app.log.3", "app.log.2", "app.log.1", "app.log"]
    );
    let longest = records(&dir.0)
        .iter()
        .map(|r| r.to_string().len() as u64 + 1)
        .max()
        .unwrap();
    let total = total_size(&dir.0);
    let shortest = records(&dir.0)
        .iter()
        .map(|r| r.to_string().len() as u64 + 1)
        .min()
        .unwrap();
    println!(
        "{N} records ({} MB at least) written; {total} bytes kept in 4 files",
        (N * shortest) >> 20
    );
    assert!(N * shortest > 200 << 20, "at least 200 MB written");
    assert!(total <= 4 * MAX + longest, "{total} bytes kept");
    for f in &files {
        assert!(
            fs::metadata(f).unwrap().len() <= MAX,
            "{f:?} over the limit"
        );
    }
    let kept = records(&dir.0);
    let seqs: Vec<u64> = kept.iter().map(|r| r["seq"].as_u64().unwrap()).collect();
    assert_eq!(*seqs.last().unwrap(), N - 1, "the newest record is kept");
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "kept records are contiguous and in order"
    );
    // Rotation happens only when the next record does not fit, so every
    // rotated file is fuller than the limit minus one record.
    for f in &files[..3] {
        let size = fs::metadata(f).unwrap().len();
        assert!(size > MAX - longest, "{f:?} rotated early: {size} bytes");
    }
}

fn rotation_while_two_threads_log_loses_and_tears_nothing() {
    // Enough rotated files to keep everything: every record of both threads
    // must be found exactly once, whole, in order, across about 80 rotations.
    const PER_THREAD: u64 = 20_000;
    let dir = TempDir::new("threads");
    let guard = start(
        FileConfig::new(dir.0.join("app.log"))
            .max_size(256 << 10)
            .keep(100),
    );
    let payload = "y".repeat(300);
    std::thread::scope(|s| {
        for t in 0..2u64 {
            let log = guard.logger().clone();
            let payload = &payload;
            s.spawn(move || {
                for seq in 0..PER_THREAD {
                    slog::info!(log, "record"; "thread" => t, "seq" => seq, "payload" => payload);
                }
            });
        }
    });
    drop(guard);
    let files = files_oldest_first(&dir.0).len();
    assert!(files > 50, "rotated while logging: {files} files");
    assert!(files <= 101);
    let mut per_thread: HashMap<u64, Vec<u64>> = HashMap::new();
    let mut interleaved = 0;
    let mut last_thread = None;
    for r in records(&dir.0) {
        let t = r["thread"].as_u64().unwrap();
        interleaved += usize::from(last_thread.is_some_and(|l| l != t));
        last_thread = Some(t);
        per_thread
            .entry(t)
            .or_default()
            .push(r["seq"].as_u64().unwrap());
    }
    println!("{files} files; the two threads' records alternate {interleaved} times");
    assert!(interleaved > 10, "the threads logged at the same time");
    for t in 0..2 {
        let expected: Vec<u64> = (0..PER_THREAD).collect();
        assert_eq!(
            per_thread[&t], expected,
            "thread {t}: every record once, in order"
        );
    }
}

fn writing_to_dev_full_counts_errors_and_never_panics() {
    let guard = start(FileConfig::new("/dev/full"));
    for i in 0..100 {
        slog::info!(guard.logger(), "record"; "i" => i);
    }
    wait_for(|| guard.write_errors() == 100, "100 write errors");
    assert!(guard.output_failing());
    assert!(guard
        .last_write_error()
        .unwrap()
        .contains("No space left on device"));
    drop(guard); // no panic, and /dev/full is not rotated away
    assert!(Path::new("/dev/full").exists());
}

fn a_removed_log_directory_is_counted_and_logging_resumes_when_it_returns() {
    let dir = TempDir::new("removed");
    let logs = dir.0.join("logs");
    fs::create_dir(&logs).unwrap();
    let guard = start(FileConfig::new(logs.join("app.log")));
    let log = guard.logger();
    slog::info!(log, "before the fault");
    wait_for(
        || line_count(&logs.join("app.log"), "before the fault") == 1,
        "the first record",
    );

    fs::remove_dir_all(&logs).unwrap();
    // The writer looks at the path before every record: the next one fails.
    for i in 0..10 {
        slog::info!(log, "during the fault"; "i" => i);
    }
    wait_for(|| guard.write_errors() == 10, "10 write errors");
    assert!(guard.output_failing());

    fs::create_dir(&logs).unwrap(); // the fault clears
    slog::info!(log, "after the fault");
    wait_for(|| !guard.output_failing(), "recovery");
    drop(guard);
    let msgs = messages(&logs.join("app.log"));
    assert_eq!(msgs, vec!["after the fault"]);
}

fn rotated_files_can_be_compressed() {
    let dir = TempDir::new("gzip");
    let guard = start(
        FileConfig::new(dir.0.join("app.log"))
            .max_size(64 << 10)
            .keep(2)
            .compress(true),
    );
    for seq in 0..5000u64 {
        slog::info!(guard.logger(), "record"; "seq" => seq, "payload" => "z".repeat(100));
    }
    drop(guard);
    let names: Vec<String> = files_oldest_first(&dir.0)
        .iter()
        .map(|f| f.file_name().unwrap().to_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, vec!["app.log.2.gz", "app.log.1.gz", "app.log"]);
    let seqs: Vec<u64> = records(&dir.0)
        .iter()
        .map(|r| r["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(*seqs.last().unwrap(), 4999);
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1));
    assert!(fs::metadata(dir.0.join("app.log.1.gz")).unwrap().len() < 64 << 10);
}

fn files_get_the_configured_permissions_whatever_the_umask() {
    // SAFETY: umask only changes the mask for files created afterwards; the
    // files this test checks are created by the pipeline it starts.
    let old = unsafe { libc::umask(0o077) };
    let mode_of = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    for (mode, compress) in [(None, false), (Some(0o600), false), (Some(0o644), true)] {
        let dir = TempDir::new(&format!("mode-{mode:?}-{compress}"));
        let mut config = FileConfig::new(dir.0.join("app.log"))
            .max_size(4096)
            .keep(1)
            .compress(compress);
        if let Some(m) = mode {
            config = config.mode(m);
        }
        let guard = start(config);
        for i in 0..100 {
            slog::info!(guard.logger(), "record"; "i" => i);
        }
        drop(guard);
        let expected = mode.unwrap_or(slog_host::file::DEFAULT_FILE_MODE);
        for f in files_oldest_first(&dir.0) {
            assert_eq!(mode_of(&f), expected, "{f:?}");
        }
        assert_eq!(files_oldest_first(&dir.0).len(), 2, "rotated once at least");
    }
    unsafe { libc::umask(old) };
}

/// A tmpfs mounted for one test, unmounted on drop.
struct SmallFs(TempDir);

impl SmallFs {
    /// Mounts a tmpfs of `size`; needs root. Without it the test fails and
    /// says why, unless `SLOG_HOST_NO_MOUNT=1` skips it with a warning.
    fn mount(name: &str, size: &str) -> Option<SmallFs> {
        let dir = TempDir::new(name);
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir.0)
            .status();
        match status {
            Ok(s) if s.success() => Some(SmallFs(dir)),
            other if std::env::var_os("SLOG_HOST_NO_MOUNT").is_some() => {
                eprintln!(
                    "\n!!!!! cannot mount a tmpfs ({other:?}): the full-disk test was NOT run\n"
                );
                None
            }
            other => panic!(
                "cannot mount a tmpfs for the full-disk test ({other:?}); it needs root. \
                 Set SLOG_HOST_NO_MOUNT=1 to skip it knowingly."
            ),
        }
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(&self.0 .0)
            .status();
    }
}

fn a_full_disk_is_counted_and_logging_resumes_when_space_returns() {
    use std::io::Write;
    let Some(fs_) = SmallFs::mount("fulldisk", "256k") else {
        return;
    };
    let dir = &fs_.0 .0;
    let guard = start(FileConfig::new(dir.join("app.log")));
    let log = guard.logger();
    slog::info!(log, "before the disk fills");
    wait_for(
        || fs::metadata(dir.join("app.log")).unwrap().len() > 0,
        "the first record",
    );

    // Another file takes every free byte.
    let mut filler = fs::File::create(dir.join("filler")).unwrap();
    let block = vec![0u8; 4096];
    while filler.write(&block).is_ok_and(|n| n > 0) {}
    let _ = filler.write_all(&block[..1]); // down to the last byte
    drop(filler);

    for i in 0..20 {
        slog::info!(log, "while the disk is full"; "i" => i, "payload" => "w".repeat(200));
    }
    // tmpfs allocates by the page: the records that still fit in the log
    // file's last page are written, the rest fail. Each is one or the other.
    let written_while_full = || {
        fs::read_to_string(dir.join("app.log"))
            .unwrap()
            .lines()
            .filter(|l| l.contains("while the disk is full"))
            .count() as u64
    };
    wait_for(
        || written_while_full() + guard.write_errors() == 20,
        "all 20 records handled",
    );
    let failed = guard.write_errors();
    println!(
        "disk full: {} records written into the last page, {failed} counted as errors",
        20 - failed
    );
    assert!(failed > 0, "the disk was full");
    assert!(guard.output_failing());
    assert!(guard
        .last_write_error()
        .unwrap()
        .contains("No space left on device"));

    fs::remove_file(dir.join("filler")).unwrap(); // space returns
    slog::info!(log, "after space returns");
    wait_for(|| !guard.output_failing(), "recovery");
    drop(guard);

    let msgs = messages(&dir.join("app.log"));
    assert_eq!(
        msgs.first().map(String::as_str),
        Some("before the disk fills")
    );
    assert_eq!(msgs.last().map(String::as_str), Some("after space returns"));
    assert_eq!(
        msgs.len() as u64,
        2 + 20 - failed,
        "written + failed = logged"
    );
}

/// The lines of `path` (0 if it does not exist), for waiting on the writer.
fn line_count(path: &Path, containing: &str) -> usize {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(containing))
        .count()
}

/// Truncates `path` to zero in place, as logrotate's `copytruncate` does
/// after copying it.
fn truncate_in_place(path: &Path) {
    fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(0)
        .unwrap();
}

/// Fills the file system of `dir` with a file `filler`, to the last byte.
fn fill_disk(dir: &Path) {
    use std::io::Write;
    let mut filler = fs::File::create(dir.join("filler")).unwrap();
    let block = vec![1u8; 4096];
    while filler.write(&block).is_ok_and(|n| n > 0) {}
    while filler.write(&block[..1]).is_ok_and(|n| n > 0) {}
}

fn copytruncate_then_a_full_disk_leaves_no_nul_byte_and_only_whole_lines() {
    let Some(fs_) = SmallFs::mount("copytruncate", "256k") else {
        return;
    };
    let dir = &fs_.0 .0;
    let path = dir.join("app.log");
    let guard = start(FileConfig::new(&path).max_size(1 << 20));
    let log = guard.logger();
    let payload = "c".repeat(200);
    for round in 0..3u64 {
        for i in 0..100 {
            slog::info!(log, "before"; "round" => round, "i" => i, "payload" => &payload);
        }
        let tag = format!("\"round\":{round}");
        let before = || {
            fs::read_to_string(&path)
                .unwrap()
                .lines()
                .filter(|l| l.contains("\"before\"") && l.contains(&tag))
                .count()
        };
        wait_for(|| before() == 100, "100 records before the truncation");

        // copytruncate: copy, then truncate in place; the writer keeps its
        // file open and its old idea of the size.
        let copy = dir.join(format!("app.log.copy{round}"));
        fs::copy(&path, &copy).unwrap();
        truncate_in_place(&path);
        assert!(!fs::read(&copy).unwrap().contains(&0), "copy {round}");
        messages(&copy); // whole lines
        fs::remove_file(&copy).unwrap();

        // Now the disk fills: records fail or fit, and the file must not be
        // grown back to the size it had before the truncation.
        fill_disk(dir);
        let errors_before = guard.write_errors();
        for i in 0..20 {
            slog::info!(log, "while full"; "round" => round, "i" => i, "payload" => &payload);
        }
        wait_for(
            || line_count(&path, "while full") as u64 + guard.write_errors() - errors_before == 20,
            "20 records written or counted",
        );
        assert!(guard.write_errors() > errors_before, "the disk was full");
        let bytes = fs::read(&path).unwrap();
        assert!(
            !bytes.contains(&0),
            "round {round}: NUL bytes in the log file ({} bytes)",
            bytes.len()
        );
        fs::remove_file(dir.join("filler")).unwrap();
        slog::info!(log, "after"; "round" => round);
        wait_for(|| !guard.output_failing(), "recovery");
    }
    drop(guard);
    let bytes = fs::read(&path).unwrap();
    assert!(!bytes.contains(&0), "NUL bytes in the log file");
    let msgs = messages(&path); // every line whole
    assert_eq!(msgs.last().map(String::as_str), Some("after"));
    println!(
        "after 3 copytruncates on a full disk: {} whole lines, {} bytes, no NUL",
        msgs.len(),
        bytes.len()
    );
}

/// `max_size` for the tests below: two records of a 1,000-byte payload fit,
/// three do not.
const TWO_RECORDS: u64 = 3500;

/// Checks the assumption behind [`TWO_RECORDS`] on the first line of `path`.
fn assert_two_records_fit(path: &Path) {
    let first = fs::read_to_string(path).unwrap();
    let len = first.lines().next().unwrap().len() as u64 + 1;
    assert!(
        2 * len <= TWO_RECORDS && 3 * len > TWO_RECORDS,
        "test assumption: a record of {len} bytes"
    );
}

fn a_file_moved_away_before_a_due_rotation_loses_no_record() {
    let dir = TempDir::new("moved");
    let path = dir.0.join("app.log");
    let guard = start(FileConfig::new(&path).max_size(TWO_RECORDS).keep(3));
    let log = guard.logger();
    let payload = "m".repeat(1000);
    slog::info!(log, "first"; "payload" => &payload);
    wait_for(|| line_count(&path, "first") == 1, "the first record");
    assert_two_records_fit(&path);

    // `mv app.log app.log.x`: the writer still has it open and, by its own
    // count, is due to rotate at the second record from now.
    fs::rename(&path, dir.0.join("app.log.x")).unwrap();
    for i in 0..2 {
        slog::info!(log, "after the move"; "i" => i, "payload" => &payload);
    }
    drop(guard);

    assert_eq!(messages(&dir.0.join("app.log.x")), vec!["first"]);
    assert_eq!(
        messages(&path),
        vec!["after the move"; 2],
        "written to a new file at the path"
    );
    let mut names: Vec<String> = fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, vec!["app.log", "app.log.x"], "nothing rotated");
}

fn moving_the_file_again_and_again_while_it_rotates_loses_and_tears_nothing() {
    const N: u64 = 20_000;
    let dir = TempDir::new("mv-race");
    let path = dir.0.join("app.log");
    // Enough rotated files to keep everything: every record must be found.
    let guard = start(
        FileConfig::new(&path)
            .max_size(32 << 10)
            .keep(slog_host::file::MAX_FILE_KEEP),
    );
    use std::sync::atomic::{AtomicBool, Ordering};
    /// Stops the mover however the scope ends, so a failure cannot hang.
    struct Done<'a>(&'a AtomicBool);
    impl Drop for Done<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    let done = AtomicBool::new(false);
    let moves = std::thread::scope(|s| {
        let stop = Done(&done);
        let mover = s.spawn(|| {
            let mut moves = 0u64;
            while !done.load(Ordering::Relaxed) {
                if fs::rename(&path, dir.0.join(format!("moved.{moves}"))).is_ok() {
                    moves += 1;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            moves
        });
        let payload = "r".repeat(200);
        for seq in 0..N {
            slog::info!(guard.logger(), "record"; "seq" => seq, "payload" => &payload);
        }
        guard.logger().flush().ok();
        wait_for(
            || {
                fs::read_dir(&dir.0)
                    .unwrap()
                    .map(|e| line_count(&e.unwrap().path(), "\"record\""))
                    .sum::<usize>()
                    == N as usize
            },
            "every record in some file",
        );
        drop(stop);
        mover.join().unwrap()
    });
    drop(guard);

    let mut seen = vec![0u32; N as usize];
    let mut rotated = 0;
    for entry in fs::read_dir(&dir.0).unwrap() {
        let f = entry.unwrap().path();
        let name = f.file_name().unwrap().to_str().unwrap().to_owned();
        assert!(!name.ends_with(".rotating"), "a rotation left {name}");
        rotated += usize::from(name.starts_with("app.log."));
        for line in read_text(&f).lines() {
            let v: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("torn line in {f:?} ({e}): {line}"));
            seen[v["seq"].as_u64().unwrap() as usize] += 1;
        }
    }
    println!("{N} records, {moves} moves, {rotated} rotated files");
    assert!(moves > 10, "the file was moved while logging: {moves}");
    assert!(rotated > 10, "rotated while logging: {rotated}");
    let wrong: Vec<_> = seen.iter().enumerate().filter(|(_, n)| **n != 1).collect();
    assert!(
        wrong.is_empty(),
        "records not found exactly once: {wrong:?}"
    );
}

fn a_rotation_that_cannot_move_the_file_leaves_rotated_files_untouched() {
    let dir = TempDir::new("stuck");
    let path = dir.0.join("app.log");
    fs::write(dir.0.join("app.log.1"), "one\n").unwrap();
    fs::write(dir.0.join("app.log.2"), "two\n").unwrap();
    // The current file is moved aside first; a directory in the way makes
    // that rename fail (EISDIR), as a read-only directory would for a
    // non-root user.
    let blocker = dir.0.join("app.log.rotating");
    fs::create_dir_all(blocker.join("x")).unwrap();
    let guard = start(FileConfig::new(&path).max_size(1000).keep(3));
    let payload = "s".repeat(300);
    for i in 0..10 {
        slog::info!(guard.logger(), "stuck"; "i" => i, "payload" => &payload);
    }
    wait_for(|| line_count(&path, "stuck") == 10, "10 records");
    assert_eq!(
        fs::read_to_string(dir.0.join("app.log.1")).unwrap(),
        "one\n"
    );
    assert_eq!(
        fs::read_to_string(dir.0.join("app.log.2")).unwrap(),
        "two\n"
    );
    assert!(!dir.0.join("app.log.3").exists());
    assert_eq!(guard.write_errors(), 0, "no record lost");

    fs::remove_dir_all(&blocker).unwrap(); // rotation works again
    slog::info!(guard.logger(), "rotated");
    drop(guard);
    assert_eq!(messages(&path), vec!["rotated"]);
    assert_eq!(messages(&dir.0.join("app.log.1")), vec!["stuck"; 10]);
    assert_eq!(
        fs::read_to_string(dir.0.join("app.log.2")).unwrap(),
        "one\n"
    );
    assert_eq!(
        fs::read_to_string(dir.0.join("app.log.3")).unwrap(),
        "two\n"
    );
}

fn an_externally_truncated_file_is_measured_again_and_never_rotated_empty() {
    let dir = TempDir::new("truncated");
    let path = dir.0.join("app.log");
    let guard = start(FileConfig::new(&path).max_size(TWO_RECORDS).keep(3));
    let log = guard.logger();
    let payload = "t".repeat(1000);
    for i in 0..2 {
        slog::info!(log, "before"; "i" => i, "payload" => &payload);
    }
    wait_for(|| line_count(&path, "before") == 2, "2 records");
    assert_two_records_fit(&path);
    truncate_in_place(&path);
    // By the writer's old count the file is full; it is empty now.
    slog::info!(log, "after the truncation"; "payload" => &payload);
    wait_for(|| line_count(&path, "after") == 1, "the record");
    assert!(
        !dir.0.join("app.log.1").exists(),
        "an empty file was rotated"
    );
    // A record larger than max_size into an empty file: no rotation either.
    for i in 0..3 {
        slog::info!(log, "more"; "i" => i, "payload" => &payload);
    }
    slog::info!(log, "huge"; "payload" => "h".repeat(5000));
    drop(guard);
    let rotated: Vec<PathBuf> = files_oldest_first(&dir.0)
        .into_iter()
        .filter(|f| f != &path)
        .collect();
    assert!(!rotated.is_empty());
    for f in &rotated {
        assert!(fs::metadata(f).unwrap().len() > 0, "{f:?} is empty");
    }
    assert_eq!(messages(&path), vec!["huge"]);
}

fn keep_and_max_size_past_their_maximum_are_errors_naming_the_setting() {
    let dir = TempDir::new("bounds");
    let path = dir.0.join("app.log");
    let init = |c: FileConfig| {
        Builder::new()
            .global(false)
            .output(Output::File(c))
            .init()
            .map(drop)
    };
    let e = init(FileConfig::new(&path).keep(slog_host::file::MAX_FILE_KEEP + 1)).unwrap_err();
    assert_eq!(e.setting(), Some("file keep"));
    assert!(e.to_string().contains("at most 1000"), "{e}");
    let e = init(FileConfig::new(&path).keep(usize::MAX)).unwrap_err();
    assert_eq!(e.setting(), Some("file keep"));
    let e =
        init(FileConfig::new(&path).max_size(slog_host::file::MAX_FILE_MAX_SIZE + 1)).unwrap_err();
    assert_eq!(e.setting(), Some("file max size"));
    let e = init(FileConfig::new(&path).max_size(0)).unwrap_err();
    assert_eq!(e.setting(), Some("file max size"));
    assert!(!path.exists(), "nothing opened on a failed init");
    init(FileConfig::new(&path).keep(slog_host::file::MAX_FILE_KEEP)).unwrap();
}

crate::suite!(
    tests: [
        two_hundred_megabytes_into_1mb_files_keep_3_stay_under_4mb,
        rotation_while_two_threads_log_loses_and_tears_nothing,
        writing_to_dev_full_counts_errors_and_never_panics,
        a_removed_log_directory_is_counted_and_logging_resumes_when_it_returns,
        rotated_files_can_be_compressed,
        files_get_the_configured_permissions_whatever_the_umask,
        a_full_disk_is_counted_and_logging_resumes_when_space_returns,
        copytruncate_then_a_full_disk_leaves_no_nul_byte_and_only_whole_lines,
        a_file_moved_away_before_a_due_rotation_loses_no_record,
        moving_the_file_again_and_again_while_it_rotates_loses_and_tears_nothing,
        a_rotation_that_cannot_move_the_file_leaves_rotated_files_untouched,
        an_externally_truncated_file_is_measured_again_and_never_rotated_empty,
        keep_and_max_size_past_their_maximum_are_errors_naming_the_setting,
    ]
);
