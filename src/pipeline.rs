//! The message type and the bounded channel between the producers (static reader, follow engine)
//! and the one printer thread.
//!
//! Producers never write to stdout. They send batches (many lines per message) through a bounded
//! channel, so a slow reader of our stdout blocks the producer instead of growing memory: at most
//! [`CHANNEL_CAP`] messages of at most [`BLOCK`] bytes are in flight.

use std::fs::File;
use std::sync::{Arc, Mutex, OnceLock};

use crossbeam_channel::{Receiver, Sender, TryRecvError, TrySendError, bounded, select};

/// Size of one read, and the most bytes one message carries.
pub(crate) const BLOCK: usize = 128 * 1024;

/// Messages in flight between producer and printer. With [`BLOCK`]-sized messages this bounds the
/// channel to 1 MiB.
pub(crate) const CHANNEL_CAP: usize = 8;

/// Index of an input in [`crate::Config::inputs`].
pub(crate) type SourceId = usize;

/// What the printer is asked to do, in order.
#[derive(Debug)]
pub(crate) enum Msg {
    /// Print this source's header now even if no data follows (start of its output).
    Header(SourceId),
    /// Bytes of one source, in file order.
    Data { source: SourceId, bytes: Vec<u8> },
    /// Copy bytes `start..end` of an open regular file (zero-copy where the kernel can).
    Range {
        source: SourceId,
        file: Arc<File>,
        start: u64,
        end: u64,
    },
    /// A diagnostic for stderr, without the `rtail: ` prefix.
    Diag(String),
}

/// The receiver went away (the printer stopped: broken pipe or write error). Producers stop.
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
}

/// A broadcast "stop now": once triggered, every `receiver()` is ready at once (disconnected),
/// so blocked senders and the idle engine wake up. The first reason is kept.
#[derive(Clone)]
pub(crate) struct Shutdown {
    tx: Arc<Mutex<Option<Sender<()>>>>,
    rx: Receiver<()>,
    reason: Arc<OnceLock<StopReason>>,
}

impl Shutdown {
    pub(crate) fn new() -> Shutdown {
        let (tx, rx) = bounded(0);
        Shutdown {
            tx: Arc::new(Mutex::new(Some(tx))),
            rx,
            reason: Arc::new(OnceLock::new()),
        }
    }

    /// Ask everyone to stop.
    pub(crate) fn trigger(&self, reason: StopReason) {
        let _ = self.reason.set(reason);
        if let Ok(mut tx) = self.tx.lock() {
            tx.take();
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

/// The producer side: sends messages and hands out recycled buffers.
pub(crate) struct Sink {
    tx: Sender<Msg>,
    pool: Receiver<Vec<u8>>,
    shutdown: Shutdown,
}

/// The printer side: receives messages and returns emptied buffers for reuse.
pub(crate) struct Source {
    pub(crate) rx: Receiver<Msg>,
    pool: Sender<Vec<u8>>,
    pub(crate) shutdown: Shutdown,
}

/// Make a connected sink and source that both obey `shutdown`.
pub(crate) fn channel(shutdown: Shutdown) -> (Sink, Source) {
    let (tx, rx) = bounded(CHANNEL_CAP);
    let (pool_tx, pool_rx) = bounded(CHANNEL_CAP + 2);
    (
        Sink {
            tx,
            pool: pool_rx,
            shutdown: shutdown.clone(),
        },
        Source {
            rx,
            pool: pool_tx,
            shutdown,
        },
    )
}

impl Sink {
    /// Send one message, blocking while the channel is full (backpressure) unless a shutdown is
    /// requested meanwhile: a slow reader never keeps us from stopping.
    pub(crate) fn send(&self, msg: Msg) -> Result<(), Stopped> {
        let msg = match self.tx.try_send(msg) {
            Ok(()) => return Ok(()),
            Err(TrySendError::Disconnected(_)) => return Err(Stopped),
            Err(TrySendError::Full(msg)) => msg,
        };
        select! {
            send(self.tx, msg) -> sent => sent.map_err(|_| Stopped),
            recv(self.shutdown.receiver()) -> _ => Err(Stopped),
        }
    }

    /// Send only if there is room now (final flushes during a shutdown).
    pub(crate) fn try_send(&self, msg: Msg) -> Result<(), Stopped> {
        self.tx.try_send(msg).map_err(|_| Stopped)
    }

    /// The run's shutdown broadcast.
    pub(crate) fn shutdown(&self) -> &Shutdown {
        &self.shutdown
    }

    /// An empty buffer with room for [`BLOCK`] bytes, recycled when one is available.
    pub(crate) fn buffer(&self) -> Vec<u8> {
        match self.pool.try_recv() {
            Ok(mut buf) => {
                buf.clear();
                buf
            }
            Err(_) => Vec::with_capacity(BLOCK),
        }
    }

    /// Send a diagnostic line.
    pub(crate) fn diag(&self, text: String) -> Result<(), Stopped> {
        self.send(Msg::Diag(text))
    }
}

impl Source {
    /// Give a buffer back to the producers; dropped when the pool is full.
    pub(crate) fn recycle(&self, buf: Vec<u8>) {
        if buf.capacity() >= BLOCK && buf.capacity() <= 2 * BLOCK {
            let _ = self.pool.try_send(buf);
        }
    }

    /// The next message if one is ready now: `Ok(None)` means the channel is momentarily empty,
    /// `Err(())` that every producer is gone.
    pub(crate) fn try_next(&self) -> Result<Option<Msg>, ()> {
        match self.rx.try_recv() {
            Ok(msg) => Ok(Some(msg)),
            Err(TryRecvError::Empty) => Ok(None),
            Err(TryRecvError::Disconnected) => Err(()),
        }
    }
}
