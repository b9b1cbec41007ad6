//! The logging hot path makes no system calls: counted by the kernel, with a
//! negative control through the same counter in the same run.

use crate::support::{capture, pipeline, syscalls};

use std::io::Write;
use std::sync::Mutex;

use capture::Buf;

use slog::{info, o, Drain, FnValue};
use slog_host::drain::Enrich;
use slog_host::host::HostCache;
use syscalls::SyscallCounter;

const N: u64 = 10_000;
/// Records in the negative control: each does a `local_ip()` lookup (~100 us).
const CONTROL_N: u64 = 200;

fn lookup_ip() -> String {
    local_ip_address::local_ip()
        .map(|ip| ip.to_string())
        .unwrap_or_default()
}

#[test]
fn enrich_hot_path_makes_zero_syscalls_and_the_counter_catches_a_per_record_lookup() {
    let Some(counter) = SyscallCounter::or_explain() else {
        return;
    };
    let w = pipeline::NoIo::default();
    let log = pipeline::enriched(w.clone(), HostCache::global());
    // Warm-up: the global cache's detection, arc-swap's per-thread slot,
    // slog-json's thread-local buffer.
    for i in 0..1000 {
        info!(log, "request done"; "status" => 200, "i" => i);
    }

    let (calls, ()) = counter.count(|| {
        for i in 0..N {
            info!(log, "request done"; "status" => 200, "path" => "/orders", "i" => i);
        }
    });
    let (control_calls, ()) = counter.count(|| {
        for i in 0..CONTROL_N {
            info!(log, "request done"; "status" => 200, "path" => "/orders", "i" => i,
                  "ip" => FnValue(|_| lookup_ip()));
        }
    });
    println!(
        "syscalls: Enrich {calls} in {N} records; per-record local_ip() {control_calls} in \
         {CONTROL_N} records ({:.1} per record); counter baseline {}",
        control_calls as f64 / CONTROL_N as f64,
        counter.baseline()
    );
    assert_eq!(w.lines(), 1000 + N + CONTROL_N, "every record was written");
    assert_eq!(calls, 0, "the enriched hot path made syscalls");
    assert!(
        control_calls >= CONTROL_N * 10,
        "the counter missed the per-record lookups: {control_calls} in {CONTROL_N} records"
    );
}

#[test]
fn load_makes_zero_syscalls_and_refresh_is_counted() {
    let Some(counter) = SyscallCounter::or_explain() else {
        return;
    };
    let cache = HostCache::global();
    drop(cache.load()); // warm-up
    let (calls, ()) = counter.count(|| {
        for _ in 0..N {
            let s = cache.load();
            std::hint::black_box(s.pid());
        }
    });
    let (refresh_calls, result) = counter.count(|| cache.refresh());
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(calls, 0, "HostCache::load made syscalls");
    assert!(refresh_calls > 0, "a real detection was not counted");
}

#[test]
fn the_counter_sees_a_single_syscall() {
    let Some(counter) = SyscallCounter::or_explain() else {
        return;
    };
    let (none, ()) = counter.count(|| ());
    let (one, _) = counter.count(|| std::io::sink().write_all(b"x").and(std::fs::metadata("/")));
    assert_eq!(none, 0);
    // statx (or stat) of "/": exactly one syscall.
    assert_eq!(one, 1);
}

#[test]
fn enriched_records_carry_the_host_fields() {
    let buf = Buf::default();
    let drain = Enrich::new(Mutex::new(slog_host::format::json(buf.clone())));
    let log = slog::Logger::root(drain.fuse(), o!());
    info!(log, "request done"; "status" => 200);
    let v = &buf.json_lines()[0];
    let info = HostCache::global().load();
    assert_eq!(v["msg"], "request done");
    assert_eq!(v["status"], 200);
    assert_eq!(v["host.name"], info.host_name().unwrap());
    assert_eq!(v["process.pid"], std::process::id());
    assert_eq!(v["service.name"], info.service_name().unwrap());
    match info.ip_str() {
        Some(ip) => assert_eq!(v["host.ip"], ip),
        None => assert!(v.get("host.ip").is_none(), "unknown: left out"),
    }
    assert!(v.get("k8s.pod.name").is_none() || info.pod_name().is_some());
}

#[test]
fn a_record_the_flood_guard_drops_makes_zero_syscalls() {
    use slog_host::drain::FloodGuard;
    use slog_host::FloodConfig;
    let Some(counter) = SyscallCounter::or_explain() else {
        return;
    };
    let w = pipeline::NoIo::default();
    let config = FloodConfig::uniform(10, std::time::Duration::from_secs(3600));
    let guard = FloodGuard::new(Mutex::new(slog_host::format::json(w.clone())), config).unwrap();
    let stats = guard.stats();
    let log = slog::Logger::root(guard.fuse(), o!());
    let flood = |n: u64| {
        for i in 0..n {
            slog::error!(log, "accept failed"; "error" => "Too many open files", "i" => i);
        }
    };
    flood(1000); // warm-up: 10 pass, then the call site is over budget
    let (calls, ()) = counter.count(|| flood(N));
    // Control, same counter: one stat of "/" per record.
    let (control, ()) = counter.count(|| {
        for _ in 0..100 {
            let _ = std::fs::metadata("/");
        }
    });
    assert_eq!(w.lines(), 10);
    assert_eq!(stats.suppressed(), 990 + N);
    assert_eq!(calls, 0, "suppressed records made syscalls");
    assert_eq!(control, 100, "the counter sees the control's syscalls");
}
