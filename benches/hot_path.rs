//! The cost of host metadata on the logging hot path.
//!
//! Every variant logs the same message with the same record fields through
//! the same JSON format into `io::sink()`:
//!
//! - (a) `plain`: no host fields;
//! - (b) `static_fields`: the host fields as static logger values (`o!()`);
//! - (c) `enrich`: the host fields added per record by `Enrich`;
//! - (d) `lookup_per_record`: (b), but `host.ip` looked up per record with
//!   `FnValue(|_| local_ip())`, the bug this crate exists to prevent;
//! - (e) `tracing_json`: tracing-subscriber's JSON formatter, same fields.
//!
//! After criterion has measured them, the bench counts syscalls (kernel
//! tracepoint) and allocations (counting allocator) per record on the caller
//! thread, prints a table with the ratios, and exits non-zero if (c) made a
//! syscall or an allocation, or if the counters missed (d)'s.

#[path = "../tests/support/alloc.rs"]
mod alloc;
#[path = "../tests/support/syscalls.rs"]
mod syscalls;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use criterion::Criterion;
use slog::{info, o, Drain, FnValue, Logger, OwnedKV};
use slog_host::{Enrich, HostCache, HostInfo};

#[global_allocator]
static COUNTING: alloc::CountingAlloc = alloc::CountingAlloc;

const GROUP: &str = "hot_path";

fn json_sink() -> Mutex<slog_json::Json<io::Sink>> {
    Mutex::new(slog_host::format::json(io::sink()))
}

fn lookup_ip() -> String {
    local_ip_address::local_ip()
        .map(|ip| ip.to_string())
        .unwrap_or_default()
}

struct Variant {
    id: &'static str,
    label: &'static str,
    record: Box<dyn Fn()>,
}

fn slog_variant(id: &'static str, label: &'static str, log: Logger) -> Variant {
    Variant {
        id,
        label,
        record: Box::new(move || {
            info!(log, "request done"; "status" => 200, "path" => "/orders");
        }),
    }
}

fn tracing_variant(host: &HostInfo) -> Variant {
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_writer(io::sink)
        .with_target(false)
        .finish();
    let dispatch = tracing::Dispatch::new(subscriber);
    let host = host.clone();
    Variant {
        id: "e_tracing_json",
        label: "(e) tracing-subscriber JSON, same fields",
        record: Box::new(move || {
            tracing::dispatcher::with_default(&dispatch, || {
                tracing::info!(
                    status = 200,
                    path = "/orders",
                    host.name = host.host_name(),
                    host.ip = host.ip_str(),
                    process.pid = host.pid(),
                    service.name = host.service_name(),
                    service.version = host.service_version(),
                    k8s.pod.name = host.pod_name(),
                    k8s.namespace.name = host.namespace(),
                    k8s.node.name = host.node_name(),
                    "request done"
                );
            })
        }),
    }
}

fn variants() -> Vec<Variant> {
    let cache = HostCache::global();
    let host: HostInfo = (**cache.load()).clone();
    vec![
        slog_variant(
            "a_plain",
            "(a) no host fields",
            Logger::root(json_sink().fuse(), o!()),
        ),
        slog_variant(
            "b_static_fields",
            "(b) host fields as static o!()",
            Logger::root(json_sink().fuse(), OwnedKV(host.clone())),
        ),
        slog_variant(
            "c_enrich",
            "(c) Enrich",
            Logger::root(Enrich::with_cache(json_sink(), cache).fuse(), o!()),
        ),
        slog_variant(
            "d_lookup_per_record",
            "(d) local_ip() per record (the bug)",
            Logger::root(
                json_sink().fuse(),
                o!("host.ip" => FnValue(|_| lookup_ip())),
            )
            .new(OwnedKV(host.clone().without_ip())),
        ),
        tracing_variant(&host),
    ]
}

fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target")));
    target.join("criterion")
}

/// The mean time per iteration (ns) criterion measured for `id` in this run.
fn criterion_mean_ns(dir: &Path, id: &str) -> Option<f64> {
    let path = dir.join(GROUP).join(id).join("new/estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["mean"]["point_estimate"].as_f64()
}

struct Counts {
    syscalls: Option<f64>,
    allocations: f64,
}

fn per_record(v: &Variant, counter: Option<&syscalls::SyscallCounter>) -> Counts {
    let n: u64 = if v.id.starts_with("d_") { 200 } else { 10_000 };
    for _ in 0..100 {
        (v.record)(); // warm-up
    }
    let syscalls = counter.map(|c| {
        let (calls, ()) = c.count(|| (0..n).for_each(|_| (v.record)()));
        calls as f64 / n as f64
    });
    let (allocs, ()) = alloc::count_allocations(|| (0..n).for_each(|_| (v.record)()));
    Counts {
        syscalls,
        allocations: allocs as f64 / n as f64,
    }
}

fn fmt_ns(ns: Option<f64>) -> String {
    match ns {
        Some(ns) if ns >= 10_000.0 => format!("{:.1} µs", ns / 1000.0),
        Some(ns) => format!("{ns:.0} ns"),
        None => "n/a".into(),
    }
}

fn main() {
    let dir = criterion_dir();
    let mut criterion = Criterion::default()
        .output_directory(&dir)
        .configure_from_args();
    let variants = variants();
    {
        let mut group = criterion.benchmark_group(GROUP);
        for v in &variants {
            group.bench_function(v.id, |b| b.iter(|| (v.record)()));
        }
        group.finish();
    }
    criterion.final_summary();

    let counter = syscalls::SyscallCounter::or_explain();
    let times: Vec<Option<f64>> = variants
        .iter()
        .map(|v| criterion_mean_ns(&dir, v.id))
        .collect();
    let counts: Vec<Counts> = variants
        .iter()
        .map(|v| per_record(v, counter.as_ref()))
        .collect();
    let c_time = times[2];

    println!(
        "\n## hot path, per record ({} cores)\n",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("| variant | time | time / (c) | syscalls | allocations |");
    println!("|---|---:|---:|---:|---:|");
    for ((v, t), c) in variants.iter().zip(&times).zip(&counts) {
        let ratio = match (t, c_time) {
            (Some(t), Some(c)) => format!("{:.2}", t / c),
            _ => "n/a".into(),
        };
        let sys = c
            .syscalls
            .map_or("not counted".into(), |s| format!("{s:.1}"));
        println!(
            "| {} | {} | {ratio} | {sys} | {:.2} |",
            v.label,
            fmt_ns(*t),
            c.allocations
        );
    }
    let ratio = |a: usize, b: usize| match (times[a], times[b]) {
        (Some(x), Some(y)) => format!("{:.3}", x / y),
        _ => "n/a".into(),
    };
    println!(
        "\nratios: (c)/(b) = {} (target <= 1.05), (d)/(c) = {} (target >= 300), (e)/(c) = {}",
        ratio(2, 1),
        ratio(3, 2),
        ratio(4, 2)
    );

    let mut failures = Vec::new();
    if counts[2].allocations != 0.0 {
        failures.push(format!(
            "(c) Enrich allocated {} per record",
            counts[2].allocations
        ));
    }
    if counts[3].allocations == 0.0 {
        failures.push("the allocation counter missed (d)'s allocations".to_string());
    }
    match (counts[2].syscalls, counts[3].syscalls) {
        (Some(c), Some(d)) => {
            if c != 0.0 {
                failures.push(format!("(c) Enrich made {c} syscalls per record"));
            }
            if d < 1.0 {
                failures.push(format!(
                    "the syscall counter missed (d)'s lookups: {d} per record"
                ));
            }
        }
        _ => println!("!!!!! syscalls were NOT counted (see the warning above)"),
    }
    if !failures.is_empty() {
        for f in &failures {
            eprintln!("FAILED: {f}");
        }
        std::process::exit(1);
    }
    println!("hot-path facts hold: (c) 0 syscalls and 0 allocations per record; the controls were caught");
}
