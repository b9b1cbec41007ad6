//! See `tests/log_always.rs`.
