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
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::config::{OtlpConfig, Protocol};
use super::encode::{request, Unit};
use crate::host::cache::CacheRef;
use crate::Error;

/// The message of the record that reports records the OTLP exporter
/// dropped (in the other outputs), with `dropped` and `error`.
pub const EXPORT_DROPPED_MESSAGE: &str = "OTLP export dropped records";
/// The name of the exporter thread.
pub const EXPORT_THREAD_NAME: &str = "slog-host-otlp";
/// The first retry waits about this long; each next one twice as long.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// The longest wait between two tries (a `Retry-After` longer than this is
/// cut to it).
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// The most of a response body read (a status is all that is needed).
const MAX_RESPONSE_BYTES: u64 = 64 << 10;

/// Encoded records handed over by the writer thread.
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
    /// (exported, or dropped after they were accepted).
    accepted: u64,
    resolved: u64,
    /// A flush waits for `resolved` to reach this.
    flush_upto: u64,
    /// Set by shutdown: export what is queued until this instant, then
    /// drop the rest.
    deadline: Option<Instant>,
    finished: bool,
}

/// Counters shared with the guard.
#[derive(Debug, Default)]
pub(crate) struct ExportStats {
    pub(crate) exported: AtomicU64,
    pub(crate) dropped: AtomicU64,
    /// Drops not yet reported in the line outputs.
    pub(crate) unreported: AtomicU64,
    pub(crate) last_error: Mutex<Option<String>>,
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
    thread_id: std::sync::OnceLock<std::thread::ThreadId>,
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
            thread_id: std::sync::OnceLock::new(),
        });
        let e = Arc::clone(&exporter);
        let thread = std::thread::Builder::new()
            .name(EXPORT_THREAD_NAME.to_owned())
            .spawn(move || {
                let _ = e.thread_id.set(std::thread::current().id());
                let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| e.run()));
                if run.is_err() {
                    // Nothing exports any more: what is queued, and what
                    // comes, is dropped and counted.
                    crate::error::report(format_args!(
                        "the OTLP exporter panicked; records are no longer exported"
                    ));
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

    /// Queues the records of `data` (writer thread). What does not fit the
    /// queue's bounds is dropped and counted. After shutdown (the guard was
    /// dropped) records are not exported: they go to the line outputs only.
    pub(crate) fn push(&self, data: Vec<u8>, mut units: Vec<Unit>) {
        let mut s = lock(&self.state);
        if s.finished || s.deadline.is_some() {
            return;
        }
        let mut taken = 0;
        for u in &units {
            let size = u.record.len() + u.target.len();
            if s.records >= self.config.max_queue_size
                || s.bytes + size > self.config.max_queue_bytes
            {
                break;
            }
            s.records += 1;
            s.bytes += size;
            taken += 1;
        }
        let dropped = (units.len() - taken) as u64;
        if taken > 0 {
            s.accepted += taken as u64;
            units.truncate(taken);
            s.chunks.push_back(Chunk {
                data,
                units,
                next: 0,
            });
            if s.records >= self.config.max_export_batch_size {
                self.work.notify_one();
            }
        }
        drop(s);
        if dropped > 0 {
            self.count_dropped(dropped, "the OTLP export queue is full");
        }
    }

    /// The reason of the last failure or drop.
    pub(crate) fn last_error(&self) -> Option<String> {
        lock(&self.stats.last_error).clone()
    }

    fn count_dropped(&self, n: u64, why: &str) {
        self.stats.dropped.fetch_add(n, Ordering::Relaxed);
        self.stats.unreported.fetch_add(n, Ordering::Relaxed);
        let mut last = lock(&self.stats.last_error);
        if last.as_deref() != Some(why) {
            *last = Some(why.to_owned());
        }
    }

    /// Records queued or in an export under way.
    pub(crate) fn unexported(&self) -> u64 {
        let s = lock(&self.state);
        s.accepted.saturating_sub(s.resolved)
    }

    /// Waits until every record queued before the call is exported (or
    /// dropped), at most the export timeout: the records still unexported
    /// then (0: all done).
    pub(crate) fn flush(&self) -> u64 {
        if self.thread_id.get() == Some(&std::thread::current().id()) {
            return self.unexported();
        }
        let deadline = Instant::now() + self.config.export_timeout;
        let mut s = lock(&self.state);
        let upto = s.accepted;
        s.flush_upto = s.flush_upto.max(upto);
        self.work.notify_one();
        while s.resolved < upto && !s.finished {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return s.accepted.saturating_sub(s.resolved);
            }
            s = self
                .done
                .wait_timeout(s, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        upto.saturating_sub(s.resolved)
    }

    /// Exports what is queued, at most the export timeout, then stops the
    /// thread; what is left is dropped, counted, and said on stderr.
    /// Returns the records dropped during the shutdown.
    pub(crate) fn shutdown(&self) -> u64 {
        let dropped_before = self.stats.dropped.load(Ordering::Relaxed);
        let deadline = Instant::now() + self.config.export_timeout;
        {
            let mut s = lock(&self.state);
            s.deadline = Some(deadline);
            self.work.notify_one();
        }
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
        self.give_up("the OTLP export did not finish within the export timeout");
        let dropped = self.stats.dropped.load(Ordering::Relaxed) - dropped_before;
        if dropped > 0 {
            crate::error::report(format_args!(
                "OTLP export to {} did not finish within {} ms: {dropped} records dropped",
                self.config.endpoint,
                self.config.export_timeout.as_millis()
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
        s.chunks.clear();
        s.records = 0;
        s.bytes = 0;
        drop(s);
        if left > 0 {
            self.count_dropped(left, why);
        }
        self.done.notify_all();
    }

    fn run(&self) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(self.config.timeout))
            .http_status_as_error(false)
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
                        self.give_up("the OTLP export did not finish within the export timeout");
                        return;
                    }
                    let due = s.records >= self.config.max_export_batch_size
                        || (s.records > 0
                            && (last_export.elapsed() >= self.config.schedule_delay
                                || s.flush_upto > s.resolved
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
            let mut s = lock(&self.state);
            if s.finished {
                // Shutdown gave up on these and counted them.
                return;
            }
            s.resolved += n;
            match outcome {
                Ok(()) => {
                    self.stats.exported.fetch_add(n, Ordering::Relaxed);
                }
                Err(why) => self.count_dropped(n, &why),
            }
            drop(s);
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
        s.records -= n;
        s.bytes = s.bytes.saturating_sub(taken.len());
        if s.records == 0 {
            s.bytes = 0;
        }
        n as u64
    }

    /// Sends `body`, retrying connection errors, timeouts, 429, 502, 503
    /// and 504 with exponential backoff and jitter (or the `Retry-After`
    /// the collector asked for); other statuses are final. Once shutdown
    /// set a deadline, no try starts after it.
    fn send_with_retries(
        &self,
        agent: &ureq::Agent,
        body: &[u8],
        rng: &mut Jitter,
    ) -> Result<(), String> {
        let mut backoff = FIRST_BACKOFF;
        loop {
            let why = match self.send(agent, body) {
                Ok(status) if (200..300).contains(&status.0) => return Ok(()),
                Ok((status, retry_after)) if matches!(status, 429 | 502 | 503 | 504) => {
                    (format!("the collector answered {status}"), retry_after)
                }
                Ok((status, _)) => {
                    let why =
                        format!("the collector answered {status} (not retried): records dropped");
                    crate::error::report(format_args!(
                        "OTLP export to {}: {why}",
                        self.config.endpoint
                    ));
                    return Err(why);
                }
                Err(e) => (e, None),
            };
            let (why, retry_after) = why;
            *lock(&self.stats.last_error) = Some(why.clone());
            let wait = retry_after
                .unwrap_or_else(|| rng.around(backoff))
                .min(MAX_BACKOFF);
            backoff = (backoff * 2).min(MAX_BACKOFF);
            let until = Instant::now() + wait;
            let mut s = lock(&self.state);
            loop {
                if s.deadline.is_some_and(|d| until >= d) {
                    return Err(format!("{why}; the export timeout passed"));
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
        }
    }

    /// One request: its status and `Retry-After` (seconds), or the
    /// connection error.
    fn send(&self, agent: &ureq::Agent, body: &[u8]) -> Result<(u16, Option<Duration>), String> {
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
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                // Read (a bounded part of) the body so the connection can
                // be used again.
                let _ = resp
                    .body_mut()
                    .with_config()
                    .limit(MAX_RESPONSE_BYTES)
                    .read_to_vec();
                Ok((status, retry_after))
            }
            Err(e) => Err(format!("cannot reach the collector: {e}")),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Jitter for the backoff (xorshift; no cryptographic use).
struct Jitter(u64);

impl Jitter {
    fn new() -> Jitter {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Jitter(t ^ u64::from(std::process::id()) << 32 | 1)
    }

    /// `d` times a factor from 0.5 to 1.5.
    fn around(&mut self, d: Duration) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        d.mul_f64(0.5 + (self.0 % 1000) as f64 / 1000.0)
    }
}
