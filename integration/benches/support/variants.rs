//! The variants the benches compare; see `hot_path.rs` for what each is.
#![allow(dead_code)]

use std::io;
use std::sync::Mutex;

use slog::{info, o, Drain, FnValue, Logger, OwnedKV};
use slog_host::drain::{Enrich, FloodGuard};
use slog_host::host::{HostCache, HostInfo};
use slog_host::{Builder, FloodConfig, Format, LogGuard, Output};

fn json_sink() -> Mutex<slog_host::format::Json<io::Sink>> {
    Mutex::new(slog_host::format::json(io::sink()))
}

fn lookup_ip() -> String {
    local_ip_address::local_ip()
        .map(|ip| ip.to_string())
        .unwrap_or_default()
}

pub struct Variant {
    pub id: &'static str,
    pub label: &'static str,
    pub record: Box<dyn Fn()>,
}

fn slog_variant(id: &'static str, label: &'static str, log: Logger) -> Variant {
    Variant {
        id,
        label,
        record: Box::new(move || {
            info!(log, "request done"; "status" => 200, "path" => "/orders");
        }),
    }
}

fn tracing_variant(host: &HostInfo) -> Variant {
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_writer(io::sink)
        .with_target(false)
        .finish();
    let dispatch = tracing::Dispatch::new(subscriber);
    let host = host.clone();
    Variant {
        id: "e_tracing_json",
        label: "(e) tracing-subscriber JSON, same fields",
        record: Box::new(move || {
            tracing::dispatcher::with_default(&dispatch, || {
                tracing::info!(
                    status = 200,
                    path = "/orders",
                    host.name = host.host_name(),
                    host.ip = host.ip_str(),
                    process.pid = host.pid(),
                    service.name = host.service_name(),
                    service.version = host.service_version(),
                    k8s.pod.name = host.pod_name(),
                    k8s.namespace.name = host.namespace(),
                    k8s.node.name = host.node_name(),
                    service.instance.id = host.instance_id(),
                    container.id = host.container_id(),
                    "request done"
                );
            })
        }),
    }
}

pub fn init_pipeline() -> LogGuard {
    Builder::new()
        .global(false)
        .format(Format::Json)
        .flood(None) // one call site at full speed: measure the pipeline, not the guard
        .output(Output::Writer(Box::new(io::sink())))
        .init()
        .expect("init pipeline")
}

/// A second `init()` pipeline with two JSON outputs (the second a tee).
pub fn two_outputs_pipeline() -> LogGuard {
    Builder::new()
        .global(false)
        .format(Format::Json)
        .flood(None)
        .output(Output::Writer(Box::new(io::sink())))
        .tee(Output::Writer(Box::new(io::sink())), Format::Json, "info")
        .expect("tee")
        .init()
        .expect("init pipeline")
}

pub fn variants(guard: &LogGuard) -> Vec<Variant> {
    let cache = HostCache::global();
    let host: HostInfo = (**cache.load()).clone();
    vec![
        slog_variant(
            "a_plain",
            "(a) no host fields",
            Logger::root(json_sink().fuse(), o!()),
        ),
        slog_variant(
            "b_static_fields",
            "(b) host fields as static o!()",
            Logger::root(json_sink().fuse(), OwnedKV(host.clone())),
        ),
        slog_variant(
            "c_enrich",
            "(c) Enrich",
            Logger::root(Enrich::with_cache(json_sink(), cache).fuse(), o!()),
        ),
        slog_variant(
            "d_lookup_per_record",
            "(d) local_ip() per record (the bug)",
            Logger::root(
                json_sink().fuse(),
                o!("host.ip" => FnValue(|_| lookup_ip())),
            )
            .new(OwnedKV(host.clone().without_ip())),
        ),
        tracing_variant(&host),
        slog_variant(
            "f_init_pipeline",
            "(f) init() pipeline, caller thread",
            guard.logger().clone(),
        ),
        slog_variant(
            "g_flood_suppressed",
            "(g) a record the flood guard drops",
            Logger::root(
                FloodGuard::new(
                    json_sink(),
                    FloodConfig::uniform(1, std::time::Duration::from_secs(3600)),
                )
                .expect("flood guard")
                .fuse(),
                o!(),
            ),
        ),
        Variant {
            id: "h_disabled",
            label: "(h) a disabled record (debug at info), init() pipeline",
            record: {
                let log = guard.logger().clone();
                Box::new(
                    move || slog::debug!(log, "request done"; "status" => 200, "path" => "/orders"),
                )
            },
        },
    ]
}
