//! `log` records' key-values in a service's own tracing stack: the pipeline
//! built with `Builder::tracing(false)`, one registry with this crate's layer,
//! tracing-opentelemetry's and a `fmt` layer, set with
//! `LogGuard::install_tracing` (tracing-subscriber with its default
//! features). `log::info!(order_id = 7, amount_cents = 1234, approved = true;
//! ..)` inside a span: the line and the OTLP record have the key-values,
//! typed, and the span's fields; the `fmt` layer gets the record once; this
//! crate writes it once.
//!
//! One test in this file: it installs global state.

use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use slog_host::otlp::OtlpConfig;
use slog_host::{Builder, Format, Output};
use slog_host_otlp::{Receiver, Reply, Val};
use slog_host_tracing_stack::Buf;
use tracing_subscriber::layer::SubscriberExt;

#[test]
fn log_key_values_are_typed_in_the_lines_and_the_export_beside_other_layers() {
    let rx = Receiver::start(0, |_| Reply::Status(200));
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(InMemorySpanExporter::default())
        .build();
    let out = Buf::default();
    let guard = Builder::new()
        .tracing(false)
        .panic_hook(false)
        .format(Format::Json)
        .output(Output::Writer(Box::new(out.clone())))
        .tee(
            Output::Otlp(OtlpConfig::new(&rx.endpoint()).unwrap().batch(
                Duration::from_millis(50),
                2048,
                512,
                Duration::from_secs(10),
            )),
            Format::Json,
            "info",
        )
        .unwrap()
        .init()
        .unwrap();
    let fmt_out = Buf::default();
    guard
        .install_tracing(
            tracing_subscriber::registry()
                .with(guard.tracing_layer())
                .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("orders")))
                .with(
                    tracing_subscriber::fmt::layer()
                        .with_writer(fmt_out.clone())
                        .with_ansi(false),
                ),
        )
        .unwrap();
    {
        let span = tracing::info_span!("request", request_id = "r-1");
        let _entered = span.enter();
        log::info!(order_id = 7, amount_cents = 1234, approved = true; "payment authorized");
    }
    assert_eq!(guard.flush(), 0);

    let lines = out.json();
    let ours: Vec<_> = lines
        .iter()
        .filter(|v| v["msg"] == "payment authorized")
        .collect();
    assert_eq!(ours.len(), 1, "written once: {lines:#?}");
    let line = ours[0];
    assert_eq!(line["amount_cents"], 1234, "typed: {line}");
    assert_eq!(line["approved"], true, "{line}");
    assert_eq!(line["order_id"], 7, "{line}");
    assert_eq!(line["request_id"], "r-1", "the span's field: {line}");
    assert!(
        line["trace_id"].is_string(),
        "the exported span's ids: {line}"
    );

    let exported: Vec<_> = rx
        .records()
        .into_iter()
        .filter(|r| r.body == Val::Str("payment authorized".into()))
        .collect();
    assert_eq!(exported.len(), 1);
    assert_eq!(exported[0].attrs.get("amount_cents"), Some(&Val::Int(1234)));
    assert_eq!(exported[0].attrs.get("approved"), Some(&Val::Bool(true)));

    let theirs = fmt_out.lines();
    assert_eq!(
        theirs
            .iter()
            .filter(|l| l.contains("payment authorized"))
            .count(),
        1,
        "the other layer gets the record once: {theirs:#?}"
    );
}
