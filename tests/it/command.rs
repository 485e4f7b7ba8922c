//! A command's output as the source (`rtail --until ready -- ./server`): its standard output
//! through a pseudo-terminal (so programs write it line by line), its standard error apart,
//! its exit status ours, nothing of it left behind; and GNU command lines keeping their
//! meaning.

use std::time::{Duration, Instant};

use crate::util::{Spawned, TestDir, live_in_group, run_with_stdin};

fn json(stdout: &str) -> Vec<serde_json::Value> {
    stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}"))).collect()
}

/// Each record's (path, line), in order.
fn records(values: &[serde_json::Value]) -> Vec<(String, String)> {
    values
        .iter()
        .filter(|v| v.get("line").is_some())
        .map(|v| (v["path"].as_str().unwrap_or("").to_owned(), v["line"].as_str().unwrap_or("").to_owned()))
        .collect()
}

/// A Python program that prints without flushing and then stays: a pipe would keep its lines
/// in Python's buffer for the whole minute.
const UNFLUSHED: &str = "import time\nprint('booting')\nprint('ready on 8080')\ntime.sleep(60)\n";

#[test]
fn until_sees_a_line_the_program_never_flushed_and_stops_it() {
    let dir = TestDir::new();
    let started = Instant::now();
    let mut rtail = Spawned::start(dir.rtail().args([
        "--until",
        "ready on",
        "--timeout",
        "30s",
        "--",
        "python3",
        "-c",
        UNFLUSHED,
    ]));
    assert_eq!(rtail.wait_exit(), Some(0), "{}", rtail.stderr.text());
    // Well before Python's sleep (or our timeout) could have ended: the line came unflushed.
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(rtail.stdout.text(), "booting\nready on 8080\n");
    assert_eq!(rtail.stderr.text(), "");
    assert!(crate::util::live_descendants(rtail.pid()).is_empty());
}

#[test]
fn its_standard_error_goes_to_ours_and_json_names_both_streams() {
    let dir = TestDir::new();
    let script = "echo out; echo err >&2; exit 0";
    let out = dir.rtail().args(["--grep", "", "--", "sh", "-c", script]).output().expect("rtail");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "out\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("err\n"), "{err}");
    assert!(err.ends_with("rtail: command exited with status 0\n"), "{err}");

    let out = dir.rtail().args(["--json", "--", "sh", "-c", script]).output().expect("rtail");
    let values = json(&String::from_utf8_lossy(&out.stdout));
    let name = format!("sh -c {script}");
    let mut got = records(&values);
    // The two streams are read apart: their order between each other is the order they were
    // read in.
    got.sort();
    assert_eq!(got, [(name.clone(), "out".to_owned()), (format!("{name} (stderr)"), "err".to_owned())]);
    assert_eq!(values.first().map(|v| v["event"].clone()), Some("following".into()));
    let last = values.last().expect("an event");
    assert_eq!(last["event"], "exited");
    assert_eq!(last["status"], 0);
    assert_eq!(last["message"], "command exited with status 0");
}

#[test]
fn its_exit_status_is_ours() {
    let dir = TestDir::new();
    let status = |script: &str| {
        let out = dir.rtail().args(["--json", "--", "sh", "-c", script]).output().expect("rtail");
        (out.status.code(), json(&String::from_utf8_lossy(&out.stdout)))
    };
    let (code, values) = status("echo a; exit 7");
    assert_eq!(code, Some(7));
    assert_eq!(values.last().expect("event")["status"], 7);
    let (code, values) = status("kill -TERM $$");
    assert_eq!(code, Some(143));
    assert_eq!(values.last().expect("event")["message"], "command was killed by signal 15");
    let out = dir.rtail().args(["--json", "--", "./no-such-program"]).output().expect("rtail");
    assert_eq!(out.status.code(), Some(127));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "rtail: cannot run './no-such-program': No such file or directory\n"
    );
}

#[test]
fn its_output_is_a_terminal_that_changes_no_byte() {
    let dir = TestDir::new();
    let script = "test -t 1 && echo 'stdout is a terminal'; test -t 2 || echo 'stderr is not' >&2; \
                  printf 'tab\\there\\r\\n\\033[31mred\\033[0m\\n'; printf 'no end'";
    let out = dir.rtail().args(["--json", "--", "sh", "-c", script]).output().expect("rtail");
    let values = json(&String::from_utf8_lossy(&out.stdout));
    let lines: Vec<_> = values.iter().filter(|v| v.get("line").is_some()).collect();
    let stdout: Vec<_> =
        lines.iter().filter(|v| !v["path"].as_str().unwrap_or("").ends_with("(stderr)")).collect();
    let text: Vec<_> = stdout.iter().map(|v| v["line"].as_str().unwrap_or("")).collect();
    // No `\n` became `\r\n`; escapes and a `\r` the program wrote are kept.
    assert_eq!(text, ["stdout is a terminal", "tab\there\r", "\x1b[31mred\x1b[0m", "no end"]);
    assert_eq!(stdout.last().expect("a last line")["partial"], true);
    // The byte offsets count the stream's bytes.
    let offsets: Vec<_> = stdout.iter().map(|v| v["offset"].as_u64().unwrap_or(0)).collect();
    assert_eq!(offsets, [0, 21, 31, 44]);
    assert!(lines.iter().any(|v| v["line"] == "stderr is not"));
}

#[test]
fn it_is_asked_not_to_colour_unless_colours_show() {
    let dir = TestDir::new();
    let probe = |args: &[&str], env: Option<&str>| {
        let mut cmd = dir.rtail();
        cmd.args(args).args(["--", "sh", "-c", "echo \"[${NO_COLOR-unset}]\""]);
        if let Some(v) = env {
            cmd.env("NO_COLOR", v);
        }
        let out = cmd.output().expect("rtail");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.lines().find(|l| l.contains('[')).unwrap_or("").to_owned()
    };
    assert!(probe(&["--json"], None).contains("[1]"));
    assert!(probe(&["--grep", "."], None).contains("[1]"));
    assert!(probe(&["--color=always"], None).contains("[unset]"));
    // What the user's environment says is kept.
    assert!(probe(&["--json"], Some("")).contains("[]"));
}

#[test]
fn every_line_of_a_flood_arrives_once_in_order_on_both_streams() {
    let dir = TestDir::new();
    let script = "seq 1 100000 & seq 1 50000 >&2; wait";
    let out = dir.rtail().args(["--json", "--", "sh", "-c", script]).output().expect("rtail");
    assert_eq!(out.status.code(), Some(0));
    let values = json(&String::from_utf8_lossy(&out.stdout));
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    for (path, line) in records(&values) {
        let n: u64 = line.parse().unwrap_or_else(|_| panic!("{line:?}"));
        if path.ends_with("(stderr)") { stderr.push(n) } else { stdout.push(n) }
    }
    assert!(stdout == (1..=100_000).collect::<Vec<_>>(), "stdout: {} lines", stdout.len());
    assert!(stderr == (1..=50_000).collect::<Vec<_>>(), "stderr: {} lines", stderr.len());
}

#[test]
fn what_it_started_in_the_background_goes_with_it() {
    let dir = TestDir::new();
    // Its background job keeps the terminal open after it said it was ready.
    let script = "sleep 600 & echo \"group $$\"; echo ready; wait";
    let mut rtail = Spawned::start(dir.rtail().args(["--until", "ready", "--", "sh", "-c", script]));
    assert_eq!(rtail.wait_exit(), Some(0), "{}", rtail.stderr.text());
    let out = rtail.stdout.text();
    let group: i32 = out
        .lines()
        .find_map(|l| l.strip_prefix("group "))
        .and_then(|g| g.parse().ok())
        .unwrap_or_else(|| panic!("{out}"));
    let left = live_in_group(group);
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn idle_timeout_and_timeout_end_it_too() {
    let dir = TestDir::new();
    let mut rtail =
        Spawned::start(dir.rtail().args(["--idle-timeout", "300ms", "--", "sh", "-c", "echo a; sleep 600"]));
    assert_eq!(rtail.wait_exit(), Some(0));
    assert_eq!(rtail.stdout.text(), "a\n");
    assert!(crate::util::live_descendants(rtail.pid()).is_empty());
    let mut rtail = Spawned::start(dir.rtail().args([
        "--until",
        "never",
        "--timeout",
        "300ms",
        "--",
        "sh",
        "-c",
        "echo a; sleep 600",
    ]));
    assert_eq!(rtail.wait_exit(), Some(124));
    assert!(rtail.stderr.text().contains("timed out after 300ms: no line matched --until 'never'"));
}

#[test]
fn a_signal_reaches_it_and_its_status_is_ours() {
    let dir = TestDir::new();
    let script = "trap 'echo got INT; exit 5' INT; echo ready; while :; do sleep 0.05; done";
    let mut rtail = Spawned::start(dir.rtail().args(["--grep", "", "--", "sh", "-c", script]));
    rtail.wait_for_stdout("ready\n");
    rtail.signal(libc::SIGINT);
    assert_eq!(rtail.wait_exit(), Some(5));
    assert_eq!(rtail.stdout.text(), "ready\ngot INT\n");
}

#[test]
fn gnu_command_lines_keep_their_meaning_after_a_double_dash() {
    let dir = TestDir::new();
    dir.write("-dash.log", "one\ntwo\n");
    dir.write("app.log", "one\ntwo\n");
    dir.write("sh", "not a program\n");
    // GNU's `--` ends the options: the words after it are files.
    let out = dir.rtail().args(["-n", "1", "--", "-dash.log"]).output().expect("rtail");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "two\n");
    let out = dir.rtail().args(["--", "sh", "-dash.log"]).output().expect("rtail");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "==> sh <==\nnot a program\n\n==> -dash.log <==\none\ntwo\n"
    );
    // A FILE before `--`: the command runs beside it, writing to our output itself.
    let out =
        dir.rtail().args(["-n", "1", "app.log", "--", "sh", "-c", "echo beside"]).output().expect("rtail");
    let mut lines: Vec<_> = String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect();
    lines.sort();
    assert_eq!(lines, ["beside", "two"]);
}

#[test]
fn an_option_about_files_makes_the_words_after_the_double_dash_files() {
    let dir = TestDir::new();
    dir.write("-odd.log", "one\ntwo\n");
    for args in
        [&["-n", "1", "--until", "two"][..], &["-c", "4", "--timeout", "5s"], &["-F", "--until", "two"]]
    {
        let out = run_with_stdin(dir.rtail().args(args).args(["--", "-odd.log"]), b"");
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("two"), "{args:?}: {text}");
    }
    // Without one, they are a command; a file there gets a hint.
    let out = run_with_stdin(dir.rtail().args(["--until", "two", "--", "./-odd.log"]), b"");
    assert_eq!(out.status.code(), Some(126));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "rtail: cannot run './-odd.log': Permission denied\n\
         rtail: with no FILE before '--', the words after it are a command to run; to follow \
         './-odd.log', name it before '--' or give -F\n"
    );
}

/// Peak resident memory of a process, in KiB (/proc/PID/status VmHWM).
fn peak_rss_kib(pid: i32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn a_stalled_reader_of_our_output_stalls_the_command_not_our_memory() {
    let dir = TestDir::new();
    // 31 MB of output that nobody reads for a while: the command must be left blocked on its
    // writes, with rtail holding a bounded part of it. Reading later gets every line.
    const LINES: u64 = 4_000_000;
    let mut child = dir
        .rtail()
        .args(["--idle-timeout", "1h", "--", "seq", "1", &LINES.to_string()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("rtail");
    let pid = child.id() as i32;
    // The stall, seen without timing it: seq is blocked writing to its terminal, and so is one
    // of rtail's threads writing to our stdout. Had rtail taken seq's output without bound, seq
    // would have written all of it and exited instead.
    let blocked_in_write = |pid: i32| {
        let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).into_iter().flatten().flatten();
        tasks.into_iter().any(|t| {
            let syscall = std::fs::read_to_string(t.path().join("syscall")).unwrap_or_default();
            syscall.split_whitespace().next() == Some(&libc::SYS_write.to_string())
        })
    };
    crate::util::wait_for_condition("seq and rtail blocked on their writes", || {
        let seq = crate::util::live_descendants(pid).into_iter().find(|p| p.comm == "seq");
        seq.is_some_and(|p| p.state == 'S' && blocked_in_write(p.pid)) && blocked_in_write(pid)
    });
    let peak = peak_rss_kib(pid);
    assert!(peak < 24 * 1024, "peak RSS {peak} KiB while its reader stalled");
    let mut out = Vec::new();
    std::io::Read::read_to_end(child.stdout.as_mut().expect("stdout"), &mut out).expect("read");
    assert!(child.wait().expect("wait").success());
    let mut next = 1;
    for line in out.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        assert_eq!(line, next.to_string().as_bytes(), "line {next}");
        next += 1;
    }
    assert_eq!(next, LINES + 1);
}
