//! With `tracing/log-always` (some dependency turns it on), every tracing
//! event is also sent to the `log` crate, and spans send `-> span` lines.
//! `init()` installs both a tracing subscriber and a `log` logger, so each
//! event would reach the pipeline twice; it must be written exactly once,
//! and no span line at all. The same with `Builder::tracing(false)` and the
//! service's own registry with `tracing_layer()`, installed by
//! tracing-subscriber's `init()` (which installs tracing-log's `LogTracer`:
//! the echoes then come back as `tracing` events). One child process per
//! way in (global state).

use std::process::Command;

fn child(way: &str) {
    let guard = match way {
        "init" => slog_host::init().unwrap(),
        _ => {
            use tracing_subscriber::layer::SubscriberExt;
            use tracing_subscriber::util::SubscriberInitExt;
            let guard = slog_host::Builder::from_env()
                .unwrap()
                .tracing(false)
                .init()
                .unwrap();
            tracing_subscriber::registry()
                .with(guard.tracing_layer())
                .init();
            guard
        }
    };
    for i in 0..10 {
        let span = tracing::info_span!("request", i = i);
        let _e = span.enter();
        tracing::info!(i = i, "tracing event");
    }
    log::info!("a log record");
    drop(guard);
}

fn main() {
    if let Some(way) = std::env::var_os("LOG_ALWAYS_CHILD") {
        return child(way.to_str().unwrap());
    }
    let mut failed = 0;
    for way in ["init", "layer"] {
        failed += check_way(way);
    }
    println!("\nlog_always: {} passed, {failed} failed", 8 - failed);
    if failed > 0 {
        std::process::exit(1);
    }
}

fn check_way(way: &str) -> usize {
    let out = Command::new(std::env::current_exe().unwrap())
        .env("LOG_ALWAYS_CHILD", way)
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
        println!("test {way}: {name} ... {}", if ok { "ok" } else { "FAILED" });
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
    failed
}
