//! The `log` crate's records into the pipeline.
//!
//! Each record is filtered by the same directives as slog's, built into a
//! reused event (no allocation once warm) and logged through the root logger,
//! so it meets the flood guard and the queue like any other record. Its
//! location (file, line, module) keys the flood guard; an explicit target
//! becomes the record's tag, which the filter and the `target` key use.
//!
//! Not forwarded: what the crate's own host detection logs, whatever
//! `RUST_LOG` says: anything logged on a thread while it runs detection, and
//! every record of the detection crates ([`DETECTION_CRATES`]) from any
//! thread (neli logs from the router thread it starts for each query, which
//! the thread-local flag cannot see); `tracing`'s span
//! lifecycle lines (`tracing::span*` targets), and the `log` echo that
//! `tracing/log-always` sends for every tracing event and span (it comes from
//! a tracing call site, which the tracing layer records itself).

use std::sync::Arc;

use slog::{Level, Logger, RecordLocation};

use super::capture::with_scratch;
use super::filter::Directives;

/// The `log` logger `init()` installs.
pub(crate) struct LogBridge {
    pub(crate) logger: Logger,
    pub(crate) directives: Arc<Directives>,
}

/// The crates host detection uses that log through `log`: their records
/// never reach the pipeline. neli (under `local-ip-address`) logs every
/// netlink message at trace, from a thread of its own.
pub(crate) const DETECTION_CRATES: &[&str] = &["neli", "local_ip_address"];

/// True for a target in one of [`DETECTION_CRATES`] (`neli`, `neli::nl`;
/// not `nelix`).
fn detection_target(target: &str) -> bool {
    DETECTION_CRATES.iter().any(|c| {
        target
            .strip_prefix(c)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
    })
}

pub(crate) fn level(l: log::Level) -> Level {
    match l {
        log::Level::Error => Level::Error,
        log::Level::Warn => Level::Warning,
        log::Level::Info => Level::Info,
        log::Level::Debug => Level::Debug,
        log::Level::Trace => Level::Trace,
    }
}

impl log::Log for LogBridge {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        self.directives.enabled(level(m.level()), m.target()) && !detection_target(m.target())
    }

    fn log(&self, r: &log::Record<'_>) {
        if !self.enabled(r.metadata())
            || r.target().starts_with("tracing::span")
            || crate::host::cache::detecting()
        {
            return;
        }
        // tracing's own echo (`log-always`): it names its file without
        // `file_static`, unlike the `log` macros, and comes from a tracing
        // call site. A `log` record on the same line as a tracing event is
        // still written.
        #[cfg(feature = "tracing")]
        if r.file_static().is_none()
            && super::tracing_layer::is_tracing_callsite(r.file(), r.line())
        {
            return;
        }
        let module = r.module_path_static().unwrap_or("");
        let location = RecordLocation {
            file: r.file_static().unwrap_or("<unknown>"),
            line: r.line().unwrap_or(0),
            column: 0,
            function: "",
            module,
        };
        let tag = if r.target() == module { "" } else { r.target() };
        with_scratch(|ev| {
            ev.begin(level(r.level()), location, tag);
            ev.set_message(*r.args());
            ev.replay(|record, _| self.logger.log(record));
        });
    }

    fn flush(&self) {
        let _ = self.logger.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::detection_target;

    #[test]
    fn detection_targets_are_whole_crate_names() {
        for t in [
            "neli",
            "neli::nl",
            "neli::router::synchronous",
            "local_ip_address",
        ] {
            assert!(detection_target(t), "{t}");
        }
        for t in [
            "nelix",
            "my_app::neli",
            "local_ip",
            "local_ip_address_ext",
            "",
        ] {
            assert!(!detection_target(t), "{t}");
        }
    }
}
