//! The exporter's TLS settings (feature `otlp-tls`): a private CA
//! (`OTEL_EXPORTER_OTLP_CERTIFICATE`, [`OtlpConfig::certificate`]) and a
//! client certificate with its key for mutual TLS
//! (`OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE` and `_CLIENT_KEY`,
//! [`OtlpConfig::client_certificate`]). The PEM files are read and checked
//! when the setting is made (at `init` for the variables): a file that
//! cannot be read, holds no certificate, or a key that does not belong to
//! its certificate is an error naming the setting and the path, never a
//! failure of every export later. The key's content is never shown.
//!
//! [`OtlpConfig::certificate`]: super::OtlpConfig::certificate
//! [`OtlpConfig::client_certificate`]: super::OtlpConfig::client_certificate

use std::fmt;
use std::path::{Path, PathBuf};

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use ureq::tls::{Certificate, ClientCert, PrivateKey, RootCerts, TlsConfig};

use crate::config_file;
use crate::error::Error;

/// The largest certificate or key file read: 1 MiB (a bundle of every
/// public CA is about 200 KiB).
pub const MAX_PEM_BYTES: u64 = 1 << 20;

/// The certificates to trust and the one to present.
#[derive(Clone, Default)]
pub(crate) struct Tls {
    /// A private CA: these certificates, instead of the built-in roots.
    ca: Option<(PathBuf, Vec<Certificate<'static>>)>,
    /// The client certificate's file, the key's file, both read.
    client: Option<(PathBuf, PathBuf, ClientCert)>,
}

impl Tls {
    /// Trusts the certificates in the PEM file at `path` (set by `setting`)
    /// instead of the built-in webpki roots.
    pub(crate) fn set_ca(&mut self, setting: &str, path: &Path) -> Result<(), Error> {
        let certs = certificates(setting, path)?;
        // Each must be usable as a trust anchor (a parsable X.509
        // certificate): checked now, not at the first handshake.
        let mut store = rustls::RootCertStore::empty();
        for c in &certs {
            store.add(c.clone()).map_err(|e| {
                Error::invalid(
                    setting,
                    shown(path),
                    format!("not a usable CA certificate: {e}"),
                )
            })?;
        }
        self.ca = Some((path.to_owned(), certs.iter().map(ureq_cert).collect()));
        Ok(())
    }

    /// Presents the certificate chain in `cert` with the private key in
    /// `key` (settings named `cert_setting`, `key_setting`).
    pub(crate) fn set_client(
        &mut self,
        (cert_setting, cert): (&str, &Path),
        (key_setting, key): (&str, &Path),
    ) -> Result<(), Error> {
        let chain = certificates(cert_setting, cert)?;
        let bad_key = |why: &str| Error::invalid(key_setting, shown(key), why);
        let (_, bytes) = config_file::read(key, MAX_PEM_BYTES)
            .map_err(|e| Error::invalid(key_setting, shown(key), format!("cannot read it: {e}")))?;
        if bytes
            .windows(b"ENCRYPTED PRIVATE KEY".len())
            .any(|w| w == b"ENCRYPTED PRIVATE KEY")
        {
            return Err(bad_key(
                "an encrypted private key: not supported (no passphrase setting); store it \
                 unencrypted, as a Kubernetes TLS secret does",
            ));
        }
        // The PEM error is not shown: it can quote a line of the key.
        let der = PrivateKeyDer::from_pem_slice(&bytes)
            .map_err(|_| bad_key("no PEM private key in it (PKCS#8, PKCS#1 or SEC1)"))?;
        let provider = rustls::crypto::ring::default_provider();
        rustls::sign::CertifiedKey::from_der(chain.clone(), der.clone_key(), &provider).map_err(
            |e| match e {
                rustls::Error::InconsistentKeys(_) => Error::invalid(
                    key_setting,
                    shown(key),
                    format!(
                        "the key does not belong to the certificate in {cert_setting} ({})",
                        cert.display()
                    ),
                ),
                _ => bad_key(
                    "a private key this build cannot use (RSA, ECDSA P-256/P-384 or Ed25519)",
                ),
            },
        )?;
        let key_der = PrivateKey::from_pem(&bytes)
            .map_err(|_| bad_key("no PEM private key in it (PKCS#8, PKCS#1 or SEC1)"))?;
        let chain: Vec<Certificate<'static>> = chain.iter().map(ureq_cert).collect();
        self.client = Some((
            cert.to_owned(),
            key.to_owned(),
            ClientCert::new_with_certs(&chain, key_der),
        ));
        Ok(())
    }

    /// The HTTP client's TLS settings.
    pub(crate) fn config(&self) -> TlsConfig {
        let roots = match &self.ca {
            Some((_, certs)) => RootCerts::new_with_certs(certs),
            None => RootCerts::WebPki,
        };
        TlsConfig::builder()
            .root_certs(roots)
            .client_cert(self.client.as_ref().map(|(_, _, c)| c.clone()))
            .build()
    }
}

impl PartialEq for Tls {
    fn eq(&self, other: &Tls) -> bool {
        let ders =
            |c: &[Certificate<'static>]| c.iter().map(|c| c.der().to_vec()).collect::<Vec<_>>();
        let ca = |t: &Tls| t.ca.as_ref().map(|(p, c)| (p.clone(), ders(c)));
        let client = |t: &Tls| {
            t.client.as_ref().map(|(c, k, cc)| {
                (
                    c.clone(),
                    k.clone(),
                    ders(cc.certs()),
                    cc.private_key().der().to_vec(),
                )
            })
        };
        ca(self) == ca(other) && client(self) == client(other)
    }
}

impl Eq for Tls {}

impl fmt::Debug for Tls {
    // Paths only: never the key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls")
            .field("ca", &self.ca.as_ref().map(|(p, c)| (p, c.len())))
            .field("client", &self.client.as_ref().map(|(c, k, _)| (c, k)))
            .finish()
    }
}

/// Why a request failed for good, when its error is one a retry cannot
/// mend: the collector's certificate is not trusted (the wrong CA, another
/// name, expired), or the collector refused ours (or its absence). Other
/// failures (a refused connection, a timeout) are retried.
pub(crate) fn final_failure(e: &ureq::Error) -> Option<String> {
    let tls = match e {
        ureq::Error::Rustls(e) => e,
        ureq::Error::Io(io) => io.get_ref()?.downcast_ref::<rustls::Error>()?,
        _ => return None,
    };
    match tls {
        rustls::Error::InvalidCertificate(why) => Some(format!(
            "the collector's TLS certificate is not trusted ({why:?}): trust the CA that signed \
             it (OTEL_EXPORTER_OTLP_CERTIFICATE or OtlpConfig::certificate; the built-in webpki \
             roots when unset), or check the certificate's host names and dates"
        )),
        rustls::Error::AlertReceived(
            alert @ (rustls::AlertDescription::CertificateRequired
            | rustls::AlertDescription::BadCertificate
            | rustls::AlertDescription::UnknownCA
            | rustls::AlertDescription::CertificateUnknown
            | rustls::AlertDescription::CertificateExpired
            | rustls::AlertDescription::CertificateRevoked
            | rustls::AlertDescription::AccessDenied),
        ) => Some(format!(
            "the collector refused the TLS client certificate ({alert:?}): it wants one its CA \
             signed, set with OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and _CLIENT_KEY"
        )),
        _ => None,
    }
}

/// The certificates in the PEM file at `path`: at least one.
fn certificates(setting: &str, path: &Path) -> Result<Vec<CertificateDer<'static>>, Error> {
    let bad = |why: String| Error::invalid(setting, shown(path), why);
    let (_, bytes) =
        config_file::read(path, MAX_PEM_BYTES).map_err(|e| bad(format!("cannot read it: {e}")))?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("not a PEM file: {e}")))?;
    if certs.is_empty() {
        return Err(bad(
            "no certificate in it (expected -----BEGIN CERTIFICATE----- blocks)".to_owned(),
        ));
    }
    Ok(certs)
}

fn ureq_cert(c: &CertificateDer<'_>) -> Certificate<'static> {
    Certificate::from_der(c.as_ref()).to_owned()
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}
