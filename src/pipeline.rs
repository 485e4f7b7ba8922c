//! The message type and the bounded channel between the producers (static reader, follow engine)
//! and the one printer thread.
//!
//! Producers never write to stdout. They send batches (many lines per message) through a bounded
//! channel, so a slow reader of our stdout blocks the producer instead of growing memory: at most
//! [`CHANNEL_CAP`] messages of at most [`BLOCK`] bytes are in flight.

use std::fs::File;
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender, TryRecvError, bounded};

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

/// The producer side: sends messages and hands out recycled buffers.
pub(crate) struct Sink {
    tx: Sender<Msg>,
    pool: Receiver<Vec<u8>>,
}

/// The printer side: receives messages and returns emptied buffers for reuse.
pub(crate) struct Source {
    pub(crate) rx: Receiver<Msg>,
    pool: Sender<Vec<u8>>,
}

/// Make a connected sink and source.
pub(crate) fn channel() -> (Sink, Source) {
    let (tx, rx) = bounded(CHANNEL_CAP);
    let (pool_tx, pool_rx) = bounded(CHANNEL_CAP + 2);
    (Sink { tx, pool: pool_rx }, Source { rx, pool: pool_tx })
}

impl Sink {
    /// Send one message, blocking while the channel is full (backpressure).
    pub(crate) fn send(&self, msg: Msg) -> Result<(), Stopped> {
        self.tx.send(msg).map_err(|_| Stopped)
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
