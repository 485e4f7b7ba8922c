//! The child command (`rtail FILE... -- COMMAND [ARG]...`): spawned after the files are watched,
//! in its own process group (so signals reach its whole tree), with SIGTERM as its
//! parent-death signal. A waiter thread reaps it and tells the engine; on `--until` or
//! `--timeout` it is stopped: SIGTERM to the group, a grace period, then SIGKILL.
//!
//! When its output is the run's source ([`Capture`]), its standard output is a pseudo-terminal
//! (programs buffer a pipe but write a terminal line by line: Python's `print`, C's stdio) with
//! output processing off, so its bytes arrive as written; its standard error is a pipe (written
//! unbuffered by convention), so the two stay apart.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, IsTerminal};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{Receiver, bounded};

use crate::follow::{Control, Inbox};
use crate::signal;
use crate::sys;

/// How the command's output is taken, when it is the run's source.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Capture {
    /// Ask the command not to colour its output (`NO_COLOR=1`, unless the environment already
    /// says): nothing shows colours but a colour terminal and the web page.
    pub(crate) no_color: bool,
}

/// The command's output streams, read ends: its standard output's pseudo-terminal and its
/// standard error's pipe.
pub(crate) struct Streams {
    pub(crate) stdout: File,
    pub(crate) stderr: File,
}

/// How long a child asked to stop (SIGTERM) may take before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// A running child command.
pub(crate) struct Child {
    pid: i32,
    /// The exit status, once the waiter thread reaped it.
    done: Receiver<i32>,
}

/// The exit status a shell would show: the code, or 128+N when killed by signal N.
pub(crate) fn status_code(status: ExitStatus) -> i32 {
    status.code().or_else(|| status.signal().map(|s| 128 + s)).unwrap_or(1)
}

impl Child {
    /// Start `command` and a waiter thread in `scope` that reaps it and sends
    /// [`Control::ChildExited`]. With `capture`, its output streams are returned for reading;
    /// without, it shares ours.
    pub(crate) fn spawn<'scope>(
        scope: &'scope std::thread::Scope<'scope, '_>,
        command: &[OsString],
        control: Arc<Inbox>,
        capture: Option<Capture>,
    ) -> io::Result<(Child, Option<Streams>)> {
        let (program, args) =
            command.split_first().ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
        let mut cmd = Command::new(program);
        cmd.args(args).process_group(0);
        let mut pty_master = None;
        if let Some(capture) = capture {
            let (master, slave) = open_pty()?;
            pty_master = Some(master);
            cmd.stdout(Stdio::from(slave)).stderr(Stdio::piped());
            // In its own process group it may not read our terminal (it would be stopped by
            // SIGTTIN, and so would the run): it reads nothing then. A file or pipe on our
            // standard input is its to read.
            if io::stdin().is_terminal() {
                cmd.stdin(Stdio::null());
            }
            if capture.no_color && std::env::var_os("NO_COLOR").is_none() {
                cmd.env("NO_COLOR", "1");
            }
        }
        let parent = std::process::id() as i32;
        // SAFETY: the closure only calls async-signal-safe functions (prctl, getppid, _exit).
        unsafe {
            cmd.pre_exec(move || sys::parent_death_signal(parent));
        }
        let mut child = cmd.spawn()?;
        // Our copy of the terminal's other end goes now: once the command and whatever it
        // started have closed theirs, reading the master ends.
        drop(cmd);
        let streams = match (pty_master, child.stderr.take()) {
            (Some(master), Some(stderr)) => {
                Some(Streams { stdout: File::from(master), stderr: File::from(OwnedFd::from(stderr)) })
            }
            _ => None,
        };
        let pid = child.id() as i32;
        signal::forward_to(pid);
        let (tx, done) = bounded(1);
        scope.spawn(move || {
            let code = child.wait().map_or(1, status_code);
            signal::forward_to(0);
            let _ = tx.send(code);
            let _ = control.send(Control::ChildExited(code));
        });
        Ok((Child { pid, done }, streams))
    }

    /// The child's exit status if it ended by itself; `None` when it was still running and
    /// `stop` stopped it (SIGTERM to its process group, then SIGKILL after [`STOP_GRACE`]).
    /// What it left in its process group goes too.
    pub(crate) fn finish(self, stop: bool) -> Option<i32> {
        let code = self.wait(stop);
        self.reap_group();
        code
    }

    fn wait(&self, stop: bool) -> Option<i32> {
        if let Ok(code) = self.done.try_recv() {
            return Some(code);
        }
        if !stop {
            return Some(self.done.recv().unwrap_or(1));
        }
        kill_group(self.pid, libc::SIGTERM);
        if self.done.recv_timeout(STOP_GRACE).is_err() {
            kill_group(self.pid, libc::SIGKILL);
            let _ = self.done.recv();
        }
        None
    }

    /// Leave nothing behind: what the child started in its process group (a `sh -c 'x &'`
    /// background job ignores SIGINT) gets SIGTERM, then SIGKILL if it is still there.
    fn reap_group(&self) {
        if !group_alive(self.pid) {
            return;
        }
        kill_group(self.pid, libc::SIGTERM);
        let deadline = std::time::Instant::now() + GROUP_GRACE;
        while group_alive(self.pid) && std::time::Instant::now() < deadline {
            // Bounded wait for processes we do not own to go away; shutdown only.
            std::thread::sleep(Duration::from_millis(5));
        }
        if group_alive(self.pid) {
            kill_group(self.pid, libc::SIGKILL);
        }
    }
}

/// How long the rest of the child's process group may take to go after SIGTERM.
const GROUP_GRACE: Duration = Duration::from_millis(500);

fn group_alive(pgid: i32) -> bool {
    // SAFETY: kill(2) with signal 0 only checks that the group has members.
    unsafe { libc::kill(-pgid, 0) == 0 }
}

fn kill_group(pgid: i32, sig: i32) {
    // SAFETY: kill(2) with a negative pid signals that process group; no memory involved.
    unsafe {
        libc::kill(-pgid, sig);
    }
}

/// A pseudo-terminal for the command's standard output: (master, slave), both close-on-exec
/// (the slave is duplicated onto the command's descriptor 1, which is not). Output processing
/// is off, so `\n` stays `\n`; the window is wide, so programs that fit lines to it do not
/// wrap log lines.
fn open_pty() -> io::Result<(OwnedFd, OwnedFd)> {
    let (mut master, mut slave) = (-1, -1);
    let size = libc::winsize { ws_row: 50, ws_col: 250, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: openpty(3) writes two descriptors to the given ints; the name and termios
    // pointers may be null; `size` outlives the call and is only read (some systems declare
    // the pointer mutable, hence the cast).
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            (&raw const size).cast_mut(),
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: openpty succeeded, so both are open descriptors that nothing else owns.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    for fd in [&master, &slave] {
        sys::set_cloexec(fd)?;
    }
    sys::raw_output(&slave)?;
    Ok((master, slave))
}
