//! The caller's side of the pipeline: what runs on the thread that logs.
//! Level filter, flood guard, capture into reused memory, the queue to the
//! writer thread.

pub(crate) mod capture;
pub(crate) mod filter;
pub(crate) mod filter_control;
pub(crate) mod flood;
pub(crate) mod log_bridge;
pub(crate) mod panic;
pub(crate) mod queue;
#[cfg(feature = "tracing")]
pub(crate) mod span_context;
pub(crate) mod trace_context;
#[cfg(feature = "tracing")]
pub(crate) mod tracing_layer;
