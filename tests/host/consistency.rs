//! Every record's host fields come from one snapshot while snapshots are
//! swapped every 100 microseconds, and no record goes missing.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use slog::{info, o, Drain, Key, Level, OwnedKVList, Record, Serializer, KV};
use slog_host::drain::Enrich;
use slog_host::host::{keys, HostCache, HostInfo};

const PER_THREAD: u64 = 500_000;
const THREADS: u64 = 2;

/// Snapshot number `g`: every field encodes `g`, differently.
fn snapshot(g: u64) -> HostInfo {
    let ip = Ipv4Addr::from(0x0a00_0000 | (g as u32 & 0x00ff_ffff));
    HostInfo::new()
        .with_host_name(format!("host-{g}"))
        .with_ip(IpAddr::V4(ip))
        .with_pod_name(format!("pod-{g:x}"))
        .with_service("svc", format!("1.{g}.0"))
}

#[derive(Default)]
struct Fields {
    seq: Option<u64>,
    thread: Option<u64>,
    gens: Vec<(&'static str, u64)>,
}

impl Serializer for Fields {
    fn emit_arguments(&mut self, key: Key, val: &fmt::Arguments<'_>) -> slog::Result {
        let text = val.to_string();
        let g = match key {
            keys::HOST_NAME => text.strip_prefix("host-").map(|s| s.parse().unwrap()),
            keys::HOST_IP => {
                let ip: Ipv4Addr = text.parse().unwrap();
                Some(u64::from(u32::from(ip) & 0x00ff_ffff))
            }
            keys::K8S_POD_NAME => text
                .strip_prefix("pod-")
                .map(|s| u64::from_str_radix(s, 16).unwrap()),
            keys::SERVICE_VERSION => text
                .strip_prefix("1.")
                .and_then(|s| s.strip_suffix(".0"))
                .map(|s| s.parse().unwrap()),
            _ => None,
        };
        if let Some(g) = g {
            self.gens.push((key, g));
        }
        Ok(())
    }

    fn emit_u64(&mut self, key: Key, val: u64) -> slog::Result {
        match key {
            "seq" => self.seq = Some(val),
            "thread" => self.thread = Some(val),
            _ => {}
        }
        Ok(())
    }
}

#[derive(Default)]
struct Tally {
    records: u64,
    next_seq: u64,
    torn: u64,
    last_gen: u64,
    gen_changes: u64,
    went_back: u64,
}

/// A terminal drain that checks each record instead of writing it.
struct Check(Mutex<Tally>);

impl Drain for Check {
    type Ok = ();
    type Err = slog::Never;

    fn log(&self, record: &Record<'_>, _: &OwnedKVList) -> Result<(), slog::Never> {
        let mut f = Fields::default();
        record.kv().serialize(record, &mut f).unwrap();
        let mut t = self.0.lock().unwrap();
        t.records += 1;
        assert_eq!(f.seq, Some(t.next_seq), "missing or reordered record");
        t.next_seq += 1;
        assert!(f.thread.is_some());
        assert_eq!(
            f.gens.len(),
            4,
            "all four host fields present: {:?}",
            f.gens
        );
        let g = f.gens[0].1;
        if f.gens.iter().any(|(_, x)| *x != g) {
            t.torn += 1;
        }
        if g != t.last_gen {
            t.gen_changes += 1;
            if g < t.last_gen {
                t.went_back += 1;
            }
            t.last_gen = g;
        }
        Ok(())
    }

    fn is_enabled(&self, _: Level) -> bool {
        true
    }
}

#[test]
fn fields_of_a_record_come_from_one_snapshot_under_swaps_every_100us() {
    let _serial = crate::serial();
    let generation = Arc::new(AtomicU64::new(0));
    let g = Arc::clone(&generation);
    let cache = Arc::new(HostCache::new(move || Ok(snapshot(g.load(Ordering::SeqCst)))).unwrap());
    let stop = Arc::new(AtomicBool::new(false));

    let swapper = {
        let (cache, stop, generation) = (Arc::clone(&cache), Arc::clone(&stop), generation);
        std::thread::spawn(move || {
            let mut swaps = 0u64;
            while !stop.load(Ordering::SeqCst) {
                generation.fetch_add(1, Ordering::SeqCst);
                assert!(
                    cache.refresh().unwrap(),
                    "every refresh changes the snapshot"
                );
                swaps += 1;
                std::thread::sleep(Duration::from_micros(100));
            }
            swaps
        })
    };

    let loggers: Vec<_> = (0..THREADS)
        .map(|thread| {
            let cache = Arc::clone(&cache);
            std::thread::spawn(move || {
                let check = Arc::new(Check(Mutex::new(Tally::default())));
                let log =
                    slog::Logger::root(Enrich::with_cache(Arc::clone(&check), cache).fuse(), o!());
                for seq in 0..PER_THREAD {
                    info!(log, "record"; "thread" => thread, "seq" => seq);
                }
                drop(log);
                Arc::into_inner(check).unwrap().0.into_inner().unwrap()
            })
        })
        .collect();
    let tallies: Vec<Tally> = loggers.into_iter().map(|h| h.join().unwrap()).collect();
    stop.store(true, Ordering::SeqCst);
    let swaps = swapper.join().unwrap();

    let total: u64 = tallies.iter().map(|t| t.records).sum();
    let torn: u64 = tallies.iter().map(|t| t.torn).sum();
    let seen: Vec<u64> = tallies.iter().map(|t| t.gen_changes).collect();
    println!(
        "{total} records, {swaps} swaps, snapshot changes seen per thread {seen:?}, torn {torn}"
    );
    assert_eq!(total, THREADS * PER_THREAD, "records missing");
    assert_eq!(torn, 0, "records mixed fields of two snapshots");
    for t in &tallies {
        assert_eq!(t.next_seq, PER_THREAD);
        assert_eq!(
            t.went_back, 0,
            "a thread saw an older snapshot after a newer one"
        );
        assert!(
            t.gen_changes >= 10,
            "swaps did not happen while logging: {seen:?}"
        );
    }
    assert_eq!(cache.status().changes, swaps);
}

#[test]
fn the_checker_catches_a_record_with_fields_from_two_snapshots() {
    let check = Arc::new(Check(Mutex::new(Tally::default())));
    let log = slog::Logger::root(Arc::clone(&check).fuse(), o!());
    info!(log, "record"; "thread" => 0u64, "seq" => 0u64,
          keys::HOST_NAME => "host-1", keys::HOST_IP => "10.0.0.2",
          keys::K8S_POD_NAME => "pod-2", keys::SERVICE_VERSION => "1.2.0");
    drop(log);
    assert_eq!(check.0.lock().unwrap().torn, 1);
}
