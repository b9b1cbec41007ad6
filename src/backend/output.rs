//! Where records go: [`Output`].

use std::fmt;
use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::os::fd::AsFd;

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
            Output::Stdout => Opened::Stdout(own_stdout(true).map_err(|e| {
                Error::io("cannot duplicate standard output for the log writer", &e)
            })?),
            Output::Stderr => Opened::Stderr(own_stdout(false).map_err(|e| {
                Error::io("cannot duplicate standard error for the log writer", &e)
            })?),
            Output::File(config) => Opened::File(RotatingFile::open(config, setting)?),
            Output::Writer(w) => Opened::Writer(w),
        })
    }
}

/// A descriptor of the writer's own for standard output (`stdout`) or
/// error: a `dup` of descriptor 1 or 2. The writer never takes the lock of
/// `std::io::Stdout` or `Stderr` (a thread of the application may hold it
/// while it logs, and a forked child inherits it locked if a thread held it
/// at the fork), and it writes each batch with one `write`, unbuffered.
pub(crate) fn own_stdout(stdout: bool) -> io::Result<File> {
    let fd = if stdout {
        io::stdout().as_fd().try_clone_to_owned()
    } else {
        io::stderr().as_fd().try_clone_to_owned()
    };
    fd.map(File::from)
}

/// An output ready to be written.
pub(crate) enum Opened {
    Stdout(File),
    Stderr(File),
    File(RotatingFile),
    Writer(Box<dyn Write + Send>),
}

impl Opened {
    pub(crate) fn is_terminal(&self) -> bool {
        match self {
            Opened::Stdout(f) | Opened::Stderr(f) => f.is_terminal(),
            Opened::File(_) | Opened::Writer(_) => false,
        }
    }
}
