//! The formats: JSON lines that cannot be forged or spoofed and follow the
//! ECS logging spec (`json`), the term formats' escaping of record data
//! (`term_escape`) and their banner of host fields (`term_banner`).
//!
//! Most tests run private pipelines (`Builder::new().global(false)`) in
//! this process; those that need `init()` or a terminal run a scenario in a
//! fresh copy of this binary (`SLOG_HOST_SCENARIO`, `SLOG_HOST_SUITE`).
//! `harness = false`: it prints `N passed, N failed` at the end.

#[path = "../support/mod.rs"]
mod support;

mod json;
mod term_banner;
mod term_escape;

fn main() {
    support::runner::run_suites(
        env!("CARGO_CRATE_NAME"),
        &[json::suite(), term_escape::suite(), term_banner::suite()],
    );
}
