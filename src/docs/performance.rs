//! What the pipeline costs, measured side by side with its peers. Figures
//! from a dated run on the project's machine (x86_64, 2 vCPUs shared with
//! other work, 24 GiB, Linux 6.18, rustc 1.95); the benches print them anew
//! (`cargo bench -p slog-host-integration --bench pipelines`).
//!
//! # Benchmarks
//!
//! # Whole pipelines
//!
//! `cargo bench -p slog-host-integration --bench pipelines` runs each pipeline in its own process, the same
//! record (3 fields and the host fields; the tracing pipelines get the host fields as event fields), stdout to
//! /dev/null. Syscalls are counted by the kernel on every thread of the process (caller: the logging thread
//! only); allocations on the caller; latency per call at 10,000 records/s; "end to end" is records logged and
//! then flushed (async pipelines: their guards dropped, nothing lost: slog-async blocking, tracing-appender
//! not lossy). Full mode, measured 2026-11-30 (evening) on the project's VM (2 cores, Linux 6.18, rustc
//! 1.95), one run, every pipeline in its own process:
//!
//! | pipeline | caller syscalls @1k / 10k / 100k | process syscalls @1k / 10k / 100k | caller allocs | latency @10k/s p50 / p99 / p99.9 | end to end, 1 thread | 2 threads |
//! |---|---:|---:|---:|---:|---:|---:|
//! | slog-host init() | 0.0000 / 0.0000 / 0.0000 | 0.099 / 0.010 / 0.0015 | 0.00 | 0.60 / 1.94 / 6.79 µs | 1388 k/s | 1517 k/s |
//! | slog-host init(), tracing | 0.0000 / 0.0000 / 0.0000 | 0.100 / 0.011 / 0.0015 | 0.00 | 1.36 / 5.41 / 14.03 µs | 1320 k/s | 1162 k/s |
//! | slog-async + Enrich | 0.9960 / 0.7027 / 0.1967 | 6.793 / 5.170 / 2.3316 | 6.00 | 17.52 / 166.02 / 247.30 µs | 534 k/s | 610 k/s |
//! | tracing json + appender | 1.0510 / 0.7168 / 0.2757 | 6.833 / 5.241 / 2.7824 | 15.00 | 26.52 / 95.44 / 139.22 µs | 132 k/s | 220 k/s |
//! | tracing json, sync | 1.0000 / 1.0000 / 1.0000 | 1.000 / 1.000 / 1.0000 | 14.00 | 7.34 / 17.83 / 93.13 µs | 153 k/s | 277 k/s |
//! | `Enrich + Mutex<json>, sync` | 1.0000 / 1.0000 / 1.0000 | 1.000 / 1.000 / 1.0000 | 0.00 | 0.88 / 4.44 / 12.81 µs | 1095 k/s | 935 k/s |
//! | `Enrich + Mutex<slog-json>, sync` | 1.0000 / 1.0000 / 1.0000 | 1.000 / 1.000 / 1.0000 | 0.00 | 2.83 / 9.50 / 26.70 µs | 324 k/s | 260 k/s |
//!
//! Peak RSS logging 6,000 records with a 1 MiB value each through `init()`: 21 MiB (the queue holds at most
//! 16 MiB of events; slog-async's channel holds 128 records, whatever their size).
//!
//! - **Counts** (exact, checked by the bench, which fails CI when one is missed): the caller makes no system
//!   call (0.0000 per record at all three rates, for slog records and for tracing events, also with two
//!   threads in `tests/pipeline.rs`) and no allocation. Process-wide, the table above (one thread wrote
//!   the outputs then) shows 0.099 system calls per record at 1,000 records/s: one sleep and one write per
//!   20 ms poll. Since each output drains on a thread of its own (2026-12-07, short mode), a poll costs
//!   four: the writer's sleep, and the output thread's wake, sleep and write: 0.199 per record at 1,000/s,
//!   0.021 at 10,000/s, 0.0036 at 100,000/s (the bench's floor is 4 calls a poll, plus 5 %). The writer
//!   then looped at once for records that came while it wrote, a few at a time, each hand-over a wake: on
//!   CI that made 0.016 at 100,000/s. Since 2026-12-08 they wait for the next poll: 0.200 / 0.0196 /
//!   0.0020 (1 output), 0.39 / 0.040 / 0.0040 (3 outputs) at 1k / 10k / 100k, the floor at every rate
//!   (the bench allows twice it at 10k and 100k). That is the
//!   price of a slow output never delaying another: two calls per poll per output. slog-async and
//!   tracing-appender make one futex wake per record on the caller and about 7 system calls per record in
//!   the process at ordinary rates.
//! - **Several outputs, one of them slow** (2026-12-07, short mode; the slow one takes 4 KiB a write and
//!   sleeps 1 ms after each, under `DropAndReport`): the caller makes 0 system calls and 0 allocations per
//!   record with 2 and 3 outputs, fast or one slow, at 1k, 10k and 100k records/s (checked); its p50 is
//!   0.12 to 0.36 µs in every case. The CPU time of every thread but the caller's per record at 10k/s
//!   (formatting, the hand-over, the writes): 1.09 µs with 1 output, 1.74 µs with 2, 2.38 µs with 3;
//!   5.9 µs with a slow output (its 4 KiB writes and sleeps).
//! - **Ratios** (timings; the machine is shared, so they move from run to run): a tracing event costs the
//!   caller 0.05x of tracing-subscriber JSON with tracing-appender and 0.19x of it synchronous (p50); 1M
//!   records end to end from one thread, 9.1x the faster tracing pipeline (1,388k/s against 153k/s).
//! - **Latency against a synchronous `Enrich` pipeline** (the same drain and
//!   format, written on the calling thread behind a mutex): the bench runs
//!   them in turns and reports the median of the rounds' ratios. In the run
//!   above the caller's p50 is 0.10x of `Enrich` with slog-json and 0.36x of
//!   `Enrich` with this crate's own, three times faster, JSON encoder; p99.9
//!   is 0.15x and 0.24x. Most of the caller's time is the capture (about 830
//!   instructions: the clock, copies into reused buffers, an `Arc` clone of
//!   the logger's fields); handing the event to the writer thread adds the
//!   price of a few cache lines moving between cores (60 to 100 ns each on
//!   this VM; the bench prints it).
//!
//! # The hot path
//!
//! `cargo bench -p slog-host-integration --bench hot_path`, measured 2026-11-30 on the project's CI machine
//! (x86_64 VM, 2 cores, 24 GiB, Linux 6.18, rustc 1.95, local-ip-address 0.6.13; criterion with 2 s warm-up
//! and 4 s measurement, as CI runs it). Every variant logs the same message and the same two record fields
//! through the crate's JSON format into `io::sink()`; the host snapshot has 7 fields here (host name and IP,
//! pid, service name and instance id, container id; no pod fields on this machine). Times are criterion
//! means from one run; syscalls (kernel tracepoint) and allocations (counting allocator) are per record on
//! the calling thread.
//!
//! | variant | time | time / (c) | syscalls | allocations |
//! |---|---:|---:|---:|---:|
//! | (a) no host fields | 227 ns | 0.34 | 0 | 0 |
//! | (b) host fields as static `o!()` | 531 ns | 0.79 | 0 | 0 |
//! | (c) `Enrich` | 671 ns | 1.00 | 0 | 0 |
//! | (d) `FnValue(\|_\| local_ip())` per record (the bug) | 126.9 µs | 189.3 | 17.3 | 26 |
//! | (e) tracing-subscriber JSON, same fields | 2242 ns | 3.34 | 0 | 3 |
//! | (f) whole `init()` pipeline, caller thread, unpaced (the queue fills: this is throughput, not the call) | 715 ns | 1.07 | 0 | 0 |
//! | (g) a record the flood guard drops | 23 ns | 0.03 | 0 | 0 |
//!
//! A suppressed record costs 23 ns. Times on this shared machine move from
//! run to run ((a) anywhere from 284 ns to 493 ns within an hour), so the
//! bench also measures the ratios *paired* (the variants alternate in short
//! batches within one loop), and
//! `cargo bench -p slog-host-integration --bench instructions` counts
//! instructions per record with callgrind, which does not depend on load
//! (measured 2026-11-30):
//!
//! | variant | instructions per record | / (c) |
//! |---|---:|---:|
//! | (a) no host fields | 2358 | 0.41 |
//! | (b) host fields as static `o!()` | 5648 | 0.98 |
//! | (c) `Enrich` | 5766 | 1.00 |
//! | (e) tracing-subscriber JSON | 20001 | 3.47 |
//! | (g) a record the flood guard drops | 179 | 0.03 |
//!
//! By instructions, `Enrich` costs 118 more per record than static fields: (c)/(b) = 1.021. (In the `init()` pipeline the JSON format does not go through `Enrich`: it copies the host
//! fields encoded once per snapshot.) (d) is left out of that table because callgrind counts user space only and (d) spends its time in
//! the kernel. The facts that do not depend on load are exact: (c) and (g) make 0 syscalls and 0 allocations
//! per record, and CI fails if that changes or if the counters miss (d)'s.
//!
//! Row (f) is the caller's side of the `init()` pipeline (capture into a reused event and a queue push); the
//! whole-pipeline comparison, with syscalls on every thread, is the table above.
//!
//! # Load test
//!
//! `scripts/load-test.sh` (run by CI) starts `integration/examples/microservice.rs` in release mode and sends 20,000
//! keep-alive requests with ApacheBench (16 connections) over loopback. Measured here (2026-11-30): 20,000
//! requests, 0 failed, about 44,000 requests/s; 20,000 `request done` lines (slog) and 20,000 `finished
//! processing request` lines (tower-http's `TraceLayer` through tracing, each with the span's `method` and
//! `uri`, a `target` and the host fields); open fds 12 before and 12 after; threads 5 before and 5 after; no
//! error lines, nothing on stderr, exit status 0 after SIGTERM.
//!
//! # Records with many fields
//!
//! A key costs the writer the same whatever the number of keys before it: the JSON format checks each key
//! against the names the line already has (no line has a key twice) in a short list while a record has up
//! to 32 names and in a hash set past that, both reused from record to record (the set gives back its memory
//! after a record with more than 4,096 names). `cargo bench -p slog-host-integration --bench wide_records`
//! writes one record of 10,000 and one of 20,000 distinct fields with the JSON format. Measured here
//! (2026-12-03, medians of 21 alternating rounds, three runs): 0.49 ms and 1.2 ms, ratio 2.4 to 2.5; before
//! the hash set (issue 19) 89 to 122 ms and 258 to 320 ms. Such a record is longer than the default
//! `LOG_MAX_RECORD_BYTES` (32 KiB) and is cut to it, which formats it a few times more.
