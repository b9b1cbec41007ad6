//! Knowing, without a system call, that this process is a forked child.
//!
//! A thread of the parent may be in the middle of a queue push, a pool pop
//! or a write when another thread calls `fork`; that thread does not exist
//! in the child, so whatever it held there (a claimed queue slot, a lock)
//! is never released. A child must therefore not touch the parent's
//! pipeline at all, and it has to know that it is a child before it touches
//! anything: `getpid` on every record would be a system call per record.
//!
//! So the first pipeline registers a `pthread_atfork` child handler that
//! bumps [`generation`]. Every pipeline notes the generation it was built
//! in; a caller compares it with the current one (one relaxed atomic load)
//! and, when they differ, uses a pipeline of the child's own.
//!
//! This is the crate's one module with `unsafe` code (the crate denies it
//! everywhere else); it is a single foreign call, audited below.

#![allow(unsafe_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

/// How many forks lie between the process that loaded the crate and this
/// one (0 in that process, 1 in its children, ...).
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// The fork generation of this process; [`watch`] must have run.
#[inline]
pub(crate) fn generation() -> u64 {
    GENERATION.load(Ordering::Relaxed)
}

/// Runs in the child, on the forking thread, right after `fork` returns
/// there: one atomic add, which is async-signal-safe (no lock, no
/// allocation), as a handler after a multi-threaded fork must be.
extern "C" fn in_child() {
    GENERATION.fetch_add(1, Ordering::Relaxed);
}

/// Registers the fork handler, once per process; later calls do nothing.
/// Returns false if the C library refused it (out of memory): `init()`
/// then fails.
pub(crate) fn watch() -> bool {
    static ONCE: Once = Once::new();
    static REGISTERED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    ONCE.call_once(|| {
        // SAFETY: `pthread_atfork` only stores the three function pointers.
        // `None` for prepare and parent; `in_child` is a plain `extern "C"
        // fn()` with no captured state that lives for the whole process
        // (handlers cannot be unregistered, and the crate's code is never
        // unloaded while it runs: Rust has no dlclose of a crate that is in
        // use). It does only an atomic add, which is allowed in a child of a
        // multi-threaded process. The call itself has no preconditions.
        let rc = unsafe { libc::pthread_atfork(None, None, Some(in_child)) };
        REGISTERED.store(rc == 0, Ordering::Relaxed);
    });
    REGISTERED.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    #[test]
    fn registers_once() {
        assert!(super::watch());
        assert!(super::watch());
        assert_eq!(super::generation(), 0);
    }
}
