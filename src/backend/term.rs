//! The term formats ([`Format::Full`], [`Format::Compact`]): slog-term's
//! layout, with record data escaped so that it cannot forge a line or reach
//! the terminal raw.
//!
//! slog-term writes messages, keys and values as they are. This module wraps
//! its decorator in an [`EscapingDecorator`]: slog-term announces each part of
//! a line (`start_msg`, `start_key`, `start_value`, `start_whitespace`, ...),
//! and while a message, key, value or location is being written every control
//! character becomes a visible escape. The parts slog-term writes itself (the
//! timestamp, the level, separators, spaces and the final newline) and the
//! decorator's own color sequences pass unchanged.

use std::io::{self, Write};

use slog::{Drain, OwnedKVList, Record};
use slog_term::{Decorator, RecordDecorator};

use crate::backend::output::Output;
use crate::Format;

/// The drain for a term format, writing to `output`; with `color`, stdout and
/// stderr get slog-term's colors (other outputs never do).
///
/// `format` is [`Format::Full`] or [`Format::Compact`]; JSON is not a term
/// format and is written as [`Format::Full`].
pub(crate) fn term_drain(
    format: Format,
    color: bool,
    output: Output,
) -> Box<dyn Drain<Ok = (), Err = io::Error> + Send> {
    debug_assert!(format != Format::Json, "JSON is not a term format");
    match (color, output) {
        (true, Output::Stdout) => build(
            format,
            slog_term::TermDecorator::new()
                .stdout()
                .force_color()
                .build(),
        ),
        (true, Output::Stderr) => build(
            format,
            slog_term::TermDecorator::new()
                .stderr()
                .force_color()
                .build(),
        ),
        (_, output) => build(format, slog_term::PlainDecorator::new(output.into_writer())),
    }
}

fn build<D>(format: Format, decorator: D) -> Box<dyn Drain<Ok = (), Err = io::Error> + Send>
where
    D: Decorator + Send + 'static,
{
    let decorator = EscapingDecorator::new(decorator);
    match format {
        Format::Compact => Box::new(
            slog_term::CompactFormat::new(decorator)
                .use_custom_timestamp(timestamp)
                .build(),
        ),
        Format::Full | Format::Json => Box::new(
            slog_term::FullFormat::new(decorator)
                .use_custom_timestamp(timestamp)
                .build(),
        ),
    }
}

/// The time at the start of a term line: now, in UTC, slog-term's layout
/// (`Nov 21 23:05:09.123`).
fn timestamp(w: &mut dyn Write) -> io::Result<()> {
    slog_term::timestamp_utc(w)
}

/// A slog-term [`Decorator`] that escapes record data.
///
/// It wraps any slog-term decorator (`PlainDecorator`, `TermDecorator`, ...).
/// While slog-term writes a message, a key, a value or a source location,
/// every control character is written as a visible escape:
///
/// | character | written as |
/// |---|---|
/// | newline, carriage return, tab | `\n`, `\r`, `\t` |
/// | other C0 controls (U+0000–U+001F), DEL (U+007F) | `\u{0}` … `\u{1f}`, `\u{7f}`; ESC is `\u{1b}` |
/// | C1 controls (U+0080–U+009F) | `\u{80}` … `\u{9f}` |
/// | line and paragraph separators | `\u{2028}`, `\u{2029}` |
/// | backslash | `\\`, so that every escape can be read back |
///
/// Record data can therefore neither end a line nor send an escape sequence
/// to the terminal: one record is one line (in slog-term's compact format, a
/// child logger's fields get their own lines when they change, as before),
/// and the only escape sequences are the wrapped decorator's colors. Text
/// without these characters is written unchanged, each run of safe bytes in
/// one write.
///
/// ```
/// use std::sync::Mutex;
/// use slog::{info, o, Drain, Logger};
/// use slog_host::EscapingDecorator;
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
/// let decorator = EscapingDecorator::new(slog_term::PlainDecorator::new(out));
/// let drain = slog_term::FullFormat::new(decorator).build();
/// let log = Logger::root(Mutex::new(drain).fuse(), o!());
/// info!(log, "line one\nline two"; "user" => "bob\u{1b}[2J");
///
/// # let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
/// # assert!(text.ends_with("line one\\nline two, user: bob\\u{1b}[2J\n"), "{text}");
/// # assert_eq!(text.lines().count(), 1);
/// // Nov 21 23:05:09.123 INFO line one\nline two, user: bob\u{1b}[2J
/// ```
#[derive(Clone, Debug)]
pub struct EscapingDecorator<D>(D);

impl<D: Decorator> EscapingDecorator<D> {
    /// Wraps `decorator`.
    pub fn new(decorator: D) -> Self {
        EscapingDecorator(decorator)
    }
}

impl<D: Decorator> Decorator for EscapingDecorator<D> {
    fn with_record<F>(&self, record: &Record<'_>, values: &OwnedKVList, f: F) -> io::Result<()>
    where
        F: FnOnce(&mut dyn RecordDecorator) -> io::Result<()>,
    {
        self.0.with_record(record, values, |inner| {
            f(&mut Escaping {
                inner,
                // Until slog-term names a part, what it writes is escaped.
                data: true,
            })
        })
    }
}

/// The per-record side of [`EscapingDecorator`].
struct Escaping<'a> {
    inner: &'a mut dyn RecordDecorator,
    /// True while a message, key, value or location is being written.
    data: bool,
}

impl Escaping<'_> {
    fn part(&mut self, data: bool) -> &mut dyn RecordDecorator {
        self.data = data;
        self.inner
    }
}

impl Write for Escaping<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        if self.data {
            write_escaped(self.inner, buf)
        } else {
            self.inner.write_all(buf)
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl RecordDecorator for Escaping<'_> {
    fn reset(&mut self) -> io::Result<()> {
        self.part(true).reset()
    }

    fn start_whitespace(&mut self) -> io::Result<()> {
        self.part(false).start_whitespace()
    }

    fn start_msg(&mut self) -> io::Result<()> {
        self.part(true).start_msg()
    }

    fn start_timestamp(&mut self) -> io::Result<()> {
        self.part(false).start_timestamp()
    }

    fn start_level(&mut self) -> io::Result<()> {
        self.part(false).start_level()
    }

    fn start_comma(&mut self) -> io::Result<()> {
        self.part(false).start_comma()
    }

    fn start_key(&mut self) -> io::Result<()> {
        self.part(true).start_key()
    }

    fn start_value(&mut self) -> io::Result<()> {
        self.part(true).start_value()
    }

    fn start_location(&mut self) -> io::Result<()> {
        self.part(true).start_location()
    }

    fn start_separator(&mut self) -> io::Result<()> {
        self.part(false).start_separator()
    }
}

/// What a byte means to the scan in [`write_escaped`].
const SAFE: u8 = 0;
/// Escaped by itself: C0, DEL, backslash.
const ASCII: u8 = 1;
/// The first byte of U+0080–U+00BF (C1 controls are U+0080–U+009F).
const LEAD_C2: u8 = 2;
/// The first byte of U+2000–U+203F (line and paragraph separators).
const LEAD_E2: u8 = 3;

const CLASS: [u8; 256] = {
    let mut t = [SAFE; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = ASCII;
        b += 1;
    }
    t[0x7f] = ASCII;
    t[b'\\' as usize] = ASCII;
    t[0xc2] = LEAD_C2;
    t[0xe2] = LEAD_E2;
    t
};

/// Writes `buf` with every control character escaped (see
/// [`EscapingDecorator`]); each run of safe bytes is written at once.
///
/// slog-term hands over whole UTF-8 strings. Should a write ever end inside
/// a character that could be a control, its bytes are written as `\xNN`
/// escapes: invisible controls stay impossible even then.
fn write_escaped(out: &mut dyn Write, buf: &[u8]) -> io::Result<()> {
    let mut start = 0;
    let mut i = 0;
    while i < buf.len() {
        let b = buf[i];
        let width = match CLASS[b as usize] {
            SAFE => {
                i += 1;
                continue;
            }
            ASCII => 1,
            LEAD_C2 => match buf.get(i + 1) {
                Some(0x80..=0x9f) => 2,
                Some(_) => {
                    i += 2;
                    continue;
                }
                None => 1,
            },
            _ => match (buf.get(i + 1), buf.get(i + 2)) {
                (Some(0x80), Some(0xa8 | 0xa9)) => 3,
                (Some(0x80), None) => 2,
                (None, _) => 1,
                _ => {
                    i += 1;
                    continue;
                }
            },
        };
        out.write_all(&buf[start..i])?;
        escape(out, &buf[i..i + width])?;
        i += width;
        start = i;
    }
    out.write_all(&buf[start..])
}

/// Writes the escape of one character (`bytes` is its UTF-8), or of the
/// bytes of a character cut off at the end of a write.
fn escape(out: &mut dyn Write, bytes: &[u8]) -> io::Result<()> {
    match std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| s.chars().next())
    {
        Some('\n') => out.write_all(b"\\n"),
        Some('\r') => out.write_all(b"\\r"),
        Some('\t') => out.write_all(b"\\t"),
        Some('\\') => out.write_all(b"\\\\"),
        Some(c) => write!(out, "\\u{{{:x}}}", c as u32),
        None => bytes.iter().try_for_each(|b| write!(out, "\\x{b:02x}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(s: &str) -> String {
        let mut out = Vec::new();
        write_escaped(&mut out, s.as_bytes()).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn escapes_every_control_character_visibly() {
        assert_eq!(escaped("a\nb\r\tc"), r"a\nb\r\tc");
        assert_eq!(escaped("\u{1b}[2J\u{7}"), r"\u{1b}[2J\u{7}");
        assert_eq!(escaped("\0\u{7f}"), r"\u{0}\u{7f}");
        assert_eq!(
            escaped("\u{80}x\u{85}\u{9b}\u{9f}"),
            r"\u{80}x\u{85}\u{9b}\u{9f}"
        );
        assert_eq!(escaped("a\u{2028}b\u{2029}"), r"a\u{2028}b\u{2029}");
        assert_eq!(escaped(r"C:\dir"), r"C:\\dir");
    }

    #[test]
    fn other_text_is_unchanged() {
        for s in [
            "",
            "plain ascii: 1, 2 = 3 {ok}",
            "\u{a0}\u{bf}\u{c0}é ü ß", // after C1, lead byte 0xc2/0xc3
            "\u{2000}\u{2027}\u{202a}\u{2030}—…€", // lead byte 0xe2, not separators
            "日本語 😀",
        ] {
            assert_eq!(escaped(s), s);
        }
    }

    #[test]
    fn a_character_cut_at_the_end_of_a_write_is_still_escaped() {
        let mut out = Vec::new();
        write_escaped(&mut out, b"a\xc2").unwrap();
        write_escaped(&mut out, b"x\xe2\x80").unwrap();
        write_escaped(&mut out, b"\xe2").unwrap();
        assert_eq!(out, br"a\xc2x\xe2\x80\xe2");
    }
}
