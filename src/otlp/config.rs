//! The OTLP output's settings: [`OtlpConfig`], from code or from the
//! OpenTelemetry SDK's environment variables.

use std::fmt;
#[cfg(feature = "otlp-tls")]
use std::path::Path;
use std::time::Duration;

#[cfg(feature = "otlp-tls")]
use super::tls::Tls;
use crate::error::Error;
use crate::host::detect::{env_secret, env_var};

/// The endpoint when no variable names one: a collector on this host.
pub const DEFAULT_ENDPOINT: &str = "http://localhost:4318/v1/logs";
/// The time one HTTP request may take (`OTEL_EXPORTER_OTLP_TIMEOUT`): 10 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The most records waiting for export (`OTEL_BLRP_MAX_QUEUE_SIZE`): 2048.
pub const DEFAULT_MAX_QUEUE_SIZE: usize = 2048;
/// The most records in one request (`OTEL_BLRP_MAX_EXPORT_BATCH_SIZE`): 512.
pub const DEFAULT_MAX_EXPORT_BATCH_SIZE: usize = 512;
/// How long records wait for a full batch (`OTEL_BLRP_SCHEDULE_DELAY`): 1 s.
pub const DEFAULT_SCHEDULE_DELAY: Duration = Duration::from_secs(1);
/// How long one export may take (`OTEL_BLRP_EXPORT_TIMEOUT`): 30 s. A
/// flush, the guard's drop or the panic hook waits for the export at most
/// this or [`Builder::shutdown_timeout`](crate::Builder::shutdown_timeout)
/// (5 s), whichever is shorter.
pub const DEFAULT_EXPORT_TIMEOUT: Duration = Duration::from_secs(30);
/// The most bytes of encoded records waiting for export: 16 MiB (records
/// past it are dropped and counted, like records past the queue size).
pub const DEFAULT_MAX_QUEUE_BYTES: usize = 16 << 20;
/// The largest queue size, batch size, and the longest timeout and delay
/// accepted.
pub const MAX_QUEUE_SIZE: usize = 1 << 20;
/// The longest timeout or schedule delay accepted: 10 minutes.
pub const MAX_OTLP_DURATION: Duration = Duration::from_secs(600);

/// How requests are encoded (`OTEL_EXPORTER_OTLP_PROTOCOL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// `http/protobuf` (the default): the protobuf messages over HTTP/1.1.
    HttpProtobuf,
    /// `http/json`: the OTLP JSON encoding over HTTP/1.1.
    HttpJson,
}

/// The OTLP logs exporter's settings, with the OpenTelemetry SDK's defaults
/// (the table in [`docs::otlp`](crate::docs::otlp)).
///
/// ```no_run
/// use slog_host::{otlp::OtlpConfig, Builder, Format, Output};
///
/// # fn main() -> Result<(), slog_host::Error> {
/// // JSON lines on stdout as before, and every record to a collector.
/// let guard = Builder::new()
///     .tee(Output::Otlp(OtlpConfig::new("http://otel-collector:4318/v1/logs")?), Format::Json, "info")?
///     .init()?;
/// # Ok(()) }
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct OtlpConfig {
    pub(crate) endpoint: String,
    pub(crate) protocol: Protocol,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) timeout: Duration,
    pub(crate) gzip: bool,
    pub(crate) schedule_delay: Duration,
    pub(crate) max_queue_size: usize,
    pub(crate) max_export_batch_size: usize,
    pub(crate) export_timeout: Duration,
    pub(crate) max_queue_bytes: usize,
    #[cfg(feature = "otlp-tls")]
    pub(crate) tls: Tls,
}

impl fmt::Debug for OtlpConfig {
    // Header values are credentials: only their names are shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        let mut d = f.debug_struct("OtlpConfig");
        d.field("endpoint", &self.shown_endpoint())
            .field("protocol", &self.protocol)
            .field("headers", &names)
            .field("timeout", &self.timeout)
            .field("gzip", &self.gzip)
            .field("schedule_delay", &self.schedule_delay)
            .field("max_queue_size", &self.max_queue_size)
            .field("max_export_batch_size", &self.max_export_batch_size)
            .field("export_timeout", &self.export_timeout)
            .field("max_queue_bytes", &self.max_queue_bytes);
        #[cfg(feature = "otlp-tls")]
        d.field("tls", &self.tls);
        d.finish()
    }
}

impl Default for OtlpConfig {
    fn default() -> OtlpConfig {
        OtlpConfig {
            endpoint: DEFAULT_ENDPOINT.to_owned(),
            protocol: Protocol::HttpProtobuf,
            headers: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
            gzip: false,
            schedule_delay: DEFAULT_SCHEDULE_DELAY,
            max_queue_size: DEFAULT_MAX_QUEUE_SIZE,
            max_export_batch_size: DEFAULT_MAX_EXPORT_BATCH_SIZE,
            export_timeout: DEFAULT_EXPORT_TIMEOUT,
            max_queue_bytes: DEFAULT_MAX_QUEUE_BYTES,
            #[cfg(feature = "otlp-tls")]
            tls: Tls::default(),
        }
    }
}

impl OtlpConfig {
    /// Exports to `endpoint`, the full URL of the logs service
    /// (`http://collector:4318/v1/logs`); the other settings are the
    /// defaults. An endpoint that is not an `http` or `https` URL is an
    /// error naming it.
    pub fn new(endpoint: &str) -> Result<OtlpConfig, Error> {
        Ok(OtlpConfig {
            endpoint: check_endpoint("OTLP endpoint", endpoint)?,
            ..OtlpConfig::default()
        })
    }

    /// The settings of the OpenTelemetry SDK's variables, each
    /// `OTEL_EXPORTER_OTLP_LOGS_*` over its `OTEL_EXPORTER_OTLP_*`, and the
    /// defaults where none is set. The first invalid value is an error
    /// naming the variable and the value.
    pub fn from_env() -> Result<OtlpConfig, Error> {
        let mut c = OtlpConfig::default();
        if let Some((var, v)) = signal_var("ENDPOINT", env_var)? {
            c.endpoint = if var.contains("LOGS") {
                check_endpoint(&var, &v)?
            } else {
                // The base URL of every signal: the logs path is appended.
                let base = check_endpoint(&var, &v)?;
                if base.contains(['?', '#']) {
                    return Err(Error::invalid(
                        &var,
                        shown(&base),
                        "a base URL with a query cannot take the /v1/logs path; set \
                         OTEL_EXPORTER_OTLP_LOGS_ENDPOINT to the full URL",
                    ));
                }
                format!("{}/v1/logs", base.trim_end_matches('/'))
            };
        }
        if let Some((var, v)) = signal_var("PROTOCOL", env_var)? {
            c.protocol = match v.as_str() {
                "http/protobuf" => Protocol::HttpProtobuf,
                "http/json" => Protocol::HttpJson,
                "grpc" => {
                    return Err(Error::invalid(
                        &var,
                        v,
                        "gRPC needs an HTTP/2 client on an async runtime, which this exporter \
                         does not bring; use http/protobuf (port 4318 on a collector)",
                    ))
                }
                _ => {
                    return Err(Error::invalid(
                        &var,
                        v,
                        "expected http/protobuf or http/json",
                    ))
                }
            };
        }
        // Header values are credentials: never echoed, not even when they
        // are not UTF-8.
        if let Some((var, v)) = signal_var("HEADERS", env_secret)? {
            c.headers = parse_headers(&var, &v)?;
        }
        c.tls_from_env()?;
        if let Some((var, v)) = signal_var("TIMEOUT", env_var)? {
            c.timeout = millis(&var, &v)?;
        }
        if let Some((var, v)) = signal_var("COMPRESSION", env_var)? {
            c.gzip = match v.as_str() {
                "gzip" => true,
                "none" => false,
                _ => return Err(Error::invalid(&var, v, "expected gzip or none")),
            };
        }
        if let Some(v) = env_var("OTEL_BLRP_SCHEDULE_DELAY")? {
            c.schedule_delay = millis("OTEL_BLRP_SCHEDULE_DELAY", &v)?;
        }
        if let Some(v) = env_var("OTEL_BLRP_EXPORT_TIMEOUT")? {
            c.export_timeout = millis("OTEL_BLRP_EXPORT_TIMEOUT", &v)?;
        }
        if let Some(v) = env_var("OTEL_BLRP_MAX_QUEUE_SIZE")? {
            c.max_queue_size = count("OTEL_BLRP_MAX_QUEUE_SIZE", &v)?;
        }
        if let Some(v) = env_var("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE")? {
            let n = count("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", &v)?;
            if n > c.max_queue_size {
                return Err(Error::invalid(
                    "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE",
                    v,
                    format!(
                        "larger than the queue (OTEL_BLRP_MAX_QUEUE_SIZE: {})",
                        c.max_queue_size
                    ),
                ));
            }
            c.max_export_batch_size = n;
        }
        c.max_export_batch_size = c.max_export_batch_size.min(c.max_queue_size);
        Ok(c)
    }

    /// `OTEL_EXPORTER_OTLP_(LOGS_)CERTIFICATE`, `_CLIENT_CERTIFICATE` and
    /// `_CLIENT_KEY`: each file read and checked now.
    #[cfg(feature = "otlp-tls")]
    fn tls_from_env(&mut self) -> Result<(), Error> {
        let ca = signal_var("CERTIFICATE", env_var)?;
        let client = (
            signal_var("CLIENT_CERTIFICATE", env_var)?,
            signal_var("CLIENT_KEY", env_var)?,
        );
        if !self.endpoint.starts_with("https://") {
            // Certificates do nothing for plain http. The logs variables
            // are then a mistake; the general ones may be set for every
            // signal (traces over https beside a plain-http logs
            // collector): left, and said once.
            let set: Vec<&(String, String)> =
                [&ca, &client.0, &client.1].into_iter().flatten().collect();
            if let Some((var, v)) = set.iter().find(|(var, _)| var.contains("_LOGS_")) {
                return self.check_https(var, v);
            }
            if let Some((var, _)) = set.first() {
                crate::error::report(format_args!(
                    "{var} is not used: the OTLP logs endpoint {} is plain http",
                    self.shown_endpoint()
                ));
            }
            return Ok(());
        }
        if let Some((var, v)) = ca {
            self.tls.set_ca(&var, Path::new(&v))?;
        }
        match client {
            (Some((cv, c)), Some((kv, k))) => self
                .tls
                .set_client((&cv, Path::new(&c)), (&kv, Path::new(&k))),
            (Some((var, v)), None) => Err(Error::invalid(
                &var,
                v,
                "a client certificate needs its key: set OTEL_EXPORTER_OTLP_CLIENT_KEY too",
            )),
            (None, Some((var, v))) => Err(Error::invalid(
                &var,
                v,
                "a client key needs its certificate: set OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE too",
            )),
            (None, None) => Ok(()),
        }
    }

    /// Without the `otlp-tls` feature the endpoint is plain http: a logs
    /// TLS variable is an error (the build cannot honour it), a general one
    /// (maybe set for every signal) is not used, said once.
    #[cfg(not(feature = "otlp-tls"))]
    fn tls_from_env(&mut self) -> Result<(), Error> {
        for name in ["CERTIFICATE", "CLIENT_CERTIFICATE", "CLIENT_KEY"] {
            if let Some((var, v)) = signal_var(name, env_var)? {
                if var.contains("_LOGS_") {
                    return Err(Error::invalid(&var, v, NO_TLS));
                }
                crate::error::report(format_args!(
                    "{var} is not used: this build exports logs over plain http only (the \
                     crate's otlp-tls feature adds TLS)"
                ));
                return Ok(());
            }
        }
        Ok(())
    }

    /// A certificate setting for an `http://` endpoint would do nothing: an
    /// error, not a setting silently ignored.
    #[cfg(feature = "otlp-tls")]
    fn check_https(&self, setting: &str, value: &str) -> Result<(), Error> {
        if self.endpoint.starts_with("https://") {
            return Ok(());
        }
        Err(Error::invalid(
            setting,
            value,
            format!(
                "the endpoint {} is plain http: certificates apply to https:// endpoints",
                self.shown_endpoint()
            ),
        ))
    }

    /// Trusts the CA certificates in the PEM file at `path`, instead of
    /// the built-in webpki roots (Mozilla's): a collector whose certificate
    /// a private CA signed. As `OTEL_EXPORTER_OTLP_CERTIFICATE` does. The
    /// file is read now (at most [`MAX_PEM_BYTES`](crate::otlp::MAX_PEM_BYTES),
    /// a regular file); an unreadable file, one with no certificate, or an
    /// `http://` endpoint is an error naming the path.
    ///
    /// ```no_run
    /// use slog_host::otlp::OtlpConfig;
    /// # fn main() -> Result<(), slog_host::Error> {
    /// let config = OtlpConfig::new("https://otel-collector:4318/v1/logs")?
    ///     .certificate("/etc/otel/ca.pem")?
    ///     .client_certificate("/etc/otel/client.pem", "/etc/otel/client.key")?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "otlp-tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "otlp-tls")))]
    pub fn certificate(mut self, path: impl AsRef<std::path::Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        self.check_https("OTLP certificate", &path.display().to_string())?;
        self.tls.set_ca("OTLP certificate", path)?;
        Ok(self)
    }

    /// Presents the certificate chain in the PEM file `cert` and its
    /// private key in `key` (PKCS#8, PKCS#1 or SEC1) when the collector asks
    /// for one: mutual TLS, as `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE` and
    /// `_CLIENT_KEY` do. Both read now; a key that does not belong to the
    /// certificate is an error (the key is never shown).
    #[cfg(feature = "otlp-tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "otlp-tls")))]
    pub fn client_certificate(
        mut self,
        cert: impl AsRef<std::path::Path>,
        key: impl AsRef<std::path::Path>,
    ) -> Result<Self, Error> {
        let (cert, key) = (cert.as_ref(), key.as_ref());
        self.check_https("OTLP client certificate", &cert.display().to_string())?;
        self.tls
            .set_client(("OTLP client certificate", cert), ("OTLP client key", key))?;
        Ok(self)
    }

    /// Encodes requests as `protocol` says (default: protobuf).
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.protocol = protocol;
        self
    }

    /// Adds an HTTP header to every request (such as an API key). A name
    /// that is not an HTTP token, or a value with a control character, is
    /// an error (naming the header, never showing the value).
    pub fn header(mut self, name: &str, value: &str) -> Result<Self, Error> {
        if !is_token(name) || !is_field_value(value) {
            return Err(Error::invalid(
                "OTLP header",
                format!("{name}: {HIDDEN}"),
                "the name must be an HTTP token and the value free of control characters",
            ));
        }
        self.headers.push((name.to_owned(), value.to_owned()));
        Ok(self)
    }

    /// The longest one request may take (default 10 s; at most 10 min).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout.clamp(Duration::from_millis(1), MAX_OTLP_DURATION);
        self
    }

    /// Compresses request bodies with gzip (default: off).
    pub fn gzip(mut self, on: bool) -> Self {
        self.gzip = on;
        self
    }

    /// The batch processor's settings: how long a record waits for a full
    /// batch, the most records queued, the most in one request, and how
    /// long one export may take (defaults 1 s, 2048, 512, 30 s; a flush or
    /// the guard's drop waits at most this or the shutdown timeout). Each is
    /// kept within 1 and its maximum; the batch within the queue.
    pub fn batch(
        mut self,
        schedule_delay: Duration,
        max_queue_size: usize,
        max_export_batch_size: usize,
        export_timeout: Duration,
    ) -> Self {
        let ms = Duration::from_millis(1);
        self.schedule_delay = schedule_delay.clamp(ms, MAX_OTLP_DURATION);
        self.max_queue_size = max_queue_size.clamp(1, MAX_QUEUE_SIZE);
        self.max_export_batch_size = max_export_batch_size.clamp(1, self.max_queue_size);
        self.export_timeout = export_timeout.clamp(ms, MAX_OTLP_DURATION);
        self
    }

    /// The most bytes of encoded records waiting for export (default
    /// 16 MiB, at least 64 KiB): with [`batch`](Self::batch)'s queue size,
    /// the bound on the exporter's memory while a collector is slow or down.
    pub fn max_queue_bytes(mut self, bytes: usize) -> Self {
        self.max_queue_bytes = bytes.max(64 << 10);
        self
    }

    /// The endpoint requests go to.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The endpoint without its query (which may hold a key), as errors and
    /// reports show it.
    pub(crate) fn shown_endpoint(&self) -> String {
        shown(&self.endpoint)
    }
}

/// Why a TLS setting is refused by a build without the `otlp-tls` feature.
#[cfg(not(feature = "otlp-tls"))]
const NO_TLS: &str =
    "this build exports over plain http only: enable the crate's otlp-tls feature \
                      for https, a private CA or client certificates";

/// What is shown instead of a credential.
const HIDDEN: &str = "(not shown: it is a credential)";

/// `url` without its query and fragment.
fn shown(url: &str) -> String {
    match url.find(['?', '#']) {
        Some(at) => format!("{}?(query not shown)", &url[..at]),
        None => url.to_owned(),
    }
}

/// `OTEL_EXPORTER_OTLP_LOGS_<name>`, or else `OTEL_EXPORTER_OTLP_<name>`:
/// the variable set and its value, read with `read`.
fn signal_var(
    name: &str,
    read: fn(&str) -> Result<Option<String>, Error>,
) -> Result<Option<(String, String)>, Error> {
    for var in [
        format!("OTEL_EXPORTER_OTLP_LOGS_{name}"),
        format!("OTEL_EXPORTER_OTLP_{name}"),
    ] {
        if let Some(v) = read(&var)? {
            return Ok(Some((var, v)));
        }
    }
    Ok(None)
}

/// An `http` or `https` URL with a host, an optional port (1 to 65535), and
/// no credentials in it (they go in headers).
fn check_endpoint(setting: &str, value: &str) -> Result<String, Error> {
    let v = value.trim();
    let bad = |why: &str| Error::invalid(setting, shown(value), why);
    let rest = v
        .strip_prefix("http://")
        .or_else(|| v.strip_prefix("https://"))
        .ok_or_else(|| bad("expected an http:// or https:// URL"))?;
    if v.contains(|c: char| c.is_whitespace() || c.is_control()) {
        return Err(bad("a URL has no white space or control characters"));
    }
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    if authority.contains('@') {
        return Err(Error::invalid(
            setting,
            HIDDEN,
            "credentials in the URL are not sent; put them in OTEL_EXPORTER_OTLP_HEADERS",
        ));
    }
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let end = v6
                .find(']')
                .ok_or_else(|| bad("an IPv6 address needs its ']'"))?;
            let after = &v6[end + 1..];
            match after.strip_prefix(':') {
                Some(p) => (&v6[..end], Some(p)),
                None if after.is_empty() => (&v6[..end], None),
                None => return Err(bad("unexpected text after the IPv6 address")),
            }
        }
        None => match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        },
    };
    if host.is_empty() {
        return Err(bad("the URL has no host"));
    }
    if let Some(p) = port {
        if !matches!(p.parse::<u16>(), Ok(n) if n > 0) || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("the port must be a number from 1 to 65535"));
        }
    }
    // The rules the HTTP client applies when it sends: a URL it cannot
    // use is an error here, not a failure of every export.
    if !host.is_ascii() {
        return Err(bad(
            "the host is not ASCII (write an internationalised name in its xn-- form)",
        ));
    }
    match ureq::http::Uri::try_from(v) {
        Ok(uri) if uri.host().is_some() => {}
        _ => {
            return Err(bad(
                "not a URL the HTTP client can send to (only the characters RFC 3986 allows, \
                 percent-encode the others)",
            ))
        }
    }
    #[cfg(not(feature = "otlp-tls"))]
    if v.starts_with("https://") {
        return Err(bad(NO_TLS));
    }
    Ok(v.to_owned())
}

/// Whole milliseconds, from 1 to [`MAX_OTLP_DURATION`].
fn millis(setting: &str, value: &str) -> Result<Duration, Error> {
    let max = MAX_OTLP_DURATION.as_millis() as u64;
    let n = crate::settings::parse_count(setting, value, "milliseconds", max)?;
    if n == 0 {
        return Err(Error::invalid(
            setting,
            value,
            "must be at least 1 millisecond",
        ));
    }
    Ok(Duration::from_millis(n))
}

fn count(setting: &str, value: &str) -> Result<usize, Error> {
    let n = crate::settings::parse_count(setting, value, "records", MAX_QUEUE_SIZE as u64)?;
    if n == 0 {
        return Err(Error::invalid(setting, value, "must be at least 1 record"));
    }
    Ok(n as usize)
}

/// `key1=value1,key2=value2`, each key and value percent-decoded and
/// trimmed (the W3C Baggage form the specification names).
fn parse_headers(setting: &str, value: &str) -> Result<Vec<(String, String)>, Error> {
    let mut out = Vec::new();
    for pair in value.split(',').filter(|p| !p.trim().is_empty()) {
        let Some((k, v)) = pair.split_once('=') else {
            return Err(Error::invalid(
                setting,
                HIDDEN,
                "expected name=value pairs separated by commas; a pair has no '='",
            ));
        };
        let (k, v) = (percent_decode(k.trim()), percent_decode(v.trim()));
        match (k, v) {
            (Some(k), Some(v)) if is_token(&k) && is_field_value(&v) => {
                out.push((k, v));
            }
            _ => {
                return Err(Error::invalid(
                    setting,
                    HIDDEN,
                    "a header name is not an HTTP token, a value holds a control character, \
                     or a % escape is not two hex digits of UTF-8",
                ))
            }
        }
    }
    Ok(out)
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// An HTTP field value: no control characters but tab.
fn is_field_value(v: &str) -> bool {
    !v.chars().any(|c| c.is_control() && c != '\t')
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b.get(i + 1..i + 3)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_percent_decoded() {
        let h = parse_headers("H", "api-key=a%20b%3D, x-tenant = t1 ").unwrap();
        assert_eq!(
            h,
            vec![
                ("api-key".to_owned(), "a b=".to_owned()),
                ("x-tenant".to_owned(), "t1".to_owned())
            ]
        );
        assert!(parse_headers("H", "novalue").is_err());
        assert!(parse_headers("H", "k=%zz").is_err());
        assert!(parse_headers("H", "k=a%0d%0aInjected: 1").is_err());
        assert!(parse_headers("H", "bad name=v").is_err());
        assert!(parse_headers("H", "k=%01").is_err());
        assert!(parse_headers("H", "k=%7f").is_err());
        assert!(parse_headers("H", "k=%+a").is_err());
        assert!(OtlpConfig::default().header("k", "a\u{1}").is_err());
        assert!(OtlpConfig::default().header("k v", "a").is_err());
        assert!(OtlpConfig::default().header("x-api-key", "a b\tc").is_ok());
        let e = parse_headers("H", "secret").unwrap_err().to_string();
        assert!(!e.contains("secret"), "{e}");
    }

    #[test]
    fn endpoints_must_be_http_urls() {
        assert!(check_endpoint("E", "http://c:4318/v1/logs").is_ok());
        #[cfg(feature = "otlp-tls")]
        assert!(check_endpoint("E", "https://c").is_ok());
        // Without TLS compiled in, https is an error saying what to enable.
        #[cfg(not(feature = "otlp-tls"))]
        {
            let e = check_endpoint("E", "https://c/v1/logs")
                .unwrap_err()
                .to_string();
            assert!(e.contains("otlp-tls"), "{e}");
        }
        assert!(check_endpoint("E", "http://[::1]:4318/v1/logs").is_ok());
        assert!(check_endpoint("E", "http://c:4318?k=v").is_ok());
        assert!(check_endpoint("E", "http://xn--exmple-cua.com:4318/v1/logs").is_ok());
        assert!(check_endpoint("E", "http://c/v1/logs?a=%7B%7D").is_ok());
        for bad in [
            "c:4318",
            "ftp://c",
            "http://",
            "http:///x",
            "http://a b",
            "http://c:99999/v1/logs",
            "http://c:0",
            "http://c:+1",
            "http://[::1",
            "http://[::1]x",
            "http://:4318",
            "http://exämple.com:4318/v1/logs",
            "http://a:1:2/v1/logs",
            "http://host:1/p<>{}",
        ] {
            let e = check_endpoint("E", bad).unwrap_err();
            assert_eq!(e.setting(), Some("E"), "{bad}");
        }
        let e = check_endpoint("E", "https://user:s3cret@c/v1/logs").unwrap_err();
        assert!(!e.to_string().contains("s3cret"), "{e}");
        let e = check_endpoint("E", "ftp://c/?api_key=s3cret").unwrap_err();
        assert!(!e.to_string().contains("s3cret"), "{e}");
        let c = OtlpConfig::new("http://c/v1/logs?api_key=s3cret").unwrap();
        assert!(!format!("{c:?}").contains("s3cret"));
    }
}
