//! `LOG_FILTER_FILE` (read at `init`, then looked at by the writer thread
//! on its tick): a file whose content is the filter, applied through
//! [`FilterControl`] when it changes.

use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::caller::filter::Directives;
use crate::caller::filter_change::FilterControl;
use crate::config_file;
use crate::error::Error;

/// How often the writer thread looks at `LOG_FILTER_FILE` (one `stat`).
pub(crate) const FILTER_FILE_POLL: Duration = Duration::from_secs(1);

/// The largest filter file read: longer content is an error.
const MAX_FILTER_FILE_BYTES: u64 = 64 * 1024;

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

/// Reads the filter file (see `config_file` for what is never done with
/// the path), as trimmed UTF-8 text.
fn read(path: &Path) -> io::Result<(Version, String)> {
    let (meta, bytes) = config_file::read(path, MAX_FILTER_FILE_BYTES)?;
    let text = String::from_utf8(bytes).map_err(|_| io::Error::other("not UTF-8 text"))?;
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
            Directives::parse_file("LOG_FILTER_FILE", &path.display().to_string(), &text)?
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
    fn unreadable(&self, control: &FilterControl, e: &io::Error) {
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
        let parsed = if text.is_empty() {
            Directives::parse_setting("LOG_FILTER_FILE", &self.fallback)
        } else {
            Directives::parse_file("LOG_FILTER_FILE", &self.path.display().to_string(), &text)
        };
        match parsed {
            Ok(new) => {
                control.apply(new);
            }
            Err(e) => {
                let kept = control.current();
                control.report(format_args!("{e}; the filter stays {:?}", kept.as_str()));
            }
        }
    }
}
