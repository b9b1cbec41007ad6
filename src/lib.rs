//! Host metadata on every [`slog`] record, for the cost of one atomic load.
//!
//! A service that logs on every request must not do I/O per log line: looking
//! up the local IP address costs dozens of system calls, and under load a
//! server that did it per record ran out of file descriptors and died.
//! `slog-host` detects the host metadata once, keeps it in a lock-free
//! [`HostCache`], refreshes it on a background [`Refresher`] thread, and its
//! [`Enrich`] drain adds it to every record without a system call or an
//! allocation.
//!
//! # One call
//!
//! `init()` starts an asynchronous pipeline whose caller makes no system call
//! and no allocation per record (see the README's "The pipeline"), and feeds
//! it from slog, the `log` crate and `tracing` alike.
//!
//! ```no_run
//! fn main() -> Result<(), slog_host::Error> {
//!     // RUST_LOG, LOG_FORMAT, NO_COLOR, LOG_HOST_REFRESH, OTEL_SERVICE_NAME,
//!     // POD_IP, POD_NAME, POD_NAMESPACE, NODE_NAME: see `Builder`.
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
//! # The parts
//!
//! [`Enrich`] works with any slog drain, without `init()`:
//!
//! ```
//! use std::sync::Mutex;
//! use std::time::Duration;
//! use slog::{info, o, Drain};
//! use slog_host::{Enrich, HostCache, Refresher};
//!
//! // Keep the metadata current off the logging path (IP changes, renames).
//! let _refresher = Refresher::start(HostCache::global(), Duration::from_secs(30)).unwrap();
//!
//! let json = slog_host::format::json(std::io::stdout());
//! let log = slog::Logger::root(Enrich::new(Mutex::new(json)).fuse(), o!());
//! info!(log, "request done"; "status" => 200, "path" => "/orders");
//! ```
//!
//! Fields (OpenTelemetry semantic conventions, see [`keys`]): `host.name`,
//! `host.ip`, `process.pid`, `service.name`, `service.version`,
//! `k8s.pod.name`, `k8s.namespace.name`, `k8s.node.name`. Where each comes
//! from is in [`SystemProbe`]. A field that is unknown is left out.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod backend;
mod builder;
mod error;
mod frontend;
mod host;
mod intern;
#[cfg(test)]
mod proptests;
mod settings;
pub mod testing;

pub use backend::enrich::Enrich;
pub use backend::file::{
    FileConfig, DEFAULT_FILE_KEEP, DEFAULT_FILE_MAX_SIZE, DEFAULT_FILE_MODE, MAX_FILE_KEEP,
    MAX_FILE_MAX_SIZE,
};
pub use backend::format;
pub use backend::format::Format;
pub use backend::output::Output;
pub use backend::term::TermFormat;
pub use backend::worker::{ACTIVE_POLL, BANNER_MESSAGE, IDLE_POLL, QUIET_SPELL};
pub use backend::writer::OVERFLOW_MESSAGE;
pub use builder::{
    Builder, LogGuard, DEFAULT_CHANNEL_SIZE, DEFAULT_OVERFLOW, DEFAULT_QUEUE_BYTES,
    MAX_CHANNEL_SIZE, MAX_QUEUE_BYTES, WRITER_THREAD_NAME,
};
pub use error::Error;
pub use frontend::filter::{Directives, LevelFilter, DEFAULT_FILTER};
pub use frontend::flood::{
    flood_keys, FloodConfig, FloodGuard, FloodStats, DEFAULT_FLOOD_BURST, DEFAULT_FLOOD_INFO_BURST,
    DEFAULT_FLOOD_WINDOW, FLOOD_TABLE_SIZE, FLOOD_THREAD_NAME, MAX_FLOOD_BURST, MAX_FLOOD_WINDOW,
    MIN_FLOOD_WINDOW,
};
pub use frontend::queue::Overflow;
pub use host::cache::{CacheRef, HostCache, RefreshStatus};
pub use host::detect::{host_name, Probe, SystemProbe, VIRTUAL_INTERFACE_PREFIXES};
pub use host::info::{keys, HostInfo};
pub use host::refresh::{
    RefreshConfig, Refresher, DEFAULT_JITTER, DEFAULT_MAX_BACKOFF, DEFAULT_REFRESH_INTERVAL,
    MAX_REFRESH_INTERVAL, REFRESHER_THREAD_NAME,
};
pub use host::resource::{
    container_id_from_cgroup, container_id_from_mountinfo, detect_container_id, instance_id,
    parse_resource_attributes, OTEL_RESOURCE_ATTRIBUTES, SERVICE_ACCOUNT_NAMESPACE_FILE,
};
pub use host::schema::{Schema, ECS_VERSION};

#[cfg(feature = "tracing")]
pub use frontend::tracing_layer::TracingLayer;

/// The pieces of [`TracingLayer`]: the layer that turns `tracing` events into
/// records, and its per-layer filter (the pipeline's directives).
#[cfg(feature = "tracing")]
pub mod layer {
    pub use crate::frontend::tracing_layer::{EventFilter, Events};
}

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
