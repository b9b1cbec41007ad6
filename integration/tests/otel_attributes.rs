//! `OTEL_RESOURCE_ATTRIBUTES` parsing against an OpenTelemetry SDK.
//!
//! The expectations are the behaviour of the Rust SDK, `opentelemetry_sdk`
//! 0.33.1, `EnvResourceDetector` (`src/resource/env.rs`,
//! `construct_otel_resources`: split on `,`, split each entry at its first
//! `=`, trim both sides, skip entries without `=`; no percent-decoding).
//! They are written down below and, in the same run, checked against the
//! live SDK (a dev-dependency), so a recording that no longer matches fails.
//!
//! Where this crate deliberately differs, the case says so and cites the
//! specification (resource SDK, "Specifying resource information via an
//! environment variable"): "The `,` and `=` characters in keys and values
//! MUST be percent encoded", values are percent-decoded, and "In case of any
//! error, e.g. failure during the decoding process, the entire environment
//! variable value SHOULD be discarded and an error SHOULD be reported".
//!
//! `harness = false`: it sets process environment variables, one case at a
//! time, on one thread.

#[path = "../../tests/support/runner.rs"]
mod runner;

use opentelemetry_sdk::resource::{
    EnvResourceDetector, ResourceDetector, SdkProvidedResourceDetector,
};
use slog_host::host::{parse_resource_attributes, HostInfo, Probe, SystemProbe};

enum Ours {
    /// The same attributes as the SDK.
    Same,
    /// Different on purpose: the attributes the spec asks for.
    Spec(&'static [(&'static str, &'static str)]),
    /// An error (the whole value discarded), its text containing this.
    Error(&'static str),
}

struct Case {
    input: &'static str,
    /// What opentelemetry_sdk 0.33.1 produces (sorted by key).
    sdk: &'static [(&'static str, &'static str)],
    ours: Ours,
}

const CASES: &[Case] = &[
    Case {
        input: "",
        sdk: &[],
        ours: Ours::Same,
    },
    Case {
        input: "a=1",
        sdk: &[("a", "1")],
        ours: Ours::Same,
    },
    Case {
        input: " a = 1 , b=2 ",
        sdk: &[("a", "1"), ("b", "2")],
        ours: Ours::Same,
    },
    Case {
        input: "a=1,,b=2,",
        sdk: &[("a", "1"), ("b", "2")],
        ours: Ours::Same,
    },
    Case {
        input: "k= spaced value ",
        sdk: &[("k", "spaced value")],
        ours: Ours::Same,
    },
    Case {
        input: "k=",
        sdk: &[("k", "")],
        ours: Ours::Same,
    },
    Case {
        input: "a=1,a=2",
        sdk: &[("a", "2")],
        ours: Ours::Same,
    },
    Case {
        input: "deployment.environment=prod,service.namespace=shop",
        sdk: &[
            ("deployment.environment", "prod"),
            ("service.namespace", "shop"),
        ],
        ours: Ours::Same,
    },
    // Percent-encoded commas and equals signs: decoded, as the spec says.
    Case {
        input: "k=a%2Cb",
        sdk: &[("k", "a%2Cb")],
        ours: Ours::Spec(&[("k", "a,b")]),
    },
    Case {
        input: "k=a%3Db,x=%20y%20",
        sdk: &[("k", "a%3Db"), ("x", "%20y%20")],
        ours: Ours::Spec(&[("k", "a=b"), ("x", " y ")]),
    },
    Case {
        input: "caf%C3%A9=cr%C3%A8me",
        sdk: &[("caf%C3%A9", "cr%C3%A8me")],
        ours: Ours::Spec(&[("café", "crème")]),
    },
    // Malformed input: the SDK keeps what it can; the spec says discard it all.
    Case {
        input: "k=v=w",
        sdk: &[("k", "v=w")],
        ours: Ours::Error("second `=`"),
    },
    Case {
        input: "novalue,a=1",
        sdk: &[("a", "1")],
        ours: Ours::Error("has no `=`"),
    },
    Case {
        input: "=v,a=1",
        sdk: &[("", "v"), ("a", "1")],
        ours: Ours::Error("empty key"),
    },
    Case {
        input: "k=%zz",
        sdk: &[("k", "%zz")],
        ours: Ours::Error("invalid percent escape"),
    },
    Case {
        input: "k=%C3",
        sdk: &[("k", "%C3")],
        ours: Ours::Error("not UTF-8"),
    },
];

fn sdk_attributes(input: &str) -> Vec<(String, String)> {
    std::env::set_var("OTEL_RESOURCE_ATTRIBUTES", input);
    let resource = EnvResourceDetector::new().detect();
    let mut attrs: Vec<(String, String)> = resource
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.as_str().into_owned()))
        .collect();
    attrs.sort();
    attrs
}

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn check_case(case: &Case) -> Result<(), String> {
    let live = sdk_attributes(case.input);
    if live != owned(case.sdk) {
        return Err(format!(
            "{:?}: the SDK now gives {live:?}, recorded {:?}",
            case.input, case.sdk
        ));
    }
    let ours = parse_resource_attributes("OTEL_RESOURCE_ATTRIBUTES", case.input).map(|mut a| {
        a.sort();
        a
    });
    match (&case.ours, ours) {
        (Ours::Same, Ok(a)) if a == live => Ok(()),
        (Ours::Spec(expected), Ok(a)) if a == owned(expected) => Ok(()),
        (Ours::Error(fragment), Err(e))
            if e.to_string().contains(fragment)
                && e.setting() == Some("OTEL_RESOURCE_ATTRIBUTES")
                && e.value() == Some(case.input) =>
        {
            Ok(())
        }
        (_, got) => Err(format!("{:?}: ours gave {got:?}", case.input)),
    }
}

/// OTEL_SERVICE_NAME wins over service.name in OTEL_RESOURCE_ATTRIBUTES, in
/// the SDK (`SdkProvidedResourceDetector`) and here.
fn service_name_precedence() -> Result<(), String> {
    std::env::set_var(
        "OTEL_RESOURCE_ATTRIBUTES",
        "service.name=from-attributes,service.version=2.1.0",
    );
    std::env::set_var("OTEL_SERVICE_NAME", "from-variable");
    let sdk = SdkProvidedResourceDetector.detect();
    let sdk_name = sdk
        .iter()
        .find(|(k, _)| k.as_str() == "service.name")
        .map(|(_, v)| v.as_str().into_owned());
    let ours: HostInfo = SystemProbe::from_env()
        .map_err(|e| e.to_string())?
        .detect()
        .map_err(|e| e.to_string())?;
    std::env::remove_var("OTEL_SERVICE_NAME");
    let without: HostInfo = SystemProbe::from_env()
        .map_err(|e| e.to_string())?
        .detect()
        .map_err(|e| e.to_string())?;
    std::env::remove_var("OTEL_RESOURCE_ATTRIBUTES");
    let checks = [
        (sdk_name.as_deref(), Some("from-variable"), "SDK with both"),
        (ours.service_name(), Some("from-variable"), "ours with both"),
        (
            ours.service_version(),
            Some("2.1.0"),
            "ours: version from attributes",
        ),
        (
            without.service_name(),
            Some("from-attributes"),
            "ours with attributes only",
        ),
    ];
    for (got, want, what) in checks {
        if got != want {
            return Err(format!("{what}: {got:?}, expected {want:?}"));
        }
    }
    Ok(())
}

/// Attributes reach the snapshot; the instance id is made once per process.
fn attributes_become_fields() -> Result<(), String> {
    std::env::set_var(
        "OTEL_RESOURCE_ATTRIBUTES",
        "deployment.environment=prod,k8s.pod.name=from-attrs,host.name=pinned",
    );
    std::env::set_var("POD_NAME", "from-variable");
    let info = SystemProbe::from_env()
        .map_err(|e| e.to_string())?
        .detect()
        .map_err(|e| e.to_string())?;
    std::env::remove_var("POD_NAME");
    std::env::remove_var("OTEL_RESOURCE_ATTRIBUTES");
    let extra: Vec<_> = info.extra_fields().collect();
    let again = SystemProbe::from_env()
        .map_err(|e| e.to_string())?
        .detect()
        .map_err(|e| e.to_string())?;
    let checks = [
        (
            extra == vec![("deployment.environment", "prod")],
            "extra attribute",
        ),
        (
            info.pod_name() == Some("from-variable"),
            "POD_NAME wins over the attribute",
        ),
        (
            info.host_name() == Some("pinned"),
            "host.name from attributes is not re-detected",
        ),
        (info.instance_id().is_some(), "generated instance id"),
        (
            again.instance_id() == info.instance_id(),
            "one instance id per process",
        ),
        (
            uuid_v4(info.instance_id().unwrap_or("")),
            "instance id is a UUID v4",
        ),
    ];
    for (ok, what) in checks {
        if !ok {
            return Err(format!("{what}: {info:?}"));
        }
    }
    Ok(())
}

fn uuid_v4(s: &str) -> bool {
    let b = s.as_bytes();
    s.len() == 36
        && b[14] == b'4'
        && [8, 13, 18, 23].iter().all(|&i| b[i] == b'-')
        && b"89ab".contains(&b[19])
}

fn main() {
    for v in [
        "OTEL_RESOURCE_ATTRIBUTES",
        "OTEL_SERVICE_NAME",
        "POD_NAME",
        "MY_POD_NAME",
    ] {
        std::env::remove_var(v);
    }
    let mut results: Vec<(String, Result<(), String>)> = CASES
        .iter()
        .map(|c| (format!("attributes {:?}", c.input), check_case(c)))
        .collect();
    results.push(("service name precedence".into(), service_name_precedence()));
    results.push((
        "attributes become fields".into(),
        attributes_become_fields(),
    ));
    runner::report("otel_attributes", results);
}
