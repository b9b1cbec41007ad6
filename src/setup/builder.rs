//! [`Builder`], [`init`](crate::init) and [`LogGuard`]: the whole pipeline in
//! one call.

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use slog::{info, o, Drain, Logger};

use crate::caller::bridges::log::{claim_log_logger, install_pipeline, LogBridge};
use crate::caller::filter::{Directives, LevelFilter, LiveFilter};
use crate::caller::filter_change::{FilterControl, FilterFile};
use crate::caller::flood::{FloodConfig, FloodGuard, FloodStats};
use crate::caller::sender::Sender;
use crate::error::Error;
use crate::format::Format;
use crate::format::{DEFAULT_MAX_RECORD_BYTES, MAX_RECORD_CAP, MIN_RECORD_CAP};
use crate::host::cache::CacheRef;
use crate::host::detect::{env_var, SystemProbe};
use crate::host::refresher::{
    RefreshConfig, Refresher, DEFAULT_REFRESH_INTERVAL, MAX_REFRESH_INTERVAL,
};
use crate::host::schema::Schema;
use crate::host::{HostCache, HostInfo};
use crate::outputs::file::{
    FileConfig, MAX_FILE_KEEP, MAX_FILE_MAX_AGE, MAX_FILE_MAX_SIZE, MAX_ROTATE_EVERY,
    MIN_ROTATE_EVERY,
};
use crate::outputs::Output;
use crate::record::queue::Overflow;
use crate::record::queue::Queue;
use crate::settings::{parse_bool, parse_count, parse_duration, parse_size};
use crate::writer::batch::FormatSpec;
use crate::writer::output_set::MAX_OUTPUTS;
use crate::writer::thread::Writer;

/// Default capacity of the queue between the logging threads and the writer
/// thread, in records.
pub const DEFAULT_CHANNEL_SIZE: usize = 8192;
/// Default bound of the queue in bytes (what the queued records hold).
pub const DEFAULT_QUEUE_BYTES: usize = 16 << 20;
/// The largest queue: [`channel_size`](Builder::channel_size) and
/// [`queue_bytes`](Builder::queue_bytes) beyond these are errors.
pub const MAX_CHANNEL_SIZE: usize = 1 << 20;
/// The largest byte bound of the queue (1 GiB).
pub const MAX_QUEUE_BYTES: usize = 1 << 30;
/// Default overflow policy: callers wait, nothing is lost.
pub const DEFAULT_OVERFLOW: Overflow = Overflow::Block;

/// Configures and starts the logging pipeline.
///
/// ```text
/// record -> level filter -> flood guard -> queue -> [writer thread] format (JSON: host fields
///   pre-encoded per snapshot; term: a banner, or Enrich per record) -> output
/// ```
///
/// | setting | default | environment ([`from_env`](Self::from_env)) |
/// |---|---|---|
/// | [`filter`](Self::filter) | [`DEFAULT_FILTER`](crate::drain::DEFAULT_FILTER) (`info`) | `RUST_LOG` (a bare word that looks like a misspelled level, `inof`, is a target as in env_logger, with one warning on stderr) |
/// | [`format`](Self::format) | `Json` if the output is not a terminal, else `Full` | `LOG_FORMAT` (`json`, `full`, `compact`) |
/// | colors (term formats) | on a terminal only | `NO_COLOR` (any non-empty value: never) |
/// | [`output`](Self::output) | `Output::Stdout` | `LOG_FILE` (with `LOG_FILE_MAX_SIZE` up to [`MAX_FILE_MAX_SIZE`](crate::file::MAX_FILE_MAX_SIZE), `LOG_FILE_KEEP` up to [`MAX_FILE_KEEP`](crate::file::MAX_FILE_KEEP): see [`FileConfig`]; these two also apply to a file output set in code) |
/// | [`refresh_interval`](Self::refresh_interval) | [`DEFAULT_REFRESH_INTERVAL`] (30 s), at most [`MAX_REFRESH_INTERVAL`] (24 h) | `LOG_HOST_REFRESH` (`30s`, `250ms`, `5m`, `1h`) |
/// | [`service`](Self::service) | the executable name, no version | `OTEL_SERVICE_NAME`; `service.name`, `service.version` in `OTEL_RESOURCE_ATTRIBUTES` |
/// | [`field`](Self::field) | none | `OTEL_RESOURCE_ATTRIBUTES` (the same key) |
/// | host detection | see [`SystemProbe`] | `POD_IP`, `POD_NAME`, `POD_NAMESPACE`, `NODE_NAME` (and `MY_` aliases) |
/// | [`channel_size`](Self::channel_size) | [`DEFAULT_CHANNEL_SIZE`] (8,192 records), at most [`MAX_CHANNEL_SIZE`] | |
/// | [`queue_bytes`](Self::queue_bytes) | [`DEFAULT_QUEUE_BYTES`] (16 MiB), at most [`MAX_QUEUE_BYTES`] | |
/// | [`overflow`](Self::overflow) | [`DEFAULT_OVERFLOW`] (`Block`: no loss) | |
/// | [`global`](Self::global) | `true`: global slog-scope logger and `log` bridge | |
/// | [`schema`](Self::schema) | [`Schema::Otel`] | `LOG_SCHEMA` (`otel`, `ecs`) |
/// | [`source_location`](Self::source_location) | off | `LOG_SOURCE` (`1`, `true`, `yes`, `on`, `0`, `false`, `no`, `off`) |
/// | [`flood`](Self::flood) | per call site and second: 100 records at WARN and above, 10,000 at INFO and below ([`FloodConfig`]) | `LOG_FLOOD` (`100/1s`, `100/1s,info=10000`, `off`) |
/// | [`panic_hook`](Self::panic_hook) | `true` (global `init` only): a panic is a `FATAL` record, written before the hook returns | |
/// | [`host_fields_per_record`](Self::host_fields_per_record) | `false`: term formats write the host fields in a banner (JSON always per record) | |
///
/// With [`from_env`](Self::from_env), what the code sets is only the default:
/// for every setting in the table, a set environment variable wins (so
/// `Builder::from_env()?.service("my-svc", "1.0").filter("info")?` run with
/// `OTEL_SERVICE_NAME=orders RUST_LOG=debug` logs `service.name` `orders` at
/// debug). [`new`](Self::new) never reads the environment.
///
/// Every value is trimmed, a blank one counts as unset, and every invalid
/// value, including one past its documented maximum, is an [`Error`] naming
/// the setting and the value.
pub struct Builder {
    probe: SystemProbe,
    filter: Directives,
    format: Option<Format>,
    no_color: bool,
    output: Output,
    refresh: Duration,
    channel_size: usize,
    queue_bytes: usize,
    source_location: bool,
    host_fields_per_record: bool,
    #[cfg(feature = "tracing")]
    tracing: bool,
    overflow: Overflow,
    global: bool,
    flood: Option<FloodConfig>,
    schema: Schema,
    panic_hook: bool,
    /// Where a file output's path came from, for errors.
    output_setting: &'static str,
    /// `LOG_FILTER_FILE`, read at `init` and watched by the writer thread.
    filter_file: Option<PathBuf>,
    max_record_bytes: usize,
    /// More outputs ([`tee`](Self::tee)): each with its format and its own
    /// directives (`None`: the pipeline's, which `set_filter` changes).
    tees: Vec<Tee>,
    /// What the environment set ([`from_env`](Self::from_env) only); applied
    /// over the code's values when [`init`](Self::init) starts.
    env: Option<EnvOverrides>,
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("filter", &self.filter)
            .field("format", &self.format)
            .field("no_color", &self.no_color)
            .field("output", &self.output)
            .field("refresh", &self.refresh)
            .field("channel_size", &self.channel_size)
            .field("overflow", &self.overflow)
            .field("global", &self.global)
            .field("flood", &self.flood)
            .finish_non_exhaustive()
    }
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

/// What the environment set, read and checked by [`Builder::from_env`] and
/// applied by [`Builder::init`] over what the code set: the code gives
/// defaults, a set variable wins. (Host fields from the environment live in
/// the builder's [`SystemProbe`], which knows which fields they are.)
#[derive(Debug, Default)]
struct EnvOverrides {
    filter: Option<Directives>,
    format: Option<Format>,
    no_color: bool,
    refresh: Option<Duration>,
    schema: Option<Schema>,
    /// `Some(None)`: `LOG_FLOOD=off`.
    flood: Option<Option<FloodConfig>>,
    file: Option<PathBuf>,
    /// The value and the variable's text, for an error at `init`.
    file_max_size: Option<(u64, String)>,
    file_keep: Option<(u64, String)>,
    file_rotate_every: Option<(Duration, String)>,
    file_max_age: Option<(Duration, String)>,
    source: Option<bool>,
    filter_file: Option<PathBuf>,
    max_record_bytes: Option<usize>,
    /// `LOG_STDOUT`, with the variable's text.
    stdout: Option<(bool, String)>,
    file_format: Option<(Format, String)>,
    file_filter: Option<(Directives, String)>,
    /// `OTEL_LOGS_EXPORTER=otlp`: the exporter's settings.
    #[cfg(feature = "otlp")]
    otlp: Option<crate::otlp::OtlpConfig>,
}

impl EnvOverrides {
    fn read() -> Result<EnvOverrides, Error> {
        let mut env = EnvOverrides::default();
        if let Some(spec) = env_var("RUST_LOG")? {
            let filter = Directives::parse_setting("RUST_LOG", &spec)?;
            filter.report_warnings("RUST_LOG");
            env.filter = Some(filter);
        }
        if let Some(f) = env_var("LOG_FORMAT")? {
            env.format = Some(Format::parse("LOG_FORMAT", &f)?);
        }
        env.no_color = env_var("NO_COLOR")?.is_some();
        if let Some(v) = env_var("LOG_SOURCE")? {
            env.source = Some(parse_bool("LOG_SOURCE", &v)?);
        }
        if let Some(d) = env_var("LOG_HOST_REFRESH")? {
            env.refresh = Some(parse_duration(
                "LOG_HOST_REFRESH",
                &d,
                MAX_REFRESH_INTERVAL,
            )?);
        }
        if let Some(s) = env_var("LOG_SCHEMA")? {
            env.schema = Some(Schema::parse_setting("LOG_SCHEMA", &s)?);
        }
        if let Some(f) = env_var("LOG_FLOOD")? {
            env.flood = Some(FloodConfig::parse_setting("LOG_FLOOD", &f)?);
        }
        env.file = env_var("LOG_FILE")?.map(PathBuf::from);
        env.filter_file = env_var("LOG_FILTER_FILE")?.map(PathBuf::from);
        if let Some(v) = env_var("LOG_MAX_RECORD_BYTES")? {
            let n = parse_size("LOG_MAX_RECORD_BYTES", &v, MAX_RECORD_CAP as u64)?;
            if n < MIN_RECORD_CAP as u64 {
                return Err(Error::invalid(
                    "LOG_MAX_RECORD_BYTES",
                    v,
                    format!("too small: at least {MIN_RECORD_CAP} bytes"),
                ));
            }
            // At most MAX_RECORD_CAP: fits.
            env.max_record_bytes = Some(n as usize);
        }
        if let Some(v) = env_var("LOG_STDOUT")? {
            env.stdout = Some((parse_bool("LOG_STDOUT", &v)?, v));
        }
        if let Some(v) = env_var("LOG_FILE_FORMAT")? {
            env.file_format = Some((Format::parse("LOG_FILE_FORMAT", &v)?, v));
        }
        if let Some(v) = env_var("LOG_FILE_FILTER")? {
            let filter = Directives::parse_setting("LOG_FILE_FILTER", &v)?;
            filter.report_warnings("LOG_FILE_FILTER");
            env.file_filter = Some((filter, v));
        }
        if let Some(v) = env_var("LOG_FILE_MAX_SIZE")? {
            env.file_max_size = Some((parse_size("LOG_FILE_MAX_SIZE", &v, MAX_FILE_MAX_SIZE)?, v));
        }
        if let Some(v) = env_var("LOG_FILE_ROTATE_EVERY")? {
            let every = parse_duration("LOG_FILE_ROTATE_EVERY", &v, MAX_ROTATE_EVERY)?;
            if every < MIN_ROTATE_EVERY || every.subsec_nanos() != 0 {
                return Err(Error::invalid(
                    "LOG_FILE_ROTATE_EVERY",
                    v,
                    "must be whole seconds, at least 1s",
                ));
            }
            env.file_rotate_every = Some((every, v));
        }
        if let Some(v) = env_var("LOG_FILE_MAX_AGE")? {
            env.file_max_age = Some((parse_duration("LOG_FILE_MAX_AGE", &v, MAX_FILE_MAX_AGE)?, v));
        }
        if let Some(v) = env_var("LOG_FILE_KEEP")? {
            let n = parse_count("LOG_FILE_KEEP", &v, "files", MAX_FILE_KEEP as u64)?;
            env.file_keep = Some((n, v));
        }
        if let Some(v) = env_var("OTEL_LOGS_EXPORTER")? {
            match v.as_str() {
                "none" => {}
                #[cfg(feature = "otlp")]
                "otlp" => env.otlp = Some(crate::otlp::OtlpConfig::from_env()?),
                #[cfg(not(feature = "otlp"))]
                "otlp" => {
                    return Err(Error::invalid(
                        "OTEL_LOGS_EXPORTER",
                        v,
                        "export over OTLP needs slog-host's cargo feature `otlp`",
                    ))
                }
                _ => {
                    return Err(Error::invalid(
                        "OTEL_LOGS_EXPORTER",
                        v,
                        "expected otlp or none (the line outputs are set with LOG_FORMAT, \
                         LOG_FILE and LOG_STDOUT)",
                    ))
                }
            }
        }
        Ok(env)
    }
}

impl Builder {
    /// The defaults; the environment is not read (host detection included:
    /// no pod variables, no `OTEL_SERVICE_NAME`).
    pub fn new() -> Builder {
        Builder {
            probe: SystemProbe::from_lookup(|_| Ok(None)).expect("no variables, nothing invalid"),
            filter: Directives::default(),
            format: None,
            no_color: false,
            output: Output::Stdout,
            refresh: DEFAULT_REFRESH_INTERVAL,
            channel_size: DEFAULT_CHANNEL_SIZE,
            queue_bytes: DEFAULT_QUEUE_BYTES,
            source_location: false,
            host_fields_per_record: false,
            #[cfg(feature = "tracing")]
            tracing: true,
            overflow: DEFAULT_OVERFLOW,
            global: true,
            flood: Some(FloodConfig::default()),
            schema: Schema::Otel,
            panic_hook: true,
            output_setting: "output file",
            filter_file: None,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            tees: Vec::new(),
            env: None,
        }
    }

    /// The defaults, overridden by the environment variables in the table
    /// above; what the code then sets is a default that a set variable still
    /// overrides. The environment is read and checked here: the first
    /// invalid value is returned as an error.
    pub fn from_env() -> Result<Builder, Error> {
        let mut b = Builder::new();
        b.probe = SystemProbe::from_env()?;
        b.env = Some(EnvOverrides::read()?);
        Ok(b)
    }

    /// Applies what the environment set over what the code set (a
    /// `from_env` builder only). A file setting without a file output is an
    /// error here, where the output is known.
    fn with_env_overrides(mut self) -> Result<Self, Error> {
        let Some(mut env) = self.env.take() else {
            return Ok(self);
        };
        if let Some(filter) = env.filter {
            self.filter = filter;
        }
        if let Some(format) = env.format {
            self.format = Some(format);
        }
        self.no_color |= env.no_color;
        if let Some(on) = env.source {
            self.source_location = on;
        }
        if let Some(every) = env.refresh {
            self.refresh = every;
        }
        if let Some(schema) = env.schema {
            self.schema = schema;
        }
        if let Some(flood) = env.flood {
            self.flood = flood;
        }
        self.filter_file = env.filter_file;
        if let Some(n) = env.max_record_bytes {
            self.max_record_bytes = n;
        }
        let stdout_on = env.stdout.as_ref().map(|(on, _)| *on);
        // OTLP export beside the line outputs; with LOG_STDOUT=off and
        // no other output, instead of stdout.
        #[cfg(feature = "otlp")]
        if let Some(config) = env.otlp.take() {
            // The code's own OTLP output, if it has one, takes the
            // variables' settings (a set variable wins): one exporter, not
            // two exporting every record twice.
            let only = stdout_on == Some(false)
                && env.file.is_none()
                && matches!(self.output, Output::Stdout);
            let code_otlp = std::iter::once(&mut self.output)
                .chain(self.tees.iter_mut().map(|t| &mut t.output))
                .find_map(|o| match o {
                    Output::Otlp(c) => Some(c),
                    _ => None,
                });
            if let Some(c) = code_otlp {
                *c = config;
            } else if only {
                self.output = Output::Otlp(config);
                self.output_setting = "OTEL_LOGS_EXPORTER";
                env.stdout = None;
            } else {
                self.tees.push(Tee {
                    output: Output::Otlp(config),
                    format: Format::Json,
                    filter: None,
                    setting: "OTEL_LOGS_EXPORTER",
                });
            }
        }
        if let Some(path) = env.file {
            // The path wins; the code's other file settings stay defaults.
            let (config, other) = match std::mem::replace(&mut self.output, Output::Stdout) {
                Output::File(mut config) => {
                    config.path = path;
                    (config, None)
                }
                other => (FileConfig::new(path), Some(other)),
            };
            if stdout_on == Some(true) {
                // Beside stdout (or the code's other output): a tee of its
                // own, JSON unless LOG_FILE_FORMAT says otherwise, filtered
                // by LOG_FILE_FILTER or else the pipeline's directives.
                self.output = other.unwrap_or(Output::Stdout);
                self.tees.push(Tee {
                    output: Output::File(config),
                    format: env.file_format.take().map_or(Format::Json, |(f, _)| f),
                    filter: env.file_filter.take().map(|(d, _)| d),
                    setting: "LOG_FILE",
                });
            } else {
                self.output = Output::File(config);
                self.output_setting = "LOG_FILE";
            }
        } else if let Some((false, text)) = env.stdout.take() {
            if matches!(self.output, Output::Stdout) {
                return Err(Error::invalid(
                    "LOG_STDOUT",
                    text,
                    "turns standard output off, and there is no other output (set LOG_FILE)",
                ));
            }
        }
        // The file's own format and directives, where the file is the only
        // (first) output.
        if let Some((format, text)) = env.file_format.take() {
            if !matches!(self.output, Output::File(_)) {
                return Err(Error::invalid(
                    "LOG_FILE_FORMAT",
                    text,
                    "set without LOG_FILE, and the builder's output is not a file",
                ));
            }
            self.format = Some(format);
        }
        if let Some((filter, text)) = env.file_filter.take() {
            if !matches!(self.output, Output::File(_)) {
                return Err(Error::invalid(
                    "LOG_FILE_FILTER",
                    text,
                    "set without LOG_FILE, and the builder's output is not a file",
                ));
            }
            self.filter = filter;
        }
        if let Some((n, text)) = env.file_max_size {
            self.env_file("LOG_FILE_MAX_SIZE", text)?.max_size = n;
        }
        if let Some((n, text)) = env.file_keep {
            // At most MAX_FILE_KEEP: fits.
            self.env_file("LOG_FILE_KEEP", text)?.keep = n as usize;
        }
        if let Some((d, text)) = env.file_rotate_every {
            self.env_file("LOG_FILE_ROTATE_EVERY", text)?.rotate_every = Some(d);
        }
        if let Some((d, text)) = env.file_max_age {
            self.env_file("LOG_FILE_MAX_AGE", text)?.max_age = Some(d);
        }
        Ok(self)
    }

    /// The file the `LOG_FILE_*` variable `var` (set to `text`)
    /// configures: the first output, or the tee `LOG_FILE` added; an error
    /// naming the variable if there is none.
    fn env_file(&mut self, var: &str, text: String) -> Result<&mut FileConfig, Error> {
        if let Output::File(config) = &mut self.output {
            return Ok(config);
        }
        self.tees
            .iter_mut()
            .rev()
            .find_map(|t| match (&mut t.output, t.setting) {
                (Output::File(config), "LOG_FILE") => Some(config),
                _ => None,
            })
            .ok_or_else(|| {
                Error::invalid(
                    var,
                    text,
                    "set without LOG_FILE, and the builder's output is not a file",
                )
            })
    }

    /// Sets `service.name` and `service.version`. With
    /// [`from_env`](Self::from_env), `OTEL_SERVICE_NAME` and the same keys in
    /// `OTEL_RESOURCE_ATTRIBUTES` win.
    pub fn service(mut self, name: impl Into<String>, version: impl Into<String>) -> Self {
        self.probe = self.probe.service_default(name, version);
        self
    }

    /// Sets the record format.
    pub fn format(mut self, f: Format) -> Self {
        self.format = Some(f);
        self
    }

    /// Sets the level directives (`RUST_LOG` syntax, see [`Directives`]);
    /// with [`from_env`](Self::from_env), `RUST_LOG` wins.
    pub fn filter(mut self, directives: &str) -> Result<Self, Error> {
        self.filter = Directives::parse_setting("filter", directives)?;
        self.filter.report_warnings("filter");
        Ok(self)
    }

    /// Sets the output.
    pub fn output(mut self, o: Output) -> Self {
        self.output = o;
        self.output_setting = "output file";
        self
    }

    /// Adds an output beside the one [`output`](Self::output) sets, with its
    /// own format and its own directives (`RUST_LOG` syntax); any number up
    /// to 63 more. Each record is captured once on the calling thread,
    /// whatever the number of outputs (the caller keeps what the most
    /// verbose output wants), and the writer thread writes each output in
    /// batches of its own: a failing output counts its own errors and never
    /// costs another output a record (a blocked one delays the others: one
    /// writer thread writes them in turn). The host fields, the schema and the
    /// flood guard are shared; each term output shows its own banner.
    ///
    /// ```no_run
    /// use slog_host::{Builder, FileConfig, Format, Output};
    ///
    /// # fn main() -> Result<(), slog_host::Error> {
    /// // Humans read the terminal at info; the file keeps debug, as JSON.
    /// let guard = Builder::new()
    ///     .format(Format::Full)
    ///     .filter("info")?
    ///     .tee(Output::File(FileConfig::new("/var/log/app.log")), Format::Json, "debug")?
    ///     .init()?;
    /// # Ok(()) }
    /// ```
    ///
    /// [`LogGuard::set_filter`] changes the directives of the outputs that
    /// have none of their own (the first one's); a tee keeps its own. An
    /// invalid string is an [`Error`] naming it.
    pub fn tee(mut self, output: Output, format: Format, directives: &str) -> Result<Self, Error> {
        let filter = Directives::parse_setting("tee filter", directives)?;
        filter.report_warnings("tee filter");
        self.tees.push(Tee {
            output,
            format,
            filter: Some(filter),
            setting: "tee output file",
        });
        Ok(self)
    }

    /// Sets the longest record written, in bytes (its line, `\n` included),
    /// from [`MIN_RECORD_CAP`](crate::format::MIN_RECORD_CAP) (1 KiB) to
    /// [`MAX_RECORD_CAP`](crate::format::MAX_RECORD_CAP) (16 MiB); default
    /// [`DEFAULT_MAX_RECORD_BYTES`](crate::format::DEFAULT_MAX_RECORD_BYTES)
    /// (32 KiB); `LOG_MAX_RECORD_BYTES` (`32K`, `1M`). Collectors drop or
    /// split longer lines (Vector's file source skips lines over 100 KiB,
    /// containerd splits at 16 KiB).
    ///
    /// A longer record is formatted again with its longest string fields
    /// cut (each to the one length that makes the line fit, at a character
    /// boundary, escapes whole), then its message, then without its logger's
    /// fields; its time, level, target and host fields are never cut. It
    /// stays one valid JSON object (or one term line) and carries
    /// `log.truncated_bytes` with the bytes removed;
    /// [`LogGuard::truncated`] counts such records. Colored terminal output
    /// is written as slog-term formats it and is not cut.
    pub fn max_record_bytes(mut self, bytes: usize) -> Self {
        self.max_record_bytes = bytes;
        self
    }

    /// Sets how often host metadata is re-detected. A zero interval, or one
    /// above [`MAX_REFRESH_INTERVAL`] (24 h), makes [`init`](Self::init) fail.
    pub fn refresh_interval(mut self, every: Duration) -> Self {
        self.refresh = every;
        self
    }

    /// Adds a static field to every record. With
    /// [`from_env`](Self::from_env), a field of the same key from the
    /// environment (`OTEL_RESOURCE_ATTRIBUTES`, the pod variables) wins.
    pub fn field(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.probe = self.probe.field_default(key, value);
        self
    }

    /// Turns colors off in the term formats (as `NO_COLOR` does).
    pub fn no_color(mut self) -> Self {
        self.no_color = true;
        self
    }

    /// Sets the queue's capacity in records (1 to [`MAX_CHANNEL_SIZE`]).
    pub fn channel_size(mut self, records: usize) -> Self {
        self.channel_size = records;
        self
    }

    /// Sets the queue's bound in bytes: what the queued records hold, their
    /// strings included (1 KiB to [`MAX_QUEUE_BYTES`]). A record larger than
    /// the bound is still accepted when the queue is empty.
    pub fn queue_bytes(mut self, bytes: usize) -> Self {
        self.queue_bytes = bytes;
        self
    }

    /// With `true` (the default), a global [`init`](Self::init) also
    /// installs a `tracing` subscriber (a `Registry` with this crate's
    /// layer) as the global default, so `tracing` events become records of
    /// this pipeline, with the fields of their spans. `init` fails, naming
    /// the conflict, if another global subscriber is already set.
    ///
    /// With `false`, nothing global is installed for `tracing`, and neither
    /// is a `log` logger: the service builds its own registry with
    /// [`LogGuard::tracing_layer`] beside its other layers, and its
    /// subscriber's `init` (tracing-subscriber's default `tracing-log`
    /// feature) installs `LogTracer`, through which `log` records reach the
    /// layer. Cargo feature `tracing` (on by default).
    #[cfg(feature = "tracing")]
    pub fn tracing(mut self, install: bool) -> Self {
        self.tracing = install;
        self
    }

    /// With `true`, every record carries its source file and line
    /// (`code.file.path`, `code.line.number`; ECS `log.origin.file.name`,
    /// `log.origin.file.line`) in the JSON format.
    pub fn source_location(mut self, on: bool) -> Self {
        self.source_location = on;
        self
    }

    /// In the term formats ([`Format::Full`], [`Format::Compact`]), with
    /// `false` (the default) the host fields are written once, in a banner
    /// record (`... INFO host fields, host.name: web-1, host.ip: 10.0.0.7,
    /// process.pid: 4242, ...`) before the first record and again before
    /// the first record after they changed; with `true` every record carries
    /// them. JSON lines always carry them, whatever this says. Either way a
    /// field of the application named like a host key of the schema
    /// ([`Schema::host_keys`]) or an extra host field is written as
    /// `fields.<name>` ([`docs::security`](crate::docs::security)).
    pub fn host_fields_per_record(mut self, on: bool) -> Self {
        self.host_fields_per_record = on;
        self
    }

    /// Sets the overflow policy.
    pub fn overflow(mut self, policy: Overflow) -> Self {
        self.overflow = policy;
        self
    }

    /// Names fields and record keys as `schema` says ([`Schema`]).
    pub fn schema(mut self, schema: Schema) -> Self {
        self.schema = schema;
        self
    }

    /// Sets the flood guard's budget, or turns it off with `None` (see
    /// [`FloodGuard`]).
    pub fn flood(mut self, config: Option<FloodConfig>) -> Self {
        self.flood = config;
        self
    }

    /// With `true` (the default), [`init`](Self::init) installs the logger
    /// as slog-scope's global logger, forwards the `log` crate's records to
    /// it (unless [`tracing(false)`](Self::tracing) leaves `log` to the
    /// service's `tracing` subscriber), and uses [`HostCache::global`]; only one such `init` may run in a
    /// process. With `false` the pipeline is private: it has its own host
    /// cache, and any number can run.
    pub fn global(mut self, install: bool) -> Self {
        self.global = install;
        self
    }

    /// With `true` (the default), a global [`init`](Self::init) installs a
    /// panic hook, in front of the one installed before (which still runs):
    /// a panic becomes one record at the highest level (`FATAL`, target
    /// `panic`) with the message, the location (`panic.file`, `panic.line`),
    /// the thread (`thread.name`) and, when `RUST_BACKTRACE` is set and not
    /// `0`, the backtrace (`exception.stacktrace`); and the hook returns only
    /// once that record and every earlier one are written, so
    /// `panic = "abort"` or a `process::exit` right after loses nothing. No
    /// level filter or flood guard applies to it. A private pipeline
    /// ([`global(false)`](Self::global)) never installs one ([`docs::pipeline`](crate::docs::pipeline)).
    pub fn panic_hook(mut self, install: bool) -> Self {
        self.panic_hook = install;
        self
    }

    /// Starts the pipeline: host detection, the refresher thread, the writer
    /// thread and, unless turned off, the global logger and the `log` bridge.
    pub fn init(self) -> Result<LogGuard, Error> {
        let this = self.with_env_overrides()?;
        if !(1..=MAX_CHANNEL_SIZE).contains(&this.channel_size) {
            return Err(Error::invalid(
                "channel size",
                this.channel_size.to_string(),
                format!("must be from 1 to {MAX_CHANNEL_SIZE} records"),
            ));
        }
        if !(1024..=MAX_QUEUE_BYTES).contains(&this.queue_bytes) {
            return Err(Error::invalid(
                "queue bytes",
                this.queue_bytes.to_string(),
                format!("must be from 1024 to {MAX_QUEUE_BYTES} bytes"),
            ));
        }
        if !(MIN_RECORD_CAP..=MAX_RECORD_CAP).contains(&this.max_record_bytes) {
            return Err(Error::invalid(
                "max record bytes",
                this.max_record_bytes.to_string(),
                format!("must be from {MIN_RECORD_CAP} to {MAX_RECORD_CAP} bytes"),
            ));
        }
        let refresh = RefreshConfig::every(this.refresh);
        refresh.validate()?;
        if this.global && GLOBAL_INIT.swap(true, Ordering::SeqCst) {
            return Err(Error::already_initialized());
        }
        let result = this
            .read_filter_file()
            .and_then(|(this, file)| this.start(refresh, file));
        if result.is_err() {
            GLOBAL_INIT.store(false, Ordering::SeqCst);
        }
        result
    }

    /// Reads `LOG_FILTER_FILE`, if set: its content replaces the filter
    /// (blank content keeps it).
    fn read_filter_file(mut self) -> Result<(Self, Option<FilterFile>), Error> {
        let Some(path) = self.filter_file.take() else {
            return Ok((self, None));
        };
        let (file, directives) = FilterFile::open(path, &self.filter)?;
        self.filter = directives;
        Ok((self, Some(file)))
    }

    fn start(
        self,
        refresh: RefreshConfig,
        filter_file: Option<FilterFile>,
    ) -> Result<LogGuard, Error> {
        if self.tees.len() + 1 > MAX_OUTPUTS {
            return Err(Error::invalid(
                "tee",
                (self.tees.len() + 1).to_string(),
                format!("at most {MAX_OUTPUTS} outputs"),
            ));
        }
        // Decided and opened before anything global changes: a file that
        // cannot be opened fails `init` with nothing touched.
        let output = self.output.open(self.output_setting)?;
        let terminal_output = output.is_terminal();
        let mut tees = Vec::with_capacity(self.tees.len());
        let mut tee_filters = Vec::with_capacity(self.tees.len());
        for tee in self.tees {
            let opened = tee.output.open(tee.setting)?;
            let color = !self.no_color && opened.is_terminal();
            tees.push((tee.format, color, opened));
            tee_filters.push(tee.filter);
        }
        let probe = self.probe.schema(self.schema);
        let cache: CacheRef = if self.global {
            HostCache::init_global(probe)?.into()
        } else {
            Arc::new(HostCache::new(probe)?).into()
        };
        let format = match self.format {
            Some(f) => f,
            None if terminal_output => Format::Full,
            None => Format::Json,
        };
        let recipe = FormatSpec {
            format,
            color: !self.no_color && terminal_output,
            schema: self.schema,
            source: self.source_location,
            cache: cache.clone(),
            host_fields_per_record: self.host_fields_per_record,
            max_record_bytes: self.max_record_bytes,
        };
        let mut outputs = vec![(recipe.clone(), output)];
        for (format, color, opened) in tees {
            let recipe = FormatSpec {
                format,
                color,
                ..recipe.clone()
            };
            outputs.push((recipe, opened));
        }
        let several = outputs.len() > 1;
        let queue = Arc::new(Queue::new(
            self.channel_size,
            self.queue_bytes,
            self.overflow,
        ));
        let writer = Writer::start(
            Arc::clone(&queue),
            outputs,
            crate::record::thread_role::WRITER_THREAD_NAME,
        )?;
        let directives = LiveFilter::with_outputs(self.filter.clone(), tee_filters);
        let mut sender = writer.sender();
        if several {
            sender.outputs = Some(Arc::clone(&directives));
        }
        let (root, flood) = match self.flood {
            Some(config) => {
                let guard = FloodGuard::new(sender.clone(), config).inspect_err(|_| {
                    writer.stop();
                })?;
                let stats = guard.stats();
                let drain = LevelFilter::live(guard, Arc::clone(&directives)).ignore_res();
                (Logger::root(drain, o!()), Some(stats))
            }
            None => {
                let drain = LevelFilter::live(sender.clone(), Arc::clone(&directives)).ignore_res();
                (Logger::root(drain, o!()), None)
            }
        };

        if self.global {
            // With `tracing(false)` the service's own subscriber takes `log`
            // (tracing-subscriber's `init` installs tracing-log's
            // `LogTracer`), and its records reach this pipeline through
            // `tracing_layer()`: each exactly once, and no `log` logger
            // conflict.
            #[cfg(feature = "tracing")]
            let bridge_log = self.tracing;
            #[cfg(not(feature = "tracing"))]
            let bridge_log = true;
            // First what can fail because another library holds it, before
            // anything is installed: the `log` logger (this crate's, which
            // writes nowhere until the pipeline is set), then the global
            // tracing subscriber.
            if bridge_log {
                if let Err(e) = claim_log_logger() {
                    writer.stop();
                    return Err(e);
                }
            }
            #[cfg(feature = "tracing")]
            if self.tracing {
                use tracing_subscriber::layer::SubscriberExt;
                let layer =
                    crate::caller::bridges::tracing::layer(root.clone(), Arc::clone(&directives));
                let subscriber = tracing_subscriber::registry().with(layer);
                if tracing_core::dispatcher::set_global_default(subscriber.into()).is_err() {
                    writer.stop();
                    return Err(Error::other(
                        "a global tracing subscriber is already set; use Builder::tracing(false) \
                         and add LogGuard::tracing_layer() to it, or remove the other one",
                    ));
                }
            }
            if bridge_log {
                install_pipeline(LogBridge {
                    logger: root.clone(),
                    directives: Arc::clone(&directives),
                });
            }
            // The global logger stays for the life of the process: records
            // logged after the guard is dropped are written synchronously.
            slog_scope::set_global_logger(root.clone()).cancel_reset();
        }

        // Filter changes: from the guard (`set_filter`) and, with
        // LOG_FILTER_FILE, from the writer thread, which looks at the file
        // once a second. Their notices pass whatever the filter says.
        let filter = Arc::new(FilterControl::new(
            Arc::clone(&directives),
            Logger::root(writer.sender(), o!()),
        ));
        if let Some(file) = filter_file {
            let mut file = file.watch(Arc::clone(&filter));
            writer.on_tick(Box::new(move || file.tick()));
        }
        let notice_log = root.clone();
        // A thread that cannot be started fails `init`; the writer stops.
        let refresher = Refresher::with_change_hook(cache.clone(), refresh, move |old, new| {
            change_notice(&notice_log, old, new)
        })
        .inspect_err(|_| {
            writer.stop();
        })?;
        if self.global && self.panic_hook {
            crate::caller::panic_hook::install(sender.clone(), self.schema);
        }
        Ok(LogGuard {
            logger: root,
            directives,
            filter,
            cache,
            sender,
            writer,
            flood,
            refresher: Some(refresher),
            global: self.global,
        })
    }
}

static GLOBAL_INIT: AtomicBool = AtomicBool::new(false);

/// One more output: where, its format, its own directives (`None`: the
/// pipeline's), and the setting it came from (for errors).
struct Tee {
    output: Output,
    format: Format,
    filter: Option<Directives>,
    setting: &'static str,
}

fn change_notice(log: &Logger, old: &HostInfo, new: &HostInfo) {
    let changes = old
        .changes(new)
        .into_iter()
        .map(|(k, o, n)| {
            format!(
                "{k}: {} -> {}",
                o.as_deref().unwrap_or("(none)"),
                n.as_deref().unwrap_or("(none)")
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    info!(log, "host metadata changed"; "changes" => changes);
}

/// The running pipeline. Keep it alive for the life of the service.
///
/// Dropping it stops the host refresher and the flood guard's timer (their
/// pending summaries are written), writes every record still queued, and
/// stops the writer thread. Logging keeps working afterwards: the global
/// logger, the `log` bridge and the panic hook stay installed, and records
/// logged after the drop (through them or a clone of
/// [`logger`](Self::logger)) are written synchronously, on the calling
/// thread, before `log` returns; the host metadata is no longer refreshed
/// and floods are no longer suppressed.
#[must_use = "dropping the guard stops the writer thread, the host refresher and the flood \
              guard: every later record is written synchronously on the calling thread, \
              with host metadata no longer refreshed; keep it until shutdown \
              (`let _guard = ...`)"]
pub struct LogGuard {
    logger: Logger,
    #[cfg_attr(not(feature = "tracing"), allow(dead_code))]
    directives: Arc<LiveFilter>,
    filter: Arc<FilterControl>,
    cache: CacheRef,
    sender: Sender,
    writer: Arc<Writer>,
    flood: Option<FloodStats>,
    refresher: Option<Refresher>,
    global: bool,
}

impl fmt::Debug for LogGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogGuard")
            .field("global", &self.global)
            .field("write_errors", &self.write_errors())
            .finish_non_exhaustive()
    }
}

impl LogGuard {
    /// The root logger.
    pub fn logger(&self) -> &Logger {
        &self.logger
    }

    /// A [`tracing_subscriber::Layer`] that feeds this pipeline, for a
    /// service that builds its own `tracing` subscriber (with
    /// [`Builder::tracing(false)`](Builder::tracing)) to run beside other
    /// layers: tracing-opentelemetry, console-subscriber, Sentry, a `fmt`
    /// layer.
    ///
    /// Its filter is this pipeline's directives, as a per-layer filter: the
    /// other layers keep their own filters and see every event those allow.
    /// Each event is written as the built-in subscriber writes it (typed
    /// fields, the fields of its spans, target, flood guard), and slog and
    /// `log` records logged inside a span it saw entered carry that span's
    /// fields too (with a `tracing_subscriber::Registry` as the span store).
    ///
    /// ```no_run
    /// use tracing_subscriber::layer::SubscriberExt;
    /// use tracing_subscriber::util::SubscriberInitExt;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let guard = slog_host::Builder::from_env()?.tracing(false).init()?;
    /// tracing_subscriber::registry()
    ///     .with(guard.tracing_layer())
    ///     // .with(tracing_opentelemetry::layer().with_tracer(tracer))
    ///     .try_init()?;
    /// tracing::info!(order_id = 7, "served");
    /// log::info!("and `log` records, through tracing-log's LogTracer");
    /// # Ok(()) }
    /// ```
    ///
    /// With `tracing(false)`, [`init`](Builder::init) leaves the `log` crate
    /// to the service's subscriber: tracing-subscriber's `init`/`try_init`
    /// (its default `tracing-log` feature) installs tracing-log's
    /// `LogTracer`, and `log` records reach this layer as events, each once.
    /// A service that installs its subscriber another way calls
    /// `tracing_log::LogTracer::init()` itself, or its `log` records are not
    /// written.
    #[cfg(feature = "tracing")]
    pub fn tracing_layer<S>(&self) -> crate::caller::bridges::tracing::TracingLayer<S>
    where
        S: tracing_core::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    {
        crate::caller::bridges::tracing::layer(self.logger.clone(), Arc::clone(&self.directives))
    }

    /// Replaces the level directives (`RUST_LOG` syntax) at once for slog,
    /// `log` and `tracing` records, and for every output without a filter of
    /// its own. A record logged before the call was judged by the old
    /// directives, one logged after by the new (tracing's per-call-site
    /// interest and `log`'s maximum level are brought up to date before it
    /// returns). Writes one INFO record, `log filter changed`, with `from`
    /// and `to`. An invalid string is an [`Error`] naming the value, and the
    /// directives in force stay.
    ///
    /// It cannot show what the compiler removed: slog's `trace!` (and
    /// `debug!` in release builds) are compiled out unless a `max_level_*`
    /// feature keeps them ([`docs::limits`](crate::docs::limits)).
    ///
    /// ```
    /// # fn main() -> Result<(), slog_host::Error> {
    /// let guard = slog_host::Builder::new().global(false).init()?;
    /// guard.set_filter("info,my_app::db=debug")?;      // for the incident
    /// assert_eq!(guard.filter(), "info,my_app::db=debug");
    /// assert!(guard.set_filter("info,db=loud").is_err()); // the old one stays
    /// guard.set_filter("info")?;
    /// # Ok(()) }
    /// ```
    pub fn set_filter(&self, directives: &str) -> Result<(), Error> {
        self.filter.set("filter", directives)
    }

    /// The level directives in force (as given to
    /// [`Builder::filter`], `RUST_LOG`, `LOG_FILTER_FILE` or
    /// [`set_filter`](Self::set_filter)).
    pub fn filter(&self) -> String {
        self.filter.current().as_str().to_owned()
    }

    /// The host cache the pipeline enriches from.
    pub fn cache(&self) -> &HostCache {
        &self.cache
    }

    /// Returns once every record logged before the call is written to the
    /// output (or counted as a write error), and the output is flushed: 0.
    /// The same as `guard.logger().flush()`.
    ///
    /// Bounded: if the writer takes no record for
    /// [`FLUSH_TIMEOUT`](crate::pipeline::FLUSH_TIMEOUT) (5 s) it returns
    /// the number of records not written yet (queued, or in a write that
    /// has not returned; records other threads logged meanwhile included).
    /// They stay queued: a later flush or the guard's drop tries again.
    pub fn flush(&self) -> u64 {
        if self.sender.flush() {
            0
        } else {
            (self.writer.unwritten() + self.writer.unexported()).max(1)
        }
    }

    /// Records the OTLP exporters delivered to the collector (feature
    /// `otlp`; [`docs::otlp`](crate::docs::otlp)).
    #[cfg(feature = "otlp")]
    #[cfg_attr(docsrs, doc(cfg(feature = "otlp")))]
    pub fn exported(&self) -> u64 {
        self.writer.export_counts().0
    }

    /// Records the OTLP exporters dropped: the export queue was full, the
    /// collector refused them (a status other than 429, 502, 503, 504), or
    /// the export timeout passed at shutdown. Each drop is also reported in
    /// the line outputs ([`EXPORT_DROPPED_MESSAGE`](crate::otlp::EXPORT_DROPPED_MESSAGE)).
    #[cfg(feature = "otlp")]
    #[cfg_attr(docsrs, doc(cfg(feature = "otlp")))]
    pub fn export_dropped(&self) -> u64 {
        self.writer.export_counts().1
    }

    /// Records written to the output so far (or counted as write errors),
    /// reports included.
    pub fn written(&self) -> u64 {
        self.writer.stats().written.load(Ordering::Acquire)
    }

    /// Records that could not be written because the output failed.
    pub fn write_errors(&self) -> u64 {
        self.writer.stats().errors.iter().map(|e| e.count()).sum()
    }

    /// True while the output is failing (from the first failed write to the
    /// next successful one).
    pub fn output_failing(&self) -> bool {
        self.writer.stats().errors.iter().any(|e| e.failing())
    }

    /// The most recent output error, if any.
    pub fn last_write_error(&self) -> Option<String> {
        // An output failing now first: its error is the one that matters.
        let errors = &self.writer.stats().errors;
        errors
            .iter()
            .filter(|e| e.failing())
            .chain(errors.iter())
            .find_map(|e| e.last())
    }

    /// Records the flood guard dropped (each is counted in a summary record).
    pub fn suppressed(&self) -> u64 {
        self.flood.as_ref().map_or(0, FloodStats::suppressed)
    }

    /// Records cut to [`Builder::max_record_bytes`] (once per output that
    /// cut them).
    pub fn truncated(&self) -> u64 {
        self.writer.stats().truncated.load(Ordering::Relaxed)
    }

    /// Records dropped because the queue was full (only with
    /// [`Overflow::DropAndReport`]); each drop is also reported in the output.
    pub fn dropped(&self) -> u64 {
        self.sender.queue.dropped()
    }
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        // Order matters: no new change notices, the flood summaries into the
        // queue, then drain the queue and stop the writer thread.
        drop(self.refresher.take());
        if let Some(flood) = &self.flood {
            flood.stop(); // writes the pending summaries
        }
        // This thread writes what is queued: a panic in a value's formatting
        // is not logged by the panic hook (the output is held here).
        let _busy = crate::record::thread_role::Busy::enter();
        self.writer.stop();
    }
}
