//! What is known about the host, as building blocks: the snapshot
//! ([`HostInfo`]), how it is detected ([`Probe`], [`SystemProbe`]), the
//! lock-free cache every record reads ([`HostCache`]), and the thread that
//! refreshes it ([`Refresher`]). [`init`](crate::init) uses them all; a
//! pipeline of your own can too (see [`Enrich`](crate::drain::Enrich)).

pub(crate) mod cache;
pub(crate) mod detect;
pub(crate) mod enrich;
pub(crate) mod info;
pub mod keys;
pub(crate) mod refresher;
pub(crate) mod resource;
pub(crate) mod schema;

pub use cache::{CacheRef, HostCache, RefreshStatus};
pub use detect::{Probe, SystemProbe};
pub use info::HostInfo;
pub use refresher::{
    RefreshConfig, Refresher, DEFAULT_JITTER, DEFAULT_MAX_BACKOFF, DEFAULT_REFRESH_INTERVAL,
    MAX_REFRESH_INTERVAL,
};
pub use resource::parse_resource_attributes;
