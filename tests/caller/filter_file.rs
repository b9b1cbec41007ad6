//! `LOG_FILTER_FILE` pointed at what is not a filter file, as an attacker or
//! a mistake would: a FIFO (no writer: opening it for reading would wait
//! forever), `/dev/zero` (reports size 0, never ends), a link to a secret,
//! `/proc/self/environ` (holds the OTLP header secret). At start each is an
//! `init()` error; swapped in at run time each is one ERROR record, the last
//! good filter stays, the other output keeps every record and the guard's
//! drop returns. No content is ever echoed. Each scenario runs in a child
//! copy of the binary under a timeout, so a hang is a failure.
//!
//! A suite of the `caller` test binary (`main.rs`, `harness = false`).

use crate::support::runner;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

/// The secret the files hold; no output or stderr may show it.
const SECRET: &str = "hunter2-s3cr3t";
/// The records each run-time scenario logs while the file is swapped.
const RECORDS: u64 = 600;

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("slog-host-ff-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path; mkfifo has no other precondition.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
}

/// The peak resident memory of this process, in KiB (`VmHWM`).
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(u64::MAX)
}

/// Replaces the filter file at `path` by `what`, by rename (what a
/// ConfigMap update or an attacker with write access to the directory
/// does): a FIFO, or a symbolic link to `target`.
fn swap_in(path: &Path, what: &str, target: &str) {
    let tmp = path.with_extension("new");
    let _ = std::fs::remove_file(&tmp);
    match what {
        "fifo" => mkfifo(&tmp),
        _ => std::os::unix::fs::symlink(target, &tmp).unwrap(),
    }
    std::fs::rename(&tmp, path).unwrap();
}

fn child(name: &str) {
    match name {
        "at_start" => match slog_host::init() {
            Ok(_) => eprintln!("INIT: ok"),
            Err(e) => eprintln!("INIT: {e}"),
        },
        "at_run_time" => {
            let filter = PathBuf::from(std::env::var("LOG_FILTER_FILE").unwrap());
            let what = std::env::var("SWAP").unwrap();
            let target = std::env::var("TARGET").unwrap_or_default();
            let guard = slog_host::init().unwrap();
            let log = guard.logger().clone();
            for k in 0..RECORDS {
                if k == RECORDS / 4 {
                    swap_in(&filter, &what, &target);
                }
                slog::info!(log, "record"; "k" => k);
                // 600 records over about 3 s: the writer looks at the file
                // once a second, so it looks at the swapped one twice.
                std::thread::sleep(Duration::from_millis(5));
            }
            slog::debug!(log, "debug stays off");
            eprintln!("FILTER {}", guard.filter());
            let t0 = Instant::now();
            drop(guard);
            eprintln!("DROP {} ms", t0.elapsed().as_millis());
            eprintln!("PEAK {} KiB", peak_rss_kib());
        }
        other => panic!("unknown scenario {other}"),
    }
}

/// Runs `scenario` with the OTLP header secret set (a run that hangs or
/// fails fails the test).
fn run(scenario: &str, env: &[(&str, &str)]) -> Output {
    let header = format!("api-key={SECRET}");
    let mut env = env.to_vec();
    env.push(("OTEL_EXPORTER_OTLP_HEADERS", &header));
    runner::run_json(scenario, &env)
}

/// Nothing the scenario wrote, anywhere, shows the secret.
fn no_secret(out: &Output, extra: &str) {
    for text in [
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        extra.into(),
    ] {
        assert!(!text.contains(SECRET), "the secret is echoed: {text}");
        assert!(
            !text.contains("db_password"),
            "the content is echoed: {text}"
        );
    }
}

fn secret_file(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let secret = dir.join("secret.env");
    std::fs::write(&secret, format!("db_password={SECRET}\n")).unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    secret
}

fn every_bad_filter_file_at_start_is_an_init_error_that_echoes_nothing() {
    let dir = tempdir("start");
    let fifo = dir.join("fifo");
    mkfifo(&fifo);
    let link = dir.join("link");
    std::os::unix::fs::symlink(secret_file(&dir), &link).unwrap();
    let cases = [
        (fifo.to_str().unwrap(), "a FIFO, not a regular file"),
        ("/dev/zero", "a character device, not a regular file"),
        (dir.to_str().unwrap(), "a directory, not a regular file"),
        (
            link.to_str().unwrap(),
            "its content (26 bytes, not shown) is invalid",
        ),
        ("/proc/self/environ", "not shown) is invalid"),
    ];
    for (path, why) in cases {
        let out = run("at_start", &[("LOG_FILTER_FILE", path)]);
        let err = String::from_utf8_lossy(&out.stderr);
        let named = format!("INIT: invalid LOG_FILTER_FILE={path:?}");
        assert!(err.contains(&named) && err.contains(why), "{path}: {err}");
        no_secret(&out, "");
    }
    // The control: the same secret set as RUST_LOG is in the error (the
    // crate echoes a variable's own value, never a file's content).
    let out = run(
        "at_start",
        &[("RUST_LOG", &format!("info,db_password={SECRET}"))],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains(SECRET));
    std::fs::remove_dir_all(&dir).unwrap();
}

fn a_bad_filter_file_swapped_in_at_run_time_never_stops_the_pipeline() {
    let dir = tempdir("run");
    let secret = secret_file(&dir);
    let cases = [
        ("fifo", String::new(), "a FIFO, not a regular file"),
        ("link", "/dev/zero".to_string(), "a character device"),
        ("link", secret.display().to_string(), "directive 1"),
        (
            "link",
            "/proc/self/environ".to_string(),
            "not shown) is invalid",
        ),
    ];
    for (what, target, why) in cases {
        let filter = dir.join("log-filter");
        // The last case left a FIFO there: writing to it would wait.
        let _ = std::fs::remove_file(&filter);
        std::fs::write(&filter, "info").unwrap();
        let log_file = dir.join("app.log");
        let _ = std::fs::remove_file(&log_file);
        let out = run(
            "at_run_time",
            &[
                ("LOG_FILTER_FILE", filter.to_str().unwrap()),
                ("LOG_FILE", log_file.to_str().unwrap()),
                ("LOG_STDOUT", "on"),
                ("SWAP", what),
                ("TARGET", &target),
            ],
        );
        let err = String::from_utf8_lossy(&out.stderr);
        let file = std::fs::read_to_string(&log_file).unwrap();
        // Every record in both outputs: the writer never stopped.
        for text in [&file, &*String::from_utf8_lossy(&out.stdout)] {
            let records = text
                .lines()
                .filter(|l| l.contains(r#""msg":"record""#))
                .count();
            assert_eq!(records as u64, RECORDS, "{what} {target}: {err}");
            assert!(!text.contains("debug stays off"), "{what} {target}");
        }
        // One ERROR record naming the variable and what is wrong; the
        // last good filter stays.
        let errors: Vec<&str> = file
            .lines()
            .filter(|l| l.contains(r#""level":"ERROR""#))
            .collect();
        assert!(
            errors.len() == 1 && errors[0].contains("LOG_FILTER_FILE") && errors[0].contains(why),
            "{what} {target}: {errors:?}"
        );
        assert!(err.contains("FILTER info"), "{what} {target}: {err}");
        // The drop returned (the scenario ended), within the documented
        // bound of one stall (5 s) and a second.
        let drop_ms: u64 = err
            .lines()
            .find_map(|l| l.strip_prefix("DROP ")?.strip_suffix(" ms")?.parse().ok())
            .expect("the drop returned");
        assert!(
            drop_ms < 6000,
            "{what} {target}: the drop took {drop_ms} ms"
        );
        let peak: u64 = err
            .lines()
            .find_map(|l| l.strip_prefix("PEAK ")?.strip_suffix(" KiB")?.parse().ok())
            .expect("peak RSS");
        println!("{what} {target}: drop {drop_ms} ms, peak RSS {peak} KiB");
        assert!(peak < 64 * 1024, "{what} {target}: peak RSS {peak} KiB");
        no_secret(&out, &file);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

crate::suite!(
    child,
    tests: [
        every_bad_filter_file_at_start_is_an_init_error_that_echoes_nothing,
        a_bad_filter_file_swapped_in_at_run_time_never_stops_the_pipeline,
    ]
);
