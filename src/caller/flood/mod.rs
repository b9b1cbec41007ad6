//! [`FloodGuard`]: per-call-site flood control that counts and reports every
//! record it drops.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use slog::{Drain, Level, OwnedKVList, Record, RecordLocation, RecordStatic};

use crate::background::Stop;
use crate::error::Error;
use crate::settings::format_duration;

/// Default records per call site that pass in each window at WARN, ERROR and
/// CRIT: 100.
pub const DEFAULT_FLOOD_BURST: u32 = 100;
/// Default records per call site that pass in each window at INFO, DEBUG and
/// TRACE: 10,000.
pub const DEFAULT_FLOOD_INFO_BURST: u32 = 10_000;
/// Default window: one second.
pub const DEFAULT_FLOOD_WINDOW: Duration = Duration::from_secs(1);
/// The largest budget accepted, per call site and window: 10,000,000 (a
/// larger one is an error; turn the guard off instead).
pub const MAX_FLOOD_BURST: u32 = 10_000_000;
/// The longest window accepted: 24 hours.
pub const MAX_FLOOD_WINDOW: Duration = Duration::from_secs(24 * 3600);
/// The shortest window accepted: 1 millisecond.
pub const MIN_FLOOD_WINDOW: Duration = Duration::from_millis(1);
/// Call sites (times levels) the guard tracks; see [`FloodGuard`].
pub(crate) const FLOOD_TABLE_SIZE: usize = 4096;
/// Fields of a summary record.
pub mod flood_keys {
    /// The call site, `file:line`.
    pub const SITE: &str = "flood.site";
    /// How many records from that site were dropped.
    pub const SUPPRESSED: &str = "flood.suppressed";
    /// The window, in milliseconds.
    pub const WINDOW_MS: &str = "flood.window_ms";
}
/// How many slots a key may probe before it counts as a table overflow.
const MAX_PROBES: usize = 64;
/// The bit of [`Slot::dropped`] the stop sets with the final summaries.
const CLOSED: u64 = 1 << 63;

/// Budget of a [`FloodGuard`]: per call site, `burst` records at WARN and
/// above and `info_burst` records at INFO and below pass in each `window`.
///
/// | setting | default | why |
/// |---|---|---|
/// | `burst` (WARN, ERROR, CRIT) | [`DEFAULT_FLOOD_BURST`] (100) | floods are failure loops (an accept loop out of file descriptors, a retry without backoff) and they log at WARN and above; the 101st identical error in a second adds nothing the summary's count does not say. As zap's production sampler (first 100 per second), a tight error loop writes about 20 KB/s instead of filling a disk |
/// | `info_burst` (INFO, DEBUG, TRACE) | [`DEFAULT_FLOOD_INFO_BURST`] (10,000) | one INFO call site is typically an access log: one distinct event per request, at a rate that follows traffic, and each line matters (audits, counts). 10,000 per second is ten times a busy instance's 1,000 requests per second, so ordinary traffic and its spikes pass untouched, while a runaway loop is still cut to a bounded rate. DEBUG and TRACE are switched on to see everything, so they get the same budget |
/// | `window` | [`DEFAULT_FLOOD_WINDOW`] (1 s) | short enough that a summary follows a burst quickly |
///
/// Budgets are whole records, not sampling: a call site's first records of
/// each window pass, the rest are dropped and counted in that site's summary.
/// Limits: budgets from 1 to [`MAX_FLOOD_BURST`], windows from
/// [`MIN_FLOOD_WINDOW`] to [`MAX_FLOOD_WINDOW`]; anything else is an error.
///
/// `LOG_FLOOD` sets it: `off`; `burst/window` (`100/1s`, `1000/500ms`) sets
/// one budget for every level, as it always did; `burst/window,info=N`
/// (`100/1s,info=20000`) sets the two budgets apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FloodConfig {
    /// Records per call site that pass in each window at WARN and above.
    pub burst: u32,
    /// Records per call site that pass in each window at INFO and below.
    pub info_burst: u32,
    /// The window.
    pub window: Duration,
}

impl Default for FloodConfig {
    fn default() -> Self {
        FloodConfig {
            burst: DEFAULT_FLOOD_BURST,
            info_burst: DEFAULT_FLOOD_INFO_BURST,
            window: DEFAULT_FLOOD_WINDOW,
        }
    }
}

impl FloodConfig {
    /// One budget for every level: `burst` records per call site and level in
    /// each `window`.
    pub fn uniform(burst: u32, window: Duration) -> Self {
        FloodConfig {
            burst,
            info_burst: burst,
            window,
        }
    }

    /// The budget of a call site at `level`.
    fn budget(&self, level: Level) -> u32 {
        if level.is_at_least(Level::Warning) {
            self.burst
        } else {
            self.info_burst
        }
    }

    /// Parses `burst/window` (`100/1s`, one budget for every level),
    /// `burst/window,info=N` (`N` for INFO and below) or `off` (`None`);
    /// errors name `setting` and the value.
    pub fn parse_setting(setting: &str, value: &str) -> Result<Option<FloodConfig>, Error> {
        let v = value.trim();
        if v.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        let bad = |why: &str| Error::invalid(setting, value, why);
        let (budget, info) = match v.split_once(',') {
            Some((budget, info)) => {
                let n = info.trim().strip_prefix("info=").ok_or_else(|| {
                    bad("expected info=N after the comma, such as 100/1s,info=10000")
                })?;
                (
                    budget,
                    Some(parse_burst(n).map_err(|why| bad(&format!("the info budget {why}")))?),
                )
            }
            None => (v, None),
        };
        let (burst, window) = budget
            .split_once('/')
            .ok_or_else(|| bad("expected burst/window such as 100/1s, or off"))?;
        let burst = parse_burst(burst).map_err(|why| bad(&format!("the burst {why}")))?;
        let window =
            crate::settings::parse_duration(setting, window, MAX_FLOOD_WINDOW).map_err(|_| {
                bad(&format!(
                    "the window must be a duration from 1ms to {}, such as 1s or 500ms",
                    format_duration(MAX_FLOOD_WINDOW)
                ))
            })?;
        let config = FloodConfig {
            burst,
            info_burst: info.unwrap_or(burst),
            window,
        };
        config.validate(setting, value)?;
        Ok(Some(config))
    }

    fn validate(&self, setting: &str, value: &str) -> Result<(), Error> {
        for (name, n) in [("burst", self.burst), ("info budget", self.info_burst)] {
            if n == 0 {
                return Err(Error::invalid(
                    setting,
                    value,
                    format!("the {name} must be at least 1 (use `off` to disable)"),
                ));
            }
            if n > MAX_FLOOD_BURST {
                return Err(Error::invalid(
                    setting,
                    value,
                    format!("the {name} must be at most {MAX_FLOOD_BURST}"),
                ));
            }
        }
        if self.window < MIN_FLOOD_WINDOW || self.window > MAX_FLOOD_WINDOW {
            return Err(Error::invalid(
                setting,
                value,
                format!(
                    "the window must be from 1ms to {}",
                    format_duration(MAX_FLOOD_WINDOW)
                ),
            ));
        }
        Ok(())
    }
}

/// A budget: a whole number from 1 to [`MAX_FLOOD_BURST`].
fn parse_burst(text: &str) -> Result<u32, String> {
    let t = text.trim();
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err("must be a whole number such as 100".to_string());
    }
    // Digits only: a parse error is overflow, past any budget allowed.
    match t.parse::<u32>() {
        Ok(0) => Err("must be at least 1 (use `off` to disable)".to_string()),
        Ok(n) if n <= MAX_FLOOD_BURST => Ok(n),
        _ => Err(format!("must be at most {MAX_FLOOD_BURST}")),
    }
}

/// Where a call site is, for its summary record.
#[derive(Clone, Copy)]
struct Site {
    location: &'static RecordLocation,
    level: Level,
}

struct Slot {
    /// Hash of the call site and level; 0 while free.
    key: AtomicU64,
    site: OnceLock<Site>,
    /// `(window epoch << 32) | records passed in that window`.
    window: AtomicU64,
    /// Dropped since the last summary; [`CLOSED`] set by the stop, once
    /// its summary took the count. A record that finds it set (in the
    /// value its own increment replaced) is not dropped: no summary is left
    /// to count it.
    dropped: AtomicU64,
}

struct Shared<D> {
    drain: D,
    config: FloodConfig,
    slots: Box<[Slot]>,
    counters: Arc<Counters>,
}

#[derive(Default)]
struct Counters {
    suppressed: AtomicU64,
    /// Records of call sites that found no free slot (passed, not guarded).
    unguarded: AtomicU64,
    /// Set when the guard stops: from then on every record passes, without
    /// a look at its slot. (A record that looked before is judged by its
    /// slot's [`CLOSED`] bit.)
    stopped: std::sync::atomic::AtomicBool,
    /// Windows started: the current window's epoch. Starts at 1, because
    /// epoch 0 is what a fresh slot holds, so a new slot's first record
    /// opens a window.
    windows: AtomicU64,
    /// The fork generation the guard was made in (`crate::fork`). In a
    /// forked child the timer thread is not there and the counts are the
    /// parent's to report: every record passes, and stopping touches no
    /// lock and writes no summary.
    born: u64,
}

impl Counters {
    #[inline]
    fn forked(&self) -> bool {
        crate::fork::generation() != self.born
    }
}

/// The timer thread and its stop.
struct Control {
    stop: Stop,
    thread: Mutex<Option<JoinHandle<()>>>,
}

/// A drain wrapper that stops floods: per call site (file, line, column and
/// level; never the message text, which varies), the first
/// [`burst`](FloodConfig::burst) records of each
/// [`window`](FloodConfig::window) pass, and the rest are dropped and counted.
/// Budgets are per level, so an INFO flood never hides an ERROR.
///
/// Once per window, for every call site that had drops, a timer thread
/// (`slog-host-flood`) writes exactly one summary record at that site's
/// level, `"suppressed N similar records"` with fields
/// [`flood.site`](flood_keys::SITE), [`flood.suppressed`](flood_keys::SUPPRESSED)
/// and [`flood.window_ms`](flood_keys::WINDOW_MS). Summaries come even after
/// the flood stops, and pending ones are written when the guard stops
/// ([`stop`](Self::stop), [`FloodStats::stop`] or drop). So written records
/// plus the summaries' counts always equal the records logged, also when
/// records are logged on other threads while the guard stops: each is
/// either counted in the final summaries or passes (every record logged
/// after the stop passes).
///
/// Memory is a fixed table of 4,096 slots (about 256 KiB),
/// claimed once per call site and level; call sites are static, so it does
/// not grow. If it is ever full, records of further call sites pass unguarded
/// and are counted ([`unguarded`](Self::unguarded)).
///
/// A dropped record costs a hash, a table probe and one atomic add: no lock,
/// no system call, no allocation. `is_enabled` and `flush` are forwarded.
///
/// ```
/// use std::sync::Mutex;
/// use slog::{error, o, Drain};
/// use slog_host::FloodConfig;
/// use slog_host::drain::FloodGuard;
///
/// let json = Mutex::new(slog_host::format::json(std::io::stdout()));
/// let guard = FloodGuard::new(json, FloodConfig::default()).unwrap();
/// let stats = guard.stats();
/// let log = slog::Logger::root(guard.fuse(), o!());
/// for _ in 0..1000 {
///     error!(log, "accept failed"; "error" => "too many open files");
/// }
/// assert_eq!(stats.suppressed(), 900);
/// drop(log); // the guard stops: "suppressed 900 similar records" is written
/// ```
pub struct FloodGuard<D: Drain + Send + Sync + 'static> {
    shared: Arc<Shared<D>>,
    control: Arc<Control>,
}

/// Counters of a [`FloodGuard`], readable after the guard moved into a logger.
#[derive(Clone)]
pub struct FloodStats {
    counters: Arc<Counters>,
    control: Arc<Control>,
    summary: Arc<dyn Summarise>,
}

/// Writes the final summaries (the guard's shared state, without its
/// drain type).
trait Summarise: Send + Sync {
    fn close(&self);
}

impl<D: Drain + Send + Sync + 'static> Summarise for Shared<D> {
    fn close(&self) {
        Shared::summarise(self, true);
    }
}

impl fmt::Debug for FloodStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FloodStats")
            .field("suppressed", &self.suppressed())
            .field("unguarded", &self.unguarded())
            .finish()
    }
}

impl FloodStats {
    /// Records dropped so far.
    pub fn suppressed(&self) -> u64 {
        self.counters.suppressed.load(Ordering::Relaxed)
    }

    /// Records that passed unguarded because the table was full.
    pub fn unguarded(&self) -> u64 {
        self.counters.unguarded.load(Ordering::Relaxed)
    }

    /// Windows started so far (the timer's ticks, plus the first).
    pub fn windows(&self) -> u64 {
        self.counters.windows.load(Ordering::Relaxed)
    }

    /// Writes the pending summaries and stops the timer thread. From then on
    /// every record passes: no timer is left to report a drop. A record
    /// logged on another thread while it stops is either counted in these
    /// final summaries or passes; none is left for a later summary (the
    /// guard of the global logger is never dropped).
    pub fn stop(&self) {
        self.counters.stopped.store(true, Ordering::Relaxed);
        if !stop(&self.control, &self.counters) {
            self.summary.close();
        }
    }
}

/// Stops the timer thread, which writes the final summaries
/// (`Shared::summarise` with `close`): true. False if there was no thread
/// to write them. In a forked child nothing is done (true): the thread and
/// the counts are the parent's, and a lock may have been held at the fork.
fn stop(control: &Control, counters: &Counters) -> bool {
    if counters.forked() {
        return true;
    }
    control.stop.request();
    let thread = control
        .thread
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    thread.is_some_and(|t| t.join().is_ok())
}

fn mix(mut x: u64) -> u64 {
    // splitmix64 finaliser
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn key_of(record: &Record<'_>) -> u64 {
    let loc = record.location();
    let mut h = mix(loc.file.as_ptr() as u64 ^ (loc.file.len() as u64) << 48);
    h = mix(h ^ (u64::from(loc.line) << 20) ^ u64::from(loc.column));
    h = mix(h ^ loc.module.as_ptr() as u64);
    h = mix(h ^ record.level().as_usize() as u64);
    h | 1 // never 0, the free marker
}

enum Verdict {
    Pass,
    Drop,
}

impl<D: Drain + Send + Sync + 'static> Shared<D> {
    fn slot_for(&self, key: u64, site: impl FnOnce() -> Site) -> Option<&Slot> {
        let mask = self.slots.len() - 1;
        let start = key as usize & mask;
        for i in 0..MAX_PROBES {
            let slot = &self.slots[(start + i) & mask];
            let k = slot.key.load(Ordering::Acquire);
            if k == 0 {
                match slot
                    .key
                    .compare_exchange(0, key, Ordering::AcqRel, Ordering::Acquire)
                {
                    Ok(_) => {}
                    Err(k) if k == key => {}
                    Err(_) => continue,
                }
            } else if k != key {
                continue;
            }
            // A slot has its site before it counts a drop, so that the final
            // summary can report every count. Set once: another thread that
            // finds the slot while the claimer sets it waits for it.
            if slot.site.get().is_none() {
                slot.site.get_or_init(site);
            }
            return Some(slot);
        }
        None
    }

    fn judge(&self, slot: &Slot, budget: u32) -> Verdict {
        if self.counters.stopped.load(Ordering::Relaxed) {
            return Verdict::Pass;
        }
        let epoch = self.counters.windows.load(Ordering::Relaxed) & 0xffff_ffff;
        let mut state = slot.window.load(Ordering::Relaxed);
        loop {
            let (window, passed) = (state >> 32, state & 0xffff_ffff);
            let next = if window != epoch {
                (epoch << 32) | 1
            } else if passed < u64::from(budget) {
                state + 1
            } else {
                // The count and the verdict are one step: if the stop's
                // final summary took the count before this increment, the
                // record is not counted there, so it passes.
                // (Release: the summary that takes the count sees the
                // slot's site, which this thread saw in `slot_for`.)
                if slot.dropped.fetch_add(1, Ordering::Release) & CLOSED != 0 {
                    return Verdict::Pass;
                }
                self.counters.suppressed.fetch_add(1, Ordering::Relaxed);
                return Verdict::Drop;
            };
            match slot.window.compare_exchange_weak(
                state,
                next,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Verdict::Pass,
                Err(now) => state = now,
            }
        }
    }

    /// Writes one summary for every slot with drops. With `close`, the final
    /// summaries: every slot, used or not, is closed ([`CLOSED`]) as its
    /// count is taken, so no record is dropped after them. A closed slot's
    /// count is of records that passed: never reported.
    fn summarise(&self, close: bool) {
        let empty = crate::record::event::no_values();
        let window_ms = self.config.window.as_millis() as u64;
        for slot in self.slots.iter() {
            let n = if close {
                slot.dropped.swap(CLOSED, Ordering::Acquire)
            } else {
                let seen = slot.dropped.load(Ordering::Relaxed);
                if seen == 0 || seen & CLOSED != 0 {
                    continue;
                }
                // Keeps the bit: a summary from another thread (a forked
                // child's stop) does not reopen a closed slot.
                slot.dropped.fetch_and(CLOSED, Ordering::Acquire)
            };
            if n == 0 || n & CLOSED != 0 {
                continue;
            }
            // Set before the slot counted a drop (see `slot_for`).
            let Some(site) = slot.site.get() else {
                continue;
            };
            let rs = RecordStatic {
                location: site.location,
                tag: crate::record::own::NEVER_DROP_TAG,
                level: site.level,
            };
            let loc = site.location;
            // A panicking inner drain costs this summary, not the others.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                self.drain.log(
                    &Record::new(
                        &rs,
                        &format_args!("suppressed {n} similar records"),
                        slog::b!(
                            flood_keys::SITE => format_args!("{}:{}", loc.file, loc.line),
                            flood_keys::SUPPRESSED => n,
                            flood_keys::WINDOW_MS => window_ms,
                        ),
                    ),
                    empty,
                )
            }));
        }
    }
}

fn ticker<D: Drain + Send + Sync + 'static>(shared: Arc<Shared<D>>, control: Arc<Control>) {
    loop {
        let stopped = control.stop.wait(shared.config.window);
        shared.counters.windows.fetch_add(1, Ordering::Relaxed);
        shared.summarise(stopped);
        if stopped {
            return;
        }
    }
}

impl<D: Drain + Send + Sync + 'static> FloodGuard<D> {
    /// Wraps `drain` and starts the timer thread.
    pub fn new(drain: D, config: FloodConfig) -> Result<Self, Error> {
        config.validate(
            "flood config",
            &format!(
                "{}/{},info={}",
                config.burst,
                format_duration(config.window),
                config.info_burst
            ),
        )?;
        let slots = (0..FLOOD_TABLE_SIZE)
            .map(|_| Slot {
                key: AtomicU64::new(0),
                site: OnceLock::new(),
                window: AtomicU64::new(0),
                dropped: AtomicU64::new(0),
            })
            .collect();
        let shared = Arc::new(Shared {
            drain,
            config,
            slots,
            counters: Arc::new(Counters {
                windows: AtomicU64::new(1),
                born: {
                    crate::fork::watch();
                    crate::fork::generation()
                },
                ..Counters::default()
            }),
        });
        let control = Arc::new(Control {
            stop: Stop::default(),
            thread: Mutex::new(None),
        });
        let (s, c) = (Arc::clone(&shared), Arc::clone(&control));
        let thread = std::thread::Builder::new()
            .name(crate::record::thread_role::FLOOD_THREAD_NAME.to_string())
            .spawn(move || ticker(s, c))
            .map_err(|e| Error::io("cannot start the flood guard thread", &e))?;
        *control
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(thread);
        Ok(FloodGuard { shared, control })
    }

    /// Counters that stay readable after the guard moved into a logger.
    pub fn stats(&self) -> FloodStats {
        FloodStats {
            counters: Arc::clone(&self.shared.counters),
            control: Arc::clone(&self.control),
            summary: Arc::clone(&self.shared) as Arc<dyn Summarise>,
        }
    }

    /// Records dropped so far.
    pub fn suppressed(&self) -> u64 {
        self.shared.counters.suppressed.load(Ordering::Relaxed)
    }

    /// Records that passed unguarded because the table was full.
    pub fn unguarded(&self) -> u64 {
        self.shared.counters.unguarded.load(Ordering::Relaxed)
    }

    /// Writes pending summaries and stops the timer thread (also done on
    /// drop); see [`FloodStats::stop`].
    pub fn stop(&self) {
        self.shared.counters.stopped.store(true, Ordering::Relaxed);
        if !stop(&self.control, &self.shared.counters) {
            self.shared.summarise(true);
        }
    }
}

impl<D: Drain + Send + Sync + 'static> Drop for FloodGuard<D> {
    fn drop(&mut self) {
        self.shared.counters.stopped.store(true, Ordering::Relaxed);
        if !stop(&self.control, &self.shared.counters) {
            self.shared.summarise(true);
        }
    }
}

impl<D: Drain + Send + Sync + 'static> fmt::Debug for FloodGuard<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FloodGuard")
            .field("config", &self.shared.config)
            .field("suppressed", &self.suppressed())
            .finish_non_exhaustive()
    }
}

impl<D: Drain + Send + Sync + 'static> Drain for FloodGuard<D> {
    type Ok = Option<D::Ok>;
    type Err = D::Err;

    fn log(&self, record: &Record<'_>, values: &OwnedKVList) -> Result<Self::Ok, D::Err> {
        if self.shared.counters.forked() {
            // A forked child: no timer to report a drop (see `Counters::born`).
            return self.shared.drain.log(record, values).map(Some);
        }
        let key = key_of(record);
        let site = || Site {
            location: static_location(record),
            level: record.level(),
        };
        let Some(slot) = self.shared.slot_for(key, site) else {
            self.shared
                .counters
                .unguarded
                .fetch_add(1, Ordering::Relaxed);
            return self.shared.drain.log(record, values).map(Some);
        };
        match self
            .shared
            .judge(slot, self.shared.config.budget(record.level()))
        {
            Verdict::Pass => self.shared.drain.log(record, values).map(Some),
            Verdict::Drop => Ok(None),
        }
    }

    #[inline]
    fn is_enabled(&self, level: Level) -> bool {
        self.shared.drain.is_enabled(level)
    }

    fn flush(&self) -> Result<(), slog::FlushError> {
        self.shared.drain.flush()
    }
}

/// A `'static` copy of the record's location for its summary. slog's macros
/// put the location in a static already; records bridged from `log` carry it
/// on the stack, so their file, line and module (all `'static` strings) are
/// copied into a leaked `RecordLocation`: once per call site, bounded by the
/// table size.
fn static_location(record: &Record<'_>) -> &'static RecordLocation {
    let l = record.location();
    Box::leak(Box::new(RecordLocation {
        file: l.file,
        line: l.line,
        column: l.column,
        function: l.function,
        module: l.module,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_budgets_and_off() {
        let parse = |v| FloodConfig::parse_setting("LOG_FLOOD", v).unwrap();
        assert_eq!(parse("off"), None);
        assert_eq!(
            parse("100/1s"),
            Some(FloodConfig::uniform(100, Duration::from_secs(1)))
        );
        assert_eq!(
            parse(" 5/250ms "),
            Some(FloodConfig::uniform(5, Duration::from_millis(250)))
        );
        assert_eq!(
            parse("100/1s, info=20000"),
            Some(FloodConfig {
                burst: 100,
                info_burst: 20_000,
                window: Duration::from_secs(1)
            })
        );
        assert_eq!(
            parse("10000000/24h"),
            Some(FloodConfig::uniform(MAX_FLOOD_BURST, MAX_FLOOD_WINDOW))
        );
    }

    #[test]
    fn defaults_keep_info_and_bound_warnings_and_errors() {
        let c = FloodConfig::default();
        for level in [Level::Critical, Level::Error, Level::Warning] {
            assert_eq!(c.budget(level), DEFAULT_FLOOD_BURST, "{level:?}");
        }
        for level in [Level::Info, Level::Debug, Level::Trace] {
            assert_eq!(c.budget(level), DEFAULT_FLOOD_INFO_BURST, "{level:?}");
        }
        assert_eq!(
            (DEFAULT_FLOOD_BURST, DEFAULT_FLOOD_INFO_BURST),
            (100, 10_000)
        );
    }

    #[test]
    fn bad_budgets_name_setting_and_value() {
        for (v, why) in [
            ("100", "burst/window"),
            ("x/1s", "whole number"),
            ("100/fast", "duration"),
            ("0/1s", "at least 1"),
            ("100/0s", "duration"),
            ("-1/1s", "whole number"),
            ("10000001/1s", "at most 10000000"),
            ("4294967296/1s", "at most 10000000"),
            ("99999999999999999999999/1s", "at most 10000000"),
            ("100/25h", "from 1ms to 24h"),
            ("100/18446744073709551615s", "from 1ms to 24h"),
            ("100/1s,10", "info=N"),
            ("100/1s,info=", "info budget must be a whole number"),
            ("100/1s,info=0", "info budget must be at least 1"),
            (
                "100/1s,info=10000001",
                "info budget must be at most 10000000",
            ),
        ] {
            let e = FloodConfig::parse_setting("LOG_FLOOD", v).unwrap_err();
            assert!(
                e.to_string()
                    .starts_with(&format!("invalid LOG_FLOOD={v:?}")),
                "{e}"
            );
            assert!(e.to_string().contains(why), "{v}: {e}");
        }
    }

    #[test]
    fn configs_from_code_are_checked_too() {
        let bad = [
            FloodConfig::uniform(0, Duration::from_secs(1)),
            FloodConfig::uniform(u32::MAX, Duration::from_secs(1)),
            FloodConfig::uniform(1, Duration::MAX),
            FloodConfig::uniform(1, Duration::from_micros(999)),
            FloodConfig {
                info_burst: 0,
                ..FloodConfig::default()
            },
        ];
        for c in bad {
            let e = FloodGuard::new(slog::Discard, c).unwrap_err();
            assert_eq!(e.setting(), Some("flood config"), "{c:?}");
        }
    }

    #[test]
    fn table_size_is_a_power_of_two() {
        assert!(FLOOD_TABLE_SIZE.is_power_of_two());
    }
}
