//! A forked child's outputs, opened again by the first thread of the child
//! that logs: standard output and error as new descriptors, files by their
//! path, a custom writer taken over if no thread held it at the fork.

use std::io;

use super::output_set::{OutputSet, Reopen, Specs};
use crate::outputs::rotating_file::RotatingFile;
use crate::outputs::stdio::own_stream;
use crate::outputs::Opened;

/// An output a forked child cannot have (the parent's writer thread held
/// it at the fork, or it cannot be opened again).
fn discard(why: &str) -> Opened {
    crate::error::report(format_args!(
        "in a forked child, {why}: this process's records to it are discarded"
    ));
    Opened::Writer(Box::new(io::sink()))
}

/// The outputs of `specs` opened again in a forked child; `parent` is the
/// parent's output set if no thread held it at the fork (its custom writers
/// are taken over).
pub(super) fn reopen(specs: &Specs, parent: Option<&OutputSet>) -> Vec<Opened> {
    specs
        .0
        .iter()
        .enumerate()
        .map(|(i, (_, kind))| match kind {
            Reopen::Stdout => own_stream(true).map_or_else(
                |_| discard("standard output cannot be duplicated"),
                Opened::Stdout,
            ),
            Reopen::Stderr => own_stream(false).map_or_else(
                |_| discard("standard error cannot be duplicated"),
                Opened::Stderr,
            ),
            Reopen::File(c) => RotatingFile::open(c.clone(), "output file")
                .map_or_else(|_| discard("the log file cannot be opened"), Opened::File),
            Reopen::Writer => match parent
                .and_then(|set| set.outs[i].lane())
                .and_then(|lane| lane.take_writer())
            {
                Some(w) => Opened::Writer(w),
                None => discard("a writer thread held the custom writer at the fork"),
            },
            #[cfg(feature = "otlp")]
            Reopen::Otlp => discard("OTLP export has no exporter thread"),
        })
        .collect()
}
