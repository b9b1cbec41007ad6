//! Field names written into every record (OpenTelemetry semantic conventions).

/// `host.name`: the host name from `gethostname`.
pub const HOST_NAME: &str = "host.name";
/// `host.ip`: the address other hosts reach this one on.
pub const HOST_IP: &str = "host.ip";
/// `process.pid`: the process id.
pub const PROCESS_PID: &str = "process.pid";
/// `service.name`: the logical name of the service.
pub const SERVICE_NAME: &str = "service.name";
/// `service.version`: the version of the service.
pub const SERVICE_VERSION: &str = "service.version";
/// `k8s.pod.name`: the Kubernetes pod.
pub const K8S_POD_NAME: &str = "k8s.pod.name";
/// `k8s.namespace.name`: the Kubernetes namespace.
pub const K8S_NAMESPACE_NAME: &str = "k8s.namespace.name";
/// `k8s.node.name`: the Kubernetes node.
pub const K8S_NODE_NAME: &str = "k8s.node.name";
/// `service.instance.id`: this process's instance of the service.
pub const SERVICE_INSTANCE_ID: &str = "service.instance.id";
/// `container.id`: the container this process runs in.
pub const CONTAINER_ID: &str = "container.id";

/// Every standard field above.
pub const ALL: [&str; 10] = [
    HOST_NAME,
    HOST_IP,
    PROCESS_PID,
    SERVICE_NAME,
    SERVICE_VERSION,
    K8S_POD_NAME,
    K8S_NAMESPACE_NAME,
    K8S_NODE_NAME,
    SERVICE_INSTANCE_ID,
    CONTAINER_ID,
];
