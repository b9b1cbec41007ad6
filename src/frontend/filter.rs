//! Level filtering by `RUST_LOG` directives (env_logger syntax).

use std::sync::Arc;

use slog::{Drain, FilterLevel, Level, OwnedKVList, Record};

use crate::Error;

/// Parsed level directives, as env_logger reads `RUST_LOG`.
///
/// `info,hyper=warn,my_app::db=debug`: comma-separated; a bare level sets the
/// default, `target=level` sets a target prefix, and a bare target means
/// `target=trace`. The longest matching prefix wins. When only targets are
/// given, other records are off (as in env_logger). Levels are `off`, `error`,
/// `warn`, `info`, `debug`, `trace` in any case. env_logger's `/regex` message
/// filter is not supported and is an error.
///
/// ```
/// use slog::Level;
/// use slog_host::Directives;
///
/// let d: Directives = "info,hyper=warn".parse().unwrap();
/// assert!(d.enabled(Level::Info, "my_app::handler"));
/// assert!(!d.enabled(Level::Info, "hyper::proto"));
/// assert!(d.enabled(Level::Warning, "hyper::proto"));
/// assert!("foo=loud".parse::<Directives>().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Directives {
    default: FilterLevel,
    /// `(target prefix, level)`, longest prefix first.
    targets: Vec<(String, FilterLevel)>,
    max: FilterLevel,
}

/// The filter used when `RUST_LOG` is unset or empty.
pub const DEFAULT_FILTER: &str = "info";

fn parse_level(s: &str) -> Option<FilterLevel> {
    Some(match s.to_ascii_lowercase().as_str() {
        "off" => FilterLevel::Off,
        "error" => FilterLevel::Error,
        "warn" | "warning" => FilterLevel::Warning,
        "info" => FilterLevel::Info,
        "debug" => FilterLevel::Debug,
        "trace" => FilterLevel::Trace,
        _ => return None,
    })
}

impl Directives {
    /// Parses `spec`; errors name `setting` (such as `RUST_LOG`) and the value.
    pub fn parse_setting(setting: &str, spec: &str) -> Result<Directives, Error> {
        let bad = |why: String| Error::invalid(setting, spec, why);
        if spec.contains('/') {
            return Err(bad(
                "message filters (`/regex`) are not supported".to_string()
            ));
        }
        let mut default = None;
        let mut targets: Vec<(String, FilterLevel)> = Vec::new();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (target, level) = match part.split_once('=') {
                Some((t, l)) => {
                    let level = parse_level(l.trim()).ok_or_else(|| {
                        bad(format!(
                            "unknown level {:?} in {part:?} (expected off, error, warn, info, debug or trace)",
                            l.trim()
                        ))
                    })?;
                    (Some(t.trim()), level)
                }
                None => match parse_level(part) {
                    Some(level) => (None, level),
                    None => (Some(part), FilterLevel::Trace),
                },
            };
            match target {
                None => default = Some(level),
                Some("") => return Err(bad(format!("empty target in {part:?}"))),
                Some(t) => match targets.iter_mut().find(|(x, _)| x == t) {
                    Some(slot) => slot.1 = level,
                    None => targets.push((t.to_string(), level)),
                },
            }
        }
        if default.is_none() && targets.is_empty() {
            default = parse_level(DEFAULT_FILTER);
        }
        let default = default.unwrap_or(FilterLevel::Off);
        targets.sort_by_key(|t| std::cmp::Reverse(t.0.len()));
        let max = targets.iter().map(|(_, l)| *l).fold(default, |a, b| {
            if b.as_usize() > a.as_usize() {
                b
            } else {
                a
            }
        });
        Ok(Directives {
            default,
            targets,
            max,
        })
    }

    /// True if a record at `level` from `target` (a module path) passes.
    pub fn enabled(&self, level: Level, target: &str) -> bool {
        let limit = self
            .targets
            .iter()
            .find(|(t, _)| target.starts_with(t.as_str()))
            .map_or(self.default, |(_, l)| *l);
        limit.accepts(level)
    }

    /// The most verbose level any directive enables.
    pub fn max_level(&self) -> FilterLevel {
        self.max
    }
}

impl Default for Directives {
    fn default() -> Self {
        Directives::parse_setting("filter", DEFAULT_FILTER).expect("the default filter parses")
    }
}

impl std::str::FromStr for Directives {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Directives::parse_setting("filter", s)
    }
}

/// The target a record is filtered by: its tag if it has one (records bridged
/// from the `log` crate carry their `log` target there), else its module path.
fn target<'a>(record: &'a Record<'_>) -> &'a str {
    match record.tag() {
        "" => record.module(),
        tag => tag,
    }
}

/// A drain that passes the records [`Directives`] enable and drops the rest.
///
/// `is_enabled` answers from the most verbose directive before asking the
/// inner drain, so disabled levels cost one comparison; `flush` is forwarded.
#[derive(Debug, Clone)]
pub struct LevelFilter<D> {
    drain: D,
    directives: Arc<Directives>,
}

impl<D> LevelFilter<D> {
    /// Filters `drain` by `directives`.
    pub fn new(drain: D, directives: Directives) -> Self {
        LevelFilter {
            drain,
            directives: Arc::new(directives),
        }
    }
}

impl<D: Drain> Drain for LevelFilter<D> {
    type Ok = Option<D::Ok>;
    type Err = D::Err;

    fn log(&self, record: &Record<'_>, values: &OwnedKVList) -> Result<Self::Ok, D::Err> {
        if self.directives.enabled(record.level(), target(record)) {
            self.drain.log(record, values).map(Some)
        } else {
            Ok(None)
        }
    }

    #[inline]
    fn is_enabled(&self, level: Level) -> bool {
        self.directives.max.accepts(level) && self.drain.is_enabled(level)
    }

    fn flush(&self) -> Result<(), slog::FlushError> {
        self.drain.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Directives {
        s.parse().unwrap()
    }

    #[test]
    fn default_is_info() {
        for spec in ["", " ", ","] {
            let x = d(spec);
            assert!(x.enabled(Level::Info, "a"));
            assert!(!x.enabled(Level::Debug, "a"));
        }
    }

    #[test]
    fn per_target_levels_longest_prefix_wins() {
        let x = d("warn,my_app=debug,my_app::db=error,hyper");
        assert!(x.enabled(Level::Debug, "my_app::handler"));
        assert!(!x.enabled(Level::Trace, "my_app::handler"));
        assert!(!x.enabled(Level::Warning, "my_app::db::pool"));
        assert!(x.enabled(Level::Error, "my_app::db"));
        assert!(
            x.enabled(Level::Trace, "hyper::client"),
            "bare target = trace"
        );
        assert!(!x.enabled(Level::Info, "other"));
        assert!(x.enabled(Level::Warning, "other"));
        assert_eq!(x.max_level(), FilterLevel::Trace);
    }

    #[test]
    fn targets_only_turns_the_rest_off() {
        let x = d("hyper=info");
        assert!(x.enabled(Level::Info, "hyper"));
        assert!(!x.enabled(Level::Error, "my_app"));
    }

    #[test]
    fn levels_are_case_insensitive_and_off_works() {
        let x = d("OFF,a=Warn");
        assert!(!x.enabled(Level::Critical, "b"));
        assert!(x.enabled(Level::Warning, "a"));
        assert_eq!(x.max_level(), FilterLevel::Warning);
    }

    #[test]
    fn bad_specs_name_setting_and_value() {
        for (spec, why) in [
            ("foo=loud", "unknown level \"loud\""),
            ("info,=debug", "empty target"),
            ("info/abc", "not supported"),
            ("a=b=c", "unknown level \"b=c\""),
        ] {
            let e = Directives::parse_setting("RUST_LOG", spec).unwrap_err();
            let text = e.to_string();
            assert!(
                text.starts_with(&format!("invalid RUST_LOG={spec:?}")),
                "{text}"
            );
            assert!(text.contains(why), "{text}");
        }
    }
}
