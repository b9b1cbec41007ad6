//! The flood guard's table (on the thread that logs): a fixed slot per call
//! site and level, judged with atomics (no lock, no system call, no
//! allocation), and the summaries of what each slot dropped.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use slog::{Drain, Level, Record, RecordLocation, RecordStatic};

use super::config::{flood_keys, FloodConfig};

/// Call sites (times levels) the guard tracks; see [`FloodGuard`](crate::drain::FloodGuard).
pub(crate) const FLOOD_TABLE_SIZE: usize = 4096;
/// How many slots a key may probe before it counts as a table overflow.
pub(super) const MAX_PROBES: usize = 64;
/// The bit of [`Slot::dropped`] the stop sets with the final summaries.
pub(super) const CLOSED: u64 = 1 << 63;

/// Where a call site is, for its summary record.
#[derive(Clone, Copy)]
pub(super) struct Site {
    pub(super) location: &'static RecordLocation,
    pub(super) level: Level,
}

pub(super) struct Slot {
    /// Hash of the call site and level; 0 while free.
    pub(super) key: AtomicU64,
    pub(super) site: OnceLock<Site>,
    /// `(window epoch << 32) | records passed in that window`.
    pub(super) window: AtomicU64,
    /// Dropped since the last summary; [`CLOSED`] set by the stop, once
    /// its summary took the count. A record that finds it set (in the
    /// value its own increment replaced) is not dropped: no summary is left
    /// to count it.
    pub(super) dropped: AtomicU64,
}

pub(super) struct Shared<D> {
    pub(super) drain: D,
    pub(super) config: FloodConfig,
    pub(super) slots: Box<[Slot]>,
    pub(super) counters: Arc<Counters>,
}

#[derive(Default)]
pub(super) struct Counters {
    pub(super) suppressed: AtomicU64,
    /// Records of call sites that found no free slot (passed, not guarded).
    pub(super) unguarded: AtomicU64,
    /// Set when the guard stops: from then on every record passes, without
    /// a look at its slot. (A record that looked before is judged by its
    /// slot's [`CLOSED`] bit.)
    pub(super) stopped: std::sync::atomic::AtomicBool,
    /// Windows started: the current window's epoch. Starts at 1, because
    /// epoch 0 is what a fresh slot holds, so a new slot's first record
    /// opens a window.
    pub(super) windows: AtomicU64,
    /// The fork generation the guard was made in (`crate::fork`). In a
    /// forked child the timer thread is not there and the counts are the
    /// parent's to report: every record passes, and stopping touches no
    /// lock and writes no summary.
    pub(super) born: u64,
}

impl Counters {
    #[inline]
    pub(super) fn forked(&self) -> bool {
        crate::fork::generation() != self.born
    }
}

pub(super) trait Summarise: Send + Sync {
    fn close(&self);
}

impl<D: Drain + Send + Sync + 'static> Summarise for Shared<D> {
    fn close(&self) {
        Shared::summarise(self, true);
    }
}

pub(super) fn mix(mut x: u64) -> u64 {
    // splitmix64 finaliser
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

pub(super) fn key_of(record: &Record<'_>) -> u64 {
    let loc = record.location();
    let mut h = mix(loc.file.as_ptr() as u64 ^ (loc.file.len() as u64) << 48);
    h = mix(h ^ (u64::from(loc.line) << 20) ^ u64::from(loc.column));
    h = mix(h ^ loc.module.as_ptr() as u64);
    h = mix(h ^ record.level().as_usize() as u64);
    h | 1 // never 0, the free marker
}

pub(super) enum Verdict {
    Pass,
    Drop,
}

impl<D: Drain + Send + Sync + 'static> Shared<D> {
    pub(super) fn slot_for(&self, key: u64, site: impl FnOnce() -> Site) -> Option<&Slot> {
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

    pub(super) fn judge(&self, slot: &Slot, budget: u32) -> Verdict {
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
    pub(super) fn summarise(&self, close: bool) {
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

/// A `'static` copy of the record's location for its summary. slog's macros
/// put the location in a static already; records bridged from `log` carry it
/// on the stack, so their file, line and module (all `'static` strings) are
/// copied into a leaked `RecordLocation`: once per call site, bounded by the
/// table size.
pub(super) fn static_location(record: &Record<'_>) -> &'static RecordLocation {
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
    fn table_size_is_a_power_of_two() {
        assert!(FLOOD_TABLE_SIZE.is_power_of_two());
    }
}
