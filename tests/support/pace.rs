//! Paced logging for the syscall counts and the latency runs.

use std::time::{Duration, Instant};

/// Calls `log(i)` for `i` in `0..n`, `rate` times a second, waiting by
/// reading the clock (the vDSO: no system call), so the caller does nothing
/// but log.
pub fn paced(n: u64, rate: u64, mut log: impl FnMut(u64)) {
    let gap = Duration::from_nanos(1_000_000_000 / rate);
    let start = Instant::now();
    for i in 0..n {
        let due = start + gap * i as u32;
        while Instant::now() < due {
            std::hint::spin_loop();
        }
        log(i);
    }
}
