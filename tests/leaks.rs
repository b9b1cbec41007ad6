//! Refreshing does not leak file descriptors or threads: 10,000 real
//! refreshes (netlink lookups, hostname) leave both counts as they were.
//!
//! `local_ip()` (local-ip-address 0.6 on neli 0.7) starts a detached thread
//! per call that holds three fds (netlink socket, eventfd, epoll) and exits
//! shortly after the call returns. So the counts are compared once that
//! thread has gone: the test waits (up to 10 s) for them to come back to the
//! baseline. A real leak never comes back and fails the test.

use std::fs::File;
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

#[test]
fn ten_thousand_refreshes_leak_no_fd_and_no_thread() {
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
