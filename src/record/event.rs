//! The captured record: an owned [`Event`] in reused memory, filled on the
//! calling thread (`caller::capture`, the bridges) and replayed as a
//! `slog::Record` on the writer thread.
//!
//! An event keeps its buffers when it is recycled (see `queue`), so in steady
//! state capturing a record allocates nothing: the message and every string
//! value are copied into one text arena, numbers keep their types, and the
//! logger's key-values are kept by `Arc` clone. The time is taken here, with
//! `SystemTime::now()` (the vDSO clock on Linux: no system call).

use std::fmt::{self, Write as _};
use std::ops::Range;
use std::time::SystemTime;

use slog::{BorrowedKV, Key, Level, OwnedKVList, Record, RecordLocation, RecordStatic, KV};

use super::own::{DROPPED_FIELDS_KEY, TRUNCATED_KEY};
use super::trace_ids::{self, TraceIds};

/// An empty list of logger fields, made once: each new one is an `Arc`
/// allocation.
pub(crate) fn no_values() -> &'static OwnedKVList {
    static EMPTY: std::sync::OnceLock<OwnedKVList> = std::sync::OnceLock::new();
    EMPTY.get_or_init(|| OwnedKVList::from(slog::o!()))
}

/// A typed value; strings point into the event's text arena.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    Str(Range<usize>),
    U64(u64),
    I64(i64),
    U128(u128),
    I128(i128),
    F32(f32),
    F64(f64),
    Bool(bool),
    Char(char),
    Unit,
    None,
}

/// What an event asks of the writer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A record to write.
    Record,
    /// Write everything before this event, then report ticket `n` done.
    Flush(u64),
}

const NO_LOCATION: RecordLocation = RecordLocation {
    file: "",
    line: 0,
    column: 0,
    function: "",
    module: "",
};

/// An owned record. Its buffers are reused from record to record.
pub(crate) struct Event {
    pub(crate) kind: Kind,
    pub(crate) time: SystemTime,
    pub(crate) level: Level,
    pub(crate) location: RecordLocation,
    /// Tag, message and string values, back to back.
    pub(crate) text: String,
    pub(crate) tag: Range<usize>,
    pub(crate) msg: Range<usize>,
    pub(crate) fields: Vec<(Key, Value)>,
    pub(crate) logger: Option<OwnedKVList>,
    /// The OpenTelemetry span the record was logged in.
    pub(crate) trace: Option<TraceIds>,
    /// The outputs it goes to: bit `i` for output `i` (each output's filter,
    /// judged when the record was logged).
    pub(crate) outputs: u64,
}

impl Default for Event {
    fn default() -> Self {
        Event {
            kind: Kind::Record,
            time: SystemTime::UNIX_EPOCH,
            level: Level::Info,
            location: NO_LOCATION,
            text: String::new(),
            tag: 0..0,
            msg: 0..0,
            fields: Vec::new(),
            logger: None,
            trace: None,
            outputs: ALL_OUTPUTS,
        }
    }
}

/// The output mask of a record every output takes.
pub(crate) const ALL_OUTPUTS: u64 = u64::MAX;

/// Capacity an idle event may keep; a larger one is shrunk when recycled, so
/// one huge record does not pin its memory in the pool.
pub(crate) const KEEP_TEXT_BYTES: usize = 16 * 1024;
const KEEP_FIELDS: usize = 64;
/// What a trimmed event keeps.
const SMALL_TEXT_BYTES: usize = 512;
const SMALL_FIELDS: usize = 16;

impl Event {
    /// Starts an event built field by field (the `log` and `tracing`
    /// bridges), reusing its buffers; `tag` is the record's explicit target
    /// ("" when it is the module path).
    pub(crate) fn begin(&mut self, level: Level, location: RecordLocation, tag: &str) {
        self.kind = Kind::Record;
        self.time = SystemTime::now();
        self.level = level;
        self.location = location;
        self.text.clear();
        self.fields.clear();
        self.logger = None;
        self.text.push_str(tag);
        self.tag = 0..self.text.len();
        self.msg = self.tag.end..self.tag.end;
        self.trace = trace_ids::current();
    }

    /// Sets the tag (the record's explicit target).
    #[cfg(feature = "tracing")]
    pub(crate) fn set_tag(&mut self, tag: &str) {
        let start = self.text.len();
        self.text.push_str(tag);
        self.tag = start..self.text.len();
    }

    /// Sets the message.
    pub(crate) fn set_message(&mut self, msg: fmt::Arguments<'_>) {
        let start = self.text.len();
        let _ = self.text.write_fmt(msg);
        self.msg = start..self.text.len();
    }

    /// Adds a field.
    pub(crate) fn push(&mut self, key: Key, value: FieldIn<'_>) {
        let v = match value {
            FieldIn::Str(s) => {
                let start = self.text.len();
                self.text.push_str(s);
                Value::Str(start..self.text.len())
            }
            FieldIn::Fmt(args) => {
                let start = self.text.len();
                let _ = self.text.write_fmt(args);
                Value::Str(start..self.text.len())
            }
            FieldIn::Plain(v) => v,
        };
        self.fields.push((key, v));
    }

    #[cfg(feature = "tracing")]
    /// True if a field named `key` is already there.
    pub(crate) fn has_field(&self, key: &str) -> bool {
        self.fields.iter().any(|(k, _)| *k == key)
    }

    #[cfg(feature = "tracing")]
    /// The number of fields so far.
    pub(crate) fn field_count(&self) -> usize {
        self.fields.len()
    }

    #[cfg(feature = "tracing")]
    /// Reverses the order of the fields from `from` on.
    pub(crate) fn reverse_fields_from(&mut self, from: usize) {
        self.fields[from..].reverse();
    }

    /// Makes this event a flush marker.
    pub(crate) fn flush_marker(&mut self, ticket: u64) {
        self.kind = Kind::Flush(ticket);
        self.text.clear();
        self.fields.clear();
        self.tag = 0..0;
        self.msg = 0..0;
        self.logger = None;
    }

    /// Drops what the event refers to and trims oversized buffers (run on
    /// the writer thread, so the caller never frees).
    pub(crate) fn clear(&mut self) {
        self.logger = None;
        self.location = NO_LOCATION;
        self.text.clear();
        self.fields.clear();
        self.tag = 0..0;
        self.msg = 0..0;
        if self.text.capacity() > KEEP_TEXT_BYTES {
            self.text.shrink_to(KEEP_TEXT_BYTES);
        }
        if self.fields.capacity() > KEEP_FIELDS {
            self.fields.shrink_to(KEEP_FIELDS);
        }
    }

    /// Gives back all but small buffers.
    pub(crate) fn trim(&mut self) {
        self.text.shrink_to(SMALL_TEXT_BYTES);
        self.fields.shrink_to(SMALL_FIELDS);
    }

    /// The bytes this event holds, for the queue's byte bound.
    pub(crate) fn size(&self) -> usize {
        std::mem::size_of::<Event>()
            + self.text.capacity()
            + self.fields.capacity() * std::mem::size_of::<(Key, Value)>()
    }

    /// The filter's target: the tag, or else the module.
    #[cfg_attr(not(feature = "otlp"), allow(dead_code))]
    pub(crate) fn target(&self) -> &str {
        match &self.text[self.tag.clone()] {
            "" => self.location.module,
            tag => tag,
        }
    }

    pub(crate) fn message(&self) -> &str {
        &self.text[self.msg.clone()]
    }

    pub(crate) fn fields(&self) -> impl Iterator<Item = (&'static str, ValueRef<'_>)> + '_ {
        self.fields.iter().map(move |(k, v)| (*k, self.value(v)))
    }

    fn value<'a>(&'a self, v: &'a Value) -> ValueRef<'a> {
        match v {
            Value::Str(r) => ValueRef::Str(&self.text[r.clone()]),
            other => ValueRef::Plain(other),
        }
    }

    /// Rebuilds the `slog::Record` and passes it to `f`, with the logger's
    /// key-values.
    pub(crate) fn replay<R>(&self, f: impl FnOnce(&Record<'_>, &OwnedKVList) -> R) -> R {
        let rs = RecordStatic {
            location: &self.location,
            tag: &self.text[self.tag.clone()],
            level: self.level,
        };
        let values = match &self.logger {
            Some(v) => v,
            None => no_values(),
        };
        let kv = Replay(self);
        f(
            &Record::new(&rs, &format_args!("{}", self.message()), BorrowedKV(&kv)),
            values,
        )
    }
}

/// How [`Event::replay_cut`] shortens a record that formats too long:
/// string fields past `field` bytes and the message past `msg` bytes are
/// cut (at a character boundary), with `logger` false the logger's fields
/// are left out, and only the first `kept` of the record's own and span
/// fields are written.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cut {
    pub(crate) field: usize,
    pub(crate) msg: usize,
    pub(crate) logger: bool,
    pub(crate) kept: usize,
}

/// `s` cut to at most `limit` bytes at a character boundary, and the bytes
/// removed.
fn cut_str(s: &str, limit: usize) -> (&str, usize) {
    if s.len() <= limit {
        return (s, 0);
    }
    let mut end = limit;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    (&s[..end], s.len() - end)
}

impl Event {
    /// The length of the longest string field.
    pub(crate) fn longest_field(&self) -> usize {
        self.fields()
            .filter_map(|(_, v)| match v {
                ValueRef::Str(s) => Some(s.len()),
                ValueRef::Plain(_) => None,
            })
            .max()
            .unwrap_or(0)
    }

    /// The number of the record's own and span fields.
    pub(crate) fn field_total(&self) -> usize {
        self.fields.len()
    }

    /// [`replay`](Self::replay) with long values cut as `cut` says, and a
    /// first field [`TRUNCATED_KEY`] with the bytes removed: of cut values
    /// and of whole fields left out, the logger's included (key and value as
    /// text), then [`DROPPED_FIELDS_KEY`] with the number of the record's
    /// own and span fields left out, if any.
    pub(crate) fn replay_cut<R>(
        &self,
        cut: Cut,
        f: impl FnOnce(&Record<'_>, &OwnedKVList) -> R,
    ) -> R {
        let rs = RecordStatic {
            location: &self.location,
            tag: &self.text[self.tag.clone()],
            level: self.level,
        };
        let values = match (&self.logger, cut.logger) {
            (Some(v), true) => v,
            _ => no_values(),
        };
        // The logger's fields left out: their keys and values as text.
        let logger_removed = match (&self.logger, cut.logger) {
            (Some(v), false) => {
                let mut count = TextCount(0);
                let _ = v.serialize(&Record::new(&rs, &format_args!(""), slog::b!()), &mut count);
                count.0
            }
            _ => 0,
        };
        let (msg, msg_removed) = cut_str(self.message(), cut.msg);
        let removed = msg_removed
            + logger_removed
            + self
                .fields()
                .enumerate()
                .map(|(i, (key, v))| match v {
                    _ if i >= cut.kept => key.len() + text_len(v),
                    ValueRef::Str(s) => cut_str(s, cut.field).1,
                    ValueRef::Plain(_) => 0,
                })
                .sum::<usize>();
        let kv = CutReplay {
            ev: self,
            limit: cut.field,
            removed,
            kept: cut.kept,
        };
        f(
            &Record::new(&rs, &format_args!("{msg}"), BorrowedKV(&kv)),
            values,
        )
    }
}

/// Counts the keys and values of what it is given, as text.
struct TextCount(usize);

impl fmt::Write for TextCount {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0 += s.len();
        Ok(())
    }
}

impl slog::Serializer for TextCount {
    fn emit_arguments(&mut self, key: Key, val: &fmt::Arguments<'_>) -> slog::Result {
        self.0 += key.len();
        let _ = fmt::write(self, *val);
        Ok(())
    }
}

/// The length of a value as text (a string's bytes, a number's digits).
fn text_len(v: ValueRef<'_>) -> usize {
    let mut n = TextCount(0);
    let _ = match v {
        ValueRef::Str(s) => return s.len(),
        ValueRef::Plain(p) => match *p {
            Value::U64(v) => write!(n, "{v}"),
            Value::I64(v) => write!(n, "{v}"),
            Value::U128(v) => write!(n, "{v}"),
            Value::I128(v) => write!(n, "{v}"),
            Value::F32(v) => write!(n, "{v}"),
            Value::F64(v) => write!(n, "{v}"),
            Value::Bool(v) => write!(n, "{v}"),
            Value::Char(v) => write!(n, "{v}"),
            Value::Unit | Value::None | Value::Str(_) => Ok(()),
        },
    };
    n.0
}

/// The event's fields with string values cut, after the truncation marker.
struct CutReplay<'a> {
    ev: &'a Event,
    limit: usize,
    removed: usize,
    kept: usize,
}

impl KV for CutReplay<'_> {
    fn serialize(&self, _: &Record<'_>, s: &mut dyn slog::Serializer) -> slog::Result {
        s.emit_u64(TRUNCATED_KEY, self.removed as u64)?;
        let total = self.ev.fields.len();
        if self.kept < total {
            s.emit_u64(DROPPED_FIELDS_KEY, (total - self.kept) as u64)?;
        }
        for (key, value) in self.ev.fields().take(self.kept) {
            match value {
                ValueRef::Str(v) => s.emit_str(key, cut_str(v, self.limit).0)?,
                plain => emit_value(s, key, plain)?,
            }
        }
        Ok(())
    }
}

/// A field value given to [`Event::push`].
pub(crate) enum FieldIn<'a> {
    Str(&'a str),
    Fmt(fmt::Arguments<'a>),
    /// Not a string (`Value::Str` is not allowed here).
    Plain(Value),
}

/// A field value as the writer sees it.
pub(crate) enum ValueRef<'a> {
    Str(&'a str),
    Plain(&'a Value),
}

/// The event's fields as slog key-values, with their captured types.
struct Replay<'a>(&'a Event);

impl KV for Replay<'_> {
    fn serialize(&self, _: &Record<'_>, s: &mut dyn slog::Serializer) -> slog::Result {
        for (key, value) in self.0.fields() {
            emit_value(s, key, value)?;
        }
        Ok(())
    }
}

fn emit_value(s: &mut dyn slog::Serializer, key: Key, value: ValueRef<'_>) -> slog::Result {
    match value {
        ValueRef::Str(v) => s.emit_str(key, v),
        ValueRef::Plain(v) => match *v {
            Value::Str(_) => unreachable!("strings are resolved to ValueRef::Str"),
            Value::U64(v) => s.emit_u64(key, v),
            Value::I64(v) => s.emit_i64(key, v),
            Value::U128(v) => s.emit_u128(key, v),
            Value::I128(v) => s.emit_i128(key, v),
            Value::F32(v) => s.emit_f32(key, v),
            Value::F64(v) => s.emit_f64(key, v),
            Value::Bool(v) => s.emit_bool(key, v),
            Value::Char(v) => s.emit_char(key, v),
            Value::Unit => s.emit_unit(key),
            Value::None => s.emit_none(key),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use slog::{o, Drain};
    use std::sync::{Arc, Mutex};

    /// Keeps the fields of the records it sees, as text.
    #[derive(Clone, Default)]
    struct Seen(Arc<Mutex<Vec<String>>>);

    struct Fields<'a>(&'a mut Vec<String>);
    impl slog::Serializer for Fields<'_> {
        fn emit_arguments(&mut self, key: Key, val: &fmt::Arguments<'_>) -> slog::Result {
            self.0.push(format!("{key}={val}"));
            Ok(())
        }
        fn emit_u64(&mut self, key: Key, val: u64) -> slog::Result {
            self.0.push(format!("{key}=u64:{val}"));
            Ok(())
        }
        fn emit_i64(&mut self, key: Key, val: i64) -> slog::Result {
            self.0.push(format!("{key}=i64:{val}"));
            Ok(())
        }
        fn emit_f32(&mut self, key: Key, val: f32) -> slog::Result {
            self.0.push(format!("{key}=f32:{val}"));
            Ok(())
        }
        fn emit_bool(&mut self, key: Key, val: bool) -> slog::Result {
            self.0.push(format!("{key}=bool:{val}"));
            Ok(())
        }
        fn emit_str(&mut self, key: Key, val: &str) -> slog::Result {
            self.0.push(format!("{key}=str:{val}"));
            Ok(())
        }
    }

    impl Drain for Seen {
        type Ok = ();
        type Err = slog::Never;
        fn log(&self, r: &Record<'_>, values: &OwnedKVList) -> Result<(), slog::Never> {
            let mut out = vec![format!(
                "{} {} {}:{} tag={}",
                r.level().as_short_str(),
                r.msg(),
                r.location().file,
                r.line(),
                r.tag()
            )];
            r.kv().serialize(r, &mut Fields(&mut out)).unwrap();
            values.serialize(r, &mut Fields(&mut out)).unwrap();
            self.0.lock().unwrap().push(out.join(" "));
            Ok(())
        }
    }

    /// Captures every record, then replays it into `Seen`.
    struct CaptureReplay(Seen, Mutex<Event>);
    impl Drain for CaptureReplay {
        type Ok = ();
        type Err = slog::Never;
        fn log(&self, r: &Record<'_>, values: &OwnedKVList) -> Result<(), slog::Never> {
            let mut ev = self.1.lock().unwrap();
            ev.capture(r, values);
            ev.replay(|r, v| self.0.log(r, v))
        }
    }

    fn both(f: impl Fn(&slog::Logger)) -> (Vec<String>, Vec<String>) {
        let direct = Seen::default();
        f(&slog::Logger::root(direct.clone(), o!("svc" => "x")));
        let replayed = Seen::default();
        let drain = CaptureReplay(replayed.clone(), Mutex::new(Event::default()));
        f(&slog::Logger::root(drain, o!("svc" => "x")));
        let a = direct.0.lock().unwrap().clone();
        let b = replayed.0.lock().unwrap().clone();
        (a, b)
    }

    #[test]
    fn replay_is_the_record_with_types_kept() {
        let first = line!() + 3; // the line of the first record
        let (direct, replayed) = both(|log| {
            let child = log.new(o!("req" => 7u32));
            slog::warn!(child, #"audit", "user {} did {}", "ann", 3; "ok" => true, "ratio" => 0.5f32, "neg" => -4i8, "s" => "text", "args" => format_args!("{}-{}", 1, 2));
            slog::info!(log, "second, reusing buffers"; "n" => 1u64);
        });
        let line = |n: u32, rest: &str| format!("src/record/event.rs:{} {rest}", first + n);
        // slog's default `emit_i8` and `emit_arguments` are text; the replay
        // is typed: i64 for every signed integer, str for formatted values.
        assert_eq!(
            direct,
            [
                format!("WARN user ann did 3 {}", line(0, "tag=audit args=1-2 s=str:text neg=-4 ratio=f32:0.5 ok=bool:true req=7 svc=str:x")),
                format!("INFO second, reusing buffers {}", line(1, "tag= n=u64:1 svc=str:x")),
            ]
        );
        assert_eq!(
            replayed,
            [
                format!("WARN user ann did 3 {}", line(0, "tag=audit args=str:1-2 s=str:text neg=i64:-4 ratio=f32:0.5 ok=bool:true req=7 svc=str:x")),
                format!("INFO second, reusing buffers {}", line(1, "tag= n=u64:1 svc=str:x")),
            ]
        );
    }

    #[test]
    fn recycled_event_keeps_nothing_of_the_last_record() {
        struct Into(Arc<Mutex<Event>>);
        impl Drain for Into {
            type Ok = ();
            type Err = slog::Never;
            fn log(&self, r: &Record<'_>, v: &OwnedKVList) -> Result<(), slog::Never> {
                self.0.lock().unwrap().capture(r, v);
                Ok(())
            }
        }
        let ev = Arc::new(Mutex::new(Event::default()));
        let log = slog::Logger::root(Into(Arc::clone(&ev)), o!());
        let big = "x".repeat(100_000);
        slog::info!(log, "big"; "v" => &big);
        let mut ev = ev.lock().unwrap();
        assert!(ev.size() > 100_000);
        ev.clear();
        assert!(ev.size() <= std::mem::size_of::<Event>() + KEEP_TEXT_BYTES + KEEP_FIELDS * 64);
        assert_eq!(ev.fields().count(), 0);
        let seen = Seen::default();
        ev.replay(|r, v| seen.log(r, v)).unwrap();
        assert_eq!(seen.0.lock().unwrap()[0], "INFO  :0 tag=");
    }
}
