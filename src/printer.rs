//! The one consumer of the pipeline and the only writer of stdout.
//!
//! It prints headers when the source changes (as GNU tail does), buffers output and flushes when
//! the channel runs dry, copies file ranges zero-copy where the kernel allows, and writes
//! diagnostics to stderr after flushing what came before them. A broken pipe ends it quietly.

use std::fs::File;
use std::io::{self, Write};
use std::mem::ManuallyDrop;
use std::os::fd::{AsFd, FromRawFd};
use std::os::unix::fs::FileExt;

use crate::error::Error;
use crate::pipeline::{BLOCK, Msg, Source, SourceId, StopReason};
use crate::sys;

/// Output buffer size: many small batches become one large write.
const OUT_BUF: usize = 64 * 1024;

/// How the printer ended when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PrintEnd {
    /// Every producer finished and everything was written.
    Done,
    /// The reader of stdout went away.
    BrokenPipe,
}

/// Header and naming settings for the printer.
pub(crate) struct Layout {
    /// Display name of each source, by [`SourceId`].
    pub(crate) names: Vec<Vec<u8>>,
    /// Print `==> NAME <==` headers.
    pub(crate) headers: bool,
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
}

enum Fail {
    Pipe,
    Other(Error),
}

fn classify(err: io::Error) -> Fail {
    match err.raw_os_error() {
        Some(libc::EPIPE) => Fail::Pipe,
        Some(libc::EBADF) => Fail::Other(Error::Stdout(err)),
        _ if err.kind() == io::ErrorKind::BrokenPipe => Fail::Pipe,
        _ => Fail::Other(Error::Write(err)),
    }
}

impl Printer {
    pub(crate) fn new(layout: Layout) -> Printer {
        // SAFETY: fd 1 is open for the life of the process (Rust's runtime reopens a closed one on
        // /dev/null), and ManuallyDrop keeps us from closing it.
        let out = ManuallyDrop::new(unsafe { File::from_raw_fd(1) });
        sys::grow_pipe(out.as_fd());
        Printer {
            out,
            buf: Vec::with_capacity(OUT_BUF),
            layout,
            last: None,
            any_header: false,
        }
    }

    /// Print messages until every producer is gone, stdout breaks, or a write fails.
    /// A failure also triggers the run's shutdown, so an idle engine stops too.
    pub(crate) fn run(mut self, source: Source) -> Result<PrintEnd, Error> {
        match self.pump(&source) {
            Ok(()) => Ok(PrintEnd::Done),
            Err(Fail::Pipe) => {
                source.shutdown.trigger(StopReason::OutputClosed);
                Ok(PrintEnd::BrokenPipe)
            }
            Err(Fail::Other(e)) => {
                source.shutdown.trigger(StopReason::PrinterFailed);
                Err(e)
            }
        }
    }

    fn pump(&mut self, source: &Source) -> Result<(), Fail> {
        while let Ok(msg) = source.rx.recv() {
            self.handle(msg, source)?;
            // Drain what is ready, then flush: bursts leave in large writes, a lone line at once.
            loop {
                match source.try_next() {
                    Ok(Some(msg)) => self.handle(msg, source)?,
                    Ok(None) => break,
                    Err(()) => return self.flush(),
                }
            }
            self.flush()?;
        }
        self.flush()
    }

    fn handle(&mut self, msg: Msg, source: &Source) -> Result<(), Fail> {
        match msg {
            Msg::Header(id) => self.header(id),
            Msg::Data { source: id, bytes } => {
                self.switch_to(id)?;
                self.put(&bytes)?;
                source.recycle(bytes);
                Ok(())
            }
            Msg::Range {
                source: id,
                file,
                start,
                end,
            } => {
                self.switch_to(id)?;
                self.copy_range(&file, start, end)
            }
            Msg::Diag(text) => {
                self.flush()?;
                let mut err = io::stderr().lock();
                // A failing stderr must not stop the output we were asked for.
                let _ = writeln!(err, "rtail: {text}");
                Ok(())
            }
        }
    }

    fn switch_to(&mut self, id: SourceId) -> Result<(), Fail> {
        if self.last != Some(id) {
            self.header(id)
        } else {
            Ok(())
        }
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
        line.extend_from_slice(b"==> ");
        line.extend_from_slice(&self.layout.names[id]);
        line.extend_from_slice(b" <==\n");
        self.any_header = true;
        self.put(&line)
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
            let want = usize::try_from(end - pos)
                .unwrap_or(usize::MAX)
                .min(1 << 20);
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
            let n = match file.read_at(&mut block[..want], pos) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(classify(e)),
            };
            self.out.write_all(&block[..n]).map_err(classify)?;
            pos += n as u64;
        }
        Ok(())
    }
}
