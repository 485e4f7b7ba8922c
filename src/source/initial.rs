//! The initial output of one input: the last N lines/bytes, or everything from line/byte N.
//!
//! Regular files are read backwards from the end in large blocks, so the cost grows with N and
//! not with the file's size; what to print is then sent as a file range the printer copies
//! zero-copy. Pipes and other streams keep only what is needed in a bounded list of blocks.
//! Everything starts at the input's current offset, so `(read x; rtail) < file` works as GNU's.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Seek, SeekFrom};
use std::os::unix::fs::FileTypeExt;
use std::sync::Arc;

use memchr::{memchr_iter, memrchr_iter};

use super::history;
use super::read::{Partial, read_append, read_full_at};
use super::since::{self, Since};
use crate::config::{Count, Unit};
use crate::group::{MAX_RECORD_LINES, Multiline, record_starts};
use crate::pipeline::{BLOCK, Msg, Sink, Stopped};
use crate::record::{Batch, Generation, SourceId};
use crate::stamp::{Stamp, Stamper};

/// Why reading an input into the sink stopped early.
#[derive(Debug)]
pub(crate) enum ReadFail {
    /// The printer is gone or a stop was asked for; stop quietly.
    Stopped,
    /// Reading the input failed (`error reading 'NAME': …`).
    Io(io::Error),
}

impl From<Stopped> for ReadFail {
    fn from(_: Stopped) -> Self {
        ReadFail::Stopped
    }
}

impl From<io::Error> for ReadFail {
    fn from(e: io::Error) -> Self {
        ReadFail::Io(e)
    }
}

/// The first read backwards from the end: enough for `-n 10` of typical logs.
const FIRST_BACK_STEP: usize = 8 * 1024;

/// How many first bytes of a regular file [`Reached::head`] keeps.
const HEAD_LEN: u64 = 64;

/// The first read of a stream: small, since many inputs (empty logs, /proc files) are tiny;
/// reads double while they come back full, up to a block.
const FIRST_STREAM_READ: usize = 4096;

fn grow(want: usize, got: usize) -> usize {
    if got == want { (want * 2).min(BLOCK) } else { want }
}

/// Where the initial output left the input: follow mode goes on from `offset`.
#[derive(Debug)]
pub(crate) struct Reached {
    /// Byte offset just past what was consumed.
    pub(crate) offset: u64,
    /// A regular file's first bytes as they were when its size was taken (follow mode compares
    /// them later to notice a rewrite that happened before it started watching).
    pub(crate) head: Vec<u8>,
    /// The last line read, when it has no delimiter yet and the run needs whole records: not
    /// sent. Following goes on with it; otherwise it is sent as the input's last record.
    pub(crate) partial: Partial,
}

/// Hands what the initial output reads to the sink: as it comes in a plain run, otherwise cut
/// into whole records, the unfinished last one kept.
struct Feed<'a> {
    sink: &'a Sink,
    source: SourceId,
    generation: Generation,
    partial: Partial,
}

impl Feed<'_> {
    /// Send `bytes` read at offset `at` (just after everything pushed before).
    fn push(&mut self, at: u64, bytes: Vec<u8>) -> Result<(), Stopped> {
        if self.sink.plain() {
            return self.sink.data(Batch::new(self.source, self.generation, at, bytes));
        }
        let (at, whole) = if self.partial.is_empty() {
            self.partial.cut(bytes, at, self.sink.delim())
        } else {
            let mut buf = self.sink.buffer();
            let start = self.partial.begin(&mut buf);
            buf.extend_from_slice(&bytes);
            self.partial.cut(buf, start, self.sink.delim())
        };
        self.sink.data(Batch::new(self.source, self.generation, at, whole))
    }

    /// Bytes `start..end` of a regular file: as a zero-copy range in a plain run, otherwise read
    /// in blocks (each after the unfinished line held, so nothing large is copied).
    fn range(&mut self, file: &Arc<File>, start: u64, end: u64, head: &[u8]) -> Result<(), ReadFail> {
        if self.sink.plain() {
            return Ok(self.sink.send(Msg::Range {
                source: self.source,
                file: Arc::clone(file),
                start,
                end,
                head: head.to_vec(),
            })?);
        }
        let mut pos = start;
        while pos < end {
            let mut buf = self.sink.buffer();
            let at = if self.partial.is_empty() { pos } else { self.partial.begin(&mut buf) };
            let want = (end - pos).min(BLOCK as u64) as usize;
            let got = read_append(file, &mut buf, want, Some(pos), false)?;
            if got == 0 {
                break;
            }
            pos += got as u64;
            let (at, whole) = self.partial.cut(buf, at, self.sink.delim());
            self.sink.data(Batch::new(self.source, self.generation, at, whole))?;
        }
        Ok(())
    }

    /// Where the initial output ended: at `offset`, with the unfinished line that ends there.
    fn reached(self, offset: u64, head: Vec<u8>) -> Reached {
        // Nothing held (all sent, none read, or a plain run): the next record starts at `offset`.
        let partial =
            if self.partial.is_empty() { Partial::resume(offset, Vec::new()) } else { self.partial };
        Reached { offset, head, partial }
    }
}

/// Finds where the last N lines start, fed blocks from the end of the data towards its start.
#[derive(Debug)]
pub(crate) struct BackScan {
    /// Delimiters still to pass before the wanted start.
    remaining: u64,
    delim: u8,
    /// No byte seen yet: a delimiter at the very end closes the last line, it does not start one.
    at_end: bool,
}

impl BackScan {
    /// `n` must be at least 1 (the caller handles "nothing").
    pub(crate) fn new(n: u64, delim: u8) -> BackScan {
        BackScan { remaining: n, delim, at_end: true }
    }

    /// Feed the block just before everything fed so far; returns the index in `block` where the
    /// last N lines start, once it is known.
    pub(crate) fn feed(&mut self, block: &[u8]) -> Option<usize> {
        let mut body = block;
        if self.at_end && !body.is_empty() {
            self.at_end = false;
            if body[body.len() - 1] == self.delim {
                body = &body[..body.len() - 1];
            }
        }
        // Counting a whole block at once is much faster than visiting every delimiter.
        let count = memchr_iter(self.delim, body).count() as u64;
        if count < self.remaining {
            self.remaining -= count;
            return None;
        }
        for pos in memrchr_iter(self.delim, body) {
            self.remaining -= 1;
            if self.remaining == 0 {
                return Some(pos + 1);
            }
        }
        None
    }
}

/// Skips the first N-1 units going forward; fed blocks in order.
#[derive(Debug)]
pub(crate) struct ForwardSkip {
    /// Units still to skip.
    remaining: u64,
    unit: Unit,
    delim: u8,
}

impl ForwardSkip {
    /// Start output at unit `n` (1-based; `n >= 1`).
    pub(crate) fn new(n: u64, unit: Unit, delim: u8) -> ForwardSkip {
        ForwardSkip { remaining: n.saturating_sub(1), unit, delim }
    }

    /// Feed the next block; returns the index in `block` where output starts, once reached.
    pub(crate) fn feed(&mut self, block: &[u8]) -> Option<usize> {
        if self.remaining == 0 {
            return Some(0);
        }
        match self.unit {
            Unit::Bytes => {
                let len = block.len() as u64;
                if len >= self.remaining {
                    let at = self.remaining as usize;
                    self.remaining = 0;
                    Some(at)
                } else {
                    self.remaining -= len;
                    None
                }
            }
            Unit::Lines => {
                for pos in memchr_iter(self.delim, block) {
                    self.remaining -= 1;
                    if self.remaining == 0 {
                        return Some(pos + 1);
                    }
                }
                None
            }
        }
    }
}

/// How many of its last `n` lines (`n >= 1`) `file` lacks: 0 when it has them all. A last
/// line without a delimiter counts, as everywhere.
fn lines_lacking(file: &File, n: u64, delim: u8) -> io::Result<u64> {
    let mut end = file.metadata()?.len();
    if end == 0 {
        return Ok(n);
    }
    let mut scan = BackScan::new(n, delim);
    let mut block = vec![0u8; BLOCK];
    while end > 0 {
        let start = end.saturating_sub(BLOCK as u64);
        let len = (end - start) as usize;
        let got = read_full_at(file, &mut block[..len], start)?;
        if scan.feed(&block[..got]).is_some() {
            return Ok(0);
        }
        end = start;
    }
    // Every delimiter passed, and the first line before them.
    Ok(scan.remaining.saturating_sub(1))
}

/// Rotated generations' chunks ([`history::Chunk`]) into the sink, each generation a source
/// of its own, numbered from `next_source` and named after its file (so that a header or a
/// JSON object says which one a line came from).
struct Generations<'a, 'n> {
    sink: &'a Sink,
    next_source: &'n mut SourceId,
    /// The generation being fed, by its path.
    feed: Option<(std::path::PathBuf, Feed<'a>)>,
    /// With `-n +K`: the lines still to skip before output starts.
    skip: Option<ForwardSkip>,
    /// `--since`: each generation starts at its first record at or after the time.
    since: bool,
}

impl<'a, 'n> Generations<'a, 'n> {
    fn new(next_source: &'n mut SourceId, sink: &'a Sink) -> Generations<'a, 'n> {
        Generations { sink, next_source, feed: None, skip: None, since: false }
    }

    fn emit(&mut self, chunk: history::Chunk<'_>) -> Result<(), Stopped> {
        use std::os::unix::ffi::OsStrExt;
        let sink = self.sink;
        if self.feed.as_ref().is_none_or(|(p, _)| *p != chunk.from.path) {
            let source = *self.next_source;
            *self.next_source += 1;
            let name = chunk.from.path.as_os_str().as_bytes().to_vec();
            sink.send(Msg::Name { source, name })?;
            if self.since {
                sink.shut_until_since(source);
            }
            sink.send(Msg::Header(source))?;
            let next = Feed { sink, source, generation: Generation::next(), partial: Partial::default() };
            if sink.numbers()
                && chunk.offset > 0
                && chunk.from.compression == history::Compression::Plain
                && let Ok(Some(file)) = history::open(chunk.from)
                && let Ok(before) = lines_before(&file, chunk.offset, sink.delim())
            {
                sink.number_from(source, next.generation, chunk.offset, before + 1);
            }
            self.feed = Some((chunk.from.path.clone(), next));
        }
        let Some((_, f)) = self.feed.as_mut() else { return Ok(()) };
        let mut bytes = chunk.bytes;
        let mut at = chunk.offset;
        if let Some(s) = self.skip.as_mut() {
            match s.feed(bytes) {
                Some(i) => {
                    bytes = &bytes[i..];
                    at += i as u64;
                    self.skip = None;
                }
                None => bytes = &[],
            }
        }
        if !bytes.is_empty() {
            f.push(at, bytes.to_vec())?;
        }
        if chunk.last {
            let (at, rest) = f.partial.take();
            sink.data(Batch::new(f.source, f.generation, at, rest))?;
        }
        Ok(())
    }
}

/// The whole of each of `rotated` (oldest first), as [`print_rotated`] prints generations:
/// for following, a generation that was rotated away before it could be read.
pub(crate) fn print_generations(
    rotated: &[history::Rotated],
    next_source: &mut SourceId,
    sink: &Sink,
) -> Result<history::Report, Stopped> {
    let mut feed = Generations::new(next_source, sink);
    history::all_lines(rotated, sink.delim(), |chunk| feed.emit(chunk))
}

/// `--history`: before `file`'s own lines, the lines it lacks of the last `count` lines,
/// taken from `rotated`, the generations of its name listed oldest first (`app.log.1`,
/// `app.log.2.gz`, …); with `-n +K`, every generation from the oldest, line K on. Without a
/// live `file` (its name is missing just now: rotated away and not yet created again) the
/// generations have all of the last `count` lines. Each generation read is a source of its
/// own, numbered from `next_source` and named after its file (so a header or a JSON object
/// says which one a line came from). Returns what reading them ran into, and the count the
/// live file itself is then printed with.
pub(crate) fn print_rotated(
    mut rotated: Vec<history::Rotated>,
    file: Option<&File>,
    count: Count,
    next_source: &mut SourceId,
    sink: &Sink,
) -> Result<(history::Report, Count), ReadFail> {
    let delim = sink.delim();
    if count.is_nothing() {
        return Ok((history::Report::default(), count));
    }
    if let Some(when) = sink.since()
        && count.from_start
    {
        since_generations(&mut rotated, file, when, delim)?;
    }
    if rotated.is_empty() {
        return Ok((history::Report::default(), count));
    }
    let mut feed = Generations::new(next_source, sink);
    feed.skip = count.from_start.then(|| ForwardSkip::new(count.n, Unit::Lines, delim));
    feed.since = sink.since().is_some();
    let mut emit = |chunk: history::Chunk<'_>| feed.emit(chunk);
    let report = if count.from_start {
        history::all_lines(&rotated, delim, &mut emit)?
    } else {
        let lacking = match file {
            Some(file) => lines_lacking(file, count.n, delim)?,
            None => count.n,
        };
        if lacking == 0 {
            return Ok((history::Report::default(), count));
        }
        history::last_lines(&rotated, lacking, delim, &mut emit)?
    };
    let live = match &feed.skip {
        // Line K is still to come: in the live file, after the lines the generations had.
        Some(s) => Count { n: s.remaining + 1, ..count },
        None if count.from_start => Count { n: 1, ..count },
        None => count,
    };
    Ok((report, live))
}

/// `--since` with `--history`: keep of `rotated` (oldest first) the generations that may hold
/// records at or after `when`: from the newest one that starts before it; none when the live
/// `file` starts before it.
pub(crate) fn since_generations(
    rotated: &mut Vec<history::Rotated>,
    file: Option<&File>,
    when: Stamp,
    delim: u8,
) -> io::Result<()> {
    if let Some(file) = file {
        let mut first = vec![0u8; DETECT_LEN as usize];
        let got = read_full_at(file, &mut first, 0)?;
        if since::first_stamp(&first[..got], delim).is_some_and(|s| s < when) {
            rotated.clear();
            return Ok(());
        }
    }
    let before = rotated.iter().rposition(|rot| {
        let head = history::head(rot, DETECT_LEN as usize).unwrap_or_default();
        since::first_stamp(&head, delim).is_some_and(|s| s < when)
    });
    rotated.drain(..before.unwrap_or(0));
    Ok(())
}

/// `--number`: how many lines end before `end` in `file` (its delimiters there).
fn lines_before(file: &File, end: u64, delim: u8) -> io::Result<u64> {
    let mut block = vec![0u8; BLOCK];
    let (mut pos, mut lines) = (0, 0);
    while pos < end {
        let want = (end - pos).min(BLOCK as u64) as usize;
        let got = read_full_at(file, &mut block[..want], pos)?;
        if got == 0 {
            break;
        }
        lines += memchr_iter(delim, &block[..got]).count() as u64;
        pos += got as u64;
    }
    Ok(lines)
}

/// Read at most `max` bytes into `buf` (replacing its contents), retrying on EINTR.
fn read_up_to(file: &File, buf: &mut Vec<u8>, max: usize) -> io::Result<usize> {
    buf.clear();
    read_append(file, buf, max, None, false)
}

/// Print the initial part of `file` for `source` (read as `generation`) as `count` asks.
pub(crate) fn print_initial(
    file: &Arc<File>,
    count: Count,
    source: SourceId,
    generation: Generation,
    sink: &Sink,
) -> Result<Reached, ReadFail> {
    let delim = sink.delim();
    let mut feed = Feed { sink, source, generation, partial: Partial::default() };
    let meta = file.metadata()?;
    let kind = meta.file_type();
    if kind.is_dir() {
        return Err(ReadFail::Io(io::Error::from_raw_os_error(libc::EISDIR)));
    }
    if kind.is_file() {
        let lo = (&**file).stream_position()?;
        let hi = meta.len();
        if hi > lo {
            // Take the file's first bytes with its size, before the output (which may wait on
            // a full channel): a rewrite after this is seen by follow mode as one.
            let mut head = vec![0u8; hi.min(HEAD_LEN) as usize];
            let n = read_full_at(file, &mut head, 0)?;
            head.truncate(n);
            if sink.wants_stamps() {
                let mut first = vec![0u8; hi.min(DETECT_LEN) as usize];
                let n = read_full_at(file, &mut first, 0)?;
                sink.prime_stamps(source, &first[..n]);
            }
            let start = output_start(file, lo, hi, count, source, sink)?;
            if sink.numbers() {
                sink.number_from(source, generation, start, lines_before(file, start, delim)? + 1);
            }
            if start < hi {
                feed.range(file, start, hi, &head)?;
            }
            (&**file).seek(SeekFrom::Start(hi))?;
            return Ok(feed.reached(hi, head));
        }
        // Empty, or a file whose size says nothing (/proc): read it as a stream. (Under
        // --since, whatever comes is new.)
        return stream(file, count, delim, feed, lo);
    }
    // A pipe cannot be searched for --since: its records go through the sink's gate.
    sink.shut_until_since(source);
    if kind.is_char_device() && count.unit == Unit::Bytes && !count.from_start {
        // A device such as /dev/zero never ends; GNU takes its last N bytes as "N bytes from a
        // seek to N before its end", which terminates. Devices that cannot seek are streamed.
        if let Ok(offset) = i64::try_from(count.n)
            && (&**file).seek(SeekFrom::End(-offset)).is_ok()
        {
            let at = (&**file).stream_position().unwrap_or(0);
            return read_exactly(file, count.n, feed, at);
        }
    }
    stream(file, count, delim, feed, 0)
}

/// Offset in `lo..hi` of a regular file where the output `count` asks for starts (in records
/// with `--multiline`): with `--since`, among the records from the first one stamped at or
/// after its time (a file without stamps: nothing, and the sink is told).
pub(crate) fn output_start(
    file: &File,
    lo: u64,
    hi: u64,
    count: Count,
    source: SourceId,
    sink: &Sink,
) -> io::Result<u64> {
    let lo = match sink.since() {
        None => lo,
        Some(_) if lo >= hi => return Ok(hi),
        Some(when) => match since_start(file, hi, when, sink.delim())? {
            Some(at) => at.max(lo),
            None => {
                sink.has_no_stamps(source);
                return Ok(hi);
            }
        },
    };
    if sink.since().is_some() && count.from_start {
        // Everything from there (-n +K is not taken with --since).
        return Ok(lo);
    }
    match sink.multiline() {
        Some(multiline) if count.unit == Unit::Lines && count.n > 0 => {
            records_start(file, lo, hi, count, sink.delim(), multiline)
        }
        _ => seekable_start(file, lo, hi, count, sink.delim()),
    }
}

/// Offset in `lo..hi` of a regular file where the wanted output starts.
fn seekable_start(file: &File, lo: u64, hi: u64, count: Count, delim: u8) -> io::Result<u64> {
    match (count.unit, count.from_start) {
        (_, false) if count.n == 0 => Ok(hi),
        (Unit::Bytes, false) => Ok(hi.saturating_sub(count.n).max(lo)),
        (Unit::Bytes, true) => Ok(lo.saturating_add(count.n - 1).min(hi)),
        (Unit::Lines, false) => last_lines_start(file, lo, hi, count.n, delim),
        (Unit::Lines, true) => {
            let mut skip = ForwardSkip::new(count.n, Unit::Lines, delim);
            let mut block = vec![0u8; BLOCK];
            let mut pos = lo;
            while pos < hi {
                let want = (hi - pos).min(BLOCK as u64) as usize;
                let got = read_full_at(file, &mut block[..want], pos)?;
                if got == 0 {
                    break;
                }
                if let Some(at) = skip.feed(&block[..got]) {
                    return Ok(pos + at as u64);
                }
                pos += got as u64;
            }
            Ok(hi)
        }
    }
}

/// `--since`: where in `..hi` of a regular file the first record stamped at or after `when`
/// starts (`hi` when none is); `None` when the file has no timestamps to search by.
fn since_start(file: &File, hi: u64, when: Stamp, delim: u8) -> io::Result<Option<u64>> {
    let Some(format) = since::detect(file, delim)? else {
        return Ok(None);
    };
    let mut parser = crate::stamp::Parser::new(format, Stamp::now(), jiff::tz::TimeZone::system());
    Ok(Some(match since::find(file, hi, when, &mut parser, delim)? {
        Since::At(at) => at,
        Since::NothingAfter => hi,
    }))
}

/// How much of a file's start is shown to the timestamp detector.
const DETECT_LEN: u64 = 64 << 10;

/// `--multiline`: where the output starts when `-n` counts records: at the start of the last N
/// records, or of the Kth (`-n +K`). Lines are read in a window that grows (from the end, or
/// from the start) until it holds enough record starts, up to [`MAX_RECORD_LINES`] lines a
/// record; the window's lines also tell the file's timestamp layout.
fn records_start(
    file: &File,
    lo: u64,
    hi: u64,
    count: Count,
    delim: u8,
    multiline: &Multiline,
) -> io::Result<u64> {
    let n = count.n;
    let limit = n.saturating_mul(MAX_RECORD_LINES as u64);
    let mut lines = n.saturating_mul(8).max(64);
    loop {
        lines = lines.min(limit.max(1));
        let (begin, end) = if count.from_start {
            let mut skip = ForwardSkip::new(lines.saturating_add(1), Unit::Lines, delim);
            (lo, forward_end(file, lo, hi, &mut skip)?)
        } else {
            (last_lines_start(file, lo, hi, lines, delim)?, hi)
        };
        let mut window = vec![0u8; usize::try_from(end - begin).unwrap_or(usize::MAX)];
        let got = read_full_at(file, &mut window, begin)?;
        window.truncate(got);
        let mut stamper = Stamper::for_records(Stamp::now(), jiff::tz::TimeZone::system());
        let mut starts = record_starts(&window, delim, multiline, &mut stamper);
        if begin == lo && starts.first() != Some(&0) && !window.is_empty() {
            // Lines before the first record start are a record of their own (as when grouped).
            starts.insert(0, 0);
        }
        let whole = if count.from_start { end >= hi } else { begin <= lo };
        let have = starts.len() as u64;
        if have >= n || whole || lines >= limit {
            let at = if count.from_start {
                // The Kth record (from 1); fewer: nothing.
                match usize::try_from(n - 1).ok().and_then(|k| starts.get(k)) {
                    Some(&at) => begin + at as u64,
                    None if whole => hi,
                    None => begin + window.len() as u64,
                }
            } else if have >= n {
                begin + starts[(have - n) as usize] as u64
            } else {
                // Fewer records than asked for: everything in the window (a first record
                // without its start line included).
                begin
            };
            return Ok(at);
        }
        lines = lines.saturating_mul(4);
    }
}

/// Where `skip` ends reading forward from `lo` (at most `hi`).
fn forward_end(file: &File, lo: u64, hi: u64, skip: &mut ForwardSkip) -> io::Result<u64> {
    let mut block = vec![0u8; BLOCK];
    let mut pos = lo;
    while pos < hi {
        let want = (hi - pos).min(BLOCK as u64) as usize;
        let got = read_full_at(file, &mut block[..want], pos)?;
        if got == 0 {
            break;
        }
        if let Some(at) = skip.feed(&block[..got]) {
            return Ok(pos + at as u64);
        }
        pos += got as u64;
    }
    Ok(hi)
}

/// Start of the last `n` lines (`n >= 1`) of `lo..hi`, reading backwards in blocks.
pub(crate) fn last_lines_start(file: &File, lo: u64, hi: u64, n: u64, delim: u8) -> io::Result<u64> {
    let mut scan = BackScan::new(n, delim);
    let mut block = vec![0u8; BLOCK];
    // Start small (the last 10 lines are usually within a few KiB), then grow to full blocks.
    let mut step = FIRST_BACK_STEP;
    let mut end = hi;
    while end > lo {
        let begin = end.saturating_sub(step as u64).max(lo);
        step = (step * 4).min(BLOCK);
        let len = (end - begin) as usize;
        let got = read_full_at(file, &mut block[..len], begin)?;
        if got < len {
            // The file shrank under us: what is left of it starts at `lo`.
            return Ok(lo);
        }
        if let Some(at) = scan.feed(&block[..len]) {
            return Ok(begin + at as u64);
        }
        end = begin;
    }
    Ok(lo)
}

/// Read exactly `n` bytes (or to end of input), the first at offset `at`, and print them.
fn read_exactly(file: &File, n: u64, mut feed: Feed<'_>, at: u64) -> Result<Reached, ReadFail> {
    let mut left = n;
    while left > 0 {
        let mut buf = feed.sink.buffer();
        let got = read_up_to(file, &mut buf, BLOCK)? as u64;
        if got == 0 {
            break;
        }
        buf.truncate(got.min(left) as usize);
        let pos = at + (n - left);
        left -= buf.len() as u64;
        feed.push(pos, buf)?;
    }
    Ok(feed.reached(n - left, Vec::new()))
}

/// Stream input that cannot be read backwards, keeping only what the count needs.
fn stream(file: &File, count: Count, delim: u8, mut feed: Feed<'_>, base: u64) -> Result<Reached, ReadFail> {
    let mut consumed = base;
    // The first bytes read, for follow mode to tell a rewrite by (a regular file that was
    // empty when looked at, /proc); a pipe's are never looked at.
    let mut head = Vec::new();
    if count.from_start {
        let mut skip = ForwardSkip::new(count.n, count.unit, delim);
        let mut want = FIRST_STREAM_READ;
        let mut numbered = false;
        loop {
            // A pipe may not have more for a long while: what came so far goes out first.
            feed.sink.flush()?;
            let mut buf = feed.sink.buffer();
            let got = read_up_to(file, &mut buf, want)?;
            want = grow(want, got);
            if got == 0 {
                return Ok(feed.reached(consumed, head));
            }
            let read_at = consumed;
            consumed += got as u64;
            keep_head(&mut head, read_at, &buf);
            if let Some(at) = skip.feed(&buf) {
                if !numbered && count.unit == Unit::Lines {
                    // Output starts at line N.
                    feed.sink.number_from(feed.source, feed.generation, read_at + at as u64, count.n);
                    numbered = true;
                }
                if at > 0 {
                    buf.drain(..at);
                }
                if !buf.is_empty() {
                    feed.push(read_at + at as u64, buf)?;
                }
            }
        }
    }
    // Last N units: keep blocks (with their offsets) while the ones after the first still hold
    // fewer than needed.
    let mut kept: VecDeque<(Vec<u8>, u64, u64)> = VecDeque::new();
    let mut total: u64 = 0;
    // Units in the blocks let go (lines: their delimiters, for --number).
    let mut dropped: u64 = 0;
    let measure = |b: &[u8]| match count.unit {
        Unit::Lines => memchr_iter(delim, b).count() as u64,
        Unit::Bytes => b.len() as u64,
    };
    // For lines, a block may go once the rest holds more than N delimiters (one of them may
    // close the last line); for bytes, once the rest holds N bytes.
    let needed = match count.unit {
        Unit::Lines => count.n.saturating_add(1),
        Unit::Bytes => count.n,
    };
    let mut want = FIRST_STREAM_READ;
    loop {
        let mut buf = Vec::new();
        let got = read_up_to(file, &mut buf, want)?;
        want = grow(want, got);
        if got == 0 {
            break;
        }
        let read_at = consumed;
        consumed += got as u64;
        keep_head(&mut head, read_at, &buf);
        if count.n == 0 {
            continue;
        }
        let units = measure(&buf);
        total += units;
        kept.push_back((buf, units, read_at));
        while let Some((_, first, _)) = kept.front() {
            if kept.len() > 1 && total - first >= needed {
                total -= first;
                dropped += first;
                kept.pop_front();
            } else {
                break;
            }
        }
    }
    if count.n == 0 || kept.is_empty() {
        return Ok(feed.reached(consumed, head));
    }
    let (first_block, first_at) = match count.unit {
        Unit::Bytes => {
            let len: u64 = kept.iter().map(|(b, _, _)| b.len() as u64).sum();
            let mut skip = len.saturating_sub(count.n);
            let mut index = 0;
            while skip >= kept[index].0.len() as u64 {
                skip -= kept[index].0.len() as u64;
                index += 1;
            }
            (index, skip as usize)
        }
        Unit::Lines => {
            let mut scan = BackScan::new(count.n, delim);
            let mut found = (0, 0);
            for index in (0..kept.len()).rev() {
                if let Some(at) = scan.feed(&kept[index].0) {
                    found = (index, at);
                    break;
                }
            }
            found
        }
    };
    if count.unit == Unit::Lines && feed.sink.numbers() {
        let before: u64 = kept.iter().take(first_block).map(|(_, units, _)| units).sum::<u64>()
            + memchr_iter(delim, &kept[first_block].0[..first_at]).count() as u64;
        let at = kept[first_block].2 + first_at as u64;
        feed.sink.number_from(feed.source, feed.generation, at, dropped + before + 1);
    }
    for (index, (mut bytes, _, mut at)) in kept.into_iter().enumerate().skip(first_block) {
        if index == first_block {
            bytes.drain(..first_at);
            at += first_at as u64;
        }
        if !bytes.is_empty() {
            feed.push(at, bytes)?;
        }
    }
    Ok(feed.reached(consumed, head))
}

/// Add to `head` (the input's first bytes, up to [`HEAD_LEN`]) from `bytes`, read at `at`.
fn keep_head(head: &mut Vec<u8>, at: u64, bytes: &[u8]) {
    if head.len() as u64 == at && at < HEAD_LEN {
        let take = (HEAD_LEN - at).min(bytes.len() as u64) as usize;
        head.extend_from_slice(&bytes[..take]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Run BackScan over `data` cut into blocks of `block` bytes; returns the start offset.
    fn back_start(data: &[u8], n: u64, block: usize) -> usize {
        let mut scan = BackScan::new(n, b'\n');
        let mut end = data.len();
        while end > 0 {
            let begin = end.saturating_sub(block);
            if let Some(at) = scan.feed(&data[begin..end]) {
                return begin + at;
            }
            end = begin;
        }
        0
    }

    #[test]
    fn back_scan_counts_lines_from_the_end() {
        let data = b"a\nb\nc\n";
        for block in 1..=7 {
            assert_eq!(back_start(data, 1, block), 4, "block {block}");
            assert_eq!(back_start(data, 2, block), 2, "block {block}");
            assert_eq!(back_start(data, 3, block), 0, "block {block}");
            assert_eq!(back_start(data, 99, block), 0, "block {block}");
        }
    }

    #[test]
    fn back_scan_counts_an_unterminated_last_line() {
        let data = b"a\nb\nc";
        for block in 1..=6 {
            assert_eq!(back_start(data, 1, block), 4, "block {block}");
            assert_eq!(back_start(data, 2, block), 2, "block {block}");
        }
    }

    #[test]
    fn back_scan_with_only_delimiters() {
        let data = b"\n\n\n";
        for block in 1..=4 {
            assert_eq!(back_start(data, 1, block), 2);
            assert_eq!(back_start(data, 3, block), 0);
        }
    }

    #[test]
    fn back_scan_skips_empty_blocks_at_the_end() {
        let mut scan = BackScan::new(1, b'\n');
        assert_eq!(scan.feed(b""), None);
        assert_eq!(scan.feed(b"x\ny\n"), Some(2));
    }

    #[test]
    fn forward_skip_lines_across_blocks() {
        let data = b"1\n2\n3\n4\n";
        for block in 1..=9 {
            let mut skip = ForwardSkip::new(3, Unit::Lines, b'\n');
            let mut found = None;
            for (i, chunk) in data.chunks(block).enumerate() {
                if let Some(at) = skip.feed(chunk) {
                    found = Some(i * block + at);
                    break;
                }
            }
            assert_eq!(found, Some(4), "block {block}");
        }
    }

    #[test]
    fn forward_skip_bytes_and_first_unit() {
        let mut skip = ForwardSkip::new(1, Unit::Bytes, b'\n');
        assert_eq!(skip.feed(b"abc"), Some(0));
        let mut skip = ForwardSkip::new(3, Unit::Bytes, b'\n');
        assert_eq!(skip.feed(b"a"), None);
        assert_eq!(skip.feed(b"bcd"), Some(1));
        let mut skip = ForwardSkip::new(u64::MAX, Unit::Lines, b'\n');
        assert_eq!(skip.feed(b"a\nb\n"), None);
    }

    fn temp_file(data: &[u8]) -> File {
        use std::io::Write;
        let mut f = tempfile::tempfile().expect("temp file");
        f.write_all(data).expect("write");
        f
    }

    #[test]
    fn last_lines_start_at_block_edges() {
        // Lines of 100 bytes so block boundaries fall at every position in turn.
        let line = [b'x'; 99];
        let mut data = Vec::new();
        for _ in 0..5000 {
            data.extend_from_slice(&line);
            data.push(b'\n');
        }
        let f = temp_file(&data);
        let len = data.len() as u64;
        for n in [1u64, 2, 1310, 1311, 1312, 4999, 5000, 5001] {
            let want = len.saturating_sub(n * 100);
            assert_eq!(last_lines_start(&f, 0, len, n, b'\n').expect("scan"), want, "n={n}");
        }
        // Respect a lower bound (inherited offset).
        assert_eq!(last_lines_start(&f, 250, len, 9999, b'\n').expect("scan"), 250);
    }

    /// A regular file read as a stream (it was empty when looked at, and written before the
    /// read) still hands follow mode its first bytes: without them a later rewrite could not be
    /// told, and the file would be read on from the middle of its new content.
    #[test]
    fn a_file_read_as_a_stream_still_hands_over_its_first_bytes() {
        let data: Vec<u8> = (0..20).flat_map(|i| format!("line {i:>4}\n").into_bytes()).collect();
        let counts = [
            Count { unit: Unit::Lines, n: 1, from_start: true },
            Count { unit: Unit::Lines, n: 3, from_start: false },
            Count { unit: Unit::Lines, n: 0, from_start: false },
        ];
        for count in counts {
            let file = temp_file(&data);
            (&file).seek(SeekFrom::Start(0)).expect("rewind");
            let shaping = crate::pipeline::Shaping {
                filter: None,
                plain: false,
                delim: b'\n',
                stamps: false,
                multiline: None,
                merge_window: None,
                since: None,
                numbers: false,
            };
            let (sink, _rx) = crate::pipeline::channel(crate::pipeline::Shutdown::new(), shaping);
            let feed =
                Feed { sink: &sink, source: 0, generation: Generation::next(), partial: Partial::default() };
            // The channel holds all of this test's few messages.
            let Ok(reached) = stream(&file, count, b'\n', feed, 0) else { panic!("stream failed") };
            assert_eq!(reached.offset, data.len() as u64, "{count:?}");
            assert_eq!(reached.head, data[..HEAD_LEN as usize], "{count:?}");
        }
    }

    #[test]
    fn last_lines_start_without_delimiter_at_the_end() {
        let f = temp_file(b"one\ntwo\nthree");
        assert_eq!(last_lines_start(&f, 0, 13, 1, b'\n').expect("scan"), 8);
        assert_eq!(last_lines_start(&f, 0, 13, 2, b'\n').expect("scan"), 4);
        let f = temp_file(b"single line no newline");
        assert_eq!(last_lines_start(&f, 0, 22, 1, b'\n').expect("scan"), 0);
    }
}
