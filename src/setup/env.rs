//! The environment overlay (on the thread that calls `init`):
//! [`Builder::from_env`](crate::Builder::from_env) reads and checks every variable, and `init` applies
//! what they set over what the code set.

use std::path::PathBuf;
use std::time::Duration;

use super::builder::{Builder, OutputConfig};
use crate::caller::filter::Directives;
use crate::caller::flood::FloodConfig;
use crate::error::Error;
use crate::format::{Format, MAX_RECORD_CAP, MIN_RECORD_CAP};
use crate::host::detect::{env_var, SystemProbe};
use crate::host::refresher::MAX_REFRESH_INTERVAL;
use crate::host::schema::Schema;
use crate::outputs::file::{
    FileConfig, MAX_FILE_KEEP, MAX_FILE_MAX_AGE, MAX_FILE_MAX_SIZE, MAX_ROTATE_EVERY,
    MIN_ROTATE_EVERY,
};
use crate::outputs::Output;
use crate::settings::{parse_bool, parse_count, parse_duration, parse_size};

#[derive(Debug, Default)]
pub(super) struct EnvOverrides {
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
    pub(super) fn read() -> Result<EnvOverrides, Error> {
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
    pub(super) fn with_env_overrides(mut self) -> Result<Self, Error> {
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
                self.tees.push(OutputConfig {
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
                self.tees.push(OutputConfig {
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
}
