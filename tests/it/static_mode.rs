//! Static (non-follow) mode: counts, obsolete options, headers, errors, byte exactness, block
//! boundaries, pipes versus files, devices and a broken stdout.
//!
//! Every case states the bytes it expects, so it means something on a machine without GNU tail;
//! where GNU tail is installed the same run is also compared with it (stdout, stderr, exit status).
//! The scenario numbers refer to /work/shared/reference/gnu-tail.md, section (c).

use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::util::{DEADLINE, Spawned, TestDir, rtail_bin, run_with_stdin, scrub};

// ---------------------------------------------------------------------------------------------
// Helpers local to this module.
// ---------------------------------------------------------------------------------------------

/// Whether the `tail` on PATH is GNU coreutils' (the comparisons are skipped otherwise).
fn gnu_present() -> bool {
    static PRESENT: OnceLock<bool> = OnceLock::new();
    *PRESENT.get_or_init(|| {
        Command::new("tail")
            .arg("--version")
            .output()
            .map(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains("GNU"))
            .unwrap_or(false)
    })
}

/// Bytes as an escaped string for assertion messages; long ones are abbreviated in the middle.
fn show(bytes: &[u8]) -> String {
    const EDGE: usize = 200;
    if bytes.len() <= 2 * EDGE {
        return bytes.escape_ascii().to_string();
    }
    format!(
        "{}...<{} bytes>...{}",
        bytes[..EDGE].escape_ascii(),
        bytes.len(),
        bytes[bytes.len() - EDGE..].escape_ascii()
    )
}

/// Assert two byte strings are equal, reporting lengths and the first differing offset.
fn assert_bytes(got: &[u8], want: &[u8], what: &str) {
    if got != want {
        let first = got.iter().zip(want).position(|(a, b)| a != b).unwrap_or(got.len().min(want.len()));
        panic!(
            "{what}: got {} bytes, want {} bytes, first difference at {first}\n got: {}\nwant: {}",
            got.len(),
            want.len(),
            show(got),
            show(want)
        );
    }
}

/// GNU's stderr with its program name read as rtail's.
fn as_rtail(gnu_stderr: &[u8]) -> String {
    String::from_utf8_lossy(gnu_stderr)
        .replace("tail: ", "rtail: ")
        .replace("Try 'tail --help'", "Try 'rtail --help'")
}

/// Assert rtail's and GNU's runs agree on stdout, stderr and exit status.
fn assert_same(ours: &Output, theirs: &Output, what: &str) {
    assert_bytes(&ours.stdout, &theirs.stdout, &format!("stdout vs GNU tail for {what}"));
    assert_eq!(
        String::from_utf8_lossy(&ours.stderr),
        as_rtail(&theirs.stderr),
        "stderr vs GNU tail for {what}"
    );
    assert_eq!(ours.status.code(), theirs.status.code(), "exit status vs GNU tail for {what}");
}

/// Run `rtail ARGS` with `stdin` piped in; compare with GNU where present; then assert the
/// expected stdout, stderr and exit code.
fn check(t: &TestDir, args: &[&str], stdin: &[u8], out: &[u8], err: &str, code: i32) -> Output {
    let ours =
        if gnu_present() { t.same_as_gnu(args, stdin) } else { run_with_stdin(t.rtail().args(args), stdin) };
    assert_bytes(&ours.stdout, out, &format!("stdout of rtail {args:?}"));
    assert_eq!(String::from_utf8_lossy(&ours.stderr), err, "stderr of rtail {args:?}");
    assert_eq!(ours.status.code(), Some(code), "exit status of rtail {args:?}");
    ours
}

/// A successful run: exactly `out` on stdout, nothing on stderr, exit 0.
fn ok(t: &TestDir, args: &[&str], stdin: &[u8], out: &[u8]) {
    check(t, args, stdin, out, "", 0);
}

/// A usage error: nothing on stdout, exactly `err` on stderr, exit 1.
fn usage(t: &TestDir, args: &[&str], err: &str) {
    check(t, args, b"", b"", err, 1);
}

/// Run rtail (and GNU tail, compared) with stdin made by `stdin` (a file, /dev/null, ...).
fn run_both(t: &TestDir, args: &[&str], stdin: impl Fn() -> Stdio) -> Output {
    let ours = t.rtail().args(args).stdin(stdin()).output().expect("run rtail");
    if gnu_present() {
        let theirs = t.gnu_tail().args(args).stdin(stdin()).output().expect("run tail");
        assert_same(&ours, &theirs, &format!("{args:?}"));
    }
    ours
}

/// `sh -c 'read x; exec BIN ARGS' < file`: BIN inherits stdin with its offset after line one.
fn after_read_line(t: &TestDir, bin: &Path, args: &[&str], file: &Path) -> Output {
    let mut cmd = Command::new("sh");
    scrub(&mut cmd);
    cmd.current_dir(t.path())
        .arg("-c")
        .arg(r#"read x; exec "$0" "$@""#)
        .arg(bin)
        .args(args)
        .stdin(File::open(file).expect("open stdin file"))
        .output()
        .expect("run sh")
}

/// Run `cmd` with stdout redirected to the file `out`; returns stderr and status.
fn run_to_file(cmd: &mut Command, stdin: Stdio, out: &Path) -> Output {
    cmd.stdin(stdin)
        .stdout(File::create(out).expect("create output file"))
        .stderr(Stdio::piped())
        .output()
        .expect("run")
}

/// Wait for `child` to exit, polling with back-off up to the deadline; kill it and fail after.
fn wait_deadline(child: &mut Child, what: &str) -> ExitStatus {
    let start = Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: rtail did not exit within {DEADLINE:?}");
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

/// Reference model: the last `n` lines of `data` (a final unterminated line counts).
fn model_last_lines(data: &[u8], n: usize, delim: u8) -> &[u8] {
    if n == 0 {
        return &[];
    }
    let body = match data.last() {
        Some(&last) if last == delim => &data[..data.len() - 1],
        _ => data,
    };
    let mut seen = 0;
    for (i, &b) in body.iter().enumerate().rev() {
        if b == delim {
            seen += 1;
            if seen == n {
                return &data[i + 1..];
            }
        }
    }
    data
}

/// Reference model: `data` from line `n` (1-based; 0 means 1).
fn model_from_line(data: &[u8], n: usize, delim: u8) -> &[u8] {
    let mut skip = n.saturating_sub(1);
    if skip == 0 {
        return data;
    }
    for (i, &b) in data.iter().enumerate() {
        if b == delim {
            skip -= 1;
            if skip == 0 {
                return &data[i + 1..];
            }
        }
    }
    &[]
}

/// Reference model: the last `n` bytes.
fn model_last_bytes(data: &[u8], n: usize) -> &[u8] {
    &data[data.len().saturating_sub(n)..]
}

/// Reference model: from byte `n` (1-based; 0 means 1).
fn model_from_byte(data: &[u8], n: usize) -> &[u8] {
    &data[(n.max(1) - 1).min(data.len())..]
}

/// What `-n`/`-c` value `arg` selects from `data`, by the models above.
fn model(data: &[u8], arg: &str, delim: u8) -> Vec<u8> {
    let (flag, value) = arg.split_at(2);
    let (from_start, digits) = match value.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, value.trim_start_matches('-')),
    };
    let n: usize = digits.parse().expect("plain number in model arg");
    match (flag, from_start) {
        ("-n", false) => model_last_lines(data, n, delim),
        ("-n", true) => model_from_line(data, n, delim),
        ("-c", false) => model_last_bytes(data, n),
        ("-c", true) => model_from_byte(data, n),
        _ => panic!("model does not know {arg}"),
    }
    .to_vec()
}

/// Run `rtail ARG [-z] NAME` and `rtail ARG [-z] < pipe` and check both against the model (and
/// GNU tail).
fn file_and_pipe_match_model(t: &TestDir, name: &str, data: &[u8], args: &[&str], zero: bool) {
    let delim = if zero { 0 } else { b'\n' };
    for arg in args {
        let want = model(data, arg, delim);
        let mut argv = vec![*arg];
        if zero {
            argv.push("-z");
        }
        ok(t, &argv, data, &want);
        argv.push(name);
        ok(t, &argv, b"", &want);
    }
}

/// Deterministic text with lines of varying length (1..=103 bytes with the newline).
fn varied_lines(len: usize) -> Vec<u8> {
    let mut data = Vec::with_capacity(len + 128);
    let mut i = 0usize;
    while data.len() < len {
        data.extend_from_slice(format!("{i:05}-").as_bytes());
        data.extend(std::iter::repeat_n(b'a' + (i % 26) as u8, i % 97));
        data.push(b'\n');
        i += 1;
    }
    data.truncate(len);
    data
}

const BLOCK: usize = 128 * 1024;

// ---------------------------------------------------------------------------------------------
// Scenarios 1-5: counts.
// ---------------------------------------------------------------------------------------------

/// `x\n` + `y\n` x 10 + `z` (no final newline): the input of scenarios 1 and 2.
fn xyz() -> Vec<u8> {
    let mut data = b"x\n".to_vec();
    data.extend(b"y\n".repeat(10));
    data.extend(b"z");
    data
}

#[test]
fn default_is_the_last_ten_lines() {
    let t = TestDir::new();
    let input = xyz();
    let mut want = b"y\n".repeat(9);
    want.extend(b"z");
    for args in [&[][..], &["-n", "10"], &["-n", "-10"], &["--lines=10"], &["-n10"]] {
        ok(&t, args, &input, &want);
    }
    t.write("f", &input);
    ok(&t, &["f"], b"", &want);
}

#[test]
fn plus_n_starts_at_line_n() {
    let t = TestDir::new();
    ok(&t, &["-n", "+10"], &xyz(), b"y\ny\nz");
    let five = b"y\n".repeat(5);
    for n in ["+0", "+1", "+00"] {
        ok(&t, &["-n", n], &five, &five);
    }
    ok(&t, &["-n", "+5"], &five, b"y\n");
    ok(&t, &["-n", "+6"], &five, b"");
    ok(&t, &["-n", "+99"], &five, b"");
    t.write("five", &five);
    ok(&t, &["-n", "+0", "five"], b"", &five);
    ok(&t, &["-n", "+6", "five"], b"", b"");
}

#[test]
fn zero_and_minus_zero_print_nothing() {
    let t = TestDir::new();
    let five = b"y\n".repeat(5);
    for args in [&["-n", "0"][..], &["-n", "-0"], &["-n", "00"], &["-c", "0"], &["-c", "-0"]] {
        ok(&t, args, &five, b"");
    }
    ok(&t, &["-n", "-1"], &five, b"y\n");
    ok(&t, &["-n", "1"], &five, b"y\n");
}

#[test]
fn byte_counts() {
    let t = TestDir::new();
    ok(&t, &["-c", "2"], b"abcd\n", b"d\n");
    ok(&t, &["-c", "+2"], b"abcd", b"bcd");
    ok(&t, &["-c", "+8"], b"abcd", b"");
    ok(&t, &["-c", "1"], b"abcd", b"d");
    ok(&t, &["-c", "9"], b"abcd", b"abcd");
    ok(&t, &["-c", "+0"], b"abcd", b"abcd");
    ok(&t, &["-c", "+1"], b"abcd", b"abcd");
    ok(&t, &["-c", "-2"], b"abcd", b"cd");
    ok(&t, &["--bytes=3"], b"abcd", b"bcd");
    ok(&t, &["--bytes", "+4"], b"abcd", b"d");
    t.write("abcd", b"abcd");
    ok(&t, &["-c", "+2", "abcd"], b"", b"bcd");
    ok(&t, &["-c", "+5", "abcd"], b"", b"");
    ok(&t, &["-c", "9", "abcd"], b"", b"abcd");
}

#[test]
fn last_line_without_trailing_newline() {
    let t = TestDir::new();
    ok(&t, &["-n1"], b"x\ny", b"y");
    ok(&t, &["-n2"], b"x\ny", b"x\ny");
    ok(&t, &["-n1"], b"no newline at all", b"no newline at all");
    ok(&t, &["-n", "+2"], b"x\ny", b"y");
    t.write("f", b"x\ny");
    ok(&t, &["-n1", "f"], b"", b"y");
}

#[test]
fn zero_terminated_lines() {
    let t = TestDir::new();
    ok(&t, &["-z", "-n1"], b"x\0y", b"y");
    ok(&t, &["-z", "-n2"], b"x\0y", b"x\0y");
    ok(&t, &["-z", "-n1"], b"a\0b\0", b"b\0");
    ok(&t, &["-z", "-n", "+2"], b"a\nb\0c\nd\0", b"c\nd\0");
    // Newlines are ordinary bytes under -z.
    ok(&t, &["--zero-terminated", "-n1"], b"a\nb\nc", b"a\nb\nc");
    t.write("z", b"one\0two\nstill two\0three");
    ok(&t, &["-zn2", "z"], b"", b"two\nstill two\0three");
}

#[test]
fn count_last_option_wins() {
    let t = TestDir::new();
    ok(&t, &["-n", "1", "-n", "2"], b"a\nb\nc\n", b"b\nc\n");
    ok(&t, &["-c", "1", "-n", "1"], b"a\nb\nc\n", b"c\n");
    ok(&t, &["-n", "1", "-c", "3"], b"a\nb\nc\n", b"\nc\n");
}

#[test]
fn count_suffixes_multiply() {
    let t = TestDir::new();
    // 3000 distinct bytes, so every offset is visible in the output.
    let data: Vec<u8> = (0..3000u32).map(|i| b'!' + (i % 90) as u8).collect();
    t.write("data", &data);
    let cases: &[(&str, usize)] = &[
        ("1b", 512),
        ("2b", 1024),
        ("1K", 1024),
        ("1k", 1024),
        ("1KiB", 1024),
        ("1kB", 1000),
        ("1KB", 1000),
        ("2kB", 2000),
        ("1M", 1 << 20),
        ("1m", 1 << 20),
        ("1MiB", 1 << 20),
        ("1MB", 1_000_000),
        ("1G", 1 << 30),
        ("1GiB", 1 << 30),
        ("1T", 1 << 40),
        ("1E", 1 << 60),
    ];
    for &(suffix, n) in cases {
        ok(&t, &["-c", suffix, "data"], b"", model_last_bytes(&data, n));
        let plus = format!("+{suffix}");
        if n <= 1 << 30 {
            ok(&t, &["-c", &plus, "data"], b"", model_from_byte(&data, n));
        } else {
            // GNU lseeks there and fails where the file system's size limit is smaller
            // ("cannot seek to relative offset ...: Invalid argument"); rtail prints nothing.
            let out = run_with_stdin(t.rtail().args(["-c", &plus, "data"]), b"");
            assert_eq!(out.status.code(), Some(0), "-c {plus}");
            assert_bytes(&out.stdout, b"", &format!("-c {plus}"));
            assert_bytes(&out.stderr, b"", &format!("stderr of -c {plus}"));
        }
    }
    // Lines too: -n 1b is 512 lines.
    let lines: Vec<u8> = (0..600).flat_map(|i| format!("{i}\n").into_bytes()).collect();
    t.write("lines", &lines);
    ok(&t, &["-n", "1b", "lines"], b"", model_last_lines(&lines, 512, b'\n'));
    ok(&t, &["-n", "+1b", "lines"], b"", model_from_line(&lines, 512, b'\n'));
}

#[test]
fn huge_counts_saturate_instead_of_failing() {
    // GNU 9.1 rejects these with "Value too large for defined data type"; GNU >= 9.6 and rtail
    // saturate, so this is not compared with the installed GNU tail.
    let t = TestDir::new();
    t.write("f", b"a\nb\n");
    for args in
        [&["-c99999999999999999999"][..], &["-n", "99999999999999999999"], &["-c", "1Q"], &["-n", "100Z"]]
    {
        let out = run_with_stdin(t.rtail().args(args), b"");
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert_bytes(&out.stdout, b"", &format!("stdout of {args:?}"));
        assert_bytes(&out.stderr, b"", &format!("stderr of {args:?}"));

        let out = run_with_stdin(t.rtail().args(args).arg("f"), b"");
        assert_eq!(out.status.code(), Some(0), "{args:?} f");
        assert_bytes(&out.stdout, b"a\nb\n", &format!("stdout of {args:?} f"));
    }
    let out = run_with_stdin(t.rtail().args(["-c", "+99999999999999999999", "f"]), b"");
    assert_eq!(out.status.code(), Some(0));
    assert_bytes(&out.stdout, b"", "stdout of -c +huge");
}

// ---------------------------------------------------------------------------------------------
// Obsolete forms.
// ---------------------------------------------------------------------------------------------

#[test]
fn obsolete_count_options() {
    let t = TestDir::new();
    let seq: Vec<u8> = (1..=20).flat_map(|i| format!("{i}\n").into_bytes()).collect();
    t.write("s", &seq);
    let lines =
        |from: usize| -> Vec<u8> { (from..=20).flat_map(|i| format!("{i}\n").into_bytes()).collect() };
    ok(&t, &["-5", "s"], b"", &lines(16));
    ok(&t, &["+5", "s"], b"", &lines(5));
    ok(&t, &["-3c", "s"], b"", b"20\n");
    ok(&t, &["+2l", "s"], b"", &lines(2));
    ok(&t, &["-5l", "s"], b"", &lines(16));
    ok(&t, &["+18c", "s"], b"", model_from_byte(&seq, 18));
    // -b is 10 blocks of 512 bytes: the whole (51-byte) file; +b starts past its end.
    ok(&t, &["-b", "s"], b"", &seq);
    ok(&t, &["+b", "s"], b"", b"");
    ok(&t, &["-2b", "s"], b"", &seq);
    // Without digits: 10 units.
    ok(&t, &["-l", "s"], b"", &lines(11));
    ok(&t, &["+", "s"], b"", &lines(10));
    ok(&t, &["+c", "s"], b"", model_from_byte(&seq, 10));
    // Zero.
    ok(&t, &["-0", "s"], b"", b"");
    ok(&t, &["+0", "s"], b"", &seq);
    ok(&t, &["-00c", "s"], b"", b"");
    // With `--` and with `-` (stdin) as the one operand; with no operand at all.
    ok(&t, &["-2", "-"], &seq, b"19\n20\n");
    ok(&t, &["+19"], &seq, b"19\n20\n");
    ok(&t, &["-1c"], b"abc", b"c");
}

#[test]
fn obsolete_option_in_invalid_context() {
    let t = TestDir::new();
    t.write("a", b"a\n");
    t.write("b", b"b\n");
    let msg = |d: char| format!("rtail: option used in invalid context -- {d}\n");
    usage(&t, &["-2", "a", "b"], &msg('2'));
    usage(&t, &["-5", "-v", "a"], &msg('5'));
    usage(&t, &["-v", "-5", "a"], &msg('5'));
    usage(&t, &["-v5", "a"], &msg('5'));
    usage(&t, &["-2cX", "a"], &msg('2'));
    usage(&t, &["-2lX", "a"], &msg('2'));
    usage(&t, &["-5z", "a"], &msg('5'));
    usage(&t, &["-1bc", "a"], &msg('1'));
}

#[test]
fn obsolete_plus_form_with_two_files_is_a_file_name() {
    let t = TestDir::new();
    t.write("a", b"a\n");
    t.write("b", b"b\n");
    check(
        &t,
        &["+5", "a", "b"],
        b"",
        b"==> a <==\na\n\n==> b <==\nb\n",
        "rtail: cannot open '+5' for reading: No such file or directory\n",
        1,
    );
}

// ---------------------------------------------------------------------------------------------
// Headers (scenario 8).
// ---------------------------------------------------------------------------------------------

#[test]
fn headers_with_several_files() {
    let t = TestDir::new();
    t.write("f1", b"a\nb\n");
    t.write("f2", b"c\n");
    let both = b"==> f1 <==\nb\n\n==> f2 <==\nc\n";
    ok(&t, &["-n1", "f1", "f2"], b"", both);
    ok(&t, &["-q", "-n1", "f1", "f2"], b"", b"b\nc\n");
    ok(&t, &["--quiet", "-n1", "f1", "f2"], b"", b"b\nc\n");
    ok(&t, &["--silent", "-n1", "f1", "f2"], b"", b"b\nc\n");
    ok(&t, &["-v", "-n1", "f1"], b"", b"==> f1 <==\nb\n");
    ok(&t, &["--verbose", "-n1", "f1"], b"", b"==> f1 <==\nb\n");
    ok(&t, &["-v"], b"x\n", b"==> standard input <==\nx\n");
    ok(&t, &["-v", "-"], b"x\n", b"==> standard input <==\nx\n");
    ok(&t, &["f1", "f2"], b"", b"==> f1 <==\na\nb\n\n==> f2 <==\nc\n");
}

#[test]
fn quiet_and_verbose_last_one_wins() {
    let t = TestDir::new();
    t.write("f1", b"a\nb\n");
    t.write("f2", b"c\n");
    let both = b"==> f1 <==\nb\n\n==> f2 <==\nc\n";
    ok(&t, &["-q", "-v", "-n1", "f1", "f2"], b"", both);
    ok(&t, &["-v", "-q", "-n1", "f1", "f2"], b"", b"b\nc\n");
    ok(&t, &["-q", "-v", "-n1", "f1"], b"", b"==> f1 <==\nb\n");
    ok(&t, &["-v", "-q", "-n1", "f1"], b"", b"b\n");
    ok(&t, &["-qvq", "-n1", "f1", "f2"], b"", b"b\nc\n");
    ok(&t, &["-qn1", "f1", "f2"], b"", b"b\nc\n");
}

#[test]
fn stdin_dash_among_files() {
    let t = TestDir::new();
    t.write("f1", b"a\nb\n");
    t.write("f2", b"c\n");
    ok(
        &t,
        &["-n1", "f1", "-", "f2"],
        b"x\n",
        b"==> f1 <==\nb\n\n==> standard input <==\nx\n\n==> f2 <==\nc\n",
    );
    // The second `-` finds standard input at its end: a header and nothing else.
    ok(&t, &["-n1", "-", "-"], b"x\ny\n", b"==> standard input <==\ny\n\n==> standard input <==\n");
}

#[test]
fn double_dash_ends_options() {
    // POSIX and GNU: after `--` every word is a file operand, even `-n` or `-v`.
    let t = TestDir::new();
    let seq: Vec<u8> = (1..=20).flat_map(|i| format!("{i}\n").into_bytes()).collect();
    t.write("s", &seq);
    t.write("-v", b"dash v\n");
    ok(&t, &["--", "s"], b"", model_last_lines(&seq, 10, b'\n'));
    ok(&t, &["-n1", "--", "-v"], b"", b"dash v\n");
    ok(&t, &["-n1", "--", "s", "-v"], b"", b"==> s <==\n20\n\n==> -v <==\ndash v\n");
    check(&t, &["--", "-n"], b"", b"", "rtail: cannot open '-n' for reading: No such file or directory\n", 1);
    // The obsolete form allows `--` before its one operand.
    ok(&t, &["-5", "--", "s"], b"", model_last_lines(&seq, 5, b'\n'));
    usage(&t, &["-5", "--", "s", "s"], "rtail: option used in invalid context -- 5\n");
}

#[test]
fn same_file_twice_is_printed_twice() {
    let t = TestDir::new();
    t.write("f1", b"a\nb\n");
    ok(&t, &["-n1", "f1", "f1"], b"", b"==> f1 <==\nb\n\n==> f1 <==\nb\n");
    ok(&t, &["-q", "f1", "f1"], b"", b"a\nb\na\nb\n");
}

#[test]
fn empty_files_still_get_headers() {
    let t = TestDir::new();
    t.write("empty", b"");
    t.write("f1", b"a\n");
    ok(&t, &["-v", "empty"], b"", b"==> empty <==\n");
    ok(&t, &["empty", "f1", "empty"], b"", b"==> empty <==\n\n==> f1 <==\na\n\n==> empty <==\n");
    ok(&t, &["empty"], b"", b"");
    ok(&t, &["-v", "/dev/null"], b"", b"==> /dev/null <==\n");
}

#[test]
fn options_after_file_operands_are_options() {
    let t = TestDir::new();
    t.write("f1", b"a\nb\n");
    t.write("f2", b"c\n");
    ok(&t, &["f1", "-n1"], b"", b"b\n");
    ok(&t, &["f1", "-n", "1", "f2"], b"", b"==> f1 <==\nb\n\n==> f2 <==\nc\n");
    ok(&t, &["--lin=1", "f1"], b"", b"b\n");
    ok(&t, &["--l", "1", "f1"], b"", b"b\n");
    // GNU's abbreviations keep their meaning beside rtail's own options (--since, --prefix,
    // --poll, --record-start, --merge, --multiline share their first letters).
    for args in
        [&["--si", "f1", "f2"][..], &["--p=1", "f1"], &["--r", "f1"], &["--re", "f1"], &["--m=5", "f1"]]
    {
        t.same_as_gnu(args, b"");
    }
}

// ---------------------------------------------------------------------------------------------
// File errors (scenarios 9-11).
// ---------------------------------------------------------------------------------------------

#[test]
fn missing_file_among_others() {
    let t = TestDir::new();
    t.write("data", b"file data\n");
    check(
        &t,
        &["data", "missing"],
        b"",
        b"==> data <==\nfile data\n",
        "rtail: cannot open 'missing' for reading: No such file or directory\n",
        1,
    );
    t.write("f1", b"a\nb\n");
    t.write("f2", b"c\n");
    check(
        &t,
        &["-n1", "f1", "missing", "f2"],
        b"",
        b"==> f1 <==\nb\n\n==> f2 <==\nc\n",
        "rtail: cannot open 'missing' for reading: No such file or directory\n",
        1,
    );
    check(
        &t,
        &["-q", "missing", "f2"],
        b"",
        b"c\n",
        "rtail: cannot open 'missing' for reading: No such file or directory\n",
        1,
    );
    check(
        &t,
        &["missing", "gone/too"],
        b"",
        b"",
        "rtail: cannot open 'missing' for reading: No such file or directory\n\
         rtail: cannot open 'gone/too' for reading: No such file or directory\n",
        1,
    );
    check(&t, &["f1/x"], b"", b"", "rtail: cannot open 'f1/x' for reading: Not a directory\n", 1);
}

#[test]
fn directory_operand() {
    let t = TestDir::new();
    std::fs::create_dir(t.join("d")).expect("mkdir");
    t.write("f1", b"a\nb\n");
    t.write("f2", b"c\n");
    check(&t, &["d"], b"", b"", "rtail: error reading 'd': Is a directory\n", 1);
    // Its header is printed before the read fails.
    check(
        &t,
        &["f1", "d", "f2"],
        b"",
        b"==> f1 <==\na\nb\n\n==> d <==\n\n==> f2 <==\nc\n",
        "rtail: error reading 'd': Is a directory\n",
        1,
    );
    check(&t, &["-c", "+1", "d"], b"", b"", "rtail: error reading 'd': Is a directory\n", 1);
}

#[test]
fn directory_on_stdin() {
    let t = TestDir::new();
    std::fs::create_dir(t.join("d")).expect("mkdir");
    let dir = t.join("d");
    for args in [&[][..], &["-"]] {
        let out = run_both(&t, args, || Stdio::from(File::open(&dir).expect("open directory")));
        assert_bytes(&out.stdout, b"", "stdout");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "rtail: error reading 'standard input': Is a directory\n"
        );
        assert_eq!(out.status.code(), Some(1));
    }
}

#[test]
fn zero_counts_open_nothing() {
    let t = TestDir::new();
    std::fs::create_dir(t.join("d")).expect("mkdir");
    for args in [
        &["-n0", "missing"][..],
        &["-c0", "missing"],
        &["-n", "-0", "missing"],
        &["-c", "-0", "missing", "d"],
        &["-0", "missing"],
        &["-n0", "d"],
        &["-c0", "-v", "missing", "d"],
    ] {
        ok(&t, args, b"", b"");
    }
    // But +0 means "from the first line", which does open the file.
    check(
        &t,
        &["-n", "+0", "missing"],
        b"",
        b"",
        "rtail: cannot open 'missing' for reading: No such file or directory\n",
        1,
    );
}

#[test]
fn zero_counts_do_not_open_an_unreadable_file() {
    use std::os::unix::fs::PermissionsExt;
    // SAFETY: geteuid has no preconditions and touches no memory.
    if unsafe { libc::geteuid() } == 0 {
        eprintln!("skipped: root can read a mode-0 file");
        return;
    }
    let t = TestDir::new();
    let u = t.write("u", b"secret\n");
    std::fs::set_permissions(&u, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    ok(&t, &["-n0", "u"], b"", b"");
    ok(&t, &["-c0", "u"], b"", b"");
    check(&t, &["-n1", "u"], b"", b"", "rtail: cannot open 'u' for reading: Permission denied\n", 1);
}

// ---------------------------------------------------------------------------------------------
// Bad arguments (scenario 7).
// ---------------------------------------------------------------------------------------------

const TRY: &str = "Try 'rtail --help' for more information.\n";

#[test]
fn invalid_counts_are_rejected_with_gnu_messages() {
    let t = TestDir::new();
    t.write("f1", b"a\nb\n");
    let lines = |v: &str| format!("rtail: invalid number of lines: '{v}'\n");
    let bytes = |v: &str| format!("rtail: invalid number of bytes: '{v}'\n");
    usage(&t, &["-n", "abc", "f1"], &lines("abc"));
    usage(&t, &["-n", "", "f1"], &lines(""));
    usage(&t, &["-c", "1x", "f1"], &bytes("1x"));
    usage(&t, &["-cabc"], &bytes("abc"));
    usage(&t, &["--lines=1.5", "f1"], &lines("1.5"));
    usage(&t, &["-n", "0x10", "f1"], &lines("0x10"));
    usage(&t, &["-n", "1 ", "f1"], &lines("1 "));
    usage(&t, &["-n", "+ 1", "f1"], &lines("+ 1"));
    usage(&t, &["-n", "++1", "f1"], &lines("++1"));
    usage(&t, &["-n", "+abc", "f1"], &lines("+abc"));
    usage(&t, &["-c", "+", "f1"], &bytes("+"));
    usage(&t, &["-n1q", "f1"], &lines("1q"));
    for bad in ["1Ki", "1B", "1e", "1g", "1bb", "1c", "2Ki"] {
        usage(&t, &["-c", bad, "f1"], &bytes(bad));
    }
    // The value is read after option parsing: a bad count wins over a missing file.
    usage(&t, &["-n", "x", "missing"], &lines("x"));
}

#[test]
fn unknown_options_and_missing_values() {
    let t = TestDir::new();
    t.write("f1", b"a\nb\n");
    usage(&t, &["--bogus"], &format!("rtail: unrecognized option '--bogus'\n{TRY}"));
    // Not -x: rtail uses it for --exclude.
    usage(&t, &["-y"], &format!("rtail: invalid option -- 'y'\n{TRY}"));
    usage(&t, &["-n1", "-y", "f1"], &format!("rtail: invalid option -- 'y'\n{TRY}"));
    for args in [&["f1", "-c"][..], &["-c"]] {
        usage(&t, args, &format!("rtail: option requires an argument -- 'c'\n{TRY}"));
    }
    usage(&t, &["f1", "-n"], &format!("rtail: option requires an argument -- 'n'\n{TRY}"));
    usage(&t, &["f1", "--lines"], &format!("rtail: option '--lines' requires an argument\n{TRY}"));
    usage(&t, &["--bytes"], &format!("rtail: option '--bytes' requires an argument\n{TRY}"));
}

#[test]
fn bad_follow_arguments_fail_before_following() {
    let t = TestDir::new();
    t.write("f", b"a\n");
    usage(&t, &["-s", "abc", "-f", "f"], "rtail: invalid number of seconds: 'abc'\n");
}

#[test]
fn invalid_follow_argument_names_the_option() {
    // Scenario 7. rtail printed `for '--follow['`: the option name was cut from clap's
    // `--follow[=<HOW>]` at ' ' or '=' only.
    let t = TestDir::new();
    t.write("f", b"a\n");
    usage(
        &t,
        &["--follow=foo", "f"],
        &format!(
            "rtail: invalid argument 'foo' for '--follow'\nValid arguments are:\n  - 'descriptor'\n  - 'name'\n{TRY}"
        ),
    );
}

#[test]
fn count_sign_is_only_read_from_the_first_character() {
    // GNU checks for `+` (from start) or `-` (dropped) at the very first character only; the rest
    // goes to xstrtoumax, which skips leading blanks and accepts one `+` but never a `-`.
    let t = TestDir::new();
    t.write("f1", b"a\nb\n");
    ok(&t, &["-n", " +1", "f1"], b"", b"b\n");
    ok(&t, &["-n", "\t+1", "f1"], b"", b"b\n");
    ok(&t, &["-n", "-+1", "f1"], b"", b"b\n");
    ok(&t, &["-n", "- 1", "f1"], b"", b"b\n");
    ok(&t, &["-n", "- +1", "f1"], b"", b"b\n");
    ok(&t, &["-n", " 1", "f1"], b"", b"b\n");
    usage(&t, &["-n", " -1", "f1"], "rtail: invalid number of lines: ' -1'\n");
}

#[test]
fn invalid_count_message_quotes_the_value_after_a_leading_minus() {
    // GNU drops a leading `-` before parsing, and its message quotes what is left.
    let t = TestDir::new();
    t.write("f1", b"a\nb\n");
    usage(&t, &["-n", "-abc", "f1"], "rtail: invalid number of lines: 'abc'\n");
    usage(&t, &["-n", "--1", "f1"], "rtail: invalid number of lines: '-1'\n");
    usage(&t, &["-n", "-", "f1"], "rtail: invalid number of lines: ''\n");
    usage(&t, &["-c", "-x", "f1"], "rtail: invalid number of bytes: 'x'\n");
    usage(&t, &["-c", "-++1", "f1"], "rtail: invalid number of bytes: '++1'\n");
}

#[test]
fn dash_inside_a_short_option_cluster_is_an_invalid_option() {
    let t = TestDir::new();
    t.write("f1", b"a\n");
    usage(&t, &["-q-", "f1"], &format!("rtail: invalid option -- '-'\n{TRY}"));
}

#[test]
fn ambiguous_long_option_prefix_is_reported() {
    let t = TestDir::new();
    usage(
        &t,
        &["--ver"],
        &format!("rtail: option '--ver' is ambiguous; possibilities: '--verbose' '--version'\n{TRY}"),
    );
}

#[test]
fn odd_file_names_are_quoted_like_gnu() {
    // GNU's quoteaf: a name with a single quote (and nothing else special) goes in double quotes;
    // control bytes and bytes that are not printable in the C locale become $'\ooo' pieces.
    let t = TestDir::new();
    check(&t, &["it's"], b"", b"", "rtail: cannot open \"it's\" for reading: No such file or directory\n", 1);
    check(
        &t,
        &["a\nb"],
        b"",
        b"",
        "rtail: cannot open 'a'$'\\n''b' for reading: No such file or directory\n",
        1,
    );
    std::fs::create_dir(t.join("d'ir")).expect("mkdir");
    check(&t, &["d'ir"], b"", b"", "rtail: error reading \"d'ir\": Is a directory\n", 1);
    // Plain names with blanks are single-quoted; headers never quote.
    t.write("a b", b"x\n");
    check(
        &t,
        &["a b", "no such"],
        b"",
        b"==> a b <==\nx\n",
        "rtail: cannot open 'no such' for reading: No such file or directory\n",
        1,
    );
}

#[test]
fn non_utf8_file_name_is_quoted_in_octal() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let t = TestDir::new();
    let name = OsStr::from_bytes(b"x\xffy");
    let ours = t.rtail().arg(name).output().expect("run rtail");
    if gnu_present() {
        let theirs = t.gnu_tail().arg(name).output().expect("run tail");
        assert_same(&ours, &theirs, "x\\xffy");
    }
    assert_eq!(
        String::from_utf8_lossy(&ours.stderr),
        "rtail: cannot open 'x'$'\\377''y' for reading: No such file or directory\n"
    );
    assert_eq!(ours.status.code(), Some(1));
    // A header prints the raw bytes.
    std::fs::write(t.path().join(name), b"q\n").expect("write");
    let out = t.rtail().arg("-v").arg(name).output().expect("run rtail");
    assert_bytes(&out.stdout, b"==> x\xffy <==\nq\n", "header with raw name");
}

// ---------------------------------------------------------------------------------------------
// Byte exactness.
// ---------------------------------------------------------------------------------------------

/// Inputs whose bytes must come through untouched.
fn awkward_inputs() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("invalid_utf8", b"caf\xe9\n\xff\xfe\xfd\nend \xc3\x28\n".to_vec()),
        ("nul_bytes", b"a\0b\n\0\0\n\0tail\0".to_vec()),
        ("crlf", b"one\r\ntwo\r\nthree\r\n".to_vec()),
        ("cr_only", b"a\rb\rc".to_vec()),
        ("no_newline", b"first\nsecond\nlast".to_vec()),
        ("only_newlines", b"\n\n\n\n".to_vec()),
        ("empty", Vec::new()),
        ("mixed", b"a\r\n\xff\0b\r\n\0\0z".to_vec()),
    ]
}

#[test]
fn bytes_pass_through_untouched() {
    let t = TestDir::new();
    let args = ["-n1", "-n2", "-n10", "-n0", "-n+2", "-n+3", "-c1", "-c3", "-c+5", "-c100"];
    for (name, data) in awkward_inputs() {
        t.write(name, &data);
        file_and_pipe_match_model(&t, name, &data, &args, false);
        file_and_pipe_match_model(&t, name, &data, &["-n1", "-n+2"], true);
    }
}

#[test]
fn byte_exact_key_cases() {
    let t = TestDir::new();
    ok(&t, &["-n1"], b"x\n\xff\xfe\n", b"\xff\xfe\n");
    ok(&t, &["-n2"], b"a\0b\n\0\0\n\0tail\0", b"\0\0\n\0tail\0");
    ok(&t, &["-n1"], b"one\r\ntwo\r\n", b"two\r\n");
    ok(&t, &["-c3"], b"one\r\ntwo\r\n", b"o\r\n");
    ok(&t, &["-z", "-n1"], b"a\0b\n\0\0\n\0tail\0", b"tail\0");
    ok(&t, &["-z", "-n3"], b"a\0b\n\0\0\n\0tail\0", b"\0\n\0tail\0");
    ok(&t, &["-n1"], b"\n\n\n", b"\n");
    ok(&t, &["-n", "+3"], b"\n\n\n", b"\n");
}

// ---------------------------------------------------------------------------------------------
// Pipes versus regular files, and an inherited stdin offset (scenarios 6, 12, 13).
// ---------------------------------------------------------------------------------------------

#[test]
fn pipe_byte_count() {
    let t = TestDir::new();
    ok(&t, &["-c3"], b"123456", b"456");
    ok(&t, &["-c", "+3"], b"123456", b"3456");
}

#[test]
fn stdin_as_regular_file_pipe_and_operand_agree() {
    let t = TestDir::new();
    let data = varied_lines(20_000);
    let path = t.write("data", &data);
    for arg in ["-n5", "-n+100", "-n0", "-c300", "-c+19990", "-n1000"] {
        let want = model(&data, arg, b'\n');
        ok(&t, &[arg], &data, &want);
        ok(&t, &[arg, "data"], b"", &want);
        let out = run_both(&t, &[arg], || Stdio::from(File::open(&path).expect("open")));
        assert_bytes(&out.stdout, &want, &format!("{arg} < data"));
        assert_eq!(out.status.code(), Some(0));
    }
}

#[test]
fn inherited_stdin_offset_is_respected() {
    let t = TestDir::new();
    let k = t.write("k", b"1\n2\n");
    let cases: &[(&[&str], &[u8])] = &[
        (&[], b"2\n"),
        (&["-n1"], b"2\n"),
        (&["-n5"], b"2\n"),
        (&["-c1"], b"\n"),
        (&["-c9"], b"2\n"),
        (&["-n", "+1"], b"2\n"),
        (&["-c", "+2"], b"\n"),
        (&["-n", "+2"], b""),
        (&["-v", "-"], b"==> standard input <==\n2\n"),
    ];
    for &(args, want) in cases {
        let ours = after_read_line(&t, &rtail_bin(), args, &k);
        if gnu_present() {
            let theirs = after_read_line(&t, Path::new("tail"), args, &k);
            assert_same(&ours, &theirs, &format!("read x; tail {args:?} < k"));
        }
        assert_bytes(&ours.stdout, want, &format!("read x; rtail {args:?} < k"));
        assert_eq!(ours.status.code(), Some(0));
    }
}

#[test]
fn two_hundred_lines_of_1024() {
    let t = TestDir::new();
    let data: Vec<u8> = (1..=1024).flat_map(|i| format!("{i}\n").into_bytes()).collect();
    t.write("big", &data);
    let want: Vec<u8> = (825..=1024).flat_map(|i| format!("{i}\n").into_bytes()).collect();
    let out = check(&t, &["-n200", "big"], b"", &want, "", 0);
    assert_eq!(out.stdout.iter().filter(|&&b| b == b'\n').count(), 200);
    ok(&t, &["-n200"], &data, &want);
    ok(&t, &["-n2000", "big"], b"", &data);
    ok(&t, &["-n2000"], &data, &data);
}

// ---------------------------------------------------------------------------------------------
// Block boundaries (reads go backwards in 128 KiB blocks).
// ---------------------------------------------------------------------------------------------

const BOUNDARY_ARGS: &[&str] = &[
    "-n1",
    "-n2",
    "-n3",
    "-n100",
    "-n1500",
    "-n5000",
    "-n+1",
    "-n+2",
    "-n+1400",
    "-c1",
    "-c131071",
    "-c131072",
    "-c131073",
    "-c+131072",
    "-c+131073",
    "-c+131074",
];

#[test]
fn files_around_one_block_ending_mid_line() {
    let t = TestDir::new();
    for len in [BLOCK - 1, BLOCK, BLOCK + 1] {
        let mut data = varied_lines(len);
        if data.last() == Some(&b'\n') {
            *data.last_mut().expect("non-empty") = b'x';
        }
        let name = format!("mid{len}");
        t.write(&name, &data);
        file_and_pipe_match_model(&t, &name, &data, BOUNDARY_ARGS, false);
    }
}

#[test]
fn files_around_one_block_ending_with_newline() {
    let t = TestDir::new();
    for len in [BLOCK - 1, BLOCK, BLOCK + 1] {
        let mut data = varied_lines(len);
        *data.last_mut().expect("non-empty") = b'\n';
        let name = format!("nl{len}");
        t.write(&name, &data);
        file_and_pipe_match_model(&t, &name, &data, BOUNDARY_ARGS, false);
    }
}

#[test]
fn lines_crossing_the_block_boundary() {
    let t = TestDir::new();
    // A newline exactly at each offset around the last block's first byte.
    for at in [BLOCK - 2, BLOCK - 1, BLOCK, BLOCK + 1] {
        let mut data = vec![b'a'; 2 * BLOCK + 10];
        data[at] = b'\n';
        data[10] = b'\n';
        let last = data.len() - 1;
        data[last] = b'\n';
        let name = format!("cross{at}");
        t.write(&name, &data);
        file_and_pipe_match_model(&t, &name, &data, &["-n1", "-n2", "-n3", "-n4", "-n+2", "-n+3"], false);
    }
    // One line spanning the whole last block, then a short line.
    let mut data = vec![b'a'; 1000];
    data.push(b'\n');
    data.extend(std::iter::repeat_n(b'B', BLOCK + 200));
    data.extend(b"\nshort\n");
    t.write("span", &data);
    file_and_pipe_match_model(&t, "span", &data, &["-n1", "-n2", "-n3", "-c10"], false);
    ok(&t, &["-n1", "span"], b"", b"short\n");
    // Only newlines, an exact block of them plus one unterminated byte.
    let mut data = vec![b'\n'; BLOCK];
    data.push(b'x');
    t.write("nls", &data);
    file_and_pipe_match_model(
        &t,
        "nls",
        &data,
        &["-n1", "-n2", "-n131072", "-n131073", "-n+131072", "-n+131073"],
        false,
    );
    ok(&t, &["-n2", "nls"], b"", b"\nx");
}

#[test]
fn count_larger_than_the_file() {
    let t = TestDir::new();
    let data = varied_lines(3 * BLOCK + 17);
    t.write("data", &data);
    // Lines as tail counts them: an unterminated last line is one.
    let lines = data.iter().filter(|&&b| b == b'\n').count() + usize::from(data.last() != Some(&b'\n'));
    for n in [lines, lines + 1, lines * 10] {
        let arg = format!("-n{n}");
        ok(&t, &[&arg, "data"], b"", &data);
        ok(&t, &[&arg], &data, &data);
    }
    ok(&t, &["-c", "1000000", "data"], b"", &data);
    ok(&t, &["-n", "+1000000", "data"], b"", b"");
    ok(&t, &["-c", "+1000000", "data"], b"", b"");
    // One line fewer than the file has drops exactly the first line.
    let arg = format!("-n{}", lines - 1);
    ok(&t, &[&arg, "data"], b"", model_from_line(&data, 2, b'\n'));
}

// ---------------------------------------------------------------------------------------------
// Big input: one 50 MB line.
// ---------------------------------------------------------------------------------------------

#[test]
fn fifty_megabyte_single_line() {
    const LEN: usize = 50_000_000;
    let t = TestDir::new();
    let mut data = Vec::with_capacity(LEN + 16);
    data.extend(b"head\n");
    // resize is a memset even in a debug build; an iterator would take a second.
    data.resize(5 + LEN, b'y');
    data.push(b'\n');
    let path = t.write("huge", &data);
    let line = &data[5..];
    let cases: &[(&[&str], &[u8])] = &[
        (&["-n1", "huge"], line),
        (&["-c10", "huge"], b"yyyyyyyyy\n"),
        (&["-n", "+2", "huge"], line),
        (&["-c", "+49999999", "huge"], b"yyyyyyy\n"),
    ];
    for (i, &(args, want)) in cases.iter().enumerate() {
        let ours_path = t.join(&format!("ours{i}"));
        let ours = run_to_file(t.rtail().args(args), Stdio::null(), &ours_path);
        assert_eq!(ours.status.code(), Some(0), "{args:?}");
        assert_bytes(&ours.stderr, b"", &format!("stderr of {args:?}"));
        let got = std::fs::read(&ours_path).expect("read output");
        assert_bytes(&got, want, &format!("rtail {args:?}"));
        if gnu_present() {
            let theirs_path = t.join(&format!("theirs{i}"));
            let theirs = run_to_file(t.gnu_tail().args(args), Stdio::null(), &theirs_path);
            assert_eq!(theirs.status.code(), Some(0));
            let gnu = std::fs::read(&theirs_path).expect("read GNU output");
            assert_bytes(&got, &gnu, &format!("rtail vs GNU {args:?}"));
        }
        std::fs::remove_file(&ours_path).expect("remove");
    }
    // Through a pipe, the line is kept in memory as it streams in.
    let out_path = t.join("piped");
    let mut child = t
        .rtail()
        .arg("-n1")
        .stdin(Stdio::piped())
        .stdout(File::create(&out_path).expect("create"))
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut input = child.stdin.take().expect("stdin");
    let feeder = std::thread::spawn(move || {
        let data = std::fs::read(&path).expect("read");
        input.write_all(&data).expect("feed");
    });
    let status = wait_deadline(&mut child, "rtail -n1 < 50 MB pipe");
    feeder.join().expect("feeder");
    assert!(status.success());
    let got = std::fs::read(&out_path).expect("read output");
    assert_bytes(&got, line, "rtail -n1 < pipe");
}

// ---------------------------------------------------------------------------------------------
// Devices and output errors.
// ---------------------------------------------------------------------------------------------

#[test]
fn dev_zero_last_bytes_terminates() {
    // GNU 9.1 hangs on this (it reads /dev/zero forever), so it is not compared.
    let t = TestDir::new();
    for n in [4096usize, 1, 200_000] {
        let count = n.to_string();
        let mut spawned = Spawned::start(t.rtail().args(["-c", &count, "/dev/zero"]));
        assert_eq!(spawned.wait_exit(), Some(0), "-c {n} /dev/zero");
        assert_bytes(&spawned.stdout.bytes(), &vec![0u8; n], "NULs");
        assert_bytes(&spawned.stderr.bytes(), b"", "stderr");
    }
}

#[test]
fn dev_null_prints_nothing() {
    let t = TestDir::new();
    for args in [&["/dev/null"][..], &["-c", "+3", "/dev/null"], &["-n", "+1"]] {
        let out = run_both(&t, args, Stdio::null);
        assert_bytes(&out.stdout, b"", &format!("{args:?}"));
        assert_eq!(out.status.code(), Some(0));
    }
}

#[test]
fn write_error_on_a_full_device() {
    let t = TestDir::new();
    t.write("f", b"a\nb\n");
    let full = || File::options().write(true).open("/dev/full").expect("open /dev/full");
    let ours = t.rtail().arg("f").stdout(full()).stderr(Stdio::piped()).output().expect("run");
    assert_eq!(String::from_utf8_lossy(&ours.stderr), "rtail: write error: No space left on device\n");
    assert_eq!(ours.status.code(), Some(1));
    if gnu_present() {
        let theirs = t.gnu_tail().arg("f").stdout(full()).stderr(Stdio::piped()).output().expect("run");
        assert_eq!(as_rtail(&theirs.stderr), String::from_utf8_lossy(&ours.stderr));
        assert_eq!(theirs.status.code(), Some(1));
    }
    // Nothing written, nothing to fail.
    let out = t.rtail().args(["-n0", "f"]).stdout(full()).output().expect("run");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn closed_stdout_is_an_error() {
    use std::os::unix::process::CommandExt;
    let t = TestDir::new();
    t.write("f", b"a\nb\n");
    for mut cmd in [t.rtail(), t.gnu_tail()] {
        if !gnu_present() && cmd.get_program() == "tail" {
            continue;
        }
        // SAFETY: close(2) is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                libc::close(1);
                Ok(())
            });
        }
        let out = cmd.arg("f").stderr(Stdio::piped()).output().expect("run");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{:?}: {err}", cmd.get_program());
        assert!(err.contains("Bad file descriptor"), "{err}");
    }
}

// ---------------------------------------------------------------------------------------------
// Broken pipe: the reader of stdout goes away.
// ---------------------------------------------------------------------------------------------

/// Read a few bytes of `child`'s stdout, close it, and assert the child dies of SIGPIPE promptly
/// with nothing on stderr.
fn assert_dies_of_sigpipe(mut child: Child, what: &str) {
    let mut out = child.stdout.take().expect("stdout");
    let mut first = [0u8; 10];
    out.read_exact(&mut first).expect("read the first bytes");
    drop(out);
    let status = wait_deadline(&mut child, what);
    let mut err = String::new();
    child.stderr.take().expect("stderr").read_to_string(&mut err).expect("read stderr");
    assert_eq!(err, "", "{what}: stderr");
    assert_eq!(status.signal(), Some(libc::SIGPIPE), "{what}: {status:?}");
}

/// 8 MiB of lines: more than any pipe buffer holds.
fn big_lines() -> Vec<u8> {
    varied_lines(8 << 20)
}

#[test]
fn broken_pipe_on_a_regular_file_ends_with_sigpipe() {
    let t = TestDir::new();
    t.write("big", big_lines());
    for args in [
        &["-n", "+1", "big"][..],
        &["-c", "8M", "big"],
        &["-n", "100000", "big"],
        &["-q", "-n", "+1", "big", "big"],
    ] {
        let child = t
            .rtail()
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        assert_dies_of_sigpipe(child, &format!("rtail {args:?} | head -c 10"));
    }
    if gnu_present() {
        let child = t
            .gnu_tail()
            .args(["-n", "+1", "big"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        assert_dies_of_sigpipe(child, "GNU tail -n +1 big | head -c 10");
    }
}

#[test]
fn broken_pipe_while_streaming_stdin_ends_with_sigpipe() {
    let t = TestDir::new();
    for args in [&["-n", "+1"][..], &["-c", "+1"]] {
        let mut child = t
            .rtail()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut input = child.stdin.take().expect("stdin");
        // The feeder stops when rtail is gone (EPIPE: the test harness ignores SIGPIPE).
        let feeder = std::thread::spawn(move || {
            let data = big_lines();
            for _ in 0..4 {
                if input.write_all(&data).is_err() {
                    break;
                }
            }
        });
        assert_dies_of_sigpipe(child, &format!("... | rtail {args:?} | head -c 10"));
        feeder.join().expect("feeder");
    }
}

#[test]
fn broken_pipe_on_a_file_given_as_stdin() {
    let t = TestDir::new();
    let path = t.write("big", big_lines());
    let child = t
        .rtail()
        .args(["-n", "+1"])
        .stdin(File::open(&path).expect("open"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    assert_dies_of_sigpipe(child, "rtail -n +1 < big | head -c 10");
}

// ---------------------------------------------------------------------------------------------
// --help and --version.
// ---------------------------------------------------------------------------------------------

#[test]
fn help_mentions_the_options_and_exits_zero() {
    let t = TestDir::new();
    for flag in ["--help", "-h"] {
        let out = t.rtail().arg(flag).output().expect("run");
        assert_eq!(out.status.code(), Some(0), "{flag}");
        let text = String::from_utf8_lossy(&out.stdout);
        for needle in ["--lines", "--bytes", "--quiet", "--verbose", "--zero-terminated"] {
            assert!(text.contains(needle), "{flag} lacks {needle}:\n{text}");
        }
        assert_bytes(&out.stderr, b"", "stderr of --help");
    }
}

#[test]
fn version_prints_a_version() {
    let t = TestDir::new();
    let out = t.rtail().arg("--version").output().expect("run");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with(&format!("rtail {}", env!("CARGO_PKG_VERSION"))), "{text}");
    assert_bytes(&out.stderr, b"", "stderr of --version");
}
