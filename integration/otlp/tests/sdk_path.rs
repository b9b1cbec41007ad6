//! The same `tracing` event through the official OpenTelemetry SDK path
//! (opentelemetry-appender-tracing + opentelemetry-otlp, HTTP/protobuf) and
//! through slog-host's exporter, to the same receiver: the decoded records
//! side by side. What must agree is asserted; what differs by design is
//! printed (and listed in `docs::otlp`).

use std::collections::BTreeMap;
use std::time::Duration;

use opentelemetry_otlp::WithExportConfig;
use slog_host::otlp::OtlpConfig;
use slog_host::{Builder, Format, Output};
use slog_host_otlp::{Rec, Receiver, Reply, Val};
use tracing_subscriber::layer::SubscriberExt;

fn emit() {
    let span = tracing::info_span!("request", order_id = 42);
    let _entered = span.enter();
    tracing::warn!(
        target: "app::checkout",
        count = 5,
        ok = true,
        ratio = 0.5,
        name = "widget",
        "payment retried"
    );
}

fn sdk_record() -> Rec {
    let rx = Receiver::start(0, |_| Reply::Status(200));
    let exporter = opentelemetry_otlp::LogExporter::builder()
        .with_http()
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
        .with_endpoint(rx.endpoint())
        .build()
        .expect("the SDK's exporter");
    let provider = opentelemetry_sdk::logs::SdkLoggerProvider::builder()
        .with_resource(
            opentelemetry_sdk::Resource::builder()
                .with_service_name("orders")
                .build(),
        )
        .with_simple_exporter(exporter)
        .build();
    let layer = opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge::new(&provider);
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, emit);
    let _ = provider.force_flush();
    let _ = provider.shutdown();
    assert!(rx.wait_for(Duration::from_secs(10), |r| !r.is_empty()));
    rx.records().remove(0)
}

fn our_record() -> Rec {
    let rx = Receiver::start(0, |_| Reply::Status(200));
    let guard = Builder::new()
        .global(false)
        .service("orders", "1.0.0")
        .output(Output::Writer(Box::new(std::io::sink())))
        .tee(
            Output::Otlp(OtlpConfig::new(&rx.endpoint()).unwrap()),
            Format::Json,
            "info",
        )
        .unwrap()
        .init()
        .unwrap();
    let subscriber = tracing_subscriber::registry().with(guard.tracing_layer());
    tracing::subscriber::with_default(subscriber, emit);
    assert_eq!(guard.flush(), 0);
    rx.records().remove(0)
}

#[test]
fn the_sdk_path_and_ours_agree_on_severity_body_and_typed_attributes() {
    let sdk = sdk_record();
    let ours = our_record();
    println!("SDK path:  {sdk:#?}");
    println!("slog-host: {ours:#?}");
    assert_eq!(sdk.severity_number, 13);
    assert_eq!(ours.severity_number, sdk.severity_number);
    assert_eq!(
        ours.severity_text.to_ascii_uppercase(),
        sdk.severity_text.to_ascii_uppercase()
    );
    assert_eq!(ours.body, sdk.body);
    for key in ["count", "ok", "ratio", "name"] {
        assert_eq!(ours.attrs.get(key), sdk.attrs.get(key), "attribute {key}");
    }
    assert_eq!(ours.attrs["count"], Val::Int(5));
    assert_eq!(ours.resource["service.name"], sdk.resource["service.name"]);
    assert!(ours.time_unix_nano > 0 && ours.observed_time_unix_nano >= ours.time_unix_nano);

    // Both name the scope after the event's target.
    assert_eq!(ours.scope, "app::checkout");
    assert_eq!(ours.scope, sdk.scope);

    // Differences by design (docs::otlp): the span's fields are attributes
    // here only; the resource is the host snapshot here, the SDK's
    // `telemetry.sdk.*` and `service.name` there; the SDK path leaves
    // `time_unix_nano` unset (only the observed time), ours has the call's.
    assert_eq!(
        sdk.time_unix_nano, 0,
        "the SDK path sets no event time (this changed?)"
    );
    assert_eq!(ours.attrs.get("order_id"), Some(&Val::Int(42)));
    println!(
        "resource keys only in ours: {:?}",
        only_in(&ours.resource, &sdk.resource)
    );
    println!(
        "resource keys only in the SDK's: {:?}",
        only_in(&sdk.resource, &ours.resource)
    );
    println!(
        "attributes only in ours: {:?}",
        only_in(&ours.attrs, &sdk.attrs)
    );
    println!(
        "attributes only in the SDK's: {:?}",
        only_in(&sdk.attrs, &ours.attrs)
    );
}

/// The keys of `a` that `b` does not have.
fn only_in(a: &BTreeMap<String, Val>, b: &BTreeMap<String, Val>) -> Vec<String> {
    a.keys().filter(|k| !b.contains_key(*k)).cloned().collect()
}
