//! What runs on the thread that logs: the level filter and its changes, the
//! flood guard, the bridges from `log` and `tracing`, the capture of a
//! record into an event, the sender that queues it, the panic hook, and
//! slog-scope's global logger under test captures. No
//! system call and no allocation per record (the tests count both).

pub(crate) mod bridges;
pub(crate) mod capture;
pub(crate) mod filter;
pub(crate) mod filter_change;
pub(crate) mod flood;
pub(crate) mod panic_hook;
pub(crate) mod scope_router;
pub(crate) mod sender;
pub(crate) mod target_table;
