//! slog-term's full and compact layouts, written into one line buffer with
//! record data escaped on the way in.

use std::cell::RefCell;
use std::fmt;
use std::io::{self, Write};
use std::sync::Arc;

use slog::{Drain, Key, OwnedKVList, Record, KV};

use super::style::{Line, Out, Part};
use crate::format::escape::term;
use crate::format::host_names::{HostNames, RESERVED_PREFIX};
use crate::host::cache::CacheRef;
use crate::host::info::FieldValue;
use crate::host::HostInfo;

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

/// The line buffer's capacity kept from record to record.
pub(super) const LINE_KEPT: usize = 64 * 1024;

/// A logger's fields as the compact layout last wrote them, outermost first,
/// escaped.
pub(super) type History = Vec<(Vec<u8>, Vec<u8>)>;

pub(super) struct Layout<O> {
    pub(super) compact: bool,
    /// The host fields (in the pipeline; `TermFormat` has none).
    pub(super) host: Option<TermHost>,
    /// The names of the host fields of the last snapshot seen.
    pub(super) names: RefCell<HostNames>,
    /// Write the record's target (`module::path:`) after the level.
    pub(super) target: bool,
    pub(super) out: O,
    pub(super) timestamp: fn(&mut dyn Write) -> io::Result<()>,
    pub(super) line: RefCell<Line>,
    pub(super) history: RefCell<History>,
    /// The logger fields of the record being written (compact layout).
    pub(super) context: RefCell<Context>,
}

impl<O: Out> Layout<O> {
    pub(super) fn new(
        compact: bool,
        out: O,
        timestamp: fn(&mut dyn Write) -> io::Result<()>,
    ) -> Self {
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

    pub(super) fn with_host(mut self, host: TermHost) -> Self {
        self.host = Some(host);
        self
    }

    /// Leaves the target out: exactly slog-term's layout (for the tests that
    /// compare the two).
    #[cfg(test)]
    pub(super) fn without_target(mut self) -> Self {
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
pub(super) fn host_fields(fields: &mut Fields<'_>, names: &HostNames) {
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
pub(super) struct Fields<'a> {
    line: &'a mut Line,
    comma: bool,
}

/// Collects a logger's fields (compact layout), escaped, in the order slog
/// gives them.
#[derive(Default)]
pub(super) struct Context {
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
pub(super) trait StartField {
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
pub(super) struct Ser<'n, T>(T, Option<&'n HostNames>);

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
