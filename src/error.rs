//! Typed errors. A problem with one file is reported (as a diagnostic through the printer) and
//! remembered in the outcome; only the errors here stop a whole run.

use std::fmt;
use std::io;

use crate::sys::error_text;

/// Errors that end a run.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Writing to standard output failed for a reason other than the reader going away.
    Write(io::Error),
    /// A `--grep`, `--exclude` or `--until` pattern does not compile.
    Pattern(crate::filter::PatternError),
    /// The child command could not be started.
    Spawn {
        /// The program.
        command: String,
        /// Why.
        source: io::Error,
        /// The command was to be followed (no FILE before `--`) and its program names a file
        /// that exists: the user may have meant to follow it.
        is_a_file: bool,
    },
    /// `--serve` cannot listen on its address.
    Serve {
        /// The address, as asked for.
        addr: String,
        /// Why.
        source: io::Error,
    },
    /// An argument is a file-name pattern that does not compile (`logs/[a.log`); the text says
    /// why.
    Glob(String),
    /// A worker thread panicked; a bug in rtail.
    Internal(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Write(e) => write!(f, "write error: {}", error_text(e)),
            Error::Pattern(e) => e.fmt(f),
            Error::Spawn { command, source, is_a_file } => {
                write!(f, "cannot run '{command}': {}", error_text(source))?;
                if *is_a_file {
                    write!(
                        f,
                        "\nrtail: with no FILE before '--', the words after it are a command to run; \
                         to follow '{command}', name it before '--' or give -F"
                    )?;
                }
                Ok(())
            }
            Error::Serve { addr, source } => write!(f, "cannot serve on {addr}: {}", error_text(source)),
            Error::Glob(text) => f.write_str(text),
            Error::Internal(what) => write!(f, "internal error: {what}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Write(e) | Error::Spawn { source: e, .. } | Error::Serve { source: e, .. } => Some(e),
            Error::Pattern(_) | Error::Glob(_) | Error::Internal(_) => None,
        }
    }
}

impl From<crate::filter::PatternError> for Error {
    fn from(e: crate::filter::PatternError) -> Self {
        Error::Pattern(e)
    }
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
