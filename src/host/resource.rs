//! Resource detection shared with OpenTelemetry: `OTEL_RESOURCE_ATTRIBUTES`,
//! the container id, the service-account namespace.

use std::sync::OnceLock;

use crate::error::Error;

/// The variable [`parse_resource_attributes`] reads in `from_env`.
pub(crate) const OTEL_RESOURCE_ATTRIBUTES: &str = "OTEL_RESOURCE_ATTRIBUTES";
/// Where Kubernetes mounts the pod's namespace.
pub(crate) const SERVICE_ACCOUNT_NAMESPACE_FILE: &str =
    "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

/// Parses `OTEL_RESOURCE_ATTRIBUTES` as the OpenTelemetry specification
/// says (resource SDK, "Specifying resource information via an environment
/// variable"): comma-separated `key=value` pairs, both sides trimmed and
/// percent-decoded; `,` and `=` inside keys and values must be
/// percent-encoded (`%2C`, `%3D`).
///
/// Where the specification says that on any error "the entire environment
/// variable value SHOULD be discarded and an error SHOULD be reported", this
/// returns an error naming `setting` and the value: an entry without `=`, an
/// empty key, a raw `=` in a value, an invalid `%` escape, or text that is
/// not UTF-8 once decoded. Entries that are empty or only whitespace (as in
/// `a=1,,b=2` or a trailing comma) are skipped. A key given twice keeps the
/// last value.
///
/// ```
/// use slog_host::host::parse_resource_attributes;
///
/// let attrs = parse_resource_attributes(
///     "OTEL_RESOURCE_ATTRIBUTES",
///     "deployment.environment=prod, team = payments%2Ccore",
/// ).unwrap();
/// assert_eq!(attrs, vec![
///     ("deployment.environment".to_string(), "prod".to_string()),
///     ("team".to_string(), "payments,core".to_string()),
/// ]);
/// assert!(parse_resource_attributes("OTEL_RESOURCE_ATTRIBUTES", "novalue").is_err());
/// ```
pub fn parse_resource_attributes(
    setting: &str,
    value: &str,
) -> Result<Vec<(String, String)>, Error> {
    let mut out: Vec<(String, String)> = Vec::new();
    for entry in value.split(',') {
        if entry.trim().is_empty() {
            continue;
        }
        let bad = |why: String| Error::invalid(setting, value, why);
        let (k, v) = entry
            .split_once('=')
            .ok_or_else(|| bad(format!("entry {:?} has no `=`", entry.trim())))?;
        if v.contains('=') {
            return Err(bad(format!(
                "entry {:?} has a second `=`; percent-encode it as %3D",
                entry.trim()
            )));
        }
        let key =
            percent_decode(k.trim()).map_err(|why| bad(format!("key {:?}: {why}", k.trim())))?;
        if key.is_empty() {
            return Err(bad(format!("entry {:?} has an empty key", entry.trim())));
        }
        let val =
            percent_decode(v.trim()).map_err(|why| bad(format!("value {:?}: {why}", v.trim())))?;
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = val,
            None => out.push((key, val)),
        }
    }
    Ok(out)
}

fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("invalid percent escape at byte {i}"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "not UTF-8 once decoded".to_string())
}

/// A `'static` copy of a field name (slog keys are `&'static str`):
/// attribute names come from the environment once per probe, long before
/// the interned names could run out.
pub(crate) fn intern(key: &str) -> &'static str {
    crate::intern::intern(key).unwrap_or("fields.too_many_names")
}

fn is_container_id(s: &str) -> bool {
    (32..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// The container id in `/proc/self/cgroup` contents: the last path segment
/// of a line, without a `.scope` suffix and a runtime prefix (`docker-`,
/// `cri-containerd-`, `crio-`, `libpod-`, ...), if it is 32 to 64 lowercase
/// hex digits. Covers cgroup v1 and v2 layouts of docker, containerd, cri-o
/// and podman.
pub(crate) fn container_id_from_cgroup(contents: &str) -> Option<String> {
    contents.lines().find_map(|line| {
        let path = line.splitn(3, ':').nth(2)?;
        let last = path.trim_end().rsplit('/').next()?;
        let last = last.strip_suffix(".scope").unwrap_or(last);
        let id = last.rsplit(['-', ':']).next()?;
        is_container_id(id).then(|| id.to_string())
    })
}

/// The container id in `/proc/self/mountinfo` contents, for cgroup v2 hosts
/// where `/proc/self/cgroup` is just `0::/`: a 64-hex segment right after a
/// `containers` or `overlay-containers` directory (docker's
/// `/var/lib/docker/containers/<id>/hostname`, podman's and cri-o's
/// `overlay-containers/<id>/userdata/...`). containerd's `sandboxes/<id>`
/// names the pod sandbox, not the container, and is not used.
pub(crate) fn container_id_from_mountinfo(contents: &str) -> Option<String> {
    contents.lines().find_map(|line| {
        line.split_whitespace().find_map(|field| {
            let segments: Vec<&str> = field.split('/').collect();
            segments.windows(2).find_map(|w| {
                let dir_ok = w[0] == "containers" || w[0] == "overlay-containers";
                (dir_ok && w[1].len() == 64 && is_container_id(w[1])).then(|| w[1].to_string())
            })
        })
    })
}

/// The container id of this process: `/proc/self/cgroup`, else
/// `/proc/self/mountinfo`; `None` outside a container.
pub(crate) fn detect_container_id() -> Option<String> {
    let from = |path: &str, parse: fn(&str) -> Option<String>| {
        std::fs::read_to_string(path).ok().and_then(|c| parse(&c))
    };
    from("/proc/self/cgroup", container_id_from_cgroup)
        .or_else(|| from("/proc/self/mountinfo", container_id_from_mountinfo))
}

/// The pod's namespace from the service-account file, if there is one.
pub(crate) fn namespace_from_file(path: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(text.trim().to_string()).filter(|s| !s.is_empty())
}

/// A random (version 4) UUID, made once per process: `service.instance.id`.
pub(crate) fn instance_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| uuid::Uuid::new_v4().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_file_is_read_and_trimmed() {
        let dir = std::env::temp_dir().join(format!("slog-host-ns-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("namespace");
        std::fs::write(&file, "payments\n").unwrap();
        assert_eq!(
            namespace_from_file(file.to_str().unwrap()).as_deref(),
            Some("payments")
        );
        std::fs::write(&file, "  \n").unwrap();
        assert_eq!(
            namespace_from_file(file.to_str().unwrap()),
            None,
            "empty: unknown"
        );
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            namespace_from_file(file.to_str().unwrap()),
            None,
            "missing: unknown"
        );
    }
}

/// The container runtimes' `/proc/self/cgroup` and `/proc/self/mountinfo`
/// layouts.
#[cfg(test)]
#[path = "container_id_tests.rs"]
mod container_id_tests;
