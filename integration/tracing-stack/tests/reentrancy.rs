//! A record logged while another layer holds a span's extensions: the `fmt`
//! layer formats a recorded field while it holds the span's extensions lock,
//! and that field's `Debug` logs through slog. The record must be written
//! (with the span's fields), not wait for the lock. (A `tracing` event there
//! would hang in the `fmt` layer itself, which reads the same extensions.)
//! The scenario runs on a thread of its own, with a 20 s bound: a hang fails
//! the test instead of hanging it.

use std::fmt;
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;
use slog_host::{Builder, Format, Output};
use slog_host_tracing_stack::Buf;
use tracing_subscriber::layer::SubscriberExt;

struct LogsWhenFormatted(slog::Logger);

impl fmt::Debug for LogsWhenFormatted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        slog::info!(self.0, "slog inside Debug");
        f.write_str("user-7")
    }
}

#[test]
fn a_record_logged_while_a_field_is_formatted_is_written() {
    let out = Buf::default();
    let guard = Builder::new()
        .global(false)
        .format(Format::Json)
        .output(Output::Writer(Box::new(out.clone())))
        .init()
        .unwrap();
    let logger = guard.logger().clone();
    let fmt_out = Buf::default();
    let subscriber = tracing_subscriber::registry()
        .with(guard.tracing_layer())
        .with(tracing_subscriber::fmt::layer().with_writer(fmt_out));
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("request", order_id = 7, user = tracing::field::Empty);
            let _entered = span.enter();
            span.record("user", tracing::field::debug(LogsWhenFormatted(logger)));
        });
        let _ = done.send(());
    });
    finished
        .recv_timeout(Duration::from_secs(20))
        .expect("the records were written within 20 s, not stuck on a span's lock");
    guard.flush();
    let lines = out.json();
    {
        let msg = "slog inside Debug";
        let v: &Value = lines
            .iter()
            .find(|v| v["msg"] == msg)
            .unwrap_or_else(|| panic!("{msg} in {lines:#?}"));
        assert_eq!(v["order_id"], 7, "{v}");
    }
}
