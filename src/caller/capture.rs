//! Capture on the calling thread: a `slog::Record` becomes an [`Event`], and
//! the bridges' scratch event. Nothing here makes a system call or, once the
//! event's buffers are warm, an allocation.

use std::fmt::{self, Write as _};
use std::time::SystemTime;

use slog::{Key, OwnedKVList, Record, KV};

use crate::record::event::{Event, Kind, Value, ALL_OUTPUTS, KEEP_TEXT_BYTES};
use crate::record::trace_ids;

thread_local! {
    static SCRATCH: std::cell::RefCell<Event> = std::cell::RefCell::new(Event::default());
    /// True while a bridge (`log`, `tracing`) builds and replays a record on
    /// this thread: the record already has its span fields.
    static BRIDGING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` with this thread's reused scratch event (a fresh one if `f`
/// logs again from inside). The record `f` replays is not given span fields
/// again when it is captured: the bridge adds them itself.
pub(crate) fn with_scratch<R>(f: impl FnOnce(&mut Event) -> R) -> R {
    struct Bridging(bool);
    impl Drop for Bridging {
        fn drop(&mut self) {
            let _ = BRIDGING.try_with(|b| b.set(self.0));
        }
    }
    let _restore = Bridging(BRIDGING.try_with(|b| b.replace(true)).unwrap_or(false));
    let mut f = Some(f);
    let reused = SCRATCH.try_with(|cell| {
        cell.try_borrow_mut()
            .ok()
            .map(|mut ev| (f.take().expect("called once"))(&mut ev))
    });
    match reused {
        Ok(Some(r)) => {
            // A huge record leaves no huge buffer behind in every thread.
            let _ = SCRATCH.try_with(|cell| {
                if let Ok(mut ev) = cell.try_borrow_mut() {
                    if ev.size() > std::mem::size_of::<Event>() + KEEP_TEXT_BYTES {
                        ev.clear();
                    }
                }
            });
            r
        }
        _ => (f.take().expect("not called yet"))(&mut Event::default()),
    }
}

impl Event {
    /// Fills this event from `record`, reusing its buffers.
    pub(crate) fn capture(&mut self, record: &Record<'_>, values: &OwnedKVList) {
        self.kind = Kind::Record;
        self.outputs = ALL_OUTPUTS;
        self.time = SystemTime::now();
        self.level = record.level();
        self.location = *record.location();
        self.text.clear();
        self.fields.clear();
        self.text.push_str(record.tag());
        self.tag = 0..self.text.len();
        // A message without arguments is copied, not formatted.
        match record.msg().as_str() {
            Some(msg) => self.text.push_str(msg),
            None => {
                let _ = self.text.write_fmt(*record.msg());
            }
        }
        self.msg = self.tag.end..self.text.len();
        let _ = record.kv().serialize(record, &mut Capturer(self));
        self.logger = Some(values.clone());
        self.trace = trace_ids::current();
        // A span entered on this thread: its fields (one thread-local read
        // when there is none).
        #[cfg(feature = "tracing")]
        if super::bridges::span_fields::span_entered()
            && !BRIDGING.try_with(std::cell::Cell::get).unwrap_or(true)
        {
            super::bridges::span_fields::push_current_span_fields(self);
        }
    }
}

/// Writes fields into an event.
struct Capturer<'a>(&'a mut Event);

impl Capturer<'_> {
    fn push(&mut self, key: Key, v: Value) -> slog::Result {
        self.0.fields.push((key, v));
        Ok(())
    }
}

macro_rules! emit {
    ($($name:ident: $t:ty => $variant:ident as $conv:ty),* $(,)?) => {
        $(fn $name(&mut self, key: Key, val: $t) -> slog::Result {
            self.push(key, Value::$variant(<$conv>::from(val)))
        })*
    };
}

impl slog::Serializer for Capturer<'_> {
    emit! {
        emit_u8: u8 => U64 as u64, emit_u16: u16 => U64 as u64, emit_u32: u32 => U64 as u64,
        emit_u64: u64 => U64 as u64,
        emit_i8: i8 => I64 as i64, emit_i16: i16 => I64 as i64, emit_i32: i32 => I64 as i64,
        emit_i64: i64 => I64 as i64,
        emit_u128: u128 => U128 as u128, emit_i128: i128 => I128 as i128,
        emit_f32: f32 => F32 as f32, emit_f64: f64 => F64 as f64,
        emit_bool: bool => Bool as bool, emit_char: char => Char as char,
    }

    fn emit_usize(&mut self, key: Key, val: usize) -> slog::Result {
        self.push(key, Value::U64(val as u64))
    }

    fn emit_isize(&mut self, key: Key, val: isize) -> slog::Result {
        self.push(key, Value::I64(val as i64))
    }

    fn emit_unit(&mut self, key: Key) -> slog::Result {
        self.push(key, Value::Unit)
    }

    fn emit_none(&mut self, key: Key) -> slog::Result {
        self.push(key, Value::None)
    }

    fn emit_str(&mut self, key: Key, val: &str) -> slog::Result {
        let start = self.0.text.len();
        self.0.text.push_str(val);
        self.push(key, Value::Str(start..self.0.text.len()))
    }

    fn emit_arguments(&mut self, key: Key, val: &fmt::Arguments<'_>) -> slog::Result {
        let start = self.0.text.len();
        let _ = self.0.text.write_fmt(*val);
        self.push(key, Value::Str(start..self.0.text.len()))
    }
}
