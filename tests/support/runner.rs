//! The ending of a `harness = false` test file: one line per test, the
//! closing `N passed, N failed` line, and a failing exit status if any failed.
//!
//! A test binary made of several such suites (a folder crate,
//! `tests/<unit>/main.rs`) runs them all with [`run_suites`]: each module
//! describes itself with [`suite!`](crate::suite) (its scenarios and its
//! tests), and its tests are named `module::test`.
#![allow(dead_code)]

use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, PoisonError};

/// The variable that tells a child copy of a test binary which scenario to
/// run.
pub const SCENARIO: &str = "SLOG_HOST_SCENARIO";

/// The variable that tells a child copy of a binary of several suites
/// whose scenario it runs (the suite's [`Suite::name`]).
pub const SUITE: &str = "SLOG_HOST_SUITE";

/// The suite whose tests run now, in a binary of several suites: the
/// children its tests start run its scenarios.
static CURRENT_SUITE: Mutex<Option<&'static str>> = Mutex::new(None);

fn current_suite() -> Option<&'static str> {
    *CURRENT_SUITE.lock().unwrap_or_else(PoisonError::into_inner)
}

fn set_current_suite(suite: Option<&'static str>) {
    *CURRENT_SUITE.lock().unwrap_or_else(PoisonError::into_inner) = suite;
}

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
    "LOG_OUTPUT_BUFFER",
    "LOG_SHUTDOWN_TIMEOUT",
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
    "OTEL_SDK_DISABLED",
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

/// `cmd`, which runs a copy of this test binary (directly or through a
/// wrapper such as `script` or `timeout`), told to run `scenario` (of the
/// suite whose tests run now, in a binary of several), [`isolated`].
pub fn for_scenario(mut cmd: Command, scenario: &str, env: &[(&str, &str)]) -> Command {
    cmd.env(SCENARIO, scenario);
    match current_suite() {
        Some(suite) => cmd.env(SUITE, suite),
        None => cmd.env_remove(SUITE),
    };
    isolated(cmd, env)
}

/// A child copy of this test binary that runs `scenario`, [`isolated`].
pub fn scenario_command(scenario: &str, env: &[(&str, &str)]) -> Command {
    let cmd = Command::new(std::env::current_exe().expect("the test binary"));
    for_scenario(cmd, scenario, env)
}

/// [`scenario_command`] under `timeout`: the child is killed after `secs`
/// seconds, and exits with status 124 then.
pub fn scenario_command_killed_after(secs: u32, scenario: &str, env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new("timeout");
    cmd.arg(secs.to_string())
        .arg(std::env::current_exe().expect("the test binary"));
    for_scenario(cmd, scenario, env)
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

/// A test of a suite: one that panics when it fails, or a [`Check`].
#[derive(Clone, Copy)]
pub enum Test {
    Panics(fn()),
    Returns(Check),
}

impl Test {
    /// Runs the test; a panic is a failure (its message is printed above,
    /// by the panic hook).
    fn run(self) -> Result<(), String> {
        let panicked = || "panicked (the message is printed above)".to_string();
        match self {
            Test::Panics(test) => std::panic::catch_unwind(test).map_err(|_| panicked()),
            Test::Returns(check) => {
                std::panic::catch_unwind(check).unwrap_or_else(|_| Err(panicked()))
            }
        }
    }
}

/// One module of a binary of several suites: the scenarios its child
/// copies run, and its tests. Made by [`suite!`](crate::suite).
pub struct Suite {
    /// The module's name, without the crate's: the prefix of its tests'
    /// names, and what a child is told in [`SUITE`].
    pub name: &'static str,
    /// Runs a scenario in a child copy of the binary.
    pub child: fn(&str) -> Result<(), String>,
    /// The tests, each under the name of its function.
    pub tests: Vec<(&'static str, Test)>,
}

/// `module_path!()` without the crate's name: `init` for `setup::init`.
pub fn module_name(path: &'static str) -> &'static str {
    path.split_once("::").map_or(path, |(_, module)| module)
}

/// The child of a suite without scenarios.
pub fn no_scenarios(name: &str) -> Result<(), String> {
    Err(format!("this suite has no scenario {name:?}"))
}

/// The `main` of a binary of several suites, named `binary`. In a child
/// copy of it, runs the scenario ([`SCENARIO`]) of the suite named in
/// [`SUITE`]; a scenario's error is printed and the process exits with
/// status 2. In the parent, runs each suite's tests in turn, or those
/// [`selected`] on the command line by a part of their name
/// (`module::test`), and reports them all as [`report`] does.
pub fn run_suites(binary: &str, suites: &[Suite]) {
    if let Ok(scenario) = std::env::var(SCENARIO) {
        let wanted = std::env::var(SUITE).unwrap_or_default();
        let Some(suite) = suites.iter().find(|s| s.name == wanted) else {
            eprintln!("{binary} has no suite {wanted:?} (the scenario {scenario:?})");
            std::process::exit(2);
        };
        if let Err(e) = (suite.child)(&scenario) {
            eprintln!("{e}");
            std::process::exit(2);
        }
        return;
    }
    let results = suites.iter().flat_map(|suite| {
        suite.tests.iter().filter_map(move |(test, run)| {
            let name = format!("{}::{test}", suite.name);
            if !selected(&name) {
                return None;
            }
            set_current_suite(Some(suite.name));
            let result = run.run();
            set_current_suite(None);
            Some((name, result))
        })
    });
    report(binary, results);
}

/// Describes the module it is used in as a [`Suite`], for the `main` of a
/// binary of several suites: defines `pub fn suite() -> runner::Suite`. The
/// module's scenarios are run by `$child` (as for [`suite_main!`]), its
/// tests are the functions listed: `tests` that panic when they fail, or
/// `checks` ([`Check`]); without `$child`, it has no scenarios.
#[macro_export]
macro_rules! suite {
    (@child) => {
        runner::no_scenarios
    };
    (@child $child:path) => {
        |name| runner::Outcome::into_result($child(name))
    };
    (@suite $($child:path)?; $($test:expr),*) => {
        /// This module's scenarios and tests, for the binary's `main`.
        pub fn suite() -> runner::Suite {
            runner::Suite {
                name: runner::module_name(module_path!()),
                child: $crate::suite!(@child $($child)?),
                tests: vec![$($test),*],
            }
        }
    };
    (tests: [$($test:ident),* $(,)?]) => {
        $crate::suite!(@suite; $((stringify!($test), runner::Test::Panics($test))),*);
    };
    (checks: [$($check:ident),* $(,)?]) => {
        $crate::suite!(@suite; $((stringify!($check), runner::Test::Returns($check))),*);
    };
    ($child:path, tests: [$($test:ident),* $(,)?]) => {
        $crate::suite!(@suite $child; $((stringify!($test), runner::Test::Panics($test))),*);
    };
    ($child:path, checks: [$($check:ident),* $(,)?]) => {
        $crate::suite!(@suite $child; $((stringify!($check), runner::Test::Returns($check))),*);
    };
}
