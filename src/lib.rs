//! rtail: `tail -F` done right.
//!
//! The `rtail` binary prints the end of files like GNU tail and follows logs by name across
//! rotation without losing or repeating a line. This library runs the same engine:
//!
//! - [`Follower`] follows files from Rust code — an integration test waiting for its service's
//!   "ready" line, with no subprocess and no sleeps;
//! - [`run`] does exactly what the command does with a [`Config`], printing to standard output.
//!
//! The library does not depend on clap or on the colour crate's terminal detection; the command
//! line lives in the binary.
//!
//! ```
//! use std::io::Write;
//! use std::time::Duration;
//!
//! let dir = tempfile::tempdir()?;
//! let log = dir.path().join("app.log");
//! std::fs::write(&log, "booting\n")?;
//! let mut follower = rtail::Follower::builder().path(&log).spawn()?;
//!
//! // The service rotates its log, then reports ready in the new file.
//! std::fs::rename(&log, dir.path().join("app.log.1"))?;
//! std::fs::File::create(&log)?.write_all(b"ready in 42 ms\n")?;
//!
//! let line = follower.wait_for(r"^ready", Duration::from_secs(10))?;
//! assert_eq!(line.text(), "ready in 42 ms");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod child;
mod config;
mod error;
mod filter;
mod follow;
mod follower;
mod output;
mod pipeline;
mod record;
mod run;
mod signal;
mod source;
mod sys;
mod text;

pub use config::{
    BadNumber, Config, Count, Follow, FollowMode, Headers, Input, Unit, parse_count, parse_size,
};
pub use error::{Error, Result};
pub use filter::{PatternError, Patterns};
pub use follower::{FollowError, Follower, FollowerBuilder, Line};
pub use run::run;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// Everything asked for was printed.
    Success,
    /// Some input could not be opened or read; the others were printed (exit status 1).
    FileErrors,
    /// The reader of standard output went away; the run stopped quietly.
    BrokenPipe,
    /// Stopped by this signal (SIGINT, SIGTERM, SIGHUP) after flushing; the binary ends by
    /// re-raising it so the shell sees 128+N.
    Signaled(i32),
    /// Following ended because every `--pid` process died (exit status 0).
    PidsGone,
    /// The `--until` line was printed (exit status 0).
    UntilMatched,
    /// `--idle-timeout` passed with no new line (exit status 0).
    Idle,
    /// `--timeout` passed first (exit status 124, as timeout(1)).
    TimedOut,
    /// The child command ended with this status (128+N when killed by signal N); it is ours.
    Child(i32),
}

impl Outcome {
    /// The exit status GNU tail uses for this outcome (141 for a broken pipe, as if killed by
    /// SIGPIPE).
    pub fn exit_code(self) -> i32 {
        match self {
            Outcome::Success | Outcome::PidsGone | Outcome::UntilMatched | Outcome::Idle => 0,
            Outcome::TimedOut => 124,
            Outcome::Child(code) => code,
            Outcome::FileErrors => 1,
            // As GNU's: killed by SIGPIPE, or status 1 when SIGPIPE was ignored from the start.
            Outcome::BrokenPipe if signal::sigpipe_ignored_at_start() => 1,
            Outcome::BrokenPipe => 128 + libc::SIGPIPE,
            Outcome::Signaled(sig) => 128 + sig,
        }
    }
}

impl Outcome {
    /// End the process the way this outcome asks: a broken pipe or a signal ends it killed by
    /// that signal (status 141, 130, 143, 129 in a shell), as GNU tail does; anything else
    /// returns the exit code for `main` to return.
    pub fn into_exit_code(self) -> u8 {
        match self {
            Outcome::BrokenPipe if !signal::sigpipe_ignored_at_start() => signal::die_by(libc::SIGPIPE),
            Outcome::Signaled(sig) => signal::die_by(sig),
            _ => {}
        }
        u8::try_from(self.exit_code() & 0xff).unwrap_or(1)
    }
}

/// For a program's start, before anything else: take the standard descriptors it was started
/// without (so no file opened later lands on them), and ignore SIGPIPE (a reader that went away
/// is then an `EPIPE` error, which rtail handles). Returns whether standard output was closed
/// (`rtail ... >&-`); writes to it then fail with "Bad file descriptor", as they would have.
pub fn prepare_process() -> bool {
    // SAFETY: reading and setting a signal's disposition before any thread exists.
    let previous = unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    signal::note_sigpipe_ignored_at_start(previous == libc::SIG_IGN);
    sys::claim_standard_fds()
}
