//! Shared test helpers: a temp dir, the rtail command with a scrubbed environment, GNU tail
//! comparison, and a spawned rtail whose output is waited for with a deadline (never a blind sleep).

#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Condvar, Mutex};
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
        TestDir { dir: tempfile::tempdir().expect("temp dir") }
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
        let mut f =
            std::fs::OpenOptions::new().create(true).append(true).open(self.join(name)).expect("open");
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
        assert_eq!(ours.stdout, theirs.stdout, "stdout differs from GNU tail for {args:?}");
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
    for var in
        ["NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE", "TERM", "COLUMNS", "POSIXLY_CORRECT", "RTAIL_SERVE_TOKEN"]
    {
        cmd.env_remove(var);
    }
    cmd.env("LC_ALL", "C");
}

/// Run a command to completion, feeding `stdin`.
pub fn run_with_stdin(cmd: &mut Command, stdin: &[u8]) -> Output {
    use std::io::Write;
    let mut child =
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    let mut input = child.stdin.take().expect("stdin");
    let data = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait");
    let _ = feeder.join();
    out
}

/// Rung whenever a stream it is given to grows or ends: waiters block on it instead of polling.
#[derive(Default)]
pub struct Bell {
    /// How many times it rang.
    rings: Mutex<u64>,
    rung: Condvar,
}

impl Bell {
    fn ring(&self) {
        *self.rings.lock().expect("lock") += 1;
        self.rung.notify_all();
    }

    /// How many times it rang so far: take this before looking, then [`Bell::wait_past`] it.
    pub fn rings(&self) -> u64 {
        *self.rings.lock().expect("lock")
    }

    /// Wait until it rang more than `seen` times, or `until` has passed.
    pub fn wait_past(&self, seen: u64, until: Instant) {
        let mut rings = self.rings.lock().expect("lock");
        while *rings == seen {
            let now = Instant::now();
            if now >= until {
                return;
            }
            rings = self.rung.wait_timeout(rings, until - now).expect("lock").0;
        }
    }
}

/// Bytes read so far from one of the child's streams, filled by a reader thread that rings
/// `bell` after each read and at the end.
#[derive(Clone, Default)]
pub struct Captured {
    bytes: Arc<Mutex<Vec<u8>>>,
    pub bell: Arc<Bell>,
}

impl Captured {
    fn collect(from: impl Read + Send + 'static) -> (Captured, JoinHandle<()>) {
        Captured::collect_ringing(from, Arc::default())
    }

    fn collect_ringing(mut from: impl Read + Send + 'static, bell: Arc<Bell>) -> (Captured, JoinHandle<()>) {
        let captured = Captured { bytes: Arc::default(), bell };
        let sink = captured.clone();
        let handle = std::thread::spawn(move || {
            let mut buf = [0u8; 65536];
            loop {
                match from.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => sink.bytes.lock().expect("lock").extend_from_slice(&buf[..n]),
                }
                sink.bell.ring();
            }
            sink.bell.ring();
        });
        (captured, handle)
    }

    pub fn bytes(&self) -> Vec<u8> {
        self.bytes.lock().expect("lock").clone()
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
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn rtail");
        Spawned::with_readers(child)
    }

    /// Start reading the child's stdout and stderr, both ringing one bell.
    fn with_readers(mut child: Child) -> Spawned {
        let bell = Arc::new(Bell::default());
        let (stdout, h1) = Captured::collect_ringing(child.stdout.take().expect("stdout"), Arc::clone(&bell));
        let (stderr, h2) = Captured::collect_ringing(child.stderr.take().expect("stderr"), bell);
        Spawned { child, stdout, stderr, readers: vec![h1, h2] }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Wait until `pred(stdout, stderr)` holds; panic with both streams at the deadline.
    /// Output is looked at again each time either stream grows or ends (rtail exiting ends
    /// them), so the wait takes as long as the output does.
    pub fn wait_until(&self, what: &str, pred: impl Fn(&str, &str) -> bool) {
        if !self.wait_within(DEADLINE, &pred) {
            let (out, err) = (self.stdout.text(), self.stderr.text());
            panic!("timed out waiting for {what}\n--- stdout ---\n{out}\n--- stderr ---\n{err}");
        }
    }

    /// Whether `pred(stdout, stderr)` came to hold within `limit`; looked at again each time
    /// either stream grows or ends.
    pub fn wait_within(&self, limit: Duration, pred: impl Fn(&str, &str) -> bool) -> bool {
        let until = Instant::now() + limit;
        let bell = &self.stdout.bell;
        loop {
            let seen = bell.rings();
            if pred(&self.stdout.text(), &self.stderr.text()) {
                return true;
            }
            if Instant::now() >= until {
                return false;
            }
            bell.wait_past(seen, until);
        }
    }

    /// Wait until stdout contains `needle`.
    pub fn wait_for_stdout(&self, needle: &str) {
        self.wait_until(&format!("stdout to contain {needle:?}"), |out, _| out.contains(needle));
    }

    /// Wait until stderr contains `needle`.
    pub fn wait_for_stderr(&self, needle: &str) {
        self.wait_until(&format!("stderr to contain {needle:?}"), |_, err| err.contains(needle));
    }

    /// Wait for the process to exit (deadline) and return its status code (None if killed).
    pub fn wait_exit(&mut self) -> Option<i32> {
        if exited_by(&mut self.child, Instant::now() + DEADLINE).is_none() {
            panic!(
                "rtail did not exit\n--- stdout ---\n{}\n--- stderr ---\n{}",
                self.stdout.text(),
                self.stderr.text()
            );
        }
        let status = self.child.wait().expect("wait");
        for h in self.readers.drain(..) {
            let _ = h.join();
        }
        status.code().or_else(|| {
            use std::os::unix::process::ExitStatusExt;
            status.signal().map(|s| 128 + s)
        })
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

impl Spawned {
    /// Like [`Spawned::start`], but with `stdin` as standard input instead of /dev/null (a pipe
    /// to feed, or a file to follow as standard input).
    pub fn start_with_stdin(cmd: &mut Command, stdin: Stdio) -> Spawned {
        let child =
            cmd.stdin(stdin).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn rtail");
        Spawned::with_readers(child)
    }
}

// ---------------------------------------------------------------------------------------------
// Processes, threads and exit timing, read from /proc (Linux): for the lifecycle and child
// command tests, which must show that nothing is left behind and measure how fast rtail ends.

/// The fields of /proc/PID/stat the tests look at.
#[derive(Debug, Clone)]
pub struct ProcInfo {
    pub pid: i32,
    pub comm: String,
    /// `R`, `S`, `T`, `Z`...
    pub state: char,
    pub ppid: i32,
    pub pgid: i32,
    /// User and system CPU time, in clock ticks.
    pub cpu_ticks: u64,
}

impl ProcInfo {
    /// Still a process (not a zombie waiting to be reaped).
    pub fn is_live(&self) -> bool {
        !matches!(self.state, 'Z' | 'X')
    }
}

/// /proc/PID/stat of one process, if it exists.
pub fn proc_info(pid: i32) -> Option<ProcInfo> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces or ')': fields follow the last ')'.
    let (head, rest) = stat.rsplit_once(')')?;
    let comm = head.split_once('(')?.1.to_string();
    let f: Vec<&str> = rest.split_whitespace().collect();
    let num = |i: usize| f.get(i).and_then(|v| v.parse::<i64>().ok());
    Some(ProcInfo {
        pid,
        comm,
        state: f.first()?.chars().next()?,
        ppid: num(1)? as i32,
        pgid: num(2)? as i32,
        cpu_ticks: (num(11)? + num(12)?) as u64,
    })
}

/// Every process visible in /proc.
pub fn all_processes() -> Vec<ProcInfo> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok()).filter_map(proc_info).collect()
}

/// Live (non-zombie) processes in process group `pgid`.
pub fn live_in_group(pgid: i32) -> Vec<ProcInfo> {
    all_processes().into_iter().filter(|p| p.pgid == pgid && p.is_live()).collect()
}

/// Live processes whose parent chain leads to `pid` (children, grandchildren...).
pub fn live_descendants(pid: i32) -> Vec<ProcInfo> {
    let all = all_processes();
    let mut found: Vec<ProcInfo> = Vec::new();
    let mut frontier = vec![pid];
    while let Some(parent) = frontier.pop() {
        for p in all.iter().filter(|p| p.ppid == parent) {
            frontier.push(p.pid);
            if p.is_live() {
                found.push(p.clone());
            }
        }
    }
    found
}

/// Thread ids of a process (/proc/PID/task).
pub fn threads(pid: i32) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return Vec::new() };
    entries.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok()).collect()
}

/// Context switches of all threads of a process so far (voluntary and not): each is a wake-up.
pub fn context_switches(pid: i32) -> u64 {
    threads(pid)
        .into_iter()
        .filter_map(|tid| std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/status")).ok())
        .flat_map(|status| {
            status
                .lines()
                .filter(|l| l.contains("ctxt_switches:"))
                .filter_map(|l| l.split_whitespace().last()?.parse::<u64>().ok())
                .collect::<Vec<_>>()
        })
        .sum()
}

/// Whether every thread of a process is asleep (state `S` in /proc/PID/task/TID/stat): not
/// running, and not about to.
pub fn asleep(pid: i32) -> bool {
    all_threads_in(pid, 'S')
}

/// Whether every thread of process `pid` is in scheduler state `state` (false if it is gone).
fn all_threads_in(pid: i32, state: char) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    tasks.flatten().all(|task| {
        std::fs::read_to_string(task.path().join("stat")).is_ok_and(|stat| {
            // The command name is in parentheses and may hold spaces: the state follows the last ')'.
            stat.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with(state))
        })
    })
}

/// Number of inotify watches a process holds (the `inotify wd:` lines of its fdinfo).
pub fn inotify_watches(pid: i32) -> usize {
    let Ok(entries) = std::fs::read_dir(format!("/proc/{pid}/fdinfo")) else { return 0 };
    entries
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
        .map(|info| info.lines().filter(|l| l.starts_with("inotify wd:")).count())
        .sum()
}

/// Wait for a condition outside rtail's output, with [`DEADLINE`] and back-off.
pub fn wait_for_condition(what: &str, pred: impl Fn() -> bool) {
    let start = Instant::now();
    let mut pause = Duration::from_millis(1);
    while !pred() {
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// The status a shell shows: the exit code, or 128+N when killed by signal N.
pub fn shell_status(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status.code().or_else(|| status.signal().map(|s| 128 + s)).expect("exit code or signal")
}

/// Wait (up to `since + DEADLINE`) for `child` to exit; return its exit status and the time
/// from `since` to the moment it exited.
pub fn wait_exit_timed(child: &mut Child, since: Instant) -> (std::process::ExitStatus, Duration) {
    let Some(exited_at) = exited_by(child, since + DEADLINE) else {
        let pid = child.id();
        let _ = child.kill();
        let _ = child.wait();
        panic!("process {pid} did not exit within {DEADLINE:?}");
    };
    let status = child.wait().expect("wait");
    (status, exited_at.duration_since(since))
}

/// Wait until `child` has exited (not reaped: `wait` returns at once then), or `until` passed:
/// the moment it exited, or `None`. The exit is seen through a pidfd, so the moment is exact
/// and nothing polls.
fn exited_by(child: &mut Child, until: Instant) -> Option<Instant> {
    let pid = child.id() as libc::pid_t;
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as libc::c_int;
    let exited_at = loop {
        if fd < 0 {
            // No pidfd (a kernel before 5.3): poll finely.
            if child.try_wait().expect("try_wait").is_some() {
                break Some(Instant::now());
            }
            std::thread::sleep(Duration::from_millis(1));
        } else {
            let left = until.saturating_duration_since(Instant::now());
            let mut pfd = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
            // SAFETY: one pollfd that we own, for the duration of the call.
            let n = unsafe { libc::poll(&mut pfd, 1, left.as_millis().max(1) as libc::c_int) };
            if n > 0 {
                break Some(Instant::now());
            }
        }
        if Instant::now() > until {
            break None;
        }
    };
    if fd >= 0 {
        // SAFETY: our own descriptor, closed once.
        unsafe { libc::close(fd) };
    }
    exited_at
}

/// Whether `sig` is still pending for process `pid` (sent but not yet delivered to a thread).
pub fn signal_pending(pid: i32, sig: i32) -> bool {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else { return false };
    status
        .lines()
        .filter_map(|l| l.strip_prefix("ShdPnd:").or_else(|| l.strip_prefix("SigPnd:")))
        .filter_map(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .any(|mask| mask & (1 << (sig - 1)) != 0)
}

/// Collect everything `from` yields in a thread (for a stream of a child not made by `Spawned`).
pub fn capture(from: impl Read + Send + 'static) -> (Captured, JoinHandle<()>) {
    Captured::collect(from)
}

impl Spawned {
    /// [`wait_exit_timed`] for a spawned rtail: its exit status and the time from `since` to
    /// its exit; its output streams are read to the end.
    pub fn wait_exit_timed(&mut self, since: Instant) -> (std::process::ExitStatus, Duration) {
        let result = wait_exit_timed(&mut self.child, since);
        self.join_readers();
        result
    }

    /// Wait until the output streams reach their end (every writer closed them: rtail, and any
    /// process that inherited them), so `stdout` and `stderr` hold everything.
    pub fn join_readers(&mut self) {
        for h in self.readers.drain(..) {
            let _ = h.join();
        }
    }

    /// Whether the process is still running (not exited, not a zombie).
    pub fn is_running(&self) -> bool {
        proc_info(self.pid()).is_some_and(|p| p.is_live())
    }
}

/// SIGKILLs a process group on drop, so a failing test leaves no process behind either.
pub struct KillGroupOnDrop(pub i32);

impl Drop for KillGroupOnDrop {
    fn drop(&mut self) {
        if self.0 > 1 && !live_in_group(self.0).is_empty() {
            // SAFETY: kill(2) on a process group this test created.
            unsafe {
                libc::kill(-self.0, libc::SIGKILL);
            }
        }
    }
}

impl Captured {
    /// How many bytes were captured so far.
    pub fn len(&self) -> usize {
        self.bytes.lock().expect("lock").len()
    }

    /// Whether nothing was captured yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes captured from offset `start` on: a copy of only the new part, for callers that
    /// scan a long output incrementally.
    pub fn bytes_from(&self, start: usize) -> Vec<u8> {
        let all = self.bytes.lock().expect("lock");
        all.get(start..).unwrap_or_default().to_vec()
    }
}

/// Call `check` with back-off (2 ms doubling to 50 ms) until it returns true or `deadline` has
/// passed; return whether it held. For waits longer than [`DEADLINE`], or on something other than
/// one child's output.
pub fn poll_until(deadline: Duration, mut check: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    let mut pause = Duration::from_millis(2);
    loop {
        if check() {
            return true;
        }
        if start.elapsed() > deadline {
            return false;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// Append `line` to `name` (via `TestDir::append`) and wait until rtail printed it: proof that
/// it is still following, without sleeping to see whether it exits.
pub fn sentinel(s: &Spawned, dir: &TestDir, name: &str, line: &str) {
    dir.append(name, format!("{line}\n"));
    let pid = s.pid();
    s.wait_until(&format!("sentinel {line:?} (or rtail to exit)"), |out, _| {
        out.contains(&format!("{line}\n")) || !proc_info(pid).is_some_and(|p| p.is_live())
    });
    assert!(
        s.is_running(),
        "rtail exited before the sentinel {line:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        s.stdout.text(),
        s.stderr.text()
    );
}

/// An exclusive flock(2), released on drop (also when the holder panics or dies): the stress
/// tests and the Python tests share one, as both build and time things on the same cores.
pub struct FileLock {
    _file: std::fs::File,
}

impl FileLock {
    pub fn acquire(path: &Path) -> FileLock {
        use std::fs::{self, OpenOptions};
        use std::os::fd::AsRawFd;
        fs::create_dir_all(path.parent().expect("lock dir")).expect("create lock dir");
        let file =
            OpenOptions::new().create(true).truncate(false).write(true).open(path).expect("open lock file");
        // SAFETY: flock on a descriptor we own; it touches no memory.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
        assert_eq!(rc, 0, "flock {}", path.display());
        FileLock { _file: file }
    }
}

/// A venv under the cargo target dir named `name`, with `requirements` (relative to the
/// repository) installed; made on first use and reused while the requirements file and the
/// interpreter are unchanged. `interpreter_var` names the environment variable that may give
/// the Python to make it from (default `python3`); `who` says which tests need it, for the
/// messages. Returns the venv's python.
pub fn python_venv(name: &str, requirements: &str, interpreter_var: &str, who: &str) -> PathBuf {
    use std::fs;
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let venv = target.join(name);
    let python = venv.join("bin/python");
    let stamp = venv.join("rtail-requirements.txt");
    let requirements = Path::new(env!("CARGO_MANIFEST_DIR")).join(requirements);
    let base = std::env::var(interpreter_var).unwrap_or_else(|_| "python3".into());
    let wanted = format!("{base}\n{}", fs::read_to_string(&requirements).expect("read the requirements"));
    // Another test process (nextest) may be making it at the same time.
    let _lock = FileLock::acquire(&target.join(format!("{name}.lock")));
    if python.exists() && fs::read_to_string(&stamp).is_ok_and(|s| s == wanted) {
        return python;
    }
    let _ = fs::remove_dir_all(&venv);
    let out = Command::new(&base)
        .args(["-m", "venv"])
        .arg(&venv)
        .output()
        .unwrap_or_else(|e| panic!("{who} need Python 3 (`{base}`, or set {interpreter_var}): {e}"));
    assert!(
        out.status.success(),
        "`{base} -m venv {}` failed; {who} need Python 3 with its venv module:\n{}",
        venv.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(&python)
        .args(["-m", "pip", "install", "--disable-pip-version-check", "--no-input"])
        .args(["--timeout", "20", "--retries", "2", "-r"])
        .arg(&requirements)
        .output()
        .expect("run pip");
    assert!(
        out.status.success(),
        "could not install the Python packages {who} need: `pip install -r {}` failed. They come \
         from PyPI, which must be reachable the first time (the venv at {} is reused afterwards).\n\
         --- pip stdout ---\n{}\n--- pip stderr ---\n{}",
        requirements.display(),
        venv.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    fs::write(&stamp, wanted).expect("write the venv stamp");
    python
}

/// Whether every thread of `pid` is stopped (state `T` in /proc/PID/task/TID/stat). The main
/// thread alone is not enough: the others enter the group stop a little later, and a poll tick
/// or a notification could still be handled in between.
pub fn all_threads_stopped(pid: i32) -> bool {
    all_threads_in(pid, 'T')
}

/// SIGSTOP rtail and wait until all its threads are stopped, so what follows happens while it
/// cannot look.
pub fn stop(s: &Spawned) {
    s.signal(libc::SIGSTOP);
    wait_for_condition("rtail to stop", || all_threads_stopped(s.pid()));
}

pub fn resume(s: &Spawned) {
    s.signal(libc::SIGCONT);
}

/// `cmd` runs with at most `n` open files (soft and hard limit: rtail cannot raise it).
pub fn limit_descriptors(cmd: &mut std::process::Command, n: u64) {
    use std::os::unix::process::CommandExt;
    let limit = libc::rlimit { rlim_cur: n as libc::rlim_t, rlim_max: n as libc::rlim_t };
    // SAFETY: setrlimit is async-signal-safe and reads a struct copied into the closure.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}
