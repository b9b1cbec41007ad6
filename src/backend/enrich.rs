//! [`Enrich`]: the drain wrapper that adds the host snapshot to every record.

use slog::{BorrowedKV, Drain, Level, OwnedKVList, Record, RecordStatic, KV};

use crate::host::cache::CacheRef;
use crate::host::HostInfo;

/// A drain wrapper that adds the current [`HostInfo`] fields to every record.
///
/// Per record it does one [`HostCache::load`](crate::host::HostCache::load) (an
/// atomic load), builds a new [`Record`] on the stack whose key-values are the
/// record's own followed by the snapshot's, and passes it on. All fields of a
/// record come from one snapshot, even while a refresh swaps it. No system
/// call, no allocation. `is_enabled` and `flush` are forwarded, so level
/// checks and flushing see through the wrapper.
///
/// ```
/// use slog::{info, o, Drain};
/// use slog_host::drain::Enrich;
///
/// let json = slog_json::Json::default(std::io::stdout());
/// let drain = Enrich::new(std::sync::Mutex::new(json)).fuse();
/// let log = slog::Logger::root(drain, o!());
/// info!(log, "request done"; "status" => 200);
/// // {"msg":"request done",...,"status":200,"host.name":"...","process.pid":...}
/// ```
///
/// It composes with any drain, slog-async's included (there it runs on
/// slog-async's thread, so the snapshot is the one current when the record
/// is written):
///
/// ```
/// use slog::{info, o, Drain};
/// use slog_host::drain::Enrich;
///
/// let json = slog_host::format::json(std::io::stdout());
/// let (drain, _guard) = slog_async::Async::new(Enrich::new(std::sync::Mutex::new(json)).fuse())
///     .build_with_guard();
/// let log = slog::Logger::root(drain.fuse(), o!());
/// info!(log, "request done"; "status" => 200);
/// ```
#[derive(Debug, Clone)]
pub struct Enrich<D> {
    drain: D,
    cache: CacheRef,
}

impl<D> Enrich<D> {
    /// Wraps `drain`, reading [`HostCache::global`](crate::host::HostCache::global).
    pub fn new(drain: D) -> Self {
        Enrich {
            drain,
            cache: CacheRef::global(),
        }
    }

    /// Wraps `drain`, reading `cache` (an `Arc<HostCache>` or the global one).
    pub fn with_cache(drain: D, cache: impl Into<CacheRef>) -> Self {
        Enrich {
            drain,
            cache: cache.into(),
        }
    }

    /// The wrapped drain.
    pub fn inner(&self) -> &D {
        &self.drain
    }

    /// Unwraps the drain.
    pub fn into_inner(self) -> D {
        self.drain
    }
}

/// The record's own key-values, then the snapshot's.
struct WithHost<'a> {
    record: BorrowedKV<'a>,
    host: &'a HostInfo,
}

impl KV for WithHost<'_> {
    fn serialize(&self, record: &Record<'_>, s: &mut dyn slog::Serializer) -> slog::Result {
        self.record.serialize(record, s)?;
        self.host.serialize(record, s)
    }
}

/// Logs `record` into `drain` with `fields` in place of its own key-values.
#[inline]
fn log_with_fields<D: Drain>(
    drain: &D,
    record: &Record<'_>,
    fields: &dyn KV,
    values: &OwnedKVList,
) -> Result<D::Ok, D::Err> {
    let rstatic = RecordStatic {
        location: record.location(),
        tag: record.tag(),
        level: record.level(),
    };
    drain.log(
        &Record::new(&rstatic, record.msg(), BorrowedKV(fields)),
        values,
    )
}

impl<D: Drain> Drain for Enrich<D> {
    type Ok = D::Ok;
    type Err = D::Err;

    #[inline]
    fn log(&self, record: &Record<'_>, values: &OwnedKVList) -> Result<D::Ok, D::Err> {
        let host = self.cache.load();
        let kv = WithHost {
            record: record.kv(),
            host: &host,
        };
        log_with_fields(&self.drain, record, &kv, values)
    }

    #[inline]
    fn is_enabled(&self, level: Level) -> bool {
        self.drain.is_enabled(level)
    }

    fn flush(&self) -> Result<(), slog::FlushError> {
        self.drain.flush()
    }
}

/// `Enrich` for the term formats with the host fields on every record: the
/// logger's fields are written with the record's, and a record or logger
/// field named like a host field is written as `fields.<name>`, so no line
/// shows a host field twice. (slog-term's own layouts would write the
/// logger's fields apart, where they could not be renamed.)
pub(crate) struct EnrichReserved<D> {
    pub(crate) drain: D,
    pub(crate) cache: CacheRef,
}

impl<D: Drain> Drain for EnrichReserved<D> {
    type Ok = D::Ok;
    type Err = D::Err;

    fn log(&self, record: &Record<'_>, values: &OwnedKVList) -> Result<D::Ok, D::Err> {
        let host = self.cache.load();
        let kv = Flat {
            record: record.kv(),
            values,
            host: &host,
        };
        log_with_fields(
            &self.drain,
            record,
            &kv,
            crate::frontend::capture::no_values(),
        )
    }

    fn is_enabled(&self, level: Level) -> bool {
        self.drain.is_enabled(level)
    }

    fn flush(&self) -> Result<(), slog::FlushError> {
        self.drain.flush()
    }
}

/// The record's fields, the logger's (both renamed where they collide with
/// a host field), then the host's.
struct Flat<'a> {
    record: BorrowedKV<'a>,
    values: &'a OwnedKVList,
    host: &'a HostInfo,
}

impl KV for Flat<'_> {
    fn serialize(&self, record: &Record<'_>, s: &mut dyn slog::Serializer) -> slog::Result {
        let mut renamed = Rename {
            inner: s,
            host: self.host,
        };
        self.record.serialize(record, &mut renamed)?;
        self.values.serialize(record, &mut renamed)?;
        self.host.serialize(record, s)
    }
}

struct Rename<'a> {
    inner: &'a mut dyn slog::Serializer,
    host: &'a HostInfo,
}

impl Rename<'_> {
    fn key(&self, k: slog::Key) -> slog::Key {
        let schema = self.host.schema();
        let taken = self
            .host
            .visit(|name, _| {
                if schema.field(name) == k {
                    Err(())
                } else {
                    Ok(())
                }
            })
            .is_err();
        if taken {
            prefixed(k)
        } else {
            k
        }
    }
}

/// `fields.<k>`, made once per name (host field names are few and fixed).
fn prefixed(k: &'static str) -> &'static str {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock, PoisonError};
    static NAMES: OnceLock<Mutex<HashMap<&'static str, &'static str>>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    names.entry(k).or_insert_with(|| {
        Box::leak(format!("{}{k}", super::json::RESERVED_PREFIX).into_boxed_str())
    })
}

macro_rules! forward {
    ($($name:ident: $t:ty),* $(,)?) => {
        $(fn $name(&mut self, key: slog::Key, val: $t) -> slog::Result {
            let key = self.key(key);
            self.inner.$name(key, val)
        })*
    };
}

impl slog::Serializer for Rename<'_> {
    forward!(
        emit_usize: usize, emit_isize: isize, emit_bool: bool, emit_char: char,
        emit_u8: u8, emit_i8: i8, emit_u16: u16, emit_i16: i16, emit_u32: u32,
        emit_i32: i32, emit_f32: f32, emit_u64: u64, emit_i64: i64, emit_f64: f64,
        emit_u128: u128, emit_i128: i128, emit_str: &str,
        emit_arguments: &std::fmt::Arguments<'_>,
    );

    fn emit_unit(&mut self, key: slog::Key) -> slog::Result {
        let key = self.key(key);
        self.inner.emit_unit(key)
    }

    fn emit_none(&mut self, key: slog::Key) -> slog::Result {
        let key = self.key(key);
        self.inner.emit_none(key)
    }
}
