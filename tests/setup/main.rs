//! Setting logging up: `init()` end to end (`init`), the environment
//! variables against the code's settings (`environment`), and a service's
//! whole life with the panic hook and the guard (`lifecycle`).
//!
//! `init()` installs process-wide state, so every scenario runs in a fresh
//! copy of this binary (`SLOG_HOST_SCENARIO`, `SLOG_HOST_SUITE`); the
//! parent runs the suites' tests one after the other. `harness = false`: it
//! prints `N passed, N failed` at the end.

#[path = "../support/mod.rs"]
mod support;

mod environment;
mod init;
mod lifecycle;

fn main() {
    support::runner::run_suites(
        env!("CARGO_CRATE_NAME"),
        &[init::suite(), environment::suite(), lifecycle::suite()],
    );
}
