//! # Export over OTLP (feature `otlp`)
//!
//! With the cargo feature `otlp`, records also go to an OpenTelemetry
//! collector (OpenTelemetry Collector, Grafana Alloy, Vector, most vendors'
//! agents) over OTLP/HTTP, beside the line outputs, from the same pipeline:
//! each record is captured once on the calling thread as always, the
//! writer thread encodes it, and an exporter thread of its own sends the
//! batches. No async runtime is needed or used.
//!
//! ```toml
//! slog-host = { version = "0.2", features = ["otlp"] }
//! ```
//!
//! ## Turning it on
//!
//! From the environment, with the OpenTelemetry SDK's variables:
//!
//! ```text
//! OTEL_LOGS_EXPORTER=otlp
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://otel-collector:4318
//! LOG_STDOUT=off          # the collector as the only output (default: stdout too)
//! ```
//!
//! From code, as one more output ([`Builder::tee`](crate::Builder::tee), with
//! its own directives) or as the only one ([`Builder::output`](crate::Builder::output)):
//!
//! ```no_run
//! use slog_host::{otlp::OtlpConfig, Builder, Format, Output};
//!
//! # fn main() -> Result<(), slog_host::Error> {
//! let guard = Builder::from_env()?
//!     .tee(Output::Otlp(OtlpConfig::from_env()?), Format::Json, "info")?
//!     .init()?;
//! slog::info!(guard.logger(), "exported"; "order_id" => 42);
//! # Ok(()) }
//! ```
//!
//! ## Variables
//!
//! Each `OTEL_EXPORTER_OTLP_LOGS_*` wins over its `OTEL_EXPORTER_OTLP_*`.
//! Every invalid value makes `init()` (or [`OtlpConfig::from_env`](crate::otlp::OtlpConfig::from_env))
//! return an error naming the variable and the value; credentials are never
//! echoed (a header's value, a URL's user part, which is refused: put it in
//! a header; a URL's query is not shown in errors and reports). An endpoint
//! must be an `http`/`https` URL with a host and a port from 1 to 65535; a
//! header, an HTTP token name and a value without control characters
//! ([`OtlpConfig::header`](crate::otlp::OtlpConfig::header) checks the same).
//! With `OTEL_LOGS_EXPORTER=otlp` and an `Output::Otlp` in the code, the
//! variables configure that output: one exporter, not two.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `OTEL_LOGS_EXPORTER` | `otlp`, `console` (the line outputs), `otlp,console` or `none` | `otlp` when an endpoint variable is set (said once on stderr), else `none` |
//! | `OTEL_SDK_DISABLED` | `true` turns export off (any case; not a boolean: an error) | `false` |
//! | `OTEL_EXPORTER_OTLP_ENDPOINT` | base URL of every signal: `/v1/logs` is appended | `http://localhost:4318` |
//! | `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT` | the logs URL, used as it is | `http://localhost:4318/v1/logs` |
//! | `OTEL_EXPORTER_OTLP_(LOGS_)PROTOCOL` | `http/protobuf` or `http/json`; `grpc` is an error (it needs HTTP/2 on an async runtime) | `http/protobuf` |
//! | `OTEL_EXPORTER_OTLP_(LOGS_)HEADERS` | `name=value,...`, percent-decoded | none |
//! | `OTEL_EXPORTER_OTLP_(LOGS_)TIMEOUT` | milliseconds one request may take | `10000` |
//! | `OTEL_EXPORTER_OTLP_(LOGS_)COMPRESSION` | `gzip` or `none` | `none` |
//! | `OTEL_BLRP_SCHEDULE_DELAY` | milliseconds a record waits for a full batch | `1000` |
//! | `OTEL_BLRP_MAX_QUEUE_SIZE` | records waiting for export, at most | `2048` |
//! | `OTEL_BLRP_MAX_EXPORT_BATCH_SIZE` | records in one request, at most (not above the queue) | `512` |
//! | `OTEL_BLRP_EXPORT_TIMEOUT` | milliseconds one export may take; a flush, the guard's drop or the panic hook waits for the export at most this or the shutdown timeout (`LOG_SHUTDOWN_TIMEOUT`, 5 s), whichever is shorter | `30000` |
//! | `OTEL_EXPORTER_OTLP_(LOGS_)CERTIFICATE` | PEM file of the CA certificates to trust instead of the built-in roots (feature `otlp-tls`; below) | the webpki roots |
//! | `OTEL_EXPORTER_OTLP_(LOGS_)CLIENT_CERTIFICATE`, `_CLIENT_KEY` | PEM files of the client certificate chain and its key, for mutual TLS (feature `otlp-tls`) | none |
//!
//! Durations are at most 10 minutes, sizes at most 1,048,576 records.
//! Besides the record count, the queue holds at most
//! [`DEFAULT_MAX_QUEUE_BYTES`](crate::otlp::DEFAULT_MAX_QUEUE_BYTES) (16 MiB) of
//! encoded records ([`OtlpConfig::max_queue_bytes`](crate::otlp::OtlpConfig::max_queue_bytes)).
//!
//! ## What maps to what
//!
//! - **Resource**: the host snapshot, under OpenTelemetry's names whatever
//!   the line schema: `host.name`, `host.ip`, `process.pid` (an integer),
//!   `service.name`, `service.version`, `service.instance.id`,
//!   `k8s.pod.name`, `k8s.namespace.name`, `k8s.node.name`, `container.id`,
//!   and `OTEL_RESOURCE_ATTRIBUTES` and [`Builder::field`](crate::Builder::field).
//!   Each request carries the snapshot current when it is sent, so a
//!   refresh that changes it shows in the next request.
//! - **Scope**: the record's target (slog's tag or module, `log`'s target,
//!   `tracing`'s target).
//! - **LogRecord**: `time_unix_nano` is the call's time,
//!   `observed_time_unix_nano` the time the writer encoded it;
//!   `severity_number` TRACE 1, DEBUG 5, INFO 9, WARN 13, ERROR 17, slog's
//!   Critical 21 (FATAL), `severity_text` as the `otel` schema writes it;
//!   `body` the message; `trace_id`, `span_id` and `flags` as the record's
//!   own fields when a span is known (feature `opentelemetry`).
//! - **Attributes**: the record's fields, then its span's and logger's,
//!   each key once (the first wins, as in the lines), typed: integers as
//!   `int_value` (one beyond `int64` as its decimal text), booleans as
//!   `bool_value`, floats as `double_value`, the rest as strings; with
//!   source locations on, `code.file.path` and `code.line.number`. A field
//!   named like a host field is written as `fields.<name>`, as in the
//!   lines: record data cannot pass for the resource.
//! - The flood guard's summaries and the overflow reports are exported like
//!   any record; records cut to [`max_record_bytes`](crate::Builder::max_record_bytes)
//!   are cut in the export too (the limit counts the encoded record).
//!
//! ## Guarantees
//!
//! - **The caller pays nothing more**: the record is captured once whatever
//!   the outputs; encoding happens on the writer thread and the HTTP on the
//!   exporter's. A collector that is slow, down or hanging never blocks,
//!   slows or crashes a caller, and never delays the line outputs: the
//!   writer hands each batch over under a short lock and goes on.
//! - **Bounded memory, newest kept**: at most `OTEL_BLRP_MAX_QUEUE_SIZE`
//!   records and 16 MiB wait for export, plus the one batch being sent. Past
//!   the bound the *oldest* records are dropped (an operator debugging an
//!   incident wants the newest), and a batch under retry whose records are
//!   older than all those queued is given up for them. Every drop is
//!   counted exactly ([`LogGuard::export_dropped`](crate::LogGuard::export_dropped))
//!   and reported in the line outputs by a WARN record
//!   [`EXPORT_DROPPED_MESSAGE`](crate::otlp::EXPORT_DROPPED_MESSAGE) with `dropped` and `error`,
//!   at most once a second with the count since the last report, and once at
//!   shutdown (on stderr when the collector is the only output). The OTel
//!   SDK's batch processor keeps the oldest instead; no setting gives that
//!   policy here, as no use for it came up.
//! - **Retries are the probe**: connection errors, timeouts and the
//!   statuses 429, 502, 503 and 504 are retried every
//!   [`MIN_BACKOFF`](crate::otlp::MIN_BACKOFF) to
//!   [`MAX_BACKOFF`](crate::otlp::MAX_BACKOFF) (250 to 500 ms, drawn at
//!   random, so replicas do not try in step), however long the outage: a
//!   collector that comes back gets the newest records within half a second
//!   (measured: the first export 370 ms after a 10 s outage ended, at 1,000
//!   records a second). One request per wait, retries and probing alike: a
//!   hard-down collector costs a refused connection two to four times a
//!   second. A `Retry-After` is honoured, in seconds (any number of
//!   digits) or as an HTTP-date (the three formats of RFC 9110), from
//!   250 ms (so `Retry-After: 0` or a date in the past is no storm) to
//!   [`MAX_RETRY_AFTER`](crate::otlp::MAX_RETRY_AFTER) (60 s). An endpoint
//!   the HTTP client cannot send to (a non-ASCII host, a second port,
//!   characters RFC 3986 does not allow) is an `init()` error. Other statuses are final: the batch is dropped, counted and
//!   reported on stderr. Redirects are not followed (a 3xx is final: a
//!   redirect would turn the POST into a GET and carry the headers to
//!   another host); set the endpoint to the final URL. A 2xx with a partial
//!   success counts its rejected records as dropped. Records arriving
//!   meanwhile never make a retry come sooner.
//! - **No feedback loop**: records whose target is one of the exporter's own
//!   dependencies (`ureq`, `ureq_proto`, `rustls`, `webpki`, `flate2`) are never
//!   exported, at any `RUST_LOG`; the line outputs show them as their
//!   filter says.
//! - **Flush, drop, panic: one bounded wait**: [`LogGuard::flush`](crate::LogGuard::flush),
//!   `logger().flush()` and the panic hook first wait for the line outputs,
//!   then until every record logged before them is exported (or dropped and
//!   counted), at most the shutdown timeout
//!   ([`Builder::shutdown_timeout`](crate::Builder::shutdown_timeout),
//!   `LOG_SHUTDOWN_TIMEOUT`, default 5 s; a shorter
//!   `OTEL_BLRP_EXPORT_TIMEOUT` bounds it too). Then `flush` returns the
//!   number not exported yet, and until an export succeeds again no later
//!   flush, panic or drop waits (one wait per outage). Several OTLP outputs
//!   share one deadline. Dropping the guard writes the lines, then exports
//!   what is queued within the same bound, then drops the rest (counted and
//!   reported in the lines; a batch whose request is still under way at that
//!   moment is counted as dropped, though the collector may yet receive it).
//!   Measured with the collector down and the SDK's 30 s export timeout:
//!   `flush()` then the drop took 5.0 s in all, every line written; a tokio
//!   service handling SIGTERM as the README shows exits 4.9 s after the
//!   signal. After the drop, records go to the line outputs only.
//! - **`OTEL_BLRP_EXPORT_TIMEOUT`** (default 30 s) is the SDK's bound on one
//!   export: here the longest a flush or shutdown waits for the export if it
//!   is shorter than the shutdown timeout. A batch under retry is not bounded
//!   by it: it is retried (probing) until it is exported or given up for
//!   newer records.
//! - **Runtimes**: nothing here uses or needs an async runtime: it works
//!   the same with none, inside a multi-threaded tokio runtime and inside a
//!   current-thread one (tested: no deadlock at start, flush or drop).
//! - **Fork**: a forked child has no exporter thread; its records go to its
//!   line outputs only (a note on stderr says so).
//! - **TLS** (feature `otlp-tls`; `otlp` alone is plain http, and an
//!   `https` endpoint or a `_LOGS_` certificate variable is then an `init()`
//!   error saying to enable `otlp-tls`, a general one is not used, said
//!   once): rustls (ring) with the Mozilla root
//!   certificates compiled in (webpki-roots), not the system's store.
//!   - `OTEL_EXPORTER_OTLP_CERTIFICATE` ([`OtlpConfig::certificate`](crate::otlp::OtlpConfig::certificate)):
//!     a PEM file of CA certificates trusted *instead of* the built-in
//!     roots (a private CA, as in a cluster with cert-manager).
//!   - `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE` and `_CLIENT_KEY`
//!     ([`OtlpConfig::client_certificate`](crate::otlp::OtlpConfig::client_certificate)):
//!     the chain and its private key (PKCS#8, PKCS#1 or SEC1) for mutual
//!     TLS. One without the other is an error.
//!   - Each has its `OTEL_EXPORTER_OTLP_LOGS_` form, which wins. The files
//!     are read once, at `init()`, as `LOG_FILTER_FILE` is: a regular file
//!     (never a FIFO or a device: no hang), at most
//!     [`MAX_PEM_BYTES`](crate::otlp::MAX_PEM_BYTES) (1 MiB). A missing or
//!     unreadable file, one with no certificate or no key, an encrypted
//!     key (no passphrase setting), or a key that does not belong to its
//!     certificate is an error naming the variable and the path; the key's
//!     content is never shown. A certificate replaced on disk is read at
//!     the next start (restart the pod after a rotation).
//!   - For a plain `http://` logs endpoint, certificates do nothing: the
//!     `_LOGS_` variables and the `OtlpConfig` methods are then an error;
//!     the general variables, often set for every signal (traces over
//!     https beside a plain-http logs collector), are not used, said once
//!     on stderr.
//!   - A handshake that fails on a certificate (the collector's is not
//!     signed by the trusted CA, names another host or expired; or the
//!     collector refuses ours or wants one) is not retried: a retry cannot
//!     mend it. Each batch is tried once, then dropped, counted, reported
//!     on stderr and in the lines' drop report with the reason and the
//!     variable to set. (A collector that refuses a client certificate and
//!     closes before its alert is read looks like a reset connection: that
//!     is retried as an unreachable collector.) Tested against a rustls
//!     server on 127.0.0.1 with certificates the test makes: a private CA,
//!     mutual TLS, a wrong CA, a missing client certificate
//!     (`integration/otlp/tests/tls.rs`).
//! - **gRPC** (`OTEL_EXPORTER_OTLP_PROTOCOL=grpc`) is an error naming the
//!   variable: gRPC runs over HTTP/2, and Rust's HTTP/2 clients (h2, hyper,
//!   tonic) are async on tokio. A private runtime on the exporter's thread
//!   would leave the service's runtime alone but bring about 40 crates for
//!   what the Collector already serves over HTTP: its `otlp` receiver
//!   listens on 4318 (`http/protobuf`, this exporter's default) beside
//!   4317 (gRPC). Point the endpoint at 4318.
//! - A record whose value panics while it is encoded is counted in
//!   [`LogGuard::write_errors`](crate::LogGuard::write_errors), as for every
//!   output.
//!
//! ## What is lost in which outage
//!
//! | outage | what happens |
//! |---|---|
//! | collector down for less time than the queue lasts | nothing: the batch is retried until it is accepted |
//! | collector down longer | the oldest records past the queue's bound are dropped and counted; the newest arrive within half a second of its return |
//! | collector answers 4xx (not 429) | that batch is dropped and counted; the next batch is tried |
//! | collector hangs | each request ends at `OTEL_EXPORTER_OTLP_TIMEOUT`, then as down |
//! | service stops while the collector is down | the lines are written; the queue is retried for the shutdown timeout (5 s; not again if a flush already waited in this outage), then dropped, counted and reported in the lines |
//! | `SIGKILL`, abort | what was queued for export is lost (the lines keep what was written) |
//!
//! ## Pointing it at an OpenTelemetry Collector
//!
//! The collector's `otlp` receiver with its HTTP protocol (port 4318):
//!
//! ```yaml
//! receivers:
//!   otlp:
//!     protocols:
//!       http:
//!         endpoint: 0.0.0.0:4318
//! exporters:
//!   debug: {}
//! service:
//!   pipelines:
//!     logs:
//!       receivers: [otlp]
//!       exporters: [debug]
//! ```
//!
//! and `OTEL_EXPORTER_OTLP_ENDPOINT=http://<collector>:4318`.
//!
//! ## Dependencies
//!
//! [ureq](https://docs.rs/ureq) (blocking HTTP/1.1, no async runtime), and
//! flate2 (already used for rotated files) for gzip: `otlp` adds 10 crates
//! to the default build, no C compiler. `otlp-tls` adds rustls with ring
//! (which builds C and assembly with `cc`), webpki-roots and their
//! dependencies: 12 crates more. The `quickstart` example, release build,
//! stripped (2026-12-08): 1.57 MB default, 2.20 MB with `otlp`, 3.88 MB
//! with `otlp-tls`. The protobuf and JSON encodings are written by
//! the crate straight from the captured record, as its JSON lines are (no
//! message tree per record, no protobuf crate at run time); the tests decode
//! every request with the official definitions (opentelemetry-proto with
//! prost) to check them.
//!
//! ## Compared with the OpenTelemetry SDK's path
//!
//! `opentelemetry-appender-tracing` with `opentelemetry-otlp` (0.33) is the
//! official Rust path. `integration/otlp/tests/sdk_path.rs` sends the same
//! `tracing` event (inside a span with `order_id = 42`) through both to one
//! receiver and compares the decoded records:
//!
//! | | SDK path | slog-host |
//! |---|---|---|
//! | severity number and text, body | WARN 13, the message | the same |
//! | typed attributes (int, bool, double, string) | the same types | the same types |
//! | scope | the target | the target |
//! | the span's fields (`order_id`) | not exported | attributes |
//! | `time_unix_nano` | unset (0): only the observed time | the call's time |
//! | resource | `service.name`, `telemetry.sdk.*` | the host snapshot: `host.*`, `process.pid`, `service.*`, `k8s.*`, `container.id` |
//!
//! And, by design: no async runtime (the SDK's HTTP client is reqwest,
//! whose blocking client runs a tokio runtime of its own), no SDK, and the
//! export thread's own dependencies never exported.
