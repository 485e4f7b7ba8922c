//! `--number`: each line's number in its file generation, as `NUM:` in text (grep -n's
//! form) and `line_number` in `--json`, wherever output starts and across rotation.

use serde_json::Value;

use crate::util::{TestDir, run_with_stdin};

fn run(dir: &TestDir, args: &[&str]) -> (String, String, Option<i32>) {
    let out = dir.rtail().args(args).output().expect("run rtail");
    (
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
        out.status.code(),
    )
}

fn numbered(range: std::ops::RangeInclusive<u32>) -> String {
    range.map(|n| format!("{n}:line {n}\n")).collect()
}

fn lines(range: std::ops::RangeInclusive<u32>) -> String {
    range.map(|n| format!("line {n}\n")).collect()
}

#[test]
fn numbers_count_from_the_file_start_wherever_output_starts() {
    let dir = TestDir::new();
    dir.write("app.log", lines(1..=20));
    let ok = |s: String| (s, String::new(), Some(0));
    assert_eq!(run(&dir, &["--number", "-n", "3", "app.log"]), ok(numbered(18..=20)));
    assert_eq!(run(&dir, &["--number", "-n", "+19", "app.log"]), ok(numbered(19..=20)));
    assert_eq!(
        run(&dir, &["--number", "-n", "+1", "--grep", "line 1[27]$", "app.log"]).0,
        "12:line 12\n17:line 17\n"
    );
    assert_eq!(run(&dir, &["--number", "-n", "1", "-P", "app.log"]).0, "app.log: 20:line 20\n");
    // A pipe: the lines before the last N are counted as they go by.
    let piped = lines(1..=50_000);
    let out = run_with_stdin(dir.rtail().args(["--number", "-n", "2"]), piped.as_bytes());
    assert_eq!(String::from_utf8_lossy(&out.stdout), numbered(49_999..=50_000));
    let out = run_with_stdin(dir.rtail().args(["--number", "-n", "+49999"]), piped.as_bytes());
    assert_eq!(String::from_utf8_lossy(&out.stdout), numbered(49_999..=50_000));
    // A last line without its newline is numbered too.
    dir.write("open.log", "a\nb");
    assert_eq!(run(&dir, &["--number", "open.log"]).0, "1:a\n2:b");
}

#[test]
fn json_has_line_number_and_a_record_has_its_first_lines() {
    let dir = TestDir::new();
    dir.write(
        "app.log",
        "2026-12-01T10:00:00Z INFO a\n2026-12-01T10:00:01Z ERROR b\nTraceback (most recent call last):\n  x\n2026-12-01T10:00:02Z INFO c\n",
    );
    let (out, _, code) = run(&dir, &["--json", "--number", "--multiline", "-n", "2", "app.log"]);
    assert_eq!(code, Some(0));
    let numbers: Vec<(u64, String)> = out
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("JSON"))
        .map(|o| (o["line_number"].as_u64().unwrap_or(0), o["line"].as_str().unwrap_or("").to_owned()))
        .collect();
    assert_eq!(
        numbers,
        [
            (2, "2026-12-01T10:00:01Z ERROR b\nTraceback (most recent call last):\n  x".to_owned()),
            (5, "2026-12-01T10:00:02Z INFO c".to_owned())
        ]
    );
    // Text shows each line's own number.
    assert_eq!(
        run(&dir, &["--number", "--multiline", "--grep", "ERROR", "-n", "+1", "app.log"]).0,
        "2:2026-12-01T10:00:01Z ERROR b\n3:Traceback (most recent call last):\n4:  x\n"
    );
}

#[test]
fn following_numbers_go_on_and_start_again_after_a_rotation_or_truncation() {
    let dir = TestDir::new();
    dir.write("app.log", lines(1..=5));
    let s = dir.spawn(&["-F", "--json", "--number", "-n", "0", "app.log"]);
    s.wait_for_stdout("\"event\":\"following\"");
    dir.append("app.log", "line 6\nline 7\n");
    s.wait_for_stdout("line 7");
    std::fs::rename(dir.join("app.log"), dir.join("app.log.1")).expect("rename");
    dir.write("app.log", "new 1\n");
    s.wait_for_stdout("new 1");
    dir.append("app.log", "new 2\n");
    s.wait_for_stdout("new 2");
    std::fs::write(dir.join("app.log"), "after truncation\n").expect("truncate");
    s.wait_for_stdout("after truncation");
    let (out, _) = s.finish();
    let got: Vec<(String, u64)> = out
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("JSON"))
        .filter(|o| o["line"].is_string())
        .map(|o| (o["line"].as_str().unwrap_or("").to_owned(), o["line_number"].as_u64().unwrap_or(0)))
        .collect();
    let want: Vec<(String, u64)> =
        [("line 6", 6), ("line 7", 7), ("new 1", 1), ("new 2", 2), ("after truncation", 1)]
            .iter()
            .map(|&(l, n)| (l.to_owned(), n))
            .collect();
    assert_eq!(got, want, "{out}");
}

#[test]
fn bytes_and_merge_are_refused() {
    let dir = TestDir::new();
    dir.write("a.log", "x\n");
    assert_eq!(
        run(&dir, &["--number", "-c", "3", "a.log"]),
        (String::new(), "rtail: --number numbers lines: it cannot be used with -c/--bytes\n".into(), Some(1))
    );
    assert_eq!(
        run(&dir, &["--number", "--merge", "a.log"]),
        (
            String::new(),
            "rtail: --number cannot be used with --merge yet: a merged file's lines are reordered\n".into(),
            Some(1)
        )
    );
}
