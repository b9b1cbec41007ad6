//! Parsers for setting values shared by the builder and the parts it
//! configures: durations, byte sizes and counts, each with a maximum, and the
//! one rule for blank values. A leaf module, like `error`.
//!
//! Every value is trimmed with [`str::trim`] (Unicode white space) before it
//! is read, and a value that is empty after trimming counts as unset: the
//! same rule for every environment variable ([`clean`]) and every parser.

use std::time::Duration;

use crate::error::Error;

/// The value of a setting as it is read: trimmed, and `None` when blank.
pub(crate) fn clean(value: &str) -> Option<&str> {
    Some(value.trim()).filter(|v| !v.is_empty())
}

/// Writes a duration the way settings are written: `24h`, `90s`, `250ms`.
pub(crate) fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if !d.subsec_nanos().is_multiple_of(1_000_000) {
        format!("{d:?}")
    } else if ms.is_multiple_of(86_400_000) && ms > 86_400_000 {
        format!("{}d", ms / 86_400_000)
    } else if ms.is_multiple_of(3_600_000) && ms > 0 {
        format!("{}h", ms / 3_600_000)
    } else if ms.is_multiple_of(60_000) && ms > 0 {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1000) && ms > 0 {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// Parses a duration such as `30s`, `250ms`, `5m` or `1h`; zero and anything
/// above `max` are errors naming `setting` and the value.
pub(crate) fn parse_duration(setting: &str, value: &str, max: Duration) -> Result<Duration, Error> {
    let v = value.trim();
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let bad = |why: &str| Error::invalid(setting, value, why);
    let too_large = || bad(&format!("too long: at most {}", format_duration(max)));
    if num.is_empty() {
        return Err(bad(
            "expected a whole number with a unit: ms, s, m, h or d (e.g. 30s)",
        ));
    }
    let unit_ms: u64 = match unit {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "" => return Err(bad("missing unit: ms, s, m, h or d (e.g. 30s)")),
        _ => return Err(bad("unknown unit (expected ms, s, m, h or d)")),
    };
    // Digits only, so the one parse error left is overflow.
    let n: u64 = num.parse().map_err(|_| too_large())?;
    let ms = n.checked_mul(unit_ms).ok_or_else(too_large)?;
    let d = Duration::from_millis(ms);
    if d.is_zero() {
        return Err(bad("must be greater than zero"));
    }
    if d > max {
        return Err(too_large());
    }
    Ok(d)
}

/// Parses a size in bytes: `1048576`, `512K`, `10M`, `1G` (powers of 1024);
/// zero and anything above `max` are errors.
pub(crate) fn parse_size(setting: &str, value: &str, max: u64) -> Result<u64, Error> {
    let v = value.trim();
    let bad = |why: &str| Error::invalid(setting, value, why);
    let too_large = || bad(&format!("too large: at most {max} bytes"));
    let (num, mult) = match v.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let mult: u64 = match c.to_ascii_uppercase() {
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                _ => return Err(bad("unknown suffix (expected K, M or G)")),
            };
            (&v[..i], mult)
        }
        _ => (v, 1),
    };
    let num = num.trim();
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(
            "expected a whole number of bytes, optionally with K, M or G",
        ));
    }
    let n: u64 = num.parse().map_err(|_| too_large())?;
    let bytes = n.checked_mul(mult).ok_or_else(too_large)?;
    if bytes == 0 {
        return Err(bad("must be at least 1 byte"));
    }
    if bytes > max {
        return Err(too_large());
    }
    Ok(bytes)
}

/// Parses a whole number from 0 to `max`.
pub(crate) fn parse_count(setting: &str, value: &str, what: &str, max: u64) -> Result<u64, Error> {
    let v = value.trim();
    let bad = |why: String| Error::invalid(setting, value, why);
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(format!("expected a whole number of {what}")));
    }
    match v.parse::<u64>() {
        Ok(n) if n <= max => Ok(n),
        _ => Err(bad(format!("too many {what}: at most {max}"))),
    }
}

/// Parses a switch: `1`, `true`, `yes`, `on` or `0`, `false`, `no`, `off`
/// (any case).
pub(crate) fn parse_bool(setting: &str, value: &str) -> Result<bool, Error> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(Error::invalid(
            setting,
            value,
            "expected 1, true, yes, on or 0, false, no, off",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Duration = Duration::from_secs(86_400);

    #[test]
    fn sizes_parse_with_binary_suffixes() {
        assert_eq!(parse_size("S", "1048576", u64::MAX).unwrap(), 1 << 20);
        assert_eq!(parse_size("S", "512K", u64::MAX).unwrap(), 512 << 10);
        assert_eq!(parse_size("S", "10m", u64::MAX).unwrap(), 10 << 20);
        assert_eq!(parse_size("S", " 1G ", u64::MAX).unwrap(), 1 << 30);
        assert_eq!(parse_size("S", "1G", 1 << 30).unwrap(), 1 << 30);
    }

    #[test]
    fn bad_sizes_name_setting_and_value() {
        for (v, why) in [
            ("", "whole number"),
            ("M", "whole number"),
            ("10X", "unknown suffix"),
            ("-1", "whole number"),
            ("+1", "whole number"),
            ("0", "at least 1 byte"),
            ("0K", "at least 1 byte"),
            ("1.5M", "whole number"),
            ("99999999999999999999G", "at most 1073741824 bytes"),
            ("18446744073709551615K", "at most 1073741824 bytes"),
            ("1025M", "at most 1073741824 bytes"),
        ] {
            let e = parse_size("LOG_FILE_MAX_SIZE", v, 1 << 30).unwrap_err();
            assert!(
                e.to_string()
                    .starts_with(&format!("invalid LOG_FILE_MAX_SIZE={v:?}")),
                "{e}"
            );
            assert!(e.to_string().contains(why), "{v}: {e}");
        }
    }

    #[test]
    fn durations_parse_up_to_their_maximum() {
        let p = |v| parse_duration("D", v, DAY);
        assert_eq!(p("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(p(" 30s ").unwrap(), Duration::from_secs(30));
        assert_eq!(p("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(p("24h").unwrap(), DAY);
        assert_eq!(p("86400000ms").unwrap(), DAY);
    }

    #[test]
    fn bad_durations_name_setting_value_and_maximum() {
        for (v, why) in [
            ("18446744073709551615s", "too long: at most 24h"),
            ("99999999999999999999999s", "too long: at most 24h"),
            ("18446744073709551615h", "too long: at most 24h"),
            ("25h", "too long: at most 24h"),
            ("86400001ms", "too long: at most 24h"),
            ("0s", "greater than zero"),
            ("30", "missing unit"),
            ("5y", "unknown unit"),
            ("-1s", "whole number"),
            ("", "whole number"),
            ("1.5s", "unknown unit"),
        ] {
            let e = parse_duration("LOG_HOST_REFRESH", v, DAY).unwrap_err();
            assert!(
                e.to_string()
                    .starts_with(&format!("invalid LOG_HOST_REFRESH={v:?}")),
                "{e}"
            );
            assert!(e.to_string().contains(why), "{v}: {e}");
        }
    }

    #[test]
    fn counts_are_bounded() {
        assert_eq!(parse_count("K", " 1000 ", "files", 1000).unwrap(), 1000);
        assert_eq!(parse_count("K", "0", "files", 1000).unwrap(), 0);
        for (v, why) in [
            ("1001", "too many files: at most 1000"),
            ("1000000000", "too many files: at most 1000"),
            ("99999999999999999999999", "too many files: at most 1000"),
            ("many", "whole number of files"),
            ("-1", "whole number of files"),
            ("", "whole number of files"),
        ] {
            let e = parse_count("LOG_FILE_KEEP", v, "files", 1000).unwrap_err();
            assert_eq!(e.setting(), Some("LOG_FILE_KEEP"));
            assert_eq!(e.value(), Some(v));
            assert!(e.to_string().contains(why), "{v}: {e}");
        }
    }

    #[test]
    fn blank_values_count_as_unset_and_others_are_trimmed() {
        for v in ["", " ", "\t", " \n ", "\u{a0}"] {
            assert_eq!(clean(v), None, "{v:?}");
        }
        assert_eq!(clean(" app.log\n"), Some("app.log"));
    }

    #[test]
    fn durations_format_as_settings_are_written() {
        assert_eq!(format_duration(DAY), "24h");
        assert_eq!(format_duration(Duration::from_secs(90)), "90s");
        assert_eq!(format_duration(Duration::from_secs(120)), "2m");
        assert_eq!(format_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(format_duration(Duration::from_micros(1500)), "1.5ms");
    }
}
