//! slog-scope's global logger under test captures.
//!
//! Once a test capture starts in a process, the global logger
//! (`slog_scope::logger()` outside `slog_scope::scope`) is a router, for the
//! rest of the process: each record goes to the capture of the thread that
//! logs it (its own, else `testing::capture_all`'s), else to the logger the
//! application set (`init()`'s root logger, or the one that was global
//! before). `init()` sets its root logger through [`set_global`], so the
//! order of `init()` and the first capture does not matter.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::ArcSwapOption;
use slog::{o, Drain, Logger, OwnedKVList, Record};

use super::bridges::log::thread_capture;

/// The router is slog-scope's global logger.
static ROUTED: AtomicBool = AtomicBool::new(false);
/// Serializes [`set_global`] and [`route`].
static CHANGE: Mutex<()> = Mutex::new(());
/// The application's global logger, where records of threads without a
/// capture go while the router is global.
static APP: ArcSwapOption<Logger> = ArcSwapOption::const_empty();

/// Makes `logger` slog-scope's global logger (`init()`), or the router's
/// fallback once the router is global.
pub(crate) fn set_global(logger: Logger) {
    let _one = CHANGE.lock().unwrap_or_else(PoisonError::into_inner);
    if !ROUTED.load(Ordering::Acquire) {
        slog_scope::set_global_logger(logger.clone()).cancel_reset();
    }
    APP.store(Some(Arc::new(logger)));
}

/// Makes the router slog-scope's global logger (once per process): called
/// when a test capture starts. The logger global until then (read with
/// `slog_scope::logger()`, so from outside any `slog_scope::scope`) becomes
/// its fallback, unless `init()` set one.
pub(crate) fn route() {
    let _one = CHANGE.lock().unwrap_or_else(PoisonError::into_inner);
    if ROUTED.load(Ordering::Acquire) {
        return;
    }
    if APP.load().is_none() {
        APP.store(Some(Arc::new(slog_scope::logger())));
    }
    slog_scope::set_global_logger(Logger::root(ToCapture { fallback: true }, o!())).cancel_reset();
    ROUTED.store(true, Ordering::Release);
}

/// A slog drain that hands each record to the capture of the thread that
/// logs it (its own, else `capture_all`'s), else to the application's
/// global logger (`fallback`) or nowhere.
pub(crate) struct ToCapture {
    pub(crate) fallback: bool,
}

impl Drain for ToCapture {
    type Ok = ();
    type Err = slog::Never;

    fn log(&self, record: &Record<'_>, values: &OwnedKVList) -> Result<(), slog::Never> {
        // A logger as a drain: the record's logger values are kept.
        match thread_capture() {
            Some(capture) => Drain::log(&capture.logger, record, values),
            None if self.fallback => match APP.load().as_deref() {
                Some(app) => Drain::log(app, record, values),
                None => Ok(()),
            },
            None => Ok(()),
        }
    }
}
