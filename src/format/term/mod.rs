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

use slog::{Drain, OwnedKVList, Record};
#[cfg(test)]
use slog_term::{Decorator, RecordDecorator};

use crate::format::Format;

mod layout;
mod style;
#[cfg(test)]
mod tests;

use layout::Layout;
pub(crate) use layout::{TermDrain, TermHost};
use style::{Ansi, Plain};

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
