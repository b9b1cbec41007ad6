//! The writer thread: drains the queue, replays each event as a
//! `slog::Record`, formats it into a batch and writes the batch with one
//! `write`.
//!
//! Wake-up rule (an adaptive poll; callers never wake it per record):
//! - while records arrive it polls every [`ACTIVE_POLL`] (20 ms), so a record
//!   is in the output within about 20 ms of the call;
//! - after [`QUIET_SPELL`] without records it sleeps up to [`IDLE_POLL`]
//!   (1 s), and the first record after the spell wakes it (one wake-up);
//! - a caller also wakes it when the queue is half full, full, or flushed.
//!
//! In the term formats the host fields are written in a banner (see
//! [`BANNER_MESSAGE`]) before the first record and again before the first
//! record after the host snapshot changed, unless they were asked for on
//! every record (`Builder::host_fields_per_record`); JSON lines always carry
//! them.
//!
//! After [`Writer::stop`] (the guard was dropped) and in a forked child,
//! which has no writer thread, callers write synchronously: each record is
//! formatted and written before `log` returns.

use std::io::{self, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use arc_swap::ArcSwapOption;
use slog::{Level, OwnedKVList};

use super::counters::{term_drain, SharedBuf, TermDrain, TermHost, WriteErrors};
use crate::format::json::Encoder;
use crate::format::timestamp::with_record_time;
#[cfg(feature = "otlp")]
use crate::otlp::{
    encode::{RecordEncoder, Unit},
    export::Exporter,
};
#[cfg(feature = "otlp")]
use crate::record::own::EXPORT_DROPPED_MESSAGE;
use crate::outputs::file::{FileConfig, RotatingFile};
use crate::outputs::{own_stream, Opened};
use crate::record::own::{BANNER_MESSAGE, CRATE_TARGET, OVERFLOW_MESSAGE};
#[cfg(feature = "otlp")]
use crate::record::target::{in_crates, target};
use crate::record::event::{Cut, Event, Kind};
use crate::caller::sender::{AfterFlush, Sender};
use crate::record::queue::{Queue, FLUSH_TIMEOUT};
use crate::host::cache::CacheRef;
use crate::host::HostInfo;
use crate::error::Error;
use crate::format::Format;
use crate::host::schema::Schema;

/// How often the writer polls while records arrive.
pub const ACTIVE_POLL: Duration = Duration::from_millis(20);
/// How long the writer polls without finding a record before it sleeps
/// deeply.
pub const QUIET_SPELL: Duration = Duration::from_millis(250);
/// The longest deep sleep (the first record after a quiet spell wakes the
/// writer at once).
pub const IDLE_POLL: Duration = Duration::from_secs(1);
/// Popped events whose bytes are given back to the queue at once.
const RELEASE_EVERY: u64 = 64;
/// The most outputs a pipeline writes (a record's output mask is a `u64`).
pub(crate) const MAX_OUTPUTS: usize = 64;
/// A batch is written once it holds this many bytes.
const MAX_BATCH_BYTES: usize = 1 << 20;

/// How records are turned into bytes.
enum Formatter {
    /// The JSON encoder, host fields pre-encoded per snapshot (boxed: it is
    /// the larger variant by far).
    Json(Box<Encoder>),
    /// A term format, writing into `buf` (with colors on a terminal): with
    /// the host fields on every record, or with a [`Banner`].
    Term(Box<dyn TermDrain>, SharedBuf, Option<Banner>),
    /// OTLP: each record's target and `LogRecord` into the batch, their
    /// places in `Otlp::units`.
    #[cfg(feature = "otlp")]
    Otlp(Box<Otlp>),
}

/// The OTLP formatter's state.
#[cfg(feature = "otlp")]
struct Otlp {
    enc: RecordEncoder,
    units: Vec<Unit>,
    cache: CacheRef,
}

#[cfg(feature = "otlp")]
impl Otlp {
    /// Appends `record`'s target and its `LogRecord` to `batch`.
    fn encode(
        &mut self,
        batch: &mut Vec<u8>,
        record: &slog::Record<'_>,
        values: &OwnedKVList,
        time: SystemTime,
        trace: Option<&crate::record::trace_ids::TraceIds>,
    ) {
        self.enc.host(&self.cache.load());
        let start = batch.len();
        batch.extend_from_slice(target(record).as_bytes());
        let at = batch.len();
        self.enc
            .encode(batch, record, values, time, SystemTime::now(), trace);
        self.units.push(Unit {
            target: start..at,
            record: at..batch.len(),
        });
    }
}

/// Targets whose records are never exported: the exporter's own
/// dependencies (HTTP client, TLS), which log on the exporter's thread
/// while it exports. Exporting them would make records of the export of
/// records, without end.
#[cfg(feature = "otlp")]
pub(crate) const NOT_EXPORTED: &[&str] = &["ureq", "ureq_proto", "rustls", "webpki", "flate2"];

/// Banner mode: the snapshot whose fields were last shown.
struct Banner {
    cache: CacheRef,
    shown: Option<Arc<HostInfo>>,
}

impl Banner {
    /// Logs a banner record into `drain` if the host snapshot is not the one
    /// last shown (before the first record, and after a change).
    fn show(&mut self, drain: &dyn TermDrain) -> io::Result<()> {
        let now = self.cache.load();
        if self.shown.as_ref().is_some_and(|s| Arc::ptr_eq(s, &now)) {
            return Ok(());
        }
        self.shown = Some(Arc::clone(&now));
        let rs = slog::record_static!(Level::Info, CRATE_TARGET);
        drain.banner(
            &slog::Record::new(&rs, &format_args!("{BANNER_MESSAGE}"), slog::b!()),
            &now,
        )
    }
}

/// Logs `record` with a term format, after a banner if one is due.
fn term_log(
    drain: &dyn TermDrain,
    banner: &mut Option<Banner>,
    record: &slog::Record<'_>,
    values: &OwnedKVList,
) -> io::Result<()> {
    if let Some(banner) = banner {
        banner.show(drain)?;
    }
    drain.log(record, values)
}

/// Where the batch goes.
enum Sink {
    Stream(Box<dyn Write + Send>),
    /// Rotation needs record boundaries: the file writes whole lines.
    File(RotatingFile),
    /// The exporter takes the encoded records.
    #[cfg(feature = "otlp")]
    Otlp(Arc<Exporter>),
}

/// What the output is, to open it again in a forked child.
#[derive(Clone)]
enum OutputKind {
    Stdout,
    Stderr,
    File(FileConfig),
    /// A writer given by the application cannot be reopened.
    Writer,
    /// An exporter's thread does not exist in a forked child.
    #[cfg(feature = "otlp")]
    Otlp,
}

/// Everything needed to build a backend.
#[derive(Clone)]
pub(crate) struct Recipe {
    pub(crate) format: Format,
    pub(crate) color: bool,
    pub(crate) schema: Schema,
    pub(crate) source: bool,
    pub(crate) cache: CacheRef,
    /// Term formats: the host fields on every record instead of a banner.
    pub(crate) host_fields_per_record: bool,
    /// The longest record written, in bytes (`Builder::max_record_bytes`).
    pub(crate) max_record_bytes: usize,
}

/// What the writer thread runs on every poll.
pub(crate) type Tick = Box<dyn FnMut() + Send>;

/// One output: its formatter, its sink and the batch between them.
struct Out {
    formatter: Formatter,
    sink: Sink,
    batch: Vec<u8>,
    /// Records in `batch`.
    batch_records: u64,
    /// This output's write errors (shared with the guard).
    errors: Arc<WriteErrors>,
    /// The longest line written (`max_record_bytes`), `\n` included.
    max_record: usize,
    /// Records cut to `max_record` (shared with the guard).
    truncated: Arc<AtomicU64>,
    /// Bytes the output accepted (see [`Stats::accepted`]).
    accepted: Arc<AtomicU64>,
    /// A file rotated by time: the period of the records in `batch`.
    batch_period: Option<u64>,
}

/// Every output; used by one thread at a time (the writer thread, or a
/// caller writing synchronously). A record goes to the outputs its event's
/// mask names (each output's filter, judged on the caller).
pub(crate) struct Backend {
    outs: Vec<Out>,
    /// Records formatted since the last write, counted once however many
    /// outputs took them.
    pending: u64,
    stats: Arc<Stats>,
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

/// A writer of the application's, counting what it accepts into
/// `accepted`, write by write.
fn write_counted(w: &mut dyn Write, mut buf: &[u8], accepted: &AtomicU64) -> io::Result<()> {
    while !buf.is_empty() {
        match w.write(buf) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                accepted.fetch_add(n as u64, Ordering::Relaxed);
                buf = &buf[n..];
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

impl Recipe {
    fn build(&self, output: Opened, errors: Arc<WriteErrors>, stats: &Stats) -> Out {
        let (truncated, accepted) = (Arc::clone(&stats.truncated), Arc::clone(&stats.accepted));
        let (formatter, mut sink) = match (self.format, output) {
            #[cfg(feature = "otlp")]
            (_, Opened::Otlp(exporter)) => (
                Formatter::Otlp(Box::new(Otlp {
                    enc: RecordEncoder::new(exporter.json(), self.source),
                    units: Vec::new(),
                    cache: self.cache.clone(),
                })),
                Sink::Otlp(exporter),
            ),
            (Format::Json, output) => (
                Formatter::Json(Box::new(Encoder::new(
                    self.schema,
                    self.source,
                    Some(self.cache.clone()),
                ))),
                sink(output),
            ),
            (format, output) => {
                let buf = SharedBuf::default();
                let colors = self.color && output.is_terminal();
                (self.term(format, colors, buf.clone()), sink(output))
            }
        };
        if let Sink::File(f) = &mut sink {
            f.count_accepted(Arc::clone(&accepted));
        }
        Out {
            formatter,
            sink,
            batch: Vec::with_capacity(64 * 1024),
            batch_records: 0,
            errors,
            max_record: self.max_record_bytes,
            truncated,
            accepted,
            batch_period: None,
        }
    }

    fn term(&self, format: Format, colors: bool, buf: SharedBuf) -> Formatter {
        let host = TermHost {
            cache: self.cache.clone(),
            per_record: self.host_fields_per_record,
        };
        let drain = term_drain(format, colors, buf.clone(), host);
        let banner = (!self.host_fields_per_record).then(|| Banner {
            cache: self.cache.clone(),
            shown: None,
        });
        Formatter::Term(drain, buf, banner)
    }
}

fn sink(output: Opened) -> Sink {
    match output {
        Opened::Stdout(f) | Opened::Stderr(f) => Sink::Stream(Box::new(f)),
        Opened::File(f) => Sink::File(f),
        Opened::Writer(w) => Sink::Stream(w),
        #[cfg(feature = "otlp")]
        Opened::Otlp(e) => Sink::Otlp(e),
        // Started by `Writer::start`.
        #[cfg(feature = "otlp")]
        Opened::OtlpConfig(_) => Sink::Stream(Box::new(io::sink())),
    }
}

/// The outputs a writer builds, each with its recipe: what a forked child
/// needs to build them again.
#[derive(Clone)]
pub(crate) struct Outputs(Vec<(Recipe, OutputKind)>);

impl Outputs {
    fn build(&self, opened: Vec<Opened>, stats: &Arc<Stats>) -> Backend {
        Backend {
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

impl Backend {
    /// Formats one event into the batch of every output it goes to.
    fn format(&mut self, ev: &Event) {
        for (i, out) in self.outs.iter_mut().enumerate() {
            if ev.outputs & (1 << i) != 0 {
                out.format(ev);
            }
        }
        self.pending += 1;
    }

    /// Formats a record made here (overflow report) into every output.
    fn format_report(&mut self, dropped: u64) {
        for out in &mut self.outs {
            out.format_report(OVERFLOW_MESSAGE, dropped, None);
        }
        self.pending += 1;
    }

    /// Reports the records the OTLP exporters dropped since the last
    /// report, in the other outputs.
    #[cfg(feature = "otlp")]
    fn report_export_drops(&mut self) {
        for i in 0..self.outs.len() {
            let Sink::Otlp(e) = &self.outs[i].sink else {
                continue;
            };
            let n = e.stats.unreported.swap(0, Ordering::Relaxed);
            if n == 0 {
                continue;
            }
            let why = e.last_drop().unwrap_or_default();
            let mut reported = false;
            for out in &mut self.outs {
                if !matches!(out.sink, Sink::Otlp(_)) {
                    out.format_report(EXPORT_DROPPED_MESSAGE, n, Some(&why));
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

    /// Writes every output's batch.
    fn write_out(&mut self) {
        self.stats.in_write.store(self.pending, Ordering::Relaxed);
        for out in &mut self.outs {
            out.write_out();
        }
        let n = std::mem::take(&mut self.pending);
        self.stats.in_write.store(0, Ordering::Relaxed);
        self.stats.written.fetch_add(n, Ordering::Release);
    }

    /// True if some output's batch is full.
    fn batch_full(&self) -> bool {
        self.outs.iter().any(|o| o.batch.len() >= MAX_BATCH_BYTES)
    }
}

impl Out {
    /// Formats one event into the batch, cut to `max_record` bytes.
    fn format(&mut self, ev: &Event) {
        #[cfg(feature = "otlp")]
        if matches!(self.formatter, Formatter::Otlp(_)) && in_crates(ev.target(), NOT_EXPORTED) {
            return;
        }
        self.enter_period(ev.time);
        // A term format's banner first, so that what follows is the record
        // alone (all its lines: the compact format writes its logger's
        // fields on lines of their own).
        if let Formatter::Term(drain, buf, Some(banner)) = &mut self.formatter {
            let shown = with_record_time(ev.time, || banner.show(&**drain));
            if let Err(e) = shown {
                self.errors.failed(&e);
            }
            buf.move_into(&mut self.batch);
        }
        let start = self.batch.len();
        if !self.format_with(ev, None) {
            // Counted as lost (not written) by `format_with`.
            return;
        }
        self.batch_records += 1;
        if self.batch.len() - start > self.max_record {
            self.cut(start);
            self.refit(ev, start);
        }
    }

    /// A file rotated by time gets each period's records in writes of their
    /// own, so every file holds only its period's: a record logged at `t` in
    /// another period than the batch's writes the batch first.
    fn enter_period(&mut self, t: SystemTime) {
        if let Sink::File(f) = &self.sink {
            // Never back: a record queued after one of the next period (two
            // threads, a clock step) joins the newer period's file.
            let period = match (f.period(t), self.batch_period) {
                (Some(p), Some(b)) => Some(p.max(b)),
                (p, _) => p,
            };
            if period != self.batch_period {
                self.write_out();
                self.batch_period = period;
            }
        }
    }

    /// Formats `ev` again, as long as fits in `max_record` bytes from
    /// `start`: string fields cut to the longest length that fits (the
    /// longest values lose most, short ones nothing), then the message, then
    /// the logger's fields left out. Level, time, target and the host fields
    /// are never cut; the line carries `log.truncated_bytes`.
    fn refit(&mut self, ev: &Event, start: usize) {
        let max = self.max_record;
        let fits = |out: &mut Out, cut: Cut| -> bool {
            let ok = out.format_with(ev, Some(cut)) && out.batch.len() - start <= max;
            out.cut(start);
            ok
        };
        let all = usize::MAX;
        let cut = if fits(
            self,
            Cut {
                field: 0,
                msg: all,
                logger: true,
            },
        ) {
            // The longest field limit that fits (0 fits).
            let (mut lo, mut hi) = (0, ev.longest_field());
            while lo < hi {
                let mid = lo + (hi - lo).div_ceil(2);
                if fits(
                    self,
                    Cut {
                        field: mid,
                        msg: all,
                        logger: true,
                    },
                ) {
                    lo = mid;
                } else {
                    hi = mid - 1;
                }
            }
            Cut {
                field: lo,
                msg: all,
                logger: true,
            }
        } else if fits(
            self,
            Cut {
                field: 0,
                msg: 0,
                logger: true,
            },
        ) {
            let (mut lo, mut hi) = (0, ev.message().len());
            while lo < hi {
                let mid = lo + (hi - lo).div_ceil(2);
                if fits(
                    self,
                    Cut {
                        field: 0,
                        msg: mid,
                        logger: true,
                    },
                ) {
                    lo = mid;
                } else {
                    hi = mid - 1;
                }
            }
            Cut {
                field: 0,
                msg: lo,
                logger: true,
            }
        } else {
            // The logger's fields alone are too long: left out.
            Cut {
                field: 0,
                msg: 0,
                logger: false,
            }
        };
        self.format_with(ev, Some(cut));
        self.truncated.fetch_add(1, Ordering::Relaxed);
    }

    /// Formats `ev` (cut as `cut` says) into the batch; false if a value
    /// panicked (nothing of the record is left in the batch).
    fn format_with(&mut self, ev: &Event, cut: Option<Cut>) -> bool {
        let before = self.batch.len();
        let batch = &mut self.batch;
        let replay = |f: &mut dyn FnMut(&slog::Record<'_>, &OwnedKVList)| match cut {
            None => ev.replay(|r, v| f(r, v)),
            Some(cut) => ev.replay_cut(cut, |r, v| f(r, v)),
        };
        let result = catch_unwind(AssertUnwindSafe(|| match &mut self.formatter {
            Formatter::Json(enc) => {
                replay(&mut |r, v| enc.encode(batch, r, v, ev.time, ev.trace.as_ref()))
            }
            #[cfg(feature = "otlp")]
            Formatter::Otlp(otlp) => replay(&mut |r, v| {
                otlp.encode(batch, r, v, ev.time, ev.trace.as_ref());
            }),
            Formatter::Term(drain, buf, banner) => {
                let mut failed = None;
                with_record_time(ev.time, || {
                    replay(&mut |r, v| {
                        if let Err(e) = term_log(&**drain, banner, r, v) {
                            failed = Some(e);
                        }
                    })
                });
                if let Some(e) = failed {
                    self.errors.failed(&e);
                }
                buf.move_into(batch);
            }
        }));
        if result.is_err() {
            // No half line: cut what the record had written so far.
            self.cut(before);
            if let Formatter::Term(_, buf, _) = &self.formatter {
                buf.move_into(&mut Vec::new());
            }
            self.errors
                .lost("a value of a log record panicked while it was formatted");
            return false;
        }
        true
    }

    /// Cuts the batch back to `len` bytes (and the OTLP units past it).
    fn cut(&mut self, len: usize) {
        self.batch.truncate(len);
        #[cfg(feature = "otlp")]
        if let Formatter::Otlp(o) = &mut self.formatter {
            while o.units.last().is_some_and(|u| u.record.end > len) {
                o.units.pop();
            }
        }
    }

    /// Formats a record made here (a report of `dropped` records, and why).
    fn format_report(&mut self, message: &str, dropped: u64, why: Option<&str>) {
        let empty = crate::record::event::no_values();
        let rs = slog::record_static!(Level::Warning, CRATE_TARGET);
        let now = SystemTime::now();
        self.enter_period(now);
        let (formatter, batch) = (&mut self.formatter, &mut self.batch);
        let mut log = |record: &slog::Record<'_>| match formatter {
            Formatter::Json(enc) => enc.encode(batch, record, empty, now, None),
            Formatter::Term(drain, buf, banner) => {
                let _ = with_record_time(now, || term_log(&**drain, banner, record, empty));
                buf.move_into(batch);
            }
            #[cfg(feature = "otlp")]
            Formatter::Otlp(otlp) => otlp.encode(batch, record, empty, now, None),
        };
        match why {
            None => log(&slog::Record::new(
                &rs,
                &format_args!("{message}"),
                slog::b!("dropped" => dropped),
            )),
            Some(why) => log(&slog::Record::new(
                &rs,
                &format_args!("{message}"),
                slog::b!("dropped" => dropped, "error" => why),
            )),
        }
        self.batch_records += 1;
    }

    /// Writes the batch with one write (one commit per record for files).
    fn write_out(&mut self) {
        if self.batch_records == 0 && self.batch.is_empty() {
            return;
        }
        #[cfg(feature = "otlp")]
        if let (Sink::Otlp(e), Formatter::Otlp(o)) = (&self.sink, &mut self.formatter) {
            // Copied into the exporter's queue: the batch keeps its memory.
            self.batch_records = 0;
            e.push(&self.batch, &o.units);
            o.units.clear();
            self.batch.clear();
            return;
        }
        let n = std::mem::take(&mut self.batch_records);
        let errors = &self.errors;
        let (sink, batch, period) = (&mut self.sink, &self.batch, self.batch_period);
        let accepted = &*self.accepted;
        // A writer of the application's may panic: the batch is then counted
        // as not written, and the writer (and every flush) goes on.
        let result = catch_unwind(AssertUnwindSafe(|| match sink {
            Sink::Stream(w) => {
                match write_counted(w.as_mut(), batch, accepted).and_then(|()| w.flush()) {
                    Ok(()) => (0, None),
                    Err(e) => (n, Some(e)),
                }
            }
            // Whole records, as few writes as rotation allows.
            Sink::File(f) => f.write_lines(batch, period),
            // Handed over as they are (the exporter counts what it drops).
            #[cfg(feature = "otlp")]
            Sink::Otlp(_) => (0, None),
        }))
        .unwrap_or_else(|_| (n, Some(io::Error::other("the output panicked"))));
        match result {
            (0, _) => errors.recovered(),
            (failed, e) => errors.failed_n(
                &e.unwrap_or_else(|| io::Error::other("write failed")),
                failed,
            ),
        }
        self.batch.clear();
        if self.batch.capacity() > 4 * MAX_BATCH_BYTES {
            self.batch.shrink_to(MAX_BATCH_BYTES);
        }
    }
}

impl Backend {
    /// Drains `queue` into the output; returns the records written.
    ///
    /// Bounded once `stop` is set (the guard is dropping): from then on it
    /// takes at most the events queued at that moment, so threads that keep
    /// logging cannot hold the guard's drop forever.
    fn drain(&mut self, queue: &Queue, stop: Option<&AtomicBool>) -> u64 {
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
        let dropped = queue.take_unreported();
        if dropped > 0 {
            self.format_report(dropped);
        }
        #[cfg(feature = "otlp")]
        self.report_export_drops();
        self.write_out();
        if let Some(t) = tickets {
            queue.flushed(t);
        }
        n
    }
}

/// An output a forked child cannot have (the parent's writer thread held
/// it at the fork, or it cannot be opened again).
fn discard(why: &str) -> Opened {
    crate::error::report(format_args!(
        "in a forked child, {why}: this process's records to it are discarded"
    ));
    Opened::Writer(Box::new(io::sink()))
}

/// A forked child's own pipeline: a writer without a thread (callers
/// write synchronously), its queue, its outputs opened again.
struct Child {
    writer: Arc<Writer>,
    sender: Sender,
}

/// The writer: its thread, the backend, and the synchronous fallback.
pub(crate) struct Writer {
    queue: Arc<Queue>,
    backend: Mutex<Backend>,
    /// The pipeline of a forked child, made by the first record it logs
    /// (this process is that child when its fork generation is not the
    /// queue's).
    child: ArcSwapOption<Child>,
    outputs: Outputs,
    stats: Arc<Stats>,
    /// Run by the writer thread on every poll (`LOG_FILTER_FILE`).
    tick: Mutex<Option<Tick>>,
    stop: AtomicBool,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// The OTLP outputs' exporters.
    #[cfg(feature = "otlp")]
    exporters: Vec<Arc<Exporter>>,
}

impl Writer {
    /// Builds the backend for `outputs` (at most [`MAX_OUTPUTS`]) and starts
    /// the writer thread named `name`.
    pub(crate) fn start(
        queue: Arc<Queue>,
        outputs: Vec<(Recipe, Opened)>,
        name: &str,
    ) -> Result<Arc<Writer>, Error> {
        if !crate::fork::watch() {
            return Err(Error::other(
                "cannot register the fork handler (pthread_atfork failed)",
            ));
        }
        let (specs, opened): (Vec<_>, Vec<_>) = outputs
            .into_iter()
            .map(|(recipe, output)| {
                let kind = match &output {
                    Opened::Stdout(_) => OutputKind::Stdout,
                    Opened::Stderr(_) => OutputKind::Stderr,
                    Opened::File(f) => OutputKind::File(f.config().clone()),
                    Opened::Writer(_) => OutputKind::Writer,
                    #[cfg(feature = "otlp")]
                    Opened::Otlp(_) | Opened::OtlpConfig(_) => OutputKind::Otlp,
                };
                ((recipe, kind), output)
            })
            .unzip();
        #[cfg(feature = "otlp")]
        let opened = opened
            .into_iter()
            .zip(&specs)
            .map(|(o, (recipe, _))| match o {
                Opened::OtlpConfig(c) => {
                    Exporter::start(*c, recipe.cache.clone()).map(Opened::Otlp)
                }
                o => Ok(o),
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let outputs = Outputs(specs);
        let stats = Arc::new(Stats::new(opened.len(), queue.accepted()));
        let writer = Arc::new(Writer::new(queue, outputs, opened, stats));
        let w = Arc::clone(&writer);
        let thread = std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || w.run())
            .map_err(|e| Error::io("cannot start the writer thread", &e))?;
        *writer.thread.lock().unwrap_or_else(PoisonError::into_inner) = Some(thread);
        Ok(writer)
    }

    fn new(queue: Arc<Queue>, outputs: Outputs, opened: Vec<Opened>, stats: Arc<Stats>) -> Writer {
        #[cfg(feature = "otlp")]
        let exporters = opened
            .iter()
            .filter_map(|o| match o {
                Opened::Otlp(e) => Some(Arc::clone(e)),
                _ => None,
            })
            .collect();
        Writer {
            #[cfg(feature = "otlp")]
            exporters,
            backend: Mutex::new(outputs.build(opened, &stats)),
            queue,
            child: ArcSwapOption::empty(),
            outputs,
            stats,
            tick: Mutex::new(None),
            stop: AtomicBool::new(false),
            thread: Mutex::new(None),
        }
    }

    /// The drain for the logging threads; it keeps this writer alive.
    pub(crate) fn sender(self: &Arc<Self>) -> Sender {
        let (writer, parent) = (Arc::clone(self), Arc::clone(self));
        Sender {
            queue: Arc::clone(&self.queue),
            write_now: Arc::new(Box::new(move || writer.drain_here())),
            for_child: Arc::new(move || parent.child_sender()),
            outputs: None,
            after_flush: self.after_flush(),
        }
    }

    /// What a flush waits for after the writer wrote everything: the
    /// exporters' export of it (true if all of it was exported).
    fn after_flush(self: &Arc<Self>) -> Option<AfterFlush> {
        #[cfg(feature = "otlp")]
        if !self.exporters.is_empty() {
            let w = Arc::clone(self);
            return Some(Arc::new(move || w.flush_exports() == 0));
        }
        None
    }

    /// Waits for every exporter to export what it holds, each at most its
    /// export timeout: the records not exported then.
    #[cfg(feature = "otlp")]
    pub(crate) fn flush_exports(&self) -> u64 {
        if self.forked() {
            return 0;
        }
        // One deadline for all: several exporters wait the longest export
        // timeout, not the sum.
        let longest = self.exporters.iter().map(|e| e.export_timeout()).max();
        let deadline = Instant::now() + longest.unwrap_or_default();
        self.exporters.iter().map(|e| e.flush(deadline)).sum()
    }

    /// Shuts the exporters down together, at most the longest export
    /// timeout: the records they dropped doing it.
    #[cfg(feature = "otlp")]
    fn shutdown_exports(&self) -> u64 {
        for e in &self.exporters {
            e.begin_shutdown();
        }
        self.exporters.iter().map(|e| e.finish_shutdown()).sum()
    }

    /// Records the exporters hold: queued, or in an export under way.
    pub(crate) fn unexported(&self) -> u64 {
        #[cfg(feature = "otlp")]
        if !self.forked() {
            return self.exporters.iter().map(|e| e.unexported()).sum();
        }
        0
    }

    /// The OTLP exporters' counters: records exported, records dropped.
    #[cfg(feature = "otlp")]
    pub(crate) fn export_counts(&self) -> (u64, u64) {
        self.exporters.iter().fold((0, 0), |(x, d), e| {
            (
                x + e.stats.exported.load(Ordering::Relaxed),
                d + e.stats.dropped.load(Ordering::Relaxed),
            )
        })
    }

    pub(crate) fn stats(&self) -> &Arc<Stats> {
        &self.stats
    }

    /// True in a forked child of the process that built this writer.
    fn forked(&self) -> bool {
        crate::fork::generation() != self.queue.born
    }

    /// The current child pipeline, if this process made one.
    fn current_child(&self) -> Option<Arc<Child>> {
        self.child
            .load_full()
            .filter(|c| c.writer.queue.born == crate::fork::generation())
    }

    /// In a forked child: the sender of this process's own pipeline, made
    /// on first use. It never touches the parent's queues, pool, backend or
    /// locks (a thread of the parent may have been inside them at the fork
    /// and does not exist here to finish). Its outputs are opened again:
    /// standard output and error as new descriptors, files by their path; a
    /// custom writer is taken over if no thread held it at the fork. The
    /// host snapshot gets this process's pid.
    fn child_sender(&self) -> Sender {
        let current = self.child.load_full();
        if let Some(c) = &current {
            if c.writer.queue.born == crate::fork::generation() {
                return c.sender.clone();
            }
        }
        let mut parent = self.backend.try_lock().ok();
        let opened = self
            .outputs
            .0
            .iter()
            .enumerate()
            .map(|(i, (_, kind))| match kind {
                OutputKind::Stdout => own_stream(true).map_or_else(
                    |_| discard("standard output cannot be duplicated"),
                    Opened::Stdout,
                ),
                OutputKind::Stderr => own_stream(false).map_or_else(
                    |_| discard("standard error cannot be duplicated"),
                    Opened::Stderr,
                ),
                OutputKind::File(c) => RotatingFile::open(c.clone(), "output file")
                    .map_or_else(|_| discard("the log file cannot be opened"), Opened::File),
                OutputKind::Writer => match parent.as_mut().map(|b| &mut b.outs[i].sink) {
                    Some(Sink::Stream(w)) => {
                        Opened::Writer(std::mem::replace(w, Box::new(io::sink())))
                    }
                    _ => discard("the writer thread held the custom writer at the fork"),
                },
                #[cfg(feature = "otlp")]
                OutputKind::Otlp => discard("OTLP export has no exporter thread"),
            })
            .collect();
        drop(parent);
        let queue = Arc::new(self.queue.like());
        queue.set_sync();
        let writer = Arc::new(Writer::new(
            queue,
            self.outputs.clone(),
            opened,
            Arc::clone(&self.stats),
        ));
        let sender = writer.sender();
        let made = Arc::new(Child {
            writer,
            sender: sender.clone(),
        });
        let before = self.child.compare_and_swap(&current, Some(made));
        let won = match (&*before, &current) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        };
        if !won {
            // Another thread of this child made it first.
            return self.child_sender();
        }
        if let Some((recipe, _)) = self.outputs.0.first() {
            recipe.cache.adopt_pid(std::process::id());
        }
        sender
    }

    fn run(&self) {
        self.queue.set_writer(std::thread::current());
        let mut last_record = Instant::now();
        loop {
            let started = Instant::now();
            let n = catch_unwind(AssertUnwindSafe(|| {
                self.backend
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .drain(&self.queue, Some(&self.stop))
            }))
            .unwrap_or_else(|_| {
                // Formatting catches panics per record; this is the output
                // itself. The thread must live on: callers wait for it.
                crate::error::report(format_args!("the log writer panicked; it goes on"));
                0
            });
            if self.stop.load(Ordering::Acquire) {
                return;
            }
            if let Ok(mut tick) = self.tick.try_lock() {
                if let Some(f) = tick.as_mut() {
                    let _ = catch_unwind(AssertUnwindSafe(f));
                }
            }
            if n > 0 {
                last_record = started;
            }
            if !self.queue.is_empty() {
                continue; // more arrived while writing: no sleep
            }
            if last_record.elapsed() >= QUIET_SPELL {
                self.queue.park(IDLE_POLL, true);
            } else {
                self.queue
                    .park(ACTIVE_POLL.saturating_sub(started.elapsed()), false);
            }
        }
    }

    /// The backend, locked, waiting at most [`FLUSH_TIMEOUT`] while another
    /// thread holds it (a writer stuck in a write): `None` then.
    fn lock_within(&self) -> Option<MutexGuard<'_, Backend>> {
        let since = Instant::now();
        let mut attempt = 0u32;
        loop {
            match self.backend.try_lock() {
                Ok(b) => return Some(b),
                Err(TryLockError::Poisoned(p)) => return Some(p.into_inner()),
                Err(TryLockError::WouldBlock) if since.elapsed() >= FLUSH_TIMEOUT => return None,
                Err(TryLockError::WouldBlock) => {
                    if attempt < 16 {
                        std::thread::yield_now();
                    } else {
                        std::thread::sleep(Duration::from_micros(100));
                    }
                    attempt = attempt.saturating_add(1);
                }
            }
        }
    }

    /// Sets what the writer thread runs on every poll (at least once per
    /// [`IDLE_POLL`]).
    pub(crate) fn on_tick(&self, f: Tick) {
        *self.tick.lock().unwrap_or_else(PoisonError::into_inner) = Some(f);
    }

    /// Writes everything queued, on the calling thread; false if the output
    /// stayed held by a stuck writer for [`FLUSH_TIMEOUT`]. Then the queue
    /// is marked stuck, and until a caller gets the output again each one
    /// only tries once (one wait per stall, not one per record).
    fn drain_here(&self) -> bool {
        self.drain_here_until(None)
    }

    /// [`drain_here`](Self::drain_here), bounded by `stop` as
    /// [`Backend::drain`] is.
    fn drain_here_until(&self, stop: Option<&AtomicBool>) -> bool {
        let backend = if self.queue.is_stuck() {
            match self.backend.try_lock() {
                Ok(b) => Some(b),
                Err(TryLockError::Poisoned(p)) => Some(p.into_inner()),
                Err(TryLockError::WouldBlock) => None,
            }
        } else {
            self.lock_within()
        };
        match backend {
            Some(mut backend) => {
                self.queue.set_stuck(false);
                let _ = catch_unwind(AssertUnwindSafe(|| backend.drain(&self.queue, stop)));
                true
            }
            None => {
                self.queue.set_stuck(true);
                false
            }
        }
    }

    /// Records logged but not written yet: queued, or in a write that has
    /// not returned.
    pub(crate) fn unwritten(&self) -> u64 {
        if self.forked() {
            return self.current_child().map_or(0, |c| c.writer.unwritten());
        }
        self.queue.records_queued() + self.stats.in_write.load(Ordering::Relaxed)
    }

    /// Writes everything queued, stops the thread, and switches callers to
    /// synchronous writes. Waits while the writer makes progress, and at
    /// most [`FLUSH_TIMEOUT`] without: an output that takes no write is
    /// left to its thread (detached), and the records it holds are returned
    /// as not written (and reported on stderr). In a forked child this
    /// stops the child's own pipeline, never the parent's.
    pub(crate) fn stop(&self) -> u64 {
        if self.forked() {
            return self.current_child().map_or(0, |c| c.writer.stop());
        }
        self.stop.store(true, Ordering::Release);
        let thread = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let mut stuck = false;
        if let Some(t) = thread {
            t.thread().unpark();
            let mut progress = (self.queue.progress(), Instant::now());
            while !t.is_finished() {
                std::thread::sleep(Duration::from_millis(1));
                let popped = self.queue.progress();
                if popped != progress.0 {
                    progress = (popped, Instant::now());
                } else if progress.1.elapsed() >= FLUSH_TIMEOUT {
                    stuck = true;
                    break;
                }
            }
            if !stuck {
                let _ = t.join();
            }
        }
        self.queue.set_sync();
        // The filter-file watcher holds a sender, which holds this writer.
        drop(
            self.tick
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        if !stuck && self.drain_here_until(Some(&self.stop)) {
            #[cfg(feature = "otlp")]
            if !self.exporters.is_empty() {
                let left = self.shutdown_exports();
                // The report of what the exporters dropped, into the lines.
                self.drain_here_until(Some(&self.stop));
                return left;
            }
            return 0;
        }
        // A stuck line output: the exporters still export what they hold
        // (bounded), and stop.
        #[cfg(feature = "otlp")]
        self.shutdown_exports();
        let unwritten = self.unwritten();
        crate::error::report(format_args!(
            "the log output took no write for {} s: {unwritten} records are not written \
             (its writer thread is left to finish them if it can)",
            FLUSH_TIMEOUT.as_secs()
        ));
        unwritten
    }
}
