//! The one consumer of the pipeline and the only writer of stdout.
//!
//! It prints headers when the source changes (as GNU tail does), buffers output and flushes when
//! the channel runs dry (or the producer is about to wait), copies file ranges zero-copy where the kernel allows, and writes
//! diagnostics to stderr after flushing what came before them. A broken pipe ends it quietly.

use std::fs::File;
use std::io::{self, Write};
use std::mem::ManuallyDrop;
use std::os::fd::{AsFd, FromRawFd};

use memchr::memchr;
use owo_colors::Style;
use regex::bytes::Regex;

use crate::error::Error;
use crate::pipeline::{BLOCK, Deliver, Msg, PrintEnd, Shutdown, SourceId, StopReason, Stopped};
use crate::sys;

/// Output buffer size: many small batches become one large write.
const OUT_BUF: usize = 64 * 1024;

/// Header, prefix and colour settings for the printer.
pub(crate) struct Layout {
    /// Display name of each source, by [`SourceId`].
    pub(crate) names: std::sync::Arc<[Vec<u8>]>,
    /// Print `==> NAME <==` headers.
    pub(crate) headers: bool,
    /// Print `NAME: ` before every line.
    pub(crate) prefix: bool,
    /// Line delimiter (for prefixes and colouring line by line).
    pub(crate) delim: u8,
    /// Colour output, with these patterns' matches highlighted.
    pub(crate) colour: Option<Vec<Regex>>,
}

/// ANSI styles, rendered once.
struct Palette {
    /// Level words and the style of each.
    levels: Regex,
    error: (String, String),
    warn: (String, String),
    info: (String, String),
    debug: (String, String),
    matched: (String, String),
    header: (String, String),
    name: (String, String),
    notice: (String, String),
    /// Patterns whose matches are highlighted.
    highlights: Vec<Regex>,
}

fn codes(style: Style) -> (String, String) {
    (style.prefix_formatter().to_string(), style.suffix_formatter().to_string())
}

impl Palette {
    fn new(highlights: Vec<Regex>) -> Palette {
        Palette {
            levels: Regex::new(r"\b(?:ERROR|FATAL|CRITICAL|WARNING|WARN|INFO|DEBUG|TRACE)\b")
                .expect("constant regex"),
            error: codes(Style::new().red().bold()),
            warn: codes(Style::new().yellow()),
            info: codes(Style::new().green()),
            debug: codes(Style::new().dimmed()),
            matched: codes(Style::new().black().on_yellow()),
            header: codes(Style::new().bold()),
            name: codes(Style::new().magenta()),
            notice: codes(Style::new().yellow()),
            highlights,
        }
    }

    fn level_style(&self, word: &[u8]) -> &(String, String) {
        match word {
            b"ERROR" | b"FATAL" | b"CRITICAL" => &self.error,
            b"WARN" | b"WARNING" => &self.warn,
            b"INFO" => &self.info,
            _ => &self.debug,
        }
    }

    /// Append `line` (without its delimiter) to `out`, with matches and level words styled.
    fn paint(&self, line: &[u8], out: &mut Vec<u8>) {
        let mut spans: Vec<(usize, usize, &(String, String))> = Vec::new();
        for re in &self.highlights {
            for m in re.find_iter(line) {
                if m.start() < m.end() {
                    spans.push((m.start(), m.end(), &self.matched));
                }
            }
        }
        for m in self.levels.find_iter(line) {
            if !spans.iter().any(|&(s, e, _)| m.start() < e && s < m.end()) {
                spans.push((m.start(), m.end(), self.level_style(m.as_bytes())));
            }
        }
        spans.sort_by_key(|&(s, e, _)| (s, std::cmp::Reverse(e)));
        let mut pos = 0;
        for (start, end, (on, off)) in spans {
            if start < pos {
                continue; // overlapping highlight: the earlier one wins
            }
            out.extend_from_slice(&line[pos..start]);
            out.extend_from_slice(on.as_bytes());
            out.extend_from_slice(&line[start..end]);
            out.extend_from_slice(off.as_bytes());
            pos = end;
        }
        out.extend_from_slice(&line[pos..]);
    }
}

pub(crate) struct Printer {
    /// Standard output, borrowed: never closed by us.
    out: ManuallyDrop<File>,
    buf: Vec<u8>,
    layout: Layout,
    /// The source whose bytes were printed last (headers are printed on a change).
    last: Option<SourceId>,
    /// Whether any header was printed yet (every later one is preceded by a blank line).
    any_header: bool,
    /// Colours, when on.
    palette: Option<Palette>,
    /// The source whose last line is still open (its next bytes continue it: no prefix).
    open_line: Option<SourceId>,
    /// Scratch space for lines rendered with prefixes or colour.
    render: Vec<u8>,
    /// Whether colour codes went out (a final reset is then written).
    coloured: bool,
}

enum Fail {
    Pipe,
    Other(Error),
}

fn classify(err: io::Error) -> Fail {
    // EPIPE is io::ErrorKind::BrokenPipe.
    match err.kind() {
        io::ErrorKind::BrokenPipe => Fail::Pipe,
        _ => Fail::Other(Error::Write(err)),
    }
}

impl Printer {
    pub(crate) fn new(layout: Layout) -> Printer {
        // SAFETY: fd 1 is open for the life of the process (Rust's runtime reopens a closed one on
        // /dev/null), and ManuallyDrop keeps us from closing it.
        let out = ManuallyDrop::new(unsafe { File::from_raw_fd(1) });
        sys::grow_pipe(out.as_fd());
        let palette = layout.colour.clone().map(Palette::new);
        Printer {
            out,
            buf: Vec::with_capacity(OUT_BUF),
            layout,
            last: None,
            any_header: false,
            palette,
            open_line: None,
            render: Vec::new(),
            coloured: false,
        }
    }

    /// A consumer for [`crate::pipeline`]'s sinks. A failure also triggers `shutdown`, so an
    /// idle engine stops too.
    pub(crate) fn into_deliver(self, shutdown: Shutdown) -> Box<dyn Deliver> {
        Box::new(DirectPrinter { printer: self, failed: None, shutdown })
    }

    /// The last write: leave the terminal as we found it, and flush.
    fn close(&mut self) -> Result<(), Fail> {
        if self.coloured {
            self.put(b"\x1b[0m")?;
        }
        self.flush()
    }

    /// Print one message; returns its spent buffer for reuse.
    fn handle(&mut self, msg: Msg) -> Result<Option<Vec<u8>>, Fail> {
        match msg {
            Msg::Header(id) => self.header(id).map(|()| None),
            Msg::Data { source: id, bytes } => {
                self.switch_to(id)?;
                if self.layout.prefix || self.palette.is_some() {
                    self.put_lines(id, &bytes)?;
                } else {
                    self.put(&bytes)?;
                }
                Ok(Some(bytes))
            }
            Msg::Range { source: id, file, start, end } => {
                self.switch_to(id)?;
                self.copy_range(&file, start, end).map(|()| None)
            }
            Msg::Mark(_) => Ok(None),
            Msg::Diag(text) => {
                self.flush()?;
                let mut err = io::stderr().lock();
                // A failing stderr must not stop the output we were asked for.
                match &self.palette {
                    Some(p) if io::IsTerminal::is_terminal(&err) => {
                        let _ = writeln!(err, "{}rtail: {text}{}", p.notice.0, p.notice.1);
                    }
                    _ => {
                        let _ = writeln!(err, "rtail: {text}");
                    }
                }
                Ok(None)
            }
        }
    }

    fn switch_to(&mut self, id: SourceId) -> Result<(), Fail> {
        if self.last != Some(id) { self.header(id) } else { Ok(()) }
    }

    fn header(&mut self, id: SourceId) -> Result<(), Fail> {
        self.last = Some(id);
        if !self.layout.headers {
            return Ok(());
        }
        let mut line = Vec::with_capacity(self.layout.names[id].len() + 10);
        if self.any_header {
            line.push(b'\n');
        }
        let (on, off) = match &self.palette {
            Some(p) => (p.header.0.as_bytes(), p.header.1.as_bytes()),
            None => (&b""[..], &b""[..]),
        };
        line.extend_from_slice(on);
        line.extend_from_slice(b"==> ");
        line.extend_from_slice(&self.layout.names[id]);
        line.extend_from_slice(b" <==");
        line.extend_from_slice(off);
        line.push(b'\n');
        self.coloured |= !on.is_empty();
        self.any_header = true;
        self.put(&line)
    }

    /// Write `bytes` of source `id` line by line, with `NAME: ` prefixes and colours.
    fn put_lines(&mut self, id: SourceId, bytes: &[u8]) -> Result<(), Fail> {
        let delim = self.layout.delim;
        let mut render = std::mem::take(&mut self.render);
        render.clear();
        let mut pos = 0;
        while pos < bytes.len() {
            let end = memchr(delim, &bytes[pos..]).map_or(bytes.len(), |i| pos + i + 1);
            let line = &bytes[pos..end];
            let (body, ended) = match line.split_last() {
                Some((&last, body)) if last == delim => (body, true),
                _ => (line, false),
            };
            if self.layout.prefix && self.open_line != Some(id) {
                match &self.palette {
                    Some(p) => {
                        render.extend_from_slice(p.name.0.as_bytes());
                        render.extend_from_slice(&self.layout.names[id]);
                        render.extend_from_slice(p.name.1.as_bytes());
                    }
                    None => render.extend_from_slice(&self.layout.names[id]),
                }
                render.extend_from_slice(b": ");
            }
            match &self.palette {
                Some(p) => {
                    p.paint(body, &mut render);
                    self.coloured = true;
                }
                None => render.extend_from_slice(body),
            }
            if ended {
                render.push(delim);
            }
            self.open_line = if ended { None } else { Some(id) };
            pos = end;
        }
        let result = self.put(&render);
        self.render = render;
        result
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), Fail> {
        if self.buf.len() + bytes.len() > OUT_BUF {
            self.flush()?;
        }
        if bytes.len() >= OUT_BUF {
            return self.out.write_all(bytes).map_err(classify);
        }
        self.buf.extend_from_slice(bytes);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), Fail> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let result = self.out.write_all(&self.buf);
        self.buf.clear();
        result.map_err(classify)
    }

    /// Copy `start..end` of `file` to stdout: in the kernel when it can, else through a buffer.
    /// Stops early, quietly, if the file got shorter meanwhile.
    fn copy_range(&mut self, file: &File, start: u64, end: u64) -> Result<(), Fail> {
        self.flush()?;
        let mut pos = start;
        while pos < end {
            let want = usize::try_from(end - pos).unwrap_or(usize::MAX).min(1 << 20);
            match sys::copy_file_range_to(file, pos, want, self.out.as_fd()) {
                Ok(0) => return Ok(()),
                Ok(n) => pos += n as u64,
                Err(e) if e.kind() == io::ErrorKind::Unsupported => {
                    return self.copy_by_hand(file, pos, end);
                }
                Err(e) => return Err(classify(e)),
            }
        }
        Ok(())
    }

    fn copy_by_hand(&mut self, file: &File, mut pos: u64, end: u64) -> Result<(), Fail> {
        let mut block = vec![0u8; BLOCK];
        while pos < end {
            let want = usize::try_from(end - pos).unwrap_or(usize::MAX).min(BLOCK);
            let n = match crate::initial::read_once_at(file, &mut block[..want], pos) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) => return Err(classify(e)),
            };
            self.out.write_all(&block[..n]).map_err(classify)?;
            pos += n as u64;
        }
        Ok(())
    }
}

/// The printer as a [`Deliver`]: it keeps the failure that stopped it, for `finish`.
struct DirectPrinter {
    printer: Printer,
    /// The failure that stopped it; reported by `finish`.
    failed: Option<Fail>,
    shutdown: Shutdown,
}

impl DirectPrinter {
    fn check(&mut self, result: Result<(), Fail>) -> Result<(), Stopped> {
        let fail = match result {
            Ok(()) => return Ok(()),
            Err(fail) => fail,
        };
        self.shutdown.trigger(match fail {
            Fail::Pipe => StopReason::OutputClosed,
            Fail::Other(_) => StopReason::PrinterFailed,
        });
        self.failed = Some(fail);
        Err(Stopped)
    }
}

impl Deliver for DirectPrinter {
    fn deliver(&mut self, msg: Msg) -> Result<Option<Vec<u8>>, Stopped> {
        if self.failed.is_some() {
            return Err(Stopped);
        }
        match self.printer.handle(msg) {
            Ok(spent) => Ok(spent),
            Err(fail) => self.check(Err(fail)).map(|()| None),
        }
    }

    fn flush(&mut self) -> Result<(), Stopped> {
        if self.failed.is_some() {
            return Err(Stopped);
        }
        let result = self.printer.flush();
        self.check(result)
    }

    fn finish(&mut self) -> Result<PrintEnd, Error> {
        let result = match self.failed.take() {
            Some(fail) => Err(fail),
            None => self.printer.close(),
        };
        match result {
            Ok(()) => Ok(PrintEnd::Done),
            Err(Fail::Pipe) => Ok(PrintEnd::BrokenPipe),
            Err(Fail::Other(e)) => Err(e),
        }
    }
}
