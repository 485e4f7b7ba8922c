//! `--merge` while following: records from several files put in time order within a window.
//!
//! Writers do not reach their files at the same moment, and rtail reads each file when it is
//! told it changed: a record stamped 10:00:00.050 in one file may arrive after one stamped
//! 10:00:00.080 in another. Each record with a time waits here up to the window after it
//! arrived; when a record's wait is over, it goes out together with every record no later than
//! it, in time order (equal times in arrival order). A record earlier than one already printed
//! came too late for the window: it goes out at once, marked late, never dropped. Records
//! without a time go out at once. Memory is bounded by what arrives within the window, and by
//! [`MAX_WAITING`] records.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use crate::record::{Batch, Generation, SourceId};
use crate::stamp::Stamp;

/// At most this many records wait; past it the earliest go out.
pub(crate) const MAX_WAITING: usize = 100_000;

/// One record, waiting.
#[derive(Debug)]
struct Waiting {
    source: SourceId,
    generation: Generation,
    offset: u64,
    /// Its bytes with the delimiter when it had one.
    bytes: Vec<u8>,
}

/// The records waiting, and what went out last.
#[derive(Debug)]
pub(crate) struct Reorder {
    window: Duration,
    /// By (time, arrival number).
    waiting: BTreeMap<(Stamp, u64), Waiting>,
    /// In arrival order: when each came, and its key.
    arrivals: VecDeque<(Instant, (Stamp, u64))>,
    next_seq: u64,
    /// The latest time that went out.
    last_out: Option<Stamp>,
    /// Records are groups of lines (`--multiline`): batches carry their starts.
    grouped: bool,
}

/// Records ready to go out, as batches (consecutive records of one source share one).
#[derive(Debug, Default)]
pub(crate) struct Out {
    pub(crate) batches: Vec<Batch>,
}

impl Out {
    fn push(&mut self, w: Waiting, stamp: Option<Stamp>, late: bool, grouped: bool) {
        let same = self.batches.last().is_some_and(|b| b.source == w.source && b.generation == w.generation);
        if !same {
            self.batches.push(Batch::new(w.source, w.generation, w.offset, Vec::new()));
        }
        let Some(batch) = self.batches.last_mut() else { return };
        let pos = batch.bytes.len();
        if let Some(stamp) = stamp {
            batch.stamps.push((pos, stamp));
        }
        if grouped {
            batch.starts.push(pos);
        }
        if late {
            batch.late.push(pos);
        }
        batch.push(w.offset, &w.bytes);
    }
}

impl Reorder {
    pub(crate) fn new(window: Duration, grouped: bool) -> Reorder {
        Reorder {
            window,
            waiting: BTreeMap::new(),
            arrivals: VecDeque::new(),
            next_seq: 0,
            last_out: None,
            grouped,
        }
    }

    /// Take the records of `batch` (filtered, stamped) in; those that go out at once are added
    /// to `out`.
    pub(crate) fn add(&mut self, batch: &Batch, delim: u8, now: Instant, out: &mut Out) {
        for record in batch.records(delim) {
            let mut bytes = Vec::with_capacity(record.bytes.len() + 1);
            bytes.extend_from_slice(record.bytes);
            if record.terminated {
                bytes.push(delim);
            }
            let w =
                Waiting { source: batch.source, generation: batch.generation, offset: record.offset, bytes };
            match record.stamp {
                None => out.push(w, None, false, self.grouped),
                Some(stamp) if self.last_out.is_some_and(|last| stamp < last) => {
                    out.push(w, Some(stamp), true, self.grouped);
                }
                Some(stamp) => {
                    let key = (stamp, self.next_seq);
                    self.next_seq += 1;
                    self.waiting.insert(key, w);
                    self.arrivals.push_back((now, key));
                }
            }
        }
        while self.waiting.len() > MAX_WAITING {
            self.release_first(out);
        }
    }

    /// When the first waiting record's wait is over.
    pub(crate) fn due(&self) -> Option<Instant> {
        self.arrivals.front().map(|&(at, _)| at + self.window)
    }

    /// Let out every record whose wait is over by `now` (all with `None`), with every record
    /// no later than it.
    pub(crate) fn release(&mut self, now: Option<Instant>, out: &mut Out) {
        let mut cutoff: Option<(Stamp, u64)> = None;
        while let Some(&(at, key)) = self.arrivals.front() {
            if now.is_some_and(|now| at + self.window > now) {
                break;
            }
            self.arrivals.pop_front();
            if self.waiting.contains_key(&key) {
                cutoff = Some(cutoff.map_or(key, |c| c.max(key)));
            }
        }
        let Some(cutoff) = cutoff else { return };
        while self.waiting.first_key_value().is_some_and(|(k, _)| *k <= cutoff) {
            self.release_first(out);
        }
        if self.waiting.is_empty() {
            self.arrivals.clear();
        }
    }

    fn release_first(&mut self, out: &mut Out) {
        if let Some(((stamp, _), w)) = self.waiting.pop_first() {
            self.last_out = Some(self.last_out.map_or(stamp, |l| l.max(stamp)));
            out.push(w, Some(stamp), false, self.grouped);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(source: SourceId, lines: &[(i64, &str)]) -> Batch {
        let mut b = Batch::new(source, Generation::next(), 0, Vec::new());
        for &(t, text) in lines {
            let pos = b.bytes.len();
            b.stamps.push((pos, Stamp::from_nanos(t)));
            b.bytes.extend_from_slice(text.as_bytes());
            b.bytes.push(b'\n');
        }
        b
    }

    fn texts(out: &Out) -> Vec<(String, bool)> {
        out.batches
            .iter()
            .flat_map(|b| b.records(b'\n').map(|r| (String::from_utf8_lossy(r.bytes).into_owned(), r.late)))
            .collect()
    }

    #[test]
    fn records_wait_for_earlier_ones_and_late_ones_go_out_at_once_marked() {
        let mut r = Reorder::new(Duration::from_millis(100), false);
        let t0 = Instant::now();
        let mut out = Out::default();
        r.add(&batch(0, &[(80, "a80")]), b'\n', t0, &mut out);
        r.add(&batch(1, &[(50, "b50"), (90, "b90")]), b'\n', t0 + Duration::from_millis(30), &mut out);
        assert!(out.batches.is_empty());
        assert_eq!(r.due(), Some(t0 + Duration::from_millis(100)));
        r.release(Some(t0 + Duration::from_millis(100)), &mut out);
        // a80's wait is over: it goes, and b50 before it; b90 still waits.
        assert_eq!(texts(&out), [("b50".into(), false), ("a80".into(), false)]);
        let mut out = Out::default();
        r.add(&batch(0, &[(60, "a60")]), b'\n', t0 + Duration::from_millis(110), &mut out);
        assert_eq!(texts(&out), [("a60".into(), true)], "later than the window: at once, late");
        let mut out = Out::default();
        r.release(None, &mut out);
        assert_eq!(texts(&out), [("b90".into(), false)]);
        assert_eq!(r.due(), None);
    }
}
