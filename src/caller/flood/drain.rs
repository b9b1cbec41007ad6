//! [`FloodGuard`]: the drain wrapper (on the thread that logs), its
//! counters, and its stop.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use slog::{Drain, Level, OwnedKVList, Record};

use super::config::FloodConfig;
use super::table::{
    key_of, static_location, Counters, Shared, Site, Slot, Summarise, Verdict, FLOOD_TABLE_SIZE,
};
use super::ticker::{stop, ticker, Control};
use crate::background::Stop;
use crate::error::Error;
use crate::settings::format_duration;

/// A drain wrapper that stops floods: per call site (file, line, column and
/// level; never the message text, which varies), the first
/// [`burst`](FloodConfig::burst) records of each
/// [`window`](FloodConfig::window) pass, and the rest are dropped and counted.
/// Budgets are per level, so an INFO flood never hides an ERROR.
///
/// Once per window, for every call site that had drops, a timer thread
/// (`slog-host-flood`) writes exactly one summary record at that site's
/// level, `"suppressed N similar records"` with fields
/// [`flood.site`](crate::flood::flood_keys::SITE), [`flood.suppressed`](crate::flood::flood_keys::SUPPRESSED)
/// and [`flood.window_ms`](crate::flood::flood_keys::WINDOW_MS). Summaries come even after
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

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
}
