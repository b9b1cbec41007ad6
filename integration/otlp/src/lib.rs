//! An OTLP/HTTP logs receiver for tests and benches: a plain HTTP/1.1
//! server on localhost that decodes each request with the official
//! protobuf definitions (opentelemetry-proto, prost) or, for `http/json`,
//! with serde_json, and answers as a test's policy says (a status, a
//! `Retry-After`, or no answer at all). [`Receiver::start_tls`] serves the
//! same over TLS (rustls, as a collector with a private CA and, if asked,
//! client certificates would).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as PbValue;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use prost::Message;

/// A line output a test can read (`Output::Writer(Box::new(lines.clone()))`).
#[derive(Clone, Default)]
pub struct Lines(Arc<Mutex<Vec<u8>>>);

impl Write for Lines {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Lines {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// The export-drop reports (`EXPORT_DROPPED_MESSAGE` records), parsed.
    pub fn drop_reports(&self) -> Vec<serde_json::Value> {
        self.text()
            .lines()
            .filter(|l| l.contains(slog_host::otlp::EXPORT_DROPPED_MESSAGE))
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// The sum of `dropped` over the export-drop reports.
    pub fn reported_drops(&self) -> u64 {
        self.drop_reports()
            .iter()
            .map(|v| v["dropped"].as_u64().unwrap())
            .sum()
    }
}

/// The `seq` attributes of the records whose `src` is `src`, in order of
/// arrival.
pub fn seqs(records: &[Rec], src: &str) -> Vec<i64> {
    records
        .iter()
        .filter(|r| r.attrs.get("src") == Some(&Val::Str(src.to_owned())))
        .map(|r| match r.attrs["seq"] {
            Val::Int(n) => n,
            ref v => panic!("seq is not an integer: {v:?}"),
        })
        .collect()
}

/// An attribute value, as decoded.
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    Str(String),
    Int(i64),
    Bool(bool),
    Double(f64),
    Empty,
}

/// One decoded log record with its scope and resource.
#[derive(Clone, Debug)]
pub struct Rec {
    pub resource: BTreeMap<String, Val>,
    pub scope: String,
    pub time_unix_nano: u64,
    pub observed_time_unix_nano: u64,
    pub severity_number: i32,
    pub severity_text: String,
    pub body: Val,
    pub attrs: BTreeMap<String, Val>,
    /// Attribute keys in order, duplicates kept (the tests check there are none).
    pub keys: Vec<String>,
    pub trace_id: Vec<u8>,
    pub span_id: Vec<u8>,
    pub flags: u32,
}

/// What the receiver saw of one request.
#[derive(Clone, Debug)]
pub struct Request {
    pub at: Instant,
    /// The request line's method and path.
    pub method: String,
    pub path: String,
    pub content_type: String,
    pub gzip: bool,
    pub status: u16,
    /// Decoded records (empty for a request answered with an error).
    pub records: Vec<Rec>,
    pub headers: Vec<(String, String)>,
}

/// How to answer request number `n` (from 0).
#[derive(Clone, Copy, Debug)]
pub enum Reply {
    Status(u16),
    StatusRetryAfter(u16, u64),
    /// This status with `Retry-After` as an HTTP-date (IMF-fixdate) this
    /// many seconds after the answer.
    StatusRetryAt(u16, u64),
    /// This status with `Retry-After` as this text, as it is.
    StatusRetryAfterText(u16, &'static str),
    /// 200 with a partial success rejecting this many records.
    PartialSuccess(i64),
    /// A redirect (this status) to the same path, which must not be followed.
    Redirect(u16),
    /// Read the request, never answer (until the receiver is dropped).
    Hang,
}

type Policy = Box<dyn Fn(usize) -> Reply + Send + Sync>;

pub struct Receiver {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
    tls: Option<Arc<TlsSeen>>,
}

/// What a TLS receiver saw of its handshakes.
#[derive(Default)]
pub struct TlsSeen {
    /// Why each failed handshake failed, as the server saw it.
    pub failures: Mutex<Vec<String>>,
    /// Each completed handshake's client certificate (DER), if one was shown.
    pub clients: Mutex<Vec<Option<Vec<u8>>>>,
}

impl Receiver {
    /// Listens on `port` of 127.0.0.1 (0: any free one).
    pub fn start(port: u16, policy: impl Fn(usize) -> Reply + Send + Sync + 'static) -> Receiver {
        Receiver::listen(port, None, policy)
    }

    /// Listens on a free port of 127.0.0.1, over TLS with `config` (its
    /// certificate, and a client verifier for mutual TLS).
    pub fn start_tls(
        config: rustls::ServerConfig,
        policy: impl Fn(usize) -> Reply + Send + Sync + 'static,
    ) -> Receiver {
        Receiver::listen(0, Some(Arc::new(config)), policy)
    }

    fn listen(
        port: u16,
        tls: Option<Arc<rustls::ServerConfig>>,
        policy: impl Fn(usize) -> Reply + Send + Sync + 'static,
    ) -> Receiver {
        let seen_tls = tls.as_ref().map(|_| Arc::new(TlsSeen::default()));
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the receiver");
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let policy: Arc<Policy> = Arc::new(Box::new(policy));
        let seen = Arc::new(Mutex::new(0usize));
        let (r, s) = (Arc::clone(&requests), Arc::clone(&stop));
        let tls_seen = seen_tls.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::Relaxed) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                let (r, s, p, seen) = (
                    Arc::clone(&r),
                    Arc::clone(&s),
                    Arc::clone(&policy),
                    Arc::clone(&seen),
                );
                let tls = tls.clone().zip(tls_seen.clone());
                std::thread::spawn(move || match tls {
                    None => serve(conn, &r, &s, &p, &seen),
                    Some((config, tls_seen)) => {
                        if let Some(conn) = handshake(conn, config, &tls_seen) {
                            serve(conn, &r, &s, &p, &seen);
                        }
                    }
                });
            }
        });
        Receiver {
            addr,
            requests,
            stop,
            tls: seen_tls,
        }
    }

    /// The endpoint URL of the logs service (`https` for a TLS receiver,
    /// with the name `localhost`, the one its certificate should carry).
    pub fn endpoint(&self) -> String {
        match self.tls {
            None => format!("http://{}/v1/logs", self.addr),
            Some(_) => format!("https://localhost:{}/v1/logs", self.addr.port()),
        }
    }

    /// A TLS receiver's handshakes.
    pub fn tls(&self) -> &TlsSeen {
        self.tls.as_deref().expect("a TLS receiver")
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    /// Every record of the accepted (2xx) requests.
    pub fn records(&self) -> Vec<Rec> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| (200..300).contains(&r.status))
            .flat_map(|r| r.records.clone())
            .collect()
    }

    /// Waits until `pred` holds for the records, at most `max`.
    pub fn wait_for(&self, max: Duration, pred: impl Fn(&[Rec]) -> bool) -> bool {
        let until = Instant::now() + max;
        while Instant::now() < until {
            if pred(&self.records()) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        pred(&self.records())
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop.
        let _ = TcpStream::connect(self.addr);
    }
}

/// The server's side of a TLS handshake on `tcp`, recorded in `seen`.
fn handshake(
    mut tcp: TcpStream,
    config: Arc<rustls::ServerConfig>,
    seen: &TlsSeen,
) -> Option<rustls::StreamOwned<rustls::ServerConnection, TcpStream>> {
    let mut conn = rustls::ServerConnection::new(config).expect("a server connection");
    while conn.is_handshaking() {
        if let Err(e) = conn.complete_io(&mut tcp) {
            seen.failures.lock().unwrap().push(e.to_string());
            // The alert out, then a lingering close, as a careful server
            // does: closing with the client's request unread would reset
            // the connection, and the client could see the reset instead
            // of the alert.
            while conn.wants_write() && conn.write_tls(&mut tcp).is_ok() {}
            let _ = tcp.shutdown(std::net::Shutdown::Write);
            let _ = tcp.set_read_timeout(Some(Duration::from_secs(2)));
            let _ = std::io::copy(&mut tcp, &mut std::io::sink());
            return None;
        }
    }
    let client = conn
        .peer_certificates()
        .and_then(|c| c.first())
        .map(|c| c.to_vec());
    seen.clients.lock().unwrap().push(client);
    Some(rustls::StreamOwned::new(conn, tcp))
}

fn serve(
    conn: impl Read + Write,
    requests: &Mutex<Vec<Request>>,
    stop: &AtomicBool,
    policy: &Policy,
    seen: &Mutex<usize>,
) {
    let mut reader = BufReader::new(conn);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        // A stopped receiver is a collector gone: a connection kept alive
        // from before is closed, not answered.
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
            }
        }
        let header = |k: &str| headers.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let len: usize = header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let n = {
            let mut s = seen.lock().unwrap();
            *s += 1;
            *s - 1
        };
        let reply = policy(n);
        let gzip = header("content-encoding").as_deref() == Some("gzip");
        let content_type = header("content-type").unwrap_or_default();
        let status = match reply {
            Reply::Status(s)
            | Reply::StatusRetryAfter(s, _)
            | Reply::StatusRetryAt(s, _)
            | Reply::StatusRetryAfterText(s, _)
            | Reply::Redirect(s) => s,
            Reply::PartialSuccess(_) => 200,
            Reply::Hang => 0,
        };
        let records = if (200..300).contains(&status) {
            let raw = if gzip {
                let mut out = Vec::new();
                flate2::read::GzDecoder::new(&body[..])
                    .read_to_end(&mut out)
                    .expect("a gzip body");
                out
            } else {
                body
            };
            if content_type == "application/json" {
                decode_json(&raw)
            } else {
                decode_proto(&raw)
            }
        } else {
            Vec::new()
        };
        requests.lock().unwrap().push(Request {
            at: Instant::now(),
            method: line.split_whitespace().next().unwrap_or("").to_owned(),
            path: line.split_whitespace().nth(1).unwrap_or("").to_owned(),
            content_type,
            gzip,
            status,
            records,
            headers: headers.clone(),
        });
        let answer = match reply {
            Reply::Hang => {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(20));
                }
                return;
            }
            Reply::Status(s) => format!("HTTP/1.1 {s} X\r\ncontent-length: 0\r\n\r\n"),
            Reply::StatusRetryAfter(s, secs) => {
                format!("HTTP/1.1 {s} X\r\nretry-after: {secs}\r\ncontent-length: 0\r\n\r\n")
            }
            Reply::StatusRetryAt(s, secs) => {
                let at = httpdate::fmt_http_date(
                    std::time::SystemTime::now() + Duration::from_secs(secs),
                );
                format!("HTTP/1.1 {s} X\r\nretry-after: {at}\r\ncontent-length: 0\r\n\r\n")
            }
            Reply::StatusRetryAfterText(s, text) => {
                format!("HTTP/1.1 {s} X\r\nretry-after: {text}\r\ncontent-length: 0\r\n\r\n")
            }
            Reply::Redirect(s) => {
                format!("HTTP/1.1 {s} X\r\nlocation: /elsewhere\r\ncontent-length: 0\r\n\r\n")
            }
            Reply::PartialSuccess(rejected) => {
                use opentelemetry_proto::tonic::collector::logs::v1::{
                    ExportLogsPartialSuccess, ExportLogsServiceResponse,
                };
                let body = ExportLogsServiceResponse {
                    partial_success: Some(ExportLogsPartialSuccess {
                        rejected_log_records: rejected,
                        error_message: "too old".into(),
                    }),
                }
                .encode_to_vec();
                let mut a = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                a.extend_from_slice(&body);
                if reader.get_mut().write_all(&a).is_err() {
                    return;
                }
                continue;
            }
        };
        if reader.get_mut().write_all(answer.as_bytes()).is_err() {
            return;
        }
        let _ = reader.get_mut().flush();
    }
}

fn pb_value(v: &Option<AnyValue>) -> Val {
    match v.as_ref().and_then(|v| v.value.as_ref()) {
        Some(PbValue::StringValue(s)) => Val::Str(s.clone()),
        Some(PbValue::IntValue(n)) => Val::Int(*n),
        Some(PbValue::BoolValue(b)) => Val::Bool(*b),
        Some(PbValue::DoubleValue(d)) => Val::Double(*d),
        None => Val::Empty,
        Some(other) => panic!("unexpected value {other:?}"),
    }
}

fn pb_attrs(kvs: &[KeyValue]) -> (BTreeMap<String, Val>, Vec<String>) {
    let map = kvs
        .iter()
        .map(|kv| (kv.key.clone(), pb_value(&kv.value)))
        .collect();
    (map, kvs.iter().map(|kv| kv.key.clone()).collect())
}

/// Decodes an `ExportLogsServiceRequest` (panics on anything else).
pub fn decode_proto(raw: &[u8]) -> Vec<Rec> {
    let req = ExportLogsServiceRequest::decode(raw).expect("a valid ExportLogsServiceRequest");
    let mut out = Vec::new();
    for rl in req.resource_logs {
        let resource = pb_attrs(&rl.resource.map(|r| r.attributes).unwrap_or_default()).0;
        for sl in rl.scope_logs {
            let scope = sl.scope.map(|s| s.name).unwrap_or_default();
            for r in sl.log_records {
                let (attrs, keys) = pb_attrs(&r.attributes);
                out.push(Rec {
                    resource: resource.clone(),
                    scope: scope.clone(),
                    time_unix_nano: r.time_unix_nano,
                    observed_time_unix_nano: r.observed_time_unix_nano,
                    severity_number: r.severity_number,
                    severity_text: r.severity_text,
                    body: pb_value(&r.body),
                    attrs,
                    keys,
                    trace_id: r.trace_id,
                    span_id: r.span_id,
                    flags: r.flags,
                });
            }
        }
    }
    out
}

fn json_value(v: &serde_json::Value) -> Val {
    let o = v.as_object().expect("an AnyValue object");
    if let Some(s) = o.get("stringValue") {
        return Val::Str(s.as_str().unwrap().to_owned());
    }
    if let Some(n) = o.get("intValue") {
        // int64 as a JSON string, as the protobuf JSON mapping says.
        return Val::Int(n.as_str().expect("intValue as a string").parse().unwrap());
    }
    if let Some(b) = o.get("boolValue") {
        return Val::Bool(b.as_bool().unwrap());
    }
    if let Some(d) = o.get("doubleValue") {
        return Val::Double(d.as_f64().unwrap());
    }
    assert!(o.is_empty(), "unexpected value {v}");
    Val::Empty
}

fn json_attrs(v: Option<&serde_json::Value>) -> (BTreeMap<String, Val>, Vec<String>) {
    let mut map = BTreeMap::new();
    let mut keys = Vec::new();
    for kv in v.and_then(|v| v.as_array()).cloned().unwrap_or_default() {
        let k = kv["key"].as_str().unwrap().to_owned();
        map.insert(k.clone(), json_value(&kv["value"]));
        keys.push(k);
    }
    (map, keys)
}

fn hex_bytes(v: &serde_json::Value) -> Vec<u8> {
    let s = v.as_str().unwrap_or("");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Decodes an OTLP JSON request (panics on anything else).
pub fn decode_json(raw: &[u8]) -> Vec<Rec> {
    let v: serde_json::Value = serde_json::from_slice(raw).unwrap_or_else(|e| {
        panic!(
            "{e}: {}",
            String::from_utf8_lossy(&raw[..raw.len().min(1500)])
        )
    });
    let mut out = Vec::new();
    for rl in v["resourceLogs"].as_array().unwrap() {
        let resource = json_attrs(rl["resource"].get("attributes")).0;
        for sl in rl["scopeLogs"].as_array().unwrap() {
            let scope = sl["scope"]["name"].as_str().unwrap().to_owned();
            for r in sl["logRecords"].as_array().unwrap() {
                let (attrs, keys) = json_attrs(r.get("attributes"));
                let nanos = |k: &str| {
                    r[k].as_str()
                        .expect("nanoseconds as a string")
                        .parse()
                        .unwrap()
                };
                out.push(Rec {
                    resource: resource.clone(),
                    scope: scope.clone(),
                    time_unix_nano: nanos("timeUnixNano"),
                    observed_time_unix_nano: nanos("observedTimeUnixNano"),
                    severity_number: r["severityNumber"].as_i64().unwrap() as i32,
                    severity_text: r["severityText"].as_str().unwrap().to_owned(),
                    body: json_value(&r["body"]),
                    attrs,
                    keys,
                    trace_id: r.get("traceId").map(hex_bytes).unwrap_or_default(),
                    span_id: r.get("spanId").map(hex_bytes).unwrap_or_default(),
                    flags: r.get("flags").and_then(|f| f.as_u64()).unwrap_or(0) as u32,
                });
            }
        }
    }
    out
}
