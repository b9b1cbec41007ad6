//! The `log` crate's records into the pipeline.
//!
//! Each record is filtered by the same directives as slog's, built into a
//! reused event (no allocation once warm) and logged through the root logger,
//! so it meets the flood guard and the queue like any other record. Its
//! location (file, line, module) keys the flood guard; an explicit target
//! becomes the record's tag, which the filter and the `target` key use.
//!
//! Not forwarded: what the crate's own host detection logs, whatever
//! `RUST_LOG` says: anything logged on a thread while it runs detection, and
//! every record of the detection crates ([`DETECTION_CRATES`]) from any
//! thread (neli logs from the router thread it starts for each query, which
//! the thread-local flag cannot see); `tracing`'s span
//! lifecycle lines (`tracing::span*` targets), and the `log` echo that
//! `tracing/log-always` sends for every tracing event and span (it comes from
//! a tracing call site, which the tracing layer records itself).

use std::cell::RefCell;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use slog::{Level, Logger};

#[cfg(feature = "tracing")]
use super::rules::is_tracing_callsite;
use super::rules::{excluded_log_target, location};
use crate::caller::capture::with_scratch;
use crate::caller::filter::LiveFilter;
use crate::intern::intern;
use crate::record::event::{Event, FieldIn, Value};
use crate::record::own::LOG_KV_OVERFLOW_KEY;

/// A pipeline's `log` side: its root logger and its directives.
pub(crate) struct LogBridge {
    pub(crate) logger: Logger,
    pub(crate) directives: Arc<LiveFilter>,
}

/// The one `log` logger this crate installs (a `log` logger can be set once
/// per process): it hands each record to this thread's test capture if there
/// is one ([`crate::testing`]), else to the global pipeline once `init()`
/// has set it.
struct Router;

static ROUTER: Router = Router;
/// The global pipeline's bridge, set by `init()`.
static PIPELINE: OnceLock<LogBridge> = OnceLock::new();
/// Live test captures in the process: while zero, no record looks for one.
static CAPTURES: AtomicUsize = AtomicUsize::new(0);
/// The process-wide test capture (`testing::capture_all`) while one lives:
/// it takes the records of every thread without a capture of its own.
static PROCESS: Mutex<Option<Arc<LogBridge>>> = Mutex::new(None);
/// `LogGuard::install_tracing` was called: each `log` record also goes to the
/// global tracing subscriber's other layers.
#[cfg(feature = "tracing")]
static ECHO: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

thread_local! {
    /// This thread's test captures, innermost last.
    static CAPTURE: RefCell<Vec<Arc<LogBridge>>> = const { RefCell::new(Vec::new()) };
    /// This thread dispatches a `log` record to the tracing subscriber (see
    /// [`ECHO`]): this crate's layer, which wrote it already, skips it.
    #[cfg(feature = "tracing")]
    static ECHOING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// True while this thread hands a `log` record this crate wrote to the
/// tracing subscriber's other layers.
#[cfg(feature = "tracing")]
pub(crate) fn echoing() -> bool {
    ECHOING.try_with(std::cell::Cell::get).unwrap_or(false)
}

/// Makes `bridge` the global pipeline's `log` side, as [`claim_log_logger`]
/// and [`install_pipeline`] do, and sends each `log` record on to the global
/// tracing subscriber's other layers (as tracing-log's `LogTracer` would,
/// which drops the record's key-values; this crate writes them).
#[cfg(feature = "tracing")]
pub(crate) fn install_with_echo(bridge: LogBridge) -> Result<(), crate::error::Error> {
    claim_log_logger()?;
    ECHO.store(true, Ordering::Release);
    install_pipeline(bridge);
    Ok(())
}

/// The record to the tracing subscriber's other layers (not this crate's).
#[cfg(feature = "tracing")]
fn echo(r: &log::Record<'_>) {
    if !ECHO.load(Ordering::Acquire) || echoing() {
        return;
    }
    let _ = ECHOING.try_with(|e| e.set(true));
    let _ = tracing_log::format_trace(r);
    let _ = ECHOING.try_with(|e| e.set(false));
}

/// Serializes changes of the capture count with `log::set_max_level`, so a
/// capture that ends cannot undo the level one that starts has just set.
static LEVEL: Mutex<()> = Mutex::new(());

/// True if `log`'s logger is [`ROUTER`].
fn router_installed() -> bool {
    std::ptr::addr_eq(
        log::logger() as *const dyn log::Log,
        &ROUTER as *const Router,
    )
}

/// Makes [`ROUTER`] the `log` logger; false if another logger is set.
fn install_router() -> bool {
    // Whoever wins a race, the logger is then set: ask which it is.
    let _ = log::set_logger(&ROUTER);
    router_installed()
}

/// Says once, on stderr, when no `log` logger is set at the first `tracing`
/// event a [`TracingLayer`](crate::TracingLayer) writes: with
/// `Builder::tracing(false)`, `log` records reach the pipeline only through
/// tracing-log's `LogTracer`, and without it they are lost. (No logger set
/// leaves `log`'s maximum level off, which every logger raises.)
#[cfg(feature = "tracing")]
pub(crate) fn report_if_log_is_unset() {
    static CHECKED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if CHECKED.swap(true, Ordering::Relaxed) {
        return;
    }
    if !router_installed() && log::max_level() == log::LevelFilter::Off {
        crate::error::report(format_args!(
            "no `log` logger is set: records of the `log` crate are not written; with \
             Builder::tracing(false), set the subscriber with LogGuard::install_tracing (or \
             install tracing-log's LogTracer: tracing-subscriber's init() does, with its default \
             features, but it drops `log`'s key-values)"
        ));
    }
}

/// Makes this crate's router the `log` logger (it writes nowhere until
/// [`install_pipeline`]); an error if the `log` crate has another logger, or
/// a pipeline is set.
pub(crate) fn claim_log_logger() -> Result<(), crate::error::Error> {
    if !install_router() || PIPELINE.get().is_some() {
        return Err(crate::error::Error::other(
            "the `log` crate already has a logger; use Builder::global(false) or remove the other one",
        ));
    }
    Ok(())
}

/// Makes `bridge` the global pipeline's `log` side, after
/// [`claim_log_logger`] (which `init`'s `GLOBAL_INIT` makes the only one).
pub(crate) fn install_pipeline(bridge: LogBridge) {
    let _ = PIPELINE.set(bridge);
    set_max_level(0);
}

/// Sets `log`'s maximum level again from the pipeline's directives in
/// force, after a change of `live`: only if `live` is the global
/// pipeline's (a private pipeline's change leaves `log`, which may have
/// another logger, alone).
pub(crate) fn refresh_max_level(live: &Arc<LiveFilter>) {
    if PIPELINE
        .get()
        .is_some_and(|p| Arc::ptr_eq(&p.directives, live))
    {
        set_max_level(0);
    }
}

/// `log`'s global maximum level: everything while a test capture lives,
/// else the pipeline's (off without one), after adding `change` to the
/// live captures.
fn set_max_level(change: isize) {
    let _one = LEVEL.lock().unwrap_or_else(PoisonError::into_inner);
    let captures = match change {
        0 => CAPTURES.load(Ordering::Acquire),
        1 => CAPTURES.fetch_add(1, Ordering::AcqRel) + 1,
        _ => CAPTURES.fetch_sub(1, Ordering::AcqRel) - 1,
    };
    let level = if captures > 0 {
        log::LevelFilter::Trace
    } else {
        match PIPELINE.get() {
            Some(p) => to_log_level(p.directives.max_level()),
            None => log::LevelFilter::Off,
        }
    };
    // The subscriber's other layers get what they ask for, too.
    #[cfg(feature = "tracing")]
    let level = if ECHO.load(Ordering::Acquire) {
        level.max(tracing_to_log(tracing_core::LevelFilter::current()))
    } else {
        level
    };
    // Another `log` logger's level is its own business.
    if router_installed() {
        log::set_max_level(level);
    }
}

#[cfg(feature = "tracing")]
fn tracing_to_log(l: tracing_core::LevelFilter) -> log::LevelFilter {
    use tracing_core::LevelFilter as T;
    match l {
        T::OFF => log::LevelFilter::Off,
        T::ERROR => log::LevelFilter::Error,
        T::WARN => log::LevelFilter::Warn,
        T::INFO => log::LevelFilter::Info,
        T::DEBUG => log::LevelFilter::Debug,
        _ => log::LevelFilter::Trace,
    }
}

fn to_log_level(l: slog::FilterLevel) -> log::LevelFilter {
    use slog::FilterLevel as F;
    match l {
        F::Off => log::LevelFilter::Off,
        F::Critical | F::Error => log::LevelFilter::Error,
        F::Warning => log::LevelFilter::Warn,
        F::Info => log::LevelFilter::Info,
        F::Debug => log::LevelFilter::Debug,
        F::Trace => log::LevelFilter::Trace,
    }
}

/// While it lives, `log` records of this thread go to `bridge` (a test
/// capture). False if the `log` crate has another logger.
pub(crate) struct CaptureLog {
    installed: bool,
    bridge: Arc<LogBridge>,
    process: bool,
}

impl CaptureLog {
    /// This thread's capture (`process` false), or the process-wide one.
    /// The capture is looked up by the slog-scope and tracing routers too,
    /// so it is registered even when `log` has another logger.
    pub(crate) fn start(bridge: Arc<LogBridge>, process: bool) -> CaptureLog {
        let installed = install_router();
        if process {
            *PROCESS.lock().unwrap_or_else(PoisonError::into_inner) = Some(Arc::clone(&bridge));
        } else {
            CAPTURE.with(|c| c.borrow_mut().push(Arc::clone(&bridge)));
        }
        set_max_level(1);
        CaptureLog {
            installed,
            bridge,
            process,
        }
    }

    /// False if another `log` logger was set first: `log` records are not
    /// captured.
    pub(crate) fn installed(&self) -> bool {
        self.installed
    }
}

impl Drop for CaptureLog {
    fn drop(&mut self) {
        if self.process {
            let mut p = PROCESS.lock().unwrap_or_else(PoisonError::into_inner);
            if p.as_ref().is_some_and(|b| Arc::ptr_eq(b, &self.bridge)) {
                *p = None;
            }
        } else {
            // This capture's entry, wherever it is: captures may end out of
            // order.
            let _ = CAPTURE.try_with(|c| {
                let mut c = c.borrow_mut();
                if let Some(at) = c.iter().rposition(|b| Arc::ptr_eq(b, &self.bridge)) {
                    c.remove(at);
                }
            });
        }
        set_max_level(-1);
    }
}

/// The capture this thread's records go to, if any test capture lives:
/// the thread's innermost, else the process-wide one.
pub(crate) fn thread_capture() -> Option<Arc<LogBridge>> {
    if CAPTURES.load(Ordering::Acquire) == 0 {
        return None;
    }
    CAPTURE
        .try_with(|c| c.borrow().last().cloned())
        .ok()
        .flatten()
        .or_else(|| {
            PROCESS
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
        })
}

impl log::Log for Router {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        match thread_capture() {
            Some(capture) => capture.enabled(m),
            None => {
                #[cfg(feature = "tracing")]
                if ECHO.load(Ordering::Acquire) {
                    return true; // the subscriber's other layers decide too
                }
                PIPELINE.get().is_some_and(|p| p.enabled(m))
            }
        }
    }

    fn log(&self, r: &log::Record<'_>) {
        match thread_capture() {
            Some(capture) => capture.log(r),
            None => {
                if let Some(p) = PIPELINE.get() {
                    p.log(r);
                }
                #[cfg(feature = "tracing")]
                echo(r);
            }
        }
    }

    fn flush(&self) {
        if let Some(p) = PIPELINE.get() {
            let _ = p.logger.flush();
        }
    }
}

pub(crate) fn level(l: log::Level) -> Level {
    match l {
        log::Level::Error => Level::Error,
        log::Level::Warn => Level::Warning,
        log::Level::Info => Level::Info,
        log::Level::Debug => Level::Debug,
        log::Level::Trace => Level::Trace,
    }
}

impl LogBridge {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        self.directives.enabled(level(m.level()), m.target())
            && !excluded_log_target(level(m.level()), m.target())
    }

    fn log(&self, r: &log::Record<'_>) {
        if !self.enabled(r.metadata()) {
            return;
        }
        // tracing's own echo (`log-always`): it names its file without
        // `file_static`, unlike the `log` macros, and comes from a tracing
        // call site. A `log` record on the same line as a tracing event is
        // still written.
        #[cfg(feature = "tracing")]
        if r.file_static().is_none() && is_tracing_callsite(r.file(), r.line()) {
            return;
        }
        let module = r.module_path_static().unwrap_or("");
        let location = location(r.file_static(), r.line(), module);
        let tag = if r.target() == module { "" } else { r.target() };
        with_scratch(|ev| {
            ev.begin(level(r.level()), location, tag);
            ev.set_message(*r.args());
            let _ = r.key_values().visit(&mut KeyValues(ev));
            #[cfg(feature = "tracing")]
            if super::span_fields::span_entered() {
                super::span_fields::push_current_span_fields(ev);
            }
            ev.replay(|record, _| self.logger.log(record));
        });
    }
}

/// The `log` crate's key-values (`log::info!(order_id = 7; "served")`) as
/// typed fields: integers stay integers, booleans booleans.
struct KeyValues<'a>(&'a mut Event);

impl<'kvs> log::kv::VisitSource<'kvs> for KeyValues<'_> {
    fn visit_pair(
        &mut self,
        key: log::kv::Key<'kvs>,
        value: log::kv::Value<'kvs>,
    ) -> Result<(), log::kv::Error> {
        match intern(key.as_str()) {
            Some(key) => value.visit(TypedValue(self.0, key)),
            None => {
                let text = format_args!("{key}={value}");
                self.0.push(LOG_KV_OVERFLOW_KEY, FieldIn::Fmt(text));
                Ok(())
            }
        }
    }
}

struct TypedValue<'a>(&'a mut Event, &'static str);

impl<'v> log::kv::VisitValue<'v> for TypedValue<'_> {
    fn visit_any(&mut self, value: log::kv::Value<'_>) -> Result<(), log::kv::Error> {
        self.0.push(self.1, FieldIn::Fmt(format_args!("{value}")));
        Ok(())
    }
    fn visit_null(&mut self) -> Result<(), log::kv::Error> {
        self.0.push(self.1, FieldIn::Plain(Value::None));
        Ok(())
    }
    fn visit_u64(&mut self, v: u64) -> Result<(), log::kv::Error> {
        self.0.push(self.1, FieldIn::Plain(Value::U64(v)));
        Ok(())
    }
    fn visit_i64(&mut self, v: i64) -> Result<(), log::kv::Error> {
        self.0.push(self.1, FieldIn::Plain(Value::I64(v)));
        Ok(())
    }
    fn visit_u128(&mut self, v: u128) -> Result<(), log::kv::Error> {
        self.0.push(self.1, FieldIn::Plain(Value::U128(v)));
        Ok(())
    }
    fn visit_i128(&mut self, v: i128) -> Result<(), log::kv::Error> {
        self.0.push(self.1, FieldIn::Plain(Value::I128(v)));
        Ok(())
    }
    fn visit_f64(&mut self, v: f64) -> Result<(), log::kv::Error> {
        self.0.push(self.1, FieldIn::Plain(Value::F64(v)));
        Ok(())
    }
    fn visit_bool(&mut self, v: bool) -> Result<(), log::kv::Error> {
        self.0.push(self.1, FieldIn::Plain(Value::Bool(v)));
        Ok(())
    }
    fn visit_char(&mut self, v: char) -> Result<(), log::kv::Error> {
        self.0.push(self.1, FieldIn::Plain(Value::Char(v)));
        Ok(())
    }
    fn visit_str(&mut self, v: &str) -> Result<(), log::kv::Error> {
        self.0.push(self.1, FieldIn::Str(v));
        Ok(())
    }
}

impl fmt::Debug for LogBridge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogBridge")
            .field("directives", &self.directives)
            .finish_non_exhaustive()
    }
}
