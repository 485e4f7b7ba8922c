//! The `rtail` binary: parse the command line, run, and turn the outcome into an exit status.

mod cli;

use std::process::ExitCode;

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
    // Following into a closed stdout can never work: say so at once (GNU does too). Without
    // following, the first write fails instead, as GNU's does.
    if rtail::stdout_was_closed() && config.follow.is_some() {
        eprintln!("rtail: standard output: Bad file descriptor");
        return ExitCode::from(1);
    }
    match rtail::run(&config) {
        Ok(outcome) => outcome.into_exit_code(),
        Err(err) => {
            eprintln!("rtail: {err}");
            ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(1))
        }
    }
}
