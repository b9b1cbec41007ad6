//! Property tests: every parser of environment values, on arbitrary input,
//! returns a value or an error naming its setting, and never panics.

use proptest::prelude::*;

use crate::settings::{parse_duration, parse_size};
use crate::Format;
use crate::{
    container_id_from_cgroup, container_id_from_mountinfo, parse_resource_attributes, Directives,
    FloodConfig, Schema,
};

fn names_setting<T>(r: Result<T, crate::Error>, setting: &str) -> bool {
    match r {
        Ok(_) => true,
        Err(e) => e.setting() == Some(setting),
    }
}

/// Percent-encodes everything but ASCII letters and digits.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn env_parsers_never_panic(s in any::<String>()) {
        prop_assert!(names_setting(parse_resource_attributes("OTEL_RESOURCE_ATTRIBUTES", &s), "OTEL_RESOURCE_ATTRIBUTES"));
        prop_assert!(names_setting(parse_duration("LOG_HOST_REFRESH", &s), "LOG_HOST_REFRESH"));
        prop_assert!(names_setting(parse_size("LOG_FILE_MAX_SIZE", &s), "LOG_FILE_MAX_SIZE"));
        prop_assert!(names_setting(FloodConfig::parse_setting("LOG_FLOOD", &s), "LOG_FLOOD"));
        prop_assert!(names_setting(Directives::parse_setting("RUST_LOG", &s), "RUST_LOG"));
        prop_assert!(names_setting(Schema::parse_setting("LOG_SCHEMA", &s), "LOG_SCHEMA"));
        prop_assert!(names_setting(Format::parse("LOG_FORMAT", &s), "LOG_FORMAT"));
        let _ = container_id_from_cgroup(&s);
        let _ = container_id_from_mountinfo(&s);
    }

    #[test]
    fn env_parsers_never_panic_on_structured_input(
        s in "[a-z0-9=,%/:. \\-]{0,40}",
    ) {
        prop_assert!(names_setting(parse_resource_attributes("OTEL_RESOURCE_ATTRIBUTES", &s), "OTEL_RESOURCE_ATTRIBUTES"));
        prop_assert!(names_setting(FloodConfig::parse_setting("LOG_FLOOD", &s), "LOG_FLOOD"));
        prop_assert!(names_setting(Directives::parse_setting("RUST_LOG", &s), "RUST_LOG"));
        prop_assert!(names_setting(parse_duration("LOG_HOST_REFRESH", &s), "LOG_HOST_REFRESH"));
        let _ = container_id_from_cgroup(&s);
    }

    #[test]
    fn percent_encoded_attributes_round_trip(
        pairs in proptest::collection::vec(("\\PC{1,12}", "\\PC{0,12}"), 0..6),
    ) {
        // Keys trimmed and unique (the last of a key wins), values trimmed.
        let mut expected: Vec<(String, String)> = Vec::new();
        for (k, v) in &pairs {
            let (k, v) = (k.trim().to_string(), v.trim().to_string());
            if k.is_empty() { continue; }
            match expected.iter_mut().find(|(x, _)| *x == k) {
                Some(slot) => slot.1 = v,
                None => expected.push((k, v)),
            }
        }
        let text: Vec<String> = expected.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
        let parsed = parse_resource_attributes("OTEL_RESOURCE_ATTRIBUTES", &text.join(","));
        prop_assert_eq!(parsed.unwrap(), expected);
    }
}
