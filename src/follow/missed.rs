//! Generations that passed unseen while following by name are read from where they were
//! rotated to: with `--history`, and for a file a pattern found, those of its generations a
//! pattern matches too (`'logs/*.log*'`: they would be printed anyway, found under their
//! rotated names, but after the newer file's lines).
//!
//! Under load a whole generation of a followed file can be created, filled and rotated away
//! between two looks at its name (a handler that rotates every few hundred lines, on a busy
//! machine). It is still on disk, under a rotated name, plain or compressed. So when the name
//! leads to a new file, the name's rotated generations are listed (`source::history`), and
//! each one rtail has never read is printed whole, oldest first, before the new file.
//!
//! "Never read" is decided by identity and first bytes, never by names: a generation is known
//! when its device and inode are those of a file rtail has open (an open file's inode cannot
//! be reused), or when its first bytes are those of a file this name led to or of one that was
//! there when following started (that is history, not news). A closed file is known by its
//! first bytes only: its inode number is soon another file's. A compressed copy is a new
//! inode, known the same way by its first bytes (decompressed). The limit of that rule:
//! generations whose first bytes are all alike (a fixed banner of 64 bytes) cannot be told
//! apart once closed, and such a missed one is not printed — never one printed twice.

use super::file::{FINGERPRINT_LEN, Identity, Reader};
use super::{Drain, Engine, Seen};
use crate::pipeline::Stopped;
use crate::record::EventKind;
use crate::source::{history, initial};
use crate::text::quote;

/// Directory listings by directory, for [`Engine::remember_generations`].
pub(super) type Listings = std::collections::HashMap<std::path::PathBuf, Vec<std::ffi::OsString>>;

/// The file a name was just opened on, whose missed generations are about to be read.
pub(super) struct Opening {
    identity: Identity,
    /// Its first bytes (at most [`FINGERPRINT_LEN`]).
    head: Vec<u8>,
}

impl Opening {
    pub(super) fn of(file: &std::fs::File, meta: &std::fs::Metadata) -> Opening {
        let mut head = vec![0; FINGERPRINT_LEN];
        let n = crate::source::read::read_once_at(file, &mut head, 0).unwrap_or(0);
        head.truncate(n);
        Opening { identity: Identity::of(meta), head }
    }
}

/// Whether two first-bytes fingerprints are of the same content: equal as far as both go.
fn same_start(a: &[u8], b: &[u8]) -> bool {
    let n = a.len().min(b.len());
    n > 0 && a[..n] == b[..n]
}

impl Engine<'_> {
    /// Whether input `i`'s generations rotated away unseen are read: following by name with
    /// `--history`. (Not by default: with several processes writing through Python's
    /// RotatingFileHandler, each keeps writing to the file it has open after another one
    /// rotated, and a generation read back late was then printed only in part, where without
    /// it none of it is: the stress test `rotating_file_handler_four_processes_…` says so.)
    pub(super) fn recovers(&self, i: usize) -> bool {
        let f = &self.files[i];
        self.by_name && (self.history || f.from_pattern) && f.path.is_some()
    }

    /// Without `--history`, a pattern's file reads back only the generations a pattern
    /// matches (plain ones): those are printed anyway once found under their rotated names,
    /// and read back they come before the newer file's lines instead of after them.
    fn reads_back(&self, rotated: &std::path::Path) -> bool {
        self.history
            || (!super::glob::is_compressed(rotated) && self.patterns.iter().any(|p| p.glob.matches(rotated)))
    }

    /// When following starts: every rotated generation there is known (not news): those the
    /// initial output listed (`listed`: their first bytes), or (not listed then) those there now. `listings`: the
    /// directories listed so far (each is listed once, however many inputs live in it).
    pub(super) fn remember_generations(
        &mut self,
        i: usize,
        listed: Option<Vec<Vec<u8>>>,
        listings: &mut Listings,
    ) {
        let Some(path) = self.files[i].path.clone() else { return };
        let heads = match listed {
            // (Listing again would take a generation that came meanwhile for a known one, and
            // it would never be printed.)
            Some(heads) => heads,
            None => {
                let dir = history::live_dir(&path).to_path_buf();
                let names = match listings.entry(dir) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(e) => {
                        let Ok(names) = history::list_dir(e.key()) else { return };
                        e.insert(names)
                    }
                };
                let rotated = history::generations_among(&path, names);
                rotated.iter().map(|rot| history::head(rot, FINGERPRINT_LEN).unwrap_or_default()).collect()
            }
        };
        self.files[i].seen.extend(heads.into_iter().map(|head| Seen { head }));
    }

    /// Whether some reader has the file with `identity` open, or one starting like `head`.
    fn read_here(&self, i: usize, identity: Identity, head: Option<&[u8]>) -> bool {
        let f = &self.files[i];
        // By first bytes: a closed file's inode number is soon another file's.
        if head.is_some_and(|h| f.seen.iter().any(|s| same_start(&s.head, h))) {
            return true;
        }
        self.files.iter().any(|g| {
            g.cur.iter().chain(g.drains.iter().map(|d| &d.reader)).any(|r| {
                r.identity == identity
                    || (std::ptr::eq(g, f)
                        && head.is_some_and(|h| {
                            // Its content now, or before a truncation (a copytruncate's copy).
                            same_start(r.fingerprint(), h) || r.old_heads().iter().any(|o| same_start(o, h))
                        }))
            })
        })
    }

    /// Input `i`'s name leads to a new file, `opening`: first print the generations of it that
    /// were rotated away before they could be read.
    ///
    /// The listing stops at `opening` itself, or at its compressed copy (known by its first
    /// bytes): on a busy machine the name can be rotated on, twice or more, between the open
    /// and the listing. That file is read next, from its start, so its copy is not news; and
    /// the generations listed after it are newer than it, so they wait for the next look at
    /// the name (the rotation that moved this file away brings one), to come after it.
    pub(super) fn read_missed(&mut self, i: usize, opening: Option<Opening>) -> Result<(), Stopped> {
        let Some(path) = self.files[i].path.clone() else { return Ok(()) };
        let Ok(rotated) = history::generations(&path) else { return Ok(()) };
        // A generation last written before the files this name led to were is no missed news
        // (a copytruncate's copy, whose live file went on): printing it would put its lines
        // after later ones.
        let f = &self.files[i];
        let floor = f
            .drains
            .iter()
            .map(|d| d.reader.last_mtime())
            .chain(f.cur.as_ref().map(|r| r.last_mtime()))
            .max();
        for rot in rotated {
            let identity = Identity { dev: rot.dev, ino: rot.ino };
            if opening.as_ref().is_some_and(|o| o.identity == identity) {
                break;
            }
            if !self.reads_back(&rot.path) || self.read_here(i, identity, None) {
                continue;
            }
            let mtime = rot.mtime.duration_since(std::time::UNIX_EPOCH).map_or((0, 0), |d| {
                (i64::try_from(d.as_secs()).unwrap_or(i64::MAX), i64::from(d.subsec_nanos()))
            });
            if floor.is_some_and(|floor| mtime < floor) {
                continue;
            }
            let Some(head) = history::head(&rot, FINGERPRINT_LEN) else { continue };
            if opening.as_ref().is_some_and(|o| same_start(&o.head, &head)) {
                break;
            }
            let known = head.is_empty() || self.read_here(i, identity, Some(&head));
            self.files[i].seen.push(Seen { head });
            if known {
                continue;
            }
            let f = &self.files[i];
            let text = format!(
                "{} was rotated from {} before it could be followed; printing it",
                quote(rot.path.as_os_str().as_encoded_bytes()),
                quote(f.name())
            );
            self.sink.event(f.id, EventKind::Appeared, text)?;
            // (The file opened when it was listed: by now its name may lead to another one,
            // a handler shifting its backups along, and that one would be printed here whole.)
            if rot.compression == history::Compression::Plain
                && let Some(file) = rot.held.clone()
                && let Ok(meta) = file.metadata()
                && Identity::of(&meta) == identity
            {
                // A plain generation is drained as any rotated file: a writer that still has it
                // may write on (its lines are printed too, for the grace period).
                let source = self.next_id;
                self.next_id += 1;
                let name = rot.path.as_os_str().as_encoded_bytes().to_vec();
                self.sink.send(crate::pipeline::Msg::Name { source, name })?;
                self.sink.send(crate::pipeline::Msg::Header(source))?;
                let mut reader = Reader::new(source, file, &meta, 0);
                reader.last_growth = std::time::Instant::now();
                self.files[i].drains.push(Drain { reader });
                self.draining.insert(i);
                self.pump_drains(i)?;
                // It is old news already: an unfinished last line goes out now, before the
                // newer file's lines (in a plain run, where a partial line may be printed).
                if self.sink.plain()
                    && let Some(d) = self.files[i].drains.iter_mut().find(|d| d.reader.identity == identity)
                {
                    self.sink.data(d.reader.take_pending())?;
                }
                continue;
            }
            let report =
                initial::print_generations(std::slice::from_ref(&rot), &mut self.next_id, self.sink)?;
            for problem in &report.problems {
                self.sink.diag(problem.to_string())?;
            }
        }
        Ok(())
    }
}
