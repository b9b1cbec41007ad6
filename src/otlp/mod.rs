//! Export over OTLP to an OpenTelemetry collector (feature `otlp`):
//! [`OtlpConfig`] for [`Output::Otlp`](crate::Output::Otlp), its defaults and
//! limits ([`docs::otlp`](crate::docs::otlp)). Inside: the settings, the
//! encodings of records and requests (on the writer thread), and the
//! exporter's own thread.

pub(crate) mod any_value;
pub(crate) mod config;
pub(crate) mod exporter;
pub(crate) mod proto;
pub(crate) mod record;
pub(crate) mod request;
pub(crate) mod response;
#[cfg(feature = "otlp-tls")]
pub(crate) mod tls;

pub use crate::record::own::EXPORT_DROPPED_MESSAGE;
pub use crate::record::thread_role::EXPORT_THREAD_NAME;
pub use config::{
    OtlpConfig, Protocol, DEFAULT_ENDPOINT, DEFAULT_EXPORT_TIMEOUT, DEFAULT_MAX_EXPORT_BATCH_SIZE,
    DEFAULT_MAX_QUEUE_BYTES, DEFAULT_MAX_QUEUE_SIZE, DEFAULT_SCHEDULE_DELAY, DEFAULT_TIMEOUT,
    MAX_OTLP_DURATION, MAX_QUEUE_SIZE,
};
pub use exporter::{MAX_BACKOFF, MAX_RETRY_AFTER, MIN_BACKOFF};
#[cfg(feature = "otlp-tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "otlp-tls")))]
pub use tls::MAX_PEM_BYTES;
