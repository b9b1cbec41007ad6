//! [`Accepted`]: the bytes an output took, counted by the thread that
//! writes it, read by any.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Bytes an output accepted, counted write by write: into the output's own
/// counter (its progress: a slow output that takes bytes is not a stuck
/// one) and into the pipeline's (the writer's progress, which callers
/// waiting under `Overflow::Block` watch).
#[derive(Clone, Default)]
pub(crate) struct Accepted {
    own: Arc<AtomicU64>,
    all: Arc<AtomicU64>,
}

impl Accepted {
    /// A counter of its own, adding into `all` too.
    pub(crate) fn new(all: Arc<AtomicU64>) -> Accepted {
        Accepted {
            own: Arc::default(),
            all,
        }
    }

    pub(crate) fn add(&self, n: u64) {
        self.own.fetch_add(n, Ordering::Relaxed);
        self.all.fetch_add(n, Ordering::Relaxed);
    }

    /// The bytes this output accepted so far.
    pub(crate) fn own(&self) -> u64 {
        self.own.load(Ordering::Relaxed)
    }
}
