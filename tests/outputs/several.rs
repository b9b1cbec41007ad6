//! Several outputs, each with its own format and filter (`Builder::tee`,
//! `LOG_STDOUT`, `LOG_FILE_FORMAT`, `LOG_FILE_FILTER`): each output holds
//! exactly the records its filter takes, in its format; a failing output
//! (`/dev/full`) loses nothing on the other; `set_filter` changes the
//! outputs without a filter of their own. Each scenario runs in a child copy
//! of this binary (global state).
//!
//! A suite of the `outputs` test binary (`main.rs`, `harness = false`).

use crate::support::runner;

use std::path::PathBuf;

use serde_json::Value;
use slog_host::{Builder, FileConfig, Format, Output};

const N: u64 = 200;

fn log_levels(guard: &slog_host::LogGuard) {
    let log = guard.logger();
    for i in 0..N {
        slog::debug!(log, "debug"; "i" => i);
        slog::info!(log, "info"; "i" => i);
        log::warn!(i = i; "warn");
        tracing::error!(i = i, "error");
    }
}

fn child(name: &str) {
    let file = PathBuf::from(std::env::var("OUT_FILE").unwrap_or_default());
    match name {
        "stdout_json_info_file_full_debug" => {
            let guard = Builder::new()
                .format(Format::Json)
                .flood(None)
                .filter("info")
                .unwrap()
                .tee(Output::File(FileConfig::new(&file)), Format::Full, "debug")
                .unwrap()
                .init()
                .unwrap();
            log_levels(&guard);
            guard.set_filter("error").unwrap();
            slog::warn!(guard.logger(), "warn after set_filter");
            slog::debug!(guard.logger(), "debug after set_filter");
            drop(guard);
        }
        "file_json_warn_and_stderr" => {
            let guard = Builder::new()
                .format(Format::Json)
                .flood(None)
                .filter("debug")
                .unwrap()
                .output(Output::Stderr)
                .tee(Output::File(FileConfig::new(&file)), Format::Json, "warn")
                .unwrap()
                .init()
                .unwrap();
            log_levels(&guard);
            drop(guard);
        }
        "one_output_full" => {
            let guard = Builder::new()
                .format(Format::Json)
                .flood(None)
                .tee(
                    Output::File(FileConfig::new("/dev/full")),
                    Format::Json,
                    "info",
                )
                .unwrap()
                .init()
                .unwrap();
            log_levels(&guard);
            guard.flush();
            eprintln!("WRITE_ERRORS {}", guard.write_errors());
            drop(guard);
        }
        "env" => {
            let guard = slog_host::init().unwrap();
            log_levels(&guard);
            drop(guard);
        }
        "cap" => {
            let guard = slog_host::Builder::from_env().unwrap().init().unwrap();
            let log = guard.logger();
            let body = "é".repeat(512 * 1024); // 1 MiB of two-byte characters
            let quoted = "\"\n".repeat(20_000); // escapes that double in JSON
            slog::info!(log, "request body logged by mistake"; "small" => "kept", "body" => &body, "quoted" => &quoted, "n" => 7);
            let long_message = "m".repeat(1 << 20);
            slog::warn!(log, "{}", long_message);
            slog::info!(log, "a short record"; "small" => "kept");
            guard.flush();
            eprintln!("TRUNCATED {}", guard.truncated());
            drop(guard);
        }
        "cap_fields" => {
            // Fields by the thousand (slog keys are static: made once).
            struct Many(&'static [&'static str], bool);
            impl slog::KV for Many {
                fn serialize(
                    &self,
                    _: &slog::Record<'_>,
                    s: &mut dyn slog::Serializer,
                ) -> slog::Result {
                    for (i, k) in self.0.iter().enumerate() {
                        if self.1 {
                            s.emit_u64(k, 1_000_000_000 + i as u64)?;
                        } else {
                            s.emit_str(k, "value")?;
                        }
                    }
                    Ok(())
                }
            }
            let keys: &'static [&'static str] = Box::leak(
                (0..3000)
                    .map(|i| &*Box::leak(format!("field_{i}").into_boxed_str()))
                    .collect::<Vec<_>>()
                    .into_boxed_slice(),
            );
            let long_key: &'static str = Box::leak("k".repeat(5000).into_boxed_str());
            let guard = slog_host::Builder::from_env().unwrap().init().unwrap();
            let log = guard.logger();
            slog::info!(log, "strings"; Many(&keys[..2000], false));
            slog::info!(log, "integers"; Many(keys, true));
            slog::info!(log, "a long key"; long_key => 1, "small" => "kept");
            let child = log.new(slog::o!(Many(&keys[..500], false)));
            slog::info!(child, "logger fields"; "small" => "kept");
            guard.flush();
            eprintln!("TRUNCATED {}", guard.truncated());
            drop(guard);
        }
        "env_error" => match slog_host::init() {
            Ok(_) => eprintln!("INIT: ok"),
            Err(e) => eprintln!("INIT: {e}"),
        },
        other => panic!("unknown scenario {other}"),
    }
}

fn temp_file(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!(
        "slog-host-outputs-{name}-{}.log",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&p);
    p
}

/// [`runner::run_json`] with the scenario's file in `OUT_FILE`.
fn run(scenario: &str, file: &std::path::Path, env: &[(&str, &str)]) -> std::process::Output {
    let mut env = env.to_vec();
    env.push(("OUT_FILE", file.to_str().unwrap()));
    runner::run_json(scenario, &env)
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn count(lines: &[Value], msg: &str) -> usize {
    lines.iter().filter(|v| v["msg"] == msg).count()
}

fn each_output_holds_exactly_its_records() {
    let file = temp_file("a");
    let out = run("stdout_json_info_file_full_debug", &file, &[]);
    let stdout = json_lines(&String::from_utf8(out.stdout).unwrap());
    let n = N as usize;
    for (msg, want) in [("debug", 0), ("info", n), ("warn", n), ("error", n)] {
        assert_eq!(count(&stdout, msg), want, "stdout: {msg}");
    }
    // After set_filter("error"): stdout (no filter of its own) follows it,
    // the file keeps its own debug.
    assert_eq!(count(&stdout, "warn after set_filter"), 0);
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines.iter().all(|l| !l.starts_with('{')),
        "full format, not JSON"
    );
    for level in ["DEBG", "INFO", "WARN", "ERRO"] {
        let c = lines
            .iter()
            .filter(|l| l.contains(level) && l.contains("i: "))
            .count();
        assert_eq!(
            c,
            n,
            "file: {level} records\n{}",
            &text[..text.len().min(2000)]
        );
    }
    assert!(text.contains("warn after set_filter") && text.contains("debug after set_filter"));
    // The notice goes to every output.
    assert_eq!(count(&stdout, "log filter changed"), 1);
    assert!(text.contains("log filter changed"));
    std::fs::remove_file(&file).unwrap();

    let file = temp_file("b");
    let out = run("file_json_warn_and_stderr", &file, &[]);
    let stderr: Vec<Value> = String::from_utf8(out.stderr)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for msg in ["debug", "info", "warn", "error"] {
        assert_eq!(count(&stderr, msg), n, "stderr: {msg}");
    }
    let filed = json_lines(&std::fs::read_to_string(&file).unwrap());
    for (msg, want) in [("debug", 0), ("info", 0), ("warn", n), ("error", n)] {
        assert_eq!(count(&filed, msg), want, "file: {msg}");
    }
    std::fs::remove_file(&file).unwrap();
}

fn a_failing_output_loses_nothing_on_the_other() {
    let file = temp_file("c");
    let out = run("one_output_full", &file, &[]);
    let stdout = json_lines(&String::from_utf8(out.stdout).unwrap());
    for (msg, want) in [
        ("debug", 0),
        ("info", N as usize),
        ("warn", N as usize),
        ("error", N as usize),
    ] {
        assert_eq!(count(&stdout, msg), want, "stdout: {msg}");
    }
    let err = String::from_utf8_lossy(&out.stderr);
    let errors: u64 = err
        .lines()
        .find_map(|l| l.strip_prefix("WRITE_ERRORS "))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        errors,
        3 * N,
        "the full output counts its own losses: {err}"
    );
}

fn environment_adds_the_file_beside_stdout() {
    let file = temp_file("d");
    let out = run(
        "env",
        &file,
        &[
            ("LOG_FILE", file.to_str().unwrap()),
            ("LOG_STDOUT", "on"),
            ("LOG_FORMAT", "json"),
            ("LOG_FILE_FORMAT", "json"),
            ("LOG_FILE_FILTER", "debug"),
            ("RUST_LOG", "warn"),
            ("LOG_FLOOD", "off"),
        ],
    );
    let stdout = json_lines(&String::from_utf8(out.stdout).unwrap());
    let filed = json_lines(&std::fs::read_to_string(&file).unwrap());
    let n = N as usize;
    for (msg, on_stdout, in_file) in [
        ("debug", 0, n),
        ("info", 0, n),
        ("warn", n, n),
        ("error", n, n),
    ] {
        assert_eq!(count(&stdout, msg), on_stdout, "stdout: {msg}");
        assert_eq!(count(&filed, msg), in_file, "file: {msg}");
    }
    std::fs::remove_file(&file).unwrap();
    // LOG_FILE alone keeps its meaning: the file instead of stdout.
    let out = run(
        "env",
        &file,
        &[
            ("LOG_FILE", file.to_str().unwrap()),
            ("LOG_FILE_FILTER", "error"),
            ("LOG_FLOOD", "off"),
        ],
    );
    assert!(out.stdout.is_empty());
    let filed = json_lines(&std::fs::read_to_string(&file).unwrap());
    assert_eq!(
        filed.iter().filter(|v| v["i"].is_u64()).count(),
        n,
        "errors only"
    );
    std::fs::remove_file(&file).unwrap();
    for (env, fragment) in [
        (vec![("LOG_STDOUT", "off")], r#"invalid LOG_STDOUT="off""#),
        (
            vec![("LOG_STDOUT", "sometimes")],
            r#"invalid LOG_STDOUT="sometimes""#,
        ),
        (
            vec![("LOG_FILE_FORMAT", "json")],
            r#"invalid LOG_FILE_FORMAT="json": set without LOG_FILE"#,
        ),
        (
            vec![("LOG_FILE_FILTER", "x=loud")],
            r#"invalid LOG_FILE_FILTER="x=loud""#,
        ),
    ] {
        let out = run("env_error", &file, &env);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("INIT: {fragment}")), "{env:?}: {err}");
    }
}

fn a_long_record_is_cut_to_the_cap_and_stays_valid() {
    let file = temp_file("cap");
    for format in ["json", "full", "compact"] {
        let out = run(
            "cap",
            &file,
            &[("LOG_FORMAT", format), ("OTEL_SERVICE_NAME", "capped")],
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("TRUNCATED 2"), "{format}: {err}");
        let text = String::from_utf8(out.stdout).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for l in &lines {
            assert!(l.len() < 32 * 1024, "{format}: a line of {} bytes", l.len());
        }
        if format == "json" {
            let v: Vec<Value> = json_lines(&text);
            assert_eq!(v.len(), 3);
            let cut = &v[0];
            assert_eq!(cut["level"], "INFO");
            assert_eq!(cut["msg"], "request body logged by mistake");
            assert_eq!(cut["target"], "outputs::several");
            assert_eq!(cut["service.name"], "capped");
            assert!(cut["host.name"].is_string() && cut["process.pid"].is_u64());
            assert_eq!(cut["small"], "kept", "short values are not cut");
            assert_eq!(cut["n"], 7);
            let body = cut["body"].as_str().unwrap();
            assert!(
                body.chars().all(|c| c == 'é') && !body.is_empty(),
                "whole characters"
            );
            let removed = cut["log.truncated_bytes"].as_u64().unwrap();
            let kept = body.len() + cut["quoted"].as_str().unwrap().len();
            assert_eq!(
                removed as usize + kept,
                (1 << 20) + 40_000,
                "every removed byte counted"
            );
            let m = &v[1];
            assert_eq!(m["level"], "WARN");
            assert!(
                m["msg"].as_str().unwrap().starts_with("mmmm"),
                "the message's prefix"
            );
            assert!(m["log.truncated_bytes"].as_u64().unwrap() > 1_000_000);
            assert!(v[2].get("log.truncated_bytes").is_none(), "{}", v[2]);
        } else {
            assert_eq!(lines.len(), 4, "{format}: banner and three records");
            assert!(
                lines[1].contains("request body logged by mistake") && lines[1].contains("INFO")
            );
            assert!(lines[1].contains("log.truncated_bytes"), "{format}");
            assert!(lines[1].contains("kept"), "{format}");
            assert!(lines[2].contains("WARN") && lines[2].contains("mmmm"));
            assert!(lines[0].contains("host fields") && lines[0].contains("capped"));
        }
    }
}

/// At a 1 KiB cap, records whose length is not in string values: 2,000
/// string fields, 3,000 integer fields, a 5,000-byte key, 500 logger
/// fields. Every line at most the cap, whole and valid, its time, level,
/// message, target and host fields intact, `log.truncated_bytes` on each
/// cut one and `log.dropped_fields` where fields had to go.
fn records_long_in_fields_keys_or_numbers_are_cut_to_the_cap() {
    let file = temp_file("cap-fields");
    for format in ["json", "full", "compact"] {
        let out = run(
            "cap_fields",
            &file,
            &[
                ("LOG_FORMAT", format),
                ("LOG_MAX_RECORD_BYTES", "1K"),
                ("OTEL_SERVICE_NAME", "capped"),
            ],
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("TRUNCATED 4"), "{format}: {err}");
        let text = String::from_utf8(out.stdout).unwrap();
        for l in text.lines() {
            assert!(l.len() < 1024, "{format}: a line of {} bytes", l.len());
        }
        if format != "json" {
            assert!(text.contains("log.dropped_fields"), "{format}: {text}");
            continue;
        }
        let v: Vec<Value> = json_lines(&text);
        assert_eq!(v.len(), 4, "{text}");
        for (line, msg) in v
            .iter()
            .zip(["strings", "integers", "a long key", "logger fields"])
        {
            assert_eq!(line["msg"], msg, "{line}");
            assert_eq!(line["level"], "INFO");
            assert_eq!(line["target"], "outputs::several");
            assert!(line["ts"].is_string());
            assert_eq!(line["service.name"], "capped");
            assert!(
                line["host.name"].is_string() && line["process.pid"].is_u64(),
                "{line}"
            );
            assert!(line["log.truncated_bytes"].as_u64().unwrap() > 0, "{line}");
        }
        // Fields left out whole, counted, and the first ones kept.
        for (line, total) in [(&v[0], 2000), (&v[1], 3000)] {
            let dropped = line["log.dropped_fields"].as_u64().unwrap();
            let kept = line
                .as_object()
                .unwrap()
                .keys()
                .filter(|k| k.starts_with("field_"))
                .count();
            assert_eq!(kept as u64 + dropped, total, "{line}");
            assert!(kept > 0 && line.get("field_0").is_some(), "{line}");
        }
        // The long key goes (the last field as slog hands them over), the
        // short field stays, and all 5,001 bytes of the key and its value
        // are counted.
        assert_eq!(v[2]["log.dropped_fields"], 1, "{}", v[2]);
        assert_eq!(v[2]["small"], "kept", "{}", v[2]);
        assert_eq!(v[2]["log.truncated_bytes"], 5001, "{}", v[2]);
        // The logger's fields go first; the record's own stays.
        assert_eq!(v[3]["small"], "kept", "{}", v[3]);
        assert!(v[3].get("log.dropped_fields").is_none(), "{}", v[3]);
    }
}

crate::suite!(
    child,
    tests: [
        records_long_in_fields_keys_or_numbers_are_cut_to_the_cap,
        each_output_holds_exactly_its_records,
        a_failing_output_loses_nothing_on_the_other,
        environment_adds_the_file_beside_stdout,
        a_long_record_is_cut_to_the_cap_and_stays_valid,
    ]
);
