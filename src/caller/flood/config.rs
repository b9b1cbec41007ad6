//! [`FloodConfig`]: the flood guard's budgets, their defaults, limits and
//! setting syntax, and the keys of its summary records. Pure; any thread.

use std::time::Duration;

use slog::Level;

use crate::error::Error;
use crate::settings::format_duration;

/// Default records per call site that pass in each window at WARN, ERROR and
/// CRIT: 100.
pub const DEFAULT_FLOOD_BURST: u32 = 100;
/// Default records per call site that pass in each window at INFO, DEBUG and
/// TRACE: 10,000.
pub const DEFAULT_FLOOD_INFO_BURST: u32 = 10_000;
/// Default window: one second.
pub const DEFAULT_FLOOD_WINDOW: Duration = Duration::from_secs(1);
/// The largest budget accepted, per call site and window: 10,000,000 (a
/// larger one is an error; turn the guard off instead).
pub const MAX_FLOOD_BURST: u32 = 10_000_000;
/// The longest window accepted: 24 hours.
pub const MAX_FLOOD_WINDOW: Duration = Duration::from_secs(24 * 3600);
/// The shortest window accepted: 1 millisecond.
pub const MIN_FLOOD_WINDOW: Duration = Duration::from_millis(1);
/// Fields of a summary record.
pub mod flood_keys {
    /// The call site, `file:line`.
    pub const SITE: &str = "flood.site";
    /// How many records from that site were dropped.
    pub const SUPPRESSED: &str = "flood.suppressed";
    /// The window, in milliseconds.
    pub const WINDOW_MS: &str = "flood.window_ms";
}

/// Budget of a [`FloodGuard`](crate::drain::FloodGuard): per call site, `burst` records at WARN and
/// above and `info_burst` records at INFO and below pass in each `window`.
///
/// | setting | default | why |
/// |---|---|---|
/// | `burst` (WARN, ERROR, CRIT) | [`DEFAULT_FLOOD_BURST`] (100) | floods are failure loops (an accept loop out of file descriptors, a retry without backoff) and they log at WARN and above; the 101st identical error in a second adds nothing the summary's count does not say. As zap's production sampler (first 100 per second), a tight error loop writes about 20 KB/s instead of filling a disk |
/// | `info_burst` (INFO, DEBUG, TRACE) | [`DEFAULT_FLOOD_INFO_BURST`] (10,000) | one INFO call site is typically an access log: one distinct event per request, at a rate that follows traffic, and each line matters (audits, counts). 10,000 per second is ten times a busy instance's 1,000 requests per second, so ordinary traffic and its spikes pass untouched, while a runaway loop is still cut to a bounded rate. DEBUG and TRACE are switched on to see everything, so they get the same budget |
/// | `window` | [`DEFAULT_FLOOD_WINDOW`] (1 s) | short enough that a summary follows a burst quickly |
///
/// Budgets are whole records, not sampling: a call site's first records of
/// each window pass, the rest are dropped and counted in that site's summary.
/// Limits: budgets from 1 to [`MAX_FLOOD_BURST`], windows from
/// [`MIN_FLOOD_WINDOW`] to [`MAX_FLOOD_WINDOW`]; anything else is an error.
///
/// `LOG_FLOOD` sets it: `off`; `burst/window` (`100/1s`, `1000/500ms`) sets
/// one budget for every level, as it always did; `burst/window,info=N`
/// (`100/1s,info=20000`) sets the two budgets apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FloodConfig {
    /// Records per call site that pass in each window at WARN and above.
    pub burst: u32,
    /// Records per call site that pass in each window at INFO and below.
    pub info_burst: u32,
    /// The window.
    pub window: Duration,
}

impl Default for FloodConfig {
    fn default() -> Self {
        FloodConfig {
            burst: DEFAULT_FLOOD_BURST,
            info_burst: DEFAULT_FLOOD_INFO_BURST,
            window: DEFAULT_FLOOD_WINDOW,
        }
    }
}

impl FloodConfig {
    /// One budget for every level: `burst` records per call site and level in
    /// each `window`.
    pub fn uniform(burst: u32, window: Duration) -> Self {
        FloodConfig {
            burst,
            info_burst: burst,
            window,
        }
    }

    /// The budget of a call site at `level`.
    pub(super) fn budget(&self, level: Level) -> u32 {
        if level.is_at_least(Level::Warning) {
            self.burst
        } else {
            self.info_burst
        }
    }

    /// Parses `burst/window` (`100/1s`, one budget for every level),
    /// `burst/window,info=N` (`N` for INFO and below) or `off` (`None`);
    /// errors name `setting` and the value.
    pub fn parse_setting(setting: &str, value: &str) -> Result<Option<FloodConfig>, Error> {
        let v = value.trim();
        if v.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        let bad = |why: &str| Error::invalid(setting, value, why);
        let (budget, info) = match v.split_once(',') {
            Some((budget, info)) => {
                let n = info.trim().strip_prefix("info=").ok_or_else(|| {
                    bad("expected info=N after the comma, such as 100/1s,info=10000")
                })?;
                (
                    budget,
                    Some(parse_burst(n).map_err(|why| bad(&format!("the info budget {why}")))?),
                )
            }
            None => (v, None),
        };
        let (burst, window) = budget
            .split_once('/')
            .ok_or_else(|| bad("expected burst/window such as 100/1s, or off"))?;
        let burst = parse_burst(burst).map_err(|why| bad(&format!("the burst {why}")))?;
        let window =
            crate::settings::parse_duration(setting, window, MAX_FLOOD_WINDOW).map_err(|_| {
                bad(&format!(
                    "the window must be a duration from 1ms to {}, such as 1s or 500ms",
                    format_duration(MAX_FLOOD_WINDOW)
                ))
            })?;
        let config = FloodConfig {
            burst,
            info_burst: info.unwrap_or(burst),
            window,
        };
        config.validate(setting, value)?;
        Ok(Some(config))
    }

    pub(super) fn validate(&self, setting: &str, value: &str) -> Result<(), Error> {
        for (name, n) in [("burst", self.burst), ("info budget", self.info_burst)] {
            if n == 0 {
                return Err(Error::invalid(
                    setting,
                    value,
                    format!("the {name} must be at least 1 (use `off` to disable)"),
                ));
            }
            if n > MAX_FLOOD_BURST {
                return Err(Error::invalid(
                    setting,
                    value,
                    format!("the {name} must be at most {MAX_FLOOD_BURST}"),
                ));
            }
        }
        if self.window < MIN_FLOOD_WINDOW || self.window > MAX_FLOOD_WINDOW {
            return Err(Error::invalid(
                setting,
                value,
                format!(
                    "the window must be from 1ms to {}",
                    format_duration(MAX_FLOOD_WINDOW)
                ),
            ));
        }
        Ok(())
    }
}

/// A budget: a whole number from 1 to [`MAX_FLOOD_BURST`].
fn parse_burst(text: &str) -> Result<u32, String> {
    let t = text.trim();
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err("must be a whole number such as 100".to_string());
    }
    // Digits only: a parse error is overflow, past any budget allowed.
    match t.parse::<u32>() {
        Ok(0) => Err("must be at least 1 (use `off` to disable)".to_string()),
        Ok(n) if n <= MAX_FLOOD_BURST => Ok(n),
        _ => Err(format!("must be at most {MAX_FLOOD_BURST}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_budgets_and_off() {
        let parse = |v| FloodConfig::parse_setting("LOG_FLOOD", v).unwrap();
        assert_eq!(parse("off"), None);
        assert_eq!(
            parse("100/1s"),
            Some(FloodConfig::uniform(100, Duration::from_secs(1)))
        );
        assert_eq!(
            parse(" 5/250ms "),
            Some(FloodConfig::uniform(5, Duration::from_millis(250)))
        );
        assert_eq!(
            parse("100/1s, info=20000"),
            Some(FloodConfig {
                burst: 100,
                info_burst: 20_000,
                window: Duration::from_secs(1)
            })
        );
        assert_eq!(
            parse("10000000/24h"),
            Some(FloodConfig::uniform(MAX_FLOOD_BURST, MAX_FLOOD_WINDOW))
        );
    }

    #[test]
    fn defaults_keep_info_and_bound_warnings_and_errors() {
        let c = FloodConfig::default();
        for level in [Level::Critical, Level::Error, Level::Warning] {
            assert_eq!(c.budget(level), DEFAULT_FLOOD_BURST, "{level:?}");
        }
        for level in [Level::Info, Level::Debug, Level::Trace] {
            assert_eq!(c.budget(level), DEFAULT_FLOOD_INFO_BURST, "{level:?}");
        }
        assert_eq!(
            (DEFAULT_FLOOD_BURST, DEFAULT_FLOOD_INFO_BURST),
            (100, 10_000)
        );
    }

    #[test]
    fn bad_budgets_name_setting_and_value() {
        for (v, why) in [
            ("100", "burst/window"),
            ("x/1s", "whole number"),
            ("100/fast", "duration"),
            ("0/1s", "at least 1"),
            ("100/0s", "duration"),
            ("-1/1s", "whole number"),
            ("10000001/1s", "at most 10000000"),
            ("4294967296/1s", "at most 10000000"),
            ("99999999999999999999999/1s", "at most 10000000"),
            ("100/25h", "from 1ms to 24h"),
            ("100/18446744073709551615s", "from 1ms to 24h"),
            ("100/1s,10", "info=N"),
            ("100/1s,info=", "info budget must be a whole number"),
            ("100/1s,info=0", "info budget must be at least 1"),
            (
                "100/1s,info=10000001",
                "info budget must be at most 10000000",
            ),
        ] {
            let e = FloodConfig::parse_setting("LOG_FLOOD", v).unwrap_err();
            assert!(
                e.to_string()
                    .starts_with(&format!("invalid LOG_FLOOD={v:?}")),
                "{e}"
            );
            assert!(e.to_string().contains(why), "{v}: {e}");
        }
    }
}
