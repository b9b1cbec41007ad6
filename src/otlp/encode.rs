//! OTLP encodings of records, written straight from the event: the
//! protobuf wire format (`http/protobuf`) and the OTLP JSON mapping
//! (`http/json`). The messages are those of opentelemetry-proto
//! (`opentelemetry/proto/logs/v1/logs.proto`, `common/v1`, `resource/v1`);
//! the tests decode what this writes with that crate.

use std::collections::{HashMap, HashSet};
use std::fmt::{self, Write as _};
use std::io::Write as _;
use std::ops::Range;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use slog::{Key, Level, OwnedKVList, Record, KV};

use crate::format::escape::hex;
use crate::format::escape::json::{escape, string as json_str, Escaped};
use crate::format::json::RESERVED_PREFIX;
use crate::host::info::FieldValue;
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

// ---- protobuf wire format ----

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn tag(out: &mut Vec<u8>, field: u32, wire: u8) {
    varint(out, u64::from(field) << 3 | u64::from(wire));
}

fn bytes_field(out: &mut Vec<u8>, field: u32, b: &[u8]) {
    tag(out, field, 2);
    varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

fn fixed64(out: &mut Vec<u8>, field: u32, v: u64) {
    tag(out, field, 1);
    out.extend_from_slice(&v.to_le_bytes());
}

/// A length-delimited field whose content `f` writes: its length is put in
/// front once known.
fn nested(out: &mut Vec<u8>, field: u32, f: impl FnOnce(&mut Vec<u8>)) {
    tag(out, field, 2);
    let at = out.len();
    out.push(0);
    f(out);
    let len = out.len() - at - 1;
    if len < 0x80 {
        out[at] = len as u8;
    } else {
        let mut prefix = Vec::with_capacity(10);
        varint(&mut prefix, len as u64);
        out.splice(at..=at, prefix);
    }
}

// ---- JSON ----

/// An attribute value as the encoders write it.
enum AnyValue<'a> {
    Str(&'a str),
    Args(&'a fmt::Arguments<'a>),
    Bool(bool),
    Int(i64),
    Double(f64),
    Empty,
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

/// Writes one attribute: a `KeyValue` as field `field` of its message
/// (protobuf), or a JSON object after a comma unless it is the `first`.
/// With `renamed`, the key is written behind the reserved prefix.
fn key_value(
    out: &mut Vec<u8>,
    json: bool,
    field: u32,
    first: &mut bool,
    renamed: bool,
    key: &str,
    value: AnyValue<'_>,
) {
    if json {
        let o = out;
        if !std::mem::take(first) {
            o.push(b',');
        }
        o.extend_from_slice(b"{\"key\":\"");
        if renamed {
            o.extend_from_slice(RESERVED_PREFIX.as_bytes());
        }
        escape(o, key.as_bytes());
        o.extend_from_slice(b"\",\"value\":{");
        match value {
            AnyValue::Str(s) => {
                o.extend_from_slice(b"\"stringValue\":");
                json_str(o, s);
            }
            AnyValue::Args(a) => {
                o.extend_from_slice(b"\"stringValue\":");
                let _ = std::fmt::Write::write_fmt(&mut Escaped::new(o), format_args!("{a}"));
                o.push(b'"');
            }
            AnyValue::Bool(b) => {
                let _ = write!(o, "\"boolValue\":{b}");
            }
            AnyValue::Int(n) => {
                let _ = write!(o, "\"intValue\":\"{n}\"");
            }
            AnyValue::Double(d) if d.is_finite() => {
                let _ = write!(o, "\"doubleValue\":{d:?}");
            }
            AnyValue::Double(d) => {
                let text = if d.is_nan() {
                    "NaN"
                } else if d > 0.0 {
                    "Infinity"
                } else {
                    "-Infinity"
                };
                let _ = write!(o, "\"doubleValue\":\"{text}\"");
            }
            AnyValue::Empty => {}
        }
        o.extend_from_slice(b"}}");
    } else {
        nested(out, field, |o| {
            nested(o, 1, |o| {
                if renamed {
                    o.extend_from_slice(RESERVED_PREFIX.as_bytes());
                }
                o.extend_from_slice(key.as_bytes());
            });
            nested(o, 2, |o| match value {
                AnyValue::Str(s) => bytes_field(o, 1, s.as_bytes()),
                AnyValue::Args(a) => nested(o, 1, |o| {
                    let _ = write!(o, "{a}");
                }),
                AnyValue::Bool(b) => {
                    tag(o, 2, 0);
                    varint(o, u64::from(b));
                }
                AnyValue::Int(n) => {
                    tag(o, 3, 0);
                    varint(o, n as u64);
                }
                AnyValue::Double(d) => fixed64(o, 4, d.to_bits()),
                AnyValue::Empty => {}
            });
        });
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

/// A host field as an attribute value.
fn resource_value(v: FieldValue<'_>) -> AnyValue<'_> {
    match v {
        FieldValue::Str(s) => AnyValue::Str(s),
        FieldValue::U32(n) => AnyValue::Int(i64::from(n)),
    }
}

/// One encoded record in a chunk: its scope name (the target) and its
/// `LogRecord`.
#[derive(Clone, Debug)]
pub(crate) struct Unit {
    pub(crate) target: Range<usize>,
    pub(crate) record: Range<usize>,
}

/// Writes an export request holding `units` (ranges into `data`): one
/// `ResourceLogs` with `host` as its resource, one `ScopeLogs` per target.
pub(crate) fn request(out: &mut Vec<u8>, json: bool, host: &HostInfo, units: &[(&[u8], &[u8])]) {
    // Records grouped by scope, scopes in order of first appearance.
    let mut scopes: Vec<(&[u8], Vec<&[u8]>)> = Vec::new();
    let mut index: HashMap<&[u8], usize> = HashMap::new();
    for (target, record) in units {
        let i = *index.entry(target).or_insert_with(|| {
            scopes.push((target, Vec::new()));
            scopes.len() - 1
        });
        scopes[i].1.push(record);
    }
    if json {
        out.extend_from_slice(b"{\"resourceLogs\":[{\"resource\":{\"attributes\":[");
        let mut first = true;
        let _ = host.visit(|k, v| {
            key_value(out, true, 1, &mut first, false, k, resource_value(v));
            Ok::<(), ()>(())
        });
        out.extend_from_slice(b"]},\"scopeLogs\":[");
        for (i, (target, records)) in scopes.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"scope\":{\"name\":\"");
            escape(out, target);
            out.extend_from_slice(b"\"},\"logRecords\":[");
            for (j, r) in records.iter().enumerate() {
                if j > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(r);
            }
            out.extend_from_slice(b"]}");
        }
        out.extend_from_slice(b"]}]}");
    } else {
        nested(out, 1, |out| {
            nested(out, 1, |out| {
                let _ = host.visit(|k, v| {
                    key_value(out, false, 1, &mut true, false, k, resource_value(v));
                    Ok::<(), ()>(())
                });
            });
            for (target, records) in &scopes {
                nested(out, 2, |out| {
                    nested(out, 1, |out| bytes_field(out, 1, target));
                    for r in records {
                        bytes_field(out, 2, r);
                    }
                });
            }
        });
    }
}
