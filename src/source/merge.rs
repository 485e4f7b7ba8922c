//! `--merge`, the initial output: every input's records in one stream ordered by their time, a
//! k-way merge as `sort -m` does, reading each file forward in blocks, never all of it at once.
//!
//! Each input is read from where `-n` says its output starts (per file, as without `--merge`)
//! to its end. Its records are stamped as the sink would ([`Stamper`], the layout detected from
//! the file's first bytes; a record without a stamp takes the previous one's time). A file's
//! records are put in time order a block at a time by a stable sort (a file written by many
//! processes is locally out of order), and a block's records wait for the next block before
//! they go out, so a record written up to a block late still goes out in its place: the records
//! of block k not out yet are sorted together with block k+1's, and go out up to the last of
//! block k's; the rest wait for block k+2 (at most two blocks are held). Across files the
//! record with the earliest time goes first, equal times in operand order. Records with no time
//! at all (before a file's first stamp) come first. What comes out goes to the sink as ready
//! batches: grouped (`--multiline`) and stamped here, filtered there.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, Read};
use std::sync::Arc;

use memchr::{memchr, memrchr};

use super::initial::Reached;
use super::read::{LINE_CAP, Partial, read_append, read_full_at};
use crate::group::record_starts;
use crate::pipeline::{BLOCK, Sink};
use crate::record::{Batch, Generation, SourceId};
use crate::stamp::{Stamp, Stamper};

/// Why the merge stopped early.
#[derive(Debug)]
pub(crate) enum Fail {
    /// The sink stopped (`--until`, a closed pipe, a signal).
    Stopped,
    /// Reading this source failed.
    Io(SourceId, std::io::Error),
}

impl From<crate::pipeline::Stopped> for Fail {
    fn from(_: crate::pipeline::Stopped) -> Fail {
        Fail::Stopped
    }
}

/// One input of the merge: a regular file read from `start` to `end`.
pub(crate) struct Input {
    pub(crate) source: SourceId,
    pub(crate) file: Arc<File>,
    pub(crate) generation: Generation,
    pub(crate) start: u64,
    pub(crate) end: u64,
    /// Its first bytes (for follow mode's rewrite check).
    pub(crate) head: Vec<u8>,
    /// A regular file (read at offsets); otherwise a pipe, read as it comes to its end.
    pub(crate) regular: bool,
    /// Read through this instead (a compressed generation, `--history`).
    pub(crate) stream: Option<RefCell<Box<dyn Read>>>,
    /// Its name, for messages.
    pub(crate) name: Vec<u8>,
    /// Its end is its end, also when following (a rotated generation): its last line is
    /// printed even without a delimiter.
    pub(crate) complete: bool,
}

/// A record of a cursor's block.
#[derive(Debug, Clone, Copy)]
struct Rec {
    stamp: Option<Stamp>,
    /// Its bytes are in the cursor's `prev` (the block before), not `bytes`.
    in_prev: bool,
    /// Where its bytes are in that block.
    start: usize,
    /// Past its delimiter (or the block's end).
    end: usize,
    /// Where it is in the file.
    offset: u64,
}

/// A block just read: its bytes, and its records in file order (`start` and `end` in `bytes`).
struct Block {
    bytes: Vec<u8>,
    recs: Vec<Rec>,
}

/// One input being read: a block of its records, in time order.
struct Cursor<'a> {
    input: &'a Input,
    /// Next offset to read.
    pos: u64,
    /// Bytes read and not yet made records (a line or record that may go on), at `carry_at`.
    carry: Vec<u8>,
    carry_at: u64,
    /// The records not out yet, in time order: the rest of the block before (their bytes in
    /// `prev`) and the last block read (in `bytes`).
    bytes: Vec<u8>,
    prev: Vec<u8>,
    recs: Vec<Rec>,
    next: usize,
    /// `recs[..ready]` may go out now (up to the last record of the block before, or all at
    /// the end of the input); the rest wait for the next block.
    ready: usize,
    stamper: Stamper,
    /// Following: the unterminated last line stays for the engine.
    keep_partial: bool,
}

impl Cursor<'_> {
    /// The time of the next record; `None` inside when it has none. `None` outside: no more.
    fn head(&self) -> Option<Option<Stamp>> {
        self.recs[..self.ready].get(self.next).map(|r| r.stamp)
    }

    /// Read the next block and merge its records with those not out yet; false at the end
    /// (nothing left).
    fn fill(&mut self, delim: u8, sink: &Sink) -> Result<bool, Fail> {
        loop {
            // The records still here came before the block about to be read: they go out
            // in this round, merged with its records that are no later than they are. They
            // are all of the last block read (every record of the one before went out in the
            // last round), whose bytes stay where they are, as `prev`.
            let mut recs = std::mem::take(&mut self.recs);
            recs.drain(..self.next);
            debug_assert!(recs.iter().all(|r| !r.in_prev), "held records are of the last block");
            for r in &mut recs {
                r.in_prev = true;
            }
            std::mem::swap(&mut self.prev, &mut self.bytes);
            let held = recs.len();
            let spare = std::mem::take(&mut self.bytes);
            let ended = match self.read_block(delim, sink, spare)? {
                Some(block) => {
                    self.bytes = block.bytes;
                    recs.extend(block.recs);
                    false
                }
                None => true,
            };
            let first_new = recs.get(held).map(|r| r.offset);
            // Stable: equal times keep file order (the held records are earlier in the file).
            recs.sort_by_key(|r| r.stamp);
            self.ready = match first_new {
                _ if ended => recs.len(),
                Some(first_new) => recs.iter().rposition(|r| r.offset < first_new).map_or(0, |i| i + 1),
                None => 0,
            };
            self.recs = recs;
            self.next = 0;
            if self.ready > 0 {
                return Ok(true);
            }
            if ended {
                return Ok(false);
            }
            // The first block: nothing may go out before the second one is read.
        }
    }

    /// Read the next block and make its records; `None` at the end. `spare` is a buffer to
    /// read into (its contents are dropped).
    fn read_block(&mut self, delim: u8, sink: &Sink, mut spare: Vec<u8>) -> Result<Option<Block>, Fail> {
        let grouping = sink.multiline();
        loop {
            let at_end = self.pos >= self.input.end;
            // What was carried, then the new bytes.
            let mut buf = std::mem::take(&mut spare);
            buf.clear();
            buf.extend_from_slice(&self.carry);
            self.carry.clear();
            let base = self.carry_at;
            if !at_end {
                let want = (self.input.end - self.pos).min(BLOCK as u64) as usize;
                let got = match &self.input.stream {
                    Some(stream) => read_into(&mut **stream.borrow_mut(), &mut buf, want),
                    None => read_append(
                        &self.input.file,
                        &mut buf,
                        want,
                        self.input.regular.then_some(self.pos),
                        false,
                    ),
                }
                .map_err(|e| Fail::Io(self.input.source, e))?;
                self.pos = if got == 0 { self.input.end } else { self.pos + got as u64 };
            }
            let ended = self.pos >= self.input.end;
            if buf.is_empty() {
                return Ok(None);
            }
            // Record starts in the block (lines, or groups of lines).
            let starts = match grouping {
                Some(multiline) => {
                    let mut starts = record_starts(&buf, delim, multiline, &mut self.stamper);
                    if starts.first() != Some(&0) {
                        starts.insert(0, 0);
                    }
                    starts
                }
                None => {
                    // (A pipe's layout is detected from its first block.)
                    self.stamper.look_at(buf.split(|&b| b == delim));
                    let mut starts = vec![0];
                    let mut p = 0;
                    while let Some(i) = memchr(delim, &buf[p..]) {
                        p += i + 1;
                        if p < buf.len() {
                            starts.push(p);
                        }
                    }
                    starts
                }
            };
            // What may go on is carried to the next block: the last record (grouped), or an
            // unfinished last line; at the end only an unfinished line, and only when following.
            let cut = if !ended {
                let cut = match grouping {
                    Some(_) => starts.last().copied().filter(|&s| s > 0).unwrap_or(0),
                    None => memrchr(delim, &buf).map_or(0, |i| i + 1),
                };
                // A record or line longer than the limits is cut there, as elsewhere.
                let cap = grouping.map_or(LINE_CAP, |m| m.max_bytes);
                if cut == 0 && buf.len() >= cap { buf.len() } else { cut }
            } else if self.keep_partial && buf.last() != Some(&delim) {
                memrchr(delim, &buf).map_or(0, |i| i + 1)
            } else {
                buf.len()
            };
            if cut == 0 && !ended {
                // One record longer than a block: read on (bounded by the file's size).
                self.carry = buf;
                self.carry_at = base;
                continue;
            }
            self.carry.clear();
            self.carry.extend_from_slice(&buf[cut..]);
            self.carry_at = base + cut as u64;
            buf.truncate(cut);
            let mut recs = Vec::with_capacity(starts.len());
            for (k, &start) in starts.iter().enumerate() {
                if start >= cut {
                    break;
                }
                let end = starts.get(k + 1).copied().unwrap_or(cut).min(cut);
                let stamp = self.stamper.stamp(&buf[start..end]);
                recs.push(Rec { stamp, in_prev: false, start, end, offset: base + start as u64 });
            }
            if !recs.is_empty() {
                return Ok(Some(Block { bytes: buf, recs }));
            }
            if ended {
                return Ok(None);
            }
        }
    }
}

/// Append at most `want` bytes read from `from` to `buf`; how many (0: its end).
fn read_into(from: &mut dyn Read, buf: &mut Vec<u8>, want: usize) -> io::Result<usize> {
    let old = buf.len();
    buf.resize(old + want, 0);
    loop {
        match from.read(&mut buf[old..]) {
            Ok(n) => {
                buf.truncate(old + n);
                return Ok(n);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                buf.truncate(old);
                return Err(e);
            }
        }
    }
}

/// Print the records of `inputs` merged by time; where each input's reading ended.
pub(crate) fn print_merged(inputs: &[Input], following: bool, sink: &Sink) -> Result<Vec<Reached>, Fail> {
    let delim = sink.delim();
    let (now, tz) = (Stamp::now(), jiff::tz::TimeZone::system());
    let mut cursors = Vec::with_capacity(inputs.len());
    for input in inputs {
        let mut stamper = if sink.multiline().is_some() {
            Stamper::for_records(now, tz.clone())
        } else {
            Stamper::new(now, tz.clone())
        };
        if input.regular {
            let mut first = vec![0u8; input.end.min(64 << 10) as usize];
            let n = read_full_at(&input.file, &mut first, 0).map_err(|e| Fail::Io(input.source, e))?;
            let whole = memrchr(delim, &first[..n]).map_or(&first[..0], |i| &first[..i]);
            stamper.look_at(whole.split(|&b| b == delim));
        }
        cursors.push(Cursor {
            input,
            pos: input.start,
            carry: Vec::new(),
            carry_at: input.start,
            bytes: Vec::new(),
            prev: Vec::new(),
            recs: Vec::new(),
            next: 0,
            ready: 0,
            stamper,
            keep_partial: following && !input.complete,
        });
    }
    let mut heap = BinaryHeap::with_capacity(cursors.len());
    for (k, c) in cursors.iter_mut().enumerate() {
        if c.fill(delim, sink)?
            && let Some(stamp) = c.head()
        {
            heap.push(Reverse((stamp, k)));
        }
    }
    let grouped = sink.multiline().is_some();
    let mut out: Option<Batch> = None;
    while let Some(Reverse((_, k))) = heap.pop() {
        // This cursor's records go out while they are no later than the next cursor's.
        let limit = heap.peek().map(|Reverse((stamp, j))| (*stamp, *j));
        let c = &mut cursors[k];
        // (A gate that is open stays open: asked once for this run of records.)
        let keep_stamps = sink.keeps_stamps(c.input.source);
        loop {
            let Some(&rec) = c.recs[..c.ready].get(c.next) else {
                if c.fill(delim, sink)? {
                    continue;
                }
                break;
            };
            if limit.is_some_and(|(stamp, j)| (rec.stamp, k) > (stamp, j)) {
                heap.push(Reverse((rec.stamp, k)));
                break;
            }
            c.next += 1;
            let batch = match &mut out {
                Some(b) if b.source == c.input.source && b.bytes.len() < BLOCK => b,
                _ => {
                    if let Some(full) = out.take() {
                        sink.ready(full)?;
                    }
                    out.insert(Batch::new(c.input.source, c.input.generation, 0, sink.buffer()))
                }
            };
            let pos = batch.bytes.len();
            if let Some(stamp) = rec.stamp
                && keep_stamps
            {
                batch.stamps.push((pos, stamp));
            }
            if grouped {
                batch.starts.push(pos);
            }
            let block = if rec.in_prev { &c.prev } else { &c.bytes };
            batch.push(rec.offset, &block[rec.start..rec.end]);
        }
    }
    if let Some(last) = out.take() {
        sink.ready(last)?;
    }
    Ok(cursors
        .into_iter()
        .map(|c| {
            let offset = c.pos;
            let partial = if c.carry.is_empty() {
                Partial::resume(offset, Vec::new())
            } else {
                Partial::resume(c.carry_at, c.carry)
            };
            let offset = if c.input.regular { offset } else { 0 };
            Reached { offset, head: c.input.head.clone(), partial }
        })
        .collect())
}
