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
//! [`Capture::logger`], through `slog_scope::logger()` (inside
//! `slog_scope::scope` as the scope says, outside it through the global
//! logger), through the `log` crate and through `tracing` are formatted as the pipeline formats them (JSON, host
//! fields, the OpenTelemetry schema, span fields, trace ids), synchronously,
//! and printed with `print!`, so libtest shows them only when the test fails
//! (or with `--nocapture`). Every level passes; no flood guard applies.
//!
//! Each capture sees only its own thread's records, so tests running in
//! parallel never see each other's. Records logged on threads the test
//! starts are not captured (give them `capture.logger()`), nor those of a
//! tokio runtime's worker threads: a spawned task, a server's handler.
//!
//! ## Every thread: [`capture_all`]
//!
//! For a test whose code logs from other threads (a
//! `#[tokio::test(flavor = "multi_thread")]` with spawned tasks, an axum
//! app served on a socket, a thread pool), [`capture_all`] takes the
//! records of every thread that has no capture of its own: slog through
//! `slog_scope::logger()` and [`Capture::logger`], `log`, and `tracing`
//! (through a global subscriber it sets once per process if none is set;
//! see [`Capture::coverage`]). Its cost: the tests that use it run one at
//! a time (the next `capture_all` waits for the live one to end, at most
//! [`CAPTURE_ALL_WAIT`]; one thread's do not nest), and the records of a
//! test of the same binary that logs without any capture meanwhile are
//! taken by it (`init()`'s pipeline's too, for `log` and slog-scope). Tests using `capture` run beside
//! it and keep their own records. A test binary that also calls
//! [`init`](crate::init) gives it `Builder::tracing(false)` (libtest does
//! not order tests: the global tracing subscriber is set once, by whichever
//! comes first; `init()` names `capture_all` when it came first).
//!
//! ```
//! # /*
//! #[tokio::test(flavor = "multi_thread")]
//! # */
//! # async fn serves() {
//! let logs = slog_host::testing::capture_all();
//! tokio::spawn(async {
//!     tracing::info!(order_id = 7, "in a task");
//!     slog::info!(slog_scope::logger(), "through slog-scope");
//! })
//! .await
//! .unwrap();
//! assert_eq!(logs.lines().len(), 2, "{}", logs.coverage());
//! # }
//! # tokio::runtime::Builder::new_multi_thread().build().unwrap().block_on(serves());
//! ```
//!
//! What it changes for the process, and for how long:
//! - `tracing`: [`capture`], a thread-local default subscriber for the
//!   capture's life, which wins over a global one (`init()`'s included) on
//!   this thread only; the first [`capture_all`], if no global subscriber
//!   is set, a global one for the rest of the process, which hands each
//!   event to the capture of its thread (its own, else `capture_all`'s) and
//!   drops it when there is none;
//! - `log`: once per process, if no other `log` logger is set, this crate's
//!   `log` logger, which hands a record to the thread's capture (its own,
//!   else `capture_all`'s) while there is one and otherwise to `init()`'s
//!   pipeline (or nowhere). `log`'s maximum level is `trace` while any
//!   capture lives, and back to the pipeline's (or off) when the last one
//!   drops. If the test binary set another `log` logger first, `log`
//!   records are not captured ([`Capture::captures_log`] and
//!   [`Capture::coverage`] say so);
//! - slog-scope: once per process, at the first capture, the global logger
//!   becomes a router for the rest of the process: a record goes to its
//!   thread's capture (its own, else `capture_all`'s), else to the logger
//!   that was global before, or `init()`'s root logger, whenever `init()`
//!   runs.
//!
//! Captures on one thread nest: the innermost takes the records. End them
//! in reverse order (as with `tracing`'s own thread defaults: dropping an
//! outer capture first hands `tracing` events back to what was there before
//! it).
//!
//! It installs no panic hook, and it works without [`init`](crate::init) and
//! beside it: a test that captures (with [`capture`]) while another test of
//! the same binary runs `init()` sees its own records, and the pipeline
//! keeps the others (while no `capture_all` lives).

use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use slog::{o, Drain, Logger, OwnedKVList, Record};

use crate::caller::bridges::log::{CaptureLog, LogBridge};
use crate::caller::filter::{Directives, LevelFilter, LiveFilter};
use crate::caller::scope_router;
#[cfg(feature = "tracing")]
use crate::caller::scope_router::ToCapture;
use crate::format::json::Encoder;
use crate::host::cache::CacheRef;
use crate::host::schema::Schema;
use crate::record::event::Event;

/// The longest [`capture_all`] waits for the live one to end: 5 minutes
/// (then it panics, naming the wait).
pub const CAPTURE_ALL_WAIT: Duration = Duration::from_secs(300);

/// Starts capturing this thread's records; see the [module](self).
pub fn capture() -> Capture {
    start(false)
}

/// Starts capturing the records of every thread without a capture of its
/// own, after the live `capture_all` (if any) ends; see the
/// [module](self#every-thread-capture_all).
pub fn capture_all() -> Capture {
    start(true)
}

fn start(process: bool) -> Capture {
    let turn = process.then(Turn::wait);
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
    let log = CaptureLog::start(
        Arc::new(LogBridge {
            logger: logger.clone(),
            directives: Arc::clone(&directives),
        }),
        process,
    );
    #[cfg(feature = "tracing")]
    let tracing_all = process && tracing_router();
    #[cfg(not(feature = "tracing"))]
    let tracing_all = false;
    // This thread's default, unless the global router takes every thread's.
    #[cfg(feature = "tracing")]
    let tracing = (!tracing_all).then(|| {
        use tracing_subscriber::layer::SubscriberExt;
        let layer = crate::caller::bridges::tracing::layer(logger.clone(), directives);
        let dispatch = tracing_core::Dispatch::new(tracing_subscriber::registry().with(layer));
        tracing_core::dispatcher::set_default(&dispatch)
    });
    scope_router::route();
    let coverage = Coverage {
        all_threads: process,
        log: log.installed(),
        tracing_all_threads: tracing_all,
    };
    Capture {
        lines,
        logger,
        log,
        #[cfg(feature = "tracing")]
        _tracing: tracing,
        coverage,
        _turn: turn,
        _this_thread: PhantomData,
    }
}

/// What a [`Capture`] takes, to say why a test captured nothing
/// (`assert!(!logs.lines().is_empty(), "{}", logs.coverage())`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Coverage {
    /// Every thread without a capture of its own ([`capture_all`]), or
    /// only the thread that started it ([`capture`]).
    pub all_threads: bool,
    /// `log` records (false if the test binary set another `log` logger
    /// first).
    pub log: bool,
    /// `tracing` events of every thread: [`capture_all`] set the global
    /// subscriber (false if another one, `init()`'s included, was set
    /// first: then only this thread's events are taken).
    pub tracing_all_threads: bool,
}

impl fmt::Display for Coverage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.all_threads {
            f.write_str("the capture takes every thread's records (testing::capture_all)")?;
            if !self.tracing_all_threads {
                f.write_str(
                    "; tracing events only from the thread that started it: a global \
                     subscriber was set before (init() or another)",
                )?;
            }
        } else {
            f.write_str(
                "the capture takes only the records of the thread that started it \
                 (testing::capture): not those of other threads, tokio's worker threads \
                 (spawned tasks, a server's handlers) included; testing::capture_all takes \
                 every thread's",
            )?;
        }
        if !self.log {
            f.write_str("; no `log` records: the test binary set another `log` logger first")?;
        }
        Ok(())
    }
}

/// The turn of one [`capture_all`] at a time.
struct Turn;

/// The thread whose `capture_all` lives, if one does.
static TAKEN: Mutex<Option<ThreadId>> = Mutex::new(None);
static FREED: Condvar = Condvar::new();

impl Turn {
    fn wait() -> Turn {
        let until = Instant::now() + CAPTURE_ALL_WAIT;
        let me = std::thread::current().id();
        let mut taken = TAKEN.lock().unwrap_or_else(PoisonError::into_inner);
        while let Some(holder) = *taken {
            // Its own turn would never come.
            assert!(
                holder != me,
                "testing::capture_all called while this thread's capture_all lives: \
                 they do not nest (use the live one, or testing::capture)"
            );
            let left = until.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "testing::capture_all waited {CAPTURE_ALL_WAIT:?} for another test's capture_all \
                 to end (they run one at a time): is a Capture kept alive?"
            );
            taken = FREED
                .wait_timeout(taken, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        *taken = Some(me);
        Turn
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        *TAKEN.lock().unwrap_or_else(PoisonError::into_inner) = None;
        FREED.notify_one();
    }
}

/// Sets, once per process if no global tracing subscriber is set, one
/// that hands every thread's events to its capture; true if it is the
/// global one.
#[cfg(feature = "tracing")]
fn tracing_router() -> bool {
    static GLOBAL: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *GLOBAL.get_or_init(|| {
        use tracing_subscriber::layer::SubscriberExt;
        let logger = Logger::root(ToCapture { fallback: false }, o!());
        let all = LiveFilter::new(Directives::parse_setting("capture", "trace").expect("parses"));
        let layer = crate::caller::bridges::tracing::layer(logger, all);
        let set = tracing_core::dispatcher::set_global_default(tracing_core::Dispatch::new(
            tracing_subscriber::registry().with(layer),
        ))
        .is_ok();
        if set {
            crate::caller::bridges::tracing::CAPTURE_ROUTER
                .store(true, std::sync::atomic::Ordering::Release);
        }
        set
    })
}

/// The records one test thread logged; see the [module](self). Dropping it
/// ends the capture.
#[must_use = "the capture ends when it is dropped"]
pub struct Capture {
    lines: Arc<Mutex<Vec<String>>>,
    logger: Logger,
    log: CaptureLog,
    #[cfg(feature = "tracing")]
    _tracing: Option<tracing_core::dispatcher::DefaultGuard>,
    coverage: Coverage,
    /// Released last: the next `capture_all` starts once this one ended.
    _turn: Option<Turn>,
    /// Thread-local state: dropped on the thread that made it.
    _this_thread: PhantomData<*const ()>,
}

impl std::fmt::Debug for Capture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Capture")
            .field("lines", &self.lines.lock().map(|l| l.len()).unwrap_or(0))
            .field("coverage", &self.coverage)
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

    /// Which threads and which front doors this capture takes; its
    /// `Display` says why a test may have captured nothing.
    pub fn coverage(&self) -> Coverage {
        self.coverage
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
