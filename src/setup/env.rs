//! The environment's settings (on the thread that calls `init`): every
//! variable `Builder::from_env` reads, read and checked at once; `overlay`
//! applies them over what the code set.

use std::path::PathBuf;
use std::time::Duration;

use crate::caller::filter::Directives;
use crate::caller::flood::FloodConfig;
use crate::error::Error;
use crate::format::{Format, MAX_RECORD_CAP, MIN_RECORD_CAP};
use crate::host::detect::env_var;
use crate::host::refresher::MAX_REFRESH_INTERVAL;
use crate::host::schema::Schema;
use crate::outputs::file_config::{
    MAX_FILE_KEEP, MAX_FILE_MAX_AGE, MAX_FILE_MAX_SIZE, MAX_ROTATE_EVERY, MIN_ROTATE_EVERY,
};
use crate::settings::{parse_bool, parse_count, parse_duration, parse_size};
use crate::writer::{MAX_OUTPUT_BUFFER, MAX_SHUTDOWN_TIMEOUT, MIN_OUTPUT_BUFFER};

#[derive(Debug, Default)]
pub(super) struct EnvOverrides {
    pub(super) filter: Option<Directives>,
    pub(super) format: Option<Format>,
    pub(super) no_color: bool,
    pub(super) refresh: Option<Duration>,
    pub(super) schema: Option<Schema>,
    /// `Some(None)`: `LOG_FLOOD=off`.
    pub(super) flood: Option<Option<FloodConfig>>,
    pub(super) file: Option<PathBuf>,
    /// The value and the variable's text, for an error at `init`.
    pub(super) file_max_size: Option<(u64, String)>,
    pub(super) file_keep: Option<(u64, String)>,
    pub(super) file_rotate_every: Option<(Duration, String)>,
    pub(super) file_max_age: Option<(Duration, String)>,
    pub(super) source: Option<bool>,
    pub(super) filter_file: Option<PathBuf>,
    pub(super) max_record_bytes: Option<usize>,
    pub(super) output_buffer: Option<usize>,
    pub(super) shutdown_timeout: Option<Duration>,
    /// `LOG_STDOUT`, with the variable's text.
    pub(super) stdout: Option<(bool, String)>,
    pub(super) file_format: Option<(Format, String)>,
    pub(super) file_filter: Option<(Directives, String)>,
    /// `OTEL_LOGS_EXPORTER=otlp`: the exporter's settings.
    #[cfg(feature = "otlp")]
    pub(super) otlp: Option<crate::otlp::OtlpConfig>,
}

impl EnvOverrides {
    pub(super) fn read() -> Result<EnvOverrides, Error> {
        let mut env = EnvOverrides::default();
        if let Some(spec) = env_var("RUST_LOG")? {
            let filter = Directives::parse_setting("RUST_LOG", &spec)?;
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
        env.max_record_bytes = size_var("LOG_MAX_RECORD_BYTES", MIN_RECORD_CAP, MAX_RECORD_CAP)?;
        env.output_buffer = size_var("LOG_OUTPUT_BUFFER", MIN_OUTPUT_BUFFER, MAX_OUTPUT_BUFFER)?;
        if let Some(v) = env_var("LOG_SHUTDOWN_TIMEOUT")? {
            env.shutdown_timeout = Some(parse_duration(
                "LOG_SHUTDOWN_TIMEOUT",
                &v,
                MAX_SHUTDOWN_TIMEOUT,
            )?);
        }
        if let Some(v) = env_var("LOG_STDOUT")? {
            env.stdout = Some((parse_bool("LOG_STDOUT", &v)?, v));
        }
        if let Some(v) = env_var("LOG_FILE_FORMAT")? {
            env.file_format = Some((Format::parse("LOG_FILE_FORMAT", &v)?, v));
        }
        if let Some(v) = env_var("LOG_FILE_FILTER")? {
            let filter = Directives::parse_setting("LOG_FILE_FILTER", &v)?;
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
        env.read_otel_exporter()?;
        Ok(env)
    }
}

impl EnvOverrides {
    /// `OTEL_SDK_DISABLED`, `OTEL_LOGS_EXPORTER` and whether an endpoint is
    /// set, as the OpenTelemetry specification reads them: `otlp`,
    /// `console` (the line outputs, there anyway) or both; `none`; unset
    /// with an `OTEL_EXPORTER_OTLP_(LOGS_)ENDPOINT` set is `otlp` (said once
    /// on stderr), unset without one is no export; `OTEL_SDK_DISABLED=true`
    /// turns export off whatever else is set.
    fn read_otel_exporter(&mut self) -> Result<(), Error> {
        let disabled = match env_var("OTEL_SDK_DISABLED")? {
            Some(v) if v.eq_ignore_ascii_case("true") => true,
            Some(v) if v.eq_ignore_ascii_case("false") => false,
            Some(v) => {
                return Err(Error::invalid(
                    "OTEL_SDK_DISABLED",
                    v,
                    "expected true or false",
                ))
            }
            None => false,
        };
        let exporters = env_var("OTEL_LOGS_EXPORTER")?;
        let mut otlp = false;
        match &exporters {
            Some(v) => {
                let names: Vec<&str> = v.split(',').map(str::trim).collect();
                for name in &names {
                    match *name {
                        "otlp" => otlp = true,
                        "console" => {}
                        "none" if names.len() == 1 => {}
                        "none" => {
                            return Err(Error::invalid(
                                "OTEL_LOGS_EXPORTER",
                                v.as_str(),
                                "none cannot be combined with an exporter",
                            ))
                        }
                        _ => {
                            return Err(Error::invalid(
                                "OTEL_LOGS_EXPORTER",
                                v.as_str(),
                                "expected otlp, console (the line outputs: LOG_FORMAT, LOG_FILE, \
                                 LOG_STDOUT), both as otlp,console, or none",
                            ))
                        }
                    }
                }
            }
            #[cfg(feature = "otlp")]
            None => {
                for var in [
                    "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
                    "OTEL_EXPORTER_OTLP_ENDPOINT",
                ] {
                    if env_var(var)?.is_some() {
                        otlp = true;
                        if !disabled {
                            crate::error::report(format_args!(
                                "OTLP export is on: {var} is set and OTEL_LOGS_EXPORTER is not \
                                 (unset means otlp, as the OpenTelemetry specification says; \
                                 OTEL_LOGS_EXPORTER=none turns it off)"
                            ));
                        }
                        break;
                    }
                }
            }
            #[cfg(not(feature = "otlp"))]
            None => {}
        }
        if !otlp || disabled {
            return Ok(());
        }
        #[cfg(feature = "otlp")]
        {
            self.otlp = Some(crate::otlp::OtlpConfig::from_env()?);
            Ok(())
        }
        #[cfg(not(feature = "otlp"))]
        Err(Error::invalid(
            "OTEL_LOGS_EXPORTER",
            exporters.unwrap_or_default(),
            "export over OTLP needs slog-host's cargo feature `otlp`",
        ))
    }
}

/// The size `var` sets (`32K`, `4M`), from `min` to `max` bytes; `None` if
/// unset.
fn size_var(var: &str, min: usize, max: usize) -> Result<Option<usize>, Error> {
    let Some(v) = env_var(var)? else {
        return Ok(None);
    };
    let n = parse_size(var, &v, max as u64)?;
    if n < min as u64 {
        return Err(Error::invalid(
            var,
            v,
            format!("too small: at least {min} bytes"),
        ));
    }
    // At most `max`: fits.
    Ok(Some(n as usize))
}
