//! Standard output and error as the writer writes them: a descriptor of its
//! own, never the `std::io` lock, writes of whole lines to a pipe, and a
//! bounded wait for a full one.

use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::os::fd::AsFd;
use std::time::Instant;

use crate::record::queue::FLUSH_TIMEOUT;

/// A descriptor of the writer's own for standard output (`stdout`) or
/// error: a `dup` of descriptor 1 or 2. The writer never takes the lock of
/// `std::io::Stdout` or `Stderr` (a thread of the application may hold it
/// while it logs, and a forked child inherits it locked if a thread held it
/// at the fork), and it writes each batch with one `write`, unbuffered.
fn own_stdout(stdout: bool) -> io::Result<File> {
    let fd = if stdout {
        io::stdout().as_fd().try_clone_to_owned()
    } else {
        io::stderr().as_fd().try_clone_to_owned()
    };
    fd.map(File::from)
}

/// [`own_stdout`] as an output.
pub(crate) fn own_stream(stdout: bool) -> io::Result<StdStream> {
    own_stdout(stdout).map(StdStream::new)
}

/// The most bytes a write to a pipe puts in as one piece (POSIX `PIPE_BUF`,
/// 4096 on Linux): the kernel never puts another writer's bytes inside it.
pub(crate) const PIPE_BUF: usize = 4096;

/// How much of `buf` to write at once to a pipe: whole lines, at most
/// [`PIPE_BUF`] bytes (a longer first line alone), so no other writer of
/// the pipe (a forked child, the application's `print!`) lands inside one.
pub(crate) fn pipe_chunk(buf: &[u8]) -> usize {
    if buf.len() <= PIPE_BUF {
        return buf.len();
    }
    match buf[..PIPE_BUF].iter().rposition(|b| *b == b'\n') {
        Some(end) => end + 1,
        None => buf
            .iter()
            .position(|b| *b == b'\n')
            .map_or(buf.len(), |end| end + 1),
    }
}

/// Waits until `fd` (a full pipe or FIFO, non-blocking) can take a write,
/// or `deadline` passes: false then. `poll(2)`, so the writer goes on the
/// moment the reader makes room.
pub(crate) fn wait_writable(fd: &impl AsFd, deadline: Instant) -> bool {
    use rustix::event::{poll, PollFd, PollFlags, Timespec};
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        let timeout = Timespec::try_from(left).ok();
        let mut fds = [PollFd::new(fd, PollFlags::OUT)];
        match poll(&mut fds, timeout.as_ref()) {
            Ok(0) => return false,
            Ok(_) => return true,
            Err(rustix::io::Errno::INTR) => {}
            // Cannot wait: let the caller's next write say what is wrong.
            Err(_) => return true,
        }
    }
}

/// Standard output or error through the writer's own descriptor; to a pipe
/// it writes whole lines of at most [`PIPE_BUF`] bytes a call.
///
/// A pipe is opened again through `/proc/self/fd` as a description of its
/// own with `O_NONBLOCK` (the application's descriptor stays blocking): a
/// pipe nobody reads makes a write wait at most [`FLUSH_TIMEOUT`] without
/// progress, then fail (counted as a write error), on the writer thread and
/// on a caller writing synchronously alike. Where that open fails (a
/// socket), the `dup` is written blocking.
pub(crate) struct StdStream {
    file: File,
    pipe: bool,
    /// The last write waited FLUSH_TIMEOUT in vain: until a write succeeds,
    /// a full pipe fails at once (one wait per stall, not one per batch).
    stalled: bool,
}

impl StdStream {
    pub(crate) fn new(file: File) -> StdStream {
        use std::os::fd::AsRawFd;
        use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
        let meta = file.metadata();
        let fifo = meta.as_ref().is_ok_and(|m| m.file_type().is_fifo());
        let pipe = fifo || meta.is_ok_and(|m| m.file_type().is_socket());
        let file = if fifo {
            std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(format!("/proc/self/fd/{}", file.as_raw_fd()))
                .unwrap_or(file)
        } else {
            file
        };
        StdStream {
            file,
            pipe,
            stalled: false,
        }
    }

    pub(crate) fn is_terminal(&self) -> bool {
        self.file.is_terminal()
    }
}

impl Write for StdStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let chunk = if self.pipe {
            &buf[..pipe_chunk(buf)]
        } else {
            buf
        };
        let mut deadline: Option<Instant> = None;
        loop {
            match self.file.write(chunk) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    let until = *deadline.get_or_insert_with(|| Instant::now() + FLUSH_TIMEOUT);
                    if self.stalled || !wait_writable(&self.file, until) {
                        self.stalled = true;
                        return Err(e);
                    }
                }
                other => {
                    if other.is_ok() {
                        self.stalled = false;
                    }
                    return other;
                }
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{pipe_chunk, PIPE_BUF};

    #[test]
    fn pipe_chunks_are_whole_lines_of_at_most_pipe_buf() {
        let line = |n: usize| {
            let mut l = vec![b'x'; n - 1];
            l.push(b'\n');
            l
        };
        // Short: all of it.
        assert_eq!(pipe_chunk(&line(10)), 10);
        // Lines of 1000: four fit (4000), the fifth would pass PIPE_BUF.
        let many: Vec<u8> = (0..10).flat_map(|_| line(1000)).collect();
        assert_eq!(pipe_chunk(&many), 4000);
        // Two lines ending exactly one byte past PIPE_BUF: the first alone.
        let past: Vec<u8> = line(2000).into_iter().chain(line(2097)).collect();
        assert_eq!(pipe_chunk(&past), 2000);
        // Exactly PIPE_BUF of whole lines.
        let exact: Vec<u8> = (0..4).flat_map(|_| line(1024)).chain(line(10)).collect();
        assert_eq!(pipe_chunk(&exact), PIPE_BUF);
        // A first line longer than PIPE_BUF goes alone.
        let long: Vec<u8> = line(10_000).into_iter().chain(line(10)).collect();
        assert_eq!(pipe_chunk(&long), 10_000);
        // No newline at all: everything.
        assert_eq!(pipe_chunk(&[b'x'; 9000]), 9000);
    }
}
