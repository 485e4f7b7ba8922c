//! One followed file: its identity, read offset, partial-line tail and fingerprint, and the small
//! rules that decide what happened to it (appended, truncated, replaced, gone, back).
//!
//! Nothing here knows about notifications or the loop; it reads and reports.

use std::fs::{File, Metadata};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::sync::Arc;
use std::time::Instant;

use crate::pipeline::{BLOCK, Sink};
use crate::record::{Batch, Generation, SourceId};
use crate::source::read::{Partial, read_append, read_full_at};

/// Bytes of a file's start remembered to notice a rewrite that regrew past our offset.
pub(crate) const FINGERPRINT_LEN: usize = 64;

/// The smallest read of a regular file.
const MIN_READ: usize = 4096;

/// Which file a descriptor or a name refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Identity {
    pub(crate) dev: u64,
    pub(crate) ino: u64,
}

impl Identity {
    pub(crate) fn of(meta: &Metadata) -> Identity {
        Identity { dev: meta.dev(), ino: meta.ino() }
    }
}

/// What happened to a followed name between two looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameChange {
    /// Still the file we have open (or still absent).
    Same,
    /// The name exists again after being absent (or was never there).
    Back,
    /// The name now points at another file.
    Replaced,
    /// The name no longer leads to a file we can stat.
    Gone,
}

/// Compare the open file's identity with what the name leads to now.
pub(crate) fn name_change(open: Option<Identity>, now: Option<Identity>) -> NameChange {
    match (open, now) {
        (None, None) => NameChange::Same,
        (None, Some(_)) => NameChange::Back,
        (Some(_), None) => NameChange::Gone,
        (Some(a), Some(b)) if a == b => NameChange::Same,
        (Some(_), Some(_)) => NameChange::Replaced,
    }
}

/// A file shorter than what we already read was truncated.
pub(crate) fn truncated(offset: u64, size: u64) -> bool {
    size < offset
}

/// The file's first bytes differ from those we read earlier: it was truncated and rewritten
/// (copytruncate with a busy writer, `>` with more bytes than we had read).
pub(crate) fn rewritten(remembered: &[u8], head_now: &[u8]) -> bool {
    head_now.len() < remembered.len() || head_now[..remembered.len()] != *remembered
}

/// What [`Reader::detect`] found.
#[derive(Debug)]
pub(crate) enum Change {
    /// Nothing new, or new bytes to read.
    Fine,
    /// Truncated or rewritten: reading restarted at offset 0, in a new generation. The batch
    /// is the old generation's unfinished last record (maybe empty), for the caller to send
    /// before it reports the truncation.
    Truncated(Batch),
}

/// What [`Reader::read_more`] found.
#[derive(Debug)]
pub(crate) enum Read {
    /// Nothing more for now.
    Eof,
    /// Whole records to send (possibly none yet: the bytes read were kept as a partial one).
    Lines(Batch),
    /// The file's start changed under the read: it was truncated and rewritten meanwhile. The
    /// bytes read were dropped, reading restarts at offset 0 in a new generation; the batch is
    /// the old generation's unfinished last record, and the caller reports the truncation.
    Rewritten(Batch),
}

/// How many [`Reader::old_heads`] are kept.
const OLD_HEADS: usize = 16;

/// A file being read forward: open, or closed for a while to keep within the descriptor limit
/// (parked: see [`Reader::park`]).
#[derive(Debug)]
pub(crate) struct Reader {
    /// `None` while parked.
    file: Option<Arc<File>>,
    pub(crate) identity: Identity,
    /// The input whose records these are.
    source: SourceId,
    /// The generation being read (a new one after each truncation).
    generation: Generation,
    /// Bytes consumed so far; everything before it was sent or sits in `pending`.
    pub(crate) offset: u64,
    /// Bytes after the last delimiter, not sent yet; it ends at `offset`.
    pub(crate) pending: Partial,
    /// The file's first bytes as read (at most [`FINGERPRINT_LEN`]).
    fingerprint: Vec<u8>,
    /// Size and mtime at the last look, to skip work on hints that changed nothing.
    last_size: u64,
    last_mtime: (i64, i64),
    /// When the file last grew (drain grace, quiet flush of a partial line).
    pub(crate) last_growth: Instant,
    /// Regular file: positional reads, truncation checks.
    regular: bool,
    /// The last read of this regular file came back short: it reached the end of the file, so
    /// asking again right away would only return nothing.
    pub(crate) at_end: bool,
    /// The last read filled its buffer: the file is growing fast, read full blocks.
    last_read_full: bool,
    /// The first bytes of its generations before the last truncations (newest last, a few):
    /// a copy made by copytruncate starts with them, and is known by them (`missed.rs`).
    old_heads: Vec<Vec<u8>>,
}

impl Reader {
    /// The file's first bytes as read so far (at most [`FINGERPRINT_LEN`]).
    pub(crate) fn fingerprint(&self) -> &[u8] {
        &self.fingerprint
    }

    /// The file's modification time at the last look (seconds, nanoseconds).
    pub(crate) fn last_mtime(&self) -> (i64, i64) {
        self.last_mtime
    }

    /// The first bytes of the generations it read before it was truncated, newest last.
    pub(crate) fn old_heads(&self) -> &[Vec<u8>] {
        &self.old_heads
    }

    /// Its records are `source`'s from now on (another name leads to the file now).
    pub(crate) fn hand_to(&mut self, source: SourceId) {
        self.source = source;
    }

    /// Start reading `file` for `source` at `offset` (0 for a new file), in a new generation.
    pub(crate) fn new(source: SourceId, file: Arc<File>, meta: &Metadata, offset: u64) -> Reader {
        Reader::with(source, Some(file), meta, offset)
    }

    /// [`Reader::new`], parked from the start when `file` is `None`.
    fn with(source: SourceId, file: Option<Arc<File>>, meta: &Metadata, offset: u64) -> Reader {
        let reader = Reader {
            identity: Identity::of(meta),
            regular: meta.file_type().is_file(),
            file,
            source,
            generation: Generation::next(),
            offset,
            pending: Partial::resume(offset, Vec::new()),
            fingerprint: Vec::new(),
            last_size: meta.len(),
            last_mtime: (meta.mtime(), meta.mtime_nsec()),
            last_growth: Instant::now(),
            at_end: false,
            last_read_full: false,
            old_heads: Vec::new(),
        };
        if !reader.regular
            && let Some(file) = &reader.file
        {
            // A pipe or device must never block the engine: read what is there, then wait.
            let _ = set_nonblocking(file);
        }
        reader
    }

    /// Its open file (an error while parked: the engine opens it again first).
    pub(crate) fn file(&self) -> io::Result<&File> {
        self.file.as_deref().ok_or_else(|| io::Error::from_raw_os_error(libc::EBADF))
    }

    /// Whether it is closed for now ([`Reader::park`]).
    pub(crate) fn is_parked(&self) -> bool {
        self.file.is_none()
    }

    /// Whether it may be parked: a regular file, open (a pipe cannot be opened again).
    pub(crate) fn parkable(&self) -> bool {
        self.regular && self.file.is_some()
    }

    /// Close the file for now, keeping where reading is, its first bytes and the unfinished
    /// line: too many files are followed to keep each one open. What it misses while closed is
    /// what its name cannot lead back to ([`Reader::unpark`]).
    pub(crate) fn park(&mut self) {
        debug_assert!(self.regular, "only a regular file can be opened again");
        self.file = None;
    }

    /// Whether `meta` (what its name leads to now) is this parked file with something new:
    /// another size or modification time than at the last look.
    pub(crate) fn changed_since_parked(&self, meta: &Metadata) -> bool {
        Identity::of(meta) == self.identity
            && (meta.len(), (meta.mtime(), meta.mtime_nsec())) != (self.last_size, self.last_mtime)
    }

    /// Open again after [`Reader::park`]: `file` is the same file (its identity checked by the
    /// caller); the next look compares size and first bytes as usual.
    pub(crate) fn unpark(&mut self, file: Arc<File>) {
        self.file = Some(file);
    }

    /// Go on after the initial output, in its `generation`: `head` is the file's start as it was
    /// then, and the first look compares everything, so a truncation or rewrite in between is
    /// noticed; `pending` is the unfinished line it read last.
    /// `file`: `None` when the initial output closed it already (parked: too many files).
    pub(crate) fn resume(
        source: SourceId,
        file: Option<Arc<File>>,
        meta: &Metadata,
        generation: Generation,
        reached: crate::source::initial::Reached,
    ) -> Reader {
        let mut reader = Reader::with(source, file, meta, reached.offset);
        reader.generation = generation;
        debug_assert_eq!(
            reached.partial.end(),
            reached.offset,
            "the unfinished line ends where reading goes on"
        );
        reader.pending = reached.partial;
        let head = reached.head;
        if reader.regular {
            reader.fingerprint = head;
            reader.fingerprint.truncate(FINGERPRINT_LEN);
            // Never equal to a real size: the first detect() does the full comparison.
            reader.last_size = u64::MAX;
        }
        reader
    }

    /// Remember up to [`FINGERPRINT_LEN`] bytes of the file's start from `read`, the bytes just
    /// read at offset `at` (so a rewrite after the read cannot slip new bytes into what we
    /// remember as the old ones).
    fn extend_fingerprint(&mut self, at: u64, read: &[u8]) {
        if !self.regular {
            return;
        }
        let have = self.fingerprint.len();
        // The fingerprint ends where this read began, or inside it (the initial output took the
        // first bytes on its own).
        let Some(skip) = (have as u64).checked_sub(at) else {
            // A gap (bytes consumed that it never saw): take them from the file, as they are now.
            let mut head = vec![0u8; self.offset.min(FINGERPRINT_LEN as u64) as usize];
            if let Ok(n) = self.file().and_then(|file| read_full_at(file, &mut head, 0)) {
                head.truncate(n);
                self.fingerprint = head;
            }
            return;
        };
        let skip = usize::try_from(skip).unwrap_or(usize::MAX).min(read.len());
        let take = (FINGERPRINT_LEN - have).min(read.len() - skip);
        self.fingerprint.extend_from_slice(&read[skip..skip + take]);
    }

    /// Whether the file's first bytes are no longer those we remember (false when we remember
    /// none yet).
    fn start_changed(&self) -> io::Result<bool> {
        if self.fingerprint.is_empty() {
            return Ok(false);
        }
        let mut head = [0u8; FINGERPRINT_LEN];
        let head = &mut head[..self.fingerprint.len()];
        let n = read_full_at(self.file()?, head, 0)?;
        Ok(rewritten(&self.fingerprint, &head[..n]))
    }

    /// Look at the open file: was it truncated or rewritten since we read it?
    pub(crate) fn detect(&mut self) -> io::Result<Change> {
        if !self.regular {
            return Ok(Change::Fine);
        }
        let meta = self.file()?.metadata()?;
        let (size, mtime) = (meta.len(), (meta.mtime(), meta.mtime_nsec()));
        if size == self.last_size && mtime == self.last_mtime {
            return Ok(Change::Fine);
        }
        self.last_size = size;
        self.last_mtime = mtime;
        let mut shrunk = truncated(self.offset, size);
        // When the file has bytes past our offset, the read that follows compares the start
        // anyway (see `read_more`); a rewrite to exactly our offset is only seen here.
        if !shrunk && size == self.offset {
            shrunk = self.start_changed()?;
        }
        if shrunk {
            return Ok(Change::Truncated(self.restart()));
        }
        Ok(Change::Fine)
    }

    /// The file was truncated or rewritten: read it again from offset 0 as a new generation.
    /// Returns the old generation's unfinished last record.
    fn restart(&mut self) -> Batch {
        let last = self.take_pending();
        self.offset = 0;
        if !self.fingerprint.is_empty() {
            if self.old_heads.len() >= OLD_HEADS {
                self.old_heads.remove(0);
            }
            self.old_heads.push(std::mem::take(&mut self.fingerprint));
        }
        self.fingerprint.clear();
        self.generation = Generation::next();
        self.pending = Partial::resume(0, Vec::new());
        last
    }

    /// Read the next block after `offset`, keeping a trailing partial line in `pending`.
    pub(crate) fn read_more(&mut self, sink: &Sink) -> io::Result<Read> {
        // Read about what fstat last showed (at least a page, at most a block): zeroing a whole
        // block for a one-line append would cost more than the append.
        // In a burst (the last read came back full) read whole blocks.
        let want = if self.regular && !self.last_read_full {
            usize::try_from(self.last_size.saturating_sub(self.offset))
                .unwrap_or(BLOCK)
                .clamp(MIN_READ, BLOCK)
        } else {
            BLOCK
        };
        let mut buf = sink.buffer();
        let at = self.pending.begin(&mut buf);
        let held = buf.len();
        let before = self.offset;
        // One read: a regular file only returns fewer bytes than asked at its end.
        let pos = self.regular.then_some(self.offset);
        let got = read_append(self.file()?, &mut buf, want, pos, true)?;
        self.at_end = self.regular && got < want;
        self.last_read_full = got == want;
        if got == 0 {
            return Ok(Read::Eof);
        }
        // Truncated or rewritten around this read: the start we remember is gone. What was
        // read may be the old content's last bytes (truncated after the read), or the middle
        // of a new content (rewritten before it, and maybe truncated or rewritten again since,
        // so that comparing with what is there now cannot tell). Nothing says which, so it is
        // dropped, as lines written just before a truncation may be: never is a piece of a
        // line printed as a line. The held unfinished line was read before, from the old
        // content: it ends the old generation.
        if self.start_changed()? {
            return Ok(Read::Rewritten(self.restart()));
        }
        self.offset += got as u64;
        self.last_growth = Instant::now();
        if self.fingerprint.len() < FINGERPRINT_LEN {
            self.extend_fingerprint(before, &buf[held..]);
        }
        let (at, whole) = self.pending.cut(buf, at, sink.delim());
        Ok(Read::Lines(Batch::new(self.source, self.generation, at, whole)))
    }

    /// Hand over the partial line (file quiet, drained, truncated, or at exit).
    pub(crate) fn take_pending(&mut self) -> Batch {
        let (at, bytes) = self.pending.take();
        Batch::new(self.source, self.generation, at, bytes)
    }
}

fn set_nonblocking(file: &File) -> io::Result<()> {
    use nix::fcntl::{FcntlArg, OFlag, fcntl};
    let flags = OFlag::from_bits_truncate(fcntl(file, FcntlArg::F_GETFL)?);
    fcntl(file, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::read::LINE_CAP;

    const A: Identity = Identity { dev: 1, ino: 10 };
    const B: Identity = Identity { dev: 1, ino: 11 };

    #[test]
    fn name_changes() {
        assert_eq!(name_change(Some(A), Some(A)), NameChange::Same);
        assert_eq!(name_change(Some(A), Some(B)), NameChange::Replaced);
        assert_eq!(name_change(Some(A), None), NameChange::Gone);
        assert_eq!(name_change(None, Some(B)), NameChange::Back);
        assert_eq!(name_change(None, None), NameChange::Same);
        let other_dev = Identity { dev: 2, ino: 10 };
        assert_eq!(name_change(Some(A), Some(other_dev)), NameChange::Replaced);
    }

    #[test]
    fn truncation_is_size_below_offset() {
        assert!(truncated(10, 9));
        assert!(truncated(10, 0));
        assert!(!truncated(10, 10));
        assert!(!truncated(10, 11));
        assert!(!truncated(0, 0));
    }

    #[test]
    fn rewrite_is_a_changed_head() {
        assert!(!rewritten(b"2026-01-01 a", b"2026-01-01 a"));
        assert!(!rewritten(b"", b"anything"));
        assert!(rewritten(b"2026-01-01 a", b"2026-01-02 a"));
        assert!(rewritten(b"abc", b"ab"));
    }

    fn sink() -> (Sink, crossbeam_channel::Receiver<crate::pipeline::Msg>) {
        let shaping = crate::pipeline::Shaping {
            filter: None,
            plain: true,
            delim: b'\n',
            stamps: false,
            multiline: None,
            merge_window: None,
            since: None,
            numbers: false,
        };
        crate::pipeline::channel(crate::pipeline::Shutdown::new(), shaping)
    }

    fn reader_for(data: &[u8], offset: u64) -> (tempfile::NamedTempFile, Reader) {
        use std::io::Write;
        let mut tmp = tempfile::NamedTempFile::new().expect("temp");
        tmp.write_all(data).expect("write");
        let file = Arc::new(File::open(tmp.path()).expect("open"));
        let meta = file.metadata().expect("meta");
        let reader = Reader::new(0, file, &meta, offset);
        (tmp, reader)
    }

    /// What one read gave: Eof, the batch's bytes and offset, or Rewritten.
    #[derive(Debug, PartialEq, Eq)]
    enum Got {
        Eof,
        Lines(u64, Vec<u8>),
        Rewritten,
    }

    fn read(r: &mut Reader, sink: &Sink) -> Got {
        match r.read_more(sink).expect("read") {
            Read::Eof => Got::Eof,
            Read::Lines(b) => Got::Lines(b.offset, b.bytes),
            Read::Rewritten(_) => Got::Rewritten,
        }
    }

    fn sees_truncation(r: &mut Reader) -> bool {
        matches!(r.detect().expect("detect"), Change::Truncated(_))
    }

    #[test]
    fn reads_complete_lines_and_keeps_the_partial() {
        let (_tmp, mut r) = reader_for(b"one\ntwo\npart", 0);
        let (sink, _src) = sink();
        assert_eq!(read(&mut r, &sink), Got::Lines(0, b"one\ntwo\n".to_vec()));
        assert_eq!(r.pending.len(), 4);
        assert_eq!(read(&mut r, &sink), Got::Eof);
        let last = r.take_pending();
        assert_eq!((last.offset, last.bytes), (8, b"part".to_vec()));
    }

    #[test]
    fn detects_truncation_and_rewrite() {
        use std::io::Write;
        let (tmp, mut r) = reader_for(b"2026 first line\n", 0);
        let (sink, _src) = sink();
        while read(&mut r, &sink) != Got::Eof {}
        assert!(!sees_truncation(&mut r));
        // Rewritten to exactly the length we had read: only the start tells.
        let mut f = std::fs::File::create(tmp.path()).expect("truncate");
        f.write_all(b"2027 other line\n").expect("write");
        let generation = r.generation;
        assert!(sees_truncation(&mut r));
        assert_eq!(r.offset, 0);
        assert_ne!(r.generation, generation, "a truncation starts a new generation");
        while read(&mut r, &sink) != Got::Eof {}
        // Rewritten with more bytes than we had read: size alone cannot tell, and the read
        // that follows detect() compares the start.
        let mut f = std::fs::File::create(tmp.path()).expect("truncate");
        f.write_all(b"2028 a longer new first line\n").expect("write");
        assert!(!sees_truncation(&mut r));
        assert_eq!(read(&mut r, &sink), Got::Rewritten);
        assert_eq!(r.offset, 0);
        // Plain truncation.
        while read(&mut r, &sink) != Got::Eof {}
        std::fs::File::create(tmp.path()).expect("truncate");
        assert!(sees_truncation(&mut r));
    }

    #[test]
    fn a_rewrite_between_reads_is_noticed() {
        use std::io::Write;
        let (tmp, mut r) = reader_for(b"new-1\n", 0);
        let (sink, _src) = sink();
        assert_eq!(read(&mut r, &sink), Got::Lines(0, b"new-1\n".to_vec()));
        // Rewritten with more bytes before the next read: the read must not return its middle.
        let mut f = std::fs::File::create(tmp.path()).expect("truncate");
        f.write_all(b"rewritten from the start\n").expect("write");
        assert_eq!(read(&mut r, &sink), Got::Rewritten);
        assert_eq!(read(&mut r, &sink), Got::Lines(0, b"rewritten from the start\n".to_vec()));
    }

    #[test]
    fn overlong_line_is_passed_on() {
        let data = vec![b'x'; LINE_CAP + 10];
        let (_tmp, mut r) = reader_for(&data, 0);
        let (sink, _src) = sink();
        let mut total = 0;
        while let Got::Lines(at, chunk) = read(&mut r, &sink) {
            assert_eq!(at, total as u64, "pieces follow each other");
            total += chunk.len();
            assert!(r.pending.len() < LINE_CAP);
        }
        total += r.take_pending().bytes.len();
        assert_eq!(total, data.len());
    }
}
