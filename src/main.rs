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
    if rtail::stdout_was_closed() {
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
