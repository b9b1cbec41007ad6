//! The term formats, the batch buffer they write into, and write-error
//! accounting.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::format::Format;

pub(crate) use crate::format::term::{TermDrain, TermHost};

/// A term format's drain for `format` into `buf`, with colors or without.
pub(crate) fn term_drain(
    format: Format,
    colors: bool,
    buf: SharedBuf,
    host: TermHost,
) -> Box<dyn TermDrain> {
    crate::format::term::term_drain(format, colors, buf, host)
}

/// A byte buffer the term formats write into; the writer moves its contents
/// into the batch after each record.
#[derive(Clone, Default)]
pub(crate) struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl SharedBuf {
    /// Appends the buffered bytes to `out` and empties the buffer.
    pub(crate) fn move_into(&self, out: &mut Vec<u8>) {
        let mut b = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        out.extend_from_slice(&b);
        b.clear();
    }
}

impl Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Output failures, shared between the writer and the guard. Each change of
/// state (failing, writing again) is reported once on stderr.
#[derive(Default)]
pub(crate) struct WriteErrors {
    count: AtomicU64,
    failing: AtomicBool,
    last: Mutex<Option<String>>,
}

impl WriteErrors {
    /// Acquire: whoever sees a failure counted sees its state and message.
    pub(crate) fn count(&self) -> u64 {
        self.count.load(Ordering::Acquire)
    }

    pub(crate) fn failing(&self) -> bool {
        self.failing.load(Ordering::Relaxed)
    }

    pub(crate) fn last(&self) -> Option<String> {
        self.last
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Keeps `message` as the last error, unless another thread holds the
    /// slot right now (or held it at a `fork`): never waits.
    fn set_last(&self, message: String) {
        match self.last.try_lock() {
            Ok(mut last) => *last = Some(message),
            Err(std::sync::TryLockError::Poisoned(p)) => *p.into_inner() = Some(message),
            Err(std::sync::TryLockError::WouldBlock) => {}
        }
    }

    /// One record could not be written.
    pub(crate) fn failed(&self, e: &io::Error) {
        self.failed_n(e, 1);
    }

    /// `n` records could not be written.
    pub(crate) fn failed_n(&self, e: &io::Error, n: u64) {
        // The message and the state first, the count last (Release): a
        // reader that sees the count sees them too.
        self.set_last(e.to_string());
        if !self.failing.swap(true, Ordering::Relaxed) {
            crate::error::report(format_args!(
                "cannot write log output: {e}; records are counted and dropped until it recovers"
            ));
        }
        self.count.fetch_add(n, Ordering::Release);
    }

    /// One record was lost before it reached the output (its formatting
    /// panicked): counted, and reported on stderr each time.
    pub(crate) fn lost(&self, why: &str) {
        self.count.fetch_add(1, Ordering::Release);
        crate::error::report(format_args!("{why}; the record is counted as not written"));
        self.set_last(why.to_string());
    }

    /// A write succeeded.
    pub(crate) fn recovered(&self) {
        if self.failing.load(Ordering::Relaxed) && self.failing.swap(false, Ordering::Relaxed) {
            crate::error::report(format_args!("log output is writable again"));
        }
    }
}
