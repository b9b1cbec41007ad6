//! The JSON line format: one object per record, one `\n` per line.
//!
//! Layout: time, level and message first (`ts`, `level`, `msg`, or ECS's
//! `@timestamp`, `log.level`, `message`, then `ecs.version`), the record's
//! origin (`target`; file and line when asked), the record's fields, the
//! logger's fields (innermost logger first), then the host fields.
//!
//! What the application writes cannot change what a line says:
//! - every control character (C0, DEL, C1) and U+2028/U+2029 is escaped as
//!   `\uXXXX` (`\n`, `\r`, `\t`, `\"`, `\\` short), so a line is always one
//!   line for every line splitter;
//! - a field named like a record key (`ts`, `level`, `msg`, `target`, ...),
//!   a host key of the schema ([`Schema::host_keys`], detected on this host
//!   or not) or an extra host field on the line is written as
//!   `fields.<name>`, and a key that was already written is skipped (the
//!   first one wins: the record's own over its logger's, an inner logger's
//!   over an outer one's), so no line ever has a duplicate key.
//!
//! The same rule holds for the host fields themselves: an extra field (from
//! `OTEL_RESOURCE_ATTRIBUTES` or `Builder::field`) named like a record key or
//! a host key is written as `fields.<name>` too, never dropped and never
//! beside the real key (see [`HostNames`]). Names are claimed in this order,
//! the first claim winning: the record keys, the host fields (detected ones
//! before extra ones), the record's fields, its loggers' fields (innermost
//! first). So a record field `level` becomes `fields.level`, unless a
//! resource attribute `level` already holds that name; then the record's
//! field is skipped, as any duplicate is.
//!
//! In the ECS schema the host fields also carry `event.dataset`, set to
//! `service.name` as the ecs-logging specification asks of a logging library
//! (unless an extra field gives `event.dataset`).
//!
//! The host fields are encoded once per host snapshot (when the cache swaps)
//! and copied into each line. Each key costs the same whatever the number of
//! keys before it: the names written so far are a short list while a record
//! has few, a hash set past [`SEEN_LIST`] (both reused from line to line).

use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;
use std::io::{self, Write as _};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use slog::{Drain, Key, OwnedKVList, Record, KV};

use super::escape::hex;
use super::escape::json::{escape, string, Escaped};
pub use super::host_names::RESERVED_PREFIX;
use super::host_names::{written, HostNames, Name};
use super::timestamp::Rfc3339Utc;
use crate::host::cache::CacheRef;
use crate::host::info::FieldValue;
use crate::host::schema::Schema;
use crate::host::schema::ECS_VERSION;
use crate::record::trace_ids::TraceIds;

/// Names a line's [`Seen`] keeps in a list, scanned: past them, a hash set.
pub(crate) const SEEN_LIST: usize = 32;

/// The hash set's capacity kept from line to line: one huge record does not
/// keep its memory.
const SEEN_KEPT: usize = 4096;

/// Encodes records as JSON lines into a byte buffer, allocation-free once its
/// buffers are warm.
pub(crate) struct Encoder {
    schema: Schema,
    source: bool,
    cache: Option<CacheRef>,
    /// The host fields of the current snapshot, as written.
    names: HostNames,
    /// `,"host.name":"...",...` for `names`.
    host: Vec<u8>,
    /// Signatures (see [`sig`]) of the record keys, the schema's host keys
    /// and the host fields' names: a key whose signature is not in it is not
    /// reserved, without a comparison.
    reserved_mask: u64,
    /// The host fields' names a record field could also be written under
    /// (`fields.<name>`): the renamed ones, and extra fields whose own name
    /// starts with `fields.`. Every line's `seen` starts with these.
    host_claimed: Vec<Name>,
    /// The signatures of `host_claimed`, where every line's `seen` mask
    /// starts.
    claimed_mask: u64,
    seen: Seen,
    /// The last second written and its `YYYY-MM-DDTHH:MM:SS` text.
    second: Option<(u64, [u8; 19])>,
}

impl Encoder {
    pub(crate) fn new(schema: Schema, source: bool, cache: Option<CacheRef>) -> Encoder {
        Encoder {
            schema,
            source,
            cache,
            names: HostNames::new(true),
            host: Vec::new(),
            reserved_mask: mask(schema.reserved_keys()),
            host_claimed: Vec::new(),
            claimed_mask: 0,
            seen: Seen::default(),
            second: None,
        }
    }

    /// Appends `record` as one line to `out`.
    pub(crate) fn encode(
        &mut self,
        out: &mut Vec<u8>,
        record: &Record<'_>,
        values: &OwnedKVList,
        time: SystemTime,
        trace: Option<&TraceIds>,
    ) {
        self.refresh_host();
        let (ts, level, msg) = self.schema.record_keys();
        out.push(b'{');
        key(out, ts);
        self.timestamp(out, time);
        out.push(b',');
        key(out, level);
        out.push(b'"');
        out.extend_from_slice(self.schema.level(record.level()).as_bytes());
        out.extend_from_slice(b"\",");
        key(out, msg);
        let _ = write!(Escaped::new(out), "{}", record.msg());
        out.push(b'"');
        if self.schema == Schema::Ecs {
            out.extend_from_slice(b",\"ecs.version\":\"");
            out.extend_from_slice(ECS_VERSION.as_bytes());
            out.push(b'"');
        }
        let loc = record.location();
        out.push(b',');
        key(out, self.schema.target_key());
        // The filter's target: an explicit one (slog's tag, `log`'s target)
        // or the module path.
        string(
            out,
            if record.tag().is_empty() {
                loc.module
            } else {
                record.tag()
            },
        );
        if let Some(t) = trace {
            let (trace_key, span_key, flags_key) = self.schema.trace_keys();
            let _ = write!(out, ",\"{trace_key}\":\"");
            hex(out, &t.trace_id);
            let _ = write!(out, "\",\"{span_key}\":\"");
            hex(out, &t.span_id);
            out.push(b'"');
            if let Some(k) = flags_key {
                let _ = write!(out, ",\"{k}\":\"{:02x}\"", t.flags);
            }
        }
        if self.source {
            let (file, line) = self.schema.source_keys();
            out.push(b',');
            key(out, file);
            string(out, loc.file);
            let _ = write!(out, ",\"{line}\":{}", loc.line);
        }
        self.seen.start(&self.host_claimed, self.claimed_mask);
        let mut fields = Fields {
            out,
            seen: &mut self.seen,
            reserved_mask: self.reserved_mask,
            schema: self.schema,
            names: &self.names,
        };
        let _ = record.kv().serialize(record, &mut fields);
        let _ = values.serialize(record, &mut fields);
        self.seen.trim();
        out.extend_from_slice(&self.host);
        out.extend_from_slice(b"}\n");
    }

    /// Writes `time` as a quoted RFC 3339 UTC string with microseconds, the
    /// date and time of day formatted once per second.
    fn timestamp(&mut self, out: &mut Vec<u8>, time: SystemTime) {
        let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
        let secs = since.as_secs();
        let prefix = match self.second {
            Some((s, text)) if s == secs => text,
            _ => {
                let mut text = [0u8; 19];
                let mut w = &mut text[..];
                let _ = write!(w, "{}", Rfc3339Utc(UNIX_EPOCH + Duration::from_secs(secs)));
                self.second = Some((secs, text));
                text
            }
        };
        out.push(b'"');
        out.extend_from_slice(&prefix);
        out.push(b'.');
        let micros = since.subsec_micros();
        for div in [100_000, 10_000, 1_000, 100, 10, 1] {
            out.push(b'0' + (micros / div % 10) as u8);
        }
        out.extend_from_slice(b"Z\"");
    }

    /// Re-encodes the host fields if the cache holds a new snapshot.
    fn refresh_host(&mut self) {
        let Some(cache) = &self.cache else { return };
        let now = cache.load();
        if !self.names.update(&now, self.schema) {
            return;
        }
        self.host.clear();
        let out = &mut self.host;
        self.names.each(|k, renamed, v| {
            out.push(b',');
            if renamed {
                out.push(b'"');
                out.extend_from_slice(RESERVED_PREFIX.as_bytes());
                escape(out, k.as_bytes());
                out.extend_from_slice(b"\":");
            } else {
                key(out, k);
            }
            match v {
                FieldValue::Str(s) => string(out, s),
                FieldValue::U32(n) => {
                    let _ = write!(out, "{n}");
                }
            }
        });
        self.host_claimed.clear();
        let renamed = self.names.renamed().iter().map(|k| (true, *k));
        let prefixed = self
            .names
            .plain()
            .iter()
            .filter(|k| k.starts_with(RESERVED_PREFIX));
        self.host_claimed
            .extend(renamed.chain(prefixed.map(|k| written((false, *k)))));
        self.claimed_mask = self
            .host_claimed
            .iter()
            .fold(0, |m, (reserved, k)| m | name_sig(k, *reserved));
        self.reserved_mask = mask(self.schema.reserved_keys())
            | mask(self.schema.host_keys())
            | mask(self.names.plain());
    }
}

/// Writes `"k":` (keys are escaped like any string).
fn key(out: &mut Vec<u8>, k: &str) {
    string(out, k);
    out.push(b':');
}

/// The names written on a line so far (in their [`written`] form): a list
/// while there are few (with the signatures of its names: most keys are new,
/// and a key whose signature is not there is new without a scan), a hash set
/// once there are more than [`SEEN_LIST`]. Both keep their memory from line
/// to line; a randomly keyed hash, so that chosen keys cannot make one
/// lookup slow.
struct Seen {
    list: Vec<Name>,
    mask: u64,
    set: HashSet<Name>,
    /// The most names in `list` ([`SEEN_LIST`]; the tests also try without
    /// a limit, the quadratic scan this replaced).
    list_max: usize,
    /// Names compared or hashed so far (tests count the work per key).
    #[cfg(test)]
    probes: usize,
}

impl Default for Seen {
    fn default() -> Seen {
        Seen {
            list: Vec::new(),
            mask: 0,
            set: HashSet::new(),
            list_max: SEEN_LIST,
            #[cfg(test)]
            probes: 0,
        }
    }
}

impl Seen {
    /// A new line, whose names start with `claimed` (signatures `mask`).
    fn start(&mut self, claimed: &[Name], mask: u64) {
        self.list.clear();
        self.set.clear();
        self.mask = mask;
        self.list.extend_from_slice(claimed);
        if self.list.len() > self.list_max {
            self.set.extend(self.list.drain(..));
        }
    }

    /// Adds `name` (written form, signature `sig`); false if the line has it.
    #[inline]
    fn insert(&mut self, name: Name, sig: u64) -> bool {
        if !self.set.is_empty() {
            #[cfg(test)]
            {
                self.probes += 1;
            }
            return self.set.insert(name);
        }
        if self.mask & sig != 0 {
            #[cfg(test)]
            {
                self.probes += self.list.len();
            }
            if self.list.contains(&name) {
                return false;
            }
        }
        if self.list.len() >= self.list_max {
            self.set.extend(self.list.drain(..));
            return self.set.insert(name);
        }
        self.mask |= sig;
        self.list.push(name);
        true
    }

    /// After a line: the memory of a huge record is given back.
    fn trim(&mut self) {
        if self.set.capacity() > SEEN_KEPT {
            self.set.clear();
            self.set.shrink_to(SEEN_KEPT);
        }
    }
}

/// Serializes record and logger fields, renaming reserved keys and skipping
/// keys already written.
struct Fields<'a> {
    out: &'a mut Vec<u8>,
    seen: &'a mut Seen,
    reserved_mask: u64,
    schema: Schema,
    names: &'a HostNames,
}

/// A one-bit signature of a written key name, from its length and its first
/// and last bytes: equal names have equal signatures.
fn sig(first: u8, last: u8, len: usize) -> u64 {
    1 << ((usize::from(first) * 7 + usize::from(last) * 13 + len * 31) % 64)
}

/// The signature of `k` as written: plain, or behind the reserved prefix.
fn name_sig(k: &str, reserved: bool) -> u64 {
    let b = k.as_bytes();
    if reserved {
        let p = RESERVED_PREFIX.as_bytes();
        let last = b.last().copied().unwrap_or(p[p.len() - 1]);
        sig(p[0], last, b.len() + p.len())
    } else {
        let last = b.last().copied().unwrap_or(0);
        sig(b.first().copied().unwrap_or(0), last, b.len())
    }
}

fn mask(keys: &[&str]) -> u64 {
    keys.iter().fold(0, |m, k| m | name_sig(k, false))
}

impl Fields<'_> {
    /// Writes `,"key":` unless the key was written already; false to skip.
    fn key(&mut self, k: Key) -> bool {
        let plain = name_sig(k, false);
        let reserved = self.reserved_mask & plain != 0
            && (self.schema.is_record_key(k) || self.names.is_host_key(k));
        let sig = if reserved { name_sig(k, true) } else { plain };
        if !self.seen.insert(written((reserved, k)), sig) {
            return false;
        }
        self.out.extend_from_slice(b",\"");
        if reserved {
            self.out.extend_from_slice(RESERVED_PREFIX.as_bytes());
        }
        escape(self.out, k.as_bytes());
        self.out.extend_from_slice(b"\":");
        true
    }

    fn raw(&mut self, k: Key, v: fmt::Arguments<'_>) -> slog::Result {
        if self.key(k) {
            let _ = self.out.write_fmt(v);
        }
        Ok(())
    }

    fn float(&mut self, k: Key, v: f64, text: fmt::Arguments<'_>) -> slog::Result {
        if v.is_finite() {
            self.raw(k, text)
        } else {
            // NaN and infinities are not JSON numbers.
            self.raw(k, format_args!("\"{v}\""))
        }
    }
}

macro_rules! raw_number {
    ($($name:ident: $t:ty),*) => {
        $(fn $name(&mut self, key: Key, val: $t) -> slog::Result {
            self.raw(key, format_args!("{val}"))
        })*
    };
}

macro_rules! integer {
    ($($name:ident: $t:ty => $wide:ty),*) => {
        $(fn $name(&mut self, key: Key, val: $t) -> slog::Result {
            if self.key(key) {
                integer(self.out, <$wide>::from(val));
            }
            Ok(())
        })*
    };
}

/// Writes an integer in decimal, without the formatting machinery.
fn integer(out: &mut Vec<u8>, v: i128) {
    let mut digits = [0u8; 40];
    let mut i = digits.len();
    let mut n = v.unsigned_abs();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&digits[i..]);
}

impl slog::Serializer for Fields<'_> {
    integer!(
        emit_u8: u8 => i128, emit_i8: i8 => i128, emit_u16: u16 => i128,
        emit_i16: i16 => i128, emit_u32: u32 => i128, emit_i32: i32 => i128,
        emit_u64: u64 => i128, emit_i64: i64 => i128
    );
    raw_number!(emit_usize: usize, emit_isize: isize, emit_u128: u128, emit_i128: i128, emit_bool: bool);

    fn emit_f32(&mut self, key: Key, val: f32) -> slog::Result {
        self.float(key, f64::from(val), format_args!("{val}"))
    }

    fn emit_f64(&mut self, key: Key, val: f64) -> slog::Result {
        self.float(key, val, format_args!("{val}"))
    }

    fn emit_unit(&mut self, key: Key) -> slog::Result {
        self.raw(key, format_args!("null"))
    }

    fn emit_none(&mut self, key: Key) -> slog::Result {
        self.raw(key, format_args!("null"))
    }

    fn emit_str(&mut self, key: Key, val: &str) -> slog::Result {
        if self.key(key) {
            string(self.out, val);
        }
        Ok(())
    }

    fn emit_char(&mut self, key: Key, val: char) -> slog::Result {
        self.emit_str(key, val.encode_utf8(&mut [0; 4]))
    }

    fn emit_arguments(&mut self, key: Key, val: &fmt::Arguments<'_>) -> slog::Result {
        if self.key(key) {
            let _ = write!(Escaped::new(self.out), "{val}");
            self.out.push(b'"');
        }
        Ok(())
    }
}

/// A slog drain writing JSON lines to `W` (see [`json`](crate::format::json)
/// for the layout). It is not `Sync`: share it behind a `Mutex`.
pub struct Json<W: io::Write> {
    state: RefCell<(Encoder, Vec<u8>, W)>,
}

impl<W: io::Write> Json<W> {
    pub(crate) fn new(writer: W, schema: Schema, cache: Option<CacheRef>) -> Self {
        Json {
            state: RefCell::new((Encoder::new(schema, false, cache), Vec::new(), writer)),
        }
    }

    /// Adds the host fields of `cache` to every line, encoded once per
    /// snapshot (what [`Enrich`](crate::drain::Enrich) does, without a drain around
    /// this one).
    pub fn with_host(self, cache: impl Into<CacheRef>) -> Self {
        let (enc, buf, w) = self.state.into_inner();
        let enc = Encoder::new(enc.schema, enc.source, Some(cache.into()));
        Json {
            state: RefCell::new((enc, buf, w)),
        }
    }

    /// Adds `code.file.path` and `code.line.number` (ECS:
    /// `log.origin.file.name`, `log.origin.file.line`) to every line.
    pub fn with_source_location(self) -> Self {
        let (mut enc, buf, w) = self.state.into_inner();
        enc.source = true;
        Json {
            state: RefCell::new((enc, buf, w)),
        }
    }
}

impl<W: io::Write> Drain for Json<W> {
    type Ok = ();
    type Err = io::Error;

    fn log(&self, record: &Record<'_>, values: &OwnedKVList) -> io::Result<()> {
        let mut state = self.state.borrow_mut();
        let (enc, buf, w) = &mut *state;
        buf.clear();
        enc.encode(
            buf,
            record,
            values,
            super::timestamp::record_time(),
            crate::record::trace_ids::current().as_ref(),
        );
        w.write_all(buf)
    }

    fn flush(&self) -> Result<(), slog::FlushError> {
        self.state
            .borrow_mut()
            .2
            .flush()
            .map_err(slog::FlushError::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names compared or hashed to add `n` distinct keys (`f0`, `f1`,
    /// ...) to a line, and then each again (all refused), with at most
    /// `list_max` names in the list.
    fn probes(n: usize, list_max: usize) -> usize {
        let keys: Vec<&'static str> = (0..n)
            .map(|i| &*Box::leak(format!("f{i}").into_boxed_str()))
            .collect();
        let mut seen = Seen {
            list_max,
            ..Seen::default()
        };
        seen.start(&[], 0);
        for k in &keys {
            assert!(seen.insert(written((false, k)), name_sig(k, false)), "{k}");
        }
        for k in &keys {
            assert!(!seen.insert(written((false, k)), name_sig(k, false)), "{k}");
        }
        seen.probes
    }

    #[test]
    fn a_key_costs_the_same_whatever_the_keys_before_it() {
        let (ten, twenty) = (probes(10_000, SEEN_LIST), probes(20_000, SEEN_LIST));
        // The list's scans while it is short, then one hash per key.
        let list = SEEN_LIST * SEEN_LIST;
        assert!(ten <= 2 * 10_000 + list, "{ten}");
        assert!(twenty <= 2 * 20_000 + list, "{twenty}");
        assert!(twenty - 2 * 10_000 <= ten, "{ten} {twenty}");
        // The control (smaller, it is slow): the list alone, the code before
        // issue 19, compares each key with about every key before it, so
        // twice the keys cost four times as much.
        let (two, four) = (probes(2_000, usize::MAX), probes(4_000, usize::MAX));
        assert!(two > 2_000 * 2_000 / 2, "{two}");
        assert!(four > 3 * two, "{two} {four}");
    }

    #[test]
    fn the_set_sees_through_the_prefix_as_the_list_does() {
        for list_max in [0, SEEN_LIST, usize::MAX] {
            let mut seen = Seen {
                list_max,
                ..Seen::default()
            };
            seen.start(&[(true, "level")], name_sig("level", true));
            let mut add = |reserved, k: &'static str| {
                seen.insert(written((reserved, k)), name_sig(k, reserved))
            };
            assert!(!add(false, "fields.level"), "{list_max}");
            assert!(!add(true, "level"), "{list_max}");
            assert!(add(false, "level"), "{list_max}");
            assert!(add(true, "fields.x"), "{list_max}");
            assert!(!add(false, "fields.fields.x"), "{list_max}");
        }
    }

    #[test]
    fn a_name_and_its_prefixed_twin_have_one_signature() {
        for k in ["level", "msg", "ts", "host.name", "", "x"] {
            assert_eq!(
                name_sig(k, true),
                name_sig(&format!("{RESERVED_PREFIX}{k}"), false),
                "{k}"
            );
        }
    }

    #[test]
    fn integers_and_timestamps_match_the_formatting_machinery() {
        for v in [
            0i128,
            7,
            -7,
            10,
            99,
            100,
            i128::from(u64::MAX),
            i128::from(i64::MIN),
        ] {
            let mut out = Vec::new();
            integer(&mut out, v);
            assert_eq!(String::from_utf8(out).unwrap(), v.to_string());
        }
        let mut enc = Encoder::new(Schema::Otel, false, None);
        for micros in [
            0u64,
            1,
            999_999,
            1_700_000_000_123_456,
            1_700_000_000_999_999,
            1_700_000_001_000_000,
        ] {
            let t = UNIX_EPOCH + Duration::from_micros(micros);
            let mut out = Vec::new();
            enc.timestamp(&mut out, t);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                format!("\"{}\"", Rfc3339Utc(t))
            );
        }
    }
}
