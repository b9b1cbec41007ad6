//! The exporter thread: takes the records the writer thread encoded,
//! builds export requests of at most `max_export_batch_size` records with
//! the current host snapshot as their resource, and sends them with a
//! blocking HTTP client (ureq), retrying what the specification calls
//! retryable. Nothing here ever blocks the writer thread or a caller: the
//! writer hands records over under a short lock, and records past the
//! queue's bounds are dropped and counted.

use std::collections::VecDeque;
use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread::{JoinHandle, ThreadId};
use std::time::{Duration, Instant, SystemTime};

use super::config::{OtlpConfig, Protocol};
use super::request::{request, Unit};
use super::response::{partial_success, retry_after};
use crate::background::Jitter;
use crate::error::Error;
use crate::host::cache::CacheRef;

/// The shortest wait between two tries while the collector does not
/// answer: each wait is drawn between this and [`MAX_BACKOFF`], so a
/// collector that comes back is probed within half a second, and many
/// replicas do not try in step. Retrying a batch and probing the collector
/// are one thing: one request per wait, whatever the outage's length.
pub const MIN_BACKOFF: Duration = Duration::from_millis(250);
/// The longest wait between two tries (a `Retry-After` may ask for more).
pub const MAX_BACKOFF: Duration = Duration::from_millis(500);
/// The longest `Retry-After` honoured (a longer one waits this long). A
/// shorter one than the first backoff (`Retry-After: 0`) waits that much.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// The most of a response body read (a status and a partial success are
/// all that is needed).
const MAX_RESPONSE_BYTES: u64 = 64 << 10;
/// Buffers of the exporter thread larger than this are given back after a
/// request.
const KEEP_BUFFER: usize = 4 << 20;

/// Encoded records handed over by the writer thread, packed.
struct Chunk {
    data: Vec<u8>,
    units: Vec<Unit>,
    /// Units already taken for export.
    next: usize,
}

#[derive(Default)]
struct State {
    chunks: VecDeque<Chunk>,
    /// Records and bytes queued (not yet taken for export).
    records: usize,
    bytes: usize,
    /// Records accepted into the queue so far, and those resolved
    /// (exported, or dropped after they were accepted): counts.
    accepted: u64,
    resolved: u64,
    /// Records are numbered in the order they were accepted: the first one
    /// queued, and the first of the batch under way. Everything older than
    /// both is resolved (the oldest queued records may be dropped while an
    /// older batch is under way, so `resolved` alone cannot say it).
    queue_start: u64,
    in_flight: Option<u64>,
    /// A flush waits until everything before this is resolved.
    flush_upto: u64,
    /// Queued records were dropped to make room for newer ones since the
    /// batch under way was taken: that batch is older than all of them.
    evicted: bool,
    /// A flush waited in vain and nothing was exported since: the next
    /// flushes do not wait (one wait per outage, not one per flush).
    stalled: bool,
    /// Set by shutdown: export what is queued until this instant, then
    /// drop the rest.
    deadline: Option<Instant>,
    /// No more exports: shut down, or the exporter thread panicked.
    finished: bool,
    /// The exporter thread panicked: records that come are dropped and
    /// counted.
    dead: bool,
}

impl State {
    /// The number of the oldest record not resolved yet (`accepted` if
    /// none is).
    fn oldest(&self) -> u64 {
        self.in_flight.unwrap_or(self.queue_start)
    }
}

/// Counters shared with the guard.
#[derive(Debug, Default)]
pub(crate) struct ExportStats {
    pub(crate) exported: AtomicU64,
    pub(crate) dropped: AtomicU64,
    /// Drops not yet reported in the line outputs.
    pub(crate) unreported: AtomicU64,
    /// Why records were last dropped.
    last_drop: Mutex<Option<String>>,
    /// Why the last try failed (cleared by a success).
    last_failure: Mutex<Option<String>>,
}

/// The exporter: its queue and its thread.
pub(crate) struct Exporter {
    config: OtlpConfig,
    cache: CacheRef,
    state: Mutex<State>,
    /// Wakes the exporter thread.
    work: Condvar,
    /// Wakes flushes when records are resolved.
    done: Condvar,
    pub(crate) stats: ExportStats,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// The exporter thread's id: a flush on it (the panic hook, if the
    /// export itself panicked) must not wait for itself.
    thread_id: OnceLock<ThreadId>,
}

impl Exporter {
    pub(crate) fn start(config: OtlpConfig, cache: CacheRef) -> Result<Arc<Exporter>, Error> {
        let exporter = Arc::new(Exporter {
            config,
            cache,
            state: Mutex::default(),
            work: Condvar::new(),
            done: Condvar::new(),
            stats: ExportStats::default(),
            thread: Mutex::new(None),
            thread_id: OnceLock::new(),
        });
        let e = Arc::clone(&exporter);
        let thread = std::thread::Builder::new()
            .name(crate::record::thread_role::EXPORT_THREAD_NAME.to_owned())
            .spawn(move || {
                let _ = e.thread_id.set(std::thread::current().id());
                let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| e.run()));
                if run.is_err() {
                    // Nothing exports any more: what is queued, and what
                    // comes, is dropped and counted.
                    crate::error::report(format_args!(
                        "the OTLP exporter panicked; records are no longer exported"
                    ));
                    lock(&e.state).dead = true;
                    e.give_up("the OTLP exporter panicked");
                }
            })
            .map_err(|err| Error::io("cannot start the OTLP exporter thread", &err))?;
        *lock(&exporter.thread) = Some(thread);
        Ok(exporter)
    }

    pub(crate) fn json(&self) -> bool {
        self.config.protocol == Protocol::HttpJson
    }

    /// The export timeout (`OTEL_BLRP_EXPORT_TIMEOUT`).
    pub(crate) fn export_timeout(&self) -> Duration {
        self.config.export_timeout
    }

    /// Queues the records `units` of `data` (writer thread), copied: the
    /// queue holds only their bytes. The queue keeps the newest records:
    /// past its bounds the oldest are dropped, counted. After shutdown (the
    /// guard was dropped) records are not exported: they go to the line
    /// outputs only.
    pub(crate) fn push(&self, data: &[u8], units: &[Unit]) {
        let mut s = lock(&self.state);
        if s.dead {
            drop(s);
            self.count_dropped(units.len() as u64, "the OTLP exporter panicked");
            return;
        }
        if s.finished || s.deadline.is_some() {
            return;
        }
        let (max_records, max_bytes) = (self.config.max_queue_size, self.config.max_queue_bytes);
        let len = |u: &Unit| u.record.len() + u.target.len();
        // A hand-over larger than the whole queue keeps its newest records.
        let mut size: usize = units.iter().map(len).sum();
        let mut first = 0;
        while first < units.len() && (units.len() - first > max_records || size > max_bytes) {
            size -= len(&units[first]);
            first += 1;
        }
        let units = &units[first..];
        // Then the oldest queued records make room.
        let mut evicted = 0u64;
        while s.records + units.len() > max_records || s.bytes + size > max_bytes {
            let Some(chunk) = s.chunks.front_mut() else {
                break;
            };
            let freed = chunk.units.get(chunk.next).map(len);
            chunk.next += 1;
            if chunk.next >= chunk.units.len() {
                s.chunks.pop_front();
            }
            if let Some(freed) = freed {
                s.records -= 1;
                s.bytes = s.bytes.saturating_sub(freed);
                evicted += 1;
            }
        }
        if evicted > 0 {
            s.resolved += evicted;
            s.queue_start += evicted;
            s.evicted = true;
        }
        if !units.is_empty() {
            let mut packed = Vec::with_capacity(size);
            let mut kept = Vec::with_capacity(units.len());
            for u in units {
                let t = packed.len();
                packed.extend_from_slice(&data[u.target.clone()]);
                let r = packed.len();
                packed.extend_from_slice(&data[u.record.clone()]);
                kept.push(Unit {
                    target: t..r,
                    record: r..packed.len(),
                });
            }
            s.records += units.len();
            s.bytes += size;
            s.accepted += units.len() as u64;
            s.chunks.push_back(Chunk {
                data: packed,
                units: kept,
                next: 0,
            });
            if s.records >= self.config.max_export_batch_size {
                self.work.notify_one();
            }
        }
        drop(s);
        let dropped = first as u64 + evicted;
        if dropped > 0 {
            let why = match lock(&self.stats.last_failure).as_deref() {
                Some(f) => {
                    format!("the OTLP export queue is full ({f}): the oldest records are dropped")
                }
                None => "the OTLP export queue is full: the oldest records are dropped".to_owned(),
            };
            self.count_dropped(dropped, &why);
            self.done.notify_all();
        }
    }

    fn count_dropped(&self, n: u64, why: &str) {
        if n == 0 {
            return;
        }
        self.stats.dropped.fetch_add(n, Ordering::Relaxed);
        self.stats.unreported.fetch_add(n, Ordering::Relaxed);
        let mut last = lock(&self.stats.last_drop);
        if last.as_deref() != Some(why) {
            *last = Some(why.to_owned());
        }
    }

    /// Why records were last dropped.
    pub(crate) fn last_drop(&self) -> Option<String> {
        lock(&self.stats.last_drop).clone()
    }

    /// Records queued or in an export under way.
    pub(crate) fn unexported(&self) -> u64 {
        let s = lock(&self.state);
        s.accepted.saturating_sub(s.resolved)
    }

    /// Waits until every record queued before the call is exported or
    /// dropped (and counted), at most until `deadline`: the records still
    /// unexported then (0: all done). While the collector stays unreachable
    /// after a flush that waited in vain, flushes do not wait.
    pub(crate) fn flush(&self, deadline: Instant) -> u64 {
        if self.thread_id.get() == Some(&std::thread::current().id()) {
            return self.unexported();
        }
        let mut s = lock(&self.state);
        let upto = s.accepted;
        if s.stalled {
            return s.accepted.saturating_sub(s.resolved);
        }
        s.flush_upto = s.flush_upto.max(upto);
        self.work.notify_one();
        while s.oldest() < upto && !s.finished {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                s.stalled = true;
                return s.accepted.saturating_sub(s.resolved);
            }
            s = self
                .done
                .wait_timeout(s, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        0
    }

    /// Starts the shutdown: what is queued is exported until `deadline`,
    /// then dropped; at once if a flush already waited in vain and nothing
    /// was exported since (one wait per outage). [`finish_shutdown`](Self::finish_shutdown)
    /// waits for it (several exporters shut down at once: the guard's drop
    /// waits once, not once each).
    pub(crate) fn begin_shutdown(&self, deadline: Instant) {
        let mut s = lock(&self.state);
        if s.deadline.is_none() {
            s.deadline = Some(if s.stalled { Instant::now() } else { deadline });
        }
        self.work.notify_one();
    }

    /// Waits for the exporter thread until the shutdown's deadline; what is
    /// left then is dropped, counted and said on stderr. Returns the records
    /// dropped during the shutdown.
    pub(crate) fn finish_shutdown(&self) -> u64 {
        let dropped_before = self.stats.dropped.load(Ordering::Relaxed);
        self.begin_shutdown(Instant::now() + self.config.export_timeout);
        let deadline = lock(&self.state).deadline.unwrap_or_else(Instant::now);
        let thread = lock(&self.thread).take();
        if let Some(t) = thread {
            // The thread gives up at the deadline. A request still under
            // way then is left to end by its own timeout (the thread is
            // detached): its batch is counted as dropped, though the
            // collector may yet receive it.
            while !t.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(1));
            }
            if t.is_finished() {
                let _ = t.join();
            }
        }
        self.give_up("the OTLP export did not finish before the shutdown's deadline");
        let dropped = self.stats.dropped.load(Ordering::Relaxed) - dropped_before;
        if dropped > 0 {
            crate::error::report(format_args!(
                "OTLP export to {} did not finish before the shutdown's deadline: {dropped} \
                 records dropped",
                self.config.shown_endpoint(),
            ));
        }
        dropped
    }

    /// Stops exporting: what is queued is dropped and counted (`why`), and
    /// flushes stop waiting.
    fn give_up(&self, why: &str) {
        let mut s = lock(&self.state);
        s.finished = true;
        let left = s.accepted.saturating_sub(s.resolved);
        s.resolved = s.accepted;
        (s.queue_start, s.in_flight) = (s.accepted, None);
        s.chunks.clear();
        s.records = 0;
        s.bytes = 0;
        drop(s);
        self.count_dropped(left, why);
        self.done.notify_all();
    }

    fn run(&self) {
        let agent = ureq::Agent::config_builder();
        #[cfg(feature = "otlp-tls")]
        let agent = agent.tls_config(self.config.tls.config());
        let agent: ureq::Agent = agent
            .timeout_global(Some(self.config.timeout))
            .http_status_as_error(false)
            // A redirect would turn the POST into a GET and carry the
            // headers elsewhere: a 3xx is a final error instead.
            .max_redirects(0)
            .user_agent(concat!("slog-host/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        let mut rng = Jitter::new();
        let mut last_export = Instant::now();
        let mut body = Vec::new();
        let mut taken = Vec::new();
        let mut units: Vec<(usize, usize, usize)> = Vec::new();
        loop {
            let n = {
                let mut s = lock(&self.state);
                loop {
                    if s.deadline.is_some_and(|d| Instant::now() >= d) {
                        // Shutdown's time is up: no more tries.
                        drop(s);
                        self.give_up(
                            "the OTLP export did not finish before the shutdown's deadline",
                        );
                        return;
                    }
                    let due = s.records >= self.config.max_export_batch_size
                        || (s.records > 0
                            && (last_export.elapsed() >= self.config.schedule_delay
                                || s.flush_upto > s.oldest()
                                || s.deadline.is_some()));
                    if due {
                        break;
                    }
                    if s.records == 0 && s.deadline.is_some() {
                        s.finished = true;
                        self.done.notify_all();
                        return;
                    }
                    let wait = self
                        .config
                        .schedule_delay
                        .saturating_sub(last_export.elapsed())
                        .max(Duration::from_millis(1));
                    s = self
                        .work
                        .wait_timeout(s, wait)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                    if s.records == 0 {
                        last_export = Instant::now();
                    }
                }
                s.evicted = false;
                self.take(&mut s, &mut taken, &mut units)
            };
            let host = self.cache.load();
            let pairs: Vec<(&[u8], &[u8])> = units
                .iter()
                .map(|&(t, r, e)| (&taken[t..r], &taken[r..e]))
                .collect();
            body.clear();
            request(&mut body, self.json(), &host, &pairs);
            drop(pairs);
            let sent = if self.config.gzip {
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                let _ = gz.write_all(&body);
                gz.finish().unwrap_or_default()
            } else {
                std::mem::take(&mut body)
            };
            let outcome = self.send_with_retries(&agent, &sent, &mut rng);
            if !self.config.gzip {
                body = sent;
            }
            for buf in [&mut body, &mut taken] {
                if buf.capacity() > KEEP_BUFFER {
                    *buf = Vec::new();
                }
            }
            let mut s = lock(&self.state);
            if s.finished {
                // Shutdown gave up on these and counted them.
                return;
            }
            s.resolved += n;
            s.in_flight = None;
            match outcome {
                Ok(rejected) => {
                    // A partial success: what the collector rejected is
                    // dropped, not exported.
                    let rejected = rejected.unwrap_or(0).min(n);
                    self.stats
                        .exported
                        .fetch_add(n - rejected, Ordering::Relaxed);
                    s.stalled = false;
                    drop(s);
                    self.count_dropped(rejected, "the collector rejected them (a partial success)");
                }
                Err(why) => {
                    drop(s);
                    self.count_dropped(n, &why);
                }
            }
            self.done.notify_all();
            last_export = Instant::now();
        }
    }

    /// Takes up to a batch of records off the queue: their bytes into
    /// `taken`, their (target, record, end) offsets into `units`.
    fn take(
        &self,
        s: &mut MutexGuard<'_, State>,
        taken: &mut Vec<u8>,
        units: &mut Vec<(usize, usize, usize)>,
    ) -> u64 {
        taken.clear();
        units.clear();
        while units.len() < self.config.max_export_batch_size {
            let Some(chunk) = s.chunks.front_mut() else {
                break;
            };
            while chunk.next < chunk.units.len() && units.len() < self.config.max_export_batch_size
            {
                let u = &chunk.units[chunk.next];
                let t = taken.len();
                taken.extend_from_slice(&chunk.data[u.target.clone()]);
                let r = taken.len();
                taken.extend_from_slice(&chunk.data[u.record.clone()]);
                units.push((t, r, taken.len()));
                chunk.next += 1;
            }
            if chunk.next == chunk.units.len() {
                s.chunks.pop_front();
            }
        }
        let n = units.len();
        s.in_flight = Some(s.queue_start);
        s.queue_start += n as u64;
        s.records -= n;
        s.bytes = s.bytes.saturating_sub(taken.len());
        if s.records == 0 {
            s.bytes = 0;
        }
        n as u64
    }

    /// Sends `body`, retrying connection errors, timeouts, 429, 502, 503
    /// and 504 every [`MIN_BACKOFF`] to [`MAX_BACKOFF`] (drawn at random),
    /// or after the `Retry-After` the collector asked for; other statuses
    /// are final. Once shutdown set a deadline, no try starts after it. A
    /// batch whose records are older than all those queued (the queue
    /// dropped its oldest meanwhile) is given up for the newer ones. `Ok`
    /// carries the records a partial success rejected.
    fn send_with_retries(
        &self,
        agent: &ureq::Agent,
        body: &[u8],
        rng: &mut Jitter,
    ) -> Result<Option<u64>, String> {
        loop {
            let (why, retry_after) = match self.send(agent, body) {
                Ok(Answer::Accepted(rejected)) => {
                    *lock(&self.stats.last_failure) = None;
                    return Ok(rejected);
                }
                Ok(Answer::Retry(status, retry_after)) => {
                    (format!("the collector answered {status}"), retry_after)
                }
                Ok(Answer::Final(why)) => {
                    crate::error::report(format_args!(
                        "OTLP export to {}: {why}; the batch is dropped",
                        self.config.shown_endpoint()
                    ));
                    return Err(why);
                }
                Err(e) => (e, None),
            };
            *lock(&self.stats.last_failure) = Some(why.clone());
            let wait = match retry_after {
                Some(asked) => asked.clamp(MIN_BACKOFF, MAX_RETRY_AFTER),
                None => rng.between(MIN_BACKOFF, MAX_BACKOFF),
            };
            let until = Instant::now() + wait;
            let mut s = lock(&self.state);
            loop {
                if s.deadline.is_some_and(|d| until >= d) {
                    return Err(format!("{why}; the shutdown's deadline passed"));
                }
                let left = until.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                // Woken early by new records or by shutdown (to check its
                // deadline): the wait goes on, so records never make a
                // retry come sooner.
                s = self
                    .work
                    .wait_timeout(s, left)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            if s.evicted {
                return Err(format!(
                    "{why}; the OTLP export queue is full: the oldest records are dropped"
                ));
            }
        }
    }

    /// One request.
    fn send(&self, agent: &ureq::Agent, body: &[u8]) -> Result<Answer, String> {
        let content_type = match self.config.protocol {
            Protocol::HttpProtobuf => "application/x-protobuf",
            Protocol::HttpJson => "application/json",
        };
        let mut req = agent
            .post(&self.config.endpoint)
            .header("Content-Type", content_type);
        if self.config.gzip {
            req = req.header("Content-Encoding", "gzip");
        }
        for (k, v) in &self.config.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        match req.send(body) {
            Ok(mut resp) => {
                let status = resp.status().as_u16();
                let retry_after = resp
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| retry_after(v, SystemTime::now()));
                // Read (a bounded part of) the body: the connection can be
                // used again, and a partial success says what was rejected.
                let answer = resp
                    .body_mut()
                    .with_config()
                    .limit(MAX_RESPONSE_BYTES)
                    .read_to_vec()
                    .unwrap_or_default();
                Ok(match status {
                    200..=299 => Answer::Accepted(partial_success(&answer, self.json())),
                    429 | 502 | 503 | 504 => Answer::Retry(status, retry_after),
                    300..=399 => Answer::Final(format!(
                        "the collector answered {status}, a redirect (not followed: set the \
                         endpoint to the final URL)"
                    )),
                    _ => Answer::Final(format!("the collector answered {status} (not retried)")),
                })
            }
            Err(e) => {
                #[cfg(feature = "otlp-tls")]
                if let Some(why) = super::tls::final_failure(&e) {
                    return Ok(Answer::Final(why));
                }
                Err(format!("cannot reach the collector: {e}"))
            }
        }
    }
}

/// What the collector answered.
enum Answer {
    /// 2xx, with the records a partial success rejected.
    Accepted(Option<u64>),
    /// A status to retry, with its `Retry-After`.
    Retry(u16, Option<Duration>),
    /// A status never retried, or a failure a retry cannot mend (a TLS
    /// certificate refused): why.
    Final(String),
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use super::{lock, Exporter};
    use crate::host::{HostCache, HostInfo};
    use crate::otlp::config::OtlpConfig;
    use crate::otlp::request::Unit;

    /// The queue holds the records' bytes, not the writer's buffers: 2,048
    /// one-record hand-overs from 64 KiB buffers keep about 2,048 records'
    /// worth, far under the byte bound (before, each kept its 64 KiB).
    #[test]
    fn the_queue_keeps_only_the_records_bytes() {
        let cache = Arc::new(HostCache::new(|| Ok(HostInfo::new())).unwrap());
        // No export during the test: nothing listens, and the schedule
        // delay is ten minutes.
        let config = OtlpConfig::new("http://127.0.0.1:9/v1/logs")
            .unwrap()
            .batch(
                Duration::from_secs(600),
                4096,
                4096,
                Duration::from_millis(100),
            );
        let e = Exporter::start(config, cache.into()).unwrap();
        let mut buffer = Vec::with_capacity(64 << 10);
        buffer.extend_from_slice(b"targetRECORD-BYTES-100-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
        let units = [Unit {
            target: 0..6,
            record: 6..buffer.len(),
        }];
        for _ in 0..2048 {
            e.push(&buffer, &units);
        }
        let held: usize = lock(&e.state)
            .chunks
            .iter()
            .map(|c| c.data.capacity())
            .sum();
        assert_eq!(lock(&e.state).records, 2048);
        assert!(held <= 2048 * buffer.len(), "the queue holds {held} bytes");
        // For scale: what 2,048 of the writer's buffers would hold.
        assert!(2048 * buffer.capacity() > 100 * held);
        e.finish_shutdown();
    }

    /// A flush waits for the batch under way, even when newer queued
    /// records are dropped (the queue keeps the newest) before it ends: the
    /// count of records resolved passing the flush's mark is not enough.
    #[test]
    fn a_flush_waits_for_the_batch_under_way_whatever_the_queue_drops() {
        let cache = Arc::new(HostCache::new(|| Ok(HostInfo::new())).unwrap());
        // Nothing listens: the batch under way is retried until the end.
        let config = OtlpConfig::new("http://127.0.0.1:9/v1/logs")
            .unwrap()
            .batch(Duration::from_millis(1), 100, 10, Duration::from_secs(5));
        let e = Exporter::start(config, cache.into()).unwrap();
        let record = b"tRECORD".to_vec();
        let units = [Unit {
            target: 0..1,
            record: 1..record.len(),
        }];
        for _ in 0..10 {
            e.push(&record, &units);
        }
        let until = Instant::now() + Duration::from_secs(5);
        while lock(&e.state).in_flight.is_none() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(lock(&e.state).in_flight.is_some(), "the batch is under way");
        let flushing = Arc::clone(&e);
        let flush =
            std::thread::spawn(move || flushing.flush(Instant::now() + Duration::from_millis(500)));
        std::thread::sleep(Duration::from_millis(20));
        // 110 newer records into a queue of 100: 10 of them are dropped.
        for _ in 0..110 {
            e.push(&record, &units);
        }
        // The next try is 250 ms or more away: the batch is still under way.
        std::thread::sleep(Duration::from_millis(50));
        let under_way = lock(&e.state).in_flight.is_some();
        assert!(
            !under_way || !flush.is_finished(),
            "the flush returned while the batch was under way"
        );
        // It returns once the batch is given up for the newer records
        // (dropped, counted) or at its deadline.
        let left = flush.join().unwrap();
        let dropped = e.stats.dropped.load(std::sync::atomic::Ordering::Relaxed);
        assert!(left > 0 || dropped >= 20, "left {left}, dropped {dropped}");
        e.finish_shutdown();
    }
}
