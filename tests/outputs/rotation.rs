//! Rotation by time (`LOG_FILE_ROTATE_EVERY`, periods aligned to UTC) with
//! size rotation also due, and retention by count and age
//! (`LOG_FILE_KEEP`, `LOG_FILE_MAX_AGE`): every record in exactly one file,
//! each file's records inside the period its name says, no file for a quiet
//! period, and no file that rotation did not make is ever deleted. Each
//! scenario runs in a child copy of this binary.
//!
//! A suite of the `outputs` test binary (`main.rs`, `harness = false`).

use crate::support::runner;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use runner::run_json as run;
use serde_json::Value;

fn child(name: &str) {
    match name {
        // ~5 s of records, with a quiet stretch of 2.2 s in the middle (at
        // least one whole second without a record).
        "timed" => log_for(
            Duration::from_millis(5200),
            Some(Duration::from_millis(1800)..Duration::from_millis(4000)),
            Duration::from_micros(500),
        ),
        // Records for 3.5 s, to see rotation by time happen.
        "for_seconds" => log_for(Duration::from_millis(3500), None, Duration::from_millis(2)),
        "keep" => {
            let guard = slog_host::init().unwrap();
            for seq in 0..2000u64 {
                slog::info!(guard.logger(), "record"; "seq" => seq, "pad" => "x".repeat(100));
            }
            drop(guard);
        }
        other => panic!("unknown scenario {other}"),
    }
}

/// Logs numbered records through `init()` for `total`, one per `pause`,
/// none during `quiet`, and says how many on stderr (`LOGGED n`).
fn log_for(total: Duration, quiet: Option<std::ops::Range<Duration>>, pause: Duration) {
    let guard = slog_host::init().unwrap();
    let log = guard.logger();
    let start = Instant::now();
    let mut seq = 0u64;
    while start.elapsed() < total {
        if quiet.as_ref().is_some_and(|q| q.contains(&start.elapsed())) {
            std::thread::sleep(Duration::from_millis(10));
            continue;
        }
        slog::info!(log, "record"; "seq" => seq, "pad" => "x".repeat(100));
        seq += 1;
        std::thread::sleep(pause);
    }
    eprintln!("LOGGED {seq}");
    drop(guard);
}

fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("slog-host-rot-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Seconds since the epoch of a UTC `YYYY-MM-DDTHH-MM-SS` stamp.
fn stamp_secs(stamp: &str) -> u64 {
    let n = |r: std::ops::Range<usize>| stamp[r].parse::<u64>().unwrap();
    let (y, m, d) = (n(0..4) as i64, n(5..7) as i64, n(8..10) as i64);
    // Days from civil (Howard Hinnant).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = (era * 146_097 + doe - 719_468) as u64;
    days * 86_400 + n(11..13) * 3600 + n(14..16) * 60 + n(17..19)
}

/// Seconds since the epoch of a record's `ts`.
fn ts_secs(v: &Value) -> u64 {
    let ts = v["ts"].as_str().unwrap();
    stamp_secs(&ts[..19].replace(':', "-"))
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn every_record_once_in_its_periods_file() {
    let dir = fresh_dir("timed");
    let log = dir.join("app.log");
    let out = run(
        "timed",
        &[
            ("LOG_FILE", log.to_str().unwrap()),
            ("LOG_FILE_ROTATE_EVERY", "1s"),
            ("LOG_FILE_MAX_SIZE", "64K"),
            ("LOG_FILE_KEEP", "1000"),
            ("LOG_FLOOD", "off"),
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    let logged: u64 = err
        .lines()
        .find_map(|l| l.strip_prefix("LOGGED "))
        .unwrap()
        .parse()
        .unwrap();
    let names = files(&dir);
    let mut seen: HashMap<u64, String> = HashMap::new();
    let mut periods = Vec::new();
    let mut size_rotated = 0;
    for name in &names {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        let records: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert!(!records.is_empty(), "{name}: an empty file");
        let secs: Vec<u64> = records.iter().map(ts_secs).collect();
        if name == "app.log" {
            assert!(
                secs.iter().all(|s| *s == secs[0]),
                "the live file: one period"
            );
        } else {
            let stamp = name.strip_prefix("app.log.").unwrap();
            assert!(stamp.len() >= 19, "{name}");
            if stamp.len() > 19 {
                size_rotated += 1;
                assert!(stamp[19..].starts_with('.'), "{name}");
            }
            let period = stamp_secs(&stamp[..19]);
            assert!(
                secs.iter().all(|s| *s == period),
                "{name}: records of another second: {:?}",
                records
                    .iter()
                    .filter(|v| ts_secs(v) != period)
                    .map(|v| (v["seq"].clone(), v["ts"].clone()))
                    .collect::<Vec<_>>()
            );
            periods.push(period);
        }
        for v in &records {
            let seq = v["seq"].as_u64().unwrap();
            assert!(seen.insert(seq, name.clone()).is_none(), "seq {seq} twice");
        }
    }
    assert_eq!(
        seen.len() as u64,
        logged,
        "every record in one file: {names:?}"
    );
    assert!(
        size_rotated > 0,
        "size rotation happened within a second too: {names:?}"
    );
    periods.sort();
    periods.dedup();
    let gaps = periods.windows(2).filter(|w| w[1] - w[0] > 1).count();
    assert!(gaps >= 1, "a quiet second made no file: {periods:?}");
    println!(
        "rotation by time: {logged} records in {} files over {} periods ({size_rotated} size rotations within a period)",
        names.len(),
        periods.len() + 1
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

fn keep_and_max_age_delete_only_rotated_files() {
    let dir = fresh_dir("keep");
    let log = dir.join("app.log");
    let old = SystemTime::now() - Duration::from_secs(3 * 3600);
    for name in [
        "app.log.2020-01-01T00-00-00",
        "app.log.7",
        "app.log.bak",
        "other.log",
    ] {
        let f = std::fs::File::create(dir.join(name)).unwrap();
        f.set_modified(old).unwrap();
    }
    run(
        "keep",
        &[
            ("LOG_FILE", log.to_str().unwrap()),
            ("LOG_FILE_ROTATE_EVERY", "1h"),
            ("LOG_FILE_MAX_SIZE", "20K"),
            ("LOG_FILE_KEEP", "2"),
            ("LOG_FILE_MAX_AGE", "1h"),
            ("LOG_FLOOD", "off"),
        ],
    );
    let names = files(&dir);
    assert!(
        !names.contains(&"app.log.2020-01-01T00-00-00".to_string()),
        "past max_age: {names:?}"
    );
    assert!(
        !names.contains(&"app.log.7".to_string()),
        "past max_age: {names:?}"
    );
    assert!(
        names.contains(&"app.log.bak".to_string()),
        "not rotation's: {names:?}"
    );
    assert!(names.contains(&"other.log".to_string()));
    let rotated: Vec<&String> = names
        .iter()
        .filter(|n| n.starts_with("app.log.20"))
        .collect();
    assert_eq!(rotated.len(), 2, "keep 2: {names:?}");
    // The newest two: the highest numbers of this hour's files.
    let numbers: Vec<u64> = rotated
        .iter()
        .map(|n| n.rsplit('.').next().unwrap().parse().unwrap_or(0))
        .collect();
    assert!(
        numbers.iter().all(|n| *n >= 3),
        "the oldest went first: {names:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Files an operator keeps beside the log, named like rotated ones, all
/// older than `max_age` by their modification time.
const LOOK_ALIKES: &[&str] = &[
    "app.log.0",
    "app.log.20240101",
    "app.log.1999-1-1",
    "app.log.7.7.7",
    "app.log.2024-13-45",
    "app.log.1T",
    "app.log.12345678901234567890",
    "app.log.2023-02-29",
    "app.log.01",
    "app.log.bak",
];

fn retention_deletes_the_crates_old_files_and_never_a_look_alike() {
    let dir = fresh_dir("lookalike");
    let log = dir.join("app.log");
    let old = SystemTime::now() - Duration::from_secs(3 * 86_400);
    // The crate's own old files: a period two years ago, a numbered one.
    let ours = ["app.log.2024-01-01", "app.log.2024-01-02.3.gz", "app.log.5"];
    for name in LOOK_ALIKES.iter().chain(&ours) {
        let f = std::fs::File::create(dir.join(name)).unwrap();
        f.set_modified(old).unwrap();
    }
    run(
        "keep",
        &[
            ("LOG_FILE", log.to_str().unwrap()),
            ("LOG_FILE_MAX_AGE", "1d"),
            ("LOG_FLOOD", "off"),
        ],
    );
    let names = files(&dir);
    for name in LOOK_ALIKES {
        assert!(
            names.contains(&name.to_string()),
            "{name} deleted: {names:?}"
        );
    }
    for name in ours {
        assert!(!names.contains(&name.to_string()), "{name} kept: {names:?}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The periods of the rotated files in `dir` (their stamps), and whether
/// any is named after the year 2099.
fn rotated_stamps(dir: &Path) -> (usize, bool) {
    let names = files(dir);
    let rotated: Vec<&String> = names
        .iter()
        .filter(|n| n.starts_with("app.log.2"))
        .collect();
    (rotated.len(), rotated.iter().any(|n| n.contains("2099")))
}

fn a_log_file_dated_in_the_future_changes_nothing() {
    let future = SystemTime::UNIX_EPOCH + Duration::from_secs(4_070_908_800); // 2099-01-01
    for dated in [false, true] {
        let dir = fresh_dir("future");
        let log = dir.join("app.log");
        std::fs::write(&log, "{\"msg\":\"from before\"}\n").unwrap();
        if dated {
            std::fs::File::options()
                .append(true)
                .open(&log)
                .unwrap()
                .set_modified(future)
                .unwrap();
        }
        run(
            "for_seconds",
            &[
                ("LOG_FILE", log.to_str().unwrap()),
                ("LOG_FILE_ROTATE_EVERY", "1s"),
                ("LOG_FILE_MAX_SIZE", "16K"),
                ("LOG_FILE_KEEP", "1000"),
                ("LOG_FLOOD", "off"),
            ],
        );
        let (rotated, named_2099) = rotated_stamps(&dir);
        println!("dated 2099: {dated}: {rotated} rotated files");
        // 3.5 s at 1 s periods: at least 2 periods rotated, by time and size.
        assert!(rotated >= 2, "dated 2099: {dated}: {:?}", files(&dir));
        assert!(!named_2099, "dated 2099: {dated}: {:?}", files(&dir));
        std::fs::remove_dir_all(&dir).unwrap();
    }
    // Retention with keep 1: a planted file named after a future period is
    // neither the newest nor deleted, and the real newest stays.
    let dir = fresh_dir("future-keep");
    let log = dir.join("app.log");
    let planted = dir.join("app.log.2099-01-01T00-00-00");
    std::fs::write(&planted, "planted\n").unwrap();
    std::fs::File::options()
        .append(true)
        .open(&planted)
        .unwrap()
        .set_modified(future)
        .unwrap();
    run(
        "for_seconds",
        &[
            ("LOG_FILE", log.to_str().unwrap()),
            ("LOG_FILE_ROTATE_EVERY", "1s"),
            ("LOG_FILE_KEEP", "1"),
            ("LOG_FLOOD", "off"),
        ],
    );
    let names = files(&dir);
    assert!(
        names.contains(&"app.log.2099-01-01T00-00-00".to_string()),
        "{names:?}"
    );
    let real: Vec<&String> = names
        .iter()
        .filter(|n| n.starts_with("app.log.20") && !n.contains("2099"))
        .collect();
    assert_eq!(real.len(), 1, "keep 1 of the crate's own: {names:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

crate::suite!(
    child,
    tests: [
        every_record_once_in_its_periods_file,
        keep_and_max_age_delete_only_rotated_files,
        retention_deletes_the_crates_old_files_and_never_a_look_alike,
        a_log_file_dated_in_the_future_changes_nothing,
    ]
);
