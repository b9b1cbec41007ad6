//! Every output of a pipeline (writer thread): one event is formatted
//! into the batch of each output its mask names, the queue is drained, and
//! drops are reported (at most one report a second from each source).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[cfg(feature = "otlp")]
use super::batch::Destination;
use super::batch::{Batch, FormatSpec, MAX_BATCH_BYTES};
use super::counters::Stats;
use crate::outputs::file_config::FileConfig;
use crate::outputs::Opened;
use crate::record::event::{Event, Kind};
#[cfg(feature = "otlp")]
use crate::record::own::EXPORT_DROPPED_MESSAGE;
use crate::record::own::{OUTPUT_DROPPED_MESSAGE, OVERFLOW_MESSAGE};
use crate::record::queue::Queue;

/// The most outputs a pipeline writes (a record's output mask is a `u64`).
pub(crate) const MAX_OUTPUTS: usize = 64;
/// Popped events whose bytes are given back to the queue at once.
const RELEASE_EVERY: u64 = 64;
/// The least time between two drop reports of one source (the queue, an
/// output); the last report comes at shutdown, whenever it is.
pub const REPORT_EVERY: Duration = Duration::from_secs(1);

/// Every output; used by one thread at a time (the writer thread, or a
/// caller writing synchronously). A record goes to the outputs its event's
/// mask names (each output's filter, judged on the caller).
pub(crate) struct OutputSet {
    pub(super) outs: Vec<Batch>,
    /// Records formatted since the last write, counted once however many
    /// outputs took them.
    pub(super) pending: u64,
    pub(super) stats: Arc<Stats>,
    /// When each source last reported drops: the queue, then each output.
    reported: Vec<Option<Instant>>,
}

/// What the output is, to open it again in a forked child.
#[derive(Clone)]
pub(super) enum Reopen {
    Stdout,
    Stderr,
    File(FileConfig),
    /// A writer given by the application cannot be reopened.
    Writer,
    /// An exporter's thread does not exist in a forked child.
    #[cfg(feature = "otlp")]
    Otlp,
}

/// The outputs a writer builds, each with its recipe: what a forked child
/// needs to build them again.
#[derive(Clone)]
pub(crate) struct Specs(pub(super) Vec<(FormatSpec, Reopen)>);

impl Specs {
    pub(super) fn build(&self, opened: Vec<Opened>, stats: &Arc<Stats>) -> OutputSet {
        OutputSet {
            reported: vec![None; self.0.len() + 1],
            outs: self
                .0
                .iter()
                .zip(opened)
                .zip(&stats.errors)
                .map(|(((recipe, _), output), errors)| {
                    recipe.build(output, Arc::clone(errors), stats)
                })
                .collect(),
            pending: 0,
            stats: Arc::clone(stats),
        }
    }
}

impl OutputSet {
    /// Formats one event into the batch of every output it goes to.
    pub(super) fn format(&mut self, ev: &Event) {
        for (i, out) in self.outs.iter_mut().enumerate() {
            if ev.outputs & (1 << i) != 0 {
                out.format(ev);
            }
        }
        self.pending += 1;
    }

    /// True if `source` (0: the queue, `i + 1`: output `i`) may report now:
    /// its last report is [`REPORT_EVERY`] old, or this is a `last` drain.
    fn report_due(&mut self, source: usize, last: bool) -> bool {
        let now = Instant::now();
        match self.reported[source] {
            Some(t) if !last && now.duration_since(t) < REPORT_EVERY => false,
            _ => {
                self.reported[source] = Some(now);
                true
            }
        }
    }

    /// Reports the drops not reported yet, each source at most once a
    /// second (every one on the `last` drain).
    fn report_drops(&mut self, queue: &Queue, last: bool) {
        if queue.unreported() > 0 && self.report_due(0, last) {
            let dropped = queue.take_unreported();
            for out in &mut self.outs {
                out.format_report(OVERFLOW_MESSAGE, dropped, None, None);
            }
            self.pending += 1;
        }
        for i in 0..self.outs.len() {
            let Some(lane) = self.outs[i].lane().map(Arc::clone) else {
                continue;
            };
            let pending = lane.unreported.load(Ordering::Relaxed)
                + lane.failed_unreported.load(Ordering::Relaxed);
            if pending == 0 || !self.report_due(i + 1, last) {
                continue;
            }
            let full = lane.unreported.swap(0, Ordering::Relaxed);
            let failed = lane.failed_unreported.swap(0, Ordering::Relaxed);
            let error = lane.last_error().unwrap_or_default();
            let failed_why = format!("cannot write: {error}");
            // On the other outputs. Alone, the output reports its full
            // buffer on itself (as the queue's overflow); its write failures
            // are said on stderr as they come (and counted in `write_errors`).
            let alone = self.outs.len() == 1;
            for (n, why, on_itself) in [
                (full, "its buffer was full", alone),
                (failed, failed_why.as_str(), false),
            ] {
                if n == 0 || (alone && !on_itself) {
                    continue;
                }
                for (j, out) in self.outs.iter_mut().enumerate() {
                    if j != i || on_itself {
                        out.format_report(OUTPUT_DROPPED_MESSAGE, n, Some(why), Some(&lane.label));
                    }
                }
                self.pending += 1;
            }
        }
        #[cfg(feature = "otlp")]
        self.report_export_drops(last);
    }

    /// Reports the records the OTLP exporters dropped since the last
    /// report, in the other outputs.
    #[cfg(feature = "otlp")]
    fn report_export_drops(&mut self, last: bool) {
        for i in 0..self.outs.len() {
            let Destination::Otlp(e) = &self.outs[i].sink else {
                continue;
            };
            let e = Arc::clone(e);
            if e.stats.unreported.load(Ordering::Relaxed) == 0 || !self.report_due(i + 1, last) {
                continue;
            }
            let n = e.stats.unreported.swap(0, Ordering::Relaxed);
            let why = e.last_drop().unwrap_or_default();
            let mut reported = false;
            for out in &mut self.outs {
                if !matches!(out.sink, Destination::Otlp(_)) {
                    out.format_report(EXPORT_DROPPED_MESSAGE, n, Some(&why), None);
                    reported = true;
                }
            }
            if reported {
                self.pending += 1;
            } else {
                // No line output: standard error says it.
                crate::error::report(format_args!("{EXPORT_DROPPED_MESSAGE}: {n} ({why})"));
            }
        }
    }

    /// The line outputs' lanes.
    pub(super) fn lanes(&self) -> impl Iterator<Item = &Arc<super::lane::Lane>> {
        self.outs.iter().filter_map(Batch::lane)
    }

    /// Hands every output's batch to it.
    pub(super) fn write_out(&mut self) {
        self.stats.in_write.store(self.pending, Ordering::Relaxed);
        for out in &mut self.outs {
            out.write_out();
        }
        let n = std::mem::take(&mut self.pending);
        self.stats.in_write.store(0, Ordering::Relaxed);
        self.stats.written.fetch_add(n, Ordering::Release);
    }

    /// True if some output's batch is full.
    pub(super) fn batch_full(&self) -> bool {
        self.outs.iter().any(|o| o.batch.len() >= MAX_BATCH_BYTES)
    }
}

impl OutputSet {
    /// Drains `queue` into the output; returns the records written.
    ///
    /// Bounded once `stop` is set (the guard is dropping): from then on it
    /// takes at most the events queued at that moment, so threads that keep
    /// logging cannot hold the guard's drop forever.
    pub(super) fn drain(&mut self, queue: &Queue, stop: Option<&AtomicBool>) -> u64 {
        let mut n = 0;
        let mut tickets: Option<u64> = None;
        // Popped but not yet released: see `Queue::pop`.
        let (mut held_bytes, mut held) = (0usize, 0u64);
        let mut budget = None;
        loop {
            if budget.is_none() && stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
                budget = Some(queue.len());
            }
            match &mut budget {
                Some(0) => break,
                Some(b) => *b -= 1,
                None => {}
            }
            let Some(ev) = queue.pop() else { break };
            held_bytes += ev.size();
            held += 1;
            if held == RELEASE_EVERY {
                queue.release(std::mem::take(&mut held_bytes), std::mem::take(&mut held));
            }
            match ev.kind {
                Kind::Record => {
                    self.format(&ev);
                    n += 1;
                }
                Kind::Flush(t) => {
                    queue.marker_taken();
                    tickets = Some(tickets.map_or(t, |m| m.max(t)));
                }
            }
            queue.recycle(ev);
            if self.batch_full() {
                self.write_out();
            }
        }
        queue.release(held_bytes, held);
        // Stopping, or no writer thread (callers write synchronously, and
        // the drain that reports may be the last): every drop is reported.
        let last = queue.is_sync() || stop.is_some_and(|s| s.load(Ordering::Relaxed));
        self.report_drops(queue, last);
        self.write_out();
        if let Some(t) = tickets {
            queue.flushed(t);
        }
        n
    }
}
