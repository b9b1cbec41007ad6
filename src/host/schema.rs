//! Field naming schemas: OpenTelemetry (default) or Elastic Common Schema.

use slog::Level;

use crate::error::Error;
use crate::host::keys;

/// How fields and record keys are named.
///
/// | field | `Otel` (default) | `Ecs` |
/// |---|---|---|
/// | timestamp | `ts` | `@timestamp` |
/// | level | `level` (`INFO`, `WARN`, ...) | `log.level` (`info`, `warn`, ...) |
/// | message | `msg` | `message` |
/// | host name | `host.name` | `host.hostname` |
/// | host IP | `host.ip` | `host.ip` |
/// | pid | `process.pid` | `process.pid` |
/// | service | `service.name`, `service.version` | `service.name`, `service.version` |
/// | instance | `service.instance.id` | `service.node.name` |
/// | container | `container.id` | `container.id` |
/// | pod | `k8s.pod.name` | `orchestrator.resource.name` |
/// | namespace | `k8s.namespace.name` | `orchestrator.namespace` |
/// | node | `k8s.node.name` | `kubernetes.node.name` (ECS has no node field; this is the name Elastic's Kubernetes integration uses) |
///
/// ECS records also carry `ecs.version` ([`ECS_VERSION`]). Extra fields
/// (from `OTEL_RESOURCE_ATTRIBUTES` or `Builder::field`) keep their names.
/// `LOG_SCHEMA` selects it (`otel` or `ecs`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Schema {
    /// OpenTelemetry semantic conventions.
    #[default]
    Otel,
    /// Elastic Common Schema.
    Ecs,
}

/// The ECS version whose field names [`Schema::Ecs`] uses.
pub const ECS_VERSION: &str = "8.11.0";

impl Schema {
    /// The name of the field `otel_key` (one of [`keys`]) in this schema.
    #[inline]
    pub fn field(self, otel_key: &'static str) -> &'static str {
        match self {
            Schema::Otel => otel_key,
            Schema::Ecs => match otel_key {
                keys::HOST_NAME => "host.hostname",
                keys::K8S_POD_NAME => "orchestrator.resource.name",
                keys::K8S_NAMESPACE_NAME => "orchestrator.namespace",
                keys::K8S_NODE_NAME => "kubernetes.node.name",
                keys::SERVICE_INSTANCE_ID => "service.node.name",
                other => other,
            },
        }
    }

    /// The record keys: (timestamp, level, message).
    pub fn record_keys(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Schema::Otel => ("ts", "level", "msg"),
            Schema::Ecs => ("@timestamp", "log.level", "message"),
        }
    }

    /// The key of the record's origin (its target or module).
    pub fn target_key(self) -> &'static str {
        match self {
            Schema::Otel => "target",
            Schema::Ecs => "log.logger",
        }
    }

    /// The keys of trace correlation: trace id, span id, trace flags (ECS
    /// has no flags field).
    pub fn trace_keys(self) -> (&'static str, &'static str, Option<&'static str>) {
        match self {
            Schema::Otel => ("trace_id", "span_id", Some("trace_flags")),
            Schema::Ecs => ("trace.id", "span.id", None),
        }
    }

    /// The keys of the record's source file and line.
    pub fn source_keys(self) -> (&'static str, &'static str) {
        match self {
            Schema::Otel => ("code.file.path", "code.line.number"),
            Schema::Ecs => ("log.origin.file.name", "log.origin.file.line"),
        }
    }

    /// The keys only the record itself writes: time, level, message, origin,
    /// source location, trace correlation (and `ecs.version` in ECS). A
    /// field of the application with one of these names is written as
    /// `fields.<name>`.
    pub fn reserved_keys(self) -> &'static [&'static str] {
        match self {
            Schema::Otel => &[
                "ts",
                "level",
                "msg",
                "target",
                "code.file.path",
                "code.line.number",
                "trace_id",
                "span_id",
                "trace_flags",
            ],
            Schema::Ecs => &[
                "@timestamp",
                "log.level",
                "message",
                "ecs.version",
                "log.logger",
                "log.origin.file.name",
                "log.origin.file.line",
                "trace.id",
                "span.id",
            ],
        }
    }

    /// True if `key` is one of [`reserved_keys`](Self::reserved_keys).
    #[inline]
    pub fn is_record_key(self, key: &str) -> bool {
        self.reserved_keys().contains(&key)
    }

    /// Every host field's name in this schema, whether or not this host has
    /// the field: the standard fields ([`keys::ALL`], under this schema's
    /// names) and, in ECS, `event.dataset`. On every line, whatever was
    /// detected, a field of the application with one of these names is
    /// written as `fields.<name>`, so that record data cannot pass for a
    /// host field this host does not have (`k8s.pod.name` on a host outside
    /// Kubernetes).
    pub fn host_keys(self) -> &'static [&'static str] {
        match self {
            Schema::Otel => &keys::ALL,
            Schema::Ecs => &[
                "host.hostname",
                "host.ip",
                "process.pid",
                "service.name",
                "service.version",
                "orchestrator.resource.name",
                "orchestrator.namespace",
                "kubernetes.node.name",
                "service.node.name",
                "container.id",
                "event.dataset",
            ],
        }
    }

    /// How a level is written: OpenTelemetry's severity texts, or ECS's
    /// lowercase names.
    ///
    /// slog's Critical is `FATAL`: it is slog's most severe level, and slog's
    /// six levels are .NET's (`Critical`, `Error`, `Warning`, `Information`,
    /// `Debug`, `Trace`), whose `Critical` the OpenTelemetry logs data model
    /// maps to `FATAL` (severity number 21; Appendix B of its data model
    /// appendix, as for ETW's `CRITICAL`). Syslog's Critical maps to `ERROR2`
    /// only because syslog has Alert and Emergency above it; slog has
    /// nothing above Critical. `CRITICAL` is no OpenTelemetry severity text.
    pub fn level(self, level: Level) -> &'static str {
        match self {
            Schema::Otel => match level {
                Level::Critical => "FATAL",
                Level::Error => "ERROR",
                Level::Warning => "WARN",
                Level::Info => "INFO",
                Level::Debug => "DEBUG",
                Level::Trace => "TRACE",
            },
            Schema::Ecs => match level {
                Level::Critical => "critical",
                Level::Error => "error",
                Level::Warning => "warn",
                Level::Info => "info",
                Level::Debug => "debug",
                Level::Trace => "trace",
            },
        }
    }

    /// Parses `otel` or `ecs`; the error names `setting` and the value.
    pub fn parse_setting(setting: &str, value: &str) -> Result<Schema, Error> {
        match value.trim().to_ascii_lowercase().as_str() {
            "otel" => Ok(Schema::Otel),
            "ecs" => Ok(Schema::Ecs),
            _ => Err(Error::invalid(setting, value, "expected otel or ecs")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_keys_are_the_standard_fields_under_the_schemas_names() {
        for schema in [Schema::Otel, Schema::Ecs] {
            let mut expected: Vec<&str> = keys::ALL.iter().map(|k| schema.field(k)).collect();
            if schema == Schema::Ecs {
                expected.push("event.dataset");
            }
            assert_eq!(schema.host_keys(), &expected[..], "{schema:?}");
            for k in schema.host_keys() {
                assert!(!schema.is_record_key(k), "{k} is a record key too");
            }
        }
    }
}
