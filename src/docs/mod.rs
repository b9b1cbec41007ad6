//! Reading for operators and the curious: how the pipeline works, what it
//! guarantees, and what it costs. Nothing here is code.

pub mod files;
pub mod limits;
pub mod performance;
pub mod pipeline;
pub mod security;
