//! Reading inputs: positional reads that retry when a signal interrupts them, and the one rule
//! that cuts what was read into whole records ([`Partial`]).
//!
//! Both the static reader ([`super::initial`]) and the follow engine's readers keep the start
//! of an unfinished line in a [`Partial`]; the follow engine takes over the static reader's at
//! the end of the initial output, so a line is assembled in one place, whatever reads it.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use memchr::memrchr;

/// A line longer than this is passed on in pieces of this size rather than held: memory stays
/// bounded. Each piece is then a record of its own (the first ones partial).
pub(crate) const LINE_CAP: usize = 1 << 20;

/// Fill `buf` from `pos` (short only at end of file), retrying on EINTR. Returns the bytes read.
pub(crate) fn read_full_at(file: &File, buf: &mut [u8], pos: u64) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], pos + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// One positional read (retried when a signal interrupts it): for a regular file, fewer bytes
/// than asked means its end.
pub(crate) fn read_once_at(file: &File, buf: &mut [u8], pos: u64) -> io::Result<usize> {
    loop {
        match file.read_at(buf, pos) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// One read of at most `want` bytes appended to `buf`, into its spare room (not zeroed first:
/// zeroing a block before each read cost as much as a sixth of a JSON run): at `pos` when
/// given (a positional read, fewer bytes than asked only at a regular file's end), else at the
/// file's offset. Retried on EINTR; a nonblocking input with nothing to read gives 0 when
/// `nonblocking_is_end`. Returns the bytes read.
pub(crate) fn read_append(
    file: &File,
    buf: &mut Vec<u8>,
    want: usize,
    pos: Option<u64>,
    nonblocking_is_end: bool,
) -> io::Result<usize> {
    use std::os::fd::AsRawFd;
    buf.reserve(want);
    let spare = buf.spare_capacity_mut();
    let want = want.min(spare.len());
    let at = spare.as_mut_ptr().cast::<libc::c_void>();
    let offset = match pos {
        Some(p) => Some(libc::off_t::try_from(p).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?),
        None => None,
    };
    loop {
        // SAFETY: `at` points to `want` bytes of `buf`'s allocation past its length, which
        // read(2)/pread(2) may write; nothing else refers to them.
        let got = unsafe {
            match offset {
                Some(off) => libc::pread(file.as_raw_fd(), at, want, off),
                None => libc::read(file.as_raw_fd(), at, want),
            }
        };
        if let Ok(got) = usize::try_from(got) {
            // SAFETY: the kernel wrote `got` (at most `want`) bytes there: they are initialised.
            unsafe { buf.set_len(buf.len() + got) };
            return Ok(got);
        }
        let e = io::Error::last_os_error();
        match e.kind() {
            io::ErrorKind::Interrupted => continue,
            io::ErrorKind::WouldBlock if nonblocking_is_end => return Ok(0),
            _ => return Err(e),
        }
    }
}

/// The start of a record whose delimiter has not been read yet, with its offset.
///
/// Invariants: `bytes.len() < LINE_CAP`, and `bytes` holds no delimiter; `offset` is where the
/// next record starts (of `bytes[0]`, or just past the last byte handed on when empty).
#[derive(Debug, Default)]
pub(crate) struct Partial {
    bytes: Vec<u8>,
    /// Offset of `bytes[0]` in its file generation.
    offset: u64,
}

impl Partial {
    /// A partial record read before, at `offset` (the static reader's, handed to the engine).
    pub(crate) fn resume(offset: u64, bytes: Vec<u8>) -> Partial {
        Partial { bytes, offset }
    }

    /// The offset just past the held bytes.
    pub(crate) fn end(&self) -> u64 {
        self.offset + self.bytes.len() as u64
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Put the held bytes at the front of `buf` (emptied first): the next read goes after them.
    /// Returns the offset of `buf[0]` then: where the next record starts.
    pub(crate) fn begin(&self, buf: &mut Vec<u8>) -> u64 {
        buf.clear();
        buf.extend_from_slice(&self.bytes);
        self.offset
    }

    /// `buf` holds the bytes from offset `at` on (the held ones, if any, then new ones): keep the
    /// part after its last delimiter and return what is before, whole records, with its offset.
    /// Without a delimiter it is all kept, unless it reached [`LINE_CAP`]: then it goes on as a
    /// piece.
    pub(crate) fn cut(&mut self, mut buf: Vec<u8>, at: u64, delim: u8) -> (u64, Vec<u8>) {
        self.bytes.clear();
        match memrchr(delim, &buf) {
            Some(last) => {
                self.bytes.extend_from_slice(&buf[last + 1..]);
                self.offset = at + last as u64 + 1;
                buf.truncate(last + 1);
            }
            None if buf.len() >= LINE_CAP => self.offset = at + buf.len() as u64,
            None => {
                self.bytes.extend_from_slice(&buf);
                self.offset = at;
                buf.clear();
            }
        }
        (at, buf)
    }

    /// Hand over the held bytes and their offset (the record ends here, or is shown as it is).
    pub(crate) fn take(&mut self) -> (u64, Vec<u8>) {
        let offset = self.offset;
        self.offset += self.bytes.len() as u64;
        (offset, std::mem::take(&mut self.bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_keeps_the_unfinished_line() {
        let mut p = Partial::default();
        assert_eq!(p.cut(b"a\nb\npar".to_vec(), 10, b'\n'), (10, b"a\nb\n".to_vec()));
        assert_eq!(p.len(), 3);
        let mut buf = Vec::new();
        assert_eq!(p.begin(&mut buf), 14);
        buf.extend_from_slice(b"t\nnext");
        assert_eq!(p.cut(buf, 14, b'\n'), (14, b"part\n".to_vec()));
        assert_eq!(p.take(), (19, b"next".to_vec()));
        assert!(p.is_empty());
    }

    #[test]
    fn no_delimiter_is_held_until_the_cap() {
        let mut p = Partial::default();
        assert_eq!(p.cut(b"abc".to_vec(), 0, b'\n'), (0, Vec::new()));
        assert_eq!(p.len(), 3);
        let long = vec![b'x'; LINE_CAP];
        assert_eq!(p.cut(long.clone(), 0, b'\n'), (0, long));
        assert!(p.is_empty());
        assert_eq!(p.take(), (LINE_CAP as u64, Vec::new()));
    }
}
