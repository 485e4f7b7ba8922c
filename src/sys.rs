//! The one place for operating-system specific calls.
//!
//! Everything Linux-only (pipe resizing, `sendfile`, eventfd) lives behind
//! `cfg(target_os = "linux")` here, each with a portable fallback, so the rest of the crate stays
//! plain Unix. (inotify is the one exception: `follow/watch.rs` holds it, beside the `notify`
//! backend it replaces on Linux.)

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, IntoRawFd, OwnedFd};

/// The plain text of an OS error (`No such file or directory`), without Rust's `(os error 2)`.
pub fn error_text(err: &io::Error) -> String {
    let text = err.to_string();
    match err.raw_os_error() {
        // Rust renders strerror(3) text and appends " (os error N)".
        Some(code) => text.strip_suffix(&format!(" (os error {code})")).unwrap_or(&text).to_string(),
        None => text,
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
pub fn copy_file_range_to(file: &File, offset: u64, len: usize, out: BorrowedFd<'_>) -> io::Result<usize> {
    #[cfg(target_os = "linux")]
    {
        let mut off =
            libc::off_t::try_from(offset).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        loop {
            // SAFETY: both descriptors are open for the duration of the call; `off` is ours.
            let n = unsafe { libc::sendfile(out.as_raw_fd(), file.as_fd().as_raw_fd(), &mut off, len) };
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

/// Whether `path` lies on a file system where change notifications miss writes made by other
/// machines or by the kernel's network client (NFS, SMB/CIFS, FUSE, 9p, Ceph, ...): such paths
/// are polled. Unknown answers count as local; `--poll` is the user's override.
pub fn is_remote_fs(path: &std::path::Path) -> bool {
    #[cfg(target_os = "linux")]
    {
        // Magic numbers from statfs(2) and linux/magic.h.
        const REMOTE: &[i64] = &[
            0x6969,      // NFS
            0x517B,      // SMB
            0xFF53_4D42, // CIFS
            0xFE53_4D42, // SMB2
            0x6573_5546, // FUSE
            0x0102_1997, // 9P (v9fs)
            0x00C3_6400, // Ceph
            0x5346_414F, // AFS
            0x0116_1970, // GFS2
            0x7375_7245, // Coda
            0x0BD0_0BD0, // Lustre
        ];
        match nix::sys::statfs::statfs(path) {
            // f_type is i64 on x86_64 glibc but narrower elsewhere.
            #[allow(clippy::unnecessary_cast)]
            Ok(fs) => REMOTE.contains(&(fs.filesystem_type().0 as i64)),
            Err(_) => false,
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = path;
        false
    }
}

/// A descriptor that becomes readable when process `pid` exits (Linux pidfd). `Ok(None)` where
/// the kernel has no pidfds: the caller then checks with [`pid_alive`] on a timer. An error
/// means there is no such process (it is already gone).
pub fn pid_watch(pid: i32) -> io::Result<Option<std::os::fd::OwnedFd>> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::FromRawFd;
        // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        if fd >= 0 {
            // SAFETY: the kernel just gave us this descriptor; nobody else owns it.
            return Ok(Some(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd as i32) }));
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::ENOSYS) | Some(libc::EPERM) => Ok(None),
            _ => Err(err),
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        if pid_alive(pid) { Ok(None) } else { Err(io::Error::from_raw_os_error(libc::ESRCH)) }
    }
}

/// A bell: a descriptor that another thread makes readable ([`ring`]) to wake one sleeping in
/// poll(2) on it, which then [`hush`]es it. Linux: an eventfd (non-blocking, close-on-exec);
/// elsewhere `Unsupported` (nothing sleeps in poll(2) there).
pub fn bell() -> io::Result<OwnedFd> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::FromRawFd;
        // SAFETY: eventfd takes a starting count and flags and returns a new descriptor or -1.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the kernel just gave us this descriptor; nobody else owns it.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }
    #[cfg(not(target_os = "linux"))]
    Err(io::ErrorKind::Unsupported.into())
}

/// Make a [`bell`] readable. It cannot fail in a way worth telling: a full count (2^64 - 2
/// rings unheard) still leaves it readable.
pub fn ring(bell: BorrowedFd<'_>) {
    let one = 1u64.to_ne_bytes();
    // SAFETY: write(2) reads 8 bytes from our buffer.
    unsafe {
        libc::write(bell.as_raw_fd(), one.as_ptr().cast(), one.len());
    }
}

/// Make a rung [`bell`] quiet again (reading an eventfd resets its count).
pub fn hush(bell: BorrowedFd<'_>) {
    let mut count = [0u8; 8];
    // SAFETY: read(2) writes at most 8 bytes into our buffer; the descriptor is non-blocking.
    unsafe {
        libc::read(bell.as_raw_fd(), count.as_mut_ptr().cast(), count.len());
    }
}

/// Whether process `pid` still exists (a process we may not signal still counts as alive).
pub fn pid_alive(pid: i32) -> bool {
    // SAFETY: kill with signal 0 only checks for the process.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Whether stdout is a pipe or socket: only then can its reader go away while we are idle.
pub fn stdout_is_pipe() -> bool {
    match nix::sys::stat::fstat(stdout()) {
        Ok(st) => matches!(st.st_mode & libc::S_IFMT, libc::S_IFIFO | libc::S_IFSOCK),
        Err(_) => false,
    }
}

/// Take the standard descriptors 0, 1 and 2 that the process was started without, as a
/// runtime's start-up would, so that no file we open lands on them; returns whether stdout was
/// one of them (`rtail ... >&-`). A missing stdout becomes /dev/null opened read-only, so that
/// writes fail with "Bad file descriptor" as they would have (GNU's message); a missing stdin
/// or stderr becomes /dev/null for reading and writing.
pub fn claim_standard_fds() -> bool {
    let mut stdout_closed = false;
    for fd in 0..=2 {
        // SAFETY: F_GETFD only reads the descriptor's flags.
        let open = unsafe { libc::fcntl(fd, libc::F_GETFD) } != -1
            || io::Error::last_os_error().raw_os_error() != Some(libc::EBADF);
        if open {
            continue;
        }
        let null = if fd == 1 {
            std::fs::File::open("/dev/null")
        } else {
            std::fs::OpenOptions::new().read(true).write(true).open("/dev/null")
        };
        if let Ok(null) = null {
            // open(2) takes the lowest free number, usually `fd` itself: then it is kept, and
            // made inheritable as a standard descriptor is (Rust opens files close-on-exec).
            let raw = null.into_raw_fd();
            // SAFETY: fcntl/dup2 on descriptors nothing of ours uses yet; `raw` is ours to close.
            unsafe {
                if raw == fd {
                    libc::fcntl(fd, libc::F_SETFD, 0);
                } else {
                    libc::dup2(raw, fd);
                    libc::close(raw);
                }
            }
        }
        stdout_closed |= fd == 1;
    }
    stdout_closed
}

/// Standard output, borrowed for the life of the process.
pub fn stdout() -> BorrowedFd<'static> {
    // SAFETY: fd 1 stays open for the life of the process (see `claim_standard_fds`).
    unsafe { BorrowedFd::borrow_raw(1) }
}

/// The soft limit on open files (1024 when it cannot be read).
pub fn open_file_limit() -> u64 {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit fills the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return 1024;
    }
    // rlim_t is u64 on Linux but not everywhere.
    #[allow(clippy::unnecessary_cast)]
    let soft = lim.rlim_cur as u64;
    soft
}

/// Raise the soft limit on open files to the hard limit (following thousands of files needs a
/// descriptor each). Returns the soft limit now in force.
pub fn raise_open_file_limit() -> u64 {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit fill or read the struct we own.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 1024;
        }
        if lim.rlim_cur < lim.rlim_max {
            let wanted = libc::rlimit { rlim_cur: lim.rlim_max, rlim_max: lim.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &wanted) == 0 {
                lim.rlim_cur = lim.rlim_max;
            }
        }
    }
    // rlim_t is u64 on Linux but not everywhere.
    #[allow(clippy::unnecessary_cast)]
    let soft = lim.rlim_cur as u64;
    soft
}

/// In a freshly forked child, before exec: ask for SIGTERM when our parent dies, so a child
/// command never outlives an rtail that was killed. Linux only; elsewhere a no-op.
pub fn parent_death_signal(parent: i32) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: prctl and getppid are async-signal-safe and take plain integers.
        unsafe {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                return Err(io::Error::last_os_error());
            }
            if libc::getppid() != parent {
                // The parent died before the request took effect.
                libc::_exit(128 + libc::SIGTERM);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = parent;
    Ok(())
}

/// Mark a descriptor close-on-exec, so that commands we start do not inherit it.
pub fn set_cloexec(fd: &impl AsFd) -> io::Result<()> {
    let fd = fd.as_fd().as_raw_fd();
    // SAFETY: fcntl(2) on a descriptor we hold; F_GETFD/F_SETFD touch only its flags.
    let ok = unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFD);
        flags >= 0 && libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC) >= 0
    };
    if ok { Ok(()) } else { Err(io::Error::last_os_error()) }
}

/// Turn off a terminal's output processing (no `\n` to `\r\n`), for a pseudo-terminal whose
/// bytes we read as written.
pub fn raw_output(fd: &impl AsFd) -> io::Result<()> {
    let fd = fd.as_fd().as_raw_fd();
    // SAFETY: termios is plain data that tcgetattr fills in; both calls only use `fd`.
    unsafe {
        let mut attrs: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(fd, &mut attrs) != 0 {
            return Err(io::Error::last_os_error());
        }
        attrs.c_oflag &= !libc::OPOST;
        if libc::tcsetattr(fd, libc::TCSANOW, &attrs) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Whether this process may read `path` now (access(2) with R_OK): an error says why not.
pub fn readable(path: &std::path::Path) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: access(2) reads the NUL-terminated path and touches no other memory.
    if unsafe { libc::access(path.as_ptr(), libc::R_OK) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
