//! Compile-time levels: which levels the `slog` and `log` macros can emit in
//! this build, checked against the rule the README documents ("Compile-time
//! levels"). Run it with `--release` or `--features max_level_trace` (any of
//! the `max_level_*`/`release_max_level_*` features) to check the others:
//! `cargo test --test caller --features max_level_trace levels`.
//!
//! The check installs the global `log` bridge, so it runs in a child copy of
//! the `caller` test binary (`main.rs`, `harness = false`), alone.

use crate::support::{capture, runner};

use capture::Buf;
use slog_host::{Builder, Format, Output};

/// slog's level numbers: 0 off, 1 critical, 2 error, 3 warning, 4 info,
/// 5 debug, 6 trace.
const NAMES: [&str; 7] = ["off", "crit", "error", "warn", "info", "debug", "trace"];

/// The most verbose level the `slog` macros keep, as the README says: with
/// debug assertions, the most restrictive `max_level_*` feature, else debug;
/// without, the most restrictive `release_max_level_*` feature, else the
/// most restrictive `max_level_*`, else info.
fn documented_slog_max() -> usize {
    let max = [
        cfg!(feature = "max_level_off"),
        false,
        cfg!(feature = "max_level_error"),
        cfg!(feature = "max_level_warn"),
        cfg!(feature = "max_level_info"),
        cfg!(feature = "max_level_debug"),
        cfg!(feature = "max_level_trace"),
    ]
    .iter()
    .position(|on| *on);
    let release_max = [
        cfg!(feature = "release_max_level_off"),
        false,
        cfg!(feature = "release_max_level_error"),
        cfg!(feature = "release_max_level_warn"),
        cfg!(feature = "release_max_level_info"),
        cfg!(feature = "release_max_level_debug"),
        cfg!(feature = "release_max_level_trace"),
    ]
    .iter()
    .position(|on| *on);
    if cfg!(debug_assertions) {
        max.unwrap_or(5)
    } else {
        release_max.or(max).unwrap_or(4)
    }
}

fn child(name: &str) {
    match name {
        "each_macro_family" => emit_every_level_and_check(),
        other => panic!("unknown scenario {other}"),
    }
}

fn each_macro_family_emits_the_documented_levels() {
    let out = runner::scenario_command("each_macro_family", &[])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    print!("{stdout}");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("build: slog keeps up to"), "{stdout}");
}

/// Logs at every level through both macro families, and checks what was
/// written against [`documented_slog_max`] (panics if it differs).
fn emit_every_level_and_check() {
    let out = Buf::default();
    let guard = Builder::new()
        .filter("trace")
        .unwrap()
        .flood(None)
        .format(Format::Json)
        .output(Output::Writer(Box::new(out.clone())))
        .init()
        .unwrap();
    let log = guard.logger();
    slog::crit!(log, "slog crit");
    slog::error!(log, "slog error");
    slog::warn!(log, "slog warn");
    slog::info!(log, "slog info");
    slog::debug!(log, "slog debug");
    slog::trace!(log, "slog trace");
    log::error!("log error");
    log::warn!("log warn");
    log::info!("log info");
    log::debug!("log debug");
    log::trace!("log trace");
    drop(guard);

    let msgs: Vec<String> = out
        .json_lines()
        .iter()
        .map(|v| v["msg"].as_str().unwrap().to_owned())
        .collect();
    let slog_max = documented_slog_max();
    let build = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    println!(
        "{build} build: slog keeps up to {}; written: {msgs:?}",
        NAMES[slog_max]
    );
    for (level, name) in NAMES.iter().enumerate().skip(1) {
        assert_eq!(
            msgs.contains(&format!("slog {name}")),
            level <= slog_max,
            "slog {name} in a {build} build"
        );
    }
    // The `log` crate's own limit is trace unless its features say otherwise;
    // this crate does not set them.
    for name in ["error", "warn", "info", "debug", "trace"] {
        assert!(
            msgs.contains(&format!("log {name}")),
            "log {name}: {msgs:?}"
        );
    }
}

crate::suite!(child, tests: [each_macro_family_emits_the_documented_levels]);
