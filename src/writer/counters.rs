//! The writer's counters, shared with the guard: records written, in a
//! write, cut, and each output's write errors. Written by the writer thread,
//! read by any.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

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

/// Counters shared with the guard.
pub(crate) struct Stats {
    /// Per output, in the order given.
    pub(crate) errors: Vec<Arc<WriteErrors>>,
    /// Records cut to `max_record_bytes`, counted per output that cut them.
    pub(crate) truncated: Arc<AtomicU64>,
    /// Records written (or counted as write errors), reports included, each
    /// once however many outputs it went to.
    pub(crate) written: AtomicU64,
    /// Records in the write under way (taken from the queue, not written
    /// yet): what a stuck write holds.
    pub(crate) in_write: AtomicU64,
    /// Bytes the outputs accepted, write by write: the writer's progress
    /// inside a batch (shared with the queue, whose bounded waits watch it:
    /// a slow output that takes bytes is not a stuck one).
    pub(crate) accepted: Arc<AtomicU64>,
}

impl Stats {
    pub(crate) fn new(outputs: usize, accepted: Arc<AtomicU64>) -> Stats {
        Stats {
            errors: (0..outputs).map(|_| Arc::default()).collect(),
            truncated: Arc::default(),
            written: AtomicU64::new(0),
            in_write: AtomicU64::new(0),
            accepted,
        }
    }
}
