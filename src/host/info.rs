//! [`HostInfo`]: one immutable snapshot of the host metadata, and its field
//! names.

use std::fmt;
use std::net::IpAddr;

use super::keys;
use crate::host::schema::Schema;

/// One immutable snapshot of the host metadata.
///
/// A snapshot is built once per detection (at start-up and on refresh) and
/// then only read. Every value is already in the form it is written in, so
/// writing it into a record formats nothing and allocates nothing.
///
/// As a [`slog::KV`] it writes its known fields and leaves the unknown ones
/// out: a field is never written as an empty string.
///
/// ```
/// use slog_host::host::HostInfo;
///
/// let info = HostInfo::new()
///     .with_host_name("web-1")
///     .with_ip("10.0.0.7".parse().unwrap())
///     .with_service("orders", "1.4.2");
/// assert_eq!(info.host_name(), Some("web-1"));
/// assert_eq!(info.ip_str(), Some("10.0.0.7"));
/// assert_eq!(info.pid(), std::process::id());
/// assert_eq!(info.pod_name(), None); // unknown: left out of records
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct HostInfo {
    host_name: Option<String>,
    ip: Option<IpAddr>,
    ip_text: Option<String>,
    pid: u32,
    service_name: Option<String>,
    service_version: Option<String>,
    pod_name: Option<String>,
    namespace: Option<String>,
    node_name: Option<String>,
    instance_id: Option<String>,
    container_id: Option<String>,
    extra: Vec<(&'static str, String)>,
    schema: Schema,
}

/// A field value as it is written: a string or a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FieldValue<'a> {
    Str(&'a str),
    U32(u32),
}

impl fmt::Display for FieldValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldValue::Str(s) => f.write_str(s),
            FieldValue::U32(n) => write!(f, "{n}"),
        }
    }
}

fn non_empty(s: impl Into<String>) -> Option<String> {
    let s = s.into();
    if s.is_empty() {
        None
    } else {
        Some(s)
    }
}

impl Default for HostInfo {
    fn default() -> Self {
        Self::new()
    }
}

impl HostInfo {
    /// A snapshot with only `process.pid` (of this process) known.
    pub fn new() -> Self {
        HostInfo {
            host_name: None,
            ip: None,
            ip_text: None,
            pid: std::process::id(),
            service_name: None,
            service_version: None,
            pod_name: None,
            namespace: None,
            node_name: None,
            instance_id: None,
            container_id: None,
            extra: Vec::new(),
            schema: Schema::Otel,
        }
    }

    /// Sets `host.name` (an empty string leaves it unknown).
    pub fn with_host_name(mut self, name: impl Into<String>) -> Self {
        self.host_name = non_empty(name);
        self
    }

    /// Sets `host.ip`.
    pub fn with_ip(mut self, ip: IpAddr) -> Self {
        self.ip_text = Some(ip.to_string());
        self.ip = Some(ip);
        self
    }

    /// Clears `host.ip`.
    pub fn without_ip(mut self) -> Self {
        self.ip = None;
        self.ip_text = None;
        self
    }

    /// Sets `process.pid`.
    pub fn with_pid(mut self, pid: u32) -> Self {
        self.pid = pid;
        self
    }

    /// Sets `service.name` and `service.version` (an empty string leaves a
    /// field unknown).
    pub fn with_service(mut self, name: impl Into<String>, version: impl Into<String>) -> Self {
        self.service_name = non_empty(name);
        self.service_version = non_empty(version);
        self
    }

    /// Sets `k8s.pod.name`.
    pub fn with_pod_name(mut self, pod: impl Into<String>) -> Self {
        self.pod_name = non_empty(pod);
        self
    }

    /// Sets `k8s.namespace.name`.
    pub fn with_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = non_empty(namespace);
        self
    }

    /// Sets `k8s.node.name`.
    pub fn with_node_name(mut self, node: impl Into<String>) -> Self {
        self.node_name = non_empty(node);
        self
    }

    /// Names the fields as `schema` says when written into records.
    pub fn with_schema(mut self, schema: Schema) -> Self {
        self.schema = schema;
        self
    }

    /// The schema the fields are written in.
    pub fn schema(&self) -> Schema {
        self.schema
    }

    /// Sets `service.instance.id`.
    pub fn with_instance_id(mut self, id: impl Into<String>) -> Self {
        self.instance_id = non_empty(id);
        self
    }

    /// Sets `container.id`.
    pub fn with_container_id(mut self, id: impl Into<String>) -> Self {
        self.container_id = non_empty(id);
        self
    }

    /// Adds an extra static field, written after the standard ones. A key
    /// given twice keeps the last value.
    pub fn with_field(mut self, key: &'static str, value: impl Into<String>) -> Self {
        let value = value.into();
        match self.extra.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.extra.push((key, value)),
        }
        self
    }

    /// `host.name`, if known.
    pub fn host_name(&self) -> Option<&str> {
        self.host_name.as_deref()
    }

    /// `host.ip`, if known.
    pub fn ip(&self) -> Option<IpAddr> {
        self.ip
    }

    /// `host.ip` as it is written into records, if known.
    pub fn ip_str(&self) -> Option<&str> {
        self.ip_text.as_deref()
    }

    /// `process.pid`.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// `service.name`, if known.
    pub fn service_name(&self) -> Option<&str> {
        self.service_name.as_deref()
    }

    /// `service.version`, if known.
    pub fn service_version(&self) -> Option<&str> {
        self.service_version.as_deref()
    }

    /// `k8s.pod.name`, if known.
    pub fn pod_name(&self) -> Option<&str> {
        self.pod_name.as_deref()
    }

    /// `k8s.namespace.name`, if known.
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// `k8s.node.name`, if known.
    pub fn node_name(&self) -> Option<&str> {
        self.node_name.as_deref()
    }

    /// `service.instance.id`, if known.
    pub fn instance_id(&self) -> Option<&str> {
        self.instance_id.as_deref()
    }

    /// `container.id`, if known.
    pub fn container_id(&self) -> Option<&str> {
        self.container_id.as_deref()
    }

    /// The extra fields, in the order they are written.
    pub fn extra_fields(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.extra.iter().map(|(k, v)| (*k, v.as_str()))
    }

    /// Calls `f` with every known field, in the order they are written: the
    /// standard fields, then the extra ones.
    pub(crate) fn visit<E>(
        &self,
        mut f: impl FnMut(&'static str, FieldValue<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        self.visit_standard(&mut f)?;
        for (k, v) in &self.extra {
            f(k, FieldValue::Str(v))?;
        }
        Ok(())
    }

    /// Calls `f` with every known standard field ([`keys::ALL`]), in the
    /// order they are written.
    pub(crate) fn visit_standard<E>(
        &self,
        mut f: impl FnMut(&'static str, FieldValue<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        let strs = [
            (keys::HOST_NAME, &self.host_name),
            (keys::HOST_IP, &self.ip_text),
        ];
        for (k, v) in strs {
            if let Some(v) = v {
                f(k, FieldValue::Str(v))?;
            }
        }
        f(keys::PROCESS_PID, FieldValue::U32(self.pid))?;
        let strs = [
            (keys::SERVICE_NAME, &self.service_name),
            (keys::SERVICE_VERSION, &self.service_version),
            (keys::K8S_POD_NAME, &self.pod_name),
            (keys::K8S_NAMESPACE_NAME, &self.namespace),
            (keys::K8S_NODE_NAME, &self.node_name),
            (keys::SERVICE_INSTANCE_ID, &self.instance_id),
            (keys::CONTAINER_ID, &self.container_id),
        ];
        for (k, v) in strs {
            if let Some(v) = v {
                f(k, FieldValue::Str(v))?;
            }
        }
        Ok(())
    }

    /// The fields whose values differ between `self` (old) and `new`, as
    /// `(key, old, new)`; a field that is unknown on one side has `None` there.
    pub fn changes(&self, new: &HostInfo) -> Vec<(&'static str, Option<String>, Option<String>)> {
        let old = self.field_list();
        let new = new.field_list();
        let mut out = Vec::new();
        for (k, v) in &old {
            let n = new.iter().find(|(nk, _)| nk == k).map(|(_, nv)| nv);
            if n != Some(v) {
                out.push((*k, Some(v.clone()), n.cloned()));
            }
        }
        for (k, v) in &new {
            if !old.iter().any(|(ok, _)| ok == k) {
                out.push((*k, None, Some(v.clone())));
            }
        }
        out
    }

    fn field_list(&self) -> Vec<(&'static str, String)> {
        let mut v = Vec::new();
        let _ = self.visit(|k, val| {
            v.push((k, val.to_string()));
            Ok::<(), ()>(())
        });
        v
    }
}

impl fmt::Debug for HostInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        let _ = self.visit(|k, v| {
            m.entry(&k, &v);
            Ok::<(), ()>(())
        });
        m.finish()
    }
}

impl slog::KV for HostInfo {
    fn serialize(&self, _record: &slog::Record<'_>, s: &mut dyn slog::Serializer) -> slog::Result {
        let schema = self.schema;
        self.visit(|k, v| match v {
            FieldValue::Str(v) => s.emit_str(schema.field(k), v),
            FieldValue::U32(n) => s.emit_u32(schema.field(k), n),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_are_unknown() {
        let i = HostInfo::new()
            .with_host_name("")
            .with_service("", "")
            .with_pod_name("");
        assert_eq!(i.host_name(), None);
        assert_eq!(i.service_name(), None);
        assert_eq!(i.pod_name(), None);
        let mut keys = Vec::new();
        let _ = i.visit(|k, _| {
            keys.push(k);
            Ok::<(), ()>(())
        });
        assert_eq!(keys, vec![keys::PROCESS_PID]);
    }

    #[test]
    fn extra_field_given_twice_keeps_last() {
        let i = HostInfo::new()
            .with_field("deployment.environment", "dev")
            .with_field("deployment.environment", "prod");
        let extra: Vec<_> = i.extra_fields().collect();
        assert_eq!(extra, vec![("deployment.environment", "prod")]);
    }

    #[test]
    fn changes_lists_old_and_new() {
        let a = HostInfo::new()
            .with_host_name("a")
            .with_ip("10.0.0.1".parse().unwrap());
        let b = HostInfo::new()
            .with_host_name("a")
            .with_ip("10.0.0.2".parse().unwrap())
            .with_pod_name("p");
        let c = a.changes(&b);
        assert_eq!(
            c,
            vec![
                (
                    keys::HOST_IP,
                    Some("10.0.0.1".to_string()),
                    Some("10.0.0.2".to_string())
                ),
                (keys::K8S_POD_NAME, None, Some("p".to_string())),
            ]
        );
        assert!(a.changes(&a.clone()).is_empty());
        let d = b.clone().without_ip();
        assert_eq!(
            b.changes(&d),
            vec![(keys::HOST_IP, Some("10.0.0.2".to_string()), None)]
        );
    }
}
