//! Changing a running pipeline's filter: [`FilterControl`], what
//! `LogGuard::set_filter` calls and what the writer thread calls when
//! `LOG_FILTER_FILE` changes (`writer::filter_file`).
//!
//! A change swaps the directives every caller reads (slog's level check, the
//! `log` bridge, the tracing layer's filter) in one atomic store, then brings
//! the caches of the other two APIs up to date: `log`'s maximum level, and
//! tracing's per-call-site interest and maximum level hint
//! (`tracing_core::callsite::rebuild_interest_cache`, the same rebuild a new
//! subscriber triggers; not tracing-subscriber's `reload` layer). A record
//! logged before the swap was judged by the old directives, one logged after
//! by the new. Each change writes one INFO record, `log filter changed`, with
//! `from` and `to`, whatever the new directives say of INFO.

use std::sync::{Arc, Mutex, PoisonError};

use slog::{error, info, Logger};

use super::filter::{Directives, LiveFilter};
use crate::error::Error;
use crate::record::own::FILTER_CHANGED_MESSAGE;

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
        new.report_warnings(setting);
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
        info!(self.notices, "{}", FILTER_CHANGED_MESSAGE; "from" => old.as_str(), "to" => to);
    }

    /// The directives in force.
    pub(crate) fn current(&self) -> Arc<Directives> {
        self.live.current()
    }

    pub(crate) fn report(&self, what: std::fmt::Arguments<'_>) {
        error!(self.notices, "{}", what);
    }
}
