//! Watching logs from tests and scripts (issue 5): `--grep`/`--exclude`/`-i`, `--until`,
//! `--timeout`, `--idle-timeout`, `--color`, `--prefix`, the child command, and exit codes.
//!
//! Every wait is for an expected output or exit, with a deadline; "nothing else happens" is
//! shown with a sentinel line. The timeout tests necessarily let time pass; they measure it
//! rather than sleep. Child commands write their pid (`$$`, which is also their process group,
//! since rtail starts them in their own group) to a file, so a test can show afterwards that
//! nothing of that group is left running; a guard SIGKILLs the group if an assertion fails first.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::util::{
    DEADLINE, KillGroupOnDrop, ProcInfo, Spawned, TestDir, live_in_group, proc_info, sentinel, shell_status,
    wait_exit_timed, wait_for_condition,
};

// ---------------------------------------------------------------------------------------------
// Helpers

fn append(dir: &TestDir, name: &str, text: &str) {
    let mut f = OpenOptions::new().append(true).create(true).open(dir.join(name)).expect("open");
    f.write_all(text.as_bytes()).expect("append");
}

/// What a finished run left: status, output streams, and how long it ran.
struct Finished {
    status: ExitStatus,
    code: i32,
    out: String,
    err: String,
    took: Duration,
}

/// Run rtail with `args` and `env` to its end (with a deadline).
fn run_env(dir: &TestDir, args: &[&str], env: &[(&str, &str)]) -> Finished {
    let mut cmd = dir.rtail();
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let start = Instant::now();
    let mut s = Spawned::start(&mut cmd);
    let (status, took) = s.wait_exit_timed(start);
    Finished { status, code: shell_status(status), out: s.stdout.text(), err: s.stderr.text(), took }
}

fn run(dir: &TestDir, args: &[&str]) -> Finished {
    run_env(dir, args, &[])
}

/// Wait for a spawned rtail to end; its status, output, and the time since `since`.
fn finish(mut s: Spawned, since: Instant) -> Finished {
    let (status, took) = s.wait_exit_timed(since);
    Finished { status, code: shell_status(status), out: s.stdout.text(), err: s.stderr.text(), took }
}

/// Wait until stdout is exactly `want`; fail at once if it stops being a prefix of `want`.
fn wait_stdout_is(s: &Spawned, want: &str) {
    s.wait_until(&format!("stdout to be {want:?}"), |out, _| out == want || !want.starts_with(out));
    assert_eq!(s.stdout.text(), want, "unexpected stdout; stderr:\n{}", s.stderr.text());
}

/// The pid a child command wrote to `name` (`echo $$ > name`), once it is there.
fn read_pid(dir: &TestDir, name: &str) -> i32 {
    let path = dir.join(name);
    wait_for_condition(&format!("{name} to be written"), || {
        std::fs::read_to_string(&path).is_ok_and(|t| t.ends_with('\n'))
    });
    std::fs::read_to_string(&path).expect("read pid").trim().parse().expect("a pid")
}

/// Wait for rtail to end, then look for what is left of the child's process group `pgid`. A
/// process that was signalled may take a moment to die, so this waits up to a second for the
/// group to empty. Whatever is left is returned (and then SIGKILLed), before rtail's output
/// streams are read to their end: a leftover holding them open would otherwise stall the test.
fn finish_child(mut s: Spawned, since: Instant, pgid: i32) -> (Finished, Vec<ProcInfo>) {
    let (status, took) = wait_exit_timed(&mut s.child, since);
    // Whatever is left in the group a second after the exit is reported.
    crate::util::poll_until(Duration::from_secs(1), || live_in_group(pgid).is_empty());
    let left = live_in_group(pgid);
    drop(KillGroupOnDrop(pgid));
    s.join_readers();
    let r = Finished { status, code: shell_status(status), out: s.stdout.text(), err: s.stderr.text(), took };
    (r, left)
}

// ---------------------------------------------------------------------------------------------
// --grep, --exclude, --ignore-case

#[test]
fn grep_is_repeatable_and_prints_lines_matching_any() {
    let dir = TestDir::new();
    dir.write("app.log", "alpha\nbeta\ngamma\ndelta\n");
    let r = run(&dir, &["-n", "+1", "-g", "alp", "--grep", "gam", "app.log"]);
    assert_eq!((r.code, r.out.as_str(), r.err.as_str()), (0, "alpha\ngamma\n", ""));
}

#[test]
fn on_sigint_an_unfinished_line_still_passes_through_the_filter() {
    // What was read goes out when rtail is stopped, but --grep judges it as a line first.
    let dir = TestDir::new();
    dir.write("a.log", "");
    dir.write("b.log", "");
    let s = dir.spawn(&["-F", "-q", "--grep", "ERROR", "a.log", "b.log"]);
    sentinel(&s, &dir, "a.log", "ERROR ready");
    dir.append("a.log", "ERROR a1\nDEBUG unfinished");
    dir.append("b.log", "ERROR b1\nERROR unfinished");
    s.wait_until("both whole lines", |out, _| out.contains("ERROR a1\n") && out.contains("ERROR b1\n"));
    s.signal(libc::SIGINT);
    let r = finish(s, Instant::now());
    assert_eq!(r.code, 128 + libc::SIGINT, "stderr:\n{}", r.err);
    assert!(r.out.ends_with("ERROR unfinished"), "the matching unfinished line goes out: {:?}", r.out);
    assert!(!r.out.contains("DEBUG"), "--grep lets no DEBUG line through: {:?}", r.out);
}

#[test]
fn exclude_is_repeatable_and_applied_after_grep() {
    let dir = TestDir::new();
    dir.write("app.log", "GET /a\nGET /health\nPOST /b\nGET /metrics\nGET /c\n");
    let r = run(&dir, &["-n", "+1", "-g", "GET", "-x", "health", "--exclude", "metrics", "app.log"]);
    assert_eq!((r.code, r.out.as_str(), r.err.as_str()), (0, "GET /a\nGET /c\n", ""));
    // --exclude alone: every other line.
    let r = run(&dir, &["-n", "+1", "-x", "GET", "app.log"]);
    assert_eq!(r.out, "POST /b\n");
}

#[test]
fn ignore_case_applies_to_grep_exclude_and_until() {
    let dir = TestDir::new();
    dir.write("app.log", "Error one\nERROR ignore me\ninfo\nerror two\nREADY\nerror three\n");
    let r = run(&dir, &["-n", "+1", "-i", "-g", "error", "-x", "IGNORE", "--until", "ready|two", "app.log"]);
    assert_eq!((r.code, r.out.as_str(), r.err.as_str()), (0, "Error one\nerror two\n", ""));
    // Without -i, case matters for all three.
    let r = run(&dir, &["-n", "+1", "-g", "error", "app.log"]);
    assert_eq!(r.out, "error two\nerror three\n");
}

#[test]
fn grep_matches_bytes_that_are_not_utf8() {
    let dir = TestDir::new();
    dir.write("app.log", b"caf\xe9 ERROR\nok\n\xff\xfe WARN \xc3\n\x80 fine\n");
    let mut s = Spawned::start(dir.rtail().args(["-n", "+1", "-g", "ERROR|WARN", "app.log"]));
    let (status, _) = s.wait_exit_timed(Instant::now());
    assert_eq!(shell_status(status), 0);
    assert_eq!(s.stdout.bytes(), b"caf\xe9 ERROR\n\xff\xfe WARN \xc3\n");
}

#[test]
fn grep_never_matches_across_lines() {
    let dir = TestDir::new();
    dir.write("app.log", "foo\nbar\nfoo bar\n");
    let r = run(&dir, &["-n", "+1", "-g", r"foo\s+bar", "app.log"]);
    assert_eq!(r.out, "foo bar\n");
}

#[test]
fn grep_filters_followed_lines() {
    let dir = TestDir::new();
    dir.write("app.log", "keep 0\n");
    let s = dir.spawn(&["-F", "-n", "1", "-g", "keep", "app.log"]);
    wait_stdout_is(&s, "keep 0\n");
    append(&dir, "app.log", "drop 1\nkeep 1\ndrop 2\n");
    wait_stdout_is(&s, "keep 0\nkeep 1\n");
    // A line judged whole even when it arrives in pieces.
    append(&dir, "app.log", "ke");
    append(&dir, "app.log", "ep 2\n");
    append(&dir, "app.log", "drop 3\nkeep sentinel\n");
    wait_stdout_is(&s, "keep 0\nkeep 1\nkeep 2\nkeep sentinel\n");
    let (_, err) = s.finish();
    assert_eq!(err, "");
}

#[test]
fn invalid_pattern_is_an_error_for_each_option() {
    let dir = TestDir::new();
    dir.write("app.log", "x\n");
    for (opt, name) in [("-g", "grep"), ("-x", "exclude"), ("--until", "until")] {
        let r = run(&dir, &[opt, "(", "app.log"]);
        assert_eq!(r.err, format!("rtail: invalid --{name} pattern '(': unclosed group\n"), "{opt}");
        assert_eq!(r.code, 1, "{opt}");
        assert_eq!(r.out, "", "{opt}");
        // Also when following: it is a set-up error, the run never starts.
        let r = run(&dir, &["-F", opt, "(", "app.log"]);
        assert_eq!(r.code, 1, "-F {opt}");
        assert_eq!(r.out, "", "-F {opt}");
    }
}

// ---------------------------------------------------------------------------------------------
// --until

#[test]
fn until_exits_0_right_after_the_matching_line_is_printed() {
    let dir = TestDir::new();
    dir.write("app.log", "old\n");
    let s = dir.spawn(&["-F", "-n", "1", "--until", "READY", "app.log"]);
    wait_stdout_is(&s, "old\n");
    sentinel(&s, &dir, "app.log", "not yet");
    let sent = Instant::now();
    // Lines after the match in the same write are not printed.
    append(&dir, "app.log", "starting\nserver READY on :80\nafter\n");
    let r = finish(s, sent);
    eprintln!("--until: matching line written, rtail exited {:?} later", r.took);
    assert_eq!(r.code, 0, "stderr:\n{}", r.err);
    assert_eq!(r.out, "old\nnot yet\nstarting\nserver READY on :80\n");
    assert_eq!(r.err, "");
}

#[test]
fn until_sees_the_initial_lines() {
    // A line written just before rtail started still counts.
    let dir = TestDir::new();
    dir.write("app.log", "boot\nREADY\nlater\n");
    let r = run(&dir, &["-F", "--until", "READY", "app.log"]);
    assert_eq!((r.code, r.out.as_str(), r.err.as_str()), (0, "boot\nREADY\n", ""));
}

#[test]
fn until_with_n0_waits_for_a_new_line() {
    let dir = TestDir::new();
    dir.write("app.log", "READY old\n");
    let s = dir.spawn(&["-F", "-n", "0", "--until", "READY", "app.log"]);
    // With -n0 a line written before rtail opened the file is not printed: repeat until seen.
    let mut k = 0;
    let started = Instant::now();
    loop {
        append(&dir, "app.log", &format!("warming {k}\n"));
        k += 1;
        if s.wait_within(Duration::from_millis(20), |out, _| out.contains("warming")) {
            break;
        }
        assert!(started.elapsed() < DEADLINE, "no warming line printed in {DEADLINE:?}");
    }
    sentinel(&s, &dir, "app.log", "still waiting");
    append(&dir, "app.log", "READY new\n");
    let r = finish(s, Instant::now());
    assert_eq!(r.code, 0, "stderr:\n{}", r.err);
    assert!(!r.out.contains("READY old"), "the old line does not count with -n0: {:?}", r.out);
    assert!(r.out.ends_with("still waiting\nREADY new\n"), "stdout: {:?}", r.out);
}

#[test]
fn until_without_follow() {
    let dir = TestDir::new();
    dir.write("app.log", "a\nb\nc\n");
    let r = run(&dir, &["-n", "+1", "--until", "b", "app.log"]);
    assert_eq!((r.code, r.out.as_str(), r.err.as_str()), (0, "a\nb\n", ""));
    let r = run(&dir, &["-n", "+1", "--until", "zzz", "app.log"]);
    assert_eq!((r.code, r.out.as_str()), (1, "a\nb\nc\n"));
    assert_eq!(r.err, "rtail: no line matched --until 'zzz'\n");
}

#[test]
fn grep_and_until() {
    // --until is checked on the lines that are printed: a line it matches that --grep filters
    // out (or --exclude removes) does not end the run.
    let dir = TestDir::new();
    dir.write("app.log", "ERROR old\n");
    let s = dir.spawn(&["-F", "-n", "1", "-g", "ERROR", "-x", "ignored", "--until", "fatal", "app.log"]);
    wait_stdout_is(&s, "ERROR old\n");
    append(&dir, "app.log", "INFO starting\nERROR disk\nINFO fatal but filtered\nERROR fatal ignored\n");
    wait_stdout_is(&s, "ERROR old\nERROR disk\n");
    sentinel(&s, &dir, "app.log", "ERROR sentinel");
    append(&dir, "app.log", "INFO x\nERROR fatal crash\nERROR after\n");
    let r = finish(s, Instant::now());
    assert_eq!(r.code, 0, "stderr:\n{}", r.err);
    assert_eq!(r.out, "ERROR old\nERROR disk\nERROR sentinel\nERROR fatal crash\n");
    assert_eq!(r.err, "");
}

// ---------------------------------------------------------------------------------------------
// --timeout, --idle-timeout

#[test]
fn timeout_exits_124_with_one_line() {
    let dir = TestDir::new();
    dir.write("app.log", "a\n");
    let r = run(&dir, &["-F", "--timeout", "300ms", "app.log"]);
    eprintln!("--timeout 300ms: exited after {:?}", r.took);
    assert_eq!(r.code, 124);
    assert_eq!(r.out, "a\n");
    assert_eq!(r.err, "rtail: timed out after 300ms\n");
    assert!(r.took >= Duration::from_millis(300), "ended early: {:?}", r.took);
    assert!(r.took < Duration::from_millis(300) + Duration::from_secs(2), "ended late: {:?}", r.took);
}

#[test]
fn timeout_with_until_says_what_did_not_match() {
    let dir = TestDir::new();
    dir.write("app.log", "a\n");
    let r = run(&dir, &["-F", "--until", "READY", "--timeout", "1s", "app.log"]);
    assert_eq!(r.code, 124);
    assert_eq!(r.err, "rtail: timed out after 1s: no line matched --until 'READY'\n");
    assert!(r.took >= Duration::from_secs(1));
}

#[test]
fn until_matched_before_the_timeout_exits_0() {
    let dir = TestDir::new();
    dir.write("app.log", "a\n");
    let s = dir.spawn(&["-F", "-n", "1", "--until", "READY", "--timeout", "60s", "app.log"]);
    wait_stdout_is(&s, "a\n");
    append(&dir, "app.log", "READY\n");
    let r = finish(s, Instant::now());
    assert_eq!((r.code, r.out.as_str(), r.err.as_str()), (0, "a\nREADY\n", ""));
}

#[test]
fn durations_are_validated() {
    let dir = TestDir::new();
    dir.write("app.log", "a\n");
    for opt in ["--timeout", "--idle-timeout"] {
        let r = run(&dir, &["-F", opt, "soon", "app.log"]);
        assert_eq!(r.code, 1, "{opt}");
        assert_eq!(
            r.err,
            format!("rtail: invalid duration for {opt}: 'soon' (use e.g. 500ms, 30s, 2m, 1h)\n"),
            "{opt}"
        );
    }
}

#[test]
fn idle_timeout_exits_0_after_a_quiet_spell() {
    let dir = TestDir::new();
    dir.write("app.log", "a\n");
    let r = run(&dir, &["-F", "--idle-timeout", "300ms", "app.log"]);
    eprintln!("--idle-timeout 300ms: exited after {:?}", r.took);
    assert_eq!((r.code, r.out.as_str(), r.err.as_str()), (0, "a\n", ""));
    assert!(r.took >= Duration::from_millis(300), "ended early: {:?}", r.took);
}

#[test]
fn idle_timeout_counts_only_printed_lines() {
    // Lines that --grep rejects are no activity: with them arriving all the time, rtail still
    // ends once --idle-timeout has passed without a printed line.
    let dir = TestDir::new();
    dir.write("app.log", "ERROR at start\n");
    let mut s = dir.spawn(&["-F", "-n", "1", "-g", "ERROR", "--idle-timeout", "400ms", "app.log"]);
    wait_stdout_is(&s, "ERROR at start\n");
    let until = Instant::now() + crate::util::DEADLINE;
    while s.child.try_wait().expect("try_wait").is_none() {
        assert!(Instant::now() < until, "rtail did not end while only rejected lines arrived");
        dir.append("app.log", "INFO busy\n");
        // Pacing a writer is the point of this test: a line every 20 ms, well inside the limit.
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(s.wait_exit(), Some(0));
    assert_eq!((s.stdout.text(), s.stderr.text()), ("ERROR at start\n".to_string(), String::new()));
}

#[test]
fn idle_timeout_is_reset_by_each_new_line() {
    // Lines every ~200 ms for 1.6 s with --idle-timeout 700ms: rtail must outlive them all, then
    // end 700 ms after the last one.
    let dir = TestDir::new();
    dir.write("app.log", "start\n");
    let s = dir.spawn(&["-F", "-n", "1", "--idle-timeout", "700ms", "app.log"]);
    wait_stdout_is(&s, "start\n");
    let mut last = Instant::now();
    for i in 0..8 {
        // Pacing a writer is the point of this test: the gaps are shorter than the idle limit.
        std::thread::sleep(Duration::from_millis(200).saturating_sub(last.elapsed()));
        sentinel(&s, &dir, "app.log", &format!("line {i}"));
        last = Instant::now();
    }
    let r = finish(s, last);
    eprintln!("--idle-timeout 700ms: exited {:?} after the last line was seen", r.took);
    assert_eq!(r.code, 0, "stderr:\n{}", r.err);
    assert_eq!(r.err, "");
    assert!(r.took >= Duration::from_millis(500), "ended {:?} after the last line", r.took);
}

// ---------------------------------------------------------------------------------------------
// --color

const LEVELS: &str = "ERROR boom\nWARN careful\nINFO fine\nDEBUG detail\nplain line\n";
const RESET: &str = "\x1b[0m";

fn has_escapes(text: &str) -> bool {
    text.contains('\x1b')
}

#[test]
fn color_always_styles_levels_matches_headers_and_ends_reset() {
    let dir = TestDir::new();
    dir.write("app.log", LEVELS);
    let r = run(&dir, &["--color=always", "-n", "+1", "app.log"]);
    assert_eq!(r.code, 0);
    assert!(r.out.contains("\x1b[31;1mERROR\x1b[0m boom\n"), "{:?}", r.out);
    assert!(r.out.contains("\x1b[33mWARN\x1b[0m careful\n"), "{:?}", r.out);
    assert!(r.out.contains("\x1b[32mINFO\x1b[0m fine\n"), "{:?}", r.out);
    assert!(r.out.contains("\x1b[2mDEBUG\x1b[0m detail\n"), "{:?}", r.out);
    assert!(r.out.contains("\nplain line\n"), "{:?}", r.out);
    assert!(r.out.ends_with(RESET), "{:?}", r.out);

    // --grep matches are highlighted.
    let r = run(&dir, &["--color=always", "-n", "+1", "-g", "careful|plain", "app.log"]);
    assert!(r.out.contains("\x1b[30;43mcareful\x1b[0m"), "{:?}", r.out);
    assert!(r.out.contains("\x1b[30;43mplain\x1b[0m line"), "{:?}", r.out);
    assert!(!r.out.contains("boom"), "{:?}", r.out);

    // Headers are styled.
    dir.write("b.log", "x\n");
    let r = run(&dir, &["--color=always", "-n", "1", "app.log", "b.log"]);
    assert!(r.out.starts_with("\x1b[1m==> app.log <==\x1b[0m\n"), "{:?}", r.out);
}

#[test]
fn color_when_stdout_is_a_pipe() {
    let dir = TestDir::new();
    dir.write("app.log", LEVELS);
    let args = ["-n", "+1", "app.log"];
    let with = |opt: Option<&str>, env: &[(&str, &str)]| {
        let mut all: Vec<&str> = opt.into_iter().collect();
        all.extend(args);
        run_env(&dir, &all, env).out
    };
    assert!(!has_escapes(&with(None, &[])), "auto on a pipe: no colour");
    assert!(!has_escapes(&with(Some("--color=auto"), &[])), "auto on a pipe: no colour");
    assert!(has_escapes(&with(None, &[("CLICOLOR_FORCE", "1")])), "CLICOLOR_FORCE=1 forces colour");
    assert!(!has_escapes(&with(None, &[("CLICOLOR_FORCE", "0")])), "CLICOLOR_FORCE=0 does not force");
    assert!(
        !has_escapes(&with(None, &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")])),
        "NO_COLOR wins over CLICOLOR_FORCE"
    );
    assert!(
        has_escapes(&with(None, &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "")])),
        "an empty NO_COLOR does not count"
    );
    assert!(has_escapes(&with(Some("--color=always"), &[("NO_COLOR", "1")])), "always is always");
    assert!(!has_escapes(&with(Some("--color=never"), &[("CLICOLOR_FORCE", "1")])), "never is never");
    assert!(has_escapes(&with(Some("--colour"), &[])), "--colour alone means always");
    assert_eq!(with(Some("--color=never"), &[]), LEVELS);
}

/// Run rtail with its stdout on a new pseudo-terminal; everything it wrote there.
fn run_on_tty(dir: &TestDir, args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    use std::os::fd::FromRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    // SAFETY: posix_openpt/grantpt/unlockpt/ptsname_r on a descriptor we own; the name buffer
    // is ours and NUL-terminated by ptsname_r on success.
    let (master, slave_name) = unsafe {
        let m = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
        assert!(m >= 0, "posix_openpt failed");
        assert_eq!(libc::grantpt(m), 0);
        assert_eq!(libc::unlockpt(m), 0);
        let mut buf = [0 as libc::c_char; 256];
        assert_eq!(libc::ptsname_r(m, buf.as_mut_ptr(), buf.len()), 0);
        let name = std::ffi::CStr::from_ptr(buf.as_ptr()).to_string_lossy().into_owned();
        (std::fs::File::from_raw_fd(m), name)
    };
    let slave = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY)
        .open(&slave_name)
        .expect("open the terminal");
    let mut cmd = dir.rtail();
    cmd.args(args).stdin(Stdio::null()).stdout(slave).stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn rtail");
    drop(cmd); // our copy of the terminal's slave side: the reader then ends when rtail does
    let reader = std::thread::spawn(move || {
        let mut master = master;
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        // Reading the master ends with EIO once every slave descriptor is closed.
        while let Ok(n) = master.read(&mut buf) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        out
    });
    let (status, _) = wait_exit_timed(&mut child, Instant::now());
    let out = reader.join().expect("reader");
    (shell_status(status), String::from_utf8_lossy(&out).into_owned())
}

#[test]
fn color_auto_on_a_terminal() {
    let dir = TestDir::new();
    dir.write("app.log", LEVELS);
    let args = ["-n", "+1", "app.log"];
    let (code, out) = run_on_tty(&dir, &args, &[]);
    assert_eq!(code, 0);
    assert!(out.contains("\x1b[31;1mERROR"), "auto on a terminal colours: {out:?}");
    let (_, out) = run_on_tty(&dir, &args, &[("NO_COLOR", "1")]);
    assert!(out.contains("ERROR boom") && !has_escapes(&out), "NO_COLOR on a terminal: {out:?}");
    let (_, out) = run_on_tty(&dir, &args, &[("NO_COLOR", "")]);
    assert!(has_escapes(&out), "an empty NO_COLOR does not count: {out:?}");
    let (_, out) = run_on_tty(&dir, &["--color=never", "-n", "+1", "app.log"], &[]);
    assert!(out.contains("ERROR boom") && !has_escapes(&out), "--color=never on a terminal: {out:?}");
}

#[test]
fn colours_are_reset_when_a_signal_ends_the_run() {
    let dir = TestDir::new();
    dir.write("app.log", "ERROR boom\nplain\n");
    let s = dir.spawn(&["--color=always", "-F", "-n", "+1", "app.log"]);
    s.wait_for_stdout("plain\n");
    s.signal(libc::SIGINT);
    let r = finish(s, Instant::now());
    assert_eq!(r.code, 130);
    assert!(r.out.ends_with(&format!("plain\n{RESET}")), "{:?}", r.out);
}

#[test]
fn colours_are_reset_when_until_or_timeout_ends_the_run() {
    let dir = TestDir::new();
    dir.write("app.log", "WARN x\nthe end\nmore\n");
    let r = run(&dir, &["--color=always", "-F", "-n", "+1", "--until", "end", "app.log"]);
    assert_eq!(r.code, 0);
    assert!(r.out.ends_with(&format!("\x1b[30;43mend\x1b[0m\n{RESET}")), "{:?}", r.out);
    let r = run(&dir, &["--color=always", "-F", "-n", "1", "--timeout", "200ms", "app.log"]);
    assert_eq!(r.code, 124);
    assert!(r.out.ends_with(&format!("more\n{RESET}")), "{:?}", r.out);
}

// ---------------------------------------------------------------------------------------------
// --prefix

#[test]
fn prefix_with_several_files() {
    let dir = TestDir::new();
    dir.write("a.log", "a1\na2\n");
    dir.write("b.log", "b1\n");
    let r = run(&dir, &["-P", "-n", "+1", "a.log", "b.log"]);
    assert_eq!((r.code, r.out.as_str(), r.err.as_str()), (0, "a.log: a1\na.log: a2\nb.log: b1\n", ""));
    let r = run(&dir, &["--prefix", "-v", "-n", "1", "a.log", "b.log"]);
    assert_eq!(r.out, "a.log: a2\nb.log: b1\n", "no headers with --prefix");
}

#[test]
fn prefix_while_following_several_files() {
    let dir = TestDir::new();
    dir.write("a.log", "a0\n");
    dir.write("b.log", "b0\n");
    std::fs::create_dir(dir.join("sub")).expect("mkdir");
    dir.write("sub/c.log", "c0\n");
    let s = dir.spawn(&["-P", "-F", "-n", "1", "a.log", "b.log", "sub/c.log"]);
    wait_stdout_is(&s, "a.log: a0\nb.log: b0\nsub/c.log: c0\n");
    append(&dir, "sub/c.log", "c1\nc2\n");
    wait_stdout_is(&s, "a.log: a0\nb.log: b0\nsub/c.log: c0\nsub/c.log: c1\nsub/c.log: c2\n");
    append(&dir, "a.log", "a1\n");
    wait_stdout_is(&s, "a.log: a0\nb.log: b0\nsub/c.log: c0\nsub/c.log: c1\nsub/c.log: c2\na.log: a1\n");
    let (_, err) = s.finish();
    assert_eq!(err, "");
}

#[test]
fn prefix_with_colour_styles_the_name() {
    let dir = TestDir::new();
    dir.write("a.log", "INFO up\n");
    let r = run(&dir, &["-P", "--color=always", "a.log"]);
    assert!(r.out.starts_with("\x1b[35ma.log\x1b[0m: \x1b[32mINFO\x1b[0m up\n"), "{:?}", r.out);
}

// ---------------------------------------------------------------------------------------------
// The child command

/// `rtail ARGS -- sh -c SCRIPT` in `dir`.
fn spawn_with_child(dir: &TestDir, args: &[&str], script: &str) -> Spawned {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--", "sh", "-c", script]);
    dir.spawn(&all)
}

#[test]
fn the_until_line_comes_out_before_a_child_that_ignores_sigterm_is_stopped() {
    // After --until matched, rtail stops the child: SIGTERM, and SIGKILL 2 s later for one that
    // ignores it. The matched line must be out at once, not once the child is gone.
    let dir = TestDir::new();
    dir.write("app.log", "");
    let mut s = spawn_with_child(
        &dir,
        &["-n0", "--until", "READY", "app.log"],
        "trap '' TERM; echo started >> app.log; sleep 30",
    );
    s.wait_for_stdout("started\n");
    dir.append("app.log", "READY now\n");
    s.wait_for_stdout("READY now\n");
    // The order, not a time: when the line is out, the child has not been killed yet.
    assert!(
        !crate::util::live_descendants(s.pid()).is_empty(),
        "the --until line came out only after the child was killed"
    );
    assert_eq!(s.wait_exit(), Some(0));
}

#[test]
fn a_child_command_gets_dev_null_for_a_closed_stdin() {
    // rtail takes the standard descriptors it was started without, and they stay inheritable.
    let dir = TestDir::new();
    dir.write("app.log", "");
    let mut cmd = dir.rtail();
    cmd.args(["-n0", "app.log", "--", "sh", "-c", "readlink /proc/$$/fd/0"]);
    // SAFETY: close(2) is async-signal-safe; it runs in the child after fork.
    unsafe {
        cmd.pre_exec(|| {
            libc::close(0);
            Ok(())
        });
    }
    let out = cmd.output().expect("run rtail");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "/dev/null\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn child_lines_written_at_once_are_not_missed() {
    // Watching starts before the child: what it writes first is seen, even with -n0.
    for i in 0..5 {
        let dir = TestDir::new();
        dir.write("app.log", "old\n");
        let s = spawn_with_child(&dir, &["-n0", "app.log"], "echo from-child >> app.log");
        let r = finish(s, Instant::now());
        assert_eq!((r.code, r.out.as_str(), r.err.as_str()), (0, "from-child\n", ""), "run {i}");
    }
}

#[test]
fn child_status_becomes_rtails_after_the_files_are_drained() {
    let dir = TestDir::new();
    dir.write("app.log", "");
    let script = "i=0; while [ $i -lt 300 ]; do echo line-$i >> app.log; i=$((i+1)); done; exit 3";
    let r = finish(spawn_with_child(&dir, &["-n0", "app.log"], script), Instant::now());
    assert_eq!(r.code, 3, "stderr:\n{}", r.err);
    let want: String = (0..300).map(|i| format!("line-{i}\n")).collect();
    assert_eq!(r.out, want);
}

#[test]
fn child_killed_by_a_signal_gives_128_plus_n() {
    let dir = TestDir::new();
    dir.write("app.log", "");
    for (sig, code) in [("KILL", 137), ("TERM", 143), ("SEGV", 139)] {
        let r =
            finish(spawn_with_child(&dir, &["-n0", "app.log"], &format!("kill -{sig} $$")), Instant::now());
        assert_eq!(r.code, code, "child killed by SIG{sig}; stderr:\n{}", r.err);
        assert_eq!(r.status.signal(), None, "rtail itself exits with the code, it is not killed");
    }
}

#[test]
fn child_implies_follow_by_name_and_its_last_rotation_is_drained() {
    // The child rotates the log and exits at once: only -F sees the line written to the new
    // file, and only if the drain at the child's exit looks at the name again. Repeated, as the
    // rotation's notification and the child's exit race.
    for i in 0..40 {
        let dir = TestDir::new();
        dir.write("app.log", "");
        let script = "echo before >> app.log; mv app.log app.log.1; echo after >> app.log";
        let r = finish(spawn_with_child(&dir, &["-n0", "app.log"], script), Instant::now());
        assert_eq!(r.code, 0, "run {i}; stderr:\n{}", r.err);
        assert_eq!(r.out, "before\nafter\n", "run {i}; stderr:\n{}", r.err);
    }
}

#[test]
fn child_inherits_stdout_and_stderr() {
    let dir = TestDir::new();
    dir.write("app.log", "");
    let r = finish(
        spawn_with_child(
            &dir,
            &["-n0", "app.log"],
            "echo to-stdout; echo to-stderr >&2; read x || echo no-stdin",
        ),
        Instant::now(),
    );
    assert_eq!(r.code, 0);
    assert_eq!(r.out, "to-stdout\nno-stdin\n");
    assert_eq!(r.err, "to-stderr\n");
}

#[test]
fn child_that_cannot_be_found_is_127() {
    let dir = TestDir::new();
    dir.write("app.log", "a\n");
    let r = run(&dir, &["app.log", "--", "no-such-command-rtail-test", "arg"]);
    assert_eq!(r.err, "rtail: cannot run 'no-such-command-rtail-test': No such file or directory\n");
    assert_eq!(r.code, 127);
}

#[test]
fn child_that_cannot_be_executed_is_126() {
    let dir = TestDir::new();
    dir.write("app.log", "a\n");
    dir.write("script.sh", "#!/bin/sh\necho hi\n");
    let r = run(&dir, &["app.log", "--", "./script.sh"]);
    assert_eq!(r.err, "rtail: cannot run './script.sh': Permission denied\n");
    assert_eq!(r.code, 126);
}

#[test]
fn until_with_a_child_stops_it_and_exits_0() {
    let dir = TestDir::new();
    dir.write("app.log", "");
    let start = Instant::now();
    let s = spawn_with_child(
        &dir,
        &["-n0", "--until", "DONE", "app.log"],
        "echo $$ > child.pid; echo working >> app.log; echo DONE >> app.log; exec sleep 300",
    );
    let child = read_pid(&dir, "child.pid");
    let _guard = KillGroupOnDrop(child);
    let (r, left) = finish_child(s, start, child);
    eprintln!("--until with a child: exited {:?} after rtail started", r.took);
    assert!(left.is_empty(), "left running: {left:?}");
    assert_eq!(r.out, "working\nDONE\n");
    assert!(r.took < Duration::from_secs(2), "the child took SIGTERM: no grace period needed");
    assert_eq!(r.code, 0, "--until matched: 0, not the stopped child's status; stderr:\n{}", r.err);
}

#[test]
fn until_with_a_child_that_ignores_sigterm_kills_it_after_the_grace() {
    let dir = TestDir::new();
    dir.write("app.log", "");
    let start = Instant::now();
    let s = spawn_with_child(
        &dir,
        &["-n0", "--until", "DONE", "app.log"],
        "trap '' TERM; echo $$ > child.pid; echo DONE >> app.log; while :; do sleep 1; done",
    );
    let child = read_pid(&dir, "child.pid");
    let _guard = KillGroupOnDrop(child);
    let (r, left) = finish_child(s, start, child);
    eprintln!("--until with a child ignoring SIGTERM: exited {:?} after rtail started", r.took);
    assert!(left.is_empty(), "left running: {left:?}");
    assert_eq!(r.out, "DONE\n");
    assert!(r.took >= Duration::from_secs(2), "SIGKILL before the 2 s grace: {:?}", r.took);
    assert!(r.took < Duration::from_secs(6), "took {:?}", r.took);
    assert_eq!(r.code, 0, "--until matched: 0, not the killed child's status; stderr:\n{}", r.err);
}

#[test]
fn timeout_with_a_child_stops_it_and_exits_124() {
    let dir = TestDir::new();
    dir.write("app.log", "");
    let start = Instant::now();
    let s = spawn_with_child(
        &dir,
        &["-n0", "--timeout", "300ms", "app.log"],
        "echo $$ > child.pid; exec sleep 300",
    );
    let child = read_pid(&dir, "child.pid");
    let _guard = KillGroupOnDrop(child);
    let (r, left) = finish_child(s, start, child);
    eprintln!("--timeout 300ms with a child: exited {:?} after rtail started", r.took);
    assert!(r.took >= Duration::from_millis(300), "ended early: {:?}", r.took);
    assert!(left.is_empty(), "left running: {left:?}");
    assert_eq!(r.err, "rtail: timed out after 300ms\n");
    assert_eq!(r.code, 124, "timeout: 124, not the stopped child's status");
}

#[test]
fn signals_are_forwarded_to_the_child() {
    let dir = TestDir::new();
    dir.write("app.log", "");
    let script =
        "trap 'echo got-term; exit 7' TERM; echo $$ > child.pid; sleep 300 & echo ready >> app.log; wait";
    let s = spawn_with_child(&dir, &["-n0", "app.log"], script);
    let child = read_pid(&dir, "child.pid");
    let _guard = KillGroupOnDrop(child);
    s.wait_for_stdout("ready\n");
    let sent = Instant::now();
    s.signal(libc::SIGTERM);
    let (r, left) = finish_child(s, sent, child);
    eprintln!("SIGTERM forwarded to the child: rtail exited {:?} later", r.took);
    assert!(left.is_empty(), "left running: {left:?}");
    assert_eq!(r.out, "ready\ngot-term\n");
    assert_eq!(r.code, 7, "the child's status; stderr:\n{}", r.err);
}

#[test]
fn sighup_is_forwarded_to_the_child() {
    let dir = TestDir::new();
    dir.write("app.log", "");
    let s = spawn_with_child(
        &dir,
        &["-n0", "app.log"],
        "echo $$ > child.pid; echo ready >> app.log; exec sleep 300",
    );
    let child = read_pid(&dir, "child.pid");
    let _guard = KillGroupOnDrop(child);
    s.wait_for_stdout("ready\n");
    s.signal(libc::SIGHUP);
    let (r, left) = finish_child(s, Instant::now(), child);
    assert!(left.is_empty(), "left running: {left:?}");
    assert_eq!(r.code, 128 + libc::SIGHUP, "the child died of SIGHUP; stderr:\n{}", r.err);
}

#[test]
fn sigint_with_a_child_and_grandchild_leaves_no_process_behind() {
    // sh runs `sleep` in the background: a grandchild of rtail. A non-interactive shell starts
    // background jobs with SIGINT ignored, so forwarding SIGINT alone does not end them; still
    // nothing may be left once rtail has exited.
    let dir = TestDir::new();
    dir.write("app.log", "");
    let script = "echo $$ > child.pid; sleep 300 & echo $! > grandchild.pid; echo ready >> app.log; wait";
    let s = spawn_with_child(&dir, &["-n0", "app.log"], script);
    let rtail = s.pid();
    let child = read_pid(&dir, "child.pid");
    let grandchild = read_pid(&dir, "grandchild.pid");
    let _guard = KillGroupOnDrop(child);
    s.wait_for_stdout("ready\n");
    let tree: Vec<i32> = crate::util::live_descendants(rtail).iter().map(|p| p.pid).collect();
    assert!(tree.contains(&child) && tree.contains(&grandchild), "rtail's tree: {tree:?}");
    let sent = Instant::now();
    s.signal(libc::SIGINT);
    let (r, left) = finish_child(s, sent, child);
    eprintln!("SIGINT with a child and grandchild: rtail exited {:?} later", r.took);
    assert_eq!(r.code, 128 + libc::SIGINT, "the child died of SIGINT; stderr:\n{}", r.err);
    assert!(proc_info(rtail).is_none(), "rtail is gone");
    let left_pids: Vec<i32> = left.iter().map(|p| p.pid).collect();
    assert!(!left_pids.contains(&child), "the child (sh, {child}) is still running: {left:?}");
    assert!(left.is_empty(), "left running after rtail exited (grandchild = {grandchild}): {left:?}");
}

#[test]
fn child_gets_sigterm_when_rtail_is_killed() {
    let dir = TestDir::new();
    dir.write("app.log", "");
    let s = spawn_with_child(
        &dir,
        &["-n0", "app.log"],
        "echo $$ > child.pid; echo ready >> app.log; exec sleep 300",
    );
    let child = read_pid(&dir, "child.pid");
    let _guard = KillGroupOnDrop(child);
    s.wait_for_stdout("ready\n");
    s.signal(libc::SIGKILL);
    let (r, left) = finish_child(s, Instant::now(), child);
    assert_eq!(r.code, 128 + libc::SIGKILL);
    assert!(left.is_empty(), "the child outlived a SIGKILLed rtail: {left:?}");
}

// ---------------------------------------------------------------------------------------------
// Exit codes

#[test]
fn exit_codes() {
    let dir = TestDir::new();
    dir.write("app.log", "a\n");
    let cases: &[(&[&str], i32)] = &[
        (&["app.log"], 0),
        (&["-n", "+1", "--until", "a", "app.log"], 0),
        (&["-F", "--idle-timeout", "100ms", "app.log"], 0),
        (&["-F", "--timeout", "100ms", "app.log"], 124),
        (&["missing.log", "app.log"], 1),
        (&["--no-such-option", "app.log"], 1),
        (&["--color=sometimes", "app.log"], 1),
        (&["-g", "(", "app.log"], 1),
        (&["--until", "zzz", "app.log"], 1),
        (&["app.log", "--", "sh", "-c", "exit 42"], 42),
        (&["app.log", "--", "sh", "-c", "kill -TERM $$"], 143),
        (&["app.log", "--", "no-such-command-rtail-test"], 127),
    ];
    for &(args, want) in cases {
        let r = run(&dir, args);
        assert_eq!(r.code, want, "rtail {args:?}; stderr:\n{}", r.err);
    }
    // A usage error says so GNU's way (and is 1, not clap's 2).
    let r = run(&dir, &["--no-such-option"]);
    assert!(r.err.ends_with("Try 'rtail --help' for more information.\n"), "{:?}", r.err);
}

#[test]
fn a_signal_exit_is_128_plus_n() {
    let dir = TestDir::new();
    dir.write("app.log", "a\n");
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        let s = dir.spawn(&["-F", "app.log"]);
        s.wait_for_stdout("a\n");
        s.signal(sig);
        let r = finish(s, Instant::now());
        assert_eq!(r.code, 128 + sig);
    }
}

/// The part of `text` from `heading` on.
fn section<'a>(text: &'a str, heading: &str) -> &'a str {
    text.find(heading).map_or("", |at| &text[at..])
}

#[test]
fn help_documents_every_exit_status() {
    let dir = TestDir::new();
    let r = run(&dir, &["--help"]);
    assert_eq!(r.code, 0);
    let statuses = section(&r.out, "Exit status");
    for needle in ["0", "1", "124", "128", "141", "--until", "idle", "child", "command"] {
        assert!(statuses.contains(needle), "--help's exit status section lacks {needle:?}:\n{statuses}");
    }
}

#[test]
fn readme_documents_every_exit_status() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    let statuses = section(&readme, "## Exit status");
    let statuses = statuses[3..].find("\n## ").map_or(statuses, |end| &statuses[..end + 3]);
    for needle in ["124", "--until", "idle", "child"] {
        assert!(statuses.contains(needle), "README's exit status section lacks {needle:?}:\n{statuses}");
    }
}
