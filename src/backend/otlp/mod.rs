//! Export over OTLP (cargo feature `otlp`): the output's settings, the
//! encodings, and the exporter thread.

pub(crate) mod config;
pub(crate) mod encode;
pub(crate) mod export;
