//! `tracing` events in the pipeline, beside other layers, and trace
//! correlation.
//!
//! # tracing
//!
//! The frameworks services are built on (axum, tower-http, hyper, tonic, sqlx, reqwest) log through `tracing`.
//! With the cargo feature `tracing` (on by default), a global `init()` installs a `tracing` subscriber (a
//! `Registry` with this crate's layer) as the global default, and each `tracing` event becomes one record of
//! the same pipeline, enriched, filtered, flood-guarded and formatted like a slog record:
//!
//! ```rust,ignore
//! let span = tracing::info_span!("request", method = "GET", uri = "/orders/1");
//! let _entered = span.enter();
//! tracing::info!(order_id = 1, ok = true, "order served");
//! ```
//!
//! ```json
//! {"ts":"…","level":"INFO","msg":"order served","target":"orders::api","order_id":1,"ok":true,"method":"GET","uri":"/orders/1","host.name":"web-1",…}
//! ```
//!
//! - **Fields** are typed top-level fields (`order_id` is a number, not text); the `message` field is `msg`.
//! - **Spans**: the fields of every span the event is inside are top-level fields too, after the event's own,
//!   outermost span first. A key given twice keeps the innermost value (the event's own, then the nearest
//!   span's) and is written once. Spans are never records of their own: no `->`, `<-` or `--` lines.
//!   A span is filtered like an event, by its level and target: one the directives disable is not
//!   recorded, so its fields are on no record (with `warn,svc::payments=info`, a record of
//!   `svc::payments` inside an INFO span of `svc::http` passes without that span's `request_id`; tracing's
//!   `EnvFilter` does the same). Enable the span's target too (`warn,svc::payments=info,svc::http=info`).
//! - **Origin**: `target` is the event's target (the module path unless given with `target:`); level, file and
//!   line come from its metadata (`code.file.path`, `code.line.number` with `source_location`).
//! - **Filter**: the same `RUST_LOG` directives as slog and `log` records. A call site they disable gets
//!   `Interest::never`, so a disabled event costs tracing's cached check: no allocation (tested with a
//!   counting allocator), and an enabled one none either once the event pool is warm.
//! - **Flood guard**: keyed by the call site (file, line, target), so two events on the same line of two files
//!   have separate budgets.
//! - **`tracing/log` and `log-always`**: with a subscriber set, `tracing/log` sends nothing to `log`;
//!   `log-always` sends a `log` echo of every event and span. The `log` bridge drops records that come from a
//!   tracing call site (and `tracing::span*` lifecycle lines), so each event is written exactly once
//!   (`integration/log-always` checks it in a workspace of its own).
//! - **Another subscriber**: if a global `tracing` subscriber is already set, `init()` returns an error that
//!   names the conflict. Without the cargo feature, nothing of `tracing` is built.
//! - **Request context on every record**: a slog or `log` record logged while a span is entered on the
//!   calling thread carries the fields of that span and its parents, by the same rules (the record's own
//!   fields win; span fields named like a record key or a host key of the schema, detected or not, are written
//!   as `fields.<name>`). With no span entered this costs one thread-local read. The `log` crate's
//!   key-values (`log::info!(order_id = 7; "served")`) are typed fields too.
//! - **Cost**: a tracing event through this pipeline costs the caller 0.10x to 0.21x of tracing-subscriber's
//!   JSON layer, 0.03x to 0.06x of it with tracing-appender (p50 at 10,000 events/s, same fields, same two
//!   spans, across runs), with no system call; see the pipelines table.
//!
//! **Trace correlation** (cargo feature `opentelemetry`, off by default; it depends on the `opentelemetry` API
//! crate only): a record logged while the current OpenTelemetry context (`opentelemetry::Context::current()`)
//! has a valid span carries `trace_id`, `span_id` and `trace_flags` in lowercase hex, as the OpenTelemetry
//! "Trace Context in non-OTLP Log Formats" specification says (ECS: `trace.id`, `span.id`). The context is
//! read on the calling thread when the record is logged; with no active span that is a thread-local access.
//! tracing-opentelemetry (0.34) makes the context of the span being entered current (its default
//! `with_context_activation(true)`), so slog, `log` and `tracing` records inside a span it created carry that
//! span's ids, the ones its SDK exports, without attaching a context by hand
//! (`integration/tracing-stack/tests/opentelemetry.rs` checks them against the SDK's in-memory exporter).
//! JSON format only.
//!
//! # With other tracing layers
//!
//! `init()` installs a subscriber of its own. A service that also exports traces with
//! tracing-opentelemetry, watches tasks with console-subscriber or reports to Sentry builds its own
//! registry instead, with this crate's layer beside the others:
//!
//! ```rust,ignore
//! use tracing_subscriber::layer::SubscriberExt;
//!
//! let guard = slog_host::Builder::from_env()?.tracing(false).init()?;
//! guard.install_tracing(
//!     tracing_subscriber::registry()
//!         .with(guard.tracing_layer())
//!         .with(tracing_opentelemetry::layer().with_tracer(tracer)),
//! )?;
//! ```
//!
//! - `guard.tracing_layer()` is a `tracing_subscriber::Layer` (`slog_host::TracingLayer`) that writes each
//!   event as `init()`'s own subscriber does, filtered by the pipeline's `RUST_LOG` directives as a
//!   **per-layer filter**: the other layers keep their own filters and see every event those allow (a call
//!   site no layer wants still costs only tracing's cached check).
//! - **`log` records**: `guard.install_tracing(subscriber)` sets the subscriber and makes this crate's
//!   `log` bridge the `log` logger: each `log` record is written once, with its key-values typed
//!   (`log::info!(amount_cents = 1234, approved = true; ..)`), its target, file and line and the entered
//!   span's fields, and is handed to the subscriber's other layers as tracing-log's `LogTracer` would
//!   (this crate's layer skips that copy). tracing-subscriber's `init()` works too: its `LogTracer` brings
//!   each `log` record to the layer once, but without its key-values (tracing-log does not forward them,
//!   tokio-rs/tracing#3355). A service that sets its subscriber another way, without either, calls
//!   `tracing_log::LogTracer::init()` itself, or its `log` records are not written.
//! - Change its filter with `guard.set_filter(..)` (or `LOG_FILTER_FILE`), not by wrapping the layer in
//!   `tracing_subscriber::reload::Layer`: the layer is a per-layer-filtered layer, and tracing-subscriber
//!   cannot reload those (after a reload every event panics: tokio-rs/tracing #1629, #2101). `set_filter`
//!   swaps the directives the layer's filter reads and rebuilds tracing's interest cache, which is what a
//!   reload would have done.
//!
//! # Using it in a library
//!
//! A library depends on `slog`, `log` or `tracing` only, never on this crate, and logs through them (a slog
//! `Logger` taken from its caller, or `slog_scope::logger()`). The binary calls `init()` once, at the start
//! of `main`, and keeps the guard to the end: every library's records then become enriched lines of the one
//! pipeline.
//!
//! # Testing code that logs
//!
//! ```rust,ignore
//! #[test]
//! fn charges_the_card() {
//!     let logs = slog_host::testing::capture();
//!     slog::info!(logs.logger(), "charged"; "amount" => 42);
//!     log::warn!("retrying");
//!     tracing::info!(order_id = 7, "served");
//!     assert!(logs.lines()[0].contains(r#""amount":42"#));
//! }
//! ```
//!
//! `testing::capture()` formats what the calling test thread logs (through `logs.logger()`, `log` and
//! `tracing`) as the pipeline does, synchronously, and prints it with `print!`: libtest shows it only when
//! the test fails. `lines()` returns the JSON lines for assertions. Tests running in parallel each see only
//! their own records. It needs no `init()`, installs no panic hook, and works in a test binary where another
//! test called `init()` (see the `testing` module's docs for what it changes for the process).
