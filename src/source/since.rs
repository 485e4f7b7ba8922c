//! Where, in a log file, the first record at or after a time starts (`rtail --since WHEN`).
//!
//! This module owns two questions about one regular file: which stamp layout it uses
//! ([`detect`], from its first 64 KiB), and at which byte offset the first record whose stamp is
//! at or after `when` starts ([`find`]). It reads with positional reads only (the file's offset
//! is not moved) and never prints; what a stamp is, and what time it says, is
//! [`crate::stamp`]'s business.
//!
//! **Records.** A line is the bytes up to and including a delimiter (`\n`, or NUL for `-z`); a
//! last line without one still counts. A line is *stamped* when the [`Parser`] gets a stamp from
//! it; a record is a stamped line and the unstamped lines after it (a Python traceback, a
//! wrapped message). [`find`] answers with the start of a stamped line, or 0 when the first
//! stamped line of the file is already at or after `when` (the unstamped lines before it, which
//! have no time of their own, go out with it). Lines longer than [`LINE_CAP`] are judged by their
//! first `LINE_CAP` bytes: a JSON line longer than that has no stamp here.
//!
//! **The search.** A probe at a byte offset skips to just after the next delimiter and takes the
//! first stamped line from there, among the lines starting within 256 KiB: unstamped lines are
//! continuations, skipped, and a probe that finds no stamped line there (in a long line, or a
//! long run of unstamped ones) tells nothing, so the search looks to the left of it. The first
//! probe is near the end (a `--since 10m` usually ends there at once), then the window is halved
//! until it is at most 64 KiB, and the lines are read forward from its start to the first stamp
//! at or after `when`. Equal stamps: the first of them. Nothing at or after `when`:
//! [`Since::NothingAfter`].
//!
//! **Files a little out of order** (several processes writing one file): the search looks for
//! stamps earlier than `when` minus [`SKEW`] (5 seconds), and reads forward from the last one it
//! found. The guarantee: *on a file where no stamp is more than 5 seconds earlier than any stamp
//! on a line before it, the answer is exactly the first record whose stamp is at or after
//! `when`.* (A line earlier than `when - 5 s` proves that no line before it is at or after
//! `when`, or it would be more than 5 seconds out of order.) On any file, the answer is never a
//! record earlier than `when`; on a file more out of order than that, records at or after
//! `when` before the answer may be missed (and the answer may be [`Since::NothingAfter`]).
//!
//! **The cost.** About log2(size / 64 KiB) + 1 probes, each normally one read of 16 KiB (up to
//! 256 KiB in a long line or a long run of unstamped lines), then one forward read of the last
//! window and of the lines stamped in the 5 seconds before `when`: for a 4 GiB file about 20
//! reads, well under a megabyte unless the log writes megabytes a second. [`find_counted`]
//! counts them. The parser's state (syslog's year, the side of a fold) follows the probes: on a
//! file larger than the window the first one, near the end, fixes a syslog year from "now", and
//! every later stamp's year follows from the one before.

use std::fs::File;
use std::io;

use memchr::memchr;

use super::read::{LINE_CAP, read_full_at};
use crate::stamp::{Detector, Format, Parser, Stamp};

/// How much earlier than a stamp before it a stamp may be and [`find`] still be exact: 5 s.
pub(crate) const SKEW: std::time::Duration = std::time::Duration::from_secs(5);
const SKEW_NANOS: i64 = SKEW.as_nanos() as i64;

/// Where printing starts for `--since`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Since {
    /// The offset of the first byte of the first record at or after `when` (0 when that is the
    /// file's first stamped line: the unstamped lines before it go with it).
    At(u64),
    /// Every record is earlier: print nothing; following goes on from the end (the `size`
    /// searched).
    NothingAfter,
}

/// What a search cost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Stats {
    /// Positional reads made.
    pub(crate) reads: u32,
    /// Bytes they returned.
    pub(crate) bytes: u64,
    /// Probes made during the binary search.
    pub(crate) probes: u32,
}

/// The search's sizes; tests shrink them to reach every path with small files.
#[derive(Clone, Copy, Debug)]
struct Tuning {
    /// The binary search stops at a window this small (bytes).
    window: u64,
    /// A probe's first read.
    probe_block: usize,
    /// The forward scan's first read.
    scan_block: usize,
    /// Reads grow fourfold while one probe or scan goes on, up to this.
    max_block: usize,
    /// A probe looks at the lines starting within this many bytes of where it lands.
    span: u64,
    /// A line is judged by this many first bytes.
    head_cap: usize,
}

const TUNING: Tuning = Tuning {
    window: 64 * 1024,
    probe_block: 16 * 1024,
    scan_block: 64 * 1024,
    max_block: 1024 * 1024,
    span: 256 * 1024,
    head_cap: LINE_CAP,
};

/// The stamp layout of a regular file, from its first lines (at most 64 lines or 64 KiB, as
/// [`Detector`] takes them); `None` when it has no stamps `--since` can use. Reads the file's
/// size from its metadata: a pipe has none.
pub(crate) fn detect(file: &File, delim: u8) -> io::Result<Option<Format>> {
    let size = file.metadata()?.len();
    let mut stats = Stats::default();
    let mut cursor = Cursor::new(file, size, delim, &TUNING, &mut stats);
    cursor.seek(0, TUNING.scan_block, u64::MAX);
    let mut detector = Detector::new();
    while detector.wants_more() && cursor.next_line()?.is_some() {
        detector.feed(cursor.head());
    }
    Ok(detector.decide())
}

/// The stamp of the first stamped line of `bytes` (a file's first bytes: its layout is
/// detected from them; the last line, perhaps cut, is left out).
pub(crate) fn first_stamp(bytes: &[u8], delim: u8) -> Option<Stamp> {
    let whole = memchr::memrchr(delim, bytes).map_or(&bytes[..0], |i| &bytes[..i]);
    let mut detector = Detector::new();
    for line in whole.split(|&b| b == delim) {
        if !detector.feed(line) {
            break;
        }
    }
    let mut parser = Parser::new(detector.decide()?, Stamp::now(), jiff::tz::TimeZone::system());
    whole.split(|&b| b == delim).find_map(|line| parser.parse(line))
}

/// Where the first record of `file`'s first `size` bytes whose stamp is at or after `when`
/// starts; see the module's documentation for the rule, the guarantee and the cost. `parser`
/// is in the layout [`detect`] found.
pub(crate) fn find(file: &File, size: u64, when: Stamp, parser: &mut Parser, delim: u8) -> io::Result<Since> {
    find_counted(file, size, when, parser, delim, &mut Stats::default())
}

/// [`find`], adding what it cost to `stats`.
pub(crate) fn find_counted(
    file: &File,
    size: u64,
    when: Stamp,
    parser: &mut Parser,
    delim: u8,
    stats: &mut Stats,
) -> io::Result<Since> {
    find_tuned(file, size, when, parser, delim, &TUNING, stats)
}

fn find_tuned(
    file: &File,
    size: u64,
    when: Stamp,
    parser: &mut Parser,
    delim: u8,
    tuning: &Tuning,
    stats: &mut Stats,
) -> io::Result<Since> {
    let early = Stamp::from_nanos(when.as_nanos().saturating_sub(SKEW_NANOS));
    let mut cursor = Cursor::new(file, size, delim, tuning, stats);
    // `lo` is 0 or the start of a stamped line earlier than `early`: no line before it is at or
    // after `when` (see the guarantee). `hi` only says where to look next: the answer may lie
    // beyond it (on an unsorted file, or after a probe that found nothing), and the scan goes on.
    let (mut lo, mut hi) = (0, size);
    let mut next = (size > tuning.window).then(|| size - tuning.window);
    while let Some(at) = next {
        // Nothing stamped between `at` and `hi` (or not soon enough) is as good as a late stamp:
        // look to the left.
        match cursor.probe(at, hi, parser)? {
            // A probe's line starts at or after `at`, which is past `lo`.
            Some((start, stamp)) if stamp < early => lo = start,
            _ => hi = at,
        }
        next = (hi > lo && hi - lo > tuning.window).then(|| lo + (hi - lo) / 2);
    }
    cursor.seek(lo, tuning.scan_block, u64::MAX);
    let mut stamped_before = lo > 0;
    while let Some(start) = cursor.next_line()? {
        if let Some(stamp) = parser.parse(cursor.head()) {
            if stamp >= when {
                return Ok(Since::At(if stamped_before { start } else { 0 }));
            }
            stamped_before = true;
        }
    }
    Ok(Since::NothingAfter)
}

/// Where the current line's first bytes are.
#[derive(Clone, Copy, Debug)]
enum Head {
    /// `buf[from..to]`.
    Buf(usize, usize),
    /// `long`: the line was longer than the buffer may hold.
    Long,
}

/// Lines forward from an offset, by positional reads of growing size, within `size` bytes.
struct Cursor<'a> {
    file: &'a File,
    /// Where the file ends for this search; lowered if a read finds it shorter.
    file_size: u64,
    /// Where reading ends since the last seek: `file_size`, or less when a long line's end is
    /// not wanted (see `stop`).
    size: u64,
    /// Reading on to a long line's end stops at this offset: the lines after it are not wanted.
    stop: u64,
    delim: u8,
    tuning: &'a Tuning,
    stats: &'a mut Stats,
    /// Bytes of the file from `base` on; `buf[next..]` holds no complete line.
    buf: Vec<u8>,
    /// The offset of `buf[0]`.
    base: u64,
    /// Where the next line starts in `buf`.
    next: usize,
    /// The size of the next read.
    block: usize,
    head: Head,
    /// The first `head_cap` bytes of a line longer than that.
    long: Vec<u8>,
}

impl<'a> Cursor<'a> {
    fn new(file: &'a File, size: u64, delim: u8, tuning: &'a Tuning, stats: &'a mut Stats) -> Cursor<'a> {
        Cursor {
            file,
            file_size: size,
            size,
            stop: u64::MAX,
            delim,
            tuning,
            stats,
            buf: Vec::new(),
            base: 0,
            next: 0,
            block: tuning.scan_block,
            head: Head::Buf(0, 0),
            long: Vec::new(),
        }
    }

    /// The next line will be the one starting at `at` (which the caller knows to be a line's
    /// start, or wants to skip to the next); reads start at `block` bytes, and lines starting
    /// after `stop` may be left unread.
    fn seek(&mut self, at: u64, block: usize, stop: u64) {
        self.stop = stop;
        self.size = self.file_size;
        self.buf.clear();
        self.base = at;
        self.next = 0;
        self.block = block;
        self.head = Head::Buf(0, 0);
    }

    /// The current line's first bytes (at most `head_cap`), without its delimiter.
    fn head(&self) -> &[u8] {
        match self.head {
            Head::Buf(from, to) => &self.buf[from..to],
            Head::Long => &self.long,
        }
    }

    /// Appends the next read to `buf`. False at the end.
    fn fill(&mut self) -> io::Result<bool> {
        let pos = self.base + self.buf.len() as u64;
        if pos >= self.size {
            return Ok(false);
        }
        let want = usize::try_from(self.size - pos).unwrap_or(usize::MAX).min(self.block);
        let old = self.buf.len();
        self.buf.resize(old + want, 0);
        let got = read_full_at(self.file, &mut self.buf[old..], pos)?;
        self.buf.truncate(old + got);
        self.stats.reads += 1;
        self.stats.bytes += got as u64;
        // Quadrupled: a long line or a long scan takes few reads.
        self.block = (self.block * 4).min(self.tuning.max_block);
        if got < want {
            // Shorter than the caller said (truncated meanwhile): it ends here.
            self.size = pos + got as u64;
            self.file_size = self.size;
        }
        Ok(got > 0)
    }

    /// The next line's start, if there is one; [`Cursor::head`] then gives its first bytes.
    fn next_line(&mut self) -> io::Result<Option<u64>> {
        let cap = self.tuning.head_cap;
        loop {
            let rest = &self.buf[self.next..];
            if let Some(i) = memchr(self.delim, rest) {
                let from = self.next;
                self.head = Head::Buf(from, from + i.min(cap));
                self.next = from + i + 1;
                return Ok(Some(self.base + from as u64));
            }
            if rest.len() >= cap {
                return self.long_line().map(Some);
            }
            if self.next > 0 {
                self.buf.drain(..self.next);
                self.base += self.next as u64;
                self.next = 0;
            }
            if !self.fill()? {
                // The end: a last line without its delimiter still counts.
                if self.buf.is_empty() {
                    return Ok(None);
                }
                let len = self.buf.len();
                self.head = Head::Buf(0, len);
                self.next = len;
                return Ok(Some(self.base));
            }
        }
    }

    /// `buf[next..]` is the start of a line at least `head_cap` long, with no delimiter yet:
    /// keep its head aside and read on to its end (or to `stop`: then it is the last line).
    fn long_line(&mut self) -> io::Result<u64> {
        let start = self.base + self.next as u64;
        self.long.clear();
        self.long.extend_from_slice(&self.buf[self.next..self.next + self.tuning.head_cap]);
        self.head = Head::Long;
        loop {
            self.base += self.buf.len() as u64;
            self.buf.clear();
            self.next = 0;
            if self.base >= self.stop {
                self.size = self.size.min(self.base);
            }
            if !self.fill()? {
                return Ok(start);
            }
            if let Some(i) = memchr(self.delim, &self.buf) {
                self.next = i + 1;
                return Ok(start);
            }
        }
    }

    /// Moves past the next delimiter; false if there is none before `stop` (or the end).
    fn skip_to_next_line(&mut self) -> io::Result<bool> {
        loop {
            if let Some(i) = memchr(self.delim, &self.buf[self.next..]) {
                self.next += i + 1;
                return Ok(true);
            }
            self.base += self.buf.len() as u64;
            self.buf.clear();
            self.next = 0;
            if self.base >= self.stop || !self.fill()? {
                return Ok(false);
            }
        }
    }

    /// The first stamped line starting at or after `at` (after the next delimiter, unless `at`
    /// is 0), before `hi` and within `span` bytes of `at`: its start and stamp.
    fn probe(&mut self, at: u64, hi: u64, parser: &mut Parser) -> io::Result<Option<(u64, Stamp)>> {
        self.stats.probes += 1;
        let stop = hi.min(at.saturating_add(self.tuning.span));
        // Reading from the byte before `at` makes a line starting exactly at `at` count.
        self.seek(at.saturating_sub(1), self.tuning.probe_block, stop);
        if at > 0 && !self.skip_to_next_line()? {
            return Ok(None);
        }
        while let Some(start) = self.next_line()? {
            if start >= stop {
                return Ok(None);
            }
            if let Some(stamp) = parser.parse(self.head()) {
                return Ok(Some((start, stamp)));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use jiff::tz::TimeZone;

    use super::*;

    /// Small sizes, so that small files cross windows, blocks, spans and the head cap.
    const TINY: Tuning =
        Tuning { window: 256, probe_block: 32, scan_block: 64, max_block: 256, span: 200, head_cap: 80 };

    const SEC: i64 = 1_000_000_000;
    /// 2026-12-01T10:00:00Z.
    const T0: i64 = 1_796_119_200 * SEC;

    fn stamp(secs: i64) -> Stamp {
        Stamp::from_nanos(T0 + secs * SEC)
    }

    /// A stamped line (without its delimiter), `nanos` after T0.
    fn stamped(nanos: i64, text: &str) -> Vec<u8> {
        let mut line = Vec::new();
        Stamp::from_nanos(T0 + nanos).write_rfc3339(&mut line);
        line.extend_from_slice(b" INFO ");
        line.extend_from_slice(text.as_bytes());
        line
    }

    fn parser() -> Parser {
        Parser::new(Format::Iso, Stamp::now(), TimeZone::UTC)
    }

    fn file_of(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(bytes).unwrap();
        f.flush().unwrap();
        f
    }

    fn search(file: &File, size: u64, when: Stamp, delim: u8, tuning: &Tuning) -> (Since, Stats) {
        let mut stats = Stats::default();
        let since = find_tuned(file, size, when, &mut parser(), delim, tuning, &mut stats).unwrap();
        (since, stats)
    }

    /// The answer by reading every line in order.
    fn linear(bytes: &[u8], when: Stamp, delim: u8) -> Since {
        let mut parser = parser();
        let mut start = 0;
        let mut stamped_before = false;
        while start < bytes.len() {
            let end = memchr(delim, &bytes[start..]).map_or(bytes.len(), |i| start + i);
            if let Some(s) = parser.parse(&bytes[start..end]) {
                if s >= when {
                    return Since::At(if stamped_before { start as u64 } else { 0 });
                }
                stamped_before = true;
            }
            start = end + 1;
        }
        Since::NothingAfter
    }

    /// Both tunings agree with the linear reading; returns the answer.
    fn check(bytes: &[u8], when: Stamp, delim: u8, context: &str) -> Since {
        let want = linear(bytes, when, delim);
        let f = file_of(bytes);
        for tuning in [&TINY, &TUNING] {
            let (got, _) = search(f.as_file(), bytes.len() as u64, when, delim, tuning);
            assert_eq!(got, want, "{context}, when {when}, window {}", tuning.window);
        }
        want
    }

    fn join(lines: &[Vec<u8>], delim: u8, last_delim: bool) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            out.extend_from_slice(line);
            if last_delim || i + 1 < lines.len() {
                out.push(delim);
            }
        }
        out
    }

    /// Offsets of each line's start.
    fn starts(lines: &[Vec<u8>]) -> Vec<u64> {
        let mut at = 0;
        lines
            .iter()
            .map(|l| {
                let s = at;
                at += l.len() as u64 + 1;
                s
            })
            .collect()
    }

    #[test]
    fn one_and_two_lines_at_every_when() {
        let one = vec![stamped(10 * SEC, "one")];
        for last in [true, false] {
            let bytes = join(&one, b'\n', last);
            assert_eq!(check(&bytes, stamp(9), b'\n', "1 line"), Since::At(0));
            assert_eq!(check(&bytes, stamp(10), b'\n', "1 line"), Since::At(0));
            assert_eq!(check(&bytes, stamp(11), b'\n', "1 line"), Since::NothingAfter);
        }
        let two = vec![stamped(10 * SEC, "one"), stamped(20 * SEC, "two")];
        let second = starts(&two)[1];
        for last in [true, false] {
            let bytes = join(&two, b'\n', last);
            assert_eq!(check(&bytes, stamp(0), b'\n', "2 lines"), Since::At(0));
            assert_eq!(check(&bytes, stamp(10), b'\n', "2 lines"), Since::At(0));
            assert_eq!(check(&bytes, stamp(15), b'\n', "2 lines"), Since::At(second));
            assert_eq!(check(&bytes, stamp(20), b'\n', "2 lines"), Since::At(second));
            assert_eq!(check(&bytes, stamp(21), b'\n', "2 lines"), Since::NothingAfter);
        }
        assert_eq!(check(b"", stamp(0), b'\n', "empty"), Since::NothingAfter);
    }

    #[test]
    fn sorted_100k_lines_in_few_reads() {
        // A line every 100 ms.
        let lines: Vec<Vec<u8>> = (0..100_000).map(|i| stamped(i * SEC / 10, &format!("line {i}"))).collect();
        let at = starts(&lines);
        let bytes = join(&lines, b'\n', true);
        let f = file_of(&bytes);
        let size = bytes.len() as u64;
        let mut cases = vec![(stamp(-1), Since::At(0)), (stamp(10_000), Since::NothingAfter)];
        for i in [0, 1, 2, 49, 50, 51, 12_345, 50_000, 99_998, 99_999] {
            // Equal to line i's stamp, and just after the one before it.
            cases.push((
                Stamp::from_nanos(T0 + i * SEC / 10),
                Since::At(if i == 0 { 0 } else { at[i as usize] }),
            ));
            if i > 0 {
                cases.push((Stamp::from_nanos(T0 + i * SEC / 10 - 1), Since::At(at[i as usize])));
            }
        }
        for (when, want) in cases {
            let (got, stats) = search(f.as_file(), size, when, b'\n', &TUNING);
            assert_eq!(got, want, "when {when}");
            assert!(stats.reads < 32, "{stats:?} for {when}");
            assert_eq!(search(f.as_file(), size, when, b'\n', &TINY).0, want, "tiny, when {when}");
        }
    }

    #[test]
    fn equal_stamps_give_the_first_of_them() {
        // Runs of 1, 7, 60 and 300 lines with one stamp each, crossing windows and blocks.
        let mut lines = Vec::new();
        for (secs, run) in [(1, 1), (2, 7), (3, 60), (4, 300), (5, 1)] {
            for k in 0..run {
                lines.push(stamped(secs * SEC, &format!("run {secs} #{k}")));
            }
        }
        let at = starts(&lines);
        let bytes = join(&lines, b'\n', true);
        assert_eq!(check(&bytes, stamp(1), b'\n', "runs"), Since::At(0));
        assert_eq!(check(&bytes, stamp(2), b'\n', "runs"), Since::At(at[1]));
        assert_eq!(check(&bytes, stamp(3), b'\n', "runs"), Since::At(at[8]));
        assert_eq!(check(&bytes, stamp(4), b'\n', "runs"), Since::At(at[68]));
        assert_eq!(check(&bytes, stamp(5), b'\n', "runs"), Since::At(at[368]));
        // Every line the same.
        let same = join(&vec![stamped(0, "same"); 5_000], b'\n', true);
        assert_eq!(check(&same, stamp(0), b'\n', "all equal"), Since::At(0));
        assert_eq!(check(&same, stamp(-100), b'\n', "all equal"), Since::At(0));
        assert_eq!(check(&same, Stamp::from_nanos(T0 + 1), b'\n', "all equal"), Since::NothingAfter);
    }

    #[test]
    fn a_traceback_belongs_to_the_record_before_it() {
        let traceback = [
            "Traceback (most recent call last):",
            "  File \"app.py\", line 3, in <module>",
            "    main()",
            "  File \"app.py\", line 2, in main",
            "    raise ValueError(1764583200)",
            "ValueError: 1764583200",
        ];
        let mut lines = Vec::new();
        let mut record_starts = Vec::new();
        for i in 0..3_000 {
            record_starts.push(lines.len());
            lines.push(stamped(i * SEC, &format!("request {i}")));
            if i % 3 == 1 {
                lines.extend(traceback.iter().map(|l| l.as_bytes().to_vec()));
            }
        }
        let at = starts(&lines);
        let bytes = join(&lines, b'\n', true);
        for i in [0, 1, 2, 3, 4, 5, 1_000, 1_001, 1_002, 2_998, 2_999] {
            let want = if i == 0 { 0 } else { at[record_starts[i as usize]] };
            assert_eq!(check(&bytes, stamp(i), b'\n', "tracebacks"), Since::At(want), "record {i}");
            // Just after the stamp before: the same record.
            let when = Stamp::from_nanos(T0 + i * SEC - SEC / 2);
            assert_eq!(check(&bytes, when, b'\n', "tracebacks"), Since::At(want), "record {i}");
        }
        assert_eq!(check(&bytes, stamp(3_000), b'\n', "tracebacks"), Since::NothingAfter);
    }

    #[test]
    fn unstamped_lines_at_the_start_go_with_the_first_record() {
        let mut lines: Vec<Vec<u8>> =
            ["=== starting ===", "config: /etc/app.conf", ""].iter().map(|l| l.as_bytes().to_vec()).collect();
        for i in 0..500 {
            lines.push(stamped(i * SEC, "x"));
        }
        let at = starts(&lines);
        let bytes = join(&lines, b'\n', true);
        assert_eq!(check(&bytes, stamp(-5), b'\n', "banner"), Since::At(0));
        assert_eq!(check(&bytes, stamp(0), b'\n', "banner"), Since::At(0));
        assert_eq!(check(&bytes, stamp(1), b'\n', "banner"), Since::At(at[4]));
        assert_eq!(check(&bytes, stamp(499), b'\n', "banner"), Since::At(at[502]));
        assert_eq!(check(&bytes, stamp(500), b'\n', "banner"), Since::NothingAfter);
    }

    #[test]
    fn a_file_without_stamps_is_told_by_detect() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, bytes: &[u8]| {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            File::open(path).unwrap()
        };
        let plain = write("plain", "just some text\nwithout any time\n".repeat(100).as_bytes());
        assert_eq!(detect(&plain, b'\n').unwrap(), None);
        assert_eq!(detect(&write("empty", b""), b'\n').unwrap(), None);
        let python = "2026-12-01 10:00:00,123 - app - INFO - starting\n\
                      Traceback (most recent call last):\n  File \"a.py\", line 1\nValueError: 1\n\
                      2026-12-01 10:00:01,456 - app - INFO - again";
        assert_eq!(detect(&write("python", python.as_bytes()), b'\n').unwrap(), Some(Format::Iso));
        // The same lines NUL-delimited: one line per record with `\n`, two with NUL.
        let nul = python.replace('\n', "\0");
        assert_eq!(detect(&write("nul", nul.as_bytes()), b'\0').unwrap(), Some(Format::Iso));
        let syslog = "Dec  1 10:00:00 host app: a\nDec  1 10:00:01 host app: b\n";
        assert_eq!(detect(&write("syslog", syslog.as_bytes()), b'\n').unwrap(), Some(Format::Syslog));
        // A first line longer than what detection reads.
        let mut long = stamped(0, &"x".repeat(200_000));
        long.push(b'\n');
        long.extend_from_slice(&stamped(SEC, "short\n"));
        assert_eq!(detect(&write("long", &long), b'\n').unwrap(), Some(Format::Iso));
        // Python's zone-less stamps are local time (UTC here): every line is before 10:00:02.
        assert_eq!(check(python.as_bytes(), stamp(2), b'\n', "python"), Since::NothingAfter);
    }

    #[test]
    fn lines_longer_than_a_probe_read() {
        // 3 MiB lines, stamped and not, among short ones, in a file of about 13 MiB.
        let huge = "y".repeat(3 << 20);
        let mut lines = Vec::new();
        // The line index of each second's short line.
        let mut index = Vec::new();
        for i in 0..4_000 {
            index.push(lines.len());
            lines.push(stamped(i * SEC, "short"));
            match i {
                1_000 => lines.push(stamped(i * SEC + 1, &huge)),
                2_000 => lines.push(huge.as_bytes().to_vec()),
                3_000 => {
                    lines.push(huge.as_bytes().to_vec());
                    lines.push(huge.as_bytes().to_vec());
                }
                _ => {}
            }
        }
        let at = starts(&lines);
        let bytes = join(&lines, b'\n', true);
        let f = file_of(&bytes);
        let size = bytes.len() as u64;
        let cases = [
            (Stamp::from_nanos(T0 + 1_000 * SEC + 1), at[index[1_000] + 1]),
            (stamp(1_001), at[index[1_001]]),
            (stamp(2_000), at[index[2_000]]),
            (stamp(2_001), at[index[2_001]]),
            (stamp(3_001), at[index[3_001]]),
            (stamp(3_999), at[index[3_999]]),
        ];
        for (when, want) in cases {
            assert_eq!(linear(&bytes, when, b'\n'), Since::At(want), "reference, {when}");
            let (got, stats) = search(f.as_file(), size, when, b'\n', &TUNING);
            assert_eq!(got, Since::At(want), "{when}");
            assert!(stats.reads < 64, "{stats:?}");
        }
        // A huge last line without its delimiter, stamped.
        let mut tail = join(&lines[..5], b'\n', true);
        let last = tail.len() as u64;
        tail.extend_from_slice(&stamped(10_000 * SEC, &huge));
        assert_eq!(check(&tail, stamp(5), b'\n', "huge last line"), Since::At(last));
    }

    #[test]
    fn nul_delimited_records() {
        // Records holding newlines, and continuation lines that would look stamped after a `\n`.
        let mut lines = Vec::new();
        for i in 0..2_000 {
            let mut line = stamped(i * SEC, "multi\nline\n");
            line.extend_from_slice(&stamped((i + 5_000) * SEC, "quoted"));
            lines.push(line);
        }
        let at = starts(&lines);
        let bytes = join(&lines, b'\0', false);
        assert_eq!(check(&bytes, stamp(0), b'\0', "nul"), Since::At(0));
        assert_eq!(check(&bytes, stamp(1_234), b'\0', "nul"), Since::At(at[1_234]));
        assert_eq!(check(&bytes, stamp(1_999), b'\0', "nul"), Since::At(at[1_999]));
        assert_eq!(check(&bytes, stamp(2_000), b'\0', "nul"), Since::NothingAfter);
    }

    #[test]
    fn out_of_order_within_the_skew_is_exact() {
        // Four writers: each line is up to SKEW behind the clock, which only moves forward.
        let mut rng = Rng(7);
        let skew = i64::try_from(SKEW.as_nanos()).unwrap();
        let mut clock = 0;
        let lines: Vec<Vec<u8>> = (0..20_000)
            .map(|i| {
                clock += rng.below(SEC as u64 / 4) as i64;
                stamped(clock - rng.below(skew as u64 + 1) as i64, &format!("writer {} line {i}", i % 4))
            })
            .collect();
        let bytes = join(&lines, b'\n', true);
        for k in 0..40 {
            let when = Stamp::from_nanos(T0 + (k * clock) / 39 - skew / 2);
            check(&bytes, when, b'\n', "skewed");
        }
    }

    #[test]
    fn a_100_mb_file_needs_few_reads() {
        // 10,000 lines of 10 KiB, one a second.
        let filler = "z".repeat(10 * 1024 - 40);
        let mut bytes = Vec::with_capacity(105 << 20);
        let mut at = Vec::new();
        for i in 0..10_000 {
            at.push(bytes.len() as u64);
            bytes.extend_from_slice(&stamped(i * SEC, &filler));
            bytes.push(b'\n');
        }
        let f = file_of(&bytes);
        let size = bytes.len() as u64;
        assert!(size > 100_000_000);
        for (when, want) in [
            (stamp(-10), Since::At(0)),
            (stamp(1), Since::At(at[1])),
            (stamp(5_000), Since::At(at[5_000])),
            (Stamp::from_nanos(T0 + 7_777 * SEC + 1), Since::At(at[7_778])),
            (stamp(9_999), Since::At(at[9_999])),
            (stamp(10_000), Since::NothingAfter),
        ] {
            let mut stats = Stats::default();
            let got = find_counted(f.as_file(), size, when, &mut parser(), b'\n', &mut stats).unwrap();
            assert_eq!(got, want, "{when}");
            assert!(stats.reads < 64 && stats.bytes < 2 << 20, "{stats:?} for {when}");
        }
    }

    #[test]
    fn syslog_across_new_year_takes_its_years_from_the_end() {
        // Dec 30 to Jan 2, a line a minute, read on Jan 5: the probes must not put December in
        // the new year.
        let now = Stamp::from_nanos(1_799_107_200 * SEC); // 2027-01-05T00:00:00Z
        let lines: Vec<Vec<u8>> = (0..4 * 1440)
            .map(|m: i64| {
                let (day, hour, minute) = (30 + m / 1440, m / 60 % 24, m % 60);
                let date = if day <= 31 { format!("Dec {day}") } else { format!("Jan  {}", day - 31) };
                format!("{date} {hour:02}:{minute:02}:00 host app[1]: minute {m}").into_bytes()
            })
            .collect();
        let at = starts(&lines);
        let bytes = join(&lines, b'\n', true);
        let f = file_of(&bytes);
        let new_year = Stamp::from_nanos(1_798_761_600 * SEC); // 2027-01-01T00:00:00Z
        for tuning in [&TINY, &TUNING] {
            let mut parser = Parser::new(Format::Syslog, now, TimeZone::UTC);
            let mut stats = Stats::default();
            let got =
                find_tuned(f.as_file(), bytes.len() as u64, new_year, &mut parser, b'\n', tuning, &mut stats);
            assert_eq!(got.unwrap(), Since::At(at[2 * 1440]), "window {}", tuning.window);
        }
    }

    #[test]
    fn random_files_agree_with_a_linear_reading() {
        for seed in 1..=200u64 {
            let mut rng = Rng(seed);
            let delim = if rng.below(4) == 0 { b'\0' } else { b'\n' };
            let records = rng.below(1_500) as usize;
            let skew = [0, SEC, SKEW_NANOS, 60 * SEC][rng.below(4) as usize];
            let mut lines = Vec::new();
            if rng.below(5) == 0 {
                lines.push(b"banner without a stamp".to_vec());
            }
            let mut clock = 0;
            let mut stamps = Vec::new();
            for i in 0..records {
                // Steps of 0 (equal stamps) to 2 seconds.
                clock += [0, 1, SEC / 2, SEC, 2 * SEC][rng.below(5) as usize];
                let s = clock - rng.below(skew as u64 + 1) as i64;
                stamps.push(s);
                let longest = if rng.below(30) == 0 { 400 } else { 40 };
                let text = "m".repeat(rng.below(longest) as usize);
                lines.push(stamped(s, &format!("{i} {text}")));
                for _ in 0..[0, 0, 0, 1, 3, 12][rng.below(6) as usize] {
                    let longest = if rng.below(20) == 0 { 300 } else { 50 };
                    let len = rng.below(longest) as usize;
                    lines.push(format!("  continued {}", "c".repeat(len)).into_bytes());
                }
            }
            let bytes = join(&lines, delim, rng.below(3) > 0);
            let f = file_of(&bytes);
            // Before everything, after everything, at, just before and just after stamps, and
            // anywhere.
            let mut whens = vec![-1_000 * SEC, clock + 1];
            for _ in 0..6 {
                if let Some(&s) = stamps.get(rng.below(stamps.len() as u64) as usize) {
                    whens.extend([s, s - 1, s + 1]);
                }
                whens.push(rng.below(clock as u64 + 1) as i64);
            }
            for when in whens {
                let when = Stamp::from_nanos(T0 + when);
                let context = format!("seed {seed}, skew {skew}");
                let want = linear(&bytes, when, delim);
                for tuning in [&TINY, &TUNING] {
                    let (got, _) = search(f.as_file(), bytes.len() as u64, when, delim, tuning);
                    if skew <= SKEW_NANOS {
                        assert_eq!(got, want, "{context}, when {when}, window {}", tuning.window);
                    } else {
                        // Beyond the guarantee: still a record at or after `when`, never earlier
                        // than the first one.
                        assert_record_at_or_after(&bytes, got, want, when, delim, &context);
                    }
                }
            }
        }
    }

    fn assert_record_at_or_after(
        bytes: &[u8],
        got: Since,
        want: Since,
        when: Stamp,
        delim: u8,
        context: &str,
    ) {
        let Since::At(at) = got else { return };
        let Since::At(first) = want else { panic!("{context}: {got:?} but nothing after {when}") };
        assert!(at >= first, "{context}: {at} before the first record {first}");
        let at = at as usize;
        assert!(at == 0 || bytes[at - 1] == delim, "{context}: {at} is not a line's start");
        let end = memchr(delim, &bytes[at..]).map_or(bytes.len(), |i| at + i);
        let mut p = parser();
        if at > 0 {
            assert!(p.parse(&bytes[at..end]).is_some_and(|s| s >= when), "{context}: the line at {at}");
        }
    }

    /// splitmix64, seeded: a failure names its seed.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }

        /// Uniform enough in `0..n` (0 when n is 0).
        fn below(&mut self, n: u64) -> u64 {
            if n == 0 { 0 } else { self.next() % n }
        }
    }
}
