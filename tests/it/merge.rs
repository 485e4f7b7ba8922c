//! `--merge`: the records of every input in one stream ordered by time — static (a k-way merge)
//! and following (a bounded window, late records marked).

use serde_json::Value;

use crate::util::{TestDir, run_with_stdin};

fn text(out: &std::process::Output) -> String {
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn files_in_different_layouts_come_out_in_time_order_with_their_names() {
    let dir = TestDir::new();
    dir.write(
        "a.log",
        "2026-12-01 10:00:00,000 a1\n2026-12-01 10:00:03,000 a2\n2026-12-01 10:00:05,000 a3\n",
    );
    dir.write("b.log", "2026/12/01 10:00:01 b1\n2026/12/01 10:00:03 b2\n2026/12/01 10:00:04 b3\n");
    dir.write("c.log", "10.0.0.1 - - [01/Dec/2026:10:00:02 +0000] \"GET /\" 200\n");
    let out = dir
        .rtail()
        .env("TZ", "UTC")
        .args(["--merge", "-n", "+1", "a.log", "b.log", "c.log"])
        .output()
        .expect("run");
    assert_eq!(
        text(&out),
        "a.log: 2026-12-01 10:00:00,000 a1\n\
         b.log: 2026/12/01 10:00:01 b1\n\
         c.log: 10.0.0.1 - - [01/Dec/2026:10:00:02 +0000] \"GET /\" 200\n\
         a.log: 2026-12-01 10:00:03,000 a2\n\
         b.log: 2026/12/01 10:00:03 b2\n\
         b.log: 2026/12/01 10:00:04 b3\n\
         a.log: 2026-12-01 10:00:05,000 a3\n",
        "equal times keep the operands' order"
    );
    // -n applies to each file, then the records are merged.
    let out =
        dir.rtail().env("TZ", "UTC").args(["--merge", "-n", "1", "a.log", "b.log"]).output().expect("run");
    assert_eq!(text(&out), "b.log: 2026/12/01 10:00:04 b3\na.log: 2026-12-01 10:00:05,000 a3\n");
}

#[test]
fn one_file_written_out_of_order_is_put_in_order() {
    let dir = TestDir::new();
    // Several processes through one handler: each line reaches the file a little late.
    let mut lines: Vec<String> = (0..2000)
        .map(|k| format!("2026-12-01T10:00:{:02}.{:03}Z w{} {k}", k / 1000, k % 1000, k % 8))
        .collect();
    for pair in lines.chunks_mut(3) {
        pair.reverse();
    }
    dir.write("one.log", lines.join("\n") + "\n");
    let out = dir.rtail().args(["--merge", "-n", "+1", "one.log"]).output().expect("run");
    let printed = text(&out);
    let got: Vec<&str> = printed.lines().collect();
    let mut want: Vec<&str> = lines.iter().map(String::as_str).collect();
    want.sort();
    assert_eq!(got, want, "in time order, no prefix for one file, every line once");
}

#[test]
fn json_multiline_grep_and_a_pipe_work_merged() {
    let dir = TestDir::new();
    dir.write("app.log", "2026-12-01T10:00:00Z INFO up\n2026-12-01T10:00:02Z ERROR boom\n  at x\n2026-12-01T10:00:04Z INFO ok\n");
    let piped = "2026-12-01T10:00:01Z pipe one\n2026-12-01T10:00:03Z pipe ERROR two\n";
    let out = run_with_stdin(
        dir.rtail().args(["--merge", "--multiline", "--json", "-n", "+1", "--grep", "ERROR", "app.log", "-"]),
        piped.as_bytes(),
    );
    let objects: Vec<Value> = text(&out).lines().map(|l| serde_json::from_str(l).expect("JSON")).collect();
    let got: Vec<(&str, &str)> = objects
        .iter()
        .map(|o| (o["path"].as_str().unwrap_or(""), o["line"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        got,
        [
            ("app.log", "2026-12-01T10:00:02Z ERROR boom\n  at x"),
            ("-", "2026-12-01T10:00:03Z pipe ERROR two")
        ]
    );
}

#[test]
fn bad_combinations_are_refused_clearly() {
    let dir = TestDir::new();
    dir.write("a.log", "x\n");
    for (args, message) in [
        (
            &["--merge", "-c", "5", "a.log"][..],
            "rtail: --merge orders records by time: it cannot be used with -c/--bytes\n",
        ),
        (&["--merge-window", "1s", "a.log"], "rtail: --merge-window is for --merge\n"),
        (
            &["--merge", "--history", "a.log"],
            "rtail: --merge with --history merges whole rotated files: give -n +1, or --since without -n\n",
        ),
        (
            &["--merge", "--history", "--since", "10m", "-n", "5", "a.log"],
            "rtail: --merge with --history merges whole rotated files: give -n +1, or --since without -n\n",
        ),
    ] {
        let out = dir.rtail().args(args).output().expect("run");
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), message, "{args:?}");
    }
    let out = dir.rtail().args(["--merge", "-F", "--merge-window", "soon", "a.log"]).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .starts_with("rtail: invalid duration for --merge-window: 'soon'")
    );
}

/// Following: a record waits up to the window for earlier ones from other files; one that
/// comes later than that is printed at once, marked late; every record once.
#[test]
fn following_orders_within_the_window_and_marks_late_records() {
    let dir = TestDir::new();
    dir.write("a.log", "2026-12-01T10:00:00.000Z a0\n");
    dir.write("b.log", "2026-12-01T10:00:00.010Z b0\n");
    let s = dir.spawn(&["-F", "--merge", "--json", "--merge-window", "1s", "a.log", "b.log"]);
    s.wait_for_stdout("\"event\":\"following\"");
    dir.append("a.log", "2026-12-01T10:00:01.080Z a1\n");
    // b1 is earlier than a1 but written after it, well within the window: it comes out first.
    dir.append("b.log", "2026-12-01T10:00:01.050Z b1\n");
    s.wait_for_stdout("a1");
    // Later than a1, which went out already: at once, late.
    dir.append("b.log", "2026-12-01T10:00:01.060Z b2\n");
    s.wait_for_stdout("b2");
    let (out, _) = s.finish();
    let records: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .filter(|o: &Value| o["line"].is_string())
        .collect();
    let order: Vec<&str> = records.iter().map(|o| o["line"].as_str().unwrap_or("")).collect();
    assert_eq!(
        order,
        [
            "2026-12-01T10:00:00.000Z a0",
            "2026-12-01T10:00:00.010Z b0",
            "2026-12-01T10:00:01.050Z b1",
            "2026-12-01T10:00:01.080Z a1",
            "2026-12-01T10:00:01.060Z b2"
        ]
    );
    assert_eq!(records[4]["late"], true);
    assert!(records[..4].iter().all(|o| o.get("late").is_none()));
}

/// Following, text output waits in the window too (its records are stamped for it, though
/// the text does not show their times).
#[test]
fn following_orders_text_output_within_the_window() {
    let dir = TestDir::new();
    dir.write("a.log", "2026-12-01T10:00:00.000Z a0\n");
    dir.write("b.log", "");
    let s = dir.spawn(&["-F", "--merge", "-n", "1", "--merge-window", "1s", "a.log", "b.log"]);
    // Both files are open once the initial output is out.
    s.wait_for_stdout("a0\n");
    dir.append("a.log", "2026-12-01T10:00:01.080Z a1\n");
    dir.append("b.log", "2026-12-01T10:00:01.050Z b1\n");
    s.wait_for_stdout("a1\n");
    let (out, _) = s.finish();
    assert_eq!(
        out,
        "a.log: 2026-12-01T10:00:00.000Z a0\nb.log: 2026-12-01T10:00:01.050Z b1\na.log: 2026-12-01T10:00:01.080Z a1\n"
    );
}
