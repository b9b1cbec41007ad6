//! Level filtering by `RUST_LOG` directives (env_logger syntax).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;
use slog::{Drain, FilterLevel, Level, OwnedKVList, Record};

use super::target_table::TargetTable;
use crate::error::Error;
use crate::record::target::target;

/// Parsed level directives, as env_logger reads `RUST_LOG`.
///
/// `info,hyper=warn,my_app::db=debug`: comma-separated; a bare level sets the
/// default, `target=level` sets a target prefix, and a bare target means
/// `target=trace`. The longest matching prefix wins. When only targets are
/// given, other records are off (as in env_logger). Levels are `off`, `error`,
/// `warn`, `info`, `debug`, `trace` in any case. env_logger's `/regex` message
/// filter is not supported and is an error.
///
/// Strict where a typo would silence a service: a bare word that looks like
/// a misspelled level (`inof`, `wran`, `infoo`) or is a number (`0`) is an
/// error with a suggestion (env_logger reads it as a target and turns
/// everything else off; a target of such a name is written `inof=trace`),
/// and so are `;` between directives, an empty target, tracing's span
/// directives (`[span{field=value}]=level`, which this filter does not
/// apply), and a target that is not a module path (letters, digits, `_`,
/// `-`, `.` and `::`). The same rules hold for `RUST_LOG`,
/// [`Builder::filter`](crate::Builder::filter), `set_filter` and
/// `LOG_FILTER_FILE`.
///
/// ```
/// use slog::Level;
/// use slog_host::drain::Directives;
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
    /// The same as a trie, when there are more than [`LINEAR_MAX`]: a
    /// record's cost then does not grow with the number of directives.
    table: Option<TargetTable>,
    max: FilterLevel,
    /// The directives as given, trimmed.
    text: String,
}

/// Up to this many target directives are matched by a scan (a few prefix
/// compares, the common case); more by a [`TargetTable`].
const LINEAR_MAX: usize = 8;

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

/// The level names a bare word is compared with.
const LEVEL_NAMES: [&str; 7] = ["off", "error", "warn", "warning", "info", "debug", "trace"];

/// Edit distance with adjacent transpositions (optimal string alignment), on
/// ASCII-lowercased characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().map(|c| c.to_ascii_lowercase()).collect();
    let b: Vec<char> = b.chars().map(|c| c.to_ascii_lowercase()).collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    d[0] = (0..=b.len()).collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// The level a bare target probably meant: for a number (`0`, as some
/// loggers number their levels), any; for a word, the level name it is an
/// anagram of (`inof`, `debgu`) or one insertion or deletion away from
/// (`eror`, `infoo`), or, for the names of five letters or more, one
/// substitution away (`debig`). Four-letter names are not matched by
/// substitution, which would catch real crates (`warp`).
fn misspelled_level(word: &str) -> Option<&'static str> {
    if word.bytes().all(|b| b.is_ascii_digit()) {
        return Some("a level name (off, error, warn, info, debug or trace)");
    }
    if word.len() > 8 || !word.is_ascii() {
        return None;
    }
    let sorted = |w: &str| {
        let mut c: Vec<u8> = w.bytes().map(|b| b.to_ascii_lowercase()).collect();
        c.sort_unstable();
        c
    };
    LEVEL_NAMES.iter().copied().find(|name| {
        sorted(word) == sorted(name)
            || (edit_distance(word, name) == 1 && (word.len() != name.len() || name.len() >= 5))
    })
}

/// Why one directive (trimmed, not empty) is invalid, in words that do not
/// quote it (a filter file's content is never echoed); `None` if it is
/// valid.
fn part_problem(part: &str) -> Option<String> {
    if part.contains('/') {
        return Some("a message filter (`/regex`), which is not supported".into());
    }
    if part.contains(';') {
        return Some("directives are separated by commas, not `;`".into());
    }
    if part.contains(['[', ']', '{', '}']) {
        return Some(
            "a span directive (`[span{field=value}]=level`), which this filter does not apply: \
             filter by target"
                .into(),
        );
    }
    match part.split_once('=') {
        Some((t, _)) if t.trim().is_empty() => Some("an empty target".into()),
        Some((_, l)) if parse_level(l.trim()).is_none() => {
            Some("an unknown level (expected off, error, warn, info, debug or trace)".into())
        }
        Some((t, _)) => target_problem(t.trim()),
        None if parse_level(part).is_some() => None,
        None => target_problem(part).or_else(|| {
            misspelled_level(part).map(|meant| {
                let meant = if meant.starts_with("a level") {
                    meant.to_owned()
                } else {
                    format!("\"{meant}\"")
                };
                format!(
                    "not a level; did you mean {meant}? (a target of that name is written \
                     `name=trace`)"
                )
            })
        }),
    }
}

/// Why `target` is not a module path (letters, digits, `_`, `-`, `.`,
/// `::`), if it is not.
fn target_problem(target: &str) -> Option<String> {
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':');
    target.chars().find(|c| !ok(*c)).map(|c| {
        format!(
            "a target with {c:?}: a target is a module path (letters, digits, `_`, `-`, `.`, `::`)"
        )
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
        // A target given twice keeps its last level (an index per target:
        // linear in the number of directives, not quadratic).
        let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if let Some(why) = part_problem(part) {
                // The variable's value is quoted whole already; the
                // directive too (a filter file's errors never quote).
                return Err(bad(format!("directive {part:?}: {why}")));
            }
            let (target, level) = match part.split_once('=') {
                Some((t, l)) => (
                    Some(t.trim()),
                    parse_level(l.trim()).unwrap_or(FilterLevel::Off),
                ),
                None => match parse_level(part) {
                    Some(level) => (None, level),
                    None => (Some(part), FilterLevel::Trace),
                },
            };
            match target {
                None => default = Some(level),
                Some(t) => match index.get(t) {
                    Some(&i) => targets[i].1 = level,
                    None => {
                        index.insert(t.to_string(), targets.len());
                        targets.push((t.to_string(), level));
                    }
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
        let table = (targets.len() > LINEAR_MAX)
            .then(|| TargetTable::new(targets.iter().map(|(t, l)| (t.as_str(), *l))));
        Ok(Directives {
            default,
            targets,
            table,
            max,
            text: spec.trim().to_string(),
        })
    }

    /// Parses `spec`, the content of the file `path` names (`setting` is
    /// `LOG_FILTER_FILE`), without ever echoing it: the content may not be
    /// meant for a log (a link to a secret, `/proc/self/environ`). An error
    /// names the setting and the path, and says which directive is invalid
    /// (its number and bytes) and why, never its text.
    pub(crate) fn parse_file(setting: &str, path: &str, spec: &str) -> Result<Directives, Error> {
        Directives::parse_setting(setting, spec).map_err(|_| {
            let mut at = 0;
            let why = "not valid directives";
            for (i, part) in spec.split(',').enumerate() {
                let trimmed = part.trim();
                if !trimmed.is_empty() {
                    if let Some(reason) = part_problem(trimmed) {
                        let start = at + (part.len() - part.trim_start().len());
                        return Error::invalid(
                            setting,
                            path,
                            format!(
                                "its content ({} bytes, not shown) is invalid: directive {} \
                                 (bytes {}..{}): {reason}",
                                spec.len(),
                                i + 1,
                                start,
                                start + trimmed.len()
                            ),
                        );
                    }
                }
                at += part.len() + 1;
            }
            Error::invalid(
                setting,
                path,
                format!("its content ({} bytes, not shown) is {why}", spec.len()),
            )
        })
    }

    /// True if a record at `level` from `target` (a module path) passes.
    pub fn enabled(&self, level: Level, target: &str) -> bool {
        let limit = match &self.table {
            Some(table) => table.longest_prefix(target),
            None => self
                .targets
                .iter()
                .find(|(t, _)| target.starts_with(t.as_str()))
                .map(|(_, l)| *l),
        };
        limit.unwrap_or(self.default).accepts(level)
    }

    /// The most verbose level any directive enables.
    pub fn max_level(&self) -> FilterLevel {
        self.max
    }

    /// The directives as they were given (trimmed).
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// The directives in force for a pipeline, replaceable at run time
/// ([`LogGuard::set_filter`](crate::LogGuard::set_filter), `LOG_FILTER_FILE`):
/// read by slog's level check, the `log` bridge and the tracing layer's
/// per-layer filter, so one swap changes all three at once.
///
/// With several outputs it also holds the directives of each output after
/// the first that has its own ([`Builder::tee`](crate::Builder::tee)): a
/// record passes the caller's check if some output takes it (the most
/// verbose of them), and [`mask`](Self::mask) says which.
#[derive(Debug)]
pub(crate) struct LiveFilter {
    current: ArcSwap<Directives>,
    /// Outputs 1.. : their own directives, or `None` to follow `current`.
    outputs: Vec<Option<Directives>>,
    /// The most verbose level of `current` and `outputs`, for the cheapest
    /// check.
    max: AtomicUsize,
}

impl LiveFilter {
    pub(crate) fn new(directives: Directives) -> Arc<LiveFilter> {
        LiveFilter::with_outputs(directives, Vec::new())
    }

    /// `directives` for the first output and every later one in `outputs`
    /// that is `None`; the others' own.
    pub(crate) fn with_outputs(
        directives: Directives,
        outputs: Vec<Option<Directives>>,
    ) -> Arc<LiveFilter> {
        let live = LiveFilter {
            max: AtomicUsize::new(0),
            current: ArcSwap::from_pointee(directives),
            outputs,
        };
        live.max
            .store(live.most_verbose(&live.current.load()), Ordering::Relaxed);
        Arc::new(live)
    }

    fn most_verbose(&self, main: &Directives) -> usize {
        self.outputs
            .iter()
            .flatten()
            .map(|d| d.max.as_usize())
            .fold(main.max.as_usize(), usize::max)
    }

    /// True if a record at `level` from `target` passes (for some output).
    #[inline]
    pub(crate) fn enabled(&self, level: Level, target: &str) -> bool {
        if !self.accepts_level(level) {
            return false;
        }
        let main = self.current.load().enabled(level, target);
        main || self
            .outputs
            .iter()
            .flatten()
            .any(|d| d.enabled(level, target))
    }

    /// The outputs a record at `level` from `target` goes to: bit `i` for
    /// output `i`. Every bit with one output.
    #[inline]
    pub(crate) fn mask(&self, level: Level, target: &str) -> u64 {
        if self.outputs.is_empty() {
            return u64::MAX;
        }
        let main = self.current.load().enabled(level, target);
        let mut mask = u64::from(main);
        for (i, own) in self.outputs.iter().enumerate() {
            let takes = own.as_ref().map_or(main, |d| d.enabled(level, target));
            mask |= u64::from(takes) << (i + 1);
        }
        mask
    }

    /// True if some target's records at `level` pass.
    #[inline]
    pub(crate) fn accepts_level(&self, level: Level) -> bool {
        level.as_usize() <= self.max.load(Ordering::Relaxed)
    }

    /// The most verbose level any directive in force enables.
    pub(crate) fn max_level(&self) -> FilterLevel {
        FilterLevel::from_usize(self.max.load(Ordering::Relaxed)).unwrap_or(FilterLevel::Trace)
    }

    /// The directives in force.
    pub(crate) fn current(&self) -> Arc<Directives> {
        self.current.load_full()
    }

    /// Puts `new` in force; returns the directives it replaced.
    pub(crate) fn replace(&self, new: Directives) -> Arc<Directives> {
        let max = self.most_verbose(&new);
        let old = self.current.swap(Arc::new(new));
        self.max.store(max, Ordering::Relaxed);
        old
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

/// A drain that passes the records [`Directives`] enable and drops the rest.
///
/// `is_enabled` answers from the most verbose directive before asking the
/// inner drain, so disabled levels cost one comparison; `flush` is forwarded.
#[derive(Debug, Clone)]
pub struct LevelFilter<D> {
    drain: D,
    filter: Arc<LiveFilter>,
}

impl<D> LevelFilter<D> {
    /// Filters `drain` by `directives`.
    pub fn new(drain: D, directives: Directives) -> Self {
        LevelFilter::live(drain, LiveFilter::new(directives))
    }

    /// Filters `drain` by the directives in force in `filter`.
    pub(crate) fn live(drain: D, filter: Arc<LiveFilter>) -> Self {
        LevelFilter { drain, filter }
    }
}

impl<D: Drain> Drain for LevelFilter<D> {
    type Ok = Option<D::Ok>;
    type Err = D::Err;

    fn log(&self, record: &Record<'_>, values: &OwnedKVList) -> Result<Self::Ok, D::Err> {
        if self.filter.enabled(record.level(), target(record)) {
            self.drain.log(record, values).map(Some)
        } else {
            Ok(None)
        }
    }

    #[inline]
    fn is_enabled(&self, level: Level) -> bool {
        self.filter.accepts_level(level) && self.drain.is_enabled(level)
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
    fn misspelled_levels_and_unapplied_syntax_are_errors_with_a_reason() {
        for (spec, why) in [
            ("inof", "did you mean \"info\"?"),
            ("wran", "did you mean \"warn\"?"),
            ("infoo", "did you mean \"info\"?"),
            ("debgu", "did you mean \"debug\"?"),
            ("0", "did you mean a level name"),
            ("warn,my_app,errro", "did you mean \"error\"?"),
            ("TRCAE", "did you mean \"trace\"?"),
            ("wraning", "did you mean \"warning\"?"),
            ("eror", "did you mean \"error\"?"),
            ("debig", "did you mean \"debug\"?"),
            ("info;tower_http=debug", "not `;`"),
            ("info,[http_request]=debug", "span directive"),
            ("info,[{id=7}]", "span directive"),
            ("info,my app=debug", "a target with ' '"),
            ("info,=debug", "an empty target"),
            ("info/abc", "not supported"),
            ("foo=loud", "an unknown level"),
            ("a=b=c", "an unknown level"),
        ] {
            let e = Directives::parse_setting("RUST_LOG", spec).unwrap_err();
            let text = e.to_string();
            assert!(
                text.starts_with(&format!("invalid RUST_LOG={spec:?}")),
                "{text}"
            );
            assert!(text.contains(why), "{spec}: {text}");
        }
        // A target named like a misspelled level, written as a target.
        assert!(d("inof=trace").enabled(Level::Trace, "inof"));
    }

    #[test]
    fn ordinary_directives_parse() {
        for spec in [
            "",
            "info",
            "Info,hyper=warn",
            "my_app",
            "tokio",
            "hyper",
            "axum::rejection=trace",
            "mio",
            "tracing",
            "warp",
            "rand",
            "log",
            "sqlx=debug",
            "inof=info",
            "h2",
            "into",
            "tower-http=debug",
            "info,",
        ] {
            assert!(
                Directives::parse_setting("RUST_LOG", spec).is_ok(),
                "{spec}"
            );
        }
    }

    #[test]
    fn edit_distance_counts_transpositions_once() {
        assert_eq!(edit_distance("inof", "info"), 1);
        assert_eq!(edit_distance("debgu", "debug"), 1);
        assert_eq!(edit_distance("", "off"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn an_invalid_filter_file_is_never_echoed() {
        let secret = "info,db_password=hunter2,api_key=abc/def";
        let e = Directives::parse_file("LOG_FILTER_FILE", "/etc/app/filter", secret).unwrap_err();
        let text = e.to_string();
        assert_eq!(e.setting(), Some("LOG_FILTER_FILE"));
        assert_eq!(e.value(), Some("/etc/app/filter"));
        for leaked in ["hunter2", "db_password", "abc", "def"] {
            assert!(!text.contains(leaked), "{leaked} in {text}");
        }
        assert!(text.contains("directive 2 (bytes 5..24)"), "{text}");
        assert!(text.contains("unknown level"), "{text}");
        assert!(text.contains("40 bytes, not shown"), "{text}");
        // The control: the same content through the RUST_LOG parser is echoed.
        let shown = Directives::parse_setting("RUST_LOG", secret).unwrap_err();
        assert!(shown.to_string().contains("hunter2"), "{shown}");
        // Environment-like content (NUL separators, `=`): not echoed either.
        let environ = "HOME=/root\0OTEL_EXPORTER_OTLP_HEADERS=api-key=k3y\0";
        let e =
            Directives::parse_file("LOG_FILTER_FILE", "/proc/self/environ", environ).unwrap_err();
        assert!(!e.to_string().contains("k3y"), "{e}");
        // Valid content parses as RUST_LOG would.
        let ok = Directives::parse_file("LOG_FILTER_FILE", "/f", "warn,app=debug").unwrap();
        assert_eq!(ok.as_str(), "warn,app=debug");
    }
}
