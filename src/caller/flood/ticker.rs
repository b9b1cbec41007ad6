//! The flood guard's timer thread (`slog-host-flood`): once per window it
//! writes the summaries, and the final ones when the guard stops.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use slog::Drain;

use super::table::{Counters, Shared};
use crate::background::Stop;

/// The timer thread and its stop.
pub(super) struct Control {
    pub(super) stop: Stop,
    pub(super) thread: Mutex<Option<JoinHandle<()>>>,
}

/// Stops the timer thread, which writes the final summaries
/// (`Shared::summarise` with `close`): true. False if there was no thread
/// to write them. In a forked child nothing is done (true): the thread and
/// the counts are the parent's, and a lock may have been held at the fork.
pub(super) fn stop(control: &Control, counters: &Counters) -> bool {
    if counters.forked() {
        return true;
    }
    control.stop.request();
    let thread = control
        .thread
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    thread.is_some_and(|t| t.join().is_ok())
}

pub(super) fn ticker<D: Drain + Send + Sync + 'static>(
    shared: Arc<Shared<D>>,
    control: Arc<Control>,
) {
    loop {
        let stopped = control.stop.wait(shared.config.window);
        shared.counters.windows.fetch_add(1, Ordering::Relaxed);
        shared.summarise(stopped);
        if stopped {
            return;
        }
    }
}
