//! The library API: follow log files from Rust code — typically an integration test that starts a
//! service and waits for a line in its log — with the same engine as the `rtail` binary, no
//! subprocess and no sleeps.
//!
//! A [`Follower`] runs the engine on a thread of its own and hands out whole [`Line`]s. Dropping
//! it stops the engine and joins every thread it started.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, bounded};
use regex::bytes::Regex;

use crate::config::{Config, Count, Follow, FollowMode, Input, Unit};
use crate::filter::{Filter, PatternError, Patterns};
use crate::follow::{self, Control};
use crate::pipeline::{self, Msg, Shaping, Shutdown, StopReason, Stopped};
use crate::record::Batch;

/// One line (record) of a followed file, without its delimiter, with where it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    path: PathBuf,
    offset: u64,
    partial: bool,
    bytes: Vec<u8>,
}

impl Line {
    /// The followed path the line came from, as given to the builder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The byte offset of the line's first byte in the file it was read from. Offsets start
    /// again at 0 in a new file (after a rotation) and after a truncation.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Whether the line had no delimiter: the last bytes of a file that was rotated away,
    /// truncated or left unfinished when following stopped, or a piece of a line too long to
    /// hold (1 MiB).
    pub fn is_partial(&self) -> bool {
        self.partial
    }

    /// The line's exact bytes (logs need not be UTF-8), without the trailing delimiter.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The line as text, with invalid UTF-8 replaced.
    pub fn text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.bytes)
    }

    /// Take the bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// What can go wrong while following.
#[derive(Debug)]
#[non_exhaustive]
pub enum FollowError {
    /// No (matching) line arrived in time.
    Timeout {
        /// How long was waited.
        waited: Duration,
        /// The pattern waited for, if any.
        pattern: Option<String>,
        /// The followed paths.
        paths: Vec<PathBuf>,
    },
    /// The engine stopped: every file was given up (missing without retry, say); see
    /// [`Follower::notices`] for why.
    Ended {
        /// The followed paths.
        paths: Vec<PathBuf>,
        /// The engine's notices (`'x' has become inaccessible: ...`).
        notices: Vec<String>,
    },
    /// A pattern does not compile.
    Pattern(PatternError),
    /// The engine's thread could not be started.
    Start {
        /// The paths to follow.
        paths: Vec<PathBuf>,
        /// Why.
        source: std::io::Error,
    },
}

impl std::fmt::Display for FollowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FollowError::Timeout { waited, pattern: Some(p), paths } => {
                write!(f, "no line matched '{p}' within {waited:?} in {}", list(paths))
            }
            FollowError::Timeout { waited, pattern: None, paths } => {
                write!(f, "no new line within {waited:?} in {}", list(paths))
            }
            FollowError::Ended { paths, notices } => {
                write!(f, "following {} ended: {}", list(paths), notices.join("; "))
            }
            FollowError::Pattern(e) => e.fmt(f),
            FollowError::Start { paths, source } => {
                write!(f, "cannot start following {}: {source}", list(paths))
            }
        }
    }
}

impl std::error::Error for FollowError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            // Transparent: the pattern error's own source, which it has none of.
            FollowError::Pattern(e) => e.source(),
            FollowError::Start { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<PatternError> for FollowError {
    fn from(e: PatternError) -> Self {
        FollowError::Pattern(e)
    }
}

fn list(paths: &[PathBuf]) -> String {
    paths.iter().map(|p| format!("'{}'", p.display())).collect::<Vec<_>>().join(", ")
}

/// Settings for a [`Follower`]; start with [`Follower::builder`].
#[derive(Debug, Clone)]
pub struct FollowerBuilder {
    paths: Vec<PathBuf>,
    count: Count,
    mode: FollowMode,
    retry: bool,
    poll: bool,
    sleep_interval: Duration,
    patterns: Patterns,
    delimiter: u8,
}

impl Default for FollowerBuilder {
    fn default() -> Self {
        FollowerBuilder {
            paths: Vec::new(),
            count: Count { unit: Unit::Lines, n: 1, from_start: true },
            mode: FollowMode::Name,
            retry: true,
            poll: false,
            sleep_interval: Duration::from_millis(100),
            patterns: Patterns::default(),
            delimiter: b'\n',
        }
    }
}

impl FollowerBuilder {
    /// Follow this file (call again for more). It may not exist yet.
    pub fn path(mut self, path: impl Into<PathBuf>) -> Self {
        self.paths.push(path.into());
        self
    }

    /// Follow these files.
    pub fn paths<P: Into<PathBuf>>(mut self, paths: impl IntoIterator<Item = P>) -> Self {
        self.paths.extend(paths.into_iter().map(Into::into));
        self
    }

    /// Start with the files' existing lines from their first (the default): a line written before
    /// the follower was built is still seen.
    pub fn from_start(mut self) -> Self {
        self.count = Count { unit: Unit::Lines, n: 1, from_start: true };
        self
    }

    /// Start with line `n` (1-based) of each file.
    pub fn from_line(mut self, n: u64) -> Self {
        self.count = Count { unit: Unit::Lines, n: n.max(1), from_start: true };
        self
    }

    /// Start with the last `n` lines of each file (`0`: only lines written from now on).
    pub fn last_lines(mut self, n: u64) -> Self {
        self.count = Count { unit: Unit::Lines, n, from_start: false };
        self
    }

    /// Only lines written from now on (same as `last_lines(0)`).
    pub fn from_end(self) -> Self {
        self.last_lines(0)
    }

    /// Follow the open file (like `tail -f`) instead of the name (`tail -F`, the default).
    pub fn by_descriptor(mut self) -> Self {
        self.mode = FollowMode::Descriptor;
        self.retry = false;
        self
    }

    /// Poll with stat every `interval` instead of using change notifications.
    pub fn poll(mut self, interval: Duration) -> Self {
        self.poll = true;
        self.sleep_interval = interval;
        self
    }

    /// Only lines matching `pattern` (a `regex` crate pattern; call again for "any of").
    pub fn grep(mut self, pattern: impl Into<String>) -> Self {
        self.patterns.grep.push(pattern.into());
        self
    }

    /// Not lines matching `pattern` (applied after [`FollowerBuilder::grep`]).
    pub fn exclude(mut self, pattern: impl Into<String>) -> Self {
        self.patterns.exclude.push(pattern.into());
        self
    }

    /// Match patterns without regard to case.
    pub fn ignore_case(mut self) -> Self {
        self.patterns.ignore_case = true;
        self
    }

    /// Lines end with `byte` instead of `\n` (`0` for NUL-separated records).
    pub fn delimiter(mut self, byte: u8) -> Self {
        self.delimiter = byte;
        self
    }

    /// Start following. Returns once the files' existing lines were read and the files are watched:
    /// whatever is written after this returns will be seen.
    pub fn spawn(self) -> Result<Follower, FollowError> {
        Follower::start(self)
    }
}

/// Follows files on a thread of its own and hands out their lines.
///
/// ```
/// use std::io::Write;
/// use std::time::Duration;
///
/// let dir = tempfile::tempdir()?;
/// let log = dir.path().join("service.log");
/// std::fs::write(&log, "starting\n")?;
///
/// let mut follower = rtail::Follower::builder().path(&log).spawn()?;
/// let mut out = std::fs::OpenOptions::new().append(true).open(&log)?;
/// writeln!(out, "listening on 127.0.0.1:8080")?;
///
/// let line = follower.wait_for("listening on", Duration::from_secs(10))?;
/// assert_eq!(line.text(), "listening on 127.0.0.1:8080");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Follower {
    rx: Receiver<Msg>,
    shutdown: Shutdown,
    /// The engine's inbox, for [`Control::Mark`].
    control: Arc<follow::Inbox>,
    thread: Option<JoinHandle<()>>,
    paths: Vec<PathBuf>,
    delimiter: u8,
    ready: VecDeque<Line>,
    notices: Vec<String>,
    next_mark: u64,
}

impl std::fmt::Debug for Follower {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Follower").field("paths", &self.paths).finish_non_exhaustive()
    }
}

/// What reading one message gave.
enum Got {
    Line(Line),
    Ended,
    TimedOut,
}

impl Follower {
    /// Settings for a new follower.
    pub fn builder() -> FollowerBuilder {
        FollowerBuilder::default()
    }

    fn start(b: FollowerBuilder) -> Result<Follower, FollowError> {
        let filter = if b.patterns.is_empty() { None } else { Some(Filter::new(&b.patterns, b.delimiter)?) };
        let config = Config {
            inputs: b.paths.iter().cloned().map(Input::Path).collect(),
            count: b.count,
            delimiter: b.delimiter,
            follow: Some(Follow {
                mode: b.mode,
                retry: b.retry,
                sleep_interval: b.sleep_interval,
                poll: b.poll,
            }),
            patterns: b.patterns.clone(),
            ..Config::default()
        };
        let shutdown = Shutdown::new();
        // Never "plain": whole lines only, so no partial line is flushed early and no file range
        // is handed over for a zero-copy write.
        let shaping = Shaping {
            filter: filter.map(std::sync::Arc::new),
            plain: false,
            delim: b.delimiter,
            stamps: false,
            multiline: None,
            merge_window: None,
            since: None,
            numbers: false,
        };
        let (sink, rx) = pipeline::channel(shutdown.clone(), shaping);
        let control = Arc::new(follow::Inbox::new());
        let inbox = Arc::clone(&control);
        let names: Vec<Vec<u8>> = config.inputs.iter().map(Input::display_name).collect();
        let (started_tx, started) = bounded::<()>(1);
        let thread = std::thread::Builder::new()
            .name("rtail-follower".into())
            .spawn(move || {
                let _ = (|| -> Result<(), Stopped> {
                    let (starts, _) = crate::run::print_all(&config, &names, &sink)?;
                    let engine =
                        follow::Engine::new(&config, starts, follow::Globbed::default(), &sink, inbox)?;
                    let _ = started_tx.send(());
                    engine.run().map(|_| ())
                })();
            })
            .map_err(|source| FollowError::Start { paths: b.paths.clone(), source })?;
        let mut follower = Follower {
            rx,
            shutdown,
            control,
            thread: Some(thread),
            paths: b.paths,
            delimiter: b.delimiter,
            ready: VecDeque::new(),
            notices: Vec::new(),
            next_mark: 0,
        };
        // Return once the files were read and are watched, so "from now on" means from now;
        // take in the initial lines meanwhile (the channel is bounded).
        loop {
            crossbeam_channel::select! {
                recv(started) -> _ => break,
                recv(follower.rx) -> msg => match msg {
                    Ok(msg) => follower.absorb(msg),
                    Err(_) => break,
                },
            }
        }
        Ok(follower)
    }

    /// Take one message from the engine.
    fn absorb(&mut self, msg: Msg) {
        match msg {
            Msg::Data(batch) => self.split(&batch),
            Msg::Event(event) if event.kind.is_notice() => self.notices.push(event.message),
            Msg::Diag(text) => self.notices.push(text),
            Msg::Name { source, name } => {
                use std::os::unix::ffi::OsStringExt;
                let path = PathBuf::from(std::ffi::OsString::from_vec(name));
                match self.paths.get_mut(source) {
                    Some(p) => *p = path,
                    None => self.paths.push(path),
                }
            }
            _ => {}
        }
    }

    /// The next line, waiting at most `timeout`.
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<Line, FollowError> {
        let deadline = Instant::now() + timeout;
        match self.next_line(deadline) {
            Got::Line(line) => Ok(line),
            Got::TimedOut => Err(self.timeout(timeout, None)),
            Got::Ended => Err(self.ended()),
        }
    }

    /// The first line matching `pattern` (a `regex` crate pattern), skipping the others, waiting
    /// at most `timeout` in all.
    pub fn wait_for(&mut self, pattern: &str, timeout: Duration) -> Result<Line, FollowError> {
        let re = Regex::new(pattern).map_err(|e| PatternError {
            option: "wait_for",
            pattern: pattern.to_string(),
            message: crate::filter::one_line(&e),
        })?;
        let deadline = Instant::now() + timeout;
        loop {
            match self.next_line(deadline) {
                Got::Line(line) if re.is_match(&line.bytes) => return Ok(line),
                Got::Line(_) => {}
                Got::TimedOut => return Err(self.timeout(timeout, Some(pattern.to_string()))),
                Got::Ended => return Err(self.ended()),
            }
        }
    }

    /// From now on: drop every line written to the files before this call (read or not yet),
    /// so the next [`Follower::wait_for`] only sees lines written after it. A line whose start
    /// was written before and whose end comes after is whole only after the mark, so it is
    /// kept. Returns once the engine has caught up with the files.
    pub fn mark(&mut self) -> Result<(), FollowError> {
        let n = self.next_mark;
        self.next_mark += 1;
        self.ready.clear();
        if self.control.send(Control::Mark(n)).is_err() {
            return Err(self.ended());
        }
        loop {
            match self.rx.recv() {
                Ok(Msg::Mark(m)) if m == n => break,
                Ok(Msg::Diag(text)) => self.notices.push(text),
                Ok(Msg::Event(event)) if event.kind.is_notice() => self.notices.push(event.message),
                Ok(_) => {}
                Err(_) => return Err(self.ended()),
            }
        }
        Ok(())
    }

    /// The engine's notices so far (`'app.log' has been replaced;  following new file`, ...).
    pub fn notices(&self) -> &[String] {
        &self.notices
    }

    /// The followed paths.
    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }

    fn timeout(&self, waited: Duration, pattern: Option<String>) -> FollowError {
        FollowError::Timeout { waited, pattern, paths: self.paths.clone() }
    }

    fn ended(&self) -> FollowError {
        FollowError::Ended { paths: self.paths.clone(), notices: self.notices.clone() }
    }

    fn next_line(&mut self, deadline: Instant) -> Got {
        loop {
            if let Some(line) = self.ready.pop_front() {
                return Got::Line(line);
            }
            match self.rx.recv_deadline(deadline) {
                Ok(msg) => self.absorb(msg),
                Err(RecvTimeoutError::Timeout) => return Got::TimedOut,
                Err(RecvTimeoutError::Disconnected) => return Got::Ended,
            }
        }
    }

    /// Take the records of a batch as lines (the engine hands over whole records only).
    fn split(&mut self, batch: &Batch) {
        for record in batch.records(self.delimiter) {
            self.ready.push_back(Line {
                path: self.paths[batch.source].clone(),
                offset: record.offset,
                partial: !record.terminated,
                bytes: record.bytes.to_vec(),
            });
        }
    }
}

impl Iterator for Follower {
    type Item = Line;

    /// The next line, waiting as long as it takes; `None` once the engine has ended.
    fn next(&mut self) -> Option<Line> {
        loop {
            match self.next_line(Instant::now() + Duration::from_secs(3600)) {
                Got::Line(line) => return Some(line),
                Got::TimedOut => continue,
                Got::Ended => return None,
            }
        }
    }
}

impl Drop for Follower {
    /// Stop the engine and join its thread (and the notification thread it owns).
    fn drop(&mut self) {
        self.shutdown.trigger(StopReason::ConsumerGone);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
