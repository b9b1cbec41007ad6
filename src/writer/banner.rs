//! The banner (writer thread): in the term formats the host fields are
//! written in a record of their own ([`BANNER_MESSAGE`]) before the first
//! record and again after the host snapshot changed.

use std::io;
use std::sync::Arc;

use slog::{Level, OwnedKVList};

use crate::format::term::TermDrain;
use crate::host::cache::CacheRef;
use crate::host::HostInfo;
use crate::record::own::{BANNER_MESSAGE, CRATE_TARGET};

/// Banner mode: the snapshot whose fields were last shown.
pub(super) struct Banner {
    pub(super) cache: CacheRef,
    pub(super) shown: Option<Arc<HostInfo>>,
}

impl Banner {
    /// Logs a banner record into `drain` if the host snapshot is not the one
    /// last shown (before the first record, and after a change).
    pub(super) fn show(&mut self, drain: &dyn TermDrain) -> io::Result<()> {
        let now = self.cache.load();
        if self.shown.as_ref().is_some_and(|s| Arc::ptr_eq(s, &now)) {
            return Ok(());
        }
        self.shown = Some(Arc::clone(&now));
        let rs = slog::record_static!(Level::Info, CRATE_TARGET);
        drain.banner(
            &slog::Record::new(&rs, &format_args!("{BANNER_MESSAGE}"), slog::b!()),
            &now,
        )
    }
}

/// Logs `record` with a term format, after a banner if one is due.
pub(super) fn term_log(
    drain: &dyn TermDrain,
    banner: &mut Option<Banner>,
    record: &slog::Record<'_>,
    values: &OwnedKVList,
) -> io::Result<()> {
    if let Some(banner) = banner {
        banner.show(drain)?;
    }
    drain.log(record, values)
}
