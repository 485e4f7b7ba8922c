//! The message type, the [`Sink`] producers hand records to, and the bounded channel between
//! the producers (static reader, follow engine) and the outputs' thread.
//!
//! The sink applies the filters to each [`Batch`] of records, so records that do not pass
//! never cross the channel. It reads nothing itself: producers hand it what they read.
//!
//! Producers send batches (many records per message) through a bounded channel, so a slow reader
//! of our stdout blocks the producer instead of growing memory: at most [`CHANNEL_CAP`] messages
//! of at most [`BLOCK`] bytes are in flight. Two shortcuts skip the hand-over where it only
//! costs: static output prints on the producer's thread ([`direct`]), and while following, a
//! small message finds the printer idle most of the time and is printed by the producer itself
//! ([`shared`]), so a lone appended line is read and printed by the one thread its change
//! notification woke (the engine's; elsewhere than Linux, notify's thread wakes it first).

use std::cell::{Cell, RefCell};
use std::fs::File;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, TryLockError};
use std::time::Instant;

use crate::filter::Filter;
use crate::group::{Grouper, Multiline};
pub(crate) use crate::record::SourceId;
use crate::record::{Batch, Event, EventKind};
use crate::reorder::{self, Reorder};
use crate::stamp::{Stamp, Stamper};

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded, select};

/// Size of one read, and the most bytes one message carries.
pub(crate) const BLOCK: usize = 128 * 1024;

/// Messages in flight between producer and printer. With [`BLOCK`]-sized messages this bounds the
/// channel to 1 MiB.
pub(crate) const CHANNEL_CAP: usize = 8;

/// What the outputs are asked to do, in order.
#[derive(Debug)]
pub(crate) enum Msg {
    /// Print this source's header now even if no data follows (start of its output).
    Header(SourceId),
    /// From now on source `source` is called `name`: a source found while following (a new
    /// file matching a pattern) is named before its first other message, and a followed file
    /// renamed to another matching name is named again (headers and prefixes show the name it
    /// has now; JSON objects carry it as `path`).
    Name { source: SourceId, name: Vec<u8> },
    /// Records of one source, in file order.
    Data(Batch),
    /// Copy bytes `start..end` of an open regular file (zero-copy where the kernel can); only
    /// in a plain run, where no output needs records. `head` is the file's first bytes when the
    /// range was decided on: if the file no longer starts with them when the range is printed
    /// (truncated and rewritten while the printer was busy), the range is not printed, since
    /// its bytes are gone and the follow engine, which compares the same bytes, prints the new
    /// content from its start.
    Range { source: SourceId, file: Arc<File>, start: u64, end: u64, head: Vec<u8> },
    /// Something happened to a source (or to the run): an output may show it; standard error
    /// shows its message.
    Event(Event),
    /// A diagnostic for stderr that is no event (a warning), without the `rtail: ` prefix.
    Diag(String),
    /// Everything written to the files before the mark with this number was sent before this
    /// message (see [`crate::Follower::mark`]).
    Mark(u64),
}

/// The receiver went away (the printer stopped: broken pipe or write error), a shutdown was
/// requested, or the `--until` line was sent. Producers stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stopped;

/// Why a run was asked to stop early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StopReason {
    /// SIGINT, SIGTERM or SIGHUP.
    Signal(i32),
    /// The reader of stdout went away (seen while idle, or on a write).
    OutputClosed,
    /// The printer failed (write error); its error is reported by the printer's result.
    PrinterFailed,
    /// `--timeout` expired.
    Timeout,
    /// The library consumer (a [`crate::Follower`]) was dropped.
    ConsumerGone,
    /// The web view's Stop button.
    #[cfg_attr(not(feature = "web"), allow(dead_code))]
    WebStop,
    /// `--serve-once`: the last viewer left.
    #[cfg_attr(not(feature = "web"), allow(dead_code))]
    ViewersGone,
}

/// Called once when a [`Shutdown`] is triggered.
type Bell = Box<dyn FnOnce() + Send>;

/// The sender whose drop is the broadcast (until triggered), and the bells to ring then.
type Trigger = (Option<Sender<()>>, Vec<Bell>);

/// A broadcast "stop now": once triggered, every `receiver()` is ready at once (disconnected),
/// so blocked senders wake up, and every bell rings (the idle engine's inbox). The first reason
/// is kept.
#[derive(Clone)]
pub(crate) struct Shutdown {
    tx: Arc<Mutex<Trigger>>,
    rx: Receiver<()>,
    reason: Arc<OnceLock<StopReason>>,
}

impl Shutdown {
    pub(crate) fn new() -> Shutdown {
        let (tx, rx) = bounded(0);
        Shutdown { tx: Arc::new(Mutex::new((Some(tx), Vec::new()))), rx, reason: Arc::new(OnceLock::new()) }
    }

    /// Ask everyone to stop.
    pub(crate) fn trigger(&self, reason: StopReason) {
        let _ = self.reason.set(reason);
        let bells = {
            let mut state = self.tx.lock().unwrap_or_else(PoisonError::into_inner);
            state.0.take();
            std::mem::take(&mut state.1)
        };
        for bell in bells {
            bell();
        }
    }

    /// Call `bell` when triggered (at once if it already was).
    pub(crate) fn on_trigger(&self, bell: Bell) {
        let mut state = self.tx.lock().unwrap_or_else(PoisonError::into_inner);
        if state.0.is_some() {
            state.1.push(bell);
        } else {
            drop(state);
            bell();
        }
    }

    /// Ready (disconnected) once triggered; never carries a message.
    pub(crate) fn receiver(&self) -> &Receiver<()> {
        &self.rx
    }

    /// The first reason given, if triggered.
    pub(crate) fn reason(&self) -> Option<StopReason> {
        self.reason.get().copied()
    }
}

/// How producers shape what they send.
pub(crate) struct Shaping {
    /// `--grep`/`--exclude`/`--until`; records that do not pass never cross the channel.
    pub(crate) filter: Option<Arc<Filter>>,
    /// No output needs records: bytes go out untouched (terminal output with no filter,
    /// prefix or colour), file ranges may be copied zero-copy, and a partial line is printed
    /// when its file is quiet. Otherwise every batch holds whole records.
    pub(crate) plain: bool,
    /// Line delimiter.
    pub(crate) delim: u8,
    /// An output shows each record's time: the sink stamps records before they are filtered.
    pub(crate) stamps: bool,
    /// `--multiline`: lines are grouped into records before they are stamped and filtered.
    pub(crate) multiline: Option<Arc<Multiline>>,
    /// `--merge` while following: how long a record waits for earlier ones (`reorder.rs`).
    pub(crate) merge_window: Option<std::time::Duration>,
    /// `--since`: sources that could not be searched ([`Sink::shut_until_since`]) start at
    /// their first record stamped at or after this.
    pub(crate) since: Option<Stamp>,
    /// `--number`: each record gets the number of its line in its generation.
    pub(crate) numbers: bool,
}

/// `--number`: where a source's numbering stands: the line at `offset` of `generation`
/// is line `number`.
#[derive(Clone, Copy, Debug)]
struct Numbering {
    generation: crate::record::Generation,
    offset: u64,
    number: u64,
}

/// Where a source stands with `--since`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Gate {
    /// Its records go on (it was searched, or its first record at or after the time came).
    #[default]
    Open,
    /// Its records are dropped until one is stamped at or after the time.
    Shut,
    /// [`Gate::Shut`], and records were dropped.
    Dropping,
    /// It was searched and has no timestamps: nothing of it was printed.
    NoStamps,
}

impl Gate {
    fn is_shut(self) -> bool {
        matches!(self, Gate::Shut | Gate::Dropping)
    }
}

/// How the printer ended when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PrintEnd {
    /// Every producer finished and everything was written.
    Done,
    /// The reader of stdout went away.
    BrokenPipe,
}

/// A consumer that may run on the producer's own thread: static output needs no printer thread,
/// no channel and no hand-over (a short `rtail -n 10` costs about what GNU tail's does).
pub(crate) trait Deliver: Send {
    /// Handle one message (it may stay buffered); returns a spent buffer for reuse. `Err` means
    /// stop producing.
    fn deliver(&mut self, msg: Msg) -> Result<Option<Vec<u8>>, Stopped>;
    /// Write out what is buffered.
    fn flush(&mut self) -> Result<(), Stopped>;
    /// Flush and report how printing ended.
    fn finish(&mut self) -> crate::error::Result<PrintEnd>;
}

/// Data messages up to this size may be printed by the producer while the printer thread is
/// idle ([`shared`]): they only fill the printer's buffer. Larger ones go to the thread, which
/// writes them while the producer reads on.
const SHORTCUT_MAX: usize = 32 * 1024;

/// The printer of [`shared`]: used by its thread and, while nothing is queued, by the producer.
pub(crate) struct Handoff {
    printer: Mutex<Box<dyn Deliver>>,
    /// Messages sent to the printer thread and not printed yet. Only the producer adds to it,
    /// so when it reads 0 everything it queued has been printed and it may print in turn.
    queued: AtomicUsize,
}

impl Handoff {
    fn lock(&self) -> MutexGuard<'_, Box<dyn Deliver>> {
        self.printer.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Where a sink's messages go.
enum Out {
    /// To a consumer's thread, through the bounded channel.
    Channel { tx: Sender<Msg> },
    /// Straight to a consumer on this thread; spent buffers wait in `pool`.
    Direct { to: RefCell<Box<dyn Deliver>>, pool: RefCell<Vec<Vec<u8>>> },
    /// To the printer thread, or to its printer directly while the thread has nothing queued.
    Shared {
        tx: Sender<Msg>,
        pool: Receiver<Vec<u8>>,
        handoff: Arc<Handoff>,
        /// Buffers spent by messages printed here.
        spare: RefCell<Vec<Vec<u8>>>,
        /// Something was printed here and not flushed yet.
        unflushed: Cell<bool>,
    },
}

/// The producer side: sends messages and hands out recycled buffers.
pub(crate) struct Sink {
    out: Out,
    shutdown: Shutdown,
    shaping: Shaping,
    /// An `--until` line was sent; producers stop.
    until_hit: Cell<bool>,
    /// Records were sent since [`Sink::take_sent`] last looked (for `--idle-timeout`, which
    /// counts printed lines, not lines a filter rejected).
    sent: Cell<bool>,
    /// Each source's stamper, by [`crate::record::SourceId`], when [`Shaping::stamps`].
    stampers: RefCell<Vec<Option<Stamper>>>,
    /// "Now" and the local zone for the stampers (syslog's year, zone-less stamps).
    clock: OnceLock<(Stamp, jiff::tz::TimeZone)>,
    /// Each source's record still open, by [`crate::record::SourceId`] (`--multiline`).
    groupers: RefCell<Vec<Grouper>>,
    /// A record was cut at a limit and that was told (once a run).
    cut_told: Cell<bool>,
    /// `--merge` while following: the window records wait in, once following started.
    reorder: RefCell<Option<Reorder>>,
    reordering: Cell<bool>,
    /// `--since`: each source's gate, by [`crate::record::SourceId`].
    gates: RefCell<Vec<Gate>>,
    /// `--number`: each source's numbering, by [`crate::record::SourceId`], when known.
    numbering: RefCell<Vec<Option<Numbering>>>,
}

/// Make a sink whose messages a consumer of ours takes from the returned channel (a library
/// [`crate::Follower`]; its lines are handed out, so no buffer comes back).
pub(crate) fn channel(shutdown: Shutdown, shaping: Shaping) -> (Sink, Receiver<Msg>) {
    let (tx, rx) = bounded(CHANNEL_CAP);
    (Sink::new(Out::Channel { tx }, shutdown, shaping), rx)
}

/// Make a sink that hands every message to `to` on the calling thread.
pub(crate) fn direct(shutdown: Shutdown, shaping: Shaping, to: Box<dyn Deliver>) -> Sink {
    Sink::new(Out::Direct { to: RefCell::new(to), pool: RefCell::new(Vec::new()) }, shutdown, shaping)
}

/// Make a sink whose messages `printer` prints, on the [`Queue`]'s thread or, while that has
/// nothing queued, on the producer's (see [`Sink::flush`]).
pub(crate) fn shared(shutdown: Shutdown, shaping: Shaping, printer: Box<dyn Deliver>) -> (Sink, Queue) {
    let (tx, rx) = bounded(CHANNEL_CAP);
    let (pool_tx, pool_rx) = bounded(CHANNEL_CAP + 2);
    let handoff = Arc::new(Handoff { printer: Mutex::new(printer), queued: AtomicUsize::new(0) });
    let out = Out::Shared {
        tx,
        pool: pool_rx,
        handoff: Arc::clone(&handoff),
        spare: RefCell::new(Vec::new()),
        unflushed: Cell::new(false),
    };
    (Sink::new(out, shutdown, shaping), Queue { rx, pool: pool_tx, handoff })
}

/// The printer thread's side of [`shared`].
pub(crate) struct Queue {
    rx: Receiver<Msg>,
    pool: Sender<Vec<u8>>,
    handoff: Arc<Handoff>,
}

impl Queue {
    /// Print queued messages until every producer is gone or printing fails, flushing whenever
    /// the queue runs dry: bursts leave in large writes, a lone line at once.
    pub(crate) fn run(self) -> crate::error::Result<PrintEnd> {
        'queue: while let Ok(first) = self.rx.recv() {
            let mut printer = self.handoff.lock();
            let mut next = Some(first);
            while let Some(msg) = next {
                let printed = printer.deliver(msg);
                self.handoff.queued.fetch_sub(1, Ordering::Release);
                match printed {
                    Ok(Some(buf)) => recycle(&self.pool, buf),
                    Ok(None) => {}
                    // The printer failed (and said so to the run's shutdown).
                    Err(Stopped) => break 'queue,
                }
                next = self.rx.try_recv().ok();
            }
            if printer.flush().is_err() {
                break;
            }
        }
        // Producers still sending find the channel gone.
        drop(self.rx);
        self.handoff.lock().finish()
    }
}

impl Sink {
    fn new(out: Out, shutdown: Shutdown, shaping: Shaping) -> Sink {
        Sink {
            out,
            shutdown,
            shaping,
            until_hit: Cell::new(false),
            sent: Cell::new(false),
            stampers: RefCell::new(Vec::new()),
            clock: OnceLock::new(),
            groupers: RefCell::new(Vec::new()),
            cut_told: Cell::new(false),
            reorder: RefCell::new(None),
            reordering: Cell::new(false),
            gates: RefCell::new(Vec::new()),
            numbering: RefCell::new(Vec::new()),
        }
    }

    /// For a direct sink: flush its consumer and report how printing ended (`None` for a
    /// channel sink, whose printer thread reports instead).
    pub(crate) fn finish(self) -> Option<crate::error::Result<PrintEnd>> {
        match self.out {
            Out::Direct { to, .. } => Some(to.into_inner().finish()),
            Out::Channel { .. } | Out::Shared { .. } => None,
        }
    }

    /// Write out what this thread printed itself; producers call it before they wait for more
    /// input. Messages queued since then are flushed by the printer thread after them.
    pub(crate) fn flush(&self) -> Result<(), Stopped> {
        match &self.out {
            Out::Shared { handoff, unflushed, .. } if unflushed.replace(false) => {
                if handoff.queued.load(Ordering::Acquire) == 0 {
                    handoff.lock().flush()?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Send one message, blocking while the channel is full (backpressure) unless a shutdown is
    /// requested meanwhile: a slow reader never keeps us from stopping.
    pub(crate) fn send(&self, msg: Msg) -> Result<(), Stopped> {
        let (tx, msg) = match &self.out {
            Out::Channel { tx, .. } => (tx, msg),
            Out::Direct { to, pool } => {
                if let Some(buf) = to.borrow_mut().deliver(msg)? {
                    keep_spare(pool, buf);
                }
                return Ok(());
            }
            Out::Shared { tx, handoff, .. } => {
                // Printing here runs to the end of a burst without blocking: look at the stop
                // first, as a blocked send would.
                if self.shutdown.reason().is_some() {
                    return Err(Stopped);
                }
                let msg = match self.print_here(msg) {
                    Ok(printed) => return printed,
                    Err(msg) => msg,
                };
                handoff.queued.fetch_add(1, Ordering::AcqRel);
                (tx, msg)
            }
        };
        let msg = match tx.try_send(msg) {
            Ok(()) => return Ok(()),
            Err(TrySendError::Disconnected(_)) => return Err(Stopped),
            Err(TrySendError::Full(msg)) => msg,
        };
        select! {
            send(tx, msg) -> sent => sent.map_err(|_| Stopped),
            recv(self.shutdown.receiver()) -> _ => Err(Stopped),
        }
    }

    /// Send only if there is room now (final flushes during a shutdown).
    fn try_send(&self, msg: Msg) -> Result<(), Stopped> {
        match &self.out {
            Out::Channel { tx, .. } => tx.try_send(msg).map_err(|_| Stopped),
            Out::Shared { tx, handoff, .. } => match self.print_here(msg) {
                Ok(printed) => printed,
                Err(msg) => {
                    handoff.queued.fetch_add(1, Ordering::AcqRel);
                    tx.try_send(msg).map_err(|_| Stopped)
                }
            },
            Out::Direct { .. } => self.send(msg),
        }
    }

    /// A shared sink's shortcut: print a small message on this thread while the printer thread
    /// has nothing queued (everything sent before was printed, so the order holds). Gives the
    /// message back when it must be queued instead (large, something queued, or the printer
    /// thread still flushing, which holds the lock).
    // The message given back is the one taken, moved once per batch: boxing it would cost an
    // allocation per batch for nothing.
    #[allow(clippy::result_large_err)]
    fn print_here(&self, msg: Msg) -> Result<Result<(), Stopped>, Msg> {
        let Out::Shared { handoff, spare, unflushed, .. } = &self.out else {
            return Err(msg);
        };
        let small = match &msg {
            Msg::Data(batch) => batch.bytes.len() <= SHORTCUT_MAX,
            Msg::Range { .. } => false,
            Msg::Header(_) | Msg::Name { .. } | Msg::Event(_) | Msg::Diag(_) | Msg::Mark(_) => true,
        };
        if !small || handoff.queued.load(Ordering::Acquire) > 0 {
            return Err(msg);
        }
        let mut printer = match handoff.printer.try_lock() {
            Ok(printer) => printer,
            Err(TryLockError::WouldBlock | TryLockError::Poisoned(_)) => return Err(msg),
        };
        unflushed.set(true);
        Ok(printer.deliver(msg).map(|spent| {
            if let Some(buf) = spent {
                keep_spare(spare, buf);
            }
        }))
    }

    /// The run's shutdown broadcast.
    pub(crate) fn shutdown(&self) -> &Shutdown {
        &self.shutdown
    }

    /// Whether bytes go out untouched (see [`Shaping::plain`]).
    pub(crate) fn plain(&self) -> bool {
        self.shaping.plain
    }

    /// Whether a batch of `source` handed over stamped ([`Sink::ready`]) needs its stamps: an
    /// output shows them or orders by them, or its `--since` gate is shut.
    pub(crate) fn keeps_stamps(&self, source: SourceId) -> bool {
        self.shaping.stamps || self.gate(source).is_shut()
    }

    /// Whether records are stamped or grouped: their files' layouts are to be detected.
    pub(crate) fn wants_stamps(&self) -> bool {
        self.shaping.stamps || self.shaping.multiline.is_some()
    }

    /// `--multiline`'s settings, when records are groups of lines.
    pub(crate) fn multiline(&self) -> Option<&Multiline> {
        self.shaping.multiline.as_deref()
    }

    /// The line delimiter of the run.
    pub(crate) fn delim(&self) -> u8 {
        self.shaping.delim
    }

    /// Whether records were sent since the last call.
    pub(crate) fn take_sent(&self) -> bool {
        self.sent.replace(false)
    }

    /// Whether an `--until` line was printed.
    pub(crate) fn until_hit(&self) -> bool {
        self.until_hit.get()
    }

    /// The next records of a source, in order (see [`Batch`] for what producers hand over).
    /// Filtered, only the records that pass go on. Returns `Stopped` after the `--until`
    /// record went out.
    pub(crate) fn data(&self, batch: Batch) -> Result<(), Stopped> {
        if batch.bytes.is_empty() {
            return Ok(());
        }
        let Some(multiline) = self.shaping.multiline.as_deref() else {
            return self.pass(batch);
        };
        for done in self.group(batch, multiline)? {
            self.pass(done)?;
        }
        Ok(())
    }

    /// Filter and send records that are complete, grouped and stamped already (`--merge`).
    pub(crate) fn ready(&self, batch: Batch) -> Result<(), Stopped> {
        if batch.bytes.is_empty() {
            return Ok(());
        }
        let batch = if self.gate(batch.source).is_shut() {
            match self.through_gate(batch) {
                Some(batch) => batch,
                None => return Ok(()),
            }
        } else {
            batch
        };
        self.pass_stamped(batch)
    }

    /// Stamp, filter and send records that are complete.
    fn pass(&self, batch: Batch) -> Result<(), Stopped> {
        match self.stamped(batch) {
            Some(batch) => self.pass_stamped(batch),
            None => Ok(()),
        }
    }

    /// `batch` stamped, when an output shows times, and without the records a shut `--since`
    /// gate drops (`None`: all of them).
    fn stamped(&self, mut batch: Batch) -> Option<Batch> {
        self.number(&mut batch);
        let shut = self.gate(batch.source).is_shut();
        self.stamp(&mut batch, shut);
        if !shut {
            return Some(batch);
        }
        let mut batch = self.through_gate(batch)?;
        if !self.shaping.stamps {
            batch.stamps.clear();
        }
        Some(batch)
    }

    /// `--since`: the records of `batch` (stamped) from its first one stamped at or after the
    /// time on, which opens its source's gate; `None` when there is none.
    fn through_gate(&self, batch: Batch) -> Option<Batch> {
        let when = self.shaping.since?;
        let Some(&(cut, _)) = batch.stamps.iter().find(|(_, stamp)| *stamp >= when) else {
            self.set_gate(batch.source, Gate::Dropping);
            self.spare(batch.bytes);
            return None;
        };
        self.set_gate(batch.source, Gate::Open);
        if cut == 0 {
            return Some(batch);
        }
        let mut out = Batch::new(batch.source, batch.generation, batch.offset, self.buffer());
        out.push_from(&batch, cut, batch.bytes.len(), &mut 0);
        self.spare(batch.bytes);
        Some(out)
    }

    fn gate(&self, source: SourceId) -> Gate {
        self.gates.borrow().get(source).copied().unwrap_or_default()
    }

    fn set_gate(&self, source: SourceId, gate: Gate) {
        let mut gates = self.gates.borrow_mut();
        if gates.len() <= source {
            gates.resize(source + 1, Gate::Open);
        }
        gates[source] = gate;
    }

    /// Whether records are numbered (`--number`).
    pub(crate) fn numbers(&self) -> bool {
        self.shaping.numbers
    }

    /// `--number`: the line at `offset` of `source`'s `generation` is line `number` (its
    /// records are read from there; before, from offset 0, the numbering knows by itself).
    pub(crate) fn number_from(
        &self,
        source: SourceId,
        generation: crate::record::Generation,
        offset: u64,
        number: u64,
    ) {
        if !self.shaping.numbers {
            return;
        }
        let mut numbering = self.numbering.borrow_mut();
        if numbering.len() <= source {
            numbering.resize(source + 1, None);
        }
        numbering[source] = Some(Numbering { generation, offset, number });
    }

    /// `--number`: number `batch`'s records (contiguous, whole lines): from where its
    /// source's numbering stands when the batch goes on from there, from 1 at a generation's
    /// start; otherwise they stay unknown.
    fn number(&self, batch: &mut Batch) {
        if !self.shaping.numbers || batch.bytes.is_empty() {
            return;
        }
        let delim = self.shaping.delim;
        let mut numbering = self.numbering.borrow_mut();
        if numbering.len() <= batch.source {
            numbering.resize(batch.source + 1, None);
        }
        let state = &mut numbering[batch.source];
        let first = match *state {
            Some(n) if n.generation == batch.generation && n.offset == batch.offset => Some(n.number),
            _ if batch.offset == 0 => Some(1),
            _ => None,
        };
        let Some(first) = first else {
            *state = None;
            return;
        };
        batch.numbers.clear();
        let mut number = first;
        let mut counted = 0;
        if batch.starts.is_empty() {
            batch.numbers.push((0, number));
            for i in memchr::memchr_iter(delim, &batch.bytes) {
                number += 1;
                if i + 1 < batch.bytes.len() {
                    batch.numbers.push((i + 1, number));
                }
            }
        } else {
            for &start in &batch.starts {
                number += memchr::memchr_iter(delim, &batch.bytes[counted..start]).count() as u64;
                counted = start;
                batch.numbers.push((start, number));
            }
            number += memchr::memchr_iter(delim, &batch.bytes[counted..]).count() as u64;
        }
        *state = Some(Numbering {
            generation: batch.generation,
            offset: batch.offset + batch.bytes.len() as u64,
            number,
        });
    }

    /// `--since`: the time output starts at, if given.
    pub(crate) fn since(&self) -> Option<Stamp> {
        self.shaping.since
    }

    /// `--since`, for a source that cannot be searched (a pipe, a compressed file): its records
    /// are dropped until the first one stamped at or after the time.
    pub(crate) fn shut_until_since(&self, source: SourceId) {
        if self.shaping.since.is_some() {
            self.set_gate(source, Gate::Shut);
        }
    }

    /// `--since`: `source` was searched and has no timestamps to search by.
    pub(crate) fn has_no_stamps(&self, source: SourceId) {
        self.set_gate(source, Gate::NoStamps);
    }

    /// `--since`: whether `source` had no timestamps that could be used, so nothing of it was
    /// printed (asked once its initial output went out). The question is answered once.
    pub(crate) fn take_no_stamps(&self, source: SourceId) -> bool {
        match self.gate(source) {
            Gate::NoStamps => {}
            Gate::Dropping if !self.with_stamper(source, |s| s.has_layout()) => {}
            Gate::Open | Gate::Shut | Gate::Dropping => return false,
        }
        self.set_gate(source, Gate::Open);
        true
    }

    fn pass_stamped(&self, batch: Batch) -> Result<(), Stopped> {
        let Some(filter) = self.shaping.filter.as_deref() else {
            self.sent.set(true);
            return self.emit(batch);
        };
        let (out, hit) = self.filtered(filter, &batch);
        self.spare(batch.bytes);
        if !out.bytes.is_empty() {
            self.sent.set(true);
            self.emit(out)?;
        }
        if hit {
            self.until_hit.set(true);
            // The --until record goes out now, and whatever waited with it.
            self.release(None)?;
            return Err(Stopped);
        }
        Ok(())
    }

    /// Send records that passed: through the merge window once following (`--merge`).
    fn emit(&self, batch: Batch) -> Result<(), Stopped> {
        if !self.reordering.get() {
            return self.send(Msg::Data(batch));
        }
        let mut out = reorder::Out::default();
        if let Some(r) = self.reorder.borrow_mut().as_mut() {
            r.add(&batch, self.shaping.delim, Instant::now(), &mut out);
        }
        out.batches.into_iter().try_for_each(|b| self.send(Msg::Data(b)))
    }

    /// Records whose wait in the merge window is over by `now` (all with `None`) go out.
    fn release(&self, now: Option<Instant>) -> Result<(), Stopped> {
        let mut out = reorder::Out::default();
        if let Some(r) = self.reorder.borrow_mut().as_mut() {
            r.release(now, &mut out);
        }
        out.batches.into_iter().try_for_each(|b| self.send(Msg::Data(b)))
    }

    /// Following starts: from now on records pass through the merge window (`--merge`; the
    /// initial output was merged as a whole).
    pub(crate) fn start_reordering(&self) {
        if let Some(window) = self.shaping.merge_window {
            *self.reorder.borrow_mut() = Some(Reorder::new(window, self.shaping.multiline.is_some()));
            self.reordering.set(true);
        }
    }

    /// Group `batch`'s lines into records after what its source holds: the complete ones.
    fn group(&self, batch: Batch, multiline: &Multiline) -> Result<Vec<Batch>, Stopped> {
        let source = batch.source;
        let mut groupers = self.groupers.borrow_mut();
        if groupers.len() <= source {
            groupers.resize_with(source + 1, Grouper::default);
        }
        let grouped = self.with_stamper(source, |stamper| {
            stamper.look_at(batch.bytes.split(|&b| b == self.shaping.delim));
            groupers[source].group(batch, self.shaping.delim, multiline, stamper)
        });
        drop(groupers);
        if grouped.cut && !self.cut_told.replace(true) {
            self.diag(format!(
                "a record longer than {} lines or {} bytes was cut there; the rest follows as \
                 records of their own",
                multiline.max_lines, multiline.max_bytes
            ))?;
        }
        Ok(grouped.batches)
    }

    /// `--multiline`: when the next held record is due to be taken as complete (its source
    /// was quiet long enough).
    pub(crate) fn held_due(&self) -> Option<Instant> {
        let grouped = self.groupers.borrow().iter().filter_map(Grouper::due).min();
        let waiting = self.reorder.borrow().as_ref().and_then(Reorder::due);
        grouped.into_iter().chain(waiting).min()
    }

    /// Send the held records that are due by `now` (all of them with `None`: the input ended),
    /// as complete records.
    pub(crate) fn flush_held(&self, now: Option<Instant>) -> Result<(), Stopped> {
        self.flush_grouped(now)?;
        self.release(now)
    }

    fn flush_grouped(&self, now: Option<Instant>) -> Result<(), Stopped> {
        if self.shaping.multiline.is_none() {
            return Ok(());
        }
        let due: Vec<Batch> = {
            let mut groupers = self.groupers.borrow_mut();
            let wanted = |g: &Grouper| g.due().is_some_and(|t| now.is_none_or(|now| t <= now));
            let mut due = Vec::new();
            for (i, g) in groupers.iter_mut().enumerate() {
                if wanted(g) {
                    due.extend(g.take(i));
                }
            }
            due
        };
        for batch in due {
            self.pass(batch)?;
        }
        Ok(())
    }

    /// Show `source`'s stamper the first bytes of its file, to detect the layout from the
    /// file's first records rather than from whatever comes first (the last 10 lines, say).
    pub(crate) fn prime_stamps(&self, source: SourceId, head: &[u8]) {
        if !self.shaping.stamps && self.shaping.multiline.is_none() {
            return;
        }
        let delim = self.shaping.delim;
        // Whole lines only: the last may be cut.
        let whole = memchr::memrchr(delim, head).map_or(&head[..0], |i| &head[..i]);
        self.with_stamper(source, |stamper| stamper.look_at(whole.split(|&b| b == delim)));
    }

    /// Run `f` with `source`'s stamper.
    fn with_stamper<T>(&self, source: SourceId, f: impl FnOnce(&mut Stamper) -> T) -> T {
        let mut stampers = self.stampers.borrow_mut();
        if stampers.len() <= source {
            stampers.resize_with(source + 1, || None);
        }
        let records = self.shaping.multiline.is_some();
        let stamper = stampers[source].get_or_insert_with(|| {
            let (now, tz) = self.clock.get_or_init(|| (Stamp::now(), jiff::tz::TimeZone::system()));
            if records { Stamper::for_records(*now, tz.clone()) } else { Stamper::new(*now, tz.clone()) }
        });
        f(stamper)
    }

    /// During a shutdown: send a source's last, unfinished record if there is room now
    /// (filtered, only if it passes); nothing waits on a stalled reader.
    /// Records held back (`--multiline`, `--merge`) go too, whether `batch` is empty or not.
    pub(crate) fn try_last(&self, batch: Batch) -> Result<(), Stopped> {
        let mut batches = match self.shaping.multiline.as_deref() {
            _ if batch.bytes.is_empty() => Vec::new(),
            Some(multiline) => self.group(batch, multiline)?,
            None => vec![batch],
        };
        let held: Vec<Batch> = {
            let mut groupers = self.groupers.borrow_mut();
            (0..groupers.len()).filter_map(|i| groupers[i].take(i)).collect()
        };
        batches.extend(held);
        let mut ready = Vec::new();
        for batch in batches {
            let Some(batch) = self.stamped(batch) else { continue };
            let out = match self.shaping.filter.as_deref() {
                None => batch,
                Some(filter) => self.filtered(filter, &batch).0,
            };
            if !out.bytes.is_empty() {
                ready.push(out);
            }
        }
        // What waits in the merge window goes first, then these, in time order as far as can be.
        let mut out = reorder::Out::default();
        if let Some(r) = self.reorder.borrow_mut().as_mut() {
            for batch in &ready {
                r.add(batch, self.shaping.delim, Instant::now(), &mut out);
            }
            r.release(None, &mut out);
            ready = Vec::new();
        }
        out.batches.into_iter().chain(ready).try_for_each(|b| self.try_send(Msg::Data(b)))
    }

    /// The records of `batch` that pass `filter`, and whether the last of them is the `--until`
    /// record.
    fn filtered(&self, filter: &Filter, batch: &Batch) -> (Batch, bool) {
        debug_assert!(batch.jumps.is_empty(), "producers hand over contiguous batches");
        let mut out = Batch::new(batch.source, batch.generation, batch.offset, self.buffer());
        let mut next = 0;
        let keep = |start, end| out.push_from(batch, start, end, &mut next);
        let hit = if batch.starts.is_empty() {
            filter.apply(&batch.bytes, keep)
        } else {
            filter.apply_records(&batch.bytes, &batch.starts, keep)
        };
        (out, hit)
    }

    /// Give `batch`'s records their times, when an output shows them (or `force`).
    fn stamp(&self, batch: &mut Batch, force: bool) {
        if !self.shaping.stamps && !force {
            return;
        }
        let delim = self.shaping.delim;
        // Grouped lines were looked at before they were grouped.
        let grouped = !batch.starts.is_empty();
        let mut stamps = std::mem::take(&mut batch.stamps);
        stamps.clear();
        let mut count = 0;
        self.with_stamper(batch.source, |stamper| {
            if !grouped {
                stamper.look_at(batch.records(delim).map(|r| r.bytes));
            }
            let bytes = &batch.bytes;
            let mut stamp = |start: usize, end: usize| {
                if let Some(stamp) = stamper.stamp(&bytes[start..end]) {
                    stamps.push((start, stamp));
                }
                count += 1;
            };
            if grouped {
                let mut pos = 0;
                for record in batch.records(delim) {
                    stamp(pos, pos + record.bytes.len());
                    pos += record.bytes.len() + usize::from(record.terminated);
                }
            } else {
                // Lines, the usual case: from one delimiter to the next, nothing else to mind.
                let mut start = 0;
                for end in memchr::memchr_iter(delim, bytes) {
                    stamp(start, end);
                    start = end + 1;
                }
                if start < bytes.len() {
                    stamp(start, bytes.len());
                }
            }
        });
        // Usually every record has a time (one without takes the previous one's): then the
        // JSON output needs no pass of its own over the bytes if they need no escaping.
        batch.plain_stamped = self.shaping.stamps
            && !grouped
            && stamps.len() == count
            && crate::output::json::plain_text(&batch.bytes, delim);
        batch.stamps = stamps;
    }

    /// Keep a spent buffer for the next [`Sink::buffer`].
    fn spare(&self, buf: Vec<u8>) {
        match &self.out {
            Out::Channel { .. } => {}
            Out::Direct { pool, .. } => keep_spare(pool, buf),
            Out::Shared { spare, .. } => keep_spare(spare, buf),
        }
    }

    /// An empty buffer with room for [`BLOCK`] bytes, recycled when one is available.
    pub(crate) fn buffer(&self) -> Vec<u8> {
        let recycled = match &self.out {
            Out::Channel { .. } => None,
            Out::Direct { pool, .. } => pool.borrow_mut().pop(),
            Out::Shared { pool, spare, .. } => spare.borrow_mut().pop().or_else(|| pool.try_recv().ok()),
        };
        match recycled {
            Some(mut buf) => {
                buf.clear();
                buf
            }
            None => Vec::with_capacity(BLOCK),
        }
    }

    /// Send an event (it also shows on standard error as its message).
    pub(crate) fn event(&self, source: SourceId, kind: EventKind, message: String) -> Result<(), Stopped> {
        self.send(Msg::Event(Event::new(source, kind, message)))
    }

    /// Send a diagnostic line that is not an event (a warning, a fallback to polling).
    pub(crate) fn diag(&self, text: String) -> Result<(), Stopped> {
        self.send(Msg::Diag(text))
    }
}

/// Keep a spent buffer for the producer's next read, up to a few.
fn keep_spare(pool: &RefCell<Vec<Vec<u8>>>, buf: Vec<u8>) {
    let mut pool = pool.borrow_mut();
    if pool.len() < 4 && buf.capacity() >= BLOCK && buf.capacity() <= 2 * BLOCK {
        pool.push(buf);
    }
}

/// Give a buffer back to the producers; dropped when the pool is full.
fn recycle(pool: &Sender<Vec<u8>>, buf: Vec<u8>) {
    if buf.capacity() >= BLOCK && buf.capacity() <= 2 * BLOCK {
        let _ = pool.try_send(buf);
    }
}
