//! A service's whole life with `init()`, one child process per scenario (the
//! panic hook, the global logger and the `log` bridge are process-wide): a
//! panic becomes a record and nothing before it is lost, with
//! `panic = "abort"` and with a `process::exit` right after the panic; a
//! panic inside the logging path neither deadlocks nor recurses; the guard
//! dropped at once is no trap; the crate's own host detection never forwards
//! what its dependencies log.
//!
//! Every child runs under a watchdog: one still running after [`HANG`] is
//! killed and its test fails (a hang, not a timing assertion).
//!
//! A suite of the `setup` test binary (`main.rs`, `harness = false`).

use crate::support::runner;

use std::collections::HashSet;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;
use slog::{info, o};
use slog_host::Builder;

/// A child still running after this long is hung.
const HANG: Duration = Duration::from_secs(120);

/// Panics with `msg`; the panic's line is [`BOOM_LINE`].
fn boom(msg: &str) -> ! {
    panic!("{msg}")
}
const BOOM_LINE: u32 = line!() - 2;

/// A value whose formatting panics (a bug in an application's `Display`).
struct PanicsInDisplay(&'static str);

impl std::fmt::Display for PanicsInDisplay {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        boom(self.0)
    }
}

/// A logger value whose serialisation panics: logger values are serialised
/// on the writer thread (or by the thread writing synchronously).
struct PanicsOnSerialize;

impl slog::Value for PanicsOnSerialize {
    fn serialize(
        &self,
        _: &slog::Record<'_>,
        _: slog::Key,
        _: &mut dyn slog::Serializer,
    ) -> slog::Result {
        boom("logger value")
    }
}

fn in_thread(name: &str, f: impl FnOnce() + Send + 'static) -> bool {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .unwrap()
        .join()
        .is_err()
}

// ---------------------------------------------------------------- children

fn child(name: &str) -> Result<(), slog_host::Error> {
    match name {
        "exit_after_thread_panic" => {
            let guard = Builder::from_env()?
                .source_location(std::env::var_os("WITH_SOURCE").is_some())
                .init()?;
            for i in 0..500 {
                info!(guard.logger(), "main record"; "i" => i);
            }
            let log = guard.logger().clone();
            let panicked = in_thread("worker-7", move || {
                for i in 0..500 {
                    info!(log, "worker record"; "i" => i);
                }
                boom("worker 7 failed");
            });
            assert!(panicked);
            std::process::exit(3); // the guard is never dropped
        }
        "chained" => {
            // Installed first: runs after the crate's hook, and finds the
            // panic record already in the file.
            let file = std::env::var("LOG_FILE").unwrap();
            std::panic::set_hook(Box::new(move |_| {
                let text = std::fs::read_to_string(&file).unwrap_or_default();
                eprintln!(
                    "PREVIOUS HOOK: records before it: {}, panic record: {}",
                    text.matches("\"before\"").count(),
                    text.contains(r#""exception.message":"chained""#)
                );
            }));
            let guard = slog_host::init()?;
            for _ in 0..10 {
                info!(guard.logger(), "before");
            }
            assert!(in_thread("chained", || boom("chained")));
        }
        "hook_off" | "private_pipeline" => {
            let builder = Builder::from_env()?;
            let guard = match name {
                "hook_off" => builder.panic_hook(false),
                _ => builder.global(false), // the hook stays on by default
            }
            .init()?;
            info!(guard.logger(), "before");
            assert!(in_thread("no-hook", || boom("not a record")));
            info!(guard.logger(), "after");
        }
        "caller_side_panics" => {
            let guard = slog_host::init()?;
            let log = guard.logger().clone();
            info!(log, "before");
            // While capturing, on the caller's side: nothing is held, so the
            // panic is a record (the record being captured is lost).
            let l = log.clone();
            assert!(in_thread("capture", move || {
                info!(l, "never captured"; "v" => %PanicsInDisplay("in capture"));
            }));
            // Inside println!, whose stdout lock the panicking thread holds:
            // the writer writes through a descriptor of its own, never that
            // lock, so the hook's flush returns at once.
            assert!(in_thread("println", || {
                println!("{}", PanicsInDisplay("in println"));
            }));
            info!(log, "after");
        }
        "writer_side_panics" => {
            let guard = slog_host::init()?;
            let log = guard.logger().clone();
            // A logger value is serialised by whoever writes: first the
            // writer thread, which catches the panic (the hook must not wait
            // for the writer, itself) ...
            let bad = log.new(o!("bad" => PanicsOnSerialize));
            info!(bad, "formatted on the writer thread");
            guard.flush();
            info!(log, "between");
            drop(guard);
            // ... then, after the drop, this thread, writing synchronously
            // while it holds the output (the hook must not log: it would
            // wait for the output this thread holds).
            info!(bad, "formatted synchronously");
            info!(log, "still logging");
        }
        "no_trap" => {
            // What rustc suggests for `init()?;`: the guard drops at once.
            let _ = slog_host::init();
            for i in 0..100 {
                info!(slog_scope::logger(), "through slog-scope"; "i" => i);
            }
            for i in 0..100 {
                log::info!("through log {i}");
            }
        }
        "detection" => {
            let guard = slog_host::init()?;
            info!(guard.logger(), "started");
            std::thread::sleep(Duration::from_millis(1500));
            eprintln!("REFRESHES: {}", guard.cache().status().refreshes);
        }
        "neli_control" => {
            // No init(): a `log` logger that counts what one local_ip()
            // call logs at trace, on this thread and on others.
            struct Count(std::thread::ThreadId, AtomicU64, AtomicU64);
            impl log::Log for Count {
                fn enabled(&self, _: &log::Metadata<'_>) -> bool {
                    true
                }
                fn log(&self, r: &log::Record<'_>) {
                    if r.target().starts_with("neli") {
                        let n = if std::thread::current().id() == self.0 {
                            &self.1
                        } else {
                            &self.2
                        };
                        n.fetch_add(1, Ordering::Relaxed);
                    }
                }
                fn flush(&self) {}
            }
            let count: &'static Count = Box::leak(Box::new(Count(
                std::thread::current().id(),
                AtomicU64::new(0),
                AtomicU64::new(0),
            )));
            log::set_logger(count).unwrap();
            log::set_max_level(log::LevelFilter::Trace);
            let _ = local_ip_address::local_ip();
            std::thread::sleep(Duration::from_millis(100)); // neli's thread ends
            eprintln!(
                "NELI: {} {}",
                count.1.load(Ordering::Relaxed),
                count.2.load(Ordering::Relaxed)
            );
        }
        other => panic!("unknown scenario {other}"),
    }
    Ok(())
}

// ---------------------------------------------------------------- parent

/// The longest the `panic-abort` build may take: a build of the whole
/// dependency tree in a profile of its own, minutes on a slow or busy
/// machine (two CPU hogs made it pass 120 s); the bound only catches a
/// cargo that never returns.
const BUILD_BOUND: Duration = Duration::from_secs(30 * 60);

/// Runs `cmd` under the watchdog.
fn output(cmd: Command, what: &str) -> Output {
    output_within(cmd, what, HANG)
}

/// Runs `cmd`, killed after `bound`.
fn output_within(mut cmd: Command, what: &str, bound: Duration) -> Output {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output().unwrap()));
    match rx.recv_timeout(bound) {
        Ok(out) => out,
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!("{what}: still running after {bound:?}, killed")
        }
    }
}

fn run(scenario: &str, env: &[(&str, &str)]) -> Output {
    let mut cmd = runner::scenario_command(scenario, &[("LOG_FORMAT", "json")]);
    cmd.envs(env.iter().copied());
    output(cmd, scenario)
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn panic_records(lines: &[Value]) -> Vec<&Value> {
    lines.iter().filter(|v| v["target"] == "panic").collect()
}

/// The `seq`s of the records with message `msg`: each of `0..n` once.
fn assert_all(lines: &[Value], msg: &str, n: u64) {
    let seen: HashSet<u64> = lines
        .iter()
        .filter(|v| v["msg"] == msg)
        .map(|v| v["i"].as_u64().unwrap())
        .collect();
    assert_eq!(seen.len() as u64, n, "every {msg:?} record once");
    assert!(seen.iter().all(|i| *i < n));
}

fn a_threads_panic_is_one_fatal_record_after_its_records_despite_process_exit() {
    let out = run("exit_after_thread_panic", &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    let lines = json_lines(&out);
    assert_all(&lines, "main record", 500);
    assert_all(&lines, "worker record", 500);
    let panics = panic_records(&lines);
    assert_eq!(panics.len(), 1, "{panics:?}");
    let p = panics[0];
    let file = "tests/setup/lifecycle.rs";
    assert_eq!(p["level"], "FATAL");
    assert_eq!(
        p["msg"].as_str().unwrap(),
        format!("panicked at {file}:{BOOM_LINE}:5: worker 7 failed")
    );
    assert_eq!(p["exception.type"], "panic");
    assert_eq!(p["exception.message"], "worker 7 failed");
    assert_eq!(p["panic.file"], file);
    assert_eq!(p["panic.line"], BOOM_LINE);
    assert_eq!(p["thread.name"], "worker-7");
    assert!(p["host.name"].is_string(), "enriched: {p}");
    assert!(p.get("exception.stacktrace").is_none(), "no RUST_BACKTRACE");
    // Everything the worker logged is written before its panic record.
    let at = |v: &Value| lines.iter().position(|l| l == v).unwrap();
    let last_worker = lines.iter().rposition(|v| v["msg"] == "worker record");
    assert!(last_worker.unwrap() < at(p));
    // The previous hook (Rust's own message) still ran.
    assert!(
        err.contains("thread 'worker-7'") && err.contains("worker 7 failed"),
        "{err}"
    );

    // With RUST_BACKTRACE=1 the record carries the backtrace, and source
    // locations point at the panic.
    let out = run(
        "exit_after_thread_panic",
        &[("RUST_BACKTRACE", "1"), ("WITH_SOURCE", "1")],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let lines = json_lines(&out);
    let p = panic_records(&lines)[0];
    let bt = p["exception.stacktrace"].as_str().unwrap();
    assert!(bt.contains("setup::lifecycle::boom"), "{bt}");
    assert_eq!(p["code.file.path"], file);
    assert_eq!(p["code.line.number"], BOOM_LINE);
    assert!(lines
        .iter()
        .filter(|v| v["msg"] == "main record")
        .all(|v| v["code.file.path"] == file));
}

fn under_panic_abort_the_panic_record_is_the_last_and_nothing_before_is_lost() {
    let root = env!("CARGO_MANIFEST_DIR");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = Command::new(cargo);
    build.current_dir(root).args([
        "build",
        "--profile",
        "panic-abort",
        "--example",
        "panic_abort",
        "--message-format",
        "json",
    ]);
    let built = output_within(build, "cargo build --profile panic-abort", BUILD_BOUND);
    assert!(built.status.success(), "{}", stderr(&built));
    let exe = String::from_utf8(built.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "panic_abort")
        .find_map(|m| m["executable"].as_str().map(str::to_owned))
        .expect("the example's executable");
    assert!(exe.contains("panic-abort"), "{exe}");

    let source = std::fs::read_to_string(format!("{root}/examples/panic_abort.rs")).unwrap();
    let line = 1 + source
        .lines()
        .position(|l| l.contains("// the panic"))
        .unwrap();
    let cmd = runner::isolated(Command::new(&exe), &[("LOG_FORMAT", "json")]);
    let out = output(cmd, "panic_abort");
    let err = stderr(&out);
    assert_eq!(
        out.status.signal(),
        Some(6),
        "died of SIGABRT: {:?} {err}",
        out.status
    );
    let lines = json_lines(&out);
    assert_all(&lines, "request done", 1000);
    assert!(lines.iter().any(|v| v["msg"] == "the next order fails"));
    let panics = panic_records(&lines);
    assert_eq!(panics.len(), 1, "{panics:?}");
    let p = panics[0];
    assert_eq!(p["level"], "FATAL");
    assert_eq!(p["exception.message"], "order 42 has no lines");
    assert_eq!(p["panic.file"], "examples/panic_abort.rs");
    assert_eq!(p["panic.line"], line);
    assert_eq!(p["thread.name"], "order-worker");
    assert_eq!(
        lines.last().unwrap(),
        p,
        "the panic record is the last line"
    );
    assert!(err.contains("order 42 has no lines"), "{err}");
}

fn the_previous_hook_runs_after_the_record_is_written() {
    let dir = std::env::temp_dir().join(format!("slog-host-lifecycle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("app.log");
    let out = run("chained", &[("LOG_FILE", file.to_str().unwrap())]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("PREVIOUS HOOK: records before it: 10, panic record: true"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

fn panic_hook_false_installs_nothing() {
    for scenario in ["hook_off", "private_pipeline"] {
        let out = run(scenario, &[]);
        let err = stderr(&out);
        assert!(out.status.success(), "{scenario}: {err}");
        let lines = json_lines(&out);
        let msgs: Vec<&str> = lines.iter().map(|v| v["msg"].as_str().unwrap()).collect();
        assert_eq!(msgs, ["before", "after"], "{scenario}: no panic record");
        // Rust's default hook, untouched.
        assert!(
            err.contains("thread 'no-hook'") && err.contains("not a record"),
            "{scenario}: {err}"
        );
    }
}

fn a_panic_in_the_logging_path_neither_deadlocks_nor_recurses() {
    let out = run("caller_side_panics", &[]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let lines = json_lines(&out);
    let msgs: Vec<&str> = lines.iter().map(|v| v["msg"].as_str().unwrap()).collect();
    let line = BOOM_LINE;
    assert_eq!(
        msgs,
        [
            "before".to_string(),
            format!("panicked at tests/setup/lifecycle.rs:{line}:5: in capture"),
            format!("panicked at tests/setup/lifecycle.rs:{line}:5: in println"),
            "after".to_string(),
        ]
    );
    assert!(
        !err.contains("made no progress"),
        "the println case did not wait for the stdout lock: {err}"
    );
    assert_eq!(err.matches("panicked at").count(), 2, "{err}");

    // Panics on the writer's side: no panic record, no hang, no half line
    // (every line parses), and logging goes on.
    let out = run("writer_side_panics", &[]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let lines = json_lines(&out);
    let msgs: Vec<&str> = lines.iter().map(|v| v["msg"].as_str().unwrap()).collect();
    assert!(msgs.contains(&"between"), "{msgs:?}");
    assert!(msgs.contains(&"still logging"), "{msgs:?}");
    assert!(lines.iter().all(|v| v["target"] != "panic"), "{msgs:?}");
    assert_eq!(err.matches("panicked at").count(), 2, "{err}");
    assert_eq!(
        err.matches("panicked while it was formatted").count(),
        2,
        "{err}"
    );
}

fn dropping_the_guard_at_once_is_no_trap() {
    let out = run("no_trap", &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let lines = json_lines(&out);
    assert_all(&lines, "through slog-scope", 100);
    let bridged: HashSet<&str> = lines
        .iter()
        .filter_map(|v| v["msg"].as_str())
        .filter(|m| m.starts_with("through log "))
        .collect();
    assert_eq!(bridged.len(), 100);
    assert_eq!(lines.len(), 200, "nothing else");
    assert!(lines.iter().all(|v| v["host.name"].is_string()));
}

fn is_detection_dependency(v: &Value) -> bool {
    let target = v["target"].as_str().unwrap_or("");
    target.starts_with("neli") || target.starts_with("local_ip_address")
}

fn detection_dependencies_are_not_forwarded() {
    // Control: neli does log here, at trace, and some of it from a thread
    // of its own (the router thread it starts per query), where a flag for
    // the thread that runs detection cannot see it.
    let out = run("neli_control", &[]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let counts: Vec<u64> = err
        .lines()
        .find_map(|l| l.strip_prefix("NELI: "))
        .unwrap()
        .split(' ')
        .map(|n| n.parse().unwrap())
        .collect();
    let (same_thread, other_threads) = (counts[0], counts[1]);
    assert!(same_thread > 0 && other_threads > 0, "{counts:?}");

    // Detection every millisecond (the smallest interval) for 1.5 s.
    let out = run(
        "detection",
        &[("RUST_LOG", "trace"), ("LOG_HOST_REFRESH", "1ms")],
    );
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let refreshes: u64 = err
        .lines()
        .find_map(|l| l.strip_prefix("REFRESHES: "))
        .unwrap()
        .parse()
        .unwrap();
    let lines = json_lines(&out);
    let leaked: Vec<_> = lines
        .iter()
        .filter(|v| is_detection_dependency(v))
        .collect();
    println!(
        "detection: {refreshes} refreshes, {} lines, {} from detection's dependencies; \
         control: one local_ip() logs {same_thread} neli records on its thread, \
         {other_threads} on others",
        lines.len(),
        leaked.len()
    );
    assert!(refreshes > 100, "detection ran: {refreshes}");
    assert!(leaked.is_empty(), "{:?}", &leaked[..leaked.len().min(3)]);
    assert!(lines.iter().any(|v| v["msg"] == "started"));
}

crate::suite!(
    child,
    tests: [
        a_threads_panic_is_one_fatal_record_after_its_records_despite_process_exit,
        under_panic_abort_the_panic_record_is_the_last_and_nothing_before_is_lost,
        the_previous_hook_runs_after_the_record_is_written,
        panic_hook_false_installs_nothing,
        a_panic_in_the_logging_path_neither_deadlocks_nor_recurses,
        dropping_the_guard_at_once_is_no_trap,
        detection_dependencies_are_not_forwarded,
    ]
);
