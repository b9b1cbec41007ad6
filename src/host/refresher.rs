//! [`Refresher`]: the background thread that keeps a [`HostCache`] current.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::background::{Jitter, Stop};
use crate::error::Error;
use crate::host::cache::CacheRef;
use crate::host::info::HostInfo;
use crate::settings::format_duration;

/// Default time between refreshes: 30 seconds.
pub const DEFAULT_REFRESH_INTERVAL: Duration = Duration::from_secs(30);
/// Default upper bound of the wait after repeated failures: 5 minutes.
pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(300);
/// The longest refresh interval and backoff cap accepted: 24 hours. A longer
/// one (`LOG_HOST_REFRESH=25h`, `RefreshConfig::every(Duration::MAX)`) is an
/// error naming the setting.
pub const MAX_REFRESH_INTERVAL: Duration = Duration::from_secs(24 * 3600);
/// Default jitter: every wait is spread uniformly by ±10 %.
pub const DEFAULT_JITTER: f64 = 0.1;

type ChangeHook = Box<dyn Fn(&HostInfo, &HostInfo) + Send>;

/// How a [`Refresher`] schedules its work.
///
/// | setting | default | meaning |
/// |---|---|---|
/// | `interval` | [`DEFAULT_REFRESH_INTERVAL`] (30 s) | wait between refreshes while healthy; from 1 ns to [`MAX_REFRESH_INTERVAL`] (24 h) |
/// | `max_backoff` | [`DEFAULT_MAX_BACKOFF`] (5 min) | cap of the wait after failures (never below `interval`); at most [`MAX_REFRESH_INTERVAL`] |
/// | `jitter` | [`DEFAULT_JITTER`] (0.1) | each wait is spread by ± this fraction, so a fleet does not refresh in lockstep |
///
/// After `n` consecutive failures the wait is `interval * 2^n`, capped at
/// `max_backoff`, then spread by the jitter; a success goes back to `interval`.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct RefreshConfig {
    /// Wait between refreshes while healthy.
    pub interval: Duration,
    /// Cap of the wait after failures.
    pub max_backoff: Duration,
    /// Fraction (0 to 1) by which each wait is spread.
    pub jitter: f64,
}

impl Default for RefreshConfig {
    fn default() -> Self {
        RefreshConfig {
            interval: DEFAULT_REFRESH_INTERVAL,
            max_backoff: DEFAULT_MAX_BACKOFF,
            jitter: DEFAULT_JITTER,
        }
    }
}

impl RefreshConfig {
    /// The defaults with another interval.
    pub fn every(interval: Duration) -> Self {
        RefreshConfig {
            interval,
            ..Self::default()
        }
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.interval.is_zero() {
            return Err(Error::invalid(
                "refresh interval",
                format!("{:?}", self.interval),
                "must be greater than zero",
            ));
        }
        let limit = format!("at most {}", format_duration(MAX_REFRESH_INTERVAL));
        if self.interval > MAX_REFRESH_INTERVAL {
            return Err(Error::invalid(
                "refresh interval",
                format!("{:?}", self.interval),
                limit,
            ));
        }
        if self.max_backoff > MAX_REFRESH_INTERVAL {
            return Err(Error::invalid(
                "refresh max backoff",
                format!("{:?}", self.max_backoff),
                limit,
            ));
        }
        if !(0.0..=1.0).contains(&self.jitter) {
            return Err(Error::invalid(
                "refresh jitter",
                self.jitter.to_string(),
                "must be between 0 and 1",
            ));
        }
        Ok(())
    }

    /// The wait before the next attempt after `failures` consecutive
    /// failures, for a uniform random `unit` in `[0, 1)`.
    pub(crate) fn delay(&self, failures: u32, unit: f64) -> Duration {
        let cap = self.max_backoff.max(self.interval);
        let base = if failures == 0 {
            self.interval
        } else {
            let factor = 2u32.saturating_pow(failures.min(31));
            self.interval.saturating_mul(factor).min(cap)
        };
        // Never panics, whatever the fields say: an unrepresentable product
        // (only possible with a config that `validate` rejects) keeps `base`.
        let spread = 1.0 + self.jitter * (2.0 * unit - 1.0);
        Duration::try_from_secs_f64(base.as_secs_f64() * spread).unwrap_or(base)
    }
}

/// The background thread that refreshes a [`HostCache`](crate::host::HostCache).
///
/// It is named `slog-host-rfsh`, refreshes every
/// [`RefreshConfig::interval`] (with jitter), backs off after failures, and
/// runs each attempt under `catch_unwind`, so a panicking probe costs one
/// failed attempt and never the thread. Snapshots it replaces are freed on
/// this thread.
///
/// Dropping the handle stops the thread and joins it; the wait is a condition
/// variable, so this takes microseconds, plus at most one attempt already in
/// progress.
///
/// ```
/// use std::time::Duration;
/// use slog_host::host::{HostCache, Refresher};
///
/// let refresher = Refresher::start(HostCache::global(), Duration::from_secs(30)).unwrap();
/// // ... the service runs; host metadata stays current ...
/// drop(refresher); // stops and joins the thread
/// ```
pub struct Refresher {
    stop: Arc<Stop>,
    thread: Option<JoinHandle<()>>,
    /// The fork generation it was started in (`crate::fork`): a forked
    /// child has no refresher thread, and takes none of its locks.
    born: u64,
}

impl std::fmt::Debug for Refresher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Refresher").finish_non_exhaustive()
    }
}

impl Refresher {
    /// Starts refreshing `cache` every `interval` (other settings default).
    pub fn start(cache: impl Into<CacheRef>, interval: Duration) -> Result<Refresher, Error> {
        Self::with_config(cache, RefreshConfig::every(interval))
    }

    /// Starts refreshing `cache` as `config` says.
    pub fn with_config(
        cache: impl Into<CacheRef>,
        config: RefreshConfig,
    ) -> Result<Refresher, Error> {
        Self::spawn(cache.into(), config, None)
    }

    /// Like [`with_config`](Self::with_config); `on_change(old, new)` runs on
    /// the refresher thread whenever a refresh replaces the snapshot.
    pub fn with_change_hook(
        cache: impl Into<CacheRef>,
        config: RefreshConfig,
        on_change: impl Fn(&HostInfo, &HostInfo) + Send + 'static,
    ) -> Result<Refresher, Error> {
        Self::spawn(cache.into(), config, Some(Box::new(on_change)))
    }

    fn spawn(
        cache: CacheRef,
        config: RefreshConfig,
        hook: Option<ChangeHook>,
    ) -> Result<Refresher, Error> {
        config.validate()?;
        let stop = Arc::new(Stop::default());
        let thread_stop = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name(crate::record::thread_role::REFRESHER_THREAD_NAME.to_string())
            .spawn(move || run(cache, config, hook, &thread_stop))
            .map_err(|e| Error::io("cannot start the host refresher thread", &e))?;
        Ok(Refresher {
            stop,
            thread: Some(thread),
            born: {
                crate::fork::watch();
                crate::fork::generation()
            },
        })
    }

    /// Stops the thread and waits for it (the same as dropping the handle).
    pub fn stop(self) {}
}

fn run(cache: CacheRef, config: RefreshConfig, hook: Option<ChangeHook>, stop: &Stop) {
    let mut jitter = Jitter::new();
    let mut failures = 0u32;
    loop {
        if stop.wait(config.delay(failures, jitter.unit())) {
            return;
        }
        let attempt = catch_unwind(AssertUnwindSafe(|| {
            cache.refresh_with(|old, new| {
                if let Some(hook) = &hook {
                    hook(old, new);
                }
            })
        }));
        failures = match attempt {
            Ok(Ok(_)) => 0,
            // The cache records the error; a panic here (a change hook) is
            // contained the same way.
            Ok(Err(_)) | Err(_) => failures.saturating_add(1),
        };
    }
}

impl Drop for Refresher {
    fn drop(&mut self) {
        if crate::fork::generation() != self.born {
            // A forked child: the thread is not here, and its lock may have
            // been held at the fork.
            std::mem::forget(self.thread.take());
            return;
        }
        self.stop.request();
        if let Some(t) = self.thread.take() {
            // The thread catches every panic, so join only fails if the
            // runtime itself is broken; nothing useful to do then.
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_backs_off_exponentially_up_to_the_cap() {
        let c = RefreshConfig {
            interval: Duration::from_secs(1),
            max_backoff: Duration::from_secs(10),
            jitter: 0.0,
        };
        let d: Vec<u64> = (0..6).map(|n| c.delay(n, 0.5).as_secs()).collect();
        assert_eq!(d, vec![1, 2, 4, 8, 10, 10]);
        assert_eq!(c.delay(u32::MAX, 0.5), Duration::from_secs(10));
    }

    #[test]
    fn cap_is_never_below_interval() {
        let c = RefreshConfig {
            interval: Duration::from_secs(60),
            max_backoff: Duration::from_secs(1),
            jitter: 0.0,
        };
        assert_eq!(c.delay(3, 0.0), Duration::from_secs(60));
    }

    #[test]
    fn jitter_spreads_within_bounds() {
        let c = RefreshConfig::every(Duration::from_secs(10));
        assert_eq!(c.delay(0, 0.0), Duration::from_secs(9));
        assert_eq!(c.delay(0, 0.5), Duration::from_secs(10));
        let mut j = Jitter::new();
        let mut seen_low = false;
        let mut seen_high = false;
        for _ in 0..10_000 {
            let u = j.unit();
            assert!((0.0..1.0).contains(&u));
            let d = c.delay(0, u);
            assert!(d >= Duration::from_secs(9) && d <= Duration::from_secs(11));
            seen_low |= u < 0.1;
            seen_high |= u > 0.9;
        }
        assert!(seen_low && seen_high, "the generator covers the range");
    }

    #[test]
    fn delay_never_panics_on_extreme_configs() {
        for (interval, max_backoff, jitter) in [
            (Duration::MAX, Duration::MAX, 1.0),
            (Duration::from_secs(u64::MAX), Duration::ZERO, 0.1),
            (Duration::from_nanos(1), Duration::MAX, f64::NAN),
            (Duration::from_secs(1), Duration::MAX, f64::INFINITY),
        ] {
            let c = RefreshConfig {
                interval,
                max_backoff,
                jitter,
            };
            assert!(c.validate().is_err(), "{c:?}");
            for failures in [0, 1, 31, u32::MAX] {
                for unit in [0.0, 0.5, 0.999_999] {
                    let _ = c.delay(failures, unit);
                }
            }
        }
    }

    #[test]
    fn intervals_and_backoff_caps_past_a_day_are_errors() {
        assert!(RefreshConfig::every(MAX_REFRESH_INTERVAL)
            .validate()
            .is_ok());
        let e = RefreshConfig::every(MAX_REFRESH_INTERVAL + Duration::from_nanos(1))
            .validate()
            .unwrap_err();
        assert_eq!(e.setting(), Some("refresh interval"));
        assert!(e.to_string().contains("at most 24h"), "{e}");
        let e = RefreshConfig {
            max_backoff: Duration::MAX,
            ..RefreshConfig::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.setting(), Some("refresh max backoff"));
    }

    #[test]
    fn invalid_configs_are_errors() {
        let cache = std::sync::Arc::new(crate::host::cache::HostCache::starting_with(
            HostInfo::new(),
            || Ok(HostInfo::new()),
        ));
        let e = Refresher::start(&cache, Duration::ZERO).unwrap_err();
        assert_eq!(e.setting(), Some("refresh interval"));
        assert_eq!(e.value(), Some("0ns"));
        let c = RefreshConfig {
            jitter: 2.0,
            ..RefreshConfig::default()
        };
        let e = Refresher::with_config(&cache, c).unwrap_err();
        assert_eq!(e.value(), Some("2"));
    }
}
