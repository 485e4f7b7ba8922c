//! The terminal output: today's text, byte for byte, as GNU tail prints it.
//!
//! It prints `==> NAME <==` headers when the source changes (as GNU tail does), `NAME: `
//! prefixes and colours when asked, and copies file ranges zero-copy in a plain run. It never
//! decides what happened or in which order: it renders the stream it is handed.
//!
//! Colour codes come from owo-colors' styles, rendered once into escape strings. The crate
//! stays a dependency of the library: it is small, has no dependencies of its own, and is only
//! used here for its styles (whether to colour is decided by the caller, from `--color` and the
//! environment, so none of its terminal detection is used).

use std::fs::File;

use memchr::memchr;
use owo_colors::Style;
use regex::bytes::Regex;

use super::stdout::Stdout;
use super::{Fail, Names, Output};
use crate::record::{Batch, Event, SourceId};

/// Header, prefix and colour settings for the printer.
pub(crate) struct Layout {
    /// Display name of each source, by [`SourceId`].
    pub(crate) names: Names,
    /// Print `==> NAME <==` headers.
    pub(crate) headers: bool,
    /// Print `NAME: ` before every line.
    pub(crate) prefix: bool,
    /// `--number`: print `NUM:` before every line whose number is known.
    pub(crate) numbers: bool,
    /// Line delimiter (for prefixes and colouring line by line).
    pub(crate) delim: u8,
    /// Colour output, with these patterns' matches highlighted.
    pub(crate) colour: Option<Vec<Regex>>,
    /// The source whose text goes to standard error: a followed command's, so that its two
    /// streams stay apart on the terminal as they would without us.
    pub(crate) to_stderr: Option<SourceId>,
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
    /// Patterns whose matches are highlighted.
    highlights: Vec<Regex>,
}

/// How notices on standard error are coloured when colour is on and it is a terminal.
pub(crate) fn notice_style() -> (String, String) {
    codes(Style::new().yellow())
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

/// Text on standard output, as GNU tail prints it.
pub(crate) struct Terminal {
    out: Stdout,
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

impl Terminal {
    pub(crate) fn new(layout: Layout) -> Terminal {
        let palette = layout.colour.clone().map(Palette::new);
        Terminal {
            out: Stdout::new(super::stdout::OUT_BUF),
            layout,
            last: None,
            any_header: false,
            palette,
            open_line: None,
            render: Vec::new(),
            coloured: false,
        }
    }

    fn switch_to(&mut self, id: SourceId) -> Result<(), Fail> {
        if self.last != Some(id) { self.header(id) } else { Ok(()) }
    }

    /// Render `bytes` of source `id` line by line onto the end of `render`, with `NAME: `
    /// prefixes, line numbers (`numbers`: the number of each record's first line, by
    /// position) and colours.
    fn render_lines(&mut self, id: SourceId, bytes: &[u8], numbers: &[(usize, u64)], render: &mut Vec<u8>) {
        let delim = self.layout.delim;
        let mut pos = 0;
        let (mut next, mut number) = (0, None);
        while pos < bytes.len() {
            if let Some(&(at, n)) = numbers.get(next)
                && at == pos
            {
                number = Some(n);
                next += 1;
            }
            let end = memchr(delim, &bytes[pos..]).map_or(bytes.len(), |i| pos + i + 1);
            let line = &bytes[pos..end];
            let ended = line.last() == Some(&delim);
            let continued = self.open_line == Some(id);
            if !continued {
                if self.layout.prefix {
                    match &self.palette {
                        Some(p) => {
                            render.extend_from_slice(p.name.0.as_bytes());
                            render.extend_from_slice(self.layout.names.get(id));
                            render.extend_from_slice(p.name.1.as_bytes());
                        }
                        None => render.extend_from_slice(self.layout.names.get(id)),
                    }
                    render.extend_from_slice(b": ");
                }
                if self.layout.numbers
                    && let Some(n) = number
                {
                    render.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
                    render.push(b':');
                }
            }
            match &self.palette {
                Some(p) => {
                    p.paint(if ended { &line[..line.len() - 1] } else { line }, render);
                    if ended {
                        render.push(delim);
                    }
                    self.coloured = true;
                }
                None => render.extend_from_slice(line),
            }
            self.open_line = if ended { None } else { Some(id) };
            if ended {
                number = number.map(|n| n + 1);
            }
            pos = end;
        }
    }

    /// Text for standard error, after what came before it on standard output. A failing
    /// standard error must not stop the output we were asked for.
    fn put_stderr(&mut self, bytes: &[u8]) -> Result<(), Fail> {
        use std::io::Write;
        self.out.flush()?;
        let _ = std::io::stderr().lock().write_all(bytes);
        Ok(())
    }
}

impl Output for Terminal {
    fn header(&mut self, id: SourceId) -> Result<(), Fail> {
        self.last = Some(id);
        if !self.layout.headers {
            return Ok(());
        }
        let mut line = Vec::with_capacity(self.layout.names.get(id).len() + 10);
        if self.any_header {
            line.push(b'\n');
        }
        let (on, off) = match &self.palette {
            Some(p) => (p.header.0.as_bytes(), p.header.1.as_bytes()),
            None => (&b""[..], &b""[..]),
        };
        line.extend_from_slice(on);
        line.extend_from_slice(b"==> ");
        line.extend_from_slice(self.layout.names.get(id));
        line.extend_from_slice(b" <==");
        line.extend_from_slice(off);
        line.push(b'\n');
        self.coloured |= !on.is_empty();
        self.any_header = true;
        self.out.put(&line)
    }

    fn name(&mut self, source: SourceId, name: &[u8]) {
        self.layout.names.set(source, name);
        // Renamed while its lines were being printed: the next ones come under its new name.
        if self.last == Some(source) {
            self.last = None;
        }
    }

    fn batch(&mut self, batch: &Batch) -> Result<(), Fail> {
        self.switch_to(batch.source)?;
        let rendered = self.layout.prefix || self.palette.is_some() || self.layout.numbers;
        let to_stderr = self.layout.to_stderr == Some(batch.source);
        match (rendered, to_stderr) {
            (false, false) => self.out.put(&batch.bytes),
            (false, true) => self.put_stderr(&batch.bytes),
            (true, false) => {
                // Rendered straight into the output buffer: no copy of the copy.
                let mut out = std::mem::take(self.out.buffer()?);
                self.render_lines(batch.source, &batch.bytes, &batch.numbers, &mut out);
                self.out.restore(out);
                Ok(())
            }
            (true, true) => {
                let mut render = std::mem::take(&mut self.render);
                render.clear();
                self.render_lines(batch.source, &batch.bytes, &batch.numbers, &mut render);
                let result = self.put_stderr(&render);
                self.render = render;
                result
            }
        }
    }

    fn range(&mut self, source: SourceId, file: &File, start: u64, end: u64) -> Result<(), Fail> {
        self.switch_to(source)?;
        self.out.copy_range(file, start, end)
    }

    /// Standard error shows events; the text on standard output does not.
    fn event(&mut self, _event: &Event) -> Result<(), Fail> {
        Ok(())
    }

    /// Text has no marks.
    fn mark(&mut self, _n: u64) -> Result<(), Fail> {
        Ok(())
    }

    fn flush(&mut self) -> Result<(), Fail> {
        self.out.flush()
    }

    /// The last write: leave the terminal as we found it, and flush.
    fn close(&mut self) -> Result<(), Fail> {
        if self.coloured {
            self.out.put(b"\x1b[0m")?;
        }
        self.out.flush()
    }
}
