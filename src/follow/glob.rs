//! Following patterns: files that start matching a pattern while rtail runs are followed too.
//!
//! The engine watches every directory a pattern may find matches in (`source::glob` says
//! which). Change notifications there report names new to us that the pattern matches, or
//! directories it may find matches under (`watch.rs`, [`super::Inbox::found`]); polled
//! directories are read again on every poll tick. For each, the engine decides here:
//!
//! - a directory: watch it too, and follow what already matches in it;
//! - a file already followed under another name (same device and inode as an open reader):
//!   renamed from a matching name that is gone now, it keeps its reader and offset and is
//!   named anew ([`Msg::Name`]); otherwise (a rotation, whose rotated name also matches, or a
//!   hard link) it is not followed twice;
//! - a compressed file (`.gz`, …): a rotated copy, whose lines were the live file's; not
//!   followed;
//! - anything else: a new source, read from its first byte (all of it is new).
//!
//! Comparing with the readers that are open is exact: an open file's inode cannot be reused.

use std::collections::{BTreeSet, VecDeque};
use std::fs::{File, Metadata};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError};

use super::file::{FINGERPRINT_LEN, Identity, Reader};
use super::watch::{DirWatch, WatchFail};
use super::{Engine, Followed, absolute_dir, perms_of};
use crate::pipeline::{Msg, Stopped};
use crate::record::{EventKind, Generation, SourceId};
use crate::source::glob::{Pattern, Scan};
use crate::source::initial::Reached;
use crate::source::read::{Partial, read_full_at};
use crate::sys;
use crate::text::quote;

/// A run's patterns, and which inputs they matched at the start.
#[derive(Debug, Default, Clone)]
pub(crate) struct Globbed {
    /// The arguments that are patterns, in order.
    pub(crate) patterns: Vec<Arc<Pattern>>,
    /// The inputs expanded from them.
    pub(crate) from_pattern: BTreeSet<SourceId>,
    /// Patterns that matched nothing at the start, as given.
    pub(crate) unmatched: Vec<PathBuf>,
    /// What reading the patterns' directories ran into, as notices.
    pub(crate) problems: Vec<String>,
    /// The number the first source found while following gets (after the inputs, and after
    /// the rotated generations `--history` read).
    pub(crate) first_new_source: SourceId,
}

/// One pattern, as the engine looks for its matches.
#[derive(Debug)]
pub(super) struct Looking {
    pub(super) glob: Arc<Pattern>,
    /// Directories watched for it (absolute).
    watched: BTreeSet<PathBuf>,
    /// Some directory of it cannot be watched: it is read again on every poll tick.
    pub(super) polled: bool,
}

impl Looking {
    pub(super) fn new(glob: Arc<Pattern>) -> Looking {
        Looking { glob, watched: BTreeSet::new(), polled: false }
    }
}

/// A file a pattern's input read and closed (its drain ended) while its name moved on. Files
/// renamed along the backups (`app.log.1` → `app.log.2`) come back under names a pattern like
/// `app.log*` matches: they are known by identity and first bytes, and never read from their
/// start again.
#[derive(Debug)]
pub(super) struct Closed {
    identity: Identity,
    head: Vec<u8>,
    /// Where reading stopped (all before it was sent).
    offset: u64,
}

/// How many [`Closed`] files are remembered (the oldest are forgotten).
const CLOSED_CAP: usize = 1024;

/// Remember `reader`'s file, closed now.
pub(super) fn remember_closed(closed: &mut VecDeque<Closed>, reader: &Reader) {
    if closed.len() >= CLOSED_CAP {
        closed.pop_front();
    }
    let head = reader.fingerprint().to_vec();
    closed.push_back(Closed { identity: reader.identity, head, offset: reader.offset });
}

/// `file`'s first bytes, as many as `len` (fewer when it is shorter).
fn head_of(file: &File, len: usize) -> Vec<u8> {
    let mut head = vec![0u8; len];
    let n = read_full_at(file, &mut head, 0).unwrap_or(0);
    head.truncate(n);
    head
}

/// Compressed files are rotated copies: their lines were the live file's.
pub(crate) fn is_compressed(path: &Path) -> bool {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    matches!(ext, "gz" | "bz2" | "xz" | "zst" | "lz4" | "lzma" | "zip" | "Z" | "tgz")
}

impl Engine<'_> {
    /// Watch every directory the patterns may find matches in, then follow what matches now
    /// and is not followed yet (created since the inputs were listed).
    pub(super) fn look_for_matches(&mut self) -> Result<(), Stopped> {
        for k in 0..self.patterns.len() {
            self.rescan_pattern(k)?;
        }
        Ok(())
    }

    /// Read pattern `k`'s directories again: watch those new to us and follow new matches.
    pub(super) fn rescan_pattern(&mut self, k: usize) -> Result<(), Stopped> {
        let glob = Arc::clone(&self.patterns[k].glob);
        self.take_scan(k, || glob.scan())
    }

    /// Watch what `scan()` says to, and follow its matches that are new to us. A name created
    /// after a directory was read but before its watch started would be missed: so while
    /// scanning finds directories not watched yet, they are watched and read again. Unreadable
    /// directories were told at the start; those found later are not told again and again.
    fn take_scan(&mut self, k: usize, scan: impl Fn() -> Scan) -> Result<(), Stopped> {
        let mut found = scan();
        loop {
            let mut started = false;
            for dir in &found.watch {
                started |= self.watch_dir(k, dir)?;
            }
            if !started {
                break;
            }
            found = scan();
        }
        for path in found.matches {
            self.found(k, path)?;
        }
        Ok(())
    }

    /// Poll tick: read again the patterns whose directories are not all watched.
    pub(super) fn poll_patterns(&mut self) -> Result<(), Stopped> {
        for k in 0..self.patterns.len() {
            if self.patterns[k].polled {
                self.rescan_pattern(k)?;
            }
        }
        Ok(())
    }

    /// Watch directory `dir` (as the pattern spells it) for pattern `k`: true if a watch
    /// started now.
    fn watch_dir(&mut self, k: usize, dir: &Path) -> Result<bool, Stopped> {
        let absolute = absolute_dir(&dir.join("x"));
        if self.patterns[k].watched.contains(&absolute) {
            return Ok(false);
        }
        if self.poll || sys::is_remote_fs(&absolute) {
            self.patterns[k].polled = true;
            return Ok(false);
        }
        // Indexed before the watch starts, so that no name created meanwhile is missed.
        self.by_path
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .dirs
            .entry(absolute.clone())
            .or_default()
            .push(DirWatch { pattern: k, spelled: Arc::from(dir), glob: Arc::clone(&self.patterns[k].glob) });
        match self.watches.add(&absolute) {
            Ok(_) => {
                self.patterns[k].watched.insert(absolute);
                Ok(true)
            }
            Err(fail) => {
                self.by_path.write().unwrap_or_else(PoisonError::into_inner).dirs.remove(&absolute);
                self.patterns[k].polled = true;
                match fail {
                    WatchFail::Refused(why) if !why.is_empty() => {
                        let name = quote(dir.as_os_str().as_encoded_bytes());
                        self.sink.diag(format!("cannot watch {name}: {why}; polling it instead"))?;
                    }
                    _ => {}
                }
                Ok(false)
            }
        }
    }

    /// `path` (as pattern `k` spells it) is new to us, or changed: follow it if it is a new
    /// match, name a renamed one anew, look into a new directory.
    pub(super) fn found(&mut self, k: usize, path: PathBuf) -> Result<(), Stopped> {
        if let Some(&i) = self.names.get(&path) {
            // A rotated name after its live name (see `Engine::handle`).
            if self.files[i].from_pattern
                && let Some(live) = self.live_name_of(i)
            {
                self.check(live, true)?;
            }
            return self.check(i, true);
        }
        // A rotated name no input follows (its input moved on along the backups): as above,
        // its live name's input looks first. A generation that passed the live name unseen is
        // then read back in its place (`missed.rs`) and known below, instead of being printed
        // here, after the live file's older lines.
        if let Some(live) = self.live_input_of(&path) {
            self.check(live, true)?;
        }
        let glob = Arc::clone(&self.patterns[k].glob);
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            return Ok(()); // gone again already
        };
        if meta.is_dir() {
            if glob.wants_dir(&path) {
                // Watched, then read: what it held before the watch started is found too.
                self.take_scan(k, || glob.scan_dir(&path))?;
            }
            return Ok(());
        }
        if !glob.matches(&path) || is_compressed(&path) {
            return Ok(());
        }
        // (Room is made for it as for the input it becomes: none of the known ones is kept.)
        let opened = self.open_with_room(usize::MAX, &path).and_then(|file| {
            let meta = file.metadata()?;
            Ok((file, meta))
        });
        match opened {
            Ok((_, meta)) if meta.is_dir() => Ok(()),
            Ok((file, meta)) => {
                let identity = Identity::of(&meta);
                if self.known_file(identity, &path)? || self.closed_at(identity, &file).is_some() {
                    return Ok(());
                }
                self.add_source(path, Some((file, meta)), None)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => self.add_source(path, None, Some(e)),
        }
    }

    /// Whether `path`, new to us, is a file a pattern's input reads whose name is gone: renamed.
    pub(super) fn renamed_here(&self, path: &Path) -> bool {
        if self.names.contains_key(path) {
            return false;
        }
        let Ok(meta) = std::fs::metadata(path) else { return false };
        let identity = Identity::of(&meta);
        self.files.iter().any(|f| {
            f.from_pattern
                && (f.cur.as_ref().is_some_and(|r| r.identity == identity)
                    || f.drains.iter().any(|d| d.reader.identity == identity))
                && f.path.as_ref().is_some_and(|p| std::fs::symlink_metadata(p).is_err())
        })
    }

    /// Is the file with `identity` already read by some input? A pure rename (its name gone)
    /// of a file found by a pattern is followed on under `path`.
    fn known_file(&mut self, identity: Identity, path: &Path) -> Result<bool, Stopped> {
        let holder = self.files.iter().position(|f| {
            f.cur.as_ref().is_some_and(|r| r.identity == identity)
                || f.drains.iter().any(|d| d.reader.identity == identity)
        });
        let Some(j) = holder else {
            return Ok(false);
        };
        let f = &self.files[j];
        let old = f.path.clone();
        let name_gone = old
            .as_ref()
            .is_some_and(|p| matches!(std::fs::metadata(p), Err(e) if e.kind() == io::ErrorKind::NotFound));
        let open_here = f.cur.as_ref().is_some_and(|r| r.identity == identity);
        if !(f.from_pattern && name_gone && (open_here || f.cur.is_none())) {
            // A rotation (the old name holds a new file: its own check moves this one to its
            // drains), a hard link, or a name given on the command line: followed once, there.
            if open_here && !name_gone {
                self.check_name(j)?;
            }
            return Ok(true);
        }
        if !open_here {
            // Already moved to its drains (the name's loss was seen first): it reads on here.
            let f = &mut self.files[j];
            let k = f.drains.iter().position(|d| d.reader.identity == identity);
            if let Some(k) = k {
                f.cur = Some(f.drains.remove(k).reader);
                f.failure = None;
            }
            if f.drains.is_empty() {
                self.draining.remove(&j);
            }
        }
        self.rename(j, path)?;
        Ok(true)
    }

    /// Which remembered closed file `file` (with `identity`) is, if any.
    fn closed_at(&self, identity: Identity, file: &File) -> Option<usize> {
        let mut candidates = self.closed.iter().enumerate().rev().filter(|(_, c)| c.identity == identity);
        let first = candidates.next()?;
        // The inode may have been reused since: the same first bytes tell it is that file.
        let head = head_of(file, FINGERPRINT_LEN);
        std::iter::once(first)
            .chain(candidates)
            .find(|(_, c)| head.starts_with(&c.head) && file.metadata().is_ok_and(|m| m.len() >= c.offset))
            .map(|(k, _)| k)
    }

    /// The name of input `i`, found by a pattern, now leads to `file`: if some input read it
    /// (a rotated copy shifted along the backups onto this name), its reader, or where it
    /// stopped, so that this name reads on from there and nothing is printed twice.
    pub(super) fn carry_over(&mut self, i: usize, file: &Arc<File>, meta: &Metadata) -> Option<Reader> {
        if !self.files[i].from_pattern {
            return None;
        }
        let identity = Identity::of(meta);
        let source = self.files[i].id;
        // Its own drains too: a renamed input drains the files its earlier names led to.
        for j in 0..self.files.len() {
            let g = &mut self.files[j];
            if let Some(k) = g.drains.iter().position(|d| d.reader.identity == identity) {
                let mut reader = g.drains.remove(k).reader;
                if g.drains.is_empty() {
                    self.draining.remove(&j);
                }
                reader.hand_to(source);
                return Some(reader);
            }
        }
        let k = self.closed_at(identity, file)?;
        let Closed { head, offset, .. } = self.closed.remove(k)?;
        let reached = Reached { offset, head, partial: Partial::resume(offset, Vec::new()) };
        Some(Reader::resume(source, Some(Arc::clone(file)), meta, Generation::next(), reached))
    }

    /// Input `j` is called `path` from now on: the same file, read on from where it was.
    fn rename(&mut self, j: usize, path: &Path) -> Result<(), Stopped> {
        self.unindex(j);
        let f = &mut self.files[j];
        let old = f.path.take();
        if let Some(old) = &old {
            self.names.remove(&**old);
        }
        f.path = Some(Arc::from(path));
        f.watched = None;
        f.perms = None;
        self.names.insert(path.to_path_buf(), j);
        let name = path.as_os_str().as_encoded_bytes().to_vec();
        let id = self.files[j].id;
        self.sink.send(Msg::Name { source: id, name: name.clone() })?;
        if let Some(old) = old {
            let text =
                format!("{} has been renamed {}", quote(old.as_os_str().as_encoded_bytes()), quote(&name));
            self.sink.event(id, EventKind::Renamed, text)?;
        }
        self.watch(j)?;
        self.check(j, false)
    }

    /// Follow `path`, a new match, as a new source from its first byte.
    fn add_source(
        &mut self,
        path: PathBuf,
        opened: Option<(std::fs::File, Metadata)>,
        failed: Option<io::Error>,
    ) -> Result<(), Stopped> {
        let id = self.next_id;
        self.next_id += 1;
        let name = path.as_os_str().as_encoded_bytes().to_vec();
        self.sink.send(Msg::Name { source: id, name: name.clone() })?;
        let shown = quote(&name);
        let i = self.files.len();
        let regular = opened.as_ref().is_some_and(|(_, m)| m.is_file());
        let poll_only = self.poll || (opened.is_some() && !regular) || (self.by_name && path.is_symlink());
        let perms = opened.as_ref().map(|(_, m)| perms_of(m));
        // Generations the name had before it was found come first (see below).
        let opening = opened
            .as_ref()
            .filter(|_| self.reads_back_before(&path))
            .map(|(file, meta)| super::missed::Opening::of(file, meta));
        let cur = opened.map(|(file, meta)| Reader::new(id, Arc::new(file), &meta, 0));
        let failure = failed.as_ref().map(|e| super::Failure::Errno(e.raw_os_error().unwrap_or(libc::EIO)));
        self.files.push(Followed {
            id,
            path: Some(Arc::from(path.as_path())),
            from_pattern: true,
            cur: None,
            drains: Vec::new(),
            failure,
            dead: false,
            watched: None,
            polled: poll_only,
            poll_only,
            perms,
            unreadable: false,
            seen: Vec::new(),
        });
        self.names.insert(path, i);
        match failed {
            None => {
                let text = format!("{shown} has appeared;  following new file");
                self.sink.event(id, EventKind::Appeared, text)?;
            }
            Some(e) => {
                let text = format!("cannot open {shown} for reading: {}", sys::error_text(&e));
                self.sink.event(id, EventKind::Inaccessible, text)?;
            }
        }
        // A name found late (a writer that started under load, its first file created, filled
        // and rotated before the name was seen) may have generations already, and the pattern
        // would find them under their rotated names, after this file's lines. So they are read
        // back first, in their place, as when a followed name leads to a new file
        // (`missed.rs`): before this file is its current one, so none is taken for older news.
        if opening.is_some() {
            self.read_missed(i, opening)?;
        }
        self.files[i].cur = cur;
        self.watch(i)?;
        self.check(i, false)
    }

    /// Whether a new match `path` has its rotated generations read back before it: with
    /// `--history`, or when a pattern matches its rotated names (probed with `PATH.1`; a
    /// pattern that takes only dated names, `*.log-*`, is not asked). Not for a name that is
    /// itself a rotated one of a followed name.
    fn reads_back_before(&self, path: &Path) -> bool {
        if !self.by_name || self.live_input_of(path).is_some() {
            return false;
        }
        let mut probe = path.as_os_str().to_owned();
        probe.push(".1");
        self.history || self.patterns.iter().any(|p| p.glob.matches(Path::new(&probe)))
    }
}
