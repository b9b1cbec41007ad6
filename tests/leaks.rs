//! Refreshing does not leak file descriptors or threads: 10,000 real
//! refreshes (netlink lookups, hostname) leave both counts unchanged.

use std::fs::File;

use slog_host::{HostCache, SystemProbe};

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

#[test]
fn ten_thousand_refreshes_leak_no_fd_and_no_thread() {
    let cache = HostCache::new(SystemProbe::from_env().unwrap()).unwrap();
    cache.refresh().unwrap(); // warm-up
    let (fds, tasks) = (open_fds(), threads());

    // Control: the fd count does see an open file.
    let f = File::open("/proc/self/status").unwrap();
    assert_eq!(open_fds(), fds + 1, "fd counting works");
    drop(f);

    for _ in 0..10_000 {
        cache.refresh().unwrap();
    }
    let s = cache.status();
    assert_eq!(s.refreshes, 10_001);
    assert_eq!(s.consecutive_failures, 0);
    assert_eq!(open_fds(), fds, "file descriptors leaked");
    assert_eq!(threads(), tasks, "threads leaked");
}
