//! Prints a few JSON records, each with the host metadata added by `Enrich`.
//!
//! ```text
//! cargo run --example quickstart
//! POD_NAME=orders-7d9 POD_NAMESPACE=shop cargo run --example quickstart
//! ```

use std::sync::Mutex;
use std::time::Duration;

use slog::{info, o, warn, Drain};
use slog_host::{Enrich, HostCache, Refresher, SystemProbe};

fn main() -> Result<(), slog_host::Error> {
    // Detect once (environment, host name, IP); name the service.
    let probe = SystemProbe::from_env()?.service("quickstart", env!("CARGO_PKG_VERSION"));
    HostCache::global().set_probe(probe)?;
    // Keep it current in the background; dropping the handle stops the thread.
    let _refresher = Refresher::start(HostCache::global(), Duration::from_secs(30))?;

    let json = slog_host::format::json(std::io::stdout());
    let log = slog::Logger::root(Enrich::new(Mutex::new(json)).fuse(), o!());

    info!(log, "service started"; "port" => 8080);
    for (path, status) in [("/orders", 200), ("/orders/17", 404)] {
        info!(log, "request done"; "method" => "GET", "path" => path, "status" => status);
    }
    warn!(log, "slow request"; "path" => "/reports", "elapsed_ms" => 1250);
    Ok(())
}
