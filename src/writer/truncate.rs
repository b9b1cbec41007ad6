//! The record cap (writer thread): a record longer than its output's
//! `max_record_bytes` is formatted again, cut to fit.

use std::sync::atomic::Ordering;

use super::batch::Batch;
use crate::record::event::{Cut, Event};

impl Batch {
    /// Formats `ev` again, as long as fits in `max_record` bytes from
    /// `start`: string fields cut to the longest length that fits (the
    /// longest values lose most, short ones nothing), then the message, then
    /// the logger's fields left out. Level, time, target and the host fields
    /// are never cut; the line carries `log.truncated_bytes`.
    pub(super) fn refit(&mut self, ev: &Event, start: usize) {
        let max = self.max_record;
        let mut fits = |cut: Cut| -> bool {
            let ok = self.format_with(ev, Some(cut)) && self.batch.len() - start <= max;
            self.cut(start);
            ok
        };
        let cut = if fits(Cut::fields(0)) {
            // The longest field limit that fits.
            Cut::fields(largest_fitting(ev.longest_field(), |n| {
                fits(Cut::fields(n))
            }))
        } else if fits(Cut::message(0)) {
            Cut::message(largest_fitting(ev.message().len(), |n| {
                fits(Cut::message(n))
            }))
        } else {
            // The logger's fields alone are too long: left out.
            Cut {
                field: 0,
                msg: 0,
                logger: false,
            }
        };
        self.format_with(ev, Some(cut));
        self.truncated.fetch_add(1, Ordering::Relaxed);
    }
}

impl Cut {
    /// String fields cut to `n` bytes, the message and logger kept.
    fn fields(n: usize) -> Cut {
        Cut {
            field: n,
            msg: usize::MAX,
            logger: true,
        }
    }

    /// Every string field emptied, the message cut to `n` bytes.
    fn message(n: usize) -> Cut {
        Cut {
            field: 0,
            msg: n,
            logger: true,
        }
    }
}

/// The largest `n` in `0..=hi` for which `fits(n)` holds, given that
/// `fits(0)` does and that `fits` holds up to some limit and not past it (a
/// binary search: about log2(hi) formats).
fn largest_fitting(hi: usize, mut fits: impl FnMut(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, hi);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if fits(mid) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

#[cfg(test)]
mod tests {
    use super::largest_fitting;

    #[test]
    fn the_search_finds_the_largest_length_that_fits() {
        for limit in [0, 1, 2, 7, 100, 4095] {
            for hi in [limit, limit + 1, 5000] {
                let mut calls = 0;
                let found = largest_fitting(hi, |n| {
                    calls += 1;
                    n <= limit
                });
                assert_eq!(found, limit.min(hi), "limit {limit}, hi {hi}");
                assert!(calls <= 14, "{calls} formats for hi {hi}");
            }
        }
    }
}
