//! Enrichment adds no heap allocation per record: the same pipeline with and
//! without `Enrich`, counted by a per-thread counting allocator, with a
//! negative control through the same counter in the same run. The counting
//! allocator is the `hot_path` binary's global allocator (`main.rs`).

use crate::support::{alloc, pipeline};

use slog::{info, FnValue, Logger};
use slog_host::host::HostCache;

const N: u64 = 10_000;

fn run(log: &Logger, n: u64) {
    for i in 0..n {
        info!(log, "request done"; "status" => 200, "path" => "/orders", "i" => i);
    }
}

fn warmed(log: &Logger) -> u64 {
    run(log, 1000);
    alloc::count_allocations(|| run(log, N)).0
}

#[test]
fn enrich_adds_zero_allocations_per_record() {
    let plain = pipeline::plain(pipeline::NoIo::default());
    let w = pipeline::NoIo::default();
    let enriched = pipeline::enriched(w.clone(), HostCache::global());
    let plain_allocs = warmed(&plain);
    let enriched_allocs = warmed(&enriched);
    // Negative control: the same enriched pipeline plus a value that formats
    // a String per record; the counter must see it.
    let control_allocs = alloc::count_allocations(|| {
        for i in 0..N {
            info!(enriched, "request done"; "status" => 200, "i" => i,
                  "formatted" => FnValue(|_| format!("req-{i}")));
        }
    })
    .0;
    println!(
        "allocations in {N} records: plain {plain_allocs}, enriched {enriched_allocs}, \
         enriched + per-record format!() {control_allocs}"
    );
    assert_eq!(w.lines(), 1000 + 2 * N);
    assert_eq!(
        enriched_allocs, plain_allocs,
        "Enrich allocated per record ({enriched_allocs} vs {plain_allocs} without it)"
    );
    assert!(
        control_allocs >= enriched_allocs + N,
        "the counter missed allocations"
    );
}

#[test]
fn load_allocates_nothing() {
    let cache = HostCache::global();
    drop(cache.load());
    let (n, ()) = alloc::count_allocations(|| {
        for _ in 0..N {
            std::hint::black_box(cache.load().pid());
        }
    });
    let (full, _) = alloc::count_allocations(|| cache.load().host_name().map(str::to_owned));
    assert_eq!(n, 0);
    assert!(full >= 1, "control: an owned copy allocates");
}

#[test]
fn a_record_the_flood_guard_drops_allocates_nothing() {
    use slog_host::drain::FloodGuard;
    use slog_host::FloodConfig;
    let w = pipeline::NoIo::default();
    let config = FloodConfig::uniform(10, std::time::Duration::from_secs(3600));
    let guard = FloodGuard::new(
        std::sync::Mutex::new(slog_host::format::json(w.clone())),
        config,
    )
    .unwrap();
    let log = slog::Logger::root(slog::Drain::fuse(guard), slog::o!());
    let flood = |n: u64| {
        for i in 0..n {
            slog::error!(log, "accept failed"; "i" => i);
        }
    };
    flood(1000); // warm-up: the call site's slot is claimed, the budget spent
    let (allocs, ()) = alloc::count_allocations(|| flood(N));
    assert_eq!(w.lines(), 10, "only the burst was written");
    assert_eq!(allocs, 0, "suppressed records allocated");
    // Control, same counter: a value formatted before the guard drops the
    // record (its own call site, so also over budget after 10).
    let (control, ()) = alloc::count_allocations(|| {
        for i in 0..N {
            let s = format!("{i}");
            slog::error!(log, "accept failed"; "s" => s);
        }
    });
    assert!(control >= N, "the counter sees the control's allocations");
}
