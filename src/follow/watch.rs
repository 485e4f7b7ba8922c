//! Change notifications: what is watched, and what a notification means to the engine. The only
//! file that imports `inotify` or `notify`.
//!
//! Directories are watched (one watch per directory, however many followed names it holds; in
//! descriptor mode a followed file itself), and notifications are only hints: the engine
//! re-stats and compares. [`route`] looks a notification's path up in the engine's
//! [`PathIndex`] and posts the inputs it concerns to the engine's [`Inbox`], or a name new to us
//! in a directory a pattern looks in; notifications about other files are dropped there.
//!
//! Two backends, one for each side of `cfg(target_os = "linux")`, behind [`Watches`]:
//! - Linux: inotify(7), read on the engine's own thread. The engine sleeps in poll(2) on the
//!   inotify descriptor ([`Watches::fd`], [`Inbox::wait_beside`]) and reads what came
//!   ([`Watches::receive`]), so an appended line wakes one thread, as in GNU tail. Watch
//!   descriptors are mapped back to paths here.
//! - elsewhere: `notify` (kqueue, FSEvents, ...), whose callback runs on notify's own thread and
//!   posts to the inbox; the engine sleeps on the inbox alone.

use std::collections::HashMap;
use std::os::fd::BorrowedFd;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use super::inbox::Inbox;
use crate::source::glob::Pattern;
use backend::Backend;

/// What a notification concerns. Written by the engine as it watches and unwatches, read where
/// notifications are received (the engine's thread on Linux, notify's thread elsewhere).
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
            match start(inbox, index) {
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

    /// A descriptor that is readable when notifications wait to be [received](Self::receive)
    /// on the engine's thread (Linux); `None` where they are posted by another thread, or when
    /// nothing is watched.
    pub(crate) fn fd(&self) -> Option<BorrowedFd<'_>> {
        self.backend.as_ref().and_then(Backend::fd)
    }

    /// Read the notifications that came (without blocking) and post what they mean.
    pub(crate) fn receive(&mut self) {
        if let Some(b) = self.backend.as_mut() {
            b.receive();
        }
    }
}

/// Start the backend. A backend read on the engine's thread needs the inbox's bell too: the engine
/// will sleep in poll(2) on the backend's descriptor, and posts from other threads must be able
/// to wake it there.
fn start(inbox: Arc<Inbox>, index: PathIndex) -> Result<Backend, String> {
    let backend = Backend::start(Arc::clone(&inbox), index).map_err(|e| e.to_string())?;
    if backend.fd().is_some() {
        inbox.open_bell().map_err(|e| e.to_string())?;
    }
    Ok(backend)
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

/// inotify(7), read on the engine's thread.
#[cfg(target_os = "linux")]
mod backend {
    use std::collections::HashMap;
    use std::io;
    use std::os::fd::{AsFd, BorrowedFd};
    use std::path::Path;
    use std::sync::{Arc, PoisonError};

    use inotify::{EventMask, Inotify, WatchDescriptor, WatchMask};

    use super::{Inbox, PathIndex, Refusal, route};
    use crate::sys;

    /// What a watch asks to hear of: writes, and whatever may change what a name leads to.
    /// Opening, reading and closing files are left out: they change nothing, the writes before a
    /// close were reported as they happened, and our own opens would wake us. GNU tail does not
    /// ask for them either.
    const MASK: WatchMask = WatchMask::MODIFY
        .union(WatchMask::ATTRIB)
        .union(WatchMask::CREATE)
        .union(WatchMask::DELETE)
        .union(WatchMask::MOVED_FROM)
        .union(WatchMask::MOVED_TO)
        .union(WatchMask::DELETE_SELF)
        .union(WatchMask::MOVE_SELF);

    /// Events that may have changed what a name leads to (see [`route`]'s `names`).
    const NAMES: EventMask = EventMask::ATTRIB
        .union(EventMask::CREATE)
        .union(EventMask::DELETE)
        .union(EventMask::MOVED_FROM)
        .union(EventMask::MOVED_TO)
        .union(EventMask::DELETE_SELF)
        .union(EventMask::MOVE_SELF);

    /// One read's worth of events: a hundred or so (an event is 16 bytes and its padded name).
    /// More wait in the kernel for the next read, which comes as soon as these are handled.
    const READ_SIZE: usize = 4096;

    pub(super) struct Backend {
        inotify: Inotify,
        /// Watch descriptor (its number) -> the descriptor and the paths it watches: one, or
        /// more when the kernel gave the same watch for several (a directory watched under its
        /// old name and again under its new one; hard links in descriptor mode). An event is
        /// reported for each.
        by_wd: HashMap<i32, (WatchDescriptor, Vec<Arc<Path>>)>,
        /// Watched path -> its watch descriptor's number.
        by_path: HashMap<Arc<Path>, i32>,
        index: PathIndex,
        inbox: Arc<Inbox>,
        /// Where events are read to: kept, not zeroed anew for every read.
        buffer: Box<[u8]>,
    }

    impl Backend {
        pub(super) fn start(inbox: Arc<Inbox>, index: PathIndex) -> io::Result<Backend> {
            let inotify = Inotify::init()?;
            Ok(Backend {
                inotify,
                by_wd: HashMap::new(),
                by_path: HashMap::new(),
                index,
                inbox,
                buffer: vec![0; READ_SIZE].into_boxed_slice(),
            })
        }

        pub(super) fn add(&mut self, path: &Arc<Path>) -> Result<(), Refusal> {
            match self.inotify.watches().add(path, MASK) {
                Ok(wd) => {
                    let id = wd.get_watch_descriptor_id();
                    self.by_wd.entry(id).or_insert_with(|| (wd, Vec::new())).1.push(Arc::clone(path));
                    self.by_path.insert(Arc::clone(path), id);
                    Ok(())
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => Err(Refusal::Missing),
                Err(e) if e.raw_os_error() == Some(libc::ENOSPC) => Err(Refusal::Limit),
                Err(e) => Err(Refusal::Other(sys::error_text(&e))),
            }
        }

        pub(super) fn remove(&mut self, path: &Path) {
            let Some(id) = self.by_path.remove(path) else { return };
            let Some((_, paths)) = self.by_wd.get_mut(&id) else { return };
            paths.retain(|p| **p != *path);
            if paths.is_empty()
                && let Some((wd, _)) = self.by_wd.remove(&id)
            {
                // Fails only when the kernel already dropped the watch (its directory was
                // deleted): nothing left to undo.
                let _ = self.inotify.watches().remove(wd);
            }
        }

        pub(super) fn fd(&self) -> Option<BorrowedFd<'_>> {
            Some(self.inotify.as_fd())
        }

        pub(super) fn receive(&mut self) {
            let events = match self.inotify.read_events(&mut self.buffer) {
                Ok(events) => events,
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) => {
                    return;
                }
                // What we could not read is lost: check everything.
                Err(_) => return self.inbox.rescan(),
            };
            let index = self.index.read().unwrap_or_else(PoisonError::into_inner);
            for event in events {
                let id = event.wd.get_watch_descriptor_id();
                if event.mask.contains(EventMask::Q_OVERFLOW) {
                    // The kernel's queue was full: events were lost.
                    self.inbox.rescan();
                    continue;
                }
                if event.mask.contains(EventMask::IGNORED) {
                    // The watch is gone: its file was deleted (after a DELETE_SELF, which was
                    // routed), or unmounted, or we removed it.
                    if let Some((_, paths)) = self.by_wd.remove(&id) {
                        for path in paths {
                            if self.by_path.get(&path) == Some(&id) {
                                self.by_path.remove(&path);
                            }
                        }
                    }
                    continue;
                }
                let names = if event.mask.intersects(NAMES) {
                    true
                } else if event.mask.contains(EventMask::MODIFY) {
                    false
                } else {
                    continue;
                };
                // A watch removed since the event was queued concerns nobody any more.
                let Some((_, paths)) = self.by_wd.get(&id) else { continue };
                for watched in paths {
                    match event.name {
                        Some(name) => route(&index, &watched.join(name), names, &self.inbox),
                        None => route(&index, watched, names, &self.inbox),
                    }
                }
            }
        }
    }
}

/// notify's recommended backend, on notify's thread.
#[cfg(not(target_os = "linux"))]
mod backend {
    use std::os::fd::BorrowedFd;
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

        pub(super) fn fd(&self) -> Option<BorrowedFd<'_>> {
            None
        }

        /// Nothing to do: notify's thread posts as events come.
        pub(super) fn receive(&mut self) {}
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
