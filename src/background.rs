//! What the crate's background threads share (the host refresher, the flood
//! guard's timer, the OTLP exporter): a stop request their sleeps wake up
//! for, and jitter for their waits. A leaf: used from any thread.

use std::hash::{BuildHasher, RandomState};
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Duration;

/// A stop request and the sleeps it ends: the thread waits in
/// [`wait`](Self::wait), the owner calls [`request`](Self::request).
#[derive(Default)]
pub(crate) struct Stop {
    stopped: Mutex<bool>,
    wake: Condvar,
}

impl Stop {
    /// Waits up to `timeout`, or until a stop is requested: true if one was.
    pub(crate) fn wait(&self, timeout: Duration) -> bool {
        let guard = self.stopped.lock().unwrap_or_else(PoisonError::into_inner);
        let (guard, _) = self
            .wake
            .wait_timeout_while(guard, timeout, |stopped| !*stopped)
            .unwrap_or_else(PoisonError::into_inner);
        *guard
    }

    /// Requests the stop and wakes every waiter.
    pub(crate) fn request(&self) {
        *self.stopped.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.wake.notify_all();
    }
}

/// A small xorshift generator for jitter, seeded from the standard library's
/// random hasher keys and the pid (so a fleet of processes does not wait in
/// lockstep); not for anything that needs real randomness.
pub(crate) struct Jitter(u64);

impl Jitter {
    pub(crate) fn new() -> Self {
        Jitter(RandomState::new().hash_one(std::process::id()) | 1)
    }

    /// A number in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        (x >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A duration from `low` to `high`.
    #[cfg(feature = "otlp")]
    pub(crate) fn between(&mut self, low: Duration, high: Duration) -> Duration {
        low + high.saturating_sub(low).mul_f64(self.unit())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_in_its_range_and_varies() {
        let mut j = Jitter::new();
        let units: Vec<f64> = (0..10_000).map(|_| j.unit()).collect();
        assert!(units.iter().all(|u| (0.0..1.0).contains(u)));
        let low = units.iter().filter(|u| **u < 0.5).count();
        assert!((4_000..6_000).contains(&low), "{low} of 10,000 below 0.5");
    }

    #[cfg(feature = "otlp")]
    #[test]
    fn jitter_between_two_durations_stays_between_them() {
        let mut j = Jitter::new();
        let (low, high) = (Duration::from_millis(250), Duration::from_millis(500));
        let waits: Vec<Duration> = (0..1000).map(|_| j.between(low, high)).collect();
        assert!(waits.iter().all(|w| (low..=high).contains(w)));
        // Spread over the range, not stuck at one end.
        assert!(waits.iter().any(|w| *w < Duration::from_millis(300)));
        assert!(waits.iter().any(|w| *w > Duration::from_millis(450)));
    }

    #[test]
    fn a_stop_request_ends_a_wait_at_once() {
        let stop = std::sync::Arc::new(Stop::default());
        assert!(!stop.wait(Duration::from_millis(1)), "no request yet");
        let s = std::sync::Arc::clone(&stop);
        let waiter = std::thread::spawn(move || s.wait(Duration::from_secs(3600)));
        stop.request();
        assert!(waiter.join().unwrap(), "woken by the request");
        assert!(
            stop.wait(Duration::from_secs(3600)),
            "a later wait ends at once"
        );
    }
}
