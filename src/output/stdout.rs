//! Standard output, buffered: the one writer of fd 1. Many small batches become one large write;
//! file ranges go from the file to stdout inside the kernel where it can; a reader that went
//! away is told apart from other write errors.

use std::fs::File;
use std::io::{self, Write};
use std::mem::ManuallyDrop;
use std::os::fd::{AsFd, FromRawFd};

use super::Fail;
use crate::error::Error;
use crate::pipeline::BLOCK;
use crate::source::read::read_once_at;
use crate::sys;

/// Output buffer size of the terminal: many small batches become one large write.
pub(crate) const OUT_BUF: usize = 64 * 1024;

pub(crate) struct Stdout {
    /// Standard output, borrowed: never closed by us.
    out: ManuallyDrop<File>,
    buf: Vec<u8>,
    /// The buffer is written out when it holds this many bytes.
    size: usize,
}

fn classify(err: io::Error) -> Fail {
    // EPIPE is io::ErrorKind::BrokenPipe.
    match err.kind() {
        io::ErrorKind::BrokenPipe => Fail::Pipe,
        _ => Fail::Other(Error::Write(err)),
    }
}

impl Stdout {
    /// With a buffer of `size` bytes.
    pub(crate) fn new(size: usize) -> Stdout {
        // SAFETY: fd 1 is open for the life of the process (a closed one was replaced at start,
        // see `sys::claim_standard_fds`), and ManuallyDrop keeps us from closing it.
        let out = ManuallyDrop::new(unsafe { File::from_raw_fd(1) });
        sys::grow_pipe(out.as_fd());
        Stdout { out, buf: Vec::with_capacity(size), size }
    }

    /// Buffer `bytes` (a large piece is written at once).
    pub(crate) fn put(&mut self, bytes: &[u8]) -> Result<(), Fail> {
        if self.buf.len() + bytes.len() > self.size {
            self.flush()?;
        }
        if bytes.len() >= self.size {
            return self.out.write_all(bytes).map_err(classify);
        }
        self.buf.extend_from_slice(bytes);
        Ok(())
    }

    /// The buffer, to append to directly; written out first when it is full.
    pub(crate) fn buffer(&mut self) -> Result<&mut Vec<u8>, Fail> {
        if self.buf.len() >= self.size {
            self.flush()?;
        }
        Ok(&mut self.buf)
    }

    /// Give back the buffer [`Stdout::buffer`] handed out, taken with `mem::take` and appended to.
    pub(crate) fn restore(&mut self, buf: Vec<u8>) {
        self.buf = buf;
    }

    pub(crate) fn flush(&mut self) -> Result<(), Fail> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let result = self.out.write_all(&self.buf);
        self.buf.clear();
        result.map_err(classify)
    }

    /// Copy `start..end` of `file` to stdout: in the kernel when it can, else through a buffer.
    /// Stops early, quietly, if the file got shorter meanwhile.
    pub(crate) fn copy_range(&mut self, file: &File, start: u64, end: u64) -> Result<(), Fail> {
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
            let n = match read_once_at(file, &mut block[..want], pos) {
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
