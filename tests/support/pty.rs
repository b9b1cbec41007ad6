//! A pseudo-terminal for tests that need a child's stdout to be a terminal.
//!
//! Opening one takes `posix_openpt`, `grantpt`, `unlockpt`, `ptsname_r` and
//! the termios calls, which the standard library does not wrap: this is why
//! this test-only helper uses `unsafe` (the library itself forbids it). Each
//! call gets a file descriptor we own or a buffer we own and checks the result.
#![allow(dead_code)]

use std::ffi::CStr;
use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::process::{Child, Command, Stdio};

/// The two ends of a pseudo-terminal.
pub struct Pty {
    /// What the child writes to the terminal is read here.
    pub master: File,
    /// The terminal itself, for the child's stdout.
    pub terminal: File,
}

fn check(ret: libc::c_int) -> io::Result<()> {
    if ret == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Opens a pseudo-terminal in raw mode: the terminal passes bytes unchanged
/// (no `\n` to `\r\n`, no echo), so the parent reads exactly what was written.
pub fn open() -> io::Result<Pty> {
    // SAFETY: posix_openpt takes flags only; a negative result is an error.
    let fd = unsafe { libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just opened and is owned by nothing else.
    let master = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: `master` is an open pseudo-terminal master.
    check(unsafe { libc::grantpt(master.as_raw_fd()) })?;
    // SAFETY: as above.
    check(unsafe { libc::unlockpt(master.as_raw_fd()) })?;
    let mut name = [0 as libc::c_char; 256];
    // SAFETY: `name` is a writable buffer of the length passed.
    check(unsafe { libc::ptsname_r(master.as_raw_fd(), name.as_mut_ptr(), name.len()) })?;
    // SAFETY: on success ptsname_r wrote a NUL-terminated string into `name`.
    let path = unsafe { CStr::from_ptr(name.as_ptr()) }
        .to_str()
        .map_err(io::Error::other)?
        .to_owned();
    let terminal = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY)
        .open(path)?;
    // SAFETY: termios is plain data; tcgetattr fills it before it is read.
    let mut mode: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: `terminal` is an open terminal, `mode` a valid termios.
    check(unsafe { libc::tcgetattr(terminal.as_raw_fd(), &mut mode) })?;
    // SAFETY: `mode` is a valid termios.
    unsafe { libc::cfmakeraw(&mut mode) };
    // SAFETY: as for tcgetattr.
    check(unsafe { libc::tcsetattr(terminal.as_raw_fd(), libc::TCSANOW, &mode) })?;
    Ok(Pty {
        master: File::from(master),
        terminal,
    })
}

/// Runs `cmd` with its stdout on a fresh pseudo-terminal; returns the exit
/// status, everything written to the terminal, and the child's stderr.
pub fn run(mut cmd: Command) -> io::Result<(std::process::ExitStatus, Vec<u8>, Vec<u8>)> {
    let Pty {
        mut master,
        terminal,
    } = open()?;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::from(terminal))
        .stderr(Stdio::piped());
    let mut child: Child = cmd.spawn()?;
    // The child now holds the only handle on the terminal: once it exits,
    // reading the master ends (Linux reports EIO).
    drop(cmd);
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            match master.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => out.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.raw_os_error() == Some(libc::EIO) => break,
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    });
    let mut err = Vec::new();
    child.stderr.take().unwrap().read_to_end(&mut err)?;
    let status = child.wait()?;
    let out = reader.join().expect("pty reader panicked")?;
    Ok((status, out, err))
}
