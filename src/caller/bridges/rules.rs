//! The rules both bridges apply on the calling thread: which `log` targets
//! are never forwarded, which `log` records are tracing's own echoes, and
//! the location a bridged record carries.

#[cfg(feature = "tracing")]
use std::collections::HashMap;
#[cfg(feature = "tracing")]
use std::sync::OnceLock;

#[cfg(feature = "tracing")]
use arc_swap::ArcSwap;
use slog::{Level, RecordLocation};

use crate::record::target::{in_crates, EXPORTER_CRATES};

/// The location of a bridged record: its file and line where known, and
/// its module (the `log` module path, or the `tracing` target).
pub(crate) fn location(
    file: Option<&'static str>,
    line: Option<u32>,
    module: &'static str,
) -> RecordLocation {
    RecordLocation {
        file: file.unwrap_or("<unknown>"),
        line: line.unwrap_or(0),
        column: 0,
        function: "",
        module,
    }
}

/// The crates host detection uses that log through `log`: their records
/// never reach the pipeline. neli (under `local-ip-address`) logs every
/// netlink message at trace, from a thread of its own.
pub(crate) const DETECTION_CRATES: &[&str] = &["neli", "local_ip_address"];

/// True for a target in one of [`DETECTION_CRATES`] (`neli`, `neli::nl`;
/// not `nelix`).
fn detection_target(target: &str) -> bool {
    in_crates(target, DETECTION_CRATES)
}

/// True for a `log` record this crate never forwards: from the detection
/// crates, tracing's span lifecycle lines, anything logged on a thread while
/// it runs host detection, and the exporter's dependencies' TRACE records
/// (request dumps with credentials: [`EXPORTER_CRATES`]).
pub(crate) fn excluded_log_target(level: Level, target: &str) -> bool {
    detection_target(target)
        || target.starts_with("tracing::span")
        || (level == Level::Trace && in_crates(target, EXPORTER_CRATES))
        || crate::host::cache::detecting()
}

/// The file and line of every tracing call site (events and spans) this
/// layer has seen, so the `log` bridge can drop the `log` echoes that
/// `tracing/log-always` sends for them (before the event is dispatched, so
/// no per-event marker could catch them). Written once per call site, read
/// per bridged `log` record: an atomic load and a hash lookup.
#[cfg(feature = "tracing")]
static CALLSITES: OnceLock<ArcSwap<HashMap<u32, Vec<&'static str>>>> = OnceLock::new();

#[cfg(feature = "tracing")]
fn callsites() -> &'static ArcSwap<HashMap<u32, Vec<&'static str>>> {
    CALLSITES.get_or_init(|| ArcSwap::from_pointee(HashMap::new()))
}

#[cfg(feature = "tracing")]
/// Notes the call site `file:line` (see [`CALLSITES`]).
pub(crate) fn remember(file: &'static str, line: u32) {
    callsites().rcu(|map| {
        let mut map = HashMap::clone(map);
        let files = map.entry(line).or_default();
        if !files.contains(&file) {
            files.push(file);
        }
        map
    });
}

/// True if `file:line` is a tracing call site: a `log` record from there is
/// tracing's own echo of an event or span this layer records (or filters).
#[cfg(feature = "tracing")]
pub(crate) fn is_tracing_callsite(file: Option<&str>, line: Option<u32>) -> bool {
    let (Some(file), Some(line)) = (file, line) else {
        return false;
    };
    let Some(map) = CALLSITES.get() else {
        return false;
    };
    map.load()
        .get(&line)
        .is_some_and(|files| files.contains(&file))
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

    #[test]
    fn the_exporters_dependencies_never_reach_the_lines_at_trace() {
        use super::excluded_log_target;
        use slog::Level;
        for t in [
            "ureq",
            "ureq::unversioned::transport",
            "ureq_proto::client",
            "rustls::conn",
        ] {
            assert!(excluded_log_target(Level::Trace, t), "{t}");
            assert!(!excluded_log_target(Level::Debug, t), "{t} at debug");
        }
        for t in ["app", "ureqx", "my::ureq"] {
            assert!(!excluded_log_target(Level::Trace, t), "{t}");
        }
    }
}
