//! A log file's rotated generations, and reading its last lines back through them (`--history`).
//!
//! This module owns two things: finding the rotated copies of a live file ([`generations`]), and
//! reading them back in chronological order, oldest needed line first ([`last_lines`] for
//! `-n N`, [`all_lines`] for `-n +1`). It reads files only; it never prints, never touches the
//! live file's contents, and knows nothing of the pipeline: what it reads goes to a callback as
//! [`Chunk`]s, and what went wrong comes back as a [`Report`] for the caller to word and count.
//!
//! **The naming rule.** A generation of `app.log` lives in the same directory and is named
//! `app.log` followed by one rotation stamp, then optionally one compression suffix (`.gz`,
//! `.bz2`, `.xz`, `.zst`). A stamp is
//! - a number after a dot, at most 7 digits: `app.log.1`, `app.log.12` (logrotate, Python's
//!   `RotatingFileHandler`, concurrent-log-handler's `app.log.1.gz`);
//! - a date after a dash or a dot: digit groups joined by single `-` or `_`, either starting with
//!   at least 8 digits (`app.log-20261130`, `app.log-2026113012`, logrotate's `dateext`) or with
//!   `YYYY-MM-DD` (`app.log-2026-11-30`, and `TimedRotatingFileHandler`'s `app.log.2026-11-30`,
//!   `app.log.2026-11-30_10`, `…_10-00`, `…_10-00-00`).
//!
//! Nothing else matches (`app.log.bak`, `app.log.swp`, `app.log2`, `app.log.1.tmp`, `app.log.gz`).
//! When a plain generation and its compressed copy both exist (`app.log.2` and `app.log.2.gz`:
//! the compressor is still at work, or `delaycompress` left both), only the plain one is taken:
//! it is complete, and its copy would repeat its lines.
//!
//! **The order.** Oldest first, by modification time; at equal times a higher number is older
//! and an earlier date is older (and a numbered name older than a dated one), then by name. The
//! live file and anything that is the same file (same device and inode: a hard link, or the
//! instant after a rename) are left out, as is any second name of one generation.
//!
//! **What is read.** Only what is needed, newest generation first, stopping once enough lines
//! were found. A plain generation is read backwards from its end in blocks; a gzip one cannot
//! be, so it is decompressed as a stream (several members allowed) and only its last needed
//! lines are kept, in blocks ([`Tail`]): memory grows with the lines kept, never with the file.
//! Each generation is read up to its size when opened: lines a late writer adds after that are
//! not taken. Generations are opened when listed ([`Rotated::held`]), so a rotation between
//! listing and reading (a name shifted along, a file compressed and deleted) changes nothing;
//! one that could not be opened then is opened again when read, and if its name now holds
//! another file or nothing, it is skipped silently: it was rotated away. `.bz2`, `.xz` and
//! `.zst` generations are listed but not read: each one reached is reported once as
//! `unsupported compression` (no decoder is built in yet), and reading goes on past it.

use std::cmp::Ordering;
use std::collections::{HashSet, VecDeque};
use std::ffi::OsStr;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, BufReader, Read, Seek};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use flate2::bufread::MultiGzDecoder;
use memchr::{memchr_iter, memrchr, memrchr_iter};

use super::read::read_full_at;
use crate::pipeline::BLOCK;
use crate::text::quote;

/// The longest number taken as a numbered generation (`app.log.1234567`); longer digit runs are
/// dates (`app.log.20261130`).
const MAX_NUMBER_DIGITS: usize = 7;

/// The first read backwards from a plain generation's end: `-n 10` rarely needs more. Reads
/// then grow fourfold up to a [`BLOCK`].
const FIRST_BACK_READ: usize = 16 * 1024;

/// How a generation is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Compression {
    Plain,
    Gzip,
    /// Listed, not read: no decoder built in.
    Bzip2,
    /// Listed, not read: no decoder built in.
    Xz,
    /// Listed, not read: no decoder built in.
    Zstd,
}

impl Compression {
    /// The compression a name's suffix says, and the name without that suffix.
    fn split(name: &[u8]) -> (Compression, &[u8]) {
        let suffixes: [(&[u8], Compression); 4] = [
            (b".gz", Compression::Gzip),
            (b".bz2", Compression::Bzip2),
            (b".xz", Compression::Xz),
            (b".zst", Compression::Zstd),
        ];
        for (suffix, kind) in suffixes {
            if let Some(base) = name.strip_suffix(suffix) {
                return (kind, base);
            }
        }
        (Compression::Plain, name)
    }

    fn name(self) -> &'static str {
        match self {
            Compression::Plain => "none",
            Compression::Gzip => "gzip",
            Compression::Bzip2 => "bzip2",
            Compression::Xz => "xz",
            Compression::Zstd => "zstd",
        }
    }
}

/// What a generation's name says of its age: the tie-breaker at equal modification times.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Stamp {
    /// `app.log.3`: higher is older.
    Number(u64),
    /// `app.log-2026-11-30_10`: the digits alone (`2026113010`); compared as text, earlier is
    /// older (a longer stamp with the same start is later).
    Date(Vec<u8>),
}

/// One rotated generation of a live file, as found when listing its directory.
#[derive(Clone, Debug)]
pub(crate) struct Rotated {
    /// The live file's directory joined with the generation's name (no `./` added when the live
    /// path has no directory).
    pub(crate) path: PathBuf,
    pub(crate) compression: Compression,
    pub(crate) stamp: Stamp,
    /// Size on disk (compressed, for a compressed generation) when listed.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) size: u64,
    pub(crate) mtime: SystemTime,
    pub(crate) dev: u64,
    pub(crate) ino: u64,
    /// The file, opened when listed (`None`: it could not be; it is opened again to say why).
    pub(crate) held: Option<Arc<File>>,
}

/// The stamp and compression of `name` when it names a rotated generation of `live`.
pub(crate) fn rotation_stamp(live: &[u8], name: &[u8]) -> Option<(Stamp, Compression)> {
    let rest = name.strip_prefix(live)?;
    let (compression, rest) = Compression::split(rest);
    let (&sep, stamp) = rest.split_first()?;
    if sep == b'.' && (1..=MAX_NUMBER_DIGITS).contains(&stamp.len()) && stamp.iter().all(u8::is_ascii_digit) {
        let number = std::str::from_utf8(stamp).ok()?.parse().ok()?;
        return Some((Stamp::Number(number), compression));
    }
    if sep == b'.' || sep == b'-' {
        return date_digits(stamp).map(|digits| (Stamp::Date(digits), compression));
    }
    None
}

/// The digits of a date stamp (`20261130`, `2026113012`, `2026-11-30`, `2026-11-30_10-00-00`):
/// digit groups joined by single `-` or `_`, the first of at least 8 digits, or `YYYY-MM-DD`.
fn date_digits(stamp: &[u8]) -> Option<Vec<u8>> {
    let groups: Vec<&[u8]> = stamp.split(|&b| b == b'-' || b == b'_').collect();
    if groups.iter().any(|g| g.is_empty() || !g.iter().all(u8::is_ascii_digit)) {
        return None;
    }
    let long_first = groups[0].len() >= 8;
    let ymd = groups.len() >= 3 && groups[0].len() == 4 && groups[1].len() == 2 && groups[2].len() == 2;
    (long_first || ymd).then(|| groups.concat())
}

/// Oldest first: by modification time, then by what the names say, then by path.
fn older_first(a: &Rotated, b: &Rotated) -> Ordering {
    let by_stamp = match (&a.stamp, &b.stamp) {
        (Stamp::Number(x), Stamp::Number(y)) => y.cmp(x),
        (Stamp::Date(x), Stamp::Date(y)) => x.cmp(y),
        (Stamp::Number(_), Stamp::Date(_)) => Ordering::Less,
        (Stamp::Date(_), Stamp::Number(_)) => Ordering::Greater,
    };
    a.mtime.cmp(&b.mtime).then(by_stamp).then_with(|| a.path.cmp(&b.path))
}

/// The rotated generations of `live`, oldest first (see the module's naming rule and order).
/// Only listing the directory can fail; an entry that vanishes meanwhile, or is not a regular
/// file, is left out. The live file need not exist.
pub(crate) fn generations(live: &Path) -> io::Result<Vec<Rotated>> {
    let names = list_dir(live_dir(live))?;
    Ok(generations_among(live, &names))
}

/// The directory `live` is in (empty for the current one).
pub(crate) fn live_dir(live: &Path) -> &Path {
    match live.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new(""),
    }
}

/// The names in `dir` (empty: the current directory), sorted by their bytes, for
/// [`generations_among`]: several live files in one directory need it listed once.
pub(crate) fn list_dir(dir: &Path) -> io::Result<Vec<std::ffi::OsString>> {
    let listing = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    let mut names = Vec::new();
    for entry in fs::read_dir(listing)? {
        match entry {
            Ok(e) => names.push(e.file_name()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        }
    }
    names.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    Ok(names)
}

/// [`generations`], from `names`, a sorted listing of `live`'s directory ([`list_dir`]): only
/// the names that begin with the live file's are looked at.
pub(crate) fn generations_among(live: &Path, names: &[std::ffi::OsString]) -> Vec<Rotated> {
    let Some(live_name) = live.file_name() else { return Vec::new() };
    let prefix = live_name.as_bytes();
    let first = names.partition_point(|n| n.as_bytes() < prefix);
    let candidates = names[first..].iter().take_while(|n| n.as_bytes().starts_with(prefix));
    let dir = live_dir(live);
    let mut live_id = None;
    let mut found = Vec::new();
    for name in candidates {
        let Some((stamp, compression)) = rotation_stamp(live_name.as_bytes(), name.as_bytes()) else {
            continue;
        };
        let path = dir.join(name);
        // Opened now: while the generations are read, a rotation may rename or compress them
        // away from the names listed; an open file is read whatever its name becomes. One that
        // cannot be opened is opened again when read, to report why. (Follows a symbolic link:
        // a link to a rotated file is that file.)
        let (held, meta) = match File::open(&path).and_then(|f| f.metadata().map(|m| (f, m))) {
            Ok((file, meta)) => (Some(Arc::new(file)), meta),
            Err(_) => match fs::metadata(&path) {
                Ok(meta) => (None, meta),
                Err(_) => continue,
            },
        };
        let live_id = *live_id.get_or_insert_with(|| fs::metadata(live).ok().map(|m| (m.dev(), m.ino())));
        if !meta.is_file() || live_id == Some((meta.dev(), meta.ino())) {
            continue;
        }
        let Ok(mtime) = meta.modified() else { continue };
        found.push(Rotated {
            path,
            compression,
            stamp,
            size: meta.len(),
            mtime,
            dev: meta.dev(),
            ino: meta.ino(),
            held,
        });
    }
    let plain: HashSet<PathBuf> =
        found.iter().filter(|g| g.compression == Compression::Plain).map(|g| g.path.clone()).collect();
    found.retain(|g| g.compression == Compression::Plain || !plain.contains(&uncompressed_path(&g.path)));
    found.sort_by(older_first);
    let mut seen = HashSet::new();
    found.retain(|g| seen.insert((g.dev, g.ino)));
    found
}

/// `path` without its compression suffix.
fn uncompressed_path(path: &Path) -> PathBuf {
    let bytes = path.as_os_str().as_bytes();
    PathBuf::from(OsStr::from_bytes(Compression::split(bytes).1))
}

/// Bytes of one generation, handed to the caller in chronological order.
///
/// A generation's chunks come back to back (each `offset` just past the previous chunk's
/// bytes), and a chunk may end inside a line; the generation's last chunk has `last` set
/// (its `bytes` may then be empty). A generation with nothing to give sends no chunk.
#[derive(Debug)]
pub(crate) struct Chunk<'a> {
    pub(crate) from: &'a Rotated,
    /// Offset of `bytes[0]` in the generation's uncompressed content.
    pub(crate) offset: u64,
    pub(crate) bytes: &'a [u8],
    /// The generation's last chunk.
    pub(crate) last: bool,
    /// Only with `last`: the generation's last line has no delimiter (the file was rotated in
    /// the middle of a write). It still counts as a line; its bytes are given as they are, and
    /// the caller decides whether to end it with a delimiter before the next generation.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) unterminated: bool,
}

/// What went wrong with one generation.
#[derive(Debug)]
pub(crate) enum Trouble {
    /// Opening it failed (permission denied, …).
    Open(io::Error),
    /// Reading it failed part way.
    Read(io::Error),
    /// Its compressed data is damaged (the decoder's reason): nothing of it was taken by
    /// [`last_lines`]; [`all_lines`] gave what came before the damage.
    Corrupt(String),
    /// Stored in a compression with no decoder built in.
    Unsupported(Compression),
    /// A notice, not an error: its compressed data stops early (still being written?). The
    /// complete lines before that, `lines` of them, were taken.
    EndsEarly { lines: u64 },
}

/// One generation's trouble, for the caller to print (`rtail: {problem}`).
#[derive(Debug)]
pub(crate) struct Problem {
    pub(crate) path: PathBuf,
    pub(crate) trouble: Trouble,
}

impl Problem {
    /// An error (the run's exit status is 1), rather than a notice.
    pub(crate) fn is_error(&self) -> bool {
        !matches!(self.trouble, Trouble::EndsEarly { .. })
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = quote(self.path.as_os_str().as_bytes());
        match &self.trouble {
            Trouble::Open(e) => write!(f, "cannot open {name} for reading: {}", crate::sys::error_text(e)),
            Trouble::Read(e) => write!(f, "error reading {name}: {}", crate::sys::error_text(e)),
            Trouble::Corrupt(why) => write!(f, "cannot read {name}: invalid gzip data ({why})"),
            Trouble::Unsupported(c) => {
                write!(f, "cannot read {name}: unsupported compression ({})", c.name())
            }
            Trouble::EndsEarly { lines } => {
                write!(f, "{name} ends early (still being written?): read up to line {lines}")
            }
        }
    }
}

/// What reading generations back gave: how many lines, and each generation's trouble.
#[derive(Debug, Default)]
pub(crate) struct Report {
    /// Lines handed to the callback (an unterminated last line counts).
    pub(crate) lines: u64,
    /// In the order met, at most one per generation.
    pub(crate) problems: Vec<Problem>,
}

impl Report {
    /// Some generation could not be read (a notice alone is no failure).
    pub(crate) fn failed(&self) -> bool {
        self.problems.iter().any(Problem::is_error)
    }

    fn problem(&mut self, rot: &Rotated, trouble: Trouble) {
        self.problems.push(Problem { path: rot.path.clone(), trouble });
    }
}

/// Open a generation for reading: the file opened when it was listed, from its start; or, when
/// it could not be opened then, by its name: `None` when it has gone or its name now holds
/// another file (it was rotated away between listing and reading).
pub(crate) fn open(rot: &Rotated) -> io::Result<Option<File>> {
    if let Some(held) = &rot.held {
        let file = held.try_clone()?;
        (&file).seek(io::SeekFrom::Start(0))?;
        return Ok(Some(file));
    }
    let file = match File::open(&rot.path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    Ok(((meta.dev(), meta.ino()) == (rot.dev, rot.ino)).then_some(file))
}

/// The first `len` bytes of a generation's content (decompressed): what tells a compressed copy
/// of a file rtail read from a generation it never saw. `None` when it has gone or cannot be
/// read (then it is not told apart, and reading it later reports why).
pub(crate) fn head(rot: &Rotated, len: usize) -> Option<Vec<u8>> {
    let file = open(rot).ok()??;
    let mut head = vec![0; len];
    let got = match rot.compression {
        Compression::Plain => fill(&mut &file, &mut head).0,
        Compression::Gzip => fill(&mut gzip_reader(file), &mut head).0,
        _ => return None,
    };
    head.truncate(got);
    Some(head)
}

/// Lines in a whole generation: its delimiters, plus its last line when that has none.
fn count_lines(delims: u64, unterminated: bool) -> u64 {
    delims + u64::from(unterminated)
}

/// Counts lines backwards: fed the bytes before everything fed so far, it finds where the last
/// `want` lines start. The generation's final delimiter, if any, ends its last line and starts
/// none, so it is left out of what is fed (see [`Back::body`]).
struct Back {
    /// Delimiters still to pass before the start is found.
    left: u64,
    delim: u8,
}

impl Back {
    /// `want >= 1`.
    fn new(want: u64, delim: u8) -> Back {
        Back { left: want, delim }
    }

    /// The generation's last bytes without its final delimiter, and whether there was none.
    fn body(last: &[u8], delim: u8) -> (&[u8], bool) {
        match last.split_last() {
            Some((&b, rest)) if b == delim => (rest, false),
            _ => (last, !last.is_empty()),
        }
    }

    /// Feed `block`; the index in it where the wanted lines start, once found.
    fn feed(&mut self, block: &[u8]) -> Option<usize> {
        let here = memchr_iter(self.delim, block).count() as u64;
        if here < self.left {
            self.left -= here;
            return None;
        }
        let nth = usize::try_from(self.left - 1).unwrap_or(usize::MAX);
        self.left = 0;
        memrchr_iter(self.delim, block).nth(nth).map(|at| at + 1)
    }

    /// Lines found when everything was fed without finding the start (the generation has fewer
    /// than wanted): all of them, the first one included.
    fn found(&self, want: u64, nonempty: bool) -> u64 {
        if nonempty { want - self.left + 1 } else { 0 }
    }
}

/// Where a plain generation's wanted lines are: `start..end`, `lines` of them.
struct PlainSpan {
    start: u64,
    end: u64,
    lines: u64,
    unterminated: bool,
}

/// A read that came back short: the file shrank under us.
fn shrank() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "it shrank while being read")
}

/// Find the last `want` lines (`want >= 1`) of a plain generation, reading backwards from `end`.
fn scan_plain(file: &File, end: u64, want: u64, delim: u8, block: &mut Vec<u8>) -> io::Result<PlainSpan> {
    let mut back = Back::new(want, delim);
    let mut step = FIRST_BACK_READ;
    let mut hi = end;
    let mut unterminated = false;
    while hi > 0 {
        let lo = hi.saturating_sub(step as u64);
        step = (step * 4).min(BLOCK);
        block.resize((hi - lo) as usize, 0);
        if read_full_at(file, block, lo)? < block.len() {
            return Err(shrank());
        }
        let mut body = &block[..];
        if hi == end {
            (body, unterminated) = Back::body(body, delim);
        }
        if let Some(at) = back.feed(body) {
            return Ok(PlainSpan { start: lo + at as u64, end, lines: want, unterminated });
        }
        hi = lo;
    }
    Ok(PlainSpan { start: 0, end, lines: back.found(want, end > 0), unterminated })
}

/// Send `start..end` of a plain generation in blocks, the last one flagged. The outer error is
/// the callback's (stop); the inner one is the read's (this generation's trouble).
fn emit_plain<E>(
    rot: &Rotated,
    file: &File,
    span: &PlainSpan,
    block: &mut Vec<u8>,
    emit: &mut impl FnMut(Chunk<'_>) -> Result<(), E>,
) -> Result<Result<(), io::Error>, E> {
    let mut pos = span.start;
    while pos < span.end {
        let len = (span.end - pos).min(BLOCK as u64) as usize;
        block.resize(len, 0);
        match read_full_at(file, block, pos) {
            Ok(n) if n == len => {}
            Ok(_) => return Ok(Err(shrank())),
            Err(e) => return Ok(Err(e)),
        }
        let last = pos + len as u64 == span.end;
        emit(Chunk { from: rot, offset: pos, bytes: block, last, unterminated: last && span.unterminated })?;
        pos += len as u64;
    }
    Ok(Ok(()))
}

/// How a compressed stream ended.
enum Ending {
    Whole,
    Early,
    Damaged(String),
    Failed(io::Error),
}

/// Classify a decoder error: flate2 says `UnexpectedEof` for data that stops short (a
/// truncated member, a missing trailer) and `InvalidInput`/`InvalidData` for damage (bad magic,
/// bad deflate data, checksum mismatch); anything else came from reading the file.
fn ending(e: io::Error) -> Ending {
    match e.kind() {
        io::ErrorKind::UnexpectedEof => Ending::Early,
        io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData => Ending::Damaged(e.to_string()),
        _ => Ending::Failed(e),
    }
}

/// Fill `buf` (its length is the room) from `src`: returns how much was read, short only at
/// the end of the stream or with the error that ended it.
fn fill(src: &mut impl Read, buf: &mut [u8]) -> (usize, Option<io::Error>) {
    let mut done = 0;
    while done < buf.len() {
        match src.read(&mut buf[done..]) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return (done, Some(e)),
        }
    }
    (done, None)
}

pub(crate) fn gzip_reader(file: File) -> MultiGzDecoder<BufReader<File>> {
    MultiGzDecoder::new(BufReader::with_capacity(BLOCK, file))
}

/// The last `want` lines of a stream read forwards, kept in whole blocks: a front block is let
/// go once the blocks after it hold the wanted lines' start. What is kept is the wanted lines
/// plus at most about two blocks, whatever the stream's length.
///
/// Invariants: `counts[i]` is the number of delimiters in `blocks[i]`; `after_front` is the sum
/// of `counts[1..]`; `base` is the stream offset of `blocks[0][0]`.
#[derive(Debug)]
pub(crate) struct Tail {
    want: u64,
    delim: u8,
    blocks: VecDeque<Vec<u8>>,
    counts: VecDeque<u64>,
    after_front: u64,
    base: u64,
    /// Delimiters in the whole stream so far.
    delims: u64,
    /// A block let go, to be filled again.
    spare: Option<Vec<u8>>,
}

impl Tail {
    /// `want >= 1`.
    pub(crate) fn new(want: u64, delim: u8) -> Tail {
        Tail {
            want,
            delim,
            blocks: VecDeque::new(),
            counts: VecDeque::new(),
            after_front: 0,
            base: 0,
            delims: 0,
            spare: None,
        }
    }

    /// An empty block with room for [`BLOCK`] bytes (one let go, when there is one).
    fn block(&mut self) -> Vec<u8> {
        let mut b = self.spare.take().unwrap_or_default();
        b.clear();
        b.reserve_exact(BLOCK);
        b
    }

    fn ends_with_delim(&self) -> bool {
        self.blocks.back().and_then(|b| b.last()) == Some(&self.delim)
    }

    /// Append the stream's next bytes.
    pub(crate) fn push(&mut self, block: Vec<u8>) {
        if block.is_empty() {
            self.spare = Some(block);
            return;
        }
        let count = memchr_iter(self.delim, &block).count() as u64;
        self.delims += count;
        if !self.blocks.is_empty() {
            self.after_front += count;
        }
        self.blocks.push_back(block);
        self.counts.push_back(count);
        // The wanted lines start after the `want`-th delimiter from the end, not counting a
        // final one; once that delimiter lies past the front block, the front is not needed.
        // One delimiter more is asked for than that, as if the stream ended with one: then
        // dropping an incomplete last line ([`Tail::drop_incomplete`]) cannot move the start
        // back into a block let go.
        while self.blocks.len() > 1 && self.after_front > self.want {
            let (Some(front), Some(_)) = (self.blocks.pop_front(), self.counts.pop_front()) else { break };
            self.base += front.len() as u64;
            self.after_front -= self.counts.front().copied().unwrap_or(0);
            self.spare = Some(front);
        }
    }

    /// Bytes held now, counting each block's whole allocation (the spare one too).
    #[cfg(test)]
    pub(crate) fn kept_capacity(&self) -> usize {
        self.blocks.iter().map(Vec::capacity).sum::<usize>() + self.spare.as_ref().map_or(0, Vec::capacity)
    }

    /// Drop the bytes after the last delimiter (an incomplete line, the data having stopped
    /// early).
    fn drop_incomplete(&mut self) {
        while let Some(back) = self.blocks.back_mut() {
            if let Some(at) = memrchr(self.delim, back) {
                back.truncate(at + 1);
                return;
            }
            self.blocks.pop_back();
            self.counts.pop_back();
        }
    }

    /// The kept lines: the offset where they start, and how many there are (at most `want`);
    /// the blocks before that start are let go.
    fn finish(&mut self) -> (u64, u64) {
        let (mut back, mut start_found) = (Back::new(self.want, self.delim), None);
        let mut first = true;
        let mut end = self.base + self.blocks.iter().map(|b| b.len() as u64).sum::<u64>();
        for block in self.blocks.iter().rev() {
            end -= block.len() as u64;
            let mut body = &block[..];
            if first && !body.is_empty() {
                body = Back::body(body, self.delim).0;
                first = false;
            }
            if let Some(at) = back.feed(body) {
                start_found = Some(end + at as u64);
                break;
            }
        }
        let start = start_found.unwrap_or(self.base);
        while self.blocks.front().is_some_and(|b| self.base + b.len() as u64 <= start) {
            if let Some(b) = self.blocks.pop_front() {
                self.base += b.len() as u64;
            }
        }
        let lines = match start_found {
            Some(_) => self.want,
            None => back.found(self.want, !self.blocks.is_empty()),
        };
        (start, lines)
    }

    /// Send the kept bytes from `start` on, the last block flagged.
    fn emit<E>(
        &self,
        rot: &Rotated,
        start: u64,
        emit: &mut impl FnMut(Chunk<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        let unterminated = !self.ends_with_delim();
        let mut offset = self.base;
        for (i, block) in self.blocks.iter().enumerate() {
            let skip = start.saturating_sub(offset).min(block.len() as u64) as usize;
            let last = i + 1 == self.blocks.len();
            emit(Chunk {
                from: rot,
                offset: offset + skip as u64,
                bytes: &block[skip..],
                last,
                unterminated: last && unterminated,
            })?;
            offset += block.len() as u64;
        }
        Ok(())
    }
}

/// The last `want` lines of a gzip generation, kept in a [`Tail`], and how its data ended.
fn scan_gzip(file: File, want: u64, delim: u8) -> (Tail, Ending) {
    let mut tail = Tail::new(want, delim);
    let mut src = gzip_reader(file);
    loop {
        let mut block = tail.block();
        block.resize(BLOCK, 0);
        let (got, err) = fill(&mut src, &mut block);
        block.truncate(got);
        let at_end = got < BLOCK;
        tail.push(block);
        if let Some(e) = err {
            return (tail, ending(e));
        }
        if at_end {
            return (tail, Ending::Whole);
        }
    }
}

/// A compressed generation of no bytes at all (just created by the compressor, or left empty)
/// has no lines, and nothing is wrong with it.
fn is_empty(file: &File) -> bool {
    file.metadata().is_ok_and(|m| m.len() == 0)
}

/// A generation's part of the output of [`last_lines`], found while scanning newest first and
/// sent oldest first.
enum Planned<'g> {
    Plain { rot: &'g Rotated, file: File, span: PlainSpan },
    Kept { rot: &'g Rotated, tail: Tail, start: u64, lines: u64 },
}

/// The last `need` lines across `rotated` (oldest first, as [`generations`] lists them), handed to
/// `emit` in chronological order: the caller then goes on with the live file's own lines.
/// `need` is how many lines the live file did not supply.
///
/// Generations are read newest first, and reading stops once `need` lines are found: older
/// ones are never opened. A generation that cannot be read gives no lines and a [`Problem`];
/// the count goes on in the generations before it. Only an `emit` error stops the reading.
pub(crate) fn last_lines<E>(
    rotated: &[Rotated],
    need: u64,
    delim: u8,
    mut emit: impl FnMut(Chunk<'_>) -> Result<(), E>,
) -> Result<Report, E> {
    let mut report = Report::default();
    let mut plan = Vec::new();
    let mut left = need;
    let mut block = Vec::new();
    for rot in rotated.iter().rev() {
        if left == 0 {
            break;
        }
        if rot.compression != Compression::Plain && rot.compression != Compression::Gzip {
            report.problem(rot, Trouble::Unsupported(rot.compression));
            continue;
        }
        let file = match open(rot) {
            Ok(Some(f)) => f,
            Ok(None) => continue,
            Err(e) => {
                report.problem(rot, Trouble::Open(e));
                continue;
            }
        };
        if rot.compression == Compression::Plain {
            let size = match file.metadata() {
                Ok(m) => m.len(),
                Err(e) => {
                    report.problem(rot, Trouble::Read(e));
                    continue;
                }
            };
            match scan_plain(&file, size, left, delim, &mut block) {
                Ok(span) if span.lines == 0 => {}
                Ok(span) => {
                    left -= span.lines;
                    plan.push(Planned::Plain { rot, file, span });
                }
                Err(e) => report.problem(rot, Trouble::Read(e)),
            }
            continue;
        }
        if is_empty(&file) {
            continue;
        }
        let (mut tail, end) = scan_gzip(file, left, delim);
        match end {
            Ending::Whole => {}
            Ending::Early => {
                tail.drop_incomplete();
                report.problem(rot, Trouble::EndsEarly { lines: tail.delims });
            }
            Ending::Damaged(why) => {
                report.problem(rot, Trouble::Corrupt(why));
                continue;
            }
            Ending::Failed(e) => {
                report.problem(rot, Trouble::Read(e));
                continue;
            }
        }
        let (start, lines) = tail.finish();
        if lines > 0 {
            left -= lines;
            plan.push(Planned::Kept { rot, tail, start, lines });
        }
    }
    for part in plan.iter().rev() {
        match part {
            Planned::Plain { rot, file, span } => {
                if let Err(e) = emit_plain(rot, file, span, &mut block, &mut emit)? {
                    report.problem(rot, Trouble::Read(e));
                    continue;
                }
                report.lines += span.lines;
            }
            Planned::Kept { rot, tail, start, lines } => {
                tail.emit(rot, *start, &mut emit)?;
                report.lines += lines;
            }
        }
    }
    Ok(report)
}

/// Every generation in full, oldest first, streamed in blocks (memory: a block or two): `-n +1`
/// with `--history`, before the live file.
///
/// A gzip generation's chunks end at a delimiter (a line longer than a block excepted), so that
/// when its data stops early only the incomplete last line is left out. Damaged data stops that
/// generation where the damage is found: what came before has been sent (a last, empty chunk
/// closes it) and a [`Problem`] says so.
pub(crate) fn all_lines<E>(
    rotated: &[Rotated],
    delim: u8,
    mut emit: impl FnMut(Chunk<'_>) -> Result<(), E>,
) -> Result<Report, E> {
    let mut report = Report::default();
    let mut block = Vec::new();
    for rot in rotated {
        if rot.compression != Compression::Plain && rot.compression != Compression::Gzip {
            report.problem(rot, Trouble::Unsupported(rot.compression));
            continue;
        }
        let file = match open(rot) {
            Ok(Some(f)) => f,
            Ok(None) => continue,
            Err(e) => {
                report.problem(rot, Trouble::Open(e));
                continue;
            }
        };
        let done = if rot.compression == Compression::Plain {
            all_plain(rot, &file, delim, &mut block, &mut emit)?
        } else if is_empty(&file) {
            continue;
        } else {
            all_gzip(rot, file, delim, &mut block, &mut emit)?
        };
        match done {
            Ok(lines) => report.lines += lines,
            Err((lines, trouble)) => {
                report.lines += lines;
                report.problem(rot, trouble);
            }
        }
    }
    Ok(report)
}

/// A generation read in full: its lines, or the lines sent before the trouble.
type Whole = Result<u64, (u64, Trouble)>;

fn all_plain<E>(
    rot: &Rotated,
    file: &File,
    delim: u8,
    block: &mut Vec<u8>,
    emit: &mut impl FnMut(Chunk<'_>) -> Result<(), E>,
) -> Result<Whole, E> {
    let end = match file.metadata() {
        Ok(m) => m.len(),
        Err(e) => return Ok(Err((0, Trouble::Read(e)))),
    };
    let mut unterminated = false;
    if end > 0 {
        let mut last = [0u8; 1];
        match read_full_at(file, &mut last, end - 1) {
            Ok(1) => unterminated = last[0] != delim,
            Ok(_) => return Ok(Err((0, Trouble::Read(shrank())))),
            Err(e) => return Ok(Err((0, Trouble::Read(e)))),
        }
    }
    let span = PlainSpan { start: 0, end, lines: 0, unterminated };
    let mut delims = 0;
    let mut counted = |chunk: Chunk<'_>| {
        delims += memchr_iter(delim, chunk.bytes).count() as u64;
        emit(chunk)
    };
    let result = emit_plain(rot, file, &span, block, &mut counted)?;
    Ok(match result {
        Ok(()) => Ok(count_lines(delims, unterminated)),
        Err(e) => Err((delims, Trouble::Read(e))),
    })
}

fn all_gzip<E>(
    rot: &Rotated,
    file: File,
    delim: u8,
    block: &mut Vec<u8>,
    emit: &mut impl FnMut(Chunk<'_>) -> Result<(), E>,
) -> Result<Whole, E> {
    let mut src = gzip_reader(file);
    // `block[..held]` is the start of a line not yet sent; `offset` is where it starts.
    let (mut held, mut offset, mut delims) = (0usize, 0u64, 0u64);
    // Something was sent, and whether it ended without a delimiter.
    let (mut sent_any, mut open_end) = (false, false);
    block.resize(BLOCK, 0);
    let ending = loop {
        let (got, err) = fill(&mut src, &mut block[held..]);
        let filled = held + got;
        let stop = err.map(ending).or((filled < BLOCK).then_some(Ending::Whole));
        let whole = match stop {
            Some(Ending::Whole) => filled,
            // Send up to the last delimiter, unless a line fills the whole block.
            _ => match memrchr(delim, &block[..filled]) {
                Some(at) => at + 1,
                None if filled == BLOCK => filled,
                None => 0,
            },
        };
        let last = matches!(stop, Some(Ending::Whole));
        if whole > 0 || (last && sent_any) {
            let bytes = &block[..whole];
            delims += memchr_iter(delim, bytes).count() as u64;
            if let Some(&b) = bytes.last() {
                open_end = b != delim;
            }
            emit(Chunk { from: rot, offset, bytes, last, unterminated: last && open_end })?;
            sent_any = true;
        }
        offset += whole as u64;
        block.copy_within(whole..filled, 0);
        held = filled - whole;
        if let Some(end) = stop {
            break end;
        }
    };
    let trouble = match ending {
        Ending::Whole => return Ok(Ok(count_lines(delims, open_end))),
        Ending::Early => Trouble::EndsEarly { lines: delims },
        Ending::Damaged(why) => Trouble::Corrupt(why),
        Ending::Failed(e) => Trouble::Read(e),
    };
    if sent_any {
        // Close the generation: what was sent ends at a delimiter, or with a piece of an
        // overlong line cut short.
        emit(Chunk { from: rot, offset, bytes: &[], last: true, unterminated: open_end })?;
    }
    Ok(Err((delims, trouble)))
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::time::Duration;

    use flate2::write::GzEncoder;

    use super::*;

    /// A time `secs` after an arbitrary start: mtimes are set explicitly, never left to the clock.
    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
    }

    fn put(dir: &Path, name: &str, bytes: &[u8], mtime: u64) -> PathBuf {
        let path = dir.join(name);
        let mut f = File::create(&path).unwrap();
        f.write_all(bytes).unwrap();
        f.set_modified(at(mtime)).unwrap();
        path
    }

    fn gz(bytes: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    fn names(found: &[Rotated]) -> Vec<String> {
        found.iter().map(|g| g.path.file_name().unwrap().to_string_lossy().into_owned()).collect()
    }

    /// Numbered text lines `from..to`, each `tag` and its number.
    fn lines(tag: &str, from: u32, to: u32) -> Vec<u8> {
        (from..to).flat_map(|i| format!("{tag} {i}\n").into_bytes()).collect()
    }

    /// What a read back gave, its chunks checked: back to back within a generation, the last
    /// one flagged, `unterminated` only on it.
    #[derive(Default)]
    struct Got {
        bytes: Vec<u8>,
        /// Each generation met, in order, with whether its last line was unterminated.
        order: Vec<(String, bool)>,
        open: Option<(PathBuf, u64)>,
        largest_chunk: usize,
    }

    impl Got {
        fn take(&mut self, c: Chunk<'_>) -> Result<(), ()> {
            match &self.open {
                Some((path, next)) => {
                    assert_eq!(path, &c.from.path, "a generation ended without its last chunk");
                    assert_eq!(*next, c.offset, "chunks not back to back");
                }
                None => {
                    let name = c.from.path.file_name().unwrap().to_string_lossy().into_owned();
                    assert!(!self.order.iter().any(|(n, _)| *n == name), "{name} met twice");
                    self.order.push((name, false));
                }
            }
            assert!(c.last || !c.unterminated);
            self.bytes.extend_from_slice(c.bytes);
            self.largest_chunk = self.largest_chunk.max(c.bytes.len());
            self.open = (!c.last).then(|| (c.from.path.clone(), c.offset + c.bytes.len() as u64));
            if c.last {
                self.order.last_mut().unwrap().1 = c.unterminated;
            }
            Ok(())
        }

        fn order(&self) -> Vec<&str> {
            self.order.iter().map(|(n, _)| n.as_str()).collect()
        }
    }

    fn last(found: &[Rotated], need: u64, delim: u8) -> (Got, Report) {
        let mut got = Got::default();
        let report = last_lines(found, need, delim, |c| got.take(c)).unwrap();
        assert!(got.open.is_none(), "the last generation was not closed");
        (got, report)
    }

    fn all(found: &[Rotated], delim: u8) -> (Got, Report) {
        let mut got = Got::default();
        let report = all_lines(found, delim, |c| got.take(c)).unwrap();
        assert!(got.open.is_none(), "the last generation was not closed");
        (got, report)
    }

    fn messages(report: &Report) -> Vec<String> {
        report.problems.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn rotation_stamps_of_the_usual_schemes() {
        let stamp = |name: &str| rotation_stamp(b"app.log", name.as_bytes());
        let num = |n| Some((Stamp::Number(n), Compression::Plain));
        let date = |d: &str, c| Some((Stamp::Date(d.as_bytes().to_vec()), c));
        assert_eq!(stamp("app.log.1"), num(1));
        assert_eq!(stamp("app.log.12"), num(12));
        assert_eq!(stamp("app.log.0"), num(0));
        assert_eq!(stamp("app.log.2.gz"), Some((Stamp::Number(2), Compression::Gzip)));
        assert_eq!(stamp("app.log.3.xz"), Some((Stamp::Number(3), Compression::Xz)));
        assert_eq!(stamp("app.log.3.bz2"), Some((Stamp::Number(3), Compression::Bzip2)));
        assert_eq!(stamp("app.log.3.zst"), Some((Stamp::Number(3), Compression::Zstd)));
        assert_eq!(stamp("app.log-20261130"), date("20261130", Compression::Plain));
        assert_eq!(stamp("app.log-20261130.gz"), date("20261130", Compression::Gzip));
        assert_eq!(stamp("app.log-2026113012"), date("2026113012", Compression::Plain));
        assert_eq!(stamp("app.log-2026-11-30"), date("20261130", Compression::Plain));
        assert_eq!(stamp("app.log-20261130-1764460800"), date("202611301764460800", Compression::Plain));
        assert_eq!(stamp("app.log.2026-11-30"), date("20261130", Compression::Plain));
        assert_eq!(stamp("app.log.2026-11-30_10"), date("2026113010", Compression::Plain));
        assert_eq!(stamp("app.log.2026-11-30_10-00"), date("202611301000", Compression::Plain));
        assert_eq!(stamp("app.log.2026-11-30_10-00-00.gz"), date("20261130100000", Compression::Gzip));
        assert_eq!(stamp("app.log.20261130"), date("20261130", Compression::Plain));
    }

    #[test]
    fn names_that_are_not_rotations_do_not_match() {
        for name in [
            "app.log",
            "app.log.bak",
            "app.log.swp",
            "app.log2",
            "app.log.1.tmp",
            "app.log.1.gz.tmp",
            "app.log.gz",
            "app.log.",
            "app.log.-1",
            "app.log-1",
            "app.log-old",
            "app.log-2026-11",
            "app.log.2026-11-30-",
            "app.log.2026--11-30",
            "app.log.1.2",
            "app.log_20261130",
            "xapp.log.1",
            "app.log.1.gz.gz",
            "app.log.１",
        ] {
            assert_eq!(rotation_stamp(b"app.log", name.as_bytes()), None, "{name}");
        }
    }

    #[test]
    fn generations_are_listed_oldest_first_by_mtime() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let live = put(d, "app.log", b"live\n", 100);
        // The numbers say the opposite of the mtimes here: the mtimes decide.
        put(d, "app.log.1", b"a\n", 10);
        put(d, "app.log.2.gz", &gz(b"b\n"), 20);
        put(d, "app.log-20261130", b"c\n", 5);
        put(d, "app.log.2026-11-29_10-00", b"d\n", 30);
        for other in ["app.log.bak", "app.log.swp", "app.log2", "app.log.1.tmp", "other.log.3"] {
            put(d, other, b"x\n", 1);
        }
        fs::create_dir(d.join("app.log.7")).unwrap();
        let found = generations(&live).unwrap();
        assert_eq!(
            names(&found),
            ["app.log-20261130", "app.log.1", "app.log.2.gz", "app.log.2026-11-29_10-00"]
        );
        let gz_one = &found[2];
        assert_eq!(gz_one.compression, Compression::Gzip);
        assert_eq!(gz_one.size, fs::metadata(&gz_one.path).unwrap().len());
        assert_eq!(gz_one.mtime, at(20));
        assert_eq!(gz_one.ino, fs::metadata(&gz_one.path).unwrap().ino());
        assert_eq!(gz_one.path, d.join("app.log.2.gz"));
    }

    #[test]
    fn equal_mtimes_are_ordered_by_number_or_date() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for name in ["app.log.1", "app.log.10", "app.log.2.gz", "app.log-20261130", "app.log-20261129.gz"] {
            put(d, name, b"x\n", 50);
        }
        let found = generations(&d.join("app.log")).unwrap();
        assert_eq!(
            names(&found),
            ["app.log.10", "app.log.2.gz", "app.log.1", "app.log-20261129.gz", "app.log-20261130"]
        );
    }

    #[test]
    fn the_live_file_and_its_other_names_are_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let live = put(d, "app.log", b"live\n", 100);
        // The instant after `mv app.log app.log.1`, before the new app.log: the same file.
        fs::hard_link(&live, d.join("app.log.1")).unwrap();
        put(d, "app.log.2", b"two\n", 10);
        fs::hard_link(d.join("app.log.2"), d.join("app.log-20261130")).unwrap();
        let found = generations(&live).unwrap();
        assert_eq!(found.len(), 1, "{:?}", names(&found));
        assert!(names(&found)[0] == "app.log.2" || names(&found)[0] == "app.log-20261130");
    }

    #[test]
    fn a_plain_generation_hides_its_compressed_copy() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        put(d, "app.log.2", b"two\n", 10);
        put(d, "app.log.2.gz", &gz(b"tw"), 11); // the compressor at work
        put(d, "app.log.3.gz", &gz(b"three\n"), 5);
        let found = generations(&d.join("app.log")).unwrap();
        assert_eq!(names(&found), ["app.log.3.gz", "app.log.2"]);
    }

    #[test]
    fn a_live_path_without_a_directory_lists_the_current_one() {
        // The test runs in the crate's directory, which has no rotated generations of this name.
        let found = generations(Path::new("no-such-rtail-test.log")).unwrap();
        assert!(found.is_empty());
        assert!(generations(Path::new("/")).unwrap().is_empty());
    }

    /// Three generations: app.log.3.gz (oldest), app.log.2.gz, app.log.1 (plain, newest).
    fn three(d: &Path) -> Vec<Rotated> {
        put(d, "app.log", b"live 0\n", 100);
        put(d, "app.log.3.gz", &gz(&lines("three", 0, 50)), 10);
        put(d, "app.log.2.gz", &gz(&lines("two", 0, 50)), 20);
        put(d, "app.log.1", &lines("one", 0, 50), 30);
        generations(&d.join("app.log")).unwrap()
    }

    #[test]
    fn need_spans_three_generations() {
        let dir = tempfile::tempdir().unwrap();
        let found = three(dir.path());
        let (got, report) = last(&found, 120, b'\n');
        let want = [lines("three", 30, 50), lines("two", 0, 50), lines("one", 0, 50)].concat();
        assert_eq!(String::from_utf8_lossy(&got.bytes), String::from_utf8_lossy(&want));
        assert_eq!(got.order(), ["app.log.3.gz", "app.log.2.gz", "app.log.1"]);
        assert_eq!(report.lines, 120);
        assert!(report.problems.is_empty());
    }

    #[test]
    fn more_than_all_gives_all_and_says_how_many() {
        let dir = tempfile::tempdir().unwrap();
        let found = three(dir.path());
        let (got, report) = last(&found, 1000, b'\n');
        assert_eq!(got.bytes, [lines("three", 0, 50), lines("two", 0, 50), lines("one", 0, 50)].concat());
        assert_eq!(report.lines, 150);
        let (got, report) = last(&found, 0, b'\n');
        assert!(got.bytes.is_empty());
        assert_eq!(report.lines, 0);
    }

    #[test]
    fn the_newest_alone_leaves_the_older_ones_unopened() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        put(d, "app.log.3.gz", b"not gzip at all\n", 10);
        put(d, "app.log.2.xz", b"\xfd7zXZ", 20);
        put(d, "app.log.1", &lines("one", 0, 50), 30);
        let found = generations(&d.join("app.log")).unwrap();
        assert_eq!(found.len(), 3);
        let (got, report) = last(&found, 50, b'\n');
        assert_eq!(got.bytes, lines("one", 0, 50));
        assert_eq!(got.order(), ["app.log.1"]);
        assert!(report.problems.is_empty(), "{:?}", messages(&report));
        // One line more reaches them: each is told once, and nothing of them is taken.
        let (got, report) = last(&found, 51, b'\n');
        assert_eq!(got.bytes, lines("one", 0, 50));
        assert_eq!(
            messages(&report),
            [
                format!("cannot read '{}': unsupported compression (xz)", d.join("app.log.2.xz").display()),
                format!(
                    "cannot read '{}': invalid gzip data (invalid gzip header)",
                    d.join("app.log.3.gz").display()
                ),
            ]
        );
        assert!(report.failed());
        assert_eq!(report.lines, 50);
    }

    #[test]
    fn all_generations_in_order_from_the_oldest() {
        let dir = tempfile::tempdir().unwrap();
        let found = three(dir.path());
        let (got, report) = all(&found, b'\n');
        assert_eq!(got.bytes, [lines("three", 0, 50), lines("two", 0, 50), lines("one", 0, 50)].concat());
        assert_eq!(got.order(), ["app.log.3.gz", "app.log.2.gz", "app.log.1"]);
        assert_eq!(report.lines, 150);
        assert!(report.problems.is_empty());
    }

    #[test]
    fn a_generation_without_a_final_newline_ends_with_its_last_line_unterminated() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        put(d, "app.log.3.gz", &gz(b"old 1\nold 2 cut"), 10);
        put(d, "app.log.2", b"mid 1\nmid 2 cut", 20);
        put(d, "app.log.1", b"new 1\n", 30);
        let found = generations(&d.join("app.log")).unwrap();
        // The unterminated line counts as a line.
        let (got, report) = last(&found, 2, b'\n');
        assert_eq!(got.bytes, b"mid 2 cutnew 1\n");
        assert_eq!(got.order, [("app.log.2".to_string(), true), ("app.log.1".to_string(), false)]);
        assert_eq!(report.lines, 2);
        let (got, report) = last(&found, 4, b'\n');
        assert_eq!(got.bytes, b"old 2 cutmid 1\nmid 2 cutnew 1\n");
        assert_eq!(got.order[0], ("app.log.3.gz".to_string(), true));
        assert_eq!(report.lines, 4);
        let (got, report) = all(&found, b'\n');
        assert_eq!(got.bytes, b"old 1\nold 2 cutmid 1\nmid 2 cutnew 1\n");
        let flags: Vec<bool> = got.order.iter().map(|o| o.1).collect();
        assert_eq!(flags, [true, true, false]);
        assert_eq!(report.lines, 5);
    }

    #[test]
    fn a_corrupt_gzip_generation_is_told_and_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        put(d, "app.log.4.gz", &gz(&lines("four", 0, 5)), 5);
        let mut bad_crc = gz(&lines("three", 0, 5));
        let n = bad_crc.len();
        bad_crc[n - 6] ^= 0xff;
        put(d, "app.log.3.gz", &bad_crc, 10);
        put(d, "app.log.2.gz", b"\x1f\x8b garbage after a gzip magic", 20);
        put(d, "app.log.1", &lines("one", 0, 5), 30);
        let found = generations(&d.join("app.log")).unwrap();
        let (got, report) = last(&found, 8, b'\n');
        assert_eq!(got.bytes, [lines("four", 2, 5), lines("one", 0, 5)].concat());
        assert_eq!(report.lines, 8);
        let text = messages(&report);
        assert_eq!(text.len(), 2, "{text:?}");
        assert!(text[0].starts_with(&format!(
            "cannot read '{}': invalid gzip data (",
            d.join("app.log.2.gz").display()
        )));
        assert!(text[1].contains(
            "app.log.3.gz': invalid gzip data (corrupt gzip stream does not have a matching checksum)"
        ));
        assert!(report.failed());
        // All of it: the damaged stream's lines before its check failed were sent already.
        let (got, report) = all(&found, b'\n');
        assert_eq!(got.bytes, [lines("four", 0, 5), lines("three", 0, 5), lines("one", 0, 5)].concat());
        assert_eq!(report.problems.len(), 2);
        assert!(report.failed());
    }

    #[test]
    fn a_truncated_gzip_generation_gives_its_whole_lines_and_a_notice() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        put(d, "app.log.3", &lines("three", 0, 10), 10);
        let full = gz(&lines("two", 0, 2000));
        put(d, "app.log.2.gz", &full[..full.len() / 2], 20);
        put(d, "app.log.1", &lines("one", 0, 3), 30);
        let found = generations(&d.join("app.log")).unwrap();
        let (got, report) = last(&found, 100_000, b'\n');
        let text = String::from_utf8(got.bytes).unwrap();
        let kept = text.lines().filter(|l| l.starts_with("two")).count() as u32;
        assert!(kept > 0 && kept < 2000, "{kept}");
        let want = [lines("three", 0, 10), lines("two", 0, kept), lines("one", 0, 3)].concat();
        assert_eq!(text, String::from_utf8(want).unwrap());
        assert_eq!(
            messages(&report),
            [format!(
                "'{}' ends early (still being written?): read up to line {kept}",
                d.join("app.log.2.gz").display()
            )]
        );
        assert!(!report.failed(), "a notice is no failure");
        assert_eq!(report.lines, 10 + u64::from(kept) + 3);
        // The last lines only, from the truncated one: its cut line is not among them.
        let (got, _) = last(&found, 5, b'\n');
        assert_eq!(got.bytes, [lines("two", kept - 2, kept), lines("one", 0, 3)].concat());
        let (got, report) = all(&found, b'\n');
        assert_eq!(String::from_utf8(got.bytes).unwrap(), text);
        assert_eq!(report.problems.len(), 1);
        // A missing trailer alone: every line is there.
        put(d, "app.log.2.gz", &full[..full.len() - 8], 20);
        let found = generations(&d.join("app.log")).unwrap();
        let (got, report) = last(&found, 4, b'\n');
        assert_eq!(got.bytes, [lines("two", 1999, 2000), lines("one", 0, 3)].concat());
        assert!(messages(&report)[0].ends_with("read up to line 2000"));
    }

    #[test]
    fn empty_generations_give_nothing_and_are_no_trouble() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        put(d, "app.log.5", &lines("five", 0, 2), 5);
        put(d, "app.log.4.gz", b"", 10);
        put(d, "app.log.3.gz", &gz(b""), 15);
        put(d, "app.log.2", b"", 20);
        put(d, "app.log.1", b"one\n", 30);
        let found = generations(&d.join("app.log")).unwrap();
        assert_eq!(found.len(), 5);
        let (got, report) = last(&found, 3, b'\n');
        assert_eq!(got.bytes, b"five 0\nfive 1\none\n");
        assert_eq!(got.order(), ["app.log.5", "app.log.1"]);
        assert!(report.problems.is_empty(), "{:?}", messages(&report));
        let (got, report) = all(&found, b'\n');
        assert_eq!(got.bytes, b"five 0\nfive 1\none\n");
        assert_eq!(got.order(), ["app.log.5", "app.log.1"]);
        assert!(report.problems.is_empty(), "{:?}", messages(&report));
    }

    #[test]
    fn nul_delimited_records() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        put(d, "app.log.2.gz", &gz(b"a\nb\0c\nd\0"), 10);
        put(d, "app.log.1", b"e\0f\ng\0", 20);
        let found = generations(&d.join("app.log")).unwrap();
        let (got, report) = last(&found, 3, 0);
        assert_eq!(got.bytes, b"c\nd\0e\0f\ng\0");
        assert_eq!(report.lines, 3);
        let (got, _) = last(&found, 1, 0);
        assert_eq!(got.bytes, b"f\ng\0");
        let (got, report) = all(&found, 0);
        assert_eq!(got.bytes, b"a\nb\0c\nd\0e\0f\ng\0");
        assert_eq!(report.lines, 4);
    }

    #[test]
    fn a_generation_renamed_or_removed_since_the_listing_is_read_all_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        put(d, "app.log.3", b"three\n", 10);
        put(d, "app.log.2.gz", &gz(b"two\n"), 20);
        put(d, "app.log.1", b"one\n", 30);
        put(d, "app.log", b"was live\n", 40);
        let found = generations(&d.join("app.log")).unwrap();
        fs::remove_file(d.join("app.log.2.gz")).unwrap();
        // A rotation since: the name now holds the file that was live. What was listed was
        // opened then, and is read whatever its name has become.
        fs::rename(d.join("app.log"), d.join("app.log.1")).unwrap();
        let (got, report) = last(&found, 10, b'\n');
        assert_eq!(got.bytes, b"three\ntwo\none\n");
        assert!(report.problems.is_empty(), "{:?}", messages(&report));
        let (got, report) = all(&found, b'\n');
        assert_eq!(got.bytes, b"three\ntwo\none\n");
        assert!(report.problems.is_empty());
    }

    #[test]
    fn a_generation_that_cannot_be_opened_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        put(d, "app.log.2", b"two\n", 10);
        put(d, "app.log.1", b"one\n", 30);
        let mut found = generations(&d.join("app.log")).unwrap();
        // Not a directory: fails to open whoever runs the test (root reads a mode 000 file).
        let mut blocked = found[0].clone();
        blocked.path = d.join("app.log.1").join("x");
        blocked.held = None;
        found.insert(1, blocked);
        let (got, report) = last(&found, 10, b'\n');
        assert_eq!(got.bytes, b"two\none\n");
        assert_eq!(
            messages(&report),
            [format!("cannot open '{}/x' for reading: Not a directory", found[2].path.display())]
        );
        assert!(report.failed());
        let (got, report) = all(&found, b'\n');
        assert_eq!(got.bytes, b"two\none\n");
        assert!(report.failed());
    }

    #[test]
    fn permission_denied_is_an_error() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        put(d, "app.log.2", b"two\n", 10);
        let locked = put(d, "app.log.1.gz", &gz(b"one\n"), 30);
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
        if File::open(&locked).is_ok() {
            return; // root: nothing is denied
        }
        let found = generations(&d.join("app.log")).unwrap();
        let (got, report) = last(&found, 10, b'\n');
        assert_eq!(got.bytes, b"two\n");
        assert!(messages(&report)[0].ends_with("app.log.1.gz' for reading: Permission denied"));
    }

    #[test]
    fn several_gzip_members_are_one_generation() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        put(d, "app.log.1.gz", &[gz(b"a\nb\n"), gz(b"c\nd\n")].concat(), 10);
        let found = generations(&d.join("app.log")).unwrap();
        assert_eq!(last(&found, 3, b'\n').0.bytes, b"b\nc\nd\n");
        assert_eq!(all(&found, b'\n').0.bytes, b"a\nb\nc\nd\n");
    }

    /// A little deterministic generator (xorshift), so a failure can be replayed.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    /// Lines of a generation as the reference counts them: each up to and with its delimiter,
    /// the last one possibly without.
    fn split_lines(bytes: &[u8]) -> Vec<&[u8]> {
        bytes.split_inclusive(|&b| b == b'\n').collect()
    }

    #[test]
    fn last_lines_match_a_plain_reference_across_block_edges() {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        for round in 0..6 {
            let dir = tempfile::tempdir().unwrap();
            let d = dir.path();
            let mut contents = Vec::new();
            for g in 0..3u64 {
                // Lines from empty to longer than a block, generations of up to three blocks,
                // some ending open.
                let mut text = Vec::new();
                let target = rng.below(3 * BLOCK as u64) as usize;
                while text.len() < target {
                    let len = [0, 1, 40, 200, 5000, 150_000][rng.below(6) as usize];
                    text.extend((0..len).map(|i| b'a' + ((i + g as usize) % 26) as u8));
                    text.push(b'\n');
                }
                if rng.below(2) == 0 {
                    text.extend_from_slice(b"open end");
                }
                let name = format!("app.log.{}", 3 - g);
                let stored = if rng.below(2) == 0 { text.clone() } else { gz(&text) };
                let name = if stored == text { name } else { format!("{name}.gz") };
                put(d, &name, &stored, 10 * (g + 1));
                contents.push(text);
            }
            let found = generations(&d.join("app.log")).unwrap();
            let every: Vec<&[u8]> = contents.iter().flat_map(|c| split_lines(c)).collect();
            for need in [1, 2, 7, 100, 1000, every.len() as u64 - 1, every.len() as u64, 1 << 40] {
                let (got, report) = last(&found, need, b'\n');
                let from = every.len().saturating_sub(need as usize);
                assert_eq!(got.bytes, every[from..].concat(), "round {round}, need {need}");
                assert_eq!(report.lines, (every.len() - from) as u64);
                assert!(report.problems.is_empty());
                assert!(got.largest_chunk <= BLOCK);
            }
            let (got, report) = all(&found, b'\n');
            assert_eq!(got.bytes, contents.concat(), "round {round}");
            assert_eq!(report.lines, every.len() as u64);
            assert!(got.largest_chunk <= BLOCK);
        }
    }

    #[test]
    fn the_tail_of_a_large_stream_keeps_memory_bounded_by_the_lines_wanted() {
        let line = b"2026-11-30T10:00:00Z INFO request served in 3 ms\n";
        let mut tail = Tail::new(10, b'\n');
        let mut most = 0;
        let mut pushed = 0u64;
        // 64 MiB through, in blocks as the decoder gives them.
        while pushed < 64 << 20 {
            let mut block = tail.block();
            while block.len() + line.len() <= BLOCK {
                block.extend_from_slice(line);
            }
            block.extend_from_slice(&line[..BLOCK - block.len()]);
            pushed += block.len() as u64;
            tail.push(block);
            most = most.max(tail.kept_capacity());
        }
        assert!(most <= 3 * BLOCK, "kept {most} bytes");
        tail.drop_incomplete();
        let (start, lines) = tail.finish();
        assert_eq!(lines, 10);
        let mut kept = Vec::new();
        let rot = Rotated {
            path: PathBuf::from("x.gz"),
            compression: Compression::Gzip,
            stamp: Stamp::Number(1),
            size: 0,
            mtime: at(0),
            dev: 0,
            ino: 0,
            held: None,
        };
        tail.emit(&rot, start, &mut |c: Chunk<'_>| -> Result<(), ()> {
            kept.extend_from_slice(c.bytes);
            Ok(())
        })
        .unwrap();
        assert_eq!(kept, line.repeat(10));
        // Long lines: memory follows the lines kept, not the stream.
        let mut tail = Tail::new(2, b'\n');
        for i in 0..200 {
            let mut block = tail.block();
            block.resize(BLOCK, b'x');
            if i % 10 == 9 {
                block[BLOCK - 1] = b'\n'; // lines of 10 blocks each
            }
            tail.push(block);
            assert!(tail.kept_capacity() <= 32 * BLOCK, "kept {}", tail.kept_capacity());
        }
    }

    #[test]
    fn a_large_gzip_generation_is_read_through_for_its_last_lines() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let text = lines("big", 0, 300_000); // about 3 MiB
        put(d, "app.log.1.gz", &gz(&text), 10);
        let found = generations(&d.join("app.log")).unwrap();
        let (got, report) = last(&found, 3, b'\n');
        assert_eq!(got.bytes, lines("big", 299_997, 300_000));
        assert!(report.problems.is_empty());
    }
}
