//! File-name patterns: `rtail -F 'logs/*.log'` follows every file that matches now and every
//! file that matches later, each once, by identity.
//!
//! Scenarios that act on files run with change notifications and with `--poll`. Every wait is
//! for expected output, with a deadline; "nothing else appears" is checked with a sentinel line
//! written afterwards.

use std::fs;
use std::process::Command;

use crate::util::{self, Spawned, TestDir, sentinel, wait_for_condition};

const NOTIFY: &[&str] = &[];
const POLL: &[&str] = &["--poll", "-s", "0.1"];

macro_rules! in_both_modes {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[test]
            fn notify() {
                super::$scenario(super::NOTIFY)
            }
            #[test]
            fn poll() {
                super::$scenario(super::POLL)
            }
        }
    )*};
}

fn follow(dir: &TestDir, mode: &[&str], args: &[&str]) -> Spawned {
    let all: Vec<&str> = mode.iter().chain(args).copied().collect();
    dir.spawn(&all)
}

/// Wait until stdout is exactly `want`; fail at once if it stops being a prefix of `want`.
fn wait_stdout_is(s: &Spawned, want: &str) {
    s.wait_until(&format!("stdout to be {want:?}"), |out, _| out == want || !want.starts_with(out));
    assert_eq!(s.stdout.text(), want, "unexpected stdout; stderr:\n{}", s.stderr.text());
}

fn logs(dir: &TestDir) {
    fs::create_dir(dir.join("logs")).expect("mkdir logs");
}

in_both_modes!(
    a_name_found_late_reads_its_rotated_first_file_first,
    a_new_matching_file_is_followed_from_its_first_byte,
    a_new_subdirectory_is_looked_into_with_double_star,
    a_rename_between_matching_names_keeps_the_reader,
    a_rotation_whose_rotated_name_matches_prints_each_line_once,
    compressed_matches_are_not_followed,
    a_rename_is_an_event_for_programs_not_a_notice,
    more_matches_than_the_descriptor_limit_allows,
    more_names_than_the_descriptor_limit_allows,
);

fn a_rename_is_an_event_for_programs_not_a_notice(mode: &[&str]) {
    let dir = TestDir::new();
    logs(&dir);
    dir.write("logs/a.log", "one\n");
    let s = follow(&dir, mode, &["-F", "--json", "logs/*.log"]);
    s.wait_for_stdout("\"event\":\"following\"");
    fs::rename(dir.join("logs/a.log"), dir.join("logs/b.log")).expect("rename");
    s.wait_for_stdout("\"event\":\"renamed\"");
    dir.append("logs/b.log", "two\n");
    s.wait_for_stdout("\"line\":\"two\"");
    let (out, err) = s.finish();
    assert!(
        out.contains(
            "{\"path\":\"logs/b.log\",\"event\":\"renamed\",\"message\":\"'logs/a.log' has been renamed 'logs/b.log'\"}\n"
        ),
        "{out}"
    );
    assert!(out.contains("{\"path\":\"logs/b.log\",\"offset\":4,\"line\":\"two\"}"), "{out}");
    assert_eq!(err, "", "not on standard error");
}

/// A name found late whose first file was rotated already: created, filled and renamed while
/// rtail could not look (held back with SIGSTOP, as a saturated machine holds it back). The
/// pattern matches the rotated name too; that file is read back first, in its place, before
/// the newer file at the name, and once. It came after the newer file's lines before (found
/// under its rotated name), a stress test's "out of order" under load.
fn a_name_found_late_reads_its_rotated_first_file_first(mode: &[&str]) {
    let dir = TestDir::new();
    logs(&dir);
    dir.write("logs/ready.log", "ready\n");
    let s = follow(&dir, mode, &["-q", "-F", "-n", "+1", "logs/*.log*"]);
    wait_stdout_is(&s, "ready\n");
    crate::util::stop(&s);
    dir.write("logs/w.log", "g1 a\ng1 b\n");
    fs::rename(dir.join("logs/w.log"), dir.join("logs/w.log.1")).expect("rotate");
    dir.write("logs/w.log", "g2 a\n");
    crate::util::resume(&s);
    wait_stdout_is(&s, "ready\ng1 a\ng1 b\ng2 a\n");
    dir.append("logs/w.log", "g2 b\n");
    wait_stdout_is(&s, "ready\ng1 a\ng1 b\ng2 a\ng2 b\n");
    let (_, err) = s.finish();
    assert!(
        err.contains(
            "rtail: 'logs/w.log.1' was rotated from 'logs/w.log' before it could be followed; printing it\n"
        ),
        "{err}"
    );
}

fn a_new_matching_file_is_followed_from_its_first_byte(mode: &[&str]) {
    let dir = TestDir::new();
    logs(&dir);
    dir.write("logs/a.log", "a1\na2\na3\n");
    dir.write("logs/other.txt", "not matched\n");
    let s = follow(&dir, mode, &["-F", "-n", "1", "logs/*.log"]);
    // One match: headers all the same, as more may come.
    wait_stdout_is(&s, "==> logs/a.log <==\na3\n");
    // Written before it is found: all of it is new.
    dir.write("logs/b.log", "b1\nb2\n");
    wait_stdout_is(&s, "==> logs/a.log <==\na3\n\n==> logs/b.log <==\nb1\nb2\n");
    dir.append("logs/a.log", "a4\n");
    dir.append("logs/other.txt", "still not\n");
    wait_stdout_is(&s, "==> logs/a.log <==\na3\n\n==> logs/b.log <==\nb1\nb2\n\n==> logs/a.log <==\na4\n");
    let (_, err) = s.finish();
    assert_eq!(err, "rtail: 'logs/b.log' has appeared;  following new file\n");
}

fn a_new_subdirectory_is_looked_into_with_double_star(mode: &[&str]) {
    let dir = TestDir::new();
    logs(&dir);
    dir.write("logs/top.log", "top\n");
    let s = follow(&dir, mode, &["-F", "logs/**/*.log"]);
    wait_stdout_is(&s, "==> logs/top.log <==\ntop\n");
    fs::create_dir_all(dir.join("logs/x/y")).expect("mkdir -p");
    dir.write("logs/x/y/deep.log", "deep1\n");
    wait_stdout_is(&s, "==> logs/top.log <==\ntop\n\n==> logs/x/y/deep.log <==\ndeep1\n");
    dir.append("logs/x/y/deep.log", "deep2\n");
    sentinel(&s, &dir, "logs/x/y/deep.log", "end");
    assert_eq!(
        s.stdout.text(),
        "==> logs/top.log <==\ntop\n\n==> logs/x/y/deep.log <==\ndeep1\ndeep2\nend\n"
    );
}

fn a_rename_between_matching_names_keeps_the_reader(mode: &[&str]) {
    let dir = TestDir::new();
    logs(&dir);
    dir.write("logs/a.log", "one\n");
    dir.write("logs/z.log", "zzz\n");
    let s = follow(&dir, mode, &["-F", "logs/*.log"]);
    wait_stdout_is(&s, "==> logs/a.log <==\none\n\n==> logs/z.log <==\nzzz\n");
    let mut writer = fs::OpenOptions::new().append(true).open(dir.join("logs/a.log")).expect("open");
    fs::rename(dir.join("logs/a.log"), dir.join("logs/b.log")).expect("rename");
    std::io::Write::write_all(&mut writer, b"two\n").expect("write");
    // The same file under its new name: read on from where it was, named anew.
    s.wait_for_stdout("two\n");
    dir.append("logs/b.log", "three\n");
    sentinel(&s, &dir, "logs/b.log", "end");
    let out = s.stdout.text();
    for line in ["one\n", "two\n"] {
        assert_eq!(out.matches(line).count(), 1, "{line:?} not exactly once:\n{out}");
    }
    // "two" may have been read before the rename was seen (under the old name) or after.
    assert!(
        out.ends_with("\n==> logs/b.log <==\nthree\nend\n")
            || out.ends_with("\n==> logs/b.log <==\ntwo\nthree\nend\n"),
        "the renamed file's lines under its new name:\n{out}\n--- stderr ---\n{}",
        s.stderr.text()
    );
}

fn a_rotation_whose_rotated_name_matches_prints_each_line_once(mode: &[&str]) {
    let dir = TestDir::new();
    logs(&dir);
    dir.write("logs/app.log", "l1\n");
    let s = follow(&dir, mode, &["-F", "-n", "+1", "logs/app.log*"]);
    wait_stdout_is(&s, "==> logs/app.log <==\nl1\n");
    let mut old = fs::OpenOptions::new().append(true).open(dir.join("logs/app.log")).expect("open");
    std::io::Write::write_all(&mut old, b"l2\n").expect("write");
    fs::rename(dir.join("logs/app.log"), dir.join("logs/app.log.1")).expect("rename");
    // A late write to the rotated file, then the new file.
    std::io::Write::write_all(&mut old, b"l3\n").expect("write");
    dir.write("logs/app.log", "l4\n");
    s.wait_for_stdout("l4\n");
    s.wait_for_stdout("l3\n");
    sentinel(&s, &dir, "logs/app.log", "end");
    let out = s.stdout.text();
    for line in ["l1\n", "l2\n", "l3\n", "l4\n"] {
        assert_eq!(out.matches(line).count(), 1, "{line:?} not exactly once:\n{out}");
    }
    assert!(out.find("l2\n") < out.find("l3\n"), "the old file's lines in order:\n{out}");
}

fn compressed_matches_are_not_followed(mode: &[&str]) {
    let dir = TestDir::new();
    logs(&dir);
    dir.write("logs/app.log", "live\n");
    dir.write("logs/app.log.1.gz", b"\x1f\x8b\x08\x00garbage\n");
    let s = follow(&dir, mode, &["-F", "logs/app.log*"]);
    wait_stdout_is(&s, "==> logs/app.log <==\nlive\n");
    dir.write("logs/app.log.2.gz", b"\x1f\x8b\x08\x00more garbage\n");
    sentinel(&s, &dir, "logs/app.log", "end");
    assert_eq!(s.stdout.text(), "==> logs/app.log <==\nlive\nend\n");
}

#[test]
fn static_patterns_print_every_match_in_name_order() {
    let dir = TestDir::new();
    logs(&dir);
    dir.write("logs/b.log", "b1\nb2\n");
    dir.write("logs/a.log", "a1\na2\n");
    dir.write("logs/c.txt", "c\n");
    let out = dir.rtail().args(["-n", "1", "logs/*.log"]).output().expect("run");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "==> logs/a.log <==\na2\n\n==> logs/b.log <==\nb2\n");
    assert_eq!(out.status.code(), Some(0));
    // Braces and classes.
    let out = dir.rtail().args(["-n", "1", "-q", "logs/{b,c}.*"]).output().expect("run");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "b2\nc\n");
    let out = dir.rtail().args(["-n", "1", "-q", "logs/[ab].log"]).output().expect("run");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "a2\nb2\n");
}

#[test]
fn a_pattern_that_matches_nothing_is_an_error_unless_following() {
    let dir = TestDir::new();
    dir.write("x.log", "x\n");
    let out = dir.rtail().args(["nothing/*.log", "x.log"]).output().expect("run");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "rtail: no files match 'nothing/*.log'\n");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "==> x.log <==\nx\n");
    assert_eq!(out.status.code(), Some(1));
    // Following, it is looked for: the first match is printed from its start.
    let s = dir.spawn(&["-F", "logs/*.log"]);
    s.wait_for_stderr("rtail: no files match 'logs/*.log' yet\n");
    fs::create_dir(dir.join("logs")).expect("mkdir");
    dir.write("logs/first.log", "hello\n");
    s.wait_for_stdout("==> logs/first.log <==\nhello\n");
}

#[test]
fn an_invalid_pattern_is_a_clear_error() {
    let dir = TestDir::new();
    let out = dir.rtail().args(["logs/[a.log"]).output().expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("rtail: invalid pattern 'logs/[a.log'"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
}

#[test]
fn a_file_whose_name_has_metacharacters_is_a_file() {
    let dir = TestDir::new();
    dir.write("[weird]*.log", "literal\n");
    dir.write("w.log", "not this\n");
    let out = dir.rtail().args(["[weird]*.log"]).output().expect("run");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "literal\n");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn json_names_each_new_source_and_tells_it_appeared() {
    let dir = TestDir::new();
    logs(&dir);
    let s = dir.spawn(&["--json", "-F", "logs/*.log"]);
    s.wait_for_stdout("\"event\":\"following\"");
    dir.write("logs/new.log", "first\n");
    s.wait_for_stdout("\"line\":\"first\"");
    let out = s.stdout.text();
    let objects: Vec<serde_json::Value> =
        out.lines().map(|l| serde_json::from_str(l).expect("JSON line")).collect();
    let appeared = objects.iter().position(|o| o["event"] == "appeared").expect("an appeared event");
    let record = objects.iter().position(|o| o["line"] == "first").expect("the record");
    assert!(appeared < record, "{out}");
    assert_eq!(objects[appeared]["path"], "logs/new.log");
    assert_eq!(objects[record]["path"], "logs/new.log");
    assert_eq!(objects[record]["offset"], 0);
}

/// Files that come and go are released after their drain: the descriptor count goes back to
/// where it was.
#[test]
fn created_and_deleted_matches_leave_no_descriptor_behind() {
    let dir = TestDir::new();
    logs(&dir);
    dir.write("logs/keep.log", "k\n");
    let s = dir.spawn(&["-F", "logs/*.log"]);
    s.wait_for_stdout("k\n");
    let fds = || fs::read_dir(format!("/proc/{}/fd", s.pid())).map(|d| d.count()).unwrap_or(0);
    let before = fds();
    for round in 0..1000 {
        let name = format!("logs/t{round}.log");
        dir.write(&name, format!("round {round}\n"));
        s.wait_for_stdout(&format!("round {round}\n"));
        fs::remove_file(dir.join(&name)).expect("remove");
    }
    // Deleted files are drained for a grace period after their last growth, then closed.
    wait_for_condition("the descriptors of deleted files to be closed", || fds() <= before);
    sentinel(&s, &dir, "logs/keep.log", "still here");
}

/// A mark (SIGUSR1) says everything written before it was printed: that includes a file a
/// pattern matches that was created just before it, before a notification about it (or, here,
/// polling every 30 s, the next look) would have found it.
#[test]
fn a_mark_waits_for_files_created_just_before_it() {
    let dir = TestDir::new();
    logs(&dir);
    let s = dir.spawn(&["--json", "--poll", "-s", "30", "-F", "-n", "0", "logs/*.log"]);
    s.wait_for_stdout("\"following\"");
    for k in 0..3 {
        dir.write(&format!("logs/new{k}.log"), format!("line of new{k}\n"));
        s.signal(libc::SIGUSR1);
        s.wait_for_stdout(&format!("\"mark\":{k}}}"));
        let out = s.stdout.text();
        let line = out.find(&format!("line of new{k}")).unwrap_or(usize::MAX);
        let mark = out.find(&format!("\"mark\":{k}}}")).unwrap_or(0);
        assert!(line < mark, "new{k}.log's line is not before mark {k}:\n{out}");
    }
}

/// The limit [`descriptors_beyond_the_limit`] runs rtail with, and how many files it follows.
const FD_LIMIT: u64 = 64;
const MANY: usize = 200;

fn more_matches_than_the_descriptor_limit_allows(mode: &[&str]) {
    descriptors_beyond_the_limit(mode, &["logs/*.log"]);
}

fn more_names_than_the_descriptor_limit_allows(mode: &[&str]) {
    let names: Vec<String> = (0..MANY).map(|k| format!("logs/f{k:03}.log")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    descriptors_beyond_the_limit(mode, &names);
}

/// Following 200 files by name with at most 64 open files: the quiet ones are closed and opened
/// again when they change. Every line comes once, a truncation and a rotation of a file closed
/// for a while are followed, nothing fails to open, and descriptors are left for the rest.
fn descriptors_beyond_the_limit(mode: &[&str], names: &[&str]) {
    let dir = TestDir::new();
    fs::create_dir(dir.join("logs")).expect("mkdir logs");
    let file = |k: usize| format!("logs/f{k:03}.log");
    for k in 0..MANY {
        dir.write(&file(k), format!("a{k}\n"));
    }
    let mut cmd = dir.rtail();
    cmd.args(mode).args(["-F", "-q", "-n", "1"]).args(names);
    util::limit_descriptors(&mut cmd, FD_LIMIT);
    let s = Spawned::start(&mut cmd);
    let first: String = (0..MANY).map(|k| format!("a{k}\n")).collect();
    wait_stdout_is(&s, &first);
    // Every file grows, in an order unlike their names' (the first ones grow first: by the
    // end they are the least recently active, closed).
    let order: Vec<usize> = (0..MANY).map(|k| (k * 37) % MANY).collect();
    for &k in &order {
        dir.append(&file(k), format!("b{k}\n"));
    }
    let lines = |s: &Spawned| s.stdout.text().lines().map(String::from).collect::<Vec<_>>();
    s.wait_until("every file's second line", |out, _| out.lines().count() >= 2 * MANY);
    let fds = fs::read_dir(format!("/proc/{}/fd", s.pid())).map(|d| d.count()).unwrap_or(0);
    assert!(fds as u64 <= FD_LIMIT - 16, "{fds} descriptors open: too few left for anything else");
    // The first file to grow, closed since: truncated and written again.
    fs::write(dir.join(&file(0)), "c0\n").expect("truncate");
    s.wait_for_stdout("c0\n");
    // The second, closed too: rotated by rename, a new file under its name.
    fs::rename(dir.join(&file(37)), dir.join("logs/f037.log.1")).expect("rotate");
    dir.write(&file(37), "d37\n");
    s.wait_for_stdout("d37\n");
    sentinel(&s, &dir, &file(1), "end");
    let mut got = lines(&s);
    let (out, err) = s.finish();
    got.sort();
    let mut want: Vec<String> = (0..MANY).flat_map(|k| [format!("a{k}"), format!("b{k}")]).collect();
    want.extend(["c0", "d37", "end"].map(String::from));
    want.sort();
    assert_eq!(got, want, "every line once; stdout:\n{out}\nstderr:\n{err}");
    assert!(!err.contains("Too many open files"), "{err}");
    assert!(err.contains("logs/f000.log: file truncated"), "{err}");
}

/// The kernel's limit on inotify watches reached: rtail runs in a user namespace of its own
/// whose limit (`/proc/sys/user/max_inotify_watches`) is 3 watches, so nothing else on the
/// machine is touched. One line says so, and the directories past the limit are polled: lines
/// appended there, and files created there or in a new directory, are still printed, each once.
#[test]
fn past_the_inotify_watch_limit_directories_are_polled() {
    let dir = TestDir::new();
    let dirs = 8;
    for d in 0..dirs {
        fs::create_dir(dir.join(&format!("d{d}"))).expect("mkdir");
        dir.write(&format!("d{d}/a.log"), format!("start {d}\n"));
    }
    let mut cmd = Command::new("unshare");
    util::scrub(&mut cmd);
    cmd.current_dir(dir.path())
        .args(["--user", "--map-root-user", "sh", "-c"])
        .arg("echo 3 > /proc/sys/user/max_inotify_watches && exec \"$0\" \"$@\"")
        .arg(util::rtail_bin())
        .args(["-F", "-q", "-s", "0.1", "-n", "+1", "d*/*.log"]);
    let s = Spawned::start(&mut cmd);
    let starts: String = (0..dirs).map(|d| format!("start {d}\n")).collect();
    wait_stdout_is(&s, &starts);
    let mut want = starts;
    for d in 0..dirs {
        dir.append(&format!("d{d}/a.log"), format!("more {d}\n"));
        want.push_str(&format!("more {d}\n"));
        wait_stdout_is(&s, &want);
    }
    dir.write(&format!("d{}/b.log", dirs - 1), "new\n");
    want.push_str("new\n");
    wait_stdout_is(&s, &want);
    // A directory created now cannot be watched either.
    fs::create_dir(dir.join(&format!("d{dirs}"))).expect("mkdir");
    dir.write(&format!("d{dirs}/a.log"), "newer\n");
    want.push_str("newer\n");
    wait_stdout_is(&s, &want);
    let (_, err) = s.finish();
    // Which name meets the limit first is the engine's business; that it is said once is not.
    let lines: Vec<&str> = err.lines().collect();
    let limit = "': inotify resources exhausted (see sysctl fs.inotify.max_user_watches; later paths \
                 past the limit are polled too, without a word); polling it instead";
    assert_eq!(lines.len(), 3, "{err}");
    assert!(lines[0].starts_with("rtail: cannot watch 'd") && lines[0].ends_with(limit), "{err}");
    assert_eq!(lines[1], format!("rtail: 'd{}/b.log' has appeared;  following new file", dirs - 1));
    assert_eq!(lines[2], format!("rtail: 'd{dirs}/a.log' has appeared;  following new file"));
}
