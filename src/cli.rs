//! The command line: clap's definition, GNU tail's obsolete forms (`-5`, `+5c`), GNU-style usage
//! errors, the conversion into a plain [`Config`], and `--generate` (the man page and the shell
//! completions, made from this one definition). Only `main.rs` uses this module.
//!
//! The help texts come in two lengths: `help` is the one line `-h` shows, `long_help` is what
//! `--help` and the man page show, with an example where one helps. The exit statuses, signals,
//! environment and examples are tables here, rendered both into `--help` and into the man page.

use std::ffi::OsString;
use std::io::{self, Write};

use clap::builder::{PossibleValue, PossibleValuesParser};
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Arg, ArgAction, ArgMatches, Command, ValueHint, value_parser};
use clap_mangen::roff::{Roff, bold, italic, roman};
use std::time::Duration;

use rtail::{Config, Count, Follow, FollowMode, Headers, Input, Patterns, Unit, parse_count};

const ABOUT: &str = "Print the last 10 lines of each FILE to standard output (GNU tail compatible).";

const LONG_ABOUT: &str = "\
Print the last 10 lines of each FILE to standard output, as GNU tail does (same options, \
defaults, headers, messages and exit statuses), and follow logs by name across every kind of \
rotation, printing each appended line exactly once and in order.

With more than one FILE, precede each with a header giving the file name. With no FILE, or \
when FILE is -, read standard input.

NUM may have a multiplier suffix: b 512, kB 1000, K 1024, MB 1000*1000, M 1024*1024, GB, G, T, \
P, E, Z, Y, R, Q (and KiB, MiB, ... for the binary ones).

On top of GNU tail, rtail filters lines (--grep, --exclude), ends by itself when a line \
appears or time runs out (--until, --timeout, --idle-timeout), colours and prefixes its output, \
and can run a command while it follows the logs (rtail FILE... -- COMMAND), which is what \
integration tests and scripts need.";

const AFTER_HELP: &str = "\
NUM may have a multiplier suffix: K 1024, M 1024*1024, G, ..., kB 1000, MB, ..., b 512.
With no FILE, or when FILE is -, read standard input.
'rtail --help' shows examples, the exit statuses and the signals.";

/// What `rtail` exits with, for `--help` and the man page: (status, meaning).
const EXIT_STATUS: &[(&str, &str)] = &[
    ("0", "Success; also when --until matched, when --idle-timeout passed, and when every --pid died."),
    (
        "1",
        "A file could not be opened or read (the others are still printed), a usage error, a write \
         error, no file left to follow, or the input ended before --until matched.",
    ),
    ("124", "--timeout passed first (as timeout(1)); a child command is stopped."),
    ("126", "The child command was found but could not be run."),
    ("127", "The child command was not found."),
    ("128+N", "Stopped by signal N after flushing what was read: 129 SIGHUP, 130 SIGINT, 143 SIGTERM."),
    (
        "141",
        "The reader of standard output went away, as if killed by SIGPIPE (1 if SIGPIPE was ignored \
         when rtail started, as with GNU tail).",
    ),
    ("other", "With a child command that ended by itself: its exit status (128+N if signal N killed it)."),
];

/// How `rtail` treats signals: (signals, what happens).
const SIGNALS: &[(&str, &str)] = &[
    (
        "SIGINT, SIGTERM, SIGHUP",
        "Flush what was read, reset colours, and end by the same signal, so the shell sees 130, 143 \
         or 129. A second one ends rtail at once.",
    ),
    (
        "with a child command",
        "SIGINT, SIGTERM and SIGHUP are passed on to the child's process group instead; rtail drains \
         the files and exits with the child's status. If rtail dies, the child gets SIGTERM.",
    ),
    (
        "SIGPIPE",
        "When the reader of standard output goes away, rtail stops at once, even while idle, and ends \
         as if killed by SIGPIPE (141).",
    ),
];

/// The environment variables `rtail` reads: (name, effect).
const ENVIRONMENT: &[(&str, &str)] = &[
    ("NO_COLOR", "When set and not empty, --color=auto does not colour (https://no-color.org)."),
    (
        "CLICOLOR_FORCE",
        "When set and neither empty nor 0, --color=auto colours even when standard output is not a \
         terminal; NO_COLOR wins.",
    ),
];

/// Worked examples for `--help` and the man page: (what it does, commands). The commands are
/// kept short enough for an 80-column man page.
const EXAMPLES: &[(&str, &str)] = &[
    (
        "The last 10 lines; the last 100; the whole file, from line 1, into grep:",
        "rtail app.log\nrtail -n 100 app.log\nrtail -n +1 app.log | grep ERROR",
    ),
    (
        "Follow a log in a terminal, by name, across rotation; wait for it if it does not exist yet:",
        "rtail -F /var/log/app.log",
    ),
    (
        "Only errors and warnings of several logs, without the health checks, each line prefixed \
         with its file:",
        "rtail -F -P -g 'ERROR|WARN' -x healthcheck *.log",
    ),
    (
        "Wait until a server logs that it is ready (exit 0), or fail after 30 seconds (exit 124); \
         -n 0 ignores what an earlier run left in the log:",
        "rtail -F -n 0 --until 'listening on' --timeout 30s server.log",
    ),
    (
        "An integration test: place an order while following the worker's log (-F is implied); \
         exit 0 once the worker logs that it shipped, 124 after a minute, or the client's status \
         if it fails first:",
        "rtail -n 0 --until 'shipped 42' --timeout 1m work.log -- ./order 42",
    ),
    (
        "Run the test suite, showing the service's errors as they happen; exit with the suite's \
         status:",
        "rtail -F -g ERROR service.log -- cargo test",
    ),
    (
        "Rotation: after app.log is renamed, rtail reads app.log.1 to its end (a logger may still \
         write to it) and follows the new app.log from its first line; every line comes out once, \
         in order:",
        "rtail -F app.log &\nmv app.log app.log.1   # the logger reopens app.log",
    ),
];

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

/// The command line's definition: clap's builder rather than its derive macro, so the build has
/// no proc-macro crate and can link statically (see .cargo/config.toml).
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
            flag("quiet")
                .short('q')
                .long("quiet")
                .visible_alias("silent")
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
            flag("json")
                .long("json")
                .help("Print one JSON object per line (record or event) instead of text")
                .long_help(
                    "Print one JSON object per line instead of text, for programs to read: \
                     {\"path\":\"app.log\",\"offset\":1234,\"line\":\"GET /health 200\"} for each line, \
                     where path is the FILE as given (- for standard input) and offset the byte offset \
                     of the line in the file (from 0 again after a rotation or truncation); \
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
                     missing. The right choice for logs.\n\nExample: rtail -F /var/log/app.log",
                ),
            flag("retry").long("retry").help("Keep trying to open a file that is missing or unreadable"),
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
                .help("Accepted for GNU compatibility")
                .long_help(
                    "Accepted for GNU compatibility. rtail's poll re-checks the name on every tick, so \
                     the GNU default of reopening after N unchanged polls is always met.",
                ),
            repeated("pid", "PID")
                .long("pid")
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
        .next_help_heading(None)
        .arg(
            repeated("files", "FILE")
                .num_args(1..)
                .value_parser(value_parser!(OsString))
                .value_hint(ValueHint::FilePath)
                .help("Files to read; `-` is standard input"),
        )
        .next_help_heading("Child command")
        .arg(
            repeated("command", "COMMAND")
                .num_args(1..)
                .last(true)
                .value_parser(value_parser!(OsString))
                .value_hint(ValueHint::CommandWithArguments)
                .help("Run COMMAND while following the files, and exit with its status")
                .long_help(
                    "Run COMMAND while following the files (watching starts first, so nothing it \
                     writes is missed); when it exits, read the files to their end and exit with its \
                     status. Implies -F unless -f is given. Needs at least one FILE before `--` \
                     (otherwise `--` just ends the options, as in GNU tail).\n\n\
                     Example: rtail svc.log -- ./run-tests.sh",
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
        }
    }
}

/// `--generate KIND`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Generate {
    Man,
    CompleteBash,
    CompleteZsh,
    CompleteFish,
    CompletePowershell,
    CompleteElvish,
}

/// Width the text after the options is wrapped to, with hanging indents (clap's own wrapping
/// would lose them; it still re-wraps on a terminal narrower than this).
const AFTER_HELP_WIDTH: usize = 96;

/// The text after the options in `--help`: examples, exit status, signals, environment.
fn after_long_help() -> String {
    let mut text = String::from("Examples:\n");
    for (what, command) in EXAMPLES {
        for line in wrap(what, AFTER_HELP_WIDTH - 4) {
            text.push_str(&format!("  # {line}\n"));
        }
        for line in command.lines() {
            text.push_str(&format!("  {line}\n"));
        }
    }
    for (title, rows) in [("Exit status", EXIT_STATUS), ("Signals", SIGNALS), ("Environment", ENVIRONMENT)] {
        text.push_str(&format!("\n{title}:\n"));
        let width = rows.iter().map(|(key, _)| key.len()).max().unwrap_or(0);
        for (key, meaning) in rows {
            if width <= 16 {
                // Two columns: the key, then its meaning with continuation lines under it.
                for (i, line) in wrap(meaning, AFTER_HELP_WIDTH - width - 4).iter().enumerate() {
                    let key = if i == 0 { key } else { "" };
                    text.push_str(&format!("  {key:width$}  {line}\n"));
                }
            } else {
                // Keys too long for a column: each on its own line, the meaning indented below.
                text.push_str(&format!("  {key}\n"));
                for line in wrap(meaning, AFTER_HELP_WIDTH - 6) {
                    text.push_str(&format!("      {line}\n"));
                }
            }
        }
    }
    text.push_str("\nSee also: tail(1), timeout(1), and the man page (rtail --generate man).");
    text
}

/// Split `text` into lines of at most `width` characters at spaces (a longer word stays whole).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Write what `--generate KIND` asks for.
fn generate(kind: Generate, out: &mut dyn Write) -> io::Result<()> {
    use clap_complete::Shell;
    let shell = match kind {
        Generate::Man => return man_page(out),
        Generate::CompleteBash => Shell::Bash,
        Generate::CompleteZsh => Shell::Zsh,
        Generate::CompleteFish => Shell::Fish,
        Generate::CompletePowershell => Shell::PowerShell,
        Generate::CompleteElvish => Shell::Elvish,
    };
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command(), "rtail", &mut script);
    out.write_all(&script)
}

/// The man page: clap_mangen renders the title, NAME, SYNOPSIS, DESCRIPTION and the options
/// (one OPTIONS section with a subsection per help heading); EXIT STATUS, SIGNALS, ENVIRONMENT,
/// EXAMPLES and SEE ALSO are written here. No date, so the output only changes with the text.
fn man_page(out: &mut dyn Write) -> io::Result<()> {
    let mut cmd = command().override_usage(
        "rtail [OPTION]... [FILE]...\n\
         rtail [OPTION]... FILE... -- COMMAND [ARG]...\n\
         rtail --generate KIND",
    );
    // clap_mangen leaves out visible aliases (--silent, --colour); name them in the text.
    let aliased: Vec<(String, Vec<String>)> = cmd
        .get_arguments()
        .filter_map(|a| {
            let aliases = a.get_visible_aliases()?;
            Some((a.get_id().to_string(), aliases.iter().map(|s| format!("--{s}")).collect()))
        })
        .collect();
    for (id, aliases) in aliased {
        cmd = cmd.mut_arg(id, |arg| {
            let help = arg.get_long_help().or(arg.get_help()).map(ToString::to_string).unwrap_or_default();
            // At the end of the first paragraph, before any example.
            let (first, rest) = help.split_once("\n\n").unwrap_or((&help, ""));
            let mut text = format!("{}. Also spelled {}.", first.trim_end_matches('.'), aliases.join(", "));
            if !rest.is_empty() {
                text = format!("{text}\n\n{rest}");
            }
            arg.long_help(text)
        });
    }
    let headings: Vec<String> =
        cmd.get_arguments().filter_map(|a| a.get_help_heading()).map(str::to_owned).collect();
    let version = cmd.get_version().unwrap_or_default().to_owned();
    let man = clap_mangen::Man::new(cmd);
    // Every piece the roff crate renders starts with the same preamble (it defines the apostrophe
    // string): the page has it once.
    let preamble = Roff::new().render();
    // The title line by hand: clap_mangen writes an empty date as nothing at all, which shifts
    // the source and manual into the wrong fields. No date keeps the output reproducible.
    let mut page = format!("{preamble}.TH RTAIL 1 \"\" \"rtail {version}\" \"User Commands\"\n");
    type Render = fn(&clap_mangen::Man, &mut dyn Write) -> io::Result<()>;
    let sections: [Render; 4] = [
        clap_mangen::Man::render_name_section,
        clap_mangen::Man::render_synopsis_section,
        clap_mangen::Man::render_description_section,
        clap_mangen::Man::render_options_section,
    ];
    for (i, render) in sections.into_iter().enumerate() {
        let mut buf = Vec::new();
        render(&man, &mut buf)?;
        let text = String::from_utf8(buf).map_err(io::Error::other)?;
        let text = text.strip_prefix(&preamble).unwrap_or(&text);
        if i == sections.len() - 1 {
            page.push_str(&options_as_subsections(text, &headings));
        } else {
            page.push_str(text);
        }
    }
    let extra = extra_sections().render();
    page.push_str(extra.strip_prefix(&preamble).unwrap_or(&extra));
    out.write_all(page.as_bytes())
}

/// clap_mangen makes each help heading a section of its own (`.SH FOLLOWING`); make them
/// subsections of one OPTIONS section, titled as in `--help`.
fn options_as_subsections(roff: &str, headings: &[String]) -> String {
    let mut out = String::new();
    if !roff.starts_with(".SH OPTIONS\n") {
        out.push_str(".SH OPTIONS\n");
    }
    for line in roff.lines() {
        let title = line.strip_prefix(".SH ").map(|t| t.trim_matches('"'));
        match title.and_then(|t| headings.iter().find(|h| h.to_uppercase() == t)) {
            Some(heading) if heading.contains(' ') => out.push_str(&format!(".SS \"{heading}\"\n")),
            Some(heading) => out.push_str(&format!(".SS {heading}\n")),
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// The sections after the options, in man-pages(7)'s order, with SIGNALS beside EXIT STATUS
/// (signals decide statuses).
fn extra_sections() -> Roff {
    let mut roff = Roff::new();
    let table = |roff: &mut Roff, rows: &[(&str, &str)]| {
        for (key, meaning) in rows {
            roff.control("TP", []).text([bold(*key)]).text([roman(*meaning)]);
        }
    };
    roff.control("SH", ["EXIT STATUS"]);
    table(&mut roff, EXIT_STATUS);
    roff.control("SH", ["SIGNALS"]);
    table(&mut roff, SIGNALS);
    roff.control("SH", ["ENVIRONMENT"]);
    table(&mut roff, ENVIRONMENT);
    roff.control("SH", ["EXAMPLES"]);
    for (what, command) in EXAMPLES {
        roff.control("PP", []).text([roman(*what)]);
        roff.control("RS", ["4"]).control("nf", []);
        for line in command.lines() {
            roff.text([bold(line)]);
        }
        roff.control("fi", []).control("RE", []);
    }
    roff.control("SH", ["SEE ALSO"]);
    roff.text([
        bold("tail"),
        roman("(1), "),
        bold("timeout"),
        roman("(1), "),
        bold("inotify"),
        roman("(7); the regular expression syntax: "),
        italic("https://docs.rs/regex/latest/regex/#syntax"),
    ]);
    roff
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

/// Short options that take a value (their value may follow in the same word).
const SHORT_WITH_VALUE: &[char] = &['c', 'n', 's', 'g', 'x'];
/// Long options that take a value (a separate word unless given with `=`).
const LONG_WITH_VALUE: &[&str] = &[
    "bytes",
    "lines",
    "sleep-interval",
    "max-unchanged-stats",
    "pid",
    "grep",
    "exclude",
    "until",
    "timeout",
    "idle-timeout",
    "generate",
];

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
    let args = expand_obsolete(args);
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
        // `FILE... -- COMMAND`: with no FILE before it, `--` only ends the options (as GNU's),
        // and the words after it are files.
        if self.files.is_empty() && !self.command.is_empty() {
            self.files = std::mem::take(&mut self.command);
        }
        let inputs: Vec<Input> = if self.files.is_empty() {
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
        let mode = match (self.follow_name_retry, self.follow) {
            (true, _) | (false, Some(FollowHow::Name)) => Some(FollowMode::Name),
            (false, Some(FollowHow::Descriptor)) => Some(FollowMode::Descriptor),
            // A child command means following: -F unless said otherwise.
            (false, None) if with_child => Some(FollowMode::Name),
            (false, None) => None,
        };
        let implied = with_child && !self.follow_name_retry && self.follow.is_none();
        let follow = mode.map(|mode| Follow {
            mode,
            retry: self.retry || self.follow_name_retry || implied,
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
        })
    }
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

/// GNU's obsolete forms, accepted only as the sole option with at most one file operand:
/// `-N`, `+N`, with an optional unit `b` (512 bytes), `c` (bytes) or `l` (lines), e.g. `-5c`.
/// Rewritten into the modern options; anything else is returned unchanged.
fn expand_obsolete(args: Vec<OsString>) -> Vec<OsString> {
    let rest = &args[1..];
    let shape_ok = match rest.len() {
        1 => true,
        2 => rest[1] == "--" || !(rest[1].as_encoded_bytes().starts_with(b"-") && rest[1].len() > 1),
        3 => rest[1] == "--",
        _ => false,
    };
    let Some(opt) = rest.first().and_then(|a| a.to_str()) else {
        return args;
    };
    if !shape_ok {
        return args;
    }
    let (from_start, body) = match opt.as_bytes().first() {
        Some(b'+') => (true, &opt[1..]),
        Some(b'-') if !opt[1..].is_empty() && opt != "-c" && !opt.starts_with("--") => (false, &opt[1..]),
        _ => return args,
    };
    let digits_end = body.bytes().position(|b| !b.is_ascii_digit()).unwrap_or(body.len());
    let (digits, mut tail) = body.split_at(digits_end);
    let (unit, factor) = match tail.as_bytes().first() {
        Some(b'b') => (Unit::Bytes, 512),
        Some(b'c') => (Unit::Bytes, 1),
        Some(b'l') => (Unit::Lines, 1),
        _ => (Unit::Lines, 1),
    };
    if matches!(tail.as_bytes().first(), Some(b'b' | b'c' | b'l')) {
        tail = &tail[1..];
    }
    let follow = tail == "f";
    if !tail.is_empty() && !follow {
        return args;
    }
    let n = if digits.is_empty() {
        10
    } else {
        digits.bytes().fold(0u64, |acc, d| acc.saturating_mul(10).saturating_add(u64::from(d - b'0')))
    };
    let n = n.saturating_mul(factor);
    let flag = if unit == Unit::Bytes { "-c" } else { "-n" };
    let value = if from_start { format!("+{n}") } else { n.to_string() };
    let mut out = vec![args[0].clone(), flag.into(), value.into()];
    if follow {
        out.push("-f".into());
    }
    out.extend(rest[1..].iter().cloned());
    out
}

/// GNU rejects digits inside option clusters (`-2 a b`, `-v5`) with a message of its own.
fn reject_digit_options(args: &[OsString]) -> Result<(), Exit> {
    let mut skip_next = false;
    for arg in &args[1..] {
        if std::mem::take(&mut skip_next) {
            continue;
        }
        let Some(text) = arg.to_str() else { continue };
        if text == "--" {
            break;
        }
        if let Some(long) = text.strip_prefix("--") {
            skip_next = !long.contains('=')
                && !long.is_empty()
                && LONG_WITH_VALUE.iter().any(|name| name.starts_with(long));
            continue;
        }
        let Some(cluster) = text.strip_prefix('-') else {
            continue;
        };
        for (i, ch) in cluster.char_indices() {
            if ch.is_ascii_digit() {
                return Err(Exit::Invalid(format!("option used in invalid context -- {ch}")));
            }
            if SHORT_WITH_VALUE.contains(&ch) {
                skip_next = i + ch.len_utf8() == cluster.len();
                break;
            }
        }
    }
    Ok(())
}

fn clap_exit(err: clap::Error, args: &[OsString]) -> Exit {
    match err.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = err.print();
            return Exit::Printed;
        }
        _ => {}
    }
    let context = |kind| match err.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        Some(ContextValue::Strings(v)) => v.first().cloned(),
        _ => None,
    };
    let arg = context(ContextKind::InvalidArg).unwrap_or_default();
    let option = arg.split([' ', '=', '[']).next().unwrap_or_default().to_string();
    let message = match err.kind() {
        ErrorKind::UnknownArgument if arg.starts_with("--") && arg.len() > 2 => {
            let prefix = arg.split('=').next().unwrap_or(&arg).trim_start_matches('-');
            let mut longs: Vec<String> = command()
                .get_arguments()
                .flat_map(|a| a.get_long_and_visible_aliases().unwrap_or_default())
                .chain(["help", "version"])
                .filter(|l| l.starts_with(prefix))
                .map(|l| format!("'--{l}'"))
                .collect();
            longs.sort();
            longs.dedup();
            if longs.len() > 1 {
                format!("option '--{prefix}' is ambiguous; possibilities: {}", longs.join(" "))
            } else {
                format!("unrecognized option '{arg}'")
            }
        }
        ErrorKind::UnknownArgument if arg.starts_with('-') => {
            format!("invalid option -- '{}'", arg.chars().nth(1).unwrap_or('-'))
        }
        ErrorKind::ArgumentConflict if option == "--generate" => {
            "option '--generate' must be used alone".to_string()
        }
        ErrorKind::InvalidValue if context(ContextKind::InvalidValue).is_none_or(|v| v.is_empty()) => {
            // Only the last word can lack its value; name it the way the user wrote it.
            let last = args.last().and_then(|a| a.to_str()).unwrap_or_default();
            match last.strip_prefix('-').and_then(|c| c.chars().last()) {
                Some(letter) if !last.starts_with("--") => {
                    format!("option requires an argument -- '{letter}'")
                }
                _ => format!("option '{option}' requires an argument"),
            }
        }
        ErrorKind::InvalidValue => {
            let value = context(ContextKind::InvalidValue).unwrap_or_default();
            let mut text = format!("invalid argument '{value}' for '{option}'");
            if let Some(ContextValue::Strings(valid)) = err.get(ContextKind::ValidValue) {
                text.push_str("\nValid arguments are:");
                for v in valid {
                    text.push_str(&format!("\n  - '{v}'"));
                }
            }
            text
        }
        _ => {
            let rendered = err.to_string();
            let first = rendered.lines().next().unwrap_or("invalid command line");
            first.strip_prefix("error: ").unwrap_or(first).to_string()
        }
    };
    Exit::Usage(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

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

    #[test]
    fn wrap_breaks_at_spaces_within_the_width() {
        assert_eq!(wrap("aa bb cc dd", 5), ["aa bb", "cc dd"]);
        assert_eq!(wrap("a verylongword b", 4), ["a", "verylongword", "b"]);
        assert_eq!(wrap("", 10), Vec::<String>::new());
    }

    #[test]
    fn man_page_options_become_subsections() {
        let headings = vec!["Output".to_string(), "Watching and exit".to_string()];
        let roff = ".SH OPTIONS\n.TP\nx\n.SH OUTPUT\n.TP\ny\n.SH \"WATCHING AND EXIT\"\n";
        assert_eq!(
            options_as_subsections(roff, &headings),
            ".SH OPTIONS\n.TP\nx\n.SS Output\n.TP\ny\n.SS \"Watching and exit\"\n"
        );
        assert_eq!(options_as_subsections(".SH OUTPUT\n", &headings), ".SH OPTIONS\n.SS Output\n");
    }

    #[test]
    fn obsolete_forms_are_rewritten() {
        assert_eq!(expand_obsolete(os(&["rtail", "-5", "f"])), os(&["rtail", "-n", "5", "f"]));
        assert_eq!(expand_obsolete(os(&["rtail", "+5"])), os(&["rtail", "-n", "+5"]));
        assert_eq!(expand_obsolete(os(&["rtail", "-3c", "f"])), os(&["rtail", "-c", "3", "f"]));
        assert_eq!(expand_obsolete(os(&["rtail", "-2b"])), os(&["rtail", "-c", "1024"]));
        assert_eq!(expand_obsolete(os(&["rtail", "-b"])), os(&["rtail", "-c", "5120"]));
        assert_eq!(expand_obsolete(os(&["rtail", "+l", "f"])), os(&["rtail", "-n", "+10", "f"]));
        assert_eq!(expand_obsolete(os(&["rtail", "-3", "--", "f"])), os(&["rtail", "-n", "3", "--", "f"]));
        assert_eq!(expand_obsolete(os(&["rtail", "-3", "-"])), os(&["rtail", "-n", "3", "-"]));
    }

    #[test]
    fn non_obsolete_shapes_are_left_alone() {
        for args in [
            &["rtail", "-2", "a", "b"][..],
            &["rtail", "-c", "f"],
            &["rtail", "-5x", "f"],
            &["rtail", "+x", "f"],
            &["rtail", "-3", "-v"],
            &["rtail", "-n", "3"],
            &["rtail", "-"],
            &["rtail", "--5"],
        ] {
            assert_eq!(expand_obsolete(os(args)), os(args), "{args:?}");
        }
    }

    #[test]
    fn digits_in_option_clusters_are_rejected() {
        assert!(reject_digit_options(&os(&["rtail", "-2", "a", "b"])).is_err());
        assert!(reject_digit_options(&os(&["rtail", "-v5", "a"])).is_err());
        assert!(reject_digit_options(&os(&["rtail", "-n", "-5", "a"])).is_ok());
        assert!(reject_digit_options(&os(&["rtail", "-n5", "a"])).is_ok());
        assert!(reject_digit_options(&os(&["rtail", "--lines", "-5", "a"])).is_ok());
        assert!(reject_digit_options(&os(&["rtail", "--", "-5"])).is_ok());
    }
}
