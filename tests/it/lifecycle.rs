//! Lifecycle (issue 4): how a follow run ends, and following thousands of files.
//!
//! - SIGINT, SIGTERM, SIGHUP end the run as killed by that signal (130/143/129), with every line
//!   read already printed and nothing left behind; a blocked stdout does not delay the end past
//!   100 ms; a second signal ends it at once.
//! - The reader of stdout going away ends an idle run (`rtail -F log | head -n1`) within 1 s,
//!   quietly, with status 141; a write into a closed pipe does too.
//! - `--pid` (repeatable): the run ends with 0 once every PID is gone and the files are drained.
//! - A closed or full stdout: a clear message and status 1.
//! - 10,000 files: every append seen once, one inotify watch per directory, no idle wake-ups.
//!
//! GNU scenarios 26 and 32-34 of ../shared/reference/gnu-tail.md live here. Timings are printed
//! with `eprintln!` (`cargo test --test it lifecycle -- --nocapture` shows them). Every wait has
//! a deadline; "still running" is shown with a sentinel line, never by sleeping. The only sleeps
//! are the measuring windows of the wake-up tests (an idle process is watched for two seconds)
//! and short pauses between retried `ready` lines while a `-n0` run starts.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsRawFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::util::{
    DEADLINE, Spawned, TestDir, capture, context_switches, inotify_watches, live_descendants, live_in_group,
    proc_info, sentinel, shell_status, signal_pending, threads, wait_exit_timed, wait_for_condition,
};

// ---------------------------------------------------------------------------------------------
// Helpers

/// Start rtail in `dir` as the leader of its own process group, so anything it leaves behind is
/// found by its group id after it exits.
fn spawn_own_group(dir: &TestDir, args: &[&str]) -> Spawned {
    let mut cmd = dir.rtail();
    cmd.args(args).process_group(0);
    Spawned::start(&mut cmd)
}

/// A process the test owns that lives until killed (a target for `--pid`).
fn sleeper() -> Child {
    Command::new("sleep").arg("300").stdin(Stdio::null()).spawn().expect("spawn sleep")
}

/// Kill and reap a [`sleeper`].
fn end(mut child: Child) {
    child.kill().expect("kill");
    child.wait().expect("reap");
}

fn append(dir: &TestDir, name: &str, text: &str) {
    let mut f = OpenOptions::new().append(true).create(true).open(dir.join(name)).expect("open");
    f.write_all(text.as_bytes()).expect("append");
}

/// With `-n0` a line written before rtail opened its file is rightly not printed: append
/// numbered `ready N` lines to `name` until one shows up. Returns the time that took.
fn wait_started(s: &Spawned, dir: &TestDir, name: &str) -> Duration {
    let start = Instant::now();
    let mut k = 0;
    loop {
        append(dir, name, &format!("ready {k}\n"));
        k += 1;
        let next = Instant::now() + Duration::from_millis(20);
        while Instant::now() < next {
            if s.stdout.text().contains("ready ") {
                return start.elapsed();
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(
            start.elapsed() < DEADLINE,
            "rtail printed none of {k} ready lines in {DEADLINE:?} (it used {} CPU ticks meanwhile)\n\
             --- stderr ---\n{}",
            proc_info(s.pid()).map_or(0, |p| p.cpu_ticks),
            s.stderr.text()
        );
    }
}

/// Bytes waiting in the pipe whose read end is `fd`, and the pipe's capacity.
fn pipe_fill(fd: &impl AsRawFd) -> (usize, usize) {
    let mut queued: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int we own; F_GETPIPE_SZ reads the pipe's size.
    let (rc, cap) = unsafe {
        (
            libc::ioctl(fd.as_raw_fd(), libc::FIONREAD, &mut queued),
            libc::fcntl(fd.as_raw_fd(), libc::F_GETPIPE_SZ),
        )
    };
    assert!(rc == 0 && cap > 0, "FIONREAD / F_GETPIPE_SZ on the pipe failed");
    (queued as usize, cap as usize)
}

/// A file of `mib` MiB of numbered 64-byte lines.
fn big_file(dir: &TestDir, name: &str, mib: usize) {
    let mut data = Vec::with_capacity(mib << 20);
    let mut i = 0u64;
    while data.len() < mib << 20 {
        data.extend_from_slice(format!("{i:063}\n").as_bytes());
        i += 1;
    }
    dir.write(name, data);
}

/// rtail `-F -n +1 big.log` writing into a pipe nobody reads, started and waited for until the
/// pipe is at least half full (the file is several times the pipe, so the printer is, or is
/// about to be, blocked in write). Returns the child, the unread pipe, and its stderr.
fn blocked_rtail(dir: &TestDir) -> (Child, std::process::ChildStdout, crate::util::Captured) {
    big_file(dir, "big.log", 8);
    let mut child = dir
        .rtail()
        .args(["-F", "-n", "+1", "big.log"])
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rtail");
    let stdout = child.stdout.take().expect("stdout");
    let (stderr, _) = capture(child.stderr.take().expect("stderr"));
    wait_for_condition("the unread pipe to fill", || {
        let (queued, cap) = pipe_fill(&stdout);
        queued >= cap / 2
    });
    let (queued, cap) = pipe_fill(&stdout);
    assert!(8 << 20 > 2 * cap, "the pipe ({cap} bytes) must be smaller than the file");
    eprintln!("blocked stdout: pipe holds {queued} of {cap} bytes");
    (child, stdout, stderr)
}

// ---------------------------------------------------------------------------------------------
// Signals

/// Follow a file, then send `sig`: rtail ends killed by it, having printed everything it read,
/// with no diagnostic, and leaves no process behind (its threads end with it).
fn stops_cleanly_on(sig: i32, name: &str) {
    let dir = TestDir::new();
    dir.write("app.log", "one\ntwo\n");
    let mut s = spawn_own_group(&dir, &["-F", "app.log"]);
    s.wait_for_stdout("two\n");
    append(&dir, "app.log", "three\n");
    s.wait_for_stdout("three\n");

    let pid = s.pid();
    let tasks = threads(pid);
    assert!(tasks.len() >= 2, "expected the engine's threads, found {tasks:?}");
    let children = live_descendants(pid);
    assert!(children.is_empty(), "rtail without a command has no children: {children:?}");

    let sent = Instant::now();
    s.signal(sig);
    let (status, took) = s.wait_exit_timed(sent);
    eprintln!("{name}: signal to exit {took:?} ({} threads before)", tasks.len());

    assert_eq!(shell_status(status), 128 + sig, "status after {name}; stderr:\n{}", s.stderr.text());
    assert_eq!(status.signal(), Some(sig), "{name}: ended as killed by the signal, not by exit()");
    assert_eq!(s.stdout.text(), "one\ntwo\nthree\n");
    assert_eq!(s.stderr.text(), "", "a signal ends the run silently");
    assert!(took < Duration::from_secs(1), "{name}: exit took {took:?}");
    assert!(proc_info(pid).is_none(), "/proc/{pid} still exists after the exit");
    let left = live_in_group(pid);
    assert!(left.is_empty(), "processes left in rtail's group: {left:?}");
}

#[test]
fn sigint_ends_the_run_with_130_and_leaves_nothing() {
    stops_cleanly_on(libc::SIGINT, "SIGINT");
}

#[test]
fn sigterm_ends_the_run_with_143_and_leaves_nothing() {
    stops_cleanly_on(libc::SIGTERM, "SIGTERM");
}

#[test]
fn sighup_ends_the_run_with_129_and_leaves_nothing() {
    stops_cleanly_on(libc::SIGHUP, "SIGHUP");
}

#[test]
fn signal_while_stdout_is_blocked_exits_within_100ms() {
    let dir = TestDir::new();
    let (mut child, _unread, stderr) = blocked_rtail(&dir);
    let sent = Instant::now();
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let (status, took) = wait_exit_timed(&mut child, sent);
    eprintln!("SIGTERM with stdout blocked: signal to exit {took:?}");
    assert_eq!(shell_status(status), 128 + libc::SIGTERM, "stderr:\n{}", stderr.text());
    assert_eq!(status.signal(), Some(libc::SIGTERM), "killed by the signal, not exit()");
    assert!(took < Duration::from_millis(100), "exit took {took:?} with stdout blocked");
    assert!(live_in_group(child.id() as i32).is_empty());
}

/// Send `first`, wait until a thread of `pid` took it (no longer pending), then send `second`:
/// two signals, not one merged pending signal.
fn two_signals(pid: i32, first: i32, second: i32) {
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(pid, first) };
    wait_for_condition("the first signal to be delivered", || !signal_pending(pid, first));
    // SAFETY: as above.
    unsafe { libc::kill(pid, second) };
}

#[test]
fn second_signal_while_shutting_down_exits_at_once() {
    // Stdout is blocked, so the first signal's shutdown cannot finish; the second signal must
    // end the run by itself, at once. Different signals tell which one ended it: SIGINT's grace
    // running out would give 130; the second signal (SIGTERM) ending it gives 143.
    let dir = TestDir::new();
    let (mut child, _unread, stderr) = blocked_rtail(&dir);
    let sent = Instant::now();
    two_signals(child.id() as i32, libc::SIGINT, libc::SIGTERM);
    let (status, took) = wait_exit_timed(&mut child, sent);
    eprintln!("SIGINT then SIGTERM with stdout blocked: first signal to exit {took:?}");
    assert_eq!(
        shell_status(status),
        128 + libc::SIGTERM,
        "the second signal ends the run ({status:?}); stderr:\n{}",
        stderr.text()
    );
    assert!(took < Duration::from_millis(100), "exit took {took:?}");
}

#[test]
fn second_sigint_while_shutting_down_exits_killed_by_sigint() {
    // The shell's view (130) is not enough: a parent shell that sees its child *killed* by SIGINT
    // stops its own script too, one that sees `exit 130` carries on. The first SIGINT ends rtail
    // killed by SIGINT; the second must too.
    let dir = TestDir::new();
    let (mut child, _unread, stderr) = blocked_rtail(&dir);
    let sent = Instant::now();
    two_signals(child.id() as i32, libc::SIGINT, libc::SIGINT);
    let (status, took) = wait_exit_timed(&mut child, sent);
    eprintln!("SIGINT twice with stdout blocked: first signal to exit {took:?}");
    assert_eq!(shell_status(status), 128 + libc::SIGINT, "stderr:\n{}", stderr.text());
    assert!(took < Duration::from_millis(100), "exit took {took:?}");
    assert_eq!(
        status.signal(),
        Some(libc::SIGINT),
        "ended by exit(130) ({status:?}) instead of being killed by SIGINT"
    );
}

// ---------------------------------------------------------------------------------------------
// The reader of stdout goes away (scenario 32)

#[test]
fn idle_follow_exits_within_1s_after_head_exits() {
    // `rtail -F -n 3 app.log | head -n1`, and nothing more is ever written to app.log.
    let dir = TestDir::new();
    dir.write("app.log", "l1\nl2\nl3\nl4\n");
    let before = std::fs::read(dir.join("app.log")).expect("read");
    let mut rtail = dir
        .rtail()
        .args(["-F", "-n", "3", "app.log"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rtail");
    let (stderr, err_reader) = capture(rtail.stderr.take().expect("stderr"));
    let pipe = Stdio::from(rtail.stdout.take().expect("stdout"));
    // The Command holding the read end is dropped at the end of this statement: head is the
    // pipe's only reader.
    let mut head = Command::new("head").arg("-n1").stdin(pipe).stdout(Stdio::piped()).spawn().expect("head");
    let start = Instant::now();
    let (head_status, head_exit) = wait_exit_timed(&mut head, start);
    let (status, rtail_exit) = wait_exit_timed(&mut rtail, start);
    let _ = err_reader.join();
    let took = rtail_exit.saturating_sub(head_exit);
    eprintln!("head exited, rtail exited {took:?} later (idle, no new data)");

    let mut printed = String::new();
    std::io::Read::read_to_string(&mut head.stdout.take().expect("head stdout"), &mut printed)
        .expect("read head");
    assert_eq!(shell_status(head_status), 0);
    assert_eq!(printed, "l2\n");
    assert_eq!(shell_status(status), 128 + libc::SIGPIPE, "stderr:\n{}", stderr.text());
    assert_eq!(stderr.text(), "", "a broken pipe ends the run quietly");
    assert!(took < Duration::from_secs(1), "rtail took {took:?} to notice head exit");
    assert_eq!(std::fs::read(dir.join("app.log")).expect("read"), before, "no write into the followed file");
}

#[test]
fn reader_closing_the_pipe_ends_an_idle_run_within_1s() {
    // The reader reads the first line, then closes its end; nothing more is written.
    let dir = TestDir::new();
    dir.write("app.log", "first\nsecond\n");
    let mut rtail = dir
        .rtail()
        .args(["-F", "-n", "2", "app.log"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rtail");
    let (stderr, err_reader) = capture(rtail.stderr.take().expect("stderr"));
    let mut reader = BufReader::new(rtail.stdout.take().expect("stdout"));
    let mut line = String::new();
    reader.read_line(&mut line).expect("read a line");
    assert_eq!(line, "first\n");
    drop(reader);
    let closed = Instant::now();
    let (status, took) = wait_exit_timed(&mut rtail, closed);
    let _ = err_reader.join();
    eprintln!("pipe reader closed, rtail exited {took:?} later");
    assert_eq!(shell_status(status), 128 + libc::SIGPIPE, "stderr:\n{}", stderr.text());
    assert_eq!(stderr.text(), "");
    assert!(took < Duration::from_secs(1), "rtail took {took:?} to notice the closed pipe");
}

#[test]
fn write_into_a_closed_pipe_ends_the_run_quietly() {
    // Static mode does not watch stdout: here the end comes from EPIPE on write.
    let dir = TestDir::new();
    big_file(&dir, "big.log", 4);
    let mut rtail = dir
        .rtail()
        .args(["-n", "+1", "big.log"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rtail");
    let (stderr, err_reader) = capture(rtail.stderr.take().expect("stderr"));
    let pipe = Stdio::from(rtail.stdout.take().expect("stdout"));
    let mut head = Command::new("head").arg("-n1").stdin(pipe).stdout(Stdio::null()).spawn().expect("head");
    let start = Instant::now();
    let (head_status, _) = wait_exit_timed(&mut head, start);
    let (status, _) = wait_exit_timed(&mut rtail, start);
    let _ = err_reader.join();
    assert_eq!(shell_status(head_status), 0);
    assert_eq!(shell_status(status), 128 + libc::SIGPIPE, "stderr:\n{}", stderr.text());
    assert_eq!(stderr.text(), "");
}

/// Start rtail with SIGPIPE ignored, as `trap '' PIPE` in a shell leaves it for its children.
fn rtail_with_sigpipe_ignored(dir: &TestDir, args: &[&str]) -> std::process::Child {
    let mut cmd = dir.rtail();
    cmd.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    // SAFETY: signal(2) is async-signal-safe; it runs in the child after fork, after std's own
    // reset of SIGPIPE to its default.
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGPIPE, libc::SIG_IGN);
            Ok(())
        });
    }
    cmd.spawn().expect("spawn rtail")
}

#[test]
fn with_sigpipe_ignored_a_write_into_a_closed_pipe_is_an_error_as_in_gnu() {
    // GNU: `tail: error writing 'standard output': Broken pipe`, status 1.
    let dir = TestDir::new();
    big_file(&dir, "big.log", 4);
    let mut rtail = rtail_with_sigpipe_ignored(&dir, &["-n", "+1", "big.log"]);
    let (stderr, err_reader) = capture(rtail.stderr.take().expect("stderr"));
    drop(rtail.stdout.take());
    let (status, _) = wait_exit_timed(&mut rtail, Instant::now());
    let _ = err_reader.join();
    assert_eq!(stderr.text(), "rtail: error writing 'standard output': Broken pipe\n");
    assert_eq!(shell_status(status), 1);
}

#[test]
fn with_sigpipe_ignored_an_idle_run_whose_reader_left_ends_with_status_1() {
    // GNU: status 1, silently (its check of stdout raises the ignored SIGPIPE, then exits 1).
    let dir = TestDir::new();
    dir.write("app.log", "first\nsecond\n");
    let mut rtail = rtail_with_sigpipe_ignored(&dir, &["-F", "-n", "2", "app.log"]);
    let (stderr, err_reader) = capture(rtail.stderr.take().expect("stderr"));
    let mut reader = BufReader::new(rtail.stdout.take().expect("stdout"));
    let mut line = String::new();
    reader.read_line(&mut line).expect("read a line");
    drop(reader);
    let (status, took) = wait_exit_timed(&mut rtail, Instant::now());
    let _ = err_reader.join();
    assert_eq!(stderr.text(), "");
    assert_eq!(shell_status(status), 1);
    assert!(took < Duration::from_secs(1), "rtail took {took:?} to notice the closed pipe");
}

#[test]
fn reader_gone_while_data_keeps_arriving_ends_the_run() {
    // A writer keeps appending after the reader left: whichever rtail sees first (the hang-up
    // or EPIPE), it ends quietly with 141.
    let dir = TestDir::new();
    dir.write("app.log", "start\n");
    let mut rtail = dir
        .rtail()
        .args(["-F", "-n", "1", "app.log"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rtail");
    let (stderr, err_reader) = capture(rtail.stderr.take().expect("stderr"));
    let mut reader = BufReader::new(rtail.stdout.take().expect("stdout"));
    let mut line = String::new();
    reader.read_line(&mut line).expect("read a line");
    drop(reader);
    let closed = Instant::now();
    let pid = rtail.id() as i32;
    let mut n = 0;
    while proc_info(pid).is_some_and(|p| p.is_live()) && closed.elapsed() < DEADLINE {
        append(&dir, "app.log", &format!("more {n}\n"));
        n += 1;
    }
    let (status, took) = wait_exit_timed(&mut rtail, closed);
    let _ = err_reader.join();
    eprintln!("pipe reader closed with data arriving: rtail exited {took:?} later ({n} lines appended)");
    assert_eq!(shell_status(status), 128 + libc::SIGPIPE, "stderr:\n{}", stderr.text());
    assert_eq!(stderr.text(), "");
    assert!(took < Duration::from_secs(1), "took {took:?}");
}

// ---------------------------------------------------------------------------------------------
// --pid (scenario 34)

#[test]
fn pid_exit_ends_follow_with_0_after_draining() {
    let dir = TestDir::new();
    dir.write("app.log", "start\n");
    let target = sleeper();
    let pid_arg = format!("--pid={}", target.id());
    let mut s = dir.spawn(&["-f", "-n", "+1", &pid_arg, "app.log"]);
    s.wait_for_stdout("start\n");
    sentinel(&s, &dir, "app.log", "still following");
    // Written just before the process dies: it must still be printed.
    append(&dir, "app.log", "final\n");
    end(target);
    let died = Instant::now();
    let (status, took) = s.wait_exit_timed(died);
    eprintln!("--pid: process died, rtail exited {took:?} later");
    assert_eq!(shell_status(status), 0, "stderr:\n{}", s.stderr.text());
    assert_eq!(s.stdout.text(), "start\nstill following\nfinal\n");
    assert_eq!(s.stderr.text(), "");
}

#[test]
fn pid_exit_drains_a_file_rotated_just_before() {
    // The --pid process rotates the log and exits at once; the drain after its death must look
    // at the name again to find the new file. Repeated, as the rotation's notification and the
    // process's death race.
    for i in 0..40 {
        let dir = TestDir::new();
        dir.write("app.log", "start\n");
        let mut writer = Command::new("sh")
            .args(["-c", "read go; echo before >> app.log; mv app.log app.log.1; echo after >> app.log"])
            .current_dir(dir.path())
            .stdin(Stdio::piped())
            .spawn()
            .expect("spawn writer");
        let pid_arg = format!("--pid={}", writer.id());
        let mut s = dir.spawn(&["-F", "-n", "1", &pid_arg, "app.log"]);
        s.wait_for_stdout("start\n");
        writer.stdin.take().expect("stdin").write_all(b"go\n").expect("go");
        writer.wait().expect("reap writer");
        let (status, _) = s.wait_exit_timed(Instant::now());
        assert_eq!(shell_status(status), 0, "run {i}; stderr:\n{}", s.stderr.text());
        assert_eq!(s.stdout.text(), "start\nbefore\nafter\n", "run {i}; stderr:\n{}", s.stderr.text());
    }
}

#[test]
fn pid_already_dead_exits_0_promptly_even_with_a_long_interval() {
    let dir = TestDir::new();
    dir.write("app.log", "a\nb\n");
    let start = Instant::now();
    let mut s = dir.spawn(&["-f", "-s", "10", "--pid=2147483647", "app.log"]);
    let (status, took) = s.wait_exit_timed(start);
    eprintln!("--pid of a dead process (-s 10): exited after {took:?}");
    assert_eq!(shell_status(status), 0, "stderr:\n{}", s.stderr.text());
    assert_eq!(s.stdout.text(), "a\nb\n");
    assert_eq!(s.stderr.text(), "");
    assert!(took < Duration::from_secs(2), "took {took:?}: waited for the -s interval?");
}

#[test]
fn two_pids_end_follow_only_when_both_died() {
    let dir = TestDir::new();
    dir.write("app.log", "start\n");
    let (first, second) = (sleeper(), sleeper());
    let (a, b) = (format!("--pid={}", first.id()), format!("--pid={}", second.id()));
    let mut s = dir.spawn(&["-f", "-s", "0.1", &a, &b, "app.log"]);
    s.wait_for_stdout("start\n");
    end(first);
    // Long enough for the -s 0.1 fallback to have noticed, and a sentinel seen after it.
    let first_gone = Instant::now();
    let mut k = 0;
    while first_gone.elapsed() < Duration::from_millis(300) {
        sentinel(&s, &dir, "app.log", &format!("one pid left {k}"));
        k += 1;
    }
    end(second);
    let died = Instant::now();
    let (status, took) = s.wait_exit_timed(died);
    eprintln!("--pid twice: second process died, rtail exited {took:?} later");
    assert_eq!(shell_status(status), 0, "stderr:\n{}", s.stderr.text());
    assert_eq!(s.stderr.text(), "");
}

#[test]
fn pid_without_follow_warns_like_gnu() {
    let dir = TestDir::new();
    dir.write("app.log", "x\n");
    let out = dir.same_as_gnu(&["--pid=1", "app.log"], b"");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "rtail: warning: PID ignored; --pid=PID is useful only when following\n"
    );
}

#[test]
fn idle_timeout_without_follow_warns_as_pid_does() {
    let dir = TestDir::new();
    dir.write("app.log", "x\n");
    let out = dir.rtail().args(["--idle-timeout", "1s", "app.log"]).output().expect("run rtail");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "x\n");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "rtail: warning: --idle-timeout ignored; --idle-timeout is useful only when following\n"
    );
    assert_eq!(out.status.code(), Some(0));
}

/// What an idle rtail costs: wake-ups (context switches of all its threads) and CPU ticks.
#[derive(Debug, Clone, Copy)]
struct IdleCost {
    /// In the first second after the last activity: the tail of that activity (the printer and
    /// the engine going back to sleep, a late inotify event for the same write) shows here.
    first_wakeups: u64,
    /// In the second second: a periodic timer shows here, and nothing else should.
    second_wakeups: u64,
    /// CPU ticks over both seconds.
    ticks: u64,
}

/// Observe an idle rtail for two one-second windows. These sleeps are measuring windows, not
/// settle times: nothing is waited for, the process is watched while nothing happens.
fn idle_cost(pid: i32) -> IdleCost {
    let ticks = || proc_info(pid).expect("rtail is running").cpu_ticks;
    let (w0, t0) = (context_switches(pid), ticks());
    std::thread::sleep(Duration::from_secs(1));
    let w1 = context_switches(pid);
    std::thread::sleep(Duration::from_secs(1));
    let (w2, t2) = (context_switches(pid), ticks());
    IdleCost { first_wakeups: w1 - w0, second_wakeups: w2 - w1, ticks: t2 - t0 }
}

impl IdleCost {
    fn assert_asleep(&self, what: &str) {
        assert!(self.second_wakeups <= 1, "{what}: {self:?}: woke up while idle");
        assert!(self.first_wakeups <= 6, "{what}: {self:?}: too busy after the last line");
        assert!(self.ticks <= 2, "{what}: {self:?}: CPU used while idle");
    }
}

#[test]
fn idle_follow_with_a_live_pid_does_not_wake_up() {
    // pidfd + poll: no periodic check even with -s 0.1 (a timer would wake 10 times a second).
    let dir = TestDir::new();
    dir.write("app.log", "start\n");
    let target = sleeper();
    let pid_arg = format!("--pid={}", target.id());
    let s = dir.spawn(&["-f", "-s", "0.1", &pid_arg, "app.log"]);
    s.wait_for_stdout("start\n");
    sentinel(&s, &dir, "app.log", "warm");
    let cost = idle_cost(s.pid());
    eprintln!("idle -f -s 0.1 --pid=alive: {cost:?}");
    sentinel(&s, &dir, "app.log", "alive after 2 s");
    end(target);
    cost.assert_asleep("-f -s 0.1 --pid=alive");
}

/// Scenario 26: an idle `-f` prints nothing, stays alive, and does not spin.
fn idle_follow_sleeps(args: &[&str], content: &str) {
    let dir = TestDir::new();
    dir.write("app.log", content);
    let s = dir.spawn(args);
    wait_started(&s, &dir, "app.log");
    sentinel(&s, &dir, "app.log", "warm");
    let cost = idle_cost(s.pid());
    eprintln!("idle {args:?}: {cost:?}");
    assert!(s.is_running());
    let (out, err) = s.finish();
    assert!(out.starts_with("ready ") && out.ends_with("\nwarm\n"), "stdout: {out:?}");
    assert_eq!(err, "");
    cost.assert_asleep(&format!("{args:?}"));
}

#[test]
fn idle_follow_sleeps_on_an_empty_file() {
    idle_follow_sleeps(&["-s4", "-n0", "-f", "app.log"], "");
}

#[test]
fn idle_follow_sleeps_on_a_file_with_content() {
    idle_follow_sleeps(&["-s4", "-n0", "-f", "app.log"], "some\ncontent\n");
}

#[test]
fn idle_follow_sleeps_with_c0() {
    idle_follow_sleeps(&["-s4", "-c0", "-f", "app.log"], "some\ncontent\n");
}

// ---------------------------------------------------------------------------------------------
// Stdout closed or unwritable (scenario 33)

/// Run rtail with `stdout`, wait (with a deadline) and return its status and stderr.
fn run_with_stdout(dir: &TestDir, args: &[&str], stdout: Stdio, close_stdout: bool) -> (ExitStatus, String) {
    let mut cmd = dir.rtail();
    cmd.args(args).stdin(Stdio::null()).stdout(stdout).stderr(Stdio::piped());
    if close_stdout {
        // SAFETY: close(2) is async-signal-safe; it runs in the child after fork.
        unsafe {
            cmd.pre_exec(|| {
                libc::close(1);
                Ok(())
            });
        }
    }
    let mut child = cmd.spawn().expect("spawn rtail");
    let (stderr, reader) = capture(child.stderr.take().expect("stderr"));
    let (status, _) = wait_exit_timed(&mut child, Instant::now());
    let _ = reader.join();
    (status, stderr.text())
}

fn dev_full() -> Stdio {
    Stdio::from(OpenOptions::new().write(true).open("/dev/full").expect("/dev/full"))
}

#[test]
fn dev_full_is_a_write_error() {
    let dir = TestDir::new();
    dir.write("app.log", "a\nb\n");
    let (status, err) = run_with_stdout(&dir, &["app.log"], dev_full(), false);
    assert_eq!(err, "rtail: write error: No space left on device\n");
    assert_eq!(shell_status(status), 1);
}

#[test]
fn dev_full_ends_a_follow_run_too() {
    let dir = TestDir::new();
    dir.write("app.log", "a\nb\n");
    let (status, err) = run_with_stdout(&dir, &["-F", "app.log"], dev_full(), false);
    assert_eq!(err, "rtail: write error: No space left on device\n");
    assert_eq!(shell_status(status), 1);
    assert_eq!(std::fs::read_to_string(dir.join("app.log")).expect("read"), "a\nb\n");
}

#[test]
fn closed_stdout_is_bad_file_descriptor() {
    let dir = TestDir::new();
    dir.write("app.log", "a\nb\n");
    for args in [&["-f", "app.log"][..], &["-F", "-n", "+1", "app.log"], &["app.log"]] {
        let (status, err) = run_with_stdout(&dir, args, Stdio::null(), true);
        if args.len() == 1 {
            // Not following: GNU says `tail: write error: Bad file descriptor` here; either
            // wording names the problem.
            assert!(err.starts_with("rtail: ") && err.ends_with(": Bad file descriptor\n"), "{err:?}");
        } else {
            assert_eq!(err, "rtail: standard output: Bad file descriptor\n", "{args:?}");
        }
        assert_eq!(shell_status(status), 1, "{args:?}");
        // With fd 1 closed, the first file opened could land on fd 1: it must never be written.
        assert_eq!(std::fs::read_to_string(dir.join("app.log")).expect("read"), "a\nb\n", "{args:?}");
    }
}

#[test]
fn dev_null_open_for_reading_and_writing_is_not_a_closed_stdout() {
    // Python's subprocess.DEVNULL and `<>/dev/null` open /dev/null read-write, which is also
    // what some runtimes put on a closed descriptor: rtail must follow into it all the same.
    let dir = TestDir::new();
    dir.write("app.log", "a\nb\n");
    let null = OpenOptions::new().read(true).write(true).open("/dev/null").expect("/dev/null");
    let (status, err) = run_with_stdout(&dir, &["-F", "--until", "b", "app.log"], Stdio::from(null), false);
    assert_eq!(err, "");
    assert_eq!(shell_status(status), 0);
}

#[test]
fn closed_stdout_following_dev_null() {
    // Scenario 33, through a shell as written there: `BIN -f /dev/null >&-`.
    let dir = TestDir::new();
    let script = format!("exec '{}' -f /dev/null >&-", crate::util::rtail_bin().display());
    let mut cmd = Command::new("sh");
    crate::util::scrub(&mut cmd);
    let mut child = cmd
        .args(["-c", &script])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sh");
    let (stderr, reader) = capture(child.stderr.take().expect("stderr"));
    let (status, _) = wait_exit_timed(&mut child, Instant::now());
    let _ = reader.join();
    assert_eq!(stderr.text(), "rtail: standard output: Bad file descriptor\n");
    assert_eq!(shell_status(status), 1);
}

// ---------------------------------------------------------------------------------------------
// Scale: 10,000 files

/// A small deterministic generator (xorshift64*), so a failure can be replayed from its seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n
    }
}

#[test]
fn ten_thousand_files_every_append_seen_once() {
    ten_thousand_files(4, &[]);
}

/// The same under one pattern (issue 15): 10,000 matching files in 100 directories, one
/// watch per directory (and one on the directory the pattern starts from), asleep while idle.
#[test]
fn ten_thousand_files_in_a_hundred_directories_under_a_pattern() {
    ten_thousand_files(100, &["d*/*.log"]);
}

/// 10,000 files in `dirs` directories, followed by name (`-F` on every name) or, when
/// `pattern` has one, by that pattern.
fn ten_thousand_files(dirs: usize, pattern: &[&str]) {
    const FILES: usize = 10_000;
    const LINES: usize = 1000;
    let per_dir = FILES / dirs;
    let test_start = Instant::now();
    let dir = TestDir::new();
    let mut names = Vec::with_capacity(dirs * per_dir);
    for d in 0..dirs {
        std::fs::create_dir(dir.join(&format!("d{d}"))).expect("mkdir");
        for f in 0..per_dir {
            let name = format!("d{d}/f{f:04}.log");
            File::create(dir.join(&name)).expect("create");
            names.push(name);
        }
    }
    let mut args: Vec<&str> = vec!["-q", "-n0", "-F"];
    if pattern.is_empty() {
        args.extend(names.iter().map(String::as_str));
    } else {
        args.extend(pattern);
    }
    let s = dir.spawn(&args);

    let started = wait_started(&s, &dir, names.last().expect("names"));
    let pid = s.pid();
    let watches = inotify_watches(pid);
    let cost = idle_cost(pid);

    let seed = 0x9E37_79B9_7F4A_7C15 ^ u64::from(std::process::id());
    let mut rng = Rng(seed);
    let appended_at = Instant::now();
    for i in 0..LINES {
        append(&dir, &names[rng.below(names.len())], &format!("line {i}\n"));
    }
    s.wait_until(&format!("all {LINES} lines (seed {seed:#x})"), |out, _| {
        out.lines().filter(|l| l.starts_with("line ")).count() >= LINES
    });
    let all_seen = appended_at.elapsed();
    sentinel(&s, &dir, &names[0], "sentinel");
    let (out, err) = s.finish();

    eprintln!(
        "10,000 files in {dirs} directories: started (first line seen) after {started:?}; {watches} inotify watches; \
         idle {cost:?}; {LINES} appends all seen {all_seen:?} \
         after the first; test took {:?}",
        test_start.elapsed()
    );
    let mut seen = vec![0u32; LINES];
    for l in out.lines() {
        if let Some(n) = l.strip_prefix("line ") {
            seen[n.parse::<usize>().expect("line number")] += 1;
        } else {
            assert!(l.starts_with("ready ") || l == "sentinel", "unexpected line {l:?}");
        }
    }
    let wrong: Vec<(usize, u32)> = seen.iter().copied().enumerate().filter(|&(_, c)| c != 1).collect();
    assert!(wrong.is_empty(), "lines not seen exactly once (seed {seed:#x}): {wrong:?}");
    assert_eq!(err, "", "no diagnostics expected");
    let most = dirs + usize::from(!pattern.is_empty());
    assert!(watches <= most, "{watches} inotify watches for {dirs} directories");
    cost.assert_asleep("10,000 files");
}
