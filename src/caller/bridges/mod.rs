//! The ways in besides slog: the `log` crate's logger and the `tracing`
//! layer, the fields of the entered spans, and the rules they share.

pub(crate) mod log;
pub(crate) mod rules;
#[cfg(feature = "tracing")]
pub(crate) mod span_fields;
#[cfg(feature = "tracing")]
pub(crate) mod tracing;
