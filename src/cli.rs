//! The command line: clap's definition, GNU tail's obsolete forms (`-5`, `+5c`), GNU-style usage
//! errors, and the conversion into a plain [`Config`]. Only `main.rs` uses this module.

use std::ffi::OsString;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory, FromArgMatches, Parser};
use std::time::Duration;

use rtail::{Config, Count, Follow, FollowMode, Headers, Input, Patterns, Unit, parse_count};

const AFTER_HELP: &str = "\
NUM may have a multiplier suffix: b 512, kB 1000, K 1024, MB 1000*1000, M 1024*1024, GB, G, T, P, E,
Z, Y, R, Q (and KiB, MiB, ... for the binary ones).

With no FILE, or when FILE is -, read standard input.

Examples:
  rtail app.log                 the last 10 lines
  rtail -n 100 app.log          the last 100 lines
  rtail -n +1 app.log | grep x  the whole file, from line 1
  rtail -c 1K a.log b.log       the last 1024 bytes of each, with ==> NAME <== headers

Exit status: 0 on success; 1 if a file could not be read, on a usage error, or on a write error;
141 when the reader of standard output went away (as if killed by SIGPIPE).";

/// rtail: print the last part of files (GNU tail compatible).
#[derive(Parser, Debug)]
#[command(
    name = "rtail",
    version,
    about = "Print the last 10 lines of each FILE to standard output (GNU tail compatible).",
    after_help = AFTER_HELP,
    args_override_self = true,
    infer_long_args = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Output the last NUM bytes; or use -c +NUM to output starting with byte NUM of each file.
    #[arg(
        short = 'c',
        long = "bytes",
        value_name = "[+]NUM",
        allow_hyphen_values = true,
        overrides_with = "lines"
    )]
    bytes: Option<String>,

    /// Output the last NUM lines, instead of the last 10; or use -n +NUM to skip NUM-1 lines at the start.
    #[arg(
        short = 'n',
        long = "lines",
        value_name = "[+]NUM",
        allow_hyphen_values = true,
        overrides_with = "bytes"
    )]
    lines: Option<String>,

    /// Never print headers giving file names.
    #[arg(short = 'q', long = "quiet", visible_alias = "silent", overrides_with = "verbose")]
    quiet: bool,

    /// Always print headers giving file names.
    #[arg(short = 'v', long = "verbose", overrides_with = "quiet")]
    verbose: bool,

    /// Line delimiter is NUL, not newline.
    #[arg(short = 'z', long = "zero-terminated")]
    zero_terminated: bool,

    /// Output appended data as the file grows; HOW is `descriptor` (the default for -f: keep
    /// reading the open file even if renamed) or `name` (reopen the name after rotation).
    #[arg(
        short = 'f',
        long = "follow",
        value_name = "HOW",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "descriptor",
        value_enum,
        help_heading = "Following"
    )]
    follow: Option<FollowHow>,

    /// Same as --follow=name --retry: follow a log across rotation, deletion and re-creation.
    #[arg(short = 'F', help_heading = "Following")]
    follow_name_retry: bool,

    /// Keep trying to open a file that is missing or unreadable.
    #[arg(long = "retry", help_heading = "Following")]
    retry: bool,

    /// Poll every N seconds (default 1.0) where change notifications are not available
    /// (network and FUSE file systems, standard input, --poll).
    #[arg(short = 's', long = "sleep-interval", value_name = "N", help_heading = "Following")]
    sleep_interval: Option<String>,

    /// Accepted for GNU compatibility. rtail's poll re-checks the name on every tick, so the
    /// GNU default of reopening after N unchanged polls is always met.
    #[arg(long = "max-unchanged-stats", value_name = "N", help_heading = "Following")]
    max_unchanged_stats: Option<String>,

    /// With -f: end after process PID dies (repeatable: after all of them), once the files
    /// have been read to their end.
    #[arg(long = "pid", value_name = "PID", action = clap::ArgAction::Append, help_heading = "Following")]
    pid: Vec<String>,

    /// Poll with stat instead of change notifications: for NFS, CIFS, FUSE or bind mounts
    /// where notifications do not arrive (those are detected and polled anyway).
    #[arg(long = "poll", help_heading = "Following")]
    poll: bool,

    /// Print only lines matching REGEX (repeatable: lines matching any). Example: -g 'ERROR|WARN'
    #[arg(short = 'g', long = "grep", value_name = "REGEX", action = clap::ArgAction::Append, help_heading = "Filtering")]
    grep: Vec<String>,

    /// Do not print lines matching REGEX (repeatable; applied after --grep). Example: -x healthcheck
    #[arg(short = 'x', long = "exclude", value_name = "REGEX", action = clap::ArgAction::Append, help_heading = "Filtering")]
    exclude: Vec<String>,

    /// Match --grep, --exclude and --until without regard to case.
    #[arg(short = 'i', long = "ignore-case", help_heading = "Filtering")]
    ignore_case: bool,

    /// Exit 0 right after printing the first line matching REGEX. Lines of the initial output
    /// count too (a line written just before rtail started is seen); use -n 0 for new lines only.
    /// Example: rtail -F -n 0 --until 'listening on' --timeout 30s server.log
    #[arg(long = "until", value_name = "REGEX", help_heading = "Watching and exit")]
    until: Option<String>,

    /// Give up after DURATION (500ms, 30s, 2m, 1h): exit 124 with a message, stopping the child.
    #[arg(long = "timeout", value_name = "DURATION", help_heading = "Watching and exit")]
    timeout: Option<String>,

    /// Exit 0 once no file has produced a new line for DURATION (500ms, 30s, 2m, 1h).
    #[arg(long = "idle-timeout", value_name = "DURATION", help_heading = "Watching and exit")]
    idle_timeout: Option<String>,

    /// Colour level words, matches and headers: auto (when stdout is a terminal and NO_COLOR is
    /// unset or empty; CLICOLOR_FORCE=1 forces it), always, never.
    #[arg(
        long = "color",
        visible_alias = "colour",
        value_name = "WHEN",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "always",
        default_value = "auto",
        value_enum,
        help_heading = "Output"
    )]
    color: ColorWhen,

    /// Print `NAME: ` before every line instead of ==> NAME <== headers, so merged output greps well.
    #[arg(short = 'P', long = "prefix", help_heading = "Output")]
    prefix: bool,

    /// Files to read; `-` is standard input.
    #[arg(value_name = "FILE")]
    files: Vec<OsString>,

    /// Run COMMAND while following the files (watching starts first, so nothing it writes is
    /// missed); when it exits, read the files to their end and exit with its status. Implies -F
    /// unless -f is given. Needs at least one FILE before `--` (otherwise `--` just ends the
    /// options, as in GNU tail). Example: rtail -F svc.log -- ./run-tests.sh
    #[arg(last = true, value_name = "COMMAND", help_heading = "Child command")]
    command: Vec<OsString>,
}

/// `--color=WHEN`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ColorWhen {
    /// Colour when stdout is a terminal (see NO_COLOR, CLICOLOR_FORCE).
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum FollowHow {
    /// Follow the open file descriptor.
    Descriptor,
    /// Follow the file name, reopening it after rotation.
    Name,
}

/// Short options that take a value (their value may follow in the same word).
const SHORT_WITH_VALUE: &[char] = &['c', 'n', 's', 'g', 'x'];
/// Long options that take a value (a separate word unless given with `=`).
const LONG_WITH_VALUE: &[&str] = &["bytes", "lines", "sleep-interval", "max-unchanged-stats", "pid"];

/// A command line that cannot run: print the message, GNU's hint, exit 1.
#[derive(Debug)]
pub enum Exit {
    /// A usage error: `rtail: {0}` and the `--help` hint.
    Usage(String),
    /// A bad option value: `rtail: {0}`, no hint (as GNU).
    Invalid(String),
    /// Help or version text was printed: exit 0.
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
    let matches = Cli::command().try_get_matches_from(&args).map_err(|e| clap_exit(e, &args))?;
    let cli = Cli::from_arg_matches(&matches).map_err(|e| clap_exit(e, &args))?;
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
            color: self.color.resolve(),
            prefix: self.prefix,
            command: self.command,
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
            let mut longs: Vec<String> = Cli::command()
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
        Cli::command().debug_assert();
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
