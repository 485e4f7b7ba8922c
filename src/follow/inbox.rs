//! Where the engine's wake-ups arrive: hints of change notifications, control requests from the
//! other threads, and the run's shutdown.
//!
//! One mutex-guarded mail box rather than a select over channels: posting costs a lock and,
//! only when the engine is asleep, one wake. Hints name followed inputs by index (`watch.rs`
//! maps paths to inputs), and hints for the same input merge while the engine is busy: a burst
//! of appends to a few files is a few checks, and what waits is bounded by the number of
//! inputs, whatever the burst.
//!
//! The engine sleeps one of two ways. On Linux it reads the change notifications itself
//! ([`Inbox::wait_beside`]): it sleeps in poll(2) on the inotify descriptor and on the inbox's
//! bell (an eventfd that posting rings), so an appended line wakes one thread, once, as in GNU
//! tail. Elsewhere (notify posts hints from its own thread), and for a command's output, it
//! sleeps on a condition variable ([`Inbox::wait`]).

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::PathBuf;
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Instant;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use super::Control;
use crate::sys;

/// A waiting hint's flags, by input index.
const DUE: u8 = 1;
/// The name must be looked at again too, not only the data.
const NAMES: u8 = 2;

/// How many new names wait for the engine at most: past that (a burst of file creations while
/// it is busy), the patterns' directories are read again instead, so memory stays bounded.
pub(crate) const FOUND_CAP: usize = 4096;

/// The engine could not take a request: it has ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Closed;

/// What woke the engine, taken all at once.
#[derive(Debug, Default)]
pub(crate) struct Mail {
    /// Inputs to look at, in the order first hinted, each with whether an event may have
    /// changed what its name points at (create, delete, rename, attributes), not only its data.
    pub(crate) hints: Vec<(usize, bool)>,
    /// Events were lost: check every file.
    pub(crate) rescan: bool,
    /// Names new to us in directories patterns look in: (pattern, the name as spelled), in
    /// the order reported; at most [`FOUND_CAP`] (past it, `rescan` is set instead).
    pub(crate) found: Vec<(usize, PathBuf)>,
    /// Requests, in the order sent.
    pub(crate) control: VecDeque<Control>,
    /// The run's shutdown was triggered.
    pub(crate) shutdown: bool,
}

impl Mail {
    fn is_empty(&self) -> bool {
        self.hints.is_empty()
            && !self.rescan
            && self.found.is_empty()
            && self.control.is_empty()
            && !self.shutdown
    }
}

/// How the engine sleeps, if it does: what waking it takes.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Sleep {
    #[default]
    Awake,
    /// In [`Inbox::wait`]: notify the condition variable.
    OnCondvar,
    /// In [`Inbox::wait_beside`]: ring the bell.
    InPoll,
}

/// What [`Inbox::wait_beside`] woke for.
#[derive(Debug)]
pub(crate) enum Woke {
    /// Mail, or the deadline passed (the mail is empty then).
    Mail(Mail),
    /// The descriptor waited on beside the inbox became readable: read it (posting what it
    /// says here), then wait again.
    Readable,
}

#[derive(Debug, Default)]
struct State {
    mail: Mail,
    /// Inputs hinted since the engine last took its mail, in order.
    hinted: Vec<usize>,
    /// `DUE | NAMES` flags of the inputs in `hinted`, by input index.
    flags: Vec<u8>,
    /// Whether the engine sleeps, and how to wake it.
    sleep: Sleep,
    /// The engine has ended: requests fail.
    closed: bool,
}

impl State {
    fn has_mail(&self) -> bool {
        !self.mail.is_empty() || !self.hinted.is_empty()
    }

    /// Take the mail, hints in the order first posted.
    fn take(&mut self) -> Mail {
        let State { mail, hinted, flags, .. } = self;
        let mut mail = std::mem::take(mail);
        mail.hints = hinted.drain(..).map(|i| (i, std::mem::take(&mut flags[i]) & NAMES != 0)).collect();
        mail
    }
}

/// The engine's inbox; shared (in an `Arc`) by everyone who may wake it.
#[derive(Debug, Default)]
pub(crate) struct Inbox {
    state: Mutex<State>,
    ready: Condvar,
    /// Rung to wake an engine asleep in [`Inbox::wait_beside`]; opened by [`Inbox::open_bell`].
    bell: OnceLock<OwnedFd>,
}

impl Inbox {
    pub(crate) fn new() -> Inbox {
        Inbox::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Add to the mail with `post` and wake the engine if it sleeps.
    fn post(&self, post: impl FnOnce(&mut State)) {
        let mut state = self.lock();
        post(&mut state);
        let sleep = std::mem::take(&mut state.sleep);
        drop(state);
        match sleep {
            Sleep::Awake => {}
            Sleep::OnCondvar => self.ready.notify_all(),
            Sleep::InPoll => {
                if let Some(bell) = self.bell.get() {
                    sys::ring(bell.as_fd());
                }
            }
        }
    }

    /// A notification concerning these inputs (see [`Mail::hints`]).
    pub(crate) fn hint(&self, inputs: &[usize], names: bool) {
        if inputs.is_empty() {
            return;
        }
        let flag = if names { DUE | NAMES } else { DUE };
        self.post(|state| {
            for &i in inputs {
                if state.flags.len() <= i {
                    state.flags.resize(i + 1, 0);
                }
                if state.flags[i] == 0 {
                    state.hinted.push(i);
                }
                state.flags[i] |= flag;
            }
        });
    }

    /// A name new to us in a directory pattern `pattern` looks in (see [`Mail::found`]).
    pub(crate) fn found(&self, pattern: usize, path: PathBuf) {
        self.post(|state| {
            let found = &mut state.mail.found;
            if found.last().is_some_and(|(k, p)| *k == pattern && *p == path) {
                return;
            }
            if found.len() < FOUND_CAP {
                found.push((pattern, path));
            } else {
                state.mail.rescan = true;
            }
        });
    }

    /// Events were lost: check everything.
    pub(crate) fn rescan(&self) {
        self.post(|state| state.mail.rescan = true);
    }

    /// A request for the engine; fails once it has ended.
    pub(crate) fn send(&self, control: Control) -> Result<(), Closed> {
        let mut closed = false;
        self.post(|state| {
            closed = state.closed;
            if !closed {
                state.mail.control.push_back(control);
            }
        });
        if closed { Err(Closed) } else { Ok(()) }
    }

    /// The run is stopping.
    pub(crate) fn shut_down(&self) {
        self.post(|state| state.mail.shutdown = true);
    }

    /// The engine has ended: later requests fail.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
    }

    /// Wait for mail until `deadline` (forever without one), and take it; empty when the
    /// deadline passed first.
    pub(crate) fn wait(&self, deadline: Option<Instant>) -> Mail {
        let mut state = self.lock();
        while !state.has_mail() {
            state.sleep = Sleep::OnCondvar;
            state = match deadline {
                None => self.ready.wait(state).unwrap_or_else(PoisonError::into_inner),
                Some(at) => {
                    let now = Instant::now();
                    if now >= at {
                        break;
                    }
                    self.ready.wait_timeout(state, at - now).unwrap_or_else(PoisonError::into_inner).0
                }
            };
        }
        state.sleep = Sleep::Awake;
        state.take()
    }

    /// Make [`Inbox::wait_beside`] possible: open the bell that posting rings.
    pub(crate) fn open_bell(&self) -> io::Result<()> {
        if self.bell.get().is_none() {
            let _ = self.bell.set(sys::bell()?);
        }
        Ok(())
    }

    /// [`Inbox::wait`], sleeping in poll(2) on `events` too (the inotify descriptor, whose
    /// events the engine reads itself): [`Woke::Readable`] when that became readable first.
    /// Posts from other threads ring the bell, which [`Inbox::open_bell`] must have opened.
    pub(crate) fn wait_beside(&self, deadline: Option<Instant>, events: BorrowedFd<'_>) -> Woke {
        let Some(bell) = self.bell.get() else {
            debug_assert!(false, "wait_beside without a bell");
            return Woke::Mail(self.wait(deadline));
        };
        let mut state = self.lock();
        loop {
            if state.has_mail() {
                return Woke::Mail(state.take());
            }
            let timeout = match deadline {
                None => PollTimeout::NONE,
                Some(at) => {
                    let now = Instant::now();
                    if now >= at {
                        return Woke::Mail(state.take());
                    }
                    // Rounded up: waking before the deadline would only mean polling again.
                    let ms = (at - now).as_nanos().div_ceil(1_000_000);
                    PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX)
                }
            };
            state.sleep = Sleep::InPoll;
            drop(state);
            let mut fds =
                [PollFd::new(bell.as_fd(), PollFlags::POLLIN), PollFd::new(events, PollFlags::POLLIN)];
            // An error (EINTR) is a spurious wake-up: look again.
            let _ = poll(&mut fds, timeout);
            let ready = |fd: &PollFd| fd.revents().is_some_and(|r| !r.is_empty());
            let (rung, readable) = (ready(&fds[0]), ready(&fds[1]));
            state = self.lock();
            state.sleep = Sleep::Awake;
            if rung {
                sys::hush(bell.as_fd());
            }
            if readable {
                return Woke::Readable;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn hints_for_one_input_merge_and_names_stick() {
        let inbox = Inbox::new();
        inbox.hint(&[3], false);
        inbox.hint(&[3, 1], true);
        inbox.hint(&[3], false);
        inbox.hint(&[0], false);
        let mail = inbox.wait(Some(Instant::now()));
        assert_eq!(mail.hints, [(3, true), (1, true), (0, false)]);
        assert!(inbox.wait(Some(Instant::now())).is_empty());
        // Taken hints start afresh.
        inbox.hint(&[3], false);
        assert_eq!(inbox.wait(None).hints, [(3, false)]);
    }

    #[test]
    fn a_sleeping_engine_is_woken_and_requests_fail_once_closed() {
        let inbox = Arc::new(Inbox::new());
        let other = Arc::clone(&inbox);
        let sender = std::thread::spawn(move || {
            // Send only once the engine sleeps, so that the wake-up is what is tested.
            while other.lock().sleep == Sleep::Awake {
                std::thread::yield_now();
            }
            other.send(Control::Mark(7))
        });
        let mail = inbox.wait(Some(Instant::now() + Duration::from_secs(10)));
        assert_eq!(mail.control, [Control::Mark(7)]);
        assert_eq!(sender.join().expect("sender"), Ok(()));
        inbox.close();
        assert_eq!(inbox.send(Control::PidsGone), Err(Closed));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn an_engine_in_poll_is_woken_by_the_bell_and_by_its_descriptor() {
        let inbox = Arc::new(Inbox::new());
        inbox.open_bell().expect("bell");
        let (events, writer) = nix::unistd::pipe().expect("pipe");
        // Nothing comes: the deadline ends the wait, with empty mail.
        let soon = Instant::now() + Duration::from_millis(20);
        assert!(matches!(inbox.wait_beside(Some(soon), events.as_fd()), Woke::Mail(m) if m.is_empty()));
        assert!(Instant::now() >= soon);
        // A post from another thread while the engine sleeps in poll(2).
        let other = Arc::clone(&inbox);
        let sender = std::thread::spawn(move || {
            while other.lock().sleep != Sleep::InPoll {
                std::thread::yield_now();
            }
            other.hint(&[2], true);
        });
        let far = Some(Instant::now() + Duration::from_secs(10));
        match inbox.wait_beside(far, events.as_fd()) {
            Woke::Mail(mail) => assert_eq!(mail.hints, [(2, true)]),
            Woke::Readable => panic!("nothing was written to the descriptor"),
        }
        sender.join().expect("sender");
        // The descriptor becomes readable: the caller is told, and the bell was hushed.
        nix::unistd::write(&writer, b"x").expect("write");
        assert!(matches!(inbox.wait_beside(far, events.as_fd()), Woke::Readable));
    }
}
