//! A small HTTP service (axum on tokio) that logs through `slog_host::init()`
//! from two front doors: tower-http's `TraceLayer` (`tracing`: a `request`
//! span with `method`, `uri` and `version`, and a `finished processing
//! request` event with `latency` and `status`, whose record carries the
//! span's fields), and a middleware of its own (slog: `request done`).
//!
//! ```text
//! cargo run --example microservice            # listens on 127.0.0.1:3000
//! curl http://127.0.0.1:3000/orders/42
//! ADDR=127.0.0.1:8080 LOG_FORMAT=json RUST_LOG=info cargo run --example microservice
//! ```
//!
//! It stops cleanly on SIGINT or SIGTERM: in-flight requests finish, then the
//! `LogGuard` is dropped, which writes every queued record.

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use slog::{info, Logger};
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

async fn order(Path(id): Path<u64>) -> Response {
    if id == 0 {
        return (StatusCode::NOT_FOUND, "no such order\n").into_response();
    }
    format!("{{\"order\":{id},\"status\":\"shipped\"}}\n").into_response()
}

async fn health() -> &'static str {
    "ok\n"
}

/// One record per request, after the response is ready.
async fn log_request(State(log): State<Logger>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let response = next.run(req).await;
    info!(log, "request done";
        "http.method" => %method,
        "http.target" => path,
        "http.status_code" => response.status().as_u16(),
        "duration_us" => start.elapsed().as_micros() as u64);
    response
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("install SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = term.recv() => {},
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let guard = slog_host::init()?;
    let log = guard.logger().clone();

    // A SocketAddr, not a string: binding a string would resolve it on a
    // blocking-pool thread.
    let addr: SocketAddr = std::env::var("ADDR")
        .unwrap_or_else(|_| "127.0.0.1:3000".to_string())
        .parse()?;
    let app = Router::new()
        .route("/health", get(health))
        .route("/orders/{id}", get(order))
        .layer(middleware::from_fn_with_state(log.clone(), log_request))
        // tower-http's spans and events are at DEBUG by default: INFO here,
        // so `RUST_LOG=info` keeps one record per request from each door.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_request(())
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        );

    let listener = tokio::net::TcpListener::bind(addr).await?;
    info!(log, "listening"; "addr" => %listener.local_addr()?);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    info!(log, "stopped");
    drop(guard); // writes everything still queued
    Ok(())
}
