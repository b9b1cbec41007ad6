//! The emitted field names are the OpenTelemetry semantic-convention names,
//! checked against the `opentelemetry-semantic-conventions` crate's
//! constants, and the ECS schema renames what it should.

#[path = "../../tests/support/capture.rs"]
mod capture;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use capture::Buf;

use opentelemetry_semantic_conventions::resource as semconv;
use slog::{info, o, Drain};
use slog_host::drain::Enrich;
use slog_host::host::{keys, HostCache, HostInfo};
use slog_host::Schema;

fn full_snapshot() -> HostInfo {
    HostInfo::new()
        .with_host_name("web-1")
        .with_ip("10.0.0.7".parse().unwrap())
        .with_service("orders", "1.4.2")
        .with_pod_name("orders-7d9")
        .with_namespace("shop")
        .with_node_name("node-3")
        .with_instance_id("0f8fad5b-d9cb-469f-a165-70867728950e")
        .with_container_id("a".repeat(64))
}

/// The fields of one enriched JSON record, without the record keys.
fn emitted(info: HostInfo, schema: Schema) -> serde_json::Map<String, serde_json::Value> {
    let buf = Buf::default();
    let cache = Arc::new(HostCache::starting_with(info.with_schema(schema), || {
        Err(slog_host::Error::probe("fixed"))
    }));
    let json = slog_host::format::json_with_schema(buf.clone(), schema);
    let log = slog::Logger::root(Enrich::with_cache(Mutex::new(json), cache).fuse(), o!());
    info!(log, "hello");
    serde_json::from_str(buf.text().trim_end()).unwrap()
}

#[test]
fn field_names_are_the_semantic_convention_constants() {
    let pairs = [
        (keys::HOST_NAME, semconv::HOST_NAME),
        (keys::HOST_IP, semconv::HOST_IP),
        (keys::PROCESS_PID, semconv::PROCESS_PID),
        (keys::SERVICE_NAME, semconv::SERVICE_NAME),
        (keys::SERVICE_VERSION, semconv::SERVICE_VERSION),
        (keys::SERVICE_INSTANCE_ID, semconv::SERVICE_INSTANCE_ID),
        (keys::K8S_POD_NAME, semconv::K8S_POD_NAME),
        (keys::K8S_NAMESPACE_NAME, semconv::K8S_NAMESPACE_NAME),
        (keys::K8S_NODE_NAME, semconv::K8S_NODE_NAME),
        (keys::CONTAINER_ID, semconv::CONTAINER_ID),
    ];
    for (ours, theirs) in pairs {
        assert_eq!(ours, theirs);
    }
}

#[test]
fn an_enriched_record_carries_exactly_the_semantic_convention_names() {
    let fields = emitted(full_snapshot(), Schema::Otel);
    let names: BTreeSet<&str> = fields
        .keys()
        .map(String::as_str)
        .filter(|k| !Schema::Otel.is_record_key(k))
        .collect();
    let expected: BTreeSet<&str> = [
        semconv::HOST_NAME,
        semconv::HOST_IP,
        semconv::PROCESS_PID,
        semconv::SERVICE_NAME,
        semconv::SERVICE_VERSION,
        semconv::SERVICE_INSTANCE_ID,
        semconv::K8S_POD_NAME,
        semconv::K8S_NAMESPACE_NAME,
        semconv::K8S_NODE_NAME,
        semconv::CONTAINER_ID,
    ]
    .into_iter()
    .collect();
    assert_eq!(names, expected);
    let all: BTreeSet<&str> = keys::ALL.into_iter().collect();
    assert_eq!(all, expected, "keys::ALL is the standard set");
    assert_eq!(
        fields[semconv::PROCESS_PID],
        std::process::id(),
        "a number, as in OTel"
    );
    assert_eq!(fields[semconv::HOST_NAME], "web-1");
}

#[test]
fn ecs_renames_fields_and_record_keys() {
    let fields = emitted(full_snapshot(), Schema::Ecs);
    let expected = [
        ("host.hostname", "web-1"),
        ("host.ip", "10.0.0.7"),
        ("service.name", "orders"),
        ("service.version", "1.4.2"),
        ("service.node.name", "0f8fad5b-d9cb-469f-a165-70867728950e"),
        ("orchestrator.resource.name", "orders-7d9"),
        ("orchestrator.namespace", "shop"),
        ("kubernetes.node.name", "node-3"),
        ("message", "hello"),
        ("log.level", "info"),
        ("ecs.version", slog_host::format::ECS_VERSION),
    ];
    for (k, v) in expected {
        assert_eq!(fields[k], v, "{k}");
    }
    assert_eq!(fields["container.id"], "a".repeat(64));
    assert_eq!(fields["process.pid"], std::process::id());
    assert!(fields["@timestamp"].as_str().unwrap().ends_with('Z'));
    for otel_only in ["host.name", "k8s.pod.name", "ts", "msg", "level"] {
        assert!(
            fields.get(otel_only).is_none(),
            "{otel_only} must not appear in ECS"
        );
    }
}

#[test]
fn schema_names_parse_with_clear_errors() {
    assert_eq!(
        Schema::parse_setting("LOG_SCHEMA", "ECS").unwrap(),
        Schema::Ecs
    );
    assert_eq!(
        Schema::parse_setting("LOG_SCHEMA", "otel").unwrap(),
        Schema::Otel
    );
    let e = Schema::parse_setting("LOG_SCHEMA", "gelf").unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"invalid LOG_SCHEMA="gelf": expected otel or ecs"#
    );
}
