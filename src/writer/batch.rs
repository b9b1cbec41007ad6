//! One output's batch (writer thread): the records formatted for that
//! output, its formatter, and its destination, written with one `write`.
//! The stages of an output: `Output` (its configuration) -> `Opened` ->
//! [`Batch`] -> [`Destination`] (a line output's [`Lane`], or the
//! exporter).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use slog::{Level, OwnedKVList};

use super::banner::{term_log, Banner};
use super::counters::{Stats, WriteErrors};
use super::lane::{Lane, Sink};
use crate::format::json::Encoder;
use crate::format::term::{term_drain, SharedBuf, TermDrain, TermHost};
use crate::format::timestamp::with_record_time;
use crate::format::Format;
use crate::host::cache::CacheRef;
use crate::host::schema::Schema;
#[cfg(feature = "otlp")]
use crate::otlp::{exporter::Exporter, record::RecordEncoder, request::Unit};
use crate::outputs::accepted::Accepted;
use crate::outputs::rotating_file::period_of;
use crate::outputs::Opened;
use crate::record::event::{Cut, Event};
use crate::record::own::CRATE_TARGET;
#[cfg(feature = "otlp")]
use crate::record::target::{in_crates, target, EXPORTER_CRATES};

/// A batch is written once it holds this many bytes.
pub(super) const MAX_BATCH_BYTES: usize = 1 << 20;

/// How records are turned into bytes.
pub(super) enum Formatter {
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
pub(super) struct Otlp {
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

/// Where the batch goes.
pub(super) enum Destination {
    /// A line output: its own buffer and thread.
    Lane(Arc<Lane>),
    /// The exporter takes the encoded records.
    #[cfg(feature = "otlp")]
    Otlp(Arc<Exporter>),
}

/// How an output's records are formatted: everything needed to build its
/// batch.
#[derive(Clone)]
pub(crate) struct FormatSpec {
    pub(crate) format: Format,
    pub(crate) color: bool,
    pub(crate) schema: Schema,
    pub(crate) source: bool,
    pub(crate) cache: CacheRef,
    /// Term formats: the host fields on every record instead of a banner.
    pub(crate) host_fields_per_record: bool,
    /// The longest record written, in bytes (`Builder::max_record_bytes`).
    pub(crate) max_record_bytes: usize,
    /// The bound of a line output's buffer, in bytes
    /// (`Builder::output_buffer`).
    pub(crate) output_buffer: usize,
    /// A full output buffer makes the writer wait (`Overflow::Block`)
    /// rather than drop.
    pub(crate) block: bool,
}

/// One output: its formatter, its sink and the batch between them.
pub(crate) struct Batch {
    pub(super) formatter: Formatter,
    pub(super) sink: Destination,
    pub(super) batch: Vec<u8>,
    /// Records in `batch`.
    pub(super) batch_records: u64,
    /// This output's write errors (shared with the guard).
    pub(super) errors: Arc<WriteErrors>,
    /// The longest line written (`max_record_bytes`), `\n` included.
    pub(super) max_record: usize,
    /// Records cut to `max_record` (shared with the guard).
    pub(super) truncated: Arc<AtomicU64>,
    /// A file rotated by time: how often, and the period of the records
    /// in `batch`.
    pub(super) rotate_every: Option<Duration>,
    pub(super) batch_period: Option<u64>,
}

impl FormatSpec {
    pub(super) fn build(&self, output: Opened, errors: Arc<WriteErrors>, stats: &Stats) -> Batch {
        let truncated = Arc::clone(&stats.truncated);
        let rotate_every = match &output {
            Opened::File(f) => f.config().rotate_every,
            _ => None,
        };
        let lane = |output: Opened| {
            let (label, sink) = match output {
                Opened::Stdout(f) => ("stdout".to_owned(), Sink::Stream(Box::new(f))),
                Opened::Stderr(f) => ("stderr".to_owned(), Sink::Stream(Box::new(f))),
                Opened::File(f) => (format!("file {}", f.config().path.display()), Sink::File(f)),
                Opened::Writer(w) => ("writer".to_owned(), Sink::Stream(w)),
                // Started by `Writer::start`.
                #[cfg(feature = "otlp")]
                Opened::Otlp(_) | Opened::OtlpConfig(_) => {
                    ("otlp".to_owned(), Sink::Stream(Box::new(std::io::sink())))
                }
            };
            let accepted = Accepted::new(Arc::clone(&stats.accepted));
            Destination::Lane(Arc::new(Lane::new(
                label,
                sink,
                self.output_buffer,
                self.block,
                accepted,
                Arc::clone(&errors),
            )))
        };
        let (formatter, sink) = match (self.format, output) {
            #[cfg(feature = "otlp")]
            (_, Opened::Otlp(exporter)) => (
                Formatter::Otlp(Box::new(Otlp {
                    enc: RecordEncoder::new(exporter.json(), self.source),
                    units: Vec::new(),
                    cache: self.cache.clone(),
                })),
                Destination::Otlp(exporter),
            ),
            (Format::Json, output) => (
                Formatter::Json(Box::new(Encoder::new(
                    self.schema,
                    self.source,
                    Some(self.cache.clone()),
                ))),
                lane(output),
            ),
            (format, output) => {
                let buf = SharedBuf::default();
                let colors = self.color && output.is_terminal();
                (self.term(format, colors, buf.clone()), lane(output))
            }
        };
        Batch {
            formatter,
            sink,
            batch: Vec::with_capacity(64 * 1024),
            batch_records: 0,
            errors,
            max_record: self.max_record_bytes,
            truncated,
            rotate_every,
            batch_period: None,
        }
    }

    pub(super) fn term(&self, format: Format, colors: bool, buf: SharedBuf) -> Formatter {
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

impl Batch {
    /// Formats one event into the batch, cut to `max_record` bytes.
    pub(super) fn format(&mut self, ev: &Event) {
        #[cfg(feature = "otlp")]
        if matches!(self.formatter, Formatter::Otlp(_)) && in_crates(ev.target(), EXPORTER_CRATES) {
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
    pub(super) fn enter_period(&mut self, t: SystemTime) {
        if let Some(every) = self.rotate_every {
            // Never back: a record queued after one of the next period (two
            // threads, a clock step) joins the newer period's file.
            let period = match (Some(period_of(t, every)), self.batch_period) {
                (Some(p), Some(b)) => Some(p.max(b)),
                (p, _) => p,
            };
            if period != self.batch_period {
                self.write_out();
                self.batch_period = period;
            }
        }
    }

    /// Formats `ev` (cut as `cut` says) into the batch; false if a value
    /// panicked (nothing of the record is left in the batch).
    pub(super) fn format_with(&mut self, ev: &Event, cut: Option<Cut>) -> bool {
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
    pub(super) fn cut(&mut self, len: usize) {
        self.batch.truncate(len);
        #[cfg(feature = "otlp")]
        if let Formatter::Otlp(o) = &mut self.formatter {
            while o.units.last().is_some_and(|u| u.record.end > len) {
                o.units.pop();
            }
        }
    }

    /// Formats a record made here: a report of `dropped` records, why, and
    /// which `output` dropped them.
    pub(super) fn format_report(
        &mut self,
        message: &str,
        dropped: u64,
        why: Option<&str>,
        output: Option<&str>,
    ) {
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
        let msg = format_args!("{message}");
        match (why, output) {
            (None, _) => log(&slog::Record::new(
                &rs,
                &msg,
                slog::b!("dropped" => dropped),
            )),
            (Some(why), None) => log(&slog::Record::new(
                &rs,
                &msg,
                slog::b!("dropped" => dropped, "error" => why),
            )),
            (Some(why), Some(output)) => log(&slog::Record::new(
                &rs,
                &msg,
                slog::b!("dropped" => dropped, "error" => why, "output" => output),
            )),
        }
        self.batch_records += 1;
    }

    /// Hands the batch to its output (the lane's thread writes it, one
    /// write; whole lines for files).
    pub(super) fn write_out(&mut self) {
        if self.batch_records == 0 && self.batch.is_empty() {
            return;
        }
        let n = std::mem::take(&mut self.batch_records);
        match &self.sink {
            #[cfg(feature = "otlp")]
            Destination::Otlp(e) => {
                // Copied into the exporter's queue: the batch keeps its memory.
                if let Formatter::Otlp(o) = &mut self.formatter {
                    e.push(&self.batch, &o.units);
                    o.units.clear();
                }
                self.batch.clear();
            }
            Destination::Lane(lane) => lane.push(&mut self.batch, n, self.batch_period),
        }
    }

    /// The output's lane (a line output).
    pub(super) fn lane(&self) -> Option<&Arc<Lane>> {
        match &self.sink {
            Destination::Lane(l) => Some(l),
            #[cfg(feature = "otlp")]
            Destination::Otlp(_) => None,
        }
    }
}
