//! [`Builder`](crate::Builder): the settings of a pipeline, their defaults
//! and limits (on the thread that calls `init`). The environment is read in
//! `env`, laid over the code's settings in `overlay`, started in `start`.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use super::env::EnvOverrides;
use crate::caller::filter::Directives;
use crate::caller::flood::FloodConfig;
use crate::error::Error;
use crate::format::Format;
use crate::format::DEFAULT_MAX_RECORD_BYTES;
use crate::host::detect::SystemProbe;
use crate::host::refresher::DEFAULT_REFRESH_INTERVAL;
use crate::host::schema::Schema;
use crate::outputs::Output;
use crate::record::queue::Overflow;
use crate::writer::{DEFAULT_OUTPUT_BUFFER, DEFAULT_SHUTDOWN_TIMEOUT};

/// Default capacity of the queue between the logging threads and the writer
/// thread, in records.
pub const DEFAULT_CHANNEL_SIZE: usize = 8192;
/// Default bound of the queue in bytes (what the queued records hold).
pub const DEFAULT_QUEUE_BYTES: usize = 16 << 20;
/// The largest queue: [`channel_size`](crate::Builder::channel_size) and
/// [`queue_bytes`](crate::Builder::queue_bytes) beyond these are errors.
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
/// | [`filter`](Self::filter) | [`DEFAULT_FILTER`](crate::drain::DEFAULT_FILTER) (`info`) | `RUST_LOG`; `LOG_FILTER_FILE` (a file of directives, read again once a second). A typo (`inof`, `;`, a span directive) is an error ([`Directives`](crate::drain::Directives)) |
/// | [`format`](Self::format) | `Json` if the output is not a terminal, else `Full` | `LOG_FORMAT` (`json`, `full`, `compact`) |
/// | colors (term formats) | on a terminal only | `NO_COLOR` (any non-empty value: never) |
/// | [`output`](Self::output) | `Output::Stdout` | `LOG_FILE` (with `LOG_FILE_MAX_SIZE` up to [`MAX_FILE_MAX_SIZE`](crate::file::MAX_FILE_MAX_SIZE), `LOG_FILE_KEEP` up to [`MAX_FILE_KEEP`](crate::file::MAX_FILE_KEEP): see [`FileConfig`](crate::FileConfig); these two also apply to a file output set in code; `LOG_FILE_ROTATE_EVERY`, `LOG_FILE_MAX_AGE`, `LOG_FILE_FORMAT`, `LOG_FILE_FILTER`); `LOG_STDOUT` (`on`: stdout beside the file or OTLP); `OTEL_LOGS_EXPORTER`, `OTEL_EXPORTER_OTLP_*` ([`docs::otlp`](crate::docs::otlp)) |
/// | [`refresh_interval`](Self::refresh_interval) | [`DEFAULT_REFRESH_INTERVAL`] (30 s), at most [`MAX_REFRESH_INTERVAL`](crate::host::MAX_REFRESH_INTERVAL) (24 h) | `LOG_HOST_REFRESH` (`30s`, `250ms`, `5m`, `1h`) |
/// | [`service`](Self::service) | the executable name, no version | `OTEL_SERVICE_NAME`; `service.name`, `service.version` in `OTEL_RESOURCE_ATTRIBUTES` |
/// | [`field`](Self::field) | none | `OTEL_RESOURCE_ATTRIBUTES` (the same key) |
/// | host detection | see [`SystemProbe`] | `POD_IP`, `POD_NAME`, `POD_NAMESPACE`, `NODE_NAME` (and `MY_` aliases) |
/// | [`max_record_bytes`](Self::max_record_bytes) | 32 KiB | `LOG_MAX_RECORD_BYTES` (`32K`, `1M`) |
/// | [`channel_size`](Self::channel_size) | [`DEFAULT_CHANNEL_SIZE`] (8,192 records), at most [`MAX_CHANNEL_SIZE`] | |
/// | [`queue_bytes`](Self::queue_bytes) | [`DEFAULT_QUEUE_BYTES`] (16 MiB), at most [`MAX_QUEUE_BYTES`] | |
/// | [`overflow`](Self::overflow) | [`DEFAULT_OVERFLOW`] (`Block`: no loss) | |
/// | [`output_buffer`](Self::output_buffer) | [`DEFAULT_OUTPUT_BUFFER`](crate::pipeline::DEFAULT_OUTPUT_BUFFER) (4 MiB per line output), [`MIN_OUTPUT_BUFFER`](crate::pipeline::MIN_OUTPUT_BUFFER) (64 KiB) to [`MAX_OUTPUT_BUFFER`](crate::pipeline::MAX_OUTPUT_BUFFER) (1 GiB) | `LOG_OUTPUT_BUFFER` (`4M`, `512K`) |
/// | [`shutdown_timeout`](Self::shutdown_timeout) | [`DEFAULT_SHUTDOWN_TIMEOUT`](crate::pipeline::DEFAULT_SHUTDOWN_TIMEOUT) (5 s), at most [`MAX_SHUTDOWN_TIMEOUT`](crate::pipeline::MAX_SHUTDOWN_TIMEOUT) (60 s) | `LOG_SHUTDOWN_TIMEOUT` (`5s`, `500ms`) |
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
    pub(super) probe: SystemProbe,
    pub(super) filter: Directives,
    pub(super) format: Option<Format>,
    pub(super) no_color: bool,
    pub(super) output: Output,
    pub(super) refresh: Duration,
    pub(super) channel_size: usize,
    pub(super) queue_bytes: usize,
    pub(super) source_location: bool,
    pub(super) host_fields_per_record: bool,
    #[cfg(feature = "tracing")]
    pub(super) tracing: bool,
    pub(super) overflow: Overflow,
    pub(super) global: bool,
    pub(super) flood: Option<FloodConfig>,
    pub(super) schema: Schema,
    pub(super) panic_hook: bool,
    /// Where a file output's path came from, for errors.
    pub(super) output_setting: &'static str,
    /// `LOG_FILTER_FILE`, read at `init` and watched by the writer thread.
    pub(super) filter_file: Option<PathBuf>,
    pub(super) max_record_bytes: usize,
    pub(super) output_buffer: usize,
    pub(super) shutdown_timeout: Duration,
    /// More outputs ([`tee`](Self::tee)): each with its format and its own
    /// directives (`None`: the pipeline's, which `set_filter` changes).
    pub(super) tees: Vec<OutputConfig>,
    /// What the environment set ([`from_env`](Self::from_env) only); applied
    /// over the code's values when [`init`](Self::init) starts.
    pub(super) env: Option<EnvOverrides>,
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

/// What the environment set, read and checked by [`Builder::from_env`](crate::Builder::from_env) and
/// applied by [`Builder::init`](crate::Builder::init) over what the code set: the code gives
/// defaults, a set variable wins. (Host fields from the environment live in
/// the builder's [`SystemProbe`], which knows which fields they are.)
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
            output_buffer: DEFAULT_OUTPUT_BUFFER,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
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
    /// verbose output wants), the writer thread formats it for each output,
    /// and each line output writes its batches from a buffer and a thread of
    /// its own ([`output_buffer`](Self::output_buffer)): a slow, stuck or
    /// failing output counts its own losses and never delays another output.
    /// The host fields, the schema and the flood guard are shared; each term
    /// output shows its own banner.
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
    /// [`LogGuard::set_filter`](crate::LogGuard::set_filter) changes the directives of the outputs that
    /// have none of their own (the first one's); a tee keeps its own. An
    /// invalid string is an [`Error`] naming it.
    pub fn tee(mut self, output: Output, format: Format, directives: &str) -> Result<Self, Error> {
        let filter = Directives::parse_setting("tee filter", directives)?;
        self.tees.push(OutputConfig {
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
    /// Every byte of the line counts (keys, numbers, the number of fields).
    /// A longer record is formatted again with its longest string fields
    /// cut (each to the one length that makes the line fit, at a character
    /// boundary, escapes whole), then its message; if that is not enough,
    /// the same without its logger's fields; if still not (thousands of
    /// fields, a huge key), its own and span fields are left out whole from
    /// the last, as many kept as fit, and `log.dropped_fields` says how many.
    /// Its time, level, target and host fields are never cut. It stays one
    /// valid JSON object (or one term line) and carries `log.truncated_bytes`
    /// with the bytes removed (of values, keys and whole fields);
    /// [`LogGuard::truncated`](crate::LogGuard::truncated) counts such records.
    pub fn max_record_bytes(mut self, bytes: usize) -> Self {
        self.max_record_bytes = bytes;
        self
    }

    /// Sets how often host metadata is re-detected. A zero interval, or one
    /// above [`MAX_REFRESH_INTERVAL`](crate::host::MAX_REFRESH_INTERVAL) (24 h), makes [`init`](Self::init) fail.
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

    /// Sets the bound of each line output's buffer, in bytes
    /// ([`MIN_OUTPUT_BUFFER`](crate::pipeline::MIN_OUTPUT_BUFFER) to
    /// [`MAX_OUTPUT_BUFFER`](crate::pipeline::MAX_OUTPUT_BUFFER); default
    /// 4 MiB; `LOG_OUTPUT_BUFFER`). Each line output (stdout, stderr, a
    /// file, a writer) has a thread and a buffer of its own, so a slow or
    /// stuck one never delays another, nor a caller, until its buffer is
    /// full. Then the [`overflow`](Self::overflow) policy applies to that
    /// output alone: `Block` waits for room (while the output takes bytes,
    /// at most [`FLUSH_TIMEOUT`](crate::pipeline::FLUSH_TIMEOUT) without),
    /// `DropAndReport` drops, counted in
    /// [`LogGuard::output_dropped`](crate::LogGuard::output_dropped) and
    /// reported on the other outputs
    /// ([`OUTPUT_DROPPED_MESSAGE`](crate::format::OUTPUT_DROPPED_MESSAGE)).
    /// The OTLP exporter's queue has bounds of its own
    /// ([`OtlpConfig::batch`](crate::otlp::OtlpConfig::batch)).
    pub fn output_buffer(mut self, bytes: usize) -> Self {
        self.output_buffer = bytes;
        self
    }

    /// Sets how long a flush and the guard's drop wait for the OTLP export,
    /// together while the collector stays unreachable (default 5 s, at most
    /// [`MAX_SHUTDOWN_TIMEOUT`](crate::pipeline::MAX_SHUTDOWN_TIMEOUT); `LOG_SHUTDOWN_TIMEOUT`). The lines are
    /// written first ([`LINES_BOUND`](crate::pipeline::LINES_BOUND)); what
    /// is not exported when it passes is dropped, counted and reported
    /// ([`docs::otlp`](crate::docs::otlp)). `OTEL_BLRP_EXPORT_TIMEOUT`
    /// bounds one export instead, and a shorter one also bounds this wait.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
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
    /// [`LogGuard::tracing_layer`](crate::LogGuard::tracing_layer) beside its other layers, and its
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
    /// [`FloodGuard`](crate::drain::FloodGuard)).
    pub fn flood(mut self, config: Option<FloodConfig>) -> Self {
        self.flood = config;
        self
    }

    /// With `true` (the default), [`init`](Self::init) installs the logger
    /// as slog-scope's global logger, forwards the `log` crate's records to
    /// it (unless [`tracing(false)`](Self::tracing) leaves `log` to the
    /// service's `tracing` subscriber), and uses [`HostCache::global`](crate::host::HostCache::global); only one such `init` may run in a
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
}

/// An output as configured (the first stage of an output: configured ->
/// opened -> batch -> destination): where, its format, its own directives
/// (`None`: the pipeline's), and the setting it came from (for errors).
pub(super) struct OutputConfig {
    pub(super) output: Output,
    pub(super) format: Format,
    pub(super) filter: Option<Directives>,
    pub(super) setting: &'static str,
}
