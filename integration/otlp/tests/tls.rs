//! OTLP export over TLS (feature `otlp-tls`) to a real TLS server on
//! 127.0.0.1 (rustls, the receiver of `slog-host-otlp`) with certificates
//! this test makes (rcgen): a private CA, mutual TLS, a wrong CA and a
//! missing client certificate (failures counted and reported), the
//! variables in child processes, and every bad file as an error that names
//! the setting and the path.

#[path = "../../../tests/support/runner.rs"]
mod runner;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use slog::info;
use slog_host::otlp::OtlpConfig;
use slog_host::{Builder, Format, Output};
use slog_host_otlp::{seqs, Lines, Receiver, Reply};

/// The certificates of one test run, as PEM files in a directory of its own.
struct Pki {
    dir: PathBuf,
    ca: CertifiedIssuer<'static, KeyPair>,
    server: (CertificateDer<'static>, PrivateKeyDer<'static>),
    client: CertificateDer<'static>,
}

impl Pki {
    fn new() -> Pki {
        let dir = std::env::temp_dir().join(format!("slog-host-tls-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let ca = ca("slog-host test CA");
        let other = ca_cert("another CA");
        let (server, server_key) = leaf(&ca, "localhost", true);
        let (client, client_key) = leaf(&ca, "orders-service", false);
        let (_, stranger_key) = leaf(&ca, "someone else", false);
        for (name, pem) in [
            ("ca.pem", ca.pem()),
            ("other-ca.pem", other),
            ("client.pem", client.pem()),
            ("client.key", client_key.serialize_pem()),
            ("stranger.key", stranger_key.serialize_pem()),
        ] {
            std::fs::write(dir.join(name), pem).unwrap();
        }
        let server_key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
        Pki {
            dir,
            server: (server.der().clone(), server_key),
            client: client.der().clone(),
            ca,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn path_str(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }

    /// A receiver with the server certificate; with `clients`, it asks for
    /// a client certificate the CA signed and refuses a handshake without.
    fn receiver(&self, clients: bool) -> Receiver {
        let builder = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap();
        let builder = if clients {
            let mut roots = rustls::RootCertStore::empty();
            roots.add(self.ca.der().clone()).unwrap();
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                Arc::new(rustls::crypto::ring::default_provider()),
            )
            .build()
            .unwrap();
            builder.with_client_cert_verifier(verifier)
        } else {
            builder.with_no_client_auth()
        };
        let config = builder
            .with_single_cert(vec![self.server.0.clone()], self.server.1.clone_key())
            .unwrap();
        Receiver::start_tls(config, |_| Reply::Status(200))
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn ca_params(name: &str) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    CertifiedIssuer::self_signed(ca_params(name), KeyPair::generate().unwrap()).unwrap()
}

fn ca_cert(name: &str) -> String {
    ca(name).pem()
}

/// A certificate the CA signed: for the server `localhost` (its name and
/// 127.0.0.1), or a client's.
fn leaf(
    ca: &CertifiedIssuer<'static, KeyPair>,
    name: &str,
    server: bool,
) -> (rcgen::Certificate, KeyPair) {
    let names = if server {
        vec!["localhost".to_owned(), "127.0.0.1".to_owned()]
    } else {
        Vec::new()
    };
    let mut params = CertificateParams::new(names).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    params.extended_key_usages = vec![if server {
        rcgen::ExtendedKeyUsagePurpose::ServerAuth
    } else {
        rcgen::ExtendedKeyUsagePurpose::ClientAuth
    }];
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, ca).unwrap();
    (cert, key)
}

/// JSON lines into `lines`, every record also exported with `config`.
fn exporting(lines: &Lines, config: OtlpConfig) -> slog_host::LogGuard {
    Builder::new()
        .global(false)
        .flood(None)
        .service("orders", "1.2.3")
        .output(Output::Writer(Box::new(lines.clone())))
        .format(Format::Json)
        .tee(
            Output::Otlp(config.batch(
                Duration::from_millis(50),
                2048,
                512,
                Duration::from_secs(10),
            )),
            Format::Json,
            "info",
        )
        .unwrap()
        .init()
        .unwrap()
}

/// Logs `n` records with `config` and flushes: the guard's counts
/// (exported, dropped) and the lines.
fn log_through(config: OtlpConfig, n: i64, src: &str) -> (u64, u64, Lines) {
    let lines = Lines::default();
    let guard = exporting(&lines, config);
    for i in 0..n {
        info!(guard.logger(), "over TLS"; "src" => src, "seq" => i);
    }
    guard.flush();
    let counts = (guard.exported(), guard.export_dropped());
    drop(guard);
    (counts.0, counts.1, lines)
}

/// The `seq`s `rx` got from `src`, sorted.
fn sorted_seqs(rx: &Receiver, src: &str) -> Vec<i64> {
    let mut got = seqs(&rx.records(), src);
    got.sort_unstable();
    got
}

/// The sum of `dropped` over the export-drop reports in `lines`, and their
/// `error` fields.
fn reports(lines: &Lines) -> (u64, Vec<String>) {
    let errors = lines
        .drop_reports()
        .iter()
        .map(|v| v["error"].as_str().unwrap_or("").to_owned())
        .collect();
    (lines.reported_drops(), errors)
}

fn a_private_ca_is_trusted_and_the_built_in_roots_are_not() {
    let pki = Pki::new();
    let rx = pki.receiver(false);
    let config = OtlpConfig::new(&rx.endpoint())
        .unwrap()
        .certificate(pki.path("ca.pem"))
        .unwrap();
    let (exported, dropped, lines) = log_through(config, 50, "ca");
    assert_eq!((exported, dropped), (50, 0), "{}", lines.text());
    assert_eq!(sorted_seqs(&rx, "ca"), (0..50).collect::<Vec<_>>());
    assert_eq!(
        *rx.tls().clients.lock().unwrap(),
        vec![None],
        "one connection, no client certificate"
    );
    assert!(rx.tls().failures.lock().unwrap().is_empty());

    // The control: the same receiver and records, the built-in roots (no
    // webpki root signs the private CA): nothing arrives, all counted.
    let config = OtlpConfig::new(&rx.endpoint()).unwrap();
    let (exported, dropped, lines) = log_through(config, 50, "roots");
    assert_eq!((exported, dropped), (0, 50), "{}", lines.text());
    assert!(sorted_seqs(&rx, "roots").is_empty());
    let (reported, errors) = reports(&lines);
    assert_eq!(reported, 50, "{}", lines.text());
    assert!(
        errors.iter().all(|e| e.contains("certificate")),
        "the reports say why: {errors:?}"
    );
    assert!(
        !rx.tls().failures.lock().unwrap().is_empty(),
        "the server saw the handshake fail"
    );
}

fn mutual_tls_presents_the_client_certificate() {
    let pki = Pki::new();
    let rx = pki.receiver(true);
    let config = OtlpConfig::new(&rx.endpoint())
        .unwrap()
        .certificate(pki.path("ca.pem"))
        .unwrap()
        .client_certificate(pki.path("client.pem"), pki.path("client.key"))
        .unwrap();
    let shown = format!("{config:?}");
    let key = std::fs::read_to_string(pki.path("client.key")).unwrap();
    let key_line = key.lines().nth(1).unwrap();
    assert!(!shown.contains(key_line), "the key is never shown: {shown}");
    let (exported, dropped, lines) = log_through(config, 50, "mtls");
    assert_eq!((exported, dropped), (50, 0), "{}", lines.text());
    assert_eq!(sorted_seqs(&rx, "mtls"), (0..50).collect::<Vec<_>>());
    assert_eq!(
        *rx.tls().clients.lock().unwrap(),
        vec![Some(pki.client.to_vec())],
        "the server saw the client's certificate"
    );

    // The control: no client certificate, and the server refuses.
    let config = OtlpConfig::new(&rx.endpoint())
        .unwrap()
        .certificate(pki.path("ca.pem"))
        .unwrap();
    let (exported, dropped, lines) = log_through(config, 50, "anonymous");
    assert_eq!((exported, dropped), (0, 50), "{}", lines.text());
    assert!(sorted_seqs(&rx, "anonymous").is_empty());
    assert_eq!(reports(&lines).0, 50, "{}", lines.text());
    assert!(!rx.tls().failures.lock().unwrap().is_empty());
}

fn a_wrong_ca_is_a_clear_counted_failure_at_once() {
    let pki = Pki::new();
    let rx = pki.receiver(false);
    let config = OtlpConfig::new(&rx.endpoint())
        .unwrap()
        .certificate(pki.path("other-ca.pem"))
        .unwrap();
    let lines = Lines::default();
    let guard = exporting(&lines, config);
    for i in 0..50 {
        info!(guard.logger(), "over TLS"; "src" => "wrong", "seq" => i);
    }
    // Not retried until the deadline: a certificate the CA did not sign
    // stays so (the flush's bound is 5 s).
    let t = Instant::now();
    guard.flush();
    let took = t.elapsed();
    assert_eq!((guard.exported(), guard.export_dropped()), (0, 50));
    drop(guard);
    assert!(took < Duration::from_secs(4), "the flush took {took:?}");
    let (reported, errors) = reports(&lines);
    assert_eq!(reported, 50);
    assert!(
        errors
            .iter()
            .all(|e| e.contains("certificate") && e.contains("OTEL_EXPORTER_OTLP_CERTIFICATE")),
        "the reports say why and what to set: {errors:?}"
    );
}

fn the_variables_configure_tls() {
    let pki = Pki::new();
    let rx = pki.receiver(true);
    let (ca, cert, key) = (
        pki.path_str("ca.pem"),
        pki.path_str("client.pem"),
        pki.path_str("client.key"),
    );
    let base = format!("https://localhost:{}", rx.addr.port());
    // The LOGS_ variables win over the general ones.
    let out = runner::run_json(
        "env_init",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &base),
            ("OTEL_EXPORTER_OTLP_CERTIFICATE", "/nonexistent/ca.pem"),
            ("OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE", &ca),
            ("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", &cert),
            ("OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY", &key),
            ("OTEL_BLRP_SCHEDULE_DELAY", "50"),
            ("LOG_STDOUT", "off"),
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        sorted_seqs(&rx, "env"),
        (0..10).collect::<Vec<_>>(),
        "{err}"
    );
    assert_eq!(
        *rx.tls().clients.lock().unwrap(),
        vec![Some(pki.client.to_vec())]
    );
}

/// Certificates do nothing for a plain-http endpoint: the general variables
/// (maybe set for every signal) are left with a note, the logs ones are an
/// error.
fn certificates_for_a_plain_http_endpoint() {
    let pki = Pki::new();
    let rx = Receiver::start(0, |_| Reply::Status(200));
    let ca = pki.path_str("ca.pem");
    let endpoint = rx.endpoint();
    let out = runner::run_json(
        "env_init",
        &[
            ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", &endpoint),
            ("OTEL_EXPORTER_OTLP_CERTIFICATE", &ca),
            ("OTEL_BLRP_SCHEDULE_DELAY", "50"),
            ("LOG_STDOUT", "off"),
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        sorted_seqs(&rx, "env"),
        (0..10).collect::<Vec<_>>(),
        "{err}"
    );
    assert_eq!(
        err.matches("OTEL_EXPORTER_OTLP_CERTIFICATE is not used")
            .count(),
        1,
        "{err}"
    );
    let out = runner::scenario_command_killed_after(
        30,
        "env_error",
        &[
            ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", &endpoint),
            ("OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE", &ca),
        ],
    )
    .output()
    .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("invalid OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE=") && err.contains("plain http"),
        "{err}"
    );
}

/// Each bad file or pair, from the variables (child processes) and from
/// code: an error naming the setting and the path, at once, the key never
/// shown.
fn bad_settings_are_errors_naming_the_setting_and_the_path() {
    let pki = Pki::new();
    let dir = pki.dir.clone();
    let fifo = dir.join("fifo.pem");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    std::fs::write(dir.join("empty.pem"), "").unwrap();
    std::fs::write(
        dir.join("encrypted.key"),
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBvTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQI\n-----END ENCRYPTED PRIVATE KEY-----\n",
    )
    .unwrap();
    let p = |name: &str| dir.join(name).display().to_string();
    let https = "https://localhost:4318";
    // (variables, what the error must say)
    type Case<'a> = (Vec<(&'a str, String)>, Vec<String>);
    let cases: Vec<Case> = vec![
        (
            vec![("OTEL_EXPORTER_OTLP_CERTIFICATE", p("missing.pem"))],
            vec![p("missing.pem"), "No such file".into()],
        ),
        (
            vec![("OTEL_EXPORTER_OTLP_CERTIFICATE", p(""))],
            vec!["a directory".into()],
        ),
        (
            vec![("OTEL_EXPORTER_OTLP_CERTIFICATE", p("fifo.pem"))],
            vec!["a FIFO".into()],
        ),
        (
            vec![("OTEL_EXPORTER_OTLP_CERTIFICATE", "/dev/zero".into())],
            vec!["a character device".into()],
        ),
        (
            vec![("OTEL_EXPORTER_OTLP_CERTIFICATE", p("empty.pem"))],
            vec!["no certificate".into()],
        ),
        (
            vec![("OTEL_EXPORTER_OTLP_CERTIFICATE", p("client.key"))],
            vec!["no certificate".into()],
        ),
        (
            vec![("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", p("client.pem"))],
            vec![
                "needs its key".into(),
                "OTEL_EXPORTER_OTLP_CLIENT_KEY".into(),
            ],
        ),
        (
            vec![("OTEL_EXPORTER_OTLP_CLIENT_KEY", p("client.key"))],
            vec!["needs its certificate".into()],
        ),
        (
            vec![
                ("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", p("client.pem")),
                ("OTEL_EXPORTER_OTLP_CLIENT_KEY", p("stranger.key")),
            ],
            vec![
                "does not belong to the certificate".into(),
                p("stranger.key"),
            ],
        ),
        (
            vec![
                ("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", p("client.pem")),
                ("OTEL_EXPORTER_OTLP_CLIENT_KEY", p("encrypted.key")),
            ],
            vec!["an encrypted private key".into()],
        ),
        (
            vec![
                ("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", p("client.pem")),
                ("OTEL_EXPORTER_OTLP_CLIENT_KEY", p("client.pem")),
            ],
            vec!["no PEM private key".into()],
        ),
    ];
    for (vars, wanted) in cases {
        let mut env: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        env.push(("OTEL_LOGS_EXPORTER", "otlp"));
        env.push(("OTEL_EXPORTER_OTLP_ENDPOINT", https));
        let t = Instant::now();
        let out = runner::scenario_command_killed_after(30, "env_error", &env)
            .output()
            .unwrap();
        assert!(t.elapsed() < Duration::from_secs(10), "{vars:?}: hung");
        let err = String::from_utf8_lossy(&out.stderr);
        // The variable at fault: the one set alone, the key when both are.
        let var = vars[vars.len() - 1].0;
        assert!(err.contains(&format!("invalid {var}=")), "{vars:?}: {err}");
        for w in &wanted {
            assert!(err.contains(w.as_str()), "{vars:?}: wanted {w:?} in {err}");
        }
        for key in ["stranger.key", "client.key"] {
            let key = std::fs::read_to_string(pki.path(key)).unwrap();
            for line in key.lines().filter(|l| !l.starts_with("-----")) {
                assert!(!err.contains(line), "a key is never shown: {err}");
            }
        }
    }

    // A certificate for a plain-http endpoint would do nothing: an error.
    let e = OtlpConfig::new("http://localhost:4318/v1/logs")
        .unwrap()
        .certificate(pki.path("ca.pem"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("OTLP certificate") && e.contains("plain http"),
        "{e}"
    );
    // From code: the setting and the path.
    let e = OtlpConfig::new("https://localhost:4318/v1/logs")
        .unwrap()
        .client_certificate(pki.path("client.pem"), pki.path("stranger.key"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("OTLP client key") && e.contains(&p("stranger.key")),
        "{e}"
    );
}

fn child(name: &str) {
    match name {
        "env_init" => {
            let guard = slog_host::init().unwrap();
            for i in 0..10 {
                info!(guard.logger(), "from the environment"; "src" => "env", "seq" => i);
            }
            assert_eq!(guard.flush(), 0);
        }
        "env_error" => match slog_host::Builder::from_env() {
            Ok(_) => panic!("accepted"),
            Err(e) => eprintln!("{e}"),
        },
        other => panic!("no scenario {other}"),
    }
}

crate::suite_main!(
    child,
    tests: [
        a_private_ca_is_trusted_and_the_built_in_roots_are_not,
        mutual_tls_presents_the_client_certificate,
        a_wrong_ca_is_a_clear_counted_failure_at_once,
        the_variables_configure_tls,
        certificates_for_a_plain_http_endpoint,
        bad_settings_are_errors_naming_the_setting_and_the_path,
    ]
);
