//! `tracing` into the pipeline: [`TracingLayer`], a `tracing_subscriber`
//! layer with this pipeline's directives as its own, per-layer filter.
//!
//! Each event becomes one record: its fields as typed fields, its message as
//! the message, level, target, file and line from its metadata, and the
//! fields of the spans it is inside, outermost first (a key given twice keeps
//! the innermost value, written once: the event's own, then the nearest
//! span's). Spans are never records of their own. The record goes through
//! the root logger, so it meets the flood guard (keyed by the call site's
//! file, line and target) and the queue like any other.
//!
//! The filter is a per-layer filter ([`Filtered`]): a call site it disables
//! is disabled for this layer only, so other layers on the same registry
//! (tracing-opentelemetry, a `fmt` layer, console, Sentry) keep their own
//! levels. A call site that no layer wants gets `Interest::never` from the
//! registry and costs tracing's cached interest check and nothing else.
//!
//! `log` records that reach `tracing` through `tracing-log`'s `LogTracer`
//! (what `SubscriberInitExt::init` installs) are records of their own `log`
//! target, file and line, as if the `log` bridge had taken them.
//!
//! Records logged through slog or `log` while a span is entered on the
//! calling thread carry the fields of that span and its parents, by the same
//! rules (see `span_fields`).

use std::fmt;
use std::sync::Arc;

use slog::{Level, Logger};
use tracing_core::field::{Field, Visit};
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::subscriber::Interest;
use tracing_core::{Event as TracingEvent, Metadata, Subscriber};
use tracing_subscriber::filter::Filtered;
use tracing_subscriber::layer::{Context, Filter};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Registry;

use super::rules::{excluded_log_target, is_tracing_callsite, location, remember};
use super::span_fields::{self, SpanFields};
use crate::caller::capture::with_scratch;
use crate::caller::filter::LiveFilter;
use crate::intern::intern;
use crate::record::event::{Event, FieldIn, Value};

/// A [`tracing_subscriber::Layer`] that feeds this crate's pipeline, filtered
/// per layer by the pipeline's directives: what
/// [`LogGuard::tracing_layer`](crate::LogGuard::tracing_layer) returns and
/// what the default [`init`](crate::init) installs on a `Registry`.
///
/// `S` is the subscriber it is added to, inferred where it is added:
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt;
///
/// # fn main() -> Result<(), slog_host::Error> {
/// let guard = slog_host::Builder::new().global(false).init()?;
/// let subscriber = tracing_subscriber::registry().with(guard.tracing_layer());
/// tracing::subscriber::with_default(subscriber, || tracing::info!(order_id = 7, "served"));
/// # Ok(()) }
/// ```
///
/// It keeps each span's fields in the span's registry extensions, so it
/// needs a subscriber with a span store (`S: LookupSpan`): a
/// `tracing_subscriber::Registry` for slog and `log` records to carry span
/// fields too.
pub type TracingLayer<S = Registry> = Filtered<Events, EventFilter, S>;

/// The layer inside [`TracingLayer`]: turns events into records.
pub struct Events {
    logger: Logger,
}

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Events").finish_non_exhaustive()
    }
}

/// The per-layer filter inside [`TracingLayer`]: the pipeline's directives
/// in force (a change by `LogGuard::set_filter` rebuilds tracing's interest
/// cache).
#[derive(Debug, Clone)]
pub struct EventFilter {
    directives: Arc<LiveFilter>,
}

/// True once `testing::capture_all` set the global tracing subscriber (for
/// `init()`'s error when it cannot set its own).
pub(crate) static CAPTURE_ROUTER: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// A [`TracingLayer`] that logs through `logger` (the pipeline's root, which
/// filters slog records by the same directives) and is filtered by
/// `directives`.
pub(crate) fn layer<S>(logger: Logger, directives: Arc<LiveFilter>) -> TracingLayer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    Filtered::new(Events { logger }, EventFilter { directives })
}

fn level(l: &tracing_core::Level) -> Level {
    match *l {
        tracing_core::Level::ERROR => Level::Error,
        tracing_core::Level::WARN => Level::Warning,
        tracing_core::Level::INFO => Level::Info,
        tracing_core::Level::DEBUG => Level::Debug,
        _ => Level::Trace,
    }
}

/// True for a `log` record that tracing-log dispatches: its call sites are
/// named `log event` (the event) and `log record` (what `enabled` sees), and
/// carry `log.target`. A field named so on an ordinary event is a field.
fn is_log_record(meta: &Metadata<'_>) -> bool {
    matches!(meta.name(), "log event" | "log record") && meta.fields().field(LOG_TARGET).is_some()
}

const LOG_TARGET: &str = "log.target";
const LOG_MODULE: &str = "log.module_path";
const LOG_FILE: &str = "log.file";
const LOG_LINE: &str = "log.line";

/// Writes an event's fields into a scratch event; for a `log` record from
/// tracing-log (`log`), its `log.*` fields are its origin.
struct Fields<'a>(&'a mut Event, bool);

impl Fields<'_> {
    fn text(&mut self, field: &Field, value: fmt::Arguments<'_>) {
        if field.name() == "message" {
            self.0.set_message(value);
        } else {
            self.0.push(field.name(), FieldIn::Fmt(value));
        }
    }
}

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.text(field, format_args!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.0.set_message(format_args!("{value}")),
            // A `log` record through tracing-log: its origin, not fields.
            LOG_TARGET if self.1 => self.0.set_tag(value),
            LOG_MODULE if self.1 => {
                self.0.location.module = intern(value).unwrap_or("<unknown>");
            }
            LOG_FILE if self.1 => self.0.location.file = intern(value).unwrap_or("<unknown>"),
            name => self.0.push(name, FieldIn::Str(value)),
        }
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.push(field.name(), FieldIn::Plain(Value::I64(value)));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        if self.1 && field.name() == LOG_LINE {
            self.0.location.line = u32::try_from(value).unwrap_or(u32::MAX);
            return;
        }
        self.0.push(field.name(), FieldIn::Plain(Value::U64(value)));
    }
    fn record_i128(&mut self, field: &Field, value: i128) {
        self.0
            .push(field.name(), FieldIn::Plain(Value::I128(value)));
    }
    fn record_u128(&mut self, field: &Field, value: u128) {
        self.0
            .push(field.name(), FieldIn::Plain(Value::U128(value)));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.push(field.name(), FieldIn::Plain(Value::F64(value)));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0
            .push(field.name(), FieldIn::Plain(Value::Bool(value)));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.text(field, format_args!("{value}"));
    }
}

impl EventFilter {
    fn enabled_for(&self, meta: &Metadata<'_>) -> bool {
        self.directives.enabled(level(meta.level()), meta.target())
            && !(is_log_record(meta)
                && (excluded_log_target(level(meta.level()), meta.target())
                    // Written by the `log` bridge already (`install_tracing`).
                    || super::log::echoing()))
    }
}

impl<S> Filter<S> for EventFilter {
    fn enabled(&self, meta: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        self.enabled_for(meta)
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> Interest {
        if let (Some(file), Some(line)) = (meta.file(), meta.line()) {
            remember(file, line);
        }
        if is_log_record(meta) {
            // One call site per level for every `log` record: the record's
            // own target decides, in `enabled`.
            Interest::sometimes()
        } else if self.enabled_for(meta) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn max_level_hint(&self) -> Option<tracing_core::LevelFilter> {
        use slog::FilterLevel as F;
        Some(match self.directives.max_level() {
            F::Off => tracing_core::LevelFilter::OFF,
            F::Critical | F::Error => tracing_core::LevelFilter::ERROR,
            F::Warning => tracing_core::LevelFilter::WARN,
            F::Info => tracing_core::LevelFilter::INFO,
            F::Debug => tracing_core::LevelFilter::DEBUG,
            F::Trace => tracing_core::LevelFilter::TRACE,
        })
    }
}

/// The span context node this layer keeps in a span's extensions.
fn node_of<'a, R: LookupSpan<'a>>(
    span: &tracing_subscriber::registry::SpanRef<'a, R>,
) -> Option<Arc<span_fields::SpanNode>> {
    span.extensions()
        .get::<Arc<span_fields::SpanNode>>()
        .cloned()
}

impl<S> tracing_subscriber::Layer<S> for Events
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields = SpanFields::default();
        attrs.record(&mut fields);
        // The parent's node: the span entered on this thread for a
        // contextual span (no registry lock), else the explicit parent's.
        let parent = if attrs.is_root() {
            None
        } else if attrs.is_contextual() {
            span_fields::current()
        } else {
            span.parent().and_then(|p| node_of(&p))
        };
        span.extensions_mut()
            .insert(span_fields::SpanNode::new(fields, parent));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        // Visit before any lock is taken: a value's `Debug` may log.
        let mut new = SpanFields::default();
        values.record(&mut new);
        let node = span_fields::entered_node(id.into_u64())
            .or_else(|| ctx.span(id).and_then(|span| node_of(&span)));
        if let Some(node) = node {
            node.record(new);
        }
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        if let Some(node) = ctx.span(id).and_then(|span| node_of(&span)) {
            span_fields::enter(id.into_u64(), node);
        }
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        // Left on a thread that had not entered it (entered on another, the
        // span moved): off every thread's stack. Only then the registry is
        // asked.
        if !span_fields::exit(id.into_u64()) {
            if let Some(node) = ctx.span(id).and_then(|span| node_of(&span)) {
                span_fields::left_elsewhere(&node);
            }
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if let Some(node) = ctx.span(&id).and_then(|span| node_of(&span)) {
            span_fields::left_elsewhere(&node);
        }
    }

    fn on_event(&self, event: &TracingEvent<'_>, ctx: Context<'_, S>) {
        super::log::report_if_log_is_unset();
        let meta = event.metadata();
        let location = location(meta.file(), meta.line(), meta.target());
        let log = is_log_record(meta);
        with_scratch(|ev| {
            ev.begin(level(meta.level()), location, "");
            event.record(&mut Fields(ev, log));
            // tracing's own `log` echo of an event or span (`log-always`),
            // back through tracing-log: the event itself is written.
            if log && is_tracing_callsite(Some(ev.location.file), Some(ev.location.line)) {
                return;
            }
            // The spans' fields: for a contextual event, those of the span
            // entered on this thread (no registry lock: another layer may
            // hold one while a value it formats logs).
            if event.is_contextual() {
                span_fields::push_current_span_fields(ev);
            } else if let Some(parent) = event.parent().and_then(|id| ctx.span(id)) {
                if let Some(node) = node_of(&parent) {
                    node.push_fields(ev);
                }
            }
            ev.replay(|record, _| self.logger.log(record));
        });
    }
}
