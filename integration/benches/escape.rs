//! The cost of escaping in the term formats, for a record with no special
//! characters (issue 11: at most 5 % slower).
//!
//! Both variants write the same record and logger fields with the term
//! formats' RFC 3339 UTC timestamp into `io::sink()`:
//!
//! - `plain_full`: slog-term's `FullFormat` over a `PlainDecorator`, which
//!   escapes nothing;
//! - `escaping_full`: `TermFormat::full`, the escaping `full` format of
//!   `init()` (without colors).
//!
//! With `ESCAPE_BENCH_ONLY=plain` (or `escaping`) the bench writes 100,000
//! records with that variant and exits: run it under `valgrind
//! --tool=callgrind` to count instructions per record.
//!
//! After criterion, the two run alternately in short batches (so both see the
//! same machine) and the bench prints the median ratio; it exits non-zero if
//! the ratio is above 1.05.

use std::hint::black_box;
use std::io;
use std::time::SystemTime;

use criterion::Criterion;
use slog::{b, o, record, Drain, Level, OwnedKVList};
use slog_host::drain::TermFormat;
use slog_host::format::Rfc3339Utc;
use slog_term::{FullFormat, PlainDecorator};

const GROUP: &str = "escape";
const LIMIT: f64 = 1.05;
/// Records written by one variant alone (`ESCAPE_BENCH_ONLY`).
const ONLY_RECORDS: u32 = 100_000;

/// The logger's fields: the host fields as `init()` would add them.
fn values() -> OwnedKVList {
    OwnedKVList::from(o!(
        "host.name" => "web-7f9c6d",
        "host.ip" => "10.1.2.3",
        "process.pid" => 4242,
        "service.name" => "orders",
        "service.version" => "1.4.2",
        "service.instance.id" => "0b6c6fb2-54a5-4ad4-9d6c-8c1f7a7c8e11",
        "k8s.pod.name" => "orders-7f9c6d-x2x9z",
        "k8s.namespace.name" => "shop",
    ))
}

/// Formats one record (no special characters) with `drain`.
fn log<D: Drain<Ok = (), Err = io::Error>>(drain: &D, values: &OwnedKVList) {
    drain
        .log(
            &record!(
                Level::Info,
                "",
                &format_args!("request done"),
                b!("status" => 200, "method" => "GET", "path" => "/orders/42", "duration_ms" => 3.25)
            ),
            values,
        )
        .unwrap();
}

fn plain() -> FullFormat<PlainDecorator<io::Sink>> {
    // The term formats' timestamp: RFC 3339 UTC (the record's time, which is
    // now outside the pipeline).
    FullFormat::new(PlainDecorator::new(io::sink()))
        .use_custom_timestamp(|w: &mut dyn io::Write| {
            write!(w, "{}", Rfc3339Utc(SystemTime::now()))
        })
        .build()
}

fn escaping() -> TermFormat {
    TermFormat::full(io::sink())
}

/// Median over `rounds` of (time per record, escaping) / (time per record,
/// plain), the two alternating in batches of `n`; also the medians in ns.
fn paired(n: u32, rounds: usize) -> (f64, f64, f64) {
    use std::time::Instant;
    let values = values();
    let (p, e) = (plain(), escaping());
    let per_record = |f: &dyn Fn()| {
        let start = Instant::now();
        (0..n).for_each(|_| f());
        start.elapsed().as_secs_f64() * 1e9 / f64::from(n)
    };
    let mut runs: Vec<(f64, f64)> = (0..rounds)
        .map(|_| {
            let a = per_record(&|| log(black_box(&p), &values));
            let b = per_record(&|| log(black_box(&e), &values));
            (a, b)
        })
        .collect();
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let ratio = median(runs.iter().map(|(a, b)| b / a).collect());
    let plain_ns = median(runs.iter().map(|r| r.0).collect());
    runs.sort_by(|x, y| x.1.total_cmp(&y.1));
    (ratio, plain_ns, runs[rounds / 2].1)
}

fn main() {
    // For an instruction count: `ESCAPE_BENCH_ONLY=plain valgrind
    // --tool=callgrind target/release/deps/escape-*` (and `=escaping`).
    if let Ok(variant) = std::env::var("ESCAPE_BENCH_ONLY") {
        let values = values();
        let (p, e) = (plain(), escaping());
        for _ in 0..ONLY_RECORDS {
            match variant.as_str() {
                "plain" => log(black_box(&p), &values),
                _ => log(black_box(&e), &values),
            }
        }
        return;
    }
    let mut criterion = Criterion::default().configure_from_args();
    {
        let values = values();
        let mut group = criterion.benchmark_group(GROUP);
        let p = plain();
        group.bench_function("plain_full", |bench| bench.iter(|| log(&p, &values)));
        let e = escaping();
        group.bench_function("escaping_full", |bench| bench.iter(|| log(&e, &values)));
        group.finish();
    }
    criterion.final_summary();

    let (ratio, plain_ns, escaping_ns) = paired(2_000, 201);
    println!(
        "\nescaping: plain_full {plain_ns:.0} ns/record, escaping_full {escaping_ns:.0} ns/record, \
         paired median ratio {ratio:.3} (limit {LIMIT})"
    );
    if ratio > LIMIT {
        eprintln!("escaping costs more than {:.0} %", (LIMIT - 1.0) * 100.0);
        std::process::exit(1);
    }
}
