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
    /// A `--grep`, `--exclude` or `--until` pattern does not compile.
    #[error(transparent)]
    Pattern(#[from] crate::filter::PatternError),
    /// The child command could not be started.
    #[error("cannot run '{command}': {}", error_text(.source))]
    Spawn {
        /// The program.
        command: String,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A worker thread panicked; a bug in rtail.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// The exit status for this error: as a shell, 127 for a command not found and 126 for one
    /// that cannot be run; 1 otherwise (as GNU tail).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Spawn { source, .. } if source.kind() == io::ErrorKind::NotFound => 127,
            Error::Spawn { .. } => 126,
            _ => 1,
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
