//! The thread that calls `init`: the [`Builder`], its environment overlay,
//! starting the pipeline, and the [`LogGuard`] that stops it.

pub(crate) mod builder;

pub use builder::{
    Builder, LogGuard, DEFAULT_CHANNEL_SIZE, DEFAULT_OVERFLOW, DEFAULT_QUEUE_BYTES,
    MAX_CHANNEL_SIZE, MAX_QUEUE_BYTES,
};
