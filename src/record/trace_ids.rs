//! Trace correlation: the ids of the current OpenTelemetry span, read on the
//! caller's thread when a record is captured (cargo feature `opentelemetry`).
//!
//! `opentelemetry::Context::current()` is a thread-local: reading it makes no
//! system call and no allocation, and without an active span it costs a
//! thread-local access and one branch.

/// The ids of the span a record was logged in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TraceIds {
    pub(crate) trace_id: [u8; 16],
    pub(crate) span_id: [u8; 8],
    pub(crate) flags: u8,
}

/// The current OpenTelemetry span's ids, if a valid one is active.
#[cfg(feature = "opentelemetry")]
#[inline]
pub(crate) fn current() -> Option<TraceIds> {
    use opentelemetry::trace::TraceContextExt;
    opentelemetry::Context::map_current(|cx| {
        if !cx.has_active_span() {
            return None;
        }
        let span = cx.span();
        let sc = span.span_context();
        sc.is_valid().then(|| TraceIds {
            trace_id: sc.trace_id().to_bytes(),
            span_id: sc.span_id().to_bytes(),
            flags: sc.trace_flags().to_u8(),
        })
    })
}

/// Without the `opentelemetry` feature there is no trace context.
#[cfg(not(feature = "opentelemetry"))]
#[inline]
pub(crate) fn current() -> Option<TraceIds> {
    None
}
