//! The host metadata: every record's host fields from one snapshot while
//! snapshots are swapped (`consistency`), the refresher thread
//! (`refresher`), and refreshes that leak nothing (`leaks`, whose check runs
//! alone in a child copy of this binary).

#[path = "../support/mod.rs"]
mod support;

mod consistency;
mod leaks;
mod refresher;

/// Some tests count this process's refresher threads or time a thread's
/// stop, others load both cores: they run one at a time, even when the
/// harness runs tests on parallel threads.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
