//! One line output's own thread and bounded buffer (thread
//! `slog-host-out`): the writer thread hands it whole batches, and it
//! writes them at the output's own pace, so a slow, stuck or absent
//! destination never delays another output.
//!
//! The buffer is bounded in bytes ([`Builder::output_buffer`]). When a
//! batch does not fit: with [`Overflow::DropAndReport`] it is dropped for
//! this output alone, counted; with [`Overflow::Block`] the writer thread
//! waits for room while the output takes bytes, and at most
//! [`FLUSH_TIMEOUT`] without (then the output is taken for stuck and its
//! batches are dropped, counted, without waiting, until it takes a byte
//! again: one wait per stall).
//!
//! Without a thread (after the guard's drop, in a forked child) whoever
//! hands a batch over writes it at once, on its own thread.
//!
//! [`Builder::output_buffer`]: crate::Builder::output_buffer
//! [`Overflow::DropAndReport`]: crate::Overflow::DropAndReport
//! [`Overflow::Block`]: crate::Overflow::Block

use std::collections::VecDeque;
use std::io::{self, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, TryLockError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::counters::WriteErrors;
use crate::outputs::rotating_file::RotatingFile;
use crate::outputs::Accepted;
use crate::record::queue::FLUSH_TIMEOUT;

/// Default bound of each line output's buffer, in bytes.
pub const DEFAULT_OUTPUT_BUFFER: usize = 4 << 20;
/// The smallest and the largest output buffer.
pub const MIN_OUTPUT_BUFFER: usize = 64 << 10;
/// See [`MIN_OUTPUT_BUFFER`].
pub const MAX_OUTPUT_BUFFER: usize = 1 << 30;
/// How long a wait sleeps between looks at the output's progress.
const LOOK: Duration = Duration::from_millis(20);
/// Spare buffers kept for the writer thread to swap its batch with.
const SPARES: usize = 4;

/// The writing end of a line output.
pub(crate) enum Sink {
    Stream(Box<dyn Write + Send>),
    /// Rotation needs record boundaries: the file writes whole lines.
    File(RotatingFile),
}

/// A batch handed over: its bytes, its records, and (a file rotated by
/// time) the period they belong to.
struct Chunk {
    bytes: Vec<u8>,
    records: u64,
    period: Option<u64>,
}

#[derive(Default)]
struct State {
    chunks: VecDeque<Chunk>,
    bytes: usize,
    /// Records handed over, and those written or counted as errors.
    pushed: u64,
    done: u64,
    spare: Vec<Vec<u8>>,
    /// A thread of its own writes the chunks.
    threaded: bool,
    /// The thread is told to write what it holds and end.
    closing: bool,
    /// A wait for this output ended without a byte taken: until it takes
    /// one, nothing waits for it again.
    stuck: bool,
    /// A flush gave up on this output at the lines' deadline while it still
    /// took bytes (a slow reader): until it has written all it holds, no
    /// flush or shutdown waits for it again (one wait per backlog).
    behind: bool,
}

/// One line output: its buffer, its thread, its counters.
pub(crate) struct Lane {
    /// What the reports call it: `stdout`, `stderr`, `file /var/log/app.log`,
    /// `writer`.
    pub(crate) label: String,
    state: Mutex<State>,
    /// Wakes the thread (a chunk came, or closing).
    work: Condvar,
    /// Wakes whoever waits for room or for a flush (a chunk was written).
    moved: Condvar,
    sink: Mutex<Sink>,
    max_bytes: usize,
    block: bool,
    accepted: Accepted,
    errors: Arc<WriteErrors>,
    /// Records dropped because the buffer was full, in all and not yet
    /// reported.
    pub(crate) dropped: AtomicU64,
    pub(crate) unreported: AtomicU64,
    /// Records whose write failed (counted in `errors` too), not yet
    /// reported on the other outputs.
    pub(crate) failed_unreported: AtomicU64,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Lane {
    /// A lane without a thread (see [`start`](Self::start)).
    pub(crate) fn new(
        label: String,
        mut sink: Sink,
        max_bytes: usize,
        block: bool,
        accepted: Accepted,
        errors: Arc<WriteErrors>,
    ) -> Lane {
        if let Sink::File(f) = &mut sink {
            f.count_accepted(accepted.clone());
        }
        Lane {
            label,
            state: Mutex::default(),
            work: Condvar::new(),
            moved: Condvar::new(),
            sink: Mutex::new(sink),
            max_bytes,
            block,
            accepted,
            errors,
            dropped: AtomicU64::new(0),
            unreported: AtomicU64::new(0),
            failed_unreported: AtomicU64::new(0),
            thread: Mutex::new(None),
        }
    }

    /// Starts the lane's thread.
    pub(crate) fn start(self: &Arc<Self>) -> io::Result<()> {
        let lane = Arc::clone(self);
        let t = std::thread::Builder::new()
            .name(crate::record::thread_role::OUTPUT_THREAD_NAME.to_owned())
            .spawn(move || lane.run())?;
        lock(&self.state).threaded = true;
        *lock(&self.thread) = Some(t);
        Ok(())
    }

    /// Hands `batch` (`records` records of `period`) over; `batch` is left
    /// empty, with a spare buffer's memory. Writer thread, or a caller
    /// writing synchronously.
    pub(crate) fn push(&self, batch: &mut Vec<u8>, records: u64, period: Option<u64>) {
        let len = batch.len();
        let mut s = lock(&self.state);
        let mut waiting: Option<(u64, Instant)> = None;
        loop {
            if s.bytes == 0 || s.bytes + len <= self.max_bytes {
                break;
            }
            if !s.threaded {
                // Synchronous: make room by writing, then look again.
                drop(s);
                let wrote = self.write_here();
                s = lock(&self.state);
                if wrote && (s.bytes == 0 || s.bytes + len <= self.max_bytes) {
                    break;
                }
            }
            if !s.threaded || !self.block || s.stuck || self.stalled(&mut s, &mut waiting) {
                drop(s);
                batch.clear();
                self.dropped.fetch_add(records, Ordering::Relaxed);
                self.unreported.fetch_add(records, Ordering::Relaxed);
                return;
            }
            s = self
                .moved
                .wait_timeout(s, LOOK)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        let spare = s.spare.pop().unwrap_or_default();
        s.chunks.push_back(Chunk {
            bytes: std::mem::replace(batch, spare),
            records,
            period,
        });
        s.bytes += len;
        s.pushed += records;
        let threaded = s.threaded;
        drop(s);
        if threaded {
            self.work.notify_one();
        } else {
            self.write_here();
        }
    }

    /// True (and marks the lane stuck) once the output has taken no byte
    /// for [`FLUSH_TIMEOUT`] since `waiting` started.
    fn stalled(&self, s: &mut State, waiting: &mut Option<(u64, Instant)>) -> bool {
        let progress = self.accepted.own();
        match waiting {
            Some((seen, since)) if *seen == progress => {
                if since.elapsed() >= FLUSH_TIMEOUT {
                    s.stuck = true;
                }
                s.stuck
            }
            _ => {
                *waiting = Some((progress, Instant::now()));
                false
            }
        }
    }

    /// The last write error of this output.
    pub(crate) fn last_error(&self) -> Option<String> {
        self.errors.last()
    }

    /// Records handed over and not written yet.
    pub(crate) fn unwritten(&self) -> u64 {
        let s = lock(&self.state);
        s.pushed - s.done
    }

    /// Waits until every record handed over before the call is written (or
    /// counted as a write error): 0. Gives up, returning the records not
    /// written, once the output took no byte for `stall`, or at `deadline`;
    /// while it stays stuck after such a wait, returns at once.
    pub(crate) fn flush(&self, stall: Duration, deadline: Instant) -> u64 {
        let threaded = lock(&self.state).threaded;
        if !threaded {
            self.write_here();
        }
        let mut s = lock(&self.state);
        let target = s.pushed;
        let mut waiting = None;
        let stall = stall.min(FLUSH_TIMEOUT);
        while s.done < target {
            let progress = self.accepted.own();
            let stalled = match waiting {
                Some((seen, since)) if seen == progress => {
                    let out = Instant::elapsed(&since) >= stall;
                    if out && stall >= FLUSH_TIMEOUT {
                        s.stuck = true;
                    }
                    out
                }
                _ => {
                    waiting = Some((progress, Instant::now()));
                    false
                }
            };
            if s.stuck || s.behind || stalled || !s.threaded {
                return target - s.done.min(target);
            }
            if Instant::now() >= deadline {
                s.behind = true;
                return target - s.done.min(target);
            }
            s = self
                .moved
                .wait_timeout(s, LOOK)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        0
    }

    /// Stops the thread once it wrote what it holds: waits while the output
    /// takes bytes, at most [`FLUSH_TIMEOUT`] without and until `deadline`.
    /// A thread still writing then is left to finish (detached): false.
    /// From now on whoever hands a batch over writes it.
    pub(crate) fn close(&self, deadline: Instant) -> bool {
        let deadline = {
            let mut s = lock(&self.state);
            s.closing = true;
            // Behind after a flush's wait: the shutdown does not wait again.
            if s.behind || s.stuck {
                Instant::now()
            } else {
                deadline
            }
        };
        self.work.notify_one();
        let thread = lock(&self.thread).take();
        if let Some(t) = thread {
            let mut progress = (self.accepted.own(), Instant::now());
            while !t.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(1));
                let now = self.accepted.own();
                if now != progress.0 {
                    progress = (now, Instant::now());
                } else if progress.1.elapsed() >= FLUSH_TIMEOUT {
                    break;
                }
            }
            if !t.is_finished() {
                lock(&self.state).threaded = false;
                return false;
            }
            let _ = t.join();
        }
        true
    }

    /// In a forked child: the application's writer, if no thread held it at
    /// the fork (the parent's lane thread may have been inside it).
    pub(crate) fn take_writer(&self) -> Option<Box<dyn Write + Send>> {
        match self.sink.try_lock() {
            Ok(mut sink) => match &mut *sink {
                Sink::Stream(w) => Some(std::mem::replace(w, Box::new(io::sink()))),
                Sink::File(_) => None,
            },
            Err(_) => None,
        }
    }

    fn run(&self) {
        // A panic on this thread (an application's writer) is not logged:
        // the panic hook's flush would wait for this thread.
        crate::record::thread_role::become_writer();
        loop {
            {
                let mut s = lock(&self.state);
                while s.chunks.is_empty() && !s.closing {
                    s = self.work.wait(s).unwrap_or_else(PoisonError::into_inner);
                }
                if s.chunks.is_empty() {
                    // Under the lock a hand-over looks at: from now on it
                    // writes its batch itself.
                    s.threaded = false;
                    return;
                }
            }
            let mut sink = lock(&self.sink);
            self.write_all(&mut sink);
        }
    }

    /// Writes what is queued on this thread (no lane thread): false if the
    /// sink stayed held (by a detached lane thread stuck in a write) for
    /// [`FLUSH_TIMEOUT`], or at once while the lane is stuck.
    fn write_here(&self) -> bool {
        let stuck = lock(&self.state).stuck;
        let since = Instant::now();
        let mut sink = loop {
            match self.sink.try_lock() {
                Ok(s) => break s,
                Err(TryLockError::Poisoned(p)) => break p.into_inner(),
                Err(TryLockError::WouldBlock) => {
                    if stuck || since.elapsed() >= FLUSH_TIMEOUT {
                        lock(&self.state).stuck = true;
                        return false;
                    }
                    std::thread::sleep(Duration::from_micros(200));
                }
            }
        };
        self.write_all(&mut sink);
        true
    }

    /// Writes the queued chunks in order, with `sink` held.
    fn write_all(&self, sink: &mut MutexGuard<'_, Sink>) {
        loop {
            let Some(chunk) = lock(&self.state).chunks.pop_front() else {
                return;
            };
            let (before, started) = (self.accepted.own(), Instant::now());
            let n = chunk.records;
            let result = catch_unwind(AssertUnwindSafe(|| match &mut **sink {
                Sink::Stream(w) => match write_counted(w.as_mut(), &chunk.bytes, &self.accepted) {
                    Ok(()) => match w.flush() {
                        Ok(()) => (0, None),
                        Err(e) => (n, Some(e)),
                    },
                    // The lines not (wholly) written failed; those before
                    // reached the output.
                    Err((written, e)) => {
                        let lines = chunk.bytes[written..].iter().filter(|b| **b == b'\n');
                        ((lines.count() as u64).clamp(1, n.max(1)), Some(e))
                    }
                },
                // Whole records, as few writes as rotation allows.
                Sink::File(f) => f.write_lines(&chunk.bytes, chunk.period),
            }))
            .unwrap_or_else(|_| (n, Some(io::Error::other("the output panicked"))));
            match result {
                (0, _) => self.errors.recovered(),
                (failed, e) => {
                    self.errors.failed_n(
                        &e.unwrap_or_else(|| io::Error::other("write failed")),
                        failed,
                    );
                    self.failed_unreported.fetch_add(failed, Ordering::Relaxed);
                }
            }
            let mut s = lock(&self.state);
            s.bytes -= chunk.bytes.len();
            s.done += n;
            if s.done == s.pushed {
                s.behind = false;
            }
            // A write that took a byte ends a stall; one that waited
            // FLUSH_TIMEOUT and failed without taking any (a pipe nobody
            // reads) begins one.
            if self.accepted.own() != before {
                s.stuck = false;
            } else if result.0 > 0 && started.elapsed() >= FLUSH_TIMEOUT {
                s.stuck = true;
            }
            if s.spare.len() < SPARES && chunk.bytes.capacity() <= super::batch::MAX_BATCH_BYTES * 2
            {
                let mut b = chunk.bytes;
                b.clear();
                s.spare.push(b);
            }
            drop(s);
            self.moved.notify_all();
        }
    }
}

/// Writes `buf`, counting what the writer accepts, write by write; an
/// error comes with the bytes written before it.
fn write_counted(
    w: &mut dyn Write,
    buf: &[u8],
    accepted: &Accepted,
) -> Result<(), (usize, io::Error)> {
    let mut written = 0;
    while written < buf.len() {
        match w.write(&buf[written..]) {
            Ok(0) => return Err((written, io::ErrorKind::WriteZero.into())),
            Ok(n) => {
                accepted.add(n as u64);
                written += n;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err((written, e)),
        }
    }
    Ok(())
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
