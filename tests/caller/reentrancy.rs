//! What application code can do to the pipeline from inside it: logger values
//! that log while they are formatted (on the writer thread, or on a caller
//! writing synchronously), a span field whose `Debug` logs, an output that
//! panics, and many private pipelines started and dropped. None may hang,
//! leak or lose count. Each scenario runs in a child copy of this binary,
//! killed if it hangs.
//!
//! A suite of the `caller` test binary (`main.rs`, `harness = false`).

use crate::support::{capture, runner};

use std::io::Write;
use std::process::Output as ProcessOutput;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use capture::Buf;
use slog::{info, FnValue, Logger};
use slog_host::{Builder, FileConfig, FloodConfig, Format, Output, Overflow};

fn private(out: impl Write + Send + 'static) -> Builder {
    Builder::new()
        .global(false)
        .format(Format::Json)
        .output(Output::Writer(Box::new(out)))
}

/// A logger value that logs through `log` when it is formatted.
fn nested(log: &Logger) -> Logger {
    let inner = log.clone();
    log.new(slog::o!("nested" => FnValue(move |_| {
        info!(inner, "logged while formatting");
        "value"
    })))
}

/// An output that panics on every write after the first `ok` ones.
struct Panicky {
    ok: u64,
    writes: Arc<AtomicU64>,
}

impl Write for Panicky {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        if self.writes.fetch_add(1, Ordering::SeqCst) >= self.ok {
            panic!("the output panics");
        }
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

fn child(name: &str) {
    match name {
        "nested_sync" => {
            // After the guard: the caller writes synchronously and holds the
            // output while the value logs.
            let buf = Buf::default();
            let guard = private(buf.clone()).init().unwrap();
            let log = nested(guard.logger());
            drop(guard);
            for _ in 0..3 {
                info!(log, "outer");
            }
            println!("LINES {}", buf.text().lines().count());
        }
        "nested_full_queue" => {
            // The writer thread formats a value that logs while the queue is
            // full and callers wait for room that only the writer can make.
            let buf = Buf::default();
            let guard = private(buf.clone())
                .channel_size(16)
                .overflow(Overflow::Block)
                .flood(None)
                .init()
                .unwrap();
            let log = nested(guard.logger());
            std::thread::scope(|s| {
                for _ in 0..2 {
                    let log = log.clone();
                    s.spawn(move || {
                        for _ in 0..2000 {
                            info!(log, "outer");
                        }
                    });
                }
            });
            guard.flush();
            let dropped = guard.dropped();
            drop(guard);
            let text = buf.text();
            let outer = text.matches("\"msg\":\"outer\"").count();
            let inner = text.matches("logged while formatting").count() as u64;
            let reported: u64 = buf
                .json_lines()
                .iter()
                .filter_map(|v| v["dropped"].as_u64())
                .sum();
            println!("COUNTS outer={outer} inner={inner} dropped={dropped} reported={reported}");
        }
        "tracing_record_logs" => {
            let guard = slog_host::init().unwrap();
            struct Loud;
            impl std::fmt::Debug for Loud {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    tracing::info!("logged from Debug");
                    f.write_str("loud")
                }
            }
            let span = tracing::info_span!("request", x = tracing::field::Empty);
            let _e = span.enter();
            span.record("x", tracing::field::debug(Loud));
            tracing::info!("inside");
            drop(guard);
        }
        "panicking_output" => {
            for ok in [1u64, 0] {
                let writes = Arc::new(AtomicU64::new(0));
                let guard = Builder::new()
                    .global(false)
                    .format(Format::Json)
                    .output(Output::Writer(Box::new(Panicky {
                        ok,
                        writes: Arc::clone(&writes),
                    })))
                    .init()
                    .unwrap();
                for round in 0..50 {
                    for i in 0..100 {
                        info!(guard.logger(), "r"; "round" => round, "i" => i);
                    }
                    guard.flush(); // returns although the output panics
                }
                println!(
                    "PANICKY ok={ok} written={} errors={}",
                    guard.written(),
                    guard.write_errors()
                );
                drop(guard);
            }
        }
        "many_pipelines" => {
            let dir = std::env::temp_dir().join(format!("slog-host-many-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let run = |n: usize| {
                for i in 0..n {
                    let guard = Builder::new()
                        .global(false)
                        .format(Format::Json)
                        .flood(Some(FloodConfig::default()))
                        .output(Output::File(FileConfig::new(dir.join(format!("{i}.log")))))
                        .init()
                        .unwrap();
                    info!(guard.logger(), "one");
                    drop(guard);
                }
            };
            run(2);
            let before = open_fds();
            run(50);
            let after = open_fds();
            std::fs::remove_dir_all(&dir).unwrap();
            println!("FDS before={before} after={after}");
        }
        other => panic!("unknown scenario {other}"),
    }
}

fn run(scenario: &str) -> ProcessOutput {
    runner::run_json(scenario, &[])
}

fn value(out: &str, tag: &str, key: &str) -> u64 {
    let line = out
        .lines()
        .find(|l| l.starts_with(tag))
        .unwrap_or_else(|| panic!("no {tag} in {out}"));
    line.split(' ')
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
        .unwrap()
        .parse()
        .unwrap()
}

fn a_value_that_logs_while_written_synchronously_does_not_hang() {
    let out = run("nested_sync");
    let text = String::from_utf8_lossy(&out.stdout);
    // Each outer record and its nested one.
    assert!(text.contains("LINES 6"), "{text}");
}

fn a_value_that_logs_on_the_writer_thread_does_not_hang_and_is_counted() {
    let out = run("nested_full_queue");
    let text = String::from_utf8_lossy(&out.stdout);
    let (outer, inner) = (
        value(&text, "COUNTS", "outer"),
        value(&text, "COUNTS", "inner"),
    );
    let (dropped, reported) = (
        value(&text, "COUNTS", "dropped"),
        value(&text, "COUNTS", "reported"),
    );
    println!(
        "nested on a full queue: {outer} outer, {inner} nested written, {dropped} nested dropped"
    );
    assert_eq!(outer, 4000, "every outer record (Block)");
    assert_eq!(
        inner + dropped,
        4000,
        "every nested record written or counted"
    );
    assert_eq!(reported, dropped, "drops reported");
}

fn a_span_field_whose_debug_logs_does_not_hang() {
    let out = run("tracing_record_logs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("logged from Debug"), "{text}");
    assert!(
        text.contains("\"msg\":\"inside\"") && text.contains("\"x\":\"loud\""),
        "{text}"
    );
}

fn a_panicking_output_neither_hangs_flush_nor_loses_count() {
    let out = run("panicking_output");
    let text = String::from_utf8_lossy(&out.stdout);
    for line in text.lines().filter(|l| l.starts_with("PANICKY")) {
        let field = |k: &str| -> u64 {
            line.split(' ')
                .find_map(|kv| kv.strip_prefix(&format!("{k}=")))
                .unwrap()
                .parse()
                .unwrap()
        };
        assert_eq!(field("written"), 5000, "{line}: every record handled");
        assert!(field("errors") >= 4900, "{line}: counted as not written");
    }
    assert_eq!(text.lines().filter(|l| l.starts_with("PANICKY")).count(), 2);
}

fn private_pipelines_release_their_files() {
    let out = run("many_pipelines");
    let text = String::from_utf8_lossy(&out.stdout);
    let (before, after) = (value(&text, "FDS", "before"), value(&text, "FDS", "after"));
    println!("50 private pipelines with a file and a flood guard: fds {before} -> {after}");
    assert_eq!(before, after, "no file left open");
}

crate::suite!(
    child,
    tests: [
        a_value_that_logs_while_written_synchronously_does_not_hang,
        a_value_that_logs_on_the_writer_thread_does_not_hang_and_is_counted,
        a_span_field_whose_debug_logs_does_not_hang,
        a_panicking_output_neither_hangs_flush_nor_loses_count,
        private_pipelines_release_their_files,
    ]
);
