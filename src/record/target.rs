//! A record's target, and whether it names one of a list of crates. Any
//! thread: the caller filters by the target, the writer writes it.

use slog::Record;

/// The target a record is filtered by: its tag if it has one (records bridged
/// from the `log` crate carry their `log` target there), else its module path.
pub(crate) fn target<'a>(record: &'a Record<'_>) -> &'a str {
    match record.tag() {
        "" => record.module(),
        tag => tag,
    }
}

/// The OTLP exporter's own dependencies (HTTP client, TLS, compression),
/// which log on the exporter's thread while it exports. Their records are
/// never exported (that would make records of the export of records,
/// without end), and their TRACE records are never written at all: they
/// dump each request, its headers (an `api-key`) and the endpoint's query
/// included.
pub(crate) const EXPORTER_CRATES: &[&str] = &["ureq", "ureq_proto", "rustls", "webpki", "flate2"];

/// True if `target` is one of `crates` or inside one (`neli`, `neli::nl`;
/// not `nelix`).
pub(crate) fn in_crates(target: &str, crates: &[&str]) -> bool {
    crates.iter().any(|c| {
        target
            .strip_prefix(c)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
    })
}

#[cfg(test)]
mod tests {
    use super::in_crates;

    #[test]
    fn a_crate_list_matches_whole_crate_names() {
        let crates = ["neli", "local_ip_address"];
        for t in [
            "neli",
            "neli::nl",
            "local_ip_address",
            "local_ip_address::linux",
        ] {
            assert!(in_crates(t, &crates), "{t}");
        }
        for t in [
            "nelix",
            "neli_",
            "my::neli",
            "local_ip",
            "xlocal_ip_address",
        ] {
            assert!(!in_crates(t, &crates), "{t}");
        }
    }
}
