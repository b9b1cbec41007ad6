//! What the current thread is to the pipeline, and the names of the crate's
//! threads. Any thread asks; each flag is per thread.
//!
//! Two flags:
//! - **holds the output**: the writer thread, or a caller writing queued
//!   records synchronously right now. A record it logs itself (a logger
//!   value that logs while it is formatted) must neither wait for room nor
//!   write: only this thread could make the room or release the output. It
//!   is queued, and the drain running on this thread writes it; if the
//!   queue is full it is dropped and counted.
//! - **busy**: this thread must not log a panic record (the panic hook would
//!   wait for itself): it holds the output, or it runs the hook.

use std::cell::Cell;

/// The writer thread's name.
pub(crate) const WRITER_THREAD_NAME: &str = "slog-host-log";
/// The name of each line output's thread (`writer::lane`).
pub(crate) const OUTPUT_THREAD_NAME: &str = "slog-host-out";
/// The host refresher thread's name (names are at most 15 bytes, the Linux
/// limit).
pub(crate) const REFRESHER_THREAD_NAME: &str = "slog-host-rfsh";
/// The flood guard's timer thread name.
pub(crate) const FLOOD_THREAD_NAME: &str = "slog-host-flood";
/// The name of the OTLP exporter's thread.
#[cfg(feature = "otlp")]
pub const EXPORT_THREAD_NAME: &str = "slog-host-otlp";

thread_local! {
    static HOLDS_OUTPUT: Cell<bool> = const { Cell::new(false) };
    static BUSY: Cell<bool> = const { Cell::new(false) };
}

/// True if this thread holds the output (see the module docs).
pub(crate) fn holds_output() -> bool {
    HOLDS_OUTPUT.try_with(Cell::get).unwrap_or(false)
}

/// Runs `f` as a thread that holds the output (and is busy), restoring both
/// flags after.
pub(crate) fn holding_output<R>(f: impl FnOnce() -> R) -> R {
    let _busy = Busy::enter();
    let before = HOLDS_OUTPUT.with(|b| b.replace(true));
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = HOLDS_OUTPUT.try_with(|b| b.set(self.0));
        }
    }
    let _restore = Restore(before);
    f()
}

/// Marks the calling thread as the writer for good: it holds the output and
/// is busy (a panic on it is not logged: the hook would wait for it).
pub(crate) fn become_writer() {
    let _ = BUSY.try_with(|b| b.set(true));
    let _ = HOLDS_OUTPUT.try_with(|b| b.set(true));
}

/// True if this thread may log a panic record (not busy; a thread being
/// torn down has no flag and may not).
pub(crate) fn may_log_panic() -> bool {
    BUSY.try_with(Cell::get) == Ok(false)
}

/// Marks this thread busy until dropped (restoring what was there).
pub(crate) struct Busy(Option<bool>);

impl Busy {
    /// Marks the calling thread busy until the guard drops.
    pub(crate) fn enter() -> Busy {
        Busy(BUSY.try_with(|b| b.replace(true)).ok())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        if let Some(before) = self.0 {
            let _ = BUSY.try_with(|b| b.set(before));
        }
    }
}
