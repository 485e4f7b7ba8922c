//! `--history`: `-n N` counts back through a file's rotated generations (`app.log.1`,
//! `app.log.2.gz`, …) when the file itself has fewer lines; output stays chronological.

use std::fs::{File, FileTimes};
use std::process::Command;
use std::time::{Duration, SystemTime};

use crate::util::{TestDir, resume, sentinel, stop};

/// Write `name` with `text`, modified `age` seconds ago (generations are ordered by that).
fn generation(dir: &TestDir, name: &str, text: impl AsRef<[u8]>, age: u64) {
    let path = dir.write(name, text);
    let when = SystemTime::now() - Duration::from_secs(age);
    File::options()
        .write(true)
        .open(&path)
        .expect("open")
        .set_times(FileTimes::new().set_modified(when))
        .expect("mtime");
}

/// Like [`generation`], gzipped with gzip(1) (`name` without `.gz`).
fn gzipped(dir: &TestDir, name: &str, text: &str, age: u64) {
    dir.write(name, text);
    let status = Command::new("gzip").arg("-n").arg(dir.join(name)).status().expect("gzip");
    assert!(status.success());
    let gz = dir.join(&format!("{name}.gz"));
    let when = SystemTime::now() - Duration::from_secs(age);
    File::options()
        .write(true)
        .open(&gz)
        .expect("open")
        .set_times(FileTimes::new().set_modified(when))
        .expect("mtime");
}

/// app.log (2 lines) with app.log.1 (3) and app.log.2.gz (3) behind it.
fn rotated(dir: &TestDir) {
    gzipped(dir, "app.log.2", "g1\ng2\ng3\n", 300);
    generation(dir, "app.log.1", "r1\nr2\nr3\n", 200);
    generation(dir, "app.log", "l1\nl2\n", 0);
}

fn run(dir: &TestDir, args: &[&str]) -> (String, String, Option<i32>) {
    let out = dir.rtail().args(args).output().expect("run rtail");
    (
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
        out.status.code(),
    )
}

#[test]
fn lines_the_file_lacks_come_from_its_generations_oldest_first() {
    let dir = TestDir::new();
    rotated(&dir);
    assert_eq!(
        run(&dir, &["--history", "-n", "4", "app.log"]),
        ("r2\nr3\nl1\nl2\n".into(), String::new(), Some(0))
    );
    assert_eq!(
        run(&dir, &["--history", "-n", "7", "app.log"]),
        ("g2\ng3\nr1\nr2\nr3\nl1\nl2\n".into(), String::new(), Some(0))
    );
    // Enough in the file itself: no generation is read.
    assert_eq!(run(&dir, &["--history", "-n", "2", "app.log"]), ("l1\nl2\n".into(), String::new(), Some(0)));
    // Without --history, as GNU tail.
    assert_eq!(run(&dir, &["-n", "4", "app.log"]), ("l1\nl2\n".into(), String::new(), Some(0)));
}

#[test]
fn from_the_start_means_from_the_oldest_generation() {
    let dir = TestDir::new();
    rotated(&dir);
    let all = "g1\ng2\ng3\nr1\nr2\nr3\nl1\nl2\n";
    assert_eq!(run(&dir, &["--history", "-n", "+1", "app.log"]), (all.into(), String::new(), Some(0)));
    assert_eq!(run(&dir, &["--history", "-n", "+5", "app.log"]), (all[12..].into(), String::new(), Some(0)));
    assert_eq!(run(&dir, &["--history", "-n", "+8", "app.log"]), ("l2\n".into(), String::new(), Some(0)));
}

#[test]
fn each_generation_has_its_own_header_and_json_path() {
    let dir = TestDir::new();
    rotated(&dir);
    let (out, _, status) = run(&dir, &["--history", "-v", "-n", "6", "app.log"]);
    assert_eq!(out, "==> app.log.2.gz <==\ng3\n\n==> app.log.1 <==\nr1\nr2\nr3\n\n==> app.log <==\nl1\nl2\n");
    assert_eq!(status, Some(0));
    let (out, _, _) = run(&dir, &["--history", "--json", "-n", "3", "app.log"]);
    let objects: Vec<serde_json::Value> =
        out.lines().map(|l| serde_json::from_str(l).expect("JSON")).collect();
    assert_eq!(objects[0]["path"], "app.log.1");
    assert_eq!(objects[0]["line"], "r3");
    assert_eq!(objects[0]["offset"], 6);
    assert_eq!(objects[1]["path"], "app.log");
    assert_eq!(objects[1]["offset"], 0);
}

#[test]
fn a_damaged_generation_is_reported_and_the_rest_printed() {
    let dir = TestDir::new();
    generation(&dir, "app.log.2.gz", b"\x1f\x8b\x08\x00 this is not gzip data at all", 300);
    generation(&dir, "app.log.1", "r1\n", 200);
    generation(&dir, "app.log", "l1\n", 0);
    let (out, err, status) = run(&dir, &["--history", "-n", "+1", "app.log"]);
    assert_eq!(out, "r1\nl1\n");
    assert!(err.starts_with("rtail: cannot read 'app.log.2.gz': invalid gzip data"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(status, Some(1));
}

#[test]
fn history_counts_lines_not_bytes() {
    let dir = TestDir::new();
    rotated(&dir);
    let (out, err, status) = run(&dir, &["--history", "-c", "5", "app.log"]);
    assert!(out.is_empty());
    assert!(err.contains("--history") && err.contains("-c"), "{err}");
    assert_eq!(status, Some(1));
}

#[test]
fn following_goes_on_after_the_history() {
    let dir = TestDir::new();
    rotated(&dir);
    let s = dir.spawn(&["--history", "-F", "-n", "4", "app.log"]);
    s.wait_for_stdout("r2\nr3\nl1\nl2\n");
    sentinel(&s, &dir, "app.log", "l3");
    assert_eq!(s.stdout.text(), "r2\nr3\nl1\nl2\nl3\n");
}

/// A whole generation created, filled and rotated away while rtail could not look (held back
/// with SIGSTOP, as a saturated machine holds it back): with `--history`, following reads it
/// from its rotated name, plain or gzipped, in order, before the newer file.
fn a_generation_rotated_away_unseen_is_read_from_its_rotated_name(mode: &[&str], gzip: bool) {
    let dir = TestDir::new();
    dir.write("app.log", "f1\n");
    let args: Vec<&str> = mode.iter().copied().chain(["--history", "-F", "-n", "+1", "app.log"]).collect();
    let s = dir.spawn(&args);
    s.wait_for_stdout("f1\n");
    sentinel(&s, &dir, "app.log", "f2");
    stop(&s);
    dir.append("app.log", "f3\n");
    std::fs::rename(dir.join("app.log"), dir.join("app.log.1")).expect("rotate");
    dir.write("app.log", "g1\ng2\n");
    std::fs::rename(dir.join("app.log.1"), dir.join("app.log.2")).expect("rotate");
    std::fs::rename(dir.join("app.log"), dir.join("app.log.1")).expect("rotate");
    if gzip {
        let status = Command::new("gzip").arg("-n").arg(dir.join("app.log.1")).status().expect("gzip");
        assert!(status.success());
    }
    dir.write("app.log", "h1\n");
    resume(&s);
    s.wait_for_stdout("h1\n");
    sentinel(&s, &dir, "app.log", "h2");
    let (out, err) = s.finish();
    assert_eq!(out, "f1\nf2\nf3\ng1\ng2\nh1\nh2\n", "stderr:\n{err}");
    let name = if gzip { "app.log.1.gz" } else { "app.log.1" };
    assert!(
        err.contains(&format!(
            "rtail: '{name}' was rotated from 'app.log' before it could be followed; printing it\n"
        )),
        "{err}"
    );
}

#[test]
fn a_generation_rotated_away_unseen_is_read_back_notify() {
    a_generation_rotated_away_unseen_is_read_from_its_rotated_name(&[], false);
}

#[test]
fn a_generation_rotated_away_unseen_is_read_back_poll() {
    a_generation_rotated_away_unseen_is_read_from_its_rotated_name(&["--poll", "-s", "0.1"], false);
}

#[test]
fn a_gzipped_generation_rotated_away_unseen_is_read_back_notify() {
    a_generation_rotated_away_unseen_is_read_from_its_rotated_name(&[], true);
}

#[test]
fn a_gzipped_generation_rotated_away_unseen_is_read_back_poll() {
    a_generation_rotated_away_unseen_is_read_from_its_rotated_name(&["--poll", "-s", "0.1"], true);
}

/// Generations that were there when following started are history, not news: a rotation
/// later does not print them again.
#[test]
fn generations_there_at_the_start_are_not_printed_again_at_a_rotation() {
    let dir = TestDir::new();
    rotated(&dir);
    let s = dir.spawn(&["--history", "-F", "-n", "2", "app.log"]);
    s.wait_for_stdout("l1\nl2\n");
    std::fs::rename(dir.join("app.log"), dir.join("app.log.0")).expect("rotate");
    dir.write("app.log", "n1\n");
    s.wait_for_stdout("n1\n");
    sentinel(&s, &dir, "app.log", "n2");
    let (out, err) = s.finish();
    assert_eq!(out, "l1\nl2\nn1\nn2\n", "stderr:\n{err}");
}

/// `--since` reaches back into the generations: from the newest one that starts before WHEN
/// (a compressed one is read through to its first record at or after it).
#[test]
fn since_starts_in_the_generation_that_holds_when() {
    let dir = TestDir::new();
    let stamped = |from: u32, to: u32| -> String {
        (from..to).map(|m| format!("2026-12-01T10:{m:02}:00Z line {m}\n")).collect()
    };
    gzipped(&dir, "app.log.2", &stamped(0, 10), 300);
    generation(&dir, "app.log.1", stamped(10, 20), 200);
    generation(&dir, "app.log", stamped(20, 25), 0);
    let since = |when: &str, extra: &[&str]| {
        let mut args = vec!["--history", "--since", when];
        args.extend_from_slice(extra);
        args.push("app.log");
        run(&dir, &args)
    };
    assert_eq!(since("2026-12-01T10:05:00Z", &[]), (stamped(5, 25), String::new(), Some(0)));
    assert_eq!(since("2026-12-01T10:15:00Z", &[]), (stamped(15, 25), String::new(), Some(0)));
    assert_eq!(since("2026-12-01T10:22:00Z", &[]), (stamped(22, 25), String::new(), Some(0)));
    assert_eq!(since("2026-12-01T09:00:00Z", &[]), (stamped(0, 25), String::new(), Some(0)));
    // -n N: the last N of those, counted back through the generations.
    assert_eq!(since("2026-12-01T10:05:00Z", &["-n", "7"]), (stamped(18, 25), String::new(), Some(0)));
    assert_eq!(since("2026-12-01T10:19:00Z", &["-n", "9"]), (stamped(19, 25), String::new(), Some(0)));
    assert_eq!(since("2026-12-01T10:08:00Z", &["-n", "19"]), (stamped(8, 25), String::new(), Some(0)));
}

/// `--merge --history`: each file's rotated generations (plain and gzip) are merged with the
/// live files by time, each line under its own file's name; `--since` starts in them.
#[test]
fn merge_takes_the_rotated_generations_in() {
    let dir = TestDir::new();
    let stamped = |tag: &str, minutes: std::ops::Range<u32>| -> String {
        minutes
            .map(|m| format!("2026-12-01T10:{m:02}:{} {tag} {m}\n", if tag == "a" { "00Z" } else { "30Z" }))
            .collect()
    };
    gzipped(&dir, "a.log.2", &stamped("a", 0..3), 300);
    generation(&dir, "a.log.1", stamped("a", 3..6), 200);
    generation(&dir, "a.log", stamped("a", 6..8), 0);
    dir.write("b.log", stamped("b", 1..7));
    let (out, err, code) = run(&dir, &["--merge", "--history", "-n", "+1", "a.log", "b.log"]);
    assert_eq!((err.as_str(), code), ("", Some(0)));
    let mut want = Vec::new();
    for m in 0..8 {
        let file = match m {
            0..3 => "a.log.2.gz",
            3..6 => "a.log.1",
            _ => "a.log",
        };
        want.push(format!("{file}: 2026-12-01T10:{m:02}:00Z a {m}"));
        if (1..7).contains(&m) {
            want.push(format!("b.log: 2026-12-01T10:{m:02}:30Z b {m}"));
        }
    }
    assert_eq!(out.lines().collect::<Vec<_>>(), want);
    let (out, _, _) =
        run(&dir, &["--merge", "--history", "--since", "2026-12-01T10:04:10Z", "a.log", "b.log"]);
    let from = want.iter().position(|l| l.contains("b 4")).expect("b 4");
    assert_eq!(out.lines().collect::<Vec<_>>(), want[from..]);
    let (out, _, _) =
        run(&dir, &["--merge", "--history", "--since", "2026-12-01T10:01:10Z", "a.log", "b.log"]);
    let from = want.iter().position(|l| l.contains("b 1")).expect("b 1");
    assert_eq!(out.lines().collect::<Vec<_>>(), want[from..], "from inside the gzip generation");
}

/// The live name missing at the start (rotated away and not yet created again, for an instant
/// under a busy handler): its generations are history all the same, printed after the error;
/// following, the name is taken when it appears, and nothing is printed twice.
#[test]
fn a_missing_live_file_still_has_its_history() {
    let dir = TestDir::new();
    gzipped(&dir, "app.log.2", "g1\ng2\ng3\n", 300);
    generation(&dir, "app.log.1", "r1\nr2\nr3\n", 200);
    let missing = "rtail: cannot open 'app.log' for reading: No such file or directory\n";
    assert_eq!(
        run(&dir, &["--history", "-n", "4", "app.log"]),
        ("g3\nr1\nr2\nr3\n".into(), missing.into(), Some(1))
    );
    assert_eq!(
        run(&dir, &["--history", "-n", "+2", "app.log"]),
        ("g2\ng3\nr1\nr2\nr3\n".into(), missing.into(), Some(1))
    );
    assert_eq!(
        run(&dir, &["--merge", "--history", "-n", "+1", "app.log"]),
        ("g1\ng2\ng3\nr1\nr2\nr3\n".into(), missing.into(), Some(1))
    );
    let s = dir.spawn(&["--history", "-F", "-n", "+1", "app.log"]);
    s.wait_for_stdout("g1\ng2\ng3\nr1\nr2\nr3\n");
    dir.write("app.log", "l1\n");
    s.wait_for_stdout("l1\n");
    std::fs::rename(dir.join("app.log"), dir.join("app.log.0")).expect("rotate");
    dir.write("app.log", "n1\n");
    s.wait_for_stdout("n1\n");
    sentinel(&s, &dir, "app.log", "n2");
    let (out, err) = s.finish();
    assert_eq!(out, "g1\ng2\ng3\nr1\nr2\nr3\nl1\nn1\nn2\n", "stderr:\n{err}");
    assert!(err.starts_with(missing), "{err}");
}
