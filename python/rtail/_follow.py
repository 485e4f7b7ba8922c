"""The follower: one ``rtail --json -F`` process, one thread reading its records.

Rules (the README says the same):

- A record is one line of a followed file, without its newline. Patterns are matched with
  ``re.search`` against each whole record: anywhere in the line, never across lines, and never
  against a line still being written (rtail prints a line once it ends).
- A cursor, not "from now": every record that arrives after :func:`follow` returned is kept, so
  a line written between starting a service and calling :meth:`Follow.wait_for` is found.
  ``wait_for`` moves the cursor past what it returns; a second wait sees only later records.
- Records wait in a bounded buffer (:data:`BUFFER` by default). When a consumer falls that far
  behind, the oldest unread records are dropped and counted (:attr:`Follow.dropped`); rtail is
  never blocked.
- Several paths and file-name patterns (``"logs/*.log"``, rtail's rule: a glob metacharacter
  and no file by that name) in one follower; a file that starts matching a pattern later is
  followed from its first byte, and each record's :attr:`Line.path` names its file.
- Leaving the ``with`` block, or :meth:`Follow.close`, ends rtail and the reader threads; rtail
  also ends by itself when this process dies (its standard output closes).
"""

from __future__ import annotations

import base64
import datetime
import collections
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import threading
import time
import weakref
from typing import Any, AsyncIterator, Deque, Dict, Iterator, List, Optional, Pattern, Sequence, Tuple, Union

#: How many records are kept, read or not (for :meth:`Follow.wait_for` and :meth:`Follow.seen`).
BUFFER = 100_000

#: How many of each file's last lines a timeout error or a test report shows.
LAST_LINES = 10

#: The longest a blocking call sleeps at a time (seconds), so that Ctrl-C is handled within it
#: even when the kernel hands SIGINT to another thread: Python runs signal handlers in the main
#: thread, once that thread wakes (asyncio's loop too).
TICK = 0.25

PatternLike = Union[str, "Pattern[str]"]
ProcessLike = Union["subprocess.Popen[Any]", int]


class RtailError(Exception):
    """rtail could not start, or ended (its message is included)."""


class LogError(Exception):
    """A record matching a ``fail_on`` pattern arrived."""

    def __init__(self, message: str, line: "Line") -> None:
        super().__init__(message)
        self.line = line


class ProcessExited(Exception):
    """The process given as ``process=`` ended before the pattern matched."""

    def __init__(self, message: str, pid: int, returncode: Optional[int]) -> None:
        super().__init__(message)
        self.pid = pid
        #: Its exit status; minus the signal's number when a signal killed it (as
        #: ``Popen.returncode``); None when unknown (a pid that is not a child of this process).
        self.returncode = returncode


class WaitTimeout(TimeoutError):
    """No (or not enough) matching records arrived in time. The message says the pattern, how
    long was waited, the notices seen (rotations, truncations) and each file's last lines."""


class Line:
    """One record: a line of a followed file without its newline."""

    __slots__ = ("path", "offset", "text", "partial", "seq", "_raw", "ts", "line_number")

    def __init__(
        self,
        path: str,
        offset: int,
        text: str,
        partial: bool,
        seq: int,
        raw: Optional[bytes],
        ts: "Optional[datetime.datetime]" = None,
        line_number: Optional[int] = None,
    ):
        #: The file's path: as given to :func:`follow`, or for a pattern, the matching file's path
        #: (the pattern's leading directories joined with the names found: ``logs/a.log``).
        self.path = path
        #: Byte offset of the line's first byte in its file (0 again after a rotation or truncation).
        self.offset = offset
        #: The line as text (bytes that are not UTF-8 replaced by U+FFFD).
        self.text = text
        #: True for a last line that ended without its newline.
        self.partial = partial
        #: Position in the stream of records (what :meth:`Follow.mark` returns).
        self.seq = seq
        self._raw = raw
        #: The record's time (an aware datetime, UTC) when its file has timestamps, else None:
        #: rtail reads the stamp at the line's start (ISO 8601, Python logging's, syslog, ...),
        #: and a line without one (a traceback's) has the time of the line before it.
        self.ts = ts
        #: The number of the line in its file (from 1; from 1 again after a rotation or
        #: truncation); a multi-line record's first line. None when rtail could not know it.
        self.line_number = line_number

    @property
    def raw(self) -> bytes:
        """The line's exact bytes."""
        return self._raw if self._raw is not None else self.text.encode("utf-8")

    def __repr__(self) -> str:
        return f"Line(path={self.path!r}, offset={self.offset}, text={self.text!r})"

    def __str__(self) -> str:
        return self.text


class Match:
    """A record that matched, with the regex match: ``m[1]``, ``m["name"]``, ``m.groups()``."""

    __slots__ = ("line", "match")

    def __init__(self, line: Line, match: "re.Match[str]") -> None:
        self.line = line
        self.match = match

    @property
    def text(self) -> str:
        return self.line.text

    @property
    def path(self) -> str:
        return self.line.path

    @property
    def offset(self) -> int:
        return self.line.offset

    @property
    def ts(self) -> "Optional[datetime.datetime]":
        return self.line.ts

    @property
    def line_number(self) -> Optional[int]:
        return self.line.line_number

    def __getitem__(self, group: Union[int, str]) -> Any:
        return self.match[group]

    def group(self, *groups: Union[int, str]) -> Any:
        return self.match.group(*groups)

    def groups(self, default: Any = None) -> Any:
        return self.match.groups(default)

    def groupdict(self, default: Any = None) -> Dict[str, Any]:
        return self.match.groupdict(default)

    def __repr__(self) -> str:
        return f"Match({self.line!r}, {self.match.group(0)!r})"


def _parse_ts(text: Optional[str]) -> "Optional[datetime.datetime]":
    """rtail's `"ts"`: RFC 3339 in UTC with 0, 3, 6 or 9 fraction digits and `Z`."""
    if not text or not text.endswith("Z"):
        return None
    body = text[:-1]
    if "." in body:
        whole, frac = body.split(".", 1)
        body = f"{whole}.{(frac + '000000')[:6]}"
    try:
        return datetime.datetime.fromisoformat(body).replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        return None


def _binary(given: Optional[str]) -> str:
    """The rtail to run: `given`, $RTAIL_BINARY, the one installed with this package (next to
    the interpreter, as pip puts scripts), or the first on PATH."""
    if given is not None:
        if os.path.isfile(given) and os.access(given, os.X_OK):
            return given
        raise RtailError(f"cannot run {given!r}: no such executable")
    candidates = [os.environ.get("RTAIL_BINARY")]
    scripts = sysconfig.get_path("scripts")
    if scripts:
        candidates.append(os.path.join(scripts, "rtail"))
    candidates.append(os.path.join(os.path.dirname(sys.executable), "rtail"))
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    found = shutil.which("rtail")
    if found:
        return found
    raise RtailError("cannot find the rtail binary: install the rtail package, put rtail on PATH, or set RTAIL_BINARY")


def _is_pattern(path: str) -> bool:
    """rtail's rule: an argument with a glob metacharacter is a pattern unless a file by that
    very name exists."""
    return any(c in path for c in "*?[{") and not os.path.lexists(path)


def _literal_prefix(pattern: str) -> str:
    """The leading components of `pattern` before the first one with a metacharacter, with a
    trailing slash (empty for ``*.log``): every file it matches is spelled starting with it."""
    lead: List[str] = []
    for i, part in enumerate(pattern.split("/")):
        if any(c in part for c in "*?[{"):
            break
        if i == 0 or part not in ("", "."):  # as rtail spells it: logs//x/./ is logs/x/
            lead.append(part)
    return "/".join(lead) + "/" if lead else ""


class _Stopped(Exception):
    """A wait was stopped (its asyncio task cancelled): nobody is waiting for its result."""


def _check(stop: Optional[threading.Event]) -> None:
    if stop is not None and stop.is_set():
        raise _Stopped()


def _compile(pattern: PatternLike) -> "Pattern[str]":
    return pattern if isinstance(pattern, re.Pattern) else re.compile(pattern)


def _process_exited(process: ProcessLike) -> Optional[Tuple[Optional[int]]]:
    """None while `process` runs; once it ended, ``(returncode,)``: its exit status, minus the
    signal that killed it (as ``Popen.returncode``), or None when that cannot be known (a pid
    that is not a child of this process)."""
    if isinstance(process, subprocess.Popen):
        code = process.poll()
        return None if code is None else (code,)
    if hasattr(os, "waitid"):
        try:
            # Our child: its status, without reaping it (whoever started it still can).
            info = os.waitid(os.P_PID, process, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            pass  # not our child
        except OSError:
            pass
        else:
            if info is None:
                return None
            if info.si_code == os.CLD_EXITED:
                return (info.si_status,)
            return (-info.si_status,)  # CLD_KILLED, CLD_DUMPED
    try:
        os.kill(process, 0)
    except ProcessLookupError:
        return (None,)
    except PermissionError:
        return None
    try:  # a zombie still answers kill(0)
        with open(f"/proc/{process}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                return (None,)
    except (OSError, IndexError):
        pass
    return None


def _how_it_ended(returncode: Optional[int]) -> str:
    if returncode is None:
        return "exited"
    if returncode < 0:
        try:
            name = f" ({signal.Signals(-returncode).name})"
        except ValueError:
            name = ""
        return f"was killed by signal {-returncode}{name}"
    return f"exited with status {returncode}"


class Follow:
    """Follows files with one rtail process; made by :func:`follow`. Thread-safe."""

    def __init__(
        self,
        paths: Sequence[Union[str, "os.PathLike[str]"]],
        *,
        from_start: bool = False,
        grep: Union[None, str, Sequence[str]] = None,
        exclude: Union[None, str, Sequence[str]] = None,
        ignore_case: bool = False,
        multiline: bool = False,
        record_start: Optional[str] = None,
        since: Union[None, str, datetime.datetime] = None,
        poll: Optional[float] = None,
        buffer: int = BUFFER,
        rtail: Optional[str] = None,
        start_timeout: float = 10.0,
    ) -> None:
        if not paths:
            raise ValueError("follow() needs at least one path")
        #: What was given to :func:`follow`: paths and patterns.
        self.paths: List[str] = [os.fspath(p) for p in paths]
        self._patterns = [p for p in self.paths if _is_pattern(p)]
        for p in self.paths:
            if p not in self._patterns and os.path.isdir(p):
                raise IsADirectoryError(f"rtail: cannot follow {p!r}: it is a directory")
        if since is not None and from_start:
            raise ValueError("follow(): give from_start or since, not both")
        argv = [_binary(rtail), "--json", "-F", "--number"]
        if since is None:
            argv += ["-n", "+1" if from_start else "0"]
        elif isinstance(since, datetime.datetime):
            # A naive datetime is local time, as rtail reads a time without a zone.
            argv.append(f"--since={since.isoformat(sep=' ')}")
        else:
            argv.append(f"--since={since}")
        for flag, values in (("--grep", grep), ("--exclude", exclude)):
            for v in [values] if isinstance(values, str) else list(values or []):
                argv.append(f"{flag}={v}")
        if ignore_case:
            argv.append("--ignore-case")
        if multiline:
            argv.append("--multiline")
        if record_start is not None:
            argv.append(f"--record-start={record_start}")
        if poll is not None:
            argv += ["--poll", "-s", str(poll)]
        argv.append("--")
        argv += self.paths
        self._buffer = max(1, int(buffer))
        self._cond = threading.Condition()
        self._records: Deque[Line] = collections.deque()
        self._next_seq = 0
        self._cursor = 0
        self._dropped = 0
        self._events: Deque[Dict[str, Any]] = collections.deque(maxlen=1000)
        # Each file's last lines: the paths given, and every file a pattern matched that logged.
        self._last: Dict[str, Deque[str]] = {
            p: collections.deque(maxlen=LAST_LINES) for p in self.paths if p not in self._patterns
        }
        self._stderr: Deque[str] = collections.deque(maxlen=100)
        self._following = False
        self._marks = 0
        self._ended = False
        self._closed = False
        try:
            self._proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, close_fds=True
            )
        except OSError as e:
            raise RtailError(f"cannot run {argv[0]}: {e}") from e
        self._owner = os.getpid()
        self._pipes = [s.fileno() for s in (self._proc.stdout, self._proc.stderr) if s is not None]
        _live.add(self)
        self._threads = [
            threading.Thread(target=self._read_stdout, name="rtail-records", daemon=True),
            threading.Thread(target=self._read_stderr, name="rtail-stderr", daemon=True),
        ]
        for t in self._threads:
            t.start()
        deadline = time.monotonic() + start_timeout
        with self._cond:
            while not self._following and not self._ended:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(min(left, TICK))
            ok = self._following
        if not ok:
            self.close()
            why = self._stderr_text() or ("it did not start following in time" if not self._ended else "it ended")
            raise RtailError(f"cannot follow {', '.join(map(repr, self.paths))}: {why}")

    # -- the reader threads -------------------------------------------------------------------

    def _read_stdout(self) -> None:
        _quiet_signals()
        out = self._proc.stdout
        assert out is not None
        try:
            for raw in out:
                try:
                    obj = json.loads(raw)
                except ValueError:
                    continue
                with self._cond:
                    self._take(obj)
                    self._cond.notify_all()
        except (OSError, ValueError):
            pass
        finally:
            with self._cond:
                self._ended = True
                self._cond.notify_all()

    def _take(self, obj: Dict[str, Any]) -> None:
        event = obj.get("event")
        if event == "following":
            self._following = True
        elif event == "mark":
            self._marks += 1
        elif event is not None:
            self._events.append(obj)
        else:
            b64 = obj.get("line_base64")
            line = Line(
                obj["path"],
                obj["offset"],
                obj["line"],
                bool(obj.get("partial", False)),
                self._next_seq,
                base64.b64decode(b64) if b64 is not None else None,
                _parse_ts(obj.get("ts")),
                obj.get("line_number"),
            )
            self._next_seq += 1
            self._records.append(line)
            if len(self._records) > self._buffer:
                gone = self._records.popleft()
                if gone.seq >= self._cursor:
                    self._dropped += 1
            self._last.setdefault(line.path, collections.deque(maxlen=LAST_LINES)).append(line.text)

    def _read_stderr(self) -> None:
        _quiet_signals()
        err = self._proc.stderr
        assert err is not None
        try:
            for raw in err:
                text = raw.decode("utf-8", "replace").rstrip("\n")
                with self._cond:
                    self._stderr.append(text)
        except (OSError, ValueError):
            pass

    # -- the API ------------------------------------------------------------------------------

    @property
    def dropped(self) -> int:
        """Records that arrived while :data:`BUFFER` unread ones waited, and were dropped unread."""
        with self._cond:
            return self._dropped

    @property
    def events(self) -> List[Dict[str, Any]]:
        """The notices so far, as rtail's JSON objects (``{"path", "event", "message"}``)."""
        with self._cond:
            return list(self._events)

    def last_lines(self) -> Dict[str, List[str]]:
        """Each followed file's last lines (at most :data:`LAST_LINES`): every path given, every
        file a pattern matched that logged a line, and (with no lines) each pattern none of whose
        files logged one."""
        with self._cond:
            last = {p: list(d) for p, d in self._last.items()}
            for p in self._silent_patterns():
                last[p] = []
            return last

    def _silent_patterns(self) -> List[str]:
        """The patterns no file of which has logged a line (told by the pattern's leading
        directories, which every match of it starts with)."""
        plain = set(self.paths)
        logged = [path for path in self._last if path not in plain]
        return [p for p in self._patterns if not any(path.startswith(_literal_prefix(p)) for path in logged)]

    def wait_for(
        self,
        pattern: PatternLike,
        timeout: float = 30.0,
        *,
        count: int = 1,
        fail_on: Optional[PatternLike] = None,
        process: Optional[ProcessLike] = None,
    ) -> Any:
        """The first record after the cursor that `pattern` matches (``re.search``), waiting at
        most `timeout` seconds; the cursor moves past it. With ``count=n``, waits for n matches
        and returns them in a list.

        Raises :class:`LogError` as soon as a record matching `fail_on` arrives (before a
        match), :class:`ProcessExited` once `process` (a ``Popen`` or a pid) has ended and
        everything it wrote was read without a match, :class:`WaitTimeout` on timeout, and
        :class:`RtailError` if rtail itself ended."""
        return self._wait_for(pattern, timeout, count, fail_on, process, None)

    def _wait_for(self, pattern: PatternLike, timeout: float, count: int, fail_on: Optional[PatternLike],
                  process: Optional[ProcessLike], stop: Optional[threading.Event]) -> Any:
        if count < 1:
            raise ValueError("count must be at least 1")
        rx = _compile(pattern)
        found: List[Match] = []

        def take(line: Line) -> bool:
            m = rx.search(line.text)
            if m:
                found.append(Match(line, m))
            return len(found) == count

        def missing() -> str:
            got = f" ({len(found)} of {count} matched)" if count > 1 else ""
            return f"no line matched {rx.pattern!r}{got}"

        self._wait(take, missing, timeout, fail_on, process, stop)
        return found[0] if count == 1 else found

    def wait_all(
        self,
        patterns: Sequence[PatternLike],
        timeout: float = 30.0,
        *,
        fail_on: Optional[PatternLike] = None,
        process: Optional[ProcessLike] = None,
    ) -> List[Match]:
        """Wait until each of `patterns` has matched a record after the cursor, in any order;
        returns the first match of each, in the order of `patterns`. The cursor moves past the
        record that completed the set. Raises as :meth:`wait_for` does."""
        return self._wait_all(patterns, timeout, fail_on, process, None)

    def _wait_all(self, patterns: Sequence[PatternLike], timeout: float, fail_on: Optional[PatternLike],
                  process: Optional[ProcessLike], stop: Optional[threading.Event]) -> List[Match]:
        rxs = [_compile(p) for p in patterns]
        found: List[Optional[Match]] = [None] * len(rxs)

        def take(line: Line) -> bool:
            for i, rx in enumerate(rxs):
                if found[i] is None:
                    m = rx.search(line.text)
                    if m:
                        found[i] = Match(line, m)
            return all(f is not None for f in found)

        def missing() -> str:
            left = [rx.pattern for rx, f in zip(rxs, found) if f is None]
            return "no line matched " + ", ".join(map(repr, left))

        if rxs:
            self._wait(take, missing, timeout, fail_on, process, stop)
        return [f for f in found if f is not None]

    def _wait(self, take: Any, missing: Any, timeout: float, fail_on: Optional[PatternLike],
              process: Optional[ProcessLike], stop: Optional[threading.Event]) -> None:
        """Hand every record after the cursor to `take` until it returns True. Ends with
        :class:`_Stopped` as soon as `stop` is set (see :meth:`_stop`)."""
        fail = _compile(fail_on) if fail_on is not None else None
        deadline = time.monotonic() + timeout
        synced_after_exit = False
        with self._cond:
            while True:
                _check(stop)
                while self._cursor < self._next_seq:
                    line = self._at(self._cursor)
                    self._cursor += 1
                    if line is None:
                        continue
                    if fail is not None and fail.search(line.text):
                        raise LogError(f"{line.path}: a line matched fail_on {fail.pattern!r}: {line.text}", line)
                    if take(line):
                        return
                if self._closed:
                    raise RtailError("the follower was closed while waiting")
                if self._ended:
                    raise RtailError(f"rtail ended while waiting: {self._stderr_text() or 'no message'}")
                if process is not None:
                    exited = _process_exited(process)
                    if exited is not None:
                        if not synced_after_exit:
                            # What it wrote before it ended may not be read yet: catch up once.
                            synced_after_exit = True
                            self._sync_locked(deadline, stop)
                            continue
                        pid = process.pid if isinstance(process, subprocess.Popen) else process
                        raise ProcessExited(
                            f"process {pid} {_how_it_ended(exited[0])}: {missing()}" + self._diagnosis(),
                            pid,
                            exited[0],
                        )
                left = deadline - time.monotonic()
                if left <= 0:
                    raise WaitTimeout(
                        f"{missing()} within {timeout:g} s in {', '.join(self.paths)}" + self._diagnosis()
                    )
                # A process is looked at every 50 ms; records wake us at once.
                self._cond.wait(min(left, 0.05 if process is not None else TICK))

    def seen(self, pattern: PatternLike, since: Optional[int] = None) -> Optional[Match]:
        """The first kept record (at or after position `since`, a :meth:`mark`) that `pattern`
        matches, or None. Catches up first (see :meth:`mark`), so a line written before the
        call counts. Does not move the cursor."""
        return self._seen(pattern, since, None)

    def _seen(self, pattern: PatternLike, since: Optional[int], stop: Optional[threading.Event]) -> Optional[Match]:
        rx = _compile(pattern)
        self._mark(10.0, stop)
        with self._cond:
            for line in list(self._records):
                if since is not None and line.seq < since:
                    continue
                m = rx.search(line.text)
                if m:
                    return Match(line, m)
        return None

    def mark(self, timeout: float = 10.0) -> int:
        """Return once every line written to the files before this call was read (rtail reads
        every file to its end on SIGUSR1 and says so), as a position for ``seen(since=…)``.
        Files a pattern matches that were created before the call are read too."""
        return self._mark(timeout, None)

    def _mark(self, timeout: float, stop: Optional[threading.Event]) -> int:
        with self._cond:
            self._sync_locked(time.monotonic() + timeout, stop)
            return self._next_seq

    def _sync_locked(self, deadline: float, stop: Optional[threading.Event]) -> None:
        """With the condition held: ask rtail for a mark and wait for the answer."""
        target = self._marks + 1
        if self._ended:
            return
        try:
            self._proc.send_signal(signal.SIGUSR1)
        except OSError:
            return
        while self._marks < target and not self._ended:
            _check(stop)
            left = deadline - time.monotonic()
            if left <= 0:
                raise WaitTimeout("rtail did not catch up with the files in time" + self._diagnosis())
            self._cond.wait(min(left, TICK))

    def lines(self, timeout: Optional[float] = None) -> Iterator[Line]:
        """The records after the cursor, moving it, as they arrive; ends when no record came
        for `timeout` seconds (never, with None) or when the follower is closed."""
        while True:
            line = self._next_line(timeout, None)
            if line is None:
                return
            yield line

    def _next_line(self, timeout: Optional[float], stop: Optional[threading.Event]) -> Optional[Line]:
        """The next record after the cursor, moving it; None once none came for `timeout`
        seconds, or rtail ended, or the follower was closed."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                _check(stop)
                while self._cursor < self._next_seq:
                    line = self._at(self._cursor)
                    self._cursor += 1
                    if line is not None:
                        return line
                if self._ended or self._closed:
                    return None
                left = TICK if deadline is None else deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(min(left, TICK))

    def _stop(self, stop: threading.Event) -> None:
        """End the wait that was given `stop` (in another thread) before it takes another
        record: set with the condition held, so that wait is not looking at records now."""
        with self._cond:
            stop.set()
            self._cond.notify_all()

    def __iter__(self) -> Iterator[Line]:
        return self.lines()

    def close(self) -> None:
        """End rtail and the reader threads. Never blocks for long; may be called again.
        In a child made by ``fork()``, does nothing: the rtail is the parent's."""
        if getattr(self, "_owner", None) != os.getpid():  # forked, or rtail never started
            return
        _live.discard(self)
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
        proc = self._proc
        if proc.poll() is None:
            try:
                proc.terminate()
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=2)
            except OSError:
                pass
        for t in self._threads:
            if t is not threading.current_thread():
                t.join(timeout=2)
        for stream in (proc.stdout, proc.stderr):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass

    def __enter__(self) -> "Follow":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def _disown(self) -> None:
        """In a child just made by ``fork()``: let go of rtail's output pipes, so that rtail
        still ends once the parent is gone (it ends when nobody reads its output), and never
        stop the parent's rtail (:meth:`close` does nothing here). Takes no lock: another
        thread may have held one at the fork."""
        self._closed = True
        self._ended = True
        try:
            null = os.open(os.devnull, os.O_RDONLY)
        except OSError:
            return
        for fd in self._pipes:
            try:
                os.dup2(null, fd)  # not close: the file objects still own these numbers
            except OSError:
                pass
        os.close(null)

    # -- helpers ------------------------------------------------------------------------------

    def _at(self, seq: int) -> Optional[Line]:
        if not self._records:
            return None
        index = seq - self._records[0].seq
        return self._records[index] if 0 <= index < len(self._records) else None

    def _stderr_text(self) -> str:
        return "; ".join(t[len("rtail: "):] if t.startswith("rtail: ") else t for t in self._stderr)

    def _diagnosis(self) -> str:
        parts = []
        notices = [e.get("message", "") for e in self._events]
        if notices:
            parts.append("notices:\n" + "\n".join(f"  {n}" for n in notices[-20:]))
        for path, last in self._last.items():
            if last:
                parts.append(f"last lines of {path}:\n" + "\n".join(f"  {t}" for t in last))
            else:
                parts.append(f"nothing was logged to {path}")
        for pattern in self._silent_patterns():
            parts.append(f"no file matching {pattern} logged a line")
        if self._dropped:
            parts.append(f"{self._dropped} lines were dropped unread (more than {self._buffer} waited)")
        return "".join("\n" + p for p in parts)


#: Followers not closed yet, for :func:`_after_fork_in_child`.
_live: "weakref.WeakSet[Follow]" = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for f in list(_live):
        f._disown()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def follow(*paths: Union[str, "os.PathLike[str]"], **options: Any) -> Follow:
    """Follow `paths` by name across rotation (``rtail -F``), from their end (``from_start=True``:
    from their first line). Returns once every file is watched: whatever is written from then on
    is seen. A path that does not exist yet is waited for. A path with ``*``, ``?``, ``[…]`` or
    ``{a,b}`` that names no file is a pattern (``"logs/*.log"``, ``"logs/**/*.log"``): every file
    it matches is followed, and every file that comes to match it later, from its first byte
    (rtail's rule; see its README). Options: ``grep``/``exclude`` (rtail patterns, one or a list), ``ignore_case``,
    ``multiline`` (a record is a line that starts with a timestamp and the lines that continue
    it, such as a traceback: matched and returned whole, ``\\n`` inside), ``record_start`` (a
    regex: where records start; implies ``multiline``), ``since`` (start at the first record
    stamped then or later instead of at the end: ``"10m"``, ``"2026-12-01 10:00"``, or a
    ``datetime``, naive meaning local time),
    ``poll`` (seconds: stat polling instead of notifications), ``buffer`` (records kept),
    ``rtail`` (the binary), ``start_timeout``."""
    return Follow(paths, **options)


def _quiet_signals() -> None:
    """In a thread of ours, leave asynchronous signals (Ctrl-C's SIGINT, SIGTERM, SIGALRM...)
    to the others. Python runs signal handlers in the main thread, but only once it wakes: a
    signal the kernel hands to a thread of ours wakes neither a wait in the main thread nor an
    idle asyncio loop, and Ctrl-C would go unnoticed. Never in a thread that starts rtail: a
    child inherits the mask."""
    if not hasattr(signal, "pthread_sigmask"):
        return
    faults = {getattr(signal, n) for n in ("SIGSEGV", "SIGBUS", "SIGFPE", "SIGILL", "SIGTRAP", "SIGABRT", "SIGSYS")
              if hasattr(signal, n)}
    try:
        signal.pthread_sigmask(signal.SIG_BLOCK, set(signal.valid_signals()) - faults)
    except (OSError, ValueError):
        pass


def _in_thread(fn: Any, quiet: bool) -> Any:
    """An asyncio future of ``fn()``, run in a new daemon thread (`quiet`: see
    :func:`_quiet_signals`). Not the loop's executor: as many waits as wanted at once, in
    threads of ours, and a cancelled one does not hold up ``asyncio.run``."""
    import asyncio

    loop = asyncio.get_running_loop()
    fut = loop.create_future()

    def settle(result: Any, error: Optional[BaseException]) -> None:
        if fut.done():  # cancelled: nobody waits
            return
        if error is None:
            fut.set_result(result)
        else:
            fut.set_exception(error)

    def run() -> None:
        if quiet:
            _quiet_signals()
        result: Any = None
        error: Optional[BaseException] = None
        try:
            result = fn()
        except BaseException as e:
            error = e
        try:
            loop.call_soon_threadsafe(settle, result, error)
        except RuntimeError:
            pass  # the loop is closed: nobody waits

    threading.Thread(target=run, name="rtail-async", daemon=True).start()
    return fut


async def _ticking(fut: Any) -> Any:
    """Await `fut` with the loop woken every :data:`TICK` (a timer), so that its thread runs
    Python code, and handles a Ctrl-C that the kernel handed to another thread."""
    import asyncio

    try:
        while not fut.done():
            await asyncio.wait({fut}, timeout=TICK)
    except asyncio.CancelledError:
        fut.cancel()  # the thread's outcome is nobody's now: never "exception not retrieved"
        raise
    return fut.result()


class AsyncFollow:
    """:class:`Follow` for asyncio, with the same rules: each blocking call runs in a thread of
    its own. Made by :func:`follow_async`; use it with
    ``async with``. Cancelling an await (``asyncio.wait_for``, a task's ``cancel()``) ends the
    wait in its thread at once: it takes no record after that, as if it had timed out then."""

    def __init__(self, paths: Sequence[Union[str, "os.PathLike[str]"]], options: Dict[str, Any]) -> None:
        self._paths = paths
        self._options = options
        self._follow: Optional[Follow] = None

    @property
    def sync(self) -> Follow:
        """The underlying :class:`Follow` (for ``dropped``, ``events``, ``last_lines()``)."""
        if self._follow is None:
            raise RtailError("not started: use `async with follow_async(...)`")
        return self._follow

    async def _call(self, fn: Any, *args: Any) -> Any:
        """``fn(*args, stop)`` in a thread of its own; `stop` is set if this await is cancelled."""
        import asyncio

        stop = threading.Event()
        try:
            return await _ticking(_in_thread(lambda: fn(*args, stop), quiet=True))
        except asyncio.CancelledError:
            self.sync._stop(stop)
            raise

    async def __aenter__(self) -> "AsyncFollow":
        import asyncio

        lock = threading.Lock()
        state: Dict[str, Any] = {"cancelled": False, "made": None}

        def start() -> Follow:
            made = Follow(self._paths, **self._options)
            with lock:
                if state["cancelled"]:  # nobody will close it: do it now
                    made.close()
                state["made"] = made
            return made

        try:
            # Not quiet: rtail is started from this thread, and would inherit its signal mask.
            self._follow = await _ticking(_in_thread(start, quiet=False))
        except asyncio.CancelledError:
            with lock:
                state["cancelled"] = True
                made = state["made"]
            if made is not None:  # started just before the cancel
                threading.Thread(target=made.close, name="rtail-close", daemon=True).start()
            raise
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """As :meth:`Follow.close`; a wait still running ends with :class:`RtailError`."""
        if self._follow is not None:
            await _ticking(_in_thread(self._follow.close, quiet=True))

    async def wait_for(
        self,
        pattern: PatternLike,
        timeout: float = 30.0,
        *,
        count: int = 1,
        fail_on: Optional[PatternLike] = None,
        process: Optional[ProcessLike] = None,
    ) -> Any:
        """As :meth:`Follow.wait_for`."""
        return await self._call(self.sync._wait_for, pattern, timeout, count, fail_on, process)

    async def wait_all(
        self,
        patterns: Sequence[PatternLike],
        timeout: float = 30.0,
        *,
        fail_on: Optional[PatternLike] = None,
        process: Optional[ProcessLike] = None,
    ) -> List[Match]:
        """As :meth:`Follow.wait_all`."""
        found: List[Match] = await self._call(self.sync._wait_all, patterns, timeout, fail_on, process)
        return found

    async def seen(self, pattern: PatternLike, since: Optional[int] = None) -> Optional[Match]:
        """As :meth:`Follow.seen`."""
        found: Optional[Match] = await self._call(self.sync._seen, pattern, since)
        return found

    async def mark(self, timeout: float = 10.0) -> int:
        """As :meth:`Follow.mark`."""
        position: int = await self._call(self.sync._mark, timeout)
        return position

    async def lines(self, timeout: Optional[float] = None) -> AsyncIterator[Line]:
        """As :meth:`Follow.lines`: ``async for line in log.lines(timeout=1):``."""
        while True:
            line = await self._call(self.sync._next_line, timeout)
            if line is None:
                return
            yield line

    def __aiter__(self) -> AsyncIterator[Line]:
        """``async for line in log:`` until the follower is closed."""
        return self.lines()


def follow_async(*paths: Union[str, "os.PathLike[str]"], **options: Any) -> AsyncFollow:
    """:func:`follow` for asyncio: ``async with rtail.follow_async("x.log") as log:
    await log.wait_for("ready")``."""
    return AsyncFollow(paths, options)
