//! The names of a line that belong to the host, worked out once per host
//! snapshot and the same in every format: how each host field is written
//! (under its own name, as `fields.<name>`, or not at all when an earlier
//! one holds its name), and which names a field of the application may not
//! take.
//!
//! A field of the application (a record's, a logger's, a span's) is written
//! as `fields.<name>` when its name is a host key of the schema
//! ([`Schema::host_keys`], whether or not this host has that field) or the
//! name of an extra host field on the line (`OTEL_RESOURCE_ATTRIBUTES`,
//! `Builder::field`). The JSON format also reserves the record keys
//! ([`Schema::reserved_keys`]).

use std::sync::Arc;

use crate::host::info::FieldValue;
use crate::host::schema::Schema;
use crate::host::HostInfo;

/// The prefix of a field whose name is reserved for the record or the host.
pub const RESERVED_PREFIX: &str = "fields.";

/// ECS's `event.dataset`: the service name, unless an extra field sets it.
pub(crate) const EVENT_DATASET: &str = "event.dataset";

/// A name as a line holds it: `(true, k)` is `fields.<k>`. Two names are
/// the same name exactly when their [`written`] forms are equal.
pub(crate) type Name = (bool, &'static str);

/// The one form of `name` for comparisons: `fields.level` given by the
/// application and a reserved `level` are both `(true, "level")`.
#[inline]
pub(crate) fn written((reserved, k): Name) -> Name {
    if reserved {
        return (true, k);
    }
    match k.strip_prefix(RESERVED_PREFIX) {
        Some(rest) => (true, rest),
        None => (false, k),
    }
}

/// How one host field is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Written {
    Plain,
    Renamed,
    /// An earlier host field holds its name: left out.
    Skipped,
}

/// The host fields of one snapshot as a format writes them.
pub(crate) struct HostNames {
    /// JSON: the record keys are keys of the line (an extra field with one
    /// is renamed), and ECS lines carry `event.dataset`.
    json: bool,
    /// The snapshot and schema the names are of.
    of: Option<(Arc<HostInfo>, Schema)>,
    /// Per host field, in the order [`fields`] gives them.
    written: Vec<Written>,
    /// The host fields written under their own names.
    plain: Vec<&'static str>,
    /// The host fields written as `fields.<name>`.
    renamed: Vec<&'static str>,
    /// [`sig`]s of the schema's host keys and of `plain`: a name whose
    /// signature is not here is no host key, without a comparison.
    mask: u64,
}

/// A one-bit signature of a name, from its length and its first and last
/// bytes.
#[inline]
fn sig(k: &str) -> u64 {
    let b = k.as_bytes();
    let (first, last) = (b.first().copied(), b.last().copied());
    let n =
        usize::from(first.unwrap_or(0)) * 7 + usize::from(last.unwrap_or(0)) * 13 + b.len() * 31;
    1 << (n % 64)
}

impl HostNames {
    /// Names for the JSON format (`json`) or a term format.
    pub(crate) fn new(json: bool) -> HostNames {
        HostNames {
            json,
            of: None,
            written: Vec::new(),
            plain: Vec::new(),
            renamed: Vec::new(),
            mask: 0,
        }
    }

    /// Works the names out for `host` in `schema`, unless they are of them
    /// already; true if they changed.
    ///
    /// Names are claimed in order, the first claim winning: the record keys
    /// (JSON), the detected fields, the extra ones, `event.dataset` (ECS
    /// JSON). An extra field named like a record key (JSON), a host key of
    /// the schema or a detected field is written as `fields.<name>`; ECS's
    /// `event.dataset` given as an extra field is the dataset, as the
    /// ecs-logging specification configures it.
    pub(crate) fn update(&mut self, host: &Arc<HostInfo>, schema: Schema) -> bool {
        if let Some((h, s)) = &self.of {
            if Arc::ptr_eq(h, host) && *s == schema {
                return false;
            }
        }
        self.written.clear();
        self.plain.clear();
        self.renamed.clear();
        let json = self.json;
        let (written_as, plain, renamed) = (&mut self.written, &mut self.plain, &mut self.renamed);
        fields(host, schema, json, |k, standard, _| {
            let host_key = schema.host_keys().contains(&k) && k != EVENT_DATASET;
            let reserved = (json && schema.is_record_key(k))
                || (!standard && (host_key || plain.contains(&k)));
            let name = written((reserved, k));
            let taken = plain.iter().any(|&h| written((false, h)) == name)
                || renamed.iter().any(|&h| (true, h) == name);
            written_as.push(if taken {
                Written::Skipped
            } else if reserved {
                renamed.push(k);
                Written::Renamed
            } else {
                plain.push(k);
                Written::Plain
            });
        });
        self.mask = schema
            .host_keys()
            .iter()
            .chain(&self.plain)
            .fold(0, |m, k| m | sig(k));
        self.of = Some((Arc::clone(host), schema));
        true
    }

    /// True once the names are of some snapshot.
    pub(crate) fn is_set(&self) -> bool {
        self.of.is_some()
    }

    /// Calls `f` with each host field written, in order: its name, whether
    /// it is written as `fields.<name>`, its value.
    pub(crate) fn each(&self, mut f: impl FnMut(&'static str, bool, FieldValue<'_>)) {
        let Some((host, schema)) = &self.of else {
            return;
        };
        let mut i = 0;
        fields(host, *schema, self.json, |k, _, v| {
            match self.written[i] {
                Written::Plain => f(k, false, v),
                Written::Renamed => f(k, true, v),
                Written::Skipped => {}
            }
            i += 1;
        });
    }

    /// The host fields written under their own names.
    pub(crate) fn plain(&self) -> &[&'static str] {
        &self.plain
    }

    /// The host fields written as `fields.<name>`.
    pub(crate) fn renamed(&self) -> &[&'static str] {
        &self.renamed
    }

    /// True if a field of the application named `k` is written as
    /// `fields.<k>` for the host's sake: `k` is a host key of the schema or
    /// the name of a host field on the line.
    #[inline]
    pub(crate) fn is_host_key(&self, k: &str) -> bool {
        if self.mask & sig(k) == 0 {
            return false;
        }
        match &self.of {
            Some((_, schema)) => schema.host_keys().contains(&k) || self.plain.contains(&k),
            None => false,
        }
    }
}

/// Calls `f` with the host fields of `host` as `schema` names them, in the
/// order they are written, and whether each is standard: the detected
/// fields, the extra ones (by their own names), and for JSON in ECS
/// `event.dataset` (the service name) unless an extra field gives it.
fn fields(
    host: &HostInfo,
    schema: Schema,
    json: bool,
    mut f: impl FnMut(&'static str, bool, FieldValue<'_>),
) {
    let _ = host.visit_standard(|k, v| -> Result<(), ()> {
        f(schema.field(k), true, v);
        Ok(())
    });
    let mut dataset_given = false;
    for (k, v) in host.extra_fields() {
        dataset_given |= k == EVENT_DATASET;
        f(k, false, FieldValue::Str(v));
    }
    if json && schema == Schema::Ecs && !dataset_given {
        if let Some(service) = host.service_name() {
            f(EVENT_DATASET, true, FieldValue::Str(service));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_sees_through_the_prefix() {
        assert_eq!(written((true, "level")), written((false, "fields.level")));
        assert_ne!(written((true, "level")), written((false, "level")));
        assert_eq!(
            written((true, "fields.x")),
            written((false, "fields.fields.x"))
        );
        assert_eq!(written((false, "a")), (false, "a"));
    }

    fn shown(names: &HostNames) -> Vec<String> {
        let mut out = Vec::new();
        names.each(|k, renamed, v| {
            let v = match v {
                FieldValue::Str(s) => s.to_owned(),
                FieldValue::U32(n) => n.to_string(),
            };
            let p = if renamed { RESERVED_PREFIX } else { "" };
            out.push(format!("{p}{k}={v}"));
        });
        out
    }

    #[test]
    fn extra_fields_named_like_host_keys_are_renamed_detected_or_not() {
        let host = Arc::new(
            HostInfo::new()
                .with_host_name("h")
                .with_pid(7)
                .with_service("orders", "")
                .with_field("k8s.pod.name", "p")
                .with_field("host.name", "other")
                .with_field("level", "l")
                .with_field("event.dataset", "d")
                .with_field("zone", "z"),
        );
        let mut json = HostNames::new(true);
        assert!(json.update(&host, Schema::Otel));
        assert!(!json.update(&host, Schema::Otel), "same snapshot");
        assert_eq!(
            shown(&json),
            [
                "host.name=h",
                "process.pid=7",
                "service.name=orders",
                "fields.k8s.pod.name=p",
                "fields.host.name=other",
                "fields.level=l",
                "event.dataset=d",
                "zone=z",
            ]
        );
        assert!(json.is_host_key("k8s.node.name"), "not detected, reserved");
        assert!(json.is_host_key("zone"), "an extra field's name");
        assert!(json.is_host_key("event.dataset"), "an extra field's name");
        assert!(!json.is_host_key("user"));
        assert!(json.update(&host, Schema::Ecs));
        assert_eq!(
            shown(&json),
            [
                "host.hostname=h",
                "process.pid=7",
                "service.name=orders",
                "k8s.pod.name=p",
                "host.name=other",
                "level=l", // not an ECS record key
                "event.dataset=d",
                "zone=z",
            ]
        );
        assert!(json.is_host_key("orchestrator.resource.name"));
        assert!(
            json.is_host_key("k8s.pod.name"),
            "an extra field's name in ECS"
        );
        assert!(!json.is_host_key("k8s.node.name"), "not an ECS host key");
        // A term format has no record keys on its lines.
        let mut term = HostNames::new(false);
        term.update(&host, Schema::Otel);
        assert!(shown(&term).contains(&"level=l".to_owned()));
    }
}
