//! A panic in a service built with `panic = "abort"`: the panic hook that
//! `init()` installs writes the panic as one `FATAL` record, after every
//! record logged before it, and only then lets the process abort.
//!
//! ```text
//! cargo run --profile panic-abort --example panic_abort    # ends with SIGABRT
//! RUST_BACKTRACE=1 cargo run --profile panic-abort --example panic_abort
//! ```
//!
//! The `panic-abort` profile is the `dev` profile with `panic = "abort"`
//! (root `Cargo.toml`). Built with the default profile the panic unwinds
//! instead: the same record is written, and `main` goes on.

use slog::info;

/// Records logged before the panic.
const RECORDS: u64 = 1000;

fn main() -> Result<(), slog_host::Error> {
    let guard = slog_host::init()?;
    for i in 0..RECORDS {
        info!(guard.logger(), "request done"; "i" => i);
    }
    log::warn!("the next order fails");
    let worker = std::thread::Builder::new()
        .name("order-worker".into())
        .spawn(|| {
            let order = 42;
            panic!("order {order} has no lines"); // the panic
        })
        .expect("spawn a thread");
    // With panic = "abort" the process ends inside the worker's panic.
    let _ = worker.join();
    info!(guard.logger(), "unreachable with panic = \"abort\"");
    Ok(())
}
