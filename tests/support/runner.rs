//! The ending of a `harness = false` test file: one line per test, the
//! closing `N passed, N failed` line, and a failing exit status if any failed.
#![allow(dead_code)]

use std::process::{Command, Output, Stdio};

/// The variable that tells a child copy of a test binary which scenario to
/// run.
pub const SCENARIO: &str = "SLOG_HOST_SCENARIO";

/// The variables a child scenario must not inherit from whoever runs the
/// tests (each scenario sets what it needs).
pub const CLEARED: &[&str] = &[
    "LOG_FILE",
    "LOG_FILE_KEEP",
    "LOG_FILE_MAX_SIZE",
    "LOG_FILTER_FILE",
    "LOG_FILE_MAX_AGE",
    "LOG_FILE_ROTATE_EVERY",
    "LOG_MAX_RECORD_BYTES",
    "LOG_FILE_FILTER",
    "LOG_FILE_FORMAT",
    "LOG_STDOUT",
    "LOG_FLOOD",
    "LOG_FORMAT",
    "LOG_HOST_REFRESH",
    "LOG_SCHEMA",
    "LOG_SOURCE",
    "MY_NODE_NAME",
    "MY_POD_IP",
    "MY_POD_NAME",
    "MY_POD_NAMESPACE",
    "NODE_NAME",
    "NO_COLOR",
    "OTEL_RESOURCE_ATTRIBUTES",
    "OTEL_LOGS_EXPORTER",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL",
    "OTEL_EXPORTER_OTLP_HEADERS",
    "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
    "OTEL_EXPORTER_OTLP_COMPRESSION",
    "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION",
    "OTEL_EXPORTER_OTLP_TIMEOUT",
    "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT",
    "OTEL_BLRP_SCHEDULE_DELAY",
    "OTEL_BLRP_MAX_QUEUE_SIZE",
    "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE",
    "OTEL_BLRP_EXPORT_TIMEOUT",
    "OTEL_EXPORTER_OTLP_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_CLIENT_KEY",
    "OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY",
    "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE",
    "OTEL_SERVICE_NAME",
    "POD_IP",
    "POD_NAME",
    "POD_NAMESPACE",
    "RUST_BACKTRACE",
    "RUST_LIB_BACKTRACE",
    "RUST_LOG",
];

/// `cmd` with none of the [`CLEARED`] variables inherited, `env` set, and
/// stdin closed.
pub fn isolated(mut cmd: Command, env: &[(&str, &str)]) -> Command {
    for v in CLEARED {
        cmd.env_remove(v);
    }
    cmd.envs(env.iter().copied()).stdin(Stdio::null());
    cmd
}

/// A child copy of this test binary that runs `scenario`, [`isolated`].
pub fn scenario_command(scenario: &str, env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(std::env::current_exe().expect("the test binary"));
    cmd.env(SCENARIO, scenario);
    isolated(cmd, env)
}

/// [`scenario_command`] under `timeout`: the child is killed after `secs`
/// seconds, and exits with status 124 then.
pub fn scenario_command_killed_after(secs: u32, scenario: &str, env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new("timeout");
    cmd.arg(secs.to_string())
        .arg(std::env::current_exe().expect("the test binary"))
        .env(SCENARIO, scenario);
    isolated(cmd, env)
}

/// Runs `scenario` with JSON output and `env`, killed after 60 s; fails the
/// test if it hung or did not succeed.
pub fn run_json(scenario: &str, env: &[(&str, &str)]) -> Output {
    let out = scenario_command_killed_after(60, scenario, &[("LOG_FORMAT", "json")])
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(124), "{scenario}: hung");
    assert!(
        out.status.success(),
        "{scenario}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// What a child scenario returns: nothing (it panics on failure), or a
/// result whose error is printed.
pub trait Outcome {
    fn into_result(self) -> Result<(), String>;
}

impl Outcome for () {
    fn into_result(self) -> Result<(), String> {
        Ok(())
    }
}

impl<E: std::fmt::Display> Outcome for Result<(), E> {
    fn into_result(self) -> Result<(), String> {
        self.map_err(|e| e.to_string())
    }
}

/// In a child copy of a test binary (its [`SCENARIO`] set): runs that
/// scenario with `child` and returns true; a scenario's error is printed and
/// the process exits with status 2. Returns false in the parent.
pub fn run_scenario<O: Outcome>(child: fn(&str) -> O) -> bool {
    let Ok(name) = std::env::var(SCENARIO) else {
        return false;
    };
    if let Err(e) = child(&name).into_result() {
        eprintln!("{e}");
        std::process::exit(2);
    }
    true
}

/// True if the test `name` is to run: no names on the command line (flags
/// aside), or one of them is part of `name`.
fn selected(name: &str) -> bool {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()))
}

/// Runs `tests` (each in `catch_unwind`), or those [`selected`] on the
/// command line, and reports them as [`report`] does.
pub fn run_tests(suite: &str, tests: &[(&str, fn())]) {
    report(
        suite,
        tests
            .iter()
            .filter(|(name, _)| selected(name))
            .map(|(name, test)| {
                let result = std::panic::catch_unwind(test)
                    .map_err(|_| "panicked (the message is printed above)".to_string());
                (name.to_string(), result)
            }),
    );
}

/// The `main` of a `harness = false` suite. In a child copy of the binary it
/// runs the scenario with `child` ([`run_scenario`]); in the parent it runs
/// the listed tests ([`run_tests`]) or checks ([`run_checks`]), each under the
/// name of its function, as the suite named like the test target.
#[macro_export]
macro_rules! suite_main {
    ($child:path, tests: [$($test:ident),* $(,)?]) => {
        fn main() {
            if runner::run_scenario($child) {
                return;
            }
            runner::run_tests(
                env!("CARGO_CRATE_NAME"),
                &[$((stringify!($test), $test as fn())),*],
            );
        }
    };
    ($child:path, checks: [$($check:ident),* $(,)?]) => {
        fn main() {
            if runner::run_scenario($child) {
                return;
            }
            runner::run_checks(
                env!("CARGO_CRATE_NAME"),
                &[$((stringify!($check), $check as runner::Check)),*],
            );
        }
    };
}

/// Prints `results` and exits with status 1 if any failed.
pub fn report(suite: &str, results: impl IntoIterator<Item = (String, Result<(), String>)>) {
    let (mut passed, mut failed) = (0, 0);
    for (name, result) in results {
        match result {
            Ok(()) => {
                println!("test {name} ... ok");
                passed += 1;
            }
            Err(e) => {
                println!("test {name} ... FAILED: {e}");
                failed += 1;
            }
        }
    }
    println!("\n{suite}: {passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}

/// A check that returns its failure instead of panicking.
pub type Check = fn() -> Result<(), String>;

/// Runs checks that return their failure (no panic), or those [`selected`]
/// on the command line, and reports them.
pub fn run_checks(suite: &str, checks: &[(&str, Check)]) {
    report(
        suite,
        checks
            .iter()
            .filter(|(name, _)| selected(name))
            .map(|(name, check)| (name.to_string(), check())),
    );
}
