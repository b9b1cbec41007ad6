//! The thread that calls `init`: the [`Builder`] and its settings, the
//! environment overlay, starting the pipeline, and the [`LogGuard`] that
//! stops it.

pub(crate) mod builder;
pub(crate) mod env;
pub(crate) mod guard;
pub(crate) mod overlay;
pub(crate) mod start;

pub use builder::{
    Builder, DEFAULT_CHANNEL_SIZE, DEFAULT_OVERFLOW, DEFAULT_QUEUE_BYTES, MAX_CHANNEL_SIZE,
    MAX_QUEUE_BYTES,
};
pub use guard::LogGuard;
