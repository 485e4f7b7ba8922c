//! Shared test helpers: a temp dir, the rtail command with a scrubbed environment, GNU tail
//! comparison, and a spawned rtail whose output is waited for with a deadline (never a blind sleep).

#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The longest any test waits for an expected output.
pub const DEADLINE: Duration = Duration::from_secs(15);

/// Path of the rtail binary under test.
pub fn rtail_bin() -> PathBuf {
    PathBuf::from(assert_cmd::cargo::cargo_bin!("rtail"))
}

/// A temporary directory that is the working directory of every command made from it.
pub struct TestDir {
    dir: tempfile::TempDir,
}

impl TestDir {
    pub fn new() -> TestDir {
        TestDir {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Create (or replace) a file with `data`.
    pub fn write(&self, name: &str, data: impl AsRef<[u8]>) -> PathBuf {
        let path = self.join(name);
        std::fs::write(&path, data).expect("write file");
        path
    }

    /// Append `data` to a file (creating it).
    pub fn append(&self, name: &str, data: impl AsRef<[u8]>) {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.join(name))
            .expect("open");
        f.write_all(data.as_ref()).expect("append");
    }

    /// `rtail ARGS` run in this directory with a clean environment.
    pub fn rtail(&self) -> Command {
        let mut cmd = Command::new(rtail_bin());
        scrub(&mut cmd);
        cmd.current_dir(self.path());
        cmd
    }

    /// GNU `tail ARGS` run the same way.
    pub fn gnu_tail(&self) -> Command {
        let mut cmd = Command::new("tail");
        scrub(&mut cmd);
        cmd.current_dir(self.path());
        cmd
    }

    /// Run rtail and GNU tail with the same arguments and stdin; assert the same stdout, exit status
    /// and stderr (with `tail:` read as `rtail:`). Returns rtail's output.
    pub fn same_as_gnu(&self, args: &[&str], stdin: &[u8]) -> Output {
        let ours = run_with_stdin(self.rtail().args(args), stdin);
        let theirs = run_with_stdin(self.gnu_tail().args(args), stdin);
        let their_err = String::from_utf8_lossy(&theirs.stderr)
            .replace("tail: ", "rtail: ")
            .replace("Try 'tail --help'", "Try 'rtail --help'");
        assert_eq!(
            ours.stdout, theirs.stdout,
            "stdout differs from GNU tail for {args:?}"
        );
        assert_eq!(
            ours.status.code(),
            theirs.status.code(),
            "exit status differs from GNU tail for {args:?}"
        );
        assert_eq!(
            String::from_utf8_lossy(&ours.stderr),
            their_err,
            "stderr differs from GNU tail for {args:?}"
        );
        ours
    }

    /// Start rtail in the background with piped stdout/stderr.
    pub fn spawn(&self, args: &[&str]) -> Spawned {
        Spawned::start(self.rtail().args(args))
    }
}

/// Remove environment that changes output (colour, locale) so tests see what a pipe sees.
pub fn scrub(cmd: &mut Command) {
    for var in [
        "NO_COLOR",
        "CLICOLOR",
        "CLICOLOR_FORCE",
        "TERM",
        "COLUMNS",
        "POSIXLY_CORRECT",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("LC_ALL", "C");
}

/// Run a command to completion, feeding `stdin`.
pub fn run_with_stdin(cmd: &mut Command, stdin: &[u8]) -> Output {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut input = child.stdin.take().expect("stdin");
    let data = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait");
    let _ = feeder.join();
    out
}

/// Bytes read so far from one of the child's streams, filled by a reader thread.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn collect(mut from: impl Read + Send + 'static) -> (Captured, JoinHandle<()>) {
        let captured = Captured::default();
        let sink = captured.clone();
        let handle = std::thread::spawn(move || {
            let mut buf = [0u8; 65536];
            loop {
                match from.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => sink.0.lock().expect("lock").extend_from_slice(&buf[..n]),
                }
            }
        });
        (captured, handle)
    }

    pub fn bytes(&self) -> Vec<u8> {
        self.0.lock().expect("lock").clone()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes()).into_owned()
    }
}

/// A background rtail; killed on drop.
pub struct Spawned {
    pub child: Child,
    pub stdout: Captured,
    pub stderr: Captured,
    readers: Vec<JoinHandle<()>>,
}

impl Spawned {
    pub fn start(cmd: &mut Command) -> Spawned {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn rtail");
        let (stdout, h1) = Captured::collect(child.stdout.take().expect("stdout"));
        let (stderr, h2) = Captured::collect(child.stderr.take().expect("stderr"));
        Spawned {
            child,
            stdout,
            stderr,
            readers: vec![h1, h2],
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Wait until `pred(stdout, stderr)` holds; panic with both streams at the deadline.
    pub fn wait_until(&self, what: &str, pred: impl Fn(&str, &str) -> bool) {
        let start = Instant::now();
        let mut pause = Duration::from_millis(2);
        loop {
            let (out, err) = (self.stdout.text(), self.stderr.text());
            if pred(&out, &err) {
                return;
            }
            if start.elapsed() > DEADLINE {
                panic!(
                    "timed out waiting for {what}\n--- stdout ---\n{out}\n--- stderr ---\n{err}"
                );
            }
            // Poll with back-off up to the deadline: waiting for output, not a fixed settle time.
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }

    /// Wait until stdout contains `needle`.
    pub fn wait_for_stdout(&self, needle: &str) {
        self.wait_until(&format!("stdout to contain {needle:?}"), |out, _| {
            out.contains(needle)
        });
    }

    /// Wait until stderr contains `needle`.
    pub fn wait_for_stderr(&self, needle: &str) {
        self.wait_until(&format!("stderr to contain {needle:?}"), |_, err| {
            err.contains(needle)
        });
    }

    /// Wait for the process to exit (deadline) and return its status code (None if killed).
    pub fn wait_exit(&mut self) -> Option<i32> {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                for h in self.readers.drain(..) {
                    let _ = h.join();
                }
                return status.code().or_else(|| {
                    use std::os::unix::process::ExitStatusExt;
                    status.signal().map(|s| 128 + s)
                });
            }
            if start.elapsed() > DEADLINE {
                panic!(
                    "rtail did not exit\n--- stdout ---\n{}\n--- stderr ---\n{}",
                    self.stdout.text(),
                    self.stderr.text()
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Send a signal to the process.
    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child's pid touches no memory.
        unsafe {
            libc::kill(self.pid(), sig);
        }
    }

    /// Stop it (SIGKILL) and return everything it printed.
    pub fn finish(mut self) -> (String, String) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        for h in self.readers.drain(..) {
            let _ = h.join();
        }
        (self.stdout.text(), self.stderr.text())
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
