//! What the caller logs and how it is judged: hostile `LOG_FILTER_FILE`s
//! (`filter_file`), the flood guard (`flood`), the
//! levels the macros keep (`levels`), the runtime filter (`runtime_filter`),
//! application code that logs from inside the pipeline (`reentrancy`), and
//! with the `opentelemetry` feature the trace context (`otel_context`).
//!
//! Scenarios that need `init()` or the global `log` logger run in a fresh
//! copy of this binary (`SLOG_HOST_SCENARIO`, `SLOG_HOST_SUITE`); the other
//! tests run private pipelines in this process. `harness = false`: it prints
//! `N passed, N failed` at the end.

#[path = "../support/mod.rs"]
mod support;

mod filter_file;
mod flood;
mod levels;
#[cfg(feature = "opentelemetry")]
mod otel_context;
mod reentrancy;
mod runtime_filter;

fn main() {
    #[allow(unused_mut)]
    let mut suites = vec![
        filter_file::suite(),
        flood::suite(),
        levels::suite(),
        runtime_filter::suite(),
        reentrancy::suite(),
    ];
    #[cfg(feature = "opentelemetry")]
    suites.push(otel_context::suite());
    support::runner::run_suites(env!("CARGO_CRATE_NAME"), &suites);
}
