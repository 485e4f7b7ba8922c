//! Following a command's output (`rtail --until ready -- ./server`): its standard output and
//! standard error are the run's two sources, read as they come.
//!
//! A thread per stream blocks in read(2) and hands what it got to the follower's thread
//! through a small bounded channel, then hints the [`Inbox`]; the follower, woken like the
//! engine (hints, controls, the shutdown), cuts the bytes into records with the same
//! [`Partial`] rule as files and sends them through the sink. A full channel stops the reading
//! thread, which leaves the command blocked on its writes: nothing grows when the output is
//! slow. The reading threads are not joined: one may wait for a descendant of the command that
//! keeps the stream open, and ends with the process.
//!
//! When the command has exited, what it wrote is read to the end of both streams (its
//! descendants may hold them open, so at most [`EXIT_QUIET`] after the last bytes), and the
//! run is told with an `exited` event.

use std::fs::File;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, TryRecvError, bounded};

use super::{Control, FollowEnd, Inbox, QUIET_FLUSH};
use crate::child::Streams;
use crate::pipeline::{Msg, Sink, Stopped};
use crate::record::{Batch, Event, Generation, SourceId};
use crate::source::read::{Partial, read_append};

/// After the command exited, its streams are still read until they end, or until nothing came
/// for this long (a process it started in the background may keep them open), and at most
/// for [`EXIT_MOST`].
const EXIT_QUIET: Duration = Duration::from_millis(200);
const EXIT_MOST: Duration = Duration::from_secs(1);

/// One read from a stream: at most this many bytes (a pseudo-terminal hands out far less).
const READ: usize = 64 * 1024;

/// Reads waiting for the follower, per stream.
const QUEUED: usize = 4;

/// One stream of the command.
struct Stream {
    id: SourceId,
    generation: Generation,
    /// What the reading thread read, in order, with when; disconnected once the stream ended.
    rx: Receiver<io::Result<(Instant, Vec<u8>)>>,
    /// The next read, taken from `rx` but not yet sent.
    head: Option<(Instant, Vec<u8>)>,
    /// The start of a line whose end has not come yet.
    partial: Partial,
    /// When bytes last came.
    last: Instant,
    ended: bool,
}

/// Follow the command's `streams` (sources `ids`: standard output, standard error) until it
/// exited and they were read, or the run stops.
pub(crate) fn follow(
    sink: &Sink,
    inbox: Arc<Inbox>,
    streams: Streams,
    ids: [SourceId; 2],
    idle: Option<Duration>,
) -> Result<FollowEnd, Stopped> {
    let ring = Arc::clone(&inbox);
    sink.shutdown().on_trigger(Box::new(move || ring.shut_down()));
    let now = Instant::now();
    let mut follower = Follower {
        sink,
        streams: [streams.stdout, streams.stderr]
            .into_iter()
            .zip(ids)
            .map(|(file, id)| Stream {
                id,
                generation: Generation::next(),
                rx: read_on_a_thread(file, id, Arc::clone(&inbox)),
                head: None,
                partial: Partial::default(),
                last: now,
                ended: false,
            })
            .collect(),
        last_activity: now,
    };
    let end = follower.run(&inbox, idle);
    inbox.close();
    let flushed = sink.flush();
    end.and_then(|end| flushed.map(|()| end))
}

struct Follower<'a> {
    sink: &'a Sink,
    streams: Vec<Stream>,
    last_activity: Instant,
}

impl Follower<'_> {
    fn run(&mut self, inbox: &Inbox, idle: Option<Duration>) -> Result<FollowEnd, Stopped> {
        let mut exited: Option<(i32, Instant)> = None;
        loop {
            self.sink.flush()?;
            let mut mail = inbox.wait(self.deadline(exited, idle));
            if mail.shutdown {
                // Lines already read go out if there is room; nothing waits on a stalled reader.
                for s in &mut self.streams {
                    let (at, bytes) = s.partial.take();
                    let _ = self.sink.try_last(Batch::new(s.id, s.generation, at, bytes));
                }
                return Ok(FollowEnd::Stopped);
            }
            while let Some(control) = mail.control.pop_front() {
                match control {
                    Control::Mark(n) => {
                        self.take()?;
                        self.sink.send(Msg::Mark(n))?;
                    }
                    Control::ChildExited(code) => exited = Some((code, Instant::now())),
                    Control::PidsGone => {
                        self.take()?;
                        self.finish_lines()?;
                        return Ok(FollowEnd::PidsGone);
                    }
                }
            }
            self.take()?;
            let now = Instant::now();
            if let Some((code, at)) = exited {
                if self.streams.iter().all(|s| s.ended) || now >= self.exit_deadline(at) {
                    self.finish_lines()?;
                    self.sink.send(Msg::Event(Event::exited(code)))?;
                    return Ok(FollowEnd::ChildExited(code));
                }
            }
            if self.sink.plain() {
                // A prompt without its newline shows once the command is quiet.
                for s in &mut self.streams {
                    if !s.partial.is_empty() && now >= s.last + QUIET_FLUSH {
                        let (at, bytes) = s.partial.take();
                        self.sink.data(Batch::new(s.id, s.generation, at, bytes))?;
                    }
                }
            }
            self.sink.flush_held(Some(now))?;
            if self.sink.take_sent() {
                self.last_activity = now;
            }
            if let Some(idle) = idle
                && now >= self.last_activity + idle
            {
                self.finish_lines()?;
                return Ok(FollowEnd::Idle);
            }
        }
    }

    /// The next time something is due without a wake-up: a quiet partial line (plain output),
    /// the end of [`EXIT_QUIET`], `--idle-timeout`.
    fn deadline(&self, exited: Option<(i32, Instant)>, idle: Option<Duration>) -> Option<Instant> {
        let mut next: Option<Instant> = None;
        let mut consider = |t: Instant| next = Some(next.map_or(t, |n: Instant| n.min(t)));
        if self.sink.plain() {
            for s in self.streams.iter().filter(|s| !s.partial.is_empty()) {
                consider(s.last + QUIET_FLUSH);
            }
        }
        if let Some((_, at)) = exited {
            consider(self.exit_deadline(at));
        }
        if let Some(idle) = idle {
            consider(self.last_activity + idle);
        }
        if let Some(due) = self.sink.held_due() {
            consider(due);
        }
        next
    }

    /// When to stop reading after the command exited at `at` (see [`EXIT_QUIET`]).
    fn exit_deadline(&self, at: Instant) -> Instant {
        let last = self.streams.iter().map(|s| s.last).max().unwrap_or(at).max(at);
        (last + EXIT_QUIET).min(at + EXIT_MOST)
    }

    /// Send what the reading threads have read so far, as records: the two streams' reads in
    /// the order they were made (the nearest to the order the command wrote them that two
    /// streams allow).
    fn take(&mut self) -> Result<(), Stopped> {
        loop {
            for s in &mut self.streams {
                if s.head.is_none() && !s.ended {
                    refill(self.sink, s)?;
                }
            }
            let next = self
                .streams
                .iter_mut()
                .filter(|s| s.head.is_some())
                .min_by_key(|s| s.head.as_ref().map(|h| h.0));
            let Some(s) = next else {
                return Ok(());
            };
            let Some((_, bytes)) = s.head.take() else {
                return Ok(());
            };
            s.last = Instant::now();
            let mut buf = self.sink.buffer();
            let at = s.partial.begin(&mut buf);
            buf.extend_from_slice(&bytes);
            let (at, whole) = s.partial.cut(buf, at, self.sink.delim());
            self.sink.data(Batch::new(s.id, s.generation, at, whole))?;
        }
    }

    /// The streams are done with: an unfinished last line goes out as it is.
    fn finish_lines(&mut self) -> Result<(), Stopped> {
        for s in &mut self.streams {
            let (at, bytes) = s.partial.take();
            self.sink.data(Batch::new(s.id, s.generation, at, bytes))?;
        }
        self.sink.flush_held(None)
    }
}

/// Fill `s.head` from its reading thread if it has read something; note the end.
fn refill(sink: &Sink, s: &mut Stream) -> Result<(), Stopped> {
    match s.rx.try_recv() {
        Ok(Ok(read)) => s.head = Some(read),
        Ok(Err(e)) => {
            // A read error other than the end (which a pseudo-terminal reports as EIO):
            // say so, and take the stream as ended.
            s.ended = true;
            let text = crate::sys::error_text(&e);
            sink.diag(format!("error reading the command's output: {text}"))?;
        }
        Err(TryRecvError::Empty) => {}
        Err(TryRecvError::Disconnected) => s.ended = true,
    }
    Ok(())
}

/// Start the thread that reads `file` and hands each read over, hinting input `id`; the
/// channel disconnects when the stream ends.
fn read_on_a_thread(file: File, id: SourceId, inbox: Arc<Inbox>) -> Receiver<io::Result<(Instant, Vec<u8>)>> {
    let (tx, rx) = bounded(QUEUED);
    let reader = move || {
        loop {
            // Into spare room, not zeroed first (`read_append` retries EINTR).
            let mut buf = Vec::with_capacity(READ);
            match read_append(&file, &mut buf, READ, None, false) {
                Ok(0) => break,
                Ok(_) => {}
                // A pseudo-terminal whose other end every process closed.
                Err(e) if e.raw_os_error() == Some(libc::EIO) => break,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    break;
                }
            };
            if tx.send(Ok((Instant::now(), buf))).is_err() {
                return;
            }
            inbox.hint(&[id], false);
        }
        drop(tx);
        inbox.hint(&[id], false);
    };
    if let Err(e) = std::thread::Builder::new().name("rtail-command".into()).spawn(reader) {
        let (tx, failed) = bounded(1);
        let _ = tx.send(Err(e));
        return failed;
    }
    rx
}
