//! A term line, its parts, and how it reaches its writer (writer thread):
//! plain (one write), with ANSI colors (the level, message and keys colored
//! as slog-term colors them), or, in tests, through slog-term's own
//! decorator part by part.

use std::cell::RefCell;
use std::io::{self, Write};

use slog::{OwnedKVList, Record};
#[cfg(test)]
use slog_term::{Decorator, RecordDecorator};

use crate::format::escape::term;

/// The parts of a line slog-term's decorators style differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Part {
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
pub(super) struct Line {
    pub(super) buf: Vec<u8>,
    pub(super) parts: Vec<(Part, usize)>,
    pub(super) styled: bool,
}

impl Line {
    #[inline]
    pub(super) fn part(&mut self, part: Part) {
        if self.styled {
            self.parts.push((part, self.buf.len()));
        }
    }

    /// Text the format itself writes.
    #[inline]
    pub(super) fn raw(&mut self, text: &[u8]) {
        self.buf.extend_from_slice(text);
    }

    /// Record data: escaped.
    #[inline]
    pub(super) fn data(&mut self, text: &str) {
        term::escape(&mut self.buf, text);
    }

    pub(super) fn spaces(&mut self, n: usize) {
        self.buf.resize(self.buf.len() + n, b' ');
    }
}

/// Where finished lines go.
pub(super) trait Out {
    /// Whether lines must keep their parts (for colors).
    const STYLED: bool;

    fn write_line(&self, record: &Record<'_>, values: &OwnedKVList, line: &Line) -> io::Result<()>;
}

/// A writer: one `write_all` and a `flush` per record.
pub(super) struct Plain<W>(pub(super) RefCell<W>);

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
pub(super) struct Styled<D>(pub(super) D);

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
pub(super) struct Ansi<W>(pub(super) RefCell<W>);

/// Select graphic rendition: reset.
pub(super) const SGR_RESET: &[u8] = b"\x1b[0m";
/// Select graphic rendition: bold.
pub(super) const SGR_BOLD: &[u8] = b"\x1b[1m";

/// The foreground color of `level`, as slog-term's `level_to_color`.
pub(super) fn level_sgr(level: slog::Level) -> &'static [u8] {
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
pub(super) fn start_part(rd: &mut dyn RecordDecorator, part: Part) -> io::Result<()> {
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
