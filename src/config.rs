//! Validated, plain run settings. Built by the command line (`src/cli/`) or by library users;
//! the engine reads only this, never clap types.

use std::ffi::OsString;
use std::path::PathBuf;

/// One source: a named file, standard input (`-` or no operand at all), or one output stream
/// of the run's command ([`Config::command`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Standard input, shown as `standard input` in headers.
    Stdin,
    /// A path as the user gave it.
    Path(PathBuf),
    /// What the command writes to this stream, read as it comes (its standard output goes
    /// through a pseudo-terminal, so that it is written line by line).
    Command(Stream),
}

/// One output stream of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Its standard output.
    Stdout,
    /// Its standard error.
    Stderr,
}

impl Input {
    /// Make an input from a command-line operand: `-` is standard input.
    pub fn from_operand(op: OsString) -> Input {
        if op == "-" { Input::Stdin } else { Input::Path(PathBuf::from(op)) }
    }

    /// The name used in headers and messages, as bytes (file names need not be UTF-8); a
    /// command's streams are named by [`Config::input_name`], which knows the command.
    pub fn display_name(&self) -> Vec<u8> {
        use std::os::unix::ffi::OsStrExt;
        match self {
            Input::Stdin => b"standard input".to_vec(),
            Input::Path(p) => p.as_os_str().as_bytes().to_vec(),
            Input::Command(Stream::Stdout) => b"command".to_vec(),
            Input::Command(Stream::Stderr) => b"command (stderr)".to_vec(),
        }
    }
}

/// What `-n`/`-c` count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Lines, ended by the delimiter (`\n`, or NUL with `-z`).
    Lines,
    /// Bytes.
    Bytes,
}

/// Where output starts: the last `n` units, or from unit `n` (1-based) onwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    /// Lines or bytes.
    pub unit: Unit,
    /// Invariant: when `from_start` is true, `n >= 1` (`+0` means the same as `+1`).
    pub n: u64,
    /// `+N`: start at unit N instead of printing the last N.
    pub from_start: bool,
}

impl Count {
    /// Everything: `-n +1`.
    pub const ALL: Count = Count { unit: Unit::Lines, n: 1, from_start: true };
}

impl Default for Count {
    fn default() -> Self {
        Count { unit: Unit::Lines, n: 10, from_start: false }
    }
}

impl Count {
    /// Nothing at all is to be printed (`-n 0`, `-c 0`): GNU does not even open the file.
    pub fn is_nothing(&self) -> bool {
        !self.from_start && self.n == 0
    }
}

/// When `==> NAME <==` headers are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Headers {
    /// With more than one input (GNU's default).
    #[default]
    Auto,
    /// Always (`-v`).
    Always,
    /// Never (`-q`).
    Never,
}

/// How followed files are tracked after their initial output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowMode {
    /// `-f`, `--follow=descriptor`: keep reading the open file, whatever happens to its name.
    Descriptor,
    /// `-F`, `--follow=name`: follow the name across rotation, truncation and re-creation.
    Name,
}

/// Follow-mode settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Follow {
    /// By descriptor or by name.
    pub mode: FollowMode,
    /// Keep trying to open names that are missing or unreadable (`--retry`, part of `-F`).
    pub retry: bool,
    /// Period of the stat poll, for paths where notifications do not work (`-s`).
    pub sleep_interval: std::time::Duration,
    /// Poll every path instead of using notifications (`--poll`).
    pub poll: bool,
}

impl Default for Follow {
    fn default() -> Self {
        Follow {
            mode: FollowMode::Name,
            retry: true,
            sleep_interval: std::time::Duration::from_secs(1),
            poll: false,
        }
    }
}

/// How long, by default, a followed record waits for earlier ones (`--merge-window`).
pub const DEFAULT_MERGE_WINDOW: std::time::Duration = std::time::Duration::from_millis(200);

/// Everything a run needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Inputs in operand order; never empty (no operand means standard input).
    pub inputs: Vec<Input>,
    /// `-n` / `-c`.
    pub count: Count,
    /// Header policy.
    pub headers: Headers,
    /// Line delimiter: `\n`, or `\0` with `-z`.
    pub delimiter: u8,
    /// Keep following after the initial output (`-f`, `-F`); `None` prints and exits.
    pub follow: Option<Follow>,
    /// `--retry` was given (only used to warn that it does nothing without following).
    pub retry_requested: bool,
    /// `--pid`: when following, end (after draining the files) once all these processes died.
    pub pids: Vec<i32>,
    /// `--grep`, `--exclude`, `--until`, `--ignore-case`.
    pub patterns: crate::filter::Patterns,
    /// `--timeout`: give up (exit 124) after this long.
    pub timeout: Option<std::time::Duration>,
    /// `--idle-timeout`: end (exit 0) after this long without a new line from any file.
    pub idle_timeout: Option<std::time::Duration>,
    /// Colour output (level words, matches, headers); resolved from `--color` by the caller.
    pub color: bool,
    /// `--prefix`: `NAME: ` before every line instead of headers.
    pub prefix: bool,
    /// `-- COMMAND [ARG]...`: run it while following; its exit status becomes ours. When the
    /// inputs are its streams ([`Input::Command`]), its output is what is followed.
    pub command: Vec<std::ffi::OsString>,
    /// `--json`: one JSON object per line for each record and event instead of text.
    pub json: bool,
    /// `--serve`: also show the records live on a web page.
    pub serve: Option<Serve>,
    /// `--history`: when a file has fewer lines than `-n` asks for, count back through its
    /// rotated generations (`app.log.1`, `app.log.2.gz`, …); `-n +K` starts in the oldest.
    pub history: bool,
    /// `--multiline`: a record is the line that starts it and the lines that continue it.
    pub multiline: bool,
    /// `--record-start REGEX`: where records start (implies `multiline`); `None`: at a
    /// timestamp, or at a line not indented.
    pub record_start: Option<String>,
    /// `--merge`: records of every input in one stream ordered by their time.
    pub merge: bool,
    /// `--merge-window`: following, how long a record may wait for earlier ones from other files.
    pub merge_window: std::time::Duration,
    /// `--since WHEN`: each input's output starts at its first record stamped at or after this
    /// (the last `count.n` of those when `count` is not from the start).
    pub since: Option<std::time::SystemTime>,
    /// `--number`: each line's number in its file generation, in the output.
    pub line_number: bool,
}

/// The web view's settings (`--serve`, `--serve-token`, `--serve-once`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Serve {
    /// Where to listen; port 0 picks a free one.
    pub addr: std::net::SocketAddr,
    /// The token every request must carry; `None` only on a loopback address.
    pub token: Option<String>,
    /// End once the last viewer has been gone for a short grace, after one connected.
    pub once: bool,
}

impl Serve {
    /// The port `--serve` listens on when none is given.
    pub const DEFAULT_PORT: u16 = 7117;
}

impl Default for Config {
    fn default() -> Self {
        Config {
            inputs: vec![Input::Stdin],
            count: Count::default(),
            headers: Headers::Auto,
            delimiter: b'\n',
            follow: None,
            retry_requested: false,
            pids: Vec::new(),
            patterns: crate::filter::Patterns::default(),
            timeout: None,
            idle_timeout: None,
            color: false,
            prefix: false,
            command: Vec::new(),
            json: false,
            serve: None,
            history: false,
            multiline: false,
            record_start: None,
            merge: false,
            merge_window: DEFAULT_MERGE_WINDOW,
            since: None,
            line_number: false,
        }
    }
}

impl Config {
    /// Whether headers are printed for this run.
    pub fn print_headers(&self) -> bool {
        if self.prefix {
            return false;
        }
        match self.headers {
            Headers::Always => true,
            Headers::Never => false,
            // A command's two streams are one program's output: no headers between them.
            Headers::Auto => self.inputs.len() > 1 && !self.reads_command(),
        }
    }

    /// Whether the sources are the command's output streams, not files.
    pub fn reads_command(&self) -> bool {
        self.inputs.iter().any(|i| matches!(i, Input::Command(_)))
    }

    /// The name of `input` in headers, prefixes, JSON and the web page: the path as given,
    /// `standard input`, or for a command's streams its words (`python3 app.py`, and
    /// `python3 app.py (stderr)` for its standard error).
    pub fn input_name(&self, input: &Input) -> Vec<u8> {
        use std::os::unix::ffi::OsStrExt;
        let Input::Command(stream) = input else {
            return input.display_name();
        };
        let mut name = Vec::new();
        for (i, word) in self.command.iter().enumerate() {
            if i > 0 {
                name.push(b' ');
            }
            name.extend_from_slice(word.as_bytes());
        }
        if *stream == Stream::Stderr {
            name.extend_from_slice(b" (stderr)");
        }
        name
    }
}

/// Why a count could not be parsed; the caller names the option in its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadNumber;

/// Parse GNU's `[+|-]NUM[SUFFIX]`: an optional sign, decimal digits (leading blanks allowed),
/// then an optional multiplier: `b` 512, `kB` 1000, `K`/`k`/`KiB` 1024, and likewise M, G, T, P, E,
/// Z, Y, R, Q. Values past `u64::MAX` saturate (as GNU ≥ 9.6 does) rather than failing.
/// Returns `(from_start, n)`; `+0` is returned as `+1`.
pub fn parse_count(text: &str) -> Result<(bool, u64), BadNumber> {
    // As GNU: only the very first character is a sign; a leading `+` stays with the number,
    // which may then have blanks and one `+` before its digits.
    let (from_start, rest) = match text.as_bytes().first() {
        Some(b'+') => (true, text),
        Some(b'-') => (false, &text[1..]),
        _ => (false, text),
    };
    let rest = rest.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let rest = rest.strip_prefix('+').unwrap_or(rest);
    let n = parse_size(rest)?;
    Ok((from_start, if from_start { n.max(1) } else { n }))
}

/// Parse an unsigned decimal number with an optional GNU size suffix (see [`parse_count`]).
pub fn parse_size(text: &str) -> Result<u64, BadNumber> {
    let digits_end = text.bytes().position(|b| !b.is_ascii_digit()).unwrap_or(text.len());
    if digits_end == 0 {
        return Err(BadNumber);
    }
    let mut value: u64 = 0;
    for b in text[..digits_end].bytes() {
        value = value.saturating_mul(10).saturating_add(u64::from(b - b'0'));
    }
    let factor = suffix_factor(&text[digits_end..])?;
    Ok(value.saturating_mul(factor))
}

fn suffix_factor(suffix: &str) -> Result<u64, BadNumber> {
    if suffix.is_empty() {
        return Ok(1);
    }
    if suffix == "b" {
        return Ok(512);
    }
    let mut chars = suffix.chars();
    let letter = chars.next().ok_or(BadNumber)?;
    let power = match letter {
        'k' | 'K' => 1,
        'm' | 'M' => 2,
        'G' => 3,
        'T' => 4,
        'P' => 5,
        'E' => 6,
        'Z' => 7,
        'Y' => 8,
        'R' => 9,
        'Q' => 10,
        _ => return Err(BadNumber),
    };
    let base: u64 = match chars.as_str() {
        "" | "iB" => 1024,
        "B" => 1000,
        _ => return Err(BadNumber),
    };
    Ok((0..power).fold(1u64, |acc, _| acc.saturating_mul(base)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_signed_counts() {
        assert_eq!(parse_count("10"), Ok((false, 10)));
        assert_eq!(parse_count("-10"), Ok((false, 10)));
        assert_eq!(parse_count("+10"), Ok((true, 10)));
        assert_eq!(parse_count("0"), Ok((false, 0)));
        assert_eq!(parse_count("-0"), Ok((false, 0)));
        assert_eq!(parse_count("01"), Ok((false, 1)));
        assert_eq!(parse_count(" 3"), Ok((false, 3)));
        assert_eq!(parse_count(" +1"), Ok((false, 1)));
        assert_eq!(parse_count("-+1"), Ok((false, 1)));
        assert_eq!(parse_count("- 1"), Ok((false, 1)));
        assert_eq!(parse_count("- +1"), Ok((false, 1)));
    }

    #[test]
    fn plus_zero_means_plus_one() {
        assert_eq!(parse_count("+0"), Ok((true, 1)));
        assert_eq!(parse_count("+1"), Ok((true, 1)));
    }

    #[test]
    fn suffixes_match_gnu() {
        let cases = [
            ("1b", 512),
            ("1k", 1024),
            ("1K", 1024),
            ("1KiB", 1024),
            ("1kiB", 1024),
            ("1kB", 1000),
            ("1KB", 1000),
            ("1m", 1 << 20),
            ("1M", 1 << 20),
            ("1MB", 1_000_000),
            ("2MiB", 2 << 20),
            ("1G", 1 << 30),
            ("1GB", 1_000_000_000),
            ("1T", 1 << 40),
            ("1E", 1 << 60),
        ];
        for (text, want) in cases {
            assert_eq!(parse_size(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn huge_values_saturate() {
        assert_eq!(parse_size("99999999999999999999999"), Ok(u64::MAX));
        assert_eq!(parse_size("1Q"), Ok(u64::MAX));
        assert_eq!(parse_size("100Z"), Ok(u64::MAX));
    }

    #[test]
    fn rejects_what_gnu_rejects() {
        for bad in [
            "", "+", "-", "abc", "1x", "1e", "0x10", "+-2", "1 ", "+ 1", "2Ki", "1B", "1c", "1g", "--1",
            "1bb",
        ] {
            assert_eq!(parse_count(bad), Err(BadNumber), "{bad:?}");
        }
    }
}
