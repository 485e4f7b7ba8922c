//! One invocation of rtail: start the outputs, the producers (initial output, follow engine,
//! child command) and the watcher of signals; wait for them; decide the [`Outcome`].
//!
//! Static output runs on the calling thread with no channel. Following runs the engine on the
//! calling thread and the outputs on a thread of their own (see [`crate::pipeline::shared`]).

use std::fs::File;
use std::io;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::{Config, FollowMode, Headers, Input, Stream};
use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::follow::{self, Globbed};
use crate::group::{MAX_RECORD_BYTES, MAX_RECORD_LINES, Multiline, Rule};
use crate::output::json::Json;
use crate::output::terminal::{self, Layout, Terminal};
use crate::output::{Names, Output, Outputs};
use crate::pipeline::{self, Deliver, Msg, PrintEnd, Shaping, Shutdown, Sink, StopReason, Stopped};
use crate::record::{Batch, Event, EventKind, Generation, SourceId};
use crate::source::initial::{self, ReadFail};
use crate::source::{glob, merge};
use crate::stamp::Stamp;
use crate::text::{quote, quotef};
use crate::{child, signal, sys};

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// Everything asked for was printed.
    Success,
    /// Some input could not be opened or read; the others were printed (exit status 1).
    FileErrors,
    /// The reader of standard output went away; the run stopped quietly.
    BrokenPipe,
    /// Stopped by this signal (SIGINT, SIGTERM, SIGHUP) after flushing; the binary ends by
    /// re-raising it so the shell sees 128+N.
    Signaled(i32),
    /// Following ended because every `--pid` process died (exit status 0).
    PidsGone,
    /// The `--until` line was printed (exit status 0).
    UntilMatched,
    /// `--idle-timeout` passed with no new line (exit status 0).
    Idle,
    /// `--timeout` passed first (exit status 124, as timeout(1)).
    TimedOut,
    /// The child command ended with this status (128+N when killed by signal N); it is ours.
    Child(i32),
}

impl Outcome {
    /// The exit status GNU tail uses for this outcome (141 for a broken pipe, as if killed by
    /// SIGPIPE).
    pub fn exit_code(self) -> i32 {
        match self {
            Outcome::Success | Outcome::PidsGone | Outcome::UntilMatched | Outcome::Idle => 0,
            Outcome::TimedOut => 124,
            Outcome::Child(code) => code,
            Outcome::FileErrors => 1,
            // As GNU's: killed by SIGPIPE, or status 1 when SIGPIPE was ignored from the start.
            Outcome::BrokenPipe if signal::sigpipe_ignored_at_start() => 1,
            Outcome::BrokenPipe => 128 + libc::SIGPIPE,
            Outcome::Signaled(sig) => 128 + sig,
        }
    }
}

impl Outcome {
    /// End the process the way this outcome asks: a broken pipe or a signal ends it killed by
    /// that signal (status 141, 130, 143, 129 in a shell), as GNU tail does; anything else
    /// returns the exit code for `main` to return.
    pub fn into_exit_code(self) -> u8 {
        match self {
            Outcome::BrokenPipe if !signal::sigpipe_ignored_at_start() => signal::die_by(libc::SIGPIPE),
            Outcome::Signaled(sig) => signal::die_by(sig),
            _ => {}
        }
        u8::try_from(self.exit_code() & 0xff).unwrap_or(1)
    }
}

/// Run rtail with `config` as the `rtail` command does: print to standard output and
/// diagnostics to standard error, and while it runs handle SIGINT, SIGTERM and SIGHUP by
/// flushing and stopping ([`Outcome::Signaled`]), or by passing them to the child command.
pub fn run(config: &Config) -> Result<Outcome> {
    let expanded = expand(config)?;
    let (config, globbed) = match &expanded {
        Some((config, globbed)) => (config, Some(globbed)),
        None => (config, None),
    };
    // Merged, lines carry their file's name instead of headers.
    let merged;
    let config = if config.merge && (config.inputs.len() > 1 || !config.prefix) {
        let mut c = config.clone();
        c.prefix |= c.inputs.len() > 1;
        c.headers = Headers::Never;
        merged = c;
        &merged
    } else {
        config
    };
    let filter = if config.patterns.is_empty() {
        None
    } else {
        Some(Arc::new(Filter::new(&config.patterns, config.delimiter)?))
    };
    // One copy, shared with the terminal output: with thousands of files, copies add up.
    let names: Arc<[Vec<u8>]> = config.inputs.iter().map(|i| config.input_name(i)).collect();
    let shaping = Shaping {
        plain: filter.is_none()
            && !config.prefix
            && !config.color
            && !config.json
            && config.serve.is_none()
            && !config.multiline
            && config.since.is_none()
            && !config.line_number,
        filter,
        delim: config.delimiter,
        // The JSON lines and the web view carry each record's time; following with --merge,
        // the merge window orders records by it.
        stamps: config.json || config.serve.is_some() || (config.merge && config.follow.is_some()),
        multiline: multiline(config)?,
        merge_window: (config.merge && config.follow.is_some() && !config.merge_window.is_zero())
            .then_some(config.merge_window),
        since: config.since.map(Stamp::from_system),
        numbers: config.line_number,
    };
    let shutdown = Shutdown::new();
    let web = WebView::start(config, &shutdown)?;
    let outputs = || outputs(config, &names, shaping.filter.as_deref(), shutdown.clone(), web.as_ref());
    let following = config.follow.is_some();
    if !following && config.timeout.is_none() && web.is_none() {
        // Static output: everything on this thread; signals keep their default action, as GNU's.
        let printer = outputs();
        let sink = pipeline::direct(shutdown.clone(), shaping, printer);
        let mut produced = Produced::default();
        let _ = initial(config, globbed, &names, &sink, &mut produced);
        produced.until_matched = sink.until_hit();
        let printed = sink.finish().unwrap_or(Ok(PrintEnd::Done))?;
        return Ok(outcome(config, &shutdown, printed, produced));
    }
    let printer = outputs();
    let (sink, queue) = pipeline::shared(shutdown.clone(), shaping, printer);
    let inbox = Arc::new(follow::Inbox::new());
    let watch = signal::Watch {
        signals: true,
        marks: following,
        stdout: following && sys::stdout_is_pipe(),
        pids: if following { config.pids.clone() } else { Vec::new() },
        poll_every: config.follow.as_ref().map_or(Duration::from_secs(1), |f| f.sleep_interval),
        deadline: config.timeout.map(|t| Instant::now() + t),
    };
    let (produced, printed) = std::thread::scope(|scope| {
        let watcher = signal::Watcher::start(scope, watch, shutdown.clone(), Arc::clone(&inbox))
            .map_err(|e| Error::Internal(format!("cannot start the signal watcher: {e}")))?;
        let printer = scope.spawn(move || queue.run());
        let produced = produce(scope, config, globbed, &names, &sink, inbox);
        drop(sink);
        let printed = printer.join().map_err(|_| Error::Internal("the printer thread panicked".into()));
        // A command that ended by the signal passed on to it ends the run too.
        let signaled = signal::received().is_some();
        if web.is_some() && !produced.ends_the_run() && shutdown.reason().is_none() && !signaled {
            // Every input ended: the page keeps showing them until a signal, its Stop
            // button or --serve-once ends the run.
            let _ = shutdown.receiver().recv();
        }
        if let Some(w) = watcher {
            w.stop();
        }
        Ok::<_, Error>((produced, printed??))
    })?;
    if let Some(web) = web {
        web.stop(&shutdown);
    }
    if let Some(err) = produced.spawn_error {
        return Err(err);
    }
    // A child that ended by itself (or by the signal passed on to it) gives its status, unless
    // --until or --timeout decided at the same moment; one the run stopped gives none.
    let decided = produced.until_matched || shutdown.reason() == Some(StopReason::Timeout);
    if let Some(code) = produced.child_status
        && !decided
    {
        return Ok(Outcome::Child(code));
    }
    if let Some(sig) = signal::received() {
        return Ok(Outcome::Signaled(sig));
    }
    Ok(outcome(config, &shutdown, printed, produced))
}

/// The outputs `config` asks for: JSON lines or the terminal's text, on standard output.
fn outputs(
    config: &Config,
    names: &Arc<[Vec<u8>]>,
    filter: Option<&Filter>,
    shutdown: Shutdown,
    web: Option<&WebView>,
) -> Box<dyn Deliver> {
    let output: Box<dyn Output> = if config.json {
        Box::new(Json::new(json_paths(config), config.delimiter))
    } else {
        Box::new(Terminal::new(Layout {
            names: Names::new(Arc::clone(names)),
            headers: config.print_headers(),
            prefix: config.prefix,
            numbers: config.line_number,
            delim: config.delimiter,
            colour: config.color.then(|| filter.iter().flat_map(|f| f.highlights().cloned()).collect()),
            to_stderr: config.inputs.iter().position(|i| *i == Input::Command(Stream::Stderr)),
        }))
    };
    let mut all = vec![output];
    if let Some(web) = web {
        all.push(web.output(config.delimiter));
    }
    Outputs::boxed(all, config.color.then(terminal::notice_style), shutdown)
}

/// Each input's `path` in JSON objects: the operand as given, `-` for standard input.
fn json_paths(config: &Config) -> Vec<String> {
    config
        .inputs
        .iter()
        .map(|input| match input {
            Input::Stdin => "-".to_string(),
            Input::Path(p) => p.to_string_lossy().into_owned(),
            Input::Command(_) => String::from_utf8_lossy(&config.input_name(input)).into_owned(),
        })
        .collect()
}

/// `--serve`: the hub every record also goes to, and the server that shows it.
#[cfg(feature = "web")]
struct WebView {
    hub: Arc<crate::web::hub::Hub>,
    server: crate::web::server::Server,
}

#[cfg(feature = "web")]
impl WebView {
    /// Listen (before anything is read, so that a busy port fails the run at once) and say
    /// where on standard error.
    fn start(config: &Config, shutdown: &Shutdown) -> Result<Option<WebView>> {
        let Some(serve) = &config.serve else {
            return Ok(None);
        };
        let hub = crate::web::hub::Hub::new(json_paths(config));
        let server = crate::web::server::Server::start(serve, Arc::clone(&hub), shutdown.clone())?;
        // One write, so that a reader never sees half the address.
        let line = format!("rtail: serving {}\n", server.url());
        let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), line.as_bytes());
        Ok(Some(WebView { hub, server }))
    }

    fn output(&self, delim: u8) -> Box<dyn Output> {
        Box::new(crate::web::hub::HubOutput::new(Arc::clone(&self.hub), delim))
    }

    /// End the streams and the server; say why when the page ended the run.
    fn stop(self, shutdown: &Shutdown) {
        match shutdown.reason() {
            Some(StopReason::WebStop) => eprintln!("rtail: stopped from the web page"),
            Some(StopReason::ViewersGone) => eprintln!("rtail: the last viewer left"),
            _ => {}
        }
        self.hub.end();
        self.server.stop();
    }
}

/// Without the `web` feature there is no web view; `--serve` is refused.
#[cfg(not(feature = "web"))]
enum WebView {}

#[cfg(not(feature = "web"))]
impl WebView {
    fn start(config: &Config, _shutdown: &Shutdown) -> Result<Option<WebView>> {
        match config.serve {
            Some(_) => Err(Error::Internal("this build of rtail has no web view (feature `web`)".into())),
            None => Ok(None),
        }
    }

    fn output(&self, _delim: u8) -> Box<dyn Output> {
        match *self {}
    }

    fn stop(self, _shutdown: &Shutdown) {}
}

/// How a run ended when no signal or child command decided it.
fn outcome(config: &Config, shutdown: &Shutdown, printed: PrintEnd, produced: Produced) -> Outcome {
    match shutdown.reason() {
        _ if printed == PrintEnd::BrokenPipe => {
            // A failed write is only worth a message when SIGPIPE could not have said it.
            if signal::sigpipe_ignored_at_start() {
                eprintln!("rtail: error writing 'standard output': Broken pipe");
            }
            Outcome::BrokenPipe
        }
        Some(StopReason::OutputClosed) => Outcome::BrokenPipe,
        Some(StopReason::Timeout) => {
            timed_out_notice(config);
            Outcome::TimedOut
        }
        _ if produced.until_matched => Outcome::UntilMatched,
        _ if produced.had_errors => Outcome::FileErrors,
        _ if config.patterns.until.is_some() => {
            eprintln!(
                "rtail: no line matched --until {}",
                quote(config.patterns.until.as_deref().unwrap_or("").as_bytes())
            );
            Outcome::FileErrors
        }
        _ if produced.pids_gone => Outcome::PidsGone,
        _ if produced.idle => Outcome::Idle,
        _ => Outcome::Success,
    }
}

fn timed_out_notice(config: &Config) {
    let after = config.timeout.map(format_duration).unwrap_or_default();
    match &config.patterns.until {
        Some(until) => {
            eprintln!("rtail: timed out after {after}: no line matched --until {}", quote(until.as_bytes()))
        }
        None => eprintln!("rtail: timed out after {after}"),
    }
}

/// `1500ms`, `30s`, `2m`, `1h30m`: the shortest exact spelling.
fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms % 1000 != 0 {
        return format!("{ms}ms");
    }
    let s = ms / 1000;
    match (s / 3600, s % 3600 / 60, s % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (h, 0, 0) => format!("{h}h"),
        _ => format!("{s}s"),
    }
}

/// What the producer side reports.
#[derive(Debug, Default)]
struct Produced {
    had_errors: bool,
    pids_gone: bool,
    idle: bool,
    until_matched: bool,
    /// The child command's exit status, when it ended by itself (not stopped by the run).
    child_status: Option<i32>,
    /// The child command could not be started.
    spawn_error: Option<Error>,
    /// The command whose output was followed ended by itself (a web view stays, to show it).
    command_ended: bool,
}

impl Produced {
    /// The run ends now even with a web view: --until matched, --idle-timeout, --pid, or the
    /// child command beside the files ended (by itself, or by the Ctrl-C passed on to it).
    fn ends_the_run(&self) -> bool {
        self.until_matched
            || self.idle
            || self.pids_gone
            || (self.child_status.is_some() && !self.command_ended)
    }
}

/// Everything the producer side does: warnings, initial output, the child command, following.
fn produce<'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    config: &Config,
    globbed: Option<&Globbed>,
    names: &[Vec<u8>],
    sink: &Sink,
    inbox: Arc<follow::Inbox>,
) -> Produced {
    let mut produced = Produced::default();
    let mut child: Option<child::Child> = None;
    let _ = (|| -> Result<(), Stopped> {
        if config.reads_command() {
            return follow_command(scope, config, sink, inbox, &mut child, &mut produced);
        }
        let (starts, next_source) = initial(config, globbed, names, sink, &mut produced)?;
        if config.follow.is_none() {
            return Ok(());
        }
        let mut globbed = globbed.cloned().unwrap_or_default();
        globbed.first_new_source = next_source;
        let engine = follow::Engine::new(config, starts, globbed, sink, Arc::clone(&inbox))?;
        // The files are watched: now the child may start, and nothing it writes is missed.
        if !config.command.is_empty() {
            match child::Child::spawn(scope, &config.command, inbox, None) {
                Ok((c, _)) => child = Some(c),
                Err(e) => {
                    produced.spawn_error = Some(spawn_error(config, e));
                    return Ok(());
                }
            }
        }
        if engine.is_empty() && child.is_none() {
            return Ok(());
        }
        // Everything written from now on will be printed: say so to programs that wait for it.
        sink.send(Msg::Event(Event::new(None, EventKind::Following, "following".into())))?;
        match engine.run()? {
            follow::FollowEnd::NoFilesRemaining => produced.had_errors = true,
            follow::FollowEnd::PidsGone => produced.pids_gone = true,
            follow::FollowEnd::Idle => produced.idle = true,
            follow::FollowEnd::ChildExited(_) | follow::FollowEnd::Stopped => {}
        }
        Ok(())
    })();
    produced.until_matched = sink.until_hit();
    if let Some(c) = child {
        // Stop it unless it ended by itself (until matched, timeout, idle, closed stdout...).
        produced.child_status = c.finish(true);
        produced.command_ended &= produced.child_status.is_some();
    }
    produced
}

fn spawn_error(config: &Config, e: io::Error) -> Error {
    let program = &config.command[0];
    let is_a_file = config.reads_command() && std::path::Path::new(program).is_file();
    Error::Spawn { command: program.to_string_lossy().into_owned(), source: e, is_a_file }
}

/// The command's output is the source: start it, and follow its two streams.
fn follow_command<'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    config: &Config,
    sink: &Sink,
    inbox: Arc<follow::Inbox>,
    child: &mut Option<child::Child>,
    produced: &mut Produced,
) -> Result<(), Stopped> {
    // Only the terminal in colour and the web page show a program's colours.
    let capture = child::Capture { no_color: !config.color && config.serve.is_none() };
    let streams = match child::Child::spawn(scope, &config.command, Arc::clone(&inbox), Some(capture)) {
        Ok((c, Some(streams))) => {
            *child = Some(c);
            streams
        }
        Ok((c, None)) => {
            *child = Some(c);
            return Ok(());
        }
        Err(e) => {
            produced.spawn_error = Some(spawn_error(config, e));
            return Ok(());
        }
    };
    let id = |stream| config.inputs.iter().position(|i| *i == Input::Command(stream)).unwrap_or(0);
    sink.send(Msg::Event(Event::new(None, EventKind::Following, "following".into())))?;
    let ids = [id(Stream::Stdout), id(Stream::Stderr)];
    match follow::follow_command(sink, inbox, streams, ids, config.idle_timeout)? {
        follow::FollowEnd::ChildExited(_) => produced.command_ended = true,
        follow::FollowEnd::PidsGone => produced.pids_gone = true,
        follow::FollowEnd::Idle => produced.idle = true,
        follow::FollowEnd::Stopped | follow::FollowEnd::NoFilesRemaining => {}
    }
    Ok(())
}

/// Warnings, then the initial output of every input: what following goes on from.
fn initial(
    config: &Config,
    globbed: Option<&Globbed>,
    names: &[Vec<u8>],
    sink: &Sink,
    produced: &mut Produced,
) -> Result<(Vec<follow::Start>, SourceId), Stopped> {
    for warning in warnings(config) {
        sink.diag(warning.into())?;
    }
    if let Some(globbed) = globbed {
        for text in &globbed.problems {
            sink.diag(text.clone())?;
        }
        for pattern in &globbed.unmatched {
            let name = quote(pattern.as_os_str().as_encoded_bytes());
            if config.follow.is_some() {
                sink.diag(format!("no files match {name} yet"))?;
            } else {
                sink.diag(format!("no files match {name}"))?;
                produced.had_errors = true;
            }
        }
    }
    if let Some(follow) = &config.follow {
        // One descriptor per followed file, plus a few for ourselves. By name, files past the
        // limit are closed while quiet and opened again when they change (`follow::park`); by
        // descriptor each one must stay open.
        let limit = sys::raise_open_file_limit();
        let needed = config.inputs.len() as u64 + 32;
        if needed > limit && follow.mode == FollowMode::Descriptor {
            sink.diag(format!(
                "warning: following {} files needs about {needed} open files, but the limit is {limit}; \
                 files past it cannot be opened (raise it with 'ulimit -n', or follow by name: -F)",
                config.inputs.len()
            ))?;
        }
    }
    let (starts, next_source) = print_all(config, names, sink)?;
    produced.had_errors |= starts.iter().any(|s| s.failure.is_some() || s.troubled);
    Ok((starts, next_source))
}

/// The initial output of every input, in order; and the number the next source gets (sources
/// after the inputs: rotated generations read with `--history`).
pub(crate) fn print_all(
    config: &Config,
    names: &[Vec<u8>],
    sink: &Sink,
) -> Result<(Vec<follow::Start>, SourceId), Stopped> {
    if config.merge {
        return print_merged(config, names, sink);
    }
    let mut starts = Vec::with_capacity(config.inputs.len());
    let mut next_source = config.inputs.len();
    // Following by name more files than may be open at once: the least recently modified ones
    // are closed again once printed (the engine opens them when they change: `follow::park`).
    let budget = match &config.follow {
        Some(f) if f.mode == FollowMode::Name => follow::descriptor_budget(sys::open_file_limit()),
        _ => usize::MAX,
    };
    let mut open = std::collections::BinaryHeap::new();
    for (id, input) in config.inputs.iter().enumerate() {
        let mut start = print_one(config, id, input, &names[id], &mut next_source, sink)?;
        if budget < config.inputs.len()
            && matches!(input, Input::Path(_))
            && let Some(opened) = &mut start.open
            && let follow::Held::Open(file) = &opened.file
            && let Ok(meta) = file.metadata()
            && meta.is_file()
        {
            let mtime = meta.modified().ok();
            open.push(std::cmp::Reverse((mtime, id)));
            if open.len() > budget
                && let Some(std::cmp::Reverse((_, oldest))) = open.pop()
            {
                let park = |opened: &mut follow::Opened| {
                    if let follow::Held::Open(file) = &opened.file
                        && let Ok(meta) = file.metadata()
                    {
                        opened.file = follow::Held::Parked(meta);
                    }
                };
                match starts.get_mut(oldest) {
                    Some(follow::Start { open: Some(o), .. }) => park(o),
                    _ => park(opened),
                }
            }
        }
        starts.push(start);
    }
    Ok((starts, next_source))
}

/// `--merge`: open every input, then print their records merged by time (`source::merge`).
fn print_merged(
    config: &Config,
    names: &[Vec<u8>],
    sink: &Sink,
) -> Result<(Vec<follow::Start>, SourceId), Stopped> {
    let mut starts = Vec::with_capacity(config.inputs.len());
    let mut inputs = Vec::new();
    let mut next_source = config.inputs.len();
    for (id, input) in config.inputs.iter().enumerate() {
        let mut start = follow::Start { id, open: None, failure: None, troubled: false, listed: None };
        let opened = open_input(input).and_then(|file| {
            let meta = file.metadata()?;
            if meta.is_dir() {
                return Err(io::Error::from_raw_os_error(libc::EISDIR));
            }
            Ok((file, meta))
        });
        match opened {
            Ok((file, meta)) => {
                if config.history
                    && meta.is_file()
                    && let Input::Path(path) = input
                {
                    // Its rotated generations go first: equal times keep that order.
                    start.troubled |= merged_generations(
                        path,
                        &names[id],
                        Some(&file),
                        &mut next_source,
                        &mut inputs,
                        sink,
                    )?;
                }
                let file = Arc::new(file);
                // A pipe is read whole, from where it is; a file from where -n says.
                let (lo, hi) = if meta.is_file() {
                    (io::Seek::stream_position(&mut &*file).unwrap_or(0), meta.len())
                } else {
                    (0, u64::MAX)
                };
                let begin = if meta.is_file() {
                    initial::output_start(&file, lo, hi, config.count, id, sink).unwrap_or(lo)
                } else {
                    sink.shut_until_since(id);
                    0
                };
                let mut head = Vec::new();
                if meta.is_file() {
                    head.resize(hi.min(64) as usize, 0);
                    let n = crate::source::read::read_full_at(&file, &mut head, 0).unwrap_or(0);
                    head.truncate(n);
                }
                inputs.push(merge::Input {
                    source: id,
                    file,
                    generation: Generation::next(),
                    start: begin,
                    end: hi,
                    head,
                    regular: meta.is_file(),
                    stream: None,
                    complete: false,
                    name: names[id].clone(),
                });
            }
            Err(e) => {
                let what =
                    if e.raw_os_error() == Some(libc::EISDIR) { "error reading" } else { "cannot open" };
                let name = quote(&names[id]);
                let text = match what {
                    "cannot open" => format!("cannot open {name} for reading: {}", sys::error_text(&e)),
                    _ => format!("error reading {name}: {}", sys::error_text(&e)),
                };
                sink.event(id, EventKind::Inaccessible, text)?;
                let untailable = e.raw_os_error() == Some(libc::EISDIR);
                start.failure = Some(if untailable {
                    follow::Failure::Untailable
                } else {
                    follow::Failure::Errno(e.raw_os_error().unwrap_or(libc::EIO))
                });
                // Its generations are history all the same (see `print_one`).
                if config.history
                    && !untailable
                    && let Input::Path(path) = input
                {
                    start.troubled |=
                        merged_generations(path, &names[id], None, &mut next_source, &mut inputs, sink)?;
                }
            }
        }
        starts.push(start);
    }
    match merge::print_merged(&inputs, config.follow.is_some(), sink) {
        Ok(reached) => {
            for (input, reached) in inputs.into_iter().zip(reached) {
                // (Rotated generations are not followed.)
                if let Some(start) = starts.get_mut(input.source) {
                    start.open = Some(follow::Opened {
                        file: follow::Held::Open(input.file),
                        generation: input.generation,
                        reached,
                    });
                }
            }
        }
        Err(merge::Fail::Stopped) => return Err(Stopped),
        Err(merge::Fail::Io(id, e)) => match starts.get_mut(id) {
            Some(start) => {
                let text = format!("error reading {}: {}", quote(&names[id]), sys::error_text(&e));
                sink.event(id, EventKind::Inaccessible, text)?;
                start.failure = Some(follow::Failure::Errno(e.raw_os_error().unwrap_or(libc::EIO)));
            }
            None => {
                // A rotated generation: the merge stopped there, as for a file.
                let name = inputs.iter().find(|i| i.source == id).map(|i| i.name.clone()).unwrap_or_default();
                sink.diag(format!("error reading {}: {}", quote(&name), sys::error_text(&e)))?;
                if let Some(start) = starts.first_mut() {
                    start.troubled = true;
                }
            }
        },
    }
    for start in &mut starts {
        if start.open.is_some() {
            start.troubled |= tell_no_stamps(start.id, &names[start.id], sink)?;
        }
    }
    Ok((starts, next_source))
}

/// `--merge --history`: the rotated generations of `path` (whose live file is `live`, `None`
/// when it could not be opened) as
/// inputs of the merge, sources numbered from `next_source` and named after their files; with
/// `--since` only those that may hold its records. Returns whether some could not be read
/// (said on stderr).
fn merged_generations(
    path: &std::path::Path,
    name: &[u8],
    live: Option<&File>,
    next_source: &mut SourceId,
    inputs: &mut Vec<merge::Input>,
    sink: &Sink,
) -> Result<bool, Stopped> {
    use crate::source::history::{self, Compression, Problem, Trouble};
    use std::os::unix::ffi::OsStrExt;
    let listed = history::generations(path).and_then(|mut rotated| {
        if let Some(when) = sink.since() {
            initial::since_generations(&mut rotated, live, when, sink.delim())?;
        }
        Ok(rotated)
    });
    let rotated = match listed {
        Ok(rotated) => rotated,
        Err(e) => {
            let text = format!("cannot list the rotated files of {}: {}", quote(name), sys::error_text(&e));
            sink.diag(text)?;
            return Ok(true);
        }
    };
    let mut troubled = false;
    for rot in rotated {
        let trouble = match rot.compression {
            Compression::Plain | Compression::Gzip => match history::open(&rot) {
                Ok(Some(file)) => {
                    let source = *next_source;
                    *next_source += 1;
                    sink.send(Msg::Name { source, name: rot.path.as_os_str().as_bytes().to_vec() })?;
                    match generation_input(source, file, &rot, sink) {
                        Ok(input) => {
                            inputs.push(input);
                            continue;
                        }
                        Err(e) => Trouble::Open(e),
                    }
                }
                // Gone meanwhile (rotated on): its lines are in the next one.
                Ok(None) => continue,
                Err(e) => Trouble::Open(e),
            },
            other => Trouble::Unsupported(other),
        };
        sink.diag(Problem { path: rot.path, trouble }.to_string())?;
        troubled = true;
    }
    Ok(troubled)
}

/// A rotated generation as an input of the merge: a plain one from where `--since` says (all
/// of it without), a compressed one read through (and through the sink's `--since` gate).
fn generation_input(
    source: SourceId,
    file: File,
    rot: &crate::source::history::Rotated,
    sink: &Sink,
) -> io::Result<merge::Input> {
    use crate::source::history::{self, Compression};
    let name = rot.path.as_os_str().as_encoded_bytes().to_vec();
    if rot.compression == Compression::Gzip {
        sink.shut_until_since(source);
        let kept = Arc::new(file.try_clone()?);
        let stream: Box<dyn io::Read> = Box::new(history::gzip_reader(file));
        return Ok(merge::Input {
            source,
            file: kept,
            generation: Generation::next(),
            start: 0,
            end: u64::MAX,
            head: Vec::new(),
            regular: false,
            stream: Some(std::cell::RefCell::new(stream)),
            complete: true,
            name,
        });
    }
    let end = file.metadata().map_or(0, |m| m.len());
    let all = crate::config::Count { unit: crate::config::Unit::Lines, n: 1, from_start: true };
    let start = initial::output_start(&file, 0, end, all, source, sink).unwrap_or(0);
    Ok(merge::Input {
        source,
        file: Arc::new(file),
        generation: Generation::next(),
        start,
        end,
        head: Vec::new(),
        regular: true,
        stream: None,
        complete: true,
        name,
    })
}

/// GNU's warnings about options that do nothing in this combination.
fn warnings(config: &Config) -> Vec<&'static str> {
    let mut out = Vec::new();
    if config.follow.is_none() && !config.pids.is_empty() {
        out.push("warning: PID ignored; --pid=PID is useful only when following");
    }
    if config.follow.is_none() && config.idle_timeout.is_some() {
        out.push("warning: --idle-timeout ignored; --idle-timeout is useful only when following");
    }
    match &config.follow {
        None if config.retry_requested => {
            out.push("warning: --retry ignored; --retry is useful only when following")
        }
        Some(f) if f.mode == FollowMode::Descriptor && f.retry => {
            out.push("warning: --retry only effective for the initial open")
        }
        _ => {}
    }
    out
}

/// `--history`: print the generations of `path` that come before its live `file` (`None`:
/// it could not be opened), reporting what could not be read on stderr and in `start`.
/// Following by name, the generations listed go to the engine in `start` (they are history,
/// not news: see `follow::missed`). Returns the count the live file is then printed with.
fn print_history(
    config: &Config,
    path: &std::path::Path,
    name: &[u8],
    file: Option<&File>,
    start: &mut follow::Start,
    next_source: &mut SourceId,
    sink: &Sink,
) -> Result<crate::config::Count, Stopped> {
    let count = config.count;
    let rotated = match crate::source::history::generations(path) {
        Ok(rotated) => rotated,
        Err(e) => {
            sink.diag(format!("cannot list the rotated files of {}: {}", quote(name), sys::error_text(&e)))?;
            start.troubled = true;
            return Ok(count);
        }
    };
    if config.follow.as_ref().is_some_and(|f| f.mode == FollowMode::Name) {
        // (First bytes, not the files: thousands of inputs must not hold their generations
        // open until following starts.)
        let head = |rot| crate::source::history::head(rot, follow::FINGERPRINT_LEN).unwrap_or_default();
        start.listed = Some(rotated.iter().map(head).collect());
    }
    let printed = initial::print_rotated(rotated, file, count, next_source, sink);
    // A rotated generation ends where it ends: its last record is complete.
    sink.flush_held(None)?;
    match printed {
        Ok((report, live)) => {
            for problem in &report.problems {
                sink.diag(problem.to_string())?;
            }
            start.troubled |= report.failed();
            Ok(live)
        }
        Err(ReadFail::Stopped) => Err(Stopped),
        Err(ReadFail::Io(e)) => {
            sink.diag(format!("error reading {}: {}", quote(name), sys::error_text(&e)))?;
            start.troubled = true;
            Ok(count)
        }
    }
}

/// Open and print one input; report a failure on stderr and in the returned [`follow::Start`].
/// Without following, its unfinished last line is its last record, sent now; following, the
/// engine goes on with it.
fn print_one(
    config: &Config,
    id: SourceId,
    input: &Input,
    name: &[u8],
    next_source: &mut SourceId,
    sink: &Sink,
) -> Result<follow::Start, Stopped> {
    let mut start = follow::Start { id, open: None, failure: None, troubled: false, listed: None };
    if config.count.is_nothing() && config.follow.is_none() {
        return Ok(start);
    }
    let file = match open_input(input) {
        Ok(file) => Arc::new(file),
        Err(e) => {
            let text = format!("cannot open {} for reading: {}", quote(name), sys::error_text(&e));
            sink.event(id, EventKind::Inaccessible, text)?;
            start.failure = Some(follow::Failure::Errno(e.raw_os_error().unwrap_or(libc::EIO)));
            // Its generations are history all the same (the name may be missing for an
            // instant: rotated away, not yet created again).
            if config.history
                && let Input::Path(path) = input
            {
                print_history(config, path, name, None, &mut start, next_source, sink)?;
            }
            return Ok(start);
        }
    };
    let mut count = config.count;
    if config.history
        && let Input::Path(path) = input
    {
        count = print_history(config, path, name, Some(&file), &mut start, next_source, sink)?;
    }
    sink.send(Msg::Header(id))?;
    let generation = Generation::next();
    match initial::print_initial(&file, count, id, generation, sink) {
        Ok(mut reached) => {
            if config.follow.is_none() {
                let (at, bytes) = reached.partial.take();
                sink.data(Batch::new(id, generation, at, bytes))?;
                // So is the file's, when it is not followed (`--multiline`).
                sink.flush_held(None)?;
            }
            start.troubled |= tell_no_stamps(id, name, sink)?;
            start.open = Some(follow::Opened { file: follow::Held::Open(file), generation, reached });
        }
        Err(ReadFail::Stopped) => return Err(Stopped),
        Err(ReadFail::Io(e)) => {
            let text = format!("error reading {}: {}", quote(name), sys::error_text(&e));
            sink.event(id, EventKind::Inaccessible, text)?;
            let untailable = e.raw_os_error() == Some(libc::EISDIR);
            if untailable && let Some(follow) = &config.follow {
                // GNU drops the suffix whenever --retry was given (descriptor mode gives the name
                // up all the same).
                let giving_up = if follow.retry { "" } else { "; giving up on this name" };
                let text = format!("{}: cannot follow end of this type of file{giving_up}", quotef(name));
                sink.event(id, EventKind::Inaccessible, text)?;
            }
            start.failure = Some(if untailable {
                follow::Failure::Untailable
            } else {
                follow::Failure::Errno(e.raw_os_error().unwrap_or(libc::EIO))
            });
        }
    }
    Ok(start)
}

/// `--since`: say so when `source` had no timestamps to start by (nothing of it was printed);
/// returns whether it had none.
fn tell_no_stamps(source: SourceId, name: &[u8], sink: &Sink) -> Result<bool, Stopped> {
    if !sink.take_no_stamps(source) {
        return Ok(false);
    }
    sink.diag(format!("{} has no timestamps that --since can use", quote(name)))?;
    Ok(true)
}

/// Open an input for reading; standard input is duplicated so it shares its offset with the
/// caller's descriptor, as GNU's does.
fn open_input(input: &Input) -> io::Result<File> {
    match input {
        Input::Stdin => Ok(File::from(io::stdin().as_fd().try_clone_to_owned()?)),
        Input::Path(path) => File::open(path),
        // Never opened: the command's streams are followed by `follow_command`.
        Input::Command(_) => Err(io::Error::from(io::ErrorKind::Unsupported)),
    }
}

/// Arguments that are file-name patterns (`source::glob` has the rule) become the files they
/// match now, in name order, each file once (a file matched twice, or also named before, is
/// not added again); the patterns go to the engine, which follows what matches later. A
/// pattern brings headers, as several files may match. `None` when no argument is a pattern.
/// `--multiline`'s settings, its `--record-start` compiled.
fn multiline(config: &Config) -> Result<Option<Arc<Multiline>>> {
    if !config.multiline {
        return Ok(None);
    }
    let rule = match &config.record_start {
        Some(pattern) => Rule::Regex(crate::filter::record_start(pattern, config.patterns.ignore_case)?),
        None => Rule::Detected,
    };
    Ok(Some(Arc::new(Multiline { rule, max_lines: MAX_RECORD_LINES, max_bytes: MAX_RECORD_BYTES })))
}

fn expand(config: &Config) -> Result<Option<(Config, Globbed)>> {
    use std::os::unix::fs::MetadataExt;
    if config.reads_command() {
        return Ok(None);
    }
    let mut classified = Vec::with_capacity(config.inputs.len());
    for input in &config.inputs {
        classified.push(match input {
            Input::Path(path) => glob::pattern(path.as_os_str()).map_err(|e| Error::Glob(e.to_string()))?,
            _ => None,
        });
    }
    if classified.iter().all(Option::is_none) {
        return Ok(None);
    }
    let mut globbed = Globbed::default();
    let mut inputs = Vec::with_capacity(config.inputs.len());
    let mut seen = std::collections::HashSet::new();
    for (input, pattern) in config.inputs.iter().zip(classified) {
        let Some(pattern) = pattern else {
            if let Input::Path(path) = input
                && let Ok(meta) = std::fs::metadata(path)
            {
                seen.insert((meta.dev(), meta.ino()));
            }
            inputs.push(input.clone());
            continue;
        };
        let scan = pattern.scan();
        for (dir, e) in &scan.problems {
            let name = quote(dir.as_os_str().as_encoded_bytes());
            globbed.problems.push(format!("cannot read directory {name}: {}", sys::error_text(e)));
        }
        let before = inputs.len();
        for file in scan.matches {
            if follow::is_compressed(&file) {
                continue;
            }
            // Each file once: the same file under two matching names (a hard link) is one.
            if let Ok(meta) = std::fs::metadata(&file)
                && !seen.insert((meta.dev(), meta.ino()))
            {
                continue;
            }
            globbed.from_pattern.insert(inputs.len());
            inputs.push(Input::Path(file));
        }
        if inputs.len() == before
            && let Input::Path(path) = input
        {
            globbed.unmatched.push(path.clone());
        }
        globbed.patterns.push(Arc::new(pattern));
    }
    let mut config = config.clone();
    config.inputs = inputs;
    if config.headers == Headers::Auto {
        config.headers = Headers::Always;
    }
    Ok(Some((config, globbed)))
}
