//! Each output drains on its own: a slow or never-read stdout delays
//! neither the file nor the OTLP export, nor (until its own buffer is full)
//! a caller. Each scenario is a child process configured from the
//! environment as a service is (`LOG_FILE`, `OTEL_LOGS_EXPORTER=otlp`,
//! stdout on), logging 2,000 records a second; the parent reads the child's
//! stdout as slowly as the scenario says, tails the file, and runs the
//! collector (a receiver decoding with opentelemetry-proto). The three
//! children run at once.

#[path = "../../../tests/support/runner.rs"]
mod runner;

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use slog::info;
use slog_host::format::OUTPUT_DROPPED_MESSAGE;
use slog_host::Overflow;
use slog_host_otlp::{Receiver, Reply, Val};

/// Records a second each child logs.
const RATE: u64 = 2_000;
/// The latest a record may reach the file or the collector after its call.
const ARRIVAL_BOUND_MS: u64 = 1_000;
/// The longest caller call allowed while the output's buffer has room.
const CALL_BOUND: Duration = Duration::from_millis(10);

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// The child: `ISO_SECS` seconds at [`RATE`], each call timed; prints its
/// summary (one JSON object) on stderr, then drops the guard.
fn child(name: &str) {
    assert_eq!(name, "log");
    let secs: u64 = std::env::var("ISO_SECS").unwrap().parse().unwrap();
    let overflow = match std::env::var("ISO_OVERFLOW").unwrap().as_str() {
        "block" => Overflow::Block,
        _ => Overflow::DropAndReport,
    };
    let guard = slog_host::Builder::from_env()
        .unwrap()
        .flood(None)
        .overflow(overflow)
        .init()
        .unwrap();
    let log = guard.logger().clone();
    let start = Instant::now();
    let (mut slowest, mut over, mut first_over_ms) = (Duration::ZERO, 0u64, None);
    let per_tick = RATE / 100;
    let mut seq = 0u64;
    for tick in 0..secs * 100 {
        for _ in 0..per_tick {
            let t = now_ms();
            let called = Instant::now();
            info!(log, "request served"; "seq" => seq, "t_ms" => t, "path" => "/api/orders");
            let took = called.elapsed();
            slowest = slowest.max(took);
            if took > CALL_BOUND {
                over += 1;
                first_over_ms.get_or_insert(start.elapsed().as_millis() as u64);
            }
            seq += 1;
        }
        let next = start + Duration::from_millis((tick + 1) * 10);
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    let stdout_dropped = guard
        .output_dropped()
        .iter()
        .find(|(name, _)| name == "stdout")
        .map_or(0, |(_, n)| *n);
    eprintln!(
        "{{\"logged\":{seq},\"slowest_us\":{},\"calls_over_bound\":{over},\
         \"first_over_ms\":{},\"stdout_dropped\":{stdout_dropped},\"dropped\":{}}}",
        slowest.as_micros(),
        first_over_ms.map_or("null".to_owned(), |m| m.to_string()),
        guard.dropped()
    );
    drop(guard);
}

/// How the parent reads the child's stdout.
#[derive(Clone, Copy, Debug)]
enum Reader {
    /// 4 KiB every 4.5 s until the logging ends, then all of it.
    Slow,
    /// Never, until the logging ends; then all of it.
    Never,
}

/// What the parent saw of one child.
struct Seen {
    summary: serde_json::Value,
    /// Per record seq: its latency to the file, in ms.
    file: HashMap<u64, u64>,
    /// Records dropped for stdout as the file's reports say.
    reported_stdout_drops: u64,
    stdout_records: u64,
    file_bytes: u64,
}

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("slog-host-iso-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Tails `path` every 20 ms until `done`: each record's latency from its
/// `t_ms` to when it was seen; the stdout drop reports.
fn tail(path: &Path, done: &AtomicBool) -> (HashMap<u64, u64>, u64, u64) {
    let mut seen = HashMap::new();
    let (mut reported, mut pending, mut bytes) = (0u64, Vec::new(), 0u64);
    let mut file = None;
    loop {
        let last = done.load(Ordering::Relaxed);
        if file.is_none() {
            file = std::fs::File::open(path).ok();
        }
        if let Some(f) = file.as_mut() {
            let mut more = Vec::new();
            f.read_to_end(&mut more).unwrap();
            bytes += more.len() as u64;
            pending.extend_from_slice(&more);
            let at = now_ms();
            let end = pending
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(0, |e| e + 1);
            for line in pending[..end]
                .split(|b| *b == b'\n')
                .filter(|l| !l.is_empty())
            {
                let v: serde_json::Value = serde_json::from_slice(line).unwrap();
                if let (Some(seq), Some(t)) = (v["seq"].as_u64(), v["t_ms"].as_u64()) {
                    seen.entry(seq).or_insert(at.saturating_sub(t));
                } else if v["msg"] == OUTPUT_DROPPED_MESSAGE && v["output"] == "stdout" {
                    reported += v["dropped"].as_u64().unwrap();
                }
            }
            pending.drain(..end);
        }
        if last {
            return (seen, reported, bytes);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Starts a child for `secs` seconds with `overflow`, its stdout read as
/// `reader` says, its file tailed; returns what was seen once it exited.
fn start(
    name: &str,
    rx: &Receiver,
    secs: u64,
    overflow: &str,
    reader: Reader,
) -> impl FnOnce() -> Seen {
    let dir = tempdir(name);
    let file = dir.join("app.log");
    let mut child: Child = runner::scenario_command_killed_after(
        120,
        "log",
        &[
            ("ISO_SECS", &secs.to_string()),
            ("ISO_OVERFLOW", overflow),
            ("LOG_FILE", file.to_str().unwrap()),
            ("LOG_STDOUT", "on"),
            ("LOG_FORMAT", "json"),
            ("OTEL_LOGS_EXPORTER", "otlp"),
            ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", &rx.endpoint()),
            ("OTEL_SERVICE_NAME", name),
            // The export every 200 ms: arrival within a second is the
            // export's own pace, not the SDK default of 1 s.
            ("OTEL_BLRP_SCHEDULE_DELAY", "200"),
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let logging_ends = Instant::now() + Duration::from_secs(secs) + Duration::from_millis(500);
    let reader_thread = std::thread::spawn(move || {
        let mut got = Vec::new();
        let mut buf = vec![0u8; 4096];
        while Instant::now() < logging_ends {
            if let Reader::Slow = reader {
                let n = stdout.read(&mut buf).unwrap();
                got.extend_from_slice(&buf[..n]);
            }
            std::thread::sleep(
                Duration::from_millis(4_500)
                    .min(logging_ends.saturating_duration_since(Instant::now())),
            );
        }
        stdout.read_to_end(&mut got).unwrap();
        got
    });
    let done = Arc::new(AtomicBool::new(false));
    let (d, f) = (Arc::clone(&done), file.clone());
    let tailer = std::thread::spawn(move || tail(&f, &d));
    move || {
        let out = reader_thread.join().unwrap();
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let status = child.wait().unwrap();
        assert!(status.success(), "{status}: {err}");
        std::thread::sleep(Duration::from_millis(100));
        done.store(true, Ordering::Relaxed);
        let (file, reported_stdout_drops, file_bytes) = tailer.join().unwrap();
        let summary = err
            .lines()
            .find(|l| l.starts_with("{\"logged\""))
            .map(|l| serde_json::from_str(l).unwrap())
            .unwrap_or_else(|| panic!("no summary: {err}"));
        let stdout_records = String::from_utf8_lossy(&out)
            .lines()
            .filter(|l| l.contains("\"seq\""))
            .count() as u64;
        let _ = std::fs::remove_dir_all(&dir);
        Seen {
            summary,
            file,
            reported_stdout_drops,
            stdout_records,
            file_bytes,
        }
    }
}

/// Per record seq of service `name`: its latency to the collector, in ms.
fn exported(rx: &Receiver, name: &str) -> HashMap<u64, u64> {
    let (now_i, now_s) = (Instant::now(), now_ms());
    let mut seen = HashMap::new();
    for req in rx.requests() {
        let at = now_s - (now_i - req.at).as_millis() as u64;
        for r in &req.records {
            if r.resource.get("service.name") != Some(&Val::Str(name.to_owned())) {
                continue;
            }
            if let (Some(Val::Int(seq)), Some(Val::Int(t))) =
                (r.attrs.get("seq"), r.attrs.get("t_ms"))
            {
                let first = seen.insert(*seq as u64, at.saturating_sub(*t as u64));
                assert!(first.is_none(), "{name}: record {seq} exported twice");
            }
        }
    }
    seen
}

/// Every record of `logged` arrived, each within [`ARRIVAL_BOUND_MS`].
fn all_prompt(what: &str, seen: &HashMap<u64, u64>, logged: u64) {
    let missing = (0..logged).filter(|s| !seen.contains_key(s)).count();
    let late: Vec<(u64, u64)> = {
        let mut v: Vec<_> = seen
            .iter()
            .filter(|(_, ms)| **ms > ARRIVAL_BOUND_MS)
            .map(|(s, ms)| (*s, *ms))
            .collect();
        v.sort_unstable();
        v
    };
    let slowest = seen.values().max().copied().unwrap_or(0);
    println!(
        "    {what}: {} of {logged} records, slowest arrival {slowest} ms",
        seen.len()
    );
    assert_eq!(
        missing, 0,
        "{what}: {missing} of {logged} records never arrived"
    );
    assert!(
        late.is_empty(),
        "{what}: {} records arrived over {ARRIVAL_BOUND_MS} ms after their call (first: {:?})",
        late.len(),
        &late[..late.len().min(5)]
    );
}

/// Stdout read 4 KiB every 4.5 s (20 s, `DropAndReport`, and 4 s under
/// `Block`, within the buffer), and a stdout never read (12 s, `Block`):
/// every record reaches the file and the collector within a second of its
/// call; no caller call takes over 10 ms while stdout's buffer has room;
/// what stdout dropped is counted, and reported on the file, exactly.
fn a_slow_or_stuck_stdout_delays_neither_the_file_nor_the_export_nor_callers() {
    let rx = Receiver::start(0, |_| Reply::Status(200));
    let slow_drop = start("slow-drop", &rx, 20, "drop", Reader::Slow);
    let slow_block = start("slow-block", &rx, 4, "block", Reader::Slow);
    let never = start("never-read", &rx, 12, "block", Reader::Never);
    let (slow_block, never, slow_drop) = (slow_block(), never(), slow_drop());
    for (name, seen) in [
        ("slow-drop", &slow_drop),
        ("slow-block", &slow_block),
        ("never-read", &never),
    ] {
        let s = &seen.summary;
        let logged = s["logged"].as_u64().unwrap();
        println!("  {name}: {s}");
        all_prompt(&format!("{name}: file"), &seen.file, logged);
        all_prompt(&format!("{name}: collector"), &exported(&rx, name), logged);
        assert_eq!(s["dropped"], 0, "{name}: the queue itself never overflowed");
        // Exact: each record reached stdout's reader or was reported
        // dropped for it on the file (the guard's count, read before the
        // drop handed the last batches over, can only be lower).
        assert_eq!(
            seen.stdout_records + seen.reported_stdout_drops,
            logged,
            "{name}: stdout's records and its reported drops"
        );
        assert!(s["stdout_dropped"].as_u64().unwrap() <= seen.reported_stdout_drops);
        if name != "never-read" {
            assert_eq!(
                s["calls_over_bound"], 0,
                "{name}: a caller call took over {CALL_BOUND:?}"
            );
        }
    }
    // Slow, dropping: stdout's buffer filled and it dropped, counted.
    assert!(
        slow_drop.reported_stdout_drops > 0,
        "stdout's buffer never filled"
    );
    // Slow, blocking, within its buffer: nothing dropped, nothing waited.
    assert_eq!(slow_block.summary["stdout_dropped"], 0);
    assert_eq!(
        slow_block.stdout_records,
        slow_block.summary["logged"].as_u64().unwrap()
    );
    let rate = slow_block.file_bytes / 4;
    println!(
        "    under Block, stdout's buffer ({} MiB) is full after about {} s at this rate \
         ({rate} bytes/s): callers then wait for it, while it takes bytes",
        slog_host::pipeline::DEFAULT_OUTPUT_BUFFER >> 20,
        slog_host::pipeline::DEFAULT_OUTPUT_BUFFER as u64 / rate.max(1)
    );
    // Never read: stdout took nothing, so under Block its full buffer was
    // given up at once (it was stuck), the file and the export went on.
    assert!(never.reported_stdout_drops > 0);
}

crate::suite_main!(
    child,
    tests: [a_slow_or_stuck_stdout_delays_neither_the_file_nor_the_export_nor_callers]
);
