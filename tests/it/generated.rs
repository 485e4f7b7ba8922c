//! The committed completions and man page, and the help they are made from.
//!
//! `completions/` and `man/` are generated from the one clap definition by `rtail --generate KIND`
//! and committed, so that packagers and users without a Rust toolchain get them. The first test
//! fails when they drift from the definition; `RTAIL_BLESS=1 cargo test --test it generated`
//! rewrites them. The others check that the files work: bash and zsh really complete `--fo` to
//! `--follow`, and man renders the page without warnings.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::util::{DEADLINE, TestDir, scrub};

/// Every `--generate` kind and the committed file it must equal.
const GENERATED: &[(&str, &str)] = &[
    ("man", "man/rtail.1"),
    ("complete-bash", "completions/rtail.bash"),
    ("complete-zsh", "completions/_rtail"),
    ("complete-fish", "completions/rtail.fish"),
    ("complete-powershell", "completions/_rtail.ps1"),
    ("complete-elvish", "completions/rtail.elv"),
];

const BLESS_HINT: &str = "run `RTAIL_BLESS=1 cargo test --test it generated` to regenerate them, then commit";

fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// `rtail ARGS` with a clean environment; asserts it succeeded quietly and returns stdout.
fn rtail_ok(args: &[&str]) -> Vec<u8> {
    let t = TestDir::new();
    let out = t.rtail().args(args).output().expect("run rtail");
    assert_eq!(out.status.code(), Some(0), "rtail {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "stderr of rtail {args:?}");
    out.stdout
}

fn generate(kind: &str) -> Vec<u8> {
    rtail_ok(&["--generate", kind])
}

/// The first line where two texts differ, for a failure message that says where.
fn first_difference(committed: &[u8], fresh: &[u8]) -> String {
    let (old, new) = (String::from_utf8_lossy(committed), String::from_utf8_lossy(fresh));
    let mut old_lines = old.lines();
    let mut new_lines = new.lines();
    for n in 1.. {
        match (old_lines.next(), new_lines.next()) {
            (None, None) => break,
            (a, b) if a == b => continue,
            (a, b) => return format!("line {n}: committed {a:?}, generated {b:?}"),
        }
    }
    "the line endings differ".into()
}

#[test]
fn committed_completions_and_man_page_match_the_cli_definition() {
    let bless = std::env::var_os("RTAIL_BLESS").is_some_and(|v| !v.is_empty() && v != "0");
    let mut stale = Vec::new();
    for (kind, path) in GENERATED {
        let fresh = generate(kind);
        assert!(!fresh.is_empty(), "rtail --generate {kind} printed nothing");
        let file = repo_file(path);
        if bless {
            std::fs::create_dir_all(file.parent().expect("parent")).expect("create dir");
            std::fs::write(&file, &fresh).expect("write generated file");
            eprintln!("RTAIL_BLESS: wrote {path}");
            continue;
        }
        match std::fs::read(&file) {
            Ok(committed) if committed == fresh => {}
            Ok(committed) => stale.push(format!("{path} ({})", first_difference(&committed, &fresh))),
            Err(e) => stale.push(format!("{path} (cannot read it: {e})")),
        }
    }
    assert!(
        stale.is_empty(),
        "generated files are out of date with the CLI definition in src/cli/:\n  {}\n{BLESS_HINT}",
        stale.join("\n  ")
    );
}

#[test]
fn generated_output_does_not_depend_on_the_terminal_or_the_run() {
    for (kind, _) in GENERATED {
        let plain = generate(kind);
        let t = TestDir::new();
        let mut cmd = t.rtail();
        cmd.args(["--generate", kind]).env("COLUMNS", "40").env("TERM", "xterm-256color");
        let narrow = cmd.output().expect("run rtail");
        assert_eq!(plain, narrow.stdout, "--generate {kind} changed with COLUMNS/TERM");
        assert_eq!(plain, generate(kind), "--generate {kind} changed between two runs");
    }
}

#[test]
fn man_page_has_the_sections_and_every_option() {
    let page = String::from_utf8(generate("man")).expect("man page is UTF-8");
    for section in [
        ".SH NAME",
        ".SH SYNOPSIS",
        ".SH DESCRIPTION",
        ".SH OPTIONS",
        ".SH \"EXIT STATUS\"",
        ".SH SIGNALS",
        ".SH ENVIRONMENT",
        ".SH EXAMPLES",
        ".SH \"SEE ALSO\"",
    ] {
        assert!(page.contains(&format!("\n{section}\n")), "man page lacks {section}");
    }
    // Every long option and alias that --help lists.
    let help = String::from_utf8(rtail_ok(&["--help"])).expect("help is UTF-8");
    let mut longs = Vec::new();
    for word in help.split(|c: char| c.is_whitespace() || matches!(c, ',' | '[' | ']' | '=' | '<')) {
        if let Some(name) = word.strip_prefix("--")
            && !name.is_empty()
            && name.chars().all(|c| c.is_ascii_lowercase() || c == '-')
            && !longs.contains(&name)
        {
            longs.push(name);
        }
    }
    for name in ["lines", "silent", "colour", "follow", "grep", "until", "idle-timeout", "generate"] {
        assert!(longs.contains(&name), "--help lacks --{name}: {longs:?}");
    }
    for name in &longs {
        let roff = format!("\\-\\-{}", name.replace('-', "\\-"));
        assert!(page.contains(&roff), "man page lacks --{name}");
    }
    for needle in [
        "\\fBNO_COLOR\\fR",
        "\\fBCLICOLOR_FORCE\\fR",
        "\\fB124\\fR",
        "\\fB141\\fR",
        "\\fBtail\\fR(1)",
        "\\-\\-until",
        "\\-\\- ./order",
        "mv app.log app.log.1",
    ] {
        assert!(page.contains(needle), "man page lacks {needle:?}");
    }
    // Section 1, no date (reproducible), the version as the source, the manual's name.
    let title = format!(".TH RTAIL 1 \"\" \"rtail {}\" \"User Commands\"\n", env!("CARGO_PKG_VERSION"));
    assert!(page.contains(&title), "man page lacks the title line {title:?}");
}

#[test]
fn man_page_renders_without_warnings() {
    if !have("man") {
        eprintln!("skipped: `man` is not installed (apt-get install man-db); .ci/run installs it");
        return;
    }
    let out = run_with_deadline(
        Command::new("man")
            .args(["--warnings", "-l"])
            .arg(repo_file("man/rtail.1"))
            .env("MANWIDTH", "80")
            .env("MANPAGER", "cat")
            .env("PAGER", "cat"),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "man failed: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "man --warnings complained about man/rtail.1");
    for heading in ["NAME", "SYNOPSIS", "EXIT STATUS", "SIGNALS", "ENVIRONMENT", "EXAMPLES", "SEE ALSO"] {
        assert!(text.lines().any(|l| l == heading), "rendered page lacks {heading}:\n{text}");
    }
    assert!(text.lines().all(|l| l.chars().count() <= 80), "a rendered line is wider than 80:\n{text}");
}

/// Run a bash script that sources the committed completion and prints COMPREPLY, one per line.
fn bash_complete(words: &[&str]) -> Vec<String> {
    let script = format!(
        r#"source "$1" || exit 99
COMP_WORDS=({words})
COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
COMP_LINE="${{COMP_WORDS[*]}}"
COMP_POINT=${{#COMP_LINE}}
func=$(complete -p rtail | sed -n 's/.* -F \([^ ]*\) .*/\1/p')
[ -n "$func" ] || exit 98
cur=${{COMP_WORDS[COMP_CWORD]}}
prev=${{COMP_WORDS[COMP_CWORD-1]}}
"$func" rtail "$cur" "$prev"
printf '%s\n' "${{COMPREPLY[@]}}"
"#,
        words = words.iter().map(|w| format!("'{w}'")).collect::<Vec<_>>().join(" ")
    );
    let out = run_with_deadline(
        Command::new("bash")
            .args(["--norc", "--noprofile", "-c", &script, "bash"])
            .arg(repo_file("completions/rtail.bash")),
    );
    assert!(out.status.success(), "bash completion driver failed: {out:?}");
    String::from_utf8_lossy(&out.stdout).lines().filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

#[test]
fn bash_completion_completes_fo_to_follow() {
    if !have("bash") {
        eprintln!("skipped: bash is not installed");
        return;
    }
    assert_eq!(bash_complete(&["rtail", "--fo"]), ["--follow"]);
}

#[test]
fn bash_completion_offers_the_generate_kinds() {
    if !have("bash") {
        eprintln!("skipped: bash is not installed");
        return;
    }
    let kinds = bash_complete(&["rtail", "--generate", "complete-"]);
    for kind in ["complete-bash", "complete-zsh", "complete-fish", "complete-powershell", "complete-elvish"] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} not offered: {kinds:?}");
    }
}

#[test]
fn zsh_completion_parses_and_completes_fo_to_follow() {
    if !have("zsh") {
        eprintln!("skipped: zsh is not installed (apt-get install zsh); .ci/run installs it");
        return;
    }
    let script = repo_file("completions/_rtail");
    let parse = run_with_deadline(Command::new("zsh").arg("-n").arg(&script));
    assert!(parse.status.success(), "zsh -n completions/_rtail: {}", String::from_utf8_lossy(&parse.stderr));

    // A real interactive zsh on a pseudo-terminal (zsh's zpty module), with the completion on its
    // fpath: type `rtail --fo`, TAB, then a key bound to a widget that writes the edited line
    // to a file. The driver waits for that file, up to the deadline.
    let t = TestDir::new();
    std::fs::create_dir(t.join("fpath")).expect("mkdir");
    std::fs::copy(&script, t.join("fpath/_rtail")).expect("copy _rtail");
    let result = t.join("line");
    let driver = format!(
        r#"zmodload zsh/zpty || exit 99
zpty z 'env -i HOME={home} PATH=/usr/bin:/bin TERM=dumb zsh -f -i'
zpty -w z 'fpath=({fpath} $fpath); autoload -Uz compinit; compinit -u -D'
zpty -w z 'dump() {{ print -r -- "$BUFFER" > {result}; }}; zle -N dump; bindkey "^Xd" dump'
zpty -w -n z $'rtail --fo\t\x18d'
for i in {{1..{tries}}}; do
  [[ -s {result} ]] && break
  zpty -r -t z junk
  sleep 0.05
done
zpty -d z
"#,
        home = t.path().display(),
        fpath = t.join("fpath").display(),
        result = result.display(),
        tries = DEADLINE.as_millis() / 50,
    );
    let out = run_with_deadline(Command::new("zsh").args(["-f", "-c", &driver]));
    assert!(out.status.success(), "zsh completion driver failed: {out:?}");
    let line = std::fs::read_to_string(&result).unwrap_or_default();
    assert!(
        line.trim_end().starts_with("rtail --follow"),
        "zsh completed `rtail --fo` to {line:?}, not `rtail --follow`"
    );
}

#[test]
fn short_help_is_compact_and_long_help_has_headings_examples_and_exit_status() {
    let short = String::from_utf8(rtail_ok(&["-h"])).expect("UTF-8");
    let long = String::from_utf8(rtail_ok(&["--help"])).expect("UTF-8");
    assert!(short.lines().count() < 60, "-h is {} lines long:\n{short}", short.lines().count());
    assert!(!short.contains("Example"), "-h shows examples:\n{short}");
    assert!(!short.contains("--generate"), "-h shows --generate:\n{short}");
    for heading in ["Output:", "Following:", "Filtering:", "Watching and exit:", "Child command:"] {
        assert!(short.lines().any(|l| l == heading), "-h lacks {heading}");
        assert!(long.lines().any(|l| l == heading), "--help lacks {heading}");
    }
    for needle in [
        "Installation:",
        "--generate <KIND>",
        "Example: ",
        "Exit status:",
        "Signals:",
        "124",
        "CLICOLOR_FORCE",
    ] {
        assert!(long.contains(needle), "--help lacks {needle:?}");
    }
    // The plain GNU options are grouped too, not left under the catch-all heading.
    let output_section = long.split("\nOutput:\n").nth(1).expect("Output heading");
    let output_section = output_section.split("\nFollowing:\n").next().expect("Following heading");
    for option in ["--bytes", "--lines", "--quiet", "--verbose", "--zero-terminated", "--color", "--prefix"] {
        assert!(output_section.contains(option), "{option} is not under Output:");
    }
}

#[test]
fn generate_is_checked_like_any_option_and_leaves_gnu_parsing_alone() {
    let t = TestDir::new();
    let usage = |args: &[&str], message: &str| {
        let out = t.rtail().args(args).output().expect("run rtail");
        assert_eq!(out.status.code(), Some(1), "rtail {args:?}");
        assert!(out.stdout.is_empty(), "rtail {args:?} printed to stdout");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!("{message}\nTry 'rtail --help' for more information.\n"),
            "rtail {args:?}"
        );
    };
    usage(&["--generate"], "rtail: option '--generate' requires an argument");
    usage(&["--generate", "man", "file"], "rtail: option '--generate' must be used alone");
    let out = t.rtail().args(["--generate", "troff"]).output().expect("run rtail");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).starts_with("rtail: invalid argument 'troff' for '--generate'")
    );
    // A prefix works as for every long option; the obsolete forms still do.
    assert_eq!(rtail_ok(&["--gen=complete-bash"]), generate("complete-bash"));
    t.write("f", "1\n2\n3\n4\n");
    let out = t.rtail().args(["-2", "f"]).output().expect("run rtail");
    assert_eq!((out.status.code(), out.stdout.as_slice()), (Some(0), &b"3\n4\n"[..]));
    let out = t.rtail().args(["+3", "f"]).output().expect("run rtail");
    assert_eq!((out.status.code(), out.stdout.as_slice()), (Some(0), &b"3\n4\n"[..]));
}

fn have(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// Run a helper program to completion with a clean environment, killing it at the deadline so
/// that a hung shell fails the test instead of hanging it.
fn run_with_deadline(cmd: &mut Command) -> Output {
    scrub(cmd);
    let child =
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if rx.recv_timeout(DEADLINE * 2).is_err() {
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
        }
    });
    let out = child.wait_with_output().expect("wait");
    let _ = tx.send(());
    let _ = watchdog.join();
    out
}
