//! What record data cannot do to a line, a terminal or a file.
//!
//! # Security
//!
//! Record data is hostile: a user name, a URL or an error message from a peer can hold anything.
//!
//! # Term formats (`full`, `compact`)
//!
//! They keep slog-term's look (`2026-11-21T23:05:09.123456Z INFO request done, status: 200`, the short level names
//! `TRCE` `DEBG` `INFO` `WARN` `ERRO` `CRIT`, its colors on a terminal), but no message, key or value (of the
//! record or of a child logger) is written raw. Every control character and every invisible format character
//! becomes a visible escape:
//!
//! | in the data | written as |
//! |---|---|
//! | newline, carriage return, tab | `\n`, `\r`, `\t` |
//! | other C0 controls, DEL | `\u{0}` … `\u{1f}`, `\u{7f}` (ESC is `\u{1b}`) |
//! | C1 controls (U+0080–U+009F, e.g. NEL, 8-bit CSI) | `\u{80}` … `\u{9f}` |
//! | line and paragraph separators U+2028, U+2029 | `\u{2028}`, `\u{2029}` |
//! | format characters, Unicode general category Cf (all 170 of Unicode 16.0): the bidirectional controls U+202A–U+202E (LRE, RLE, PDF, LRO, RLO), U+2066–U+2069 (LRI, RLI, FSI, PDI), U+200E, U+200F, U+061C; the zero-width U+200B–U+200D, U+2060, U+FEFF; the soft hyphen U+00AD; the tags U+E0001, U+E0020–U+E007F; U+0600–U+0605, U+06DD, U+070F, U+0890, U+0891, U+08E2, U+180E, U+2061–U+2064, U+206A–U+206F, U+FFF9–U+FFFB, U+110BD, U+110CD, U+13430–U+1343F, U+1BCA0–U+1BCA3, U+1D173–U+1D17A | `\u{202e}`, `\u{2066}`, `\u{200b}`, `\u{ad}`, … |
//! | backslash | `\\` (so every escape reads back unambiguously) |
//!
//! So `info!(log, "login"; "user" => "bob\nJan 01 00:00:00.000 CRIT FORGED admin login")` stays one line,
//! `... INFO login, user: bob\nJan 01 00:00:00.000 CRIT FORGED admin login`, and a value holding
//! `ESC ] 0 ; title BEL` (rename the terminal) or `ESC [ 2 J` (clear the screen) is shown as
//! `\u{1b}]0;title\u{7}` or `\u{1b}[2J`, with or without colors. The only escape sequences on a terminal
//! are the colors slog-term's decorator writes. Every record is exactly one line; the compact format also
//! writes a child logger's fields on lines of their own when they change, as slog-term does, and those are
//! escaped the same way, and so is the banner with the host fields (a resource attribute is data too).
//! The format characters are invisible but act: a right-to-left override or isolate makes a terminal show
//! text in another order than it has (the "Trojan Source" class, CVE-2021-42574), a zero-width space makes
//! `ad\u{200b}min` look like `admin`; so `user: \u{202e}nimda` is shown as it is, not as `user: admin`.
//! Text without these characters is written unchanged (other non-ASCII text too, right-to-left scripts
//! included); text that is only ASCII is checked eight bytes at a time, and only a non-ASCII character whose
//! first byte can start an escaped one is decoded and looked up.
//!
//! **Reserved names.** A term line has no record keys (time, level and message are in their places), but it
//! can show host fields: the banner does, and every record does with `Builder::host_fields_per_record(true)`.
//! So the rule of the JSON lines below holds for the host keys: on every line, in banner mode too, a field
//! of the record, of a logger or of a span named like a host key of the schema (`Schema::host_keys()`,
//! detected or not) or like an extra host field is written as `fields.<name>` (`fields.k8s.pod.name:
//! evilpod`), and a record that copies the banner's target and message (`info!(log, #"slog_host", "host
//! fields"; "host.name" => "evil")`) shows `fields.host.name: evil`: only the banner writes host fields under
//! their own names. Extra host fields are written under their own names, or as `fields.<name>` when named like
//! a host key, as in JSON. `TermFormat` on its own (no host fields) writes every name as given.
//! `tests/format/term_banner.rs` checks both modes and layouts, and `ecs`.
//!
//! The layout is written by this crate (slog-term's formats write data raw and cannot be told otherwise),
//! part for part as slog-term's `FullFormat` and `CompactFormat` write it (a unit test compares them), into
//! one buffer per record: without colors a record is one `write_all`. `TermFormat::full(w)` and
//! `TermFormat::compact(w)` give the same formats without `init()`. `tests/format/term_escape.rs` logs the injection
//! cases (messages, values, keys, child-logger values, `log` records; Trojan Source strings, zero-width
//! characters, and all 170 format characters in one string) in both formats, piped and on a pseudo-terminal
//! with colors, plus a property test over random strings; the unit test
//! `every_format_character_is_escaped_and_nothing_else` checks every code point against the Cf list of the
//! Unicode Character Database 16.0 (`tests/fixtures/unicode-cf.txt`); `cargo bench -p slog-host-integration --bench escape`
//! compares the cost with slog-term's own `FullFormat` for a record without special characters (target: at
//! most 5 % slower). Measured here (shared, loaded 2-core VM): slog-term 1288 ns, escaping `full` 848 ns per
//! record, paired median ratio 0.57 to 0.66; by callgrind 9,618 against 6,285 instructions per record.
//!
//! # JSON
//!
//! Every line is one JSON object ending with the only `\n` it holds. In every string (messages, keys and values
//! of records, loggers and host fields) `"` and `\` are written `\"` and `\\`; newline, carriage return and tab
//! `\n`, `\r`, `\t`; every other C0 control, DEL, C1 control (U+0080–U+009F, NEL U+0085 among them), U+2028 and
//! U+2029 as `\uXXXX` (`\u001b`, `\u0085`, `\u2028`). So a line is one line for JSON parsers, `jq`, collectors
//! that split on Unicode line breaks, and Python's `str.splitlines()` (which also splits on U+0085, U+2028,
//! U+2029, `\x0b`, `\x0c` and `\x1c`–`\x1e`). NaN and infinities are written as strings.
//!
//! The format characters (Cf) that the term formats escape are data in JSON and are written as they are, raw
//! UTF-8, not `\uXXXX`: a JSON parser gives back exactly the string that was logged (a U+202E in a user name
//! is part of that name), and they break no line. What shows JSON lines to a person (`less`, `cat` of a log
//! file, a log viewer) may render them; `jq -a` writes every non-ASCII character as `\uXXXX`.
//!
//! **Reserved keys.** What a line says about its record and its host comes from the pipeline, never from
//! application data:
//!
//! | | `otel` | `ecs` |
//! |---|---|---|
//! | record keys (`Schema::reserved_keys()`) | `ts`, `level`, `msg`, `target`, `code.file.path`, `code.line.number`, `trace_id`, `span_id`, `trace_flags` | `@timestamp`, `log.level`, `message`, `ecs.version`, `log.logger`, `log.origin.file.name`, `log.origin.file.line`, `trace.id`, `span.id` |
//! | host keys (`Schema::host_keys()`), on every line whether this host has the field or not | `host.name`, `host.ip`, `process.pid`, `service.name`, `service.version`, `service.instance.id`, `k8s.pod.name`, `k8s.namespace.name`, `k8s.node.name`, `container.id` ([`host::keys`](crate::host::keys)) | `host.hostname`, `host.ip`, `process.pid`, `service.name`, `service.version`, `service.node.name`, `orchestrator.resource.name`, `orchestrator.namespace`, `kubernetes.node.name`, `container.id`, `event.dataset` |
//! | extra host fields on the line (`OTEL_RESOURCE_ATTRIBUTES`, `Builder::field`) | their names | their names |
//!
//! A field with a reserved name is written as `fields.<name>`, whether it comes from the record, from a logger
//! (`o!`), from a `log` record's key-values, from a `tracing` event or from an entered span's fields, or is an
//! extra host field (`Builder::field`, or an `OTEL_RESOURCE_ATTRIBUTES` key that is not one of the standard
//! fields). The host keys are reserved whether or not they were detected, so that record data cannot pass for a
//! host field this host does not have: outside Kubernetes, `info!(log, "x"; "k8s.pod.name" => "evilpod")` is
//! written `"fields.k8s.pod.name":"evilpod"`, never `"k8s.pod.name":"evilpod"` (a consumer could not tell that
//! from a detected pod name), and so are `service.version` without a version, `container.id` outside a
//! container, and every other host key of the schema. Each schema reserves its own names: in `ecs`,
//! `orchestrator.resource.name` is reserved and `k8s.pod.name` is an ordinary field. `info!(log, "login";
//! "level" => "DEBUG")` is written
//! `{"ts":"…","level":"INFO","msg":"login",…,"fields.level":"DEBUG",…}`, and
//! `OTEL_RESOURCE_ATTRIBUTES='level=INFO,msg=all good'` adds `"fields.level":"INFO","fields.msg":"all good"`
//! to every line. The rule is the same in both schemas. The standard keys of `OTEL_RESOURCE_ATTRIBUTES`
//! (`host.name`, `service.name`, `k8s.pod.name`, ...) are not extra fields: they set those host fields, as the
//! Fields table says and as OpenTelemetry SDKs do; `Builder::field("host.name", ..)` adds an extra field, which
//! becomes `fields.host.name` beside the detected `host.name` (and `Builder::field("k8s.pod.name", ..)` becomes
//! `fields.k8s.pod.name`, a pod or not). One exception, in `ecs`: an extra field `event.dataset` is the dataset,
//! as the ecs-logging specification lets a service configure it.
//!
//! **No duplicate keys.** Names are claimed in this order, and a name already taken is skipped (the first
//! wins): the record keys; the host fields (detected ones, extra ones, `event.dataset`); the record's own
//! fields; its loggers' fields, innermost logger first. So the record's own field wins over its logger's and an
//! inner logger's over an outer one's; `fields.level` written by the application and a renamed `level` are
//! one name; and a record field that would become `fields.level` is skipped when a resource attribute `level`
//! already holds that name (the host fields are written at the end of the line but claim their names first).
//!
//! **Level names.** `TRACE`, `DEBUG`, `INFO`, `WARN`, `ERROR`, `FATAL`, OpenTelemetry's severity texts (slog's
//! abbreviations `TRCE`, `DEBG`, `ERRO`, `CRIT` are severities no log backend recognises); ECS: `trace`,
//! `debug`, `info`, `warn`, `error`, `critical`. slog's Critical is `FATAL` because it is slog's most severe
//! level and slog's six levels are .NET's (`Critical` … `Trace`), whose `Critical` the OpenTelemetry logs data
//! model maps to `FATAL` (severity number 21; Appendix B of its data model appendix, as for ETW's `CRITICAL`).
//! Syslog's Critical maps to `ERROR2` there only because syslog has Alert and Emergency above it; slog has
//! nothing above Critical. `CRITICAL` is not an OpenTelemetry severity text.
//!
//! **ECS.** With `LOG_SCHEMA=ecs` every line starts `{"@timestamp":…,"log.level":…,"message":…,"ecs.version":…`,
//! the order of elastic/ecs-logging's `spec/spec.json`, with dotted top-level keys (`"log.level"`, never
//! `"log":{"level":…}`), the spec's types, and `event.dataset` set to the spec's default, the service name. A
//! field named like the first part of a dotted key (`log`, `host`) is written as given; Elasticsearch cannot map
//! it beside `log.level` or `host.hostname`, so avoid such names.
//!
//! `tests/format/json.rs` checks all of this: the spoofing cases in both schemas (a record field, a child
//! logger's field, `Builder::field` and, through `init()`, `OTEL_RESOURCE_ATTRIBUTES`; every record key and host
//! key, detected or not) with a parser that sees duplicate keys (serde_json keeps the last one silently);
//! `tests/tracing_events.rs` (`absent_host_keys_cannot_be_spoofed_from_any_source`) spoofs every host key of
//! both schemas from a slog record, a slog logger, a `log` record, a `tracing` event and a span on a host
//! outside Kubernetes, with `LOG_SCHEMA` `otel` and `ecs`; a property test with arbitrary keys (reserved
//! names, `fields.` names, duplicates, control characters) in record, nested-logger and resource-attribute
//! fields against the rule above; `splitlines()` == records with U+2028, U+2029, U+0085 and C1 controls in
//! messages, keys and values; each level's name; and every ECS line against the spec, kept as
//! `tests/fixtures/ecs-logging-spec.json` (source and license in `tests/fixtures/README.md`).
//!
//! # Limits
//!
//! - **`drain::Enrich` around another drain** adds the host fields after the record's own; whether a record
//!   field named `host.name` can take the host's place is that drain's choice (slog-json writes both keys;
//!   `format::json(w)` without a host keeps the first). Only `init()`'s pipeline and
//!   `format::json(w).with_host(cache)` reserve the host keys themselves.
//! - **Term formats write values unquoted**: a value `1, host.name: evil` reads like a second field to a
//!   person (never to a parser of JSON lines). Default-ignorable characters that are not format characters
//!   (U+034F, U+115F, U+1160, U+3164, the variation selectors) are written as they are.
