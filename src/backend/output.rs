//! Where records go: [`Output`].

use std::fmt;
use std::io::{self, IsTerminal, Write};

use crate::backend::file::{FileConfig, RotatingFile};
use crate::Error;

/// Where records go.
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
}

impl fmt::Debug for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Output::Stdout => f.write_str("Stdout"),
            Output::Stderr => f.write_str("Stderr"),
            Output::File(c) => f.debug_tuple("File").field(c).finish(),
            Output::Writer(_) => f.write_str("Writer(..)"),
        }
    }
}

impl Output {
    pub(crate) fn is_terminal(&self) -> bool {
        match self {
            Output::Stdout => io::stdout().is_terminal(),
            Output::Stderr => io::stderr().is_terminal(),
            Output::File(_) | Output::Writer(_) => false,
        }
    }

    /// Opens a file output; `setting` names where its path came from.
    pub(crate) fn opened(self, setting: &str) -> Result<Output, Error> {
        match self {
            Output::File(config) => Ok(Output::Writer(Box::new(RotatingFile::open(
                config, setting,
            )?))),
            other => Ok(other),
        }
    }

    pub(crate) fn into_writer(self) -> Box<dyn Write + Send> {
        match self {
            Output::Stdout => Box::new(io::stdout()),
            Output::Stderr => Box::new(io::stderr()),
            Output::File(_) => unreachable!("files are opened in Builder::init"),
            Output::Writer(w) => w,
        }
    }
}
