//! `tracing` events through `init()`: typed fields, span fields, origin,
//! one filter for slog, `log` and `tracing`, the flood guard per call site,
//! no records for spans, no allocation for a disabled event, and a clear
//! error when another subscriber is already set. Each scenario runs in a
//! child copy of this binary (global state); the parent checks its output.
//!
//! This file has `harness = false`; it prints `N passed, N failed` at the end.

mod support;

use support::{alloc, flood_site_a, flood_site_b, runner};

use std::process::Output;

use runner::run_json as run;
use serde_json::Value;

#[global_allocator]
static COUNTING: alloc::CountingAlloc = alloc::CountingAlloc;

mod my_mod {
    pub fn log_all_three() {
        let log = slog_scope::logger();
        slog::debug!(log, "slog debug in my_mod");
        log::debug!("log debug in my_mod");
        tracing::debug!("tracing debug in my_mod");
    }
}

mod other {
    pub fn log_all_three() {
        let log = slog_scope::logger();
        slog::debug!(log, "slog debug elsewhere");
        log::debug!("log debug elsewhere");
        tracing::debug!("tracing debug elsewhere");
        slog::info!(log, "slog info elsewhere");
        log::info!("log info elsewhere");
        tracing::info!("tracing info elsewhere");
    }
}

fn child(name: &str) {
    match name {
        "nested" => {
            let guard = slog_host::init().unwrap();
            {
                let outer = tracing::info_span!(
                    "request",
                    method = "GET",
                    uri = "/orders/1",
                    shared = "outer"
                );
                let _o = outer.enter();
                let inner = tracing::info_span!("db", table = "orders", shared = "inner");
                let _i = inner.enter();
                tracing::info!(order_id = 1, ok = true, ratio = 0.5, "order served");
            }
            tracing::warn!(target: "audit", user = "ann", "outside any span");
            drop(guard);
        }
        "filter" => {
            let guard = slog_host::init().unwrap();
            my_mod::log_all_three();
            other::log_all_three();
            drop(guard);
        }
        "spans" => {
            let guard = slog_host::init().unwrap();
            for i in 0..10 {
                let span = tracing::info_span!("request", i = i);
                let _e = span.enter();
                let inner = tracing::trace_span!("inner");
                inner.in_scope(|| ());
            }
            tracing::info!("the only record");
            drop(guard);
        }
        "disabled_alloc" => {
            let guard = slog_host::init().unwrap();
            let value = String::from("dynamic");
            let run = |n: u64| {
                for i in 0..n {
                    tracing::debug!(i = i, v = %value, "disabled at info");
                }
            };
            run(1000);
            let (disabled, ()) = alloc::count_allocations(|| run(10_000));
            let enabled_run = |n: u64| {
                for i in 0..n {
                    tracing::info!(i = i, v = %value, "enabled");
                }
            };
            enabled_run(20_000);
            guard.flush();
            let (enabled, ()) = alloc::count_allocations(|| enabled_run(1_000));
            // Negative control: an enabled event whose field formats a new
            // String per event; the counter sees it.
            let (control, ()) = alloc::count_allocations(|| {
                for i in 0..1_000 {
                    tracing::info!(v = %format!("{i}"), "control");
                }
            });
            eprintln!("ALLOCS disabled={disabled} enabled={enabled} control={control}");
            drop(guard);
        }
        "flood_sites" => {
            let guard = slog_host::init().unwrap();
            for _ in 0..10 {
                flood_site_a::fail();
                flood_site_b::fail();
            }
            drop(guard);
        }
        "source" => match slog_host::init() {
            Ok(guard) => {
                slog::info!(guard.logger(), "from slog");
                log::info!("from log");
                tracing::info!("from tracing");
                drop(guard);
            }
            Err(e) => eprintln!("INIT: {e}"),
        },
        "conflict" => {
            let other = tracing::subscriber::NoSubscriber::default();
            tracing::subscriber::set_global_default(other).unwrap();
            match slog_host::init() {
                Ok(_) => eprintln!("INIT: ok"),
                Err(e) => eprintln!("INIT: {e}"),
            }
            let guard = slog_host::Builder::from_env()
                .unwrap()
                .tracing(false)
                .init()
                .unwrap();
            slog::info!(guard.logger(), "slog still works");
            drop(guard);
        }
        "span_context" => {
            let guard = slog_host::init().unwrap();
            slog::info!(guard.logger(), "slog before any span");
            {
                let outer = tracing::info_span!("request", method = "GET", shared = "outer");
                let _o = outer.enter();
                let inner = tracing::info_span!("handler", order_id = 7, shared = "inner");
                let _i = inner.enter();
                slog::info!(guard.logger(), "slog in spans"; "own" => 1, "order_id" => 8);
                slog::info!(slog_scope::logger(), "slog-scope in spans");
                log::info!(attempt = 3, paid = true, who = "ann"; "log in spans");
                tracing::info!("tracing in spans");
                // A span field named like a record key is never the key.
                let spoof = tracing::info_span!("spoof", level = "FAKE", msg = "forged");
                let _s = spoof.enter();
                slog::info!(guard.logger(), "slog under a spoofing span");
            }
            slog::info!(guard.logger(), "slog after the spans");
            log::info!("log after the spans");
            drop(guard);
        }
        "span_moved" => {
            // Entered on this thread, exited (and closed) on another: the
            // registry says no span is current here; records agree.
            let guard = slog_host::init().unwrap();
            let span = tracing::info_span!("moved", request_id = "r-42");
            let id = span.id().unwrap();
            tracing::dispatcher::get_default(|d| d.enter(&id));
            slog::info!(guard.logger(), "slog while entered");
            std::thread::spawn(move || {
                tracing::dispatcher::get_default(|d| d.exit(&id));
                drop(span);
            })
            .join()
            .unwrap();
            eprintln!("CURRENT {:?}", tracing::Span::current().id());
            slog::info!(guard.logger(), "slog after the exit");
            log::info!("log after the exit");
            tracing::info!("tracing after the exit");
            // Entered again on this thread: its fields again.
            let again = tracing::info_span!("again", request_id = "r-43");
            let _e = again.enter();
            slog::info!(guard.logger(), "slog in a new span");
            drop(_e);
            drop(guard);
        }
        "composed_alloc" => {
            use tracing_subscriber::layer::SubscriberExt;
            use tracing_subscriber::Layer;
            let guard = slog_host::Builder::from_env()
                .unwrap()
                .tracing(false)
                .init()
                .unwrap();
            let warn_count = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
            let second = Counting(std::sync::Arc::clone(&warn_count))
                .with_filter(tracing_subscriber::filter::LevelFilter::WARN);
            let subscriber = tracing_subscriber::registry()
                .with(guard.tracing_layer())
                .with(second);
            tracing::subscriber::set_global_default(subscriber).unwrap();
            let value = String::from("dynamic");
            let disabled = |n: u64| {
                for i in 0..n {
                    tracing::debug!(i = i, v = %value, "disabled for both layers");
                }
            };
            let enabled = |n: u64| {
                for i in 0..n {
                    tracing::info!(i = i, v = %value, "ours, not the second layer's");
                }
            };
            disabled(1000);
            enabled(20_000);
            guard.flush();
            let (d, ()) = alloc::count_allocations(|| disabled(10_000));
            let (e, ()) = alloc::count_allocations(|| enabled(1_000));
            let (control, ()) = alloc::count_allocations(|| {
                for i in 0..1_000 {
                    tracing::info!(v = %format!("{i}"), "control");
                }
            });
            tracing::warn!("both layers");
            let warns = warn_count.load(std::sync::atomic::Ordering::SeqCst);
            eprintln!("ALLOCS disabled={d} enabled={e} control={control} second_layer={warns}");
            drop(guard);
        }
        "log_taken" => {
            struct Other;
            impl log::Log for Other {
                fn enabled(&self, _: &log::Metadata<'_>) -> bool {
                    false
                }
                fn log(&self, _: &log::Record<'_>) {}
                fn flush(&self) {}
            }
            log::set_logger(&Other).unwrap();
            for _ in 0..2 {
                match slog_host::init() {
                    Ok(_) => eprintln!("INIT: ok"),
                    Err(e) => eprintln!("INIT: {e}"),
                }
            }
            // Nothing was installed: a subscriber can still be set.
            let set = tracing::subscriber::set_global_default(
                tracing::subscriber::NoSubscriber::default(),
            );
            eprintln!("TRACING FREE: {}", set.is_ok());
        }
        "no_log_logger" => {
            use tracing_subscriber::layer::SubscriberExt;
            let guard = slog_host::Builder::from_env()
                .unwrap()
                .tracing(false)
                .init()
                .unwrap();
            let subscriber = tracing_subscriber::registry().with(guard.tracing_layer());
            tracing::subscriber::set_global_default(subscriber).unwrap();
            tracing::info!("first");
            tracing::info!("second");
            log::info!("lost: no log logger");
            drop(guard);
        }
        "spoof_absent_host_keys" => {
            let guard = slog_host::init().unwrap();
            let log = guard.logger();
            slog::info!(log, "control");
            let all = Spoof("spoofed by slog");
            log.log(&slog::record!(
                slog::Level::Info,
                "",
                &format_args!("slog record"),
                slog::b!(all)
            ));
            let child = log.new(slog::OwnedKV(Spoof("spoofed by a logger")));
            slog::info!(child, "slog logger");
            let kvs: Vec<(&str, &str)> = HOST_KEYS_OF_BOTH
                .iter()
                .map(|k| (*k, "spoofed by log"))
                .collect();
            log::logger().log(
                &log::Record::builder()
                    .level(log::Level::Info)
                    .target("tracing_events")
                    .args(format_args!("log record"))
                    .key_values(&kvs)
                    .build(),
            );
            spoof!(event, "spoofed by tracing", "tracing event");
            {
                let span = spoof!(span, "spoofed by a span", "spoof");
                let _e = span.enter();
                tracing::info!("in a spoofing span");
            }
            drop(guard);
        }
        "spoof_log_fields" => {
            let guard = slog_host::init().unwrap();
            tracing::info!(
                log.target = "spoofed",
                log.file = "evil.rs",
                log.line = 1u64,
                "ordinary event"
            );
            drop(guard);
        }
        other => panic!("unknown scenario {other}"),
    }
}

/// The host keys of both schemas (otel, then the ECS names otel lacks):
/// each schema reserves its own, detected or not; the other's are ordinary
/// names.
const HOST_KEYS_OF_BOTH: [&str; 16] = [
    "host.name",
    "host.ip",
    "process.pid",
    "service.name",
    "service.version",
    "k8s.pod.name",
    "k8s.namespace.name",
    "k8s.node.name",
    "service.instance.id",
    "container.id",
    "host.hostname",
    "orchestrator.resource.name",
    "orchestrator.namespace",
    "kubernetes.node.name",
    "service.node.name",
    "event.dataset",
];

/// Every name of [`HOST_KEYS_OF_BOTH`] as a field with the value `.0`.
struct Spoof(&'static str);

impl slog::KV for Spoof {
    fn serialize(&self, _: &slog::Record<'_>, s: &mut dyn slog::Serializer) -> slog::Result {
        HOST_KEYS_OF_BOTH
            .iter()
            .try_for_each(|k| s.emit_str(k, self.0))
    }
}

/// An INFO event (`event`) or span (`span`) with every name of
/// [`HOST_KEYS_OF_BOTH`] as a field holding `$v`; `$text` is the event's
/// message or the span's name.
macro_rules! spoof {
    (event, $v:expr, $text:expr) => {
        tracing::info!(
            host.name = $v,
            host.ip = $v,
            process.pid = $v,
            service.name = $v,
            service.version = $v,
            k8s.pod.name = $v,
            k8s.namespace.name = $v,
            k8s.node.name = $v,
            service.instance.id = $v,
            container.id = $v,
            host.hostname = $v,
            orchestrator.resource.name = $v,
            orchestrator.namespace = $v,
            kubernetes.node.name = $v,
            service.node.name = $v,
            event.dataset = $v,
            $text
        )
    };
    (span, $v:expr, $text:expr) => {
        tracing::info_span!(
            $text,
            host.name = $v,
            host.ip = $v,
            process.pid = $v,
            service.name = $v,
            service.version = $v,
            k8s.pod.name = $v,
            k8s.namespace.name = $v,
            k8s.node.name = $v,
            service.instance.id = $v,
            container.id = $v,
            host.hostname = $v,
            orchestrator.resource.name = $v,
            orchestrator.namespace = $v,
            kubernetes.node.name = $v,
            service.node.name = $v,
            event.dataset = $v
        )
    };
}
use spoof;

/// A second layer beside ours: counts the events its own filter lets in.
struct Counting(std::sync::Arc<std::sync::atomic::AtomicU64>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Counting {
    fn on_event(&self, _: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

fn lines(out: &Output) -> Vec<Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// The top-level keys of a JSON line, in order, duplicates kept.
fn keys(line: &str) -> Vec<String> {
    let v: Value = serde_json::from_str(line).unwrap();
    assert!(v.is_object());
    // Walk the text: a top-level key is a string at depth 1 followed by ':'.
    let (mut depth, mut keys, mut i) = (0, Vec::new(), 0);
    let b = line.as_bytes();
    while i < b.len() {
        match b[i] {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth -= 1,
            b'"' => {
                let start = i + 1;
                i += 1;
                while b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                if depth == 1 && b.get(i + 1) == Some(&b':') {
                    let raw = &line[start - 1..=i];
                    keys.push(serde_json::from_str::<String>(raw).unwrap());
                }
            }
            _ => {}
        }
        i += 1;
    }
    keys
}

fn event_in_nested_spans_is_one_line_with_typed_and_span_fields() {
    let out = run("nested", &[]);
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    let all = lines(&out);
    assert_eq!(all.len(), 2, "{text}");
    let line = text.lines().next().unwrap();
    let v = &all[0];
    assert_eq!(v["msg"], "order served");
    assert_eq!(v["level"], "INFO");
    assert_eq!(v["target"], "tracing_events");
    assert_eq!(v["order_id"], 1, "typed, not text");
    assert_eq!(v["ok"], true);
    assert_eq!(v["ratio"], 0.5);
    assert_eq!(v["method"], "GET");
    assert_eq!(v["uri"], "/orders/1");
    assert_eq!(v["table"], "orders");
    assert_eq!(v["shared"], "inner", "the innermost value wins");
    assert!(v["host.name"].is_string() && v["process.pid"].is_u64());
    let k = keys(line);
    let mut unique = k.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), k.len(), "no duplicate key: {k:?}");
    let pos = |name: &str| k.iter().position(|x| x == name).unwrap();
    assert_eq!(&k[..4], ["ts", "level", "msg", "target"]);
    assert!(
        pos("order_id") < pos("method"),
        "event fields, then spans: {k:?}"
    );
    assert!(pos("method") < pos("table"), "outermost span first: {k:?}");
    // An explicit target.
    assert_eq!(all[1]["target"], "audit");
    assert_eq!(all[1]["level"], "WARN");
    assert_eq!(all[1]["user"], "ann");
}

fn one_filter_for_slog_log_and_tracing() {
    let out = run(
        "filter",
        &[("RUST_LOG", "info,tracing_events::my_mod=debug")],
    );
    let msgs: Vec<String> = lines(&out)
        .iter()
        .map(|v| v["msg"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        msgs,
        [
            "slog debug in my_mod",
            "log debug in my_mod",
            "tracing debug in my_mod",
            "slog info elsewhere",
            "log info elsewhere",
            "tracing info elsewhere",
        ]
    );
    for v in lines(&out) {
        let target = v["target"].as_str().unwrap();
        assert!(target.starts_with("tracing_events"), "{v}");
    }
}

fn spans_are_never_records() {
    let out = run("spans", &[("RUST_LOG", "trace")]);
    let all = lines(&out);
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0]["msg"], "the only record");
}

fn slog_and_log_records_carry_the_entered_spans_fields() {
    let out = run("span_context", &[]);
    let all = lines(&out);
    let by_msg = |m: &str| {
        all.iter()
            .find(|v| v["msg"] == m)
            .unwrap_or_else(|| panic!("no {m:?} in {all:?}"))
    };
    for m in [
        "slog in spans",
        "slog-scope in spans",
        "log in spans",
        "tracing in spans",
    ] {
        let v = by_msg(m);
        assert_eq!(v["method"], "GET", "{m}: {v}");
        assert_eq!(v["shared"], "inner", "{m}: the innermost span wins: {v}");
    }
    // The record's own field wins over a span's.
    assert_eq!(by_msg("slog in spans")["order_id"], 8);
    assert_eq!(by_msg("slog in spans")["own"], 1);
    assert_eq!(by_msg("slog-scope in spans")["order_id"], 7);
    // `log`'s key-values are typed fields.
    let log = by_msg("log in spans");
    assert_eq!(log["attempt"], 3, "{log}");
    assert_eq!(log["paid"], true, "{log}");
    assert_eq!(log["who"], "ann", "{log}");
    assert_eq!(log["order_id"], 7, "{log}");
    // Span fields never take a record key.
    let spoofed = by_msg("slog under a spoofing span");
    assert_eq!(spoofed["level"], "INFO", "{spoofed}");
    assert_eq!(spoofed["fields.level"], "FAKE", "{spoofed}");
    assert_eq!(spoofed["fields.msg"], "forged", "{spoofed}");
    // Written once: no key twice on any line.
    for line in String::from_utf8(out.stdout.clone()).unwrap().lines() {
        let k = keys(line);
        let mut unique = k.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), k.len(), "no duplicate key: {k:?}");
        let v: Value = serde_json::from_str(line).unwrap();
        let pos = |name: &str| k.iter().position(|x| x == name);
        if let (Some(m), Some(s)) = (pos("method"), pos("shared")) {
            assert!(m < s, "outermost span first: {k:?} ({v})");
        }
    }
    for m in [
        "slog before any span",
        "slog after the spans",
        "log after the spans",
    ] {
        let v = by_msg(m);
        assert!(
            v.get("method").is_none() && v.get("shared").is_none(),
            "{v}"
        );
    }
}

fn a_span_exited_on_another_thread_is_off_this_threads_records() {
    let out = run("span_moved", &[]);
    let all = lines(&out);
    let by_msg = |m: &str| {
        all.iter()
            .find(|v| v["msg"] == m)
            .unwrap_or_else(|| panic!("no {m:?} in {all:?}"))
    };
    // The control: while entered, the record carries the span's field.
    assert_eq!(by_msg("slog while entered")["request_id"], "r-42");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("CURRENT None"), "the registry's view: {err}");
    for m in [
        "slog after the exit",
        "log after the exit",
        "tracing after the exit",
    ] {
        let v = by_msg(m);
        assert!(v.get("request_id").is_none(), "{m}: {v}");
    }
    assert_eq!(by_msg("slog in a new span")["request_id"], "r-43");
}

/// The number after `key=` in a line of `key=n` pairs.
fn count(counts: &str, key: &str) -> u64 {
    counts
        .split(' ')
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
        .unwrap()
        .parse()
        .unwrap()
}

fn public_layer_beside_a_second_layer_allocates_nothing() {
    let out = run(
        "composed_alloc",
        &[("RUST_LOG", "info"), ("LOG_FLOOD", "off")],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    let counts = err.lines().find_map(|l| l.strip_prefix("ALLOCS ")).unwrap();
    let get = |k: &str| count(counts, k);
    println!("tracing events, public layer + a second layer: allocations {counts}");
    assert_eq!(get("disabled"), 0);
    assert_eq!(get("enabled"), 0);
    assert!(get("control") >= 1000, "the counter sees allocations");
    assert_eq!(
        get("second_layer"),
        1,
        "the second layer keeps its own filter"
    );
    let written = lines(&out);
    assert_eq!(
        written
            .iter()
            .filter(|v| v["msg"] == "ours, not the second layer's")
            .count(),
        21_000
    );
    assert!(written
        .iter()
        .all(|v| v["msg"] != "disabled for both layers"));
}

fn a_failed_init_installs_nothing() {
    let out = run("log_taken", &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    let inits: Vec<&str> = err
        .lines()
        .filter_map(|l| l.strip_prefix("INIT: "))
        .collect();
    assert_eq!(inits.len(), 2, "{err}");
    for i in inits {
        assert!(i.contains("`log` crate already has a logger"), "{i}");
    }
    assert!(err.contains("TRACING FREE: true"), "{err}");
}

fn tracing_false_without_a_log_logger_says_so_once() {
    let out = run("no_log_logger", &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.matches("no `log` logger is set").count(), 1, "{err}");
    let msgs: Vec<Value> = lines(&out);
    assert_eq!(msgs.len(), 2, "{msgs:?}");
}

/// Issue 19: on a host outside Kubernetes (the child has no `POD_*`,
/// `NODE_NAME`; no service version either), a record, a logger, a `log`
/// record, a `tracing` event and a span spoof every host key of both
/// schemas. Each host key of the line's schema, detected or not, is written
/// as `fields.<name>` with the spoofed value and the line's own `<name>` is
/// the detected value or absent; the other schema's names are ordinary
/// fields; no key twice.
fn absent_host_keys_cannot_be_spoofed_from_any_source() {
    let sources = [
        ("slog record", "spoofed by slog"),
        ("slog logger", "spoofed by a logger"),
        ("log record", "spoofed by log"),
        ("tracing event", "spoofed by tracing"),
        ("in a spoofing span", "spoofed by a span"),
    ];
    for (schema, own) in [
        ("otel", &HOST_KEYS_OF_BOTH[..10]),
        (
            "ecs",
            &[
                "host.hostname",
                "host.ip",
                "process.pid",
                "service.name",
                "service.version",
                "orchestrator.resource.name",
                "orchestrator.namespace",
                "kubernetes.node.name",
                "service.node.name",
                "container.id",
                "event.dataset",
            ][..],
        ),
    ] {
        let out = run("spoof_absent_host_keys", &[("LOG_SCHEMA", schema)]);
        let text = String::from_utf8(out.stdout.clone()).unwrap();
        let msg = if schema == "otel" { "msg" } else { "message" };
        let all = lines(&out);
        assert_eq!(all.len(), 1 + sources.len(), "{schema}: {text}");
        let control = &all[0];
        assert_eq!(control[msg], "control");
        // The case this is about: host keys this host does not have.
        let absent: Vec<&str> = own
            .iter()
            .copied()
            .filter(|k| control.get(*k).is_none())
            .collect();
        for k in [
            "k8s.pod.name",
            "orchestrator.resource.name",
            "service.version",
        ] {
            assert_eq!(
                own.contains(&k),
                absent.contains(&k),
                "{schema}: {k} is detected here: {control}"
            );
        }
        for (line, (m, value)) in text.lines().skip(1).zip(sources) {
            let k = keys(line);
            let mut unique = k.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), k.len(), "{schema} {m}: a key twice: {k:?}");
            let v: Value = serde_json::from_str(line).unwrap();
            assert_eq!(v[msg], m, "{schema}: {v}");
            for name in HOST_KEYS_OF_BOTH {
                let renamed = format!("fields.{name}");
                if own.contains(&name) {
                    assert_eq!(v[&renamed], value, "{schema} {m}: {renamed}: {v}");
                    assert_eq!(v.get(name), control.get(name), "{schema} {m}: {name}: {v}");
                } else {
                    assert_eq!(v[name], value, "{schema} {m}: {name} is no host key: {v}");
                    assert!(v.get(&renamed).is_none(), "{schema} {m}: {v}");
                }
            }
        }
    }
}

fn log_fields_on_an_ordinary_event_are_fields() {
    let out = run("spoof_log_fields", &[]);
    let all = lines(&out);
    assert_eq!(all.len(), 1);
    let v = &all[0];
    assert_eq!(v["target"], "tracing_events", "{v}");
    assert_eq!(v["log.target"], "spoofed", "{v}");
    assert_eq!(v["log.file"], "evil.rs", "{v}");
    assert_eq!(v["log.line"], 1, "{v}");
}

fn disabled_events_allocate_nothing() {
    let out = run("disabled_alloc", &[("RUST_LOG", "info")]);
    let err = String::from_utf8_lossy(&out.stderr);
    let counts = err.lines().find_map(|l| l.strip_prefix("ALLOCS ")).unwrap();
    let get = |k: &str| count(counts, k);
    println!(
        "tracing events: allocations {counts} (10,000 disabled, 1,000 enabled, 1,000 control)"
    );
    assert_eq!(get("disabled"), 0);
    assert_eq!(
        get("enabled"),
        0,
        "an enabled event reuses the event pool too"
    );
    assert!(get("control") >= 1000);
}

fn same_line_in_two_files_has_two_flood_budgets() {
    let out = run("flood_sites", &[("LOG_FLOOD", "3/1h")]);
    let all = lines(&out);
    for site in ["a", "b"] {
        let written = all
            .iter()
            .filter(|v| v["msg"] == "accept failed" && v["site"] == site)
            .count();
        assert_eq!(written, 3, "site {site}: its own budget");
    }
    let summaries: Vec<&Value> = all
        .iter()
        .filter(|v| v["flood.suppressed"].is_u64())
        .collect();
    assert_eq!(summaries.len(), 2, "{summaries:?}");
    for s in &summaries {
        assert_eq!(s["flood.suppressed"], 7);
    }
    let sites: Vec<&str> = summaries
        .iter()
        .map(|s| s["flood.site"].as_str().unwrap())
        .collect();
    assert!(
        sites.iter().any(|s| s.ends_with("flood_site_a.rs:5")),
        "{sites:?}"
    );
    assert!(
        sites.iter().any(|s| s.ends_with("flood_site_b.rs:5")),
        "{sites:?}"
    );
}

fn log_source_adds_file_and_line_to_every_record() {
    let out = run("source", &[("LOG_SOURCE", "1")]);
    let all = lines(&out);
    assert_eq!(all.len(), 3);
    for v in &all {
        assert_eq!(v["code.file.path"], "tests/tracing_events.rs", "{v}");
        assert!(v["code.line.number"].as_u64().unwrap() > 0, "{v}");
    }
    let out = run("source", &[("LOG_SOURCE", "1"), ("LOG_SCHEMA", "ecs")]);
    for v in lines(&out) {
        assert_eq!(v["log.origin.file.name"], "tests/tracing_events.rs", "{v}");
        assert!(v["log.origin.file.line"].is_u64(), "{v}");
    }
    let out = run("source", &[]);
    assert!(lines(&out)
        .iter()
        .all(|v| v.get("code.file.path").is_none()));
    let out = run("source", &[("LOG_SOURCE", "maybe")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(r#"INIT: invalid LOG_SOURCE="maybe""#), "{err}");
}

fn another_global_subscriber_is_a_clear_error() {
    let out = run("conflict", &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    let init = err.lines().find_map(|l| l.strip_prefix("INIT: ")).unwrap();
    assert!(
        init.contains("tracing subscriber is already set") && init.contains("tracing(false)"),
        "{init}"
    );
    let msgs: Vec<Value> = lines(&out);
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0]["msg"], "slog still works");
}

crate::suite_main!(
    child,
    tests: [
        event_in_nested_spans_is_one_line_with_typed_and_span_fields,
        one_filter_for_slog_log_and_tracing,
        spans_are_never_records,
        disabled_events_allocate_nothing,
        slog_and_log_records_carry_the_entered_spans_fields,
        a_span_exited_on_another_thread_is_off_this_threads_records,
        public_layer_beside_a_second_layer_allocates_nothing,
        a_failed_init_installs_nothing,
        tracing_false_without_a_log_logger_says_so_once,
        log_fields_on_an_ordinary_event_are_fields,
        absent_host_keys_cannot_be_spoofed_from_any_source,
        same_line_in_two_files_has_two_flood_budgets,
        log_source_adds_file_and_line_to_every_record,
        another_global_subscriber_is_a_clear_error,
    ]
);
