//! Reading a file a setting names (`LOG_FILTER_FILE`, an OTLP certificate or
//! key) without the risks of an arbitrary path: a leaf module, like `error`.
//!
//! Never blocks and never reads more than `max` + 1 bytes: the path must
//! name a regular file (not a FIFO, a device, a directory or a socket)
//! before it is opened, it is opened without blocking (a FIFO swapped in
//! meanwhile opens at once, with or without a writer), the opened file must
//! still be a regular file, and the read stops past the limit whatever size
//! the file reports (`/proc` files say 0). Symlinks are followed, as a
//! Kubernetes ConfigMap or Secret mount needs.

use std::fs;
use std::io::{self, Read as _};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Reads `path` as the module docs say: the open file's metadata and its
/// bytes; an error says what the path is when it is not a regular file, or
/// that it is longer than `max` bytes.
pub(crate) fn read(path: &Path, max: u64) -> io::Result<(fs::Metadata, Vec<u8>)> {
    // Looked at before it is opened: opening a device can act (a watchdog,
    // a tape that rewinds). Checked again on the open file below, for a
    // path swapped in between.
    regular(&fs::metadata(path)?)?;
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)?;
    let meta = file.metadata()?;
    regular(&meta)?;
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(io::Error::other(format!("longer than {max} bytes")));
    }
    Ok((meta, bytes))
}

/// An error unless `meta` is a regular file's.
fn regular(meta: &fs::Metadata) -> io::Result<()> {
    let t = meta.file_type();
    let kind = if t.is_file() {
        return Ok(());
    } else if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    };
    Err(io::Error::other(format!("{kind}, not a regular file")))
}
