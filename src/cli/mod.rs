//! The command line: clap's definition of every option and its conversion into a plain
//! [`Config`]. Only `main.rs` uses this module; the library never sees clap.
//!
//! Beside it: [`obsolete`] (GNU tail's obsolete forms, `-5`, `+5c`), [`usage`] (GNU-style usage
//! errors from clap's), [`help`] (the texts after the options) and [`generate`] (the man page
//! and shell completions, made from this one definition).
//!
//! The help texts come in two lengths: `help` is the one line `-h` shows, `long_help` is what
//! `--help` and the man page show, with an example where one helps.

mod generate;
mod help;
mod obsolete;
mod serve;
mod usage;

use std::ffi::OsString;
use std::io::{self, Write};
use std::time::Duration;

use clap::builder::{PossibleValue, PossibleValuesParser};
use clap::error::ErrorKind;
use clap::{Arg, ArgAction, ArgMatches, Command, ValueHint, value_parser};

use generate::{Generate, generate};
use help::{ABOUT, AFTER_HELP, LONG_ABOUT, after_long_help};
use obsolete::{expand_obsolete, reject_digit_options};
use usage::clap_exit;

use rtail::{Config, Count, Follow, FollowMode, Headers, Input, Patterns, Stream, Unit, parse_count};

/// The parsed command line, before it becomes a [`Config`].
#[derive(Debug)]
struct Cli {
    bytes: Option<String>,
    lines: Option<String>,
    quiet: bool,
    verbose: bool,
    zero_terminated: bool,
    color: ColorWhen,
    prefix: bool,
    json: bool,
    history: bool,
    multiline: bool,
    record_start: Option<String>,
    merge: bool,
    merge_window: Option<String>,
    since: Option<String>,
    line_number: bool,
    follow: Option<FollowHow>,
    follow_name_retry: bool,
    retry: bool,
    sleep_interval: Option<String>,
    max_unchanged_stats: Option<String>,
    pid: Vec<String>,
    poll: bool,
    grep: Vec<String>,
    exclude: Vec<String>,
    ignore_case: bool,
    until: Option<String>,
    timeout: Option<String>,
    idle_timeout: Option<String>,
    files: Vec<OsString>,
    command: Vec<OsString>,
    generate: Option<Generate>,
    serve: Option<String>,
    serve_token: Option<String>,
    serve_once: bool,
}

/// A flag (`-q`, `--poll`): present or not.
fn flag(id: &'static str) -> Arg {
    Arg::new(id).action(ArgAction::SetTrue)
}

/// An option with one value; the last one given wins.
fn single(id: &'static str, value_name: &'static str) -> Arg {
    Arg::new(id).value_name(value_name).action(ArgAction::Set)
}

/// An option that may be repeated, each value kept.
fn repeated(id: &'static str, value_name: &'static str) -> Arg {
    Arg::new(id).value_name(value_name).action(ArgAction::Append)
}

/// The values an option takes, each with its help: (value, help).
fn choices(values: &[(&'static str, &'static str)]) -> PossibleValuesParser {
    PossibleValuesParser::new(values.iter().map(|&(name, help)| PossibleValue::new(name).help(help)))
}

/// The command line's definition, with clap's builder API.
fn command() -> Command {
    Command::new("rtail")
        .version(env!("CARGO_PKG_VERSION"))
        .about(ABOUT)
        .long_about(LONG_ABOUT)
        .after_help(AFTER_HELP)
        .args_override_self(true)
        .infer_long_args(true)
        .max_term_width(100)
        .next_help_heading("Output")
        .args([
            single("bytes", "[+]NUM")
                .short('c')
                .long("bytes")
                .allow_hyphen_values(true)
                .overrides_with("lines")
                .help("Output the last NUM bytes; -c +NUM: from byte NUM on")
                .long_help(
                    "Output the last NUM bytes; or use -c +NUM to output starting with byte NUM of \
                     each file.\n\nExample: rtail -c 1K a.log b.log (the last 1024 bytes of each)",
                ),
            single("lines", "[+]NUM")
                .short('n')
                .long("lines")
                .allow_hyphen_values(true)
                .overrides_with("bytes")
                .help("Output the last NUM lines (default 10); -n +NUM: from line NUM on")
                .long_help(
                    "Output the last NUM lines, instead of the last 10; or use -n +NUM to skip NUM-1 \
                     lines at the start (-n +1: the whole file). With -f, -n 0 prints new lines only.\n\n\
                     Example: rtail -n +1 app.log | grep x (the whole file, from line 1)",
                ),
            single("since", "WHEN")
                .long("since")
                .help("Output the records stamped at WHEN or later (10m, 1h30m, 10:00…)")
                .long_help(
                    "Output every record from the first one stamped at WHEN or later, instead of the \
                     last 10 lines (-n NUM: the last NUM of those). WHEN is a duration before now \
                     (10m, 1h30m, 2d), a date and time (2026-12-01 10:00, local unless it has a zone), \
                     a date (2026-12-01), a time today (10:00), RFC 3339 (2026-12-01T10:00:00Z), \
                     today or yesterday. Each FILE's stamps are detected as for --json's ts. A file \
                     is searched by bisection, a few reads even in gigabytes, so the file must be in \
                     time order give or take 5 seconds (several processes writing one file are); a \
                     pipe is read through until the first such record. With --history the search \
                     reaches into the rotated files. A FILE with no timestamps prints nothing and \
                     makes the exit status 1. Works with -f/-F (then follows), --merge, --multiline, \
                     --grep, --json.\n\n\
                     Example: rtail --since 10m --grep ERROR app.log",
                ),
            flag("line_number")
                .long("number")
                .help("Number each line as grep -n does (line_number in --json)")
                .long_help(
                    "Print before each line its number in its file, as grep -n does (NUM:, after the \
                     -P prefix), and give it as line_number in --json (a record's first line with \
                     --multiline). Numbers count from the start of the file as it is now: after a \
                     rotation or a truncation, from 1 again. Starting in the middle of a file, its \
                     lines before are counted once (a read of the file). Lines whose number is not \
                     known (the last lines of a compressed --history file) have none.\n\n\
                     Example: rtail -n 5 --number --grep ERROR app.log",
                ),
            flag("quiet")
                .short('q')
                .long("quiet")
                .visible_alias("silent")
                // GNU's --si, beside rtail's --since.
                .alias("si")
                .overrides_with("verbose")
                .help("Never print headers giving file names"),
            flag("verbose")
                .short('v')
                .long("verbose")
                .overrides_with("quiet")
                .help("Always print headers giving file names"),
            flag("zero_terminated")
                .short('z')
                .long("zero-terminated")
                .help("Line delimiter is NUL, not newline"),
            single("color", "WHEN")
                .long("color")
                .visible_alias("colour")
                .num_args(0..=1)
                .require_equals(true)
                .default_missing_value("always")
                .default_value("auto")
                .value_parser(choices(&[
                    ("auto", "Colour when stdout is a terminal (see NO_COLOR, CLICOLOR_FORCE)"),
                    ("always", "Always colour"),
                    ("never", "Never colour"),
                ]))
                .help("When to colour level words, matches and headers")
                .long_help(
                    "Colour level words (ERROR, FATAL, CRITICAL red; WARN yellow; INFO green; DEBUG, \
                     TRACE dim), --grep and --until matches, and headers. auto colours when standard \
                     output is a terminal and NO_COLOR is unset or empty (CLICOLOR_FORCE=1 forces it); \
                     a bare --color means always.\n\nExample: rtail -F --color app.log | less -R",
                ),
            flag("prefix")
                .short('P')
                .long("prefix")
                .help("Print NAME: before every line instead of ==> NAME <== headers")
                .long_help(
                    "Print `NAME: ` before every line instead of ==> NAME <== headers, so that merged \
                     output greps well.\n\nExample: rtail -F -P *.log | grep ERROR",
                ),
            flag("history")
                .long("history")
                .help("Take the lines -n lacks from rotated files (app.log.1, .2.gz, ...)")
                .long_help(
                    "When a FILE has fewer lines than -n asks for (just after a rotation, say), take \
                     the lines it lacks from its rotated generations in the same directory: \
                     FILE.1, FILE.2.gz, ... (logrotate, Python's RotatingFileHandler), FILE-20261130 and \
                     FILE-20261130.gz (logrotate's dateext), FILE.2026-11-30_10-00 \
                     (TimedRotatingFileHandler). They are ordered by modification time and printed \
                     oldest first, then FILE, so the output reads in order; only the newest ones that \
                     are needed are read. With -n +1, every generation is printed, oldest first, then \
                     FILE. gzip is read; .bz2, .xz and .zst files are reported and skipped. Each \
                     generation is a source of its own: with headers (-v, or several FILEs) it gets its \
                     own ==> app.log.1 <== header, and with --json its own path. A damaged .gz is \
                     reported (exit status 1) and the rest is still printed. A FILE missing just now (rotated \
                     away, not yet created again) still has its generations printed, after the \
                     error. While following by name, a \
                     generation that was created and rotated away before rtail could look is read \
                     from its rotated name, whole, before the newer file (without --history too for \
                     files a pattern found, when the pattern matches the rotated names).\n\n\
                     Example: rtail --history -n 1000 -F app.log",
                ),
            flag("multiline")
                .long("multiline")
                .help("Group continuation lines with the line that starts the record")
                .long_help(
                    "Treat a log entry of several lines (a Python traceback, a Java stack trace with \
                     its `at ...` and `Caused by:` lines, a Go panic) as one record: a record starts \
                     at a line that begins with a timestamp (the layout is detected per file, as for \
                     --json's ts); in a file without timestamps, at a line that does not begin with a \
                     space or a tab. Other lines, blank ones too, continue the record before them. A \
                     record moves as one: --grep, --exclude and --until match anywhere in it and \
                     print or skip all of it, -n N counts records, and --json puts it whole in line, \
                     with \\n inside. While following, the last record is printed once the next one \
                     starts, or once its file has been quiet for 300ms, and always at the end of the \
                     run. A record longer than 1000 lines or 1 MiB is cut there, with a notice.\n\n\
                     Example: rtail -F --multiline --grep ERROR app.log",
                ),
            single("record_start", "REGEX")
                .long("record-start")
                .help("Records start at lines matching REGEX (implies --multiline)")
                .long_help(
                    "Records start at lines that match REGEX; other lines continue the record before \
                     them (implies --multiline, whose rules it replaces).\n\n\
                     Example: rtail --record-start '^(INFO|WARN|ERROR) ' -n 5 app.log",
                ),
            flag("merge")
                .long("merge")
                .help("Print the records of all FILEs in one stream, ordered by time")
                .long_help(
                    "Print the records of every FILE in one stream ordered by their timestamps (the \
                     layouts of --json's ts, detected per file), like sort -m but by time, whatever \
                     the layouts: -n applies to each FILE, then the records are merged, equal times \
                     in FILE order; within a file, records written out of order by several processes \
                     are put in order (a record up to 128 KiB late is placed right). Each line is prefixed with its \
                     FILE (as -P) instead of ==> headers when there are several. Records with no \
                     time come before the rest of their file's. While following, a record waits up \
                     to --merge-window for earlier ones still on their way from other files; one \
                     that comes later than that is printed at once, never dropped (\"late\":true \
                     in --json). Works with --multiline, --grep, --json, --since, --serve, and \
                     --history (each FILE's rotated files merged in too; with -n +1 or --since).\n\n\
                     Example: rtail --merge -n +1 web-*.log worker-*.log",
                ),
            single("merge_window", "DURATION")
                .long("merge-window")
                .hide_short_help(true)
                .help("Following with --merge: how long a record waits (default 200ms)")
                .long_help(
                    "Following with --merge: how long a record may wait for earlier records from \
                     other FILEs before it is printed (default 200ms; 0 prints at once, in arrival \
                     order). Memory is bounded by what arrives in that time, and at most 100,000 \
                     records.\n\n\
                     Example: rtail -F --merge --merge-window 500ms a.log b.log",
                ),
            flag("json")
                .long("json")
                .help("Print one JSON object per line and per notice instead of text")
                .long_help(
                    "Print one JSON object per line instead of text, for programs to read: \
                     {\"path\":\"app.log\",\"offset\":1234,\"line\":\"GET /health 200\"} for each line, \
                     where path is the FILE as given (- for standard input) and offset the byte offset \
                     of the line in the file (from 0 again after a rotation or truncation); \
                     \"ts\" is the line's time in RFC 3339, UTC, when its file has timestamps (the \
                     layout is detected from the first lines; zone-less times are local, TZ \
                     respected; a line without one takes the previous line's time); \
                     \"partial\":true marks a last line that ended without its newline; a line that is \
                     not valid UTF-8 has U+FFFD in place of the bad bytes in line, and its exact bytes \
                     in \"line_base64\". Notices become {\"path\":...,\"event\":...,\"message\":...} objects \
                     in the same stream (event: truncated, replaced, appeared, inaccessible, or gone, \
                     which has no path), between the lines they separate, and still go to standard \
                     error as text. Lines are whole: a line being written is printed once it ends. \
                     Headers, -P and colour do not apply; -c cannot be used.\n\n\
                     Example: rtail -F --json app.log | jq -r 'select(.event) | .message'",
                ),
        ])
        .next_help_heading("Following")
        .args([
            single("follow", "HOW")
                .short('f')
                .long("follow")
                .num_args(0..=1)
                .require_equals(true)
                .default_missing_value("descriptor")
                .value_parser(choices(&[
                    ("descriptor", "Follow the open file descriptor"),
                    ("name", "Follow the file name, reopening it after rotation"),
                ]))
                .help("Output appended data as the file grows")
                .long_help(
                    "Output appended data as the file grows; HOW is `descriptor` (the default for -f: \
                     keep reading the open file even if renamed) or `name` (reopen the name after \
                     rotation).\n\nExample: rtail -f build.log",
                ),
            flag("follow_name_retry")
                .short('F')
                .help("Same as --follow=name --retry: the right choice for logs")
                .long_help(
                    "Same as --follow=name --retry: follow a log by name across rotation (rename, \
                     truncation, copytruncate, deletion and re-creation), and wait for it while it is \
                     missing. The right choice for logs. More files than the open-file limit \
                     allows (a pattern matching thousands): the least recently changed are closed \
                     while quiet and opened again when they change; what is written to a closed \
                     file just before it is renamed away or deleted is missed.\n\n\
                     Example: rtail -F /var/log/app.log",
                ),
            // GNU's abbreviations (--r, --re) keep GNU's meaning beside rtail's --record-start.
            flag("retry")
                .long("retry")
                .aliases(["r", "re"])
                .help("Keep trying to open a file that is missing or unreadable"),
            single("sleep_interval", "N")
                .short('s')
                .long("sleep-interval")
                .help("Seconds between polls, where polling is needed (default 1.0)")
                .long_help(
                    "Poll every N seconds (default 1.0) where change notifications are not available \
                     (network and FUSE file systems, standard input, --poll).",
                ),
            single("max_unchanged_stats", "N")
                .long("max-unchanged-stats")
                .alias("m")
                .hide_short_help(true)
                .help("Accepted for GNU compatibility")
                .long_help(
                    "Accepted for GNU compatibility. rtail's poll re-checks the name on every tick, so \
                     the GNU default of reopening after N unchanged polls is always met.",
                ),
            repeated("pid", "PID")
                .long("pid")
                .alias("p")
                .help("With -f: end after process PID dies (repeatable)")
                .long_help(
                    "With -f: end after process PID dies (repeatable: after all of them), once the \
                     files have been read to their end.\n\n\
                     Example: rtail -F --pid=\"$(pgrep -n myd)\" myd.log",
                ),
            flag("poll").long("poll").help("Poll with stat instead of change notifications").long_help(
                "Poll with stat instead of change notifications: for NFS, CIFS, FUSE or bind mounts \
                     where notifications do not arrive (those are detected and polled anyway).",
            ),
        ])
        .next_help_heading("Filtering")
        .args([
            repeated("grep", "REGEX")
                .short('g')
                .long("grep")
                .help("Print only lines matching REGEX (repeatable: lines matching any)")
                .long_help(
                    "Print only lines matching REGEX (repeatable: lines matching any). The syntax is \
                     that of Rust's regex crate; matching is on bytes, so lines that are not UTF-8 \
                     are matched too.\n\nExample: rtail -F -g 'ERROR|WARN' app.log",
                ),
            repeated("exclude", "REGEX")
                .short('x')
                .long("exclude")
                .help("Do not print lines matching REGEX (repeatable)")
                .long_help(
                    "Do not print lines matching REGEX (repeatable; applied after --grep).\n\n\
                     Example: rtail -F -x healthcheck access.log",
                ),
            flag("ignore_case")
                .short('i')
                .long("ignore-case")
                .help("Match --grep, --exclude and --until without regard to case")
                .long_help(
                    "Match --grep, --exclude and --until without regard to case.\n\n\
                     Example: rtail -F -i -g error app.log",
                ),
        ])
        .next_help_heading("Watching and exit")
        .args([
            single("until", "REGEX")
                .long("until")
                .help("Exit 0 right after printing the first line matching REGEX")
                .long_help(
                    "Exit 0 right after printing the first line matching REGEX; a child command is \
                     stopped. Lines of the initial output count too (a line written just before rtail \
                     started is seen); use -n 0 for new lines only.\n\n\
                     Example: rtail -F -n 0 --until 'listening on' server.log",
                ),
            single("timeout", "DURATION")
                .long("timeout")
                .help("Give up after DURATION (500ms, 30s, 2m, 1h): exit 124")
                .long_help(
                    "Give up after DURATION (500ms, 30s, 2m, 1h): exit 124 with a message, stopping \
                     the child command. With --until: the line did not come in time.\n\n\
                     Example: rtail -F -n 0 --until 'listening on' --timeout 30s server.log",
                ),
            single("idle_timeout", "DURATION")
                .long("idle-timeout")
                .help("Exit 0 once no file has produced a new line for DURATION")
                .long_help(
                    "Exit 0 once no file has produced a new line for DURATION (500ms, 30s, 2m, 1h).\n\n\
                     Example: rtail -F --idle-timeout 10s build.log",
                ),
        ])
        .next_help_heading("Web view")
        .args(serve::args())
        .next_help_heading(None)
        .arg(
            repeated("files", "FILE")
                .num_args(1..)
                .value_parser(value_parser!(OsString))
                .value_hint(ValueHint::FilePath)
                .help("Files to read; `-` is standard input; a quoted name with * ? [ { is a pattern"),
        )
        .next_help_heading("Child command")
        .arg(
            repeated("command", "COMMAND")
                .num_args(1..)
                .last(true)
                .value_parser(value_parser!(OsString))
                .value_hint(ValueHint::CommandWithArguments)
                .help("Run COMMAND beside the files, or follow its output; exit with its status")
                .long_help(
                    "With FILEs before `--`: run COMMAND while following them (watching starts \
                     first, so nothing it writes is missed); when it exits, read the files to their \
                     end and exit with its status. Implies -F unless -f is given.\n\n\
                     With no FILE: COMMAND's own output is what is followed, as it is written: its \
                     standard output goes through a pseudo-terminal, so programs print it line by \
                     line without flush, -u or stdbuf; its standard error is read apart (on the \
                     terminal it stays on standard error; JSON and the web page name it \
                     'COMMAND (stderr)'; the order between the two is the order they were read). \
                     Its whole output is shown. It is asked not to colour (NO_COLOR=1) unless colour \
                     is on or --serve shows it. When it exits, \
                     `{\"event\":\"exited\"}` says so (and 'rtail: command exited with status N'); \
                     its status is ours, unless --until, --timeout, --idle-timeout or the web page \
                     ended the run first (then the command is stopped, with what it started).\n\n\
                     This needs one of rtail's own options (--until, --timeout, --idle-timeout, \
                     --grep, --exclude, -i, --prefix, --color, --json, --serve...) and none about \
                     files (-n, -c, -f, -F, --retry, -s, --poll, --max-unchanged-stats): otherwise \
                     `--` only ends the options, as in GNU tail, and the words after it are files.\n\n\
                     Examples: rtail svc.log -- ./run-tests.sh\n          \
                     rtail --until 'listening on' --timeout 30s -- python3 app.py",
                ),
        )
        .next_help_heading("Installation")
        .arg(
            single("generate", "KIND")
                .long("generate")
                .value_parser(choices(&[
                    ("man", "The man page (roff), as in man/rtail.1"),
                    ("complete-bash", "Bash completion script"),
                    ("complete-zsh", "Zsh completion script"),
                    ("complete-fish", "Fish completion script"),
                    ("complete-powershell", "PowerShell completion script"),
                    ("complete-elvish", "Elvish completion script"),
                ]))
                .exclusive(true)
                .hide_short_help(true)
                .help("Print the man page or a shell completion script, and exit")
                .long_help(
                    "Print the man page or a shell completion script to standard output, and exit. \
                     Both are made from this command line's definition.\n\n\
                     Example: rtail --generate man > ~/.local/share/man/man1/rtail.1",
                ),
        )
}

impl Cli {
    fn from_matches(m: &mut ArgMatches) -> Cli {
        let text = |m: &mut ArgMatches, id: &str| m.remove_one::<String>(id);
        let texts = |m: &mut ArgMatches, id: &str| m.remove_many::<String>(id).map(Vec::from_iter);
        let words = |m: &mut ArgMatches, id: &str| m.remove_many::<OsString>(id).map(Vec::from_iter);
        let color = match text(m, "color").as_deref() {
            Some("always") => ColorWhen::Always,
            Some("never") => ColorWhen::Never,
            _ => ColorWhen::Auto,
        };
        let follow = text(m, "follow").map(|how| match how.as_str() {
            "name" => FollowHow::Name,
            _ => FollowHow::Descriptor,
        });
        let generate = text(m, "generate").map(|kind| match kind.as_str() {
            "man" => Generate::Man,
            "complete-bash" => Generate::CompleteBash,
            "complete-zsh" => Generate::CompleteZsh,
            "complete-fish" => Generate::CompleteFish,
            "complete-powershell" => Generate::CompletePowershell,
            _ => Generate::CompleteElvish,
        });
        Cli {
            bytes: text(m, "bytes"),
            lines: text(m, "lines"),
            quiet: m.get_flag("quiet"),
            verbose: m.get_flag("verbose"),
            zero_terminated: m.get_flag("zero_terminated"),
            color,
            prefix: m.get_flag("prefix"),
            json: m.get_flag("json"),
            history: m.get_flag("history"),
            multiline: m.get_flag("multiline"),
            record_start: text(m, "record_start"),
            merge: m.get_flag("merge"),
            merge_window: text(m, "merge_window"),
            since: text(m, "since"),
            line_number: m.get_flag("line_number"),
            follow,
            follow_name_retry: m.get_flag("follow_name_retry"),
            retry: m.get_flag("retry"),
            sleep_interval: text(m, "sleep_interval"),
            max_unchanged_stats: text(m, "max_unchanged_stats"),
            pid: texts(m, "pid").unwrap_or_default(),
            poll: m.get_flag("poll"),
            grep: texts(m, "grep").unwrap_or_default(),
            exclude: texts(m, "exclude").unwrap_or_default(),
            ignore_case: m.get_flag("ignore_case"),
            until: text(m, "until"),
            timeout: text(m, "timeout"),
            idle_timeout: text(m, "idle_timeout"),
            files: words(m, "files").unwrap_or_default(),
            command: words(m, "command").unwrap_or_default(),
            generate,
            serve: text(m, "serve"),
            serve_token: text(m, "serve_token"),
            serve_once: m.get_flag("serve_once"),
        }
    }
}

/// `--color=WHEN`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ColorWhen {
    Auto,
    Always,
    Never,
}

impl ColorWhen {
    fn resolve(self) -> bool {
        let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
        match self {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto if set("NO_COLOR") => false,
            ColorWhen::Auto
                if set("CLICOLOR_FORCE") && std::env::var_os("CLICOLOR_FORCE").is_some_and(|v| v != "0") =>
            {
                true
            }
            ColorWhen::Auto => std::io::IsTerminal::is_terminal(&std::io::stdout()),
        }
    }
}

/// `500ms`, `30s`, `2m`, `1h`, or a plain number of seconds (fractions allowed).
fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().ok()?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => return None,
    };
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds.min(1e9)))
}

fn duration_option(text: &Option<String>, option: &str) -> Result<Option<Duration>, Exit> {
    text.as_deref()
        .map(|t| {
            parse_duration(t).ok_or_else(|| {
                Exit::Invalid(format!("invalid duration for --{option}: '{t}' (use e.g. 500ms, 30s, 2m, 1h)"))
            })
        })
        .transpose()
}

/// `--follow=HOW`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FollowHow {
    Descriptor,
    Name,
}

/// A command line that cannot run: print the message, GNU's hint, exit 1.
#[derive(Debug)]
pub enum Exit {
    /// A usage error: `rtail: {0}` and the `--help` hint.
    Usage(String),
    /// A bad option value: `rtail: {0}`, no hint (as GNU).
    Invalid(String),
    /// Help, version, or `--generate` output was printed: exit 0.
    Printed,
}

/// Parse the process arguments into a [`Config`].
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Config, Exit> {
    let mut args: Vec<OsString> = args.into_iter().collect();
    if args.is_empty() {
        args.push("rtail".into());
    }
    let args = serve::join_value(expand_obsolete(args));
    reject_digit_options(&args)?;
    let mut matches = match command().try_get_matches_from(&args) {
        Ok(matches) => matches,
        // The examples and tables after `--help`'s options are only made when they are shown.
        Err(e) if e.kind() == ErrorKind::DisplayHelp => {
            let e =
                command().after_long_help(after_long_help()).try_get_matches_from(&args).err().unwrap_or(e);
            return Err(clap_exit(e, &args));
        }
        Err(e) => return Err(clap_exit(e, &args)),
    };
    let cli = Cli::from_matches(&mut matches);
    if let Some(kind) = cli.generate {
        let mut stdout = io::stdout().lock();
        return match generate(kind, &mut stdout).and_then(|()| stdout.flush()) {
            // As with --help: a reader that went away is not an error.
            Ok(()) => Err(Exit::Printed),
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Err(Exit::Printed),
            Err(e) => Err(Exit::Invalid(rtail::Error::Write(e).to_string())),
        };
    }
    cli.into_config()
}

impl Cli {
    /// Whether an option GNU tail lacks, for waiting or for showing output, was given: then
    /// `-- COMMAND` with no FILE runs COMMAND and follows its output.
    fn uses_own_options(&self) -> bool {
        self.until.is_some()
            || self.timeout.is_some()
            || self.idle_timeout.is_some()
            || !self.grep.is_empty()
            || !self.exclude.is_empty()
            || self.ignore_case
            || self.prefix
            || self.json
            || self.color != ColorWhen::Auto
            || self.serve.is_some()
            || self.serve_once
            || self.serve_token.is_some()
    }

    /// Whether an option that only concerns files was given (where to start, how to follow):
    /// then the words after `--` are files.
    fn uses_file_options(&self) -> bool {
        self.lines.is_some()
            || self.bytes.is_some()
            || self.since.is_some()
            || self.follow.is_some()
            || self.follow_name_retry
            || self.retry
            || self.sleep_interval.is_some()
            || self.max_unchanged_stats.is_some()
            || self.poll
    }

    fn into_config(mut self) -> Result<Config, Exit> {
        let mut count = Count::default();
        if let Some(text) = &self.bytes {
            count = number(text, Unit::Bytes, "bytes")?;
        } else if let Some(text) = &self.lines {
            count = number(text, Unit::Lines, "lines")?;
        }
        if self.json && count.unit == Unit::Bytes {
            return Err(Exit::Invalid(
                "--json prints lines, not bytes: it cannot be used with -c/--bytes".into(),
            ));
        }
        let headers = if self.quiet {
            Headers::Never
        } else if self.verbose {
            Headers::Always
        } else {
            Headers::Auto
        };
        // `FILE... -- COMMAND` runs COMMAND beside the files. With no FILE before `--`, a
        // command line GNU tail would take means what it means to GNU tail (`--` ends the
        // options, the words after it are files), and so does one with an option about files;
        // one with rtail's own options for waiting or showing output, and none about files,
        // makes the command's output the source.
        let reads_command = self.files.is_empty()
            && !self.command.is_empty()
            && self.uses_own_options()
            && !self.uses_file_options();
        if self.files.is_empty() && !reads_command {
            self.files = std::mem::take(&mut self.command);
        }
        let inputs: Vec<Input> = if reads_command {
            vec![Input::Command(Stream::Stdout), Input::Command(Stream::Stderr)]
        } else if self.files.is_empty() {
            vec![Input::Stdin]
        } else {
            self.files.into_iter().map(Input::from_operand).collect()
        };
        let mut sleep_interval = Duration::from_secs(1);
        if let Some(text) = &self.sleep_interval {
            sleep_interval = parse_seconds(text)
                .ok_or_else(|| Exit::Invalid(format!("invalid number of seconds: '{text}'")))?;
        }
        if let Some(text) = &self.max_unchanged_stats
            && text.trim().parse::<u64>().is_err()
        {
            return Err(Exit::Invalid(format!(
                "invalid maximum number of unchanged stats between opens: '{text}'"
            )));
        }
        let mut pids = Vec::with_capacity(self.pid.len());
        for text in &self.pid {
            match text.trim().parse::<i32>() {
                Ok(pid) if pid > 0 => pids.push(pid),
                _ => return Err(Exit::Invalid(format!("invalid PID: '{text}'"))),
            }
        }
        let with_child = !self.command.is_empty();
        let serve = serve::settings(self.serve.take(), self.serve_token.take(), self.serve_once)?;
        // A pipe on standard input (`ssh host tail -F x | rtail --serve`) may never end: its
        // last lines would never come. The page shows it as it comes, unless -n/-c say.
        if serve.is_some()
            && self.lines.is_none()
            && self.bytes.is_none()
            && inputs == [Input::Stdin]
            && stdin_is_a_stream()
        {
            count = Count { unit: Unit::Lines, n: 1, from_start: true };
        }
        if self.history && count.unit == Unit::Bytes {
            return Err(Exit::Invalid(
                "--history counts lines back through rotated files: it cannot be used with -c/--bytes".into(),
            ));
        }
        if self.merge && count.unit == Unit::Bytes {
            return Err(Exit::Invalid(
                "--merge orders records by time: it cannot be used with -c/--bytes".into(),
            ));
        }
        // (--since without -n prints every record from its time on.)
        let all = count == Count::ALL || (self.since.is_some() && self.lines.is_none());
        if self.merge && self.history && !all {
            return Err(Exit::Invalid(
                "--merge with --history merges whole rotated files: give -n +1, or --since without -n".into(),
            ));
        }
        let since = match &self.since {
            None => None,
            Some(when) => Some(rtail::parse_since(when).map_err(|e| Exit::Usage(format!("--since: {e}")))?),
        };
        if since.is_some() {
            if count.unit == Unit::Bytes {
                return Err(Exit::Invalid(
                    "--since starts at a record's time: it cannot be used with -c/--bytes".into(),
                ));
            }
            if count.from_start && self.lines.is_some() {
                return Err(Exit::Invalid(
                    "--since says where output starts: it cannot be used with -n +NUM".into(),
                ));
            }
            if self.lines.is_none() {
                // Every record from WHEN on, not the last 10 of them.
                count = Count { unit: Unit::Lines, n: 1, from_start: true };
            }
        }
        if self.line_number && count.unit == Unit::Bytes {
            return Err(Exit::Invalid("--number numbers lines: it cannot be used with -c/--bytes".into()));
        }
        if self.line_number && self.merge {
            return Err(Exit::Invalid(
                "--number cannot be used with --merge yet: a merged file's lines are reordered".into(),
            ));
        }
        if self.merge_window.is_some() && !self.merge {
            return Err(Exit::Invalid("--merge-window is for --merge".into()));
        }
        if (self.multiline || self.record_start.is_some()) && count.unit == Unit::Bytes {
            return Err(Exit::Invalid(
                "--multiline groups lines into records: it cannot be used with -c/--bytes".into(),
            ));
        }
        if serve.is_some() && count.unit == Unit::Bytes {
            return Err(Exit::Invalid(
                "--serve shows lines, not bytes: it cannot be used with -c/--bytes".into(),
            ));
        }
        let mode = match (self.follow_name_retry, self.follow) {
            (true, _) | (false, Some(FollowHow::Name)) => Some(FollowMode::Name),
            (false, Some(FollowHow::Descriptor)) => Some(FollowMode::Descriptor),
            // A child command or the web view means following: -F unless said otherwise (-f
            // for standard input, which has no name).
            (false, None) if serve.is_some() && !with_child && inputs.contains(&Input::Stdin) => {
                Some(FollowMode::Descriptor)
            }
            (false, None) if with_child || serve.is_some() => Some(FollowMode::Name),
            (false, None) => None,
        };
        let implied = (with_child || serve.is_some()) && !self.follow_name_retry && self.follow.is_none();
        let follow = mode.map(|mode| Follow {
            mode,
            retry: self.retry || self.follow_name_retry || (implied && mode == FollowMode::Name),
            sleep_interval,
            poll: self.poll,
        });
        if mode == Some(FollowMode::Name) && inputs.contains(&Input::Stdin) {
            return Err(Exit::Invalid("cannot follow '-' by name".into()));
        }
        Ok(Config {
            inputs,
            count,
            headers,
            delimiter: if self.zero_terminated { 0 } else { b'\n' },
            follow,
            retry_requested: self.retry,
            pids,
            patterns: Patterns {
                grep: self.grep,
                exclude: self.exclude,
                until: self.until,
                ignore_case: self.ignore_case,
            },
            timeout: duration_option(&self.timeout, "timeout")?,
            idle_timeout: duration_option(&self.idle_timeout, "idle-timeout")?,
            // Colour never applies to JSON.
            color: self.color.resolve() && !self.json,
            prefix: self.prefix,
            command: self.command,
            json: self.json,
            serve,
            history: self.history,
            multiline: self.multiline || self.record_start.is_some(),
            record_start: self.record_start,
            merge: self.merge,
            merge_window: match &self.merge_window {
                Some(_) => duration_option(&self.merge_window, "merge-window")?.unwrap_or_default(),
                None => rtail::DEFAULT_MERGE_WINDOW,
            },
            since,
            line_number: self.line_number,
        })
    }
}

/// Whether standard input is a pipe, socket or device rather than a file that has an end.
fn stdin_is_a_stream() -> bool {
    use std::os::fd::AsFd;
    let Ok(fd) = io::stdin().as_fd().try_clone_to_owned() else {
        return false;
    };
    std::fs::File::from(fd).metadata().is_ok_and(|m| !m.is_file())
}

/// GNU's `-s`: a non-negative decimal number of seconds (fractions allowed).
fn parse_seconds(text: &str) -> Option<Duration> {
    let value: f64 = text.trim().parse().ok()?;
    (value.is_finite() && value >= 0.0).then(|| Duration::from_secs_f64(value.min(1e9)))
}

fn number(text: &str, unit: Unit, what: &str) -> Result<Count, Exit> {
    // GNU quotes what follows a leading `-`, which it had already taken off.
    let shown = text.strip_prefix('-').unwrap_or(text);
    let (from_start, n) =
        parse_count(text).map_err(|_| Exit::Invalid(format!("invalid number of {what}: '{shown}'")))?;
    Ok(Count { unit, n, from_start })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_valid() {
        command().debug_assert();
    }

    #[test]
    fn every_option_sits_under_a_heading_with_a_one_line_help() {
        let cmd = command();
        for arg in cmd.get_arguments() {
            let id = arg.get_id().as_str();
            if matches!(id, "help" | "version" | "files") {
                continue;
            }
            assert!(arg.get_help_heading().is_some(), "{id} has no help heading");
            let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
            assert!(!help.is_empty() && !help.contains('\n') && help.len() <= 72, "{id}: -h text {help:?}");
        }
    }

    fn config(args: &[&str]) -> Result<Config, Exit> {
        parse(args.iter().map(OsString::from))
    }

    /// The message of a refused command line, and whether it was a usage error (with GNU's hint).
    fn refusal(args: &[&str]) -> (bool, String) {
        match config(args) {
            Err(Exit::Usage(message)) => (true, message),
            Err(Exit::Invalid(message)) => (false, message),
            other => panic!("{args:?} was not refused: {other:?}"),
        }
    }

    const JSON_WITH_BYTES: &str = "--json prints lines, not bytes: it cannot be used with -c/--bytes";

    #[test]
    fn json_is_off_unless_asked_for() {
        assert!(!config(&["rtail", "f"]).expect("parses").json);
        let c = config(&["rtail", "--json", "-n", "+1", "f"]).expect("parses");
        assert!(c.json);
        assert_eq!(c.count, Count { unit: Unit::Lines, n: 1, from_start: true });
    }

    #[test]
    fn json_turns_colour_off_and_leaves_headers_and_prefix_as_given() {
        let c = config(&["rtail", "--json", "--color=always", "-v", "-P", "a", "b"]).expect("parses");
        assert!(c.json && !c.color);
        assert!(c.prefix);
        assert_eq!(c.headers, Headers::Always);
        // Without --json the same colour option colours.
        assert!(config(&["rtail", "--color=always", "f"]).expect("parses").color);
        assert!(!config(&["rtail", "--color", "--json", "f"]).expect("parses").color);
    }

    #[test]
    fn json_with_bytes_is_refused_without_the_usage_hint() {
        for args in [
            &["rtail", "--json", "-c", "5", "f"][..],
            &["rtail", "-c", "5", "--json", "f"],
            &["rtail", "--json", "--bytes=+1", "f"],
            &["rtail", "--json", "-c0", "f"],
            // The last of -n and -c wins, as in GNU tail.
            &["rtail", "--json", "-n", "2", "-c", "5", "f"],
        ] {
            assert_eq!(refusal(args), (false, JSON_WITH_BYTES.to_string()), "{args:?}");
        }
        assert!(config(&["rtail", "--json", "-c", "5", "-n", "2", "f"]).expect("-n wins").json);
        // A bad count is reported as such first.
        assert_eq!(
            refusal(&["rtail", "--json", "-c", "x", "f"]),
            (false, "invalid number of bytes: 'x'".into())
        );
    }

    #[test]
    fn json_does_not_combine_with_the_obsolete_forms() {
        // As in GNU tail, `-5c` is only an obsolete form as the sole option; beside another
        // option its digit is refused.
        let digit = (false, "option used in invalid context -- 5".to_string());
        assert_eq!(refusal(&["rtail", "-5c", "--json", "f"]), digit);
        assert_eq!(refusal(&["rtail", "--json", "-5c", "f"]), digit);
        // `+5c` beside another option is a file name, as in GNU tail.
        let c = config(&["rtail", "--json", "+5c"]).expect("parses");
        assert_eq!(c.inputs, [Input::Path("+5c".into())]);
        assert_eq!(c.count, Count::default());
    }
}
