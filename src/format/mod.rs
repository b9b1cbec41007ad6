//! Record -> bytes, pure functions of the record and the host snapshot: the
//! JSON layout ([`json`]), the term formats, timestamps, the one escaping
//! table, and the host field names of each schema. Run by the writer thread
//! (and by any thread using a format as a plain drain).
//!
//! As a public module: the JSON drain and its pieces, and the messages of
//! the records the pipeline writes itself.

use std::io;

pub(crate) mod escape;
pub(crate) mod host_names;
pub(crate) mod json;
pub(crate) mod term;
pub(crate) mod timestamp;

pub use crate::host::schema::ECS_VERSION;
pub use crate::record::own::{
    BANNER_MESSAGE, DROPPED_FIELDS_KEY, OUTPUT_DROPPED_MESSAGE, OVERFLOW_MESSAGE, TRUNCATED_KEY,
};
pub use json::{Json, RESERVED_PREFIX};
pub use timestamp::Rfc3339Utc;

use crate::error::Error;
use crate::host::schema::Schema;

/// The longest record written by default: 32 KiB (`Builder::max_record_bytes`).
pub const DEFAULT_MAX_RECORD_BYTES: usize = 32 * 1024;
/// The smallest `max_record_bytes`: 1 KiB.
pub const MIN_RECORD_CAP: usize = 1024;
/// The largest `max_record_bytes`: 16 MiB.
pub const MAX_RECORD_CAP: usize = 16 << 20;

/// Record format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line: `ts` (RFC 3339 UTC), `level`, `msg`, then the
    /// fields ([`format::json`](crate::format::json)).
    Json,
    /// slog-term's full format: timestamp, level, message, fields.
    Full,
    /// slog-term's compact format: fields of nested loggers grouped.
    Compact,
}

impl Format {
    pub(crate) fn parse(setting: &str, value: &str) -> Result<Format, Error> {
        match value.trim().to_ascii_lowercase().as_str() {
            "json" => Ok(Format::Json),
            "full" => Ok(Format::Full),
            "compact" => Ok(Format::Compact),
            _ => Err(Error::invalid(
                setting,
                value,
                "expected json, full or compact",
            )),
        }
    }
}

/// The record keys of the JSON format.
pub mod json_keys {
    /// Timestamp, RFC 3339 UTC.
    pub const TS: &str = "ts";
    /// Level: `TRACE`, `DEBUG`, `INFO`, `WARN`, `ERROR`, `FATAL`.
    pub const LEVEL: &str = "level";
    /// The message.
    pub const MSG: &str = "msg";
}

/// A drain writing one JSON object per line: `ts` (RFC 3339 UTC), `level`,
/// `msg`, `target`, then the record's and the logger's fields.
///
/// Control characters and line separators are escaped, a field named like a
/// record key (or, with host fields, like a host key of the schema or an
/// extra host field) is written as `fields.<name>`, and no line has a key
/// twice (see [`docs::security`](crate::docs::security)). It allocates nothing per record once
/// its buffer is warm, and writes each line with one `write_all`; wrap a slow
/// writer in a buffer.
///
/// ```
/// use slog::{info, o, Drain};
///
/// let drain = std::sync::Mutex::new(slog_host::format::json(std::io::stdout())).fuse();
/// let log = slog::Logger::root(drain, o!());
/// info!(log, "hello"; "n" => 1);
/// // {"ts":"2026-11-21T23:05:09.123456Z","level":"INFO","msg":"hello","target":"rust_out","n":1}
/// ```
pub fn json<W: io::Write>(writer: W) -> Json<W> {
    Json::new(writer, Schema::Otel, None)
}

/// [`json`] with the record keys of `schema` (`@timestamp`, `log.level`,
/// `message`, `ecs.version` and `log.logger` for [`Schema::Ecs`]).
pub fn json_with_schema<W: io::Write>(writer: W, schema: Schema) -> Json<W> {
    Json::new(writer, schema, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_have_ts_level_msg_and_fields() {
        use slog::{info, Drain};
        use std::sync::Mutex;
        let buf = crate::format::term::SharedBuf::default();
        let log = slog::Logger::root(Mutex::new(json(buf.clone())).fuse(), slog::o!("svc" => "x"));
        info!(log, "hello {}", "world"; "n" => 7);
        let mut out = Vec::new();
        buf.move_into(&mut out);
        let text = String::from_utf8(out).unwrap();
        let line = text.strip_suffix('\n').unwrap();
        assert!(line.starts_with(r#"{"ts":""#), "{line}");
        assert!(
            line.contains(r#""level":"INFO","msg":"hello world""#),
            "{line}"
        );
        assert!(line.ends_with(r#""n":7,"svc":"x"}"#), "{line}");
    }
}
