//! Change notifications: the only file that imports `notify`.
//!
//! Directories are watched (one watch per directory, however many followed names it holds), and
//! notifications are only hints: the engine re-stats and compares. The callback runs on notify's
//! thread: [`route`] looks the event's paths up in the engine's [`PathIndex`] and posts the
//! inputs they concern to the engine's [`Inbox`]; events about other files are dropped there.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use super::inbox::Inbox;
use crate::source::glob::Pattern;
use backend::Backend;

/// What a notification concerns. Written by the engine as it watches and unwatches, read by the
/// notification callback.
#[derive(Default)]
pub(crate) struct Index {
    /// Watched path (a directory, a followed name in it, or a watched file) -> indexes of the
    /// inputs a notification for that path concerns.
    pub(crate) inputs: HashMap<PathBuf, Vec<usize>>,
    /// Watched directory (absolute) -> the patterns that look in it for new matches.
    pub(crate) dirs: HashMap<PathBuf, Vec<DirWatch>>,
}

/// One pattern's interest in one directory.
pub(crate) struct DirWatch {
    /// The pattern's index in the engine.
    pub(crate) pattern: usize,
    /// The directory as the pattern spells it: a new name in it is reported as this joined with
    /// the name, the path rtail then shows.
    pub(crate) spelled: Arc<Path>,
    pub(crate) glob: Arc<Pattern>,
}

pub(crate) type PathIndex = Arc<RwLock<Index>>;

/// Why a path could not be watched.
#[derive(Debug)]
pub(crate) enum WatchFail {
    /// The directory does not exist (yet): poll until it does.
    Missing,
    /// The kernel refused (watch limit, unsupported file system): poll, with a notice.
    Refused(String),
}

/// Why a backend did not watch a path.
enum Refusal {
    Missing,
    /// The kernel's limit on watches (inotify: ENOSPC).
    Limit,
    Other(String),
}

/// The set of watched paths, whose hints go to the engine's inbox.
pub(crate) struct Watches {
    /// `None` with `--poll`, or when notifications could not start.
    backend: Option<Backend>,
    /// Watched path -> how many followed inputs rely on it. The inputs share the key.
    watched: HashMap<Arc<Path>, usize>,
    /// The watch limit was reached and said so.
    limit_told: bool,
}

impl Watches {
    /// Start the notification backend. With `enabled` false (`--poll`), or when the backend
    /// cannot start, everything is polled; the second value is a notice to print in that case.
    pub(crate) fn new(enabled: bool, inbox: Arc<Inbox>, index: PathIndex) -> (Watches, Option<String>) {
        let mut notice = None;
        let backend = if enabled {
            match Backend::start(inbox, index) {
                Ok(b) => Some(b),
                Err(e) => {
                    notice = Some(format!("cannot use change notifications ({e}); polling instead"));
                    None
                }
            }
        } else {
            None
        };
        (Watches { backend, watched: HashMap::new(), limit_told: false }, notice)
    }

    /// Watch `path` (a directory, non-recursively, or a file) on behalf of one more followed
    /// name; returns the path, shared by every input watching it (thousands of files in one
    /// directory hold one copy).
    pub(crate) fn add(&mut self, path: &Path) -> Result<Arc<Path>, WatchFail> {
        let Some(backend) = self.backend.as_mut() else {
            // Already said once, when the backend failed to start.
            return Err(WatchFail::Refused(String::new()));
        };
        if let Some((shared, count)) = self.watched.get_key_value(path) {
            let shared = Arc::clone(shared);
            self.watched.insert(Arc::clone(&shared), count + 1);
            return Ok(shared);
        }
        let shared: Arc<Path> = Arc::from(path);
        match backend.add(&shared) {
            Ok(()) => {
                self.watched.insert(Arc::clone(&shared), 1);
                Ok(shared)
            }
            Err(Refusal::Missing) => Err(WatchFail::Missing),
            // Said once: with thousands of directories, one line is enough.
            Err(Refusal::Limit) if self.limit_told => Err(WatchFail::Refused(String::new())),
            Err(Refusal::Limit) => {
                self.limit_told = true;
                Err(WatchFail::Refused(
                    "inotify resources exhausted (see sysctl fs.inotify.max_user_watches; \
                     later paths past the limit are polled too, without a word)"
                        .into(),
                ))
            }
            Err(Refusal::Other(why)) => Err(WatchFail::Refused(why)),
        }
    }

    /// Forget a watch whose directory was removed, so a later [`Watches::add`] starts afresh.
    pub(crate) fn forget(&mut self, path: &Path) {
        if self.watched.remove(path).is_some()
            && let Some(b) = self.backend.as_mut()
        {
            b.remove(path);
        }
    }
}

/// One notification about `path`, for both backends: post the inputs it concerns to `inbox`
/// (`names`: it may have changed what a name leads to — a creation, deletion, rename or change
/// of attributes — not only the data), or a name new to us in a directory a pattern looks in.
fn route(index: &Index, path: &Path, names: bool, inbox: &Inbox) {
    let known = index.inputs.get(path);
    if let Some(inputs) = known {
        inbox.hint(inputs, names);
    }
    // A name new to us in a directory a pattern looks in: the engine decides whether it is a new
    // file to follow (or a renamed one, or a directory to look into).
    if known.is_none()
        && !index.dirs.is_empty()
        && let (Some(dir), Some(name)) = (path.parent(), path.file_name())
        && let Some(watches) = index.dirs.get(dir)
    {
        for w in watches {
            let spelled = w.glob.child(&w.spelled, name);
            if w.glob.matches(&spelled) || w.glob.wants_dir(&spelled) {
                inbox.found(w.pattern, spelled);
            }
        }
    }
}

/// notify's recommended backend, on notify's thread.
mod backend {
    use std::path::Path;
    use std::sync::{Arc, PoisonError, mpsc};
    use std::time::Duration;

    use notify::{RecursiveMode, Watcher as _};

    use super::{Inbox, PathIndex, Refusal, route};

    pub(super) struct Backend {
        /// `None` once dropped (see `Drop`).
        watcher: Option<notify::RecommendedWatcher>,
        /// Disconnected when notify's thread has dropped our callback, which holds the sender.
        released: mpsc::Receiver<()>,
    }

    impl Backend {
        pub(super) fn start(inbox: Arc<Inbox>, index: PathIndex) -> notify::Result<Backend> {
            let (held, released) = mpsc::channel::<()>();
            let handler = move |result: notify::Result<notify::Event>| {
                // Owned by the callback, so dropped with it.
                let _held = &held;
                let event = match result {
                    Ok(event) => event,
                    Err(_) => return inbox.rescan(),
                };
                if event.need_rescan() {
                    inbox.rescan();
                }
                use notify::event::{EventKind, ModifyKind};
                let names = match event.kind {
                    // Opening, reading or closing a file changes nothing (our own opens would
                    // wake us too); the writes before a close were reported as they happened.
                    // GNU tail does not ask for these events either.
                    EventKind::Access(_) => return,
                    EventKind::Modify(ModifyKind::Data(_)) => false,
                    _ => true,
                };
                let index = index.read().unwrap_or_else(PoisonError::into_inner);
                for path in &event.paths {
                    route(&index, path, names, &inbox);
                }
            };
            let watcher = notify::RecommendedWatcher::new(handler, notify::Config::default())?;
            Ok(Backend { watcher: Some(watcher), released })
        }

        pub(super) fn add(&mut self, path: &Arc<Path>) -> Result<(), Refusal> {
            let Some(watcher) = self.watcher.as_mut() else { return Err(Refusal::Other(String::new())) };
            match watcher.watch(path, RecursiveMode::NonRecursive) {
                Ok(()) => Ok(()),
                Err(e) => match e.kind {
                    notify::ErrorKind::PathNotFound => Err(Refusal::Missing),
                    notify::ErrorKind::Io(ref io) if io.kind() == std::io::ErrorKind::NotFound => {
                        Err(Refusal::Missing)
                    }
                    notify::ErrorKind::MaxFilesWatch => Err(Refusal::Limit),
                    _ => Err(Refusal::Other(e.to_string())),
                },
            }
        }

        pub(super) fn remove(&mut self, path: &Path) {
            if let Some(w) = self.watcher.as_mut() {
                let _ = w.unwatch(path);
            }
        }
    }

    impl Drop for Backend {
        /// notify's event thread is not joined by its watcher's drop; it ends soon after,
        /// dropping our callback. Wait for that (bounded), so that no thread of ours outlives
        /// the engine.
        fn drop(&mut self) {
            drop(self.watcher.take());
            let _ = self.released.recv_timeout(Duration::from_secs(2));
        }
    }
}
