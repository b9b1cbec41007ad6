//! The writer thread: drains the queue, replays each event as a
//! `slog::Record`, formats it into each output's batch and hands the batch
//! to that output (a line output's own thread, `lane.rs`, or the OTLP
//! exporter's), never waiting for one while it has room.
//!
//! Wake-up rule (an adaptive poll; callers never wake it per record):
//! - while records arrive it polls every [`ACTIVE_POLL`] (20 ms), so a record
//!   is handed to the outputs within about 20 ms of the call;
//! - after [`QUIET_SPELL`] without records it sleeps up to [`IDLE_POLL`]
//!   (1 s), and the first record after the spell wakes it (one wake-up);
//! - a caller also wakes it when the queue is half full, full, or flushed.
//!
//! After [`Writer::stop`] (the guard was dropped) and in a forked child,
//! which has no writer thread, callers write synchronously: each record is
//! formatted and written before `log` returns.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;

use super::batch::FormatSpec;
use super::child::reopen;
use super::counters::Stats;
use super::lane::{ended_while_progressing, Lane};
use super::output_set::{OutputSet, Reopen, Specs};
use crate::caller::sender::{AfterFlush, FlushLanes, Sender};
use crate::error::Error;
#[cfg(feature = "otlp")]
use crate::otlp::exporter::Exporter;
use crate::outputs::Opened;
use crate::record::queue::{Queue, FLUSH_TIMEOUT, LINES_BOUND};

/// How often the writer polls while records arrive.
pub const ACTIVE_POLL: Duration = Duration::from_millis(20);
/// How long the writer polls without finding a record before it sleeps
/// deeply.
pub const QUIET_SPELL: Duration = Duration::from_millis(250);
/// The longest deep sleep (the first record after a quiet spell wakes the
/// writer at once).
pub const IDLE_POLL: Duration = Duration::from_secs(1);
/// Default bound of the wait for the OTLP export at flush and shutdown
/// ([`Builder::shutdown_timeout`](crate::Builder::shutdown_timeout)).
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest [`Builder::shutdown_timeout`](crate::Builder::shutdown_timeout).
pub const MAX_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(60);

/// What the writer thread runs on every poll.
pub(crate) type Tick = Box<dyn FnMut() + Send>;

/// A forked child's own pipeline: a writer without a thread (callers
/// write synchronously), its queue, its outputs opened again.
struct Child {
    writer: Arc<Writer>,
    sender: Sender,
}

/// The writer: its thread, the output set, and the synchronous fallback.
pub(crate) struct Writer {
    queue: Arc<Queue>,
    output_set: Mutex<OutputSet>,
    /// The pipeline of a forked child, made by the first record it logs
    /// (this process is that child when its fork generation is not the
    /// queue's).
    child: ArcSwapOption<Child>,
    specs: Specs,
    stats: Arc<Stats>,
    /// Run by the writer thread on every poll (`LOG_FILTER_FILE`).
    tick: Mutex<Option<Tick>>,
    stop: AtomicBool,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// The line outputs' lanes (each with its thread, in the process that
    /// started the writer).
    lanes: Vec<Arc<Lane>>,
    /// The longest flushes and the shutdown wait for the export, together
    /// while the collector stays unreachable.
    #[cfg_attr(not(feature = "otlp"), allow(dead_code))]
    shutdown_timeout: Duration,
    /// The OTLP outputs' exporters.
    #[cfg(feature = "otlp")]
    exporters: Vec<Arc<Exporter>>,
}

impl Writer {
    /// Builds the output set for `outputs` (at most [`MAX_OUTPUTS`]) and starts
    /// the writer thread named `name`.
    pub(crate) fn start(
        queue: Arc<Queue>,
        outputs: Vec<(FormatSpec, Opened)>,
        name: &str,
        shutdown_timeout: Duration,
    ) -> Result<Arc<Writer>, Error> {
        if !crate::fork::watch() {
            return Err(Error::other(
                "cannot register the fork handler (pthread_atfork failed)",
            ));
        }
        let (specs, opened): (Vec<_>, Vec<_>) = outputs
            .into_iter()
            .map(|(recipe, output)| {
                let kind = match &output {
                    Opened::Stdout(_) => Reopen::Stdout,
                    Opened::Stderr(_) => Reopen::Stderr,
                    Opened::File(f) => Reopen::File(f.config().clone()),
                    Opened::Writer(_) => Reopen::Writer,
                    #[cfg(feature = "otlp")]
                    Opened::Otlp(_) | Opened::OtlpConfig(_) => Reopen::Otlp,
                };
                ((recipe, kind), output)
            })
            .unzip();
        #[cfg(feature = "otlp")]
        let opened = opened
            .into_iter()
            .zip(&specs)
            .map(|(o, (recipe, _))| match o {
                Opened::OtlpConfig(c) => {
                    Exporter::start(*c, recipe.cache.clone()).map(Opened::Otlp)
                }
                o => Ok(o),
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let specs = Specs(specs);
        let stats = Arc::new(Stats::new(opened.len(), queue.accepted()));
        let writer = Arc::new(Writer::new(queue, specs, opened, stats, shutdown_timeout));
        // A thread that cannot start fails `init`; those started end.
        let close_lanes = |e| {
            for lane in &writer.lanes {
                lane.close(Instant::now());
            }
            e
        };
        for lane in &writer.lanes {
            lane.start()
                .map_err(|e| close_lanes(Error::io("cannot start a log output's thread", &e)))?;
        }
        let w = Arc::clone(&writer);
        let thread = std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || w.run())
            .map_err(|e| close_lanes(Error::io("cannot start the writer thread", &e)))?;
        *writer.thread.lock().unwrap_or_else(PoisonError::into_inner) = Some(thread);
        Ok(writer)
    }

    fn new(
        queue: Arc<Queue>,
        specs: Specs,
        opened: Vec<Opened>,
        stats: Arc<Stats>,
        shutdown_timeout: Duration,
    ) -> Writer {
        #[cfg(feature = "otlp")]
        let exporters = opened
            .iter()
            .filter_map(|o| match o {
                Opened::Otlp(e) => Some(Arc::clone(e)),
                _ => None,
            })
            .collect();
        let output_set = specs.build(opened, &stats);
        Writer {
            #[cfg(feature = "otlp")]
            exporters,
            lanes: output_set.lanes().cloned().collect(),
            shutdown_timeout,
            output_set: Mutex::new(output_set),
            queue,
            child: ArcSwapOption::empty(),
            specs,
            stats,
            tick: Mutex::new(None),
            stop: AtomicBool::new(false),
            thread: Mutex::new(None),
        }
    }

    /// The drain for the logging threads; it keeps this writer alive.
    pub(crate) fn sender(self: &Arc<Self>) -> Sender {
        let (writer, parent) = (Arc::clone(self), Arc::clone(self));
        Sender {
            queue: Arc::clone(&self.queue),
            write_now: Arc::new(Box::new(move || writer.drain_here())),
            for_child: Arc::new(move || parent.child_sender()),
            outputs: None,
            flush_lanes: self.flush_lanes_hook(),
            after_flush: self.after_flush(),
        }
    }

    /// What a flush waits for once the writer handed everything over: the
    /// line outputs' threads writing it (true if all of it was written).
    fn flush_lanes_hook(self: &Arc<Self>) -> Option<FlushLanes> {
        if self.lanes.is_empty() {
            return None;
        }
        let w = Arc::clone(self);
        Some(Arc::new(move |stall| w.flush_lanes(stall) == 0))
    }

    /// Waits until every line output wrote what it was handed before the
    /// call: each while it takes bytes, at most `stall` without, all at
    /// most [`LINES_BOUND`]. The records not written then.
    pub(crate) fn flush_lanes(&self, stall: Duration) -> u64 {
        if self.forked() {
            return 0;
        }
        let deadline = Instant::now() + LINES_BOUND;
        self.lanes.iter().map(|l| l.flush(stall, deadline)).sum()
    }

    /// What a flush waits for after the lines are written: the exporters'
    /// export of them (true if all of it was exported).
    fn after_flush(self: &Arc<Self>) -> Option<AfterFlush> {
        #[cfg(feature = "otlp")]
        if !self.exporters.is_empty() {
            let w = Arc::clone(self);
            return Some(Arc::new(move || w.flush_exports() == 0));
        }
        None
    }

    /// Waits for every exporter to export what it holds, all together at
    /// most the shutdown timeout (or the export timeout, if shorter): the
    /// records not exported then. While the collector stays unreachable
    /// after such a wait, flushes and the shutdown do not wait again.
    #[cfg(feature = "otlp")]
    pub(crate) fn flush_exports(&self) -> u64 {
        if self.forked() {
            return 0;
        }
        let deadline = Instant::now() + self.export_wait();
        self.exporters.iter().map(|e| e.flush(deadline)).sum()
    }

    /// The longest wait for the export: the shutdown timeout, or the
    /// longest export timeout if that is shorter.
    #[cfg(feature = "otlp")]
    fn export_wait(&self) -> Duration {
        let longest = self.exporters.iter().map(|e| e.export_timeout()).max();
        longest.unwrap_or_default().min(self.shutdown_timeout)
    }

    /// Shuts the exporters down together, at most the export wait: the
    /// records they dropped doing it.
    #[cfg(feature = "otlp")]
    fn shutdown_exports(&self) -> u64 {
        let deadline = Instant::now() + self.export_wait();
        for e in &self.exporters {
            e.begin_shutdown(deadline);
        }
        self.exporters.iter().map(|e| e.finish_shutdown()).sum()
    }

    /// Records the exporters hold: queued, or in an export under way.
    pub(crate) fn unexported(&self) -> u64 {
        #[cfg(feature = "otlp")]
        if !self.forked() {
            return self.exporters.iter().map(|e| e.unexported()).sum();
        }
        0
    }

    /// The OTLP exporters' counters: records exported, records dropped.
    #[cfg(feature = "otlp")]
    pub(crate) fn export_counts(&self) -> (u64, u64) {
        self.exporters.iter().fold((0, 0), |(x, d), e| {
            (
                x + e.stats.exported.load(Ordering::Relaxed),
                d + e.stats.dropped.load(Ordering::Relaxed),
            )
        })
    }

    /// Each line output's name and the records it dropped (its buffer was
    /// full).
    pub(crate) fn output_dropped(&self) -> Vec<(String, u64)> {
        self.lanes
            .iter()
            .map(|l| (l.label.clone(), l.dropped.load(Ordering::Relaxed)))
            .collect()
    }

    pub(crate) fn stats(&self) -> &Arc<Stats> {
        &self.stats
    }

    /// True in a forked child of the process that built this writer.
    fn forked(&self) -> bool {
        crate::fork::generation() != self.queue.born
    }

    /// The current child pipeline, if this process made one.
    fn current_child(&self) -> Option<Arc<Child>> {
        self.child
            .load_full()
            .filter(|c| c.writer.queue.born == crate::fork::generation())
    }

    /// In a forked child: the sender of this process's own pipeline, made
    /// on first use. It never touches the parent's queues, pool, output set or
    /// locks (a thread of the parent may have been inside them at the fork
    /// and does not exist here to finish). Its outputs are opened again:
    /// standard output and error as new descriptors, files by their path; a
    /// custom writer is taken over if no thread held it at the fork. The
    /// host snapshot gets this process's pid.
    fn child_sender(&self) -> Sender {
        let current = self.child.load_full();
        if let Some(c) = &current {
            if c.writer.queue.born == crate::fork::generation() {
                return c.sender.clone();
            }
        }
        let opened = {
            let parent = self.output_set.try_lock().ok();
            reopen(&self.specs, parent.as_deref())
        };
        let queue = Arc::new(self.queue.like());
        queue.set_sync();
        let writer = Arc::new(Writer::new(
            queue,
            self.specs.clone(),
            opened,
            Arc::clone(&self.stats),
            self.shutdown_timeout,
        ));
        let sender = writer.sender();
        let made = Arc::new(Child {
            writer,
            sender: sender.clone(),
        });
        let before = self.child.compare_and_swap(&current, Some(made));
        let won = match (&*before, &current) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        };
        if !won {
            // Another thread of this child made it first.
            return self.child_sender();
        }
        if let Some((recipe, _)) = self.specs.0.first() {
            recipe.cache.adopt_pid(std::process::id());
        }
        sender
    }

    fn run(&self) {
        self.queue.set_writer(std::thread::current());
        let mut last_record = Instant::now();
        loop {
            let started = Instant::now();
            let n = catch_unwind(AssertUnwindSafe(|| {
                self.output_set
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .drain(&self.queue, Some(&self.stop))
            }))
            .unwrap_or_else(|_| {
                // Formatting catches panics per record; this is the output
                // itself. The thread must live on: callers wait for it.
                crate::error::report(format_args!("the log writer panicked; it goes on"));
                0
            });
            if self.stop.load(Ordering::Acquire) {
                return;
            }
            if let Ok(mut tick) = self.tick.try_lock() {
                if let Some(f) = tick.as_mut() {
                    let _ = catch_unwind(AssertUnwindSafe(f));
                }
            }
            if n > 0 {
                last_record = started;
            }
            // Records that arrived while this poll wrote wait for the next
            // one: one hand-over per output per poll while the writer keeps
            // up (a loop at once took a few records at a time and woke each
            // output for them, 4 to 8 times the syscalls at 100k records/s).
            // A poll that took longer than ACTIVE_POLL is followed at once,
            // and so is a flush or a queue past its high-water mark that
            // came while it wrote (callers wake a sleeping writer for those).
            if self.queue.urgent() {
                continue;
            }
            if last_record.elapsed() >= QUIET_SPELL {
                self.queue.park(IDLE_POLL, true);
            } else {
                self.queue
                    .park(ACTIVE_POLL.saturating_sub(started.elapsed()), false);
            }
        }
    }

    /// The output set, locked, waiting at most [`FLUSH_TIMEOUT`] while another
    /// thread holds it (a writer stuck in a write): `None` then.
    fn lock_within(&self) -> Option<MutexGuard<'_, OutputSet>> {
        let since = Instant::now();
        let mut attempt = 0u32;
        loop {
            match self.output_set.try_lock() {
                Ok(b) => return Some(b),
                Err(TryLockError::Poisoned(p)) => return Some(p.into_inner()),
                Err(TryLockError::WouldBlock) if since.elapsed() >= FLUSH_TIMEOUT => return None,
                Err(TryLockError::WouldBlock) => {
                    if attempt < 16 {
                        std::thread::yield_now();
                    } else {
                        std::thread::sleep(Duration::from_micros(100));
                    }
                    attempt = attempt.saturating_add(1);
                }
            }
        }
    }

    /// Sets what the writer thread runs on every poll (at least once per
    /// [`IDLE_POLL`]).
    pub(crate) fn on_tick(&self, f: Tick) {
        *self.tick.lock().unwrap_or_else(PoisonError::into_inner) = Some(f);
    }

    /// Writes everything queued, on the calling thread; false if the output
    /// stayed held by a stuck writer for [`FLUSH_TIMEOUT`]. Then the queue
    /// is marked stuck, and until a caller gets the output again each one
    /// only tries once (one wait per stall, not one per record).
    fn drain_here(&self) -> bool {
        self.drain_here_until(None)
    }

    /// [`drain_here`](Self::drain_here), bounded by `stop` as
    /// [`OutputSet::drain`] is.
    fn drain_here_until(&self, stop: Option<&AtomicBool>) -> bool {
        let set = if self.queue.is_stuck() {
            match self.output_set.try_lock() {
                Ok(b) => Some(b),
                Err(TryLockError::Poisoned(p)) => Some(p.into_inner()),
                Err(TryLockError::WouldBlock) => None,
            }
        } else {
            self.lock_within()
        };
        match set {
            Some(mut set) => {
                self.queue.set_stuck(false);
                let _ = catch_unwind(AssertUnwindSafe(|| set.drain(&self.queue, stop)));
                true
            }
            None => {
                self.queue.set_stuck(true);
                false
            }
        }
    }

    /// Records logged but not written yet: queued, or in a write that has
    /// not returned.
    pub(crate) fn unwritten(&self) -> u64 {
        if self.forked() {
            return self.current_child().map_or(0, |c| c.writer.unwritten());
        }
        self.queue.records_queued()
            + self.stats.in_write.load(Ordering::Relaxed)
            + self.lanes.iter().map(|l| l.unwritten()).sum::<u64>()
    }

    /// Writes everything queued, stops the threads, and switches callers to
    /// synchronous writes. The lines first: the writer thread and each line
    /// output's thread are waited for while they make progress, at most
    /// [`FLUSH_TIMEOUT`] without and [`LINES_BOUND`] in all (one that takes
    /// no write is left to its thread, detached, and the records it holds
    /// are returned as not written and reported on stderr); then the
    /// export, at most the shutdown timeout. In a forked child this stops
    /// the child's own pipeline, never the parent's.
    pub(crate) fn stop(&self) -> u64 {
        if self.forked() {
            return self.current_child().map_or(0, |c| c.writer.stop());
        }
        let lines_deadline = Instant::now() + LINES_BOUND;
        for lane in &self.lanes {
            lane.set_deadline(lines_deadline);
        }
        self.stop.store(true, Ordering::Release);
        let thread = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let mut stuck = false;
        if let Some(t) = thread {
            t.thread().unpark();
            stuck = !ended_while_progressing(&t, || self.queue.progress(), lines_deadline);
            if !stuck {
                let _ = t.join();
            }
        }
        self.queue.set_sync();
        // The filter-file watcher holds a sender, which holds this writer.
        drop(
            self.tick
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        if !stuck {
            self.drain_here_until(Some(&self.stop));
        }
        // Each line output writes what it holds, on its thread, all at once;
        // then callers write synchronously.
        let mut left = Vec::new();
        for lane in &self.lanes {
            if !lane.close(lines_deadline) {
                left.push(lane);
            }
        }
        let unwritten = if stuck {
            self.unwritten()
        } else {
            left.iter().map(|l| l.unwritten()).sum()
        };
        if stuck || !left.is_empty() {
            crate::error::report(format_args!(
                "a log output took no write for {} s (or the lines took over {} s in all): \
                 {unwritten} records are not written (its thread is left to finish them if it can)",
                FLUSH_TIMEOUT.as_secs(),
                LINES_BOUND.as_secs()
            ));
        }
        #[cfg(feature = "otlp")]
        let unwritten = unwritten + self.shutdown_exports();
        // The last reports (what the outputs lost closing, what the
        // exporters dropped), into the lines.
        if !stuck {
            self.drain_here_until(Some(&self.stop));
        }
        unwritten
    }
}
