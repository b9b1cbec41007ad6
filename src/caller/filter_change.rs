//! Changing a running pipeline's filter: [`FilterControl`] (what
//! `LogGuard::set_filter` calls) and [`FilterFile`] (`LOG_FILTER_FILE`, read
//! again by the writer thread when the file changes).
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

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use slog::{error, info, Logger};

use super::filter::{Directives, LiveFilter};
use crate::error::Error;
use crate::record::own::FILTER_CHANGED_MESSAGE;

/// How often the writer thread looks at `LOG_FILTER_FILE` (one `stat`).
pub(crate) const FILTER_FILE_POLL: Duration = Duration::from_secs(1);

/// The largest filter file read: longer content is an error.
const MAX_FILTER_FILE_BYTES: u64 = 64 * 1024;

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

    fn report(&self, what: std::fmt::Arguments<'_>) {
        error!(self.notices, "{}", what);
    }
}

/// What identifies one version of the file: a ConfigMap update swaps a
/// symlink to a new file (new inode); an edit in place changes the time or
/// the size.
type Version = (u64, u64, Option<SystemTime>, u64);

/// `LOG_FILTER_FILE`: a file whose content (RUST_LOG syntax, trimmed) is the
/// filter. Blank content means `fallback` (RUST_LOG or the builder's
/// filter).
pub(crate) struct FilterFile {
    path: PathBuf,
    fallback: String,
    control: Option<Arc<FilterControl>>,
    version: Option<Version>,
    /// The content last read (valid or not), so one bad value is reported
    /// once.
    text: Option<String>,
    /// The file was missing at the last look (reported once).
    missing: bool,
    next_look: Instant,
}

fn version_of(meta: &fs::Metadata) -> Version {
    (meta.dev(), meta.ino(), meta.modified().ok(), meta.len())
}

/// Reads the filter file (following symlinks, as a ConfigMap mount needs).
fn read(path: &PathBuf) -> std::io::Result<(Version, String)> {
    let meta = fs::metadata(path)?;
    if meta.len() > MAX_FILTER_FILE_BYTES {
        return Err(std::io::Error::other(format!(
            "longer than {MAX_FILTER_FILE_BYTES} bytes"
        )));
    }
    let text = fs::read_to_string(path)?;
    Ok((version_of(&meta), text.trim().to_owned()))
}

impl FilterFile {
    /// Reads `path` at start: a missing or unreadable file, or invalid
    /// content, is an error naming `LOG_FILTER_FILE` and the path or value.
    /// Returns the file and the directives to start with; it watches once
    /// [`watch`](Self::watch) gives it the control.
    pub(crate) fn open(
        path: PathBuf,
        fallback: &Directives,
    ) -> Result<(FilterFile, Directives), Error> {
        let (version, text) = read(&path).map_err(|e| {
            Error::invalid(
                "LOG_FILTER_FILE",
                path.display().to_string(),
                format!("cannot read: {e}"),
            )
        })?;
        let directives = if text.is_empty() {
            fallback.clone()
        } else {
            Directives::parse_setting("LOG_FILTER_FILE", &text)?
        };
        Ok((
            FilterFile {
                path,
                fallback: fallback.as_str().to_owned(),
                control: None,
                version: Some(version),
                text: Some(text),
                missing: false,
                next_look: Instant::now() + FILTER_FILE_POLL,
            },
            directives,
        ))
    }

    /// From now on, changes go through `control`.
    pub(crate) fn watch(mut self, control: Arc<FilterControl>) -> FilterFile {
        self.control = Some(control);
        self
    }

    /// Writes the ERROR record for a file that cannot be read.
    fn unreadable(&self, control: &FilterControl, e: &std::io::Error) {
        let kept = control.current();
        control.report(format_args!(
            "LOG_FILTER_FILE {} cannot be read ({e}); the filter stays {:?}",
            self.path.display(),
            kept.as_str()
        ));
    }

    /// Called by the writer thread on every poll; looks at the file once per
    /// [`FILTER_FILE_POLL`] and applies a change.
    pub(crate) fn tick(&mut self) {
        let now = Instant::now();
        if now < self.next_look {
            return;
        }
        let Some(control) = self.control.clone() else {
            return;
        };
        self.next_look = now + FILTER_FILE_POLL;
        let meta = match fs::metadata(&self.path) {
            Ok(m) => m,
            Err(e) => {
                if !self.missing {
                    self.missing = true;
                    self.unreadable(&control, &e);
                }
                return;
            }
        };
        self.missing = false;
        if Some(version_of(&meta)) == self.version {
            return;
        }
        let (version, text) = match read(&self.path) {
            Ok(read) => read,
            Err(e) => {
                // Too long, not UTF-8, unreadable: said once per version.
                self.version = Some(version_of(&meta));
                self.unreadable(&control, &e);
                return;
            }
        };
        self.version = Some(version);
        if self.text.as_deref() == Some(text.as_str()) {
            return;
        }
        self.text = Some(text.clone());
        let wanted = if text.is_empty() {
            self.fallback.clone()
        } else {
            text
        };
        if let Err(e) = control.set("LOG_FILTER_FILE", &wanted) {
            let kept = control.current();
            control.report(format_args!(
                "LOG_FILTER_FILE {}: {e}; the filter stays {:?}",
                self.path.display(),
                kept.as_str()
            ));
        }
    }
}
