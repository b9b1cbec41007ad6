//! The environment end to end, one child process per scenario (each calls
//! the global `init()` once): a set variable wins over what the code set in
//! `Builder::from_env()`, `Builder::new()` ignores the environment, every
//! extreme value is an error naming its variable (no panic, no hang), blank
//! values count as unset, misspelled `RUST_LOG` levels print one warning, and
//! the default flood budgets keep an access log while bounding an error loop.
//!
//! A suite of the `setup` test binary (`main.rs`, `harness = false`).

use crate::support::runner;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use slog_host::{Builder, Error, FileConfig, FloodConfig, Format, Output, Schema};

/// A child that runs longer than this has hung.
const HANG: Duration = Duration::from_secs(60);

const ACCESS_LOG: u64 = 2000;
const ERROR_LOOP: u64 = 1_000_000;

// ---------------------------------------------------------------- children

fn child(name: &str) -> Result<(), Error> {
    match name {
        // The example, plus every other setting set in code.
        "code_defaults" => {
            let dir = std::env::var("TEST_DIR").unwrap();
            let guard = Builder::from_env()?
                .service("my-svc", "1.0")
                .filter("info")?
                .format(Format::Compact)
                .schema(Schema::Otel)
                .flood(Some(FloodConfig::uniform(1, Duration::from_secs(3600))))
                .field("deployment.environment", "dev")
                .refresh_interval(Duration::ZERO) // invalid: only an env value saves it
                .output(Output::File(
                    FileConfig::new(Path::new(&dir).join("code.log")).max_size(1 << 20),
                ))
                .init()?;
            for i in 0..3 {
                slog::info!(guard.logger(), "info record"; "i" => i);
                slog::debug!(guard.logger(), "debug record"; "i" => i);
            }
        }
        "new_ignores_env" => {
            let guard = Builder::new()
                .service("my-svc", "1.0")
                .format(Format::Json)
                .init()?;
            slog::info!(guard.logger(), "info record");
            slog::debug!(guard.logger(), "debug record");
        }
        "init_only" => {
            let guard = slog_host::init()?;
            slog::info!(guard.logger(), "started");
        }
        "code_extremes" => {
            let global = || Builder::new().global(false);
            let errors = [
                global().refresh_interval(Duration::MAX).init(),
                global()
                    .refresh_interval(
                        slog_host::host::MAX_REFRESH_INTERVAL + Duration::from_secs(1),
                    )
                    .init(),
                global().channel_size(usize::MAX).init(),
                global()
                    .channel_size(slog_host::pipeline::MAX_CHANNEL_SIZE + 1)
                    .init(),
                global()
                    .output(Output::File(FileConfig::new("/tmp/x.log").keep(usize::MAX)))
                    .init(),
                global()
                    .output(Output::File(
                        FileConfig::new("/tmp/x.log").max_size(u64::MAX),
                    ))
                    .init(),
                global()
                    .flood(Some(FloodConfig::uniform(u32::MAX, Duration::from_secs(1))))
                    .init(),
                global()
                    .flood(Some(FloodConfig::uniform(1, Duration::MAX)))
                    .init(),
            ];
            for e in errors {
                match e {
                    Ok(_) => println!("ACCEPTED"),
                    Err(e) => println!("SETTING {:?}: {e}", e.setting()),
                }
            }
        }
        "flood_defaults" => {
            let guard = slog_host::init()?;
            let log = guard.logger();
            // An access log: one call site, 1,000 records per second.
            let start = Instant::now();
            for seq in 0..ACCESS_LOG {
                let due = start + Duration::from_millis(seq);
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
                slog::info!(log, "request done"; "seq" => seq);
            }
            // A tight error loop from another.
            let start = Instant::now();
            for i in 0..ERROR_LOOP {
                slog::error!(log, "accept failed"; "i" => i);
            }
            // Windows the loop can have touched: one per started second,
            // plus the one it started in.
            eprintln!("WINDOWS: {}", start.elapsed().as_secs() + 2);
        }
        other => panic!("unknown scenario {other}"),
    }
    Ok(())
}

// ---------------------------------------------------------------- parent

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect()
    }
}

/// Runs this binary as `scenario` with `env` (in `dir`, if given); fails the
/// test if the child runs longer than [`HANG`] or panics.
fn run_in(scenario: &str, env: &[(&str, &str)], dir: Option<&Path>) -> Run {
    let mut cmd = runner::scenario_command(scenario, env);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    if let Some(d) = dir {
        cmd.current_dir(d);
    }
    let mut child = cmd.spawn().unwrap();
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        out.read_to_string(&mut s).unwrap();
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        err.read_to_string(&mut s).unwrap();
        s
    });
    let deadline = Instant::now() + HANG;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("{scenario} with {env:?} hung (killed after {HANG:?})");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let run = Run {
        code: status.code(),
        stdout: reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
    };
    assert!(
        !run.stderr.contains("panicked"),
        "{scenario} with {env:?} panicked: {}",
        run.stderr
    );
    run
}

fn run(scenario: &str, env: &[(&str, &str)]) -> Run {
    run_in(scenario, env, None)
}

/// A fresh directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("slog-host-env-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).to_str().unwrap().to_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn lines_of(path: &str) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn environment_wins_over_code_in_from_env() {
    let dir = TempDir::new("env-wins");
    let dir_text = dir.0.to_str().unwrap();
    let env_log = dir.path("env.log");
    // Control: with nothing set, the code's values hold (and its zero
    // refresh interval fails init).
    let out = run("code_defaults", &[("TEST_DIR", dir_text)]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr.contains("invalid refresh interval=\"0ns\""),
        "{}",
        out.stderr
    );
    let out = run(
        "code_defaults",
        &[("TEST_DIR", dir_text), ("LOG_HOST_REFRESH", "30s")],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let text = std::fs::read_to_string(dir.path("code.log")).unwrap();
    assert!(!text.starts_with('{'), "compact format from code: {text}");
    assert!(text.contains("info record") && !text.contains("debug record"));
    assert_eq!(
        text.matches("info record").count(),
        1,
        "flood budget 1 from code"
    );
    assert!(text.contains("my-svc") && text.contains("dev"), "{text}");

    // Every variable set: each one wins.
    let out = run(
        "code_defaults",
        &[
            ("TEST_DIR", dir_text),
            ("OTEL_SERVICE_NAME", "orders"),
            ("RUST_LOG", "debug"),
            ("LOG_FORMAT", "json"),
            ("LOG_SCHEMA", "ecs"),
            ("LOG_FLOOD", "off"),
            ("LOG_HOST_REFRESH", "30s"),
            ("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=prod"),
            ("LOG_FILE", &env_log),
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let lines = lines_of(&env_log);
    let msgs: Vec<&str> = lines
        .iter()
        .map(|v| v["message"].as_str().unwrap())
        .collect();
    assert_eq!(msgs.iter().filter(|m| **m == "debug record").count(), 3);
    assert_eq!(msgs.iter().filter(|m| **m == "info record").count(), 3);
    for v in &lines {
        assert_eq!(v["service.name"], "orders");
        assert_eq!(
            v["service.version"], "1.0",
            "the code's value where no variable is set"
        );
        assert_eq!(v["deployment.environment"], "prod");
    }

    // LOG_FILE_MAX_SIZE and LOG_FILE_KEEP apply to the code's file.
    let out = run(
        "code_defaults",
        &[
            ("TEST_DIR", dir_text),
            ("LOG_HOST_REFRESH", "30s"),
            ("LOG_FLOOD", "off"),
            ("LOG_FILE_MAX_SIZE", "1"),
            ("LOG_FILE_KEEP", "2"),
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let rotated = |n: u32| dir.0.join(format!("code.log.{n}")).exists();
    assert!(
        rotated(1) && rotated(2) && !rotated(3),
        "one record per file, 2 kept"
    );

    // Builder::new() reads nothing.
    let out = run(
        "new_ignores_env",
        &[
            ("OTEL_SERVICE_NAME", "orders"),
            ("RUST_LOG", "debug"),
            ("LOG_FORMAT", "compact"),
            ("LOG_HOST_REFRESH", "18446744073709551615s"),
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let lines = out.json_lines();
    assert_eq!(lines.len(), 1, "{}", out.stdout);
    assert_eq!(lines[0]["msg"], "info record");
    assert_eq!(lines[0]["service.name"], "my-svc");
}

fn extreme_settings_are_errors_naming_the_variable() {
    let dir = TempDir::new("extreme");
    let file = dir.path("app.log");
    // (needs LOG_FILE, variable="value", reason)
    let cases: &[(bool, &str, &str)] = &[
        (
            false,
            "LOG_HOST_REFRESH=\"18446744073709551615s\"",
            "at most 24h",
        ),
        (false, "LOG_HOST_REFRESH=\"25h\"", "at most 24h"),
        (
            false,
            "LOG_HOST_REFRESH=\"99999999999999999999999ms\"",
            "at most 24h",
        ),
        (false, "LOG_HOST_REFRESH=\"86400001ms\"", "at most 24h"),
        (false, "LOG_FLOOD=\"4294967296/1s\"", "at most 10000000"),
        (false, "LOG_FLOOD=\"10000001/1s\"", "at most 10000000"),
        (
            false,
            "LOG_FLOOD=\"100/18446744073709551615s\"",
            "from 1ms to 24h",
        ),
        (
            false,
            "LOG_FLOOD=\"100/1s,info=99999999999\"",
            "at most 10000000",
        ),
        (true, "LOG_FILE_KEEP=\"1000000000\"", "at most 1000"),
        (
            true,
            "LOG_FILE_KEEP=\"18446744073709551616\"",
            "at most 1000",
        ),
        (true, "LOG_FILE_KEEP=\"1001\"", "at most 1000"),
        (
            true,
            "LOG_FILE_MAX_SIZE=\"1025G\"",
            "at most 1099511627776 bytes",
        ),
        (
            true,
            "LOG_FILE_MAX_SIZE=\"18446744073709551615\"",
            "at most 1099511627776 bytes",
        ),
        (
            true,
            "LOG_FILE_MAX_SIZE=\"99999999999999999999K\"",
            "at most",
        ),
    ];
    for (needs_file, setting, why) in cases {
        let (var, value) = setting.split_once('=').unwrap();
        let value = value.trim_matches('"');
        let mut env = vec![(var, value)];
        if *needs_file {
            env.push(("LOG_FILE", file.as_str()));
        }
        let out = run("init_only", &env);
        assert_eq!(
            out.code,
            Some(2),
            "{setting} must fail init(): {}",
            out.stderr
        );
        assert!(
            out.stderr.contains(&format!("invalid {setting}")) && out.stderr.contains(why),
            "{setting}: {}",
            out.stderr
        );
        assert!(out.stdout.is_empty(), "nothing logged on a failed init");
    }
    assert!(
        !Path::new(&file).exists(),
        "no file opened on a failed init"
    );

    // The same limits from code.
    let out = run("code_extremes", &[]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let settings: Vec<&str> = out.stdout.lines().collect();
    let expected = [
        "refresh interval",
        "refresh interval",
        "channel size",
        "channel size",
        "file keep",
        "file max size",
        "flood config",
        "flood config",
    ];
    assert_eq!(settings.len(), expected.len(), "{}", out.stdout);
    for (line, setting) in settings.iter().zip(expected) {
        assert!(
            line.starts_with(&format!("SETTING Some({setting:?})")),
            "{line}"
        );
    }
}

fn blank_values_count_as_unset_and_values_are_trimmed() {
    let dir = TempDir::new("blank");
    let blanks = [
        "LOG_FILE",
        "LOG_FILE_MAX_SIZE",
        "LOG_FILE_KEEP",
        "POD_NAME",
        "POD_IP",
        "OTEL_SERVICE_NAME",
        "OTEL_RESOURCE_ATTRIBUTES",
        "RUST_LOG",
        "LOG_FORMAT",
        "LOG_FLOOD",
        "LOG_HOST_REFRESH",
        "LOG_SCHEMA",
        "NODE_NAME",
    ];
    for blank in [" ", "\t", "  \n "] {
        let env: Vec<(&str, &str)> = blanks.iter().map(|v| (*v, blank)).collect();
        let out = run_in("init_only", &env, Some(&dir.0));
        assert_eq!(out.code, Some(0), "{blank:?}: {}", out.stderr);
        let lines = out.json_lines();
        assert_eq!(lines.len(), 1, "to stdout, as JSON: {}", out.stdout);
        let v = &lines[0];
        assert!(v.get("k8s.pod.name").is_none(), "{v}");
        assert!(v.get("k8s.node.name").is_none(), "{v}");
        let exe = std::env::current_exe().unwrap();
        assert_eq!(
            v["service.name"],
            exe.file_name().unwrap().to_str().unwrap(),
            "the executable name"
        );
        let created: Vec<_> = std::fs::read_dir(&dir.0).unwrap().collect();
        assert!(created.is_empty(), "no file named {blank:?}: {created:?}");
    }
    // Values are trimmed.
    let out = run(
        "init_only",
        &[
            ("LOG_FORMAT", " json "),
            ("POD_NAME", " web-7\n"),
            ("OTEL_SERVICE_NAME", "\torders "),
            ("LOG_HOST_REFRESH", " 30s "),
            ("RUST_LOG", " info "),
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let v = &out.json_lines()[0];
    assert_eq!(v["k8s.pod.name"], "web-7");
    assert_eq!(v["service.name"], "orders");
}

fn a_rust_log_typo_is_an_init_error_with_a_suggestion() {
    for (spec, hint) in [
        ("inof", "did you mean \"info\"?"),
        ("debgu", "did you mean \"debug\"?"),
        ("0", "did you mean a level name"),
        ("warn,eror", "did you mean \"error\"?"),
        ("info;tower_http=debug", "not `;`"),
        ("info,[http_request]=debug", "span directive"),
    ] {
        let out = run("init_only", &[("RUST_LOG", spec), ("LOG_FORMAT", "json")]);
        assert_eq!(
            out.code,
            Some(2),
            "RUST_LOG={spec} must fail init(): {}",
            out.stderr
        );
        assert!(
            out.stderr.contains(&format!("invalid RUST_LOG={spec:?}")) && out.stderr.contains(hint),
            "{}",
            out.stderr
        );
        assert!(out.stdout.is_empty(), "nothing logged");
    }
    // Control: ordinary directives start and print nothing on stderr.
    for spec in ["info", "warn,hyper=debug", "my_app", "INFO", "inof=trace"] {
        let out = run("init_only", &[("RUST_LOG", spec), ("LOG_FORMAT", "json")]);
        assert_eq!(out.code, Some(0), "RUST_LOG={spec}: {}", out.stderr);
        assert!(out.stderr.is_empty(), "RUST_LOG={spec}: {}", out.stderr);
    }
}

fn flood_defaults_keep_an_access_log_and_bound_an_error_loop() {
    let out = run("flood_defaults", &[("LOG_FORMAT", "json")]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let lines = out.json_lines();
    let access = lines.iter().filter(|v| v["msg"] == "request done").count() as u64;
    assert_eq!(access, ACCESS_LOG, "the access log passes untouched");
    assert!(
        !lines
            .iter()
            .any(|v| v["level"] == "INFO" && v["flood.suppressed"].is_u64()),
        "no INFO summary: nothing suppressed"
    );
    let errors = lines.iter().filter(|v| v["msg"] == "accept failed").count() as u64;
    let suppressed: u64 = lines
        .iter()
        .filter(|v| v["level"] == "ERROR")
        .filter_map(|v| v["flood.suppressed"].as_u64())
        .sum();
    let windows: u64 = out
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("WINDOWS: "))
        .unwrap()
        .parse()
        .unwrap();
    println!(
        "{ACCESS_LOG} access log records at 1,000/s: {access} written; {ERROR_LOOP} errors: {errors} \
         written, {suppressed} suppressed, over at most {windows} windows"
    );
    assert_eq!(errors + suppressed, ERROR_LOOP, "exact summaries");
    assert!(
        errors <= u64::from(slog_host::flood::DEFAULT_FLOOD_BURST) * windows,
        "at most 100 per second: {errors} in {windows} windows"
    );
}

crate::suite!(
    child,
    tests: [
        environment_wins_over_code_in_from_env,
        extreme_settings_are_errors_naming_the_variable,
        blank_values_count_as_unset_and_values_are_trimmed,
        a_rust_log_typo_is_an_init_error_with_a_suggestion,
        flood_defaults_keep_an_access_log_and_bound_an_error_loop,
    ]
);
