//! The record cap (writer thread): a record longer than its output's
//! `max_record_bytes` is formatted again, cut to fit.

use std::sync::atomic::Ordering;

use super::batch::Batch;
use crate::record::event::{Cut, Event};

impl Batch {
    /// Formats `ev` again, as long as fits in `max_record` bytes from
    /// `start`, every byte counted (keys, numbers, the number of fields):
    /// string fields cut to the longest length that fits (the longest values
    /// lose most, short ones nothing), then the message; if that is not
    /// enough, the same without the logger's fields; if still not, the
    /// record's own and span fields are left out whole from the last, as
    /// many kept as fit. Level, time, target and the host fields are never
    /// cut; the line carries `log.truncated_bytes`, and `log.dropped_fields`
    /// when fields were left out.
    pub(super) fn refit(&mut self, ev: &Event, start: usize) {
        let max = self.max_record;
        let mut fits = |cut: Cut| -> bool {
            let ok = self.format_with(ev, Some(cut)) && self.batch.len() - start <= max;
            self.cut(start);
            ok
        };
        let all = usize::MAX;
        let cut =
            match values(ev, &mut fits, true, all).or_else(|| values(ev, &mut fits, false, all)) {
                Some(cut) => cut,
                None => {
                    // Too many fields, or too long keys: as many kept as fit
                    // (from the first), then the values and message as above.
                    let bare = |kept| Cut {
                        field: 0,
                        msg: 0,
                        logger: false,
                        kept,
                    };
                    let kept = largest_fitting(ev.field_total(), |k| fits(bare(k)));
                    values(ev, &mut fits, false, kept).unwrap_or(bare(kept))
                }
            };
        self.format_with(ev, Some(cut));
        self.truncated.fetch_add(1, Ordering::Relaxed);
    }
}

/// With these fields (the logger's or not, the first `kept` of the
/// record's): string fields cut as little as fits with the whole message,
/// else all of them emptied and the message cut as little as fits; `None`
/// if even that does not fit.
fn values(
    ev: &Event,
    fits: &mut impl FnMut(Cut) -> bool,
    logger: bool,
    kept: usize,
) -> Option<Cut> {
    let at = |field, msg| Cut {
        field,
        msg,
        logger,
        kept,
    };
    if fits(at(0, usize::MAX)) {
        let field = largest_fitting(ev.longest_field(), |n| fits(at(n, usize::MAX)));
        Some(at(field, usize::MAX))
    } else if fits(at(0, 0)) {
        Some(at(
            0,
            largest_fitting(ev.message().len(), |n| fits(at(0, n))),
        ))
    } else {
        None
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
