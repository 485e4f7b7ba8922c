//! The hub: the web view's output, and the bounded replay ring its clients read from.
//!
//! The printer thread hands the hub every record and event ([`HubOutput`], an
//! [`Output`](crate::output::Output)); the hub encodes each one once, as the object `--json`
//! prints, gives it the next sequence number and appends it to the ring, dropping the oldest
//! entries past [`RING_RECORDS`] or [`RING_BYTES`]. That is all the printer ever does for the
//! web: it takes one short lock per batch and never waits for a client.
//!
//! Each client reads from the ring at its own pace, from the sequence number it has reached. A
//! client that falls further behind than the ring reaches is told how many entries it missed
//! (`skipped`) and goes on from the oldest one kept: a slow or stalled client costs the engine,
//! the terminal and the other clients nothing, and memory stays bounded whatever it does.

use std::collections::VecDeque;
use std::fs::File;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::watch;

use crate::output::json::Encoder;
use crate::output::{Fail, Output};
use crate::record::{Batch, Event, EventKind, SourceId};

/// The most entries the ring keeps.
pub(crate) const RING_RECORDS: usize = 10_000;
/// The most bytes (encoded objects and line texts) the ring keeps.
pub(crate) const RING_BYTES: usize = 8 << 20;

/// What an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A record (a line).
    Record,
    /// An event: rotation, truncation, a name gone or back, the command's exit.
    Notice,
}

/// One record or event, encoded.
struct Entry {
    kind: Kind,
    /// The object `--json` prints for it, without the newline.
    json: Box<[u8]>,
    /// A record's text (without its delimiter); empty for an event.
    line: Box<[u8]>,
}

impl Entry {
    fn size(&self) -> usize {
        self.json.len() + self.line.len()
    }
}

/// The ring, under the hub's lock.
struct Ring {
    entries: VecDeque<Entry>,
    /// Sequence number of `entries[0]`; numbers start at 1, so 0 means "none seen".
    first: u64,
    bytes: usize,
    /// No record will come any more (every input ended, or rtail is stopping).
    ended: bool,
}

impl Ring {
    fn next(&self) -> u64 {
        self.first + self.entries.len() as u64
    }

    fn push(&mut self, entry: Entry) {
        self.bytes += entry.size();
        self.entries.push_back(entry);
        while self.entries.len() > RING_RECORDS || (self.bytes > RING_BYTES && self.entries.len() > 1) {
            if let Some(old) = self.entries.pop_front() {
                self.bytes -= old.size();
                self.first += 1;
            }
        }
    }
}

/// How a client wants entries written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// Server-Sent Events: `id:`, `event:` for events, `data:` with the JSON object.
    Sse,
    /// The lines' text, one per line; events are left out.
    Lines,
}

/// What one [`Hub::read`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Reading {
    /// Entries the client asked for that the ring no longer holds.
    pub(crate) skipped: u64,
    /// The sequence number to read from next time.
    pub(crate) next: u64,
    /// No more entries will come, and the client has them all.
    pub(crate) done: bool,
}

/// The ring and the bell its readers wait on; shared by the printer and the server.
pub(crate) struct Hub {
    ring: Mutex<Ring>,
    /// Rung (with the next sequence number) whenever entries arrive or the stream ends.
    bell: watch::Sender<u64>,
    /// Each source's `path`, as records and events carry it (sources found while following
    /// are added, renamed ones renamed).
    paths: Mutex<Vec<String>>,
}

impl Hub {
    pub(crate) fn new(paths: Vec<String>) -> Arc<Hub> {
        let ring = Ring { entries: VecDeque::new(), first: 1, bytes: 0, ended: false };
        Arc::new(Hub { ring: Mutex::new(ring), bell: watch::Sender::new(1), paths: Mutex::new(paths) })
    }

    fn lock(&self) -> MutexGuard<'_, Ring> {
        self.ring.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The sources' paths, in input order.
    pub(crate) fn paths(&self) -> Vec<String> {
        self.paths.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn set_path(&self, source: SourceId, path: String) {
        let mut paths = self.paths.lock().unwrap_or_else(PoisonError::into_inner);
        if source >= paths.len() {
            paths.resize(source + 1, String::new());
        }
        paths[source] = path;
    }

    /// A receiver that sees every change of the ring.
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.bell.subscribe()
    }

    /// The sequence number a client starts from: right after `resumed` (its `Last-Event-ID`;
    /// entries the ring no longer holds are then reported as skipped), or with the last
    /// `backlog` entries. A resumed number this run never gave (a client of an earlier run)
    /// counts as none.
    pub(crate) fn start_from(&self, resumed: Option<u64>, backlog: u64) -> u64 {
        let ring = self.lock();
        match resumed {
            Some(last) if last < ring.next() => last + 1,
            _ => ring.next().saturating_sub(backlog).max(ring.first),
        }
    }

    fn append(&self, entries: Vec<Entry>) {
        if entries.is_empty() {
            return;
        }
        let next = {
            let mut ring = self.lock();
            for entry in entries {
                ring.push(entry);
            }
            ring.next()
        };
        self.bell.send_replace(next);
    }

    /// No record will come any more.
    pub(crate) fn end(&self) {
        let next = {
            let mut ring = self.lock();
            ring.ended = true;
            ring.next()
        };
        // Every send wakes the receivers, whether the value changed or not.
        self.bell.send_replace(next);
    }

    /// Append entries from sequence number `from` on to `out`, in `format`, until about
    /// `budget` bytes were added (at least one entry when there is one).
    pub(crate) fn read(&self, from: u64, format: Format, budget: usize, out: &mut Vec<u8>) -> Reading {
        let ring = self.lock();
        let skipped = ring.first.saturating_sub(from);
        let mut at = from.max(ring.first);
        let start = out.len();
        while at < ring.next() && out.len() - start < budget {
            let entry = &ring.entries[(at - ring.first) as usize];
            write_entry(out, at, entry, format);
            at += 1;
        }
        Reading { skipped, next: at, done: ring.ended && at == ring.next() }
    }
}

fn write_entry(out: &mut Vec<u8>, id: u64, entry: &Entry, format: Format) {
    match format {
        Format::Sse => {
            out.extend_from_slice(b"id: ");
            out.extend_from_slice(itoa::Buffer::new().format(id).as_bytes());
            if entry.kind == Kind::Notice {
                out.extend_from_slice(b"\nevent: notice");
            }
            out.extend_from_slice(b"\ndata: ");
            // JSON has no raw newline inside: one data line.
            out.extend_from_slice(&entry.json);
            out.extend_from_slice(b"\n\n");
        }
        Format::Lines if entry.kind == Kind::Record => {
            out.extend_from_slice(&entry.line);
            out.push(b'\n');
        }
        Format::Lines => {}
    }
}

/// The hub as one of the run's outputs (on the printer thread).
pub(crate) struct HubOutput {
    hub: Arc<Hub>,
    encoder: Encoder,
    delim: u8,
}

impl HubOutput {
    pub(crate) fn new(hub: Arc<Hub>, delim: u8) -> HubOutput {
        let encoder = Encoder::new(hub.paths());
        HubOutput { hub, encoder, delim }
    }
}

impl Output for HubOutput {
    fn header(&mut self, _source: SourceId) -> Result<(), Fail> {
        Ok(())
    }

    fn name(&mut self, source: SourceId, name: &[u8]) {
        self.encoder.set_path(source, name);
        self.hub.set_path(source, String::from_utf8_lossy(name).into_owned());
    }

    fn batch(&mut self, batch: &Batch) -> Result<(), Fail> {
        // Encoded before the lock is taken: readers wait only for the appends.
        let mut entries = Vec::new();
        let mut json = Vec::new();
        for record in batch.records(self.delim) {
            json.clear();
            self.encoder.record(&mut json, batch.source, &record);
            entries.push(Entry {
                kind: Kind::Record,
                json: json.as_slice().into(),
                line: record.bytes.into(),
            });
        }
        self.hub.append(entries);
        Ok(())
    }

    fn range(&mut self, _source: SourceId, _file: &File, _start: u64, _end: u64) -> Result<(), Fail> {
        // A run that serves is never plain: its producers send records, not ranges.
        Err(Fail::Other(crate::error::Error::Internal("a file range reached the web view".into())))
    }

    fn event(&mut self, event: &Event) -> Result<(), Fail> {
        if event.kind == EventKind::Following {
            return Ok(());
        }
        let mut json = Vec::new();
        self.encoder.event(&mut json, event);
        self.hub.append(vec![Entry { kind: Kind::Notice, json: json.into(), line: Box::default() }]);
        Ok(())
    }

    fn mark(&mut self, _n: u64) -> Result<(), Fail> {
        Ok(())
    }

    fn flush(&mut self) -> Result<(), Fail> {
        Ok(())
    }

    fn close(&mut self) -> Result<(), Fail> {
        self.hub.end();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Generation;

    fn hub_with(lines: usize) -> Arc<Hub> {
        let hub = Hub::new(vec!["a.log".into()]);
        let mut out = HubOutput::new(Arc::clone(&hub), b'\n');
        let text: String = (0..lines).map(|i| format!("line {i}\n")).collect();
        out.batch(&Batch::new(0, Generation::next(), 0, text.into_bytes())).expect("batch");
        hub
    }

    #[test]
    fn sse_frames_carry_the_json_object_and_a_sequence_number() {
        let hub = hub_with(2);
        let mut out = Vec::new();
        let r = hub.read(1, Format::Sse, usize::MAX, &mut out);
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "id: 1\ndata: {\"path\":\"a.log\",\"offset\":0,\"line\":\"line 0\"}\n\n\
             id: 2\ndata: {\"path\":\"a.log\",\"offset\":7,\"line\":\"line 1\"}\n\n"
        );
        assert_eq!(r, Reading { skipped: 0, next: 3, done: false });
        hub.end();
        assert!(hub.read(3, Format::Sse, usize::MAX, &mut Vec::new()).done);
    }

    #[test]
    fn the_ring_keeps_the_newest_and_says_what_a_late_reader_missed() {
        let hub = hub_with(RING_RECORDS + 5);
        let mut out = Vec::new();
        let r = hub.read(1, Format::Lines, 1, &mut out);
        assert_eq!(r.skipped, 5);
        assert_eq!(out, b"line 5\n");
        assert_eq!(r.next, 7);
        assert_eq!(hub.start_from(None, 3), RING_RECORDS as u64 + 3);
        assert_eq!(hub.start_from(None, u64::MAX), 6);
        assert_eq!(hub.start_from(Some(2), 3), 3);
        assert_eq!(hub.start_from(Some(RING_RECORDS as u64 + 5), 3), RING_RECORDS as u64 + 6);
        // A number from another run: as if none.
        assert_eq!(hub.start_from(Some(1 << 40), 3), RING_RECORDS as u64 + 3);
    }

    #[test]
    fn the_ring_is_bounded_in_bytes_too() {
        let hub = Hub::new(vec!["a".into()]);
        let mut out = HubOutput::new(Arc::clone(&hub), b'\n');
        let big = format!("{}\n", "x".repeat(1 << 20));
        for _ in 0..10 {
            out.batch(&Batch::new(0, Generation::next(), 0, big.clone().into_bytes())).expect("batch");
        }
        let ring = hub.lock();
        assert!(ring.bytes <= RING_BYTES, "{} bytes kept", ring.bytes);
        assert!(ring.entries.len() >= 3);
    }
}
