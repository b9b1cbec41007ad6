//! The drains around the writer thread: the formats, write-error accounting on
//! the writer side, and overflow accounting on the caller side.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use slog::{Drain, Level, OwnedKVList, Record};
use slog_async::{AsyncCore, AsyncError};

use crate::backend::output::Output;
use crate::frontend::Overflow;
use crate::Format;
use crate::Schema;

pub(crate) type BoxedDrain = Box<dyn Drain<Ok = (), Err = io::Error> + Send>;

/// The formatting drain for `format`, writing to `output`.
pub(crate) fn format_drain(
    format: Format,
    color: bool,
    output: Output,
    schema: Schema,
) -> BoxedDrain {
    match format {
        // Flushed per record: the rotating file writer commits whole records.
        Format::Json => Box::new(crate::backend::format::json_with(
            output.into_writer(),
            true,
            schema,
        )),
        Format::Full | Format::Compact => crate::backend::term::term_drain(format, color, output),
    }
}

/// Output failures, shared between the writer thread and the guard.
#[derive(Default)]
pub(crate) struct WriteErrors {
    count: AtomicU64,
    failing: AtomicBool,
    last: Mutex<Option<String>>,
}

impl WriteErrors {
    pub(crate) fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
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
}

/// Counts write errors instead of failing the writer thread, and reports each
/// change of state (failing, writing again) once on stderr.
pub(crate) struct Reported {
    pub(crate) drain: BoxedDrain,
    pub(crate) errors: Arc<WriteErrors>,
}

impl Drain for Reported {
    type Ok = ();
    type Err = slog::Never;

    fn log(&self, record: &Record<'_>, values: &OwnedKVList) -> Result<(), slog::Never> {
        match self.drain.log(record, values) {
            Ok(()) => {
                if self.errors.failing.swap(false, Ordering::Relaxed) {
                    crate::error::report(format_args!("log output is writable again"));
                }
            }
            Err(e) => {
                self.errors.count.fetch_add(1, Ordering::Relaxed);
                if !self.errors.failing.swap(true, Ordering::Relaxed) {
                    crate::error::report(format_args!(
                        "cannot write log output: {e}; \
                         records are counted and dropped until it recovers"
                    ));
                }
                *self
                    .errors
                    .last
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = Some(e.to_string());
            }
        }
        Ok(())
    }

    fn flush(&self) -> Result<(), slog::FlushError> {
        self.drain.flush()
    }
}

/// The message of the record that reports overflow drops.
pub const OVERFLOW_MESSAGE: &str = "log records dropped: channel overflow";

/// The caller side of the writer channel.
///
/// With [`Overflow::Block`] the caller waits for room. With
/// [`Overflow::DropAndReport`] a record that does not fit is dropped and
/// counted; the count is written as one WARN record ([`OVERFLOW_MESSAGE`],
/// field `dropped`) as soon as a slot is free, and at shutdown. Unlike
/// slog-async's own `DropAndReport`, a report that does not fit is retried
/// with the same count (nothing is counted twice) and the last count is not
/// lost at shutdown.
pub(crate) struct Channel {
    core: AsyncCore,
    overflow: Overflow,
    pending: AtomicU64,
    total: Arc<AtomicU64>,
}

impl Channel {
    pub(crate) fn new(core: AsyncCore, overflow: Overflow, total: Arc<AtomicU64>) -> Self {
        Channel {
            core,
            overflow,
            pending: AtomicU64::new(0),
            total,
        }
    }

    /// Sends the pending drop count, if any; on a full channel the count
    /// stays pending. Returns false if it could not be sent.
    fn report(&self, values: &OwnedKVList) -> bool {
        let n = self.pending.swap(0, Ordering::AcqRel);
        if n == 0 {
            return true;
        }
        let sent = self.core.log(
            &slog::record!(
                Level::Warning,
                "",
                &format_args!("{OVERFLOW_MESSAGE}"),
                slog::b!("dropped" => n)
            ),
            values,
        );
        match sent {
            Ok(()) => true,
            Err(_) => {
                self.pending.fetch_add(n, Ordering::AcqRel);
                false
            }
        }
    }

    /// Writes the last pending count, waiting up to `patience` for room.
    pub(crate) fn report_final(&self, patience: Duration) {
        let empty = OwnedKVList::from(slog::o!());
        let deadline = Instant::now() + patience;
        while !self.report(&empty) {
            if Instant::now() >= deadline {
                let n = self.pending.load(Ordering::Acquire);
                crate::error::report(format_args!(
                    "{n} log records dropped (channel overflow); the report could not be written"
                ));
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

impl Drain for Channel {
    type Ok = ();
    type Err = AsyncError;

    fn log(&self, record: &Record<'_>, values: &OwnedKVList) -> Result<(), AsyncError> {
        if self.overflow == Overflow::DropAndReport && self.pending.load(Ordering::Relaxed) > 0 {
            self.report(values);
        }
        match self.core.log(record, values) {
            Err(AsyncError::Full) => {
                self.pending.fetch_add(1, Ordering::AcqRel);
                self.total.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            other => other,
        }
    }

    fn flush(&self) -> Result<(), slog::FlushError> {
        self.core.flush()
    }
}
