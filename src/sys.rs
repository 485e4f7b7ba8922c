//! The one place for operating-system specific calls.
//!
//! Everything Linux-only (pipe resizing, `sendfile`) lives behind `cfg(target_os = "linux")`
//! here, each with a portable fallback, so the rest of the crate stays plain Unix.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

/// The plain text of an OS error (`No such file or directory`), without Rust's `(os error 2)`.
pub fn error_text(err: &io::Error) -> String {
    match err.raw_os_error() {
        Some(code) => nix::errno::Errno::from_raw(code).desc().to_string(),
        None => err.to_string(),
    }
}

/// Pipe capacity we ask for when stdout is a pipe: one large transfer fits at once.
#[cfg(target_os = "linux")]
const PIPE_SIZE: libc::c_int = 1 << 20;

/// Ask the kernel for a larger pipe buffer when `fd` is a pipe. Failure is harmless (the limit in
/// /proc/sys/fs/pipe-max-size, or not a pipe): the pipe just keeps its size.
pub fn grow_pipe(fd: BorrowedFd<'_>) {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: F_SETPIPE_SZ takes an int and touches no memory of ours.
        unsafe {
            libc::fcntl(fd.as_raw_fd(), libc::F_SETPIPE_SZ, PIPE_SIZE);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = fd;
}

/// Copy up to `len` bytes of `file` starting at `offset` into `out` without moving them through
/// user space. Returns the bytes copied (0 at end of file), or `ErrorKind::Unsupported` where the
/// kernel cannot do it for this pair of descriptors; the caller then copies by hand.
pub fn copy_file_range_to(
    file: &File,
    offset: u64,
    len: usize,
    out: BorrowedFd<'_>,
) -> io::Result<usize> {
    #[cfg(target_os = "linux")]
    {
        let mut off = libc::off_t::try_from(offset)
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        loop {
            // SAFETY: both descriptors are open for the duration of the call; `off` is ours.
            let n =
                unsafe { libc::sendfile(out.as_raw_fd(), file.as_fd().as_raw_fd(), &mut off, len) };
            if n >= 0 {
                return Ok(n as usize);
            }
            let err = io::Error::last_os_error();
            match err.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::EINVAL) | Some(libc::ENOSYS) | Some(libc::EOPNOTSUPP) => {
                    return Err(io::Error::new(io::ErrorKind::Unsupported, err));
                }
                _ => return Err(err),
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (file, offset, len, out);
        Err(io::ErrorKind::Unsupported.into())
    }
}
