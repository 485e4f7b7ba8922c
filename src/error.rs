//! Typed errors. A problem with one file is reported (as a diagnostic through the printer) and
//! remembered in the outcome; only the errors here stop a whole run.

use std::io;

use crate::sys::error_text;

/// Errors that end a run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Writing to standard output failed for a reason other than the reader going away.
    #[error("write error: {}", error_text(.0))]
    Write(#[source] io::Error),
    /// Standard output is not usable at all (closed, or not open for writing).
    #[error("standard output: {}", error_text(.0))]
    Stdout(#[source] io::Error),
    /// A worker thread panicked; a bug in rtail.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
