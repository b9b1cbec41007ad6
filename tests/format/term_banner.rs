//! Banner mode (issue 11): in the term formats the host fields are written
//! once, in a banner record before the first record and again when the host
//! snapshot changes, not on every record; `host_fields_per_record(true)`
//! puts them on every record instead; JSON lines always carry them.
//!
//! Private pipelines (`Builder::new().global(false)`) in this process; the
//! host changes through the guard's cache (`set_probe`), as a refresh would
//! change it. A suite of the `format` test binary (`main.rs`, `harness =
//! false`).

use crate::support::{capture, runner};

use capture::Buf;
use slog::{info, o, warn};
use slog_host::format::BANNER_MESSAGE;
use slog_host::host::HostInfo;
use slog_host::{Builder, Format, LogGuard, Output, Schema};

fn pipeline(format: Format, out: &Buf, per_record: bool, filter: &str) -> LogGuard {
    Builder::new()
        .global(false)
        .format(format)
        .filter(filter)
        .unwrap()
        .flood(None)
        .service("orders", "1.4.2")
        .field("deployment.environment", "prod")
        .field("evil", "a\nb\u{1b}[2J")
        .host_fields_per_record(per_record)
        .output(Output::Writer(Box::new(out.clone())))
        .init()
        .unwrap()
}

/// `, key: value` for every field of `info` in the order the formats write
/// them (detected fields, then extra ones), escaped as the term formats
/// escape.
fn shown(info: &HostInfo) -> String {
    let mut fields: Vec<(&str, String)> = Vec::new();
    let mut add = |k: &'static str, v: Option<&str>| {
        if let Some(v) = v {
            fields.push((k, v.to_owned()));
        }
    };
    add("host.name", info.host_name());
    add("host.ip", info.ip_str());
    add("process.pid", Some(&info.pid().to_string()));
    add("service.name", info.service_name());
    add("service.version", info.service_version());
    add("k8s.pod.name", info.pod_name());
    add("k8s.namespace.name", info.namespace());
    add("k8s.node.name", info.node_name());
    add("service.instance.id", info.instance_id());
    add("container.id", info.container_id());
    for (k, v) in info.extra_fields() {
        add(k, Some(v));
    }
    fields
        .iter()
        .map(|(k, v)| {
            format!(
                ", {k}: {}",
                v.replace('\n', "\\n").replace('\u{1b}', "\\u{1b}")
            )
        })
        .collect()
}

/// What follows the level and the target on a line (`INFO target: `).
fn after_level(line: &str) -> &str {
    let rest = ["TRCE", "DEBG", "INFO", "WARN", "ERRO", "CRIT"]
        .iter()
        .filter_map(|l| {
            line.find(&format!(" {l} "))
                .map(|at| &line[at + l.len() + 2..])
        })
        .next()
        .unwrap_or_else(|| panic!("no level in {line:?}"));
    rest.split_once(": ").map_or(rest, |(_, r)| r)
}

fn lines(out: &Buf) -> Vec<String> {
    let text = out.text();
    assert!(text.ends_with('\n'), "{text:?}");
    text.lines().map(str::to_owned).collect()
}

fn is_banner(line: &str) -> bool {
    after_level(line).starts_with(&format!("{BANNER_MESSAGE}, "))
}

/// Host fields' names: none may be on a record in banner mode.
const HOST_KEYS: &[&str] = &[
    "host.name:",
    "process.pid:",
    "service.name:",
    "service.instance.id:",
    "deployment.environment:",
    "evil:",
];

fn the_banner_comes_first_and_records_carry_no_host_fields() {
    for format in [Format::Full, Format::Compact] {
        let out = Buf::default();
        let guard = pipeline(format, &out, false, "info");
        let host = guard.cache().load_full();
        info!(guard.logger(), "one"; "a" => 1);
        let child = guard.logger().new(o!("conn" => 7));
        warn!(child, "two"; "b" => 2);
        info!(guard.logger(), "three");
        drop(guard);
        let lines = lines(&out);
        let expected_banner = format!("{BANNER_MESSAGE}{}", shown(&host));
        assert_eq!(after_level(&lines[0]), expected_banner, "{format:?}");
        assert!(lines[0].contains(" INFO "), "{}", lines[0]);
        assert!(lines[0].contains("evil: a\\nb\\u{1b}[2J"), "escaped");
        let rest = &lines[1..];
        // Compact: the child logger's fields on a line of their own.
        let expected = match format {
            Format::Compact => vec!["one, a: 1", "conn: 7", "two, b: 2", "three"],
            _ => vec!["one, a: 1", "two, b: 2, conn: 7", "three"],
        };
        let got: Vec<&str> = rest
            .iter()
            .map(|l| match l.strip_prefix("conn: ") {
                Some(_) => l.as_str(),
                None => after_level(l),
            })
            .collect();
        assert_eq!(got, expected, "{format:?}: {lines:#?}");
        for l in rest {
            assert!(
                HOST_KEYS.iter().all(|k| !l.contains(k)),
                "host fields on a record: {l}"
            );
        }
    }
}

fn the_banner_is_written_whatever_the_level_filter() {
    let out = Buf::default();
    let guard = pipeline(Format::Full, &out, false, "warn");
    info!(guard.logger(), "filtered");
    warn!(guard.logger(), "kept");
    drop(guard);
    let lines = lines(&out);
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert!(is_banner(&lines[0]), "{lines:#?}");
    assert_eq!(after_level(&lines[1]), "kept");
}

fn a_host_change_writes_a_new_banner_and_no_change_writes_none() {
    let out = Buf::default();
    let guard = pipeline(Format::Full, &out, false, "info");
    let before = guard.cache().load_full();
    info!(guard.logger(), "before the change");
    // Written with the old snapshot before the host changes.
    guard.flush();
    let changed = guard
        .cache()
        .set_probe(|| {
            Ok(HostInfo::new()
                .with_host_name("after-host")
                .with_service("orders", "2.0"))
        })
        .unwrap();
    assert!(changed);
    let after = guard.cache().load_full();
    info!(guard.logger(), "after the change");
    guard.flush();
    // The same snapshot again: not swapped, no banner.
    assert!(!guard.cache().refresh().unwrap());
    info!(guard.logger(), "nothing changed");
    drop(guard);
    let lines = lines(&out);
    let got: Vec<&str> = lines.iter().map(|l| after_level(l)).collect();
    let old_banner = format!("{BANNER_MESSAGE}{}", shown(&before));
    let new_banner = format!("{BANNER_MESSAGE}{}", shown(&after));
    assert!(
        new_banner.contains("host.name: after-host, "),
        "{new_banner}"
    );
    assert_eq!(
        got,
        vec![
            old_banner.as_str(),
            "before the change",
            new_banner.as_str(),
            "after the change",
            "nothing changed",
        ]
    );
}

fn host_fields_per_record_puts_them_on_every_record() {
    for format in [Format::Full, Format::Compact] {
        let out = Buf::default();
        let guard = pipeline(format, &out, true, "info");
        let host = guard.cache().load_full();
        info!(guard.logger(), "one"; "a" => 1);
        info!(guard.logger(), "two");
        drop(guard);
        let lines = lines(&out);
        let fields = shown(&host);
        assert_eq!(
            lines.iter().map(|l| after_level(l)).collect::<Vec<_>>(),
            vec![format!("one, a: 1{fields}"), format!("two{fields}")],
            "{format:?}"
        );
        assert!(!lines.iter().any(|l| is_banner(l)));
    }
}

fn per_record_host_fields_cannot_be_spoofed_by_record_or_logger_fields() {
    for format in [Format::Full, Format::Compact] {
        let out = Buf::default();
        let guard = pipeline(format, &out, true, "info");
        let host = guard.cache().load_full();
        let child = guard
            .logger()
            .new(slog::o!("process.pid" => "spoofed pid", "peer" => "p"));
        info!(child, "one"; "host.name" => "spoofed host");
        drop(guard);
        let lines = lines(&out);
        assert_eq!(
            lines.len(),
            1,
            "{format:?}: the logger's fields are on the record's line"
        );
        let body = after_level(&lines[0]);
        let fields = shown(&host);
        assert_eq!(
            body,
            format!("one, fields.host.name: spoofed host, peer: p, fields.process.pid: spoofed pid{fields}"),
            "{format:?}"
        );
        assert_eq!(body.matches(" host.name: ").count(), 1, "{body}");
        assert_eq!(body.matches(" process.pid: ").count(), 1, "{body}");
    }
}

fn json_lines_always_carry_the_host_fields() {
    for per_record in [false, true] {
        let out = Buf::default();
        let guard = pipeline(Format::Json, &out, per_record, "info");
        let host = guard.cache().load_full();
        info!(guard.logger(), "one");
        info!(guard.logger(), "two");
        drop(guard);
        let lines = out.json_lines();
        assert_eq!(lines.len(), 2, "no banner in JSON");
        for v in lines {
            assert_eq!(v["host.name"], host.host_name().unwrap());
            assert_eq!(v["process.pid"], host.pid());
            assert_eq!(v["deployment.environment"], "prod");
        }
    }
}

/// A private term pipeline on a host outside Kubernetes without a service
/// version: `host.name`, `process.pid`, `service.name` and the extra fields
/// `extra` (the probe's snapshot, in `schema`).
fn outside_kubernetes(
    format: Format,
    out: &Buf,
    per_record: bool,
    schema: Schema,
    extra: &'static [(&'static str, &'static str)],
) -> LogGuard {
    let guard = Builder::new()
        .global(false)
        .format(format)
        .schema(schema)
        .flood(None)
        .host_fields_per_record(per_record)
        .output(Output::Writer(Box::new(out.clone())))
        .init()
        .unwrap();
    guard
        .cache()
        .set_probe(move || {
            let mut h = HostInfo::new()
                .with_host_name("web-1")
                .with_pid(42)
                .with_service("orders", "")
                .with_schema(schema);
            for (k, v) in extra {
                h = h.with_field(k, *v);
            }
            Ok(h)
        })
        .unwrap();
    let host = guard.cache().load_full();
    // The case this is about: host keys this host does not have.
    assert_eq!(
        (host.pod_name(), host.namespace(), host.service_version()),
        (None, None, None)
    );
    guard
}

/// What a line shows after the level and target, the compact layout's
/// lines of a logger's fields as they are.
fn bodies(lines: &[String]) -> Vec<&str> {
    lines
        .iter()
        .map(|l| match l.starts_with("fields.") {
            true => l.as_str(),
            false => after_level(l),
        })
        .collect()
}

/// Issue 19: record and logger fields named like a host key of the schema
/// that this host lacks (`k8s.pod.name`, `service.version`), or like an
/// extra host field, are written as `fields.<name>` on every term line, in
/// banner mode and with the host fields per record, in both layouts; so is a
/// forged banner (a record with the banner's target and message). Other
/// names stay as they are.
fn term_lines_cannot_spoof_absent_host_fields_or_a_banner() {
    for per_record in [false, true] {
        for format in [Format::Full, Format::Compact] {
            let out = Buf::default();
            let extra = &[("deployment.environment", "prod")];
            let guard = outside_kubernetes(format, &out, per_record, Schema::Otel, extra);
            let log = guard.logger();
            let child = log.new(o!("k8s.namespace.name" => "kube-system"));
            info!(child, "one"; "k8s.pod.name" => "evilpod");
            info!(log, "two"; "service.version" => "9.9");
            info!(log, "three"; "deployment.environment" => "dev");
            info!(log, "four"; "user" => "ann");
            info!(log, #"slog_host", "{}", BANNER_MESSAGE; "host.name" => "evil-host");
            drop(guard);
            let lines = lines(&out);
            let host = ", host.name: web-1, process.pid: 42, service.name: orders, \
                        deployment.environment: prod";
            let expected: Vec<String> = match (per_record, format) {
                (false, Format::Full) => vec![
                    format!("{BANNER_MESSAGE}{host}"),
                    "one, fields.k8s.pod.name: evilpod, fields.k8s.namespace.name: kube-system"
                        .into(),
                    "two, fields.service.version: 9.9".into(),
                    "three, fields.deployment.environment: dev".into(),
                    "four, user: ann".into(),
                    format!("{BANNER_MESSAGE}, fields.host.name: evil-host"),
                ],
                (false, _) => vec![
                    format!("{BANNER_MESSAGE}{host}"),
                    "fields.k8s.namespace.name: kube-system".into(),
                    "one, fields.k8s.pod.name: evilpod".into(),
                    "two, fields.service.version: 9.9".into(),
                    "three, fields.deployment.environment: dev".into(),
                    "four, user: ann".into(),
                    format!("{BANNER_MESSAGE}, fields.host.name: evil-host"),
                ],
                (true, _) => vec![
                    format!(
                        "one, fields.k8s.pod.name: evilpod, fields.k8s.namespace.name: kube-system{host}"
                    ),
                    format!("two, fields.service.version: 9.9{host}"),
                    format!("three, fields.deployment.environment: dev{host}"),
                    format!("four, user: ann{host}"),
                    format!("{BANNER_MESSAGE}, fields.host.name: evil-host{host}"),
                ],
            };
            assert_eq!(
                bodies(&lines),
                expected,
                "{format:?}, per record: {per_record}"
            );
        }
    }
}

/// The same in ECS, with the host fields on every record: the ECS names are
/// reserved (`orchestrator.resource.name`, `event.dataset`), otel's are
/// ordinary names there; an extra field keeps its own name (`host.name` is
/// not shown as ECS's `host.hostname`) and one named like a host key is
/// renamed, as in JSON.
fn ecs_term_lines_reserve_the_ecs_host_keys() {
    for format in [Format::Full, Format::Compact] {
        let out = Buf::default();
        let extra = &[("host.name", "other"), ("host.hostname", "spoof")];
        let guard = outside_kubernetes(format, &out, true, Schema::Ecs, extra);
        let log = guard.logger();
        info!(log, "one"; "orchestrator.resource.name" => "evilpod");
        info!(log, "two"; "k8s.pod.name" => "not an ECS host key");
        info!(log, "three"; "event.dataset" => "spoofed");
        info!(log, "four"; "host.name" => "an extra field's name");
        drop(guard);
        let host = ", host.hostname: web-1, process.pid: 42, service.name: orders, \
                    host.name: other, fields.host.hostname: spoof";
        assert_eq!(
            bodies(&lines(&out)),
            vec![
                format!("one, fields.orchestrator.resource.name: evilpod{host}"),
                format!("two, k8s.pod.name: not an ECS host key{host}"),
                format!("three, fields.event.dataset: spoofed{host}"),
                format!("four, fields.host.name: an extra field's name{host}"),
            ],
            "{format:?}"
        );
    }
}

crate::suite!(
    tests: [
        the_banner_comes_first_and_records_carry_no_host_fields,
        the_banner_is_written_whatever_the_level_filter,
        a_host_change_writes_a_new_banner_and_no_change_writes_none,
        host_fields_per_record_puts_them_on_every_record,
        per_record_host_fields_cannot_be_spoofed_by_record_or_logger_fields,
        json_lines_always_carry_the_host_fields,
        term_lines_cannot_spoof_absent_host_fields_or_a_banner,
        ecs_term_lines_reserve_the_ecs_host_keys,
    ]
);
