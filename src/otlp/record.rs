//! The record encoder (writer thread): one `LogRecord`, protobuf or JSON,
//! written straight from the record. The messages are those of
//! opentelemetry-proto (`opentelemetry/proto/logs/v1/logs.proto`,
//! `common/v1`, `resource/v1`); the tests decode what this writes with that
//! crate.

use std::collections::HashSet;
use std::fmt::{self, Write as _};
use std::io::Write as _;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use slog::{Key, Level, OwnedKVList, Record, KV};

use super::any_value::{key_value, AnyValue};
use super::proto::{bytes_field, fixed64, nested, tag, varint};
use crate::format::escape::hex;
use crate::format::escape::json::Escaped;
use crate::format::json::RESERVED_PREFIX;
use crate::host::schema::Schema;
use crate::host::HostInfo;
use crate::record::trace_ids::TraceIds;

/// The OpenTelemetry severity number of a level (the data model's
/// mapping: TRACE 1, DEBUG 5, INFO 9, WARN 13, ERROR 17, FATAL 21).
pub(crate) fn severity_number(level: Level) -> u64 {
    match level {
        Level::Trace => 1,
        Level::Debug => 5,
        Level::Info => 9,
        Level::Warning => 13,
        Level::Error => 17,
        Level::Critical => 21,
    }
}

fn nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// Record encoder: one `LogRecord` message (protobuf) or object (JSON) per
/// record.
pub(crate) struct RecordEncoder {
    json: bool,
    source: bool,
    seen: HashSet<(bool, &'static str)>,
    /// Attribute names the host fields use: a record field of that name is
    /// written as `fields.<name>`.
    host_keys: Vec<&'static str>,
    host: Option<Arc<HostInfo>>,
}

impl RecordEncoder {
    pub(crate) fn new(json: bool, source: bool) -> RecordEncoder {
        RecordEncoder {
            json,
            source,
            seen: HashSet::new(),
            host_keys: Schema::Otel.host_keys().to_vec(),
            host: None,
        }
    }

    /// The host fields' names of `host` are reserved from now on.
    pub(crate) fn host(&mut self, host: &Arc<HostInfo>) {
        if self.host.as_ref().is_some_and(|h| Arc::ptr_eq(h, host)) {
            return;
        }
        self.host = Some(Arc::clone(host));
        self.host_keys = Schema::Otel.host_keys().to_vec();
        self.host_keys.extend(host.extra_fields().map(|(k, _)| k));
    }

    /// Appends `record` to `out`.
    pub(crate) fn encode(
        &mut self,
        out: &mut Vec<u8>,
        record: &Record<'_>,
        values: &OwnedKVList,
        time: SystemTime,
        observed: SystemTime,
        trace: Option<&TraceIds>,
    ) {
        self.seen.clear();
        let mut attrs = Attrs {
            out,
            json: self.json,
            seen: &mut self.seen,
            host_keys: &self.host_keys,
            first: true,
        };
        let level = record.level();
        if self.json {
            let o = &mut *attrs.out;
            let _ = write!(
                o,
                "{{\"timeUnixNano\":\"{}\",\"observedTimeUnixNano\":\"{}\",\"severityNumber\":{},\"severityText\":\"{}\",\"body\":{{\"stringValue\":",
                nanos(time),
                nanos(observed),
                severity_number(level),
                Schema::Otel.level(level)
            );
            let _ =
                std::fmt::Write::write_fmt(&mut Escaped::new(o), format_args!("{}", record.msg()));
            o.extend_from_slice(b"\"},\"attributes\":[");
            attrs.record_fields(record, values, self.source);
            let o = &mut *attrs.out;
            o.push(b']');
            if let Some(t) = trace {
                let _ = write!(o, ",\"flags\":{}", t.flags);
                o.extend_from_slice(b",\"traceId\":\"");
                hex(o, &t.trace_id);
                o.extend_from_slice(b"\",\"spanId\":\"");
                hex(o, &t.span_id);
                o.push(b'"');
            }
            o.push(b'}');
        } else {
            let o = &mut *attrs.out;
            fixed64(o, 1, nanos(time));
            tag(o, 2, 0);
            varint(o, severity_number(level));
            bytes_field(o, 3, Schema::Otel.level(level).as_bytes());
            nested(o, 5, |o| {
                nested(o, 1, |o| {
                    let _ = write!(o, "{}", record.msg());
                })
            });
            attrs.record_fields(record, values, self.source);
            let o = &mut *attrs.out;
            if let Some(t) = trace {
                tag(o, 8, 5);
                o.extend_from_slice(&u32::from(t.flags).to_le_bytes());
                bytes_field(o, 9, &t.trace_id);
                bytes_field(o, 10, &t.span_id);
            }
            fixed64(o, 11, nanos(observed));
        }
        if self.seen.capacity() > 4096 {
            self.seen = HashSet::new();
        }
    }
}

/// The attributes this encoder writes itself (with source locations on): a
/// record field of that name is written as `fields.<name>`, with or without
/// them, so record data cannot pass for a source location.
const SOURCE_KEYS: [&str; 2] = ["code.file.path", "code.line.number"];

/// Writes attributes (`KeyValue`s), each key once: the record's fields,
/// then the logger's.
struct Attrs<'a> {
    out: &'a mut Vec<u8>,
    json: bool,
    seen: &'a mut HashSet<(bool, &'static str)>,
    host_keys: &'a [&'static str],
    first: bool,
}

impl Attrs<'_> {
    fn record_fields(&mut self, record: &Record<'_>, values: &OwnedKVList, source: bool) {
        if source {
            let loc = record.location();
            self.put_own(SOURCE_KEYS[0], AnyValue::Str(loc.file));
            self.put_own(SOURCE_KEYS[1], AnyValue::Int(i64::from(loc.line)));
        }
        let _ = record.kv().serialize(record, self);
        let _ = values.serialize(record, self);
    }

    /// A record field: renamed if its name is reserved.
    fn put(&mut self, key: &'static str, value: AnyValue<'_>) {
        let renamed = self.host_keys.contains(&key)
            || SOURCE_KEYS.contains(&key)
            || key.starts_with(RESERVED_PREFIX);
        self.write(key, renamed, value);
    }

    /// An attribute of the encoder's own, under its name.
    fn put_own(&mut self, key: &'static str, value: AnyValue<'_>) {
        self.write(key, false, value);
    }

    /// Writes `key` (behind the reserved prefix if `renamed`) unless the
    /// record has it already.
    fn write(&mut self, key: &'static str, renamed: bool, value: AnyValue<'_>) {
        // Written names are one to one with (renamed, key): a key that
        // starts with the prefix is renamed too.
        if !self.seen.insert((renamed, key)) {
            return;
        }
        key_value(self.out, self.json, 6, &mut self.first, renamed, key, value);
    }

    /// An integer: `int_value` when it fits an `int64`, else its decimal
    /// text.
    fn int(&mut self, key: Key, v: i128) -> slog::Result {
        match i64::try_from(v) {
            Ok(n) => self.put(key, AnyValue::Int(n)),
            Err(_) => {
                let mut text = String::new();
                let _ = write!(text, "{v}");
                self.put(key, AnyValue::Str(&text));
            }
        }
        Ok(())
    }
}

macro_rules! ints {
    ($($name:ident: $t:ty),*) => {
        $(fn $name(&mut self, key: Key, val: $t) -> slog::Result {
            self.int(key, val as i128)
        })*
    };
}

impl slog::Serializer for Attrs<'_> {
    ints!(
        emit_u8: u8, emit_i8: i8, emit_u16: u16, emit_i16: i16, emit_u32: u32,
        emit_i32: i32, emit_u64: u64, emit_i64: i64, emit_usize: usize, emit_isize: isize,
        emit_i128: i128
    );

    fn emit_u128(&mut self, key: Key, val: u128) -> slog::Result {
        match i128::try_from(val) {
            Ok(v) => self.int(key, v),
            Err(_) => self.emit_arguments(key, &format_args!("{val}")),
        }
    }

    fn emit_bool(&mut self, key: Key, val: bool) -> slog::Result {
        self.put(key, AnyValue::Bool(val));
        Ok(())
    }

    fn emit_f32(&mut self, key: Key, val: f32) -> slog::Result {
        self.put(key, AnyValue::Double(f64::from(val)));
        Ok(())
    }

    fn emit_f64(&mut self, key: Key, val: f64) -> slog::Result {
        self.put(key, AnyValue::Double(val));
        Ok(())
    }

    fn emit_unit(&mut self, key: Key) -> slog::Result {
        self.put(key, AnyValue::Empty);
        Ok(())
    }

    fn emit_none(&mut self, key: Key) -> slog::Result {
        self.put(key, AnyValue::Empty);
        Ok(())
    }

    fn emit_str(&mut self, key: Key, val: &str) -> slog::Result {
        self.put(key, AnyValue::Str(val));
        Ok(())
    }

    fn emit_char(&mut self, key: Key, val: char) -> slog::Result {
        self.put(key, AnyValue::Str(val.encode_utf8(&mut [0; 4])));
        Ok(())
    }

    fn emit_arguments(&mut self, key: Key, val: &fmt::Arguments<'_>) -> slog::Result {
        self.put(key, AnyValue::Args(val));
        Ok(())
    }
}
