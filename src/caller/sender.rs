//! [`Sender`]: the drain on the calling thread that captures each record
//! into the queue, and the caller's side of a flush.

use std::panic::{RefUnwindSafe, UnwindSafe};
use std::sync::Arc;
use std::time::Duration;

use slog::{Drain, OwnedKVList, Record};

use crate::caller::filter::LiveFilter;
use crate::record::own;
use crate::record::queue::{Queue, WriteNow, FLUSH_TIMEOUT};
use crate::record::target::target;
use crate::record::thread_role;

/// How a forked child gets a pipeline of its own (see `crate::fork`).
pub(crate) type ForChild = Arc<dyn Fn() -> Sender + Send + Sync + RefUnwindSafe + UnwindSafe>;

/// The drain on the caller's side: captures each record into the queue.
///
/// `log` makes no system call and, once the event pool is warm, no
/// allocation. `flush` returns once every earlier record is written.
/// `write_now` writes what is queued on the calling thread (synchronous
/// mode); it keeps the writer alive as long as any logger can use it.
#[derive(Clone)]
pub(crate) struct Sender {
    pub(crate) queue: Arc<Queue>,
    pub(crate) write_now: Arc<WriteNow>,
    /// In a forked child: the child's own pipeline (this one is the
    /// parent's, which the child never touches).
    pub(crate) for_child: ForChild,
    /// With several outputs: which of them a record goes to. `None`: all.
    pub(crate) outputs: Option<Arc<LiveFilter>>,
    /// Run after the writer acknowledged a flush: the line outputs' threads
    /// write what it handed them (given the stall bound); false if they did
    /// not finish.
    pub(crate) flush_lanes: Option<FlushLanes>,
    /// Run after the lines are written (the OTLP export of them); false if
    /// it did not finish.
    pub(crate) after_flush: Option<AfterFlush>,
}

/// See [`Sender::flush_lanes`].
pub(crate) type FlushLanes = Arc<
    dyn Fn(Duration) -> bool + Send + Sync + std::panic::RefUnwindSafe + std::panic::UnwindSafe,
>;

/// See [`Sender::after_flush`].
pub(crate) type AfterFlush =
    Arc<dyn Fn() -> bool + Send + Sync + std::panic::RefUnwindSafe + std::panic::UnwindSafe>;

impl Sender {
    /// Captures `record` into an event of the queue's pool and queues it.
    #[inline]
    fn send(&self, record: &Record<'_>, values: &OwnedKVList, outputs: u64) {
        let mut ev = self.queue.event();
        ev.capture(record, values);
        ev.outputs = outputs;
        self.queue
            .send_record(ev, own::never_dropped(record.tag()), &self.write_now);
    }

    /// True in a forked child of the process that built this pipeline.
    #[inline]
    fn forked(&self) -> bool {
        crate::fork::generation() != self.queue.born
    }

    /// Returns once every record logged before the call is written (true),
    /// or once the writer has made no progress for [`FLUSH_TIMEOUT`]
    /// (false).
    pub(crate) fn flush(&self) -> bool {
        self.flush_unless_stalled(FLUSH_TIMEOUT)
    }

    /// Like [`flush`](Self::flush), but gives up once the writer has made no
    /// progress for `stall` (returns false then).
    pub(crate) fn flush_unless_stalled(&self, stall: Duration) -> bool {
        self.flush_lines(stall) && self.flush_exports()
    }

    /// The writer's part of a flush: every earlier record written.
    pub(crate) fn flush_lines(&self, stall: Duration) -> bool {
        if self.forked() {
            return (self.for_child)().flush_lines(stall);
        }
        // (On a thread that holds the output, the queue's flush is false.)
        self.queue.flush(&self.write_now, stall)
            && self.flush_lanes.as_ref().is_none_or(|f| f(stall))
    }

    /// The exporters' part, after [`flush_lines`](Self::flush_lines): every
    /// record written is exported (or dropped and counted); false if the
    /// export timeout passed first.
    pub(crate) fn flush_exports(&self) -> bool {
        if self.forked() || thread_role::holds_output() {
            return true;
        }
        self.after_flush.as_ref().is_none_or(|f| f())
    }
}

impl Drain for Sender {
    type Ok = ();
    type Err = slog::Never;

    #[inline]
    fn log(&self, record: &Record<'_>, values: &OwnedKVList) -> Result<(), slog::Never> {
        // The crate's own records (flood summaries, panics) go everywhere.
        let outputs = match &self.outputs {
            Some(f) if !own::never_dropped(record.tag()) => f.mask(record.level(), target(record)),
            _ => u64::MAX,
        };
        // A filter change between the caller's check and here can leave no
        // output for it: it is judged by the new directives, as filtered.
        if outputs == 0 {
            return Ok(());
        }
        if self.forked() {
            let child = (self.for_child)();
            child.send(record, values, outputs);
            return Ok(());
        }
        self.send(record, values, outputs);
        Ok(())
    }

    fn flush(&self) -> Result<(), slog::FlushError> {
        Sender::flush(self);
        Ok(())
    }
}
