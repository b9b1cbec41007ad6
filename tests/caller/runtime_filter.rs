//! The filter of a running pipeline: `LogGuard::set_filter` while 4 threads
//! log through slog, `log` and `tracing` (each record judged by the
//! directives in force when it was logged, by sequence number), an invalid
//! filter that changes nothing, and `LOG_FILTER_FILE` on a Kubernetes
//! ConfigMap layout (a `..data` symlink swapped by rename). Each scenario
//! runs in a child copy of this binary (global state).
//!
//! A suite of the `caller` test binary (`main.rs`, `harness = false`).

use crate::support::runner;

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use runner::run_json as run;
use serde_json::Value;

const THREADS: usize = 4;

/// Per thread: the records started (k of the next one) and finished.
struct Progress {
    started: [AtomicU64; THREADS],
    finished: [AtomicU64; THREADS],
}

fn log_three(t: usize, k: u64) {
    slog::debug!(slog_scope::logger(), "slog"; "t" => t, "k" => k);
    log::debug!(t = t, k = k; "log");
    tracing::debug!(t = t, k = k, "tracing");
}

fn child(name: &str) {
    match name {
        "set_filter" => {
            let guard = slog_host::init().unwrap();
            let progress = Arc::new(Progress {
                started: Default::default(),
                finished: Default::default(),
            });
            let stop = Arc::new(AtomicBool::new(false));
            let threads: Vec<_> = (0..THREADS)
                .map(|t| {
                    let (progress, stop) = (Arc::clone(&progress), Arc::clone(&stop));
                    std::thread::spawn(move || {
                        let mut k = 0;
                        while !stop.load(Ordering::SeqCst) {
                            progress.started[t].store(k, Ordering::SeqCst);
                            log_three(t, k);
                            progress.finished[t].store(k + 1, Ordering::SeqCst);
                            k += 1;
                            if k % 16 == 0 {
                                std::thread::sleep(Duration::from_millis(1));
                            }
                        }
                    })
                })
                .collect();
            let snapshot = |p: &[AtomicU64; THREADS]| -> Vec<u64> {
                p.iter().map(|a| a.load(Ordering::SeqCst)).collect()
            };
            std::thread::sleep(Duration::from_millis(100));
            for (to, valid) in [("debug", true), ("debug,x=loud", false), ("info", true)] {
                let done = snapshot(&progress.finished);
                let result = guard.set_filter(to);
                let started = snapshot(&progress.started);
                eprintln!(
                    "CHANGE to={to} ok={} finished_before={done:?} started_after={started:?}",
                    result.is_ok()
                );
                assert_eq!(result.is_ok(), valid, "{result:?}");
                if let Err(e) = result {
                    eprintln!("ERROR {e}");
                }
                eprintln!("FILTER {}", guard.filter());
                std::thread::sleep(Duration::from_millis(150));
            }
            stop.store(true, Ordering::SeqCst);
            for t in threads {
                t.join().unwrap();
            }
            drop(guard);
        }
        "filter_file" => {
            let dir = Path::new(&std::env::var("FILTER_DIR").unwrap()).to_path_buf();
            let guard = slog_host::init().unwrap();
            let log = guard.logger().clone();
            slog::debug!(log, "debug before any change");
            let probe = |label: &str| -> bool {
                // Waits (20 ms steps, at most 5 s) for the writer thread to
                // apply the file, then logs a debug probe, which must pass.
                let t0 = Instant::now();
                while t0.elapsed() < Duration::from_secs(5) {
                    if guard.filter().contains("debug") {
                        eprintln!("SEEN {label} after {} ms", t0.elapsed().as_millis());
                        slog::debug!(log, "probe"; "label" => label);
                        return true;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                false
            };
            configmap_update(&dir, "2", "debug");
            assert!(probe("to debug"), "the new filter within 5 s");
            configmap_update(&dir, "3", "debug,x=loud");
            std::thread::sleep(Duration::from_millis(2500));
            slog::debug!(log, "debug after the invalid content");
            std::fs::remove_file(dir.join("log-filter")).unwrap();
            std::thread::sleep(Duration::from_millis(2500));
            slog::debug!(log, "debug after the file was removed");
            eprintln!("FILTER {}", guard.filter());
            drop(guard);
        }
        "private_set_filter" => {
            log::set_max_level(log::LevelFilter::Trace);
            let guard = slog_host::Builder::new().global(false).init().unwrap();
            guard.set_filter("warn").unwrap();
            eprintln!("LOG MAX {}", log::max_level());
            drop(guard);
        }
        "filter_file_missing" => match slog_host::init() {
            Ok(_) => eprintln!("INIT: ok"),
            Err(e) => eprintln!("INIT: {e}"),
        },
        other => panic!("unknown scenario {other}"),
    }
}

/// What the kubelet does to a ConfigMap volume: the data in a new
/// timestamped directory, a new `..data` symlink renamed over the old one.
fn configmap_update(dir: &Path, version: &str, content: &str) {
    let data = dir.join(format!("..{version}"));
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("log-filter"), content).unwrap();
    let tmp = dir.join("..data_tmp");
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(format!("..{version}"), &tmp).unwrap();
    std::fs::rename(&tmp, dir.join("..data")).unwrap();
}

/// A ConfigMap volume holding `log-filter` = `content`.
fn configmap(name: &str, content: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("slog-host-cm-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    configmap_update(&dir, "1", content);
    std::os::unix::fs::symlink("..data/log-filter", dir.join("log-filter")).unwrap();
    dir
}

fn lines(out: &std::process::Output) -> Vec<Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// The numbers after `key=` in a `CHANGE` line, e.g. `finished_before=[3, 4]`.
fn numbers(line: &str, key: &str) -> Vec<u64> {
    let rest = line.split(&format!("{key}=[")).nth(1).unwrap();
    rest.split(']')
        .next()
        .unwrap()
        .split(", ")
        .map(|n| n.parse().unwrap())
        .collect()
}

fn records_follow_the_filter_in_force_when_logged() {
    let out = run("set_filter", &[("RUST_LOG", "info"), ("LOG_FLOOD", "off")]);
    let err = String::from_utf8_lossy(&out.stderr);
    let changes: Vec<&str> = err.lines().filter(|l| l.starts_with("CHANGE ")).collect();
    assert_eq!(changes.len(), 3, "{err}");
    let all = lines(&out);
    let records: Vec<&Value> = all.iter().filter(|v| v["t"].is_u64()).collect();
    let written: std::collections::HashSet<(u64, u64, String)> = records
        .iter()
        .map(|v| {
            let n = |k: &str| v[k].as_u64().unwrap();
            (n("t"), n("k"), v["msg"].as_str().unwrap().to_owned())
        })
        .collect();
    let has = |t: usize, k: u64, api: &str| written.contains(&(t as u64, k, api.to_owned()));
    // Before the switch to debug: nothing finished was written.
    let finished = numbers(changes[0], "finished_before");
    // After it: everything started later was written, by all three APIs.
    let started = numbers(changes[0], "started_after");
    let back_finished = numbers(changes[2], "finished_before");
    let back_started = numbers(changes[2], "started_after");
    let mut checked = 0;
    for t in 0..THREADS {
        for k in 0..finished[t] {
            for api in ["slog", "log", "tracing"] {
                assert!(!has(t, k, api), "{api} t={t} k={k} passed the old filter");
            }
        }
        for k in started[t] + 1..back_finished[t] {
            for api in ["slog", "log", "tracing"] {
                assert!(has(t, k, api), "{api} t={t} k={k} missing under debug");
                checked += 1;
            }
        }
        let last = records
            .iter()
            .filter(|v| v["t"] == t)
            .filter_map(|v| v["k"].as_u64())
            .max()
            .unwrap_or(0);
        assert!(
            last <= back_started[t],
            "t={t}: k={last} written after the switch back to info (started {})",
            back_started[t]
        );
    }
    assert!(
        checked > 300,
        "too few records under debug to tell: {checked}"
    );
    // The invalid filter changed nothing, and said why.
    assert!(changes[1].contains("ok=false"), "{}", changes[1]);
    assert!(err.contains(r#"invalid filter="debug,x=loud""#), "{err}");
    let filters: Vec<&str> = err
        .lines()
        .filter_map(|l| l.strip_prefix("FILTER "))
        .collect();
    assert_eq!(filters, ["debug", "debug", "info"]);
    // One notice per change, whatever the new filter says of INFO.
    let notices: Vec<(&str, &str)> = all
        .iter()
        .filter(|v| v["msg"] == "log filter changed")
        .map(|v| (v["from"].as_str().unwrap(), v["to"].as_str().unwrap()))
        .collect();
    assert_eq!(notices, [("info", "debug"), ("debug", "info")]);
    // The crate's own records carry the crate's target, not a module path.
    assert!(all
        .iter()
        .filter(|v| v["msg"] == "log filter changed")
        .all(|v| v["target"] == "slog_host"));
    println!(
        "set_filter: {checked} records checked under debug, {} written in all",
        records.len()
    );
}

fn filter_file_follows_a_configmap_update_within_5_s() {
    let dir = configmap("watch", "info");
    let file = dir.join("log-filter");
    let out = run(
        "filter_file",
        &[
            ("LOG_FILTER_FILE", file.to_str().unwrap()),
            ("FILTER_DIR", dir.to_str().unwrap()),
            ("RUST_LOG", "warn"),
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    let seen = err
        .lines()
        .find(|l| l.starts_with("SEEN to debug"))
        .expect("applied");
    println!("LOG_FILTER_FILE: {seen}");
    let all = lines(&out);
    let msgs: Vec<&str> = all.iter().map(|v| v["msg"].as_str().unwrap()).collect();
    assert!(!msgs.contains(&"debug before any change"), "{msgs:?}");
    assert!(msgs.contains(&"probe"), "{msgs:?}");
    let notice = all
        .iter()
        .find(|v| v["msg"] == "log filter changed")
        .expect("a notice");
    assert_eq!(
        (notice["from"].as_str(), notice["to"].as_str()),
        (Some("info"), Some("debug"))
    );
    // Invalid content: one ERROR record naming the file and the invalid
    // directive's place, never its text; the last good filter stays.
    let errors: Vec<&Value> = all.iter().filter(|v| v["level"] == "ERROR").collect();
    assert!(
        errors.iter().any(|v| {
            let m = v["msg"].as_str().unwrap();
            m.contains("LOG_FILTER_FILE") && m.contains("directive 2") && m.contains("stays")
        }),
        "{errors:?}"
    );
    assert!(
        !all.iter().any(|v| v.to_string().contains("loud")),
        "the invalid content is echoed: {errors:?}"
    );
    assert!(
        msgs.contains(&"debug after the invalid content"),
        "{msgs:?}"
    );
    // Removed: the last filter stays, said once.
    assert!(
        msgs.contains(&"debug after the file was removed"),
        "{msgs:?}"
    );
    assert_eq!(
        errors
            .iter()
            .filter(|v| v["msg"].as_str().unwrap().contains("cannot be read"))
            .count(),
        1,
        "{errors:?}"
    );
    assert!(err.contains("FILTER debug"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

fn a_missing_filter_file_is_an_init_error() {
    let out = run(
        "filter_file_missing",
        &[("LOG_FILTER_FILE", "/nonexistent/log-filter")],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(r#"INIT: invalid LOG_FILTER_FILE="/nonexistent/log-filter": cannot read"#),
        "{err}"
    );
    let dir = configmap("bad", "info,x=loud");
    let file = dir.join("log-filter");
    let out = run(
        "filter_file_missing",
        &[("LOG_FILTER_FILE", file.to_str().unwrap())],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    let named = format!(
        "INIT: invalid LOG_FILTER_FILE={:?}: its content (11 bytes, not shown)",
        file.display().to_string()
    );
    assert!(err.contains(&named), "{err}");
    assert!(!err.contains("loud"), "the content is echoed: {err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

fn a_private_pipeline_leaves_the_log_crate_alone() {
    let out = run("private_set_filter", &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("LOG MAX TRACE"), "{err}");
}

crate::suite!(
    child,
    tests: [
        records_follow_the_filter_in_force_when_logged,
        filter_file_follows_a_configmap_update_within_5_s,
        a_missing_filter_file_is_an_init_error,
        a_private_pipeline_leaves_the_log_crate_alone,
    ]
);
