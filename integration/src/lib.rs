//! slog-host beside its peers: see the benches, examples and tests of this
//! package. It has no library code of its own.
