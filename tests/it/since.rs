//! `--since WHEN`: output starts at each input's first record stamped at WHEN or later — found
//! by bisection in a file, by reading through in a pipe.

use std::time::{Duration, SystemTime};

use crate::util::{TestDir, run_with_stdin};

fn run(dir: &TestDir, args: &[&str]) -> (String, String, Option<i32>) {
    let out = dir.rtail().env("TZ", "UTC").args(args).output().expect("run rtail");
    (
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
        out.status.code(),
    )
}

/// Python logging's layout, one record a minute from 10:00 to 10:09 on 2026-12-01 (UTC), the
/// one at 10:04 with a traceback.
fn minutes() -> String {
    let mut text = String::from("starting up\n");
    for m in 0..10 {
        text += &format!("2026-12-01 10:{m:02}:00,000 INFO minute {m}\n");
        if m == 4 {
            text += "Traceback (most recent call last):\n  File \"app.py\", line 1\nValueError: boom\n";
        }
    }
    text
}

fn from_minute(m: usize) -> String {
    let text = minutes();
    let at = text.find(&format!("10:{m:02}:00,000")).expect("minute") - "2026-12-01 ".len();
    text[at..].to_owned()
}

#[test]
fn every_form_of_an_absolute_time_starts_at_the_first_record_at_or_after_it() {
    let dir = TestDir::new();
    dir.write("app.log", minutes());
    for (when, from) in [
        ("2026-12-01 10:05", 5),
        ("2026-12-01 10:05:00", 5),
        ("2026-12-01T10:05:00Z", 5),
        ("2026-12-01T10:04:30Z", 5),
        ("2026-12-01 11:04:30+01:00", 5),
        ("2026-12-01T10:04:00.000Z", 4),
    ] {
        assert_eq!(
            run(&dir, &["--since", when, "app.log"]),
            (from_minute(from), String::new(), Some(0)),
            "{when}"
        );
    }
    // Before every record: the whole file, the unstamped lines before the first record too.
    assert_eq!(run(&dir, &["--since", "2026-11-30", "app.log"]), (minutes(), String::new(), Some(0)));
    // After every record: nothing, and that is no error.
    assert_eq!(run(&dir, &["--since", "2026-12-02", "app.log"]), (String::new(), String::new(), Some(0)));
}

#[test]
fn n_keeps_the_last_records_of_those_and_a_traceback_stays_with_its_record() {
    let dir = TestDir::new();
    dir.write("app.log", minutes());
    assert_eq!(
        run(&dir, &["--since", "2026-12-01 10:07", "-n", "2", "app.log"]).0,
        "2026-12-01 10:08:00,000 INFO minute 8\n2026-12-01 10:09:00,000 INFO minute 9\n"
    );
    // Fewer than asked for: only those since.
    assert_eq!(run(&dir, &["--since", "2026-12-01 10:08", "-n", "5", "app.log"]).0, from_minute(8));
    // The traceback is part of the 10:04 record: printed with it, whole with --multiline.
    let (out, _, code) =
        run(&dir, &["--since", "2026-12-01 10:04", "--multiline", "--grep", "boom", "app.log"]);
    assert_eq!(code, Some(0));
    assert_eq!(
        out,
        "2026-12-01 10:04:00,000 INFO minute 4\nTraceback (most recent call last):\n  File \"app.py\", line 1\nValueError: boom\n"
    );
    let (out, _, _) = run(&dir, &["--since", "2026-12-01 10:05", "--multiline", "--grep", "boom", "app.log"]);
    assert_eq!(out, "", "the traceback's record is before WHEN");
}

#[test]
fn a_duration_counts_back_from_now() {
    let dir = TestDir::new();
    // Records 30 s past each minute back from now, in ISO 8601 UTC: --since 10m takes ten.
    let now = SystemTime::now();
    let mut text = String::new();
    for k in (0..60).rev() {
        let at = now - Duration::from_secs(k * 60 + 30);
        let ts = jiff::Timestamp::try_from(at).expect("time");
        text += &format!("{} GET /{k}\n", ts.strftime("%Y-%m-%dT%H:%M:%S%.3fZ"));
    }
    dir.write("access.log", &text);
    let (out, err, code) = run(&dir, &["--since", "10m", "access.log"]);
    let want: Vec<String> = (0..10).rev().map(|k| format!("GET /{k}")).collect();
    let got: Vec<&str> = out.lines().map(|l| l.split_once(' ').map_or("", |(_, rest)| rest)).collect();
    assert_eq!((got, err.as_str(), code), (want.iter().map(String::as_str).collect(), "", Some(0)));
    assert_eq!(run(&dir, &["--since", "1h30m", "access.log"]).0, text);
    assert_eq!(run(&dir, &["--since", "15 min ago", "-n", "1", "access.log"]).0.lines().count(), 1);
}

#[test]
fn a_pipe_is_read_through_to_its_first_record_at_or_after_when() {
    let dir = TestDir::new();
    let out = run_with_stdin(
        dir.rtail().env("TZ", "UTC").args(["--since", "2026-12-01 10:05"]),
        minutes().as_bytes(),
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), from_minute(5));
    assert_eq!(out.status.code(), Some(0));
    // -n N keeps the last N of those.
    let out = run_with_stdin(
        dir.rtail().env("TZ", "UTC").args(["--since", "2026-12-01 10:05", "-n", "1"]),
        minutes().as_bytes(),
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "2026-12-01 10:09:00,000 INFO minute 9\n");
    // Nothing at all comes through is no error.
    let out = run_with_stdin(dir.rtail().args(["--since", "10m"]), b"");
    assert_eq!((out.stdout.len(), out.stderr.len(), out.status.code()), (0, 0, Some(0)));
}

#[test]
fn an_input_without_timestamps_prints_nothing_says_so_and_fails_the_run() {
    let dir = TestDir::new();
    dir.write("plain.txt", "one\ntwo\nthree\n");
    dir.write("app.log", minutes());
    let (out, err, code) = run(&dir, &["--since", "2026-12-01 10:09", "plain.txt", "app.log"]);
    assert_eq!(out, "==> plain.txt <==\n\n==> app.log <==\n2026-12-01 10:09:00,000 INFO minute 9\n");
    assert_eq!(err, "rtail: 'plain.txt' has no timestamps that --since can use\n");
    assert_eq!(code, Some(1));
    let out = run_with_stdin(dir.rtail().args(["--since", "10m"]), b"one\ntwo\n");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "rtail: 'standard input' has no timestamps that --since can use\n"
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn bad_input_is_refused_with_the_forms_it_takes() {
    let dir = TestDir::new();
    dir.write("app.log", minutes());
    let (out, err, code) = run(&dir, &["--since", "last tuesday", "app.log"]);
    assert_eq!((out.as_str(), code), ("", Some(1)));
    assert!(
        err.starts_with("rtail: --since: invalid time 'last tuesday': expected a duration before now (10m"),
        "{err}"
    );
    assert!(err.contains("(2026-12-01T10:00:00Z)"), "{err}");
    assert!(err.ends_with("Try 'rtail --help' for more information.\n"), "{err}");
    for (args, message) in [
        (
            &["--since", "10m", "-c", "5", "app.log"][..],
            "rtail: --since starts at a record's time: it cannot be used with -c/--bytes\n",
        ),
        (
            &["--since", "10m", "-n", "+2", "app.log"],
            "rtail: --since says where output starts: it cannot be used with -n +NUM\n",
        ),
    ] {
        assert_eq!(run(&dir, args), (String::new(), message.to_owned(), Some(1)), "{args:?}");
    }
    // After `--`, the words are files, as with -n.
    assert_eq!(run(&dir, &["--since", "2026-12-01 10:09", "--", "app.log"]).0, from_minute(9));
}

#[test]
fn following_starts_at_when_then_prints_what_comes() {
    let dir = TestDir::new();
    dir.write("app.log", minutes());
    let s = dir.spawn(&["-F", "--since", "2026-12-01 10:08", "app.log"]);
    s.wait_for_stdout("minute 9\n");
    dir.append("app.log", "2026-12-01 10:10:00,000 INFO minute 10\n");
    s.wait_for_stdout("minute 10\n");
    let (out, err) = s.finish();
    assert_eq!(out, from_minute(8) + "2026-12-01 10:10:00,000 INFO minute 10\n");
    assert_eq!(err, "");
    // Nothing since yet: following starts at the end.
    let s = dir.spawn(&["-F", "--json", "--since", "2026-12-02", "app.log"]);
    s.wait_for_stdout("\"event\":\"following\"");
    dir.append("app.log", "2026-12-02 00:00:01,000 INFO tomorrow\n");
    s.wait_for_stdout("tomorrow");
    let (out, _) = s.finish();
    let lines: Vec<&str> = out.lines().filter(|l| l.contains("\"line\"")).collect();
    assert_eq!(lines.len(), 1, "{out}");
    assert!(lines[0].contains("\"ts\":\"2026-12-02T00:00:01Z\""), "{out}");
}

#[test]
fn merged_files_each_start_at_when() {
    let dir = TestDir::new();
    dir.write("a.log", "2026-12-01T10:00:00Z a0\n2026-12-01T10:00:02Z a2\n2026-12-01T10:00:04Z a4\n");
    dir.write("b.log", "2026/12/01 10:00:01 b1\n2026/12/01 10:00:03 b3\n");
    assert_eq!(
        run(&dir, &["--merge", "--since", "2026-12-01T10:00:02Z", "a.log", "b.log"]).0,
        "a.log: 2026-12-01T10:00:02Z a2\nb.log: 2026/12/01 10:00:03 b3\na.log: 2026-12-01T10:00:04Z a4\n"
    );
}
