//! rtail: `tail -F` done right.
//!
//! The `rtail` binary prints the end of files like GNU tail and follows logs by name across
//! rotation without losing or repeating a line. This library runs the same engine:
//!
//! - [`Follower`] follows files from Rust code — an integration test waiting for its service's
//!   "ready" line, with no subprocess and no sleeps;
//! - [`run`] does exactly what the command does with a [`Config`], printing to standard output.
//!
//! The command line lives in the binary, behind the default `cli` feature: as a dependency with
//! `default-features = false`, the library builds without clap and its companions.
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
mod group;
mod output;
mod pipeline;
mod record;
mod reorder;
mod run;
mod signal;
mod source;
#[allow(dead_code)]
mod stamp;
mod sys;
mod text;
#[cfg(feature = "web")]
mod web;

pub use config::{
    BadNumber, Config, Count, DEFAULT_MERGE_WINDOW, Follow, FollowMode, Headers, Input, Serve, Stream, Unit,
    parse_count, parse_size,
};
pub use error::{Error, Result};
pub use filter::{PatternError, Patterns};
pub use follower::{FollowError, Follower, FollowerBuilder, Line};
pub use run::{Outcome, run};
pub use stamp::parse_since;

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
