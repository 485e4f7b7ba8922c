//! What flows from the sources to the outputs: batches of records, and events.
//!
//! A **record** is one line of one source (ended by the delimiter, or *partial*: the last bytes
//! of a file generation that never got one; with `--multiline`, a group of lines, framed by
//! [`Batch::starts`]), with where it came from: the source, the
//! [`Generation`] of the file it was read from, and the byte offset of its first byte there.
//! Records move in [`Batch`]es, many per message, back to back in one buffer: the terminal
//! writes a batch's bytes as they are, the JSON output walks its [`Batch::records`].
//!
//! An [`Event`] (truncated, replaced, appeared, inaccessible, gone, exited) travels in the same ordered
//! stream, so every output sees it exactly between the records it separates.
//!
//! Nothing here reads, filters or prints: these are plain values.

use std::sync::atomic::{AtomicU64, Ordering};

use memchr::memchr;

use crate::stamp::Stamp;

/// Index of an input in [`crate::Config::inputs`].
pub(crate) type SourceId = usize;

/// One generation of a followed file: what is read between two of its beginnings. A file opened
/// (at start, or when its name comes to lead to a new file) starts one; so does a truncation
/// of an open file, since its offsets start again at 0. Unique within a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Generation(u64);

impl Generation {
    /// A generation never handed out before.
    pub(crate) fn next() -> Generation {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Generation(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// Records of one source generation, in file order, back to back in one buffer.
///
/// Invariants: `bytes` holds whole records, each ended by the run's delimiter, except that the
/// last one may lack it (a partial record). The exception is a *plain* run (terminal output with
/// no filter, prefix or colour), where no record is needed and a batch may cut a line anywhere.
/// `jumps` is sorted by position, every position in `1..bytes.len()` and at a record start.
#[derive(Debug)]
pub(crate) struct Batch {
    pub(crate) source: SourceId,
    pub(crate) generation: Generation,
    /// Offset in the generation of `bytes[0]`.
    pub(crate) offset: u64,
    pub(crate) bytes: Vec<u8>,
    /// Where the records stop being contiguous in the file (a filter left lines out): from
    /// position `.0` of `bytes` on, the bytes are those at offset `.1`. Empty when contiguous.
    pub(crate) jumps: Vec<(usize, u64)>,
    /// The time of each record that has one, by the position of its first byte, in order
    /// (filled by the sink when an output shows times: [`crate::stamp::Stamper`]).
    pub(crate) stamps: Vec<(usize, Stamp)>,
    /// `--multiline`: the position of each record's first byte, in order, from 0 (a record is
    /// then a group of lines, [`crate::group`]). Empty: each line is a record.
    pub(crate) starts: Vec<usize>,
    /// `--merge` while following: the positions of records that came later than the merge
    /// window allowed (printed out of time order), in order.
    pub(crate) late: Vec<usize>,
    /// `--number`: the line number in its generation (from 1) of each record whose number
    /// is known, by the position of its first byte, in order.
    pub(crate) numbers: Vec<(usize, u64)>,
    /// Set by the sink ([`crate::pipeline`]) when every record has its entry in `stamps` and
    /// none has a byte JSON escapes or is not valid UTF-8: the JSON output then takes the
    /// records' bounds from `stamps` and copies their bytes as they are, without looking at
    /// them again. A batch built from others starts without it.
    pub(crate) plain_stamped: bool,
}

/// One record of a [`Batch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Record<'a> {
    /// Offset of its first byte in its file generation.
    pub(crate) offset: u64,
    /// Its bytes without the delimiter.
    pub(crate) bytes: &'a [u8],
    /// Whether it ended with the delimiter (false: a partial record).
    pub(crate) terminated: bool,
    /// Its time, when known.
    pub(crate) stamp: Option<Stamp>,
    /// `--number`: the number of its (first) line in its generation, when known.
    pub(crate) number: Option<u64>,
    /// It came later than `--merge`'s window allowed: printed out of time order.
    pub(crate) late: bool,
}

impl Batch {
    /// Contiguous bytes of `source` read at `offset` of `generation`.
    pub(crate) fn new(source: SourceId, generation: Generation, offset: u64, bytes: Vec<u8>) -> Batch {
        Batch {
            source,
            generation,
            offset,
            bytes,
            jumps: Vec::new(),
            stamps: Vec::new(),
            starts: Vec::new(),
            late: Vec::new(),
            numbers: Vec::new(),
            plain_stamped: false,
        }
    }

    /// The time of the record starting at position `pos`, looked for from `stamps[*next]` on
    /// (records are asked for in order; `next` moves past what was looked at).
    pub(crate) fn stamp_at(&self, pos: usize, next: &mut usize) -> Option<Stamp> {
        value_at(&self.stamps, pos, next)
    }

    /// The line number of the record starting at `pos` ([`Batch::numbers`]), looked for from
    /// `numbers[*next]` on.
    pub(crate) fn number_at(&self, pos: usize, next: &mut usize) -> Option<u64> {
        value_at(&self.numbers, pos, next)
    }

    /// Whether the record starting at `pos` came late ([`Batch::late`]), looked for from
    /// `late[*next]` on.
    pub(crate) fn late_at(&self, pos: usize, next: &mut usize) -> bool {
        while let Some(&at) = self.late.get(*next) {
            if at > pos {
                break;
            }
            *next += 1;
            if at == pos {
                return true;
            }
        }
        false
    }

    /// Append `bytes` read at `offset` (a filter keeping some records of another batch), with
    /// the stamps of `from` for them, `bytes` being `from.bytes[start..]`.
    pub(crate) fn push_from(&mut self, from: &Batch, start: usize, end: usize, next: &mut usize) {
        let base = self.bytes.len();
        if !from.starts.is_empty() {
            // Framed records are kept whole: their starts within the range come along.
            let first = from.starts.partition_point(|&s| s < start);
            let last = from.starts.partition_point(|&s| s < end);
            self.starts.extend(from.starts[first..last].iter().map(|&s| base + s - start));
        }
        while let Some(&(at, stamp)) = from.stamps.get(*next) {
            if at >= end {
                break;
            }
            *next += 1;
            if at >= start {
                self.stamps.push((base + at - start, stamp));
            }
        }
        // (Numbers are few and asked for rarely: looked up in full.)
        let first = from.numbers.partition_point(|&(at, _)| at < start);
        let last = from.numbers.partition_point(|&(at, _)| at < end);
        self.numbers.extend(from.numbers[first..last].iter().map(|&(at, n)| (base + at - start, n)));
        self.push(from.offset + start as u64, &from.bytes[start..end]);
    }

    /// Append `bytes` read at `offset` (a filter keeping some records of another batch).
    pub(crate) fn push(&mut self, offset: u64, bytes: &[u8]) {
        if self.bytes.is_empty() {
            self.offset = offset;
            self.jumps.clear();
        } else if self.end_offset() != offset {
            self.jumps.push((self.bytes.len(), offset));
        }
        self.bytes.extend_from_slice(bytes);
    }

    /// The offset just past the last byte.
    fn end_offset(&self) -> u64 {
        let (pos, offset) = self.jumps.last().copied().unwrap_or((0, self.offset));
        offset + (self.bytes.len() - pos) as u64
    }

    /// The records, in order, for lines ended by `delim`.
    pub(crate) fn records(&self, delim: u8) -> Records<'_> {
        Records {
            batch: self,
            pos: 0,
            jump: 0,
            base: (0, self.offset),
            delim,
            stamp: 0,
            start: 0,
            late: 0,
            number: 0,
        }
    }
}

/// The value at position `pos` of a list sorted by position, looked for from `list[*next]` on
/// (positions are asked for in order; `next` moves past what was looked at).
fn value_at<T: Copy>(list: &[(usize, T)], pos: usize, next: &mut usize) -> Option<T> {
    while let Some(&(at, value)) = list.get(*next) {
        if at > pos {
            break;
        }
        *next += 1;
        if at == pos {
            return Some(value);
        }
    }
    None
}

/// The records of a batch; see [`Batch::records`].
pub(crate) struct Records<'a> {
    batch: &'a Batch,
    pos: usize,
    /// The next jump not passed yet.
    jump: usize,
    /// The last jump passed: (position, offset).
    base: (usize, u64),
    delim: u8,
    /// The next stamp not passed yet.
    stamp: usize,
    /// The next of [`Batch::starts`] not passed yet.
    start: usize,
    /// The next of [`Batch::late`] not passed yet.
    late: usize,
    /// The next of [`Batch::numbers`] not passed yet.
    number: usize,
}

impl<'a> Iterator for Records<'a> {
    type Item = Record<'a>;

    fn next(&mut self) -> Option<Record<'a>> {
        let bytes = &self.batch.bytes;
        if self.pos >= bytes.len() {
            return None;
        }
        while let Some(&jump) = self.batch.jumps.get(self.jump)
            && jump.0 <= self.pos
        {
            self.base = jump;
            self.jump += 1;
        }
        let start = self.pos;
        let (end, terminated) = if self.batch.starts.is_empty() {
            match memchr(self.delim, &bytes[start..]) {
                Some(i) => (start + i, true),
                None => (bytes.len(), false),
            }
        } else {
            // A group of lines: up to the next record's start.
            while self.batch.starts.get(self.start).is_some_and(|&s| s <= start) {
                self.start += 1;
            }
            let next = self.batch.starts.get(self.start).copied().unwrap_or(bytes.len());
            match bytes[..next].last() {
                Some(&b) if b == self.delim => (next - 1, true),
                _ => (next, false),
            }
        };
        self.pos = if terminated { end + 1 } else { end };
        Some(Record {
            offset: self.base.1 + (start - self.base.0) as u64,
            bytes: &bytes[start..end],
            terminated,
            stamp: self.batch.stamp_at(start, &mut self.stamp),
            late: self.batch.late_at(start, &mut self.late),
            number: self.batch.number_at(start, &mut self.number),
        })
    }
}

/// What an [`Event`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventKind {
    /// The open file got shorter, or was rewritten from its start (`file truncated`).
    Truncated,
    /// The name now leads to another file, which is followed from its start.
    Replaced,
    /// The name leads to a file again (`has appeared`, `has become accessible`).
    Appeared,
    /// The name or file cannot be read: missing, no permission, a read error, or not a file
    /// that can be followed.
    Inaccessible,
    /// Nothing is left to follow (`no files remaining`).
    Gone,
    /// The initial output is done and every file is watched: whatever is written from now on
    /// will be printed. Not a notice: standard error does not show it.
    Following,
    /// The command whose output is followed ended by itself, with [`Event::status`].
    Exited,
    /// A file matched by a pattern was renamed (rotated) and is read on under its new name.
    /// Not a notice: standard error does not show it.
    Renamed,
}

impl EventKind {
    /// The name outputs use (`"event":"truncated"`).
    pub(crate) fn name(self) -> &'static str {
        match self {
            EventKind::Truncated => "truncated",
            EventKind::Replaced => "replaced",
            EventKind::Appeared => "appeared",
            EventKind::Inaccessible => "inaccessible",
            EventKind::Gone => "gone",
            EventKind::Following => "following",
            EventKind::Exited => "exited",
            EventKind::Renamed => "renamed",
        }
    }

    /// Whether standard error shows it (GNU's notices); [`EventKind::Following`] is for
    /// programs only.
    pub(crate) fn is_notice(self) -> bool {
        !matches!(self, EventKind::Following | EventKind::Renamed)
    }
}

/// Something that happened to a source, between the records it separates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Event {
    /// The source concerned; `None` for the run as a whole.
    pub(crate) source: Option<SourceId>,
    pub(crate) kind: EventKind,
    /// The notice as standard error shows it, without the `rtail: ` prefix (GNU's wording).
    pub(crate) message: String,
    /// For [`EventKind::Exited`]: the command's exit status (128+N when killed by signal N).
    pub(crate) status: Option<i32>,
}

impl Event {
    pub(crate) fn new(source: impl Into<Option<SourceId>>, kind: EventKind, message: String) -> Event {
        Event { source: source.into(), kind, message, status: None }
    }

    /// The followed command ended by itself with `status`.
    pub(crate) fn exited(status: i32) -> Event {
        let message = match status {
            129.. => format!("command was killed by signal {}", status - 128),
            _ => format!("command exited with status {status}"),
        };
        Event { source: None, kind: EventKind::Exited, message, status: Some(status) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(batch: &Batch) -> Vec<(u64, &[u8], bool)> {
        batch.records(b'\n').map(|r| (r.offset, r.bytes, r.terminated)).collect()
    }

    #[test]
    fn records_of_a_contiguous_batch() {
        let b = Batch::new(0, Generation::next(), 100, b"ab\n\ncd".to_vec());
        assert_eq!(
            collect(&b),
            vec![(100, &b"ab"[..], true), (103, &b""[..], true), (104, &b"cd"[..], false)]
        );
        let empty = Batch::new(0, Generation::next(), 5, Vec::new());
        assert_eq!(collect(&empty), vec![]);
    }

    #[test]
    fn pushed_records_keep_their_offsets() {
        let mut b = Batch::new(0, Generation::next(), 0, Vec::new());
        b.push(10, b"one\n");
        b.push(14, b"two\n");
        b.push(30, b"three\n");
        b.push(50, b"x\ny\n");
        assert_eq!(b.jumps, vec![(8, 30), (14, 50)]);
        assert_eq!(
            collect(&b),
            vec![
                (10, &b"one"[..], true),
                (14, &b"two"[..], true),
                (30, &b"three"[..], true),
                (50, &b"x"[..], true),
                (52, &b"y"[..], true)
            ]
        );
    }

    #[test]
    fn a_filter_keeps_the_stamps_of_the_records_it_keeps() {
        let mut from = Batch::new(0, Generation::next(), 100, b"a\nbb\nccc\ndd".to_vec());
        from.stamps = vec![(0, Stamp::from_nanos(1)), (5, Stamp::from_nanos(3)), (9, Stamp::from_nanos(4))];
        let mut out = Batch::new(0, from.generation, 0, Vec::new());
        let mut next = 0;
        out.push_from(&from, 2, 5, &mut next); // "bb\n": no stamp
        out.push_from(&from, 5, 11, &mut next); // "ccc\ndd"
        let got: Vec<_> =
            out.records(b'\n').map(|r| (r.offset, r.bytes, r.stamp.map(Stamp::as_nanos))).collect();
        assert_eq!(got, [(102, &b"bb"[..], None), (105, b"ccc", Some(3)), (109, b"dd", Some(4))]);
    }

    #[test]
    fn generations_are_unique() {
        assert_ne!(Generation::next(), Generation::next());
    }
}
