//! `--json` on the command line, through the real binary: it parses, sits in the help's Output
//! group, refuses -c (exit 1, GNU-style message without the usage hint), and turns colour off.
//! What the JSON lines hold is tests/it/json.rs's.

use crate::util::TestDir;

const JSON_WITH_BYTES: &str = "rtail: --json prints lines, not bytes: it cannot be used with -c/--bytes\n";

#[test]
fn json_parses_and_prints_json_lines() {
    let t = TestDir::new();
    t.write("f", "1\n2\n3\n");
    let out = t.rtail().args(["--json", "-n", "2", "f"]).output().expect("run rtail");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let value: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        assert_eq!(value["path"], "f", "{line}");
    }
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2);
}

#[test]
fn json_with_bytes_is_refused_with_status_1() {
    let t = TestDir::new();
    t.write("f", "1\n2\n3\n");
    for args in [
        &["--json", "-c", "5", "f"][..],
        &["-c", "5", "--json", "f"],
        &["--json", "--bytes=+2", "f"],
        &["--json", "-n", "2", "-c", "5", "f"],
    ] {
        let out = t.rtail().args(args).output().expect("run rtail");
        assert_eq!(out.status.code(), Some(1), "rtail {args:?}");
        assert!(out.stdout.is_empty(), "rtail {args:?} printed {:?}", String::from_utf8_lossy(&out.stdout));
        assert_eq!(String::from_utf8_lossy(&out.stderr), JSON_WITH_BYTES, "rtail {args:?}");
    }
    // The obsolete -5c is only one beside no other option (GNU's rule), so it is refused there.
    let out = t.rtail().args(["-5c", "--json", "f"]).output().expect("run rtail");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "rtail: option used in invalid context -- 5\n");
}

#[test]
fn json_with_color_always_prints_no_colour() {
    let t = TestDir::new();
    t.write("f", "ERROR one\nWARN two\n");
    let out = t.rtail().args(["--json", "--color=always", "-g", "ERROR", "f"]).output().expect("run rtail");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(!out.stdout.contains(&0x1b), "escape codes in {:?}", String::from_utf8_lossy(&out.stdout));
    let value: serde_json::Value =
        serde_json::from_slice(out.stdout.trim_ascii_end()).expect("one JSON line");
    assert_eq!(value["line"], "ERROR one");
    // The same without --json is coloured.
    let out = t.rtail().args(["--color=always", "-g", "ERROR", "f"]).output().expect("run rtail");
    assert!(out.stdout.contains(&0x1b), "no colour in {:?}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn json_is_in_the_output_group_of_both_helps() {
    let t = TestDir::new();
    for help in ["-h", "--help"] {
        let out = t.rtail().arg(help).output().expect("run rtail");
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8_lossy(&out.stdout);
        let output = text.split("\nOutput:\n").nth(1).expect("Output heading");
        let output = output.split("\nFollowing:\n").next().expect("Following heading");
        assert!(output.contains("      --json"), "rtail {help}: --json is not under Output:\n{text}");
    }
}
