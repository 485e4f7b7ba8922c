//! `--multiline`: lines grouped into records, a record being the line that starts it and the
//! continuation lines after it (a Python traceback, Java's `at …` and `Caused by:`, a Go panic).
//!
//! The sink groups each source's lines as they come ([`Grouper`]), before stamps and filters,
//! so a record moves as one unit: `--grep` matches anywhere in it and keeps all of it. A record
//! is complete when the next one starts; the last one is held back until then, or until its
//! source has been quiet for [`RECORD_QUIET`], or the input ends (the end of a file in static
//! mode, a rotation or truncation, the end of the run). A record longer than the limits is cut
//! there, with a notice; what follows is a record of its own.
//!
//! Where a record starts ([`Rule`]): at a line that matches `--record-start`; otherwise at a line
//! that begins with a timestamp in the layout detected for the file ([`crate::stamp`]); in a file
//! without timestamps, at a line that does not begin with a space or a tab. A blank line always
//! continues the record before it.
//!
//! Grouped batches carry the position of each record's first byte ([`Batch::starts`]); what is
//! held is whole lines of one file generation, so offsets and exactly-once hold as before: held
//! bytes are always sent, never dropped, and before anything later from the same source.

use std::time::{Duration, Instant};

use memchr::memchr;
use regex::bytes::Regex;

use crate::record::{Batch, Generation, SourceId};
use crate::stamp::Stamper;

/// How long a source may be quiet before its held record is taken as complete.
pub(crate) const RECORD_QUIET: Duration = Duration::from_millis(300);

/// The default limits of one record.
pub(crate) const MAX_RECORD_LINES: usize = 1000;
pub(crate) const MAX_RECORD_BYTES: usize = 1 << 20;

/// Where records start.
#[derive(Debug, Clone)]
pub(crate) enum Rule {
    /// At a timestamp in the file's layout, or else at a line not indented.
    Detected,
    /// At a line `--record-start` matches.
    Regex(Regex),
}

/// `--multiline`'s settings.
#[derive(Debug, Clone)]
pub(crate) struct Multiline {
    pub(crate) rule: Rule,
    pub(crate) max_lines: usize,
    pub(crate) max_bytes: usize,
}

/// One source's record still open: whole lines from the start of a record.
#[derive(Debug)]
struct Held {
    generation: Generation,
    offset: u64,
    bytes: Vec<u8>,
    lines: usize,
    /// When the source last gave it bytes.
    since: Instant,
}

/// What grouping one batch gave: the complete records, and whether one was cut at a limit.
pub(crate) struct Grouped {
    pub(crate) batches: Vec<Batch>,
    pub(crate) cut: bool,
}

/// Groups one source's lines into records.
#[derive(Debug, Default)]
pub(crate) struct Grouper {
    held: Option<Held>,
}

impl Grouper {
    /// Group `batch` (whole lines; its last may lack the delimiter: the end of its generation)
    /// after what is held. Complete records come out; the last record stays held unless the
    /// batch ended without a delimiter.
    pub(crate) fn group(
        &mut self,
        batch: Batch,
        delim: u8,
        settings: &Multiline,
        stamper: &mut Stamper,
    ) -> Grouped {
        let mut out = Grouped { batches: Vec::new(), cut: false };
        // Another generation, or bytes that do not follow the held ones: the held record ended.
        if let Some(held) = &self.held
            && (held.generation != batch.generation || held.offset + held.bytes.len() as u64 != batch.offset)
        {
            out.batches.extend(self.take(batch.source));
        }
        let mut batch = batch;
        if self.held.is_some() {
            self.close_held(&mut batch, delim, settings, stamper, &mut out);
        }
        let source = batch.source;
        let generation = batch.generation;
        let (offset, mut lines, held_len, mut bytes) = match self.held.take() {
            Some(held) => {
                let held_len = held.bytes.len();
                let mut bytes = held.bytes;
                bytes.extend_from_slice(&batch.bytes);
                (held.offset, held.lines, held_len, bytes)
            }
            None => (batch.offset, 0, 0, batch.bytes),
        };
        let ended = bytes.last() != Some(&delim);
        // Where each record starts; the one being built starts at `starts.last()` and has
        // `lines` lines and `record_bytes` bytes so far (the held ones, at the front, included).
        let mut starts = Vec::new();
        let mut pos = 0;
        let mut record_bytes = 0;
        if held_len > 0 {
            starts.push(0);
            pos = held_len;
            record_bytes = held_len;
        }
        while pos < bytes.len() {
            let end = memchr(delim, &bytes[pos..]).map_or(bytes.len(), |i| pos + i + 1);
            let line = &bytes[pos..end];
            let body = line.strip_suffix(&[delim]).unwrap_or(line);
            let begins = starts.is_empty() || starts_record(body, settings, stamper);
            let over =
                !begins && (lines >= settings.max_lines || record_bytes + line.len() > settings.max_bytes);
            if begins || over {
                out.cut |= over;
                starts.push(pos);
                lines = 0;
                record_bytes = 0;
            }
            lines += 1;
            record_bytes += line.len();
            pos = end;
        }
        let keep_from = if ended { bytes.len() } else { starts.last().copied().unwrap_or(bytes.len()) };
        if keep_from < bytes.len() {
            self.held = Some(Held {
                generation,
                offset: offset + keep_from as u64,
                bytes: bytes[keep_from..].to_vec(),
                lines,
                since: Instant::now(),
            });
            starts.pop();
            bytes.truncate(keep_from);
        }
        if !bytes.is_empty() {
            let mut done = Batch::new(source, generation, offset, bytes);
            done.starts = starts;
            out.batches.push(done);
        }
        out
    }

    /// When `batch` holds the start of a record, the held record ends before it: it goes out
    /// with the lines before that start (continuation lines), which leave `batch`. The batch is
    /// not copied behind the held bytes, as writers mostly write whole records. (Past a limit,
    /// or with no record start in the batch, [`Grouper::group`] joins them as a whole.)
    fn close_held(
        &mut self,
        batch: &mut Batch,
        delim: u8,
        settings: &Multiline,
        stamper: &Stamper,
        out: &mut Grouped,
    ) {
        let Some(held) = self.held.as_mut() else { return };
        let bytes = &batch.bytes;
        let (mut pos, mut lines) = (0, 0);
        while pos < bytes.len() {
            let end = memchr(delim, &bytes[pos..]).map_or(bytes.len(), |i| pos + i + 1);
            let line = &bytes[pos..end];
            if end == bytes.len() && line.last() != Some(&delim) {
                // An unfinished last line: the batch ends its generation; leave it to group.
                return;
            }
            if starts_record(line.strip_suffix(&[delim]).unwrap_or(line), settings, stamper) {
                break;
            }
            lines += 1;
            pos = end;
        }
        if pos == bytes.len()
            || held.lines + lines > settings.max_lines
            || held.bytes.len() + pos > settings.max_bytes
        {
            return;
        }
        held.bytes.extend_from_slice(&bytes[..pos]);
        out.batches.extend(self.take(batch.source));
        batch.bytes.drain(..pos);
        batch.offset += pos as u64;
    }

    /// The held record, as complete.
    pub(crate) fn take(&mut self, source: SourceId) -> Option<Batch> {
        let held = self.held.take()?;
        let mut batch = Batch::new(source, held.generation, held.offset, held.bytes);
        batch.starts = vec![0];
        Some(batch)
    }

    /// When the held record is due to be taken as complete.
    pub(crate) fn due(&self) -> Option<Instant> {
        self.held.as_ref().map(|h| h.since + RECORD_QUIET)
    }
}

/// Where records start in `bytes` (whole lines, the first at a line start): the position of each
/// line that starts one, in order. The stamper is shown the lines first, for the layout.
pub(crate) fn record_starts(
    bytes: &[u8],
    delim: u8,
    settings: &Multiline,
    stamper: &mut Stamper,
) -> Vec<usize> {
    stamper.look_at(bytes.split(|&b| b == delim));
    let mut starts = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let end = memchr(delim, &bytes[pos..]).map_or(bytes.len(), |i| pos + i + 1);
        let line = &bytes[pos..end];
        if starts_record(line.strip_suffix(&[delim]).unwrap_or(line), settings, stamper) {
            starts.push(pos);
        }
        pos = end;
    }
    starts
}

/// Whether `line` (without its delimiter) starts a record.
fn starts_record(line: &[u8], settings: &Multiline, stamper: &Stamper) -> bool {
    if line.iter().all(|b| b.is_ascii_whitespace()) {
        return false;
    }
    match &settings.rule {
        Rule::Regex(re) => re.is_match(line),
        Rule::Detected => match stamper.starts_with_stamp(line) {
            Some(starts) => starts,
            None => !matches!(line.first(), Some(b' ' | b'\t')),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stamp::Stamp;

    fn settings(rule: Rule) -> Multiline {
        Multiline { rule, max_lines: MAX_RECORD_LINES, max_bytes: MAX_RECORD_BYTES }
    }

    fn stamper() -> Stamper {
        Stamper::for_records(Stamp::from_nanos(0), jiff::tz::TimeZone::UTC)
    }

    /// The records of what came out, as text, one string per record.
    fn records(grouped: &Grouped) -> Vec<String> {
        grouped
            .batches
            .iter()
            .flat_map(|b| b.records(b'\n').map(|r| String::from_utf8_lossy(r.bytes).into_owned()))
            .collect()
    }

    fn feed(
        g: &mut Grouper,
        s: &mut Stamper,
        rule: &Multiline,
        generation: Generation,
        at: u64,
        text: &str,
    ) -> Grouped {
        let batch = Batch::new(0, generation, at, text.as_bytes().to_vec());
        s.look_at(batch.bytes.split(|&b| b == b'\n'));
        g.group(batch, b'\n', rule, s)
    }

    #[test]
    fn a_traceback_is_one_record_and_the_last_is_held_until_the_next_starts() {
        let (mut g, mut s, rule) = (Grouper::default(), stamper(), settings(Rule::Detected));
        let generation = Generation::next();
        let one = "2026-12-01 10:00:00,1 ERROR boom\nTraceback (most recent call last):\n  File \"x\"\nValueError: x\n";
        let out = feed(&mut g, &mut s, &rule, generation, 0, one);
        assert!(records(&out).is_empty(), "held: it may go on");
        let two = "2026-12-01 10:00:01,2 INFO next\n";
        let out = feed(&mut g, &mut s, &rule, generation, one.len() as u64, two);
        assert_eq!(records(&out), [one.trim_end()]);
        assert_eq!(out.batches[0].offset, 0);
        let last = g.take(0).expect("held");
        assert_eq!(last.offset, one.len() as u64);
        assert_eq!(
            last.records(b'\n').map(|r| r.bytes.to_vec()).collect::<Vec<_>>(),
            [two.trim_end().as_bytes()]
        );
    }

    #[test]
    fn without_stamps_indented_lines_continue_and_a_regex_decides_when_given() {
        let (mut g, mut s, rule) = (Grouper::default(), stamper(), settings(Rule::Detected));
        let generation = Generation::next();
        let out = feed(&mut g, &mut s, &rule, generation, 0, "panic: x\n\tat a\n\n  at b\nnext\nlast");
        assert_eq!(records(&out), ["panic: x\n\tat a\n\n  at b", "next", "last"], "no newline: the end");
        let rule = settings(Rule::Regex(Regex::new("^BEGIN").expect("regex")));
        let mut g = Grouper::default();
        let out = feed(&mut g, &mut s, &rule, generation, 0, "BEGIN 1\nx\nBEGIN 2\ny\n");
        assert_eq!(records(&out), ["BEGIN 1\nx"]);
        assert_eq!(
            records(&Grouped { batches: g.take(0).into_iter().collect(), cut: false }),
            ["BEGIN 2\ny"]
        );
    }

    #[test]
    fn a_record_over_the_limit_is_cut_and_a_new_generation_ends_the_held_one() {
        let (mut g, mut s) = (Grouper::default(), stamper());
        let rule = Multiline {
            rule: Rule::Regex(Regex::new("^S").expect("regex")),
            max_lines: 3,
            max_bytes: 1 << 20,
        };
        let generation = Generation::next();
        let out = feed(&mut g, &mut s, &rule, generation, 0, "S\n1\n2\n3\n4\n");
        assert!(out.cut);
        assert_eq!(records(&out), ["S\n1\n2"]);
        let out = feed(&mut g, &mut s, &rule, Generation::next(), 0, "S new\n");
        assert_eq!(records(&out), ["3\n4"], "the old generation's record, complete");
    }
}
