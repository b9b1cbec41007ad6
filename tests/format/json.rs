//! The JSON format cannot be forged or spoofed (issue 11), and its ECS layout
//! follows elastic/ecs-logging's `spec/spec.json`.
//!
//! - A record field, a child logger's field or a resource attribute
//!   (`Builder::field`, `OTEL_RESOURCE_ATTRIBUTES`) named like a record key or
//!   a host field cannot change the level, message, time, origin or host
//!   fields of a line: it is written as `fields.<name>`, in both schemas.
//! - No line has a key twice (lines are parsed with duplicate detection,
//!   `support/json_object.rs`; serde_json alone keeps the last duplicate).
//! - Every line is one line for every line splitter (Python's
//!   `str.splitlines()` counts as many lines as records).
//! - Level names; the ECS line layout against the spec fixture.
//!
//! The scenarios that need `init()` (global state, the environment) run in a
//! fresh copy of this binary (`SLOG_HOST_SCENARIO`); the others run private
//! pipelines (`Builder::new().global(false)`) in this process. A suite of the
//! `format` test binary (`main.rs`, `harness = false`).

use crate::support::{capture, json_object, runner};

use std::time::SystemTime;

use capture::Buf;
use json_object::Members;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};
use slog::{info, o, Level, Logger};
use slog_host::format::Rfc3339Utc;
use slog_host::format::ECS_VERSION;
use slog_host::host::{keys, HostInfo};
use slog_host::{Builder, Format, LogGuard, Output, Schema};

/// What the records of this file have as their origin (`target`,
/// `log.logger`): this module's path.
const TARGET: &str = "format::json";

/// Where Python's `str.splitlines()` splits (`\r\n` counts once).
const LINE_BREAKS: &[char] = &[
    '\n', '\r', '\u{b}', '\u{c}', '\u{1c}', '\u{1d}', '\u{1e}', '\u{85}', '\u{2028}', '\u{2029}',
];

// ---------------------------------------------------------------- helpers

/// A private JSON pipeline into `out`, every level on, no flood guard, with
/// the extra fields `extra` (`Builder::field`, in order).
fn pipeline(schema: Schema, out: &Buf, extra: &[(&'static str, &str)], source: bool) -> LogGuard {
    let mut b = Builder::new()
        .global(false)
        .format(Format::Json)
        .schema(schema)
        .filter("trace")
        .unwrap()
        .flood(None)
        .service("orders", "1.4.2")
        .source_location(source)
        .output(Output::Writer(Box::new(out.clone())));
    for (k, v) in extra {
        b = b.field(k, *v);
    }
    b.init().unwrap()
}

/// The time now, as the JSON format writes it (fixed width: strings compare
/// as times).
fn now() -> String {
    Rfc3339Utc(SystemTime::now()).to_string()
}

/// The number of lines Python's `str.splitlines()` sees in `s`.
fn splitlines_count(s: &str) -> usize {
    let (mut lines, mut open) = (0, false);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if LINE_BREAKS.contains(&c) {
            if c == '\r' && chars.peek() == Some(&'\n') {
                chars.next();
            }
            lines += 1;
            open = false;
        } else {
            open = true;
        }
    }
    lines + usize::from(open)
}

/// C0, DEL, C1, U+2028, U+2029: never raw in a line.
fn is_control(c: char) -> bool {
    c < ' ' || ('\u{7f}'..='\u{9f}').contains(&c) || c == '\u{2028}' || c == '\u{2029}'
}

/// The lines of `text`: each ends with the only `\n` it holds, holds no
/// other line break or control character, and is one JSON object without a
/// duplicate key.
fn lines_of(text: &str) -> Result<Vec<Members>, String> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let body = text
        .strip_suffix('\n')
        .ok_or_else(|| format!("the last line is not terminated: {text:?}"))?;
    if let Some(c) = body.chars().find(|c| *c != '\n' && is_control(*c)) {
        return Err(format!("raw control character {c:?} in {text:?}"));
    }
    body.split('\n').map(Members::parse_unique).collect()
}

fn lines(out: &Buf) -> Result<Vec<Members>, String> {
    lines_of(&out.text())
}

/// The host fields a line must end with, in order, as the host snapshot
/// `info` holds them (detected fields only; extra fields are the caller's).
fn standard_host_fields(schema: Schema, info: &HostInfo) -> Vec<(String, Value)> {
    let strings = |pairs: &[(&'static str, Option<&str>)]| -> Vec<(String, Value)> {
        pairs
            .iter()
            .filter_map(|(k, v)| v.map(|v| (schema.field(k).to_owned(), json!(v))))
            .collect()
    };
    let mut out = strings(&[
        (keys::HOST_NAME, info.host_name()),
        (keys::HOST_IP, info.ip_str()),
    ]);
    out.push((
        schema.field(keys::PROCESS_PID).to_owned(),
        json!(info.pid()),
    ));
    out.extend(strings(&[
        (keys::SERVICE_NAME, info.service_name()),
        (keys::SERVICE_VERSION, info.service_version()),
        (keys::K8S_POD_NAME, info.pod_name()),
        (keys::K8S_NAMESPACE_NAME, info.namespace()),
        (keys::K8S_NODE_NAME, info.node_name()),
        (keys::SERVICE_INSTANCE_ID, info.instance_id()),
        (keys::CONTAINER_ID, info.container_id()),
    ]));
    out
}

/// Checks what the record itself decides: the first keys (time, level,
/// message; `ecs.version` in ECS; the origin), their values, and the
/// detected host fields. `times` bounds the record's time.
fn check_record(
    line: &Members,
    schema: Schema,
    level: &str,
    msg: &str,
    host: &HostInfo,
    times: (&str, &str),
) -> Result<(), String> {
    let (ts, level_key, msg_key) = schema.record_keys();
    let mut first = vec![ts, level_key, msg_key];
    if schema == Schema::Ecs {
        first.push("ecs.version");
    }
    first.push(schema.target_key());
    let keys = line.keys();
    if keys.len() < first.len() || keys[..first.len()] != first[..] {
        return Err(format!(
            "{schema:?}: first keys {keys:?}, expected {first:?}"
        ));
    }
    let time = line.get(ts).and_then(Value::as_str).unwrap_or_default();
    if !(times.0 <= time && time <= times.1) {
        return Err(format!("{ts} {time:?} is not the record's time {times:?}"));
    }
    let mut expected = vec![
        (level_key.to_owned(), json!(level)),
        (msg_key.to_owned(), json!(msg)),
        (schema.target_key().to_owned(), json!(TARGET)),
    ];
    if schema == Schema::Ecs {
        expected.push(("ecs.version".to_owned(), json!(ECS_VERSION)));
    }
    expected.extend(standard_host_fields(schema, host));
    for (k, v) in expected {
        if line.get(&k) != Some(&v) {
            return Err(format!("{k}: {:?}, expected {v} in {line:?}", line.get(&k)));
        }
    }
    Ok(())
}

/// Key-value pairs serialized in the order given (slog's macros decide
/// their own order): a record's fields or a logger's.
#[derive(Clone)]
struct Pairs(Vec<(&'static str, String)>);

impl slog::KV for Pairs {
    fn serialize(&self, _: &slog::Record<'_>, s: &mut dyn slog::Serializer) -> slog::Result {
        for (k, v) in &self.0 {
            s.emit_str(k, v)?;
        }
        Ok(())
    }
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}

// ---------------------------------------------------------------- children

fn child(name: &str) {
    let guard = slog_host::init().unwrap();
    let log = guard.logger();
    match name {
        "one_record" => info!(log, "real message"),
        "ecs" => {
            info!(log, "started"; "port" => 8080, "tls" => true);
            slog::warn!(log, "slow"; "ms" => 12.5);
            slog::error!(log, "failed"; "message" => "spoofed", "log.level" => "debug");
            slog::crit!(log, "down");
            slog::debug!(log, "details");
            info!(log, "");
            let child = log.new(o!("@timestamp" => "1970-01-01T00:00:00Z", "conn" => 1));
            info!(child, "from a child logger");
            log::info!("from the log crate");
            log::warn!(target: "some::dependency", "with a target");
        }
        other => panic!("unknown scenario {other}"),
    }
    drop(guard);
}

/// Runs scenario `name` with `env`; returns its stdout, the time bounds of
/// its records, or why it failed.
fn run(name: &str, env: &[(&str, &str)]) -> Result<(String, (String, String)), String> {
    let mut cmd = runner::scenario_command(name, env);
    let before = now();
    let out = cmd.output().map_err(|e| e.to_string())?;
    let after = now();
    if !out.status.success() {
        return Err(format!(
            "{name} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text = String::from_utf8(out.stdout).map_err(|e| e.to_string())?;
    Ok((text, (before, after)))
}

// ---------------------------------------------------------------- spoofing

/// Every host key of `schema`, as the README's Fields table names them:
/// reserved on every line, detected or not.
fn host_keys(schema: Schema) -> Vec<&'static str> {
    match schema {
        Schema::Otel => vec![
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
        ],
        Schema::Ecs => vec![
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
        ],
    }
}

/// Names a record or logger field may try to take: every record key and
/// every host key of the schema, whether this host has the field or not
/// (issue 19: `k8s.pod.name` outside Kubernetes).
fn spoof_names(schema: Schema) -> Vec<&'static str> {
    let mut names = schema.reserved_keys().to_vec();
    names.extend(host_keys(schema));
    names
}

/// A record field and a child logger's field (alone, together, and from two
/// nested loggers) named like a record key or a host field: the line says
/// what the record says, the spoofed value is under `fields.<name>`, the
/// record's own field wins over its logger's and an inner logger's over an
/// outer one's.
fn record_and_logger_fields_cannot_spoof() -> Result<(), String> {
    for schema in [Schema::Otel, Schema::Ecs] {
        let out = Buf::default();
        let guard = pipeline(schema, &out, &[], false);
        let host = guard.cache().load_full();
        let log = guard.logger();
        let before = now();
        let names = spoof_names(schema);
        for &n in &names {
            info!(log, "real message"; n => "spoofed by the record");
            let child = log.new(o!(n => "spoofed by a logger"));
            info!(child, "real message");
            info!(child, "real message"; n => "spoofed by the record");
            let inner = child.new(o!(n => "spoofed by the inner logger"));
            info!(inner, "real message");
        }
        drop(guard);
        let after = now();
        let lines = lines(&out)?;
        if lines.len() != names.len() * 4 {
            return Err(format!("{schema:?}: {} lines", lines.len()));
        }
        let level = if schema == Schema::Otel {
            "INFO"
        } else {
            "info"
        };
        for (i, line) in lines.iter().enumerate() {
            let n = names[i / 4];
            check_record(
                line,
                schema,
                level,
                "real message",
                &host,
                (&before, &after),
            )
            .map_err(|e| format!("field {n:?}: {e}"))?;
            let expected = [
                "spoofed by the record",
                "spoofed by a logger",
                "spoofed by the record",
                "spoofed by the inner logger",
            ][i % 4];
            let renamed = format!("fields.{n}");
            if line.get(&renamed) != Some(&json!(expected)) {
                return Err(format!("{renamed} is not {expected:?}: {line:?}"));
            }
            let spoofed = line
                .0
                .iter()
                .filter(|(_, v)| v.as_str().is_some_and(|s| s.starts_with("spoofed")));
            if spoofed.count() != 1 {
                return Err(format!("a spoofed value twice: {line:?}"));
            }
        }
    }
    Ok(())
}

/// Resource attributes (`Builder::field`) named like a record key or a
/// detected host field are written as `fields.<name>` too; a record field
/// that would be renamed to a name an attribute already holds is dropped
/// (the host fields claim their names first); ECS's `event.dataset` is the
/// service name unless an attribute sets it.
fn resource_attributes_cannot_spoof() -> Result<(), String> {
    for schema in [Schema::Otel, Schema::Ecs] {
        let names: Vec<_> = spoof_names(schema)
            .into_iter()
            .filter(|n| *n != "event.dataset")
            .collect();
        let extra: Vec<_> = names
            .iter()
            .map(|n| (*n, "spoofed by an attribute"))
            .chain([("deployment.environment", "prod")])
            .collect();
        let out = Buf::default();
        let guard = pipeline(schema, &out, &extra, false);
        let host = guard.cache().load_full();
        let (_, level_key, _) = schema.record_keys();
        let before = now();
        info!(guard.logger(), "real message"; "status" => 200);
        info!(guard.logger(), "real message"; level_key => "spoofed by the record");
        drop(guard);
        let after = now();
        let lines = lines(&out)?;
        let level = if schema == Schema::Otel {
            "INFO"
        } else {
            "info"
        };
        for line in &lines {
            check_record(
                line,
                schema,
                level,
                "real message",
                &host,
                (&before, &after),
            )?;
            for n in &names {
                let renamed = format!("fields.{n}");
                if line.get(&renamed) != Some(&json!("spoofed by an attribute")) {
                    return Err(format!("{schema:?}: {renamed} missing: {line:?}"));
                }
            }
            if line.get("deployment.environment") != Some(&json!("prod")) {
                return Err(format!("an ordinary attribute is renamed: {line:?}"));
            }
            if schema == Schema::Ecs && line.get("event.dataset") != Some(&json!("orders")) {
                return Err(format!("event.dataset is not service.name: {line:?}"));
            }
            if line
                .0
                .iter()
                .any(|(_, v)| *v == json!("spoofed by the record"))
            {
                return Err(format!(
                    "the record's {level_key} beside the attribute: {line:?}"
                ));
            }
        }
        if lines.len() != 2 || lines[0].get("status") != Some(&json!(200)) {
            return Err(format!("{lines:?}"));
        }
    }
    // ECS: an attribute `event.dataset` is the dataset (the spec's field,
    // configured), not renamed.
    let out = Buf::default();
    let guard = pipeline(
        Schema::Ecs,
        &out,
        &[("event.dataset", "orders.access")],
        false,
    );
    info!(guard.logger(), "real message");
    drop(guard);
    let line = &lines(&out)?[0];
    if line.get("event.dataset") != Some(&json!("orders.access"))
        || line.get("fields.event.dataset").is_some()
    {
        return Err(format!("event.dataset from an attribute: {line:?}"));
    }
    Ok(())
}

/// `OTEL_RESOURCE_ATTRIBUTES` through `init()`: attributes named like record
/// keys are renamed; `host.name` there is the documented source of the host
/// name (the OpenTelemetry way to set it), and a second host name under the
/// ECS name is renamed.
fn resource_attributes_from_the_environment_cannot_spoof_but_may_set_the_host_name(
) -> Result<(), String> {
    let cases = [
        (
            Schema::Otel,
            "otel",
            "level=DEBUG,msg=all good,ts=1970-01-01T00:00:00Z,target=evil,\
             trace_id=0,host.name=attr-host,deployment.environment=prod",
            vec![
                ("fields.level", "DEBUG"),
                ("fields.msg", "all good"),
                ("fields.ts", "1970-01-01T00:00:00Z"),
                ("fields.target", "evil"),
                ("fields.trace_id", "0"),
                ("host.name", "attr-host"),
                ("deployment.environment", "prod"),
            ],
        ),
        (
            Schema::Ecs,
            "ecs",
            "log.level=debug,message=all good,@timestamp=1970-01-01T00:00:00Z,\
             ecs.version=0.0.1,log.logger=evil,host.name=attr-host,\
             host.hostname=spoof-host,deployment.environment=prod",
            vec![
                ("fields.log.level", "debug"),
                ("fields.message", "all good"),
                ("fields.@timestamp", "1970-01-01T00:00:00Z"),
                ("fields.ecs.version", "0.0.1"),
                ("fields.log.logger", "evil"),
                ("host.hostname", "attr-host"),
                ("fields.host.hostname", "spoof-host"),
                ("deployment.environment", "prod"),
            ],
        ),
    ];
    for (schema, name, attrs, expected) in cases {
        let (text, times) = run(
            "one_record",
            &[
                ("LOG_FORMAT", "json"),
                ("LOG_SCHEMA", name),
                ("OTEL_RESOURCE_ATTRIBUTES", attrs),
            ],
        )?;
        let lines = lines_of(&text)?;
        if lines.len() != 1 {
            return Err(format!("{name}: {text}"));
        }
        let line = &lines[0];
        let host = HostInfo::new().with_host_name("attr-host");
        let (ts, level, msg) = schema.record_keys();
        let level_name = if schema == Schema::Otel {
            "INFO"
        } else {
            "info"
        };
        let time = line.get(ts).and_then(Value::as_str).unwrap_or_default();
        if !(times.0.as_str() <= time && time <= times.1.as_str())
            || line.get(level) != Some(&json!(level_name))
            || line.get(msg) != Some(&json!("real message"))
            || line.get(schema.field(keys::HOST_NAME)) != Some(&json!(host.host_name()))
        {
            return Err(format!("{name}: the attributes changed the record: {text}"));
        }
        for (k, v) in expected {
            if line.get(k) != Some(&json!(v)) {
                return Err(format!("{name}: {k} is not {v:?}: {text}"));
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- property

/// The names the property test draws keys from: every reserved and host
/// name of both schemas, the same with `fields.` (once and twice), and a few
/// plain ones, so that collisions of every kind are frequent.
fn key_pool() -> Vec<String> {
    let mut base: Vec<String> = [Schema::Otel, Schema::Ecs]
        .iter()
        .flat_map(|s| {
            let mut v: Vec<&str> = s.reserved_keys().to_vec();
            v.extend(keys::ALL.map(|k| s.field(k)));
            v
        })
        .map(str::to_owned)
        .collect();
    base.extend(["event.dataset", "a", "b", "", "fields."].map(str::to_owned));
    base.sort();
    base.dedup();
    let prefixed: Vec<String> = base
        .iter()
        .flat_map(|k| [format!("fields.{k}"), format!("fields.fields.{k}")])
        .collect();
    base.extend(prefixed);
    base
}

/// Strings mixing ordinary text with every character JSON must escape and
/// every line break.
fn text() -> impl Strategy<Value = String> {
    let special = prop_oneof![
        (0u32..0x20).prop_map(|c| char::from_u32(c).unwrap()),
        (0x7fu32..0xa0).prop_map(|c| char::from_u32(c).unwrap()),
        proptest::sample::select(vec!['\u{2028}', '\u{2029}', '"', '\\', '/', '\u{feff}']),
    ];
    let c = prop_oneof![3 => any::<char>(), 2 => special, 2 => proptest::char::range(' ', '~')];
    proptest::collection::vec(c, 0..12).prop_map(|v| v.into_iter().collect())
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![4 => proptest::sample::select(key_pool()), 1 => text()]
}

fn pairs(max: usize) -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::vec((key(), text()), 0..max)
}

/// What the line must hold after the record's own keys, by the documented
/// rule: names are claimed by the record keys, the detected host fields, the
/// extra fields, then the record's fields and its loggers' (innermost
/// first); a field whose name is reserved (a record key, a host key of the
/// schema whether detected or not, or a host field written under its own
/// name) is written as `fields.<name>`, and a name already claimed is
/// skipped; ECS's `event.dataset` given as an extra field is the dataset.
/// Written: the fields, then the host fields.
fn model(
    schema: Schema,
    host: &HostInfo,
    extra: &[(String, String)],
    record: &[(String, String)],
    loggers: &[Vec<(String, String)>],
) -> Vec<(String, Value)> {
    let standard = standard_host_fields(schema, host);
    let standard_names: Vec<String> = standard.iter().map(|(k, _)| k.clone()).collect();
    let mut host_out = standard.clone();
    let mut host_plain = standard_names.clone();
    // `Builder::field` twice with one key: the last value, the first place.
    let mut extras: Vec<(String, String)> = Vec::new();
    for (k, v) in extra {
        match extras.iter_mut().find(|(ek, _)| ek == k) {
            Some(e) => e.1 = v.clone(),
            None => extras.push((k.clone(), v.clone())),
        }
    }
    let host_keys = host_keys(schema);
    let host_key = |k: &str| host_keys.contains(&k);
    for (k, v) in &extras {
        let reserved = schema.is_record_key(k)
            || standard_names.contains(k)
            || (host_key(k) && k != "event.dataset");
        let name = if reserved {
            format!("fields.{k}")
        } else {
            k.clone()
        };
        if host_out.iter().any(|(n, _)| *n == name) {
            continue;
        }
        if !reserved {
            host_plain.push(name.clone());
        }
        host_out.push((name, json!(v)));
    }
    if schema == Schema::Ecs && !extras.iter().any(|(k, _)| k == "event.dataset") {
        if let Some(service) = host.service_name() {
            host_plain.push("event.dataset".to_owned());
            host_out.push(("event.dataset".to_owned(), json!(service)));
        }
    }
    let mut fields: Vec<(String, Value)> = Vec::new();
    for (k, v) in record.iter().chain(loggers.iter().rev().flatten()) {
        let reserved = schema.is_record_key(k) || host_plain.contains(k) || host_key(k);
        let name = if reserved {
            format!("fields.{k}")
        } else {
            k.clone()
        };
        if fields.iter().chain(&host_out).any(|(n, _)| *n == name) {
            continue;
        }
        fields.push((name, json!(v)));
    }
    fields.extend(host_out);
    fields
}

/// Arbitrary keys (reserved names of both schemas, `fields.` names,
/// duplicates, control characters) in the record's fields, in nested
/// loggers' fields and in resource attributes, through a pipeline: one
/// valid JSON object on exactly one line, no duplicate key, the record's
/// own keys carry the record's values, and every other member is where the
/// documented rule puts it.
fn random_keys_never_duplicate_or_spoof() -> Result<(), String> {
    let mut runner = TestRunner::new(Config {
        cases: 192,
        failure_persistence: None,
        ..Config::default()
    });
    let case = (
        any::<bool>(),
        text(),
        pairs(6),
        proptest::collection::vec(pairs(4), 0..3),
        pairs(4),
    );
    runner
        .run(&case, |(ecs, msg, record, loggers, extra)| {
            let schema = if ecs { Schema::Ecs } else { Schema::Otel };
            let leaked = |v: &[(String, String)]| -> Vec<(&'static str, String)> {
                v.iter().map(|(k, v)| (leak(k), v.clone())).collect()
            };
            let extra_fields: Vec<(&'static str, &str)> =
                extra.iter().map(|(k, v)| (leak(k), v.as_str())).collect();
            let out = Buf::default();
            let guard = pipeline(schema, &out, &extra_fields, false);
            let host = guard.cache().load_full();
            let mut log: Logger = guard.logger().clone();
            for l in &loggers {
                log = log.new(slog::OwnedKV(Pairs(leaked(l))));
            }
            let before = now();
            let kv = Pairs(leaked(&record));
            log.log(&slog::record!(
                Level::Info,
                "",
                &format_args!("{msg}"),
                slog::BorrowedKV(&kv)
            ));
            drop(guard);
            let after = now();
            let text = out.text();
            prop_assert_eq!(text.matches('\n').count(), 1, "{:?}", text);
            prop_assert_eq!(splitlines_count(&text), 1, "{:?}", text);
            let lines = lines_of(&text).map_err(TestCaseError::fail)?;
            let line = &lines[0];
            let level = if ecs { "info" } else { "INFO" };
            check_record(line, schema, level, &msg, &host, (&before, &after))
                .map_err(TestCaseError::fail)?;
            let first = if ecs { 5 } else { 4 };
            let rest = &line.0[first..];
            let expected = model(schema, &host, &extra, &record, &loggers);
            prop_assert_eq!(rest, &expected[..]);
            Ok(())
        })
        .map_err(|e| e.to_string())
}

// ---------------------------------------------------------------- wide records

/// Records with 10,000 and 20,000 distinct fields (issue 19: the duplicate
/// check once compared each key with every key before it): every field is
/// on the line exactly once, in order, with its value, and the duplicates
/// that follow them all (past the short list the check starts with) are
/// dropped or renamed as documented: a second `f0`, a `fields.level` after a
/// renamed `level`, a logger's field the record has. `benches/wide_records.rs`
/// times the same (10,000 vs 20,000 fields: about 2x, not 4x).
fn wide_records_keep_every_field_once() -> Result<(), String> {
    for n in [10_000, 20_000] {
        let out = Buf::default();
        let guard = Builder::new()
            .global(false)
            .format(Format::Json)
            .flood(None)
            .max_record_bytes(1 << 20)
            .output(Output::Writer(Box::new(out.clone())))
            .init()
            .unwrap();
        let names: Vec<&'static str> = (0..n).map(|i| leak(&format!("f{i}"))).collect();
        let mut fields: Vec<(&'static str, String)> = names
            .iter()
            .enumerate()
            .map(|(i, k)| (*k, i.to_string()))
            .collect();
        fields.extend(
            [
                ("f0", "dup"),
                (names[n - 1], "dup"),
                ("level", "spoofed"),
                ("fields.level", "dup"),
                ("k8s.pod.name", "evilpod"),
            ]
            .map(|(k, v)| (k, v.to_owned())),
        );
        let child = guard.logger().new(slog::OwnedKV(Pairs(vec![
            ("f7", "dup".to_owned()),
            ("g", "from the logger".to_owned()),
            ("fields.k8s.pod.name", "dup".to_owned()),
        ])));
        let kv = Pairs(fields);
        child.log(&slog::record!(
            Level::Info,
            "",
            &format_args!("wide"),
            slog::BorrowedKV(&kv)
        ));
        drop(guard);
        // A failure names the problem, not the whole line.
        let lines = lines(&out).map_err(|e| e.chars().take(200).collect::<String>())?;
        if lines.len() != 1 || guard_truncated(&lines[0]) {
            return Err(format!("{n}: {} lines, or cut", lines.len()));
        }
        let line = &lines[0].0;
        let first = line.iter().position(|(k, _)| k == "f0").unwrap_or(0);
        let mut expected: Vec<(String, Value)> = names
            .iter()
            .enumerate()
            .map(|(i, k)| (k.to_string(), json!(i.to_string())))
            .collect();
        expected.extend([
            ("fields.level".to_owned(), json!("spoofed")),
            ("fields.k8s.pod.name".to_owned(), json!("evilpod")),
            ("g".to_owned(), json!("from the logger")),
        ]);
        let got = &line[first..(first + expected.len()).min(line.len())];
        if got != &expected[..] {
            let at = got.iter().zip(&expected).position(|(a, b)| a != b);
            return Err(format!(
                "{n} fields: first difference at {at:?}: {:?} vs {:?}",
                at.map(|i| &got[i]),
                at.map(|i| &expected[i])
            ));
        }
        if line.get(first + expected.len()).map(|(k, _)| k.as_str()) != Some("host.name") {
            return Err(format!("{n}: the host fields do not follow the fields"));
        }
    }
    Ok(())
}

/// True if the line was cut to `max_record_bytes`.
fn guard_truncated(line: &Members) -> bool {
    line.get(slog_host::format::TRUNCATED_KEY).is_some()
}

// ---------------------------------------------------------------- lines

/// U+2028, U+2029, NEL, the other C1 controls and every line break Python
/// knows, in messages, keys, values, logger values and attribute values:
/// `splitlines()` counts one line per record, and every string reads back.
fn line_separators_never_split_a_line() -> Result<(), String> {
    let data = [
        "next\u{85}line",
        "line\u{2028}separator\u{2029}paragraph",
        "c1 \u{80}\u{9b}31m\u{9d}0;title\u{9c}\u{9f}",
        "breaks \r\n \r \u{b} \u{c} \u{1c} \u{1d} \u{1e} \n",
        "bom \u{feff} nbsp \u{a0} ok",
    ];
    for schema in [Schema::Otel, Schema::Ecs] {
        let out = Buf::default();
        let extra: Vec<_> = data
            .iter()
            .enumerate()
            .map(|(i, d)| (leak(&format!("attr{i}")), *d))
            .collect();
        let guard = pipeline(schema, &out, &extra, false);
        let log = guard.logger();
        let mut records = 0;
        for d in data {
            let key = leak(&format!("k{d}"));
            info!(log, "{}", d; "v" => d, key => d);
            let child = log.new(o!("peer" => d.to_owned()));
            info!(child, "child"; "d" => %d);
            records += 2;
        }
        drop(guard);
        let text = out.text();
        if splitlines_count(&text) != records {
            return Err(format!(
                "{schema:?}: splitlines() sees {} lines for {records} records: {text:?}",
                splitlines_count(&text)
            ));
        }
        let lines = lines_of(&text)?;
        let (_, _, msg) = schema.record_keys();
        for (i, d) in data.iter().enumerate() {
            let (a, b) = (&lines[2 * i], &lines[2 * i + 1]);
            let (key, attr) = (format!("k{d}"), format!("attr{i}"));
            for (line, k, v) in [
                (a, msg, *d),
                (a, "v", *d),
                (a, key.as_str(), *d),
                (b, "peer", *d),
                (b, "d", *d),
                (a, attr.as_str(), *d),
            ] {
                if line.get(k) != Some(&json!(v)) {
                    return Err(format!("{k:?} does not read back as {v:?}: {line:?}"));
                }
            }
        }
    }
    Ok(())
}

/// Every level's name in both schemas: OpenTelemetry's severity texts
/// (Critical is `FATAL`) and ECS's lowercase names.
fn level_names_are_otel_severity_texts_and_ecs_lowercase_names() -> Result<(), String> {
    let cases = [
        (
            Schema::Otel,
            ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"],
        ),
        (
            Schema::Ecs,
            ["trace", "debug", "info", "warn", "error", "critical"],
        ),
    ];
    for (schema, names) in cases {
        let out = Buf::default();
        let guard = pipeline(schema, &out, &[], false);
        let log = guard.logger();
        // slog's macros compile TRACE out of debug builds; `Logger::log`
        // with a hand-built record does not.
        macro_rules! at {
            ($($level:ident),*) => {
                $(log.log(&slog::record!(Level::$level, "", &format_args!("m"), slog::b!()));)*
            };
        }
        at!(Trace, Debug, Info, Warning, Error, Critical);
        drop(guard);
        let (_, level_key, _) = schema.record_keys();
        let got: Vec<Value> = lines(&out)?
            .iter()
            .map(|l| l.get(level_key).cloned().unwrap_or_default())
            .collect();
        if got != names.map(|n| json!(n)) {
            return Err(format!("{schema:?}: {got:?}"));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- ECS spec

/// One field of the ecs-logging spec.
struct SpecField {
    name: String,
    kind: String,
    required: bool,
    index: Option<u64>,
    top_level: bool,
}

/// The fields of `tests/fixtures/ecs-logging-spec.json`.
fn spec() -> Vec<SpecField> {
    let text = include_str!("../fixtures/ecs-logging-spec.json");
    let spec: Value = serde_json::from_str(text).expect("the fixture is JSON");
    spec["fields"]
        .as_object()
        .expect("the spec has fields")
        .iter()
        .map(|(name, f)| SpecField {
            name: name.clone(),
            kind: f["type"]
                .as_str()
                .expect("every field has a type")
                .to_owned(),
            required: f["required"].as_bool().unwrap_or(false),
            index: f["index"].as_u64(),
            top_level: f["top_level_field"].as_bool().unwrap_or(false),
        })
        .collect()
}

/// RFC 3339 `date-time`: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    if b.len() < 20
        || !(digits(0..4) && digits(5..7) && digits(8..10) && digits(11..13))
        || !(digits(14..16) && digits(17..19))
        || (b[4], b[7], b[10], b[13], b[16]) != (b'-', b'-', b'T', b':', b':')
    {
        return false;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    rest == "Z"
        || (rest.len() == 6
            && matches!(rest.as_bytes()[0], b'+' | b'-')
            && rest.as_bytes()[3] == b':'
            && rest[1..3]
                .bytes()
                .chain(rest[4..].bytes())
                .all(|d| d.is_ascii_digit()))
}

/// Checks one line against the spec: the indexed fields first and in their
/// order, `ecs.version` next (the spec's README: the fourth key of the
/// minimal line) and equal to [`ECS_VERSION`], every required field there,
/// every spec field there with the spec's type, top-level fields as dotted
/// top-level keys (no object on the way), and `event.dataset` as the
/// spec's default (the service name).
fn check_ecs_line(spec: &[SpecField], line: &Members) -> Result<(), String> {
    let keys = line.keys();
    let mut indexed: Vec<&SpecField> = spec.iter().filter(|f| f.index.is_some()).collect();
    indexed.sort_by_key(|f| f.index);
    let order: Vec<&str> = indexed
        .iter()
        .filter(|f| f.required || line.get(&f.name).is_some())
        .map(|f| f.name.as_str())
        .collect();
    if keys.len() < order.len() || keys[..order.len()] != order[..] {
        return Err(format!("the line starts {keys:?}, the spec says {order:?}"));
    }
    if line.get("message").is_none() {
        return Err(format!("no message: {keys:?}"));
    }
    if keys.get(order.len()) != Some(&"ecs.version")
        || line.get("ecs.version") != Some(&json!(ECS_VERSION))
    {
        return Err(format!("ecs.version is not the fourth key: {keys:?}"));
    }
    for f in spec {
        let Some(v) = line.get(&f.name) else {
            if f.required {
                return Err(format!("required {} missing: {keys:?}", f.name));
            }
            continue;
        };
        let typed = match f.kind.as_str() {
            "datetime" => v.as_str().is_some_and(is_rfc3339),
            "string" => v.is_string(),
            "integer" => v.is_i64() || v.is_u64(),
            "object" => v.is_object(),
            other => {
                return Err(format!(
                    "the spec has a type this test does not know: {other}"
                ))
            }
        };
        if !typed {
            return Err(format!("{} is not a {}: {v}", f.name, f.kind));
        }
        if f.top_level {
            // A dotted top-level key, and no key on the way that a reader
            // would have to merge it into (`log` for `log.level`).
            let on_the_way = f.name.match_indices('.').map(|(at, _)| &f.name[..at]);
            if let Some(p) = on_the_way.into_iter().find(|p| line.get(p).is_some()) {
                return Err(format!("{} is also under the key {p:?}", f.name));
            }
        }
    }
    if let Some(service) = line.get("service.name") {
        if line.get("event.dataset") != Some(service) {
            return Err(format!("event.dataset is not service.name: {keys:?}"));
        }
    }
    Ok(())
}

/// Lines of the `ecs` schema, from `init()` with `LOG_SCHEMA=ecs` (slog and
/// `log` records, a spoofing field, a child logger) and from private
/// pipelines with and without source locations, follow the spec.
fn ecs_lines_follow_the_ecs_logging_spec() -> Result<(), String> {
    let spec = spec();
    for (name, required) in [
        ("@timestamp", true),
        ("log.level", true),
        ("ecs.version", true),
    ] {
        if !spec
            .iter()
            .any(|f| f.name == name && f.required == required)
        {
            return Err(format!("the fixture does not say {name} is required"));
        }
    }
    let (text, _) = run(
        "ecs",
        &[
            ("LOG_FORMAT", "json"),
            ("LOG_SCHEMA", "ecs"),
            ("RUST_LOG", "trace"),
            ("OTEL_SERVICE_NAME", "orders"),
        ],
    )?;
    let mut all = lines_of(&text)?;
    if all.len() != 9 {
        return Err(format!("{} lines from init(): {text}", all.len()));
    }
    for source in [false, true] {
        let out = Buf::default();
        let guard = pipeline(
            Schema::Ecs,
            &out,
            &[("deployment.environment", "prod")],
            source,
        );
        info!(guard.logger(), "hello"; "n" => 1);
        slog::warn!(guard.logger(), "");
        drop(guard);
        let lines = lines(&out)?;
        if source {
            let line = lines[0].get("log.origin.file.line");
            if !line.is_some_and(Value::is_u64) {
                return Err(format!("no source line: {:?}", lines[0]));
            }
        }
        all.extend(lines);
    }
    for line in &all {
        check_ecs_line(&spec, line).map_err(|e| format!("{e}\nin {line:?}"))?;
    }
    Ok(())
}

/// The spec check is not vacuous: lines that break the spec fail it.
fn the_spec_check_rejects_lines_that_break_it() -> Result<(), String> {
    let spec = spec();
    let good = r#"{"@timestamp":"2026-01-02T03:04:05.000006Z","log.level":"info","message":"m","ecs.version":"8.11.0","log.logger":"a","service.name":"s","event.dataset":"s"}"#;
    check_ecs_line(&spec, &Members::parse_unique(good)?)?;
    let bad = [
        r#"{"log.level":"info","@timestamp":"2026-01-02T03:04:05Z","message":"m","ecs.version":"8.11.0"}"#,
        r#"{"@timestamp":"2026-01-02T03:04:05Z","log.level":"info","message":"m"}"#,
        r#"{"@timestamp":"2026-01-02T03:04:05Z","log":{"level":"info"},"message":"m","ecs.version":"8.11.0"}"#,
        r#"{"@timestamp":"yesterday","log.level":"info","message":"m","ecs.version":"8.11.0"}"#,
        r#"{"@timestamp":"2026-01-02T03:04:05Z","log.level":"info","message":"m","ecs.version":"8.11.0","log.origin.file.line":"12"}"#,
        r#"{"@timestamp":"2026-01-02T03:04:05Z","log.level":5,"message":"m","ecs.version":"8.11.0"}"#,
        r#"{"@timestamp":"2026-01-02T03:04:05Z","log.level":"info","message":"m","ecs.version":"8.11.0","ecs":"x"}"#,
        r#"{"@timestamp":"2026-01-02T03:04:05Z","log.level":"info","message":"m","ecs.version":"8.11.0","service.name":"s"}"#,
    ];
    for line in bad {
        if check_ecs_line(&spec, &Members::parse(line)?).is_ok() {
            return Err(format!("accepted: {line}"));
        }
    }
    Ok(())
}

/// The duplicate-key parser sees what serde_json hides.
fn duplicate_keys_are_detected() -> Result<(), String> {
    let line = r#"{"level":"INFO","msg":"real","level":"DEBUG"}"#;
    let plain: Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
    if plain["level"] != "DEBUG" {
        return Err(format!("serde_json kept {}", plain["level"]));
    }
    let m = Members::parse(line)?;
    if m.duplicate() != Some("level") || m.keys() != ["level", "msg", "level"] {
        return Err(format!("{m:?}"));
    }
    if Members::parse_unique(line).is_ok() || Members::parse("[1]").is_ok() {
        return Err("accepted a duplicate or a non-object".into());
    }
    Ok(())
}

crate::suite!(
    child,
    checks: [
        duplicate_keys_are_detected,
        record_and_logger_fields_cannot_spoof,
        resource_attributes_cannot_spoof,
        resource_attributes_from_the_environment_cannot_spoof_but_may_set_the_host_name,
        random_keys_never_duplicate_or_spoof,
        wide_records_keep_every_field_once,
        line_separators_never_split_a_line,
        level_names_are_otel_severity_texts_and_ecs_lowercase_names,
        ecs_lines_follow_the_ecs_logging_spec,
        the_spec_check_rejects_lines_that_break_it,
    ]
);
