//! The caller's side of the pipeline: what runs on the thread that logs.
//! Level filter, flood guard, capture into reused memory, the queue to the
//! writer thread.

pub(crate) mod filter;
pub(crate) mod flood;

/// What happens when the writer falls behind and the channel is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overflow {
    /// The logging thread waits for room. No record is lost.
    Block,
    /// The record is dropped and counted; the count is written as a WARN
    /// record ([`OVERFLOW_MESSAGE`](crate::OVERFLOW_MESSAGE), field
    /// `dropped`) as soon as there is room, and at shutdown.
    DropAndReport,
}
