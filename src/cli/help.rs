//! The help texts that are not one option's: what rtail is (`--help`'s opening), and the
//! tables after the options (exit statuses, signals, environment, examples), rendered both into
//! `--help` (wrapped here, with hanging indents) and into the man page (see `generate.rs`).

pub(super) const ABOUT: &str =
    "Print the last 10 lines of each FILE to standard output (GNU tail compatible).";

pub(super) const LONG_ABOUT: &str = "\
Print the last 10 lines of each FILE to standard output, as GNU tail does (same options, \
defaults, headers, messages and exit statuses), and follow logs by name across every kind of \
rotation, printing each appended line exactly once and in order.

With more than one FILE, precede each with a header giving the file name. With no FILE, or \
when FILE is -, read standard input.

A FILE that holds a glob metacharacter (* ? [ {) is a pattern, unless a file by that very name \
exists: quoted so that the shell leaves it alone (rtail -F 'logs/*.log'), it stands for every \
file that matches, in name order, with headers. While following, files that start matching \
later (created, or renamed to a matching name) are followed too, from their first byte; * and ? \
never match /, ** matches any number of directories (logs/**/*.log), {a,b} either word, [...] \
one character of a class. Each file is followed once: renamed from one matching name to another, \
it is read on under its new name; a rotated copy that also matches (app.log.1 for 'app.log*') \
is read as the file it was, and compressed ones (.gz, .xz, ...) not at all.

NUM may have a multiplier suffix: b 512, kB 1000, K 1024, MB 1000*1000, M 1024*1024, GB, G, T, \
P, E, Z, Y, R, Q (and KiB, MiB, ... for the binary ones).

On top of GNU tail, rtail filters lines (--grep, --exclude), ends by itself when a line \
appears or time runs out (--until, --timeout, --idle-timeout), colours and prefixes its output, \
and can run a command while it follows the logs (rtail FILE... -- COMMAND) or follow the \
command's own output (rtail --until ready -- COMMAND), which is what integration tests and scripts \
need.";

pub(super) const AFTER_HELP: &str = "\
NUM may have a multiplier suffix: K 1024, M 1024*1024, G, ..., kB 1000, MB, ..., b 512.
With no FILE, or when FILE is -, read standard input. A quoted FILE with * ? [ { is a pattern.
'rtail --help' shows examples, the exit statuses and the signals.";

/// What `rtail` exits with, for `--help` and the man page: (status, meaning).
pub(super) const EXIT_STATUS: &[(&str, &str)] = &[
    (
        "0",
        "Success; also when --until matched, when --idle-timeout passed, when every --pid died, and \
         when the web view's Stop button or --serve-once ended the run.",
    ),
    (
        "1",
        "A file could not be opened or read (the others are still printed), a usage error, a write \
         error, no file left to follow, the input ended before --until matched, or --serve cannot \
         listen on its address.",
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
    (
        "other",
        "With a child command that ended by itself (or by the signal passed on to it): its exit \
         status (128+N if signal N killed it).",
    ),
];

/// How `rtail` treats signals: (signals, what happens).
pub(super) const SIGNALS: &[(&str, &str)] = &[
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
        "SIGUSR1",
        "While following: read every file to its end now, then (with --json) print \
         {\"event\":\"mark\",\"mark\":N} for the Nth SIGUSR1, counting from 0, so a program knows \
         that everything written before it sent the signal has been printed.",
    ),
    (
        "SIGPIPE",
        "When the reader of standard output goes away, rtail stops at once, even while idle, and ends \
         as if killed by SIGPIPE (141).",
    ),
];

/// The environment variables `rtail` reads: (name, effect).
pub(super) const ENVIRONMENT: &[(&str, &str)] = &[
    ("NO_COLOR", "When set and not empty, --color=auto does not colour (https://no-color.org)."),
    (
        "CLICOLOR_FORCE",
        "When set and neither empty nor 0, --color=auto colours even when standard output is not a \
         terminal; NO_COLOR wins.",
    ),
    ("RTAIL_SERVE_TOKEN", "The web view's token when --serve-token does not give one."),
];

/// Worked examples for `--help` and the man page: (what it does, commands). The commands are
/// kept short enough for an 80-column man page.
pub(super) const EXAMPLES: &[(&str, &str)] = &[
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
        "Start a server and wait for its own output to say it is ready, line by line even if it \
         never flushes; exit 124 after 30 seconds, or with its status if it dies first:",
        "rtail --until 'listening on' --timeout 30s -- python3 app.py",
    ),
    (
        "Watch two logs live in a browser (and in the terminal): open the address rtail prints:",
        "rtail --serve -F app.log worker.log",
    ),
    (
        "Watch a command's output in a browser; its exit shows on the page:",
        "rtail --serve -- ssh web1 tail -F /var/log/app.log",
    ),
    (
        "Rotation: after app.log is renamed, rtail reads app.log.1 to its end (a logger may still \
         write to it) and follows the new app.log from its first line; every line comes out once, \
         in order:",
        "rtail -F app.log &\nmv app.log app.log.1   # the logger reopens app.log",
    ),
];

/// Width the text after the options is wrapped to, with hanging indents (clap's own wrapping
/// would lose them; it still re-wraps on a terminal narrower than this).
const AFTER_HELP_WIDTH: usize = 96;

/// The text after the options in `--help`: examples, exit status, signals, environment.
pub(super) fn after_long_help() -> String {
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
pub(super) fn wrap(text: &str, width: usize) -> Vec<String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_breaks_at_spaces_within_the_width() {
        assert_eq!(wrap("aa bb cc dd", 5), ["aa bb", "cc dd"]);
        assert_eq!(wrap("a verylongword b", 4), ["a", "verylongword", "b"]);
        assert_eq!(wrap("", 10), Vec::<String>::new());
    }
}
