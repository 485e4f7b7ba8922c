//! Stress tests for `--merge` with real concurrent writers: eight Python processes logging
//! through the standard library's `logging.FileHandler` (`tests/stress/merge_writer.py`, in the
//! venv `stress.rs` makes), every line counted.
//!
//! A record is `<asctime> <pid> w<k> seq=<n> …`, logging's default asctime
//! (`2026-12-03 10:00:00,123`; writers and rtail run with `TZ=UTC`). Each writer pauses a random
//! 0–2 ms between records, and its records reach the file a random 0–S ms after they were
//! stamped (a `QueueListener` thread writes them, each once its delay is over), so the lines on
//! disk are out of time order across writers — each test first shows that they are, or it
//! would not test the merge. Every check counts with `stress.rs`'s [`Tally`]: each
//! `(writer, seq)` a writer's ledger lists printed exactly once, each writer's in order; and the
//! stamps of what `--merge` prints must not go back in time.
//!
//! 1. [`eight_processes_through_one_file_handler_come_out_once_in_time_order`]: all eight
//!    append to one `app.log` (skew 0–10 ms, some records with a traceback from
//!    `logger.exception`); `--merge -n +1 app.log` and `--merge --multiline -n +1 app.log`.
//!    It found records out of time order at the file's block boundaries (static `--merge`
//!    sorted each block on its own); [`one_file_records_late_across_block_boundaries_are_placed_right`]
//!    shows that without writers.
//! 2. Eight processes, each its own file, skew 0–50 ms:
//!    [`eight_files_written_out_of_time_order_merge_statically`] after they finished, and
//!    [`eight_files_followed_merge_within_the_window_none_late`] with `-F --merge --json
//!    --merge-window 500ms` started before them: nothing is late, as no record reached its file
//!    anywhere near 500 ms after a later-stamped one reached its own.
//!
//! Every wait is for an expected output or state, with a deadline. The tests take the stress
//! lock (`stress.rs`): one at a time, as they measure on a machine with two cores.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::stress::{self, Expected, Tally, WAIT};
use crate::util::{self, FileLock, Spawned, TestDir};

/// Writer processes in every test.
const WRITERS: usize = 8;
/// Records each writer logs.
const RECORDS: u64 = 3000;
/// In test 1, every this many records one is logged with a traceback.
const TRACEBACK_EVERY: u64 = 100;
/// Following: how long a record waits for earlier ones.
const WINDOW: Duration = Duration::from_millis(500);

// ---------------------------------------------------------------------------------------------
// 1. One file, eight processes

/// Eight processes through one `logging.FileHandler` each, all on `app.log` (O_APPEND: a record
/// is one write, so lines never tear, but they land out of time order). Static `--merge` puts a
/// file's records in order a block at a time; a record reaching the file 0–10 ms late is a few
/// KiB out of place, well within a block, so the output must be in time order throughout.
///
/// Every 100th record carries a traceback (lines without a stamp). Line by line, every line of
/// the file comes out exactly once; with `--multiline`, each traceback right after its record.
#[test]
fn eight_processes_through_one_file_handler_come_out_once_in_time_order() {
    let _one_at_a_time = FileLock::acquire(&stress::target_tmp().join("stress.lock"));
    let started = Instant::now();
    let dir = TestDir::new();
    let mut writers = Writers::start(&dir, |_| "app.log".into(), 10, TRACEBACK_EVERY);
    let notes = writers.wait();
    let ledgers = writers.ledgers(&dir);
    let file = fs::read_to_string(dir.join("app.log")).expect("read app.log");
    let mut context = format!("seed {} (RTAIL_STRESS_SEED)\n{}", writers.seed, notes.join("\n"));
    let inversions = stamp_inversions(file.lines());
    let _ = write!(
        context,
        "\napp.log: {} lines, {inversions} records after a later-stamped one",
        file.lines().count()
    );
    assert!(inversions > 0, "app.log is in time order already: this tests nothing\n{context}");

    for multiline in [false, true] {
        let mut args = vec!["--merge", "-n", "+1", "app.log"];
        if multiline {
            args.insert(1, "--multiline");
        }
        let t = Instant::now();
        let out = dir.rtail().env("TZ", "UTC").args(&args).output().expect("run rtail");
        let took = t.elapsed();
        assert!(out.status.success(), "rtail {args:?}: {out:?}");
        let printed = String::from_utf8(out.stdout).expect("UTF-8 output");
        let mut check = Check::new(format!("rtail {}", args.join(" ")), ledgers.expected());
        let mut last_record: Option<Id> = None;
        let mut in_traceback = false;
        for line in printed.lines() {
            if let Some(id) = id_of(line) {
                check.record(line, &id);
                if multiline && in_traceback {
                    check.fail(format!("a traceback did not end in its ValueError before {line:?}"));
                }
                in_traceback = multiline && line.contains(" failed ");
                last_record = Some(id);
            } else if multiline {
                // Whole records: the traceback lines right after their record, in order.
                let want = last_record.as_ref().map(|(w, n)| format!("ValueError: {w} seq={n}"));
                if !in_traceback {
                    check.fail(format!("{line:?} is not right after a record with a traceback"));
                } else if line.starts_with("ValueError: ") {
                    if Some(line) != want.as_deref() {
                        check.fail(format!("{line:?} printed after the record {want:?} belongs to"));
                    }
                    in_traceback = false;
                }
            }
        }
        if in_traceback {
            check.fail("the output ends inside a traceback".into());
        }
        let mut got: Vec<&str> = printed.lines().collect();
        let mut want: Vec<&str> = file.lines().collect();
        got.sort_unstable();
        want.sort_unstable();
        if got != want {
            check.fail(format!(
                "the lines printed are not the file's lines, each once: {} printed, {} in the file",
                got.len(),
                want.len()
            ));
        }
        check.waited = took;
        check.note(context.clone());
        check.assert_ok();
    }
    eprintln!("[stress-merge] one file, {WRITERS} processes: {:.1?}\n{context}", started.elapsed());
}

/// The same without writers, to the line: a file of 6,000 records, each at most 20 lines from
/// its place in time order (1.2 KiB) — and so some at every block boundary. Failed before
/// static `--merge` kept a block's records back until the next block was read: a block's
/// records were sorted and printed, then the next block's, so a record that reached the
/// file one line late, just past a boundary, came out after records stamped later (150–170
/// records a run in the test above).
#[test]
fn one_file_records_late_across_block_boundaries_are_placed_right() {
    let dir = TestDir::new();
    let mut rng = stress::Rng::new(7);
    let mut lines: Vec<(u64, String)> = (0..6000u64)
        .map(|k| {
            let line = format!(
                "2026-12-03 10:00:{:02},{:03} 1 w{} seq={k} {}",
                k / 1000,
                k % 1000,
                k % 8,
                "x".repeat(20)
            );
            (k + rng.below(21), line)
        })
        .collect();
    lines.sort();
    let file: String = lines.iter().map(|(_, l)| format!("{l}\n")).collect();
    assert!(file.len() > 2 * 128 * 1024, "more than two blocks");
    dir.write("one.log", &file);
    let out =
        dir.rtail().env("TZ", "UTC").args(["--merge", "-n", "+1", "one.log"]).output().expect("run rtail");
    assert!(out.status.success(), "{out:?}");
    let printed = String::from_utf8(out.stdout).expect("UTF-8 output");
    let mut want: Vec<&str> = file.lines().collect();
    want.sort_by_key(|l| stamp_ms(l));
    assert_eq!(printed.lines().collect::<Vec<_>>(), want, "in time order, every line once");
}

// ---------------------------------------------------------------------------------------------
// 2. Eight files

/// `w<k>.log` for writer k.
fn own_file(k: usize) -> String {
    format!("w{k}.log")
}

fn all_files() -> Vec<String> {
    (0..WRITERS).map(own_file).collect()
}

/// Each writer logs into its own file, each record reaching it 0–50 ms after its stamp: one
/// file is in order, but which file got what when is not. After they finished, static
/// `--merge -n +1 w0.log … w7.log`: every line once, prefixed `w<k>.log: ` (its own writer's
/// file), the stamps never going back.
#[test]
fn eight_files_written_out_of_time_order_merge_statically() {
    let _one_at_a_time = FileLock::acquire(&stress::target_tmp().join("stress.lock"));
    let started = Instant::now();
    let dir = TestDir::new();
    let mut writers = Writers::start(&dir, own_file, 50, 0);
    let notes = writers.wait();
    let ledgers = writers.ledgers(&dir);
    let stamps = stamps_on_disk(&dir);
    let crossed = ledgers.reached_after_a_later_one(&stamps);
    let context = format!(
        "seed {} (RTAIL_STRESS_SEED); {crossed} records reached their file after a later-stamped \
         record reached another\n{}",
        writers.seed,
        notes.join("\n")
    );
    assert!(crossed > 0, "the files were written in time order: this tests nothing\n{context}");

    let files = all_files();
    let mut args = vec!["--merge", "-n", "+1"];
    args.extend(files.iter().map(String::as_str));
    let t = Instant::now();
    let out = dir.rtail().env("TZ", "UTC").args(&args).output().expect("run rtail");
    let took = t.elapsed();
    assert!(out.status.success(), "rtail {args:?}: {out:?}");
    let mut check =
        Check::new(format!("rtail --merge -n +1 w0.log … w{}.log", WRITERS - 1), ledgers.expected());
    for line in String::from_utf8(out.stdout).expect("UTF-8 output").lines() {
        let Some((name, text)) = line.split_once(": ") else {
            check.fail(format!("no `NAME: ` prefix: {line:?}"));
            continue;
        };
        let Some(id) = id_of(text) else {
            check.fail(format!("not a record: {line:?}"));
            continue;
        };
        if name != format!("{}.log", id.0) {
            check.fail(format!("{line:?} is prefixed with another file"));
        }
        check.record(text, &id);
    }
    check.waited = took;
    check.note(context.clone());
    check.assert_ok();
    eprintln!("[stress-merge] {WRITERS} files, static: {:.1?}\n{context}", started.elapsed());
}

/// `rtail -F --merge --json --merge-window 500ms w0.log … w7.log` started (and following) before
/// the writers; they write as in the static test. Every record printed once; those not marked
/// `"late"` in non-decreasing `"ts"` order (and each `"ts"` is its line's stamp).
///
/// A record is late when it reaches rtail more than the window after a record stamped later
/// reached it (that one went out already). From the ledgers — when each record was stamped and
/// when it was written — the records that could be late are those written more than the
/// window after a later-stamped record was: only those may be marked late. With a 0–50 ms skew
/// there are none, so none may be marked late (a late record here would mean rtail read a file
/// ~450 ms after it changed).
#[test]
fn eight_files_followed_merge_within_the_window_none_late() {
    let _one_at_a_time = FileLock::acquire(&stress::target_tmp().join("stress.lock"));
    let started = Instant::now();
    let dir = TestDir::new();
    let files = all_files();
    for f in &files {
        dir.write(f, "");
    }
    let window = format!("{}ms", WINDOW.as_millis());
    let mut args = vec!["-F", "--merge", "--json", "--merge-window", &window];
    args.extend(files.iter().map(String::as_str));
    let mut rtail = Spawned::start(dir.rtail().env("TZ", "UTC").args(&args));
    rtail.wait_for_stdout("\"event\":\"following\"");

    let mut writers = Writers::start(&dir, own_file, 50, 0);
    let mut check = Check::new(format!("rtail {}", args.join(" ")), Expected::default());
    let mut json = JsonLines::default();
    // Counted as it comes; the ledgers say what to expect once the writers are done.
    let writing = util::poll_until(WAIT, || {
        json.take(&rtail.stdout.bytes_from(json.consumed));
        writers.all_exited()
    });
    assert!(writing, "the writers did not finish within {WAIT:?}");
    let notes = writers.wait();
    let ledgers = writers.ledgers(&dir);
    let stamps = stamps_on_disk(&dir);
    check.tally = Tally::new(ledgers.expected());
    let waited = Instant::now();
    let arrived = json.wait_for_records(&rtail, WRITERS * RECORDS as usize);
    let waited = waited.elapsed();
    check.waited = waited;
    rtail.signal(libc::SIGTERM);
    let status = rtail.wait_exit();
    json.take(&rtail.stdout.bytes_from(json.consumed));

    let mut last_in_order: Option<i64> = None;
    let mut late = Vec::new();
    for o in &json.objects {
        let Some(line) = o["line"].as_str() else {
            if o["event"] != "following" {
                check.note(format!("notice: {o}"));
            }
            continue;
        };
        let Some(id) = id_of(line) else {
            check.fail(format!("not a record: {o}"));
            continue;
        };
        if o["path"].as_str() != Some(format!("{}.log", id.0).as_str()) {
            check.fail(format!("{o} has another file's path"));
        }
        let ts = o["ts"].as_str().and_then(stamp_ms);
        if ts.is_none() || ts != stamp_ms(line) {
            check.fail(format!("\"ts\" is not the line's stamp: {o}"));
        }
        check.count(&id);
        if o["late"] == true {
            late.push(id);
            continue;
        }
        if let Some(ts) = ts {
            if last_in_order.is_some_and(|last| ts < last) {
                check.out_of_time(format!(
                    "{o} printed (not late) after a record stamped {:?}",
                    last_in_order
                ));
            }
            last_in_order = last_in_order.max(Some(ts));
        }
    }
    let could_be_late = ledgers.could_be_late(&stamps, WINDOW);
    let crossed = ledgers.reached_after_a_later_one(&stamps);
    for id in &late {
        if !could_be_late.contains_key(id) {
            check.fail(format!("{} seq={} marked late, but it was written within the window", id.0, id.1));
        }
    }
    if !could_be_late.is_empty() {
        check.fail(format!(
            "{} records were written more than {WINDOW:?} after a later-stamped record: the writers \
             did not keep to their 0–50 ms skew (the machine is overloaded?), so this run cannot \
             show that nothing within the window is late",
            could_be_late.len()
        ));
    }
    if !arrived {
        check.fail(format!("not every record was printed within {WAIT:?} of the writers finishing"));
    }
    if crossed == 0 {
        check.fail("the files were written in time order: this tests nothing".into());
    }
    check.note(format!(
        "late: {}; {crossed} records reached their file after a later-stamped record reached \
         another; the rest printed {waited:.1?} after the writers finished; rtail exit {status:?}",
        late.len()
    ));
    check.note(format!("seed {} (RTAIL_STRESS_SEED)\n{}", writers.seed, notes.join("\n")));
    check.note(format!("--- rtail stderr ---\n{}", rtail.stderr.text()));
    check.assert_ok();
    eprintln!(
        "[stress-merge] {WRITERS} files, following: {:.1?}\n{}",
        started.elapsed(),
        check.notes.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// Writers and their ledgers

/// The writer processes, killed on drop if still running.
/// The merge writers (`tests/stress/merge_writer.py`), and the seed they were started with.
struct Writers {
    procs: stress::Writers,
    seed: u64,
}

impl Writers {
    /// Start writers `w0`…`w7`, writer k logging into `path(k)` with records reaching it 0–`skew_ms`
    /// after their stamp, and every `traceback_every`th with a traceback (0: none); then let them
    /// go together.
    fn start(dir: &TestDir, path: impl Fn(usize) -> String, skew_ms: u64, traceback_every: u64) -> Writers {
        let python = stress::python();
        let script = stress::stress_dir().join("merge_writer.py");
        let seed = stress::seed();
        let mut procs = stress::Writers::default();
        for k in 0..WRITERS {
            let mut cmd = Command::new(&python);
            cmd.arg("-B") // no __pycache__ in the source tree
                .arg(&script)
                .args(["--path", &path(k), "--writer", &k.to_string()])
                .args(["--count", &RECORDS.to_string(), "--ledger", &format!("ledger.w{k}")])
                .args(["--pause-ms", "2", "--skew-ms", &skew_ms.to_string()])
                .args(["--traceback-every", &traceback_every.to_string()])
                .args(["--seed", &(seed % (1 << 48) + 2 * k as u64).to_string()])
                .env("TZ", "UTC");
            procs.spawn(format!("w{k}"), cmd, dir);
        }
        procs.go();
        Writers { procs, seed }
    }

    fn all_exited(&self) -> bool {
        self.procs.all_exited()
    }

    /// Wait for every writer to exit successfully; their one-line summaries.
    fn wait(&mut self) -> Vec<String> {
        self.procs.wait()
    }

    /// Every writer's ledger (after [`Writers::wait`]).
    fn ledgers(&self, dir: &TestDir) -> Ledgers {
        let mut rows = Vec::new();
        for k in 0..WRITERS {
            let writer = format!("w{k}");
            let text = fs::read_to_string(dir.join(&format!("ledger.{writer}"))).expect("ledger");
            for row in text.lines() {
                let nums: Vec<u64> = row.split(' ').map(|n| n.parse().expect("ledger number")).collect();
                let [seq, _stamped, written] = nums[..] else { panic!("ledger row {row:?}") };
                rows.push(((writer.clone(), seq), written));
            }
        }
        Ledgers { rows }
    }
}

type Id = (String, u64);

/// Every record the writers logged, with when it was written (handed to the FileHandler,
/// wall-clock ns).
struct Ledgers {
    rows: Vec<(Id, u64)>,
}

impl Ledgers {
    fn expected(&self) -> Expected {
        let mut e = Expected::default();
        for ((writer, seq), _) in &self.rows {
            e.add(writer, *seq, None);
        }
        e
    }

    /// The records in the order they were written, with their stamps (ms, from the files).
    fn by_write_time(&self, stamps: &HashMap<Id, i64>) -> Vec<(u64, i64, &Id)> {
        let mut rows: Vec<(u64, i64, &Id)> =
            self.rows.iter().map(|(id, written)| (*written, stamps[id], id)).collect();
        rows.sort_unstable();
        rows
    }

    /// How many records were written after a record with a later stamp was.
    fn reached_after_a_later_one(&self, stamps: &HashMap<Id, i64>) -> usize {
        let mut latest = i64::MIN;
        let mut n = 0;
        for (_, stamp, _) in self.by_write_time(stamps) {
            n += usize::from(stamp < latest);
            latest = latest.max(stamp);
        }
        n
    }

    /// The records written more than `window` after a record stamped later than them was
    /// written: the only ones a follower reading every change at once could see too late.
    fn could_be_late(&self, stamps: &HashMap<Id, i64>, window: Duration) -> HashMap<Id, i64> {
        let rows = self.by_write_time(stamps);
        let window = window.as_nanos() as u64;
        let (mut before, mut latest) = (0, i64::MIN);
        let mut found = HashMap::new();
        for &(written, stamp, id) in &rows {
            while before < rows.len() && rows[before].0 + window < written {
                latest = latest.max(rows[before].1);
                before += 1;
            }
            if stamp < latest {
                found.insert(id.clone(), latest - stamp);
            }
        }
        found
    }
}

/// The stamp of every record in `w<k>.log`, by id.
fn stamps_on_disk(dir: &TestDir) -> HashMap<Id, i64> {
    let mut stamps = HashMap::new();
    for name in all_files() {
        for line in fs::read_to_string(dir.join(&name)).expect("read a log").lines() {
            let id = id_of(line).unwrap_or_else(|| panic!("{name}: not a record: {line:?}"));
            stamps.insert(id, stamp_ms(line).unwrap_or_else(|| panic!("{name}: no stamp: {line:?}")));
        }
    }
    stamps
}

/// Record lines (those with a stamp) that come after a record stamped later.
fn stamp_inversions<'a>(lines: impl Iterator<Item = &'a str>) -> usize {
    let mut latest = i64::MIN;
    let mut n = 0;
    for stamp in lines.filter_map(stamp_ms) {
        n += usize::from(stamp < latest);
        latest = latest.max(stamp);
    }
    n
}

// ---------------------------------------------------------------------------------------------
// Reading records

/// `(w<k>, seq)` of a record line `<asctime> <pid> w<k> seq=<n> …`.
fn id_of(line: &str) -> Option<Id> {
    let mut words = line.split(' ').skip(3);
    let writer = words.next().filter(|w| w.starts_with('w'))?;
    let seq = words.next()?.strip_prefix("seq=")?.parse().ok()?;
    stamp_ms(line)?;
    Some((writer.to_string(), seq))
}

/// The time at the start of `s` — `2026-12-03 10:00:00,123` (logging's asctime, read as UTC) or
/// `2026-12-03T10:00:00.123Z` (`"ts"`, the fraction left out when zero) — in ms since the epoch.
fn stamp_ms(s: &str) -> Option<i64> {
    let num = |from: usize, len: usize| -> Option<i64> {
        let digits = s.get(from..from + len)?;
        digits.bytes().all(|b| b.is_ascii_digit()).then(|| digits.parse().ok())?
    };
    let b = s.as_bytes();
    let seps = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if !seps.iter().all(|&(i, c)| b.get(i) == Some(&c)) || !matches!(b.get(10), Some(b' ' | b'T')) {
        return None;
    }
    let (y, m, d) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let secs = num(11, 2)? * 3600 + num(14, 2)? * 60 + num(17, 2)?;
    let ms = match b.get(19) {
        Some(b',' | b'.') => {
            let frac: String = s[20..].chars().take_while(char::is_ascii_digit).collect();
            format!("{frac:0<3}")[..3].parse().ok()?
        }
        _ => 0,
    };
    // Days from 1970-01-01 to y-m-d (proleptic Gregorian).
    let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    Some((days * 86_400 + secs) * 1000 + ms)
}

/// rtail's `--json` output parsed as it comes.
#[derive(Default)]
struct JsonLines {
    objects: Vec<Value>,
    partial: Vec<u8>,
    consumed: usize,
}

impl JsonLines {
    /// Take what `rtail` printed until `records` record objects (with a `"line"`) were
    /// printed, or [`WAIT`]; whether they were. (Only to know when to stop: the counts are made
    /// from the objects afterwards.)
    fn wait_for_records(&mut self, rtail: &Spawned, records: usize) -> bool {
        let until = Instant::now() + WAIT;
        let stdout = &rtail.stdout;
        loop {
            let seen = stdout.bell.rings();
            self.take(&stdout.bytes_from(self.consumed));
            if self.objects.iter().filter(|o| o["line"].is_string()).count() >= records {
                return true;
            }
            if Instant::now() >= until {
                return false;
            }
            stdout.bell.wait_past(seen, until);
        }
    }

    fn take(&mut self, bytes: &[u8]) {
        self.consumed += bytes.len();
        self.partial.extend_from_slice(bytes);
        let Some(end) = self.partial.iter().rposition(|&b| b == b'\n') else { return };
        let rest = self.partial.split_off(end + 1);
        for line in
            std::mem::replace(&mut self.partial, rest).split(|&b| b == b'\n').filter(|l| !l.is_empty())
        {
            self.objects.push(
                serde_json::from_slice(line)
                    .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(line))),
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The verdict

/// What one rtail run printed, against what was written.
struct Check {
    label: String,
    tally: Tally,
    /// The latest stamp printed so far.
    latest: Option<i64>,
    out_of_time: usize,
    /// From the writers' end until everything was printed.
    waited: Duration,
    failures: Vec<String>,
    notes: Vec<String>,
}

impl Check {
    fn new(label: String, expected: Expected) -> Check {
        Check {
            label,
            tally: Tally::new(expected),
            latest: None,
            out_of_time: 0,
            waited: Duration::ZERO,
            failures: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// A record printed: counted, and its stamp must not be earlier than one printed before.
    fn record(&mut self, line: &str, id: &Id) {
        self.count(id);
        let stamp = stamp_ms(line).expect("a record has a stamp");
        if let Some(latest) = self.latest.filter(|&l| stamp < l) {
            self.out_of_time(format!("{line:?} printed after a record stamped {} ms later", latest - stamp));
        }
        self.latest = self.latest.max(Some(stamp));
    }

    /// A record printed: counted once per `(writer, seq)`, each writer's in order.
    fn count(&mut self, (writer, seq): &Id) {
        self.tally.ingest(format!("{writer} {seq}\n").as_bytes());
    }

    fn out_of_time(&mut self, what: String) {
        self.out_of_time += 1;
        if self.out_of_time <= 8 {
            self.failures.push(what);
        }
    }

    fn fail(&mut self, what: String) {
        if self.failures.len() < 24 {
            self.failures.push(what);
        }
    }

    fn note(&mut self, what: String) {
        self.notes.push(what);
    }

    fn assert_ok(&mut self) {
        self.tally.finish();
        let mut report = self.tally.report();
        report.waited = self.waited;
        let ok = report.lost == 0
            && report.duplicated == 0
            && report.out_of_order == 0
            && report.unexpected == 0
            && report.garbled == 0
            && self.out_of_time == 0
            && self.failures.is_empty();
        assert!(
            ok,
            "[stress-merge] {}: {report}\n  printed before a record stamped earlier: {}\n  {}\n{}",
            self.label,
            self.out_of_time,
            self.failures.join("\n  "),
            self.notes.join("\n")
        );
    }
}
