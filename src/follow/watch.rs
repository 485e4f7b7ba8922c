//! Change notifications: the only file that imports `notify`.
//!
//! Directories are watched (one watch per directory, however many followed names it holds), and
//! notifications are only hints: the engine re-stats and compares. The callback runs on notify's
//! thread and only `try_send`s the event's paths; when the hint channel is full it raises the
//! rescan flag instead, and the engine re-checks everything.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};
use notify::{RecursiveMode, Watcher as _};

/// Hints waiting for the engine; beyond this the rescan flag is raised instead.
const HINT_CAP: usize = 4096;

/// A reason to look at the files again.
#[derive(Debug)]
pub(crate) enum Hint {
    /// Something happened at this path (a watched directory, or an entry in one). `names`:
    /// the event may have changed what a name points at (create, delete, rename, attributes);
    /// otherwise only a file's data changed.
    Path { path: PathBuf, names: bool },
    /// Events were lost (queue overflow, or an error in the watcher): check everything.
    Rescan,
}

/// Why a path could not be watched.
#[derive(Debug)]
pub(crate) enum WatchFail {
    /// The directory does not exist (yet): poll until it does.
    Missing,
    /// The kernel refused (watch limit, unsupported file system): poll, with a notice.
    Refused(String),
}

/// The set of watched directories and the receiving end of their hints.
pub(crate) struct Watches {
    watcher: Option<notify::RecommendedWatcher>,
    /// Watched path -> how many followed inputs rely on it.
    watched: HashMap<PathBuf, usize>,
    /// Hints from the watcher thread.
    pub(crate) hints: Receiver<Hint>,
    /// Set when hints were dropped; the engine must re-check every file.
    pub(crate) rescan: Arc<AtomicBool>,
    /// Keeps `hints` connected when there is no watcher, so waiting on it blocks instead of
    /// returning at once.
    _idle: Option<Sender<Hint>>,
}

impl Watches {
    /// Start the notification backend. With `enabled` false (`--poll`), or when the backend
    /// cannot start, everything is polled; the second value is a notice to print in that case.
    pub(crate) fn new(enabled: bool) -> (Watches, Option<String>) {
        let (tx, hints) = bounded(HINT_CAP);
        let rescan = Arc::new(AtomicBool::new(false));
        let mut notice = None;
        let idle = tx.clone();
        let watcher = if enabled {
            match make_watcher(tx, Arc::clone(&rescan)) {
                Ok(w) => Some(w),
                Err(e) => {
                    notice = Some(format!("cannot use change notifications ({e}); polling instead"));
                    None
                }
            }
        } else {
            None
        };
        let _idle = watcher.is_none().then_some(idle);
        (Watches { watcher, watched: HashMap::new(), hints, rescan, _idle }, notice)
    }

    /// Watch `dir` (non-recursively) on behalf of one more followed name.
    pub(crate) fn add(&mut self, dir: &Path) -> Result<(), WatchFail> {
        let Some(watcher) = self.watcher.as_mut() else {
            // Already said once, when the backend failed to start.
            return Err(WatchFail::Refused(String::new()));
        };
        if let Some(count) = self.watched.get_mut(dir) {
            *count += 1;
            return Ok(());
        }
        match watcher.watch(dir, RecursiveMode::NonRecursive) {
            Ok(()) => {
                self.watched.insert(dir.to_path_buf(), 1);
                Ok(())
            }
            Err(e) => match e.kind {
                notify::ErrorKind::PathNotFound => Err(WatchFail::Missing),
                notify::ErrorKind::Io(ref io) if io.kind() == std::io::ErrorKind::NotFound => {
                    Err(WatchFail::Missing)
                }
                notify::ErrorKind::MaxFilesWatch => {
                    Err(WatchFail::Refused("inotify resources exhausted".into()))
                }
                _ => Err(WatchFail::Refused(e.to_string())),
            },
        }
    }

    /// Forget a watch whose directory was removed, so a later [`Watches::add`] starts afresh.
    pub(crate) fn forget(&mut self, dir: &Path) {
        if self.watched.remove(dir).is_some()
            && let Some(w) = self.watcher.as_mut()
        {
            let _ = w.unwatch(dir);
        }
    }

    /// Take the rescan flag.
    pub(crate) fn take_rescan(&self) -> bool {
        self.rescan.swap(false, Ordering::AcqRel)
    }
}

impl Drop for Watches {
    /// notify's event thread is not joined by its watcher's drop; it ends soon after, dropping
    /// our callback and with it the last sender of `hints`. Wait for that (bounded), so that no
    /// thread of ours outlives the engine.
    fn drop(&mut self) {
        if let Some(watcher) = self.watcher.take() {
            drop(watcher);
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
            while self.hints.recv_deadline(deadline).is_ok() {}
        }
    }
}

fn make_watcher(tx: Sender<Hint>, rescan: Arc<AtomicBool>) -> notify::Result<notify::RecommendedWatcher> {
    let handler = move |result: notify::Result<notify::Event>| {
        let event = match result {
            Ok(event) => event,
            Err(_) => {
                raise(&tx, &rescan, Hint::Rescan);
                return;
            }
        };
        if event.need_rescan() {
            raise(&tx, &rescan, Hint::Rescan);
        }
        use notify::event::{AccessKind, AccessMode, EventKind, ModifyKind};
        let names = match event.kind {
            // Opening or reading a file changes nothing (our own opens would wake us too).
            EventKind::Access(
                AccessKind::Open(_) | AccessKind::Close(AccessMode::Read) | AccessKind::Read,
            ) => return,
            EventKind::Access(_) | EventKind::Modify(ModifyKind::Data(_)) => false,
            _ => true,
        };
        for path in event.paths {
            raise(&tx, &rescan, Hint::Path { path, names });
        }
    };
    notify::RecommendedWatcher::new(handler, notify::Config::default())
}

fn raise(tx: &Sender<Hint>, rescan: &AtomicBool, hint: Hint) {
    match tx.try_send(hint) {
        Ok(()) | Err(TrySendError::Disconnected(_)) => {}
        Err(TrySendError::Full(_)) => {
            // The engine is busy and will look at the flag once it drains the queue.
            rescan.store(true, Ordering::Release);
        }
    }
}
