//! The writer thread (`slog-host-log`): it drains the queue, formats each
//! record for every output it goes to, and writes each output's batch.
//! After the guard is dropped, and in a forked child, callers run the same
//! code synchronously.

pub(crate) mod banner;
pub(crate) mod batch;
pub(crate) mod child;
pub(crate) mod counters;
pub(crate) mod filter_file;
pub(crate) mod output_set;
pub(crate) mod thread;
pub(crate) mod truncate;

pub use thread::{ACTIVE_POLL, IDLE_POLL, QUIET_SPELL};
