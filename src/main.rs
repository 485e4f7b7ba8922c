//! The `rtail` binary: parse the command line, run, and turn the outcome into an exit status.

mod cli;

use std::process::ExitCode;

use rtail::Outcome;

fn main() -> ExitCode {
    let config = match cli::parse(std::env::args_os()) {
        Ok(config) => config,
        Err(cli::Exit::Printed) => return ExitCode::SUCCESS,
        Err(cli::Exit::Usage(message)) => {
            eprintln!("rtail: {message}\nTry 'rtail --help' for more information.");
            return ExitCode::from(1);
        }
        Err(cli::Exit::Invalid(message)) => {
            eprintln!("rtail: {message}");
            return ExitCode::from(1);
        }
    };
    match rtail::run(&config) {
        Ok(Outcome::BrokenPipe) => die_of_sigpipe(),
        Ok(outcome) => ExitCode::from(u8::try_from(outcome.exit_code()).unwrap_or(1)),
        Err(err) => {
            eprintln!("rtail: {err}");
            ExitCode::from(1)
        }
    }
}

/// End as GNU tail does when its reader goes away: killed by SIGPIPE (status 141 in a shell).
/// Rust ignores SIGPIPE at start-up, so restore the default action first.
fn die_of_sigpipe() -> ExitCode {
    use nix::sys::signal::{SigHandler, Signal, raise, signal};
    // SAFETY: restoring the default action installs no handler code of ours.
    unsafe {
        let _ = signal(Signal::SIGPIPE, SigHandler::SigDfl);
    }
    let _ = raise(Signal::SIGPIPE);
    ExitCode::from(141)
}
