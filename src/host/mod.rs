//! What is known about the host: the snapshot ([`HostInfo`](crate::HostInfo)),
//! how it is detected, the cache every record reads, and the thread that
//! refreshes it.

pub(crate) mod cache;
pub(crate) mod detect;
pub(crate) mod info;
pub(crate) mod refresh;
pub(crate) mod resource;
pub(crate) mod schema;
