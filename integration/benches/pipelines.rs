//! Whole logging pipelines side by side, one process per pipeline, the same
//! record (3 fields and the host fields), stdout to /dev/null:
//!
//! - `slog-host init()`: this crate's pipeline (capture, queue, batching
//!   writer thread);
//! - `slog-host init(), tracing`: the same pipeline fed by a `tracing` event
//!   inside two spans (`request{method, uri}` > `db{table}`), whose fields it
//!   writes as top-level fields;
//! - `slog-host init(), slog in a span`: the slog record of the first row,
//!   logged inside the same two spans, whose fields it then carries;
//! - `slog-host tracing_layer() + 2nd layer`: the tracing event of the second
//!   row through `LogGuard::tracing_layer()` on a registry the service built,
//!   beside a second layer (tracing-subscriber's JSON `fmt` layer with its
//!   own filter at WARN, so it formats none of these INFO events);
//! - `slog-host init(), LOG_FILTER_FILE`: the first row with the filter read
//!   from a file the writer thread looks at once a second (unchanged here);
//! - `slog-host init(), 2 outputs`: the first row with a second JSON output
//!   (`Builder::tee` into `io::sink()`): one capture per record, the writer
//!   formats it twice;
//! - `slog-host init(), 3 outputs`: the same with a third JSON output;
//! - `slog-host init(), 2 outputs, one slow` and `3 outputs, one slow`: the
//!   second output is slow (it takes 4 KiB a write and sleeps 1 ms after
//!   each, about 4 MB/s: far below the 100k/s rate), with
//!   `Overflow::DropAndReport`: the caller's cost must not change (each
//!   output drains its own buffer); end to end is not shown (a burst as
//!   fast as the caller can log overflows the queue under that policy);
//! - `slog-host init(), OTLP export`: the first row with OTLP export beside
//!   stdout (`Output::Otlp`, protobuf, to a receiver on localhost in this
//!   process that decodes every request with opentelemetry-proto); its end
//!   to end figure is records exported per second (the flush waits for the
//!   export, and the queue is large enough that none is dropped);
//! - `slog-async + Enrich`: slog-async (blocking, so nothing is lost) around
//!   `Enrich` and the JSON format;
//! - `tracing json + appender`: tracing-subscriber's JSON formatter into
//!   tracing-appender's `non_blocking` (not lossy), the host fields as event
//!   fields, the event inside the same two spans;
//! - `tracing json, sync`: tracing-subscriber's JSON formatter into stdout;
//! - `Enrich + Mutex<json>, sync`: `Enrich` and this crate's JSON format
//!   behind a mutex, writing on the calling thread;
//! - `Enrich + Mutex<slog-json>, sync`: the same with the crate's JSON format
//!   as it was when the latency targets were set: slog-json with the crate's
//!   record keys and timestamp.
//!
//! Per pipeline: caller and process-wide syscalls per record at 1k, 10k and
//! 100k records per second (kernel tracepoint counters on every thread),
//! caller allocations per record, call latency at 10k/s (p50, p99, p99.9),
//! and records per second end to end (logged, then flushed) from 1 and 2
//! threads; the CPU time of every thread but the caller's per record at
//! 10k/s (the writer's and the outputs' threads: the cost of each output);
//! for this crate, peak RSS logging 6,000 records of 1 MiB. The
//! latency targets (this crate vs a synchronous Enrich pipeline) are judged
//! on the median of several rounds that run the pipelines in turns, against
//! both synchronous Enrich pipelines.
//!
//! `cargo bench --bench pipelines` (full) or `-- --short` (CI). The counts are
//! facts and fail the run when a target is missed; the timings are ratios
//! measured in this run and are reported against their targets.

#[path = "../../tests/support/alloc.rs"]
mod alloc;
#[path = "../../tests/support/pace.rs"]
mod pace;
#[path = "../../tests/support/syscalls.rs"]
mod syscalls;

use std::io;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use pace::paced;
use slog::{info, o, Drain, Logger};
use slog_host::drain::Enrich;
use slog_host::host::{HostCache, HostInfo};
use slog_host::{Builder, Format, Output, Schema};

#[global_allocator]
static COUNTING: alloc::CountingAlloc = alloc::CountingAlloc;

const PIPELINES: [&str; 15] = [
    "slog-host init()",
    "slog-host init(), tracing",
    "slog-host init(), slog in a span",
    "slog-host tracing_layer() + 2nd layer",
    "slog-host init(), LOG_FILTER_FILE",
    "slog-host init(), 2 outputs",
    "slog-host init(), 3 outputs",
    "slog-host init(), 2 outputs, one slow",
    "slog-host init(), 3 outputs, one slow",
    "slog-host init(), OTLP export",
    "slog-async + Enrich",
    "tracing json + appender",
    "tracing json, sync",
    "Enrich + Mutex<json>, sync",
    "Enrich + Mutex<slog-json>, sync",
];

/// The synchronous Enrich pipelines the latency targets are measured
/// against, each run in turn with this crate's: the one the targets were set
/// against (slog-json, the crate's JSON format when they were set), and the
/// same with this crate's JSON encoder, three times faster, the stricter test.
const SYNC_BASELINES: [(&str, &str); 2] = [
    (
        "Enrich + Mutex<slog-json>, sync",
        "the issue's baseline: the crate's JSON format was slog-json when the targets were set",
    ),
    (
        "Enrich + Mutex<json>, sync",
        "stricter: this crate's own JSON encoder, about three times faster than slog-json",
    ),
];

/// A running pipeline: how to log one record, and how to wait until all
/// logged records are written (dropping guards for the async ones).
struct Running {
    log: Box<dyn Fn(u64) + Send + Sync>,
    finish: Box<dyn FnOnce()>,
}

fn slog_running(log: Logger, finish: Box<dyn FnOnce()>) -> Running {
    Running {
        log: Box::new(move |i| {
            info!(log, "request done"; "status" => 200, "path" => "/orders", "i" => i);
        }),
        finish,
    }
}

/// The spans every tracing record is logged in, made once (under the
/// pipeline's subscriber) and entered for each record.
struct Spans {
    request: tracing::Span,
    db: tracing::Span,
}

impl Spans {
    fn new() -> Spans {
        let request = tracing::info_span!("request", method = "GET", uri = "/orders/1");
        let db = request.in_scope(|| tracing::info_span!("db", table = "orders"));
        Spans { request, db }
    }

    fn run(&self, f: impl FnOnce()) {
        self.request.in_scope(|| self.db.in_scope(f));
    }
}

fn tracing_running(dispatch: tracing::Dispatch, finish: Box<dyn FnOnce()>) -> Running {
    let host: HostInfo = (**HostCache::global().load()).clone();
    tracing::dispatcher::set_global_default(dispatch).expect("one subscriber per process");
    let spans = Spans::new();
    Running {
        log: Box::new(move |i| {
            spans.run(|| {
                tracing::info!(
                    status = 200,
                    path = "/orders",
                    i = i,
                    host.name = host.host_name(),
                    host.ip = host.ip_str(),
                    process.pid = host.pid(),
                    service.name = host.service_name(),
                    service.version = host.service_version(),
                    k8s.pod.name = host.pod_name(),
                    k8s.namespace.name = host.namespace(),
                    k8s.node.name = host.node_name(),
                    service.instance.id = host.instance_id(),
                    container.id = host.container_id(),
                    "request done"
                );
            })
        }),
        finish,
    }
}

/// This crate's pipeline as the bench measures it: JSON to stdout, no flood
/// guard (one call site at full speed: measure the pipeline, not the guard).
fn configured(builder: Builder) -> Builder {
    builder
        .format(Format::Json)
        .flood(None)
        .output(Output::Stdout)
}

fn ours() -> slog_host::LogGuard {
    configured(Builder::new()).init().expect("init")
}

/// The tracing event of the second row, in its two spans, through `guard`'s
/// pipeline (the subscriber already set).
fn tracing_event_running(guard: slog_host::LogGuard) -> Running {
    let spans = Spans::new();
    Running {
        log: Box::new(move |i| {
            spans.run(|| tracing::info!(status = 200, path = "/orders", i = i, "request done"))
        }),
        finish: Box::new(move || assert_eq!(guard.flush(), 0, "flush wrote everything")),
    }
}

/// The slog record of the first row through the pipeline `builder` starts.
fn guarded(builder: Builder) -> Running {
    let guard = builder.init().expect("init");
    let log = guard.logger().clone();
    slog_running(
        log,
        Box::new(move || assert_eq!(guard.flush(), 0, "flush wrote everything")),
    )
}

fn start(name: &str) -> Running {
    match name {
        "slog-host init()" => guarded(configured(Builder::new())),
        "slog-host init(), tracing" => tracing_event_running(ours()),
        "slog-host init(), slog in a span" => {
            let guard = ours();
            let log = guard.logger().clone();
            let spans = Spans::new();
            Running {
                log: Box::new(move |i| {
                    spans.run(|| {
                        info!(log, "request done"; "status" => 200, "path" => "/orders", "i" => i)
                    })
                }),
                finish: Box::new(move || assert_eq!(guard.flush(), 0, "flush wrote everything")),
            }
        }
        "slog-host tracing_layer() + 2nd layer" => {
            use tracing_subscriber::layer::SubscriberExt;
            use tracing_subscriber::Layer;
            let guard = Builder::new()
                .format(Format::Json)
                .flood(None)
                .output(Output::Stdout)
                .tracing(false)
                .init()
                .expect("init");
            let second = tracing_subscriber::fmt::layer()
                .json()
                .with_writer(io::stdout)
                .with_filter(tracing_subscriber::filter::LevelFilter::WARN);
            let subscriber = tracing_subscriber::registry()
                .with(guard.tracing_layer())
                .with(second);
            tracing::subscriber::set_global_default(subscriber).expect("one subscriber");
            tracing_event_running(guard)
        }
        "slog-host init(), LOG_FILTER_FILE" => {
            let file =
                std::env::temp_dir().join(format!("slog-host-bench-filter-{}", std::process::id()));
            std::fs::write(&file, "info").expect("filter file");
            std::env::set_var("LOG_FILTER_FILE", &file);
            guarded(configured(Builder::from_env().expect("environment")))
        }
        "slog-host init(), 2 outputs" => guarded(
            configured(Builder::new())
                .tee(Output::Writer(Box::new(io::sink())), Format::Json, "info")
                .expect("tee"),
        ),
        "slog-host init(), 3 outputs" => guarded(
            configured(Builder::new())
                .tee(Output::Writer(Box::new(io::sink())), Format::Json, "info")
                .and_then(|b| b.tee(Output::Writer(Box::new(io::sink())), Format::Json, "info"))
                .expect("tee"),
        ),
        "slog-host init(), 2 outputs, one slow" | "slog-host init(), 3 outputs, one slow" => {
            let mut b = configured(Builder::new())
                .overflow(slog_host::Overflow::DropAndReport)
                .tee(Output::Writer(Box::new(SlowSink)), Format::Json, "info")
                .expect("tee");
            if name.starts_with("slog-host init(), 3") {
                b = b
                    .tee(Output::Writer(Box::new(io::sink())), Format::Json, "info")
                    .expect("tee");
            }
            let guard = b.init().expect("init");
            let log = guard.logger().clone();
            // The slow output drops what its buffer cannot hold; a burst as
            // fast as the caller can log overflows the queue (DropAndReport):
            // end to end is not comparable here, and not shown.
            slog_running(
                log,
                Box::new(move || {
                    let _ = guard.flush();
                }),
            )
        }
        "slog-host init(), OTLP export" => {
            // The receiver lives as long as the process.
            let rx = Box::leak(Box::new(slog_host_otlp::Receiver::start(0, |_| {
                slog_host_otlp::Reply::Status(200)
            })));
            let config = slog_host::otlp::OtlpConfig::new(&rx.endpoint())
                .expect("endpoint")
                .batch(
                    Duration::from_millis(200),
                    slog_host::otlp::MAX_QUEUE_SIZE,
                    512,
                    Duration::from_secs(60),
                )
                .max_queue_bytes(1 << 30);
            let guard = configured(Builder::new())
                .tee(Output::Otlp(config), Format::Json, "info")
                .expect("tee")
                .init()
                .expect("init");
            let log = guard.logger().clone();
            slog_running(
                log,
                Box::new(move || {
                    assert_eq!(guard.flush(), 0, "flush exported everything");
                    assert_eq!(guard.export_dropped(), 0, "nothing dropped");
                }),
            )
        }
        "slog-async + Enrich" => {
            let json = Mutex::new(slog_host::format::json(io::stdout()));
            let (drain, guard) = slog_async::Async::new(Enrich::new(json).fuse())
                .overflow_strategy(slog_async::OverflowStrategy::Block)
                .build_with_guard();
            slog_running(
                Logger::root(drain.fuse(), o!()),
                Box::new(move || drop(guard)),
            )
        }
        "tracing json + appender" => {
            let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
                .lossy(false)
                .finish(io::stdout());
            let subscriber = tracing_subscriber::fmt()
                .json()
                .with_writer(writer)
                .finish();
            tracing_running(
                tracing::Dispatch::new(subscriber),
                Box::new(move || drop(guard)),
            )
        }
        "tracing json, sync" => {
            let subscriber = tracing_subscriber::fmt()
                .json()
                .with_writer(io::stdout)
                .finish();
            tracing_running(tracing::Dispatch::new(subscriber), Box::new(|| ()))
        }
        "Enrich + Mutex<json>, sync" => {
            let json = Mutex::new(slog_host::format::json(io::stdout()));
            slog_running(
                Logger::root(Enrich::new(json).fuse(), o!()),
                Box::new(|| ()),
            )
        }
        "Enrich + Mutex<slog-json>, sync" => {
            let json = Mutex::new(json_as_filed());
            slog_running(
                Logger::root(Enrich::new(json).fuse(), o!()),
                Box::new(|| ()),
            )
        }
        other => panic!("unknown pipeline {other}"),
    }
}

/// An output that takes at most 4 KiB a write and sleeps 1 ms after each:
/// about 4 MB/s.
struct SlowSink;

impl io::Write for SlowSink {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        std::thread::sleep(Duration::from_millis(1));
        Ok(b.len().min(4096))
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// CPU time used so far by the process and by the calling thread.
fn cpu() -> (Duration, Duration) {
    let usage = |who| {
        // SAFETY: getrusage writes into the zeroed struct it is given.
        let mut u: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `u` is a valid, writable rusage.
        assert_eq!(unsafe { libc::getrusage(who, &mut u) }, 0);
        let t = |tv: libc::timeval| {
            Duration::from_secs(tv.tv_sec as u64) + Duration::from_micros(tv.tv_usec as u64)
        };
        t(u.ru_utime) + t(u.ru_stime)
    };
    (usage(libc::RUSAGE_SELF), usage(libc::RUSAGE_THREAD))
}

struct Mode {
    window: Duration,
    latency: Duration,
    e2e: u64,
}

const RATES: [u64; 3] = [1_000, 10_000, 100_000];

/// Starts `name`, logs a burst of 4,000 records as fast as it can (so the
/// event pool holds as many events as a writer that falls behind for a
/// moment needs: a busy CI machine once made a 2-output writer lag past
/// what paced logging alone had warmed) and 20,000 records at 20,000/s
/// (buffers and caches warm), then lets its threads settle: the same state
/// for every measurement that compares pipelines.
fn warmed_up(name: &str) -> Running {
    let running = start(name);
    for i in 0..4_000 {
        (running.log)(i);
    }
    paced(20_000, 20_000, &*running.log);
    std::thread::sleep(Duration::from_millis(200));
    running
}

/// One process, one pipeline: everything but the 2-thread and memory runs.
/// Prints one line of results on stderr (stdout is the log).
fn measure(name: &str, mode: &Mode) {
    let running = warmed_up(name);
    let log = &*running.log;
    let counters = syscalls::ProcessCounters::open().expect("syscall counters");
    let mut out = vec![format!("threads={}", counters.threads())];
    for rate in RATES {
        let n = (rate as f64 * mode.window.as_secs_f64()) as u64;
        let (caller, process, ()) = counters.count(|| paced(n, rate, log));
        out.push(format!("caller@{rate}={}", caller as f64 / n as f64));
        out.push(format!("process@{rate}={}", process as f64 / n as f64));
    }
    let (allocs, ()) = alloc::count_allocations(|| paced(10_000, 10_000, log));
    out.push(format!("allocs={}", allocs as f64 / 10_000.0));
    // The other threads' CPU per record at 10k/s: what the writer and the
    // outputs cost (the last poll's work included: a short settle).
    let n = (10_000.0 * mode.window.as_secs_f64()) as u64;
    let (process, caller) = cpu();
    paced(n, 10_000, log);
    std::thread::sleep(Duration::from_millis(100));
    let (process2, caller2) = cpu();
    let others = (process2 - process).saturating_sub(caller2 - caller);
    out.push(format!("others_ns={}", others.as_nanos() as f64 / n as f64));
    out.extend(latency(log, mode));
    let t = Instant::now();
    for i in 0..mode.e2e {
        log(i);
    }
    (running.finish)();
    out.push(format!(
        "e2e1={}",
        mode.e2e as f64 / t.elapsed().as_secs_f64()
    ));
    eprintln!("RESULT {}", out.join(" "));
}

/// Call latency at 10k/s from a spinning caller: p50, p99 and p99.9 in ns.
fn latency(log: &(dyn Fn(u64) + Send + Sync), mode: &Mode) -> Vec<String> {
    let n = (10_000.0 * mode.latency.as_secs_f64()) as u64;
    let mut lat = Vec::with_capacity(n as usize);
    paced(n, 10_000, |i| {
        let t = Instant::now();
        log(i);
        lat.push(t.elapsed().as_nanos() as u64);
    });
    lat.sort_unstable();
    [(0.5, "p50"), (0.99, "p99"), (0.999, "p999")]
        .iter()
        .map(|(q, label)| format!("{label}={}", lat[((lat.len() - 1) as f64 * q) as usize]))
        .collect()
}

/// One process, one pipeline: the latency run alone (for the alternating
/// rounds that compare two pipelines).
fn measure_latency(name: &str, mode: &Mode) {
    let running = warmed_up(name);
    let log = &*running.log;
    let out = latency(log, mode);
    (running.finish)();
    eprintln!("RESULT {}", out.join(" "));
}

/// The crate's JSON format as it was when the latency targets were set
/// (before its own encoder): slog-json with the crate's record keys and
/// timestamp, one line per record.
fn json_as_filed() -> slog_json::Json<io::Stdout> {
    use slog::{FnValue, PushFnValue, Record};
    slog_json::Json::new(io::stdout())
        .set_newlines(true)
        .add_key_value(o!(
            "msg" => PushFnValue(|r: &Record<'_>, s| s.emit(r.msg())),
            "level" => FnValue(|r: &Record<'_>| Schema::Otel.level(r.level())),
            "ts" => PushFnValue(|_: &Record<'_>, s| s.emit(format_args!(
                "{}",
                slog_host::format::Rfc3339Utc(std::time::SystemTime::now())
            ))),
        ))
        .build()
}

/// How long one cache line takes to go from one thread's core to another's
/// on this machine (half a round trip of a value two threads bounce, in ns):
/// the price of each line the caller and the writer thread both touch. On a
/// VM it depends on where the host placed the two vCPUs, and moves.
fn line_transfer_ns() -> f64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    // Bounded in time, not in rounds: if the two threads cannot run at once
    // (the other core is busy), each bounce waits for the scheduler.
    const BUDGET: Duration = Duration::from_millis(200);
    const STOP: u64 = u64::MAX;
    let ball = std::sync::Arc::new(AtomicU64::new(0));
    let other = ball.clone();
    let t = std::thread::spawn(move || loop {
        match other.load(Ordering::Acquire) {
            STOP => break,
            // A CAS, so a late answer cannot overwrite STOP.
            odd if odd % 2 == 1 => {
                let _ = other.compare_exchange(odd, odd + 1, Ordering::AcqRel, Ordering::Relaxed);
            }
            _ => std::hint::spin_loop(),
        }
    });
    let start = Instant::now();
    let mut sent = 0u64;
    'bounce: while start.elapsed() < BUDGET {
        for _ in 0..1024 {
            ball.store(sent + 1, Ordering::Release);
            let mut spins = 0u32;
            while ball.load(Ordering::Acquire) != sent + 2 {
                std::hint::spin_loop();
                spins = spins.wrapping_add(1);
                if spins.is_multiple_of(4096) && start.elapsed() >= BUDGET {
                    break 'bounce;
                }
            }
            sent += 2;
        }
    }
    let elapsed = start.elapsed();
    ball.store(STOP, Ordering::Release);
    t.join().expect("bouncing thread");
    elapsed.as_nanos() as f64 / (sent / 2).max(1) as f64 / 2.0
}

/// Records per second end to end from two threads.
fn measure_two_threads(name: &str, mode: &Mode) {
    let running = start(name);
    let log: &'static (dyn Fn(u64) + Send + Sync) = Box::leak(running.log);
    paced(20_000, 20_000, log);
    let per = mode.e2e / 2;
    let t = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(move || {
                for i in 0..per {
                    log(i);
                }
            });
        }
    });
    (running.finish)();
    eprintln!(
        "RESULT e2e2={}",
        (2 * per) as f64 / t.elapsed().as_secs_f64()
    );
}

/// Peak RSS logging 6,000 records with a 1 MiB value, this crate's pipeline.
fn measure_memory() {
    let guard = ours();
    let value = "v".repeat(1 << 20);
    for i in 0..6000 {
        info!(guard.logger(), "huge"; "i" => i, "v" => &value);
    }
    drop(guard);
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    eprintln!("RESULT rss_mb={}", kb / 1024);
}

/// Runs this binary as a child for one measurement; returns its results.
fn child(args: &[&str]) -> Vec<(String, f64)> {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(args)
        .env("BENCH_CHILD", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?} failed:\n{err}");
    let line = err
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .unwrap_or_else(|| panic!("{args:?}: no result\n{err}"));
    line.split(' ')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_string(), v.parse().unwrap())
        })
        .collect()
}

fn get(r: &[(String, f64)], k: &str) -> f64 {
    r.iter()
        .find(|(key, _)| key == k)
        .map_or(f64::NAN, |(_, v)| *v)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let short = args.iter().any(|a| a == "--short");
    let mode = if short {
        Mode {
            window: Duration::from_millis(1000),
            latency: Duration::from_secs(1),
            e2e: 200_000,
        }
    } else {
        Mode {
            window: Duration::from_secs(3),
            latency: Duration::from_secs(5),
            e2e: 1_000_000,
        }
    };
    if std::env::var_os("BENCH_CHILD").is_some() {
        match args.get(1).map(String::as_str) {
            Some("measure") => measure(&args[2], &mode),
            Some("two") => measure_two_threads(&args[2], &mode),
            Some("latency") => measure_latency(&args[2], &mode),
            Some("memory") => measure_memory(),
            other => panic!("unknown child {other:?}"),
        }
        return;
    }
    if args.iter().any(|a| a == "--list") {
        return; // `cargo bench -- --list`: nothing to list for criterion
    }
    let flag = if short { "--short" } else { "--full" };
    let mut rows = Vec::new();
    for p in PIPELINES {
        eprintln!("measuring {p} ...");
        let mut r = child(&["measure", p, flag]);
        r.extend(child(&["two", p, flag]));
        rows.push((p, r));
    }
    let memory = child(&["memory", flag]);
    // The latency targets compare two pipelines, each in a process of its
    // own: run them in turns, several rounds, so both see the same machine
    // (it is shared, and its speed drifts over minutes), and take the
    // median of the rounds' ratios.
    let rounds = if short { 3 } else { 5 };
    let mut lat_rounds = Vec::new();
    let mut transfers = Vec::new();
    for round in 1..=rounds {
        eprintln!("latency round {round} of {rounds} ...");
        transfers.push(line_transfer_ns());
        let ours = child(&["latency", PIPELINES[0], flag]);
        let baselines: Vec<_> = SYNC_BASELINES
            .iter()
            .map(|(p, _)| child(&["latency", p, flag]))
            .collect();
        lat_rounds.push((ours, baselines));
    }

    let n_e2e = mode.e2e;
    println!(
        "\npipelines ({}; {} records end to end; stdout to /dev/null; per record unless said)\n",
        if short { "short mode" } else { "full mode" },
        n_e2e
    );
    println!("| pipeline | caller syscalls @1k / 10k / 100k | process syscalls @1k / 10k / 100k | caller allocs | latency @10k/s p50 / p99 / p99.9 | end to end, 1 thread | 2 threads |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (p, r) in &rows {
        let e2e = |k: &str| {
            if p.ends_with("one slow") {
                "-".to_owned()
            } else {
                format!("{:.0} k/s", get(r, k) / 1000.0)
            }
        };
        println!(
            "| {p} | {:.4} / {:.4} / {:.4} | {:.3} / {:.3} / {:.4} | {:.2} | {:.2} / {:.2} / {:.2} µs | {} | {} |",
            get(r, "caller@1000"),
            get(r, "caller@10000"),
            get(r, "caller@100000"),
            get(r, "process@1000"),
            get(r, "process@10000"),
            get(r, "process@100000"),
            get(r, "allocs"),
            get(r, "p50") / 1000.0,
            get(r, "p99") / 1000.0,
            get(r, "p999") / 1000.0,
            e2e("e2e1"),
            e2e("e2e2"),
        );
    }
    let row = |name: &str| -> &Vec<(String, f64)> {
        &rows
            .iter()
            .find(|(p, _)| *p == name)
            .expect("a measured pipeline")
            .1
    };
    let ours = row("slog-host init()");
    let ours_tracing = row("slog-host init(), tracing");
    let ours_in_span = row("slog-host init(), slog in a span");
    let ours_layer = row("slog-host tracing_layer() + 2nd layer");
    let ours_filter_file = row("slog-host init(), LOG_FILTER_FILE");
    let ours_two = row("slog-host init(), 2 outputs");
    let ours_three = row("slog-host init(), 3 outputs");
    let ours_two_slow = row("slog-host init(), 2 outputs, one slow");
    let ours_three_slow = row("slog-host init(), 3 outputs, one slow");
    let ours_otlp = row("slog-host init(), OTLP export");
    let appender = row("tracing json + appender");
    let tracing_sync = row("tracing json, sync");
    let best_tracing = get(appender, "e2e1").max(get(tracing_sync, "e2e1"));
    let rss = get(&memory, "rss_mb");
    println!("\npeak RSS, 6,000 records of 1 MiB through init(): {rss} MiB\n");

    let mut failed = Vec::new();
    let mut fact = |ok: bool, what: String| {
        println!("{} {what}", if ok { "ok  " } else { "FAIL" });
        if !ok {
            failed.push(what);
        }
    };
    for rate in RATES {
        let c = get(ours, &format!("caller@{rate}"));
        fact(
            c <= 0.001,
            format!("caller syscalls per record at {rate}/s: {c:.4} (target <= 0.001)"),
        );
    }
    // The floor at a steady rate, per poll (a record is written within
    // ACTIVE_POLL, 20 ms, of its call): the writer thread's sleep, and for
    // the output its thread's wake, sleep and write (each output drains on
    // a thread of its own): 4 calls per poll, 200 a second, 0.2 per record
    // at 1k/s. The 1k/s bound allows 5 % over that floor for the rest of the
    // process (the host refresher, the clock); 10k/s and 100k/s twice the
    // floor (at 100k/s a poll's batch can pass MAX_BATCH_BYTES and be handed
    // over in two parts: 7 calls). Records that arrive while a poll writes
    // wait for the next poll: a writer that looped at once for them made
    // 0.003-0.016 at 100k/s, from one machine to the next.
    let floor_1k = 4.0 / slog_host::pipeline::ACTIVE_POLL.as_secs_f64() / 1000.0;
    for (rate, target) in [
        (1_000, floor_1k * 1.05),
        (10_000, floor_1k / 10.0 * 2.0),
        (100_000, floor_1k / 100.0 * 2.0),
    ] {
        let c = get(ours, &format!("process@{rate}"));
        fact(
            c <= target,
            format!("process syscalls per record at {rate}/s: {c:.4} (target <= {target:.3})"),
        );
    }
    let a = get(ours, "allocs");
    fact(
        a == 0.0,
        format!("caller allocations per record: {a} (target 0)"),
    );
    for (what, row) in [
        ("tracing events", ours_tracing),
        ("slog records in a span", ours_in_span),
        ("tracing events, public layer + 2nd layer", ours_layer),
        ("slog records, LOG_FILTER_FILE set", ours_filter_file),
        ("slog records, 2 outputs", ours_two),
        ("slog records, 3 outputs", ours_three),
        ("slog records, 2 outputs, one slow", ours_two_slow),
        ("slog records, 3 outputs, one slow", ours_three_slow),
        ("slog records, OTLP export on", ours_otlp),
    ] {
        for rate in RATES {
            let c = get(row, &format!("caller@{rate}"));
            fact(
                c <= 0.001,
                format!("{what}: caller syscalls per record at {rate}/s: {c:.4} (target <= 0.001)"),
            );
        }
        let a = get(row, "allocs");
        fact(
            a == 0.0,
            format!("{what}: caller allocations per record: {a} (target 0)"),
        );
    }
    fact(
        rss <= 256.0,
        format!("peak RSS with 1 MiB records: {rss} MiB (target <= 256)"),
    );

    println!("\ntimings, as ratios in this run (reported, not failed on: the machine is shared):");
    let ratio = |a: f64, b: f64| a / b;
    let report = |ok: bool, what: String| println!("{} {what}", if ok { "met " } else { "MISS" });
    println!(
        "one cache line from core to core, per round (the price of each line the caller and the \
         writer thread both touch): {} ns",
        transfers
            .iter()
            .map(|t| format!("{t:.0}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for (b, (baseline, what)) in SYNC_BASELINES.iter().enumerate() {
        println!("latency vs {baseline} ({what}):");
        for (q, label, target) in [("p50", "p50", 0.25), ("p999", "p99.9", 0.5)] {
            let per_round: Vec<(f64, f64, f64)> = lat_rounds
                .iter()
                .map(|(o, s)| (ratio(get(o, q), get(&s[b], q)), get(o, q), get(&s[b], q)))
                .collect();
            let rounds = per_round
                .iter()
                .map(|(r, o, s)| format!("{r:.2}x ({:.2} / {:.2} µs)", o / 1e3, s / 1e3))
                .collect::<Vec<_>>()
                .join(", ");
            let mut ratios: Vec<f64> = per_round.iter().map(|r| r.0).collect();
            ratios.sort_by(f64::total_cmp);
            let median = ratios[ratios.len() / 2];
            report(
                median <= target,
                format!(
                    "  {label}, median of {} alternating rounds: {median:.2}x (target <= \
                     {target}x); rounds: {rounds}",
                    ratios.len()
                ),
            );
        }
    }
    for (name, theirs) in [
        ("tracing json + appender", appender),
        ("tracing json, sync", tracing_sync),
    ] {
        let r = ratio(get(ours_tracing, "p50"), get(theirs, "p50"));
        report(
            r <= 0.5,
            format!("tracing event caller cost (p50) vs {name}: {r:.2}x (target <= 0.5x)"),
        );
    }
    println!(
        "span context on a slog record: p50 in a span / outside: {:.2}x ({:.2} / {:.2} µs); \
         public layer beside a 2nd layer / init()'s own registry, tracing event p50: {:.2}x",
        ratio(get(ours_in_span, "p50"), get(ours, "p50")),
        get(ours_in_span, "p50") / 1e3,
        get(ours, "p50") / 1e3,
        ratio(get(ours_layer, "p50"), get(ours_tracing, "p50")),
    );
    println!(
        "LOG_FILTER_FILE set / not set, slog record p50: {:.2}x; 2 outputs / 1, p50: {:.2}x, \
         end to end (1 thread): {:.2}x",
        ratio(get(ours_filter_file, "p50"), get(ours, "p50")),
        ratio(get(ours_two, "p50"), get(ours, "p50")),
        ratio(get(ours_two, "e2e1"), get(ours, "e2e1")),
    );
    println!(
        "CPU of every thread but the caller's, per record at 10k/s (the writer and the outputs): \
         1 output {:.2} µs, 2 outputs {:.2} µs, 3 outputs {:.2} µs; with a slow output: 2 outputs \
         {:.2} µs, 3 outputs {:.2} µs",
        get(ours, "others_ns") / 1e3,
        get(ours_two, "others_ns") / 1e3,
        get(ours_three, "others_ns") / 1e3,
        get(ours_two_slow, "others_ns") / 1e3,
        get(ours_three_slow, "others_ns") / 1e3,
    );
    println!(
        "caller p50 with one slow output / all fast: 2 outputs {:.2}x, 3 outputs {:.2}x",
        ratio(get(ours_two_slow, "p50"), get(ours_two, "p50")),
        ratio(get(ours_three_slow, "p50"), get(ours_three, "p50")),
    );
    println!(
        "OTLP export on / off, slog record p50: {:.2}x, p99.9: {:.2}x (the exporter thread and the \
         receiver, in this process, share the 2 cores with the caller); records exported per second \
         from 1 thread (logged, then flushed to the receiver): {:.0} k/s, from 2 threads: {:.0} k/s",
        ratio(get(ours_otlp, "p50"), get(ours, "p50")),
        ratio(get(ours_otlp, "p999"), get(ours, "p999")),
        get(ours_otlp, "e2e1") / 1000.0,
        get(ours_otlp, "e2e2") / 1000.0,
    );
    let e2e = ratio(get(ours, "e2e1"), best_tracing);
    report(
        e2e >= 2.5,
        format!("end to end, 1 thread, vs the faster tracing pipeline: {e2e:.2}x (target >= 2.5x)"),
    );

    if !failed.is_empty() {
        eprintln!("\n{} count target(s) missed", failed.len());
        std::process::exit(1);
    }
}
