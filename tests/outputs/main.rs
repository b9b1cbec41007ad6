//! The outputs: several outputs with their own formats and filters
//! (`several`), the file output's rotation by size, its faults and
//! permissions (`file`), and rotation by time with retention (`rotation`).
//!
//! The file tests run private pipelines in this process; the others run
//! `init()` in a fresh copy of this binary per scenario
//! (`SLOG_HOST_SCENARIO`, `SLOG_HOST_SUITE`). `harness = false`: it prints
//! `N passed, N failed` at the end.

#[path = "../support/mod.rs"]
mod support;

mod file;
mod rotation;
mod several;

fn main() {
    support::runner::run_suites(
        env!("CARGO_CRATE_NAME"),
        &[several::suite(), file::suite(), rotation::suite()],
    );
}
