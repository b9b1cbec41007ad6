//! The composition a service with OpenTelemetry traces writes, exactly as the
//! docs show it: `Builder::tracing(false)`, then one registry with this
//! crate's layer and tracing-opentelemetry's, installed with
//! tracing-subscriber's `init()` (which also installs tracing-log's
//! `LogTracer`). Inside nested spans, a tracing event, a slog record and a
//! `log` record: each line carries the spans' fields and the `trace_id` and
//! `span_id` of the span the real OpenTelemetry SDK exports.
//!
//! One test in this file: it installs global state.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use serde_json::Value;
use slog_host::{Builder, Format, Output};
use slog_host_tracing_stack::Buf;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

#[test]
fn records_of_all_three_apis_carry_the_exported_spans_ids_and_fields() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let tracer = provider.tracer("orders");

    let out = Buf::default();
    let guard = Builder::new()
        .tracing(false)
        .panic_hook(false)
        .format(Format::Json)
        .output(Output::Writer(Box::new(out.clone())))
        .init()
        .unwrap();
    // As in the README, with tracing-subscriber's default features.
    tracing_subscriber::registry()
        .with(guard.tracing_layer())
        .with(tracing_opentelemetry::layer().with_tracer(tracer))
        .init();

    slog::info!(guard.logger(), "before the request");
    {
        let request = tracing::info_span!("request", method = "GET", uri = "/orders/7");
        let _r = request.enter();
        let handler = tracing::info_span!("handler", order_id = 7);
        let _h = handler.enter();
        tracing::info!(step = "tracing", "from tracing");
        slog::info!(guard.logger(), "from slog"; "step" => "slog");
        slog::info!(slog_scope::logger(), "from slog-scope");
        log::info!(step = "log"; "from log");
    }
    log::info!("after the request");
    guard.flush();
    provider.force_flush().unwrap();

    let spans = exporter.get_finished_spans().unwrap();
    let mut names: Vec<&str> = spans.iter().map(|s| s.name.as_ref()).collect();
    names.sort();
    assert_eq!(names, ["handler", "request"], "every span exported");
    let handler = spans.iter().find(|s| s.name == "handler").unwrap();
    let request = spans.iter().find(|s| s.name == "request").unwrap();
    assert_eq!(handler.parent_span_id, request.span_context.span_id());
    let trace_id = handler.span_context.trace_id().to_string();
    let span_id = handler.span_context.span_id().to_string();

    let lines = out.json();
    let find = |msg: &str| -> &Value {
        let found: Vec<&Value> = lines.iter().filter(|v| v["msg"] == msg).collect();
        assert_eq!(found.len(), 1, "{msg:?} exactly once in {lines:#?}");
        found[0]
    };
    for msg in ["from tracing", "from slog", "from slog-scope", "from log"] {
        let v = find(msg);
        assert_eq!(v["trace_id"], trace_id.as_str(), "{msg}: {v}");
        assert_eq!(v["span_id"], span_id.as_str(), "{msg}: {v}");
        assert_eq!(v["trace_flags"], "01", "{msg}: {v}");
        assert_eq!(v["method"], "GET", "{msg}: {v}");
        assert_eq!(v["uri"], "/orders/7", "{msg}: {v}");
        assert_eq!(v["order_id"], 7, "{msg}: {v}");
        assert!(v["host.name"].is_string(), "{msg}: {v}");
    }
    assert_eq!(find("from log")["target"], "opentelemetry");
    // tracing-log 0.2 does not forward `log`'s key-values (the docs say so;
    // through `init()`'s own `log` bridge they are typed fields). If this
    // fails, it does now: update the docs.
    assert!(find("from log").get("step").is_none());
    for msg in ["before the request", "after the request"] {
        let v = find(msg);
        assert!(
            v.get("trace_id").is_none() && v.get("method").is_none(),
            "{v}"
        );
    }
    drop(guard);
}
