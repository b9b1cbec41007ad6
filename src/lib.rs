//! Host metadata on every log record, for the cost of one atomic load; slog,
//! `log` and `tracing` records as one kind of enriched line.
//!
//! A service that logs on every request must not do I/O per log line: a
//! server that looked up its IP address per record ran out of file
//! descriptors under load and died. `slog-host` detects the host metadata
//! once, keeps it in a lock-free cache that a background thread refreshes,
//! and writes every record, from any of the three logging APIs, through one
//! pipeline whose caller makes no system call and no allocation.
//!
//! # One call
//!
//! ```no_run
//! fn main() -> Result<(), slog_host::Error> {
//!     // RUST_LOG, LOG_FORMAT, LOG_FILE, OTEL_SERVICE_NAME, POD_NAME, ...: see `Builder`.
//!     let guard = slog_host::init()?;
//!     slog::info!(guard.logger(), "request done"; "status" => 200);
//!     log::info!("dependencies using the `log` crate are enriched too");
//!     let span = tracing::info_span!("request", method = "GET");
//!     let _entered = span.enter();
//!     tracing::info!(order_id = 7, "tracing events too, with their spans' fields");
//!     Ok(()) // dropping the guard writes everything still queued
//! }
//! ```
//!
//! Or from code, ignoring the environment:
//!
//! ```no_run
//! use std::time::Duration;
//! use slog_host::{Builder, Format, Output};
//!
//! # fn main() -> Result<(), slog_host::Error> {
//! let guard = Builder::new()
//!     .service("orders", "1.4.2")
//!     .format(Format::Json)
//!     .filter("info,hyper=warn")?
//!     .output(Output::Stderr)
//!     .refresh_interval(Duration::from_secs(60))
//!     .field("deployment.environment", "prod")
//!     .init()?;
//! # Ok(()) }
//! ```
//!
//! # What `init()` installs
//!
//! A global [`init`] (the default, [`Builder::global`]) sets, for the life of
//! the process:
//! - **slog-scope's global logger**: `slog_scope::logger()` is the pipeline's
//!   root logger;
//! - **the `log` crate's logger**, with `log`'s maximum level set from
//!   `RUST_LOG` (not with [`Builder::tracing(false)`](Builder::tracing), which
//!   leaves `log` to the service's `tracing` subscriber);
//! - **the global `tracing` subscriber**: a `Registry` with this crate's
//!   layer (feature `tracing`; not with `tracing(false)`);
//! - **a panic hook** in front of the one set before, which writes a panic
//!   as a `FATAL` record before the process can end
//!   ([`Builder::panic_hook`]).
//!
//! and starts its threads: the writer (`slog-host-log`), one for each line
//! output (`slog-host-out`: stdout, a file; see
//! [`Builder::output_buffer`]), the OTLP exporter (`slog-host-otlp`, with
//! the feature `otlp`), the host refresher (`slog-host-rfsh`) and the flood
//! guard's timer (`slog-host-flood`, unless the guard is off). A second global `init` in a
//! process is an error, and so is one that finds the `log` logger or the
//! global `tracing` subscriber already taken. `Builder::global(false)` makes a
//! private pipeline that installs nothing.
//!
//! Keep the returned [`LogGuard`] until the end of `main`: dropping it writes
//! every queued record. A service that stops on SIGTERM drops it there
//! ([`docs::pipeline`], "Nothing lost").
//!
//! # Fields
//!
//! Every JSON line starts with `ts`, `level`, `msg`, then `target`
//! (`code.file.path` and `code.line.number` with
//! [`Builder::source_location`]), the record's fields, the fields of the
//! `tracing` spans it was logged in, its logger's fields, `trace_id`,
//! `span_id`, `trace_flags` inside an OpenTelemetry span (feature
//! `opentelemetry`), and the host fields: `host.name`, `host.ip`,
//! `process.pid`, `service.name`, `service.version`, `service.instance.id`,
//! `k8s.pod.name`, `k8s.namespace.name`, `k8s.node.name`, `container.id`,
//! and every `OTEL_RESOURCE_ATTRIBUTES` key and [`Builder::field`]. A host
//! field that is unknown is left out. [`Schema::Ecs`] names them as the
//! Elastic Common Schema does (README, "Fields"; [`host::keys`]).
//!
//! # With other tracing layers
//!
//! A service that runs other `tracing` layers (tracing-opentelemetry,
//! console-subscriber, Sentry) builds the registry itself and adds
//! [`LogGuard::tracing_layer`] beside them; each layer keeps its own filter:
//!
//! ```no_run
//! # #[cfg(feature = "tracing")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use tracing_subscriber::layer::SubscriberExt;
//! use tracing_subscriber::util::SubscriberInitExt;
//!
//! let guard = slog_host::Builder::from_env()?.tracing(false).init()?;
//! tracing_subscriber::registry()
//!     .with(guard.tracing_layer())
//!     // .with(tracing_opentelemetry::layer().with_tracer(tracer))
//!     .try_init()?;
//! # Ok(()) }
//! # #[cfg(not(feature = "tracing"))]
//! # fn main() {}
//! ```
//!
//! With `tracing(false)` the `log` crate is left to that subscriber (its
//! `init`/`try_init` installs tracing-log's `LogTracer`), and `log` records
//! reach the pipeline through the layer. A slog or `log` record logged while
//! a span is entered carries the span's fields, whichever way it came in;
//! with the `opentelemetry` feature, records inside a span that
//! tracing-opentelemetry created carry its `trace_id` and `span_id`.
//!
//! # Using it in a library
//!
//! A library depends on `slog`, `log` or `tracing` only and logs through
//! them; the binary calls [`init`] once and keeps the guard until the end of
//! `main`.
//!
//! # Testing code that logs
//!
//! [`testing::capture`] shows a test's records (slog, `log`, `tracing`) in
//! the test's output when it fails, and returns them for assertions; tests
//! running in parallel see only their own.
//!
//! # Building blocks
//!
//! [`drain::Enrich`] adds the host fields to any slog drain, without
//! `init()`:
//!
//! ```
//! use std::sync::Mutex;
//! use std::time::Duration;
//! use slog::{info, o, Drain};
//! use slog_host::drain::Enrich;
//! use slog_host::host::{HostCache, Refresher};
//!
//! // Keep the metadata current off the logging path (IP changes, renames).
//! let _refresher = Refresher::start(HostCache::global(), Duration::from_secs(30)).unwrap();
//!
//! let json = slog_host::format::json(std::io::stdout());
//! let log = slog::Logger::root(Enrich::new(Mutex::new(json)).fuse(), o!());
//! info!(log, "request done"; "status" => 200, "path" => "/orders");
//! ```
//!
//! The modules name their layer: [`host`] (what is known about the host and
//! how it stays current), [`drain`] (slog drains), [`format`](mod@format), [`flood`],
//! [`file`](mod@file), [`pipeline`] (settings' defaults and limits), [`layer`],
//! [`testing`]. [`docs`] explains how it all works and what it costs.
//!
//! # Cargo features
//!
//! - `tracing` (default): `tracing` events into the pipeline,
//!   [`TracingLayer`].
//! - `opentelemetry`: `trace_id`, `span_id`, `trace_flags` from the current
//!   OpenTelemetry context.
//! - `otlp`: export over OTLP/HTTP to an OpenTelemetry collector
//!   (`Output::Otlp`, the module `otlp`; [`docs::otlp`]), plain http only.
//! - `otlp-tls`: `otlp` with https (rustls), a private CA and client
//!   certificates (`OTEL_EXPORTER_OTLP_CERTIFICATE`, `_CLIENT_CERTIFICATE`,
//!   `_CLIENT_KEY`).
//! - `max_level_*`, `release_max_level_*`: slog's compile-time level limits
//!   ([`docs::limits`]).
// One audited exception, `src/fork.rs` (a `pthread_atfork` registration).
#![deny(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The house (DESIGN.md): folders by the thread that runs them, each importing
// only from the ones below it (`scripts/layers.py` checks):
//
//   setup/    the thread that calls init: builder, environment, start, guard
//   writer/   the writer thread: output set, batches, record cap, banner
//   outputs/  where bytes go: standard streams, files
//   otlp/     OTLP export: settings, encodings, the exporter's thread
//   format/   record -> bytes, pure: JSON, term, timestamps, escaping
//   caller/   the thread that logs: filter, flood guard, bridges, sender
//   host/     what is known about the host: cache, detection, refresher
//   record/   what crosses threads: the captured event, the queue
//   leaves:   background, error, fork, intern, settings (any thread)
mod background;
mod caller;
mod config_file;
pub mod docs;
mod error;
mod fork;
pub mod format;
pub mod host;
mod intern;
#[cfg(feature = "otlp")]
#[cfg_attr(docsrs, doc(cfg(feature = "otlp")))]
pub mod otlp;
mod outputs;
#[cfg(test)]
mod proptests;
mod record;
mod settings;
mod setup;
pub mod testing;
mod writer;

#[cfg(feature = "tracing")]
pub use caller::bridges::tracing::TracingLayer;
pub use caller::filter_change::FilterHandle;
pub use caller::flood::FloodConfig;
pub use error::Error;
#[doc(inline)]
pub use format::Format;
pub use host::schema::Schema;
pub use outputs::file_config::FileConfig;
pub use outputs::Output;
pub use record::queue::Overflow;
pub use setup::{Builder, LogGuard};

/// slog drains to build a pipeline of your own, without [`init`]: host
/// fields ([`Enrich`](drain::Enrich)), level directives, the flood guard, the
/// term formats.
pub mod drain {
    pub use crate::caller::filter::{Directives, LevelFilter, DEFAULT_FILTER};
    pub use crate::caller::flood::{FloodGuard, FloodStats};
    pub use crate::format::term::TermFormat;
    pub use crate::host::enrich::Enrich;
}

/// The flood guard's settings: [`FloodConfig`], its defaults and limits,
/// and the keys of its summary records.
pub mod flood {
    pub use crate::caller::flood::{
        flood_keys, FloodConfig, DEFAULT_FLOOD_BURST, DEFAULT_FLOOD_INFO_BURST,
        DEFAULT_FLOOD_WINDOW, MAX_FLOOD_BURST, MAX_FLOOD_WINDOW, MIN_FLOOD_WINDOW,
    };
}

/// File output: [`FileConfig`], its defaults and limits.
pub mod file {
    pub use crate::outputs::file_config::{
        FileConfig, DEFAULT_FILE_KEEP, DEFAULT_FILE_MAX_SIZE, DEFAULT_FILE_MODE, MAX_FILE_KEEP,
        MAX_FILE_MAX_AGE, MAX_FILE_MAX_SIZE, MAX_ROTATE_EVERY, MIN_ROTATE_EVERY,
    };
}

/// The queue between the logging threads and the writer thread, and each
/// output's buffer: their settings' defaults and limits, the writer's
/// polling times, and the bounds of flush and shutdown
/// ([`docs::pipeline`]).
pub mod pipeline {
    pub use crate::record::queue::{Overflow, FLUSH_TIMEOUT, LINES_BOUND};
    pub use crate::setup::{
        DEFAULT_CHANNEL_SIZE, DEFAULT_OVERFLOW, DEFAULT_QUEUE_BYTES, MAX_CHANNEL_SIZE,
        MAX_QUEUE_BYTES,
    };
    pub use crate::writer::{
        ACTIVE_POLL, DEFAULT_OUTPUT_BUFFER, DEFAULT_SHUTDOWN_TIMEOUT, IDLE_POLL, MAX_OUTPUT_BUFFER,
        MAX_SHUTDOWN_TIMEOUT, MIN_OUTPUT_BUFFER, QUIET_SPELL, REPORT_EVERY,
    };
}

/// The pieces of [`TracingLayer`]: the layer that turns `tracing` events into
/// records, and its per-layer filter (the pipeline's directives).
#[cfg(feature = "tracing")]
#[cfg_attr(docsrs, doc(cfg(feature = "tracing")))]
pub mod layer {
    pub use crate::caller::bridges::tracing::{EventFilter, Events};
}

/// The README's Rust code blocks, compiled and run as doc-tests so the front
/// page cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// Starts logging as the environment says, in one call: the same as
/// `Builder::from_env()?.init()`.
///
/// Every record, the service's own and its dependencies' through the `log`
/// crate, becomes one line with the host metadata, filtered by `RUST_LOG`,
/// written off the calling thread. Keep the returned [`LogGuard`] until
/// shutdown; dropping it writes everything still queued.
///
/// ```no_run
/// fn main() -> Result<(), slog_host::Error> {
///     let guard = slog_host::init()?;
///     slog::info!(guard.logger(), "service started"; "port" => 8080);
///     log::info!("records from the log crate are enriched too");
///     Ok(())
/// }
/// ```
///
/// The variables it reads, their defaults and their errors are listed at
/// [`Builder`]. A second call in the same process returns an error.
pub fn init() -> Result<LogGuard, Error> {
    Builder::from_env()?.init()
}
