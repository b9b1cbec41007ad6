//! The pipelines the tests and benches measure: the crate's JSON format into
//! a writer that does no I/O, with and without `Enrich`.
#![allow(dead_code)]

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use slog::{o, Drain, Logger};
use slog_host::drain::Enrich;
use slog_host::host::CacheRef;

/// Counts bytes and lines written; does no I/O.
#[derive(Clone, Default)]
pub struct NoIo {
    pub bytes: Arc<AtomicU64>,
    pub lines: Arc<AtomicU64>,
}

impl io::Write for NoIo {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.bytes.fetch_add(buf.len() as u64, Ordering::Relaxed);
        let newlines = buf.iter().filter(|b| **b == b'\n').count() as u64;
        self.lines.fetch_add(newlines, Ordering::Relaxed);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl NoIo {
    pub fn lines(&self) -> u64 {
        self.lines.load(Ordering::Relaxed)
    }
}

/// JSON into `NoIo`, no host fields.
pub fn plain(w: NoIo) -> Logger {
    Logger::root(Mutex::new(slog_host::format::json(w)).fuse(), o!())
}

/// JSON into `NoIo` through `Enrich` on `cache`.
pub fn enriched(w: NoIo, cache: impl Into<CacheRef>) -> Logger {
    let drain = Enrich::with_cache(Mutex::new(slog_host::format::json(w)), cache);
    Logger::root(drain.fuse(), o!())
}
