//! The queue between the logging threads and the writer thread. Callers
//! push (through `caller::sender`), the writer pops.
//!
//! Two lock-free bounded queues (crossbeam's `ArrayQueue`) carry boxed
//! [`Event`]s (a pointer a slot: a slot holding the event itself would be
//! four cache lines the caller copies in and out for every record):
//! `records` to the writer, `free` back to the callers, so an event's buffers
//! are reused and a caller allocates nothing in steady state. The queue is
//! bounded in records and in bytes (what the queued events hold).
//!
//! The writer is never woken per record. It polls (see `writer::thread`);
//! a caller wakes it only
//! - when it sleeps deeply after a quiet spell (the first record after the
//!   spell: one wake, not one per record at a steady rate),
//! - when the queue passes its high-water mark (half full),
//! - when the queue is full, and on flush.
//!
//! `parked` makes each of these one `unpark` per writer sleep at most.

use std::panic::{RefUnwindSafe, UnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};
use std::thread::Thread;
use std::time::{Duration, Instant};

use crossbeam_queue::ArrayQueue;

use super::event::{Event, Kind};
use super::thread_role;

/// What happens when the writer falls behind and the queue is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overflow {
    /// The logging thread waits for room. No record is lost.
    Block,
    /// The record is dropped and counted; the writer writes the count as a
    /// WARN record ([`OVERFLOW_MESSAGE`](crate::format::OVERFLOW_MESSAGE), field
    /// `dropped`) at most once a second, and at shutdown. Each output's own
    /// buffer follows the same policy for that output alone
    /// ([`Builder::output_buffer`](crate::Builder::output_buffer)).
    DropAndReport,
}

/// How a caller writes the queued records itself (synchronous mode):
/// false if the output stayed held (by a writer stuck in a write) for
/// [`FLUSH_TIMEOUT`], and nothing was written.
pub(crate) type WriteNow = Box<dyn Fn() -> bool + Send + Sync + RefUnwindSafe + UnwindSafe>;

/// The longest a flush, a guard drop, or a logging thread waiting for room
/// under [`Overflow::Block`] waits while the writer makes no progress (an
/// output that accepts no write: a stuck pipe, a terminal on hold, a
/// custom writer that blocks). A flush then returns the count of records
/// not written; a waiting record is dropped and counted like an overflow.
pub const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// The longest a flush, the guard's drop or the panic hook waits for the
/// line outputs in all, even while they take bytes (a slow reader); without
/// progress each wait ends after [`FLUSH_TIMEOUT`]. An output a wait gave
/// up on is not waited for again until it has written all it holds (a
/// flush then the drop wait once). The export is waited for after the
/// lines, at most the shutdown timeout
/// ([`Builder::shutdown_timeout`](crate::Builder::shutdown_timeout)): 15 s
/// and 5 s, well inside Kubernetes' default grace period of 30 s.
pub const LINES_BOUND: Duration = Duration::from_secs(15);

/// Pool slots beyond the queue's capacity.
const POOL_SLACK: usize = 256;

/// The writer is running.
const RUNNING: u8 = 0;
/// The writer sleeps until its next poll (at most the active interval).
const POLLING: u8 = 1;
/// The writer sleeps deeply after a quiet spell; the next record wakes it.
const IDLE: u8 = 2;

/// How long a flush waits between looks at the writer's progress.
const STALL_CHECK: Duration = Duration::from_millis(100);

/// State shared by the callers ([`Sender`]) and the writer thread.
pub(crate) struct Queue {
    records: ArrayQueue<Box<Event>>,
    free: ArrayQueue<Box<Event>>,
    /// Bytes held by the queued events.
    bytes: AtomicUsize,
    /// Bytes held by the pooled events.
    pooled: AtomicUsize,
    max_bytes: usize,
    overflow: Overflow,
    /// Records dropped for overflow, in all.
    dropped: AtomicU64,
    /// Dropped records the writer has not reported yet.
    unreported: AtomicU64,
    parked: AtomicU8,
    writer: OnceLock<Thread>,
    /// The fork generation this queue was made in (`crate::fork`): a
    /// process of another generation never touches it.
    pub(crate) born: u64,
    /// Callers write synchronously (no writer thread: stopped, or the
    /// pipeline of a forked child), with their [`Sender`]'s `write_now`.
    sync: AtomicBool,
    next_ticket: AtomicU64,
    /// Events the writer has taken (its progress, for a bounded flush).
    popped: AtomicU64,
    /// Bytes the outputs accepted (the writer counts them write by write):
    /// progress inside a batch, so a slow output is not taken for a stuck
    /// one.
    accepted: Arc<AtomicU64>,
    /// A caller waited [`FLUSH_TIMEOUT`] for a writer that took nothing:
    /// until the writer takes a record again, callers drop at once (one
    /// wait per stall, not one per record) and flushes return at once.
    stuck: AtomicBool,
    /// Flush markers in the queue (not records: left out of what a flush
    /// reports as not written).
    markers: AtomicU64,
    flushed: Mutex<u64>,
    flushed_cv: Condvar,
}

impl Queue {
    /// A queue of at most `records` events holding at most `max_bytes`
    /// (one event is always admitted into an empty queue, whatever its size).
    pub(crate) fn new(records: usize, max_bytes: usize, overflow: Overflow) -> Queue {
        Queue {
            records: ArrayQueue::new(records),
            // Room for every queued event plus those the writer and the
            // callers hold, so a warm pool never frees (and reallocates).
            free: ArrayQueue::new(records + POOL_SLACK),
            bytes: AtomicUsize::new(0),
            pooled: AtomicUsize::new(0),
            max_bytes,
            overflow,
            dropped: AtomicU64::new(0),
            unreported: AtomicU64::new(0),
            parked: AtomicU8::new(RUNNING),
            writer: OnceLock::new(),
            born: crate::fork::generation(),
            sync: AtomicBool::new(false),
            next_ticket: AtomicU64::new(0),
            popped: AtomicU64::new(0),
            accepted: Arc::default(),
            stuck: AtomicBool::new(false),
            markers: AtomicU64::new(0),
            flushed: Mutex::new(0),
            flushed_cv: Condvar::new(),
        }
    }

    /// Records dropped for overflow so far.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// A new empty queue with this one's bounds (a forked child's).
    pub(crate) fn like(&self) -> Queue {
        Queue::new(self.records.capacity(), self.max_bytes, self.overflow)
    }

    /// The writer's progress: events taken plus bytes written. It does not
    /// move only while the writer takes nothing and the outputs accept
    /// nothing.
    pub(crate) fn progress(&self) -> u64 {
        self.popped
            .load(Ordering::Relaxed)
            .wrapping_add(self.accepted.load(Ordering::Relaxed))
    }

    /// The counter of bytes the outputs accepted, for the writer.
    pub(crate) fn accepted(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.accepted)
    }

    /// Records queued now (taken by the writer: not counted).
    pub(crate) fn len(&self) -> usize {
        self.records.len()
    }

    /// Records queued now, flush markers left out.
    pub(crate) fn records_queued(&self) -> u64 {
        (self.records.len() as u64).saturating_sub(self.markers.load(Ordering::Relaxed))
    }

    /// The writer took a flush marker.
    pub(crate) fn marker_taken(&self) {
        self.markers.fetch_sub(1, Ordering::Relaxed);
    }

    /// Drops not reported yet.
    pub(crate) fn unreported(&self) -> u64 {
        self.unreported.load(Ordering::Relaxed)
    }

    /// Takes the count of drops not reported yet (writer side).
    pub(crate) fn take_unreported(&self) -> u64 {
        self.unreported.swap(0, Ordering::AcqRel)
    }

    /// From now on callers write synchronously.
    pub(crate) fn set_sync(&self) {
        // SeqCst: a caller's push (a locked instruction) and this store are
        // ordered before the stopping thread counts what is queued.
        self.sync.store(true, Ordering::SeqCst);
    }

    /// True once callers write synchronously.
    pub(crate) fn is_sync(&self) -> bool {
        self.sync.load(Ordering::Acquire)
    }

    /// Whether the writer (or a thread writing synchronously) is taken for
    /// stuck: see `stuck`.
    pub(crate) fn is_stuck(&self) -> bool {
        self.stuck.load(Ordering::Relaxed)
    }

    pub(crate) fn set_stuck(&self, stuck: bool) {
        if self.stuck.load(Ordering::Relaxed) != stuck {
            self.stuck.store(stuck, Ordering::Relaxed);
        }
    }

    // ---- caller side ----

    /// An event with reused buffers (a new one while the pool warms up).
    pub(crate) fn event(&self) -> Box<Event> {
        match self.free.pop() {
            Some(ev) => {
                self.pooled.fetch_sub(ev.size(), Ordering::Relaxed);
                ev
            }
            None => Box::default(),
        }
    }

    /// Queues a captured record (`never_drop`: the crate's own records that
    /// wait for room whatever the overflow policy), and writes it at once in
    /// synchronous mode.
    pub(crate) fn send_record(&self, ev: Box<Event>, never_drop: bool, write_now: &WriteNow) {
        let inside = thread_role::holds_output();
        self.send(
            ev,
            inside,
            self.overflow == Overflow::Block || never_drop,
            write_now,
        );
        if !inside && self.sync.load(Ordering::Acquire) {
            write_here(write_now);
        }
    }

    /// Queues `ev`. When the queue is full: a caller writing synchronously
    /// makes room by writing; otherwise `block` waits for the writer (while
    /// it makes progress, at most [`FLUSH_TIMEOUT`] without), and the rest
    /// drop the record and count it. A record logged `inside` the writer
    /// (by a value while it is formatted) never waits and never writes.
    /// Returns false if `ev` was not queued.
    fn send(&self, mut ev: Box<Event>, inside: bool, block: bool, write_now: &WriteNow) -> bool {
        let size = ev.size();
        let mut waiting: Option<(u64, Instant)> = None;
        let mut attempt = 0u32;
        loop {
            let before = self.bytes.fetch_add(size, Ordering::AcqRel);
            if before == 0 || before + size <= self.max_bytes {
                match self.records.push(ev) {
                    Ok(()) => {
                        self.after_push(before + size);
                        return true;
                    }
                    Err(back) => ev = back,
                }
            }
            self.bytes.fetch_sub(size, Ordering::AcqRel);
            // Synchronous: this caller makes the room (before any drop: a
            // record that could be written is never dropped).
            // The output stuck for FLUSH_TIMEOUT: dropped, like a full
            // queue of a writer that takes nothing.
            let sync = !inside && self.sync.load(Ordering::Acquire);
            if sync && write_here(write_now) {
                continue;
            }
            if sync || inside || !block || self.stalled(&mut waiting) {
                // A flush marker is not a record: not counted.
                if matches!(ev.kind, Kind::Record) {
                    self.dropped.fetch_add(1, Ordering::Relaxed);
                    self.unreported.fetch_add(1, Ordering::AcqRel);
                }
                // Back to the pool like a written event: a dropped huge
                // record must not stay pinned there.
                self.recycle(ev);
                return false;
            }
            self.wake();
            backoff(attempt);
            attempt = attempt.saturating_add(1);
        }
    }

    /// True once the writer has taken no record for [`FLUSH_TIMEOUT`]
    /// since `waiting` started (its progress is the count it has taken).
    fn stalled(&self, waiting: &mut Option<(u64, Instant)>) -> bool {
        if self.stuck.load(Ordering::Relaxed) {
            return true;
        }
        let popped = self.progress();
        match waiting {
            Some((seen, since)) if *seen == popped => {
                let stuck = since.elapsed() >= FLUSH_TIMEOUT;
                if stuck {
                    self.stuck.store(true, Ordering::Relaxed);
                }
                stuck
            }
            _ => {
                *waiting = Some((popped, Instant::now()));
                false
            }
        }
    }

    fn after_push(&self, bytes: usize) {
        match self.parked.load(Ordering::SeqCst) {
            RUNNING => {}
            IDLE => self.wake(),
            _ => {
                if bytes > self.max_bytes / 2 || self.records.len() > self.records.capacity() / 2 {
                    self.wake();
                }
            }
        }
    }

    /// Wakes the writer if it sleeps; only the caller that clears the
    /// state makes the syscall.
    fn wake(&self) {
        if self.parked.load(Ordering::SeqCst) != RUNNING
            && self.parked.swap(RUNNING, Ordering::SeqCst) != RUNNING
        {
            if let Some(t) = self.writer.get() {
                t.unpark();
            }
        }
    }

    /// Returns once every record queued before the call is written (or
    /// counted as a write error): true. Returns false instead once the
    /// writer has taken no event for `stall`.
    pub(crate) fn flush(&self, write_now: &WriteNow, stall: Duration) -> bool {
        if thread_role::holds_output() {
            // Only this thread could write what it would wait for; the
            // drain it runs writes everything before it returns.
            return false;
        }
        if self.sync.load(Ordering::Acquire) {
            return write_here(write_now);
        }
        if self.stuck.load(Ordering::Relaxed) {
            return false;
        }
        let ticket = self.next_ticket.fetch_add(1, Ordering::AcqRel) + 1;
        let mut marker = self.event();
        marker.flush_marker(ticket);
        self.markers.fetch_add(1, Ordering::Relaxed);
        if !self.send(marker, false, true, write_now) {
            self.markers.fetch_sub(1, Ordering::Relaxed);
            return false; // the writer took nothing for FLUSH_TIMEOUT
        }
        self.wake();
        let started = Instant::now();
        let mut progress = (self.progress(), started);
        let mut done = self.flushed.lock().unwrap_or_else(PoisonError::into_inner);
        while *done < ticket {
            done = self
                .flushed_cv
                .wait_timeout(done, STALL_CHECK)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
            if *done < ticket {
                drop(done);
                if self.sync.load(Ordering::Acquire) {
                    return write_here(write_now);
                }
                let popped = self.progress();
                if started.elapsed() >= LINES_BOUND {
                    return false; // progress, but too slow to wait for
                }
                if popped != progress.0 {
                    progress = (popped, Instant::now());
                } else if progress.1.elapsed() >= stall {
                    if stall >= FLUSH_TIMEOUT {
                        self.stuck.store(true, Ordering::Relaxed);
                    }
                    return false;
                }
                self.wake();
                done = self.flushed.lock().unwrap_or_else(PoisonError::into_inner);
            }
        }
        true
    }

    // ---- writer side ----

    /// Registers the calling thread as the writer.
    pub(crate) fn set_writer(&self, thread: Thread) {
        // A panic on this thread is not logged: the hook would wait for it.
        thread_role::become_writer();
        let _ = self.writer.set(thread);
    }

    /// The next queued event. Its bytes stay counted until [`release`]:
    /// the writer gives them back a few dozen events at a time, so the
    /// counters the callers write are not pulled to the writer's core for
    /// every record.
    ///
    /// [`release`]: Self::release
    pub(crate) fn pop(&self) -> Option<Box<Event>> {
        self.records.pop()
    }

    /// Gives back the bytes of `events` popped events holding `bytes`.
    pub(crate) fn release(&self, bytes: usize, events: u64) {
        if events > 0 {
            self.bytes.fetch_sub(bytes, Ordering::AcqRel);
            self.popped.fetch_add(events, Ordering::Relaxed);
            if self.stuck.load(Ordering::Relaxed) {
                self.stuck.store(false, Ordering::Relaxed);
            }
        }
    }

    /// Gives an event's buffers back to the callers (a written event, or one
    /// dropped for overflow). The pool holds
    /// at most the queue's byte bound in buffers: past it, events go back
    /// with small buffers (a burst of large records does not stay pinned).
    pub(crate) fn recycle(&self, mut ev: Box<Event>) {
        ev.clear();
        if self.pooled.load(Ordering::Relaxed) + ev.size() > self.max_bytes {
            ev.trim();
        }
        let size = ev.size();
        // Counted before it is in the pool: a caller that takes it at once
        // (`event`) subtracts what was added, so the count never wraps
        // below zero (it did with 32 threads writing synchronously).
        self.pooled.fetch_add(size, Ordering::Relaxed);
        if self.free.push(ev).is_err() {
            self.pooled.fetch_sub(size, Ordering::Relaxed);
        }
    }

    /// What should not wait for the writer's next poll: a flush marker, or
    /// the queue past its high-water mark (half full in records or bytes).
    /// Callers wake a sleeping writer for these; one that came while it
    /// wrote found it awake, so the writer looks before it sleeps.
    pub(crate) fn urgent(&self) -> bool {
        self.markers.load(Ordering::Relaxed) > 0
            || self.records.len() > self.records.capacity() / 2
            || self.bytes.load(Ordering::Relaxed) > self.max_bytes / 2
    }

    /// Sleeps up to `timeout`, or until a caller wakes the writer; `idle`
    /// says that the next record should wake it.
    pub(crate) fn park(&self, timeout: Duration, idle: bool) {
        self.parked
            .store(if idle { IDLE } else { POLLING }, Ordering::SeqCst);
        if !timeout.is_zero() && (self.records.is_empty() || !idle) {
            std::thread::park_timeout(timeout);
        }
        self.parked.store(RUNNING, Ordering::SeqCst);
    }

    /// Reports flush ticket `ticket` done.
    pub(crate) fn flushed(&self, ticket: u64) {
        let mut done = self.flushed.lock().unwrap_or_else(PoisonError::into_inner);
        *done = (*done).max(ticket);
        self.flushed_cv.notify_all();
    }
}

/// Writes the queued records on this thread, marked busy: a panic while it
/// holds the output is not logged by the panic hook (it would wait for the
/// output this thread holds).
fn write_here(write_now: &WriteNow) -> bool {
    thread_role::holding_output(write_now)
}

/// Waiting for room: spin briefly, then yield, then sleep.
fn backoff(attempt: u32) {
    if attempt < 6 {
        for _ in 0..(1 << attempt) {
            std::hint::spin_loop();
        }
    } else if attempt < 16 {
        std::thread::yield_now();
    } else {
        std::thread::sleep(Duration::from_micros(200));
    }
}
