//! The writer thread (`slog-host-log`): it drains the queue, formats each
//! record for every output it goes to, and hands each output's batch to
//! that output: a line output's own thread and buffer (`lane`), or the
//! OTLP exporter's.
//! After the guard is dropped, and in a forked child, callers run the same
//! code synchronously.

pub(crate) mod banner;
pub(crate) mod batch;
pub(crate) mod child;
pub(crate) mod counters;
pub(crate) mod filter_file;
pub(crate) mod lane;
pub(crate) mod output_set;
pub(crate) mod thread;
pub(crate) mod truncate;

pub use lane::{DEFAULT_OUTPUT_BUFFER, MAX_OUTPUT_BUFFER, MIN_OUTPUT_BUFFER};
pub use output_set::REPORT_EVERY;
pub use thread::{
    ACTIVE_POLL, DEFAULT_SHUTDOWN_TIMEOUT, IDLE_POLL, MAX_SHUTDOWN_TIMEOUT, QUIET_SPELL,
};
