//! The panic hook a global [`init`](crate::init) installs
//! ([`Builder::panic_hook`](crate::Builder::panic_hook)): a panic becomes one
//! record at slog's highest level (`Critical`, written `FATAL`), and the hook
//! returns only once that record and every record logged before it are in
//! the output, so `panic = "abort"` or a `process::exit` right after the
//! panic loses nothing. The hook that was installed before (Rust's default
//! message on stderr, say) runs after ours.
//!
//! The record: the message `panicked at <file>:<line>:<column>: <message>`,
//! target `panic`, origin (`code.file.path`, `code.line.number` with source
//! locations on) the panic's location, and the fields
//!
//! | field | `otel` schema | `ecs` schema |
//! |---|---|---|
//! | kind | `exception.type` = `panic` | `error.type` = `panic` |
//! | the panic's message | `exception.message` | `error.message` |
//! | file, line | `panic.file`, `panic.line` | the same |
//! | thread name (`<unnamed>` if none) | `thread.name` | `process.thread.name` |
//! | backtrace, when `RUST_BACKTRACE` is set and not `0` | `exception.stacktrace` | `error.stack_trace` |
//!
//! It bypasses the level filter and the flood guard (a panic is never
//! filtered out by a target directive, and the flood guard's locks are not
//! taken), and is never dropped for overflow.
//!
//! Never a deadlock or a recursion: the hook logs nothing when the panic
//! happens on the writer thread (it would wait for itself), or while the
//! panicking thread writes records itself (synchronous mode: it holds the
//! output), or inside the hook; a thread-local flag says so. And it waits for
//! the writer only while the writer makes progress: a writer stuck for
//! [`STALL`] (the panicking thread holds the stdout lock, in a `println!`
//! whose argument panicked) is given up on, with a line on stderr.

use std::backtrace::Backtrace;
use std::time::Duration;

use slog::{BorrowedKV, Drain, Level, Record, RecordLocation, RecordStatic, KV};

use crate::caller::sender::Sender;
use crate::host::schema::Schema;
use crate::record::own::PANIC_TAG;
use crate::record::thread_role;

/// How long the hook waits for a writer that makes no progress.
pub(crate) const STALL: Duration = Duration::from_secs(3);

/// Installs the hook, in front of the one installed before.
pub(crate) fn install(sender: Sender, schema: Schema) {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // Not busy (a thread being torn down has no flag: not logged).
        if thread_role::may_log_panic() {
            let _busy = thread_role::Busy::enter();
            let message = payload_text(info.payload());
            let (file, line, column) = info
                .location()
                .map_or(("<unknown>", 0, 0), |l| (l.file(), l.line(), l.column()));
            log_panic(&sender, schema, message, file, line, column);
        }
        previous(info);
    }));
}

fn payload_text(payload: &(dyn std::any::Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        // What Rust's own hook prints for other payloads.
        "Box<dyn Any>"
    }
}

/// The panic's fields, named as `schema` says.
struct Fields<'a> {
    schema: Schema,
    message: &'a str,
    file: &'a str,
    line: u32,
    thread: &'a str,
    backtrace: Option<String>,
}

impl KV for Fields<'_> {
    fn serialize(&self, _: &Record<'_>, s: &mut dyn slog::Serializer) -> slog::Result {
        let ecs = self.schema == Schema::Ecs;
        let key = |otel, ecs_key| if ecs { ecs_key } else { otel };
        s.emit_str(key("exception.type", "error.type"), "panic")?;
        s.emit_str(key("exception.message", "error.message"), self.message)?;
        s.emit_str("panic.file", self.file)?;
        s.emit_u32("panic.line", self.line)?;
        s.emit_str(key("thread.name", "process.thread.name"), self.thread)?;
        if let Some(bt) = &self.backtrace {
            s.emit_str(key("exception.stacktrace", "error.stack_trace"), bt)?;
        }
        Ok(())
    }
}

/// Logs the panic record and waits until it is written.
fn log_panic(sender: &Sender, schema: Schema, message: &str, file: &str, line: u32, column: u32) {
    let thread = std::thread::current();
    let backtrace = match std::env::var_os("RUST_BACKTRACE") {
        // As Rust's own hook reads it (RUST_LIB_BACKTRACE is not about panics).
        Some(v) if v != "0" => Some(Backtrace::force_capture().to_string()),
        _ => None,
    };
    let fields = Fields {
        schema,
        message,
        file,
        line,
        thread: thread.name().unwrap_or("<unnamed>"),
        backtrace,
    };
    let location = RecordLocation {
        file: crate::intern::intern(file).unwrap_or("<unknown>"),
        line,
        column,
        function: "",
        module: "",
    };
    let rs = RecordStatic {
        location: &location,
        tag: PANIC_TAG,
        level: Level::Critical,
    };
    let empty = crate::record::event::no_values();
    let _ = sender.log(
        &Record::new(
            &rs,
            &format_args!("panicked at {file}:{line}:{column}: {message}"),
            BorrowedKV(&fields),
        ),
        empty,
    );
    if !sender.flush_lines(STALL) {
        crate::error::report(format_args!(
            "the writer made no progress for {} s after a panic (does the panicking \
             thread hold the output, in a println! say?); the panic record may be written \
             late, or lost if the process ends now",
            STALL.as_secs()
        ));
    } else if !sender.flush_exports() {
        crate::error::report(format_args!(
            "after a panic, the OTLP export did not finish within its export timeout; \
             what it holds may be lost if the process ends now"
        ));
    }
}
