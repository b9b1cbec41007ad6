//! Changing a running pipeline's filter: [`FilterControl`], what
//! `LogGuard::set_filter` and a [`FilterHandle`] call, and what the writer
//! thread calls when `LOG_FILTER_FILE` changes (`writer::filter_file`).
//!
//! A change swaps the directives every caller reads (slog's level check, the
//! `log` bridge, the tracing layer's filter) in one atomic store, then brings
//! the caches of the other two APIs up to date: `log`'s maximum level, and
//! tracing's per-call-site interest and maximum level hint
//! (`tracing_core::callsite::rebuild_interest_cache`, the same rebuild a new
//! subscriber triggers; not tracing-subscriber's `reload` layer). A record
//! logged before the swap was judged by the old directives, one logged after
//! by the new. Each change writes one INFO record, `log filter changed`, with
//! `from` and `to`, whatever the new directives say of INFO (target
//! `slog_host`, as every record the crate writes itself).

use std::sync::{Arc, Mutex, PoisonError};

use slog::{error, info, Logger};

use super::filter::{Directives, LiveFilter};
use crate::error::Error;
use crate::record::own::{CRATE_TARGET, FILTER_CHANGED_MESSAGE};

/// Changes a pipeline's directives.
pub(crate) struct FilterControl {
    live: Arc<LiveFilter>,
    /// Logs the change notices: not filtered, not flood-guarded.
    notices: Logger,
    /// One change at a time, so each notice's `from` is the one replaced.
    changing: Mutex<()>,
}

impl FilterControl {
    pub(crate) fn new(live: Arc<LiveFilter>, notices: Logger) -> FilterControl {
        FilterControl {
            live,
            notices,
            changing: Mutex::new(()),
        }
    }

    /// Parses `text` (an error names `setting` and the value, and the
    /// directives in force stay) and puts it in force.
    pub(crate) fn set(&self, setting: &str, text: &str) -> Result<(), Error> {
        let new = Directives::parse_setting(setting, text)?;
        self.apply(new);
        Ok(())
    }

    /// Puts `new` in force everywhere and writes the notice.
    pub(crate) fn apply(&self, new: Directives) {
        let _one = self.changing.lock().unwrap_or_else(PoisonError::into_inner);
        let to = new.as_str().to_owned();
        let old = self.live.replace(new);
        super::bridges::log::refresh_max_level(&self.live);
        #[cfg(feature = "tracing")]
        tracing_core::callsite::rebuild_interest_cache();
        info!(self.notices, #CRATE_TARGET, "{}", FILTER_CHANGED_MESSAGE; "from" => old.as_str(), "to" => to);
    }

    /// The directives in force.
    pub(crate) fn current(&self) -> Arc<Directives> {
        self.live.current()
    }

    pub(crate) fn report(&self, what: std::fmt::Arguments<'_>) {
        error!(self.notices, #CRATE_TARGET, "{}", what);
    }
}

/// The pipeline's level directives, to read and change from anywhere: an
/// admin endpoint, a signal handler, another thread. `Clone + Send + Sync`,
/// from [`LogGuard::filter_handle`](crate::LogGuard::filter_handle); it does
/// not keep the guard, so the guard can be dropped at shutdown while
/// handlers still hold handles (a change after the drop still applies to
/// the records written synchronously then).
///
/// ```
/// # fn main() -> Result<(), slog_host::Error> {
/// let guard = slog_host::Builder::new().global(false).init()?;
/// let filter = guard.filter_handle();
/// let handler = std::thread::spawn(move || {
///     filter.set("info,my_app::db=debug")?; // PUT /admin/log-filter
///     Ok::<_, slog_host::Error>(filter.get())
/// });
/// assert_eq!(handler.join().unwrap()?, "info,my_app::db=debug");
/// assert!(guard.filter_handle().set("inof").is_err()); // a typo changes nothing
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct FilterHandle(pub(crate) Arc<FilterControl>);

impl FilterHandle {
    /// Replaces the directives, as [`LogGuard::set_filter`](crate::LogGuard::set_filter)
    /// does: an invalid string is an [`Error`] naming it, and the
    /// directives in force stay.
    pub fn set(&self, directives: &str) -> Result<(), Error> {
        self.0.set("filter", directives)
    }

    /// The directives in force.
    pub fn get(&self) -> String {
        self.0.current().as_str().to_owned()
    }
}

impl std::fmt::Debug for FilterHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("FilterHandle").field(&self.get()).finish()
    }
}
