//! The follow engine: after the initial output, keep printing what is appended, by descriptor
//! (`-f`) or by name (`-F`), across truncation, rotation, deletion and re-creation.
//!
//! One thread runs [`Engine::run`]. It wakes only on a notification hint, a control message, or
//! the nearest pending deadline (poll tick for polled paths, drain poll and grace end of a
//! renamed file, quiet flush of a partial line); with nothing pending it blocks with no timeout.
//!
//! Exactly once: a reader's offset only moves past bytes that were sent or kept as its partial
//! line. A renamed or deleted file is kept open and drained (see [`DRAIN_GRACE`]) while the new
//! file is followed from offset 0; the old file's bytes are always sent before the new file's
//! bytes that were read after them, so each writer's lines stay in order.

mod command;
mod file;
mod glob;
mod inbox;
mod missed;
mod park;
mod watch;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use crate::config::{Config, FollowMode, Input};
use crate::pipeline::{Msg, Sink, Stopped};
use crate::record::{Batch, Event, EventKind, Generation, SourceId};
use crate::source::initial::Reached;
use crate::sys;
use crate::text::{quote, quotef};
pub(crate) use command::follow as follow_command;
pub(crate) use file::FINGERPRINT_LEN;
use file::{Change, Identity, NameChange, Read, Reader, name_change};
use glob::{Closed, Looking, remember_closed};
pub(crate) use glob::{Globbed, is_compressed};
pub(crate) use inbox::Inbox;
use inbox::{Mail, Woke};
pub(crate) use park::budget as descriptor_budget;
use watch::{PathIndex, WatchFail, Watches};

/// How long a renamed or deleted file is still read after it last grew. Writers that had it
/// open notice a rotation within milliseconds (RotatingFileHandler reopens at once, logrotate's
/// postrotate signals the daemon), so a second of silence means nobody writes there any more.
pub(crate) const DRAIN_GRACE: Duration = Duration::from_secs(1);

/// While a file is draining it is also polled this often: it may have been moved out of every
/// watched directory, and must still be read when it grows.
const DRAIN_POLL: Duration = Duration::from_millis(50);

/// A partial line is printed once its file has been quiet this long (so prompts show), and
/// never split by a read boundary before that.
const QUIET_FLUSH: Duration = Duration::from_millis(100);

/// Requests from outside the engine (signals, --pid, the printer noticing a closed stdout).
/// Stops for signals and a closed stdout come through the pipeline's shutdown broadcast instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Control {
    /// Every `--pid` process has died: read what the files still hold, then end.
    PidsGone,
    /// The child command exited with this status: read what the files still hold, then end.
    ChildExited(i32),
    /// Read every file to its current end, then send [`Msg::Mark`] with this number.
    Mark(u64),
}

/// How the engine ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FollowEnd {
    /// Asked to stop (signal, closed stdout): partial lines already read were flushed.
    Stopped,
    /// The `--pid` processes died and the files were drained.
    PidsGone,
    /// The child command exited with this status and the files were drained.
    ChildExited(i32),
    /// `--idle-timeout`: no new line for that long.
    Idle,
    /// Every name was given up: `no files remaining`.
    NoFilesRemaining,
}

/// What the initial output left for one input.
#[derive(Debug)]
pub(crate) struct Start {
    pub(crate) id: SourceId,
    /// The open file, when it opened.
    pub(crate) open: Option<Opened>,
    /// Why it did not open, or was not tailable (a directory).
    pub(crate) failure: Option<Failure>,
    /// Something it brought could not be read (a rotated generation, with `--history`).
    pub(crate) troubled: bool,
    /// `--history`, following by name: the first bytes of its rotated generations as the
    /// initial output listed them (`None`: not listed; the engine lists them when it starts).
    pub(crate) listed: Option<Vec<Vec<u8>>>,
}

/// An input the initial output read.
#[derive(Debug)]
pub(crate) struct Opened {
    pub(crate) file: Held,
    /// The generation its records were read as.
    pub(crate) generation: Generation,
    /// Where its initial output ended, its first bytes then, and its unfinished last line.
    pub(crate) reached: Reached,
}

/// An input's file after its initial output.
#[derive(Debug)]
pub(crate) enum Held {
    Open(Arc<File>),
    /// Closed again to keep within the descriptor limit (many files followed by name): the
    /// file as it was then. Following opens it again by its name when it changes.
    Parked(std::fs::Metadata),
}

impl Held {
    /// The file's metadata: now when it is open, as it was when closed otherwise.
    fn metadata(&self) -> Option<std::fs::Metadata> {
        match self {
            Held::Open(file) => file.metadata().ok(),
            Held::Parked(meta) => Some(meta.clone()),
        }
    }
}

/// Why a name is not being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// open(2) failed with this errno.
    Errno(i32),
    /// Not a file we can follow (a directory).
    Untailable,
}

/// A file this name led to: read by us, or there as a rotated generation when following
/// started (`--history`: see `missed.rs`). Known by its first bytes: its inode number is
/// another file's once it is closed and deleted.
#[derive(Debug)]
struct Seen {
    /// Its first bytes (decompressed), at most [`file::FINGERPRINT_LEN`].
    head: Vec<u8>,
}

/// How many [`Seen`] files an input remembers (the oldest are forgotten).
const SEEN_CAP: usize = 256;

/// A file being drained after its name moved on.
#[derive(Debug)]
struct Drain {
    reader: Reader,
}

/// One followed input.
#[derive(Debug)]
struct Followed {
    id: SourceId,
    /// The name, for follow-by-name and retries; `None` for standard input.
    path: Option<Arc<Path>>,
    /// Found by a pattern (at the start or since): renamed to another name the pattern matches,
    /// it is followed on under that name.
    from_pattern: bool,
    cur: Option<Reader>,
    /// Older files of this name, oldest first.
    drains: Vec<Drain>,
    /// Why `cur` is `None` (for the wording of the next notice).
    failure: Option<Failure>,
    /// Given up: no longer checked.
    dead: bool,
    /// What is watched for this input: its directory (by name) or the file itself (by
    /// descriptor). `None` while polled.
    watched: Option<Arc<Path>>,
    /// Checked on every poll tick (no usable notifications for it right now).
    polled: bool,
    /// Polled for good: `--poll`, a remote file system, a symlink name, standard input, or a
    /// pipe or device (which notifications do not report).
    poll_only: bool,
    /// The file's mode and owner when the name was last looked at: a change there (chmod,
    /// chown) is when its readability is looked at again.
    perms: Option<(u32, u32, u32)>,
    /// Its open file's name may no longer be read (made unreadable, `chmod 0`): it is not read
    /// until it may be again, then goes on from where it was.
    unreadable: bool,
    /// With `--history`: the files this name led to (see [`Seen`]).
    seen: Vec<Seen>,
}

impl Followed {
    /// The name for messages: the path as given, or `standard input` (GNU's wording).
    fn name(&self) -> &[u8] {
        use std::os::unix::ffi::OsStrExt;
        match &self.path {
            Some(path) => path.as_os_str().as_bytes(),
            None => b"standard input",
        }
    }
}

pub(crate) struct Engine<'a> {
    sink: &'a Sink,
    by_name: bool,
    retry: bool,
    poll_every: Duration,
    files: Vec<Followed>,
    watches: Watches,
    /// Watched path (a directory, a followed name in it, or a watched file) -> indexes into
    /// `files` that a hint for that path concerns.
    by_path: PathIndex,
    /// Hints of change notifications, requests from the other threads, and the shutdown.
    inbox: Arc<Inbox>,
    next_poll: Option<Instant>,
    /// Inputs that have draining files (looked at on every wake-up, and timed).
    draining: BTreeSet<usize>,
    /// Inputs whose open file holds a partial line (printed once quiet, when output is plain).
    partials: BTreeSet<usize>,
    /// `--idle-timeout`, and when records were last printed (looked at once per wake-up).
    idle: Option<Duration>,
    last_activity: Instant,
    /// `--poll`: nothing is watched.
    poll: bool,
    /// The patterns whose new matches are followed too.
    patterns: Vec<Looking>,
    /// Followed name -> index into `files` (for patterns: is a match new to us?).
    names: std::collections::HashMap<PathBuf, usize>,
    /// The number the next source found by a pattern (or a missed generation) gets.
    next_id: SourceId,
    /// `--history`: generations rotated away unseen are read from their rotated names.
    history: bool,
    /// Files a pattern's input stopped reading, for when they come back under a name a
    /// pattern matches (`glob.rs`).
    closed: std::collections::VecDeque<Closed>,
    /// How many followed files may be open at once (`park.rs`).
    open_budget: usize,
}

impl<'a> Engine<'a> {
    /// Set up following for `starts` (one per input, in order) after their initial output.
    pub(crate) fn new(
        config: &'a Config,
        starts: Vec<Start>,
        globbed: Globbed,
        sink: &'a Sink,
        inbox: Arc<Inbox>,
    ) -> Result<Engine<'a>, Stopped> {
        let follow = config.follow.clone().unwrap_or_default();
        let ring = Arc::clone(&inbox);
        sink.shutdown().on_trigger(Box::new(move || ring.shut_down()));
        let by_path = PathIndex::default();
        let (watches, notice) = Watches::new(!follow.poll, Arc::clone(&inbox), Arc::clone(&by_path));
        if let Some(text) = notice {
            sink.diag(text)?;
        }
        let by_name = follow.mode == FollowMode::Name;
        let mut engine = Engine {
            sink,
            by_name,
            retry: follow.retry,
            poll_every: follow.sleep_interval.max(Duration::from_millis(10)),
            files: Vec::new(),
            watches,
            by_path,
            inbox,
            next_poll: None,
            draining: BTreeSet::new(),
            partials: BTreeSet::new(),
            idle: config.idle_timeout,
            last_activity: Instant::now(),
            poll: follow.poll,
            patterns: globbed.patterns.iter().cloned().map(Looking::new).collect(),
            names: std::collections::HashMap::new(),
            next_id: globbed.first_new_source.max(config.inputs.len()),
            history: config.history,
            closed: std::collections::VecDeque::new(),
            // (By descriptor every file stays open: its name may lead elsewhere.)
            open_budget: if by_name { park::budget(crate::sys::open_file_limit()) } else { usize::MAX },
        };
        // Each followed input's generations as the initial output listed them.
        let mut listed = Vec::new();
        for start in starts {
            let input = &config.inputs[start.id];
            let path = match input {
                Input::Path(p) => Some(Arc::<Path>::from(p.as_path())),
                Input::Stdin | Input::Command(_) => None,
            };
            let meta = start.open.as_ref().and_then(|o| o.file.metadata());
            // POSIX: following standard input is ignored when it is a pipe. A terminal or other
            // device on standard input is shared with the shell, so it is not followed either.
            if path.is_none() && meta.as_ref().is_some_and(|m| !m.is_file()) {
                if let Some(mut opened) = start.open {
                    let (at, bytes) = opened.reached.partial.take();
                    sink.data(Batch::new(start.id, opened.generation, at, bytes))?;
                }
                if !meta.as_ref().is_some_and(|m| m.file_type().is_fifo() || m.file_type().is_socket()) {
                    sink.diag("warning: following standard input indefinitely is ineffective".into())?;
                }
                continue;
            }
            let cur = match (start.open, &meta) {
                (Some(o), Some(meta)) if !meta.is_dir() => {
                    let file = match o.file {
                        Held::Open(file) => Some(file),
                        Held::Parked(_) => None,
                    };
                    Some(Reader::resume(start.id, file, meta, o.generation, o.reached))
                }
                _ => None,
            };
            // Without --retry, a name that failed at start is not followed.
            // --retry keeps a name that failed at start; in descriptor mode only one that was
            // missing or unreadable, not one that is a directory.
            let retried =
                follow.retry && path.is_some() && (by_name || start.failure != Some(Failure::Untailable));
            let dead = cur.is_none() && !retried;
            let not_regular = meta.as_ref().is_some_and(|m| !m.is_file() && !m.is_dir());
            let symlink = by_name && path.as_ref().is_some_and(|p| p.is_symlink());
            let poll_only = follow.poll || path.is_none() || not_regular || symlink;
            engine.files.push(Followed {
                id: start.id,
                path,
                cur,
                from_pattern: globbed.from_pattern.contains(&start.id),
                drains: Vec::new(),
                failure: start.failure,
                dead,
                watched: None,
                polled: poll_only,
                poll_only,
                // Unknown: the first look at the name asks whether it may be read (the mode may
                // have changed since the initial output opened it).
                perms: None,
                unreadable: false,
                seen: Vec::new(),
            });
            listed.push(start.listed);
        }
        let mut listings = missed::Listings::new();
        for (index, listed) in listed.into_iter().enumerate() {
            if let Some(path) = &engine.files[index].path {
                engine.names.insert(path.to_path_buf(), index);
            }
            if engine.recovers(index) {
                engine.remember_generations(index, listed, &mut listings);
            }
            engine.watch(index)?;
        }
        Ok(engine)
    }

    /// Whether anything is followed at all (a piped standard input alone is not).
    pub(crate) fn is_empty(&self) -> bool {
        self.files.is_empty() && self.patterns.is_empty()
    }

    /// Follow until stopped or nothing is left to follow.
    pub(crate) fn run(mut self) -> Result<FollowEnd, Stopped> {
        let end = self.follow();
        // What this thread printed goes out now, whatever ended the loop: the caller may still
        // wait a while (for a child command to stop, say).
        let flushed = self.sink.flush();
        end.and_then(|end| flushed.map(|()| end))
    }

    fn follow(&mut self) -> Result<FollowEnd, Stopped> {
        // `--merge`: the initial output was merged whole; what comes now waits in the window.
        self.sink.start_reordering();
        // Catch what changed between the initial output and the watches.
        self.check_all()?;
        self.look_for_matches()?;
        loop {
            // Without --retry a name that went away is looked for again while some other file
            // is still open (GNU's behaviour); once none is, nothing remains. A pattern may
            // still match new files.
            if self.patterns.is_empty()
                && self
                    .files
                    .iter()
                    .all(|f| (f.dead || (!self.retry && f.cur.is_none())) && f.drains.is_empty())
            {
                self.flush_all_partials()?;
                self.sink.send(Msg::Event(Event::new(None, EventKind::Gone, "no files remaining".into())))?;
                return Ok(FollowEnd::NoFilesRemaining);
            }
            // About to wait: what was printed on this thread goes out now.
            self.sink.flush()?;
            let deadline = self.next_deadline(Instant::now());
            let mut mail = self.wait(deadline);
            if mail.shutdown {
                // Lines already read go out if there is room; nothing waits on a stalled reader.
                for f in &mut self.files {
                    for r in f.drains.iter_mut().map(|d| &mut d.reader).chain(f.cur.as_mut()) {
                        let _ = self.sink.try_last(r.take_pending());
                    }
                }
                return Ok(FollowEnd::Stopped);
            }
            while let Some(control) = mail.control.pop_front() {
                match control {
                    Control::Mark(n) => {
                        self.check_all()?;
                        // Files a pattern matches that were created before the mark was asked
                        // for are followed (and read) before it is answered too.
                        self.look_for_matches()?;
                        self.flush_held_for_mark()?;
                        self.sink.send(Msg::Mark(n))?;
                    }
                    Control::ChildExited(code) => {
                        self.drain_everything()?;
                        return Ok(FollowEnd::ChildExited(code));
                    }
                    Control::PidsGone => {
                        self.drain_everything()?;
                        return Ok(FollowEnd::PidsGone);
                    }
                }
            }
            self.handle(mail.hints, mail.rescan, mail.found)?;
            if self.sink.take_sent() {
                self.last_activity = Instant::now();
            }
            if let Some(idle) = self.idle
                && self.last_activity.elapsed() >= idle
            {
                self.flush_all_partials()?;
                return Ok(FollowEnd::Idle);
            }
        }
    }

    /// Sleep until there is mail, or until `deadline`. On Linux the change notifications are
    /// read here, on this thread, when they come: they become hints in the inbox on the way.
    fn wait(&mut self, deadline: Option<Instant>) -> Mail {
        loop {
            let Some(events) = self.watches.fd() else {
                return self.inbox.wait(deadline);
            };
            match self.inbox.wait_beside(deadline, events) {
                Woke::Mail(mail) => return mail,
                Woke::Readable => self.watches.receive(),
            }
        }
    }

    fn next_deadline(&mut self, now: Instant) -> Option<Instant> {
        let mut next: Option<Instant> = None;
        let mut consider = |t: Instant| next = Some(next.map_or(t, |n: Instant| n.min(t)));
        let plain = self.sink.plain();
        for &i in &self.draining {
            for d in &self.files[i].drains {
                consider((d.reader.last_growth + DRAIN_GRACE).min(now + DRAIN_POLL));
                if plain && !d.reader.pending.is_empty() {
                    consider(d.reader.last_growth + QUIET_FLUSH);
                }
            }
        }
        if plain {
            for &i in &self.partials {
                if let Some(r) = &self.files[i].cur {
                    consider(r.last_growth + QUIET_FLUSH);
                }
            }
        }
        if let Some(idle) = self.idle {
            consider(self.last_activity + idle);
        }
        if let Some(due) = self.sink.held_due() {
            consider(due);
        }
        if self.files.iter().any(|f| f.polled && !f.dead) || self.patterns.iter().any(|p| p.polled) {
            let tick = *self.next_poll.get_or_insert(now + self.poll_every);
            consider(tick);
        } else {
            self.next_poll = None;
        }
        next
    }

    /// Act on a batch of hints and on whatever deadline has passed.
    fn handle(
        &mut self,
        hints: Vec<(usize, bool)>,
        rescan: bool,
        found: Vec<(usize, PathBuf)>,
    ) -> Result<(), Stopped> {
        // Input index -> whether its name must be looked at again (not only its data).
        let mut due: BTreeMap<usize, bool> = hints.into_iter().collect();
        let now = Instant::now();
        let mut poll_patterns = false;
        if self.next_poll.is_some_and(|t| t <= now) {
            self.next_poll = Some(now + self.poll_every);
            poll_patterns = true;
            for (i, f) in self.files.iter().enumerate() {
                if f.polled && !f.dead {
                    due.insert(i, true);
                }
            }
        }
        if rescan {
            due.extend((0..self.files.len()).map(|i| (i, true)));
        }
        // A file renamed from a name a pattern matched is named anew first, so that what its
        // reader reads next comes under its new name.
        let (renamed, found): (Vec<_>, Vec<_>) = found.into_iter().partition(|(_, p)| self.renamed_here(p));
        for (k, path) in renamed {
            self.found(k, path)?;
        }
        // Files with something draining are looked at on every wake-up.
        for &i in &self.draining {
            due.entry(i).or_default();
        }
        // A pattern's rotated name (`app.log.2`) that may lead to another file is looked at
        // after the live name's input (`app.log`): that one reads its file to the end and, when
        // its name moved on, reads back the generations it missed, oldest first, before the
        // newer file (`missed.rs`). A file that passed the live name unseen then comes in its
        // place, and the rotated name finds it among that input's drains and reads on from
        // there, instead of printing it after lines written later.
        let mut order: Vec<(usize, bool)> = Vec::with_capacity(due.len());
        let mut placed: BTreeSet<usize> = BTreeSet::new();
        for (i, names) in due {
            if names
                && self.files[i].from_pattern
                && let Some(live) = self.live_name_of(i)
                && placed.insert(live)
            {
                order.push((live, true));
            }
            if placed.insert(i) {
                order.push((i, names));
            }
        }
        for (i, names) in order {
            self.check(i, names)?;
        }
        // After the known names: a rotation's new name is then seen as the rotated file.
        for (k, path) in found {
            self.found(k, path)?;
        }
        if rescan {
            self.look_for_matches()?;
        } else if poll_patterns {
            self.poll_patterns()?;
        }
        let now = Instant::now();
        // Records held back whose file has been quiet long enough are complete (`--multiline`).
        self.sink.flush_held(Some(now))?;
        self.expire(now)
    }

    fn check_all(&mut self) -> Result<(), Stopped> {
        for i in 0..self.files.len() {
            self.check(i, true)?;
        }
        Ok(())
    }

    /// Bring one followed input up to date: drains first, then the open file, then (when the
    /// hint may have moved it, or `names`) the name.
    fn check(&mut self, i: usize, names: bool) -> Result<(), Stopped> {
        self.check_inner(i, names)?;
        if self.files[i].cur.as_ref().is_some_and(|r| !r.pending.is_empty()) {
            self.partials.insert(i);
        }
        Ok(())
    }

    fn check_inner(&mut self, i: usize, names: bool) -> Result<(), Stopped> {
        self.pump_drains(i)?;
        self.pump_current(i)?;
        let f = &self.files[i];
        if f.polled && !f.poll_only && !f.dead {
            // A directory that was missing may be back: watch it again before looking.
            self.rewatch_if_dir_gone(i)?;
        }
        let f = &self.files[i];
        // (A parked file's hint may be its name's: it is not read to tell.)
        let parked = f.cur.as_ref().is_some_and(Reader::is_parked);
        if self.by_name && !f.dead && f.path.is_some() && (names || f.cur.is_none() || parked) {
            self.check_name(i)?;
        } else if !self.by_name && f.cur.is_none() && !f.dead && f.path.is_some() {
            // Descriptor mode with --retry: only the initial open is retried.
            self.check_name(i)?;
        }
        Ok(())
    }

    /// Read every draining file of input `i` to its current end. A draining file is checked
    /// for truncation as the open one is: a writer that still has it may truncate it and write
    /// on from its start (or it was truncated at its name just before the rename), and those
    /// lines are still ours; they are read from offset 0, after the notice.
    fn pump_drains(&mut self, i: usize) -> Result<(), Stopped> {
        let mut k = 0;
        while k < self.files[i].drains.len() {
            let truncated = match self.files[i].drains[k].reader.detect() {
                Ok(Change::Fine) => None,
                Ok(Change::Truncated(last)) => Some(last),
                // Unreadable: nothing more of it can be had.
                Err(_) => {
                    let mut drain = self.files[i].drains.remove(k);
                    self.sink.data(drain.reader.take_pending())?;
                    continue;
                }
            };
            if let Some(last) = truncated {
                self.report_truncation(i, last)?;
            }
            let finished = loop {
                let reader = &mut self.files[i].drains[k].reader;
                match reader.read_more(self.sink) {
                    Ok(Read::Lines(batch)) => {
                        let at_end = reader.at_end;
                        self.sink.data(batch)?;
                        if at_end {
                            break false;
                        }
                    }
                    Ok(Read::Eof) => break false,
                    Ok(Read::Rewritten(last)) => self.report_truncation(i, last)?,
                    // Unreadable: likewise.
                    Err(_) => {
                        self.sink.data(reader.take_pending())?;
                        break true;
                    }
                }
            };
            if finished {
                self.files[i].drains.remove(k);
            } else {
                k += 1;
            }
        }
        Ok(())
    }

    /// Read the open file of input `i` to its end, noticing truncation first. Each block read is
    /// sent only after the draining files were read again, so a writer's older lines come first.
    fn pump_current(&mut self, i: usize) -> Result<(), Stopped> {
        if self.files[i].unreadable {
            return Ok(());
        }
        if self.files[i].cur.as_ref().is_some_and(Reader::is_parked) && !self.unpark(i) {
            return Ok(());
        }
        let Some(reader) = self.files[i].cur.as_mut() else {
            return Ok(());
        };
        match reader.detect() {
            Ok(Change::Fine) => {}
            Ok(Change::Truncated(last)) => self.report_truncation(i, last)?,
            Err(e) => return self.read_failed(i, &e),
        }
        loop {
            let Some(reader) = self.files[i].cur.as_mut() else {
                return Ok(());
            };
            let batch = match reader.read_more(self.sink) {
                Ok(Read::Lines(batch)) => batch,
                Ok(Read::Eof) => return Ok(()),
                Ok(Read::Rewritten(last)) => {
                    self.report_truncation(i, last)?;
                    continue;
                }
                Err(e) => return self.read_failed(i, &e),
            };
            let at_end = reader.at_end;
            if !self.files[i].drains.is_empty() {
                self.pump_drains(i)?;
            }
            self.sink.data(batch)?;
            if at_end {
                return Ok(());
            }
        }
    }

    /// The open file of input `i` cannot be read (EIO): say so once, end its unfinished line,
    /// and give it up (by name with --retry, the name is tried again later), rather than
    /// repeating the error at every wake-up.
    fn read_failed(&mut self, i: usize, e: &io::Error) -> Result<(), Stopped> {
        let f = &mut self.files[i];
        let text = format!("error reading {}: {}", quote(f.name()), sys::error_text(e));
        self.sink.event(f.id, EventKind::Inaccessible, text)?;
        if let Some(mut reader) = f.cur.take() {
            self.sink.data(reader.take_pending())?;
        }
        f.failure = e.raw_os_error().map(Failure::Errno);
        f.dead = !(self.by_name && self.retry);
        Ok(())
    }

    /// The open file of input `i` was truncated: its partial line (`last`) ends here, then the
    /// notice; reading has restarted at offset 0.
    fn report_truncation(&mut self, i: usize, last: Batch) -> Result<(), Stopped> {
        self.sink.data(last)?;
        let f = &self.files[i];
        self.sink.event(f.id, EventKind::Truncated, format!("{}: file truncated", quotef(f.name())))
    }

    /// Follow by name: has the name moved on to another file, gone, or come back?
    fn check_name(&mut self, i: usize) -> Result<(), Stopped> {
        self.check_name_then(i, &[])
    }

    /// [`Engine::check_name`]. When the name now holds the file another input has open
    /// (renamed onto this name from that one), that input's name is looked at first — and so
    /// on along a chain of renames (backups shifted along: `.1` → `.2` while `app.log` → `.1`),
    /// `waiting` being the inputs whose checks wait on this one. A loss is then told before
    /// another name takes the file over, whichever order the names were given in and however a
    /// rename fell between two checks, and only one reader follows the file from then on.
    fn check_name_then(&mut self, i: usize, waiting: &[usize]) -> Result<(), Stopped> {
        let Some(path) = self.files[i].path.clone() else {
            return Ok(());
        };
        let look = |engine: &Self| {
            let now = std::fs::metadata(&path);
            let open_id = engine.files[i].cur.as_ref().map(|r| r.identity);
            let now_id = now.as_ref().ok().map(Identity::of);
            (name_change(open_id, now_id), now_id, now)
        };
        let (mut change, now_id, mut now) = look(self);
        if matches!(change, NameChange::Replaced | NameChange::Back)
            && let Some(j) = (0..self.files.len()).find(|&j| {
                j != i && !waiting.contains(&j) && self.files[j].cur.as_ref().map(|r| r.identity) == now_id
            })
        {
            // What was written to it under its old name is read under that name.
            self.pump_current(j)?;
            let waiting: Vec<usize> = waiting.iter().copied().chain([i]).collect();
            self.check_name_then(j, &waiting)?;
            // That check may have settled this name already: a pattern's directories are read
            // when a file it found loses its name, and this name, found there, was looked at and
            // given the file it leads to. Acting on the first look would then open that file
            // again as a new one, and print it twice.
            (change, _, now) = look(self);
        }
        match change {
            NameChange::Same => {
                if now_id.is_none() {
                    self.rewatch_if_dir_gone(i)?;
                } else if let Ok(meta) = &now {
                    self.check_readable(i, &path, meta)?;
                }
                Ok(())
            }
            NameChange::Gone => {
                let err = now.err().unwrap_or_else(|| io::Error::from_raw_os_error(libc::ENOENT));
                // A file a pattern found, renamed (not deleted: it still has a name)?
                let renamed = self.files[i].from_pattern
                    && self.files[i].cur.as_ref().is_some_and(|r| {
                        use std::os::unix::fs::MetadataExt;
                        // (A parked one may have been: the pattern's directories are read.)
                        r.file().map_or(true, |file| file.metadata().is_ok_and(|m| m.nlink() > 0))
                    });
                self.retire_current(i)?;
                let f = &mut self.files[i];
                f.failure = Some(Failure::Errno(err.raw_os_error().unwrap_or(libc::ENOENT)));
                if renamed {
                    // To another name the pattern matches? The directories are read now, so its
                    // reader reads on under its new name, and nothing says it became inaccessible.
                    let before = self.files[i].path.clone();
                    self.look_for_matches()?;
                    if self.files[i].path != before {
                        return Ok(());
                    }
                }
                let f = &self.files[i];
                let text = format!("{} has become inaccessible: {}", quote(f.name()), sys::error_text(&err));
                self.sink.event(f.id, EventKind::Inaccessible, text)?;
                self.rewatch_if_dir_gone(i)
            }
            NameChange::Replaced => {
                self.retire_current(i)?;
                self.open_name(i, &path, true, waiting)
            }
            NameChange::Back => self.open_name(i, &path, false, waiting),
        }
    }

    /// The input following the live name whose rotated generation input `i`'s name is
    /// (`app.log` for `app.log.1`, `app.log.2.gz`, `app.log-20261130`), if one does.
    fn live_name_of(&self, i: usize) -> Option<usize> {
        let path = self.files[i].path.as_ref()?;
        self.live_input_of(path).filter(|&j| j != i)
    }

    /// The input following the live name whose rotated generation `path` names, if one does.
    fn live_input_of(&self, path: &Path) -> Option<usize> {
        use std::os::unix::ffi::OsStrExt;
        let name = path.file_name()?.as_bytes();
        // The live name is the rotated one cut at one of its separators.
        (1..name.len()).rev().filter(|&k| matches!(name[k], b'.' | b'-')).find_map(|k| {
            let live = &name[..k];
            crate::source::history::rotation_stamp(live, name)?;
            self.names.get(&path.with_file_name(std::ffi::OsStr::from_bytes(live))).copied()
        })
    }

    /// The name of input `i` still leads to its open file: when its mode or owner changed, may
    /// we still read it? GNU's notices when that changes (as root, it always may); while it
    /// may not, the file is not read, and afterwards reading goes on from where it stopped, so
    /// every line shows once.
    fn check_readable(&mut self, i: usize, path: &Path, meta: &std::fs::Metadata) -> Result<(), Stopped> {
        let f = &mut self.files[i];
        let perms = Some(perms_of(meta));
        if f.perms == perms || f.cur.is_none() {
            f.perms = perms;
            return Ok(());
        }
        f.perms = perms;
        let readable = sys::readable(path);
        let name = quote(f.name());
        match (&readable, f.unreadable) {
            // The name went away since it was looked at (a rotation): the next look says so.
            (Err(e), _) if e.kind() != io::ErrorKind::PermissionDenied => {
                f.perms = None;
                Ok(())
            }
            (Err(e), false) => {
                f.unreadable = true;
                let text = format!("{name} has become inaccessible: {}", sys::error_text(e));
                self.sink.event(f.id, EventKind::Inaccessible, text)
            }
            (Ok(()), true) => {
                f.unreadable = false;
                self.sink.event(f.id, EventKind::Appeared, format!("{name} has become accessible"))?;
                self.pump_current(i)
            }
            _ => Ok(()),
        }
    }

    /// Move the open file of input `i` to its draining list (already read to its end).
    fn retire_current(&mut self, i: usize) -> Result<(), Stopped> {
        let f = &mut self.files[i];
        f.unreadable = false;
        let Some(mut reader) = f.cur.take() else { return Ok(()) };
        // Renamed onto another followed name: that name follows it now; no second reader.
        let id = reader.identity;
        if self.files.iter().any(|g| g.cur.as_ref().is_some_and(|r| r.identity == id)) {
            return Ok(());
        }
        let recovers = self.recovers(i);
        let f = &mut self.files[i];
        if recovers {
            let mut heads = reader.old_heads().to_vec();
            heads.push(reader.fingerprint().to_vec());
            for head in heads {
                if f.seen.len() >= SEEN_CAP {
                    f.seen.remove(0);
                }
                f.seen.push(Seen { head });
            }
        }
        if reader.is_parked() {
            // Closed: nothing leads back to it to drain it (`park.rs`). A pattern may find it
            // under another name, and read on from where it was.
            if f.from_pattern {
                remember_closed(&mut self.closed, &reader);
            }
            return self.sink.data(reader.take_pending());
        }
        // Grace counts from now: the rotation is the moment writers start to move on.
        reader.last_growth = Instant::now();
        f.drains.push(Drain { reader });
        self.draining.insert(i);
        Ok(())
    }

    /// Open the name of input `i` and read it from its first byte.
    /// `waiting`: as for [`Engine::check_name_then`].
    fn open_name(&mut self, i: usize, path: &Path, replaced: bool, waiting: &[usize]) -> Result<(), Stopped> {
        // Without blocking: a FIFO put under the name has no writer yet, and opening it plainly
        // would wait for one, with every other file unread meanwhile.
        let opened = self.open_with_room(i, path).and_then(|file| {
            let meta = file.metadata()?;
            Ok((file, meta))
        });
        if self.recovers(i) && opened.as_ref().is_ok_and(|(_, meta)| !meta.is_dir()) {
            // What the name's earlier files still hold comes first; read, they are known by their
            // first bytes too (a rotated copy that was compressed is a new inode).
            self.pump_drains(i)?;
            // Generations before this file that were rotated away unseen come next (not this
            // file itself: it may have been rotated away since it was opened).
            let opening = opened.as_ref().ok().map(|(file, meta)| missed::Opening::of(file, meta));
            self.read_missed(i, opening)?;
        }
        let f = &mut self.files[i];
        let name = quote(f.name());
        match opened {
            Ok((_, meta)) if meta.is_dir() => {
                if f.failure != Some(Failure::Untailable) {
                    f.failure = Some(Failure::Untailable);
                    let give_up = !self.retry || !self.by_name;
                    f.dead |= give_up;
                    let suffix = if give_up { "; giving up on this name" } else { "" };
                    let text = format!("{name} has been replaced with an untailable file{suffix}");
                    self.sink.event(f.id, EventKind::Inaccessible, text)?;
                }
                Ok(())
            }
            Ok((file, meta)) => {
                let before = f.failure.take();
                f.perms = Some(perms_of(&meta));
                f.unreadable = false;
                // The name may have moved on again since it was looked at (a handler rotating
                // twice in a row, the second time just now): the file opened can be one another
                // input still reads as its current file. That input looks at its name first and
                // hands it over, to its drains, where `carry_over` takes it from: never two
                // readers of one file, and nothing of it printed twice.
                let opened_id = Identity::of(&meta);
                if self.files[i].from_pattern
                    && let Some(j) = (0..self.files.len()).find(|&j| {
                        j != i
                            && !waiting.contains(&j)
                            && self.files[j].cur.as_ref().is_some_and(|r| r.identity == opened_id)
                    })
                {
                    self.pump_current(j)?;
                    let waiting: Vec<usize> = waiting.iter().copied().chain([i]).collect();
                    self.check_name_then(j, &waiting)?;
                    // Its check may have found this name again (a pattern's directories are
                    // read when a file it found loses its name) and opened it: done then.
                    if self.files[i].cur.is_some() {
                        return Ok(());
                    }
                }
                // Under a pattern, a file read before under another name reads on from there.
                let file = Arc::new(file);
                let reader = self
                    .carry_over(i, &file, &meta)
                    .unwrap_or_else(|| Reader::new(self.files[i].id, file, &meta, 0));
                let id = reader.identity;
                let f = &mut self.files[i];
                f.cur = Some(reader);
                // Notifications say nothing of a FIFO's or device's data: poll it (and stop
                // again once the name leads to a regular file that is watched).
                if !meta.is_file() {
                    f.polled = true;
                } else if f.watched.is_some() && !f.poll_only {
                    f.polled = false;
                }
                // A file renamed onto this name from another followed name was draining there;
                // this name reads it now.
                for (j, g) in self.files.iter_mut().enumerate() {
                    if j != i {
                        g.drains.retain(|d| d.reader.identity != id);
                    }
                }
                let (kind, text) = match before {
                    _ if replaced => {
                        (EventKind::Replaced, format!("{name} has been replaced;  following new file"))
                    }
                    Some(Failure::Untailable) => {
                        (EventKind::Appeared, format!("{name} has become accessible"))
                    }
                    Some(Failure::Errno(e)) if e != libc::ENOENT => {
                        (EventKind::Appeared, format!("{name} has become accessible"))
                    }
                    _ => (EventKind::Appeared, format!("{name} has appeared;  following new file")),
                };
                self.sink.event(self.files[i].id, kind, text)?;
                self.pump_current(i)
            }
            Err(e) => {
                let errno = e.raw_os_error().unwrap_or(libc::EIO);
                if f.failure != Some(Failure::Errno(errno)) {
                    f.failure = Some(Failure::Errno(errno));
                    let text = format!("{name} has become inaccessible: {}", sys::error_text(&e));
                    self.sink.event(f.id, EventKind::Inaccessible, text)?;
                }
                Ok(())
            }
        }
    }

    /// The name is missing: if its directory went with it, so did the watch. Poll until the
    /// directory is back, then watch it again.
    fn rewatch_if_dir_gone(&mut self, i: usize) -> Result<(), Stopped> {
        let f = &mut self.files[i];
        if f.dead || f.poll_only {
            return Ok(());
        }
        if let Some(watched) = f.watched.clone()
            && !watched.exists()
        {
            self.unwatch(i, &watched);
        }
        if self.files[i].watched.is_none() {
            self.watch(i)?;
        }
        Ok(())
    }

    fn unwatch(&mut self, i: usize, watched: &Path) {
        self.watches.forget(watched);
        self.unindex(i);
        let f = &mut self.files[i];
        f.watched = None;
        f.polled = true;
    }

    /// Notifications no longer concern input `i`.
    fn unindex(&self, i: usize) {
        self.by_path.write().unwrap_or_else(PoisonError::into_inner).inputs.retain(|_, list| {
            list.retain(|&k| k != i);
            !list.is_empty()
        });
    }

    /// Watch input `i`: the directory of its name (by name), or the file itself (by descriptor,
    /// so renames anywhere keep reporting its writes). Poll it when that is not possible.
    fn watch(&mut self, i: usize) -> Result<(), Stopped> {
        let f = &self.files[i];
        let Some(path) = f.path.clone() else {
            return Ok(());
        };
        if f.dead || f.watched.is_some() || f.poll_only {
            return Ok(());
        }
        let dir = absolute_dir(&path);
        let key = dir.join(path.file_name().unwrap_or_default());
        let target = if !self.by_name && f.cur.is_some() { key.clone() } else { dir.clone() };
        if sys::is_remote_fs(&dir) {
            self.files[i].poll_only = true;
            self.files[i].polled = true;
            return Ok(());
        }
        // Indexed before the watch starts, so that no notification finds the path unknown.
        {
            let mut by_path = self.by_path.write().unwrap_or_else(PoisonError::into_inner);
            by_path.inputs.entry(key.clone()).or_default().push(i);
            if target != key {
                by_path.inputs.entry(target.clone()).or_default().push(i);
            }
        }
        let result = self.watches.add(&target);
        if result.is_err() {
            self.unindex(i);
        }
        let f = &mut self.files[i];
        match result {
            Ok(shared) => {
                f.watched = Some(shared);
                f.polled = false;
                Ok(())
            }
            Err(WatchFail::Missing) => {
                f.polled = true;
                Ok(())
            }
            Err(WatchFail::Refused(why)) => {
                f.polled = true;
                if !why.is_empty() {
                    f.poll_only = true;
                    let name = quote(f.name());
                    self.sink.diag(format!("cannot watch {name}: {why}; polling it instead"))?;
                }
                Ok(())
            }
        }
    }

    /// Drop draining files whose grace has passed, after printing their partial line.
    fn expire(&mut self, now: Instant) -> Result<(), Stopped> {
        // Filtered output holds a partial line until it ends: a pattern judges whole lines.
        let plain = self.sink.plain();
        for i in std::mem::take(&mut self.draining) {
            let f = &mut self.files[i];
            let mut k = 0;
            while k < f.drains.len() {
                let reader = &mut f.drains[k].reader;
                if now.duration_since(reader.last_growth) >= DRAIN_GRACE {
                    self.sink.data(reader.take_pending())?;
                    let drain = f.drains.remove(k);
                    if f.from_pattern {
                        remember_closed(&mut self.closed, &drain.reader);
                    }
                } else {
                    if plain
                        && !reader.pending.is_empty()
                        && now.duration_since(reader.last_growth) >= QUIET_FLUSH
                    {
                        self.sink.data(reader.take_pending())?;
                    }
                    k += 1;
                }
            }
            if !f.drains.is_empty() {
                self.draining.insert(i);
            }
        }
        if plain {
            for i in std::mem::take(&mut self.partials) {
                let f = &mut self.files[i];
                let Some(r) = f.cur.as_mut() else { continue };
                if now.duration_since(r.last_growth) >= QUIET_FLUSH {
                    self.sink.data(r.take_pending())?;
                } else if !r.pending.is_empty() {
                    self.partials.insert(i);
                }
            }
        }
        Ok(())
    }

    /// Read everything still readable and print partial lines: the run is ending.
    fn drain_everything(&mut self) -> Result<(), Stopped> {
        // Look at every name too: a rotation just before the end may not have been seen yet.
        for i in 0..self.files.len() {
            self.check(i, true)?;
            self.pump_drains(i)?;
            self.pump_current(i)?;
        }
        self.flush_all_partials()
    }

    /// A mark says everything written before it was printed: records held back (`--multiline`,
    /// `--merge`) go out first.
    fn flush_held_for_mark(&mut self) -> Result<(), Stopped> {
        self.sink.flush_held(None)
    }

    fn flush_all_partials(&mut self) -> Result<(), Stopped> {
        for f in &mut self.files {
            for d in &mut f.drains {
                self.sink.data(d.reader.take_pending())?;
            }
            if let Some(r) = f.cur.as_mut() {
                self.sink.data(r.take_pending())?;
            }
        }
        // The run is ending: records still open are complete (`--multiline`).
        self.sink.flush_held(None)
    }
}

impl Drop for Engine<'_> {
    /// Requests sent from now on fail instead of waiting for an answer that never comes.
    fn drop(&mut self) {
        self.inbox.close();
    }
}

/// The absolute directory holding `path` (symlinks in the directory part resolved when it exists).
fn absolute_dir(path: &Path) -> PathBuf {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::canonicalize(&parent).unwrap_or_else(|_| std::path::absolute(&parent).unwrap_or(parent))
}

/// A file's mode, owner and group: what decides whether it may be read.
fn perms_of(meta: &std::fs::Metadata) -> (u32, u32, u32) {
    use std::os::unix::fs::MetadataExt;
    (meta.mode(), meta.uid(), meta.gid())
}

/// Open `path` for reading with O_NONBLOCK, so that a FIFO without a writer does not block the
/// open (reads of a regular file ignore the flag; other files are read nonblocking anyway).
fn open_nonblocking(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path)
}
