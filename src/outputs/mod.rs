//! Where records go (on the writer thread, opened by `init`): [`Output`],
//! the configuration of each destination, and [`Opened`], a destination
//! ready to be written. The stages of an output: configured (`Output`, with
//! its format and filter) -> opened -> batch (`writer`) -> destination.

use std::fmt;
use std::io::Write;

pub(crate) mod accepted;
pub(crate) mod file_config;
pub(crate) mod rotating_file;
pub(crate) mod stdio;

use crate::error::Error;
use file_config::FileConfig;
use rotating_file::RotatingFile;
use stdio::{own_stream, StdStream};

/// Where records go. New kinds of output may be added (the OTLP one is
/// there with the feature `otlp`): a `match` needs a `_` arm.
#[non_exhaustive]
pub enum Output {
    /// Standard output (the default).
    Stdout,
    /// Standard error.
    Stderr,
    /// A file with size-based rotation ([`FileConfig`]).
    File(FileConfig),
    /// Any writer, such as a buffer in a test. It is written from the writer
    /// thread; term formats write it without colors.
    Writer(Box<dyn Write + Send>),
    /// An OpenTelemetry collector, over OTLP/HTTP (feature `otlp`; see
    /// [`docs::otlp`](crate::docs::otlp)). Records are exported in
    /// batches from a thread of their own; the output's [`Format`](crate::Format)
    /// is not used (OTLP has its own encoding).
    #[cfg(feature = "otlp")]
    #[cfg_attr(docsrs, doc(cfg(feature = "otlp")))]
    Otlp(crate::otlp::OtlpConfig),
}

impl fmt::Debug for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Output::Stdout => f.write_str("Stdout"),
            Output::Stderr => f.write_str("Stderr"),
            Output::File(c) => f.debug_tuple("File").field(c).finish(),
            Output::Writer(_) => f.write_str("Writer(..)"),
            #[cfg(feature = "otlp")]
            Output::Otlp(c) => f.debug_tuple("Otlp").field(c).finish(),
        }
    }
}

impl Output {
    /// Opens the output; for a file, an error names `setting` and the path.
    pub(crate) fn open(self, setting: &str) -> Result<Opened, Error> {
        Ok(match self {
            Output::Stdout => Opened::Stdout(own_stream(true).map_err(|e| {
                Error::io("cannot duplicate standard output for the log writer", &e)
            })?),
            Output::Stderr => Opened::Stderr(own_stream(false).map_err(|e| {
                Error::io("cannot duplicate standard error for the log writer", &e)
            })?),
            Output::File(config) => Opened::File(RotatingFile::open(config, setting)?),
            Output::Writer(w) => Opened::Writer(w),
            #[cfg(feature = "otlp")]
            Output::Otlp(config) => Opened::OtlpConfig(Box::new(config)),
        })
    }
}

/// An output ready to be written.
pub(crate) enum Opened {
    Stdout(StdStream),
    Stderr(StdStream),
    File(RotatingFile),
    Writer(Box<dyn Write + Send>),
    /// Its exporter thread is started with the writer (it needs the host
    /// cache, made after the outputs are opened).
    #[cfg(feature = "otlp")]
    OtlpConfig(Box<crate::otlp::OtlpConfig>),
    #[cfg(feature = "otlp")]
    Otlp(std::sync::Arc<crate::otlp::exporter::Exporter>),
}

impl Opened {
    pub(crate) fn is_terminal(&self) -> bool {
        match self {
            Opened::Stdout(s) | Opened::Stderr(s) => s.is_terminal(),
            _ => false,
        }
    }
}
