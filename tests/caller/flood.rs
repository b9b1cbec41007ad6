//! The flood guard: exact accounting under a storm, per-key accounting under
//! two threads, per-level budgets, summaries from the timer and at drop,
//! exact accounting when the pipeline stops in the middle of a flood.
//! Private pipelines in this process; a suite of the `caller` test binary
//! (`main.rs`, `harness = false`).

use crate::support::{capture, runner};

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use slog::{error, info, o, Drain, Level, OwnedKVList, Record, RecordLocation, RecordStatic, KV};
use slog_host::drain::FloodGuard;
use slog_host::flood::flood_keys;
use slog_host::{Builder, FloodConfig, Format, Output, Overflow};

/// One captured record: level, message, and the summary fields if any.
#[derive(Clone, Debug)]
struct Line {
    level: Level,
    msg: String,
    site: Option<String>,
    suppressed: Option<u64>,
}

#[derive(Default)]
struct Fields {
    site: Option<String>,
    suppressed: Option<u64>,
}

impl slog::Serializer for Fields {
    fn emit_arguments(&mut self, key: slog::Key, val: &std::fmt::Arguments<'_>) -> slog::Result {
        if key == flood_keys::SITE {
            self.site = Some(val.to_string());
        }
        Ok(())
    }
    fn emit_u64(&mut self, key: slog::Key, val: u64) -> slog::Result {
        if key == flood_keys::SUPPRESSED {
            self.suppressed = Some(val);
        }
        Ok(())
    }
}

/// A terminal drain that keeps what it is given.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<Line>>>);

impl Drain for Capture {
    type Ok = ();
    type Err = slog::Never;
    fn log(&self, r: &Record<'_>, _: &OwnedKVList) -> Result<(), slog::Never> {
        let mut f = Fields::default();
        r.kv().serialize(r, &mut f).unwrap();
        self.0.lock().unwrap().push(Line {
            level: r.level(),
            msg: r.msg().to_string(),
            site: f.site,
            suppressed: f.suppressed,
        });
        Ok(())
    }
}

impl Capture {
    fn lines(&self) -> Vec<Line> {
        self.0.lock().unwrap().clone()
    }
}

fn summaries(lines: &[Line]) -> Vec<&Line> {
    lines.iter().filter(|l| l.suppressed.is_some()).collect()
}

fn config(burst: u32, window_ms: u64) -> FloodConfig {
    FloodConfig::uniform(burst, Duration::from_millis(window_ms))
}

fn a_million_record_storm_is_bounded_and_counted_exactly() {
    const N: u64 = 1_000_000;
    const BURST: u32 = 100;
    let out = Capture::default();
    let guard = FloodGuard::new(out.clone(), config(BURST, 100)).unwrap();
    let stats = guard.stats();
    let log = slog::Logger::root(guard.fuse(), o!());

    let windows_before = stats.windows();
    let start = Instant::now();
    // Spread over about a second, as a failing accept loop would be.
    for i in 0..N {
        if i % 10_000 == 0 {
            let due = start + Duration::from_millis(i / 1000);
            while Instant::now() < due {
                std::hint::spin_loop();
            }
        }
        error!(log, "accept failed"; "error" => "Too many open files (os error 24)", "i" => i);
    }
    info!(log, "still serving"; "port" => 8080);
    let windows = stats.windows() - windows_before + 1;
    let took = start.elapsed();
    drop(log); // stops the guard: pending summaries are written

    let lines = out.lines();
    let written = lines.iter().filter(|l| l.msg == "accept failed").count() as u64;
    let sums = summaries(&lines);
    let suppressed: u64 = sums.iter().map(|l| l.suppressed.unwrap()).sum();
    println!(
        "{N} records in {took:?} over {windows} windows: {written} written, {} summaries, {suppressed} suppressed",
        sums.len()
    );
    assert_eq!(written + suppressed, N, "every record written or counted");
    assert!(
        written <= u64::from(BURST) * windows,
        "at most burst per window"
    );
    assert!(
        sums.len() as u64 <= windows + 1,
        "at most one summary per window (+ the final one)"
    );
    assert!(windows >= 5, "the storm spanned several windows");
    for s in &sums {
        assert_eq!(s.level, Level::Error, "summaries at the key's level");
        assert!(
            s.site
                .as_deref()
                .unwrap()
                .starts_with("tests/caller/flood.rs:"),
            "{s:?}"
        );
        assert_eq!(
            s.msg,
            format!("suppressed {} similar records", s.suppressed.unwrap())
        );
    }
    assert_eq!(lines.iter().filter(|l| l.msg == "still serving").count(), 1);
    assert_eq!(
        lines.len() as u64,
        written + sums.len() as u64 + 1,
        "nothing else"
    );
}

/// Floods from one call site; returns that site as `file:line`.
fn flood_from_site_a(log: &slog::Logger, n: u64) -> String {
    for i in 0..n {
        error!(log, "site a"; "i" => i);
    }
    format!("{}:{}", file!(), line!() - 2)
}

/// Floods from another call site; returns that site as `file:line`.
fn flood_from_site_b(log: &slog::Logger, n: u64) -> String {
    for i in 0..n {
        error!(log, "site b"; "i" => i);
    }
    format!("{}:{}", file!(), line!() - 2)
}

fn two_threads_on_two_call_sites_are_each_counted_exactly() {
    const N: u64 = 300_000;
    let out = Capture::default();
    let log = slog::Logger::root(
        FloodGuard::new(out.clone(), config(50, 20)).unwrap().fuse(),
        o!(),
    );
    let (la, lb) = (log.clone(), log.clone());
    let a = std::thread::spawn(move || flood_from_site_a(&la, N));
    let b = std::thread::spawn(move || flood_from_site_b(&lb, N));
    let (a, b) = (a.join().unwrap(), b.join().unwrap());
    drop(log);

    let (site_a, site_b) = (a, b);
    let lines = out.lines();
    let sums = summaries(&lines);
    let mut sites: Vec<&str> = sums.iter().map(|s| s.site.as_deref().unwrap()).collect();
    sites.sort();
    sites.dedup();
    let mut expected = vec![site_a.as_str(), site_b.as_str()];
    expected.sort();
    assert_eq!(sites, expected, "one set of summaries per call site");
    for (msg, site) in [("site a", &site_a), ("site b", &site_b)] {
        let written = lines.iter().filter(|l| l.msg == msg).count() as u64;
        let suppressed: u64 = sums
            .iter()
            .filter(|s| s.site.as_ref() == Some(site))
            .map(|s| s.suppressed.unwrap())
            .sum();
        assert_eq!(
            written + suppressed,
            N,
            "{msg} ({site}): {written} + {suppressed}"
        );
    }
}

fn an_info_flood_never_hides_an_error_from_the_same_place() {
    // One location, two levels: two keys, two budgets.
    static LOCATION: RecordLocation = RecordLocation {
        file: "tests/caller/flood.rs",
        line: 1,
        column: 1,
        function: "",
        module: "caller::flood",
    };
    let out = Capture::default();
    let guard = FloodGuard::new(out.clone(), config(5, 60_000)).unwrap();
    let values = OwnedKVList::from(o!());
    let log_at = |level: Level| {
        let rs = RecordStatic {
            location: &LOCATION,
            tag: "",
            level,
        };
        guard
            .log(
                &Record::new(&rs, &format_args!("same place"), slog::b!()),
                &values,
            )
            .unwrap();
    };
    for _ in 0..1000 {
        log_at(Level::Info);
    }
    for _ in 0..3 {
        log_at(Level::Error);
    }
    let lines = out.lines();
    assert_eq!(lines.iter().filter(|l| l.level == Level::Info).count(), 5);
    assert_eq!(
        lines.iter().filter(|l| l.level == Level::Error).count(),
        3,
        "errors all pass"
    );
    assert_eq!(guard.suppressed(), 995);
}

fn summaries_come_from_the_timer_after_the_flood_stops() {
    let out = Capture::default();
    let log = slog::Logger::root(
        FloodGuard::new(out.clone(), config(10, 20)).unwrap().fuse(),
        o!(),
    );
    for i in 0..1000 {
        error!(log, "burst"; "i" => i);
    }
    // No more records: only the timer can write the summary.
    let deadline = Instant::now() + Duration::from_secs(10);
    while summaries(&out.lines()).is_empty() {
        assert!(Instant::now() < deadline, "no summary from the timer");
        std::thread::sleep(Duration::from_millis(5));
    }
    let lines = out.lines();
    assert_eq!(summaries(&lines)[0].suppressed, Some(990));
    drop(log);
    assert_eq!(summaries(&out.lines()).len(), 1, "nothing more to report");
}

fn summaries_pending_at_drop_are_written() {
    let out = Capture::default();
    // A window of an hour: only the drop can write the summary.
    let log = slog::Logger::root(
        FloodGuard::new(out.clone(), config(3, 3_600_000))
            .unwrap()
            .fuse(),
        o!(),
    );
    for i in 0..50 {
        error!(log, "burst"; "i" => i);
    }
    assert!(summaries(&out.lines()).is_empty());
    drop(log);
    let lines = out.lines();
    assert_eq!(lines.iter().filter(|l| l.msg == "burst").count(), 3);
    assert_eq!(summaries(&lines)[0].suppressed, Some(47));
}

fn is_enabled_is_forwarded_to_the_inner_drain() {
    let inner = slog::LevelFilter::new(Capture::default(), Level::Warning);
    let guard = FloodGuard::new(inner, FloodConfig::default()).unwrap();
    assert!(guard.is_enabled(Level::Error));
    assert!(!guard.is_enabled(Level::Info));
}

fn the_defaults_keep_an_access_log_and_bound_an_error_loop() {
    const ACCESS: u64 = 2000;
    const ERRORS: u64 = 1_000_000;
    let out = Capture::default();
    let guard = FloodGuard::new(out.clone(), FloodConfig::default()).unwrap();
    let stats = guard.stats();
    let log = slog::Logger::root(guard.fuse(), o!());
    // An access log: one call site, 1,000 records per second for 2 s (ten
    // times the WARN-and-above budget per window).
    let start = Instant::now();
    for seq in 0..ACCESS {
        if let Some(wait) =
            (start + Duration::from_millis(seq)).checked_duration_since(Instant::now())
        {
            std::thread::sleep(wait);
        }
        info!(log, "request done"; "seq" => seq);
    }
    let windows_before = stats.windows();
    for i in 0..ERRORS {
        error!(log, "accept failed"; "i" => i);
    }
    let windows = stats.windows() - windows_before + 1;
    drop(log);

    let lines = out.lines();
    let access = lines.iter().filter(|l| l.msg == "request done").count() as u64;
    let written = lines.iter().filter(|l| l.msg == "accept failed").count() as u64;
    let sums = summaries(&lines);
    let suppressed: u64 = sums.iter().map(|l| l.suppressed.unwrap()).sum();
    println!("{access} of {ACCESS} access records; {ERRORS} errors: {written} written, {suppressed} suppressed in {windows} windows");
    assert_eq!(access, ACCESS, "the access log passes untouched");
    assert!(
        sums.iter().all(|s| s.level == Level::Error),
        "no INFO summary"
    );
    assert_eq!(written + suppressed, ERRORS, "exact summaries");
    assert!(written <= 100 * windows, "at most 100 errors per window");
}

/// Threads flooding one ERROR call site in the race below.
const STOP_RACE_THREADS: usize = 32;

/// What one run of the stop race saw: records logged, flood records written,
/// the summaries' `flood.suppressed`, the overflow reports' `dropped`, and
/// the lines the last logger's drop added.
#[derive(Debug)]
struct StopRace {
    logged: u64,
    written: u64,
    suppressed: u64,
    dropped: u64,
    after_last_logger: usize,
}

/// Runs the stop race once: 32 threads flood one ERROR call site of a fresh
/// private pipeline and the `LogGuard` is dropped in the middle of it; they
/// go on logging (now synchronously) for 2,000 records more.
/// The main thread keeps a clone of the logger, as slog-scope, `log` and
/// the tracing dispatcher keep the global one, so the flood guard itself is
/// not dropped before the output is counted.
fn stop_race(overflow: Overflow) -> StopRace {
    let buf = capture::Buf::default();
    let guard = Builder::new()
        .global(false)
        .format(Format::Json)
        .channel_size(64)
        .overflow(overflow)
        .flood(Some(config(20, 5)))
        .output(Output::Writer(Box::new(buf.clone())))
        .init()
        .unwrap();
    let kept = guard.logger().clone();
    let calls = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (0..STOP_RACE_THREADS)
        .map(|t| {
            let (log, calls, done) = (kept.clone(), Arc::clone(&calls), Arc::clone(&done));
            std::thread::spawn(move || {
                let mut mine = 0u64;
                while !done.load(Ordering::Relaxed) {
                    error!(log, "flood"; "t" => t, "i" => mine);
                    mine += 1;
                    calls.fetch_add(1, Ordering::Relaxed);
                }
                mine
            })
        })
        .collect();
    let calls_now = || calls.load(Ordering::Relaxed);
    capture::wait_for(|| calls_now() >= 20_000, "the flood to start");
    drop(guard);
    let at_drop = calls_now();
    capture::wait_for(|| calls_now() >= at_drop + 2_000, "records after the stop");
    done.store(true, Ordering::Relaxed);
    let logged: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();

    let lines = buf.json_lines();
    let sum = |key: &str| -> u64 { lines.iter().filter_map(|v| v[key].as_u64()).sum() };
    let (suppressed, dropped) = (sum(flood_keys::SUPPRESSED), sum("dropped"));
    let written = lines.iter().filter(|v| v["msg"] == "flood").count() as u64;
    for v in &lines {
        let known = v["msg"] == "flood"
            || v[flood_keys::SUPPRESSED].is_u64()
            || v["msg"] == slog_host::format::OVERFLOW_MESSAGE;
        assert!(known, "an unexpected line: {v}");
    }
    // The last logger's drop drops the flood guard: it has nothing left to
    // report.
    drop(kept);
    let after_last_logger = buf.json_lines().len() - lines.len();
    StopRace {
        logged,
        written,
        suppressed,
        dropped,
        after_last_logger,
    }
}

/// 32 threads flood one ERROR call site while the pipeline stops, 12 runs per
/// overflow policy: in every run each record logged is written, counted in a
/// flood summary, or counted in an overflow report, before the flood guard
/// itself is dropped (the global one never is).
fn accounting_is_exact_when_the_guard_drops_mid_flood() {
    let mut failures = Vec::new();
    for overflow in [Overflow::Block, Overflow::DropAndReport] {
        let runs: Vec<StopRace> = (0..12).map(|_| stop_race(overflow)).collect();
        println!("{overflow:?}: {runs:?}");
        for (i, r) in runs.iter().enumerate() {
            let counted = r.written + r.suppressed + r.dropped;
            if counted != r.logged || r.after_last_logger != 0 {
                failures.push(format!(
                    "{overflow:?} run {i}: logged - counted = {}, {} lines at the last drop",
                    i128::from(r.logged) - i128::from(counted),
                    r.after_last_logger
                ));
            }
            assert!(r.suppressed > 0, "{overflow:?}: the guard dropped records");
        }
        if overflow == Overflow::DropAndReport {
            assert!(
                runs.iter().any(|r| r.dropped > 0),
                "the queue overflowed in some run"
            );
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

crate::suite!(
    tests: [
        a_million_record_storm_is_bounded_and_counted_exactly,
        two_threads_on_two_call_sites_are_each_counted_exactly,
        an_info_flood_never_hides_an_error_from_the_same_place,
        summaries_come_from_the_timer_after_the_flood_stops,
        summaries_pending_at_drop_are_written,
        is_enabled_is_forwarded_to_the_inner_drain,
        the_defaults_keep_an_access_log_and_bound_an_error_loop,
        accounting_is_exact_when_the_guard_drops_mid_flood,
    ]
);
