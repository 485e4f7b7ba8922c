//! Events from outside the files: SIGINT/SIGTERM/SIGHUP, SIGUSR1 (read every file to its end
//! now, then say so: a mark), the reader of stdout going away, and the death of `--pid`
//! processes. They become messages for the engine; no work is done in a
//! signal handler beyond writing one byte to a pipe.
//!
//! One thread waits in poll(2) on: the wake pipe (signals, and our own "quit"), stdout (a pipe
//! whose reader closed reports POLLERR), and a pidfd per `--pid` process. With nothing happening
//! it sleeps with no timeout. Where pidfds do not exist, PIDs are checked every `-s` interval.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use crate::follow::{Control, Inbox};
use crate::pipeline::{Shutdown, StopReason};
use crate::sys;

/// After a signal, how long the run may take to flush and stop before we die at once (stdout
/// blocked by a stalled reader cannot be flushed anyway).
const SHUTDOWN_GRACE: Duration = Duration::from_millis(60);

/// Signals that end a run cleanly.
const STOP_SIGNALS: [i32; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// Write end of the wake pipe, for the signal handler (-1 when no handler is installed).
static WAKE_FD: AtomicI32 = AtomicI32::new(-1);
/// The first stop signal received (0: none yet).
static SIGNALED: AtomicI32 = AtomicI32::new(0);
/// Process group of the running child command (0: none): stop signals go to it instead.
static CHILD_GROUP: AtomicI32 = AtomicI32::new(0);

/// Send SIGINT/SIGTERM/SIGHUP to this child's process group instead of stopping (0: stop again).
pub(crate) fn forward_to(pgid: i32) {
    CHILD_GROUP.store(pgid, Ordering::SeqCst);
}

extern "C" fn on_signal(sig: libc::c_int) {
    if SIGNALED.compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst).is_err() {
        // A second signal while shutting down: die at once, by the signal.
        die_by(sig);
    }
    let fd = WAKE_FD.load(Ordering::SeqCst);
    if fd >= 0 {
        let byte = sig as u8;
        // SAFETY: write(2) is async-signal-safe; the buffer is on our stack.
        unsafe {
            libc::write(fd, (&byte as *const u8).cast(), 1);
        }
    }
}

/// SIGUSR1: only wake the watcher, which asks the engine for a mark.
extern "C" fn on_mark(sig: libc::c_int) {
    let fd = WAKE_FD.load(Ordering::SeqCst);
    if fd >= 0 {
        let byte = sig as u8;
        // SAFETY: write(2) is async-signal-safe; the buffer is on our stack.
        unsafe {
            libc::write(fd, (&byte as *const u8).cast(), 1);
        }
    }
}

/// Whether the process started with SIGPIPE ignored (see [`crate::prepare_process`]).
static SIGPIPE_IGNORED_AT_START: AtomicBool = AtomicBool::new(false);

pub(crate) fn note_sigpipe_ignored_at_start(ignored: bool) {
    SIGPIPE_IGNORED_AT_START.store(ignored, Ordering::Relaxed);
}

/// Whether SIGPIPE was ignored when the process started: a reader that goes away then ends
/// rtail with status 1, as GNU's, instead of by the signal.
pub(crate) fn sigpipe_ignored_at_start() -> bool {
    SIGPIPE_IGNORED_AT_START.load(Ordering::Relaxed)
}

/// Restore the default action for `sig` and raise it, so the parent sees us killed by it.
/// Async-signal-safe.
pub(crate) fn die_by(sig: i32) -> ! {
    // SAFETY: signal(2), sigprocmask(2), raise(3) and _exit(2) are async-signal-safe; the
    // signal set lives on our stack.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        // Inside the handler the signal is blocked: unblock it, or raise() would do nothing.
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, sig);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::raise(sig);
        libc::_exit(128 + sig);
    }
}

/// What the watcher thread should watch.
pub(crate) struct Watch {
    /// Install handlers for SIGINT, SIGTERM, SIGHUP.
    pub(crate) signals: bool,
    /// Install a handler for SIGUSR1: each one asks the engine for a [`Control::Mark`].
    pub(crate) marks: bool,
    /// Watch stdout for its reader going away.
    pub(crate) stdout: bool,
    /// `--pid` processes; `control` gets [`Control::PidsGone`] once all are dead.
    pub(crate) pids: Vec<i32>,
    /// Check interval for PIDs without a pidfd.
    pub(crate) poll_every: Duration,
    /// `--timeout`: when the run is stopped with [`StopReason::Timeout`].
    pub(crate) deadline: Option<Instant>,
}

/// The running watcher; [`Watcher::stop`] ends and joins its thread.
pub(crate) struct Watcher {
    wake: OwnedFd,
}

impl Watcher {
    /// Start watching in a thread of `scope`. Returns `None` when there is nothing to watch.
    pub(crate) fn start<'scope>(
        scope: &'scope std::thread::Scope<'scope, '_>,
        watch: Watch,
        shutdown: Shutdown,
        control: Arc<Inbox>,
    ) -> std::io::Result<Option<Watcher>> {
        if !watch.signals
            && !watch.marks
            && !watch.stdout
            && watch.pids.is_empty()
            && watch.deadline.is_none()
        {
            return Ok(None);
        }
        let (read_end, write_end) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
        if watch.signals || watch.marks {
            WAKE_FD.store(write_end.as_raw_fd(), Ordering::SeqCst);
        }
        if watch.signals {
            for sig in STOP_SIGNALS {
                // SAFETY: the handler only touches atomics and calls async-signal-safe functions.
                unsafe {
                    libc::signal(sig, on_signal as *const () as libc::sighandler_t);
                }
            }
        }
        if watch.marks {
            // SAFETY: as above.
            unsafe {
                libc::signal(libc::SIGUSR1, on_mark as *const () as libc::sighandler_t);
            }
        }
        scope.spawn(move || run(read_end, watch, shutdown, control));
        Ok(Some(Watcher { wake: write_end }))
    }

    /// Ask the thread to return (it is joined with its scope) and put the signal actions back.
    pub(crate) fn stop(self) {
        WAKE_FD.store(-1, Ordering::SeqCst);
        let _ = nix::unistd::write(&self.wake, &[0u8]);
    }
}

/// The signal that stopped the run, if any.
pub(crate) fn received() -> Option<i32> {
    match SIGNALED.load(Ordering::SeqCst) {
        0 => None,
        sig => Some(sig),
    }
}

fn run(wake: OwnedFd, watch: Watch, shutdown: Shutdown, control: Arc<Inbox>) {
    let mut pidfds: Vec<OwnedFd> = Vec::new();
    let mut polled_pids: Vec<i32> = Vec::new();
    for &pid in &watch.pids {
        match sys::pid_watch(pid) {
            Ok(Some(fd)) => pidfds.push(fd),
            Ok(None) => polled_pids.push(pid),
            Err(_) => {} // already gone
        }
    }
    let mut pids_pending = !watch.pids.is_empty();
    let mut dying_at: Option<Instant> = None;
    let mut stdout_open = watch.stdout;
    let mut deadline = watch.deadline;
    let mut marks = 0u64;
    let stdout = sys::stdout();
    loop {
        if pids_pending && pidfds.is_empty() && polled_pids.is_empty() {
            pids_pending = false;
            let _ = control.send(Control::PidsGone);
        }
        let mut fds: Vec<PollFd> = Vec::with_capacity(2 + pidfds.len());
        fds.push(PollFd::new(wake.as_fd(), PollFlags::POLLIN));
        let watch_stdout = stdout_open && dying_at.is_none();
        if watch_stdout {
            fds.push(PollFd::new(stdout, PollFlags::empty()));
        }
        let first_pid = fds.len();
        for fd in &pidfds {
            fds.push(PollFd::new(fd.as_fd(), PollFlags::POLLIN));
        }
        let mut timeout = match (dying_at, polled_pids.is_empty()) {
            (Some(at), _) => at.saturating_duration_since(Instant::now()),
            (None, false) => watch.poll_every,
            (None, true) => Duration::MAX,
        };
        if let Some(at) = deadline {
            timeout = timeout.min(at.saturating_duration_since(Instant::now()));
        }
        let timeout = if timeout == Duration::MAX {
            PollTimeout::NONE
        } else {
            PollTimeout::try_from(timeout).unwrap_or(PollTimeout::MAX)
        };
        let ready = match poll(&mut fds, timeout) {
            Ok(n) => n,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return,
        };
        let revents: Vec<PollFlags> = fds.iter().map(|f| f.revents().unwrap_or(PollFlags::empty())).collect();
        drop(fds);
        if ready == 0 {
            if deadline.is_some_and(|at| Instant::now() >= at) {
                deadline = None;
                shutdown.trigger(StopReason::Timeout);
            }
            if let Some(at) = dying_at
                && Instant::now() >= at
            {
                // The run did not stop in time (stdout blocked): end now, by the signal.
                die_by(received().unwrap_or(libc::SIGTERM));
            }
            polled_pids.retain(|&pid| sys::pid_alive(pid));
            continue;
        }
        if revents[0].contains(PollFlags::POLLIN) {
            let mut byte = [0u8; 1];
            let _ = nix::unistd::read(&wake, &mut byte);
            if byte[0] == 0 {
                return;
            }
            let sig = i32::from(byte[0]);
            let child = CHILD_GROUP.load(Ordering::SeqCst);
            if sig == libc::SIGUSR1 {
                let _ = control.send(Control::Mark(marks));
                marks += 1;
            } else if child > 0 {
                // The child decides; we end when it does, with its status.
                // SAFETY: kill(2) on the child's process group.
                unsafe {
                    libc::kill(-child, sig);
                }
            } else {
                shutdown.trigger(StopReason::Signal(sig));
                dying_at = Some(Instant::now() + SHUTDOWN_GRACE);
            }
        }
        if watch_stdout
            && revents[1].intersects(PollFlags::POLLERR | PollFlags::POLLHUP | PollFlags::POLLNVAL)
        {
            shutdown.trigger(StopReason::OutputClosed);
            stdout_open = false;
        }
        let mut k = 0;
        pidfds.retain(|_| {
            let gone = revents[first_pid + k].intersects(PollFlags::POLLIN | PollFlags::POLLHUP);
            k += 1;
            !gone
        });
    }
}
