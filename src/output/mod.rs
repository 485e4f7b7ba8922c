//! The outputs: everything that consumes the ordered stream of records and events.
//!
//! Each output implements [`Output`] and renders what it is handed: [`terminal::Terminal`]
//! (today's text, byte for byte) or [`json::Json`] (one JSON object per line), and with
//! `--serve` the web view's hub (`crate::web::hub::HubOutput`). [`Outputs`] is
//! the one place that walks the stream: it hands every message to every output in the order
//! the engine produced it, writes notices to standard error (after flushing what came before
//! them, so a terminal shows both in order), and turns a failed write into the run's stop.
//!
//! Backpressure: outputs write synchronously, so a slow reader of standard output blocks the
//! printer thread, which fills the bounded channel and then blocks the producers; nothing here
//! grows with the input.

pub(crate) mod json;
pub(crate) mod stdout;
pub(crate) mod terminal;

use std::fs::File;
use std::io::{self, Write};

use crate::error::Error;
use crate::pipeline::{Deliver, Msg, PrintEnd, Shutdown, StopReason, Stopped};
use crate::record::{Batch, Event, SourceId};

/// Why an output stopped.
#[derive(Debug)]
pub(crate) enum Fail {
    /// The reader of standard output went away.
    Pipe,
    /// Another write error.
    Other(Error),
}

/// One consumer of the stream. It chooses how to render, never what happened or in which order.
pub(crate) trait Output: Send {
    /// A source's output starts (where the terminal prints its header).
    fn header(&mut self, source: SourceId) -> Result<(), Fail>;
    /// Source `source` is called `name` from now on: a new source (the next number), or a
    /// renamed one ([`Msg::Name`]).
    fn name(&mut self, source: SourceId, name: &[u8]);
    /// Records of one source.
    fn batch(&mut self, batch: &Batch) -> Result<(), Fail>;
    /// Bytes `start..end` of a source's file, in a plain run (only the terminal is then used).
    fn range(&mut self, source: SourceId, file: &File, start: u64, end: u64) -> Result<(), Fail>;
    /// An event, after standard error has shown its message.
    fn event(&mut self, event: &Event) -> Result<(), Fail>;
    /// Every file was read to its end when mark `n` was asked for (SIGUSR1).
    fn mark(&mut self, n: u64) -> Result<(), Fail>;
    /// Write out what is buffered.
    fn flush(&mut self) -> Result<(), Fail>;
    /// The last call: leave the output clean and flush.
    fn close(&mut self) -> Result<(), Fail>;
}

/// Each source's display name, by [`SourceId`]: the names known at the start (shared, as
/// thousands of files add up), and those of sources found or renamed since ([`Msg::Name`]).
pub(crate) struct Names {
    given: std::sync::Arc<[Vec<u8>]>,
    since: std::collections::HashMap<SourceId, Vec<u8>>,
}

impl Names {
    pub(crate) fn new(given: std::sync::Arc<[Vec<u8>]>) -> Names {
        Names { given, since: std::collections::HashMap::new() }
    }

    /// The name source `id` has now (empty for an unknown source).
    pub(crate) fn get(&self, id: SourceId) -> &[u8] {
        if !self.since.is_empty()
            && let Some(name) = self.since.get(&id)
        {
            return name;
        }
        self.given.get(id).map_or(&[], |n| &n[..])
    }

    pub(crate) fn set(&mut self, id: SourceId, name: &[u8]) {
        self.since.insert(id, name.to_vec());
    }
}

/// The outputs of a run, as the pipeline's consumer.
pub(crate) struct Outputs {
    outputs: Vec<Box<dyn Output>>,
    /// Colour codes for notices on standard error, when colour is on.
    notice: Option<(String, String)>,
    /// The failure that stopped it; reported by `finish`.
    failed: Option<Fail>,
    /// Triggered on a failure, so an idle engine stops too.
    shutdown: Shutdown,
}

impl Outputs {
    /// The run's consumer: these outputs, notices coloured with `notice` when given.
    pub(crate) fn boxed(
        outputs: Vec<Box<dyn Output>>,
        notice: Option<(String, String)>,
        shutdown: Shutdown,
    ) -> Box<dyn Deliver> {
        Box::new(Outputs { outputs, notice, failed: None, shutdown })
    }

    fn each(&mut self, mut call: impl FnMut(&mut dyn Output) -> Result<(), Fail>) -> Result<(), Stopped> {
        if self.failed.is_some() {
            return Err(Stopped);
        }
        for output in &mut self.outputs {
            if let Err(fail) = call(output.as_mut()) {
                self.shutdown.trigger(match fail {
                    Fail::Pipe => StopReason::OutputClosed,
                    Fail::Other(_) => StopReason::PrinterFailed,
                });
                self.failed = Some(fail);
                return Err(Stopped);
            }
        }
        Ok(())
    }

    /// A notice on standard error, after what came before it on standard output.
    fn notice(&mut self, text: &str) -> Result<(), Stopped> {
        self.each(|o| o.flush())?;
        let mut err = io::stderr().lock();
        // A failing stderr must not stop the output we were asked for.
        match &self.notice {
            Some((on, off)) if io::IsTerminal::is_terminal(&err) => {
                let _ = writeln!(err, "{on}rtail: {text}{off}");
            }
            _ => {
                let _ = writeln!(err, "rtail: {text}");
            }
        }
        Ok(())
    }
}

/// Whether `file` still starts with `head` (an unreadable one is left to the copy to report).
fn starts_with(file: &File, head: &[u8]) -> bool {
    let mut now = [0u8; 64];
    let now = &mut now[..head.len().min(64)];
    match crate::source::read::read_full_at(file, now, 0) {
        Ok(n) => now[..n] == head[..now.len()],
        Err(_) => true,
    }
}

impl Deliver for Outputs {
    fn deliver(&mut self, msg: Msg) -> Result<Option<Vec<u8>>, Stopped> {
        match msg {
            Msg::Header(id) => self.each(|o| o.header(id)).map(|()| None),
            Msg::Name { source, name } => {
                for output in &mut self.outputs {
                    output.name(source, &name);
                }
                Ok(None)
            }
            Msg::Data(batch) => self.each(|o| o.batch(&batch)).map(|()| Some(batch.bytes)),
            Msg::Range { source, file, start, end, head } => {
                if !starts_with(&file, &head) {
                    return Ok(None);
                }
                self.each(|o| o.range(source, &file, start, end)).map(|()| None)
            }
            Msg::Event(event) => {
                if event.kind.is_notice() {
                    self.notice(&event.message)?;
                }
                self.each(|o| o.event(&event)).map(|()| None)
            }
            Msg::Diag(text) => self.notice(&text).map(|()| None),
            Msg::Mark(n) => self.each(|o| o.mark(n)).map(|()| None),
        }
    }

    fn flush(&mut self) -> Result<(), Stopped> {
        self.each(|o| o.flush())
    }

    fn finish(&mut self) -> crate::error::Result<PrintEnd> {
        if self.failed.is_none() {
            let _ = self.each(|o| o.close());
        }
        match self.failed.take() {
            None => Ok(PrintEnd::Done),
            Some(Fail::Pipe) => Ok(PrintEnd::BrokenPipe),
            Some(Fail::Other(e)) => Err(e),
        }
    }
}
