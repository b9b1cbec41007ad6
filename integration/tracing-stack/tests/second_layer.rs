//! This crate's layer beside a second layer with its own filter on one
//! registry: each sees exactly the events its own filter allows, whichever
//! of the two is the more verbose. The registry is the thread's default
//! (`with_default`), so each case builds its own.

use serde_json::Value;
use slog_host::{Builder, Format, Output};
use slog_host_tracing_stack::Buf;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Layer;

fn emit_all_levels() {
    tracing::trace!(n = 1, "trace");
    tracing::debug!(n = 2, "debug");
    tracing::info!(n = 3, "info");
    tracing::warn!(n = 4, "warn");
    tracing::error!(n = 5, "error");
}

/// The messages each layer wrote: ours (JSON) and the fmt layer's.
fn run(ours: &str, fmt_level: LevelFilter) -> (Vec<String>, Vec<String>) {
    let out = Buf::default();
    let guard = Builder::new()
        .global(false)
        .format(Format::Json)
        .filter(ours)
        .unwrap()
        .output(Output::Writer(Box::new(out.clone())))
        .init()
        .unwrap();
    let fmt_out = Buf::default();
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(fmt_out.clone())
        .with_ansi(false)
        .with_target(false)
        .without_time()
        .with_level(false)
        .with_filter(fmt_level);
    let subscriber = tracing_subscriber::registry()
        .with(guard.tracing_layer())
        .with(fmt);
    tracing::subscriber::with_default(subscriber, emit_all_levels);
    guard.flush();
    let ours: Vec<String> = out
        .json()
        .iter()
        .map(|v: &Value| v["msg"].as_str().unwrap().to_owned())
        .collect();
    let theirs = fmt_out
        .lines()
        .iter()
        .map(|l| l.trim().split(' ').next().unwrap().to_owned())
        .collect();
    (ours, theirs)
}

#[test]
fn each_layer_sees_exactly_what_its_own_filter_allows() {
    let (ours, fmt) = run("info", LevelFilter::WARN);
    assert_eq!(ours, ["info", "warn", "error"]);
    assert_eq!(fmt, ["warn", "error"]);
}

#[test]
fn a_less_verbose_pipeline_never_starves_the_other_layer() {
    let (ours, fmt) = run("warn", LevelFilter::TRACE);
    assert_eq!(ours, ["warn", "error"]);
    assert_eq!(fmt, ["trace", "debug", "info", "warn", "error"]);
    let (ours, fmt) = run("off", LevelFilter::DEBUG);
    assert!(ours.is_empty(), "{ours:?}");
    assert_eq!(fmt, ["debug", "info", "warn", "error"]);
}

#[test]
fn per_target_directives_stay_per_layer() {
    let (ours, fmt) = run("warn,second_layer=debug", LevelFilter::ERROR);
    assert_eq!(ours, ["debug", "info", "warn", "error"]);
    assert_eq!(fmt, ["error"]);
}
