//! The time of the record being formatted.
//!
//! The pipeline takes a record's time when it is logged, on the caller's
//! thread; the writer formats it later. The formats ask [`record_time`],
//! which is the captured time while the writer replays an event and the
//! current time everywhere else (a format used as a plain drain).

use std::cell::Cell;
use std::time::SystemTime;

thread_local! {
    static RECORD_TIME: Cell<Option<SystemTime>> = const { Cell::new(None) };
}

/// Runs `f` with `time` as the record time of this thread.
pub(crate) fn with_record_time<R>(time: SystemTime, f: impl FnOnce() -> R) -> R {
    struct Reset(Option<SystemTime>);
    impl Drop for Reset {
        fn drop(&mut self) {
            RECORD_TIME.with(|t| t.set(self.0));
        }
    }
    let _reset = Reset(RECORD_TIME.with(|t| t.replace(Some(time))));
    f()
}

/// The captured time of the record being replayed, else now.
pub(crate) fn record_time() -> SystemTime {
    RECORD_TIME.with(Cell::get).unwrap_or_else(SystemTime::now)
}

/// slog-term's timestamp slot: the record time, RFC 3339 UTC.
pub(crate) fn write_term_timestamp(w: &mut dyn std::io::Write) -> std::io::Result<()> {
    write!(w, "{}", super::format::Rfc3339Utc(record_time()))
}
