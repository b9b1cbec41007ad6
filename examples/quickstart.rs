//! Prints a few JSON records, each with the host metadata.
//!
//! ```text
//! cargo run --example quickstart
//! POD_NAME=orders-7d9 POD_NAMESPACE=shop RUST_LOG=debug cargo run --example quickstart
//! ```

use slog::{debug, info, warn};
use slog_host::{Builder, Format};

fn main() -> Result<(), slog_host::Error> {
    // The environment (RUST_LOG, POD_NAME, ...) as `slog_host::init()` reads
    // it, with JSON output even on a terminal.
    let guard = Builder::from_env()?
        .service("quickstart", env!("CARGO_PKG_VERSION"))
        .format(Format::Json)
        .init()?;
    let log = guard.logger();

    info!(log, "service started"; "port" => 8080);
    for (path, status) in [("/orders", 200), ("/orders/17", 404)] {
        info!(log, "request done"; "method" => "GET", "path" => path, "status" => status);
    }
    debug!(log, "shown with RUST_LOG=debug"; "cache_entries" => 12);
    warn!(log, "slow request"; "path" => "/reports", "elapsed_ms" => 1250);
    log::info!("a record from the log crate, enriched the same way");
    let span = tracing::info_span!("request", method = "GET", uri = "/orders/17");
    span.in_scope(|| tracing::info!(order_id = 17, "a tracing event, with its span's fields"));
    Ok(()) // the guard is dropped here: every queued record is written
}
