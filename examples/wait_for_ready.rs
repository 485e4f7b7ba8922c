//! Start a child process that logs, rotates its log file like a real logger, and finally logs
//! its ready line; wait for that line with a `Follower`, whatever file it lands in.
//!
//! Run with `cargo run --example wait_for_ready`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args_os().skip(1);
    if args.next().is_some_and(|a| a == "--child") {
        let log = PathBuf::from(args.next().ok_or("--child needs a log path")?);
        return child(&log);
    }

    let dir = tempfile::tempdir()?;
    let log = dir.path().join("service.log");
    // Follow before the child starts, from the first line: nothing it writes can be missed.
    let mut follower = rtail::Follower::builder().path(&log).spawn()?;
    let mut service = Command::new(std::env::current_exe()?).arg("--child").arg(&log).spawn()?;

    let ready = follower.wait_for(r"listening on \S+", Duration::from_secs(30))?;
    println!("the service is ready: {}", ready.text());
    for notice in follower.notices() {
        println!("(rtail noticed: {notice})");
    }
    let status = service.wait()?;
    println!("the service exited: {status}");
    Ok(())
}

/// The "service": 300 log lines in a file rotated every 100 lines (rename to .1, .2, ...; a
/// new file takes the name), then the ready line.
fn child(log: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let mut out = open(log)?;
    for i in 1..=300 {
        writeln!(out, "INFO warming cache, step {i}")?;
        if i % 100 == 0 {
            std::fs::rename(log, log.with_extension(format!("log.{}", i / 100)))?;
            out = open(log)?;
        }
    }
    writeln!(out, "INFO listening on 127.0.0.1:8080")?;
    Ok(())
}

fn open(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new().create(true).append(true).open(path)
}
