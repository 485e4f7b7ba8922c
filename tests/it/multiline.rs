//! `--multiline` and `--record-start`: a record is the line that starts it and the lines that
//! continue it, and it moves as one (filters, `-n`, `--json`, following).

use serde_json::Value;

use crate::util::{TestDir, run_with_stdin};

/// A Python service's log: records stamped as Python logging does, two with tracebacks.
const PYTHON: &str = "\
2026-12-01 10:00:00,100 INFO starting
2026-12-01 10:00:01,200 ERROR request failed
Traceback (most recent call last):
  File \"app.py\", line 12, in handle
    return work(req)
  File \"app.py\", line 30, in work
    raise ValueError(\"bad input\")
ValueError: bad input
2026-12-01 10:00:02,300 INFO request ok
2026-12-01 10:00:03,400 WARNING slow
2026-12-01 10:00:04,500 ERROR lost connection
Traceback (most recent call last):
  File \"db.py\", line 7, in query

ConnectionError: reset by peer
2026-12-01 10:00:05,600 INFO done
";

/// A Java service's log: a stack trace with its cause.
const JAVA: &str = "\
2026-12-01T10:00:00.000Z INFO  Main - started
2026-12-01T10:00:01.000Z ERROR Main - request failed
java.lang.IllegalStateException: no session
\tat com.example.Handler.handle(Handler.java:42)
\tat com.example.Server.run(Server.java:17)
Caused by: java.io.IOException: closed
\tat com.example.Store.read(Store.java:9)
\t... 2 more
2026-12-01T10:00:02.000Z INFO  Main - next
";

fn stdout(out: &std::process::Output) -> String {
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn grep_prints_each_whole_traceback_and_only_those() {
    let dir = TestDir::new();
    dir.write("py.log", PYTHON);
    dir.write("java.log", JAVA);
    let out =
        dir.rtail().args(["--multiline", "-n", "+1", "--grep", "ERROR", "py.log"]).output().expect("run");
    let want: String = PYTHON
        .lines()
        .enumerate()
        .filter(|(i, _)| (1..8).contains(i) || (10..15).contains(i))
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    assert_eq!(stdout(&out), want);
    // A pattern that only a continuation line matches keeps the whole record.
    let out = dir
        .rtail()
        .args(["--multiline", "-n", "+1", "--grep", "IOException", "java.log"])
        .output()
        .expect("run");
    let want: String = JAVA.lines().skip(1).take(7).map(|l| format!("{l}\n")).collect();
    assert_eq!(stdout(&out), want);
    // --exclude drops whole records too.
    let out = dir
        .rtail()
        .args(["--multiline", "-n", "+1", "--exclude", "Traceback", "py.log"])
        .output()
        .expect("run");
    assert_eq!(
        stdout(&out),
        "2026-12-01 10:00:00,100 INFO starting\n2026-12-01 10:00:02,300 INFO request ok\n\
         2026-12-01 10:00:03,400 WARNING slow\n2026-12-01 10:00:05,600 INFO done\n"
    );
    // Without --multiline, lines are records as before.
    let out = dir.rtail().args(["-n", "+1", "--grep", "IOException", "java.log"]).output().expect("run");
    assert_eq!(stdout(&out), "Caused by: java.io.IOException: closed\n");
}

#[test]
fn n_counts_records() {
    let dir = TestDir::new();
    dir.write("py.log", PYTHON);
    let out = dir.rtail().args(["--multiline", "-n", "3", "py.log"]).output().expect("run");
    let want: String = PYTHON.lines().skip(9).map(|l| format!("{l}\n")).collect();
    assert_eq!(stdout(&out), want);
    let out = dir.rtail().args(["--multiline", "-n", "+2", "py.log"]).output().expect("run");
    let want: String = PYTHON.lines().skip(1).map(|l| format!("{l}\n")).collect();
    assert_eq!(stdout(&out), want);
    let out = dir.rtail().args(["--multiline", "-n", "+7", "py.log"]).output().expect("run");
    assert_eq!(stdout(&out), "");
    // More than there are: the whole file.
    let out = dir.rtail().args(["--multiline", "-n", "50", "py.log"]).output().expect("run");
    assert_eq!(stdout(&out), PYTHON);
}

#[test]
fn json_puts_the_whole_record_in_line_with_its_time() {
    let dir = TestDir::new();
    dir.write("java.log", JAVA);
    let out = dir.rtail().args(["--multiline", "--json", "-n", "2", "java.log"]).output().expect("run");
    let objects: Vec<Value> = stdout(&out).lines().map(|l| serde_json::from_str(l).expect("JSON")).collect();
    assert_eq!(objects.len(), 2, "{objects:?}");
    let trace: String = JAVA.lines().skip(1).take(7).collect::<Vec<_>>().join("\n");
    assert_eq!(objects[0]["line"], trace.as_str());
    assert_eq!(objects[0]["ts"], "2026-12-01T10:00:01Z");
    assert_eq!(objects[0]["offset"], JAVA.lines().next().map_or(0, |l| l.len() + 1));
    assert_eq!(objects[1]["line"], "2026-12-01T10:00:02.000Z INFO  Main - next");
}

#[test]
fn without_timestamps_indented_lines_continue_and_record_start_decides_when_given() {
    let dir = TestDir::new();
    dir.write(
        "go.txt",
        "panic: boom\n\ngoroutine 1 [running]:\n\tmain.main()\n\t\t/src/main.go:5\nexit status 2\n",
    );
    let out = dir.rtail().args(["--multiline", "--json", "-n", "+1", "go.txt"]).output().expect("run");
    let lines: Vec<String> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("JSON")["line"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        lines,
        ["panic: boom\n", "goroutine 1 [running]:\n\tmain.main()\n\t\t/src/main.go:5", "exit status 2"]
    );
    dir.write("app.txt", "BEGIN a\nx\ny\nBEGIN b\nz\n");
    let out = dir.rtail().args(["--record-start", "^BEGIN", "-n", "1", "app.txt"]).output().expect("run");
    assert_eq!(stdout(&out), "BEGIN b\nz\n");
    let out = dir
        .rtail()
        .args(["--record-start", "^begin", "-i", "--grep", "y", "-n", "+1", "app.txt"])
        .output()
        .expect("run");
    assert_eq!(stdout(&out), "BEGIN a\nx\ny\n");
}

#[test]
fn a_pipe_is_grouped_too() {
    let dir = TestDir::new();
    let out =
        run_with_stdin(dir.rtail().args(["--multiline", "-n", "+1", "--grep", "lost"]), PYTHON.as_bytes());
    let want: String = PYTHON.lines().skip(10).take(5).map(|l| format!("{l}\n")).collect();
    assert_eq!(stdout(&out), want);
}

#[test]
fn bad_input_is_refused_clearly() {
    let dir = TestDir::new();
    dir.write("a.log", "x\n");
    let out = dir.rtail().args(["--record-start", "(", "a.log"]).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("rtail: invalid --record-start pattern '(':"), "{err}");
    assert!(out.stdout.is_empty());
    let out = dir.rtail().args(["--multiline", "-c", "5", "a.log"]).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "rtail: --multiline groups lines into records: it cannot be used with -c/--bytes\n"
    );
}

#[test]
fn a_record_over_the_limit_is_cut_with_a_notice() {
    let dir = TestDir::new();
    let mut text = String::from("2026-12-01 10:00:00 ERROR huge\n");
    for k in 0..1500 {
        text.push_str(&format!("  frame {k}\n"));
    }
    text.push_str("2026-12-01 10:00:01 INFO after\n");
    dir.write("big.log", &text);
    let out = dir.rtail().args(["--multiline", "--json", "-n", "+1", "big.log"]).output().expect("run");
    let objects: Vec<Value> = stdout(&out).lines().map(|l| serde_json::from_str(l).expect("JSON")).collect();
    let counts: Vec<usize> =
        objects.iter().map(|o| o["line"].as_str().map_or(0, |l| l.lines().count())).collect();
    assert_eq!(counts, [1000, 501, 1]);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "rtail: a record longer than 1000 lines or 1048576 bytes was cut there; the rest follows as records of their own\n"
    );
    // Nothing lost, nothing twice.
    let joined: Vec<&str> = objects.iter().filter_map(|o| o["line"].as_str()).collect();
    assert_eq!(joined.join("\n") + "\n", text);
}

/// Following: a record is printed once the next one starts, or once its file has been quiet a
/// while (never held forever), and at the end of the run.
#[test]
fn following_completes_a_record_at_the_next_start_or_when_quiet() {
    let dir = TestDir::new();
    dir.write("app.log", "2026-12-01 10:00:00,000 INFO up\n");
    let s = dir.spawn(&["-F", "--multiline", "--json", "app.log"]);
    s.wait_for_stdout("INFO up");
    dir.append("app.log", "2026-12-01 10:00:01,000 ERROR boom\nTraceback (most recent call last):\n");
    dir.append("app.log", "  File \"x.py\", line 1\nKeyError: 'k'\n");
    // Nothing follows: the file going quiet completes it, whole.
    s.wait_for_stdout("\"line\":\"2026-12-01 10:00:01,000 ERROR boom\\nTraceback (most recent call last):\\n  File \\\"x.py\\\", line 1\\nKeyError: 'k'\"");
    dir.append("app.log", "2026-12-01 10:00:02,000 INFO a\n2026-12-01 10:00:03,000 INFO b\n");
    s.wait_for_stdout("INFO a");
    s.wait_for_stdout("INFO b");
    let (out, _) = s.finish();
    let records: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .filter(|o: &Value| o["line"].is_string())
        .collect();
    assert_eq!(records.len(), 4, "{out}");
}

/// `--until` matches a record anywhere, and the run ends after printing all of it.
#[test]
fn until_matches_anywhere_in_a_record() {
    let dir = TestDir::new();
    dir.write("app.log", "2026-12-01 10:00:00 INFO up\n");
    let mut s = dir.spawn(&["-F", "-n", "+1", "--multiline", "--until", "KeyError", "app.log"]);
    // Printed once its file was quiet: rtail follows by then.
    s.wait_for_stdout("INFO up\n");
    dir.append("app.log", "2026-12-01 10:00:01 ERROR boom\n  File x\nKeyError: 'k'\n");
    assert_eq!(s.wait_exit(), Some(0));
    let (out, _) = s.finish();
    assert_eq!(out, "2026-12-01 10:00:00 INFO up\n2026-12-01 10:00:01 ERROR boom\n  File x\nKeyError: 'k'\n");
}
