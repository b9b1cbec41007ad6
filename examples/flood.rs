//! Replays the failure that filled a disk: an accept loop that fails and logs
//! an error on every iteration, as fast as it can, for a few seconds.
//!
//! ```text
//! cargo run --release --example flood | tail -3          # 3 s, default budget 100/1s
//! FLOOD_SECONDS=5 LOG_FLOOD=10/1s cargo run --example flood
//! ```
//!
//! The flood guard lets 100 records per second through from the call site
//! and writes one summary per second with the count it dropped; at the end
//! the program prints how many errors it logged and how many lines it wrote.

use std::io::ErrorKind;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use slog::{error, info};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seconds: u64 = std::env::var("FLOOD_SECONDS").map_or(Ok(3), |s| s.parse())?;
    let guard = slog_host::Builder::from_env()?
        .format(slog_host::Format::Json)
        .init()?;
    let log = guard.logger().clone();

    // A listener with no client: every non-blocking accept fails at once,
    // like an accept loop whose process has run out of file descriptors.
    let listener = TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    info!(log, "accept loop started"; "addr" => %listener.local_addr()?, "seconds" => seconds);

    let start = Instant::now();
    let mut errors = 0u64;
    while start.elapsed() < Duration::from_secs(seconds) {
        match listener.accept() {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::Other => {
                errors += 1;
                error!(log, "accept failed"; "error" => %e);
            }
            Err(e) => return Err(e.into()),
        }
    }
    info!(log, "accept loop stopped"; "errors" => errors);
    let suppressed = guard.suppressed();
    drop(guard); // writes the last summary
    eprintln!(
        "{errors} errors logged in {seconds} s; {} written as records, {suppressed} suppressed and \
         counted in the summaries",
        errors - suppressed
    );
    Ok(())
}
