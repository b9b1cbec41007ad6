//! How a record travels, what wakes the writer, what a flush waits for, what
//! is kept and what is lost when the process ends, and the flood guard.
//!
//! # The pipeline
//!
//! ```text
//!  caller thread (any number)                          folder (src/)
//!  slog::info!(log, ..) / log::info!(..) / tracing::info!(..)
//!    -> level filter (RUST_LOG)        one comparison   caller/filter.rs; log, tracing: caller/bridges/
//!    -> flood guard                    drops counted    caller/flood/ (its timer thread: ticker.rs)
//!    -> capture into a reused event    time taken here  caller/capture.rs -> record/event.rs
//!       (strings into the event's arena, numbers typed, logger fields by Arc clone)
//!    -> sender: into the lock-free queue, bounded in records and bytes
//!                                                       caller/sender.rs -> record/queue.rs
//!  ===================== writer thread "slog-host-log" ============ writer/thread.rs
//!    -> drain everything queued, each event to the outputs its mask names
//!                                                       writer/output_set.rs
//!    -> format into that output's batch                 writer/batch.rs, from format/
//!         JSON: host fields pre-encoded per snapshot    format/json.rs, format/host_names.rs
//!         term: a banner when the host fields change    writer/banner.rs, format/term/
//!         OTLP: one LogRecord                           otlp/record.rs
//!       longer than max_record_bytes: formatted again, cut  writer/truncate.rs
//!    -> hand the batch to that output: never waits for it  writer/lane.rs
//!  ===================== one thread a line output "slog-host-out" ===========
//!    -> its own buffer, bounded in bytes (4 MiB); written at the output's pace:
//!       one write (to a pipe: whole lines, 4 KiB a write)  outputs/stdio.rs, outputs/rotating_file.rs
//!  ===================== exporter thread "slog-host-otlp" (OTLP) ==== otlp/exporter.rs
//!    -> its own queue (2,048 records, the newest kept); batches, retries, probes
//!    -> events back to the pool; LOG_FILTER_FILE looked at on the tick   writer/filter_file.rs
//!  refresher thread "slog-host-rfsh": re-detects host metadata, swaps the snapshot when it changed
//!                                                       host/refresher.rs -> host/cache.rs
//!  init (setup/): settings, environment overlay, start, the guard that stops it all
//! ```
//!
//! **What the caller pays**: no system call and, once the event pool is warm, no allocation per record. The
//! caller copies the record into an event taken from a pool (crossbeam `ArrayQueue`s of boxed events: one
//! queue of records to the writer, one of free events back; a slot holds a pointer), so its buffers are reused; the writer frees nothing the caller
//! allocated on the caller's side and shrinks an event that held a huge record before reusing it. The pool
//! grows to the largest backlog the queue has held (at most `channel_size`); a record larger than any before
//! may grow an event once. Measured with the kernel's counters and a counting allocator, with negative
//! controls, in `tests/pipeline.rs` and `integration/benches/pipelines.rs` (table below).
//!
//! **The writer's wake-up rule** (an adaptive poll): while records arrive it polls every `ACTIVE_POLL`
//! (20 ms), so a record is in the output within about 20 ms of the call; after `QUIET_SPELL` (250 ms) without
//! records it sleeps up to `IDLE_POLL` (1 s), and the first record after such a quiet spell wakes it (one
//! futex wake after a quiet spell, never one per record at a steady rate; below about 4 records per second
//! every record follows a quiet spell, so each makes that one call). Idle, the crate's threads wake
//! about twice a second (writer and flood timer) plus the refresher every 30 s. A caller also wakes the writer
//! when the queue is half full (in records or bytes), full, or flushed. At a steady rate a pipeline with one
//! output makes four system calls per poll: the writer's sleep, and the output thread's wake, sleep and
//! write (two for the write alone before each output had its thread: the price of isolation is two calls
//! per poll per output): 0.2 per record at 1,000 records/s, 0.02 at 10,000. An output thread sleeps while
//! its output is idle, and is woken only when it waits for work.
//!
//! **Bounded in bytes**: the queue holds at most `channel_size` records (`DEFAULT_CHANNEL_SIZE`, 8,192) and
//! `queue_bytes` bytes of events (`DEFAULT_QUEUE_BYTES`, 16 MiB); one record larger than the byte bound is
//! still accepted into an empty queue. 6,000 records with a 1 MiB value each peak at 21 MiB RSS ([`performance`](super::performance)).
//!
//! **Each output on its own**: the writer thread formats and hands each output its batch; a line output
//! (stdout, stderr, a file, a writer) writes it on a thread of its own from a buffer of its own, bounded in
//! bytes (`Builder::output_buffer`, `LOG_OUTPUT_BUFFER`, default `pipeline::DEFAULT_OUTPUT_BUFFER`, 4 MiB);
//! the OTLP output's exporter has its queue and thread. So a slow, stuck or absent destination delays no
//! other output and no caller until its own buffer is full. Then `Overflow::Block` makes the writer (and so
//! the callers) wait for that output while it takes bytes, at most `FLUSH_TIMEOUT` without, and
//! `Overflow::DropAndReport` drops the batch for that output alone. Either way what an output loses (its
//! buffer full, or a write that failed) is counted (`LogGuard::output_dropped()`, `LogGuard::write_errors()`)
//! and reported on the other outputs as a WARN record `log output dropped records` with `dropped`, `error`
//! and `output` (`stdout`, `stderr`, `file <path>`, `writer`). Every drop report (the queue's overflow, an
//! output's, the export's) comes at most once a second per source (`pipeline::REPORT_EVERY`), with the
//! exact count since the last one, and once more at shutdown. Order stays per output: one thread writes
//! each output's batches in the order the writer formed them. Measured (`integration/otlp/tests/isolation.rs`,
//! 2,000 records a second beside a file and OTLP): stdout read 4 KiB every 4.5 s, or never: every record in
//! the file within 50 ms of its call and at the collector within 250 ms (the export runs every 200 ms there),
//! no caller call over 10 ms; stdout's drops reported on the file, exactly. The cost: one more thread per
//! line output, asleep while idle, and one futex wake per batch (per 20 ms poll at a steady rate).
//!
//! **Flush**: `guard.flush()` and `guard.logger().flush()` (slog's `Logger::flush`) put a marker into the
//! queue, wait until the writer has handed everything before it to the outputs, then until each line
//! output has written it, then (OTLP) until it is exported. The lines: each output while it takes bytes, at
//! most `FLUSH_TIMEOUT` without and `pipeline::LINES_BOUND` (15 s) in all; an output a flush gave up on
//! is not waited for again until it has written all it holds. The export: at most the shutdown timeout
//! (`Builder::shutdown_timeout`, `LOG_SHUTDOWN_TIMEOUT`, default 5 s), and not again while the collector
//! stays unreachable. So a flush and the guard's drop together wait at most 15 s + 5 s, inside
//! Kubernetes' default grace period of 30 s, however slow or absent the destinations.
//!
//! **Every wait is bounded** (`pipeline::FLUSH_TIMEOUT`, 5 s without progress; progress is a record taken
//! from the queue or a byte an output accepted, so a slow output that still reads is waited for, and
//! `Overflow::Block` loses nothing to it: `tests/faults.rs` reads stdout at ~100 KiB/s, and all 1,500
//! records of 400 bytes arrive, none dropped): an output that takes no
//! write (a pipe nobody reads, a terminal on hold, a custom writer that blocks) makes `guard.flush()` return
//! the number of records not written yet (0 when all are), the guard's drop return and say on stderr how
//! many it leaves (the writer thread is left to finish them), and a logger waiting for room under
//! `Overflow::Block` drop its record and count it as an overflow drop (reported in the output). One wait per
//! stall: until the writer takes a record again, later callers drop at once and flushes return at once.
//! A file that is a FIFO, or standard output that is a pipe, waits at most as long for its reader, then
//! counts the lines as write errors, and fails at once until the reader takes a byte again (a pipe on
//! stdout is opened again through `/proc/self/fd` as a non-blocking description of the writer's own; the
//! application's descriptor stays as it was). This holds for a caller writing synchronously too (after the
//! guard, in a forked child): one wait per stall, then every call returns at once. The guard's drop writes
//! what was queued when it began; records other threads log meanwhile are written by those threads
//! (synchronously), so a flood cannot hold the drop. The crate's own messages go to stderr with one
//! `write` to a descriptor of their own, never through `std::io::Stderr`'s lock.
//!
//! **No lock a caller can hold**: standard output and error are written through a `dup` of descriptors 1
//! and 2, never through `std::io::Stdout` or `Stderr` and their locks (colors too: the ANSI sequences are
//! part of the batch). A thread that holds `io::stdout().lock()` while it logs, flushes or drops the guard
//! cannot deadlock the writer (`tests/faults.rs`: 20,001 records with the lock held, flushes return 0). To a
//! pipe, a batch is written in whole lines of at most 4 KiB a `write` (`PIPE_BUF`), so another writer of the
//! pipe (a forked child, the application's `print!`) never lands inside a line.
//!
//! **After the guard, and in a forked child**: dropping the guard writes everything queued and stops the
//! writer thread; the global logger, the `log` bridge and the panic hook stay, and records logged afterwards are written
//! synchronously on the calling thread (a full queue is written, never dropped). A `fork` while other
//! threads log can leave a queue slot claimed by a thread that does not exist in the child, or a lock
//! held; so the child never touches the parent's queues, event pool, outputs or locks. It knows it is a
//! child without a syscall: the crate registers a `pthread_atfork` child handler (its one `unsafe` call,
//! `src/fork.rs`) that bumps a counter, and each record compares it with its pipeline's (one atomic load).
//! The child's first record builds a pipeline of its own: a queue, standard output and error duplicated
//! again, a file reopened by its path, a custom writer taken over if no thread held it at the fork (else
//! its records to it are discarded, said on stderr). It writes synchronously, so whatever a child logs is
//! written before `log` returns, and its flush and guard drop touch only its own pipeline. Its snapshot
//! gets its own `process.pid`; the flood guard lets every record of a child pass (its timer thread is not
//! in the child, and the counts it holds from before the fork are the parent's to report). Records still queued in the parent at the fork are
//! written by the parent only. The child does not refresh the host metadata periodically (the refresher
//! thread stays in the parent). `tests/faults.rs` forks 200 times while 3 threads log: no child hangs,
//! and each child's record is in the file exactly once.
//!
//! **What is lost at an abrupt end**:
//!
//! | how the process ends | records lost |
//! |---|---|
//! | guard dropped, or `guard.flush()` before the end | none |
//! | `std::process::exit` without the guard | those logged in the last ~20 ms (the writer's poll); a test logs 1,000 records, pauses 50 ms and exits: all 1,000 are there |
//! | a forked child that logs, then `_exit`s | none: a child writes synchronously |
//! | the guard dropped while an output takes no write | what that output did not take within `FLUSH_TIMEOUT` (counted on stderr); the other outputs lose nothing |
//! | the guard dropped while an output is slow (a reader taking 4 KiB every few seconds) | what it did not take within `LINES_BOUND` (15 s) |
//! | the guard dropped while the OTLP collector is unreachable | the records not exported within the shutdown timeout (5 s): counted and reported in the lines, which are all written first |
//! | a panic, then `panic = "abort"` or `std::process::exit` (with the panic hook, the default) | none: the hook writes the panic record and everything before it first |
//! | `std::process::abort`, a signal's default action, a panic under `panic = "abort"` with `panic_hook(false)` | the same ~20 ms |
//! | SIGKILL, power loss | the same ~20 ms, plus what the kernel had not written (no fsync) |
//!
//! # Nothing lost
//!
//! - **Shutdown**: dropping the `LogGuard` stops the refresher and the flood timer (writing the pending
//!   summaries), writes every record still queued and stops the writer thread. A test logs 100,000 records,
//!   drops the guard and calls `std::process::exit(0)`: all 100,000 lines are there and parse as JSON with
//!   the host fields.
//! - **No trap**: the global logger, the `log` bridge and the panic hook stay installed for the life of the
//!   process, and after the guard is dropped (even at once, `let _ = init();`) every record is written
//!   synchronously on the calling thread: never a panic, never a silent loss (`tests/setup/lifecycle.rs`: 100
//!   records through slog-scope and 100 through `log` after `let _ = init();`, all 200 written, exit code 0).
//! - **Panics**: a global `init()` installs a panic hook in front of the one installed before, which still
//!   runs (Rust's message on stderr, say); `Builder::panic_hook(false)` turns it off, and a private pipeline
//!   never installs one. A panic becomes one `FATAL` record with target `panic`: the message
//!   `panicked at src/handlers.rs:41:5: boom`, `exception.type` (`panic`), `exception.message`,
//!   `panic.file`, `panic.line`, `thread.name` and, when `RUST_BACKTRACE` is set and not `0`,
//!   `exception.stacktrace` (ECS: `error.type`, `error.message`, `error.stack_trace`,
//!   `process.thread.name`); with source locations on, its `code.file.path` and `code.line.number` are the
//!   panic's. No level filter or flood guard applies to it, and it is never dropped for overflow. The hook
//!   returns only once that record and every earlier one are written, so `panic = "abort"` and a
//!   `process::exit` right after lose nothing: `tests/setup/lifecycle.rs` builds `examples/panic_abort.rs` with
//!   the `panic-abort` profile (`panic = "abort"`) and finds the 1,000 records logged before the panic and
//!   the panic record, then SIGABRT (without the hook's flush the same run wrote no line at all). The hook
//!   logs nothing for a panic on the writer thread or while the panicking thread writes records itself
//!   (after the guard: it holds the output), which would wait for itself, and it stops waiting once the
//!   writer has made no progress for 3 s. A panic inside `println!` (which holds the stdout lock) does not
//!   stop the writer: it never takes that lock.
//! - **Overflow**: the default `Overflow::Block` makes a logging thread wait when the writer falls behind.
//!   `Overflow::DropAndReport` drops instead, counts every drop, and the writer itself writes the count as a
//!   WARN record (`"log records dropped: queue overflow"`, field `dropped`) at most once a second and at
//!   shutdown, so a report never meets a full queue; `LogGuard::dropped()` has the total. Flood summaries are
//!   never dropped for overflow (they wait for room), so written records plus the summaries'
//!   `flood.suppressed` plus the reported drops equal the records logged, always (`tests/pipeline.rs` checks it under both policies
//!   with a slow writer and two floods).
//! - **Output errors** (a closed pipe, say) never stop the writer thread: they are counted
//!   (`LogGuard::write_errors()`), and each change of state is reported once on stderr.
//! - **Host changes**: when a refresh changes the metadata, one INFO record `host metadata changed` lists
//!   each field's old and new value (`"changes":"host.ip: 10.0.0.1 -> 10.0.0.2"`).
//! - **Order**: records of one thread are written in the order they were logged (8 threads × 200,000 records
//!   with sequence numbers: no gap, no duplicate, in order per thread).
//!
//! # Flood guard
//!
//! A messaging server's accept loop failed with "too many open files" and logged the same errors in a tight
//! loop until the disk was full. `init()` puts a `FloodGuard` in front of the queue: per call site (file,
//! line, column and level; never the message text, which varies), the first `burst` records of each `window`
//! pass and the rest are dropped and counted. Once per window a timer thread writes, for each call site that
//! had drops, exactly one summary record at that site's level:
//!
//! ```json
//! {"ts":"2026-11-21T23:50:20.042845Z","level":"ERROR","msg":"suppressed 494088 similar records","flood.window_ms":1000,"flood.suppressed":494088,"flood.site":"examples/flood.rs:39","host.name":"vm",...}
//! ```
//!
//! Summaries also come after the flood stops (the timer does not wait for the next record) and when the
//! guard stops, so written records plus the summaries' counts always equal the records logged. That holds
//! while other threads flood as the `LogGuard` is dropped, too: the stop's final summaries close each call
//! site as they take its count, and a record judged at that moment is either in the count or written, never
//! left for a later summary (the global logger's guard is never dropped). `tests/caller/flood.rs` drops the guard
//! while 32 threads flood one ERROR call site, 12 times under each overflow policy: every run exact. Budgets
//! are per level, so an INFO flood never hides an ERROR. `cargo run --release --example flood` replays the
//! failing loop: here 1,500,669 errors in 3 s became 305 lines (64 KB): 300 records, 3 summaries, 2 info
//! lines.
//!
//! - **Defaults: per-level budgets.** Per call site and second, 100 records at WARN, ERROR and CRIT
//!   (`DEFAULT_FLOOD_BURST`) and 10,000 at INFO, DEBUG and TRACE (`DEFAULT_FLOOD_INFO_BURST`). Why two: floods
//!   are failure loops (an accept loop out of file descriptors, a retry without backoff), and those log at
//!   WARN and above, where the 101st identical error in a second adds nothing the summary's count does not
//!   say; 100 per second is zap's production sampler's first 100, and a tight error loop then writes about
//!   20 KB/s instead of tens of MB/s. One INFO call site, on the other hand, is typically an access log: one
//!   distinct event per request at a rate that follows traffic, and every line counts. 10,000 per second is
//!   ten times a busy instance's 1,000 requests per second, so ordinary traffic and its spikes pass
//!   untouched, while a runaway INFO loop is still cut to a bounded rate. DEBUG and TRACE are switched on to
//!   see everything, so they get the INFO budget. Budgets are whole records, not sampling: a site's first
//!   records of each window pass, and the rest are counted in its summary. Tested (`tests/setup/environment.rs`,
//!   through `init()`): 2,000 INFO records at 1,000 per second from one call site are all written, while
//!   1,000,000 ERRORs from one site in a tight loop are at most 100 lines per window (200 lines in 2 windows
//!   in one run here), and the written records plus the summaries' `flood.suppressed` equal the records
//!   logged.
//! - **`LOG_FLOOD`**: `100/1s` sets one budget for every level (as it always did); `100/1s,info=20000` sets
//!   the two apart; `off` (or `Builder::flood(None)`) turns the guard off. Above 10,000 records per second
//!   from one call site (the load test's 77,000 requests per second), raise the INFO budget or turn the
//!   guard off; the load test runs with it off.
//! - **Memory**: a fixed table of 4,096 slots (about 256 KiB) with lock-free slots claimed once per call site
//!   and level; call sites are static, so it never grows. If it were ever full, further call sites would
//!   pass unguarded and be counted (`FloodStats::unguarded`).
//! - **Timer**: a thread (`slog-host-flood`) starts each window and writes the summaries, so it wakes once
//!   per window, idle or not: with the default 1 s window that is once a second; a window shorter than 100 ms
//!   (`LOG_FLOOD=100/10ms`) makes it wake more than 10 times a second.
//! - **Cost**: a dropped record is a hash, a table probe and an atomic add: 0 syscalls and 0 allocations
//!   (tested with the counters above), about 20 ns (bench (g)).
//! - Summaries carry the host fields but not the call site's logger values (`o!()` of child loggers).
