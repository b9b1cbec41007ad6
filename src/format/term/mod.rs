//! The term formats ([`Format::Full`], [`Format::Compact`]): slog-term's
//! layout, with record data escaped so that it can neither forge a line nor
//! reach the terminal raw.
//!
//! slog-term writes messages, keys and values as they are, and cannot be
//! told otherwise: its formats write straight into the decorator. So the
//! layout is written here, the same as slog-term's `FullFormat` and
//! `CompactFormat` (a unit test compares them part by part), into one line
//! buffer: record data escaped on the way in, each run of safe bytes copied
//! at once. Without colors the line is then written in one call; with colors
//! it is handed to slog-term's `TermDecorator` part by part, so that the
//! decorator colors the level, the message and the keys as it always has.
//!
//! In the pipeline ([`term_drain`]) a field of the application (a record's,
//! a logger's, a span's) named like a host key of the schema or like an
//! extra host field is written as `fields.<name>` on every line, in banner
//! mode too, so that no record shows a host field, or a banner, that the
//! host did not give (see [`HostNames`]).

use std::cell::RefCell;
use std::fmt;
use std::io::{self, Write};
use std::sync::{Arc, Mutex, PoisonError};

use slog::{Drain, Key, OwnedKVList, Record, KV};
#[cfg(test)]
use slog_term::{Decorator, RecordDecorator};

use crate::format::escape::term;
use crate::format::host_names::{HostNames, RESERVED_PREFIX};
use crate::format::Format;
use crate::host::cache::CacheRef;
use crate::host::info::FieldValue;
use crate::host::HostInfo;

/// A byte buffer the term formats write into; the writer moves its contents
/// into the batch after each record.
#[derive(Clone, Default)]
pub(crate) struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl SharedBuf {
    /// Appends the buffered bytes to `out` and empties the buffer.
    pub(crate) fn move_into(&self, out: &mut Vec<u8>) {
        let mut b = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        out.extend_from_slice(&b);
        b.clear();
    }
}

impl Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A term format as the writer uses it: records, and banners.
pub(crate) trait TermDrain: Drain<Ok = (), Err = io::Error> + Send {
    /// Writes `record` (a message, no fields) with the fields of `host` as
    /// its fields: the banner.
    fn banner(&self, record: &Record<'_>, host: &Arc<HostInfo>) -> io::Result<()>;
}

/// Where the host fields of a term format in the pipeline come from.
pub(crate) struct TermHost {
    pub(crate) cache: CacheRef,
    /// On every record; else only in banners.
    pub(crate) per_record: bool,
}

/// The drain for a term format, into `out`: with slog-term's colors
/// (`colors`, for a terminal) or without; record data named like a host
/// field is renamed, and with `host.per_record` every record ends with the
/// host fields.
///
/// `format` is [`Format::Full`] or [`Format::Compact`]; JSON is not a term
/// format and is written as [`Format::Full`].
pub(crate) fn term_drain(
    format: Format,
    colors: bool,
    out: impl Write + Send + 'static,
    host: TermHost,
) -> Box<dyn TermDrain> {
    debug_assert!(format != Format::Json, "JSON is not a term format");
    let compact = format == Format::Compact;
    if colors {
        Box::new(Layout::new(compact, Ansi(RefCell::new(out)), timestamp).with_host(host))
    } else {
        Box::new(Layout::new(compact, Plain(RefCell::new(out)), timestamp).with_host(host))
    }
}

/// The time at the start of a term line: the record's time (see
/// [`record_time`](super::time::record_time)), RFC 3339 UTC.
fn timestamp(w: &mut dyn Write) -> io::Result<()> {
    crate::format::timestamp::write_term_timestamp(w)
}

/// A term format without colors, into any writer: slog-term's full or
/// compact layout with every control and format character in record data
/// escaped.
///
/// These are the `full` and `compact` formats of [`init`](crate::init) when
/// the output is not a terminal. In messages, keys and values (and a child
/// logger's values):
///
/// | character | written as |
/// |---|---|
/// | newline, carriage return, tab | `\n`, `\r`, `\t` |
/// | other C0 controls (U+0000–U+001F), DEL (U+007F) | `\u{0}` … `\u{1f}`, `\u{7f}`; ESC is `\u{1b}` |
/// | C1 controls (U+0080–U+009F) | `\u{80}` … `\u{9f}` |
/// | line and paragraph separators | `\u{2028}`, `\u{2029}` |
/// | format characters (Unicode general category Cf, all 170 of Unicode 16.0): bidirectional controls U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C; zero-width U+200B–U+200D, U+2060, U+FEFF; soft hyphen U+00AD; tags U+E0001, U+E0020–U+E007F; … | `\u{202e}`, `\u{200b}`, … |
/// | backslash | `\\`, so that every escape reads back unambiguously |
///
/// Record data can therefore neither end a line, nor send an escape
/// sequence to a terminal, nor reorder or hide what a reader sees (Trojan
/// Source, CVE-2021-42574): every record is one line (in the compact layout
/// a child logger's fields also get a line of their own when they change,
/// as in slog-term), written with one `write_all` and a `flush`. Everything
/// else (other non-ASCII text, right-to-left scripts included) is written
/// as slog-term writes it; text that is only ASCII is not looked at
/// character by character.
///
/// It writes no host fields and every key as given: the renaming of host
/// keys to `fields.<name>` is the pipeline's, whose lines carry host fields
/// ([`host_fields_per_record`](crate::Builder::host_fields_per_record)).
///
/// Like slog-term's formats it is `Send` but not `Sync`: put it in a
/// `Mutex` or behind a channel.
///
/// ```
/// use std::sync::Mutex;
/// use slog::{info, o, Drain, Logger};
/// use slog_host::drain::TermFormat;
/// # use std::sync::Arc;
/// # #[derive(Clone, Default)]
/// # struct Buf(Arc<Mutex<Vec<u8>>>);
/// # impl std::io::Write for Buf {
/// #     fn write(&mut self, b: &[u8]) -> std::io::Result<usize> { self.0.lock().unwrap().extend_from_slice(b); Ok(b.len()) }
/// #     fn flush(&mut self) -> std::io::Result<()> { Ok(()) }
/// # }
/// # let buf = Buf::default();
/// # let out = buf.clone();
///
/// let log = Logger::root(Mutex::new(TermFormat::full(out)).fuse(), o!());
/// info!(log, "line one\nline two"; "user" => "bob\u{1b}[2J");
/// // 2026-11-21T23:05:09.123456Z INFO rust_out: line one\nline two, user: bob\u{1b}[2J
///
/// # let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
/// # assert!(text.ends_with(": line one\\nline two, user: bob\\u{1b}[2J\n"), "{text}");
/// # assert_eq!(text.lines().count(), 1);
/// ```
pub struct TermFormat(Layout<Plain<Box<dyn Write + Send>>>);

impl TermFormat {
    /// slog-term's full layout: `time LEVEL message, key: value, ...`, the
    /// record's fields first, then the loggers'.
    pub fn full(w: impl Write + Send + 'static) -> Self {
        TermFormat(Layout::new(
            false,
            Plain(RefCell::new(Box::new(w))),
            timestamp,
        ))
    }

    /// slog-term's compact layout: a logger's fields on lines of their own,
    /// written when they change, and its records indented below them.
    pub fn compact(w: impl Write + Send + 'static) -> Self {
        TermFormat(Layout::new(
            true,
            Plain(RefCell::new(Box::new(w))),
            timestamp,
        ))
    }
}

impl fmt::Debug for TermFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let layout = if self.0.compact { "compact" } else { "full" };
        f.debug_tuple("TermFormat").field(&layout).finish()
    }
}

impl Drain for TermFormat {
    type Ok = ();
    type Err = io::Error;

    fn log(&self, record: &Record<'_>, values: &OwnedKVList) -> io::Result<()> {
        self.0.log(record, values)
    }
}

// ---------------------------------------------------------------- the line

/// The parts of a line slog-term's decorators style differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    Timestamp,
    Whitespace,
    Level,
    Msg,
    Comma,
    Key,
    Separator,
    Value,
    Location,
}

/// One record's text, and where each part starts (kept only for a styled
/// output). Reused from record to record.
#[derive(Default)]
struct Line {
    buf: Vec<u8>,
    parts: Vec<(Part, usize)>,
    styled: bool,
}

impl Line {
    #[inline]
    fn part(&mut self, part: Part) {
        if self.styled {
            self.parts.push((part, self.buf.len()));
        }
    }

    /// Text the format itself writes.
    #[inline]
    fn raw(&mut self, text: &[u8]) {
        self.buf.extend_from_slice(text);
    }

    /// Record data: escaped.
    #[inline]
    fn data(&mut self, text: &str) {
        term::escape(&mut self.buf, text);
    }

    fn spaces(&mut self, n: usize) {
        self.buf.resize(self.buf.len() + n, b' ');
    }
}

// ---------------------------------------------------------------- outputs

/// Where finished lines go.
trait Out {
    /// Whether lines must keep their parts (for colors).
    const STYLED: bool;

    fn write_line(&self, record: &Record<'_>, values: &OwnedKVList, line: &Line) -> io::Result<()>;
}

/// A writer: one `write_all` and a `flush` per record.
struct Plain<W>(RefCell<W>);

impl<W: Write> Out for Plain<W> {
    const STYLED: bool = false;

    fn write_line(&self, _: &Record<'_>, _: &OwnedKVList, line: &Line) -> io::Result<()> {
        let mut w = self.0.borrow_mut();
        w.write_all(&line.buf)?;
        w.flush()
    }
}

/// A slog-term decorator, told each part before its text (as slog-term's
/// formats tell it), so that it adds its colors: the unit tests compare the
/// layout part for part with slog-term's own formats through it.
#[cfg(test)]
struct Styled<D>(D);

#[cfg(test)]
impl<D: Decorator> Out for Styled<D> {
    const STYLED: bool = true;

    fn write_line(&self, record: &Record<'_>, values: &OwnedKVList, line: &Line) -> io::Result<()> {
        self.0.with_record(record, values, |rd| {
            for (i, &(part, start)) in line.parts.iter().enumerate() {
                let end = line.parts.get(i + 1).map_or(line.buf.len(), |p| p.1);
                start_part(rd, part)?;
                rd.write_all(&line.buf[start..end])?;
            }
            rd.flush()
        })
    }
}

/// slog-term's `TermDecorator` colors, written as ANSI sequences into a
/// writer (the batch), so the terminal is written like any other output:
/// through the writer's own descriptor, batched like the rest, never
/// through `std::io::Stdout` and its lock. Level: the foreground color
/// slog-term gives it; message and keys: bold; every other part: reset.
struct Ansi<W>(RefCell<W>);

/// Select graphic rendition: reset.
const SGR_RESET: &[u8] = b"\x1b[0m";
/// Select graphic rendition: bold.
const SGR_BOLD: &[u8] = b"\x1b[1m";

/// The foreground color of `level`, as slog-term's `level_to_color`.
fn level_sgr(level: slog::Level) -> &'static [u8] {
    match level {
        slog::Level::Critical => b"\x1b[35m",
        slog::Level::Error => b"\x1b[31m",
        slog::Level::Warning => b"\x1b[33m",
        slog::Level::Info => b"\x1b[32m",
        slog::Level::Debug => b"\x1b[36m",
        slog::Level::Trace => b"\x1b[34m",
    }
}

impl<W: Write> Out for Ansi<W> {
    const STYLED: bool = true;

    fn write_line(&self, record: &Record<'_>, _: &OwnedKVList, line: &Line) -> io::Result<()> {
        let mut w = self.0.borrow_mut();
        let mut styled = false;
        for (i, &(part, start)) in line.parts.iter().enumerate() {
            let end = line.parts.get(i + 1).map_or(line.buf.len(), |p| p.1);
            let sgr = match part {
                Part::Level => Some(level_sgr(record.level())),
                Part::Msg | Part::Key => Some(SGR_BOLD),
                _ => None,
            };
            if styled {
                w.write_all(SGR_RESET)?;
            }
            styled = sgr.is_some();
            if let Some(sgr) = sgr {
                w.write_all(sgr)?;
            }
            w.write_all(&line.buf[start..end])?;
        }
        if styled {
            w.write_all(SGR_RESET)?;
        }
        w.flush()
    }
}

#[cfg(test)]
fn start_part(rd: &mut dyn RecordDecorator, part: Part) -> io::Result<()> {
    match part {
        Part::Timestamp => rd.start_timestamp(),
        Part::Whitespace => rd.start_whitespace(),
        Part::Level => rd.start_level(),
        Part::Msg => rd.start_msg(),
        Part::Comma => rd.start_comma(),
        Part::Key => rd.start_key(),
        Part::Separator => rd.start_separator(),
        Part::Value => rd.start_value(),
        Part::Location => rd.start_location(),
    }
}

// ---------------------------------------------------------------- layouts

/// The line buffer's capacity kept from record to record.
const LINE_KEPT: usize = 64 * 1024;

/// A logger's fields as the compact layout last wrote them, outermost first,
/// escaped.
type History = Vec<(Vec<u8>, Vec<u8>)>;

struct Layout<O> {
    compact: bool,
    /// The host fields (in the pipeline; `TermFormat` has none).
    host: Option<TermHost>,
    /// The names of the host fields of the last snapshot seen.
    names: RefCell<HostNames>,
    /// Write the record's target (`module::path:`) after the level.
    target: bool,
    out: O,
    timestamp: fn(&mut dyn Write) -> io::Result<()>,
    line: RefCell<Line>,
    history: RefCell<History>,
    /// The logger fields of the record being written (compact layout).
    context: RefCell<Context>,
}

impl<O: Out> Layout<O> {
    fn new(compact: bool, out: O, timestamp: fn(&mut dyn Write) -> io::Result<()>) -> Self {
        Layout {
            compact,
            host: None,
            names: RefCell::new(HostNames::new(false)),
            target: true,
            out,
            timestamp,
            line: RefCell::new(Line {
                styled: O::STYLED,
                ..Line::default()
            }),
            history: RefCell::default(),
            context: RefCell::default(),
        }
    }

    fn with_host(mut self, host: TermHost) -> Self {
        self.host = Some(host);
        self
    }

    /// Leaves the target out: exactly slog-term's layout (for the tests that
    /// compare the two).
    #[cfg(test)]
    fn without_target(mut self) -> Self {
        self.target = false;
        self
    }

    /// slog-term's `print_msg_header`, plus the target after the level:
    /// returns whether the message was not
    /// empty (then the first field needs a comma).
    fn header(&self, line: &mut Line, record: &Record<'_>) -> io::Result<bool> {
        line.part(Part::Timestamp);
        (self.timestamp)(&mut line.buf)?;
        line.part(Part::Whitespace);
        line.raw(b" ");
        line.part(Part::Level);
        line.raw(record.level().as_short_str().as_bytes());
        line.part(Part::Whitespace);
        line.raw(b" ");
        if self.target {
            // The filter's target: an explicit one, else the module path.
            let target = match record.tag() {
                "" => record.module(),
                tag => tag,
            };
            line.part(Part::Location);
            line.data(target);
            line.raw(b":");
            line.part(Part::Whitespace);
            line.raw(b" ");
        }
        line.part(Part::Msg);
        let before = line.buf.len();
        term::escape_fmt(&mut line.buf, *record.msg());
        Ok(line.buf.len() != before)
    }

    /// slog-term's `FullFormat::format_full`; with the host fields at the
    /// end when `host` is given.
    fn full(
        &self,
        line: &mut Line,
        record: &Record<'_>,
        values: &OwnedKVList,
        names: Option<&HostNames>,
        host: bool,
    ) -> io::Result<()> {
        let comma = self.header(line, record)?;
        let mut fields = Ser(Fields { line, comma }, names);
        record.kv().serialize(record, &mut fields)?;
        values.serialize(record, &mut fields)?;
        if let (true, Some(names)) = (host, names) {
            host_fields(&mut fields.0, names);
        }
        Ok(())
    }

    /// slog-term's `CompactFormat::format_compact`.
    fn compact(
        &self,
        line: &mut Line,
        record: &Record<'_>,
        values: &OwnedKVList,
        names: Option<&HostNames>,
    ) -> io::Result<()> {
        let mut context = self.context.borrow_mut();
        context.clear();
        values.serialize(record, &mut Ser(&mut *context, names))?;
        let mut history = self.history.borrow_mut();
        let mut indent = 0;
        for (key, value) in context.pairs().rev() {
            let changed = match history.get_mut(indent) {
                Some((k, v)) if k[..] == *key && v[..] == *value => false,
                Some((k, v)) => {
                    k.clear();
                    k.extend_from_slice(key);
                    v.clear();
                    v.extend_from_slice(value);
                    history.truncate(indent + 1);
                    true
                }
                None => {
                    history.push((key.to_vec(), value.to_vec()));
                    true
                }
            };
            if changed {
                line.part(Part::Whitespace);
                line.spaces(indent);
                line.part(Part::Key);
                line.raw(key);
                line.part(Part::Separator);
                line.raw(b":");
                line.part(Part::Whitespace);
                line.raw(b" ");
                line.part(Part::Value);
                line.raw(value);
                line.part(Part::Whitespace);
                line.raw(b"\n");
            }
            indent += 1;
        }
        line.part(Part::Whitespace);
        line.spaces(indent);
        let comma = self.header(line, record)?;
        record
            .kv()
            .serialize(record, &mut Ser(Fields { line, comma }, names))?;
        Ok(())
    }

    /// Ends `line`, writes it, and lets go of a huge record's memory.
    fn finish(&self, line: &mut Line, record: &Record<'_>, values: &OwnedKVList) -> io::Result<()> {
        line.part(Part::Whitespace);
        line.raw(b"\n");
        let written = self.out.write_line(record, values, line);
        if line.buf.capacity() > LINE_KEPT {
            // One huge record does not keep its memory.
            line.buf.clear();
            line.buf.shrink_to(LINE_KEPT);
        }
        written
    }
}

/// Writes the host fields of `names`' snapshot as fields of a line.
fn host_fields(fields: &mut Fields<'_>, names: &HostNames) {
    names.each(|k, renamed, v| {
        let out = fields.start(k, renamed);
        match v {
            FieldValue::Str(s) => term::escape(out, s),
            FieldValue::U32(n) => {
                let _ = write!(out, "{n}");
            }
        }
    });
}

impl<O: Out> Drain for Layout<O> {
    type Ok = ();
    type Err = io::Error;

    fn log(&self, record: &Record<'_>, values: &OwnedKVList) -> io::Result<()> {
        let mut line = self.line.borrow_mut();
        line.buf.clear();
        line.parts.clear();
        let mut names = self.names.borrow_mut();
        let per_record = self.host.as_ref().is_some_and(|h| h.per_record);
        let names = match &self.host {
            Some(host) => {
                // In banner mode the writer shows the banner (which updates
                // the names) before every record whose snapshot is new.
                if per_record || !names.is_set() {
                    let now = host.cache.load();
                    names.update(&now, now.schema());
                }
                Some(&*names)
            }
            None => None,
        };
        if self.compact && !per_record {
            self.compact(&mut line, record, values, names)?;
        } else {
            // With the host fields on every record, the logger's fields are
            // on the record's line too, before them (the compact layout's
            // lines of their own would show the host fields apart).
            self.full(&mut line, record, values, names, per_record)?;
        }
        self.finish(&mut line, record, values)
    }
}

impl<O: Out + Send> TermDrain for Layout<O> {
    fn banner(&self, record: &Record<'_>, host: &Arc<HostInfo>) -> io::Result<()> {
        let mut line = self.line.borrow_mut();
        line.buf.clear();
        line.parts.clear();
        let mut names = self.names.borrow_mut();
        names.update(host, host.schema());
        let comma = self.header(&mut line, record)?;
        host_fields(
            &mut Fields {
                line: &mut line,
                comma,
            },
            &names,
        );
        self.finish(&mut line, record, crate::record::event::no_values())
    }
}

// ---------------------------------------------------------------- fields

/// Writes fields into a line as slog-term's `Serializer` does:
/// `, key: value`.
struct Fields<'a> {
    line: &'a mut Line,
    comma: bool,
}

/// Collects a logger's fields (compact layout), escaped, in the order slog
/// gives them.
#[derive(Default)]
struct Context {
    bytes: Vec<u8>,
    /// Where each key starts and where its value starts.
    starts: Vec<(usize, usize)>,
}

impl Context {
    fn clear(&mut self) {
        self.bytes.clear();
        self.starts.clear();
    }

    fn pairs(&self) -> impl DoubleEndedIterator<Item = (&[u8], &[u8])> {
        self.starts.iter().enumerate().map(|(i, &(k, v))| {
            let end = self.starts.get(i + 1).map_or(self.bytes.len(), |n| n.0);
            (&self.bytes[k..v], &self.bytes[v..end])
        })
    }
}

/// Where a field's value goes, once its key is written (as
/// `fields.<key>` when `renamed`).
trait StartField {
    fn start(&mut self, key: Key, renamed: bool) -> &mut Vec<u8>;
}

impl StartField for Fields<'_> {
    #[inline]
    fn start(&mut self, key: Key, renamed: bool) -> &mut Vec<u8> {
        let line = &mut *self.line;
        if self.comma {
            line.part(Part::Comma);
            line.raw(b", ");
        }
        self.comma = true;
        line.part(Part::Key);
        if renamed {
            line.raw(RESERVED_PREFIX.as_bytes());
        }
        line.data(key);
        line.part(Part::Separator);
        line.raw(b":");
        line.part(Part::Whitespace);
        line.raw(b" ");
        line.part(Part::Value);
        &mut line.buf
    }
}

impl StartField for &mut Context {
    fn start(&mut self, key: Key, renamed: bool) -> &mut Vec<u8> {
        let k = self.bytes.len();
        if renamed {
            self.bytes.extend_from_slice(RESERVED_PREFIX.as_bytes());
        }
        term::escape(&mut self.bytes, key);
        self.starts.push((k, self.bytes.len()));
        &mut self.bytes
    }
}

/// A slog serializer writing values as slog-term does (`Display`), escaping
/// the ones that can hold text; a key named like a host field (of the
/// names, if given) is written as `fields.<key>`.
struct Ser<'n, T>(T, Option<&'n HostNames>);

impl<T: StartField> Ser<'_, T> {
    #[inline]
    fn start(&mut self, key: Key) -> &mut Vec<u8> {
        let renamed = self.1.is_some_and(|n| n.is_host_key(key));
        self.0.start(key, renamed)
    }
}

macro_rules! numbers {
    ($($t:ty => $f:ident),*) => {
        $(
            fn $f(&mut self, key: Key, val: $t) -> slog::Result {
                let _ = write!(self.start(key), "{val}");
                Ok(())
            }
        )*
    };
}

impl<T: StartField> slog::Serializer for Ser<'_, T> {
    fn emit_arguments(&mut self, key: Key, val: &fmt::Arguments<'_>) -> slog::Result {
        term::escape_fmt(self.start(key), *val);
        Ok(())
    }

    fn emit_str(&mut self, key: Key, val: &str) -> slog::Result {
        term::escape(self.start(key), val);
        Ok(())
    }

    fn emit_char(&mut self, key: Key, val: char) -> slog::Result {
        term::escape(self.start(key), val.encode_utf8(&mut [0; 4]));
        Ok(())
    }

    fn emit_none(&mut self, key: Key) -> slog::Result {
        self.start(key).extend_from_slice(b"None");
        Ok(())
    }

    fn emit_unit(&mut self, key: Key) -> slog::Result {
        self.start(key).extend_from_slice(b"()");
        Ok(())
    }

    numbers!(bool => emit_bool, u8 => emit_u8, i8 => emit_i8, u16 => emit_u16,
        i16 => emit_i16, u32 => emit_u32, i32 => emit_i32, u64 => emit_u64, i64 => emit_i64,
        usize => emit_usize, isize => emit_isize, f32 => emit_f32, f64 => emit_f64);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes a marker for each part slog-term announces, so that two
    /// formats can be compared part by part.
    #[derive(Clone, Default)]
    struct Marking(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    struct MarkingRecord<'a>(&'a std::sync::Mutex<Vec<u8>>);

    impl Decorator for Marking {
        fn with_record<F>(&self, _: &Record<'_>, _: &OwnedKVList, f: F) -> io::Result<()>
        where
            F: FnOnce(&mut dyn RecordDecorator) -> io::Result<()>,
        {
            f(&mut MarkingRecord(&self.0))
        }
    }

    impl Write for MarkingRecord<'_> {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            self.0.lock().unwrap().extend_from_slice(b"<flush>");
            Ok(())
        }
    }

    impl MarkingRecord<'_> {
        fn mark(&mut self, m: &str) -> io::Result<()> {
            self.0.lock().unwrap().extend_from_slice(m.as_bytes());
            Ok(())
        }
    }

    impl RecordDecorator for MarkingRecord<'_> {
        fn reset(&mut self) -> io::Result<()> {
            self.mark("<reset>")
        }
        fn start_whitespace(&mut self) -> io::Result<()> {
            self.mark("<ws>")
        }
        fn start_msg(&mut self) -> io::Result<()> {
            self.mark("<msg>")
        }
        fn start_timestamp(&mut self) -> io::Result<()> {
            self.mark("<ts>")
        }
        fn start_level(&mut self) -> io::Result<()> {
            self.mark("<level>")
        }
        fn start_comma(&mut self) -> io::Result<()> {
            self.mark("<comma>")
        }
        fn start_key(&mut self) -> io::Result<()> {
            self.mark("<key>")
        }
        fn start_value(&mut self) -> io::Result<()> {
            self.mark("<value>")
        }
        fn start_location(&mut self) -> io::Result<()> {
            self.mark("<location>")
        }
        fn start_separator(&mut self) -> io::Result<()> {
            self.mark("<sep>")
        }
    }

    fn fixed_time(w: &mut dyn Write) -> io::Result<()> {
        w.write_all(b"Jan 02 03:04:05.678")
    }

    /// Records with every kind of value, from loggers nested three deep with
    /// fields that change and stay, through `drain`.
    fn log_all(drain: impl Drain<Ok = (), Err = io::Error> + Send + 'static) {
        use slog::{crit, error, info, o, warn, Logger};
        let root = Logger::root(std::sync::Mutex::new(drain).fuse(), o!("app" => "demo"));
        info!(root, "started"; "port" => 8080u16, "tls" => true);
        info!(root, ""; "empty" => "message");
        info!(root, "no fields");
        let a = root.new(o!("conn" => 1, "peer" => "10.0.0.1"));
        warn!(a, "slow"; "ms" => 12.5f64, "c" => 'x', "none" => None::<u8>, "unit" => ());
        warn!(a, "again {}", 2; "big" => u64::MAX, "neg" => i64::MIN, "f32" => 1.5f32);
        let b = a.new(o!("req" => "GET /"));
        error!(b, "deep"; "args" => format_args!("{}-{}", 1, 2), "i8" => -3i8);
        let c = root.new(o!("conn" => 2));
        crit!(c, "other"; "usize" => 7usize, "isize" => -7isize, "u32" => 3u32);
        info!(root, "root again"; "u8" => 1u8, "i16" => -1i16, "u16" => 1u16, "i32" => -9i32);
    }

    fn same_as_slog_term(compact: bool) {
        let theirs = Marking::default();
        let ours = Marking::default();
        if compact {
            log_all(
                slog_term::CompactFormat::new(theirs.clone())
                    .use_custom_timestamp(fixed_time)
                    .build(),
            );
        } else {
            log_all(
                slog_term::FullFormat::new(theirs.clone())
                    .use_custom_timestamp(fixed_time)
                    .build(),
            );
        }
        log_all(Layout::new(compact, Styled(ours.clone()), fixed_time).without_target());
        let (theirs, ours) = (
            theirs.0.lock().unwrap().clone(),
            ours.0.lock().unwrap().clone(),
        );
        let (theirs, ours) = (
            String::from_utf8(theirs).unwrap(),
            String::from_utf8(ours).unwrap(),
        );
        assert!(theirs.contains("<key>conn<sep>:<ws> <value>1"), "{theirs}");
        assert_eq!(ours, theirs);
    }

    #[test]
    fn the_target_follows_the_level_escaped() {
        let buf = crate::format::term::SharedBuf::default();
        let log = slog::Logger::root(
            std::sync::Mutex::new(Layout::new(
                false,
                Plain(RefCell::new(buf.clone())),
                fixed_time,
            ))
            .fuse(),
            slog::o!(),
        );
        slog::info!(log, "by module");
        slog::info!(log, #"audit\x1b[2J", "by tag");
        let mut out = Vec::new();
        buf.move_into(&mut out);
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0].ends_with(" INFO slog_host::format::term::tests: by module"),
            "{text}"
        );
        assert!(
            lines[1].ends_with(" INFO audit\\u{1b}[2J: by tag"),
            "{text}"
        );
    }

    #[test]
    fn full_writes_what_slog_term_writes_part_by_part() {
        same_as_slog_term(false);
    }

    #[test]
    fn compact_writes_what_slog_term_writes_part_by_part() {
        same_as_slog_term(true);
    }

    #[test]
    fn plain_output_is_slog_terms_text_in_one_write_per_record() {
        /// Keeps each write apart.
        #[derive(Clone, Default)]
        struct Writes(std::sync::Arc<std::sync::Mutex<Vec<Vec<u8>>>>);
        impl Write for Writes {
            fn write(&mut self, b: &[u8]) -> io::Result<usize> {
                self.0.lock().unwrap().push(b.to_vec());
                Ok(b.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        for compact in [false, true] {
            let (ours, theirs) = (Writes::default(), Writes::default());
            log_all(
                Layout::new(compact, Plain(RefCell::new(ours.clone())), fixed_time)
                    .without_target(),
            );
            let plain = slog_term::PlainDecorator::new(theirs.clone());
            if compact {
                log_all(
                    slog_term::CompactFormat::new(plain)
                        .use_custom_timestamp(fixed_time)
                        .build(),
                );
            } else {
                log_all(
                    slog_term::FullFormat::new(plain)
                        .use_custom_timestamp(fixed_time)
                        .build(),
                );
            }
            let (ours, theirs) = (ours.0.lock().unwrap(), theirs.0.lock().unwrap());
            assert_eq!(ours.len(), 8, "one write per record");
            assert_eq!(ours.concat(), theirs.concat());
        }
    }
}
