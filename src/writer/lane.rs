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
use crate::outputs::accepted::Accepted;
use crate::outputs::rotating_file::RotatingFile;
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
/// A written batch's buffer is kept as a spare if it is at most this large
/// (twice the writer's largest batch).
const KEEP_SPARE: usize = 2 << 20;

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
    /// Threads waiting on `moved`.
    waiters: u32,
    /// The lane's thread waits on `work` (a hand-over wakes it only then).
    idle: bool,
    /// Set when the pipeline stops: no wait for room past it.
    deadline: Option<Instant>,
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
            .spawn(move || {
                if catch_unwind(AssertUnwindSafe(|| lane.run())).is_err() {
                    // Whoever hands a batch over writes it from now on (and
                    // what this thread left queued).
                    lock(&lane.state).threaded = false;
                    crate::error::report(format_args!(
                        "the thread of log output {} panicked; its batches are written by the \
                         log writer from now on",
                        lane.label
                    ));
                }
            })?;
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
            let past = s.deadline.is_some_and(|d| Instant::now() >= d);
            if !s.threaded
                || !self.block
                || s.stuck
                || past
                || self.stalled(&mut s, &mut waiting, FLUSH_TIMEOUT)
            {
                drop(s);
                batch.clear();
                self.dropped.fetch_add(records, Ordering::Relaxed);
                self.unreported.fetch_add(records, Ordering::Relaxed);
                return;
            }
            s = self.wait_moved(s);
        }
        let spare = s.spare.pop().unwrap_or_default();
        s.chunks.push_back(Chunk {
            bytes: std::mem::replace(batch, spare),
            records,
            period,
        });
        s.bytes += len;
        s.pushed += records;
        let (threaded, idle) = (s.threaded, s.idle);
        drop(s);
        if !threaded {
            self.write_here();
        } else if idle {
            self.work.notify_one();
        }
    }

    /// Waits (at most [`LOOK`]) until a chunk is written. Counted, so that
    /// the thread wakes waiters only when there are some (a wake is a system
    /// call, and most chunks have none).
    fn wait_moved<'a>(&self, mut s: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        s.waiters += 1;
        let mut s = self
            .moved
            .wait_timeout(s, LOOK)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
        s.waiters -= 1;
        s
    }

    /// True once the output has taken no byte for `stall` since `waiting`
    /// started; a stall of [`FLUSH_TIMEOUT`] marks the lane stuck (one wait
    /// per stall). Hand-overs and flushes share it.
    fn stalled(
        &self,
        s: &mut State,
        waiting: &mut Option<(u64, Instant)>,
        stall: Duration,
    ) -> bool {
        let progress = self.accepted.own();
        match waiting {
            Some((seen, since)) if *seen == progress => {
                let out = since.elapsed() >= stall;
                if out && stall >= FLUSH_TIMEOUT {
                    s.stuck = true;
                }
                out
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

    /// From now on no hand-over waits for room past `deadline` (the
    /// pipeline stops).
    pub(crate) fn set_deadline(&self, deadline: Instant) {
        lock(&self.state).deadline = Some(deadline);
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
        // Only a wait that began before the deadline marks the lane behind
        // (an output flushed after another used the time up is not).
        let in_time = Instant::now() < deadline;
        let threaded = lock(&self.state).threaded;
        if !threaded {
            self.write_here();
        }
        let mut s = lock(&self.state);
        let target = s.pushed;
        let mut waiting = None;
        let stall = stall.min(FLUSH_TIMEOUT);
        while s.done < target {
            let stalled = self.stalled(&mut s, &mut waiting, stall);
            if s.stuck || s.behind || stalled || !s.threaded {
                return target - s.done.min(target);
            }
            if Instant::now() >= deadline {
                s.behind |= in_time;
                return target - s.done.min(target);
            }
            s = self.wait_moved(s);
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
            // Behind or stuck, with records held: the shutdown does not
            // wait for them again. An idle thread is always waited for
            // (briefly: it only has to see `closing`).
            let now = Instant::now();
            let wait = if (s.behind || s.stuck) && s.pushed > s.done {
                now
            } else {
                deadline
            };
            wait.max(now + Duration::from_millis(100))
        };
        self.work.notify_one();
        let thread = lock(&self.thread).take();
        if let Some(t) = thread {
            if !ended_while_progressing(&t, || self.accepted.own(), deadline) {
                // Left to finish its write: nothing waits for its sink again.
                let mut s = lock(&self.state);
                (s.threaded, s.stuck) = (false, true);
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
                    s.idle = true;
                    s = self.work.wait(s).unwrap_or_else(PoisonError::into_inner);
                    s.idle = false;
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
            if s.spare.len() < SPARES && chunk.bytes.capacity() <= KEEP_SPARE {
                let mut b = chunk.bytes;
                b.clear();
                s.spare.push(b);
            }
            let waiters = s.waiters > 0;
            drop(s);
            if waiters {
                self.moved.notify_all();
            }
        }
    }
}

/// Waits for `t` to end while `progress()` moves, at most [`FLUSH_TIMEOUT`]
/// without a move and not past `deadline`: true if it ended (the writer's
/// stop and a lane's close).
pub(super) fn ended_while_progressing(
    t: &JoinHandle<()>,
    progress: impl Fn() -> u64,
    deadline: Instant,
) -> bool {
    let mut last = (progress(), Instant::now());
    while !t.is_finished() {
        if Instant::now() >= deadline || last.1.elapsed() >= FLUSH_TIMEOUT {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
        let now = progress();
        if now != last.0 {
            last = (now, Instant::now());
        }
    }
    true
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

#[cfg(test)]
mod tests {
    use std::io::{self, Write};
    use std::sync::atomic::Ordering;
    use std::sync::{Arc, Condvar, Mutex};
    use std::time::{Duration, Instant};

    use super::{Lane, Sink};
    use crate::outputs::accepted::Accepted;

    /// A lane writing to `out`, its thread started.
    fn started(out: Box<dyn Write + Send>, max_bytes: usize, block: bool) -> Arc<Lane> {
        let lane = Arc::new(Lane::new(
            "writer".into(),
            Sink::Stream(out),
            max_bytes,
            block,
            Accepted::default(),
            Arc::default(),
        ));
        lane.start().unwrap();
        lane
    }

    /// Whether the gate is open, and what it took.
    type Taken = Mutex<(bool, Vec<u8>)>;

    /// A writer that takes nothing until the test opens it, then keeps every
    /// byte.
    #[derive(Clone, Default)]
    struct Gate(Arc<(Taken, Condvar)>);

    impl Write for Gate {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            let (m, cv) = &*self.0;
            let mut g = m.lock().unwrap();
            while !g.0 {
                g = cv.wait(g).unwrap();
            }
            g.1.extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Gate {
        fn open(&self) {
            self.0 .0.lock().unwrap().0 = true;
            self.0 .1.notify_all();
        }
        fn lines(&self) -> Vec<String> {
            let g = self.0 .0.lock().unwrap();
            String::from_utf8_lossy(&g.1)
                .lines()
                .map(str::to_owned)
                .collect()
        }
    }

    /// A held output under `DropAndReport`: hand-overs never wait, what does
    /// not fit the buffer is dropped and counted exactly, and once the
    /// output takes bytes again everything kept is written, in order.
    #[test]
    fn a_held_output_drops_for_itself_without_waiting_and_counts_exactly() {
        let gate = Gate::default();
        let lane = started(Box::new(gate.clone()), 4096, false);
        let started = Instant::now();
        // 100 batches of 10 records of 100 bytes: 1,000 bytes a batch, so
        // the thread holds one (inside its write) and the buffer four more.
        for b in 0..100u64 {
            let mut batch = Vec::new();
            for r in 0..10 {
                writeln!(batch, "{:098}", b * 10 + r).unwrap();
            }
            lane.push(&mut batch, 10, None);
            assert!(batch.is_empty(), "the batch is taken or dropped");
        }
        let took = started.elapsed();
        let dropped = lane.dropped.load(Ordering::Relaxed);
        assert!(took < Duration::from_secs(1), "hand-overs waited {took:?}");
        assert_eq!(dropped % 10, 0, "whole batches");
        assert!((900..=960).contains(&dropped), "{dropped} dropped");
        assert_eq!(lane.unreported.load(Ordering::Relaxed), dropped);
        gate.open();
        assert_eq!(
            lane.flush(
                Duration::from_secs(5),
                Instant::now() + Duration::from_secs(5)
            ),
            0
        );
        let lines = gate.lines();
        assert_eq!(
            lines.len() as u64 + dropped,
            1000,
            "each record written or counted"
        );
        let seqs: Vec<u64> = lines.iter().map(|l| l.parse().unwrap()).collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "in order");
        assert!(lane.close(Instant::now() + Duration::from_secs(5)));
    }

    /// Each hand-over wakes an idle thread (a wake is skipped only while the
    /// thread is busy): batches handed over one by one, with pauses, are
    /// written without a flush.
    #[test]
    fn each_hand_over_to_an_idle_thread_is_written() {
        let gate = Gate::default();
        gate.open();
        let lane = started(Box::new(gate.clone()), 1 << 20, true);
        for i in 0..5 {
            let mut batch = format!("{i}\n").into_bytes();
            lane.push(&mut batch, 1, None);
            let until = Instant::now() + Duration::from_secs(5);
            while gate.lines().len() <= i && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(1));
            }
            assert_eq!(gate.lines().len(), i + 1, "batch {i} written");
        }
        assert!(lane.close(Instant::now() + Duration::from_secs(5)));
    }

    /// A lane taken for stuck (a flush waited `FLUSH_TIMEOUT` in vain) whose
    /// output then failed the record: nothing is held, so the shutdown
    /// joins its thread and has nothing to report.
    #[test]
    fn an_idle_lane_once_stuck_closes_cleanly() {
        #[derive(Clone, Default)]
        struct Failing(Arc<(Mutex<bool>, Condvar)>);
        impl Write for Failing {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                let (open, cv) = &*self.0;
                let mut g = open.lock().unwrap();
                while !*g {
                    g = cv.wait(g).unwrap();
                }
                Err(io::Error::other("broken pipe"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let out = Failing::default();
        let lane = started(Box::new(out.clone()), 1 << 20, true);
        lane.push(&mut b"x\n".to_vec(), 1, None);
        let far = Instant::now() + Duration::from_secs(30);
        assert_eq!(lane.flush(Duration::from_secs(5), far), 1, "stuck");
        *out.0 .0.lock().unwrap() = true;
        out.0 .1.notify_all();
        let until = Instant::now() + Duration::from_secs(5);
        while lane.unwritten() > 0 && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(lane.unwritten(), 0, "the record failed, counted");
        assert_eq!(lane.failed_unreported.load(Ordering::Relaxed), 1);
        assert!(
            lane.close(Instant::now() + Duration::from_secs(5)),
            "joined"
        );
    }
}
