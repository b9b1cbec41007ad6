//! Compile-time levels, design choices, and the limits of what the crate does.
//!
//! # Compile-time levels
//!
//! `RUST_LOG` can only show records that were compiled in. Each macro family has its own compile-time limit:
//!
//! | macros | debug build (debug assertions on), by default | release build, by default | changed by |
//! |---|---|---|---|
//! | `slog::trace!` ... `slog::crit!` | up to `debug!`: **`trace!` is compiled out** | up to `info!`: **`debug!` and `trace!` are compiled out** | this crate's features below (slog's) |
//! | `log::trace!` ... `log::error!` (bridged) | all levels | all levels | `log`'s own features (`log = { version = "0.4", features = ["release_max_level_info"] }`) |
//! | `tracing::trace!` ... `tracing::error!` | all levels | all levels | `tracing`'s own features (`max_level_*`, `release_max_level_*`) |
//!
//! Of what is compiled in, `RUST_LOG` (default `info`) decides what is written; `init()` also sets the `log`
//! crate's runtime maximum from it.
//!
//! `slog-host` forwards slog's features, so one line in the service's `Cargo.toml` changes the `slog` row:
//!
//! ```toml
//! slog-host = { version = "0.2", features = ["max_level_trace", "release_max_level_debug"] }
//! ```
//!
//! | feature | effect on the `slog` macros |
//! |---|---|
//! | `max_level_off`, `max_level_error`, `max_level_warn`, `max_level_info`, `max_level_debug`, `max_level_trace` | the limit in debug builds, **and in release builds too unless a `release_max_level_*` feature is set** |
//! | `release_max_level_off`, ..., `release_max_level_trace` (same six levels) | the limit in release builds; ignored in debug builds |
//!
//! If several of one kind are enabled anywhere in the dependency graph (Cargo features add up), the most
//! restrictive wins (`off` before `error` ... before `trace`). "Debug build" means slog was compiled with
//! debug assertions (Cargo's `dev` and `test` profiles). Examples: `max_level_trace` alone keeps `trace!` in
//! both builds; `release_max_level_debug` alone keeps `debug!` in release and leaves debug builds at
//! `debug!`. `tests/caller/levels.rs` checks this table in the build it runs in (`cargo test --test caller
//! --features max_level_trace levels`, `--release`, ...).
//!
//! # Design notes
//!
//! - **One snapshot per record.** `HostInfo` is immutable; `HostCache` holds the current one in an
//!   `ArcSwap`. `Enrich` loads it once per record and builds a new `Record` on the stack whose key-values are
//!   the record's own followed by the snapshot's, so all fields of a record come from one snapshot even while
//!   a refresh swaps it (tested with 1,000,000 records across thousands of swaps). Values are stored already
//!   formatted (the IP as text), so writing them formats nothing.
//! - **Refresh off the logging path.** `Refresher` is a named thread (`slog-host-rfsh`) that waits on a
//!   condition variable, so dropping its handle stops and joins it in microseconds. Each attempt runs under
//!   `catch_unwind`; a failing or panicking probe keeps the last good snapshot, is counted in
//!   `HostCache::status()`, and backs off exponentially (capped, with ±10 % jitter). A refresh swaps only when
//!   a field changed.
//! - **Old snapshots are freed by the refresher, not by a request.** A swapped-out snapshot is kept on a
//!   retire list until no reader holds it and freed by a later refresh, so the last `Arc` drop (and the
//!   deallocation) never happens inside a log call.
//! - **Lazy global without `once_cell`.** `HostCache::global()` uses `std::sync::OnceLock` (Rust 1.70+),
//!   which is `once_cell`'s API in std; one dependency fewer. `rust-version` is 1.89 (what the locked dependencies need; `scripts/msrv.py` checks it).
//! - **Probes are injectable.** Any `Fn() -> Result<HostInfo, Error>` is a `Probe`; tests use this to inject
//!   failures and panics, and services can use it for their own sources.
//! - **Host fields on the writer thread, encoded once.** In the `init()` pipeline the host fields are added
//!   after the queue, on the writer thread, so the caller copies none of them. The JSON format encodes the
//!   snapshot's fields (escaped `"k":"v"` pairs) once per snapshot and copies the bytes into each line, so
//!   their cost does not grow with the field count; the term formats use `Enrich`.
//! - **Filtering before the queue.** A record the filter rejects costs one comparison on the caller and
//!   never enters the queue. Bridged `log` records are filtered by their `log` target, as env_logger does.
//! - **Why not slog-async.** slog-async (still the baseline in the benches, and `Enrich` composes with it)
//!   wakes its parked thread with a futex for every record, copies each record with 6 allocations, writes a
//!   line per `write`, and has no flush. The pipeline here follows the asynchronous loggers that never wake
//!   their backend from the caller (Quill, NanoLog, fmtlog): preallocated memory on the caller, a polling
//!   backend with a bounded sleep, batched writes.
//! - **Our own rotation.** The crates checked were file-rotate 0.8 (kept up, 1.0 planned), rolling-file
//!   0.2 and logroller 0.1. file-rotate, the most used, has no permission setting; its size limits either split
//!   a write across two files (`Bytes`) or rotate only after a file has passed the limit (`BytesSurpassed`),
//!   and they count `write` calls, while a format may write one record in many small writes, so a record can
//!   be torn at a rotation; it does not reopen a removed file. The writer here (about 200 lines) buffers each
//!   record until the format's per-record flush and rotates before it, which is what gives the whole-record
//!   and disk-bound guarantees; gzip is `flate2`.
//! - **Timestamps without allocation, taken at the call.** The caller reads the clock (`SystemTime::now()`,
//!   the vDSO on Linux: no system call) when it captures the record; the writer formats it as RFC 3339 UTC
//!   with microseconds into its reused batch buffer. In a 200,000-record burst the p99 gap between a time
//!   read just before the call and the record's `ts` is 1 µs.
//!
//! # Limits
//!
//! - Linux first: detection reads `/proc`, and the file output uses Unix permission and inode APIs, so the
//!   crate builds on Unix only. It is tested on Linux.
//!
//! - The zero-syscall tests need `perf_event_open` on a tracepoint (root or `CAP_PERFMON`). Where the kernel
//!   refuses, they fail and say why; `SLOG_HOST_NO_SYSCALL_COUNTER=1` skips them with a loud warning. The
//!   full-disk test mounts a small tmpfs (root); `SLOG_HOST_NO_MOUNT=1` skips it the same way.
//! - slog compiles `trace!` out of every build and `debug!` out of release builds by default: see
//!   [Compile-time levels](#compile-time-levels).
//! - `local_ip()` opens a netlink socket; on refresh that is about 18 syscalls and 100 µs, every 30 s by
//!   default.
