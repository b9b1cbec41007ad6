//! Parsers for setting values shared by the builder and the parts it
//! configures: durations and byte sizes. A leaf module, like `error`.

use std::time::Duration;

use crate::Error;

/// Parses a duration such as `30s`, `250ms`, `5m` or `1h`; zero is an error.
pub(crate) fn parse_duration(setting: &str, value: &str) -> Result<Duration, Error> {
    let v = value.trim();
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let bad = |why: &str| Error::invalid(setting, value, why);
    if num.is_empty() {
        return Err(bad(
            "expected a whole number with a unit: ms, s, m or h (e.g. 30s)",
        ));
    }
    let n: u64 = num.parse().map_err(|_| bad("number too large"))?;
    let d = match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        "h" => Duration::from_secs(n.saturating_mul(3600)),
        "" => return Err(bad("missing unit: ms, s, m or h (e.g. 30s)")),
        _ => return Err(bad("unknown unit (expected ms, s, m or h)")),
    };
    if d.is_zero() {
        return Err(bad("must be greater than zero"));
    }
    Ok(d)
}

/// Parses a size in bytes: `1048576`, `512K`, `10M`, `1G` (powers of 1024).
pub(crate) fn parse_size(setting: &str, value: &str) -> Result<u64, Error> {
    let v = value.trim();
    let bad = |why: &str| Error::invalid(setting, value, why);
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
    let n: u64 = num
        .trim()
        .parse()
        .map_err(|_| bad("expected a whole number of bytes, optionally with K, M or G"))?;
    let bytes = n.checked_mul(mult).ok_or_else(|| bad("too large"))?;
    if bytes == 0 {
        return Err(bad("must be at least 1 byte"));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_suffixes() {
        assert_eq!(parse_size("S", "1048576").unwrap(), 1 << 20);
        assert_eq!(parse_size("S", "512K").unwrap(), 512 << 10);
        assert_eq!(parse_size("S", "10m").unwrap(), 10 << 20);
        assert_eq!(parse_size("S", " 1G ").unwrap(), 1 << 30);
    }

    #[test]
    fn bad_sizes_name_setting_and_value() {
        for v in [
            "",
            "M",
            "10X",
            "-1",
            "0",
            "0K",
            "1.5M",
            "99999999999999999999G",
        ] {
            let e = parse_size("LOG_FILE_MAX_SIZE", v).unwrap_err();
            assert!(
                e.to_string()
                    .starts_with(&format!("invalid LOG_FILE_MAX_SIZE={v:?}")),
                "{e}"
            );
        }
    }
}
