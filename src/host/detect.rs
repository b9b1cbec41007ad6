//! Host detection: where each field of a [`HostInfo`] comes from.
//!
//! Detection does I/O (system calls, netlink sockets, environment reads), so
//! it only runs when a [`HostCache`](crate::host::HostCache) is created and when it
//! is refreshed, never while a record is logged.

use std::net::IpAddr;

use crate::error::Error;
use crate::host::info::HostInfo;
use crate::host::keys;
use crate::host::resource::{
    detect_container_id, instance_id, intern, namespace_from_file, parse_resource_attributes,
    OTEL_RESOURCE_ATTRIBUTES, SERVICE_ACCOUNT_NAMESPACE_FILE,
};
use crate::settings::clean;

/// A source of host snapshots, called by [`HostCache`](crate::host::HostCache) at
/// creation and on every refresh.
///
/// [`SystemProbe`] is the real one. Any `Fn() -> Result<HostInfo, Error>`
/// closure is a probe too, which is how tests inject failures:
///
/// ```
/// use slog_host::Error;
/// use slog_host::host::{HostCache, HostInfo};
///
/// let cache = HostCache::new(|| Ok(HostInfo::new().with_host_name("fixed"))).unwrap();
/// assert_eq!(cache.load().host_name(), Some("fixed"));
///
/// let failing = HostCache::new(|| Err(Error::probe("no network")));
/// assert!(failing.is_err());
/// ```
pub trait Probe: Send + Sync + 'static {
    /// Detects a complete snapshot. An error keeps the cache's last good one.
    fn detect(&self) -> Result<HostInfo, Error>;
}

impl<F> Probe for F
where
    F: Fn() -> Result<HostInfo, Error> + Send + Sync + 'static,
{
    fn detect(&self) -> Result<HostInfo, Error> {
        self()
    }
}

/// Interface name prefixes of virtual interfaces (container bridges, veth
/// pairs, CNI plugins) whose addresses are never the host's address.
pub(crate) const VIRTUAL_INTERFACE_PREFIXES: &[&str] =
    &["docker", "veth", "br-", "virbr", "cni", "flannel", "cali"];

/// The real probe: environment overrides, `gethostname`, the local IP.
///
/// | field | source, in order of preference |
/// |---|---|
/// | `host.name` | `gethostname` (re-read on every refresh) |
/// | `host.ip` | `POD_IP`, `MY_POD_IP` (must parse, else an error); else `local_ip_address::local_ip()`; else the first address of `list_afinet_netifas()` that is not loopback, link-local or on a virtual interface (`docker*`, `veth*`, `br-*`, `virbr*`, `cni*`, `flannel*`, `cali*`), IPv4 preferred (re-detected on every refresh) |
/// | `process.pid` | `std::process::id()`, re-read on every refresh (a forked child is another process) |
/// | `service.name` | [`SystemProbe::service`], else `OTEL_SERVICE_NAME`, else `service.name` of `OTEL_RESOURCE_ATTRIBUTES`, else the executable's file name |
/// | `service.version` | [`SystemProbe::service`], else `service.version` of `OTEL_RESOURCE_ATTRIBUTES` |
/// | `k8s.pod.name` | `POD_NAME`, `MY_POD_NAME` |
/// | `k8s.namespace.name` | `POD_NAMESPACE`, `MY_POD_NAMESPACE`, else the service-account file `/var/run/secrets/kubernetes.io/serviceaccount/namespace` |
/// | `k8s.node.name` | `NODE_NAME`, `MY_NODE_NAME` |
/// | `service.instance.id` | a UUID v4 made once per process |
/// | `container.id` | `/proc/self/cgroup` (cgroup v1 and v2 layouts of docker, containerd, cri-o, podman), else `/proc/self/mountinfo` |
/// | others | `OTEL_RESOURCE_ATTRIBUTES` ([`parse_resource_attributes`](crate::host::parse_resource_attributes)) |
///
/// `OTEL_RESOURCE_ATTRIBUTES` may also give any field of the table; the
/// dedicated variables above win over it (`OTEL_SERVICE_NAME` over its
/// `service.name`, `POD_NAME` over its `k8s.pod.name`, ...), and what it
/// gives wins over detection (`host.name`, `container.id`,
/// `service.instance.id`).
///
/// Environment variables are read once, when the probe is made; values are
/// trimmed, and a blank one (empty or white space only) counts as unset.
#[derive(Clone, Debug)]
pub struct SystemProbe {
    base: HostInfo,
    pod_ip: Option<IpAddr>,
    /// `host.name` from `OTEL_RESOURCE_ATTRIBUTES`: not re-detected.
    host_name: Option<String>,
    /// `process.pid` from `OTEL_RESOURCE_ATTRIBUTES`: not re-detected.
    pid_fixed: bool,
    /// The fields the environment gave, which code defaults never replace.
    from_env: Vec<&'static str>,
}

/// The environment variables the probe reads, in order of preference.
const POD_IP_VARS: [&str; 2] = ["POD_IP", "MY_POD_IP"];
const POD_NAME_VARS: [&str; 2] = ["POD_NAME", "MY_POD_NAME"];
const NAMESPACE_VARS: [&str; 2] = ["POD_NAMESPACE", "MY_POD_NAMESPACE"];
const NODE_NAME_VARS: [&str; 2] = ["NODE_NAME", "MY_NODE_NAME"];
const SERVICE_NAME_VAR: &str = "OTEL_SERVICE_NAME";

/// Reads an environment variable, trimmed; a blank value (empty or white
/// space only) counts as unset, a value that is not UTF-8 is an error naming
/// the variable.
pub(crate) fn env_var(name: &str) -> Result<Option<String>, Error> {
    read_env(name, false)
}

/// [`env_var`] for a credential (an OTLP header): a value that is not
/// UTF-8 is not shown in the error.
#[cfg_attr(not(feature = "otlp"), allow(dead_code))]
pub(crate) fn env_secret(name: &str) -> Result<Option<String>, Error> {
    read_env(name, true)
}

fn read_env(name: &str, secret: bool) -> Result<Option<String>, Error> {
    match std::env::var_os(name) {
        None => Ok(None),
        Some(v) => match v.into_string() {
            Ok(s) => Ok(clean(&s).map(str::to_owned)),
            Err(raw) => Err(Error::invalid(
                name,
                if secret {
                    "(not shown: it is a credential)".into()
                } else {
                    raw.to_string_lossy()
                },
                "not valid UTF-8",
            )),
        },
    }
}

impl SystemProbe {
    /// Reads the environment and checks it; an invalid value (such as
    /// `POD_IP=999.1.1.1`) is an error naming the variable and the value.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(env_var)
    }

    /// Like [`from_env`](Self::from_env), with the variables taken from
    /// `lookup` instead of the process environment (`Ok(None)`: unset).
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Result<Option<String>, Error>,
    ) -> Result<Self, Error> {
        // The same rule as `env_var`, whatever `lookup` does: trimmed, and
        // blank is unset.
        let lookup = |name: &str| Ok(lookup(name)?.and_then(|v| clean(&v).map(str::to_owned)));
        let first = |names: &[&str]| -> Result<Option<(String, String)>, Error> {
            for n in names {
                if let Some(v) = lookup(n)? {
                    return Ok(Some((n.to_string(), v)));
                }
            }
            Ok(None)
        };
        let attrs_text = lookup(OTEL_RESOURCE_ATTRIBUTES)?.unwrap_or_default();
        let attrs = parse_resource_attributes(OTEL_RESOURCE_ATTRIBUTES, &attrs_text)?;
        let bad_attr = |key: &str, value: &str, what: &str| {
            Error::invalid(
                OTEL_RESOURCE_ATTRIBUTES,
                &attrs_text,
                format!("{key} {value:?} is not {what}"),
            )
        };
        let attr = |key: &str| {
            attrs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
                .filter(|v| !v.is_empty())
        };
        let pod_ip = match first(&POD_IP_VARS)? {
            Some((var, v)) => Some(parse_ip(&var, &v)?),
            None => match attr(keys::HOST_IP) {
                Some(v) => Some(
                    v.trim()
                        .parse()
                        .map_err(|_| bad_attr(keys::HOST_IP, &v, "an IPv4 or IPv6 address"))?,
                ),
                None => None,
            },
        };
        let mut base = HostInfo::new();
        if let Some(pid) = attr(keys::PROCESS_PID) {
            let pid = pid
                .parse()
                .map_err(|_| bad_attr(keys::PROCESS_PID, &pid, "a process id"))?;
            base = base.with_pid(pid);
        }
        // Every field the environment gives; `from_env` below.
        let mut from_env: Vec<&'static str> = attrs
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, _)| {
                keys::ALL
                    .iter()
                    .copied()
                    .find(|s| *s == k.as_str())
                    .unwrap_or_else(|| intern(k))
            })
            .collect();
        // OTEL_SERVICE_NAME wins over service.name in OTEL_RESOURCE_ATTRIBUTES.
        let service = match lookup(SERVICE_NAME_VAR)? {
            Some(name) => {
                from_env.push(keys::SERVICE_NAME);
                Some(name)
            }
            None => attr(keys::SERVICE_NAME).or_else(executable_name),
        };
        base = base.with_service(
            service.unwrap_or_default(),
            attr(keys::SERVICE_VERSION).unwrap_or_default(),
        );
        let mut pick = |vars: &[&str], key: &'static str| -> Result<Option<String>, Error> {
            let v = first(vars)?.map(|(_, v)| v);
            if v.is_some() {
                from_env.push(key);
            }
            Ok(v.or_else(|| attr(key)))
        };
        if let Some(v) = pick(&POD_NAME_VARS, keys::K8S_POD_NAME)? {
            base = base.with_pod_name(v);
        }
        let namespace = pick(&NAMESPACE_VARS, keys::K8S_NAMESPACE_NAME)?
            .or_else(|| namespace_from_file(SERVICE_ACCOUNT_NAMESPACE_FILE));
        if let Some(v) = namespace {
            base = base.with_namespace(v);
        }
        if let Some(v) = pick(&NODE_NAME_VARS, keys::K8S_NODE_NAME)? {
            base = base.with_node_name(v);
        }
        if pod_ip.is_some() {
            from_env.push(keys::HOST_IP);
        }
        base = base.with_instance_id(
            attr(keys::SERVICE_INSTANCE_ID).unwrap_or_else(|| instance_id().to_string()),
        );
        if let Some(id) = attr(keys::CONTAINER_ID).or_else(detect_container_id) {
            base = base.with_container_id(id);
        }
        for (k, v) in &attrs {
            // Standard fields were taken above; the rest are extra fields.
            if !keys::ALL.contains(&k.as_str()) {
                base = base.with_field(intern(k), v.clone());
            }
        }
        Ok(SystemProbe {
            base,
            pod_ip,
            host_name: attr(keys::HOST_NAME),
            pid_fixed: attr(keys::PROCESS_PID).is_some(),
            from_env,
        })
    }

    /// Sets `service.name` and `service.version` where the environment
    /// (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`) did not: the code's
    /// defaults for [`Builder::from_env`](crate::Builder::from_env). Replaces
    /// the executable-name fallback.
    pub(crate) fn service_default(
        mut self,
        name: impl Into<String>,
        version: impl Into<String>,
    ) -> Self {
        let env = |key| self.from_env.contains(&key);
        let name = match env(keys::SERVICE_NAME) {
            true => self.base.service_name().unwrap_or_default().to_owned(),
            false => name.into(),
        };
        let version = match env(keys::SERVICE_VERSION) {
            true => self.base.service_version().unwrap_or_default().to_owned(),
            false => version.into(),
        };
        self.base = self.base.with_service(name, version);
        self
    }

    /// Adds a field unless the environment gave that field: the code's
    /// default for [`Builder::from_env`](crate::Builder::from_env).
    pub(crate) fn field_default(self, key: &'static str, value: impl Into<String>) -> Self {
        if self.from_env.contains(&key) {
            self
        } else {
            self.field(key, value)
        }
    }

    /// Sets `service.name` and `service.version`; wins over
    /// `OTEL_SERVICE_NAME` and the executable name.
    pub fn service(mut self, name: impl Into<String>, version: impl Into<String>) -> Self {
        self.base = self.base.with_service(name, version);
        self
    }

    /// Names the fields as `schema` says (default [`Schema::Otel`](crate::Schema::Otel)).
    pub fn schema(mut self, schema: crate::host::schema::Schema) -> Self {
        self.base = self.base.with_schema(schema);
        self
    }

    /// Adds an extra static field to every snapshot.
    pub fn field(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.base = self.base.with_field(key, value);
        self
    }

    /// The `POD_IP`/`MY_POD_IP` override, if one was set.
    pub fn pod_ip(&self) -> Option<IpAddr> {
        self.pod_ip
    }
}

impl Probe for SystemProbe {
    fn detect(&self) -> Result<HostInfo, Error> {
        let name = self.host_name.clone().unwrap_or_else(host_name);
        let mut info = self.base.clone().with_host_name(name);
        if !self.pid_fixed {
            // A forked child is another process.
            info = info.with_pid(std::process::id());
        }
        let ip = match self.pod_ip {
            Some(ip) => Some(ip),
            None => detect_ip()?,
        };
        if let Some(ip) = ip {
            info = info.with_ip(ip);
        }
        Ok(info)
    }
}

/// Parses an IP address given in the environment variable `var`.
pub(crate) fn parse_ip(var: &str, value: &str) -> Result<IpAddr, Error> {
    value
        .trim()
        .parse()
        .map_err(|_| Error::invalid(var, value, "not an IPv4 or IPv6 address"))
}

/// The host name from `gethostname` (a system call, not a spawned program).
pub(crate) fn host_name() -> String {
    gethostname::gethostname().to_string_lossy().into_owned()
}

fn executable_name() -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    let name = exe.file_name()?.to_string_lossy().into_owned();
    Some(name).filter(|n| !n.is_empty())
}

/// True for an address that can be the host's address: not loopback,
/// unspecified, multicast or link-local.
pub(crate) fn is_usable(ip: &IpAddr) -> bool {
    if ip.is_loopback() || ip.is_unspecified() || ip.is_multicast() {
        return false;
    }
    match ip {
        IpAddr::V4(v4) => !v4.is_link_local() && !v4.is_broadcast(),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) != 0xfe80,
    }
}

/// True for an interface name of a virtual interface.
pub(crate) fn is_virtual_interface(name: &str) -> bool {
    VIRTUAL_INTERFACE_PREFIXES
        .iter()
        .any(|p| name.starts_with(p))
}

/// The fallback choice among all interfaces: the first usable address on a
/// non-virtual interface, IPv4 preferred.
pub(crate) fn pick_ip(interfaces: &[(String, IpAddr)]) -> Option<IpAddr> {
    let mut candidates = interfaces
        .iter()
        .filter(|(name, ip)| is_usable(ip) && !is_virtual_interface(name))
        .map(|(_, ip)| *ip);
    let first = candidates.next()?;
    if first.is_ipv4() {
        return Some(first);
    }
    Some(candidates.find(IpAddr::is_ipv4).unwrap_or(first))
}

/// Detects the host's IP: the routing table's choice, else the interface list.
///
/// `Ok(None)` means there is no usable address (the host has no network); an
/// error means neither source could be read.
pub(crate) fn detect_ip() -> Result<Option<IpAddr>, Error> {
    let routed = local_ip_address::local_ip();
    if let Ok(ip) = routed {
        if is_usable(&ip) {
            return Ok(Some(ip));
        }
    }
    match local_ip_address::list_afinet_netifas() {
        Ok(list) => Ok(pick_ip(&list)),
        Err(e) => Err(Error::probe(format!(
            "no local IP: local_ip(): {}; list_afinet_netifas(): {e}",
            match routed {
                Ok(ip) => format!("{ip} is not usable"),
                Err(e) => e.to_string(),
            }
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn probe(vars: &[(&str, &str)]) -> Result<SystemProbe, Error> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        SystemProbe::from_lookup(move |k| Ok(map.get(k).cloned()))
    }

    fn ifaces(list: &[(&str, &str)]) -> Vec<(String, IpAddr)> {
        list.iter()
            .map(|(n, ip)| (n.to_string(), ip.parse().unwrap()))
            .collect()
    }

    #[test]
    fn invalid_pod_ip_names_variable_and_value() {
        let e = probe(&[("POD_IP", "999.1.1.1")]).unwrap_err();
        assert_eq!(e.setting(), Some("POD_IP"));
        assert_eq!(e.value(), Some("999.1.1.1"));
        assert!(e.to_string().contains("POD_IP=\"999.1.1.1\""), "{e}");
        let e = probe(&[("MY_POD_IP", "pod")]).unwrap_err();
        assert!(e.to_string().contains("MY_POD_IP=\"pod\""), "{e}");
    }

    #[test]
    fn pod_ip_overrides_detection_and_wins_over_alias() {
        let p = probe(&[("POD_IP", "10.1.2.3"), ("MY_POD_IP", "10.9.9.9")]).unwrap();
        assert_eq!(p.pod_ip(), Some("10.1.2.3".parse().unwrap()));
        let info = p.detect().unwrap();
        assert_eq!(info.ip_str(), Some("10.1.2.3"));
        let p = probe(&[("POD_IP", ""), ("MY_POD_IP", "fd00::7")]).unwrap();
        assert_eq!(p.detect().unwrap().ip_str(), Some("fd00::7"));
    }

    #[test]
    fn k8s_and_service_from_env() {
        let p = probe(&[
            ("MY_POD_NAME", "orders-7d9"),
            ("POD_NAMESPACE", "shop"),
            ("MY_POD_NAMESPACE", "ignored"),
            ("NODE_NAME", "node-3"),
            ("OTEL_SERVICE_NAME", "orders"),
        ])
        .unwrap();
        let info = p.detect().unwrap();
        assert_eq!(info.pod_name(), Some("orders-7d9"));
        assert_eq!(info.namespace(), Some("shop"));
        assert_eq!(info.node_name(), Some("node-3"));
        assert_eq!(info.service_name(), Some("orders"));
        assert_eq!(info.service_version(), None);
        assert_eq!(info.pid(), std::process::id());
        assert_eq!(info.host_name(), Some(host_name().as_str()));
    }

    #[test]
    fn builder_service_wins_and_executable_name_is_the_default() {
        let p = probe(&[("OTEL_SERVICE_NAME", "from-env")])
            .unwrap()
            .service("api", "2.0.1");
        let info = p.detect().unwrap();
        assert_eq!(info.service_name(), Some("api"));
        assert_eq!(info.service_version(), Some("2.0.1"));
        let exe = std::env::current_exe().unwrap();
        let exe = exe.file_name().unwrap().to_str().unwrap();
        let info = probe(&[]).unwrap().detect().unwrap();
        assert_eq!(info.service_name(), Some(exe));
        assert_eq!(info.pod_name(), None);
    }

    #[test]
    fn code_defaults_never_replace_what_the_environment_gave() {
        let p = probe(&[
            ("OTEL_SERVICE_NAME", "orders"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "deployment.environment=prod,team=a",
            ),
            ("POD_NAME", "web-7"),
        ])
        .unwrap()
        .service_default("my-svc", "1.0")
        .field_default("deployment.environment", "dev")
        .field_default("region", "eu")
        .field_default(keys::K8S_POD_NAME, "from-code");
        let info = p.detect().unwrap();
        assert_eq!(info.service_name(), Some("orders"));
        assert_eq!(
            info.service_version(),
            Some("1.0"),
            "no version in the environment"
        );
        let extra: Vec<_> = info.extra_fields().collect();
        assert_eq!(
            extra,
            vec![
                ("deployment.environment", "prod"),
                ("team", "a"),
                ("region", "eu")
            ]
        );
        assert_eq!(info.pod_name(), Some("web-7"));

        let p = probe(&[("OTEL_RESOURCE_ATTRIBUTES", "service.version=2.0")])
            .unwrap()
            .service_default("my-svc", "1.0");
        let info = p.detect().unwrap();
        assert_eq!(
            info.service_name(),
            Some("my-svc"),
            "over the executable name"
        );
        assert_eq!(info.service_version(), Some("2.0"));
    }

    #[test]
    fn blank_values_are_unset_and_values_trimmed_whatever_the_lookup() {
        let p = probe(&[
            ("POD_NAME", " "),
            ("MY_POD_NAME", "\tweb-7 "),
            ("OTEL_SERVICE_NAME", "  "),
            ("NODE_NAME", "\n"),
            ("POD_IP", " "),
            ("OTEL_RESOURCE_ATTRIBUTES", " "),
        ])
        .unwrap();
        let info = p.detect().unwrap();
        assert_eq!(info.pod_name(), Some("web-7"));
        assert_eq!(info.node_name(), None);
        assert_eq!(p.pod_ip(), None);
        let exe = std::env::current_exe().unwrap();
        assert_eq!(info.service_name(), exe.file_name().unwrap().to_str());
    }

    #[test]
    fn bad_attribute_values_name_the_whole_variable() {
        let v = "deployment.environment=prod,process.pid=abc";
        let e = probe(&[("OTEL_RESOURCE_ATTRIBUTES", v)]).unwrap_err();
        assert_eq!(e.setting(), Some("OTEL_RESOURCE_ATTRIBUTES"));
        assert_eq!(e.value(), Some(v));
        assert!(
            e.to_string()
                .contains("process.pid \"abc\" is not a process id"),
            "{e}"
        );
        let ok = probe(&[(
            "OTEL_RESOURCE_ATTRIBUTES",
            "process.pid=42,host.ip=10.9.8.7",
        )])
        .unwrap();
        let info = ok.detect().unwrap();
        assert_eq!((info.pid(), info.ip_str()), (42, Some("10.9.8.7")));
    }

    #[test]
    fn lookup_errors_propagate() {
        let e = SystemProbe::from_lookup(|k| {
            if k == "POD_NAME" {
                Err(Error::invalid("POD_NAME", "\u{fffd}", "not valid UTF-8"))
            } else {
                Ok(None)
            }
        })
        .unwrap_err();
        assert_eq!(e.setting(), Some("POD_NAME"));
    }

    #[test]
    fn fallback_skips_loopback_link_local_and_virtual() {
        let list = ifaces(&[
            ("lo", "127.0.0.1"),
            ("docker0", "172.17.0.1"),
            ("veth12ab", "172.17.0.5"),
            ("br-0f3a", "172.18.0.1"),
            ("virbr0", "192.168.122.1"),
            ("cni0", "10.244.0.1"),
            ("flannel.1", "10.244.0.0"),
            ("cali77", "10.0.0.9"),
            ("eth0", "169.254.3.4"),
            ("eth0", "fe80::1"),
            ("eth0", "10.20.30.40"),
        ]);
        assert_eq!(pick_ip(&list), Some("10.20.30.40".parse().unwrap()));
    }

    #[test]
    fn fallback_prefers_ipv4_and_accepts_ipv6_alone() {
        let list = ifaces(&[("eth0", "2001:db8::5"), ("eth1", "192.0.2.8")]);
        assert_eq!(pick_ip(&list), Some("192.0.2.8".parse().unwrap()));
        let list = ifaces(&[("eth0", "2001:db8::5"), ("lo", "::1")]);
        assert_eq!(pick_ip(&list), Some("2001:db8::5".parse().unwrap()));
        let list = ifaces(&[("lo", "127.0.0.1"), ("docker0", "172.17.0.1")]);
        assert_eq!(pick_ip(&list), None);
    }

    #[test]
    fn usable_addresses() {
        for bad in [
            "127.0.0.1",
            "0.0.0.0",
            "169.254.1.1",
            "224.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "febf::1",
        ] {
            assert!(!is_usable(&bad.parse().unwrap()), "{bad}");
        }
        for good in [
            "10.0.0.1",
            "192.168.1.2",
            "2001:db8::1",
            "fd00::1",
            "fec0::1",
        ] {
            assert!(is_usable(&good.parse().unwrap()), "{good}");
        }
    }

    #[test]
    fn detects_a_usable_ip_on_this_machine() {
        // Whenever the interface list has a usable address, detection must
        // find one, and what it finds must pass the fallback's filter.
        let listed = pick_ip(&local_ip_address::list_afinet_netifas().unwrap());
        let found = detect_ip().unwrap();
        assert_eq!(found.is_some(), listed.is_some(), "{found:?} vs {listed:?}");
        if let Some(ip) = found {
            assert!(is_usable(&ip), "{ip}");
        }
    }
}
