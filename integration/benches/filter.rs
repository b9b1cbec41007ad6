//! The level filter's cost against the number of target directives: a
//! disabled record's check (`Directives::enabled`) with 0, 10, 10,000 and
//! 40,000 target directives, and parsing them (what `set_filter` and a
//! `LOG_FILTER_FILE` change do once per change).
//!
//! The record's target matches no directive, the worst case for a scan: a
//! check must look at every directive that could be a prefix. The table
//! printed at the end gives each check's time as a ratio of the one without
//! target directives, measured in the same run.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use slog::Level;
use slog_host::drain::Directives;

/// `n` target directives at debug beside a default of info, shaped like a
/// real service's (crate and module paths of various lengths).
fn directives(n: usize) -> String {
    let mut s = String::from("info");
    for i in 0..n {
        s.push_str(&format!(
            ",svc_{}::module_{}::part_{i}=debug",
            i % 97,
            i % 13
        ));
    }
    s
}

/// The median time per call of `f` over `rounds` rounds of `iters` calls.
fn median_ns(rounds: usize, iters: u32, mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..rounds)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..iters {
                f();
            }
            t.elapsed().as_nanos() as f64 / f64::from(iters)
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[rounds / 2]
}

fn main() {
    let mut criterion = Criterion::default()
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    let counts = [0usize, 10, 10_000, 40_000];
    let parsed: Vec<(usize, Directives)> = counts
        .iter()
        .map(|&n| {
            (
                n,
                Directives::parse_setting("RUST_LOG", &directives(n)).unwrap(),
            )
        })
        .collect();
    // Shares a long prefix with many directives and matches none: the
    // worst case for a lookup.
    let target = "svc_5::module_5::orders::handler";
    {
        let mut group = criterion.benchmark_group("filter_disabled_record");
        for (n, d) in &parsed {
            group.bench_function(format!("{n}_directives"), |b| {
                b.iter(|| black_box(d).enabled(black_box(Level::Debug), black_box(target)))
            });
        }
        group.finish();
        let mut group = criterion.benchmark_group("filter_parse");
        group.sample_size(10);
        for n in [10_000usize, 40_000] {
            let text = directives(n);
            group.bench_function(format!("{n}_directives"), |b| {
                b.iter(|| Directives::parse_setting("RUST_LOG", black_box(&text)).unwrap())
            });
        }
        group.finish();
    }
    criterion.final_summary();

    // Side by side in one run: each count's check against none.
    let base = median_ns(31, 100_000, || {
        black_box(parsed[0].1.enabled(Level::Debug, black_box(target)));
    });
    println!("\n## a disabled record's filter check, by target directives\n");
    println!("| directives | ns per check (median of 31 rounds) | / none |");
    println!("|---:|---:|---:|");
    let mut checks = Vec::new();
    for (n, d) in &parsed {
        let ns = median_ns(31, 100_000, || {
            black_box(d.enabled(Level::Debug, black_box(target)));
        });
        println!("| {n} | {ns:.1} | {:.2} |", ns / base);
        checks.push(ns);
    }
    // Independent of the number of directives: 40,000 cost about what 10
    // do (a scan cost 4,000 times more). Fails past a generous 10x.
    let growth = checks[3] / checks[1];
    println!("\n40,000 directives / 10: {growth:.2} (fails past 10)");
    println!("\n## parsing, by target directives\n");
    println!("| directives | ms per parse (median of 5) |");
    println!("|---:|---:|");
    for n in [10_000usize, 40_000] {
        let text = directives(n);
        let ms = median_ns(5, 1, || {
            black_box(Directives::parse_setting("RUST_LOG", &text).unwrap());
        }) / 1e6;
        println!("| {n} | {ms:.1} |");
    }
    if growth > 10.0 {
        eprintln!("the filter's cost grows with the number of directives: {growth:.1}x");
        std::process::exit(1);
    }
}
