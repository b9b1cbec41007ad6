//! [`HostCache`]: the current [`HostInfo`] behind an [`ArcSwap`], read with
//! one atomic load per record and replaced only by refreshes.

use std::ops::Deref;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::SystemTime;

use arc_swap::{ArcSwap, Guard};

use crate::error::Error;
use crate::host::detect::{env_var, Probe, SystemProbe};
use crate::host::info::HostInfo;

/// What the cache knows about its refreshes. Returned by
/// [`HostCache::status`].
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RefreshStatus {
    /// Refresh attempts so far (successful or not).
    pub refreshes: u64,
    /// Refreshes that replaced the snapshot because something changed.
    pub changes: u64,
    /// Failed attempts since the last success; 0 when healthy.
    pub consecutive_failures: u32,
    /// The text of the most recent error, kept after a later success so that
    /// a past fault stays visible (`consecutive_failures` says if it is over).
    pub last_error: Option<String>,
    /// When the last attempt started.
    pub last_attempt: Option<SystemTime>,
    /// When the last successful attempt started.
    pub last_success: Option<SystemTime>,
}

struct Control {
    probe: Box<dyn Probe>,
    status: RefreshStatus,
    /// Snapshots swapped out while a reader still held them. They are freed
    /// by a later refresh once only this list holds them, so the last
    /// reference is never dropped inside a log call.
    retired: Vec<Arc<HostInfo>>,
}

/// The host metadata cache.
///
/// [`load`](Self::load) is what the logging path calls: one atomic load, no
/// system call, no allocation (after a thread's first load, when arc-swap
/// registers the thread). [`refresh`](Self::refresh) runs the probe and swaps
/// the snapshot only when a field changed; it is called by a
/// [`Refresher`](crate::host::Refresher) thread, or by hand.
///
/// There is one lazily created [`global`](Self::global) cache, used by
/// [`Enrich::new`](crate::drain::Enrich::new); more can be made with
/// [`new`](Self::new) and shared as `Arc<HostCache>`.
///
/// ```
/// use std::sync::Arc;
/// use slog_host::host::{HostCache, HostInfo};
///
/// let cache = Arc::new(HostCache::new(|| Ok(HostInfo::new().with_host_name("a"))).unwrap());
/// let snapshot = cache.load();
/// assert_eq!(snapshot.host_name(), Some("a"));
/// assert_eq!(cache.refresh().unwrap(), false); // nothing changed, nothing swapped
/// assert_eq!(cache.status().refreshes, 1);
/// ```
pub struct HostCache {
    current: ArcSwap<HostInfo>,
    control: Mutex<Control>,
}

impl std::fmt::Debug for HostCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostCache")
            .field("current", &**self.current.load())
            .field("status", &self.status())
            .finish()
    }
}

static GLOBAL: OnceLock<HostCache> = OnceLock::new();

fn panic_text(payload: &(dyn std::any::Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "non-string panic payload"
    }
}

impl HostCache {
    /// Runs `probe` once for the first snapshot; its error is returned.
    pub fn new(probe: impl Probe) -> Result<HostCache, Error> {
        let first = run_probe(&probe)?;
        Ok(Self::starting_with(first, probe))
    }

    /// A cache whose first snapshot is `initial`; `probe` is used by later
    /// refreshes.
    pub fn starting_with(initial: HostInfo, probe: impl Probe) -> HostCache {
        HostCache {
            current: ArcSwap::from_pointee(initial),
            control: Mutex::new(Control {
                probe: Box::new(probe),
                status: RefreshStatus::default(),
                retired: Vec::new(),
            }),
        }
    }

    /// The process-wide cache, created on first use from the environment with
    /// [`SystemProbe::from_env`].
    ///
    /// This cannot fail: an invalid variable (say `POD_IP=999.1.1.1`) is
    /// reported once on stderr and in [`status`](Self::status), and its field
    /// is left out rather than guessed. [`init`](crate) style entry points
    /// check the environment first and return the error instead.
    pub fn global() -> &'static HostCache {
        GLOBAL.get_or_init(Self::from_env_reporting)
    }

    /// The global cache, set up with `probe`: if it does not exist yet it is
    /// created from `probe` (so the environment is never read for it);
    /// otherwise `probe` replaces its probe and it is refreshed at once.
    pub(crate) fn init_global(probe: impl Probe) -> Result<&'static HostCache, Error> {
        if GLOBAL.get().is_none() {
            let first = run_probe(&probe)?;
            let mut probe = Some(probe);
            let cache = GLOBAL
                .get_or_init(|| Self::starting_with(first, probe.take().expect("taken once")));
            match probe {
                None => return Ok(cache),
                // Another thread created it in between: configure that one.
                Some(p) => return cache.set_probe(p).map(|_| cache),
            }
        }
        let cache = Self::global();
        cache.set_probe(probe)?;
        Ok(cache)
    }

    fn from_env_reporting() -> HostCache {
        let mut rejected: Vec<Error> = Vec::new();
        let probe = loop {
            let ignored = |k: &str| rejected.iter().any(|e| e.setting() == Some(k));
            match SystemProbe::from_lookup(|k| if ignored(k) { Ok(None) } else { env_var(k) }) {
                Ok(p) => break p,
                // Every error from `from_lookup` names a setting; each is
                // ignored at most once, so this loop ends.
                Err(e) if e.setting().is_some() && !ignored(e.setting().unwrap_or("")) => {
                    rejected.push(e)
                }
                Err(e) => {
                    rejected.push(e);
                    break SystemProbe::from_lookup(|_| Ok(None))
                        .expect("an empty environment has no invalid values");
                }
            }
        };
        let cache = match run_probe(&probe) {
            Ok(first) => Self::starting_with(first, probe),
            Err(e) => {
                let cache = Self::starting_with(HostInfo::new(), probe);
                cache.control().status.consecutive_failures = 1;
                rejected.push(e);
                cache
            }
        };
        for e in &rejected {
            crate::error::report(format_args!("{e}; left out of the host metadata"));
        }
        if let Some(e) = rejected.last() {
            cache.control().status.last_error = Some(e.to_string());
        }
        cache
    }

    /// The current snapshot: one atomic load, no system call, no allocation.
    ///
    /// Keep the guard only as long as one record takes; a long-lived copy is
    /// [`load_full`](Self::load_full).
    #[inline]
    pub fn load(&self) -> Guard<Arc<HostInfo>> {
        self.current.load()
    }

    /// The current snapshot as an owned `Arc` (one reference count increment).
    pub fn load_full(&self) -> Arc<HostInfo> {
        self.current.load_full()
    }

    fn control(&self) -> MutexGuard<'_, Control> {
        // A panic inside a probe is caught before it can poison the lock, so a
        // poisoned lock only means a panic elsewhere; the data stays valid.
        self.control.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs the probe and swaps in its snapshot if any field changed.
    ///
    /// Returns `Ok(true)` if the snapshot changed. On error (or a panic in
    /// the probe, which is caught) the last good snapshot stays, and
    /// [`status`](Self::status) counts the failure.
    pub fn refresh(&self) -> Result<bool, Error> {
        self.refresh_with(|_, _| ())
    }

    /// Like [`refresh`](Self::refresh); `on_change(old, new)` is called when
    /// the snapshot is replaced, before the old one is released.
    pub fn refresh_with(
        &self,
        on_change: impl FnOnce(&HostInfo, &HostInfo),
    ) -> Result<bool, Error> {
        let mut control = self.control();
        let now = SystemTime::now();
        control.status.refreshes += 1;
        control.status.last_attempt = Some(now);
        let outcome = run_probe(&*control.probe);
        let result = match outcome {
            Ok(info) => {
                control.status.consecutive_failures = 0;
                control.status.last_success = Some(now);
                let changed = **self.current.load() != info;
                if changed {
                    let new = Arc::new(info);
                    let old = self.current.swap(Arc::clone(&new));
                    control.status.changes += 1;
                    on_change(&old, &new);
                    control.retired.push(old);
                }
                Ok(changed)
            }
            Err(e) => {
                control.status.consecutive_failures =
                    control.status.consecutive_failures.saturating_add(1);
                control.status.last_error = Some(e.to_string());
                Err(e)
            }
        };
        // Free the retired snapshots no reader holds any more.
        control.retired.retain(|s| Arc::strong_count(s) > 1);
        result
    }

    /// A copy of what the cache knows about its refreshes.
    pub fn status(&self) -> RefreshStatus {
        self.control().status.clone()
    }

    /// Replaces the probe used by later refreshes and refreshes at once.
    ///
    /// If that first refresh fails, the new probe stays in place (later
    /// refreshes retry it) and the error is returned.
    pub fn set_probe(&self, probe: impl Probe) -> Result<bool, Error> {
        self.control().probe = Box::new(probe);
        self.refresh()
    }

    /// A forked child's snapshot: the current one with this process's pid,
    /// stored without the cache's lock (the parent's refresher thread may
    /// have held it at the fork, and it does not exist in the child).
    pub(crate) fn adopt_pid(&self, pid: u32) {
        let now = self.current.load_full();
        if now.pid() != pid {
            self.current.store(Arc::new((*now).clone().with_pid(pid)));
        }
    }

    /// Snapshots swapped out but not yet freed because a reader held them
    /// at the last refresh.
    #[doc(hidden)]
    pub fn retired_len(&self) -> usize {
        self.control().retired.len()
    }
}

thread_local! {
    static DETECTING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// True while this thread runs host detection: what detection's
/// dependencies log then is not the service's business (the `log` bridge
/// drops it).
pub(crate) fn detecting() -> bool {
    DETECTING.with(std::cell::Cell::get)
}

fn run_probe(probe: &dyn Probe) -> Result<HostInfo, Error> {
    DETECTING.with(|d| d.set(true));
    let result = catch_unwind(AssertUnwindSafe(|| probe.detect()));
    DETECTING.with(|d| d.set(false));
    result.unwrap_or_else(|payload| {
        Err(Error::probe(format!(
            "probe panicked: {}",
            panic_text(&*payload)
        )))
    })
}

/// A handle to a [`HostCache`]: the global one (`&'static`) or a shared one
/// (`Arc`). Used by [`Enrich`](crate::drain::Enrich) and
/// [`Refresher`](crate::host::Refresher) so both work with either.
#[derive(Clone, Debug)]
pub struct CacheRef(Repr);

#[derive(Clone, Debug)]
enum Repr {
    Static(&'static HostCache),
    Shared(Arc<HostCache>),
}

impl CacheRef {
    /// The global cache, [`HostCache::global`].
    pub fn global() -> CacheRef {
        CacheRef(Repr::Static(HostCache::global()))
    }
}

impl Deref for CacheRef {
    type Target = HostCache;

    #[inline]
    fn deref(&self) -> &HostCache {
        match &self.0 {
            Repr::Static(c) => c,
            Repr::Shared(c) => c,
        }
    }
}

impl From<&'static HostCache> for CacheRef {
    fn from(c: &'static HostCache) -> Self {
        CacheRef(Repr::Static(c))
    }
}

impl From<Arc<HostCache>> for CacheRef {
    fn from(c: Arc<HostCache>) -> Self {
        CacheRef(Repr::Shared(c))
    }
}

impl From<&Arc<HostCache>> for CacheRef {
    fn from(c: &Arc<HostCache>) -> Self {
        CacheRef(Repr::Shared(Arc::clone(c)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn counting_cache() -> (Arc<AtomicU32>, HostCache) {
        let generation = Arc::new(AtomicU32::new(0));
        let g = Arc::clone(&generation);
        let cache = HostCache::new(move || {
            Ok(HostInfo::new().with_host_name(format!("h{}", g.load(Ordering::SeqCst))))
        })
        .unwrap();
        (generation, cache)
    }

    #[test]
    fn swaps_only_on_change() {
        let (generation, cache) = counting_cache();
        let before = cache.load_full();
        assert!(!cache.refresh().unwrap());
        assert!(
            Arc::ptr_eq(&before, &cache.load_full()),
            "unchanged: no swap"
        );
        generation.store(1, Ordering::SeqCst);
        assert!(cache.refresh().unwrap());
        assert_eq!(cache.load().host_name(), Some("h1"));
        let s = cache.status();
        assert_eq!((s.refreshes, s.changes, s.consecutive_failures), (2, 1, 0));
        assert!(s.last_success.is_some() && s.last_attempt.is_some());
    }

    #[test]
    fn retired_snapshot_is_freed_by_a_later_refresh_not_by_the_reader() {
        let (generation, cache) = counting_cache();
        let held = cache.load(); // a reader in the middle of a record
        generation.store(1, Ordering::SeqCst);
        assert!(cache.refresh().unwrap());
        assert_eq!(
            held.host_name(),
            Some("h0"),
            "the reader keeps its snapshot"
        );
        assert_eq!(cache.retired_len(), 1);
        let weak = Arc::downgrade(&*held);
        drop(held); // the reader finishes: the refresher still owns it
        assert!(weak.upgrade().is_some());
        cache.refresh().unwrap();
        assert_eq!(cache.retired_len(), 0);
        assert!(weak.upgrade().is_none(), "freed inside refresh()");
    }

    #[test]
    fn failures_and_panics_keep_last_good() {
        let mode = Arc::new(AtomicU32::new(0));
        let m = Arc::clone(&mode);
        let cache = HostCache::new(move || match m.load(Ordering::SeqCst) {
            0 => Ok(HostInfo::new().with_host_name("good")),
            1 => Err(Error::probe("netlink down")),
            _ => panic!("probe exploded"),
        })
        .unwrap();
        mode.store(1, Ordering::SeqCst);
        let e = cache.refresh().unwrap_err();
        assert!(e.to_string().contains("netlink down"), "{e}");
        mode.store(2, Ordering::SeqCst);
        let e = cache.refresh().unwrap_err();
        assert!(
            e.to_string().contains("probe panicked: probe exploded"),
            "{e}"
        );
        assert_eq!(cache.load().host_name(), Some("good"));
        let s = cache.status();
        assert_eq!(s.consecutive_failures, 2);
        assert!(s.last_error.unwrap().contains("probe exploded"));
        mode.store(0, Ordering::SeqCst);
        assert!(!cache.refresh().unwrap());
        assert_eq!(cache.status().consecutive_failures, 0);
    }

    #[test]
    fn new_returns_the_first_error() {
        let e = HostCache::new(|| Err(Error::probe("x"))).unwrap_err();
        assert_eq!(e.to_string(), "host detection failed: x");
    }
}
