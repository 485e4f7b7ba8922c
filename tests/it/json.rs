//! `--json`: one JSON object per record and per event, on standard output. Every line printed
//! is parsed (serde_json) and compared field by field; the same scenarios without `--json`
//! must print the text they always did.

use std::fs::{self, OpenOptions};
use std::io::Write;

use serde_json::{Value, json};

use crate::util::{Spawned, TestDir};

/// Every line of `out` as JSON; fails on a line that does not parse.
fn objects(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l:?}\nin:\n{out}")))
        .collect()
}

fn record(path: &str, offset: u64, line: &str) -> Value {
    json!({"path": path, "offset": offset, "line": line})
}

/// `{"event":"following"}`: the initial output is done and every file is watched.
fn following() -> Value {
    json!({"event": "following", "message": "following"})
}

fn event(path: &str, event: &str, message: &str) -> Value {
    json!({"path": path, "event": event, "message": message})
}

#[test]
fn last_lines_of_two_files_and_a_missing_one() {
    let dir = TestDir::new();
    dir.write("a.log", b"zero\none\nthr\xffee\nnul\0byte\npart".as_slice());
    dir.write("b.log", "b1\nb2\n");
    let out = dir.rtail().args(["--json", "-n", "3", "a.log", "b.log", "gone.log"]).output().expect("run");
    assert_eq!(out.status.code(), Some(1), "a missing file is an error, as without --json");
    let stdout = String::from_utf8(out.stdout).expect("JSON output is UTF-8");
    assert_eq!(
        objects(&stdout),
        vec![
            json!({"path": "a.log", "offset": 9, "line": "thr\u{fffd}ee", "line_base64": "dGhy/2Vl"}),
            record("a.log", 16, "nul\u{0}byte"),
            json!({"path": "a.log", "offset": 25, "line": "part", "partial": true}),
            record("b.log", 0, "b1"),
            record("b.log", 3, "b2"),
            event(
                "gone.log",
                "inaccessible",
                "cannot open 'gone.log' for reading: No such file or directory"
            ),
        ]
    );
    // The event still goes to stderr as text, and no header or prefix reaches stdout.
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "rtail: cannot open 'gone.log' for reading: No such file or directory\n"
    );
}

#[test]
fn headers_prefix_and_colour_do_not_apply() {
    let dir = TestDir::new();
    dir.write("a.log", "x\n");
    dir.write("b.log", "y\n");
    let out = dir
        .rtail()
        .args(["--json", "-v", "-P", "--color=always", "-g", "x|y", "a.log", "b.log"])
        .output()
        .expect("run");
    assert!(out.status.success());
    assert_eq!(
        objects(&String::from_utf8_lossy(&out.stdout)),
        vec![record("a.log", 0, "x"), record("b.log", 0, "y")]
    );
}

#[test]
fn filtered_records_keep_their_own_offsets() {
    let dir = TestDir::new();
    let mut log = String::new();
    let mut want = Vec::new();
    for i in 0..20_000 {
        let line = format!("{} line {i}\n", if i % 7 == 0 { "ERROR" } else { "INFO" });
        if i % 7 == 0 {
            want.push(record("big.log", log.len() as u64, line.trim_end()));
        }
        log.push_str(&line);
    }
    dir.write("big.log", &log);
    let out = dir.rtail().args(["--json", "-n", "+1", "-g", "ERROR", "big.log"]).output().expect("run");
    assert!(out.status.success());
    assert_eq!(objects(&String::from_utf8_lossy(&out.stdout)), want);
}

#[test]
fn nul_terminated_records_and_standard_input() {
    let dir = TestDir::new();
    let out = crate::util::run_with_stdin(dir.rtail().args(["--json", "-z", "-n", "2"]), b"a\0b\nc\0d");
    assert!(out.status.success());
    assert_eq!(
        objects(&String::from_utf8_lossy(&out.stdout)),
        vec![record("-", 2, "b\nc"), json!({"path": "-", "offset": 6, "line": "d", "partial": true})]
    );
}

#[test]
fn until_stops_after_its_record() {
    let dir = TestDir::new();
    dir.write("a.log", "a\nready now\nafter\n");
    let out = dir.rtail().args(["--json", "-n", "+1", "--until", "ready", "a.log"]).output().expect("run");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        objects(&String::from_utf8_lossy(&out.stdout)),
        vec![record("a.log", 0, "a"), record("a.log", 2, "ready now")]
    );
}

#[test]
fn bytes_are_not_records() {
    let dir = TestDir::new();
    dir.write("a.log", "x\n");
    let out = dir.rtail().args(["--json", "-c", "5", "a.log"]).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--json"), "{out:?}");
}

/// Following by name through a replacement with a late write to the old file, a truncation,
/// and a last line without its newline; with `--json`, and the same as text.
fn follow_rotation_and_truncation(mode: &[&str], json: bool) {
    let dir = TestDir::new();
    let log = dir.write("app.log", "old-1\n");
    // Following ends when this process dies: the files are then read to their end, and the
    // unfinished last line goes out (as a partial record in JSON).
    let mut watched = std::process::Command::new("sleep").arg("600").spawn().expect("spawn sleep");
    let pid = format!("--pid={}", watched.id());
    let mut args: Vec<&str> = mode.to_vec();
    if json {
        args.push("--json");
    }
    args.extend(["-F", "-n", "+1", &pid, "app.log"]);
    let mut s = dir.spawn(&args);
    let shows = |s: &Spawned, what: &str| {
        let needle = if json { format!("\"{what}\"") } else { format!("{what}\n") };
        s.wait_for_stdout(&needle);
    };
    shows(&s, "old-1");
    // A writer keeps the old file open; the name is replaced by a new file at once (rename over).
    let mut old = OpenOptions::new().append(true).open(&log).expect("open old");
    old.write_all(b"old-2\n").expect("write");
    shows(&s, "old-2");
    dir.write("app.log.new", "new-1\n");
    fs::rename(dir.join("app.log.new"), &log).expect("replace");
    shows(&s, "new-1");
    // A late write to the replaced file: drained, exactly once, with its own offset.
    old.write_all(b"old-late\n").expect("late write");
    shows(&s, "old-late");
    // Truncated and rewritten with fewer bytes: offsets start again at 0.
    fs::write(&log, "t\n").expect("truncate");
    shows(&s, "t");
    OpenOptions::new().append(true).open(&log).expect("open new").write_all(b"unfinished").expect("write");
    watched.kill().expect("kill sleep");
    watched.wait().expect("reap sleep");
    assert_eq!(s.wait_exit(), Some(0));
    let (out, err) = (s.stdout.text(), s.stderr.text());
    assert_eq!(
        err,
        "rtail: 'app.log' has been replaced;  following new file\nrtail: app.log: file truncated\n"
    );
    if !json {
        assert_eq!(out, "old-1\nold-2\nnew-1\nold-late\nt\nunfinished");
        return;
    }
    assert_eq!(
        objects(&out),
        vec![
            record("app.log", 0, "old-1"),
            following(),
            record("app.log", 6, "old-2"),
            event("app.log", "replaced", "'app.log' has been replaced;  following new file"),
            record("app.log", 0, "new-1"),
            record("app.log", 12, "old-late"),
            event("app.log", "truncated", "app.log: file truncated"),
            record("app.log", 0, "t"),
            json!({"path": "app.log", "offset": 2, "line": "unfinished", "partial": true}),
        ]
    );
}

mod follow_json {
    #[test]
    fn notify() {
        super::follow_rotation_and_truncation(&[], true)
    }
    #[test]
    fn poll() {
        super::follow_rotation_and_truncation(&["--poll", "-s", "0.1"], true)
    }
    #[test]
    fn text_is_unchanged() {
        super::follow_rotation_and_truncation(&[], false)
    }
}

#[test]
fn timeout_and_child_command_work_as_with_text() {
    let dir = TestDir::new();
    dir.write("a.log", "first\n");
    // --timeout: the records read, then exit 124 with the usual message on stderr.
    let out = dir.rtail().args(["--json", "-F", "--timeout", "300ms", "a.log"]).output().expect("run");
    assert_eq!(out.status.code(), Some(124));
    assert_eq!(
        objects(&String::from_utf8_lossy(&out.stdout)),
        vec![record("a.log", 0, "first"), following()]
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr), "rtail: timed out after 300ms\n");
    // A child command: what it logs is read to the end after it exits, and its status is ours.
    let out = dir
        .rtail()
        .args(["--json", "-n", "0", "a.log", "--", "sh", "-c", "echo from-child >> a.log; exit 3"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        objects(&String::from_utf8_lossy(&out.stdout)),
        vec![following(), record("a.log", 6, "from-child")]
    );
}

#[test]
fn no_files_remaining_is_a_gone_event_without_a_path() {
    let dir = TestDir::new();
    dir.write("a.log", "only\n");
    let mut s = dir.spawn(&["--json", "--follow=name", "a.log"]);
    s.wait_for_stdout("\"only\"");
    fs::remove_file(dir.join("a.log")).expect("remove");
    assert_eq!(s.wait_exit(), Some(1));
    assert_eq!(
        objects(&s.stdout.text()),
        vec![
            record("a.log", 0, "only"),
            following(),
            event("a.log", "inaccessible", "'a.log' has become inaccessible: No such file or directory"),
            json!({"event": "gone", "message": "no files remaining"}),
        ]
    );
}

#[test]
fn sigusr1_asks_for_a_mark_once_every_file_is_read() {
    let dir = TestDir::new();
    dir.write("a.log", "");
    let s = dir.spawn(&["--json", "-F", "-n", "0", "a.log"]);
    s.wait_for_stdout("\"following\"");
    // Written before the signal: printed before the mark, whatever the notifications did.
    dir.append("a.log", "before the mark\n");
    s.signal(libc::SIGUSR1);
    s.wait_for_stdout("\"mark\"");
    s.signal(libc::SIGUSR1);
    s.wait_for_stdout("\"mark\":1");
    let (out, err) = s.finish();
    assert_eq!(
        objects(&out),
        vec![
            following(),
            record("a.log", 0, "before the mark"),
            json!({"event": "mark", "mark": 0}),
            json!({"event": "mark", "mark": 1}),
        ]
    );
    assert_eq!(err, "", "a mark is not a notice");
}

/// `"ts"`: each record's time, RFC 3339 in UTC, from the stamp at its start in the layout
/// detected for its file; a line without one (a traceback's) takes the previous record's.
#[test]
fn records_carry_their_time_in_each_layout() {
    let dir = TestDir::new();
    let cases: [(&str, &str, &[&str]); 7] = [
        (
            "python.log",
            "2026-12-01 10:00:00,123 ERROR boom\nTraceback (most recent call last):\n  File \"x.py\"\n2026-12-01 10:00:01,5 INFO ok\n",
            &[
                "2026-12-01T09:00:00.123Z",
                "2026-12-01T09:00:00.123Z",
                "2026-12-01T09:00:00.123Z",
                "2026-12-01T09:00:01.500Z",
            ],
        ),
        (
            "rfc3339.log",
            "2026-12-01T10:00:00Z a\n2026-12-01T10:00:00.000001+02:00 b\n",
            &["2026-12-01T10:00:00Z", "2026-12-01T08:00:00.000001Z"],
        ),
        (
            "go.log",
            "2026/12/01 10:00:00 a\n2026/12/01 10:00:02 b\n",
            &["2026-12-01T09:00:00Z", "2026-12-01T09:00:02Z"],
        ),
        (
            "access.log",
            "10.0.0.1 - - [01/Dec/2026:10:00:00 +0000] \"GET /\" 200\n10.0.0.2 - - [01/Dec/2026:10:00:01 +0100] \"GET /x\" 404\n",
            &["2026-12-01T10:00:00Z", "2026-12-01T09:00:01Z"],
        ),
        (
            "epoch.log",
            "1764583200.25 a\n1764583201 b\n",
            &["2025-12-01T10:00:00.250Z", "2025-12-01T10:00:01Z"],
        ),
        (
            "lines.json",
            "{\"ts\":\"2026-12-01T10:00:00Z\",\"msg\":\"a\"}\n{\"time\":1764583200123,\"msg\":\"b\"}\n",
            &["2026-12-01T10:00:00Z", "2025-12-01T10:00:00.123Z"],
        ),
        (
            "syslog.log",
            "Dec  1 10:00:00 host a\nDec  1 10:00:03 host b\n",
            &["-12-01T09:00:00Z", "-12-01T09:00:03Z"],
        ),
    ];
    for (name, text, want) in cases {
        dir.write(name, text);
        // Zone-less stamps are local time: TZ is respected (Paris is UTC+1 in December).
        let out =
            dir.rtail().env("TZ", "Europe/Paris").args(["--json", "-n", "+1", name]).output().expect("run");
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let got = objects(&String::from_utf8_lossy(&out.stdout));
        assert_eq!(got.len(), want.len(), "{name}: {got:?}");
        for (object, ts) in got.iter().zip(want) {
            let have = object["ts"].as_str().unwrap_or_else(|| panic!("{name}: no ts in {object}"));
            // syslog has no year: only the rest is known here.
            assert!(have.ends_with(ts), "{name}: {have} is not {ts}");
        }
    }
}

/// No stamps, no `"ts"`; a filter keeps each record's own time (the time of a continuation
/// line comes from the record before it, even when that one is filtered out).
#[test]
fn time_is_absent_without_stamps_and_survives_a_filter() {
    let dir = TestDir::new();
    dir.write("plain.log", "just\nwords\n");
    let out = dir.rtail().args(["--json", "plain.log"]).output().expect("run");
    assert_eq!(
        objects(&String::from_utf8_lossy(&out.stdout)),
        vec![record("plain.log", 0, "just"), record("plain.log", 5, "words")]
    );
    dir.write(
        "app.log",
        "2026-12-01T10:00:00Z INFO one\n2026-12-01T10:00:05Z ERROR two\n  at Foo.bar\n2026-12-01T10:00:09Z INFO three\n",
    );
    let out =
        dir.rtail().args(["--json", "-n", "+1", "--grep", "at Foo|three", "app.log"]).output().expect("run");
    let got = objects(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0]["line"], "  at Foo.bar");
    assert_eq!(got[0]["ts"], "2026-12-01T10:00:05Z");
    assert_eq!(got[1]["ts"], "2026-12-01T10:00:09Z");
    // Text output is unchanged by any of this.
    let out = dir.rtail().args(["-n", "1", "app.log"]).output().expect("run");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "2026-12-01T10:00:09Z INFO three\n");
}

/// Following: records appended later are stamped in the layout detected from the first ones.
#[test]
fn followed_records_are_stamped_as_they_come() {
    let dir = TestDir::new();
    dir.write("app.log", "2026-12-01T10:00:00Z start\n");
    let s = dir.spawn(&["--json", "-F", "app.log"]);
    s.wait_for_stdout("\"event\":\"following\"");
    dir.append("app.log", "2026-12-01T10:00:01.250Z next\nno stamp here\n");
    s.wait_for_stdout("no stamp here");
    let got = objects(&s.stdout.text());
    let times: Vec<&str> = got.iter().filter_map(|o| o["ts"].as_str()).collect();
    assert_eq!(times, ["2026-12-01T10:00:00Z", "2026-12-01T10:00:01.250Z", "2026-12-01T10:00:01.250Z"]);
}

/// Records that all have a time, and need no escaping, go through the JSON output by a shorter
/// way (their bounds from their stamps): what comes out is what any record gives, field by
/// field. Each case is one file read whole; those with a quote, a tab, bytes that are not UTF-8
/// or a first line without a time cannot take the shorter way, and must not differ either.
#[test]
fn stamped_records_come_out_the_same_whichever_way_they_take() {
    let stamped =
        |i: usize, rest: &[u8]| [format!("2026-12-01T10:00:{i:02}.123Z ").as_bytes(), rest].concat();
    let lines = |rests: &[&[u8]]| rests.iter().enumerate().map(|(i, r)| stamped(i, r)).collect::<Vec<_>>();
    let joined = |lines: &[Vec<u8>], delim: u8| {
        lines.iter().flat_map(|l| [l.as_slice(), &[delim]].concat()).collect::<Vec<u8>>()
    };
    let clean: Vec<Vec<u8>> = lines(&[b"GET /a 200", b"GET /b 404 caf\xc3\xa9", b"", b"POST /c 201"]);
    let mut unstamped_first = vec![b"no time yet".to_vec()];
    unstamped_first.extend(clean.clone());
    let cases: Vec<(&str, Vec<u8>, u8)> = vec![
        ("clean", joined(&clean, b'\n'), b'\n'),
        ("partial", [joined(&clean, b'\n'), stamped(9, b"half")].concat(), b'\n'),
        ("nul", joined(&clean, 0), 0),
        ("nul-and-newline", joined(&lines(&[b"two\nlines", b"one"]), 0), 0),
        ("quote", joined(&lines(&[b"say \"hi\"", b"ok"]), b'\n'), b'\n'),
        ("tab", joined(&lines(&[b"a\tb", b"ok"]), b'\n'), b'\n'),
        ("latin1", joined(&lines(&[b"caf\xe9", b"ok"]), b'\n'), b'\n'),
        ("unstamped-first", joined(&unstamped_first, b'\n'), b'\n'),
    ];
    let dir = TestDir::new();
    for (name, bytes, delim) in cases {
        dir.write(name, bytes.as_slice());
        let mut args = vec!["--json", "-n", "+1", name];
        if delim == 0 {
            args.insert(0, "-z");
        }
        let out = dir.rtail().args(&args).output().expect("run");
        assert_eq!(out.status.code(), Some(0), "{name}: {out:?}");
        let stdout = String::from_utf8(out.stdout).expect("JSON output is UTF-8");
        // What each record's object must be, from the file's bytes.
        let mut want = Vec::new();
        let (mut offset, mut ts) = (0, None::<String>);
        let mut pieces: Vec<&[u8]> = bytes.split(|&b| b == delim).collect();
        let partial = !pieces.last().is_some_and(|p| p.is_empty());
        if !partial {
            pieces.pop();
        }
        for (i, piece) in pieces.iter().enumerate() {
            if piece.len() >= 24 && piece[..4] == *b"2026" {
                ts = Some(String::from_utf8_lossy(&piece[..24]).into_owned());
            }
            let mut object = json!({"path": name, "offset": offset, "line": String::from_utf8_lossy(piece)});
            if let Some(ts) = &ts {
                object["ts"] = json!(ts);
            }
            if std::str::from_utf8(piece).is_err() {
                use base64::Engine as _;
                object["line_base64"] = json!(base64::engine::general_purpose::STANDARD.encode(piece));
            }
            if partial && i == pieces.len() - 1 {
                object["partial"] = json!(true);
            }
            want.push(object);
            offset += piece.len() + 1;
        }
        assert_eq!(objects(&stdout), want, "{name}");
    }
}
