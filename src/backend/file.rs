//! File output with size-based rotation, retention and optional compression.

use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::Error;

/// Default largest size of the log file before it is rotated: 100 MiB.
pub const DEFAULT_FILE_MAX_SIZE: u64 = 100 * 1024 * 1024;
/// Default number of rotated files kept: 5.
pub const DEFAULT_FILE_KEEP: usize = 5;
/// Default permissions of created files: `0o640` (owner read/write, group read).
pub const DEFAULT_FILE_MODE: u32 = 0o640;
/// How often the writer checks that the file at the path is still the one it
/// writes (it reopens the path when the file was removed or replaced).
pub const FILE_CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// File output: where, how large, how many rotated files, permissions.
///
/// | setting | default | environment |
/// |---|---|---|
/// | path | (required) | `LOG_FILE` |
/// | [`max_size`](Self::max_size) | [`DEFAULT_FILE_MAX_SIZE`] (100 MiB) | `LOG_FILE_MAX_SIZE` (bytes, or with `K`, `M`, `G`: powers of 1024) |
/// | [`keep`](Self::keep) | [`DEFAULT_FILE_KEEP`] (5) | `LOG_FILE_KEEP` |
/// | [`compress`](Self::compress) | `false` | |
/// | [`mode`](Self::mode) | [`DEFAULT_FILE_MODE`] (`0o640`) | |
///
/// Rotation happens *before* a record that would take the file past
/// `max_size`: `app.log` becomes `app.log.1` (or `app.log.1.gz` when
/// compressed), older ones move up by one, and the one past `keep` is deleted.
/// So every file holds whole records and is at most `max_size` (unless a
/// single record is larger), and all files together are at most
/// `(keep + 1) * max_size`. Devices and pipes (`/dev/stdout`, `/dev/full`)
/// are written but never rotated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileConfig {
    pub(crate) path: PathBuf,
    pub(crate) max_size: u64,
    pub(crate) keep: usize,
    pub(crate) compress: bool,
    pub(crate) mode: u32,
}

impl FileConfig {
    /// File output to `path` with the defaults.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileConfig {
            path: path.into(),
            max_size: DEFAULT_FILE_MAX_SIZE,
            keep: DEFAULT_FILE_KEEP,
            compress: false,
            mode: DEFAULT_FILE_MODE,
        }
    }

    /// Rotates before the file would grow past `bytes` (at least 1).
    pub fn max_size(mut self, bytes: u64) -> Self {
        self.max_size = bytes;
        self
    }

    /// Keeps this many rotated files (0: rotation just starts a new file).
    pub fn keep(mut self, files: usize) -> Self {
        self.keep = files;
        self
    }

    /// Compresses rotated files with gzip (`app.log.1.gz`).
    pub fn compress(mut self, on: bool) -> Self {
        self.compress = on;
        self
    }

    /// Permissions of the files created (also of rotated and compressed
    /// ones), whatever the process umask.
    pub fn mode(mut self, mode: u32) -> Self {
        self.mode = mode;
        self
    }

    /// The log file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.max_size == 0 {
            return Err(Error::invalid(
                "file max size",
                "0",
                "must be at least 1 byte",
            ));
        }
        if self.mode > 0o7777 {
            return Err(Error::invalid(
                "file mode",
                format!("{:o}", self.mode),
                "not a permission mode",
            ));
        }
        Ok(())
    }

    /// The `n`th rotated file (`n >= 1`).
    fn rotated(&self, n: usize) -> PathBuf {
        let mut name = self.path.clone().into_os_string();
        name.push(format!(".{n}"));
        if self.compress {
            name.push(".gz");
        }
        PathBuf::from(name)
    }
}

/// The writer behind [`Output::File`](crate::Output::File).
///
/// It runs on the writer thread only. The format drains write a record in
/// pieces and flush once per record; pieces are buffered and the whole record
/// is committed at the flush, so rotation never splits a record.
pub(crate) struct RotatingFile {
    config: FileConfig,
    file: Option<File>,
    /// Size of the open file.
    size: u64,
    /// Regular file (rotated) or device/pipe (never rotated).
    regular: bool,
    /// Device and inode of the open file, to notice removal or replacement.
    identity: (u64, u64),
    last_check: Instant,
    record: Vec<u8>,
}

impl RotatingFile {
    /// Opens (or creates) the file; an error names `setting` and the path.
    pub(crate) fn open(config: FileConfig, setting: &str) -> Result<Self, Error> {
        config.validate()?;
        let mut w = RotatingFile {
            config,
            file: None,
            size: 0,
            regular: true,
            identity: (0, 0),
            last_check: Instant::now(),
            record: Vec::with_capacity(1024),
        };
        w.reopen().map_err(|e| {
            Error::invalid(
                setting,
                w.config.path.display().to_string(),
                format!("cannot open: {e}"),
            )
        })?;
        Ok(w)
    }

    /// The configuration it was opened with.
    pub(crate) fn config(&self) -> &FileConfig {
        &self.config
    }

    fn reopen(&mut self) -> io::Result<()> {
        self.file = None;
        let path = &self.config.path;
        let existed = path.exists();
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(self.config.mode)
            .open(path)?;
        let meta = file.metadata()?;
        self.regular = meta.is_file();
        if !existed && self.regular {
            // `mode` at creation is masked by the umask; set it exactly.
            fs::set_permissions(path, Permissions::from_mode(self.config.mode))?;
        }
        self.size = if self.regular { meta.len() } else { 0 };
        self.identity = (meta.dev(), meta.ino());
        self.last_check = Instant::now();
        self.file = Some(file);
        Ok(())
    }

    /// True if the path no longer names the open file (removed or replaced).
    fn replaced(&self) -> bool {
        match fs::metadata(&self.config.path) {
            Ok(m) => (m.dev(), m.ino()) != self.identity,
            Err(_) => true,
        }
    }

    fn rotate(&mut self) -> io::Result<()> {
        self.file = None;
        let c = &self.config;
        if c.keep == 0 {
            fs::remove_file(&c.path)?;
        } else {
            let _ = fs::remove_file(c.rotated(c.keep));
            for n in (1..c.keep).rev() {
                match fs::rename(c.rotated(n), c.rotated(n + 1)) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                    _ => {}
                }
            }
            if c.compress {
                compress(&c.path, &c.rotated(1), c.mode)?;
                fs::remove_file(&c.path)?;
            } else {
                fs::rename(&c.path, c.rotated(1))?;
            }
        }
        self.reopen()
    }

    /// Writes the buffered record, rotating first if it would not fit.
    fn commit(&mut self) -> io::Result<()> {
        if self.record.is_empty() {
            return Ok(());
        }
        let result = self.commit_record();
        self.record.clear();
        if result.is_err() {
            // Start over from the path next time: the fault may be gone then.
            self.file = None;
        }
        result
    }

    fn commit_record(&mut self) -> io::Result<()> {
        if self.file.is_none()
            || (self.regular && self.last_check.elapsed() >= FILE_CHECK_INTERVAL && {
                self.last_check = Instant::now();
                self.replaced()
            })
        {
            self.reopen()?;
        }
        let len = self.record.len() as u64;
        if self.regular && self.size > 0 && self.size + len > self.config.max_size {
            self.rotate()?;
        }
        let file = self.file.as_mut().expect("opened above");
        if let Err(e) = file.write_all(&self.record) {
            // A full disk can take part of a record: cut it off again, so the
            // file only ever holds whole records.
            if self.regular {
                let _ = file.set_len(self.size);
            }
            return Err(e);
        }
        self.size += len;
        Ok(())
    }
}

fn compress(from: &Path, to: &Path, mode: u32) -> io::Result<()> {
    let mut input = File::open(from)?;
    let out = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(mode)
        .open(to)?;
    fs::set_permissions(to, Permissions::from_mode(mode))?;
    let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::default());
    io::copy(&mut input, &mut gz)?;
    gz.finish()?.sync_all()
}

impl Write for RotatingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.record.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.commit()
    }
}

impl Drop for RotatingFile {
    fn drop(&mut self) {
        let _ = self.commit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotated_names() {
        let c = FileConfig::new("/var/log/app.log");
        assert_eq!(c.rotated(2), PathBuf::from("/var/log/app.log.2"));
        assert_eq!(
            c.compress(true).rotated(1),
            PathBuf::from("/var/log/app.log.1.gz")
        );
    }
}
