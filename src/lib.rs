//! rtail: `tail -F` done right.
//!
//! The library runs the same engine as the `rtail` binary. [`run`] prints to standard output
//! as the command does; the crate never depends on clap.
//!
//! ```no_run
//! use rtail::{Config, Count, Input, Unit};
//!
//! let config = Config {
//!     inputs: vec![Input::Path("app.log".into())],
//!     count: Count { unit: Unit::Lines, n: 5, from_start: false },
//!     ..Config::default()
//! };
//! let outcome = rtail::run(&config)?;
//! std::process::exit(outcome.exit_code());
//! # Ok::<(), rtail::Error>(())
//! ```

mod config;
mod error;
mod follow;
mod initial;
mod pipeline;
mod printer;
mod signal;
mod sys;

use std::fs::File;
use std::io;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::time::Duration;

pub use config::{
    BadNumber, Config, Count, Follow, FollowMode, Headers, Input, Unit, parse_count, parse_size,
};
pub use error::{Error, Result};

use initial::ReadFail;
use pipeline::{Shutdown, Sink, SourceId, StopReason, Stopped};
use printer::{Layout, PrintEnd, Printer};

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
}

impl Outcome {
    /// The exit status GNU tail uses for this outcome (141 for a broken pipe, as if killed by
    /// SIGPIPE).
    pub fn exit_code(self) -> i32 {
        match self {
            Outcome::Success | Outcome::PidsGone => 0,
            Outcome::FileErrors => 1,
            Outcome::BrokenPipe => 128 + libc::SIGPIPE,
            Outcome::Signaled(sig) => 128 + sig,
        }
    }
}

impl Outcome {
    /// End the process the way this outcome asks: a broken pipe or a signal ends it killed by
    /// that signal (status 141, 130, 143, 129 in a shell), as GNU tail does; anything else
    /// returns the exit code for `main` to return.
    pub fn into_exit_code(self) -> std::process::ExitCode {
        match self {
            Outcome::BrokenPipe => signal::die_by(libc::SIGPIPE),
            Outcome::Signaled(sig) => signal::die_by(sig),
            _ => {}
        }
        std::process::ExitCode::from(u8::try_from(self.exit_code()).unwrap_or(1))
    }
}

/// Whether standard output was closed when the process started (`rtail ... >&-`).
pub fn stdout_was_closed() -> bool {
    sys::stdout_was_closed()
}

/// Quote a name for a message the way GNU's diagnostics do: `'name'`, with a `'` inside
/// written as `'\''`.
pub(crate) fn quote(name: &[u8]) -> String {
    let text = String::from_utf8_lossy(name);
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Run rtail with `config` as the `rtail` command does: print to standard output and
/// diagnostics to standard error, and while it runs handle SIGINT, SIGTERM and SIGHUP by
/// flushing and stopping ([`Outcome::Signaled`]).
pub fn run(config: &Config) -> Result<Outcome> {
    let names: Vec<Vec<u8>> = config.inputs.iter().map(Input::display_name).collect();
    let layout = Layout {
        names: names.clone(),
        headers: config.print_headers(),
    };
    let shutdown = Shutdown::new();
    let (sink, source) = pipeline::channel(shutdown.clone());
    let (control_tx, control_rx) = crossbeam_channel::bounded::<follow::Control>(1);
    let following = config.follow.is_some();
    let watch = signal::Watch {
        signals: true,
        stdout: following && sys::stdout_is_pipe(),
        pids: if following {
            config.pids.clone()
        } else {
            Vec::new()
        },
        poll_every: config
            .follow
            .as_ref()
            .map_or(Duration::from_secs(1), |f| f.sleep_interval),
    };
    let result = std::thread::scope(|scope| {
        let watcher = signal::Watcher::start(scope, watch, shutdown.clone(), control_tx)
            .map_err(|e| Error::Internal(format!("cannot start the signal watcher: {e}")))?;
        let printer = scope.spawn(move || Printer::new(layout).run(source));
        let produced = produce(config, &names, &sink, control_rx);
        drop(sink);
        let printed = printer
            .join()
            .map_err(|_| Error::Internal("the printer thread panicked".into()));
        if let Some(w) = watcher {
            w.stop();
        }
        Ok::<_, Error>((produced, printed??))
    });
    let (produced, printed) = result?;
    if let Some(sig) = signal::received() {
        return Ok(Outcome::Signaled(sig));
    }
    Ok(match (printed, shutdown.reason(), produced) {
        (PrintEnd::BrokenPipe, _, _) | (_, Some(StopReason::OutputClosed), _) => {
            Outcome::BrokenPipe
        }
        (
            _,
            _,
            Produced {
                had_errors: true, ..
            },
        ) => Outcome::FileErrors,
        (
            _,
            _,
            Produced {
                pids_gone: true, ..
            },
        ) => Outcome::PidsGone,
        _ => Outcome::Success,
    })
}

/// What the producer side reports.
#[derive(Debug, Clone, Copy, Default)]
struct Produced {
    had_errors: bool,
    pids_gone: bool,
}

/// Everything the producer side does: warnings, initial output, then following.
fn produce(
    config: &Config,
    names: &[Vec<u8>],
    sink: &Sink,
    control: crossbeam_channel::Receiver<follow::Control>,
) -> Produced {
    let mut produced = Produced::default();
    let _ = (|| -> Result<(), Stopped> {
        for warning in warnings(config) {
            sink.diag(warning.into())?;
        }
        if config.follow.is_some() {
            // One descriptor per followed file, plus a few for ourselves.
            let limit = sys::raise_open_file_limit();
            let needed = config.inputs.len() as u64 + 32;
            if needed > limit {
                sink.diag(format!(
                    "warning: following {} files needs about {needed} open files, but the limit is {limit}; \
                     files past it cannot be opened (raise it with 'ulimit -n')",
                    config.inputs.len()
                ))?;
            }
        }
        let mut starts = Vec::with_capacity(config.inputs.len());
        for (id, input) in config.inputs.iter().enumerate() {
            let start = print_one(config, id, input, &names[id], sink)?;
            produced.had_errors |= start.failure.is_some();
            starts.push(start);
        }
        if config.follow.is_none() {
            return Ok(());
        }
        let engine = follow::Engine::new(config, starts, sink, control)?;
        if engine.is_empty() {
            return Ok(());
        }
        match engine.run()? {
            follow::FollowEnd::NoFilesRemaining => produced.had_errors = true,
            follow::FollowEnd::PidsGone => produced.pids_gone = true,
            follow::FollowEnd::Stopped => {}
        }
        Ok(())
    })();
    produced
}

/// GNU's warnings about options that do nothing in this combination.
fn warnings(config: &Config) -> Vec<&'static str> {
    let mut out = Vec::new();
    if config.follow.is_none() && !config.pids.is_empty() {
        out.push("warning: PID ignored; --pid=PID is useful only when following");
    }
    match &config.follow {
        None if config.retry_requested => {
            out.push("warning: --retry ignored; --retry is useful only when following")
        }
        Some(f) if f.mode == FollowMode::Descriptor && f.retry => {
            out.push("warning: --retry only effective for the initial open")
        }
        _ => {}
    }
    out
}

/// Open and print one input; report a failure on stderr and in the returned [`follow::Start`].
fn print_one(
    config: &Config,
    id: SourceId,
    input: &Input,
    name: &[u8],
    sink: &Sink,
) -> Result<follow::Start, Stopped> {
    let mut start = follow::Start {
        id,
        open: None,
        failure: None,
    };
    if config.count.is_nothing() && config.follow.is_none() {
        return Ok(start);
    }
    let file = match open_input(input) {
        Ok(file) => Arc::new(file),
        Err(e) => {
            sink.diag(format!(
                "cannot open {} for reading: {}",
                quote(name),
                sys::error_text(&e)
            ))?;
            start.failure = Some(follow::Failure::Errno(
                e.raw_os_error().unwrap_or(libc::EIO),
            ));
            return Ok(start);
        }
    };
    sink.send(pipeline::Msg::Header(id))?;
    match initial::print_initial(&file, config.count, config.delimiter, id, sink) {
        Ok(reached) => start.open = Some((file, reached.offset)),
        Err(ReadFail::Stopped) => return Err(Stopped),
        Err(ReadFail::Io(e)) => {
            sink.diag(format!(
                "error reading {}: {}",
                quote(name),
                sys::error_text(&e)
            ))?;
            let untailable = e.raw_os_error() == Some(libc::EISDIR);
            if untailable && let Some(follow) = &config.follow {
                let giving_up = if follow.retry && follow.mode == FollowMode::Name {
                    ""
                } else {
                    "; giving up on this name"
                };
                sink.diag(format!(
                    "{}: cannot follow end of this type of file{giving_up}",
                    String::from_utf8_lossy(name)
                ))?;
            }
            start.failure = Some(if untailable {
                follow::Failure::Untailable
            } else {
                follow::Failure::Errno(e.raw_os_error().unwrap_or(libc::EIO))
            });
        }
    }
    Ok(start)
}

/// Open an input for reading; standard input is duplicated so it shares its offset with the
/// caller's descriptor, as GNU's does.
fn open_input(input: &Input) -> io::Result<File> {
    match input {
        Input::Stdin => Ok(File::from(io::stdin().as_fd().try_clone_to_owned()?)),
        Input::Path(path) => File::open(path),
    }
}
