//! Following more files than the descriptor limit allows: the least recently grown files are
//! closed for a while (parked) and opened again by their name when it shows a change.
//!
//! A parked [`Reader`] keeps everything but its descriptor: identity, offset, first bytes and
//! unfinished line. The directory watch still reports its name's changes; on one, the name is
//! looked at: the same file with another size or modification time is opened again (after
//! making room) and read on from where it was, checked for truncation and rewrite as usual.
//!
//! What a closed file can miss, and the documentation says so: lines written to it after it
//! was closed when, before it is opened again, it is renamed away or deleted (its name then
//! leads elsewhere, and nothing leads back to it); a file the pattern finds under its new
//! name is read on from where it was.

use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use super::file::Identity;
use super::{Engine, open_nonblocking};

/// Descriptors kept for everything but followed files (standard streams, inotify, the web
/// view's sockets, a rotated generation read back): an eighth of the limit, at least 32.
pub(crate) fn budget(limit: u64) -> usize {
    let reserve = (limit / 8).max(32);
    usize::try_from(limit.saturating_sub(reserve)).unwrap_or(usize::MAX).max(1)
}

/// Whether opening failed for want of descriptors (the process's or the system's).
fn out_of_descriptors(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
}

impl Engine<'_> {
    /// Files open now: current files and draining ones.
    fn open_files(&self) -> usize {
        self.files
            .iter()
            .map(|f| usize::from(f.cur.as_ref().is_some_and(|r| !r.is_parked())) + f.drains.len())
            .sum()
    }

    /// Before a file is opened: when the open files reach the budget (or `now`: an open just
    /// failed for want of descriptors), park the least recently grown current files, but not
    /// input `keep`'s, a sixteenth of the budget at once so that parking is not done per open.
    fn make_room(&mut self, keep: usize, now: bool) {
        if !self.by_name {
            return; // by descriptor every file stays open: its name may lead elsewhere
        }
        if !now {
            // Cheap first: a file and its drains each at most one descriptor.
            let drains: usize = self.draining.iter().map(|&i| self.files[i].drains.len()).sum();
            if self.files.len() + drains < self.open_budget {
                return;
            }
        }
        let open = self.open_files();
        if !now && open < self.open_budget {
            return;
        }
        let want = (open + 1).saturating_sub(self.open_budget) + self.open_budget / 16;
        let mut quiet: Vec<(Instant, usize)> = self
            .files
            .iter()
            .enumerate()
            .filter(|&(j, f)| j != keep && f.drains.is_empty() && !f.unreadable && f.path.is_some())
            .filter_map(|(j, f)| f.cur.as_ref().filter(|r| r.parkable()).map(|r| (r.last_growth, j)))
            .collect();
        quiet.sort_unstable();
        for (_, j) in quiet.into_iter().take(want.max(1)) {
            if let Some(r) = self.files[j].cur.as_mut() {
                r.park();
            }
        }
    }

    /// Open `path` for input `i`, making room first (see [`Engine::make_room`]).
    pub(super) fn open_with_room(&mut self, i: usize, path: &Path) -> io::Result<File> {
        self.make_room(i, false);
        match open_nonblocking(path) {
            Err(e) if out_of_descriptors(&e) => {
                self.make_room(i, true);
                open_nonblocking(path)
            }
            opened => opened,
        }
    }

    /// Input `i`'s current file is parked: open it again when its name leads to it with
    /// something new. Whether it is open now (when not, the name check says what became of it).
    pub(super) fn unpark(&mut self, i: usize) -> bool {
        let Some(path) = self.files[i].path.clone() else { return false };
        let Ok(meta) = std::fs::metadata(&path) else { return false };
        if !self.files[i].cur.as_ref().is_some_and(|r| r.changed_since_parked(&meta)) {
            return false;
        }
        let Ok(file) = self.open_with_room(i, &path) else { return false };
        let Some(reader) = self.files[i].cur.as_mut() else { return false };
        // The name may have moved on between the look and the open.
        if !file.metadata().is_ok_and(|m| Identity::of(&m) == reader.identity) {
            return false;
        }
        reader.unpark(Arc::new(file));
        true
    }
}
