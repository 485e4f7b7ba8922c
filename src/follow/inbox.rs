//! Where the engine's wake-ups arrive: hints from notify's thread, control requests from the
//! other threads, and the run's shutdown.
//!
//! One mutex and condition variable rather than a select over three channels: a hint costs the
//! notify thread a lock and, only when the engine is asleep, one wake; the engine sleeps on one
//! futex. Hints name followed inputs by index (notify's thread maps paths to inputs), and hints
//! for the same input merge while the engine is busy: a burst of appends to a few files is a
//! few checks, and what waits is bounded by the number of inputs, whatever the burst.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use super::Control;

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

#[derive(Debug, Default)]
struct State {
    mail: Mail,
    /// Inputs hinted since the engine last took its mail, in order.
    hinted: Vec<usize>,
    /// `DUE | NAMES` flags of the inputs in `hinted`, by input index.
    flags: Vec<u8>,
    /// The engine is asleep in [`Inbox::wait`] and must be woken.
    waiting: bool,
    /// The engine has ended: requests fail.
    closed: bool,
}

/// The engine's inbox; shared (in an `Arc`) by everyone who may wake it.
#[derive(Debug, Default)]
pub(crate) struct Inbox {
    state: Mutex<State>,
    ready: Condvar,
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
        let wake = std::mem::take(&mut state.waiting);
        drop(state);
        if wake {
            self.ready.notify_all();
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
        while state.mail.is_empty() && state.hinted.is_empty() {
            state.waiting = true;
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
        state.waiting = false;
        let State { mail, hinted, flags, .. } = &mut *state;
        let mut mail = std::mem::take(mail);
        mail.hints = hinted.drain(..).map(|i| (i, std::mem::take(&mut flags[i]) & NAMES != 0)).collect();
        mail
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
            while !other.lock().waiting {
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
}
