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
//! - (e) `tracing_json`: tracing-subscriber's JSON formatter, same fields;
//! - (f) `init_pipeline`: the whole `init()` pipeline (filter, channel, writer
//!   thread with `Enrich` and JSON) into `io::sink()`: the cost on the caller;
//! - (g) `flood_suppressed`: a record the flood guard drops (target <= 50 ns,
//!   0 syscalls, 0 allocations).
//!
//! It also paces records at about 1k, 10k and 100k per second through (f) and
//! counts the caller thread's syscalls per record (the writer thread's wake-ups
//! are futex calls made by the caller).
//!
//! After criterion has measured them, the bench counts syscalls (kernel
//! tracepoint) and allocations (counting allocator) per record on the caller
//! thread, prints a table with the ratios, and exits non-zero if (c) made a
//! syscall or an allocation, or if the counters missed (d)'s.

#[path = "../../tests/support/alloc.rs"]
mod alloc;
#[path = "../../tests/support/syscalls.rs"]
mod syscalls;
#[path = "support/variants.rs"]
mod variants;

use std::path::{Path, PathBuf};

use criterion::Criterion;
use slog::{info, Logger};
use variants::{init_pipeline, variants, Variant};

#[global_allocator]
static COUNTING: alloc::CountingAlloc = alloc::CountingAlloc;

const GROUP: &str = "hot_path";

/// The median over `rounds` of time-per-record(x) / time-per-record(y), with
/// x and y run alternately in short batches so both see the same machine.
fn paired_ratio(x: &Variant, nx: u64, y: &Variant, ny: u64, rounds: usize) -> f64 {
    use std::time::Instant;
    let per_record = |v: &Variant, n: u64| {
        let start = Instant::now();
        (0..n).for_each(|_| (v.record)());
        start.elapsed().as_secs_f64() / n as f64
    };
    let mut ratios: Vec<f64> = (0..rounds)
        .map(|_| per_record(x, nx) / per_record(y, ny))
        .collect();
    ratios.sort_by(f64::total_cmp);
    ratios[rounds / 2]
}

/// Logs through `log` at about `rate` records per second for one second,
/// pacing with a spin on `Instant` (vDSO, no syscall), and returns the
/// caller thread's syscalls per record.
fn paced_syscalls(log: &Logger, rate: u64, counter: &syscalls::SyscallCounter) -> (f64, f64) {
    use std::time::{Duration, Instant};
    let n = rate; // one second's worth
    let gap = Duration::from_secs(1) / rate as u32;
    let (calls, achieved) = counter.count(|| {
        let start = Instant::now();
        for i in 0..n {
            let due = start + gap * i as u32;
            while Instant::now() < due {
                std::hint::spin_loop();
            }
            info!(log, "request done"; "status" => 200, "path" => "/orders");
        }
        n as f64 / start.elapsed().as_secs_f64()
    });
    (calls as f64 / n as f64, achieved)
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
    let guard = init_pipeline();
    let variants = variants(&guard);
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
        "\ncriterion ratios: (c)/(b) = {} (target <= 1.05), (d)/(c) = {} (target >= 300), (e)/(c) = {}",
        ratio(2, 1),
        ratio(3, 2),
        ratio(4, 2)
    );

    const ROUNDS: usize = 31;
    let paired_cb = paired_ratio(&variants[2], 20_000, &variants[1], 20_000, ROUNDS);
    let paired_dc = paired_ratio(&variants[3], 100, &variants[2], 20_000, ROUNDS);
    let paired_ec = paired_ratio(&variants[4], 5_000, &variants[2], 20_000, ROUNDS);
    println!(
        "paired (median of {ROUNDS} alternating rounds): (c)/(b) = {paired_cb:.3} (target <= 1.05: {}), \
         (d)/(c) = {paired_dc:.0} (target >= 300: {}), (e)/(c) = {paired_ec:.2}",
        if paired_cb <= 1.05 { "met" } else { "NOT met" },
        if paired_dc >= 300.0 { "met" } else { "NOT met" },
    );

    if let Some(counter) = counter.as_ref() {
        println!("\n## init() pipeline: caller-thread syscalls per record by rate\n");
        println!("| target rate | achieved | syscalls / record |");
        println!("|---:|---:|---:|");
        for rate in [1_000, 10_000, 100_000] {
            let (per, achieved) = paced_syscalls(guard.logger(), rate, counter);
            println!("| {rate}/s | {achieved:.0}/s | {per:.3} |");
        }
    }

    let mut failures = Vec::new();
    if counts[2].allocations != 0.0 {
        failures.push(format!(
            "(c) Enrich allocated {} per record",
            counts[2].allocations
        ));
    }
    if counts[6].allocations != 0.0 {
        failures.push(format!(
            "(g) a suppressed record allocated {} per record",
            counts[6].allocations
        ));
    }
    if let Some(g) = counts[6].syscalls.filter(|g| *g != 0.0) {
        failures.push(format!("(g) a suppressed record made {g} syscalls"));
    }
    println!(
        "(g) suppressed record: {} (target <= 50 ns: {})",
        fmt_ns(times[6]),
        match times[6] {
            Some(t) if t <= 50.0 => "met",
            Some(_) => "NOT met",
            None => "n/a",
        }
    );
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
    println!(
        "hot-path facts hold: (c) Enrich and (g) a suppressed record make 0 syscalls and 0 allocations \
         per record; the controls were caught"
    );
}
