//! Reading for operators and the curious: how the pipeline works, what it
//! guarantees, and what it costs. Nothing here is code.
//!
//! - [`pipeline`]: the caller's side and the writer thread, flush, fork,
//!   what is lost at an abrupt end, the flood guard;
//! - [`tracing`]: `tracing` events, span fields, other layers, trace ids;
//! - [`security`]: hostile record data, escaping, reserved keys;
//! - [`files`]: file output and rotation;
//! - `otlp`: export to an OpenTelemetry collector (with the feature `otlp`);
//! - [`performance`]: the benchmark tables;
//! - [`limits`]: compile-time levels, design notes, known limits.

pub mod files;
pub mod limits;
#[cfg(feature = "otlp")]
#[cfg_attr(docsrs, doc(cfg(feature = "otlp")))]
pub mod otlp;
pub mod performance;
pub mod pipeline;
pub mod security;
pub mod tracing;
