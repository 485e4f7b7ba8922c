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
mod initial;
mod pipeline;
mod printer;
mod sys;

use std::fs::File;
use std::io;
use std::os::fd::AsFd;
use std::sync::Arc;

pub use config::{BadNumber, Config, Count, Headers, Input, Unit, parse_count, parse_size};
pub use error::{Error, Result};

use initial::ReadFail;
use pipeline::{Sink, SourceId, Stopped};
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
}

impl Outcome {
    /// The exit status GNU tail uses for this outcome (141 for a broken pipe, as if killed by
    /// SIGPIPE).
    pub fn exit_code(self) -> i32 {
        match self {
            Outcome::Success => 0,
            Outcome::FileErrors => 1,
            Outcome::BrokenPipe => 128 + libc::SIGPIPE,
        }
    }
}

/// Quote a name for a message the way GNU's diagnostics do: `'name'`, with a `'` inside
/// written as `'\''`.
pub(crate) fn quote(name: &[u8]) -> String {
    let text = String::from_utf8_lossy(name);
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Run rtail with `config`, printing to standard output and diagnostics to standard error.
pub fn run(config: &Config) -> Result<Outcome> {
    let names: Vec<Vec<u8>> = config.inputs.iter().map(Input::display_name).collect();
    let layout = Layout {
        names: names.clone(),
        headers: config.print_headers(),
    };
    let (sink, source) = pipeline::channel();
    std::thread::scope(|scope| {
        let printer = scope.spawn(move || Printer::new(layout).run(source));
        let had_errors = print_all(config, &names, &sink);
        drop(sink);
        let printed = printer
            .join()
            .map_err(|_| Error::Internal("the printer thread panicked".into()))?;
        Ok(match printed? {
            PrintEnd::BrokenPipe => Outcome::BrokenPipe,
            PrintEnd::Done if had_errors => Outcome::FileErrors,
            PrintEnd::Done => Outcome::Success,
        })
    })
}

/// Print the initial output of every input in order. Returns whether any input failed.
fn print_all(config: &Config, names: &[Vec<u8>], sink: &Sink) -> bool {
    let mut had_errors = false;
    for (id, input) in config.inputs.iter().enumerate() {
        match print_one(config, id, input, &names[id], sink) {
            Ok(ok) => had_errors |= !ok,
            Err(Stopped) => break,
        }
    }
    had_errors
}

/// Open and print one input. `Ok(false)` when it failed (after reporting why).
fn print_one(
    config: &Config,
    id: SourceId,
    input: &Input,
    name: &[u8],
    sink: &Sink,
) -> Result<bool, Stopped> {
    if config.count.is_nothing() {
        return Ok(true);
    }
    let file = match open_input(input) {
        Ok(file) => Arc::new(file),
        Err(e) => {
            sink.diag(format!(
                "cannot open {} for reading: {}",
                quote(name),
                sys::error_text(&e)
            ))?;
            return Ok(false);
        }
    };
    sink.send(pipeline::Msg::Header(id))?;
    match initial::print_initial(&file, config.count, config.delimiter, id, sink) {
        Ok(_) => Ok(true),
        Err(ReadFail::Stopped) => Err(Stopped),
        Err(ReadFail::Io(e)) => {
            sink.diag(format!(
                "error reading {}: {}",
                quote(name),
                sys::error_text(&e)
            ))?;
            Ok(false)
        }
    }
}

/// Open an input for reading; standard input is duplicated so it shares its offset with the
/// caller's descriptor, as GNU's does.
fn open_input(input: &Input) -> io::Result<File> {
    match input {
        Input::Stdin => Ok(File::from(io::stdin().as_fd().try_clone_to_owned()?)),
        Input::Path(path) => File::open(path),
    }
}
