//! The environment overlay (on the thread that calls `init`): what the
//! variables set wins over what the code set.

use super::builder::{Builder, OutputConfig};
use crate::error::Error;
use crate::format::Format;
use crate::outputs::file_config::FileConfig;
use crate::outputs::Output;

impl Builder {
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
        if let Some(n) = env.output_buffer {
            self.output_buffer = n;
        }
        if let Some(t) = env.shutdown_timeout {
            self.shutdown_timeout = t;
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
