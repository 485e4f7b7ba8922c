//! The child command (`rtail FILE... -- COMMAND [ARG]...`): spawned after the files are watched,
//! in its own process group (so signals reach its whole tree), with SIGTERM as its
//! parent-death signal. A waiter thread reaps it and tells the engine; on `--until` or
//! `--timeout` it is stopped: SIGTERM to the group, a grace period, then SIGKILL.

use std::ffi::OsString;
use std::io;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus};
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{Receiver, bounded};

use crate::follow::{Control, Inbox};
use crate::signal;
use crate::sys;

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
    /// [`Control::ChildExited`].
    pub(crate) fn spawn<'scope>(
        scope: &'scope std::thread::Scope<'scope, '_>,
        command: &[OsString],
        control: Arc<Inbox>,
    ) -> io::Result<Child> {
        let (program, args) =
            command.split_first().ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
        let mut cmd = Command::new(program);
        cmd.args(args).process_group(0);
        let parent = std::process::id() as i32;
        // SAFETY: the closure only calls async-signal-safe functions (prctl, getppid, _exit).
        unsafe {
            cmd.pre_exec(move || sys::parent_death_signal(parent));
        }
        let mut child = cmd.spawn()?;
        let pid = child.id() as i32;
        signal::forward_to(pid);
        let (tx, done) = bounded(1);
        scope.spawn(move || {
            let code = child.wait().map_or(1, status_code);
            signal::forward_to(0);
            let _ = tx.send(code);
            let _ = control.send(Control::ChildExited(code));
        });
        Ok(Child { pid, done })
    }

    /// The child's exit status: wait for it, or first stop it when `stop` (SIGTERM to its
    /// process group, then SIGKILL after [`STOP_GRACE`]).
    pub(crate) fn finish(self, stop: bool) -> i32 {
        let code = self.wait(stop);
        self.reap_group();
        code
    }

    fn wait(&self, stop: bool) -> i32 {
        if let Ok(code) = self.done.try_recv() {
            return code;
        }
        if !stop {
            return self.done.recv().unwrap_or(1);
        }
        kill_group(self.pid, libc::SIGTERM);
        match self.done.recv_timeout(STOP_GRACE) {
            Ok(code) => code,
            Err(_) => {
                kill_group(self.pid, libc::SIGKILL);
                self.done.recv().unwrap_or(128 + libc::SIGKILL)
            }
        }
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
