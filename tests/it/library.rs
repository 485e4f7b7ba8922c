//! The library API, through its public surface only.

use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rtail::{FollowError, Follower};

use crate::util::TestDir;

const WAIT: Duration = Duration::from_secs(15);

/// Tests that count this process's threads must not overlap with other followers.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn append(path: &std::path::Path, text: &str) {
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).expect("open");
    f.write_all(text.as_bytes()).expect("append");
}

/// Threads of this process started by followers: ours and, where notify is the backend (not on
/// Linux), notify's.
fn follower_threads() -> usize {
    let mut n = 0;
    for entry in std::fs::read_dir("/proc/self/task").expect("tasks").flatten() {
        let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
        if comm.starts_with("rtail-follower") || comm.starts_with("notify-rs") {
            n += 1;
        }
    }
    n
}

#[test]
fn follower_sees_existing_and_appended_lines() {
    let _g = serial();
    let dir = TestDir::new();
    let log = dir.write("app.log", "one\ntwo\n");
    let mut f = Follower::builder().path(&log).spawn().expect("spawn");
    assert_eq!(f.recv_timeout(WAIT).expect("line").text(), "one");
    assert_eq!(f.recv_timeout(WAIT).expect("line").text(), "two");
    append(&log, "three\n");
    let line = f.recv_timeout(WAIT).expect("line");
    assert_eq!(line.bytes(), b"three");
    assert_eq!(line.path(), log.as_path());
}

#[test]
fn follower_follows_rotation_and_truncation() {
    let _g = serial();
    let dir = TestDir::new();
    let log = dir.write("app.log", "before\n");
    let mut f = Follower::builder().path(&log).spawn().expect("spawn");
    f.wait_for("before", WAIT).expect("initial line");
    // A writer holding the old file keeps writing after the rename: nothing may be lost.
    let mut old = std::fs::OpenOptions::new().append(true).open(&log).expect("open");
    std::fs::rename(&log, dir.join("app.log.1")).expect("rotate");
    writeln!(old, "late-old").expect("write");
    std::fs::write(&log, "new-1\n").expect("new file");
    let mut seen = Vec::new();
    while seen.len() < 2 {
        seen.push(f.recv_timeout(WAIT).expect("line").text().into_owned());
    }
    seen.sort();
    assert_eq!(seen, ["late-old", "new-1"]);
    // Truncate and rewrite with more bytes than were read.
    std::fs::write(&log, "rewritten from the start\n").expect("rewrite");
    assert_eq!(f.wait_for("rewritten", WAIT).expect("after truncation").text(), "rewritten from the start");
}

#[test]
fn wait_for_times_out_with_a_typed_error() {
    let _g = serial();
    let dir = TestDir::new();
    let log = dir.write("app.log", "nothing here\n");
    let mut f = Follower::builder().path(&log).spawn().expect("spawn");
    let start = Instant::now();
    let err = f.wait_for("never", Duration::from_millis(300)).expect_err("must time out");
    assert!(start.elapsed() >= Duration::from_millis(300));
    match &err {
        FollowError::Timeout { pattern, paths, .. } => {
            assert_eq!(pattern.as_deref(), Some("never"));
            assert_eq!(paths, std::slice::from_ref(&log));
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains("never") && text.contains("app.log"), "{text}");
}

#[test]
fn a_bad_pattern_is_a_typed_error() {
    let _g = serial();
    let dir = TestDir::new();
    let log = dir.write("app.log", "x\n");
    let err = Follower::builder().path(&log).grep("(").spawn().expect_err("bad pattern");
    assert!(matches!(err, FollowError::Pattern(_)), "{err:?}");
    assert_eq!(err.to_string(), "invalid --grep pattern '(': unclosed group");
    let mut f = Follower::builder().path(&log).spawn().expect("spawn");
    let err = f.wait_for("(", Duration::from_secs(1)).expect_err("bad pattern");
    assert!(matches!(err, FollowError::Pattern(_)), "{err:?}");
    assert_eq!(err.to_string(), "invalid wait_for pattern '(': unclosed group");
}

#[test]
fn wait_for_after_a_mark_ignores_older_lines() {
    let _g = serial();
    let dir = TestDir::new();
    let log = dir.write("app.log", "ready (old run)\n");
    let mut f = Follower::builder().path(&log).spawn().expect("spawn");
    append(&log, "ready (also old)\n");
    f.mark().expect("mark");
    append(&log, "noise\nready (new)\n");
    assert_eq!(f.wait_for("^ready", WAIT).expect("new ready").text(), "ready (new)");
}

#[test]
fn filters_and_start_positions() {
    let _g = serial();
    let dir = TestDir::new();
    let log = dir.write("app.log", "INFO a\nERROR b\nINFO c\nerror d\n");
    let mut f = Follower::builder().path(&log).grep("error").ignore_case().spawn().expect("spawn");
    assert_eq!(f.recv_timeout(WAIT).expect("line").text(), "ERROR b");
    assert_eq!(f.recv_timeout(WAIT).expect("line").text(), "error d");
    let mut f = Follower::builder().path(&log).last_lines(1).spawn().expect("spawn");
    assert_eq!(f.recv_timeout(WAIT).expect("line").text(), "error d");
    let mut f = Follower::builder().path(&log).from_end().spawn().expect("spawn");
    append(&log, "fresh\n");
    assert_eq!(f.recv_timeout(WAIT).expect("line").text(), "fresh");
}

#[test]
fn two_followers_of_one_file_both_see_every_line() {
    let _g = serial();
    let dir = TestDir::new();
    let log = dir.write("app.log", "");
    let mut a = Follower::builder().path(&log).spawn().expect("spawn a");
    let mut b = Follower::builder().path(&log).spawn().expect("spawn b");
    for i in 0..200 {
        append(&log, &format!("line {i}\n"));
    }
    for f in [&mut a, &mut b] {
        for i in 0..200 {
            assert_eq!(f.recv_timeout(WAIT).expect("line").text(), format!("line {i}"));
        }
    }
}

#[test]
fn dropping_a_follower_joins_its_threads() {
    let _g = serial();
    let dir = TestDir::new();
    let log = dir.write("app.log", "x\n");
    let before = follower_threads();
    let mut f = Follower::builder().path(&log).spawn().expect("spawn");
    f.wait_for("x", WAIT).expect("line");
    // On Linux the engine reads inotify itself; elsewhere notify has a thread of its own.
    let threads = if cfg!(target_os = "linux") { 1 } else { 2 };
    assert!(follower_threads() >= before + threads, "the follower's threads should be running");
    drop(f);
    // The engine thread is joined. notify's event thread is detached: drop waits until it has
    // dropped our callback, its last act; the thread itself may take a moment more to vanish
    // from /proc on a loaded machine.
    let deadline = Instant::now() + Duration::from_secs(2);
    while follower_threads() > before && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(follower_threads(), before, "threads left behind after drop");
}

#[test]
fn lines_carry_their_offset_and_whether_they_were_finished() {
    let _g = serial();
    let dir = TestDir::new();
    let log = dir.write("app.log", "first\nsecond\n");
    let mut f = Follower::builder().path(&log).spawn().expect("spawn");
    let first = f.recv_timeout(WAIT).expect("line");
    let second = f.recv_timeout(WAIT).expect("line");
    assert_eq!((first.offset(), first.is_partial()), (0, false));
    assert_eq!((second.offset(), second.text().into_owned()), (6, "second".to_string()));
    // An unfinished line is held until it ends: here, by a truncation of its file.
    append(&log, "half");
    f.mark().expect("caught up");
    std::fs::write(&log, "again\n").expect("truncate");
    let half = f.recv_timeout(WAIT).expect("the unfinished line");
    assert_eq!((half.bytes(), half.offset(), half.is_partial()), (&b"half"[..], 13, true));
    let again = f.recv_timeout(WAIT).expect("line after the truncation");
    assert_eq!(
        (again.text().into_owned(), again.offset(), again.is_partial()),
        ("again".to_string(), 0, false)
    );
}

#[test]
fn lines_from_the_end_have_offsets_in_the_whole_file() {
    let _g = serial();
    let dir = TestDir::new();
    let log = dir.write("app.log", "0123456789\n");
    let mut f = Follower::builder().path(&log).from_end().spawn().expect("spawn");
    append(&log, "new\n");
    let line = f.recv_timeout(WAIT).expect("line");
    assert_eq!((line.text().into_owned(), line.offset()), ("new".to_string(), 11));
}
