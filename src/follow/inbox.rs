//! Where the engine's wake-ups arrive: hints from notify's thread, control requests from the
//! other threads, and the run's shutdown.
//!
//! One mutex and condition variable rather than a select over three channels: a hint costs the
//! notify thread a lock and, only when the engine is asleep, one wake; the engine sleeps on one
//! futex. Hints for the same path merge while the engine is busy, so a burst of appends to a few
//! files is a few checks, and the number of waiting hints is bounded by [`HINT_CAP`] paths
//! (beyond it they become one rescan of everything).

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use super::Control;

/// Distinct paths with waiting hints; beyond this the engine re-checks every file instead.
const HINT_CAP: usize = 4096;

/// The engine could not take a request: it has ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Closed;

/// What woke the engine, taken all at once.
#[derive(Debug, Default)]
pub(crate) struct Mail {
    /// Path -> whether an event there may have changed what a name points at (create, delete,
    /// rename, attributes), not only a file's data.
    pub(crate) hints: HashMap<PathBuf, bool>,
    /// Events were lost or too many waited: check every file.
    pub(crate) rescan: bool,
    /// Requests, in the order sent.
    pub(crate) control: VecDeque<Control>,
    /// The run's shutdown was triggered.
    pub(crate) shutdown: bool,
}

impl Mail {
    fn is_empty(&self) -> bool {
        self.hints.is_empty() && !self.rescan && self.control.is_empty() && !self.shutdown
    }
}

#[derive(Debug, Default)]
struct State {
    mail: Mail,
    /// The engine is asleep in [`Inbox::wait`] and must be woken.
    waiting: bool,
    /// The engine has ended: requests fail.
    closed: bool,
    /// notify's event thread still holds a handler of ours.
    handlers: usize,
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

    /// A notification for `path` (see [`Mail::hints`]).
    pub(crate) fn hint(&self, path: PathBuf, names: bool) {
        self.post(|state| {
            let mail = &mut state.mail;
            if mail.rescan {
                return;
            }
            if mail.hints.len() >= HINT_CAP && !mail.hints.contains_key(&path) {
                mail.hints.clear();
                mail.rescan = true;
                return;
            }
            *mail.hints.entry(path).or_default() |= names;
        });
    }

    /// Events were lost: check everything.
    pub(crate) fn rescan(&self) {
        self.post(|state| {
            state.mail.hints.clear();
            state.mail.rescan = true;
        });
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
        while state.mail.is_empty() {
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
        std::mem::take(&mut state.mail)
    }

    /// notify's thread took a handler of ours (it is dropped with the thread).
    pub(crate) fn handler_started(&self) {
        self.lock().handlers += 1;
    }

    /// A handler of ours was dropped.
    pub(crate) fn handler_dropped(&self) {
        self.lock().handlers -= 1;
        self.ready.notify_all();
    }

    /// Wait (until `deadline`) for notify's thread to drop every handler of ours.
    pub(crate) fn wait_handlers_dropped(&self, deadline: Instant) {
        let mut state = self.lock();
        while state.handlers > 0 {
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            state = self.ready.wait_timeout(state, deadline - now).unwrap_or_else(PoisonError::into_inner).0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn hints_for_one_path_merge_and_names_stick() {
        let inbox = Inbox::new();
        inbox.hint("/d/a".into(), false);
        inbox.hint("/d/a".into(), true);
        inbox.hint("/d/a".into(), false);
        inbox.hint("/d/b".into(), false);
        let mail = inbox.wait(Some(Instant::now()));
        assert_eq!(mail.hints.len(), 2);
        assert_eq!(mail.hints.get(&PathBuf::from("/d/a")), Some(&true));
        assert_eq!(mail.hints.get(&PathBuf::from("/d/b")), Some(&false));
        assert!(inbox.wait(Some(Instant::now())).is_empty());
    }

    #[test]
    fn too_many_paths_become_one_rescan() {
        let inbox = Inbox::new();
        for i in 0..=HINT_CAP {
            inbox.hint(format!("/d/{i}").into(), false);
        }
        let mail = inbox.wait(None);
        assert!(mail.rescan && mail.hints.is_empty());
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
