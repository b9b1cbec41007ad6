//! Refreshing does not leak file descriptors or threads: 10,000 real
//! refreshes (netlink lookups, hostname) leave both counts as they were.
//!
//! `local_ip()` (local-ip-address 0.6 on neli 0.7) starts a detached thread
//! per call that holds three fds (netlink socket, eventfd, epoll) and exits
//! shortly after the call returns. So the counts are compared once that
//! thread has gone: the test waits (up to 10 s) for them to come back to the
//! baseline. A real leak never comes back and fails the test.
//!
//! The counts are the whole process's: the test runs alone, in a child copy
//! of the `host` test binary (libtest's harness, `--ignored --exact`).

use std::fs::File;
use std::process::Command;
use std::time::{Duration, Instant};

use slog_host::host::{HostCache, SystemProbe};

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

/// Waits up to `within` for the fd and thread counts to equal `(fds, tasks)`;
/// returns the last counts seen.
fn settle_to(fds: usize, tasks: usize, within: Duration) -> (usize, usize) {
    let deadline = Instant::now() + within;
    loop {
        let now = (open_fds(), threads());
        if now == (fds, tasks) || Instant::now() > deadline {
            return now;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The name of the test below, which counts the whole process's fds and
/// threads: it runs alone, in a child copy of this binary.
const ALONE: &str = "leaks::scenario_ten_thousand_refreshes_leak_no_fd_and_no_thread";

#[test]
fn ten_thousand_refreshes_leak_no_fd_and_no_thread() {
    let _serial = crate::serial();
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", ALONE])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(&format!("test {ALONE} ... ok")), "{stdout}");
    assert!(stdout.contains("test result: ok. 1 passed"), "{stdout}");
}

#[test]
#[ignore = "a scenario: run alone by ten_thousand_refreshes_leak_no_fd_and_no_thread"]
fn scenario_ten_thousand_refreshes_leak_no_fd_and_no_thread() {
    // Baseline before any detection: no lookup thread can be alive yet.
    let (fds, tasks) = (open_fds(), threads());

    // Control: the fd count does see an open file, and a leaked one stays.
    let f = File::open("/proc/self/status").unwrap();
    assert_eq!(open_fds(), fds + 1, "fd counting works");
    let held = settle_to(fds, tasks, Duration::from_millis(500));
    assert_eq!(held, (fds + 1, tasks), "an open file does not settle back");
    drop(f);

    let cache = HostCache::new(SystemProbe::from_env().unwrap()).unwrap();
    for _ in 0..10_000 {
        cache.refresh().unwrap();
    }
    let s = cache.status();
    assert_eq!(s.refreshes, 10_000);
    assert_eq!(s.consecutive_failures, 0);
    let (fds_after, tasks_after) = settle_to(fds, tasks, Duration::from_secs(10));
    assert_eq!(fds_after, fds, "file descriptors leaked");
    assert_eq!(tasks_after, tasks, "threads leaked");
}
