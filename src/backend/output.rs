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
    /// Opens the output; for a file, an error names `setting` and the path.
    pub(crate) fn open(self, setting: &str) -> Result<Opened, Error> {
        Ok(match self {
            Output::Stdout => Opened::Stdout,
            Output::Stderr => Opened::Stderr,
            Output::File(config) => Opened::File(RotatingFile::open(config, setting)?),
            Output::Writer(w) => Opened::Writer(w),
        })
    }
}

/// An output ready to be written.
pub(crate) enum Opened {
    Stdout,
    Stderr,
    File(RotatingFile),
    Writer(Box<dyn Write + Send>),
}

impl Opened {
    pub(crate) fn is_terminal(&self) -> bool {
        match self {
            Opened::Stdout => io::stdout().is_terminal(),
            Opened::Stderr => io::stderr().is_terminal(),
            Opened::File(_) | Opened::Writer(_) => false,
        }
    }
}
