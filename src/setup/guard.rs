//! [`LogGuard`](crate::LogGuard): the running pipeline, what it counts, and
//! its orderly stop when dropped (on the thread that drops it).

use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use slog::Logger;

use crate::caller::filter::LiveFilter;
use crate::caller::filter_change::{FilterControl, FilterHandle};
use crate::caller::flood::FloodStats;
use crate::caller::sender::Sender;
use crate::error::Error;
use crate::host::cache::CacheRef;
use crate::host::refresher::Refresher;
use crate::host::HostCache;
use crate::writer::thread::Writer;

/// The running pipeline. Keep it alive for the life of the service.
///
/// Dropping it stops the host refresher and the flood guard's timer (their
/// pending summaries are written), writes every record still queued, and
/// stops the writer thread. Logging keeps working afterwards: the global
/// logger, the `log` bridge and the panic hook stay installed, and records
/// logged after the drop (through them or a clone of
/// [`logger`](Self::logger)) are written synchronously, on the calling
/// thread, before `log` returns; the host metadata is no longer refreshed
/// and floods are no longer suppressed.
#[must_use = "dropping the guard stops the writer thread, the host refresher and the flood \
              guard: every later record is written synchronously on the calling thread, \
              with host metadata no longer refreshed; keep it until shutdown \
              (`let _guard = ...`)"]
pub struct LogGuard {
    pub(super) logger: Logger,
    #[cfg_attr(not(feature = "tracing"), allow(dead_code))]
    pub(super) directives: Arc<LiveFilter>,
    pub(super) filter: Arc<FilterControl>,
    pub(super) cache: CacheRef,
    pub(super) sender: Sender,
    pub(super) writer: Arc<Writer>,
    pub(super) flood: Option<FloodStats>,
    pub(super) refresher: Option<Refresher>,
    pub(super) global: bool,
}

impl fmt::Debug for LogGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogGuard")
            .field("global", &self.global)
            .field("write_errors", &self.write_errors())
            .finish_non_exhaustive()
    }
}

impl LogGuard {
    /// The root logger.
    pub fn logger(&self) -> &Logger {
        &self.logger
    }

    /// A [`tracing_subscriber::Layer`] that feeds this pipeline, for a
    /// service that builds its own `tracing` subscriber (with
    /// [`Builder::tracing(false)`](crate::Builder::tracing)) to run beside other
    /// layers: tracing-opentelemetry, console-subscriber, Sentry, a `fmt`
    /// layer.
    ///
    /// Its filter is this pipeline's directives, as a per-layer filter: the
    /// other layers keep their own filters and see every event those allow.
    /// Each event is written as the built-in subscriber writes it (typed
    /// fields, the fields of its spans, target, flood guard), and slog and
    /// `log` records logged inside a span it saw entered carry that span's
    /// fields too (with a `tracing_subscriber::Registry` as the span store).
    ///
    /// ```no_run
    /// use tracing_subscriber::layer::SubscriberExt;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let guard = slog_host::Builder::from_env()?.tracing(false).init()?;
    /// guard.install_tracing(
    ///     tracing_subscriber::registry().with(guard.tracing_layer()),
    ///     // .with(tracing_opentelemetry::layer().with_tracer(tracer))
    /// )?;
    /// tracing::info!(order_id = 7, "served");
    /// log::info!(order_id = 7; "and `log` records, key-values included");
    /// # Ok(()) }
    /// ```
    ///
    /// With `tracing(false)`, [`init`](crate::Builder::init) leaves the `log`
    /// crate to the service: [`install_tracing`](Self::install_tracing) keeps
    /// this crate's `log` bridge (key-values typed); tracing-subscriber's
    /// `init`/`try_init` installs tracing-log's `LogTracer` instead, and `log`
    /// records reach this layer as events, each once, without their
    /// key-values. A service that installs its subscriber another way calls
    /// `tracing_log::LogTracer::init()` itself, or its `log` records are not
    /// written.
    #[cfg(feature = "tracing")]
    pub fn tracing_layer<S>(&self) -> crate::caller::bridges::tracing::TracingLayer<S>
    where
        S: tracing_core::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    {
        crate::caller::bridges::tracing::layer(self.logger.clone(), Arc::clone(&self.directives))
    }

    /// Sets `subscriber` (a registry with [`tracing_layer`](Self::tracing_layer)
    /// and the service's other layers) as the global `tracing` subscriber,
    /// and makes this crate's `log` bridge the `log` logger: `log` records
    /// keep their key-values, typed (`log::info!(amount_cents = 1234; "..")`),
    /// and still reach the subscriber's other layers, as tracing-log's
    /// `LogTracer` would send them (this crate's layer does not write them
    /// twice). For a pipeline built with [`Builder::tracing(false)`](crate::Builder::tracing)
    /// (and `global(true)`, the default).
    ///
    /// tracing-subscriber's own `init()` works too, but the `LogTracer` it
    /// installs drops `log`'s key-values (tokio-rs/tracing#3355).
    ///
    /// ```no_run
    /// use tracing_subscriber::layer::SubscriberExt;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let guard = slog_host::Builder::from_env()?.tracing(false).init()?;
    /// guard.install_tracing(
    ///     tracing_subscriber::registry().with(guard.tracing_layer()), // .with(otel_layer)
    /// )?;
    /// log::info!(order_id = 7, approved = true; "payment authorized"); // typed fields
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "tracing")]
    pub fn install_tracing(
        &self,
        subscriber: impl Into<tracing_core::Dispatch>,
    ) -> Result<(), Error> {
        if !self.global {
            return Err(Error::other(
                "install_tracing sets the process's tracing subscriber and `log` logger: it needs \
                 the global pipeline (Builder::global(true), the default)",
            ));
        }
        tracing_core::dispatcher::set_global_default(subscriber.into()).map_err(|_| {
            Error::other(
                "a global tracing subscriber is already set (init() sets one unless \
                 Builder::tracing(false))",
            )
        })?;
        crate::caller::bridges::log::install_with_echo(crate::caller::bridges::log::LogBridge {
            logger: self.logger.clone(),
            directives: Arc::clone(&self.directives),
        })
    }

    /// Replaces the level directives (`RUST_LOG` syntax) at once for slog,
    /// `log` and `tracing` records, and for every output without a filter of
    /// its own. A record logged before the call was judged by the old
    /// directives, one logged after by the new (tracing's per-call-site
    /// interest and `log`'s maximum level are brought up to date before it
    /// returns). Writes one INFO record, `log filter changed`, with `from`
    /// and `to`. An invalid string is an [`Error`] naming the value, and the
    /// directives in force stay.
    ///
    /// It cannot show what the compiler removed: slog's `trace!` (and
    /// `debug!` in release builds) are compiled out unless a `max_level_*`
    /// feature keeps them ([`docs::limits`](crate::docs::limits)).
    ///
    /// ```
    /// # fn main() -> Result<(), slog_host::Error> {
    /// let guard = slog_host::Builder::new().global(false).init()?;
    /// guard.set_filter("info,my_app::db=debug")?;      // for the incident
    /// assert_eq!(guard.filter(), "info,my_app::db=debug");
    /// assert!(guard.set_filter("info,db=loud").is_err()); // the old one stays
    /// guard.set_filter("info")?;
    /// # Ok(()) }
    /// ```
    pub fn set_filter(&self, directives: &str) -> Result<(), Error> {
        self.filter.set("filter", directives)
    }

    /// A handle to read and change the directives without the guard
    /// (`Clone + Send + Sync`): for an admin endpoint or a handler, so the
    /// guard itself stays in `main` and drops at shutdown.
    pub fn filter_handle(&self) -> FilterHandle {
        FilterHandle(Arc::clone(&self.filter))
    }

    /// The level directives in force (as given to
    /// [`Builder::filter`](crate::Builder::filter), `RUST_LOG`, `LOG_FILTER_FILE` or
    /// [`set_filter`](Self::set_filter)).
    pub fn filter(&self) -> String {
        self.filter.current().as_str().to_owned()
    }

    /// The host cache the pipeline enriches from.
    pub fn cache(&self) -> &HostCache {
        &self.cache
    }

    /// Returns once every record logged before the call is written to the
    /// output (or counted as a write error), and the output is flushed: 0.
    /// The same as `guard.logger().flush()`.
    ///
    /// Bounded: the lines first, each output while it takes bytes, at most
    /// [`FLUSH_TIMEOUT`](crate::pipeline::FLUSH_TIMEOUT) (5 s) without and
    /// [`LINES_BOUND`](crate::pipeline::LINES_BOUND) (15 s) in all; then
    /// the OTLP export, at most the
    /// [`shutdown_timeout`](crate::Builder::shutdown_timeout) (5 s; not
    /// again while the collector stays unreachable). Past a bound it
    /// returns the number of records not written or exported yet (records
    /// other threads logged meanwhile included). They stay queued: a later
    /// flush or the guard's drop tries again.
    pub fn flush(&self) -> u64 {
        if self.sender.flush() {
            0
        } else {
            (self.writer.unwritten() + self.writer.unexported()).max(1)
        }
    }

    /// Records the OTLP exporters delivered to the collector (feature
    /// `otlp`; [`docs::otlp`](crate::docs::otlp)).
    #[cfg(feature = "otlp")]
    #[cfg_attr(docsrs, doc(cfg(feature = "otlp")))]
    pub fn exported(&self) -> u64 {
        self.writer.export_counts().0
    }

    /// Records the OTLP exporters dropped: the export queue was full, the
    /// collector refused them (a status other than 429, 502, 503, 504), or
    /// the export timeout passed at shutdown. Each drop is also reported in
    /// the line outputs ([`EXPORT_DROPPED_MESSAGE`](crate::otlp::EXPORT_DROPPED_MESSAGE)).
    #[cfg(feature = "otlp")]
    #[cfg_attr(docsrs, doc(cfg(feature = "otlp")))]
    pub fn export_dropped(&self) -> u64 {
        self.writer.export_counts().1
    }

    /// Records handed to the outputs so far (each once, however many outputs
    /// it went to), reports included: after a [`flush`](Self::flush) that
    /// returned 0, written (or counted as write errors).
    pub fn written(&self) -> u64 {
        self.writer.stats().written.load(Ordering::Acquire)
    }

    /// Records that could not be written because the output failed.
    pub fn write_errors(&self) -> u64 {
        self.writer.stats().errors.iter().map(|e| e.count()).sum()
    }

    /// True while the output is failing (from the first failed write to the
    /// next successful one).
    pub fn output_failing(&self) -> bool {
        self.writer.stats().errors.iter().any(|e| e.failing())
    }

    /// The most recent output error, if any.
    pub fn last_write_error(&self) -> Option<String> {
        // An output failing now first: its error is the one that matters.
        let errors = &self.writer.stats().errors;
        errors
            .iter()
            .filter(|e| e.failing())
            .chain(errors.iter())
            .find_map(|e| e.last())
    }

    /// Records the flood guard dropped (each is counted in a summary record).
    pub fn suppressed(&self) -> u64 {
        self.flood.as_ref().map_or(0, FloodStats::suppressed)
    }

    /// Records cut to [`Builder::max_record_bytes`](crate::Builder::max_record_bytes) (once per output that
    /// cut them).
    pub fn truncated(&self) -> u64 {
        self.writer.stats().truncated.load(Ordering::Relaxed)
    }

    /// Records dropped because the queue between the callers and the
    /// writer thread was full (only with
    /// [`Overflow::DropAndReport`](crate::Overflow::DropAndReport)): lost
    /// for every output. Each drop is also reported in the outputs
    /// ([`OVERFLOW_MESSAGE`](crate::format::OVERFLOW_MESSAGE)).
    pub fn dropped(&self) -> u64 {
        self.sender.queue.dropped()
    }

    /// For each line output, in the order they were given (the
    /// [`output`](crate::Builder::output), then each
    /// [`tee`](crate::Builder::tee); OTLP outputs left out: see
    /// [`export_dropped`](Self::export_dropped)), its name (`stdout`,
    /// `stderr`, `file <path>`, `writer`) and the records it dropped because
    /// its own buffer was full ([`Builder::output_buffer`](crate::Builder::output_buffer)).
    /// Each drop is also reported on the other outputs, at most once a
    /// second ([`OUTPUT_DROPPED_MESSAGE`](crate::format::OUTPUT_DROPPED_MESSAGE)).
    pub fn output_dropped(&self) -> Vec<(String, u64)> {
        self.writer.output_dropped()
    }
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        // Order matters: no new change notices, the flood summaries into the
        // queue, then drain the queue and stop the writer thread.
        drop(self.refresher.take());
        if let Some(flood) = &self.flood {
            flood.stop(); // writes the pending summaries
        }
        // This thread writes what is queued: a panic in a value's formatting
        // is not logged by the panic hook (the output is held here).
        let _busy = crate::record::thread_role::Busy::enter();
        self.writer.stop();
    }
}
