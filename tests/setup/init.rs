//! `init()` end to end, one child process per scenario: `init()` installs
//! process-wide state (the global logger, the `log` bridge), so each scenario
//! runs in a fresh copy of this binary, started with `SLOG_HOST_SCENARIO` set
//! and the environment under test. The parent checks what the child wrote.
//!
//! A suite of the `setup` test binary (`main.rs`, `harness = false`).

use crate::support::{capture, runner};

use std::collections::HashSet;

use capture::Buf;
use std::process::{Command, Output};
use std::time::Duration;

use slog_host::host::{HostCache, HostInfo};
use slog_host::{Builder, Error, Format};

const NO_LOSS_RECORDS: u64 = 100_000;

// ---------------------------------------------------------------- children

fn child(name: &str) -> Result<(), Error> {
    match name {
        "no_loss" => {
            let guard = slog_host::init()?;
            for seq in 0..NO_LOSS_RECORDS {
                slog::info!(guard.logger(), "record"; "seq" => seq);
            }
            drop(guard);
            std::process::exit(0);
        }
        "init_only" => {
            let guard = slog_host::init()?;
            slog::info!(guard.logger(), "started");
        }
        "bridge" => {
            let _guard = slog_host::init()?;
            log::info!("from the log crate");
            log::info!(target: "chatty", "chatty info is filtered");
            log::warn!(target: "chatty", "chatty warn passes");
            log::debug!("debug is filtered");
        }
        "twice" => {
            let _guard = slog_host::init()?;
            let second = slog_host::init().map(|_| ()).unwrap_err();
            eprintln!("SECOND: {second}");
        }
        "change_notice" => {
            let guard = slog_host::init()?;
            let calls = std::sync::atomic::AtomicU32::new(0);
            // The first detection (inside set_probe) gives "before"; every
            // later one, done by the refresher, gives "after".
            HostCache::global().set_probe(move || {
                let n = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let name = if n == 0 { "before" } else { "after" };
                Ok(HostInfo::new().with_host_name(name))
            })?;
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while guard.cache().status().changes < 2 && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        "flood" => {
            let guard = slog_host::init()?;
            for i in 0..1000 {
                slog::error!(guard.logger(), "accept failed"; "i" => i);
            }
            slog::info!(guard.logger(), "still serving");
            eprintln!("SUPPRESSED: {}", guard.suppressed());
        }
        "after_drop" => {
            let guard = slog_host::init()?;
            let log = guard.logger().clone();
            slog::info!(log, "before drop");
            drop(guard);
            slog::info!(log, "after drop, through a clone");
            log::info!("after drop, through the log bridge");
            slog::info!(slog_scope::logger(), "after drop, through slog-scope");
        }
        other => panic!("unknown scenario {other}"),
    }
    Ok(())
}

// ---------------------------------------------------------------- parent

fn run(scenario: &str, env: &[(&str, &str)]) -> Output {
    runner::scenario_command(scenario, env).output().unwrap()
}

fn stdout_lines(out: &Output) -> Vec<String> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    stdout_lines(out)
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn no_loss_on_exit() {
    // 100,000 records from one call site: the flood guard would (rightly)
    // suppress most of them, so it is off here.
    let out = run("no_loss", &[("LOG_FORMAT", "json"), ("LOG_FLOOD", "off")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines = json_lines(&out);
    assert_eq!(lines.len() as u64, NO_LOSS_RECORDS, "lines written");
    let host = host_name();
    let mut seen = HashSet::new();
    for v in &lines {
        assert_eq!(v["msg"], "record");
        assert_eq!(v["host.name"], host.as_str());
        assert!(v["process.pid"].as_u64().is_some());
        assert!(v["service.name"].as_str().is_some());
        assert!(v["ts"].as_str().unwrap().ends_with('Z'));
        seen.insert(v["seq"].as_u64().unwrap());
    }
    assert_eq!(
        seen.len() as u64,
        NO_LOSS_RECORDS,
        "every record exactly once"
    );
}

fn bad_env_values_are_errors_naming_variable_and_value() {
    let cases: &[(&str, &str)] = &[
        ("LOG_FORMAT", "xml"),
        ("RUST_LOG", "foo=loud"),
        ("POD_IP", "999.1.1.1"),
        ("MY_POD_IP", "not-an-ip"),
        ("LOG_HOST_REFRESH", "soon"),
        ("LOG_HOST_REFRESH", "0s"),
        ("LOG_HOST_REFRESH", "30"),
        ("LOG_HOST_REFRESH", "5y"),
        ("LOG_FLOOD", "100"),
        ("LOG_FLOOD", "0/1s"),
        ("LOG_FLOOD", "100/forever"),
        ("LOG_SCHEMA", "gelf"),
        ("OTEL_RESOURCE_ATTRIBUTES", "novalue"),
        ("OTEL_RESOURCE_ATTRIBUTES", "k=%zz"),
        ("OTEL_RESOURCE_ATTRIBUTES", "host.ip=999.1.1.1"),
        ("LOG_OUTPUT_BUFFER", "lots"),
        ("LOG_OUTPUT_BUFFER", "1K"),
        ("LOG_OUTPUT_BUFFER", "2G"),
        ("LOG_SHUTDOWN_TIMEOUT", "soon"),
        ("LOG_SHUTDOWN_TIMEOUT", "2m"),
    ];
    for (var, value) in cases {
        let out = run("init_only", &[(var, value)]);
        assert_eq!(out.status.code(), Some(2), "{var}={value} must fail init()");
        let err = stderr(&out);
        assert!(
            err.contains(&format!("invalid {var}={value:?}")),
            "{var}={value}: {err}"
        );
        assert!(out.stdout.is_empty(), "nothing logged on a failed init");
    }
    // Control: the same scenario with valid values succeeds.
    let out = run(
        "init_only",
        &[
            ("LOG_FORMAT", "json"),
            ("RUST_LOG", "info"),
            ("POD_IP", "10.1.2.3"),
            ("LOG_HOST_REFRESH", "250ms"),
            ("LOG_OUTPUT_BUFFER", "64K"),
            ("LOG_SHUTDOWN_TIMEOUT", "500ms"),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let lines = json_lines(&out);
    assert_eq!(lines[0]["host.ip"], "10.1.2.3");
}

fn invalid_log_file_settings_are_errors_naming_variable_and_value() {
    let dir = std::env::temp_dir().join(format!("slog-host-init-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("app.log");
    let path = file.to_str().unwrap();
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[("LOG_FILE", path), ("LOG_FILE_MAX_SIZE", "10X")],
            r#"invalid LOG_FILE_MAX_SIZE="10X""#,
        ),
        (
            &[("LOG_FILE", path), ("LOG_FILE_MAX_SIZE", "0")],
            r#"invalid LOG_FILE_MAX_SIZE="0""#,
        ),
        (
            &[("LOG_FILE", path), ("LOG_FILE_KEEP", "many")],
            r#"invalid LOG_FILE_KEEP="many""#,
        ),
        (
            &[("LOG_FILE_MAX_SIZE", "10M")],
            r#"invalid LOG_FILE_MAX_SIZE="10M": set without LOG_FILE"#,
        ),
        (
            &[("LOG_FILE_KEEP", "3")],
            r#"invalid LOG_FILE_KEEP="3": set without LOG_FILE"#,
        ),
        (
            &[("LOG_FILE", "/nonexistent-dir/app.log")],
            r#"invalid LOG_FILE="/nonexistent-dir/app.log": cannot open"#,
        ),
    ];
    for (env, expected) in cases {
        let out = run("init_only", env);
        assert_eq!(out.status.code(), Some(2), "{env:?} must fail init()");
        assert!(stderr(&out).contains(expected), "{env:?}: {}", stderr(&out));
    }
    // Control: valid settings write JSON to the file (a file is not a terminal).
    let out = run(
        "init_only",
        &[
            ("LOG_FILE", path),
            ("LOG_FILE_MAX_SIZE", "1M"),
            ("LOG_FILE_KEEP", "2"),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "nothing on stdout");
    let text = std::fs::read_to_string(&file).unwrap();
    let v: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(v["msg"], "started");
    std::fs::remove_dir_all(&dir).unwrap();
}

fn log_schema_ecs_and_resource_attributes_apply_through_init() {
    let out = run(
        "init_only",
        &[
            ("LOG_FORMAT", "json"),
            ("LOG_SCHEMA", "ecs"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "deployment.environment=prod,team=a%2Cb",
            ),
            ("POD_NAME", "web-7"),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let v = &json_lines(&out)[0];
    assert_eq!(v["message"], "started");
    assert_eq!(v["log.level"], "info");
    assert_eq!(v["orchestrator.resource.name"], "web-7");
    assert_eq!(v["host.hostname"], host_name().as_str());
    assert_eq!(v["deployment.environment"], "prod");
    assert_eq!(v["team"], "a,b");
    assert!(v["service.node.name"].as_str().unwrap().len() == 36);
    assert!(v.get("msg").is_none() && v.get("host.name").is_none());
}

fn log_bridge_is_enriched_and_filtered() {
    let out = run(
        "bridge",
        &[
            ("LOG_FORMAT", "json"),
            ("RUST_LOG", "info,chatty=warn"),
            ("POD_NAME", "web-7"),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let lines = json_lines(&out);
    let msgs: Vec<&str> = lines.iter().map(|v| v["msg"].as_str().unwrap()).collect();
    assert_eq!(msgs, vec!["from the log crate", "chatty warn passes"]);
    for v in &lines {
        assert_eq!(v["k8s.pod.name"], "web-7");
        assert_eq!(v["host.name"], host_name().as_str());
    }
}

fn second_init_is_a_clear_error() {
    let out = run("twice", &[("LOG_FORMAT", "json")]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("SECOND: slog-host is already initialised"),
        "{}",
        stderr(&out)
    );
}

fn change_notice_names_old_and_new_values() {
    let out = run(
        "change_notice",
        &[("LOG_FORMAT", "json"), ("LOG_HOST_REFRESH", "10ms")],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let notices: Vec<_> = json_lines(&out)
        .into_iter()
        .filter(|v| v["msg"] == "host metadata changed")
        .collect();
    assert_eq!(notices.len(), 1, "one notice per change");
    assert_eq!(notices[0]["changes"], "host.name: before -> after");
    assert_eq!(notices[0]["level"], "INFO");
    assert_eq!(notices[0]["host.name"], "after");
}

fn flood_guard_is_on_by_default_and_its_summary_is_enriched() {
    let out = run("flood", &[("LOG_FORMAT", "json"), ("POD_NAME", "p-1")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines = json_lines(&out);
    let written = lines.iter().filter(|v| v["msg"] == "accept failed").count();
    assert_eq!(written, slog_host::flood::DEFAULT_FLOOD_BURST as usize);
    let summary: Vec<_> = lines
        .iter()
        .filter(|v| v["flood.suppressed"].is_u64())
        .collect();
    assert_eq!(
        summary.len(),
        1,
        "the pending summary is written at guard drop"
    );
    assert_eq!(summary[0]["flood.suppressed"], 900);
    assert_eq!(summary[0]["msg"], "suppressed 900 similar records");
    assert_eq!(summary[0]["level"], "ERROR");
    assert_eq!(
        summary[0]["k8s.pod.name"], "p-1",
        "summaries are enriched too"
    );
    assert!(lines.iter().any(|v| v["msg"] == "still serving"));
    assert!(stderr(&out).contains("SUPPRESSED: 900"));
    // LOG_FLOOD=off: all 1000 pass.
    let out = run("flood", &[("LOG_FORMAT", "json"), ("LOG_FLOOD", "off")]);
    let lines = json_lines(&out);
    assert_eq!(
        lines.iter().filter(|v| v["msg"] == "accept failed").count(),
        1000
    );
    // A budget from the environment.
    let out = run("flood", &[("LOG_FORMAT", "json"), ("LOG_FLOOD", "7/1h")]);
    let lines = json_lines(&out);
    assert_eq!(
        lines.iter().filter(|v| v["msg"] == "accept failed").count(),
        7
    );
}

fn records_after_drop_are_written_synchronously() {
    let out = run("after_drop", &[("LOG_FORMAT", "json")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines = json_lines(&out);
    let msgs: Vec<&str> = lines.iter().map(|v| v["msg"].as_str().unwrap()).collect();
    assert_eq!(
        msgs,
        [
            "before drop",
            "after drop, through a clone",
            "after drop, through the log bridge",
            "after drop, through slog-scope"
        ]
    );
    assert!(lines.iter().all(|v| v["host.name"].is_string()));
}

fn has_escape_codes(s: &[u8]) -> bool {
    s.contains(&0x1b)
}

fn term_formats_color_only_on_a_terminal_and_never_with_no_color() {
    for format in ["full", "compact"] {
        // Piped: not a terminal, no colors.
        let out = run("init_only", &[("LOG_FORMAT", format)]);
        assert!(out.status.success(), "{}", stderr(&out));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("started") && text.contains("host.name"),
            "{text}"
        );
        assert!(!has_escape_codes(&out.stdout), "{format} piped: {text:?}");

        // On a terminal (a pty from `script`): colors, unless NO_COLOR.
        for (no_color, expect_color) in [(None, true), (Some("1"), false)] {
            let exe = std::env::current_exe().unwrap();
            let mut script = Command::new("script");
            script.args(["-qec", &format!("{}", exe.display()), "/dev/null"]);
            let mut cmd = runner::for_scenario(script, "init_only", &[("LOG_FORMAT", format)]);
            if let Some(v) = no_color {
                cmd.env("NO_COLOR", v);
            }
            let out = cmd.output().expect("script(1) from util-linux");
            assert!(out.status.success(), "{}", stderr(&out));
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(text.contains("started"), "{text:?}");
            assert_eq!(
                has_escape_codes(&out.stdout),
                expect_color,
                "{format} NO_COLOR={no_color:?}: {text:?}"
            );
        }
    }
}

fn private_pipelines_can_run_side_by_side() {
    let (a, b) = (Buf::default(), Buf::default());
    let start = |buf: &Buf, name: &str| {
        Builder::new()
            .global(false)
            .format(Format::Json)
            .service(name, "1.0")
            .field("deployment.environment", "test")
            .output(slog_host::Output::Writer(Box::new(buf.clone())))
            .init()
            .unwrap()
    };
    let (ga, gb) = (start(&a, "a"), start(&b, "b"));
    slog::info!(ga.logger(), "to a");
    slog::debug!(ga.logger(), "debug filtered by the default");
    slog::info!(gb.logger(), "to b");
    drop((ga, gb));
    for (buf, name) in [(a, "a"), (b, "b")] {
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 1, "{text}");
        assert_eq!(lines[0]["msg"], format!("to {name}"));
        assert_eq!(lines[0]["service.name"], name);
        assert_eq!(lines[0]["service.version"], "1.0");
        assert_eq!(lines[0]["deployment.environment"], "test");
    }
}

fn builder_errors_name_the_setting() {
    let e = Builder::new().filter("x=verbose").map(|_| ()).unwrap_err();
    assert!(
        e.to_string().starts_with("invalid filter=\"x=verbose\""),
        "{e}"
    );
    let e = Builder::new()
        .global(false)
        .refresh_interval(Duration::ZERO)
        .init()
        .unwrap_err();
    assert_eq!(e.setting(), Some("refresh interval"));
    let e = Builder::new()
        .global(false)
        .channel_size(0)
        .init()
        .unwrap_err();
    assert_eq!(e.setting(), Some("channel size"));
    let e = Builder::new()
        .global(false)
        .output_buffer(1024)
        .init()
        .unwrap_err();
    assert_eq!(e.setting(), Some("output buffer"), "{e}");
    let e = Builder::new()
        .global(false)
        .shutdown_timeout(Duration::from_secs(120))
        .init()
        .unwrap_err();
    assert_eq!(e.setting(), Some("shutdown timeout"), "{e}");
}

fn drop_and_report_counts_what_it_drops() {
    /// A writer slower than the logger: 200 us per record.
    #[derive(Clone, Default)]
    struct Slow(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Slow {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            if b.contains(&b'\n') {
                std::thread::sleep(Duration::from_micros(200));
            }
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    const N: u64 = 2000;
    let out = Slow::default();
    let guard = Builder::new()
        .global(false)
        .format(Format::Json)
        .channel_size(16)
        .flood(None)
        .overflow(slog_host::Overflow::DropAndReport)
        .output(slog_host::Output::Writer(Box::new(out.clone())))
        .init()
        .unwrap();
    for i in 0..N {
        slog::info!(guard.logger(), "record"; "i" => i);
    }
    let counted = guard.dropped();
    drop(guard);
    let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let written = lines.iter().filter(|v| v["msg"] == "record").count() as u64;
    let dropped: u64 = lines
        .iter()
        .filter(|v| v["msg"] == slog_host::format::OVERFLOW_MESSAGE)
        .map(|v| v["dropped"].as_u64().unwrap())
        .sum();
    assert!(dropped > 0, "the slow writer made the channel overflow");
    assert_eq!(written + dropped, N, "every record written or counted");
    assert_eq!(dropped, counted, "the guard's count matches the reports");
}

crate::suite!(
    child,
    tests: [
        no_loss_on_exit,
        bad_env_values_are_errors_naming_variable_and_value,
        log_bridge_is_enriched_and_filtered,
        second_init_is_a_clear_error,
        change_notice_names_old_and_new_values,
        records_after_drop_are_written_synchronously,
        term_formats_color_only_on_a_terminal_and_never_with_no_color,
        private_pipelines_can_run_side_by_side,
        builder_errors_name_the_setting,
        drop_and_report_counts_what_it_drops,
        flood_guard_is_on_by_default_and_its_summary_is_enriched,
        invalid_log_file_settings_are_errors_naming_variable_and_value,
        log_schema_ecs_and_resource_attributes_apply_through_init,
    ]
);

/// The host name as the kernel has it (what `gethostname` returns on Linux).
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .expect("the kernel's host name")
        .trim()
        .to_owned()
}
