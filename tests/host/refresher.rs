//! The refresher thread: faults keep the last good snapshot, recovery resets
//! the status, panics never escape, and dropping the handle stops it promptly.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{mpsc, Arc, Mutex, Once};
use std::time::{Duration, Instant};

use crate::serial;
use crate::support::capture;

use capture::{wait_for, Buf};
use slog::{info, o, Drain};
use slog_host::drain::Enrich;
use slog_host::host::{HostCache, HostInfo, RefreshConfig, RefreshStatus, Refresher};
use slog_host::Error;

/// The refresher thread's name, as the docs give it.
const REFRESHER_THREAD_NAME: &str = "slog-host-rfsh";

const OK: u32 = 0;
const FAIL: u32 = 1;
const PANIC: u32 = 2;
const INJECTED_PANIC: &str = "injected probe panic";

/// Keeps the injected panics out of the test output; any other panic is
/// reported as usual.
fn quiet_injected_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let p = info.payload();
            let text = p
                .downcast_ref::<&str>()
                .copied()
                .or(p.downcast_ref::<String>().map(String::as_str));
            if text != Some(INJECTED_PANIC) {
                default(info);
            }
        }));
    });
}

fn refresher_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.trim_end() == REFRESHER_THREAD_NAME)
        .count()
}

/// Polls the cache's status until `done` holds (10 s at most); returns it.
fn wait_status(
    cache: &HostCache,
    what: &str,
    done: impl Fn(&RefreshStatus) -> bool,
) -> RefreshStatus {
    wait_for(|| done(&cache.status()), what);
    cache.status()
}

fn last_host_name(lines: &Buf) -> String {
    let all = lines.json_lines();
    all.last().unwrap()["host.name"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn failing_and_panicking_probes_keep_the_last_good_snapshot_and_recovery_resets() {
    let _serial = serial();
    quiet_injected_panics();
    let mode = Arc::new(AtomicU32::new(OK));
    let generation = Arc::new(AtomicU32::new(0));
    let (m, g) = (Arc::clone(&mode), Arc::clone(&generation));
    let cache = Arc::new(
        HostCache::new(move || match m.load(Ordering::SeqCst) {
            OK => Ok(HostInfo::new().with_host_name(format!("good-{}", g.load(Ordering::SeqCst)))),
            FAIL => Err(Error::probe("injected failure")),
            _ => panic!("{}", INJECTED_PANIC),
        })
        .unwrap(),
    );
    let lines = Buf::default();
    let log = slog::Logger::root(
        Enrich::with_cache(Mutex::new(slog_host::format::json(lines.clone())), &cache).fuse(),
        o!(),
    );
    let mut config = RefreshConfig::every(Duration::from_millis(2));
    config.max_backoff = Duration::from_millis(20);
    let refresher = Refresher::with_config(&cache, config).unwrap();

    mode.store(FAIL, Ordering::SeqCst);
    let s = wait_status(&cache, "failures", |s| s.consecutive_failures >= 3);
    assert!(
        s.last_error
            .as_deref()
            .unwrap()
            .contains("injected failure"),
        "{s:?}"
    );
    info!(log, "during failures");
    assert_eq!(last_host_name(&lines), "good-0");

    mode.store(PANIC, Ordering::SeqCst);
    let s = wait_status(&cache, "panics", |s| {
        s.consecutive_failures >= 6
            && s.last_error
                .as_deref()
                .unwrap_or("")
                .contains(INJECTED_PANIC)
    });
    assert!(s.last_error.unwrap().contains("probe panicked"));
    assert_eq!(
        refresher_threads(),
        1,
        "the refresher thread survives panics"
    );
    info!(log, "during panics");
    assert_eq!(last_host_name(&lines), "good-0");

    generation.store(1, Ordering::SeqCst);
    mode.store(OK, Ordering::SeqCst);
    let s = wait_status(&cache, "recovery", |s| s.consecutive_failures == 0);
    assert_eq!(s.changes, 1);
    assert!(s.last_success.is_some());
    assert_eq!(s.last_success, s.last_attempt, "the last attempt succeeded");
    info!(log, "recovered");
    assert_eq!(last_host_name(&lines), "good-1");
    drop(refresher);
}

#[test]
fn dropping_the_handle_stops_and_joins_within_50ms() {
    let _serial = serial();
    let cache = Arc::new(HostCache::starting_with(HostInfo::new(), || {
        Ok(HostInfo::new())
    }));
    let before = refresher_threads();
    let refresher = Refresher::start(&cache, Duration::from_secs(3600)).unwrap();
    wait_for(|| refresher_threads() == before + 1, "the refresher thread");
    std::thread::sleep(Duration::from_millis(20)); // it is now waiting on its condvar
    let start = Instant::now();
    drop(refresher);
    let took = start.elapsed();
    println!("refresher stopped and joined in {took:?}");
    assert!(took < Duration::from_millis(50), "stop took {took:?}");
    // Joined; its /proc entry can outlive the join by a moment, and a
    // test running beside this one may hold a refresher of its own briefly.
    wait_for(|| refresher_threads() <= before, "the thread gone");
    assert_eq!(cache.status().refreshes, 0, "an hour did not pass");
}

#[test]
fn change_hook_runs_on_the_named_refresher_thread_with_old_and_new() {
    let _serial = serial();
    let generation = Arc::new(AtomicU32::new(0));
    let g = Arc::clone(&generation);
    let cache = Arc::new(
        HostCache::new(move || {
            Ok(HostInfo::new().with_host_name(format!("h{}", g.load(Ordering::SeqCst))))
        })
        .unwrap(),
    );
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let _refresher = Refresher::with_change_hook(
        &cache,
        RefreshConfig::every(Duration::from_millis(2)),
        move |old, new| {
            let thread = std::thread::current().name().map(str::to_owned);
            let names = (
                old.host_name().map(str::to_owned),
                new.host_name().map(str::to_owned),
            );
            tx.lock().unwrap().send((thread, names)).unwrap();
        },
    )
    .unwrap();
    generation.store(1, Ordering::SeqCst);
    let (thread, (old, new)) = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(thread.as_deref(), Some(REFRESHER_THREAD_NAME));
    assert_eq!((old.as_deref(), new.as_deref()), (Some("h0"), Some("h1")));
    assert!(
        rx.recv_timeout(Duration::from_millis(30)).is_err(),
        "no change, no call"
    );
}

#[test]
fn the_global_cache_refreshes_too() {
    let _serial = serial();
    let refresher = Refresher::start(HostCache::global(), Duration::from_millis(5)).unwrap();
    wait_status(HostCache::global(), "a refresh", |s| s.refreshes >= 2);
    drop(refresher);
    assert_eq!(HostCache::global().status().consecutive_failures, 0);
}
