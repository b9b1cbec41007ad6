//! Faults from around the pipeline, each from a small program that uses
//! only the public API: forks while other threads log, a forked child that
//! drops its guard while the parent writes to a slow pipe, a caller holding
//! the stdout lock, a FIFO without a reader and one whose reader leaves, a
//! symbolic link at the log path and at a rotated name, an output that never
//! returns from a write, and synchronous writes after the guard with a tiny
//! queue. Every scenario runs in a child copy of this binary under a
//! timeout, so a hang is a failure, not a stuck test run.
//!
//! This file has `harness = false`; it prints `N passed, N failed` at the end.
//! It uses `unsafe` for `fork`, `waitpid`, `kill` and `_exit` (std has no
//! fork), each call commented; the library itself has one audited `unsafe`
//! call (its `pthread_atfork` registration, `src/fork.rs`).

mod support;

use support::{capture, runner};

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use capture::Buf;
use slog::{debug, info};
use slog_host::file::FileConfig;
use slog_host::pipeline::FLUSH_TIMEOUT;
use slog_host::{Builder, Format, LogGuard, Output, Overflow};

/// Forks in the fork storm (a reproducer that once hung 13 of 200 children
/// with 3 logging threads).
const FORKS: u64 = 200;
/// How long a forked child may take to log, flush or drop, and exit.
const CHILD_BOUND: Duration = Duration::from_secs(20);

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("slog-host-faults-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// Forks; in the child runs `f` and leaves with `_exit(0)` (no destructors,
/// no atexit: what a pre-fork server's worker does).
fn fork_child(f: impl FnOnce()) -> libc::pid_t {
    // SAFETY: fork has no memory-safety preconditions; the child runs only
    // `f` (which logs through the crate, as a forked service would) and
    // leaves with _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        f();
        // SAFETY: ends the child without running the parent's destructors.
        unsafe { libc::_exit(0) };
    }
    pid
}

/// Waits for `pid` at most `bound`; kills it and returns false if it is
/// still running then.
fn exited_within(pid: libc::pid_t, bound: Duration) -> bool {
    let start = Instant::now();
    loop {
        let mut status = 0;
        // SAFETY: waits for our own child, without blocking.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            return true;
        }
        if start.elapsed() >= bound {
            // SAFETY: kills and reaps our own child.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, &mut status, 0);
            }
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Threads that log DEBUG records in a loop until `stop`.
fn noise(
    guard: &LogGuard,
    threads: usize,
    stop: &Arc<AtomicBool>,
) -> Vec<std::thread::JoinHandle<()>> {
    (0..threads)
        .map(|t| {
            let (log, stop) = (guard.logger().clone(), Arc::clone(stop));
            std::thread::spawn(move || {
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    debug!(log, "noise"; "t" => t, "i" => i);
                    i += 1;
                }
            })
        })
        .collect()
}

fn child(name: &str) -> Result<(), String> {
    let dir = std::env::var("FAULTS_DIR").map(PathBuf::from);
    match name {
        "fork_storm" => {
            let dir = dir.unwrap();
            // Three threads' DEBUG records go to /dev/null at full speed (so
            // forks land while they push); the INFO file gets the children's.
            let guard = Builder::new()
                .global(false)
                .flood(None)
                .format(Format::Json)
                .output(Output::File(FileConfig::new("/dev/null")))
                .filter("debug")
                .unwrap()
                .tee(
                    Output::File(FileConfig::new(dir.join("app.log"))),
                    Format::Json,
                    "info",
                )
                .unwrap()
                .init()
                .map_err(|e| e.to_string())?;
            let stop = Arc::new(AtomicBool::new(false));
            let threads = noise(&guard, 3, &stop);
            let mut guard = Some(guard);
            let mut hung = 0;
            for i in 0..FORKS {
                let pid = fork_child(|| {
                    let g = guard.take().unwrap();
                    info!(g.logger(), "child"; "i" => i);
                    // Half flush and exit with the guard, half drop it.
                    if i % 2 == 0 {
                        g.flush();
                        std::mem::forget(g);
                    } else {
                        drop(g);
                    }
                });
                if !exited_within(pid, CHILD_BOUND) {
                    hung += 1;
                }
            }
            // The control: a child that never exits is counted as hung.
            let control = fork_child(|| loop {
                std::thread::sleep(Duration::from_secs(1));
            });
            let control_hung = !exited_within(control, Duration::from_millis(200));
            stop.store(true, Ordering::Relaxed);
            for t in threads {
                t.join().unwrap();
            }
            drop(guard);
            println!("{{\"hung\":{hung},\"control_hung\":{control_hung}}}");
        }
        "slow_pipe" => {
            // Stdout is a pipe the test reads slowly: the writer thread is
            // mostly inside a write to it when the children fork.
            let guard = Builder::new()
                .global(false)
                .flood(None)
                .format(Format::Json)
                .output(Output::Stdout)
                .init()
                .map_err(|e| e.to_string())?;
            let stop = Arc::new(AtomicBool::new(false));
            let log = guard.logger().clone();
            let s = Arc::clone(&stop);
            let t = std::thread::spawn(move || {
                let mut i = 0u64;
                while !s.load(Ordering::Relaxed) {
                    info!(log, "noise"; "i" => i, "pad" => "x".repeat(200));
                    i += 1;
                }
            });
            let mut guard = Some(guard);
            let mut hung = 0;
            for i in 0..20u64 {
                let pid = fork_child(|| {
                    let g = guard.take().unwrap();
                    info!(g.logger(), "child"; "i" => i);
                    drop(g);
                });
                if !exited_within(pid, CHILD_BOUND) {
                    hung += 1;
                }
            }
            stop.store(true, Ordering::Relaxed);
            t.join().unwrap();
            drop(guard);
            eprintln!("{{\"hung\":{hung}}}");
        }
        "stdout_lock" => {
            let guard = Builder::new()
                .global(false)
                .flood(None)
                .format(Format::Json)
                .output(Output::Stdout)
                .channel_size(64)
                .overflow(Overflow::Block)
                .init()
                .map_err(|e| e.to_string())?;
            let log = guard.logger().clone();
            let held = std::io::stdout().lock();
            info!(log, "held");
            let first = guard.flush();
            for i in 0..20_000u64 {
                info!(log, "r"; "i" => i);
            }
            let second = guard.flush();
            drop(guard);
            drop(held);
            eprintln!("{{\"first\":{first},\"second\":{second}}}");
        }
        "fifo_no_reader" => {
            let err = match slog_host::init() {
                Ok(_) => return Err("init() accepted a FIFO without a reader".into()),
                Err(e) => e.to_string(),
            };
            eprintln!("{err}");
        }
        "fifo_reader_leaves" => {
            let guard = slog_host::init().map_err(|e| e.to_string())?;
            let log = guard.logger().clone();
            for i in 0..100u64 {
                info!(log, "before"; "i" => i);
            }
            let before = guard.flush();
            // The test reads 100 lines and closes the FIFO: log until a
            // write fails (bounded).
            let start = Instant::now();
            while guard.write_errors() == 0 {
                info!(log, "probe");
                guard.flush();
                if start.elapsed() > Duration::from_secs(30) {
                    return Err("no write error after the reader left".into());
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            for i in 0..1000u64 {
                info!(log, "after"; "i" => i);
            }
            let after = guard.flush();
            let errors = guard.write_errors();
            drop(guard);
            eprintln!("{{\"before\":{before},\"after\":{after},\"errors\":{errors}}}");
        }
        "symlink_at_path" => match slog_host::init() {
            Ok(_) => return Err("init() wrote through a symbolic link".into()),
            Err(e) => eprintln!("{e}"),
        },
        "symlink_later" => {
            let dir = dir.unwrap();
            let path = dir.join("app.log");
            let guard = Builder::new()
                .global(false)
                .flood(None)
                .format(Format::Json)
                .output(Output::File(
                    FileConfig::new(&path).max_size(2048).keep(3).compress(true),
                ))
                .init()
                .map_err(|e| e.to_string())?;
            let log = guard.logger().clone();
            for i in 0..40u64 {
                info!(log, "rotating"; "i" => i, "pad" => "y".repeat(100));
                guard.flush();
            }
            // The attacker replaces the log with a link to the secret.
            std::fs::remove_file(&path).unwrap();
            std::os::unix::fs::symlink(dir.join("secret"), &path).unwrap();
            for i in 0..40u64 {
                info!(log, "after the link"; "i" => i, "pad" => "z".repeat(100));
                guard.flush();
            }
            let errors = guard.write_errors();
            drop(guard);
            eprintln!("{{\"errors\":{errors}}}");
        }
        "stuck" => {
            /// A writer whose write never returns.
            struct Stuck;
            impl Write for Stuck {
                fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                    loop {
                        std::thread::park();
                    }
                }
                fn flush(&mut self) -> std::io::Result<()> {
                    Ok(())
                }
            }
            let guard = Builder::new()
                .global(false)
                .flood(None)
                .format(Format::Json)
                .output(Output::Writer(Box::new(Stuck)))
                .channel_size(4)
                .overflow(Overflow::Block)
                .init()
                .map_err(|e| e.to_string())?;
            let log = guard.logger().clone();
            let logged = 100u64;
            let start = Instant::now();
            for i in 0..logged {
                info!(log, "r"; "i" => i);
            }
            let log_secs = start.elapsed().as_secs_f64();
            let start = Instant::now();
            let unwritten = guard.flush();
            let flush_secs = start.elapsed().as_secs_f64();
            let dropped = guard.dropped();
            let start = Instant::now();
            drop(guard);
            let drop_secs = start.elapsed().as_secs_f64();
            // After the guard, records are written on the caller: with the
            // output still stuck, one wait for the stall, then each call
            // returns at once (30 waits of 5 s would pass the test's 120 s).
            let start = Instant::now();
            for i in 0..30u64 {
                info!(log, "after the guard"; "i" => i);
            }
            let after_secs = start.elapsed().as_secs_f64();
            eprintln!(
                "{{\"logged\":{logged},\"unwritten\":{unwritten},\"dropped\":{dropped},\
                 \"log_secs\":{log_secs},\"flush_secs\":{flush_secs},\"drop_secs\":{drop_secs},\
                 \"after_secs\":{after_secs}}}"
            );
        }
        "sync_full_queue" => {
            let buf = Buf::default();
            let guard = Builder::new()
                .global(false)
                .flood(None)
                .format(Format::Json)
                .output(Output::Writer(Box::new(buf.clone())))
                .channel_size(2)
                .overflow(Overflow::DropAndReport)
                .init()
                .map_err(|e| e.to_string())?;
            let log = guard.logger().clone();
            drop(guard);
            let threads: Vec<_> = (0..8u64)
                .map(|t| {
                    let log = log.clone();
                    std::thread::spawn(move || {
                        for i in 0..10_000u64 {
                            info!(log, "r"; "t" => t, "i" => i);
                        }
                    })
                })
                .collect();
            for t in threads {
                t.join().unwrap();
            }
            let lines = buf.json_lines();
            let records = lines.iter().filter(|l| l["msg"] == "r").count();
            let reports = lines.len() - records;
            eprintln!("{{\"records\":{records},\"other\":{reports}}}");
        }
        "slow_block" => {
            let guard = Builder::new()
                .global(false)
                .flood(None)
                .format(Format::Json)
                .output(Output::Stdout)
                .overflow(Overflow::Block)
                .init()
                .map_err(|e| e.to_string())?;
            let log = guard.logger().clone();
            for i in 0..SLOW_RECORDS {
                info!(log, "slow"; "i" => i, "pad" => "p".repeat(400));
            }
            let unwritten = guard.flush();
            let dropped = guard.dropped();
            drop(guard);
            eprintln!("{{\"unwritten\":{unwritten},\"dropped\":{dropped}}}");
        }
        "child_full_pipe" => {
            // Stdout is a pipe the test does not read until the end.
            let guard = slog_host::init().map_err(|e| e.to_string())?;
            let pid = fork_child(|| {
                for i in 0..2_000u64 {
                    info!(guard.logger(), "child"; "i" => i, "pad" => "q".repeat(200));
                }
            });
            let exited = exited_within(pid, Duration::from_secs(60));
            eprintln!("{{\"exited\":{exited}}}");
        }
        "child_stderr_locked" => {
            let dir = dir.unwrap();
            let path = dir.join("app.log");
            let guard = Builder::new()
                .global(false)
                .flood(None)
                .format(Format::Json)
                .output(Output::File(FileConfig::new(&path)))
                .init()
                .map_err(|e| e.to_string())?;
            // The child cannot open the file again (a link now): it says so
            // on stderr, whose std lock a thread of the parent holds at the
            // fork (an eprintln! in progress).
            std::fs::remove_file(&path).unwrap();
            std::os::unix::fs::symlink(dir.join("elsewhere"), &path).unwrap();
            let (locked_tx, locked_rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let _held = std::io::stderr().lock();
                locked_tx.send(()).unwrap();
                loop {
                    std::thread::park();
                }
            });
            locked_rx.recv().unwrap();
            let pid = fork_child(|| info!(guard.logger(), "child"));
            let exited = exited_within(pid, CHILD_BOUND);
            // On stdout: stderr's lock is held for good in this process.
            println!("{{\"exited\":{exited}}}");
        }
        other => return Err(format!("unknown scenario {other}")),
    }
    Ok(())
}

/// The last stderr line of a scenario, as JSON.
fn summary(err: &[u8]) -> serde_json::Value {
    let text = String::from_utf8_lossy(err);
    let last = text
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("no summary: {text}"));
    serde_json::from_str(last).unwrap()
}

fn run(scenario: &str, secs: u32, env: &[(&str, &str)]) -> std::process::Output {
    let out = runner::scenario_command_killed_after(secs, scenario, env)
        .output()
        .unwrap();
    assert_ne!(
        out.status.code(),
        Some(124),
        "{scenario}: hung past {secs} s"
    );
    assert!(
        out.status.success(),
        "{scenario}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn forks_while_three_threads_log_never_hang_a_child() {
    let dir = tempdir("fork");
    let out = run("fork_storm", 600, &[("FAULTS_DIR", dir.to_str().unwrap())]);
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["hung"], 0, "children that never exited");
    assert_eq!(
        s["control_hung"], true,
        "the control: a spinning child is caught"
    );
    let text = std::fs::read_to_string(dir.join("app.log")).unwrap();
    let mut seen = vec![0u32; FORKS as usize];
    for l in json_lines(&text) {
        assert_ne!(l["msg"], "noise", "DEBUG went to the INFO file");
        if l["msg"] == "child" {
            seen[l["i"].as_u64().unwrap() as usize] += 1;
        }
    }
    let missing: Vec<_> = (0..FORKS).filter(|&i| seen[i as usize] != 1).collect();
    assert!(
        missing.is_empty(),
        "children whose record is not there exactly once: {missing:?}"
    );
    println!("fork storm: {FORKS} forks with 3 threads logging, 0 hung, each child's record once");
    let _ = std::fs::remove_dir_all(dir);
}

/// Runs `scenario` (killed after 300 s) reading its stdout 4 KiB at a time
/// with `pause` after each read; fails the test if it hung or did not
/// succeed. Returns what it wrote on stdout, and its output (stderr).
fn read_slowly(scenario: &str, pause: Duration) -> (Vec<u8>, std::process::Output) {
    let mut child = runner::scenario_command_killed_after(300, scenario, &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut text = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match stdout.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => text.extend_from_slice(&chunk[..n]),
            Err(e) => panic!("{e}"),
        }
        std::thread::sleep(pause);
    }
    let out = child.wait_with_output().unwrap();
    assert_ne!(out.status.code(), Some(124), "{scenario}: hung");
    assert!(
        out.status.success(),
        "{scenario}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (text, out)
}

fn a_child_drops_its_guard_while_the_parent_writes_to_a_slow_pipe() {
    // Slow: 4 KiB every 2 ms, so the pipe is full and the writer waits in
    // its write while the children fork.
    let (text, out) = read_slowly("slow_pipe", Duration::from_millis(2));
    assert_eq!(summary(&out.stderr)["hung"], 0);
    let text = String::from_utf8(text).unwrap();
    let mut children: Vec<u64> = json_lines(&text)
        .iter()
        .filter(|l| l["msg"] == "child")
        .map(|l| l["i"].as_u64().unwrap())
        .collect();
    children.sort_unstable();
    assert_eq!(children, (0..20).collect::<Vec<_>>());
}

fn a_caller_holding_the_stdout_lock_does_not_deadlock() {
    let out = run("stdout_lock", 120, &[]);
    let s = summary(&out.stderr);
    assert_eq!(s["first"], 0, "flush wrote everything");
    assert_eq!(s["second"], 0, "flush wrote everything");
    let text = String::from_utf8(out.stdout).unwrap();
    let lines = json_lines(&text);
    assert_eq!(lines.len(), 20_001, "every record, held lock or not");
    assert_eq!(lines[0]["msg"], "held");
}

fn mkfifo(path: &Path) {
    let ok = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap()
        .success();
    assert!(ok, "mkfifo");
}

fn a_fifo_without_a_reader_is_an_init_error() {
    let dir = tempdir("fifo-none");
    let fifo = dir.join("log.fifo");
    mkfifo(&fifo);
    let out = run(
        "fifo_no_reader",
        60,
        &[("LOG_FILE", fifo.to_str().unwrap())],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("LOG_FILE"), "names the setting: {err}");
    assert!(
        err.contains(fifo.to_str().unwrap()),
        "names the path: {err}"
    );
    assert!(
        err.contains("no process has open for reading"),
        "says why: {err}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

fn a_fifo_whose_reader_leaves_never_blocks_the_writer() {
    let dir = tempdir("fifo-leaves");
    let fifo = dir.join("log.fifo");
    mkfifo(&fifo);
    // The reader: has the FIFO open for reading before the scenario starts
    // (a blocking open could still be waiting to run when the scenario
    // opens it for writing, which then finds no reader: a flake on a busy
    // machine), reads 100 lines, and leaves. Opened without blocking, then
    // switched to blocking reads; a read finding no writer yet (0 bytes) is
    // tried again.
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let f = fifo.clone();
    let reader = std::thread::spawn(move || {
        use std::os::fd::AsRawFd;
        use std::os::unix::fs::OpenOptionsExt;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&f)
            .unwrap();
        // SAFETY: fcntl on a descriptor this thread owns.
        unsafe {
            let flags = libc::fcntl(file.as_raw_fd(), libc::F_GETFL);
            libc::fcntl(file.as_raw_fd(), libc::F_SETFL, flags & !libc::O_NONBLOCK);
        }
        ready_tx.send(()).unwrap();
        let mut r = BufReader::new(file);
        let mut lines = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while lines.len() < 100 && Instant::now() < deadline {
            let mut l = String::new();
            if r.read_line(&mut l).unwrap() == 0 {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
            lines.push(l);
        }
        lines
    });
    ready_rx.recv().unwrap();
    let out = run(
        "fifo_reader_leaves",
        120,
        &[("LOG_FILE", fifo.to_str().unwrap()), ("LOG_FORMAT", "json")],
    );
    let lines = reader.join().unwrap();
    for (i, l) in lines.iter().enumerate() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        assert_eq!(v["msg"], "before");
        assert_eq!(v["i"], i as u64);
    }
    let s = summary(&out.stderr);
    assert_eq!(s["before"], 0, "everything reached the reader");
    assert!(
        s["errors"].as_u64().unwrap() >= 1000,
        "the records after the reader left are counted: {s}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

fn a_link_at_the_log_path_or_a_rotated_name_is_never_followed() {
    let dir = tempdir("links");
    let secret = dir.join("secret");
    std::fs::write(&secret, "SECRET\n").unwrap();
    std::fs::set_permissions(&secret, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    // 1. A link at the path when init() runs: an error naming it.
    let path = dir.join("app.log");
    std::os::unix::fs::symlink(&secret, &path).unwrap();
    let out = run(
        "symlink_at_path",
        60,
        &[("LOG_FILE", path.to_str().unwrap())],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("LOG_FILE") && err.contains("symbolic link"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), "SECRET\n");
    std::fs::remove_file(&path).unwrap();
    // 2. A link planted at a rotated name before, and at the path while it
    // runs, with compression: the secret is never written nor archived.
    std::os::unix::fs::symlink(&secret, dir.join("app.log.1.gz")).unwrap();
    let out = run(
        "symlink_later",
        120,
        &[("FAULTS_DIR", dir.to_str().unwrap())],
    );
    let s = summary(&out.stderr);
    assert!(
        s["errors"].as_u64().unwrap() >= 40,
        "records after the link are counted: {s}"
    );
    assert_eq!(
        std::fs::read_to_string(&secret).unwrap(),
        "SECRET\n",
        "the target is untouched"
    );
    let mut archives = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let p = entry.unwrap().path();
        let meta = std::fs::symlink_metadata(&p).unwrap();
        if meta.file_type().is_symlink() {
            continue; // the planted links (moved up, never opened)
        }
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".gz") {
            archives += 1;
            let mut text = String::new();
            flate2_free_gunzip(&p, &mut text);
            assert!(!text.contains("SECRET"), "{name} holds the secret");
            assert!(text.contains("rotating"), "{name} holds the log's records");
        }
    }
    assert!(
        archives >= 2,
        "rotation went on around the planted link: {archives} archives"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// The text of a gzip file, through the system's `gzip -dc` (no test-only
/// crate for it).
fn flate2_free_gunzip(path: &Path, text: &mut String) {
    let out = std::process::Command::new("gzip")
        .arg("-dc")
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success(), "gzip -dc {}", path.display());
    *text = String::from_utf8(out.stdout).unwrap();
}

fn a_stuck_output_bounds_flush_drop_and_blocked_callers() {
    let out = run("stuck", 120, &[]);
    let s = summary(&out.stderr);
    let (logged, unwritten, dropped) = (
        s["logged"].as_u64().unwrap(),
        s["unwritten"].as_u64().unwrap(),
        s["dropped"].as_u64().unwrap(),
    );
    // Nothing was written: every record is either still held or dropped,
    // and counted as such. (A writer that took all 100 as they came drops
    // none: then all are held, in the write that never returns.)
    assert_eq!(unwritten + dropped, logged, "{s}");
    assert!(unwritten >= 1, "{s}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("records are not written"),
        "the drop says what it left: {err}"
    );
    // The bounds (a wait of FLUSH_TIMEOUT at most per stall, not per
    // record): printed, not asserted as timings; the scenario's 120 s kill
    // is what fails a hang.
    println!(
        "stuck output: {logged} records logged in {:.1} s, flush {:.1} s, drop {:.1} s, \
         30 records after the guard {:.1} s (FLUSH_TIMEOUT {} s)",
        s["log_secs"].as_f64().unwrap(),
        s["flush_secs"].as_f64().unwrap(),
        s["drop_secs"].as_f64().unwrap(),
        s["after_secs"].as_f64().unwrap(),
        FLUSH_TIMEOUT.as_secs()
    );
}

/// Records the slow reader must get, 400 bytes of padding each: about
/// 7 s at the reader's pace, over FLUSH_TIMEOUT and within LINES_BOUND.
const SLOW_RECORDS: u64 = 1_500;

fn a_slow_reader_under_block_loses_nothing() {
    // About 100 KiB/s: the ~700 KB take stdout's thread ~7 s, over
    // FLUSH_TIMEOUT, while the pipe keeps taking bytes.
    let (text, out) = read_slowly("slow_block", Duration::from_millis(40));
    let s = summary(&out.stderr);
    assert_eq!(
        s["dropped"], 0,
        "Block dropped records of a slow, live output: {s}"
    );
    assert_eq!(s["unwritten"], 0, "{s}");
    let lines = json_lines(&String::from_utf8(text).unwrap());
    assert_eq!(
        lines.len() as u64,
        SLOW_RECORDS,
        "every record reached the slow reader"
    );
}

fn a_child_logging_to_a_full_pipe_exits() {
    let mut child =
        runner::scenario_command_killed_after(300, "child_full_pipe", &[("LOG_FORMAT", "json")])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
    // Stdout is not read until the scenario is done with its child.
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_ne!(out.status.code(), Some(124), "hung");
    let s = summary(err.as_bytes());
    assert_eq!(
        s["exited"], true,
        "the child's writes to a full pipe are bounded: {err}"
    );
}

fn a_child_forked_while_stderr_is_locked_exits() {
    let dir = tempdir("stderr-lock");
    let out = run(
        "child_stderr_locked",
        120,
        &[("FAULTS_DIR", dir.to_str().unwrap())],
    );
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        s["exited"], true,
        "the child does not wait for std's stderr lock"
    );
    let _ = std::fs::remove_dir_all(dir);
}

fn after_the_guard_a_full_queue_is_written_not_dropped() {
    let out = run("sync_full_queue", 120, &[]);
    let s = summary(&out.stderr);
    assert_eq!(s["records"], 80_000, "{s}");
    assert_eq!(s["other"], 0, "no overflow report: {s}");
}

crate::suite_main!(
    child,
    tests: [
        forks_while_three_threads_log_never_hang_a_child,
        a_child_drops_its_guard_while_the_parent_writes_to_a_slow_pipe,
        a_caller_holding_the_stdout_lock_does_not_deadlock,
        a_fifo_without_a_reader_is_an_init_error,
        a_fifo_whose_reader_leaves_never_blocks_the_writer,
        a_link_at_the_log_path_or_a_rotated_name_is_never_followed,
        a_stuck_output_bounds_flush_drop_and_blocked_callers,
        after_the_guard_a_full_queue_is_written_not_dropped,
        a_slow_reader_under_block_loses_nothing,
        a_child_logging_to_a_full_pipe_exits,
        a_child_forked_while_stderr_is_locked_exits,
    ]
);
