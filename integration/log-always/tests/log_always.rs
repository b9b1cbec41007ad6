//! With `tracing/log-always` (some dependency turns it on), every tracing
//! event is also sent to the `log` crate, and spans send `-> span` lines.
//! `init()` installs both a tracing subscriber and a `log` logger, so each
//! event would reach the pipeline twice; it must be written exactly once,
//! and no span line at all. One child process (global state).

use std::process::Command;

fn child() {
    let guard = slog_host::init().unwrap();
    for i in 0..10 {
        let span = tracing::info_span!("request", i = i);
        let _e = span.enter();
        tracing::info!(i = i, "tracing event");
    }
    log::info!("a log record");
    drop(guard);
}

fn main() {
    if std::env::var_os("LOG_ALWAYS_CHILD").is_some() {
        return child();
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .env("LOG_ALWAYS_CHILD", "1")
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "trace")
        .env_remove("LOG_FLOOD")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let count = |msg: &str| lines.iter().filter(|v| v["msg"] == msg).count();
    let mut failed = 0;
    let mut check = |name: &str, ok: bool| {
        println!("test {name} ... {}", if ok { "ok" } else { "FAILED" });
        failed += usize::from(!ok);
    };
    check("each_event_once", count("tracing event") == 10);
    check(
        "events_keep_typed_fields",
        lines
            .iter()
            .filter(|v| v["msg"] == "tracing event")
            .all(|v| v["i"].is_u64()),
    );
    check("log_records_still_pass", count("a log record") == 1);
    check("no_span_lines", lines.len() == 11);
    if failed > 0 {
        eprintln!("{lines:#?}");
    }
    println!("\nlog_always: {} passed, {failed} failed", 4 - failed);
    if failed > 0 {
        std::process::exit(1);
    }
}
