//! Trace correlation (cargo feature `opentelemetry`): a record logged while an
//! OpenTelemetry span context is current carries its ids, in lowercase hex,
//! as the "Trace Context in non-OTLP Log Formats" specification says; a
//! record logged outside carries none. Run with
//! `cargo test --features opentelemetry --test caller otel_context`.
//!
//! Private pipelines in this process; a suite of the `caller` test binary
//! (`main.rs`, `harness = false`), built with the feature only.

use crate::support::{capture, runner};

use capture::Buf;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::Context;
use slog_host::{Builder, Format, Output, Schema};

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN: &str = "00f067aa0ba902b7";

fn lines(schema: Schema) -> Vec<serde_json::Value> {
    let buf = Buf::default();
    let guard = Builder::new()
        .global(false)
        .format(Format::Json)
        .schema(schema)
        .output(Output::Writer(Box::new(buf.clone())))
        .init()
        .unwrap();
    let log = guard.logger();
    slog::info!(log, "outside any span");
    let sc = SpanContext::new(
        TraceId::from_hex(TRACE).unwrap(),
        SpanId::from_hex(SPAN).unwrap(),
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    );
    {
        let _attached = Context::current().with_remote_span_context(sc).attach();
        slog::info!(log, "inside the span"; "trace_id" => "spoofed");
    }
    slog::info!(log, "after the span");
    drop(guard);
    buf.json_lines()
}

fn records_in_an_active_span_carry_its_ids() {
    let l = lines(Schema::Otel);
    assert_eq!(l.len(), 3);
    assert!(l[0].get("trace_id").is_none(), "{}", l[0]);
    assert_eq!(l[1]["trace_id"], TRACE);
    assert_eq!(l[1]["span_id"], SPAN);
    assert_eq!(l[1]["trace_flags"], "01");
    assert_eq!(
        l[1]["fields.trace_id"], "spoofed",
        "a field cannot spoof the id"
    );
    assert!(l[2].get("trace_id").is_none(), "{}", l[2]);
}

fn ecs_names_the_ids_trace_id_and_span_id() {
    let l = lines(Schema::Ecs);
    assert_eq!(l[1]["trace.id"], TRACE);
    assert_eq!(l[1]["span.id"], SPAN);
    assert!(l[1].get("trace_flags").is_none());
    assert!(l[0].get("trace.id").is_none());
}

crate::suite!(
    tests: [
        records_in_an_active_span_carry_its_ids,
        ecs_names_the_ids_trace_id_and_span_id,
    ]
);
