//! Logs in tests: [`capture`] shows what a test logged with the test's output
//! and lets the test assert on it.
//!
//! ```
//! # /*
//! #[test]
//! # */
//! fn charges_the_card() {
//!     let logs = slog_host::testing::capture();
//!     slog::info!(logs.logger(), "charged"; "amount" => 42);
//!     log::warn!("retrying");
//!     tracing::info!(order_id = 7, "served");
//!
//!     let lines = logs.lines();
//!     assert_eq!(lines.len(), 3);
//!     assert!(lines[0].contains(r#""amount":42"#));
//! }
//! # charges_the_card();
//! ```
//!
//! While a [`Capture`] lives, the records the calling thread logs through
//! [`Capture::logger`] (and through `slog_scope` inside
//! `slog_scope::scope(capture.logger(), ..)`), through the `log` crate and
//! through `tracing` are formatted as the pipeline formats them (JSON, host
//! fields, the OpenTelemetry schema, span fields, trace ids), synchronously,
//! and printed with `print!`, so libtest shows them only when the test fails
//! (or with `--nocapture`). Every level passes; no flood guard applies.
//!
//! Each capture sees only its own thread's records, so tests running in
//! parallel never see each other's. Records logged on threads the test
//! starts are not captured (give them `capture.logger()`).
//!
//! What it changes for the process, and for how long:
//! - `tracing`: a thread-local default subscriber for the capture's life,
//!   which wins over a global one (`init()`'s included) on this thread only;
//! - `log`: once per process, if no other `log` logger is set, this crate's
//!   `log` logger, which hands a record to the thread's capture while there
//!   is one and otherwise to `init()`'s pipeline (or nowhere). `log`'s
//!   maximum level is `trace` while any capture lives, and back to the
//!   pipeline's (or off) when the last one drops. If the test binary set
//!   another `log` logger first, `log` records are not captured
//!   ([`Capture::captures_log`] says so).
//!
//! Captures on one thread nest: the innermost takes the records. End them
//! in reverse order (as with `tracing`'s own thread defaults: dropping an
//! outer capture first hands `tracing` events back to what was there before
//! it).
//!
//! It installs no panic hook, and it works without [`init`](crate::init) and
//! beside it: a test that captures while another test of the same binary
//! runs `init()` sees its own records, and the pipeline keeps the others.

use std::marker::PhantomData;
use std::sync::{Arc, Mutex, PoisonError};

use slog::{o, Drain, Logger, OwnedKVList, Record};

use crate::caller::bridges::log::{CaptureLog, LogBridge};
use crate::caller::filter::{Directives, LevelFilter, LiveFilter};
use crate::format::json::Encoder;
use crate::host::cache::CacheRef;
use crate::host::schema::Schema;
use crate::record::event::Event;

/// Starts capturing this thread's records; see the [module](self).
pub fn capture() -> Capture {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let directives =
        LiveFilter::new(Directives::parse_setting("capture", "trace").expect("parses"));
    let drain = Lines {
        encoder: Mutex::new(Encoder::new(Schema::Otel, false, Some(CacheRef::global()))),
        lines: Arc::clone(&lines),
    };
    let logger = Logger::root(
        LevelFilter::live(drain, Arc::clone(&directives)).fuse(),
        o!(),
    );
    let log = CaptureLog::start(Arc::new(LogBridge {
        logger: logger.clone(),
        directives: Arc::clone(&directives),
    }));
    #[cfg(feature = "tracing")]
    let tracing = {
        use tracing_subscriber::layer::SubscriberExt;
        let layer = crate::caller::bridges::tracing::layer(logger.clone(), directives);
        let dispatch = tracing_core::Dispatch::new(tracing_subscriber::registry().with(layer));
        tracing_core::dispatcher::set_default(&dispatch)
    };
    Capture {
        lines,
        logger,
        log,
        #[cfg(feature = "tracing")]
        _tracing: tracing,
        _this_thread: PhantomData,
    }
}

/// The records one test thread logged; see the [module](self). Dropping it
/// ends the capture.
#[must_use = "the capture ends when it is dropped"]
pub struct Capture {
    lines: Arc<Mutex<Vec<String>>>,
    logger: Logger,
    log: CaptureLog,
    #[cfg(feature = "tracing")]
    _tracing: tracing_core::dispatcher::DefaultGuard,
    /// Thread-local state: dropped on the thread that made it.
    _this_thread: PhantomData<*const ()>,
}

impl std::fmt::Debug for Capture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Capture")
            .field("lines", &self.lines.lock().map(|l| l.len()).unwrap_or(0))
            .finish_non_exhaustive()
    }
}

impl Capture {
    /// A logger whose records are captured (from any thread).
    pub fn logger(&self) -> &Logger {
        &self.logger
    }

    /// The JSON lines captured so far, in order, without their `\n`.
    pub fn lines(&self) -> Vec<String> {
        self.lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// False if the `log` crate had another logger before this crate's
    /// could be set: then `log` records are not captured.
    pub fn captures_log(&self) -> bool {
        self.log.installed()
    }
}

/// Formats each record as a JSON line, prints it and keeps it.
struct Lines {
    encoder: Mutex<Encoder>,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Drain for Lines {
    type Ok = ();
    type Err = slog::Never;

    fn log(&self, record: &Record<'_>, values: &OwnedKVList) -> Result<(), slog::Never> {
        // Captured as the pipeline captures (span fields, trace ids), then
        // formatted at once.
        let mut ev = Event::default();
        ev.capture(record, values);
        let mut out = Vec::new();
        {
            let mut encoder = self.encoder.lock().unwrap_or_else(PoisonError::into_inner);
            ev.replay(|r, v| encoder.encode(&mut out, r, v, ev.time, ev.trace.as_ref()));
        }
        if out.last() == Some(&b'\n') {
            out.pop();
        }
        let line = String::from_utf8_lossy(&out).into_owned();
        // `print!` (not `io::stdout()`): libtest captures it per test.
        println!("{line}");
        self.lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(line);
        Ok(())
    }
}
