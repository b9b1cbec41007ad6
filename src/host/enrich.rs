//! [`Enrich`]: the drain wrapper that adds the host snapshot to every record.

use slog::{BorrowedKV, Drain, Level, OwnedKVList, Record, RecordStatic, KV};

use crate::host::cache::CacheRef;
use crate::host::info::HostInfo;

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
