//! Property tests: every parser of environment values, on arbitrary input,
//! returns a value or an error naming its setting, and never panics; values
//! past a maximum are errors; surrounding white space never matters.

use std::time::Duration;

use proptest::prelude::*;

use crate::drain::Directives;
use crate::file::{MAX_FILE_KEEP, MAX_FILE_MAX_SIZE};
use crate::flood::{MAX_FLOOD_BURST, MAX_FLOOD_WINDOW};
use crate::format::Format;
use crate::host::resource::{container_id_from_cgroup, container_id_from_mountinfo};
use crate::host::{parse_resource_attributes, RefreshConfig, MAX_REFRESH_INTERVAL};
use crate::settings::{clean, parse_count, parse_duration, parse_size};
use crate::{FloodConfig, Schema};

fn names_setting<T>(r: Result<T, crate::error::Error>, setting: &str) -> bool {
    match r {
        Ok(_) => true,
        Err(e) => e.setting() == Some(setting),
    }
}

/// True if both parsed to the same value, or both failed.
fn same<T: std::fmt::Debug>(
    a: Result<T, crate::error::Error>,
    b: Result<T, crate::error::Error>,
) -> bool {
    match (a, b) {
        (Ok(a), Ok(b)) => format!("{a:?}") == format!("{b:?}"),
        (Err(_), Err(_)) => true,
        _ => false,
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
        prop_assert!(names_setting(parse_duration("LOG_HOST_REFRESH", &s, MAX_REFRESH_INTERVAL), "LOG_HOST_REFRESH"));
        prop_assert!(names_setting(parse_size("LOG_FILE_MAX_SIZE", &s, MAX_FILE_MAX_SIZE), "LOG_FILE_MAX_SIZE"));
        prop_assert!(names_setting(FloodConfig::parse_setting("LOG_FLOOD", &s), "LOG_FLOOD"));
        prop_assert!(names_setting(Directives::parse_setting("RUST_LOG", &s), "RUST_LOG"));
        prop_assert!(names_setting(Schema::parse_setting("LOG_SCHEMA", &s), "LOG_SCHEMA"));
        prop_assert!(names_setting(crate::settings::parse_bool("LOG_SOURCE", &s), "LOG_SOURCE"));
        prop_assert!(names_setting(Format::parse("LOG_FORMAT", &s), "LOG_FORMAT"));
        prop_assert!(names_setting(parse_count("LOG_FILE_KEEP", &s, "files", MAX_FILE_KEEP as u64), "LOG_FILE_KEEP"));
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
        prop_assert!(names_setting(parse_duration("LOG_HOST_REFRESH", &s, MAX_REFRESH_INTERVAL), "LOG_HOST_REFRESH"));
        let _ = container_id_from_cgroup(&s);
    }

    #[test]
    fn durations_are_exact_up_to_the_maximum_and_errors_beyond(
        n in prop_oneof![0u64..100_000, any::<u64>()],
        digits in "[0-9]{20,30}",
        unit in prop_oneof![Just(("ms", 1u128)), Just(("s", 1000)), Just(("m", 60_000)), Just(("h", 3_600_000))],
    ) {
        let max_ms = MAX_REFRESH_INTERVAL.as_millis();
        for text in [n.to_string(), digits] {
            let value = format!("{text}{}", unit.0);
            let ms = text.parse::<u128>().ok().and_then(|t| t.checked_mul(unit.1));
            match parse_duration("LOG_HOST_REFRESH", &value, MAX_REFRESH_INTERVAL) {
                Ok(d) => prop_assert_eq!(Some(d.as_millis()), ms),
                Err(e) => {
                    prop_assert_eq!(e.setting(), Some("LOG_HOST_REFRESH"));
                    prop_assert!(ms.is_none_or(|ms| ms == 0 || ms > max_ms), "{value}: {e}");
                }
            }
        }
    }

    #[test]
    fn sizes_are_exact_up_to_the_maximum_and_errors_beyond(
        n in prop_oneof![0u64..100_000, any::<u64>()],
        suffix in prop_oneof![Just(("", 1u128)), Just(("K", 1 << 10)), Just(("M", 1 << 20)), Just(("G", 1 << 30))],
    ) {
        let value = format!("{n}{}", suffix.0);
        let bytes = u128::from(n) * suffix.1;
        match parse_size("LOG_FILE_MAX_SIZE", &value, MAX_FILE_MAX_SIZE) {
            Ok(b) => prop_assert_eq!(u128::from(b), bytes),
            Err(e) => {
                prop_assert_eq!(e.setting(), Some("LOG_FILE_MAX_SIZE"));
                prop_assert!(bytes == 0 || bytes > u128::from(MAX_FILE_MAX_SIZE), "{value}: {e}");
            }
        }
    }

    #[test]
    fn counts_and_flood_budgets_are_bounded(n in prop_oneof![0u64..2_000, any::<u64>()], w in 0u64..200_000) {
        match parse_count("LOG_FILE_KEEP", &n.to_string(), "files", MAX_FILE_KEEP as u64) {
            Ok(k) => prop_assert!(k == n && k <= MAX_FILE_KEEP as u64),
            Err(e) => prop_assert!(n > MAX_FILE_KEEP as u64, "{n}: {e}"),
        }
        let value = format!("{n}/{w}s");
        match FloodConfig::parse_setting("LOG_FLOOD", &value) {
            Ok(Some(c)) => {
                prop_assert_eq!(u64::from(c.burst), n);
                prop_assert_eq!(c.info_burst, c.burst);
                prop_assert_eq!(c.window, Duration::from_secs(w));
            }
            Ok(None) => prop_assert!(false, "{value} is not off"),
            Err(e) => {
                prop_assert_eq!(e.setting(), Some("LOG_FLOOD"));
                prop_assert!(
                    n == 0 || n > u64::from(MAX_FLOOD_BURST) || w == 0 || w > MAX_FLOOD_WINDOW.as_secs(),
                    "{value}: {e}"
                );
            }
        }
    }

    #[test]
    fn white_space_around_a_value_never_matters(
        s in "[a-z0-9=,/:. ]{0,20}",
        pad in "[ \t\n\r]{0,3}",
    ) {
        let padded = format!("{pad}{s}{pad}");
        prop_assert!(same(parse_duration("D", &s, MAX_REFRESH_INTERVAL), parse_duration("D", &padded, MAX_REFRESH_INTERVAL)));
        prop_assert!(same(parse_size("S", &s, MAX_FILE_MAX_SIZE), parse_size("S", &padded, MAX_FILE_MAX_SIZE)));
        prop_assert!(same(parse_count("K", &s, "files", 1000), parse_count("K", &padded, "files", 1000)));
        prop_assert!(same(FloodConfig::parse_setting("F", &s), FloodConfig::parse_setting("F", &padded)));
        prop_assert!(same(Directives::parse_setting("R", &s), Directives::parse_setting("R", &padded)));
        prop_assert!(same(Schema::parse_setting("L", &s), Schema::parse_setting("L", &padded)));
        prop_assert!(same(Format::parse("L", &s), Format::parse("L", &padded)));
        prop_assert_eq!(clean(&padded), clean(&s));
        prop_assert_eq!(clean(&pad), None);
    }

    #[test]
    fn refresh_delays_never_panic(
        interval in any::<u64>(), nanos in 0u32..1_000_000_000, backoff in any::<u64>(),
        jitter in any::<f64>(), failures in any::<u32>(), unit in 0.0f64..1.0,
    ) {
        let c = RefreshConfig {
            interval: Duration::new(interval, nanos),
            max_backoff: Duration::from_secs(backoff),
            jitter,
        };
        let _ = c.delay(failures, unit);
        if c.validate().is_ok() {
            prop_assert!(c.interval <= MAX_REFRESH_INTERVAL && c.max_backoff <= MAX_REFRESH_INTERVAL);
        }
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
