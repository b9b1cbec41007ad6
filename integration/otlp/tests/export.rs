//! OTLP export against a real HTTP receiver on localhost that decodes with
//! opentelemetry-proto: every record once, with its resource, severity,
//! typed attributes, trace ids and scope; `http/json` and gzip; the
//! environment variables; and the faults (a collector that starts late,
//! asks to retry, hangs, or is gone for good). One process: one global
//! `init` (slog, `log` and `tracing` records), the rest with
//! `Builder::global(false)`; environment scenarios in child processes.

#[path = "../../../tests/support/runner.rs"]
mod runner;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use slog::{info, o, warn};
use slog_host::otlp::{OtlpConfig, Protocol, EXPORT_DROPPED_MESSAGE};
use slog_host::{Builder, Format, Output};
use slog_host_otlp::{seqs, Lines, Rec, Receiver, Reply, Val};

fn ok(_: usize) -> Reply {
    Reply::Status(200)
}

/// A builder with JSON lines into `lines` and OTLP export to `config`.
fn builder(lines: &Lines, config: OtlpConfig) -> Builder {
    Builder::new()
        .global(false)
        .flood(None)
        .service("orders", "1.2.3")
        .output(Output::Writer(Box::new(lines.clone())))
        .format(Format::Json)
        .tee(Output::Otlp(config), Format::Json, "debug")
        .unwrap()
}

fn fast(config: OtlpConfig) -> OtlpConfig {
    config.batch(
        Duration::from_millis(50),
        2048,
        512,
        Duration::from_secs(10),
    )
}

/// Exports only when flushed (a schedule delay of a minute): the records a
/// test logs before its flush go in one request, however the machine
/// schedules the writer, so request counts are exact.
fn one_batch(config: OtlpConfig) -> OtlpConfig {
    config.batch(Duration::from_secs(60), 2048, 512, Duration::from_secs(10))
}

/// JSON lines into a buffer and OTLP export to `rx`, its settings shaped
/// by `shape` ([`fast`] or [`one_batch`]).
fn exporting(rx: &Receiver, shape: fn(OtlpConfig) -> OtlpConfig) -> (Lines, slog_host::LogGuard) {
    let lines = Lines::default();
    let guard = builder(&lines, shape(OtlpConfig::new(&rx.endpoint()).unwrap()))
        .init()
        .unwrap();
    (lines, guard)
}

/// Asserts that `rx` got `n` requests, each at least `min` after the one
/// before.
fn assert_spaced(rx: &Receiver, n: usize, min: Duration, what: &str) {
    let requests = rx.requests();
    assert_eq!(requests.len(), n, "{what}");
    for w in requests.windows(2) {
        let gap = w[1].at - w[0].at;
        assert!(
            gap >= min,
            "{what}: a try came {gap:?} after the one before"
        );
    }
}

/// A port nothing listens on (bound, then given back).
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn each_once(mut got: Vec<i64>, n: i64, what: &str) {
    got.sort_unstable();
    let before = got.len();
    got.dedup();
    assert_eq!(before, got.len(), "{what}: a record arrived twice");
    let missing: Vec<i64> = (0..n).filter(|i| got.binary_search(i).is_err()).collect();
    assert!(
        missing.is_empty() && got.len() == n as usize,
        "{what}: {} of {n} arrived; missing (first 10): {:?}",
        got.len(),
        &missing[..missing.len().min(10)]
    );
}

const N: i64 = 10_000;

/// slog, `log` and `tracing` records through the global pipeline, 10,000
/// each: every one once, with the resource, severity, typed attributes,
/// trace ids and scope right. Then, at `trace`, the exporter's own
/// dependencies log (the line output shows it: the control) and none of it
/// is exported.
fn records_from_slog_log_and_tracing_arrive_once() {
    let rx = Receiver::start(0, ok);
    let lines = Lines::default();
    let guard = Builder::new()
        .flood(None)
        .service("orders", "1.2.3")
        .field("deployment.environment", "test")
        .output(Output::Writer(Box::new(lines.clone())))
        .format(Format::Json)
        .filter("info")
        .unwrap()
        .source_location(true)
        .tee(
            // A queue for the whole burst: this test is about what arrives
            // (the bound is the down-for-good test's).
            Output::Otlp(OtlpConfig::new(&rx.endpoint()).unwrap().batch(
                Duration::from_millis(50),
                65_536,
                512,
                Duration::from_secs(10),
            )),
            Format::Json,
            "info",
        )
        .unwrap()
        .init()
        .unwrap();
    let log = guard.logger().new(o!("component" => "checkout"));
    // A remote OpenTelemetry span context: its ids on every record.
    use opentelemetry::trace::{
        SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState,
    };
    let trace_id = TraceId::from_hex("0af7651916cd43dd8448eb211c80319c").unwrap();
    let span_id = SpanId::from_hex("b7ad6b7169203331").unwrap();
    let cx = opentelemetry::Context::new().with_remote_span_context(SpanContext::new(
        trace_id,
        span_id,
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    ));
    {
        let _attached = cx.attach();
        for i in 0..N {
            info!(log, "slog record"; "src" => "slog", "seq" => i, "ok" => true, "ratio" => 0.5, "big" => u64::MAX);
            log::warn!(target: "app::log", src = "log", seq = i; "log record");
            tracing::error!(target: "app::tracing", src = "tracing", seq = i, "tracing record");
        }
    }
    assert_eq!(guard.flush(), 0, "flush exports what was queued");
    let records = rx.records();
    each_once(seqs(&records, "slog"), N, "slog");
    each_once(seqs(&records, "log"), N, "log");
    each_once(seqs(&records, "tracing"), N, "tracing");
    assert_eq!(guard.exported(), 3 * N as u64);
    assert_eq!(guard.export_dropped(), 0);

    let first = |src: &str| {
        records
            .iter()
            .find(|r| r.attrs.get("src") == Some(&Val::Str(src.to_owned())))
            .unwrap()
            .clone()
    };
    let s = first("slog");
    assert_eq!(s.resource["service.name"], Val::Str("orders".into()));
    assert_eq!(s.resource["service.version"], Val::Str("1.2.3".into()));
    assert_eq!(
        s.resource["deployment.environment"],
        Val::Str("test".into())
    );
    assert_eq!(
        s.resource["process.pid"],
        Val::Int(i64::from(std::process::id()))
    );
    assert!(s.resource.contains_key("host.name"), "{:?}", s.resource);
    assert_eq!((s.severity_number, s.severity_text.as_str()), (9, "INFO"));
    assert_eq!(s.body, Val::Str("slog record".into()));
    assert_eq!(s.attrs["ok"], Val::Bool(true));
    assert_eq!(s.attrs["ratio"], Val::Double(0.5));
    // Beyond int64: its decimal text.
    assert_eq!(s.attrs["big"], Val::Str(u64::MAX.to_string()));
    assert_eq!(s.attrs["component"], Val::Str("checkout".into()));
    assert_eq!(s.attrs["code.file.path"], Val::Str(file!().into()));
    assert!(matches!(s.attrs["code.line.number"], Val::Int(n) if n > 0));
    assert_eq!(s.scope, module_path!());
    assert_eq!(s.trace_id, trace_id.to_bytes().to_vec());
    assert_eq!(s.span_id, span_id.to_bytes().to_vec());
    assert_eq!(s.flags, 1);
    assert!(s.time_unix_nano > 0 && s.observed_time_unix_nano >= s.time_unix_nano);
    let l = first("log");
    assert_eq!((l.severity_number, l.severity_text.as_str()), (13, "WARN"));
    assert_eq!(l.scope, "app::log");
    assert_eq!(l.trace_id, trace_id.to_bytes().to_vec());
    let t = first("tracing");
    assert_eq!((t.severity_number, t.severity_text.as_str()), (17, "ERROR"));
    assert_eq!(t.scope, "app::tracing");
    assert_eq!(t.body, Val::Str("tracing record".into()));
    for r in &records {
        let keys: HashSet<&String> = r.keys.iter().collect();
        assert_eq!(
            keys.len(),
            r.keys.len(),
            "an attribute key twice: {:?}",
            r.keys
        );
    }

    // At `trace`, the HTTP client and TLS log while they export.
    let exported_before = rx.records().len();
    guard.set_filter("trace").unwrap();
    for i in 0..100 {
        info!(log, "at trace"; "src" => "trace", "seq" => i);
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(guard.flush(), 0);
    // A second round of exports, whose client logs are then in the lines.
    info!(log, "one more"; "src" => "last", "seq" => 0);
    assert_eq!(guard.flush(), 0);
    guard.set_filter("info").unwrap();
    assert_eq!(guard.flush(), 0);
    let text = lines.text();
    let dependency_lines = text
        .lines()
        .filter(|l| l.contains("\"target\":\"ureq"))
        .count();
    assert!(
        dependency_lines > 0,
        "control: the HTTP client logged nothing at trace, so the check below proves nothing"
    );
    let records = rx.records();
    each_once(seqs(&records, "trace"), 100, "trace");
    let leaked: Vec<&str> = records
        .iter()
        .map(|r| r.scope.as_str())
        .filter(|s| {
            ["ureq", "rustls", "webpki", "flate2"]
                .iter()
                .any(|p| s.starts_with(p))
        })
        .collect();
    assert!(
        leaked.is_empty(),
        "the exporter's own records were exported: {leaked:?}"
    );
    // No growth: what was exported at trace is the records logged and the
    // filter notices, not a loop.
    let new = records.len() - exported_before;
    assert!(new <= 110, "{new} records exported for 101 logged");
    println!(
        "    {} records exported; at trace, {dependency_lines} lines of the HTTP client's, none exported",
        records.len()
    );
    drop(guard);
}

/// `http/json` and gzip: the same fields, decoded from the JSON mapping.
fn json_and_gzip() {
    let rx = Receiver::start(0, ok);
    let lines = Lines::default();
    let config = fast(OtlpConfig::new(&rx.endpoint()).unwrap())
        .protocol(Protocol::HttpJson)
        .gzip(true)
        .header("x-api-key", "k1")
        .unwrap();
    let guard = builder(&lines, config).init().unwrap();
    let log = guard.logger();
    for i in 0..1000 {
        warn!(log, "json \"quoted\"\n"; "src" => "json", "seq" => i, "ok" => false, "neg" => -5, "ratio" => 1.25, "k8s.pod.name" => "evil", "code.file.path" => "/src/auth.rs");
    }
    assert_eq!(guard.flush(), 0);
    let requests = rx.requests();
    assert!(requests
        .iter()
        .all(|r| r.gzip && r.content_type == "application/json"));
    assert!(requests
        .iter()
        .all(|r| r.headers.contains(&("x-api-key".into(), "k1".into()))));
    let records = rx.records();
    each_once(seqs(&records, "json"), 1000, "json");
    let r = &records[0];
    assert_eq!(r.body, Val::Str("json \"quoted\"\n".into()));
    assert_eq!((r.severity_number, r.severity_text.as_str()), (13, "WARN"));
    assert_eq!(r.attrs["ok"], Val::Bool(false));
    assert_eq!(r.attrs["neg"], Val::Int(-5));
    assert_eq!(r.attrs["ratio"], Val::Double(1.25));
    // A host field's name in record data is not the resource's.
    assert_eq!(r.attrs["fields.k8s.pod.name"], Val::Str("evil".into()));
    assert!(!r.attrs.contains_key("k8s.pod.name"));
    // Nor a source location (none is on here).
    assert_eq!(
        r.attrs["fields.code.file.path"],
        Val::Str("/src/auth.rs".into())
    );
    assert!(!r.attrs.contains_key("code.file.path"));
    assert_eq!(r.resource["service.name"], Val::Str("orders".into()));
    assert!(r.trace_id.is_empty(), "no span: no trace id");

    drop(guard);

    // The record cap counts the encoded record: a 1 MiB value is cut, the
    // record is still exported whole and valid, and says what was removed.
    let rx = Receiver::start(0, ok);
    let guard = builder(&lines, one_batch(OtlpConfig::new(&rx.endpoint()).unwrap()))
        .max_record_bytes(4096)
        .init()
        .unwrap();
    let huge = "x".repeat(1 << 20);
    info!(guard.logger(), "huge"; "src" => "cap", "seq" => 0, "body" => huge.as_str());
    assert_eq!(guard.flush(), 0);
    let capped = rx.records();
    each_once(seqs(&capped, "cap"), 1, "cap");
    let Val::Str(body) = &capped[0].attrs["body"] else {
        panic!("{:?}", capped[0].attrs["body"]);
    };
    assert!(
        body.len() < 4096 && body.chars().all(|c| c == 'x'),
        "{}",
        body.len()
    );
    assert!(
        matches!(capped[0].attrs.get("log.truncated_bytes"), Some(Val::Int(n)) if *n as usize >= (1 << 20) - 4096),
        "{:?}",
        capped[0].attrs.get("log.truncated_bytes")
    );
    assert!(guard.truncated() >= 1);
    drop(guard);
}

/// A refresh that changes the host snapshot changes the next request's
/// resource.
fn the_resource_follows_a_refresh() {
    let rx = Receiver::start(0, ok);
    let (_lines, guard) = exporting(&rx, fast);
    let log = guard.logger();
    info!(log, "before the refresh"; "src" => "before", "seq" => 0);
    assert_eq!(guard.flush(), 0);
    let r = rx.records().remove(0);
    assert_ne!(r.resource["host.name"], Val::Str("renamed-host".into()));
    let changed = guard
        .cache()
        .set_probe(|| {
            Ok(slog_host::host::HostInfo::new()
                .with_host_name("renamed-host")
                .with_service("orders", "1.2.4"))
        })
        .unwrap();
    assert!(changed);
    info!(log, "after the refresh"; "src" => "after", "seq" => 0);
    assert_eq!(guard.flush(), 0);
    let after: Vec<Rec> = rx
        .records()
        .into_iter()
        .filter(|r| r.attrs.get("src") == Some(&Val::Str("after".into())))
        .collect();
    assert_eq!(after.len(), 1);
    assert_eq!(
        after[0].resource["host.name"],
        Val::Str("renamed-host".into())
    );
    assert_eq!(
        after[0].resource["service.version"],
        Val::Str("1.2.4".into())
    );
}

/// The collector starts 5 s after the service: retried until it is up,
/// nothing lost (the queue holds them).
fn a_collector_starting_late_loses_nothing() {
    let port = free_port();
    let lines = Lines::default();
    let config = fast(OtlpConfig::new(&format!("http://127.0.0.1:{port}/v1/logs")).unwrap())
        .timeout(Duration::from_millis(500));
    let guard = builder(&lines, config).init().unwrap();
    for i in 0..1000 {
        info!(guard.logger(), "early"; "src" => "late", "seq" => i);
    }
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(guard.exported(), 0);
    let rx = Receiver::start(port, ok);
    assert_eq!(guard.flush(), 0);
    each_once(seqs(&rx.records(), "late"), 1000, "late");
    assert_eq!(guard.export_dropped(), 0);
}

/// Two refusals answered with `refusal`, then a success: the batch is sent
/// again at least 950 ms after each refusal (no retry storm), then accepted;
/// nothing lost.
fn two_refusals_are_waited_for(refusal: Reply, src: &'static str, what: &str) {
    let rx = Receiver::start(0, move |n| if n < 2 { refusal } else { Reply::Status(200) });
    let (_lines, guard) = exporting(&rx, one_batch);
    for i in 0..100 {
        info!(guard.logger(), "retried"; "src" => src, "seq" => i);
    }
    assert_eq!(guard.flush(), 0);
    assert_spaced(&rx, 3, Duration::from_millis(950), what);
    each_once(seqs(&rx.records(), src), 100, src);
    assert_eq!(guard.export_dropped(), 0);
}

/// 503 with `Retry-After: 1`, twice.
fn retry_after_is_honoured() {
    two_refusals_are_waited_for(
        Reply::StatusRetryAfter(503, 1),
        "retry",
        "two refusals with Retry-After: 1, then a success",
    );
}

/// `Retry-After` as an HTTP-date 2 s ahead (second resolution: at least
/// 1 s of wait), twice.
fn retry_after_as_an_http_date_is_honoured() {
    two_refusals_are_waited_for(
        Reply::StatusRetryAt(503, 2),
        "date",
        "two refusals with a Retry-After date, then a success",
    );
}

/// A `Retry-After` of more digits than a `u64` holds is the longest wait,
/// not no wait: after the refusal, no try for the next 3 s (a storm made
/// 15 requests in 12 s), and the drop gives up within the export timeout.
fn retry_after_past_u64_is_the_longest_wait() {
    let rx = Receiver::start(0, |_| {
        Reply::StatusRetryAfterText(503, "99999999999999999999999")
    });
    let config = OtlpConfig::new(&rx.endpoint()).unwrap().batch(
        Duration::from_millis(20),
        2048,
        512,
        Duration::from_secs(2),
    );
    let lines = Lines::default();
    let guard = builder(&lines, config).init().unwrap();
    info!(guard.logger(), "refused"; "src" => "huge", "seq" => 0);
    let first = Instant::now();
    while rx.requests().is_empty() && first.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(rx.requests().len(), 1, "one try, then the wait");
    drop(guard);
    assert_eq!(rx.requests().len(), 1, "no try at shutdown past the wait");
}

/// `RUST_LOG=trace` with an `api-key` header and a query secret in the
/// endpoint: the HTTP client's own TRACE records (its request line and a
/// hex dump of the request) would show both; no output and no stderr line
/// carries either, in text or in hex. The control: at trace, the crate's
/// own TRACE record is written, so the filter did let trace through.
fn trace_level_never_writes_the_exporters_credentials() {
    const KEY: &str = "k3y-s3cr3t";
    const QUERY: &str = "q-s3cr3t";
    let rx = Receiver::start(0, ok);
    let hex = |s: &str| s.bytes().map(|b| format!("{b:02x}")).collect::<String>();
    let out = runner::run_json(
        "trace_export",
        &[
            ("OTEL_LOGS_EXPORTER", "otlp"),
            (
                "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
                &format!("{}?api_key={QUERY}", rx.endpoint()),
            ),
            ("OTEL_EXPORTER_OTLP_HEADERS", &format!("api-key={KEY}")),
            ("OTEL_BLRP_SCHEDULE_DELAY", "50"),
            ("RUST_LOG", "trace"),
        ],
    );
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(stdout.contains("a trace record"), "the control: {stdout}");
    assert!(!rx.requests().is_empty(), "exported");
    for secret in [KEY, QUERY] {
        for text in [&stdout, &stderr] {
            assert!(!text.contains(secret), "{secret} in {text}");
            assert!(!text.contains(&hex(secret)), "{secret} as hex in {text}");
        }
    }
}

/// `Retry-After: 0` is no storm (the first backoff is the floor); a
/// redirect is not followed (no GET, the headers go nowhere else) and its
/// batch is dropped and counted; a partial success counts its rejected
/// records as dropped, the rest as exported.
fn retry_after_zero_redirects_and_partial_success() {
    let rx = Receiver::start(0, |n| match n {
        0..=2 => Reply::StatusRetryAfter(503, 0),
        _ => Reply::Status(200),
    });
    let (_lines, guard) = exporting(&rx, one_batch);
    for i in 0..10 {
        info!(guard.logger(), "zero"; "src" => "zero", "seq" => i);
    }
    assert_eq!(guard.flush(), 0);
    assert_spaced(
        &rx,
        4,
        Duration::from_millis(200),
        "three refusals with Retry-After: 0, then a success",
    );
    each_once(seqs(&rx.records(), "zero"), 10, "zero");
    drop(guard);

    let rx = Receiver::start(0, |_| Reply::Redirect(307));
    let lines = Lines::default();
    let config = one_batch(OtlpConfig::new(&rx.endpoint()).unwrap())
        .header("x-api-key", "k1")
        .unwrap();
    let guard = builder(&lines, config).init().unwrap();
    for i in 0..10 {
        info!(guard.logger(), "redirected"; "seq" => i);
    }
    assert_eq!(guard.flush(), 0);
    assert_eq!(guard.export_dropped(), 10);
    assert_eq!(guard.exported(), 0);
    let requests = rx.requests();
    assert_eq!(
        requests.len(),
        1,
        "a redirect is neither followed nor retried"
    );
    assert_eq!(requests[0].method, "POST");
    drop(guard);
    assert_eq!(lines.reported_drops(), 10);
    assert!(lines.text().contains("redirect"), "{}", lines.text());

    let rx = Receiver::start(0, |_| Reply::PartialSuccess(3));
    let (lines, guard) = exporting(&rx, one_batch);
    for i in 0..10 {
        info!(guard.logger(), "partly"; "seq" => i);
    }
    assert_eq!(guard.flush(), 0);
    assert_eq!((guard.exported(), guard.export_dropped()), (7, 3));
    drop(guard);
    assert_eq!(lines.reported_drops(), 3);
    assert!(lines.text().contains("partial success"), "{}", lines.text());
}

/// A collector that never answers: the line output gets its records
/// meanwhile, a flush returns after the export timeout with what it did not
/// export, and the guard's drop ends within the export timeout, every record
/// not exported counted and reported. The request timeout (30 s) is far
/// above the bounds checked: a writer or a drop that waited for the
/// request would take at least that long, a merely starved one seconds.
fn a_hanging_collector_never_delays_the_lines() {
    let rx = Receiver::start(0, |_| Reply::Hang);
    let lines = Lines::default();
    let config = OtlpConfig::new(&rx.endpoint())
        .unwrap()
        .timeout(Duration::from_secs(30))
        .batch(Duration::from_millis(50), 2048, 512, Duration::from_secs(2));
    let guard = builder(&lines, config).init().unwrap();
    // The first batch goes out and hangs.
    info!(guard.logger(), "first"; "src" => "hang", "seq" => -1);
    let until = Instant::now() + Duration::from_secs(10);
    while rx.requests().is_empty() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(!rx.requests().is_empty(), "an export was tried");
    let started = Instant::now();
    for i in 0..100 {
        info!(guard.logger(), "while it hangs"; "src" => "hang", "seq" => i);
    }
    let until = Instant::now() + Duration::from_secs(10);
    while lines.text().matches("while it hangs").count() < 100 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(1));
    }
    let lines_took = started.elapsed();
    assert_eq!(lines.text().matches("while it hangs").count(), 100);
    let started = Instant::now();
    let left = guard.flush();
    let flush_took = started.elapsed();
    assert!(left >= 100, "flush reports what it did not export: {left}");
    // One wait per outage: the next flush does not wait again.
    let started = Instant::now();
    assert!(guard.flush() >= 100);
    let second_took = started.elapsed();
    assert!(
        second_took < Duration::from_secs(1),
        "a second flush in the same outage waited {second_took:?}"
    );
    let started = Instant::now();
    drop(guard);
    let drop_took = started.elapsed();
    assert!(
        flush_took < Duration::from_secs(10),
        "flush took {flush_took:?}"
    );
    assert!(
        drop_took < Duration::from_secs(10),
        "drop took {drop_took:?}"
    );
    assert_eq!(lines.reported_drops(), 101, "{}", lines.text());
    assert!(rx.records().is_empty());
    println!(
        "    lines of 100 records in {lines_took:.1?} while the export hung; flush {flush_took:.1?}, \
         drop {drop_took:.1?} (export timeout 2 s, request timeout 30 s)"
    );
}

/// A collector gone for good: the queue stays within its bound, each
/// record past it is dropped and counted, and at the drop every record is
/// either exported (none here) or reported dropped, exactly.
fn a_collector_down_for_good_bounds_memory_and_counts_drops() {
    let port = free_port();
    let lines = Lines::default();
    let config = OtlpConfig::new(&format!("http://127.0.0.1:{port}/v1/logs"))
        .unwrap()
        .timeout(Duration::from_millis(200))
        .batch(Duration::from_millis(20), 1000, 100, Duration::from_secs(1));
    let guard = builder(&lines, config).init().unwrap();
    for i in 0..20_000 {
        info!(guard.logger(), "nobody listens"; "seq" => i);
        if i % 1000 == 0 {
            // Give the writer a turn: the queue is the pipeline's, not the test's.
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    let _ = guard.flush();
    // Past the queue (1,000) records are dropped as they come.
    assert!(
        guard.export_dropped() >= 19_000 - 100,
        "{}",
        guard.export_dropped()
    );
    let started = Instant::now();
    drop(guard);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "drop took {:?}",
        started.elapsed()
    );
    assert_eq!(
        lines.reported_drops(),
        20_000,
        "every record reported dropped, once"
    );
    assert_eq!(
        lines.text().matches("nobody listens").count(),
        20_000,
        "the lines have all"
    );
}

/// Inside a current-thread tokio runtime: start, log, flush and drop, no
/// deadlock (nothing here needs the runtime).
fn a_current_thread_runtime_does_not_deadlock() {
    let rx = Receiver::start(0, ok);
    let lines = Lines::default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let exported = rt.block_on(async {
        let guard = builder(&lines, fast(OtlpConfig::new(&rx.endpoint()).unwrap()))
            .init()
            .unwrap();
        for i in 0..100 {
            info!(guard.logger(), "in a runtime"; "src" => "tokio", "seq" => i);
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        assert_eq!(guard.flush(), 0);
        let n = guard.exported();
        drop(guard);
        n
    });
    assert_eq!(exported, 100);
    each_once(seqs(&rx.records(), "tokio"), 100, "tokio");
}

/// Inside a multi-threaded tokio runtime, from a task: the same.
fn a_multi_thread_runtime_works_too() {
    let rx = Receiver::start(0, ok);
    let lines = Lines::default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    let endpoint = rx.endpoint();
    let l = lines.clone();
    let exported = rt.block_on(async move {
        tokio::spawn(async move {
            let guard = builder(&l, fast(OtlpConfig::new(&endpoint).unwrap()))
                .init()
                .unwrap();
            for i in 0..100 {
                info!(guard.logger(), "in a task"; "src" => "mt", "seq" => i);
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            assert_eq!(guard.flush(), 0);
            guard.exported()
        })
        .await
        .unwrap()
    });
    assert_eq!(exported, 100);
    each_once(seqs(&rx.records(), "mt"), 100, "mt");
}

/// A panic on a thread, in a child with the global pipeline, which then
/// exits without dropping the guard: the panic hook exported the records
/// logged before the panic and its own FATAL record (nothing else could:
/// records wait a minute for a batch, and no destructor runs).
fn a_panic_exports_what_was_logged() {
    let rx = Receiver::start(0, ok);
    let out = runner::scenario_command(
        "panic",
        &[
            ("OTEL_LOGS_EXPORTER", "otlp"),
            ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", &rx.endpoint()),
            // Records wait a minute for a batch: only the hook's flush sends them.
            ("OTEL_BLRP_SCHEDULE_DELAY", "60000"),
            ("LOG_STDOUT", "off"),
            ("RUST_BACKTRACE", "0"),
        ],
    )
    .output()
    .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let records = rx.records();
    each_once(seqs(&records, "panic"), 10, "before the panic");
    let fatal: Vec<&Rec> = records.iter().filter(|r| r.severity_number == 21).collect();
    assert_eq!(fatal.len(), 1, "the panic's own record: {records:?}");
    assert!(
        format!("{:?}", fatal[0].body).contains("boom"),
        "{:?}",
        fatal[0]
    );
}

/// The OpenTelemetry variables, in a child: `OTEL_LOGS_EXPORTER=otlp`, the
/// generic endpoint (the logs path appended), `http/json`, gzip, headers
/// percent-decoded, `LOG_STDOUT=off`.
fn the_environment_configures_the_exporter() {
    let rx = Receiver::start(0, ok);
    let base = format!("http://{}", rx.addr);
    let out = runner::run_json(
        "env_init",
        &[
            ("OTEL_LOGS_EXPORTER", "otlp"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &base),
            ("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "http/json"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "x-api-key=a%20b,x-tenant=t1"),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
            ("OTEL_BLRP_SCHEDULE_DELAY", "50"),
            ("OTEL_SERVICE_NAME", "from-env"),
            ("LOG_STDOUT", "off"),
        ],
    );
    assert!(
        out.stdout.is_empty(),
        "LOG_STDOUT=off: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let requests = rx.requests();
    assert!(!requests.is_empty());
    for r in &requests {
        assert_eq!(r.path, "/v1/logs");
        assert!(r.gzip);
        assert_eq!(r.content_type, "application/json");
        assert!(r.headers.contains(&("x-api-key".into(), "a b".into())));
        assert!(r.headers.contains(&("x-tenant".into(), "t1".into())));
    }
    let records = rx.records();
    each_once(seqs(&records, "env"), 10, "env");
    assert_eq!(
        records[0].resource["service.name"],
        Val::Str("from-env".into())
    );

    // Invalid values: an error naming the variable and the value.
    for (var, value) in [
        ("OTEL_LOGS_EXPORTER", "zipkin"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"),
        ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "ftp://c/v1/logs"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "thrift"),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "10s"),
        ("OTEL_EXPORTER_OTLP_LOGS_COMPRESSION", "zstd"),
        ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://c:99999/v1/logs"),
        // URLs the HTTP client cannot send to: errors at init, not a
        // failure of every export.
        (
            "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
            "http://exämple.com:4318/v1/logs",
        ),
        ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://a:1:2/v1/logs"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://host:1/p<>{}"),
        // A certificate for the default, plain-http endpoint.
        ("OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE", "/etc/ca.pem"),
        ("OTEL_BLRP_MAX_QUEUE_SIZE", "0"),
        ("OTEL_BLRP_EXPORT_TIMEOUT", "-1"),
        ("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "5000"),
    ] {
        let out =
            runner::scenario_command("env_error", &[("OTEL_LOGS_EXPORTER", "otlp"), (var, value)])
                .output()
                .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{var}={value}: {err}");
        assert!(
            err.contains(var) && err.contains(value),
            "{var}={value}: the error names neither: {err}"
        );
    }
    // Environment and code: one exporter, configured by the variables.
    let rx2 = Receiver::start(0, ok);
    runner::run_json(
        "env_and_code",
        &[
            ("OTEL_LOGS_EXPORTER", "otlp"),
            ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", &rx2.endpoint()),
            ("OTEL_BLRP_SCHEDULE_DELAY", "50"),
        ],
    );
    each_once(seqs(&rx2.records(), "both"), 10, "env and code");

    // The collector as the only output, and gone: the drops are said on
    // stderr (there is no line output to report them in).
    let port = free_port();
    let endpoint = format!("http://127.0.0.1:{port}/v1/logs");
    let out = runner::run_json(
        "only_otlp_down",
        &[
            ("OTEL_LOGS_EXPORTER", "otlp"),
            ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", &endpoint),
            ("OTEL_BLRP_EXPORT_TIMEOUT", "300"),
            ("LOG_STDOUT", "off"),
            ("LOG_FLOOD", "off"),
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.stdout.is_empty());
    assert!(
        err.contains(&format!("{EXPORT_DROPPED_MESSAGE}: 10 (")),
        "{err}"
    );

    // Header values are secrets: one that is not UTF-8 is not echoed.
    let out = runner::scenario_command("env_error", &[("OTEL_LOGS_EXPORTER", "otlp")])
        .env(
            "OTEL_EXPORTER_OTLP_HEADERS",
            <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(b"k=s3cret\xff"),
        )
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("OTEL_EXPORTER_OTLP_HEADERS") && !err.contains("s3cret"),
        "{err}"
    );

    // Header values are secrets: an invalid one is not echoed.
    let out = runner::scenario_command(
        "env_error",
        &[
            ("OTEL_LOGS_EXPORTER", "otlp"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "token"),
        ],
    )
    .output()
    .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("OTEL_EXPORTER_OTLP_HEADERS") && !err.contains("token\""),
        "{err}"
    );
}

/// A collector down for 10 s (stopped, then started again on its port)
/// while 1,000 records a second are logged, with the SDK's default batch
/// settings (a queue of 2,048): the exporter probes it every 250 to 500 ms
/// and exports within a second of its return; every record logged after
/// the return is exported; the queue kept the newest records of the outage
/// (each of the last second before the return is exported); the drops are
/// reported at most once a second (at most 12 reports for the outage), and
/// every record is exported once or counted dropped, exactly.
fn an_outage_exports_the_newest_records_as_soon_as_the_collector_is_back() {
    let port = free_port();
    let endpoint = format!("http://127.0.0.1:{port}/v1/logs");
    let first = Receiver::start(port, ok);
    let lines = Lines::default();
    let guard = builder(&lines, OtlpConfig::new(&endpoint).unwrap())
        .init()
        .unwrap();
    let log = guard.logger().clone();
    let start = Instant::now();
    let (mut first, mut second) = (Some(first), None);
    let (mut down_from, mut back_from, mut back_at) = (0i64, 0i64, start);
    let mut seq = 0i64;
    for tick in 0..1_600u64 {
        let t = Duration::from_millis(tick * 10);
        if t == Duration::from_secs(2) {
            drop(first.take());
            down_from = seq;
        }
        if t == Duration::from_secs(12) {
            second = Some(Receiver::start(port, ok));
            (back_from, back_at) = (seq, Instant::now());
        }
        for _ in 0..10 {
            info!(log, "outage"; "src" => "outage", "seq" => seq);
            seq += 1;
        }
        if let Some(wait) =
            (start + t + Duration::from_millis(10)).checked_duration_since(Instant::now())
        {
            std::thread::sleep(wait);
        }
    }
    assert_eq!(
        guard.flush(),
        0,
        "everything exported or counted once it is back"
    );
    let (exported_n, dropped_n) = (guard.exported(), guard.export_dropped());
    drop(guard);
    let (first, second) = (first, second.unwrap());
    drop(first);
    let back = second.requests();
    let first_ok = back
        .iter()
        .find(|r| r.status == 200)
        .map(|r| r.at - back_at)
        .expect("an export after the return");
    let mut got = seqs(&second.records(), "outage");
    got.sort_unstable();
    let after: Vec<i64> = got.iter().copied().filter(|s| *s >= back_from).collect();
    let during: Vec<i64> = got
        .iter()
        .copied()
        .filter(|s| (down_from..back_from).contains(s))
        .collect();
    let reports = lines.text().matches(EXPORT_DROPPED_MESSAGE).count();
    println!(
        "    first export {first_ok:.0?} after the return; of the outage's {} records {} \
         exported (seq {:?}..); {dropped_n} dropped in {reports} reports; {exported_n} exported",
        back_from - down_from,
        during.len(),
        during.first()
    );
    assert!(
        first_ok <= Duration::from_secs(1),
        "the first export came {first_ok:?} after the return"
    );
    each_once(
        after.iter().map(|s| s - back_from).collect(),
        seq - back_from,
        "records logged after the return",
    );
    let last_second: Vec<i64> = (back_from - 1_000..back_from).collect();
    let missing = last_second
        .iter()
        .filter(|s| during.binary_search(s).is_err())
        .count();
    assert_eq!(missing, 0, "the newest records of the outage were kept");
    assert!(
        during.len() <= 2_048 + 512,
        "the queue's bound (2,048) and one batch: {} kept",
        during.len()
    );
    assert!(reports <= 12, "{reports} drop reports for a 10 s outage");
    assert_eq!(lines.reported_drops(), dropped_n, "each drop reported once");
    assert_eq!(
        exported_n + dropped_n,
        seq as u64,
        "every record exported or counted dropped"
    );
}

/// The collector down at shutdown, with the SDK's default export timeout
/// (30 s): `flush()` then the drop return within the shutdown timeout
/// (5 s) and a second, every line written, what was not exported counted
/// and reported.
fn the_collector_down_at_shutdown_costs_one_bounded_wait() {
    let lines = Lines::default();
    let dead = format!("http://127.0.0.1:{}/v1/logs", free_port());
    let guard = builder(&lines, OtlpConfig::new(&dead).unwrap())
        .init()
        .unwrap();
    for i in 0..1_000 {
        info!(guard.logger(), "at shutdown"; "seq" => i);
    }
    let started = Instant::now();
    let left = guard.flush();
    let flushed = started.elapsed();
    drop(guard);
    let took = started.elapsed();
    println!(
        "    flush {flushed:.1?}, flush and drop {took:.1?} ({left} not exported at the flush)"
    );
    assert!(left > 0, "nothing was exported");
    assert!(
        took < Duration::from_secs(6),
        "flush and drop took {took:?}"
    );
    assert_eq!(
        lines.text().matches("at shutdown").count(),
        1_000,
        "every line"
    );
    assert_eq!(
        lines.reported_drops(),
        1_000,
        "every record reported dropped"
    );
}

/// The same with SIGTERM handled as the README shows (a tokio service):
/// the process ends within 6 s of the signal, every line in its file.
fn sigterm_with_the_collector_down_ends_within_the_deadline() {
    let dir = std::env::temp_dir().join(format!("slog-host-sigterm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("app.log");
    let _ = std::fs::remove_file(&file);
    let dead = format!("http://127.0.0.1:{}/v1/logs", free_port());
    let mut child = runner::scenario_command_killed_after(
        60,
        "sigterm",
        &[
            ("OTEL_LOGS_EXPORTER", "otlp"),
            ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", &dead),
            ("LOG_FILE", file.to_str().unwrap()),
            ("LOG_FORMAT", "json"),
        ],
    )
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let ready = Instant::now() + Duration::from_secs(30);
    while std::fs::read_to_string(&file).map_or(0, |t| t.matches("before the signal").count())
        < 1_000
        && Instant::now() < ready
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    let signalled = Instant::now();
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    let took = signalled.elapsed();
    let text = std::fs::read_to_string(&file).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    println!("    exited {took:.1?} after SIGTERM ({status})");
    assert!(status.success(), "{status}");
    assert!(
        took < Duration::from_secs(6),
        "SIGTERM to exit took {took:?}"
    );
    assert_eq!(text.matches("before the signal").count(), 1_000);
    assert!(text.contains("SIGTERM: shutting down"), "{text}");
}

/// `OTEL_LOGS_EXPORTER` and `OTEL_SDK_DISABLED` as the specification reads
/// them, each in a child: unset with an endpoint set exports (said once on
/// stderr); unset without one does not, silently; `otlp,console` exports
/// beside the lines; `OTEL_SDK_DISABLED=true` turns export off; `none`
/// with an exporter, and a disabled flag that is not a boolean, are errors.
fn the_exporter_variables_follow_the_specification() {
    let rx = Receiver::start(0, ok);
    let base = format!("http://{}", rx.addr);
    let exported = |src: &str| {
        rx.records()
            .iter()
            .filter(|r| r.resource.get("service.name") == Some(&Val::Str(src.to_owned())))
            .count()
    };
    // (service name, variables, records exported, the one stderr note)
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, usize, Option<&'a str>);
    let endpoint = ("OTEL_EXPORTER_OTLP_ENDPOINT", base.as_str());
    let cases: Vec<Case> = vec![
        (
            "unset-endpoint",
            vec![endpoint],
            10,
            Some("OTLP export is on"),
        ),
        ("unset-nothing", vec![], 0, None),
        (
            "otlp-console",
            vec![("OTEL_LOGS_EXPORTER", "otlp,console"), endpoint],
            10,
            None,
        ),
        (
            "disabled",
            vec![
                ("OTEL_SDK_DISABLED", "TRUE"),
                ("OTEL_LOGS_EXPORTER", "otlp"),
                endpoint,
            ],
            0,
            None,
        ),
        (
            "console",
            vec![("OTEL_LOGS_EXPORTER", "console"), endpoint],
            0,
            None,
        ),
    ];
    for (name, mut env, n, note) in cases {
        env.push(("OTEL_SERVICE_NAME", name));
        env.push(("OTEL_BLRP_SCHEDULE_DELAY", "50"));
        let out = runner::run_json("env_init", &env);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(exported(name), n, "{name}: records exported; {err}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            text.matches("from the environment").count(),
            10,
            "{name}: the lines"
        );
        match note {
            Some(note) => assert_eq!(err.matches(note).count(), 1, "{name}: {err}"),
            None => assert!(err.is_empty(), "{name}: {err}"),
        }
    }
    for (var, value) in [
        ("OTEL_LOGS_EXPORTER", "none,otlp"),
        ("OTEL_LOGS_EXPORTER", "otlp,zipkin"),
        ("OTEL_SDK_DISABLED", "yes"),
    ] {
        let out = runner::scenario_command("env_error", &[(var, value)])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("invalid {var}={value:?}")),
            "{var}={value}: {err}"
        );
    }
}

fn child(name: &str) {
    match name {
        "env_init" => {
            let guard = slog_host::init().unwrap();
            for i in 0..10 {
                info!(guard.logger(), "from the environment"; "src" => "env", "seq" => i);
            }
            assert_eq!(guard.flush(), 0);
        }
        "panic" => {
            let guard = slog_host::init().unwrap();
            let log = guard.logger().clone();
            let worker = std::thread::spawn(move || {
                for i in 0..10 {
                    info!(log, "before the panic"; "src" => "panic", "seq" => i);
                }
                panic!("boom");
            });
            assert!(worker.join().is_err());
            // No destructor runs: only the panic hook's flush can have
            // exported the records (the schedule delay is a minute).
            std::process::exit(3);
        }
        "env_and_code" => {
            // The code configures an OTLP output too: the variables
            // configure it, and there is one exporter.
            let guard = slog_host::Builder::from_env()
                .unwrap()
                .flood(None)
                .tee(
                    Output::Otlp(OtlpConfig::new("http://127.0.0.1:9/v1/logs").unwrap()),
                    Format::Json,
                    "info",
                )
                .unwrap()
                .init()
                .unwrap();
            for i in 0..10 {
                info!(guard.logger(), "once"; "src" => "both", "seq" => i);
            }
            assert_eq!(guard.flush(), 0);
            assert_eq!(guard.exported(), 10);
        }
        "trace_export" => {
            let guard = slog_host::init().unwrap();
            log::trace!("a trace record");
            for i in 0..10 {
                info!(guard.logger(), "exported"; "seq" => i);
            }
            assert_eq!(guard.flush(), 0);
        }
        "only_otlp_down" => {
            let guard = slog_host::init().unwrap();
            for i in 0..10 {
                info!(guard.logger(), "lost"; "seq" => i);
            }
        }
        "sigterm" => {
            // The README's graceful shutdown, as it is there.
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let guard = slog_host::init().unwrap();
                for i in 0..1_000 {
                    info!(guard.logger(), "before the signal"; "seq" => i);
                }
                let mut sigterm =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                        .unwrap();
                tokio::select! {
                    _ = sigterm.recv() => slog::info!(guard.logger(), "SIGTERM: shutting down"),
                    _ = tokio::signal::ctrl_c() => slog::info!(guard.logger(), "interrupted"),
                }
                drop(guard); // every record is written before the process ends
            });
        }
        "env_error" => match slog_host::Builder::from_env() {
            Ok(_) => panic!("accepted"),
            Err(e) => eprintln!("{e}"),
        },
        other => panic!("no scenario {other}"),
    }
}

crate::suite_main!(
    child,
    tests: [
        records_from_slog_log_and_tracing_arrive_once,
        json_and_gzip,
        the_resource_follows_a_refresh,
        a_collector_starting_late_loses_nothing,
        retry_after_is_honoured,
        retry_after_as_an_http_date_is_honoured,
        retry_after_past_u64_is_the_longest_wait,
        retry_after_zero_redirects_and_partial_success,
        trace_level_never_writes_the_exporters_credentials,
        a_hanging_collector_never_delays_the_lines,
        a_collector_down_for_good_bounds_memory_and_counts_drops,
        an_outage_exports_the_newest_records_as_soon_as_the_collector_is_back,
        the_collector_down_at_shutdown_costs_one_bounded_wait,
        sigterm_with_the_collector_down_ends_within_the_deadline,
        a_current_thread_runtime_does_not_deadlock,
        a_multi_thread_runtime_works_too,
        a_panic_exports_what_was_logged,
        the_environment_configures_the_exporter,
        the_exporter_variables_follow_the_specification,
    ]
);
