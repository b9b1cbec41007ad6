//! What crosses threads: the event a record is captured into, the queue
//! that carries events from the logging threads to the writer, the trace
//! ids a record carries, the roles of the crate's threads, and the records
//! the crate writes itself. The lowest layer of the pipeline: it imports
//! nothing of the crate but the leaves (`fork`, `error`).

pub(crate) mod event;
pub(crate) mod own;
pub(crate) mod queue;
pub(crate) mod target;
pub(crate) mod thread_role;
pub(crate) mod trace_ids;
