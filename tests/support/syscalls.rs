//! Counts the system calls the calling thread makes, with `perf_event_open`
//! on the kernel tracepoint `raw_syscalls:sys_enter`.
//!
//! This needs `unsafe` (raw `perf_event_open`, `ioctl` and `read` calls), so
//! it lives with the tests and benches; the library itself forbids unsafe code.
//!
//! The count is exact and deterministic: the kernel increments the counter on
//! every syscall entry of this thread while it is enabled. The only syscall of
//! the measurement itself inside the window is the disabling `ioctl`; it is
//! measured with an empty closure (the baseline) and subtracted.
#![allow(dead_code)]

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

const PERF_TYPE_TRACEPOINT: u32 = 2;
const PERF_FLAG_FD_CLOEXEC: libc::c_ulong = 8;
const PERF_EVENT_IOC_ENABLE: libc::c_ulong = 0x2400;
const PERF_EVENT_IOC_DISABLE: libc::c_ulong = 0x2401;
const PERF_EVENT_IOC_RESET: libc::c_ulong = 0x2403;
/// `disabled` is bit 0 of the attribute flags.
const ATTR_DISABLED: u64 = 1;

/// `struct perf_event_attr`, first version (`PERF_ATTR_SIZE_VER0`, 64 bytes).
#[repr(C)]
#[derive(Default)]
struct PerfEventAttr {
    kind: u32,
    size: u32,
    config: u64,
    sample_period: u64,
    sample_type: u64,
    read_format: u64,
    flags: u64,
    wakeup_events: u32,
    bp_type: u32,
    config1: u64,
}

const TRACEPOINT_ID_PATHS: [&str; 2] = [
    "/sys/kernel/tracing/events/raw_syscalls/sys_enter/id",
    "/sys/kernel/debug/tracing/events/raw_syscalls/sys_enter/id",
];

/// The id of the `raw_syscalls:sys_enter` tracepoint. Where tracefs is not
/// mounted and this process is root (a fresh machine, a container), it
/// mounts tracefs first, as `.ci/run` does, once per process.
fn tracepoint_id() -> Result<u64, String> {
    static ID: std::sync::OnceLock<Result<u64, String>> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        let read = || {
            TRACEPOINT_ID_PATHS
                .iter()
                .find_map(|p| std::fs::read_to_string(p).ok())
        };
        let text = match read() {
            Some(t) => t,
            None => {
                // SAFETY: geteuid has no preconditions.
                let root = unsafe { libc::geteuid() } == 0;
                let mounted = root
                    && std::process::Command::new("mount")
                        .args(["-t", "tracefs", "nodev", "/sys/kernel/tracing"])
                        .status()
                        .is_ok_and(|s| s.success());
                read().ok_or_else(|| {
                    format!(
                        "no tracefs: none of {TRACEPOINT_ID_PATHS:?} is readable, and {} \
                         (as root: mount -t tracefs nodev /sys/kernel/tracing)",
                        if !root {
                            "this test is not root, so it cannot mount it"
                        } else if mounted {
                            "mounting it did not help"
                        } else {
                            "mounting it failed"
                        }
                    )
                })?
            }
        };
        text.trim()
            .parse()
            .map_err(|e| format!("tracepoint id {text:?}: {e}"))
    })
    .clone()
}

/// A syscall counter for the thread that created it.
pub struct SyscallCounter {
    fd: OwnedFd,
    baseline: u64,
}

impl SyscallCounter {
    /// Opens the counter for the calling thread and measures its baseline.
    /// The error says why the kernel refused and what would allow it.
    pub fn new() -> Result<Self, String> {
        let id = tracepoint_id()?;
        let attr = PerfEventAttr {
            kind: PERF_TYPE_TRACEPOINT,
            size: std::mem::size_of::<PerfEventAttr>() as u32,
            config: id,
            sample_period: 0,
            flags: ATTR_DISABLED,
            ..Default::default()
        };
        // SAFETY: `attr` is a valid, initialised perf_event_attr of the size it
        // declares; pid 0 / cpu -1 means "this thread, any CPU".
        let fd = unsafe {
            libc::syscall(
                libc::SYS_perf_event_open,
                &attr as *const PerfEventAttr,
                0 as libc::pid_t,
                -1 as libc::c_int,
                -1 as libc::c_int,
                PERF_FLAG_FD_CLOEXEC,
            )
        };
        if fd < 0 {
            let err = std::io::Error::last_os_error();
            let paranoid =
                std::fs::read_to_string("/proc/sys/kernel/perf_event_paranoid").unwrap_or_default();
            return Err(format!(
                "perf_event_open(raw_syscalls:sys_enter) failed: {err} \
                 (kernel.perf_event_paranoid={}; tracepoints need root or CAP_PERFMON, \
                 and a container seccomp profile may forbid perf_event_open)",
                paranoid.trim()
            ));
        }
        // SAFETY: the kernel just returned this descriptor and nothing else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) };
        let mut counter = SyscallCounter { fd, baseline: 0 };
        let baselines: Vec<u64> = (0..5).map(|_| counter.raw(|| ()).0).collect();
        if baselines.iter().any(|b| *b != baselines[0]) || baselines[0] > 2 {
            return Err(format!("unstable counter baseline: {baselines:?}"));
        }
        counter.baseline = baselines[0];
        Ok(counter)
    }

    /// The counter, or a loud notice. Where it cannot count (not root, no
    /// `perf_event_open`), the syscall checks say so on stderr, with how to
    /// run them, and are skipped, so the rest of the suite still runs; in
    /// CI (`CI` set) that is a failure instead, unless
    /// `SLOG_HOST_NO_SYSCALL_COUNTER=1` says to skip them knowingly.
    pub fn or_explain() -> Option<Self> {
        match Self::new() {
            Ok(c) => Some(c),
            Err(why)
                if std::env::var_os("CI").is_some()
                    && std::env::var_os("SLOG_HOST_NO_SYSCALL_COUNTER").is_none() =>
            {
                panic!(
                    "cannot count syscalls on this machine: {why}. \
                     Set SLOG_HOST_NO_SYSCALL_COUNTER=1 to skip these checks knowingly."
                )
            }
            Err(why) => {
                // Straight to the descriptor: libtest's capture would hide an
                // `eprintln!` of a passing test.
                use std::io::Write;
                let _ = write!(
                    std::io::stderr(),
                    "\n!!!!! SYSCALL COUNTING UNAVAILABLE: {why}\n\
                     !!!!! The zero-syscall facts were NOT checked. Run the tests as root \
                     (`sudo -E cargo test --workspace`) to check them.\n"
                );
                None
            }
        }
    }

    /// The syscalls made by this thread while `f` ran.
    pub fn count<R>(&self, f: impl FnOnce() -> R) -> (u64, R) {
        let (raw, r) = self.raw(f);
        (raw - self.baseline, r)
    }

    /// The calibrated overhead subtracted from every count (the disabling
    /// `ioctl`, normally 1).
    pub fn baseline(&self) -> u64 {
        self.baseline
    }

    fn raw<R>(&self, f: impl FnOnce() -> R) -> (u64, R) {
        let fd = self.fd.as_raw_fd();
        // SAFETY: plain ioctls on a perf event descriptor we own.
        unsafe {
            libc::ioctl(fd, PERF_EVENT_IOC_RESET as _, 0);
            libc::ioctl(fd, PERF_EVENT_IOC_ENABLE as _, 0);
        }
        let r = std::hint::black_box(f());
        // SAFETY: as above.
        unsafe {
            libc::ioctl(fd, PERF_EVENT_IOC_DISABLE as _, 0);
        }
        let mut value = 0u64;
        // SAFETY: reads 8 bytes (the counter value) into a u64 we own.
        let n = unsafe { libc::read(fd, (&mut value as *mut u64).cast(), 8) };
        assert_eq!(
            n,
            8,
            "read perf counter: {}",
            std::io::Error::last_os_error()
        );
        (value, r)
    }
}

/// Always-on syscall counters on every thread of this process, and on the
/// threads those threads start later (`inherit`: a thread that exits adds
/// its count to its parent's counter), for process-wide counts.
pub struct ProcessCounters {
    /// (thread id, counter); the calling thread's first.
    counters: Vec<(i32, OwnedFd)>,
}

/// `inherit` is bit 1 of the attribute flags.
const ATTR_INHERIT: u64 = 2;

impl ProcessCounters {
    /// Opens a counter on every thread that exists now.
    pub fn open() -> Result<Self, String> {
        let id = tracepoint_id()?;
        // SAFETY: gettid has no preconditions.
        let me = unsafe { libc::gettid() };
        let mut tids: Vec<i32> = std::fs::read_dir("/proc/self/task")
            .map_err(|e| e.to_string())?
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .filter(|t| *t != me)
            .collect();
        tids.insert(0, me);
        let mut counters = Vec::new();
        for tid in tids {
            let attr = PerfEventAttr {
                kind: PERF_TYPE_TRACEPOINT,
                size: std::mem::size_of::<PerfEventAttr>() as u32,
                config: id,
                flags: ATTR_INHERIT,
                ..Default::default()
            };
            // SAFETY: as in `SyscallCounter::new`, for thread `tid` of this
            // process.
            let fd = unsafe {
                libc::syscall(
                    libc::SYS_perf_event_open,
                    &attr as *const PerfEventAttr,
                    tid as libc::pid_t,
                    -1 as libc::c_int,
                    -1 as libc::c_int,
                    PERF_FLAG_FD_CLOEXEC,
                )
            };
            if fd < 0 {
                return Err(format!(
                    "perf_event_open(thread {tid}): {}",
                    std::io::Error::last_os_error()
                ));
            }
            // SAFETY: the kernel just returned this descriptor.
            counters.push((tid, unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) }));
        }
        Ok(ProcessCounters { counters })
    }

    fn read(fd: &OwnedFd) -> u64 {
        let mut value = 0u64;
        // SAFETY: reads the 8-byte counter value into a u64 we own.
        let n = unsafe { libc::read(fd.as_raw_fd(), (&mut value as *mut u64).cast(), 8) };
        assert_eq!(n, 8, "read perf counter");
        value
    }

    /// The values now: the calling thread's counter is read first.
    fn snapshot(&self, caller_last: bool) -> Vec<u64> {
        let mut v = vec![0; self.counters.len()];
        let order: Vec<usize> = if caller_last {
            (1..self.counters.len()).chain([0]).collect()
        } else {
            (0..self.counters.len()).collect()
        };
        for i in order {
            v[i] = Self::read(&self.counters[i].1);
        }
        v
    }

    /// Runs `f` and returns (syscalls of the calling thread, syscalls of the
    /// whole process) made while it ran. The reads of the counters made on
    /// the calling thread inside the window are exactly `2n - 1` for `n`
    /// counters and are subtracted from both.
    pub fn count<R>(&self, f: impl FnOnce() -> R) -> (u64, u64, R) {
        let before = self.snapshot(false);
        let r = std::hint::black_box(f());
        let after = self.snapshot(true);
        let noise = 2 * self.counters.len() as u64 - 1;
        let caller = after[0] - before[0] - noise;
        let total: u64 = after.iter().zip(&before).map(|(a, b)| a - b).sum::<u64>() - noise;
        (caller, total, r)
    }

    /// Threads counted.
    pub fn threads(&self) -> usize {
        self.counters.len()
    }
}
