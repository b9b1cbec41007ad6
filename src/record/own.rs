//! The records the crate writes itself, in one place: their target, the tags
//! that route them, their messages and the keys they add. Any thread.

/// The target of the records the crate writes itself (banner, drop
/// reports).
pub(crate) const CRATE_TARGET: &str = "slog_host";

/// The panic record's tag: its `target`, and what the filter would see.
pub(crate) const PANIC_TAG: &str = "panic";

/// The tag of records that must never be dropped for overflow (the flood
/// guard's summaries: dropping one would lose the count it carries).
pub(crate) const NEVER_DROP_TAG: &str = "slog-host.summary";

/// True for the crate's own records that bypass per-output filters and are
/// never dropped for overflow (flood summaries, panics).
pub(crate) fn never_dropped(tag: &str) -> bool {
    tag == NEVER_DROP_TAG || tag == PANIC_TAG
}

/// The message of the banner record that shows the host fields in the term
/// formats: `2026-11-21T23:05:09.123456Z INFO host fields, host.name: web-1,
/// host.ip: 10.0.0.7, process.pid: 4242, ...`.
pub const BANNER_MESSAGE: &str = "host fields";

/// The message of the record that reports overflow drops.
pub const OVERFLOW_MESSAGE: &str = "log records dropped: queue overflow";

/// The message of the WARN record that reports records one output lost:
/// its buffer was full, or its write failed (fields `dropped`, `error`: why,
/// `output`: which one, `stdout`, `stderr`, `file <path>` or `writer`). It
/// is written on the other outputs, at most once a second for each output;
/// an output alone reports its full buffer on itself (its write failures
/// are said on stderr, as they come and go).
pub const OUTPUT_DROPPED_MESSAGE: &str = "log output dropped records";

/// The message of the WARN record that reports records the OTLP exporter
/// dropped (fields `dropped` and `error`).
#[cfg(feature = "otlp")]
pub const EXPORT_DROPPED_MESSAGE: &str = "OTLP export dropped records";

/// The message of the notice every output gets when the filter changes
/// (fields `from` and `to`).
pub(crate) const FILTER_CHANGED_MESSAGE: &str = "log filter changed";

/// The key of the field a cut record carries: how many bytes were removed.
pub const TRUNCATED_KEY: &str = "log.truncated_bytes";

/// Added to a record cut to `max_record_bytes` when cutting values was not
/// enough: how many of its fields (its own and its spans', from the last)
/// were left out whole.
pub const DROPPED_FIELDS_KEY: &str = "log.dropped_fields";

/// The key under which a `log` key-value is written once
/// [`MAX_INTERNED`](crate::intern::MAX_INTERNED) other key names are kept:
/// `name=value` as text.
pub(crate) const LOG_KV_OVERFLOW_KEY: &str = "log.kv";

/// The message of the notice every output gets when the host metadata
/// changes (field `changes`: `key: old -> new; ...`).
pub(crate) const HOST_CHANGED_MESSAGE: &str = "host metadata changed";
