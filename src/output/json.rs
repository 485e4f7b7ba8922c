//! The JSON lines output (`--json`): one object per record and per event, one line each, on
//! standard output, for programs to read.
//!
//! ```text
//! {"path":"logs/app.log","offset":1234,"line":"GET /health 200"}
//! {"path":"logs/app.log","offset":1250,"ts":"2026-12-01T09:00:00.123Z","line":"2026-12-01 10:00:00,123 ok"}
//! {"path":"logs/app.log","offset":1283,"line":"half a line","partial":true}
//! {"path":"logs/app.log","event":"truncated","message":"logs/app.log: file truncated"}
//! ```
//!
//! `ts` (when the sink stamped the record: [`crate::stamp::Stamper`]) is its time in RFC 3339,
//! UTC. `path` is the operand as given (`-` for standard input; for a followed command's output its
//! words, and `WORDS (stderr)` for its standard error), `offset` the byte offset of the
//! record's first byte in its file generation. A record that is not valid UTF-8 has its text
//! with U+FFFD in place of the bad bytes in `line`, and its exact bytes in `line_base64`.
//! Most records are valid UTF-8 with nothing to escape; for them the object is put together
//! from the source's pre-encoded `{"path":…,"offset":` and the line's bytes as they are, which is
//! what serde_json would write, byte for byte (a unit test holds the two to that). Every other
//! record, and every event, goes through serde_json.
//!
//! Events that concern no one file (`gone`, `following`, `exited`) have no `path`; `exited`
//! carries the followed command's `status`. `{"event":"following"}`
//! says the initial output is done and every file is watched; `{"event":"mark","mark":N}`
//! answers the Nth SIGUSR1 (from 0) once every file was read to its end. serde_json does the encoding, so
//! the output is valid JSON whatever the bytes; buffering and flushing are the terminal's.

use std::borrow::Cow;
use std::fs::File;

use base64::Engine as _;
use memchr::memchr;
use serde::Serialize;

use super::stdout::Stdout;
use super::{Fail, Output};
use crate::error::Error;
use crate::record::{Batch, Event, Record, SourceId};

/// One record's object.
#[derive(Serialize)]
struct RecordLine<'a> {
    path: &'a str,
    offset: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    line_number: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ts: Option<&'a str>,
    line: Cow<'a, str>,
    #[serde(skip_serializing_if = "is_false")]
    partial: bool,
    #[serde(skip_serializing_if = "is_false")]
    late: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    line_base64: Option<String>,
}

/// One event's object.
#[derive(Serialize)]
struct EventLine<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a str>,
    event: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<i32>,
}

/// A mark's object: every file was read to its end when it was asked for.
#[derive(Serialize)]
struct MarkLine {
    event: &'static str,
    mark: u64,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// `{"path":"…","offset":` for `path`, as serde_json encodes the path.
fn prefix(path: &str) -> Vec<u8> {
    let mut out = b"{\"path\":".to_vec();
    // Writing a string into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut out, path);
    out.extend_from_slice(b",\"offset\":");
    out
}

/// Whether JSON needs any of these bytes escaped (a quote, a backslash or a control
/// character), and whether they are all ASCII (then valid UTF-8 too): one pass, without an
/// early exit. On x86-64, 16 bytes at a time with SSE2 (part of every x86-64 CPU): a loop over
/// the bytes took about 2 instructions a byte, a third of the JSON output's cost.
fn scan(bytes: &[u8]) -> (bool, bool) {
    #[cfg(target_arch = "x86_64")]
    {
        if bytes.len() >= 16 {
            sse2_scan(bytes)
        } else {
            // Padded with spaces, which neither need escaping nor are beyond ASCII.
            let mut padded = [b' '; 16];
            padded[..bytes.len()].copy_from_slice(bytes);
            sse2_scan(&padded)
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let (mut escape, mut all) = (0u8, 0u8);
        for &b in bytes {
            escape |= u8::from(b < 0x20) | u8::from(b == b'"') | u8::from(b == b'\\');
            all |= b;
        }
        (escape != 0, all < 0x80)
    }
}

/// [`scan`] of at least 16 bytes: 16 at a time, the last 16 overlapping the ones before (an
/// or of flags does not mind seeing a byte twice).
#[cfg(target_arch = "x86_64")]
fn sse2_scan(bytes: &[u8]) -> (bool, bool) {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8, _mm_setzero_si128,
    };
    assert!(bytes.len() >= 16);
    let last = &bytes[bytes.len() - 16..];
    // SAFETY: SSE2 is part of the x86-64 baseline, so these instructions exist on every CPU
    // this code runs on; each unaligned load reads one 16-byte chunk of `bytes`.
    unsafe {
        let control = _mm_set1_epi8(0x1f);
        let (quote, backslash) = (_mm_set1_epi8(b'"' as i8), _mm_set1_epi8(b'\\' as i8));
        let (mut escape, mut all) = (_mm_setzero_si128(), _mm_setzero_si128());
        for chunk in bytes.chunks_exact(16).chain(std::iter::once(last)) {
            let v = _mm_loadu_si128(chunk.as_ptr().cast::<__m128i>());
            // A byte is at most 0x1f when max(byte, 0x1f) is 0x1f.
            let low = _mm_cmpeq_epi8(_mm_max_epu8(v, control), control);
            let special = _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash));
            escape = _mm_or_si128(escape, _mm_or_si128(low, special));
            all = _mm_or_si128(all, v);
        }
        (_mm_movemask_epi8(escape) != 0, _mm_movemask_epi8(all) == 0)
    }
}

/// Whether records of `bytes` ended by `delim` need no escaping and are valid UTF-8: no byte
/// other than `delim` is a quote, a backslash or a control character, and the whole is valid
/// UTF-8 (then so is every record, as records end at an ASCII byte). One pass over a whole
/// batch, on the thread that reads (the sink, [`crate::record::Batch::plain_stamped`]), so the
/// output's thread need not look at each record. On x86-64, 16 bytes at a time with SSE2.
pub(crate) fn plain_text(bytes: &[u8], delim: u8) -> bool {
    #[cfg(target_arch = "x86_64")]
    let (mut escape, mut ascii, rest) = sse2_plain(bytes, delim);
    #[cfg(not(target_arch = "x86_64"))]
    let (mut escape, mut ascii, rest) = (false, true, bytes);
    for &b in rest {
        escape |= (b < 0x20 && b != delim) || b == b'"' || b == b'\\';
        ascii &= b < 0x80;
    }
    !escape && (ascii || std::str::from_utf8(bytes).is_ok())
}

/// [`plain_text`]'s flags for the whole 16-byte chunks of `bytes`, and the bytes left after
/// them.
#[cfg(target_arch = "x86_64")]
fn sse2_plain(bytes: &[u8], delim: u8) -> (bool, bool, &[u8]) {
    use std::arch::x86_64::{
        __m128i, _mm_andnot_si128, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_movemask_epi8,
        _mm_or_si128, _mm_set1_epi8, _mm_setzero_si128,
    };
    let chunks = bytes.chunks_exact(16);
    let rest = chunks.remainder();
    // SAFETY: SSE2 is part of the x86-64 baseline; each unaligned load reads one 16-byte chunk
    // of `bytes`.
    unsafe {
        let control = _mm_set1_epi8(0x1f);
        let (quote, backslash) = (_mm_set1_epi8(b'"' as i8), _mm_set1_epi8(b'\\' as i8));
        let end = _mm_set1_epi8(delim as i8);
        let (mut escapes, mut all) = (_mm_setzero_si128(), _mm_setzero_si128());
        for chunk in chunks {
            let v = _mm_loadu_si128(chunk.as_ptr().cast::<__m128i>());
            let low = _mm_cmpeq_epi8(_mm_max_epu8(v, control), control);
            // A delimiter that is a control character (`-z`'s NUL) is not escaped: it ends a
            // record.
            let low = _mm_andnot_si128(_mm_cmpeq_epi8(v, end), low);
            let special = _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash));
            escapes = _mm_or_si128(escapes, _mm_or_si128(low, special));
            all = _mm_or_si128(all, v);
        }
        (_mm_movemask_epi8(escapes) != 0, _mm_movemask_epi8(all) == 0, rest)
    }
}

/// The first record of `bytes`: its length (without the delimiter), whether the delimiter ends
/// it, and [`scan`]'s answers for it, all in one pass (finding the delimiter and scanning apart
/// went over every byte twice). On x86-64, 16 bytes at a time with SSE2.
fn split(bytes: &[u8], delim: u8) -> (usize, bool, bool, bool) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{
            __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_movemask_epi8, _mm_or_si128,
            _mm_set1_epi8, _mm_setzero_si128,
        };
        let mut pos = 0;
        let (mut escape, mut high) = (0u32, 0u32);
        // SAFETY: SSE2 is part of the x86-64 baseline; each unaligned load reads 16 bytes of
        // `bytes` (the loop stops while 16 remain).
        unsafe {
            let control = _mm_set1_epi8(0x1f);
            let (quote, backslash) = (_mm_set1_epi8(b'"' as i8), _mm_set1_epi8(b'\\' as i8));
            let end = _mm_set1_epi8(delim as i8);
            // Whole chunks before the delimiter's are or-ed together, and looked at once.
            let (mut escapes, mut all) = (_mm_setzero_si128(), _mm_setzero_si128());
            while pos + 16 <= bytes.len() {
                let v = _mm_loadu_si128(bytes.as_ptr().add(pos).cast::<__m128i>());
                let low = _mm_cmpeq_epi8(_mm_max_epu8(v, control), control);
                let special = _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash));
                let e = _mm_or_si128(low, special);
                let d = _mm_movemask_epi8(_mm_cmpeq_epi8(v, end)) as u32;
                if d != 0 {
                    let at = d.trailing_zeros();
                    let before = (1u32 << at) - 1;
                    escape = (_mm_movemask_epi8(escapes) as u32) | (_mm_movemask_epi8(e) as u32 & before);
                    high = (_mm_movemask_epi8(all) as u32) | (_mm_movemask_epi8(v) as u32 & before);
                    return (pos + at as usize, true, escape != 0, high == 0);
                }
                escapes = _mm_or_si128(escapes, e);
                all = _mm_or_si128(all, v);
                pos += 16;
            }
            escape |= _mm_movemask_epi8(escapes) as u32;
            high |= _mm_movemask_epi8(all) as u32;
        }
        // Fewer than 16 bytes left (the end of a batch).
        let rest = &bytes[pos..];
        let len = memchr(delim, rest).unwrap_or(rest.len());
        let (e, ascii) = scan(&rest[..len]);
        (pos + len, len < rest.len(), escape != 0 || e, high == 0 && ascii)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let len = memchr(delim, bytes).unwrap_or(bytes.len());
        let (escape, ascii) = scan(&bytes[..len]);
        (len, len < bytes.len(), escape, ascii)
    }
}

/// A record of valid UTF-8 with nothing to escape, as serde_json would encode [`RecordLine`].
fn plain_record(out: &mut Vec<u8>, prefix: &[u8], record: &Record<'_>) {
    let Record { offset, bytes: text, terminated, stamp, late, number } = *record;
    out.extend_from_slice(prefix);
    out.extend_from_slice(itoa::Buffer::new().format(offset).as_bytes());
    if let Some(number) = number {
        out.extend_from_slice(b",\"line_number\":");
        out.extend_from_slice(itoa::Buffer::new().format(number).as_bytes());
    }
    if let Some(stamp) = stamp {
        out.extend_from_slice(b",\"ts\":\"");
        stamp.write_rfc3339(out);
        out.push(b'"');
    }
    out.extend_from_slice(b",\"line\":\"");
    out.extend_from_slice(text);
    out.push(b'"');
    if !terminated {
        out.extend_from_slice(b",\"partial\":true");
    }
    if late {
        out.extend_from_slice(b",\"late\":true");
    }
    out.push(b'}');
}

/// Encodes records and events as JSON objects (without the newline): for `--json` and for the
/// web view's events, which carry the same objects.
pub(crate) struct Encoder {
    /// Each source's `path`, by [`SourceId`].
    paths: Vec<String>,
    /// Each source's `{"path":"…","offset":`, encoded once.
    prefixes: Vec<Vec<u8>>,
}

impl Encoder {
    /// `paths`: each input's name as given (`-` for standard input).
    pub(crate) fn new(paths: Vec<String>) -> Encoder {
        let prefixes = paths.iter().map(|p| prefix(p)).collect();
        Encoder { paths, prefixes }
    }

    /// Source `source` is called `name` from now on ([`crate::pipeline::Msg::Name`]).
    pub(crate) fn set_path(&mut self, source: SourceId, name: &[u8]) {
        let path = String::from_utf8_lossy(name).into_owned();
        if source >= self.paths.len() {
            self.paths.resize(source + 1, String::new());
            self.prefixes.resize(source + 1, Vec::new());
        }
        self.prefixes[source] = prefix(&path);
        self.paths[source] = path;
    }

    /// Append the object of one record of `source`.
    pub(crate) fn record(&self, out: &mut Vec<u8>, source: SourceId, record: &Record<'_>) {
        let (escape, ascii) = scan(record.bytes);
        self.scanned_record(out, source, record, escape, ascii);
    }

    /// [`Encoder::record`] of a record whose bytes [`scan`] already looked at.
    fn scanned_record(
        &self,
        out: &mut Vec<u8>,
        source: SourceId,
        record: &Record<'_>,
        escape: bool,
        ascii: bool,
    ) {
        if !escape && (ascii || std::str::from_utf8(record.bytes).is_ok()) {
            plain_record(out, &self.prefixes[source], record);
            return;
        }
        let ts = record.stamp.map(|stamp| stamp.to_string());
        let (line, line_base64) = match std::str::from_utf8(record.bytes) {
            Ok(text) => (Cow::Borrowed(text), None),
            Err(_) => (
                String::from_utf8_lossy(record.bytes),
                Some(base64::engine::general_purpose::STANDARD.encode(record.bytes)),
            ),
        };
        let object = RecordLine {
            path: &self.paths[source],
            offset: record.offset,
            line_number: record.number,
            ts: ts.as_deref(),
            line,
            partial: !record.terminated,
            late: record.late,
            line_base64,
        };
        encode(out, &object);
    }

    /// Append the object of an event.
    pub(crate) fn event(&self, out: &mut Vec<u8>, event: &Event) {
        let path = event.source.map(|id| self.paths[id].as_str());
        encode(
            out,
            &EventLine { path, event: event.kind.name(), message: &event.message, status: event.status },
        );
    }
}

/// Append `value` as JSON. Encoding our own types into a `Vec` cannot fail: they hold strings
/// and numbers only.
fn encode(out: &mut Vec<u8>, value: &impl Serialize) {
    let _ = serde_json::to_writer(out, value);
}

/// Output buffer size: a JSON object is about twice its line, and a batch's objects (of up to
/// [`crate::pipeline::BLOCK`] bytes of lines) go out in one or two writes instead of four or
/// more, which a reader on the other end of a pipe is woken for.
const JSON_BUF: usize = 256 * 1024;

pub(crate) struct Json {
    out: Stdout,
    encoder: Encoder,
    delim: u8,
}

impl Json {
    /// `paths`: each input's name as given (`-` for standard input).
    pub(crate) fn new(paths: Vec<String>, delim: u8) -> Json {
        Json { out: Stdout::new(JSON_BUF), encoder: Encoder::new(paths), delim }
    }
}

impl Output for Json {
    fn header(&mut self, _source: SourceId) -> Result<(), Fail> {
        Ok(())
    }

    fn name(&mut self, source: SourceId, name: &[u8]) {
        self.encoder.set_path(source, name);
    }

    fn batch(&mut self, batch: &Batch) -> Result<(), Fail> {
        if !batch.jumps.is_empty()
            || !batch.starts.is_empty()
            || !batch.late.is_empty()
            || !batch.numbers.is_empty()
        {
            for record in batch.records(self.delim) {
                let buf = self.out.buffer()?;
                self.encoder.record(buf, batch.source, &record);
                buf.push(b'\n');
            }
            return Ok(());
        }
        let bytes = &batch.bytes[..];
        if batch.plain_stamped {
            // Each record starts where its stamp says and needs nothing done to its bytes.
            for (i, &(pos, stamp)) in batch.stamps.iter().enumerate() {
                let end = batch.stamps.get(i + 1).map_or(bytes.len(), |&(next, _)| next);
                let terminated = end > pos && bytes[end - 1] == self.delim;
                let record = Record {
                    offset: batch.offset + pos as u64,
                    bytes: &bytes[pos..end - usize::from(terminated)],
                    terminated,
                    stamp: Some(stamp),
                    late: false,
                    number: None,
                };
                let buf = self.out.buffer()?;
                plain_record(buf, &self.encoder.prefixes[batch.source], &record);
                buf.push(b'\n');
            }
            return Ok(());
        }
        // Contiguous records: one pass finds each one's end and what it needs (see `split`).
        let mut pos = 0;
        let mut next_stamp = 0;
        while pos < bytes.len() {
            let (len, terminated, escape, ascii) = split(&bytes[pos..], self.delim);
            let record = Record {
                offset: batch.offset + pos as u64,
                bytes: &bytes[pos..pos + len],
                terminated,
                stamp: batch.stamp_at(pos, &mut next_stamp),
                late: false,
                number: None,
            };
            let buf = self.out.buffer()?;
            self.encoder.scanned_record(buf, batch.source, &record, escape, ascii);
            buf.push(b'\n');
            pos += len + usize::from(terminated);
        }
        Ok(())
    }

    fn range(&mut self, _source: SourceId, _file: &File, _start: u64, _end: u64) -> Result<(), Fail> {
        // A run with a JSON output is never plain: its producers send records, not ranges.
        Err(Fail::Other(Error::Internal("a file range reached the JSON output".into())))
    }

    fn event(&mut self, event: &Event) -> Result<(), Fail> {
        let buf = self.out.buffer()?;
        self.encoder.event(buf, event);
        buf.push(b'\n');
        Ok(())
    }

    fn mark(&mut self, n: u64) -> Result<(), Fail> {
        let buf = self.out.buffer()?;
        encode(buf, &MarkLine { event: "mark", mark: n });
        buf.push(b'\n');
        Ok(())
    }

    fn flush(&mut self) -> Result<(), Fail> {
        self.out.flush()
    }

    fn close(&mut self) -> Result<(), Fail> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_finds_each_record_and_what_it_needs() {
        let reference = |bytes: &[u8], delim: u8| {
            let len = bytes.iter().position(|&b| b == delim).unwrap_or(bytes.len());
            let body = &bytes[..len];
            let escape = body.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\');
            (len, len < bytes.len(), escape, body.is_ascii())
        };
        for delim in [b'\n', 0] {
            for len in 0..50 {
                for end in [None, Some(len)] {
                    let mut base = vec![b'a'; len];
                    if let Some(at) = end {
                        base.insert(at, delim);
                        base.extend_from_slice(b"after \" \xff");
                    }
                    for at in 0..len {
                        for special in [0u8, b'\t', b'\n', 0x1f, b'"', b'\\', 0x20, 0x7f, 0x80, 0xff] {
                            let mut bytes = base.clone();
                            bytes[at] = special;
                            assert_eq!(
                                split(&bytes, delim),
                                reference(&bytes, delim),
                                "{delim} {len} {at} {special:#x}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn plain_text_passes_delimiters_and_nothing_else_to_escape() {
        let reference = |bytes: &[u8], delim: u8| {
            let escape = bytes.iter().any(|&b| (b < 0x20 && b != delim) || b == b'"' || b == b'\\');
            !escape && std::str::from_utf8(bytes).is_ok()
        };
        for delim in [b'\n', 0] {
            for len in 0..50 {
                let clean = vec![b'a'; len];
                assert!(plain_text(&clean, delim), "{len}");
                for at in 0..len {
                    for special in [0u8, b'\t', b'\n', 0x1f, b'"', b'\\', 0x20, 0x7f, 0x80, 0xff, b'~'] {
                        let mut bytes = clean.clone();
                        bytes[at] = special;
                        assert_eq!(
                            plain_text(&bytes, delim),
                            reference(&bytes, delim),
                            "{delim} {len} {at} {special:#x}"
                        );
                    }
                    // A two-byte character, whole or cut at either end (across a 16-byte chunk
                    // boundary too).
                    for e in ["\u{e9}".as_bytes(), &[0xc3], &[0xa9]] {
                        let mut bytes = clean.clone();
                        bytes.splice(at..at, e.iter().copied());
                        assert_eq!(
                            plain_text(&bytes, delim),
                            reference(&bytes, delim),
                            "{delim} {len} {at} {e:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn scan_finds_every_byte_to_escape_wherever_it_is() {
        let reference =
            |bytes: &[u8]| (bytes.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\'), bytes.is_ascii());
        for len in 0..50 {
            let clean = vec![b'a'; len];
            assert_eq!(scan(&clean), (false, true), "{len}");
            for at in 0..len {
                for special in [0u8, b'\t', 0x1f, b'"', b'\\', 0x20, 0x7f, 0x80, 0xff, b'~'] {
                    let mut bytes = clean.clone();
                    bytes[at] = special;
                    assert_eq!(scan(&bytes), reference(&bytes), "{len} {at} {special:#x}");
                }
            }
        }
    }

    #[test]
    fn the_shortcut_writes_what_serde_json_writes() {
        let lines = [
            "",
            "GET /health 200",
            "caf\u{e9} \u{2603} ok",
            "tab\there",
            "say \"hi\"",
            "back\\slash",
            "\u{7f}del",
        ];
        let stamps = [
            None,
            Some(crate::stamp::Stamp::from_nanos(1_764_583_200_123_000_000)),
            Some(crate::stamp::Stamp::from_nanos(1_764_583_200_123_456_789)),
            Some(crate::stamp::Stamp::from_nanos(1_764_583_200_000_000_000)),
        ];
        for path in ["app.log", "-", "we\"ird\\dir/\u{e9}.log"] {
            for text in lines {
                let cases = [true, false].into_iter().flat_map(|t| stamps.map(|s| (t, s)));
                for ((terminated, stamp), number) in cases.flat_map(|c| [(c, None), (c, Some(42))]) {
                    let ts = stamp.map(|s| s.to_string());
                    let offset = [0, 7, 10, 1234, 99_999, u64::MAX]
                        [(text.len() + number.map_or(0, |n| n as usize)) % 6];
                    let object = RecordLine {
                        path,
                        offset,
                        line_number: number,
                        ts: ts.as_deref(),
                        line: Cow::Borrowed(text),
                        partial: !terminated,
                        late: false,
                        line_base64: None,
                    };
                    let want = serde_json::to_vec(&object).expect("encode");
                    let escaped = ["tab\there", "say \"hi\"", "back\\slash"].contains(&text);
                    assert_eq!(scan(text.as_bytes()), (escaped, text.is_ascii()), "{text:?}");
                    if escaped {
                        continue;
                    }
                    let mut got = Vec::new();
                    let record =
                        Record { offset, bytes: text.as_bytes(), terminated, stamp, late: false, number };
                    plain_record(&mut got, &prefix(path), &record);
                    assert_eq!(
                        String::from_utf8_lossy(&got),
                        String::from_utf8_lossy(&want),
                        "{path:?} {text:?}"
                    );
                }
            }
        }
    }
}
