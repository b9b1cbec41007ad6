//! `tracing` events into the pipeline: a `tracing_subscriber::Layer` on a
//! `Registry`.
//!
//! Each event becomes one record: its fields as typed fields, its message as
//! the message, level, target, file and line from its metadata, and the
//! fields of the spans it is inside, outermost first (a key given twice keeps
//! the innermost value, written once: the event's own, then the nearest
//! span's). It is filtered by the same directives as slog and `log` records:
//! a call site the directives disable gets `Interest::never`, so a disabled
//! event costs tracing's cached interest check and nothing else. Spans are
//! never records of their own. The record goes through the root logger, so it
//! meets the flood guard (keyed by the call site's file, line and target)
//! and the queue like any other.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, OnceLock};

use arc_swap::ArcSwap;
use slog::{Level, Logger, RecordLocation};
use tracing_core::field::{Field, Visit};
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::subscriber::Interest;
use tracing_core::{Event as TracingEvent, Metadata, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use super::capture::{with_scratch, Event, FieldIn, Value};
use super::filter::Directives;

/// The layer `init()` installs on a `Registry` as the global subscriber.
pub(crate) struct TracingLayer {
    pub(crate) logger: Logger,
    pub(crate) directives: Arc<Directives>,
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

/// The file and line of every tracing call site (events and spans) this
/// layer has seen, so the `log` bridge can drop the `log` echoes that
/// `tracing/log-always` sends for them (before the event is dispatched, so
/// no per-event marker could catch them). Written once per call site, read
/// per bridged `log` record: an atomic load and a hash lookup.
static CALLSITES: OnceLock<ArcSwap<HashMap<u32, Vec<&'static str>>>> = OnceLock::new();

fn callsites() -> &'static ArcSwap<HashMap<u32, Vec<&'static str>>> {
    CALLSITES.get_or_init(|| ArcSwap::from_pointee(HashMap::new()))
}

fn remember(meta: &'static Metadata<'static>) {
    let (Some(file), Some(line)) = (meta.file(), meta.line()) else {
        return;
    };
    callsites().rcu(|map| {
        let mut map = HashMap::clone(map);
        let files = map.entry(line).or_default();
        if !files.contains(&file) {
            files.push(file);
        }
        map
    });
}

/// True if `file:line` is a tracing call site: a `log` record from there is
/// tracing's own echo of an event or span this layer records (or filters).
pub(crate) fn is_tracing_callsite(file: Option<&str>, line: Option<u32>) -> bool {
    let (Some(file), Some(line)) = (file, line) else {
        return false;
    };
    let Some(map) = CALLSITES.get() else {
        return false;
    };
    map.load()
        .get(&line)
        .is_some_and(|files| files.contains(&file))
}

/// A span's fields, kept in its registry extensions.
#[derive(Default)]
struct SpanFields(Vec<(&'static str, Owned)>);

enum Owned {
    Str(String),
    Plain(Value),
}

impl SpanFields {
    fn set(&mut self, key: &'static str, value: Owned) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
    }
}

impl Visit for SpanFields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.set(field.name(), Owned::Str(format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.set(field.name(), Owned::Str(value.to_owned()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.set(field.name(), Owned::Plain(Value::I64(value)));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.set(field.name(), Owned::Plain(Value::U64(value)));
    }
    fn record_i128(&mut self, field: &Field, value: i128) {
        self.set(field.name(), Owned::Plain(Value::I128(value)));
    }
    fn record_u128(&mut self, field: &Field, value: u128) {
        self.set(field.name(), Owned::Plain(Value::U128(value)));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.set(field.name(), Owned::Plain(Value::F64(value)));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.set(field.name(), Owned::Plain(Value::Bool(value)));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.set(field.name(), Owned::Str(value.to_string()));
    }
}

/// Writes an event's fields into a scratch event.
struct Fields<'a>(&'a mut Event);

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
        if field.name() == "message" {
            self.0.set_message(format_args!("{value}"));
        } else {
            self.0.push(field.name(), FieldIn::Str(value));
        }
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.push(field.name(), FieldIn::Plain(Value::I64(value)));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
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

impl TracingLayer {
    fn enabled_for(&self, meta: &Metadata<'_>) -> bool {
        self.directives.enabled(level(meta.level()), meta.target())
    }
}

impl<S> tracing_subscriber::Layer<S> for TracingLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        remember(meta);
        if self.enabled_for(meta) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, meta: &Metadata<'_>, _: Context<'_, S>) -> bool {
        self.enabled_for(meta)
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

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields = SpanFields::default();
        attrs.record(&mut fields);
        span.extensions_mut().insert(fields);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        // Visit outside the extensions' lock: a value's `Debug` may log.
        let mut new = SpanFields::default();
        values.record(&mut new);
        let mut ext = span.extensions_mut();
        match ext.get_mut::<SpanFields>() {
            Some(fields) => {
                for (k, v) in new.0 {
                    fields.set(k, v);
                }
            }
            None => {
                ext.insert(new);
            }
        }
    }

    fn on_event(&self, event: &TracingEvent<'_>, ctx: Context<'_, S>) {
        let meta = event.metadata();
        let location = RecordLocation {
            file: meta.file().unwrap_or("<unknown>"),
            line: meta.line().unwrap_or(0),
            column: 0,
            function: "",
            module: meta.target(),
        };
        with_scratch(|ev| {
            ev.begin(level(meta.level()), location, "");
            event.record(&mut Fields(ev));
            if let Some(scope) = ctx.event_scope(event) {
                let first = ev.field_count();
                for span in scope {
                    let ext = span.extensions();
                    let Some(fields) = ext.get::<SpanFields>() else {
                        continue;
                    };
                    for (key, value) in fields.0.iter().rev() {
                        if ev.has_field(key) {
                            continue;
                        }
                        match value {
                            Owned::Str(s) => ev.push(key, FieldIn::Str(s)),
                            Owned::Plain(v) => ev.push(key, FieldIn::Plain(v.clone())),
                        }
                    }
                }
                // Collected innermost first: write them outermost first.
                ev.reverse_fields_from(first);
            }
            ev.replay(|record, _| self.logger.log(record));
        });
    }
}
