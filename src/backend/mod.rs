//! The writer thread's side of the pipeline: enrichment, formats, outputs.

pub(crate) mod enrich;
pub(crate) mod file;
pub mod format;
pub(crate) mod host_names;
pub(crate) mod json;
#[cfg(feature = "otlp")]
pub(crate) mod otlp;
pub(crate) mod output;
pub(crate) mod term;
pub(crate) mod time;
pub(crate) mod worker;
pub(crate) mod writer;
