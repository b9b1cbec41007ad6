//! An attribute value (`AnyValue`) and a `KeyValue`, in both encodings
//! (protobuf and the OTLP JSON mapping): one writer for record attributes
//! and resource attributes.

use std::fmt;
use std::io::Write as _;

use super::proto::{bytes_field, fixed64, nested, tag, varint};
use crate::format::escape::json::{escape, string as json_str, Escaped};
use crate::format::json::RESERVED_PREFIX;
use crate::host::info::FieldValue;

/// An attribute value as the encoders write it.
pub(super) enum AnyValue<'a> {
    Str(&'a str),
    Args(&'a fmt::Arguments<'a>),
    Bool(bool),
    Int(i64),
    Double(f64),
    Empty,
}

/// Writes one attribute: a `KeyValue` as field `field` of its message
/// (protobuf), or a JSON object after a comma unless it is the `first`.
/// With `renamed`, the key is written behind the reserved prefix.
pub(super) fn key_value(
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

/// A host field as an attribute value.
pub(super) fn resource_value(v: FieldValue<'_>) -> AnyValue<'_> {
    match v {
        FieldValue::Str(s) => AnyValue::Str(s),
        FieldValue::U32(n) => AnyValue::Int(i64::from(n)),
    }
}
