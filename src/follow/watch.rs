//! Change notifications: the only file that imports `notify`.
//!
//! Directories are watched (one watch per directory, however many followed names it holds), and
//! notifications are only hints: the engine re-stats and compares. The callback runs on notify's
//! thread: it looks the event's paths up in the engine's [`PathIndex`] and posts the inputs they
//! concern to the engine's [`Inbox`]; events about other files are dropped there.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use notify::{RecursiveMode, Watcher as _};

use super::inbox::Inbox;
use crate::source::glob::Pattern;

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

/// The set of watched directories, whose hints go to the engine's inbox.
pub(crate) struct Watches {
    watcher: Option<notify::RecommendedWatcher>,
    /// Watched path -> how many followed inputs rely on it. The inputs share the key.
    watched: HashMap<Arc<Path>, usize>,
    inbox: Arc<Inbox>,
    /// The watch limit was reached and said so.
    limit_told: bool,
}

impl Watches {
    /// Start the notification backend. With `enabled` false (`--poll`), or when the backend
    /// cannot start, everything is polled; the second value is a notice to print in that case.
    pub(crate) fn new(enabled: bool, inbox: Arc<Inbox>, index: PathIndex) -> (Watches, Option<String>) {
        let mut notice = None;
        let watcher = if enabled {
            match make_watcher(Arc::clone(&inbox), index) {
                Ok(w) => Some(w),
                Err(e) => {
                    notice = Some(format!("cannot use change notifications ({e}); polling instead"));
                    None
                }
            }
        } else {
            None
        };
        (Watches { watcher, watched: HashMap::new(), inbox, limit_told: false }, notice)
    }

    /// Watch `dir` (non-recursively) on behalf of one more followed name; returns the path,
    /// shared by every input watching it (thousands of files in one directory hold one copy).
    pub(crate) fn add(&mut self, dir: &Path) -> Result<Arc<Path>, WatchFail> {
        let Some(watcher) = self.watcher.as_mut() else {
            // Already said once, when the backend failed to start.
            return Err(WatchFail::Refused(String::new()));
        };
        if let Some((shared, count)) = self.watched.get_key_value(dir) {
            let shared = Arc::clone(shared);
            self.watched.insert(Arc::clone(&shared), count + 1);
            return Ok(shared);
        }
        match watcher.watch(dir, RecursiveMode::NonRecursive) {
            Ok(()) => {
                let shared: Arc<Path> = Arc::from(dir);
                self.watched.insert(Arc::clone(&shared), 1);
                Ok(shared)
            }
            Err(e) => match e.kind {
                notify::ErrorKind::PathNotFound => Err(WatchFail::Missing),
                notify::ErrorKind::Io(ref io) if io.kind() == std::io::ErrorKind::NotFound => {
                    Err(WatchFail::Missing)
                }
                // Said once: with thousands of directories, one line is enough.
                notify::ErrorKind::MaxFilesWatch if self.limit_told => Err(WatchFail::Refused(String::new())),
                notify::ErrorKind::MaxFilesWatch => {
                    self.limit_told = true;
                    Err(WatchFail::Refused(
                        "inotify resources exhausted (see sysctl fs.inotify.max_user_watches; \
                         later paths past the limit are polled too, without a word)"
                            .into(),
                    ))
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
}

impl Drop for Watches {
    /// notify's event thread is not joined by its watcher's drop; it ends soon after, dropping
    /// our callback. Wait for that (bounded), so that no thread of ours outlives the engine.
    fn drop(&mut self) {
        if let Some(watcher) = self.watcher.take() {
            drop(watcher);
            self.inbox.wait_handlers_dropped(Instant::now() + Duration::from_secs(2));
        }
    }
}

/// Owned by the callback: tells the inbox when notify's thread has dropped it.
struct HandlerGuard(Arc<Inbox>);

impl HandlerGuard {
    fn new(inbox: Arc<Inbox>) -> HandlerGuard {
        inbox.handler_started();
        HandlerGuard(inbox)
    }
}

impl Drop for HandlerGuard {
    fn drop(&mut self) {
        self.0.handler_dropped();
    }
}

fn make_watcher(inbox: Arc<Inbox>, index: PathIndex) -> notify::Result<notify::RecommendedWatcher> {
    let guard = HandlerGuard::new(inbox);
    let handler = move |result: notify::Result<notify::Event>| {
        let inbox = &guard.0;
        let event = match result {
            Ok(event) => event,
            Err(_) => {
                inbox.rescan();
                return;
            }
        };
        if event.need_rescan() {
            inbox.rescan();
        }
        use notify::event::{EventKind, ModifyKind};
        let names = match event.kind {
            // Opening, reading or closing a file changes nothing (our own opens would wake us
            // too); the writes before a close were reported as they happened. GNU tail does
            // not ask for these events either.
            EventKind::Access(_) => return,
            EventKind::Modify(ModifyKind::Data(_)) => false,
            _ => true,
        };
        let index = index.read().unwrap_or_else(PoisonError::into_inner);
        for path in &event.paths {
            let known = index.inputs.get(path);
            if let Some(inputs) = known {
                inbox.hint(inputs, names);
            }
            // A name new to us in a directory a pattern looks in: the engine decides whether it
            // is a new file to follow (or a renamed one, or a directory to look into).
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
    };
    notify::RecommendedWatcher::new(handler, notify::Config::default())
}
