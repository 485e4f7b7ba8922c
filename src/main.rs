//! The `rtail` binary: parse the command line, run, and turn the outcome into an exit status.
//!
//! The process starts here, not in Rust's runtime (`#![no_main]`): rtail needs none of the
//! runtime's start-up work (finding the main thread's stack guard, which parses
//! /proc/self/maps, and installing a stack-overflow handler: a tenth of a short run's
//! instructions), and it takes care of the standard descriptors and SIGPIPE itself, where it
//! can tell a closed stdout from a /dev/null opened for reading and writing.
#![cfg_attr(not(test), no_main)]

mod cli;

use std::ffi::OsString;

/// The C entry point: `argc` words at `argv`, as the kernel passed them. (Unit tests run
/// under the test harness's own `main`.)
#[cfg(not(test))]
#[unsafe(no_mangle)]
extern "C" fn main(argc: std::ffi::c_int, argv: *const *const std::ffi::c_char) -> std::ffi::c_int {
    use std::ffi::CStr;
    use std::io::Write;
    use std::os::unix::ffi::OsStringExt;

    let stdout_closed = rtail::prepare_process();
    let args: Vec<OsString> = (0..usize::try_from(argc).unwrap_or(0))
        .map(|i| {
            // SAFETY: the C runtime passes `argc` valid, NUL-terminated strings at `argv`.
            let word = unsafe { CStr::from_ptr(*argv.add(i)) };
            OsString::from_vec(word.to_bytes().to_vec())
        })
        .collect();
    // A panic must not unwind out of this C function: end as Rust's runtime would, with 101
    // (the panic hook has printed the message).
    let code = std::panic::catch_unwind(|| run(args, stdout_closed)).unwrap_or(101);
    // Help and messages written through std's stdout are flushed by now; this is for certainty.
    let _ = std::io::stdout().flush();
    std::ffi::c_int::from(code)
}

#[cfg_attr(test, allow(dead_code))]
fn run(args: Vec<OsString>, stdout_closed: bool) -> u8 {
    let config = match cli::parse(args) {
        Ok(config) => config,
        Err(cli::Exit::Printed) => return 0,
        Err(cli::Exit::Usage(message)) => {
            eprintln!("rtail: {message}\nTry 'rtail --help' for more information.");
            return 1;
        }
        Err(cli::Exit::Invalid(message)) => {
            eprintln!("rtail: {message}");
            return 1;
        }
    };
    // Following into a closed stdout can never work: say so at once (GNU does too). Without
    // following, the first write fails instead, as GNU's does.
    if stdout_closed && config.follow.is_some() {
        eprintln!("rtail: standard output: Bad file descriptor");
        return 1;
    }
    match rtail::run(&config) {
        Ok(outcome) => outcome.into_exit_code(),
        Err(err) => {
            eprintln!("rtail: {err}");
            u8::try_from(err.exit_code()).unwrap_or(1)
        }
    }
}
