#!/usr/bin/env python3
"""Benchmark rtail side by side with GNU tail (and cat/grep as reference points).

Python 3.11, standard library only.  Uses GNU time (/usr/bin/time, Debian/Ubuntu package `time`)
for the peak RSS of short-lived processes, and GNU dd as the fast pipe consumer.

The run: build rtail (cargo build --release) unless --rtail is given, generate log files in a
temporary directory, run every workload with rtail and GNU tail interleaved (A B A B ..., one
warm-up round first), then print medians, the ratio rtail/GNU of the medians, the median of the
per-repetition ratios, and whether the target from the project's benchmark issue holds.
See bench/README.md for what each workload measures and how.
"""

from __future__ import annotations

import argparse
import datetime
import fcntl
import hashlib
import os
import platform
import math
import random
import re
import resource
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import types
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GNU_TIME = "/usr/bin/time"
MiB = 1 << 20
GiB = 1 << 30
GREP_PATTERN = "ERROR .*(timeout|refused)"
# Everything runs in the C locale: same bytes in, same bytes out, and GNU grep at its fastest.
ENV = dict(os.environ, LC_ALL="C")
F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)
DD = CAT = GREP = JQ = ""  # absolute paths, set in main() (JQ: "" if jq is not installed)
ZCAT = ""  # workload 15's alternative, set in main() ("" if gzip's zcat is not installed)


class BenchError(Exception):
    pass


# --------------------------------------------------------------------------------------------
# Log data
# --------------------------------------------------------------------------------------------

BLK = b"@@@@@@"  # replaced per block by the block number (6 digits)
HMS = b"##:##:##"  # replaced per block by a time of day advancing one second per block


def log_block(rng: random.Random, *, target_bytes: int | None = None, nlines: int | None = None):
    """A block of realistic ~100-byte log lines with placeholders BLK and HMS; (bytes, nlines)."""
    methods = [b"GET"] * 6 + [b"POST"] * 2 + [b"PUT", b"DELETE"]
    res = [b"items", b"users", b"orders", b"carts", b"sessions", b"invoices"]
    tables = [b"orders", b"order_items", b"users", b"payments"]
    out = []
    size = 0
    i = 0
    while (nlines is not None and i < nlines) or (target_bytes is not None and size < target_bytes):
        ts = b"2024-05-14T" + HMS + b".%03dZ" % rng.randrange(1000)
        req = b"req=" + BLK + b"-%05d" % i
        x = rng.random()
        if x < 0.70:
            status = rng.choice([200] * 12 + [201, 204, 304, 404, 500])
            line = b"%s INFO  [worker-%d] http: %s /api/v1/%s/%d %d %dms %s" % (
                ts, rng.randrange(8), rng.choice(methods), rng.choice(res),
                rng.randrange(100000), status, rng.randrange(1, 900), req)
        elif x < 0.85:
            line = b"%s DEBUG [cache] lookup key=user:%d hit=%s size=%d %s" % (
                ts, rng.randrange(100000), rng.choice([b"yes", b"no"]), rng.randrange(10000), req)
        elif x < 0.95:
            line = b"%s WARN  [db-pool-%d] slow query %dms table=%s rows=%d %s" % (
                ts, rng.randrange(4), rng.randrange(200, 5000), rng.choice(tables),
                rng.randrange(20000), req)
        else:
            why = rng.choice([b"connection refused", b"timeout after 3000ms"])
            line = b"%s ERROR [upstream] %s http://10.0.%d.%d:8080/v2/%s failed: %s %s" % (
                ts, rng.choice(methods), rng.randrange(8), rng.randrange(256), rng.choice(res),
                why, req)
        out.append(line + b"\n")
        size += len(line) + 1
        i += 1
    return b"".join(out), i


def fill_block(tmpl: bytes, b: int) -> bytes:
    hms = b"%02d:%02d:%02d" % (b // 3600 % 24, b // 60 % 60, b % 60)
    return tmpl.replace(BLK, b"%06d" % (b % 1000000)).replace(HMS, hms)


def write_log(path: str, size: int, seed: int) -> int:
    """Write ~size bytes of log lines (whole ~1 MiB blocks, line numbers varying); returns size."""
    tmpl, _ = log_block(random.Random(seed), target_bytes=MiB)
    nblocks = max(1, round(size / len(tmpl)))
    with open(path, "wb", buffering=0) as f:
        for b in range(nblocks):
            f.write(fill_block(tmpl, b))
    return os.path.getsize(path)


def write_gz_log(path: str, size: int, seed: int, first_block: int) -> int:
    """As write_log, gzip-compressed (level 6, gzip's default) as it is written: ~size bytes
    of text, blocks numbered from first_block; returns the size of the text."""
    tmpl, _ = log_block(random.Random(seed), target_bytes=MiB)
    nblocks = max(1, round(size / len(tmpl)))
    z = zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: a gzip header and trailer
    text = 0
    with open(path, "wb") as f:
        for b in range(first_block, first_block + nblocks):
            block = fill_block(tmpl, b)
            text += len(block)
            f.write(z.compress(block))
        f.write(z.flush())
    return text


# --------------------------------------------------------------------------------------------
# Writer subprocess for the follow workloads (this script, re-run with a hidden first argument)
# Protocol: it prints "ready", waits for a line on stdin, does its work, prints "done".
# --------------------------------------------------------------------------------------------

def writer_main(argv: list[str]) -> None:
    mode = argv[0]
    if mode == "throughput":  # PATH NLINES LINES_PER_WRITE
        path, nlines, per = argv[1], int(argv[2]), int(argv[3])
        tmpl, _ = log_block(random.Random(4), nlines=per)
        blocks = []  # prepared before "ready": the timed part is only the writes
        left = nlines
        while left > 0:
            block = fill_block(tmpl, len(blocks))
            if left < per:  # the first `left` lines only
                end = -1
                for _ in range(left):
                    end = block.index(b"\n", end + 1)
                block = block[: end + 1]
            blocks.append(block)
            left -= per
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        last = blocks[-1][:-1].rsplit(b"\n", 1)[-1]  # the last line, unique in the data
        print("ready", sum(map(len, blocks)), last.hex(), flush=True)
        sys.stdin.readline()
        for block in blocks:
            n = os.write(fd, block)
            while n < len(block):
                n += os.write(fd, block[n:])
    elif mode == "latency":  # PATH COUNT INTERVAL_US
        path, count, interval = argv[1], int(argv[2]), int(argv[3]) * 1000
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        print("ready", flush=True)
        sys.stdin.readline()
        start = time.monotonic_ns() + 1_000_000
        for i in range(count):
            delay = start + i * interval - time.monotonic_ns()
            if delay > 0:
                time.sleep(delay / 1e9)
            os.write(fd, b"2024-05-14T10:00:00.000Z INFO  [latency] http: GET /api/v1/ping 200 "
                         b"seq=%06d t=%d ok\n" % (i, time.monotonic_ns()))
    elif mode == "many":  # DIR NFILES NAPPENDS SEED
        d, nfiles, nappends, seed = argv[1], int(argv[2]), int(argv[3]), int(argv[4])
        fds = [os.open(os.path.join(d, "f%04d.log" % k), os.O_WRONLY | os.O_APPEND)
               for k in range(nfiles)]
        rng = random.Random(seed)
        print("ready", flush=True)
        sys.stdin.readline()
        for s in range(nappends):
            k = rng.randrange(nfiles)
            os.write(fds[k], b"2024-05-14T10:00:00.000Z INFO  [many] file=f%04d.log seq=%06d "
                             b"append ok user=alice\n" % (k, s))
    elif mode == "create":  # DIR COUNT PER_SECOND: new files, each with one timed line
        d, count, rate = argv[1], int(argv[2]), int(argv[3])
        print("ready", flush=True)
        sys.stdin.readline()
        start = time.monotonic_ns() + 1_000_000
        for i in range(count):
            delay = start + i * 1_000_000_000 // rate - time.monotonic_ns()
            if delay > 0:
                time.sleep(delay / 1e9)
            t = time.monotonic_ns()  # before the create: the latency covers create + write
            fd = os.open(os.path.join(d, "new%05d.log" % i),
                         os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            os.write(fd, b"2024-05-14T10:00:00.000Z INFO  [glob] new file seq=%06d t=%d ok\n"
                     % (i, t))
            os.close(fd)
    elif issue16_writer(mode, argv[1:]):  # workloads 18 and 19
        pass
    else:
        raise SystemExit(f"unknown writer mode {mode}")
    print("done", flush=True)


class Writer:
    def __init__(self, *args):
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--_writer", *map(str, args)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=ENV)
        LIVE.append(self.proc)
        ready = self.proc.stdout.readline().split()
        if not ready or ready[0] != "ready":
            raise BenchError("writer process failed to start")
        self.info = ready[1:]

    def go(self) -> None:
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def wait(self, timeout: float = 120) -> None:
        line = self.proc.stdout.readline().strip()
        self.proc.wait(timeout)
        if line != "done" or self.proc.returncode != 0:
            raise BenchError("writer process failed")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc in LIVE:
            LIVE.remove(self.proc)


# --------------------------------------------------------------------------------------------
# Process helpers
# --------------------------------------------------------------------------------------------

LIVE: list[subprocess.Popen] = []  # follow-mode children to kill if the harness is interrupted


def spawn(argv: list[str], stdin: int | None = None, stdout: int | None = None,
          stderr: int | None = None) -> int:
    """posix_spawn (vfork+exec: cheap, no copy of this Python process); returns the pid."""
    acts = []
    for fd, target in ((stdin, 0), (stdout, 1), (stderr, 2)):
        if fd is not None:
            acts.append((os.POSIX_SPAWN_DUP2, fd, target))
    return os.posix_spawn(argv[0], argv, ENV, file_actions=acts)


def reap(pid: int, what: str, ok=(0,)) -> None:
    _, st = os.waitpid(pid, 0)
    rc = os.waitstatus_to_exitcode(st)
    if rc not in ok:
        raise BenchError(f"{what} exited with status {rc}")


def task_ids(pid: int) -> list[str]:
    try:
        return os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        raise BenchError(f"process {pid} is gone")


def cpu_schedstat_ns(pid: int) -> int:
    """On-CPU time summed over the live threads (ns resolution)."""
    total = 0
    for t in task_ids(pid):
        try:
            with open(f"/proc/{pid}/task/{t}/schedstat") as f:
                total += int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


def cpu_stat_ns(pid: int) -> int:
    """utime+stime of the whole process incl. exited threads (clock-tick resolution)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1_000_000_000 // os.sysconf("SC_CLK_TCK")


class CpuMark:
    def __init__(self, pid: int):
        self.sched = cpu_schedstat_ns(pid)
        self.stat = cpu_stat_ns(pid)

    def since(self, old: "CpuMark") -> float:
        """CPU seconds between two marks: schedstat (precise) unless threads that exited took
        more than /proc/PID/stat can explain (then the coarse stat figure)."""
        sched = self.sched - old.sched
        stat = self.stat - old.stat
        return (stat if stat > sched + 20_000_000 else sched) / 1e9


def ctxt_switches(pid: int) -> int:
    """voluntary + nonvoluntary context switches summed over all threads."""
    total = 0
    for t in task_ids(pid):
        try:
            with open(f"/proc/{pid}/task/{t}/status") as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        total += int(line.split()[1])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


def vm_hwm_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise BenchError("no VmHWM in /proc/PID/status")


def time_batch(argv: list[str], inner: int) -> float:
    """Mean wall seconds of `inner` sequential runs with stdout on /dev/null."""
    out = os.open("/dev/null", os.O_WRONLY)
    try:
        t0 = time.perf_counter_ns()
        for _ in range(inner):
            reap(spawn(argv, stdout=out), argv[0])
        return (time.perf_counter_ns() - t0) / inner / 1e9
    finally:
        os.close(out)


def gnu_time_rss_kib(argv: list[str], tmp: str, stdout: int | None = None) -> int:
    """Peak RSS via GNU time %M (ru_maxrss of a child of the small `time` process, not of this
    big Python process, whose high-water mark a direct child would inherit)."""
    out = os.path.join(tmp, "gnu-time.out")
    devnull = None
    if stdout is None:
        devnull = stdout = os.open("/dev/null", os.O_WRONLY)
    try:
        reap(spawn([GNU_TIME, "-f", "%M", "-o", out, *argv], stdout=stdout), argv[0])
    finally:
        if devnull is not None:
            os.close(devnull)
    with open(out) as f:
        return int(f.read().split()[-1])


def run_pipeline(stages: list[list[str]], tmp: str, feeder=None, rss: bool = False):
    """stage0 | stage1 | ... | dd bs=1M of=/dev/null.  `feeder(wfd)` (a function run in a thread)
    may replace the first stage.  Returns (wall seconds, bytes dd read, peak RSS KiB of stage0
    under GNU time if rss).  The clock runs from dd's spawn to the exit of every process."""
    err = os.path.join(tmp, "dd.err")
    errfd = os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    rss_out = os.path.join(tmp, "gnu-time.out")
    t0 = time.perf_counter_ns()
    r, w = os.pipe()
    pids = [(spawn([DD, "bs=1M", "of=/dev/null"], stdin=r, stderr=errfd), "dd")]
    os.close(r)
    os.close(errfd)
    thread = None
    if feeder is not None:
        thread = threading.Thread(target=feeder, args=(w,))
        thread.start()
    else:
        for i, argv in enumerate(reversed(stages)):
            first = i == len(stages) - 1
            if first:
                rd = None
            else:
                rd, wr = os.pipe()
            cmd = [GNU_TIME, "-f", "%M", "-o", rss_out, *argv] if (first and rss) else argv
            pids.append((spawn(cmd, stdin=rd, stdout=w), argv[0]))
            os.close(w)
            if not first:
                os.close(rd)
                w = wr
    if thread is not None:
        thread.join()
    for pid, what in pids:
        reap(pid, what)
    dt = (time.perf_counter_ns() - t0) / 1e9
    with open(err) as f:
        m = re.search(r"^(\d+) bytes", f.read(), re.M)
    if not m:
        raise BenchError("could not read dd's byte count")
    kib = None
    if rss:
        with open(rss_out) as f:
            kib = int(f.read().split()[-1])
    return dt, int(m.group(1)), kib


def pipeline_output(stages: list[list[str]]) -> bytes:
    """stage0 | stage1 | ...: the last stage's whole output (for comparing outputs, off the
    clock); every stage must exit 0."""
    procs = []
    prev = None
    for argv in stages:
        p = subprocess.Popen(argv, stdin=prev, stdout=subprocess.PIPE, env=ENV)
        if prev is not None:
            prev.close()
        prev = p.stdout
        procs.append(p)
    out = procs[-1].stdout.read()
    procs[-1].stdout.close()
    for p, argv in zip(procs, stages):
        if p.wait() != 0:
            raise BenchError(f"{argv[0]} exited with status {p.returncode}")
    return out


def sendfile_feeder(path: str):
    """Machine limit reference: sendfile(2) 1 MiB at a time into a pipe raised to 1 MiB."""
    def feed(wfd: int) -> None:
        try:
            fcntl.fcntl(wfd, F_SETPIPE_SZ, MiB)
            fd = os.open(path, os.O_RDONLY)
            off = 0
            while True:
                n = os.sendfile(wfd, fd, off, MiB)
                if n == 0:
                    break
                off += n
            os.close(fd)
        finally:
            os.close(wfd)
    return feed


# --------------------------------------------------------------------------------------------
# Follow-mode plumbing: the tail's stdout is read by a thread of this process
# --------------------------------------------------------------------------------------------

class Follow:
    def __init__(self, argv: list[str], sink, tmp: str, fd_limit: int | None = None):
        """`fd_limit`: the tail runs with at most that many open files (soft and hard)."""
        r, w = os.pipe()
        self.errpath = os.path.join(tmp, "follow.err")
        limit = None
        if fd_limit is not None:
            def limit():
                resource.setrlimit(resource.RLIMIT_NOFILE, (fd_limit, fd_limit))
        with open(self.errpath, "wb") as err:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=w, stderr=err,
                                         env=ENV, preexec_fn=limit)
        LIVE.append(self.proc)
        os.close(w)
        self.r = r
        self.sink = sink
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read(self) -> None:
        buf = bytearray(MiB)
        try:
            while True:
                n = os.readv(self.r, [buf])
                t = time.monotonic_ns()
                if n == 0:
                    break
                self.sink.feed(buf, n, t)
        finally:
            self.sink.eof()

    def alive(self) -> None:
        if self.proc.poll() is not None:
            raise BenchError(f"tail exited early (status {self.proc.returncode}): "
                             + self.stderr())

    def stderr(self) -> str:
        with open(self.errpath, errors="replace") as f:
            return f.read()[-500:].strip()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        LIVE.remove(self.proc)
        self.thread.join(5)
        os.close(self.r)


class CountSink:
    """Counts bytes (no scan, so it keeps up with any tail); `first` once anything arrived,
    `done` once `target` bytes arrived."""

    def __init__(self):
        self.n = 0
        self.target = None
        self.t_done = None
        self.first = threading.Event()
        self.done = threading.Event()

    def feed(self, buf, n, t) -> None:
        self.n += n
        if self.n:
            self.first.set()
        if self.target is not None and self.n >= self.target and self.t_done is None:
            self.t_done = t
            self.done.set()

    def eof(self) -> None:
        self.first.set()
        self.done.set()


class LastLineSink(CountSink):
    """Workload 10: output whose bytes differ from the file's (--json), so the end cannot be
    told by a byte count, and counting newlines as it comes (Python: ~3 GB/s on top of the
    read itself) would hold fast tails back.  So this reads as CountSink does (bytes only), and
    `done` is set once a read ends with a line containing `marker` (the writer's last line,
    unique in the data).  With `keep`, it also keeps every byte, to count the lines after the
    run (off the clock; used in the warm-up round: keeping ~400 MB costs time too)."""

    def __init__(self, marker: bytes, keep: bool = False):
        super().__init__()
        self.marker = marker
        self.prev = b""  # the end of the previous read: the last line may span two reads
        self.chunks: list[bytes] | None = [] if keep else None

    def feed(self, buf, n, t) -> None:
        self.n += n
        self.first.set()
        if self.chunks is not None:
            self.chunks.append(bytes(buf[:n]))
        if self.t_done is None and buf[n - 1] == 10:
            start = buf.rfind(b"\n", 0, n - 1) + 1
            if (buf.find(self.marker, start, n) >= 0 if start
                    else self.marker in self.prev + bytes(buf[:n])):
                self.t_done = t
                self.done.set()
        self.prev = bytes(buf[max(0, n - 4096):n])

    def lines(self) -> int:
        return sum(c.count(b"\n") for c in self.chunks)


class LineSink:
    """Splits the output into lines; `first` once a PROBE line arrived."""

    def __init__(self):
        self.rest = b""
        self.first = threading.Event()
        self.done = threading.Event()

    def feed(self, buf, n, t) -> None:
        lines = (self.rest + bytes(buf[:n])).split(b"\n")
        self.rest = lines.pop()
        for line in lines:
            if line.startswith(b"PROBE"):
                self.first.set()
            else:
                self.line(line, t)

    def line(self, line: bytes, t: int) -> None:
        pass

    def eof(self) -> None:
        self.first.set()
        self.done.set()


class LatencySink(LineSink):
    def __init__(self, count: int):
        super().__init__()
        self.count = count
        self.lat_ns: list[int] = []

    def line(self, line, t):
        i = line.find(b" t=")
        if i >= 0:
            self.lat_ns.append(t - int(line[i + 3:].split(b" ", 1)[0]))
            if len(self.lat_ns) >= self.count:
                self.done.set()


class ManySink(LineSink):
    def __init__(self, nappends: int):
        super().__init__()
        self.nappends = nappends
        self.seen = bytearray(nappends)
        self.distinct = 0
        self.dups = 0
        self.misattributed = 0
        self.header = None

    def line(self, line, t):
        if line.startswith(b"==> ") and line.endswith(b" <=="):
            self.header = os.path.basename(line[4:-4])
            return
        i = line.find(b" seq=")
        if i < 0:
            return
        s = int(line[i + 5:i + 11])
        j = line.find(b" file=")
        if self.header is not None and line[j + 6:line.index(b" ", j + 6)] != self.header:
            self.misattributed += 1
        if self.seen[s]:
            self.dups += 1
        else:
            self.seen[s] = 1
            self.distinct += 1
            if self.distinct == self.nappends:
                self.done.set()


def await_probe(path: str, follow: Follow, tries: int = 10) -> int:
    """Append PROBE lines to `path` until the tail prints one: the tail is following.
    Returns how many probe lines were written."""
    for k in range(tries):
        with open(path, "ab") as f:
            f.write(b"PROBE %d\n" % k)
        if follow.sink.first.wait(1.0):
            follow.alive()
            return k + 1
        follow.alive()
    raise BenchError("the tail never printed the probe line appended to a followed file")


def run_follow_throughput(tool: str, tmp: str, nlines: int) -> dict:
    d = tempfile.mkdtemp(dir=tmp, prefix="w4-")
    path = os.path.join(d, "follow.log")
    open(path, "wb").close()
    writer = Writer("throughput", path, nlines, 10000)
    sink = CountSink()
    fol = Follow([tool, "-F", path], sink, tmp)
    try:
        await_probe(path, fol)
        time.sleep(0.1)
        before = os.path.getsize(path)  # the probe lines
        if sink.n != before:
            raise BenchError(f"printed {sink.n} bytes at start, file has {before}")
        sink.target = before + int(writer.info[0])
        c0 = CpuMark(fol.pid)
        t0 = time.monotonic_ns()
        writer.go()
        if not sink.done.wait(120) or sink.t_done is None:
            fol.alive()
            raise BenchError(f"only {sink.n - before} of {writer.info[0]} bytes received")
        c1 = CpuMark(fol.pid)
        writer.wait()
        time.sleep(0.2)
        fol.alive()
        hwm = vm_hwm_kib(fol.pid)
        extra = sink.n - sink.target
        if extra:
            raise BenchError(f"{extra} bytes more than written (duplicates)")
        secs = (sink.t_done - t0) / 1e9
        return {"lines_s": nlines / secs, "cpu_per_M": c1.since(c0) / (nlines / 1e6),
                "rss": hwm / 1024}
    finally:
        fol.stop()
        writer.close()
        shutil.rmtree(d, ignore_errors=True)


def run_follow_lines(tool: str, tmp: str, nlines: int, json_out: bool,
                     expect: int | None = None) -> dict:
    """Workload 10: as workload 4, for text or `--json` output alike: the run ends once the
    writer's last line came out (see LastLineSink).  Text must come out byte for byte, as in 4.
    With --json there is no probe line (rtail's first line, {"event":"following"}, says it
    watches the file), so the output is the same in every run: without `expect` (the warm-up)
    it is kept and its lines counted (the following event and one per line written), and it
    returns its size in bytes as `bytes`, which every later run must print exactly."""
    d = tempfile.mkdtemp(dir=tmp, prefix="w10-")
    path = os.path.join(d, "follow.log")
    open(path, "wb").close()
    writer = Writer("throughput", path, nlines, 10000)
    sink = LastLineSink(bytes.fromhex(writer.info[1]), keep=json_out and expect is None)
    fol = Follow([tool, "-F"] + (["--json"] if json_out else []) + [path], sink, tmp)
    try:
        if json_out:
            if not sink.first.wait(10):
                fol.alive()
                raise BenchError("no following event within 10 s")
            fol.alive()
        else:
            await_probe(path, fol)
        time.sleep(0.1)
        start = sink.n
        if not json_out and start != os.path.getsize(path):
            raise BenchError(f"printed {start} bytes at start, the file has "
                             f"{os.path.getsize(path)}")
        c0 = CpuMark(fol.pid)
        t0 = time.monotonic_ns()
        writer.go()
        if not sink.done.wait(120) or sink.t_done is None:
            fol.alive()
            raise BenchError(f"the writer's last line never came out ({sink.n} bytes did)")
        c1 = CpuMark(fol.pid)
        writer.wait()
        time.sleep(0.2)  # late duplicates
        fol.alive()
        if not json_out:
            want = start + int(writer.info[0])
            if sink.n != want:
                raise BenchError(f"{sink.n - want:+} bytes against what was written")
        elif expect is None:
            got = sink.lines()
            if got != 1 + nlines:
                raise BenchError(f"{got} lines came out, {1 + nlines} expected (the following "
                                 f"event and {nlines:,} records)")
            sink.chunks = None
        elif sink.n != expect:
            raise BenchError(f"{sink.n - expect:+} bytes against the warm-up run, whose "
                             f"{1 + nlines:,} lines were counted")
        secs = (sink.t_done - t0) / 1e9
        return {"lines_s": nlines / secs, "cpu_per_M": c1.since(c0) / (nlines / 1e6),
                "bytes": sink.n}
    finally:
        fol.stop()
        writer.close()
        shutil.rmtree(d, ignore_errors=True)


def run_follow_latency(tool: str, tmp: str, count: int) -> dict:
    d = tempfile.mkdtemp(dir=tmp, prefix="w5-")
    path = os.path.join(d, "latency.log")
    open(path, "wb").close()
    writer = Writer("latency", path, count, 2000)
    sink = LatencySink(count)
    fol = Follow([tool, "-F", path], sink, tmp)
    try:
        await_probe(path, fol)
        time.sleep(0.1)
        w0 = ctxt_switches(fol.pid)
        writer.go()
        if not sink.done.wait(count * 0.002 + 30):
            fol.alive()
        w1 = ctxt_switches(fol.pid)
        writer.wait()
        if len(sink.lat_ns) != count:
            raise BenchError(f"{len(sink.lat_ns)} of {count} lines received")
        lat = sorted(sink.lat_ns)
        return {"p50": pct(lat, 0.50) / 1000, "p99": pct(lat, 0.99) / 1000,
                "wakeups": (w1 - w0) / count, "rss": vm_hwm_kib(fol.pid) / 1024}
    finally:
        fol.stop()
        writer.close()
        shutil.rmtree(d, ignore_errors=True)


def run_follow_idle(tool: str, tmp: str, nfiles: int, window: float) -> dict:
    d = tempfile.mkdtemp(dir=tmp, prefix="w6-")
    paths = []
    for k in range(nfiles):
        p = os.path.join(d, "idle%03d.log" % k)
        with open(p, "wb") as f:
            f.write(b"2024-05-14T10:00:00.000Z INFO  [idle] started file=%d\n" % k)
        paths.append(p)
    fol = Follow([tool, "-F", *paths], LineSink(), tmp)
    try:
        await_probe(paths[-1], fol)
        time.sleep(1.0)  # let start-up work settle
        c0, w0 = CpuMark(fol.pid), ctxt_switches(fol.pid)
        time.sleep(window)
        c1, w1 = CpuMark(fol.pid), ctxt_switches(fol.pid)
        fol.alive()
        return {"wakeups": w1 - w0, "cpu_ms": c1.since(c0) * 1000,
                "rss": vm_hwm_kib(fol.pid) / 1024}
    finally:
        fol.stop()
        shutil.rmtree(d, ignore_errors=True)


def run_follow_many(tool: str, tmp: str, nfiles: int, nappends: int,
                    fd_limit: int | None = None, wait: float = 30) -> dict:
    """Workload 7: `-F` over `nfiles` files, `nappends` lines appended at random to them;
    with `fd_limit`, the tail may have that many files open (fewer than it follows)."""
    d = tempfile.mkdtemp(dir=tmp, prefix="w7-")
    paths = [os.path.join(d, "f%04d.log" % k) for k in range(nfiles)]
    for p in paths:
        open(p, "wb").close()
    writer = Writer("many", d, nfiles, nappends, 7)
    sink = ManySink(nappends)
    fol = Follow([tool, "-F", *paths], sink, tmp, fd_limit)
    try:
        # (The first file: past a descriptor limit GNU tail cannot open the last ones.)
        await_probe(paths[0], fol)
        time.sleep(0.2)
        c0 = CpuMark(fol.pid)
        writer.go()
        sink.done.wait(wait)
        c1 = CpuMark(fol.pid)
        writer.wait()
        time.sleep(0.3)  # late duplicates
        fol.alive()
        hwm = vm_hwm_kib(fol.pid)
        return {"us_per_append": c1.since(c0) * 1e6 / nappends,
                "bad": (nappends - sink.distinct) + sink.dups + sink.misattributed,
                "missing": nappends - sink.distinct, "dups": sink.dups,
                "misattributed": sink.misattributed, "rss": hwm / 1024}
    finally:
        fol.stop()
        writer.close()
        shutil.rmtree(d, ignore_errors=True)


class GlobSink(LineSink):
    """Workload 14: the initial output until `marker` (the last line of the last file in name
    order: it comes out last) is kept and timed; then the lines of new files (`seq=N t=NS`)
    are timed against their t= (taken just before the create), each expected once and under
    the `==> .../newNNNNN.log <==` header of its own file."""

    def __init__(self, marker: bytes, count: int):
        super().__init__()
        self.marker = marker
        self.count = count
        self.initial: list[bytes] = []
        self.t_start = None
        self.started = threading.Event()
        self.lat_ns: list[int] = []
        self.seen = bytearray(count)
        self.distinct = 0
        self.dups = 0
        self.misattributed = 0
        self.header = None

    def line(self, line, t):
        if self.t_start is None:
            self.initial.append(line)
            if line == self.marker:
                self.t_start = t
                self.started.set()
            return
        if line.startswith(b"==> ") and line.endswith(b" <=="):
            self.header = os.path.basename(line[4:-4])
            return
        i = line.find(b" seq=")
        j = line.find(b" t=")
        if i < 0 or j < 0:
            return
        s = int(line[i + 5:i + 11])
        if self.header != b"new%05d.log" % s:
            self.misattributed += 1
        if self.seen[s]:
            self.dups += 1
            return
        self.seen[s] = 1
        self.distinct += 1
        self.lat_ns.append(t - int(line[j + 3:].split(b" ", 1)[0]))
        if self.distinct == self.count:
            self.done.set()

    def eof(self) -> None:
        super().eof()
        self.started.set()


def run_follow_glob(tool: str, tmp: str, nfiles: int, count: int, rate: int, window: float,
                    pattern: bool) -> dict:
    """Workload 14: `-F 'DIR/*.log'` (pattern, rtail) or `-F DIR/f0000.log ...` (the shell's
    expansion, GNU) over nfiles files of 20 lines each: the time from the spawn to the end of
    the initial output; then `count` new matching files at `rate` per second, each with one
    line: create+write -> stdout latency; then, after 1 s to settle, the tail's wake-ups over
    `window` seconds with nothing written.  With count 0, only the start-up."""
    d = tempfile.mkdtemp(dir=tmp, prefix="w14-")
    tmpl, _ = log_block(random.Random(14), nlines=20)
    paths = [os.path.join(d, "f%04d.log" % k) for k in range(nfiles)]
    for k, p in enumerate(paths):
        with open(p, "wb") as f:
            f.write(fill_block(tmpl, k))
    marker = fill_block(tmpl, nfiles - 1)[:-1].rsplit(b"\n", 1)[-1]
    writer = Writer("create", d, count, rate) if count else None
    sink = GlobSink(marker, count)
    argv = [tool, "-F", os.path.join(d, "*.log")] if pattern else [tool, "-F", *sorted(paths)]
    t0 = time.monotonic_ns()
    fol = Follow(argv, sink, tmp)
    try:
        if not sink.started.wait(60) or sink.t_start is None:
            fol.alive()
            raise BenchError("the initial output never reached the last file's last line")
        startup = (sink.t_start - t0) / 1e9
        # The directory's name differs from run to run: the headers are compared without it.
        initial = (b"\n".join(sink.initial) + b"\n").replace(os.fsencode(d), b"DIR")
        if writer is None:
            return {"startup_ms": startup * 1000, "initial": initial}
        await_probe(paths[0], fol)
        time.sleep(0.2)
        writer.go()
        writer.wait()
        sink.done.wait(2.0)  # a tail that sees new files has printed them well before this
        fol.alive()
        time.sleep(1.0)  # let the follow-up work settle
        w0 = ctxt_switches(fol.pid)
        time.sleep(window)
        w1 = ctxt_switches(fol.pid)
        fol.alive()
        lat = sorted(sink.lat_ns)
        return {"startup_ms": startup * 1000, "initial": initial,
                "p50": pct(lat, 0.50) / 1e6 if lat else None,
                "p99": pct(lat, 0.99) / 1e6 if lat else None,
                "missing": count - sink.distinct, "dups": sink.dups,
                "misattributed": sink.misattributed, "wakeups": w1 - w0}
    finally:
        fol.stop()
        if writer is not None:
            writer.close()
        shutil.rmtree(d, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# Workload 12: the web view (--serve)
# --------------------------------------------------------------------------------------------

def page_url(proc, timeout=10.0):
    """The URL `rtail --serve` prints on stderr."""
    deadline = time.monotonic() + timeout
    buf = b""
    while time.monotonic() < deadline:
        chunk = os.read(proc.stderr.fileno(), 4096)
        if not chunk:
            break
        buf += chunk
        m = re.search(rb"rtail: serving (http://[^\s]+)\n", buf)
        if m:
            return m.group(1).decode()
    raise RuntimeError("rtail did not print where it serves: %r" % buf)


class SseClient(threading.Thread):
    """Reads /events on a raw socket (HTTP/1.1, chunked): counts records, notes when each
    line `seq <n> <t_ns>` arrived, and any `skipped` event."""

    def __init__(self, port, expect):
        super().__init__(daemon=True)
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.sendall(b"GET /events?n=0 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        self.expect = expect
        self.lat_ns = []
        self.count = 0
        self.skipped = 0
        self.done = threading.Event()
        self.hello = threading.Event()

    def run(self):
        buf = b""
        pat = re.compile(rb'data: \{"path":"[^"]*","offset":\d+,"line":"seq (\d+) (\d+)')
        while self.count < self.expect:
            data = self.sock.recv(1 << 16)
            if not data:
                break
            now = time.monotonic_ns()
            buf += data
            if b"event: hello" in buf:
                self.hello.set()
            # Whole frames only; chunk-size lines of the transfer encoding are skipped by the
            # pattern, which looks at data lines.
            cut = buf.rfind(b"\n\n")
            if cut < 0:
                continue
            frames, buf = buf[:cut], buf[cut + 2:]
            for m in pat.finditer(frames):
                self.count += 1
                self.lat_ns.append(now - int(m.group(2)))
            self.skipped += frames.count(b"event: skipped")
        self.done.set()








def run_serve_rate(rtail, tmp, rate=10_000, secs=10, live=4, stalled=1):
    d = tempfile.mkdtemp(dir=tmp, prefix="w12-")
    path = os.path.join(d, "app.log")
    open(path, "wb").close()
    proc = subprocess.Popen([rtail, "--serve=0", "-n", "0", "-F", path], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        port = int(re.search(r":(\d+)/", page_url(proc)).group(1))
        total = rate * secs
        clients = [SseClient(port, total) for _ in range(live)]
        for c in clients:
            c.start()
        for c in clients:
            c.hello.wait(10)
        stuck = []
        for _ in range(stalled):
            s = socket.create_connection(("127.0.0.1", port))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.sendall(b"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            stuck.append(s)
        c0 = CpuMark(proc.pid)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        step = rate // 100  # lines per 10 ms
        t0 = time.monotonic()
        for k in range(0, total, step):
            due = t0 + (k / rate)
            while time.monotonic() < due:
                time.sleep(max(0.0, due - time.monotonic()))
            now = time.monotonic_ns()
            os.write(fd, b"".join(b"seq %d %d INFO request served path=/api/items status=200\n" % (k + i, now)
                                  for i in range(step)))
        os.close(fd)
        for c in clients:
            c.done.wait(30)
        cpu = CpuMark(proc.pid).since(c0)
        got = [c.count for c in clients]
        lat = [x for c in clients for x in c.lat_ns]
        return {"delivered": min(got) if got else 0, "expected": total,
                "skipped": sum(c.skipped for c in clients),
                "p50_ms": pct(sorted(lat), 0.5) / 1e6, "p99_ms": pct(sorted(lat), 0.99) / 1e6,
                "cpu_s": cpu, "rss": vm_hwm_kib(proc.pid) / 1024}
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(d, ignore_errors=True)


def run_serve_latency(rtail, tmp, count=300, gap=0.005):
    d = tempfile.mkdtemp(dir=tmp, prefix="w12l-")
    path = os.path.join(d, "app.log")
    open(path, "wb").close()
    proc = subprocess.Popen([rtail, "--serve=0", "-n", "0", "-F", path], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        port = int(re.search(r":(\d+)/", page_url(proc)).group(1))
        c = SseClient(port, count)
        c.start()
        c.hello.wait(10)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        for k in range(count):
            os.write(fd, b"seq %d %d one line\n" % (k, time.monotonic_ns()))
            time.sleep(gap)
        os.close(fd)
        c.done.wait(30)
        return {"p50_ms": pct(sorted(c.lat_ns), 0.5) / 1e6, "p99_ms": pct(sorted(c.lat_ns), 0.99) / 1e6, "n": c.count}
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(d, ignore_errors=True)


def run_serve_full(rtail, tmp, clients=32):
    """Peak RSS with the ring full (8 MiB of ~400-byte lines) and 32 viewers."""
    d = tempfile.mkdtemp(dir=tmp, prefix="w12m-")
    path = os.path.join(d, "app.log")
    line = b"seq %d 0 " + b"x" * 380 + b"\n"
    with open(path, "wb") as f:
        f.write(b"".join(line % i for i in range(30_000)))
    proc = subprocess.Popen([rtail, "--serve=0", "-n", "+1", "-F", path], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        port = int(re.search(r":(\d+)/", page_url(proc)).group(1))
        socks = []
        for _ in range(clients):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(b"GET /events?n=100000 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            socks.append(s)
        time.sleep(2)  # each viewer is sent the whole ring (we do not read: worst case)
        return {"rss": vm_hwm_kib(proc.pid) / 1024}
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(d, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Workload 13: a command's output as the source (rtail --until X -- COMMAND), beside script(1),
# what people use to give a program a terminal so that it writes line by line.

PRINTER = """
import sys, time
n, gap = int(sys.argv[1]), float(sys.argv[2])
for k in range(n):
    print("seq %d %d one line" % (k, time.monotonic_ns()))
    time.sleep(gap)
print("DONE")
time.sleep(60)
"""


def run_command_latency(argv_for, count=300, gap=0.005):
    """Append -> our read latency of lines a Python program prints without flushing."""
    argv = argv_for(["python3", "-c", PRINTER, str(count), str(gap)])
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    lat = []
    try:
        for raw in proc.stdout:
            now = time.monotonic_ns()
            parts = raw.split()
            if parts[:1] == [b"DONE"]:
                break
            if len(parts) >= 3 and parts[0] == b"seq":
                lat.append(now - int(parts[2]))
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
    if len(lat) != count:
        raise BenchError(f"{len(lat)} of {count} lines arrived")
    lat.sort()
    return {"p50_ms": pct(lat, 0.5) / 1e6, "p99_ms": pct(lat, 0.99) / 1e6}


def run_command_throughput(argv_for, nlines):
    """Wall time for `seq 1 N` through the tool to a pipe, and the tool's CPU."""
    argv = argv_for(["seq", "1", str(nlines)])
    started = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL)
    count = 0
    while True:
        block = proc.stdout.read(1 << 20)
        if not block:
            break
        count += block.count(b"\n")
    proc.wait()
    wall = time.monotonic() - started
    if count < nlines:
        raise BenchError(f"{count} of {nlines} lines arrived")
    return {"lines_s": nlines / wall}


def pct(sorted_vals: list, q: float):
    """Nearest-rank percentile."""
    k = math.ceil(q * len(sorted_vals)) - 1
    return sorted_vals[max(0, min(len(sorted_vals) - 1, k))]


# --------------------------------------------------------------------------------------------
# Workloads 17-19 (issue 16): --merge, static and following, and --multiline
# --------------------------------------------------------------------------------------------

MERGE_FILES = 8  # workload 17: the writers, one file each
MERGE_GAP_US = 5000  # workload 18: a line every 5 ms, alternating files
MERGE_SKEW_US = 7000  # workload 18: the second file's lines reach it 7 ms after their time
MERGE_WINDOWS = (200, 50)  # workload 18: ms; 200 is --merge-window's default
ML_PROBE = b"2024-05-14 00:00:00,500 INFO  [bench] PROBE\n"  # workload 19: a record of its own
ML_END = b"2024-05-14 23:59:59,999 INFO  [bench] END of the writer's data\n"


def py_stamp(t: float) -> bytes:
    """Python logging's default time layout, `2024-05-14 10:00:00,123`, of epoch time t in
    local time (as rtail reads a stamp without a zone)."""
    lt = time.localtime(t)
    return b"%04d-%02d-%02d %02d:%02d:%02d,%03d" % (
        lt.tm_year, lt.tm_mon, lt.tm_mday, lt.tm_hour, lt.tm_min, lt.tm_sec,
        int(t * 1000) % 1000)


def merge_bodies(rng: random.Random, w: int, n: int) -> list[bytes]:
    """n realistic message bodies of writer w: what follows the stamp, ~75 bytes."""
    methods = [b"GET"] * 6 + [b"POST"] * 2 + [b"PUT", b"DELETE"]
    res = [b"items", b"users", b"orders", b"carts", b"sessions", b"invoices"]
    out = []
    for _ in range(n):
        x = rng.random()
        if x < 0.70:
            out.append(b" INFO  [web-%d] http: %s /api/v1/%s/%d %d %dms" % (
                w, rng.choice(methods), rng.choice(res), rng.randrange(100000),
                rng.choice([200] * 12 + [201, 204, 304, 404, 500]), rng.randrange(1, 900)))
        elif x < 0.85:
            out.append(b" DEBUG [web-%d] cache lookup key=user:%d hit=%s size=%d" % (
                w, rng.randrange(100000), rng.choice([b"yes", b"no"]), rng.randrange(10000)))
        elif x < 0.95:
            out.append(b" WARN  [web-%d] slow query %dms table=%s rows=%d" % (
                w, rng.randrange(200, 5000), rng.choice(res), rng.randrange(20000)))
        else:
            out.append(b" ERROR [web-%d] upstream %s http://10.0.%d.%d:8080/v2/%s failed" % (
                w, rng.choice(methods), rng.randrange(8), rng.randrange(256), rng.choice(res)))
    return out


def write_merge_logs(d: str, nfiles: int, per_file: int, seed: int) -> dict:
    """Workload 17's data: nfiles logs w0.log ... of per_file ~100-byte lines, the timelines
    of nfiles writers interleaving.  Every millisecond from 10:00:00,000 on is one line of one
    writer (each second's 1,000 shared out evenly among the writers, in random order), so every
    time is unique and the merged order is known: the size and sha256 of the merge as sort -m
    prints it (plain) and as rtail --merge does (`wN.log: ` before each line) are returned."""
    if 1000 % nfiles or (per_file * nfiles) % 1000:
        raise BenchError("workload 17: the writers must share each second's 1,000 ms evenly")
    rng = random.Random(seed)
    names = [f"w{w}.log" for w in range(nfiles)]
    prefixes = [n.encode() + b": " for n in names]
    bodies = [merge_bodies(rng, w, 512) for w in range(nfiles)]
    fractions = [b"%03d" % k for k in range(1000)]
    owners = [k % nfiles for k in range(1000)]
    seq = [0] * nfiles
    plain, prefixed = hashlib.sha256(), hashlib.sha256()
    size = 0
    outs = [open(os.path.join(d, n), "wb", buffering=MiB) for n in names]
    try:
        for s in range(per_file * nfiles // 1000):
            hms = b"2024-05-14 %02d:%02d:%02d," % (10 + s // 3600, s // 60 % 60, s % 60)
            rng.shuffle(owners)
            per = [[] for _ in range(nfiles)]
            lines = []
            for k, w in enumerate(owners):
                i = seq[w]
                seq[w] = i + 1
                line = b"%s%s%s trace=%04x%08x\n" % (hms, fractions[k], bodies[w][i & 511],
                                                      w, i)
                per[w].append(line)
                lines.append(line)
            chunk = b"".join(lines)
            size += len(chunk)
            plain.update(chunk)
            prefixed.update(b"".join(prefixes[w] + line for w, line in zip(owners, lines)))
            for f, p in zip(outs, per):
                f.write(b"".join(p))
    finally:
        for f in outs:
            f.close()
    return {"names": names, "lines": per_file * nfiles,
            "plain": (size, plain.hexdigest()),
            "prefixed": (size + per_file * sum(map(len, prefixes)), prefixed.hexdigest())}


def traceback_text(rng: random.Random) -> bytes:
    """A 6-line Python traceback (no `ERROR` in it)."""
    exc = rng.choice([b"KeyError: 'order_id'",
                      b"ValueError: invalid literal for int() with base 10: 'abc'",
                      b"ConnectionRefusedError: [Errno 111] Connection refused",
                      b"TimeoutError: timed out after 3.0 s"])
    return (b"Traceback (most recent call last):\n"
            b'  File "/srv/app/handlers.py", line %d, in handle_request\n'
            b"    result = self.dispatch(request)\n"
            b'  File "/srv/app/orders.py", line %d, in load_order\n'
            b'    return self.repo.get(int(request.args["order_id"]))\n'
            b"%s\n" % (rng.randrange(100, 400), rng.randrange(20, 300), exc))


def traceback_block(rng: random.Random, *, target_bytes: int | None = None,
                    nlines: int | None = None):
    """Whole records in Python logging's default layout with placeholders BLK and HMS (as
    log_block): 1 record in 10 an ERROR line and a 6-line traceback, the others one INFO, DEBUG
    or WARN line.  Returns (bytes, lines, bytes of the ERROR lines, bytes of the ERROR records):
    what `grep ERROR` and `--multiline --grep ERROR` print of it."""
    methods = [b"GET"] * 6 + [b"POST"] * 2 + [b"PUT", b"DELETE"]
    res = [b"items", b"users", b"orders", b"carts", b"sessions", b"invoices"]
    out = []
    size = lines = eline = erec = 0
    while (nlines is not None and lines < nlines) or (target_bytes is not None and
                                                     size < target_bytes):
        ts = b"2024-05-14 " + HMS + b",%03d" % rng.randrange(1000)
        req = b"req=" + BLK + b"-%05d" % len(out)
        x = rng.random()
        if x < 0.10:
            head = b"%s ERROR [worker-%d] request failed: %s /api/v1/%s/%d %s\n" % (
                ts, rng.randrange(8), rng.choice(methods), rng.choice(res),
                rng.randrange(100000), req)
            rec = head + traceback_text(rng)
            eline += len(head)
            erec += len(rec)
            lines += 7
        else:
            if x < 0.75:
                line = b"%s INFO  [worker-%d] http: %s /api/v1/%s/%d %d %dms %s" % (
                    ts, rng.randrange(8), rng.choice(methods), rng.choice(res),
                    rng.randrange(100000), rng.choice([200] * 12 + [201, 204, 304, 404]),
                    rng.randrange(1, 900), req)
            elif x < 0.90:
                line = b"%s DEBUG [cache] lookup key=user:%d hit=%s size=%d %s" % (
                    ts, rng.randrange(100000), rng.choice([b"yes", b"no"]),
                    rng.randrange(10000), req)
            else:
                line = b"%s WARN  [db-pool-%d] slow query %dms table=orders rows=%d %s" % (
                    ts, rng.randrange(4), rng.randrange(200, 5000), rng.randrange(20000), req)
            rec = line + b"\n"
            lines += 1
        out.append(rec)
        size += len(rec)
    return b"".join(out), lines, eline, erec


def write_traceback_log(path: str, size: int, seed: int) -> dict:
    """Workload 19's static log: ~size bytes of traceback_block's records in whole ~1 MiB
    blocks (the placeholders keep their width, so each block has the same counts)."""
    tmpl, lines, eline, erec = traceback_block(random.Random(seed), target_bytes=MiB)
    nblocks = max(1, round(size / len(tmpl)))
    with open(path, "wb", buffering=0) as f:
        for b in range(nblocks):
            f.write(fill_block(tmpl, b))
    return {"size": os.path.getsize(path), "lines": lines * nblocks,
            "error_lines": eline * nblocks, "error_records": erec * nblocks}


def issue16_writer(mode: str, argv: list[str]) -> bool:
    """The writer modes of workloads 18 and 19 (see writer_main); False for another mode."""
    if mode == "merge-latency":  # COUNT INTERVAL_US SKEW_US PATH...: lines alternating files
        # Line i goes to file i % n, stamped with the time it is written, less SKEW_US on the
        # odd files: those records reach their file late, as a buffering writer's do.
        count, interval, skew = int(argv[0]), int(argv[1]) * 1000, int(argv[2]) / 1e6
        fds = [os.open(p, os.O_WRONLY | os.O_APPEND) for p in argv[3:]]
        print("ready", flush=True)
        sys.stdin.readline()
        start = time.monotonic_ns() + 1_000_000
        for i in range(count):
            delay = start + i * interval - time.monotonic_ns()
            if delay > 0:
                time.sleep(delay / 1e9)
            k = i % len(fds)
            t, now = time.monotonic_ns(), time.time()
            os.write(fds[k], b"%s INFO  [svc-%d] http: GET /api/v1/ping 200 seq=%06d t=%d ok\n"
                     % (py_stamp(now - skew * (k % 2)), k, i, t))
    elif mode == "multiline":  # PATH NLINES: ~10,000 lines of whole records a write, then END
        path, nlines = argv[0], int(argv[1])
        tmpl, per, _, _ = traceback_block(random.Random(19), nlines=10000)
        blocks = [fill_block(tmpl, b) for b in range(max(1, round(nlines / per)))]
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        print("ready", sum(map(len, blocks)), per * len(blocks), flush=True)
        sys.stdin.readline()
        for block in blocks + [ML_END]:
            n = os.write(fd, block)
            while n < len(block):
                n += os.write(fd, block[n:])
    else:
        return False
    return True


PY_STAMP_RE = re.compile(rb"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}")


class MergeLatencySink(LatencySink):
    """Workload 18: as LatencySink, for lines that may carry `NAME: ` before them (--merge),
    or be JSON; notes each timed line's stamp (as written: same layout, same day, so the bytes
    compare as the times do) in the order they came out."""

    def __init__(self, count: int):
        super().__init__(count)
        self.stamps: list[bytes] = []

    def feed(self, buf, n, t) -> None:
        lines = (self.rest + bytes(buf[:n])).split(b"\n")
        self.rest = lines.pop()
        for line in lines:
            if b"PROBE" in line:
                self.first.set()
            else:
                self.line(line, t)

    def line(self, line, t):
        if b" t=" in line:
            m = PY_STAMP_RE.search(line)
            if m:
                self.stamps.append(m.group())
        super().line(line, t)


def run_merge_latency(tool: str, tmp: str, args: list[str], count: int, gap_us: int,
                      nfiles: int = 2) -> dict:
    """Workload 18: `tool -F ARGS svc0.log svc1.log`, a line every gap_us alternating files,
    each stamped with the time it is written (svc1.log's MERGE_SKEW_US earlier): write ->
    stdout latency, and how many neighbours came out of time order.  Each file starts with a
    stamped line, so its layout is known before the probe (a line without a stamp).
    Out of order: neighbours in the output whose stamps go back in time."""
    d = tempfile.mkdtemp(dir=tmp, prefix="w18-")
    paths = [os.path.join(d, f"svc{k}.log") for k in range(nfiles)]
    for k, p in enumerate(paths):
        with open(p, "wb") as f:
            f.write(b"%s INFO  [svc-%d] started\n" % (py_stamp(time.time()), k))
    writer = Writer("merge-latency", count, gap_us, MERGE_SKEW_US, *paths)
    sink = MergeLatencySink(count)
    fol = Follow([tool, "-F", *args, *paths], sink, tmp)
    try:
        await_probe(paths[0], fol)
        time.sleep(0.5)  # the probe may wait in the merge window: let it go out
        writer.go()
        sink.done.wait(count * gap_us / 1e6 + 30)
        writer.wait()
        fol.alive()
        if len(sink.lat_ns) != count:
            raise BenchError(f"{len(sink.lat_ns)} of {count} lines received")
        lat = sorted(sink.lat_ns)
        return {"p50": pct(lat, 0.50) / 1e6, "p99": pct(lat, 0.99) / 1e6, "max": lat[-1] / 1e6,
                "disorder": sum(1 for a, b in zip(sink.stamps, sink.stamps[1:]) if b < a)}
    finally:
        fol.stop()
        writer.close()
        shutil.rmtree(d, ignore_errors=True)


def run_multiline_throughput(tool: str, tmp: str, nlines: int, args: list[str]) -> dict:
    """Workload 19 (a): as workload 4, on records with tracebacks, `tool -F ARGS FILE`.  With
    --multiline the last record is held until the next starts or the file has been quiet for
    300 ms, so the writer ends with one more record (END): the clock stops when every byte
    before it came out, and afterwards everything, END included, must have come out once."""
    d = tempfile.mkdtemp(dir=tmp, prefix="w19-")
    path = os.path.join(d, "app.log")
    with open(path, "wb") as f:  # a stamped first line: the layout is known from the start
        f.write(b"2024-05-14 00:00:00,000 INFO  [bench] started\n")
    writer = Writer("multiline", path, nlines)
    data, lines = int(writer.info[0]), int(writer.info[1])
    sink = CountSink()
    fol = Follow([tool, "-F", *args, path], sink, tmp)
    try:
        # The probe is a record of its own; held up to 300 ms with --multiline.
        if not sink.first.wait(10):
            fol.alive()
            raise BenchError("no initial output within 10 s")
        with open(path, "ab") as f:
            f.write(ML_PROBE)
        size = os.path.getsize(path)
        deadline = time.monotonic() + 10
        while sink.n < size and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)
        fol.alive()
        if sink.n != size:
            raise BenchError(f"printed {sink.n} bytes at start, the file has {size}")
        sink.target = size + data
        c0 = CpuMark(fol.pid)
        t0 = time.monotonic_ns()
        writer.go()
        if not sink.done.wait(120) or sink.t_done is None:
            fol.alive()
            raise BenchError(f"only {sink.n - size} of {data} bytes received")
        c1 = CpuMark(fol.pid)
        writer.wait()
        time.sleep(0.6)  # END goes out after 300 ms of quiet with --multiline
        fol.alive()
        want = sink.target + len(ML_END)
        if sink.n != want:
            raise BenchError(f"{sink.n - want:+} bytes against what was written")
        secs = (sink.t_done - t0) / 1e9
        return {"lines_s": lines / secs, "cpu_per_M": c1.since(c0) / (lines / 1e6)}
    finally:
        fol.stop()
        writer.close()
        shutil.rmtree(d, ignore_errors=True)


STAMP = b"%%%%%%%%%%%%%%%%%%%"  # replaced per block by a date and time (19 bytes)


def write_dated_log(path: str, size: int, seed: int, start: float, step: int) -> tuple[int, float]:
    """Write ~size bytes of log lines whose times advance `step` seconds a block (1 MiB) from
    `start` (epoch seconds, UTC; milliseconds random within a block, as several writers give);
    returns (size, the time of the last block)."""
    tmpl, _ = log_block(random.Random(seed), target_bytes=MiB)
    tmpl = tmpl.replace(b"2024-05-14T" + HMS, STAMP)
    nblocks = max(1, round(size / len(tmpl)))
    with open(path, "wb", buffering=0) as f:
        for b in range(nblocks):
            when = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(start + b * step)).encode()
            f.write(tmpl.replace(BLK, b"%06d" % (b % 1000000)).replace(STAMP, when))
    return os.path.getsize(path), start + (nblocks - 1) * step


def w20_since(c) -> None:
    """Workload 20: `rtail --since T` on a big log (a bisection) beside awk reading it all."""
    if "--since" not in c.help_text:
        c.skip("20", "rtail has no --since yet")
        return
    awk = shutil.which("awk")
    if awk is None:
        raise BenchError("awk not found on PATH")
    size = 512 * MiB if c.quick else 4 * GiB
    path = os.path.join(c.tmp, "dated.log")
    try:
        t = time.monotonic()
        # A block a minute: the last ten minutes are the last ten blocks.
        size, last = write_dated_log(path, size, 20, 1_700_000_000, 60)
        print(f"    generated {size / MiB:,.0f} MiB in {time.monotonic() - t:.1f} s", flush=True)
        when = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(last - 9 * 60))
        variants = {"rtail": [c.rtail, "--since", when + "Z", path],
                    "gnu": [awk, f'$1 >= "{when}.000Z"', path]}
        outs = {}
        for k, argv in variants.items():  # off the clock: both print the last ten blocks
            out = pipeline_output([argv])
            outs[k] = (len(out), hashlib.sha256(out).hexdigest())
            del out
        if outs["rtail"] != outs["gnu"]:
            raise BenchError(f"rtail printed {outs['rtail'][0]:,} bytes, awk {outs['gnu'][0]:,}")
        if not 9 * MiB < outs["rtail"][0] < 11 * MiB:
            raise BenchError(f"printed {outs['rtail'][0]:,} bytes, not the last ten blocks")
        row = Row("20", f"--since (the last 10 minutes) of a {size / GiB:.1f} GiB log | dd bs=1M",
                  "ms", "≤ 50 ms", lambda rm, gm, q, refs: rm <= 50,
                  gnu_label="awk '$1 >= T'")
        for warm, _ in c.rounds():
            for k, argv in variants.items():
                dt, n, _ = run_pipeline([argv], c.tmp)
                if n != outs[k][0]:
                    raise BenchError(f"{k}: dd read {n:,} bytes, {outs[k][0]:,} expected")
                if not warm:
                    row.add(k, dt * 1000)
        row.extra = (f"both print the same {outs['rtail'][0] / MiB:.0f} MiB (sha256 checked); "
                     "the file is in the page cache")
        c.rows.append(row)
    finally:
        if os.path.exists(path):
            os.unlink(path)


def vs(a: list[float], b: list[float]) -> str:
    """The ratio of the medians of a and b, and the median of the per-round ratios."""
    pairs = statistics.median(x / y for x, y in zip(a, b) if y)
    return f"{statistics.median(a) / statistics.median(b):.2f} (per pair {pairs:.2f})"


def w17_merge_static(c) -> None:
    """Workload 17: `rtail --merge -n +1` of 8 files beside `sort -m -k1,2` (and lnav)."""
    if "--merge" not in c.help_text:
        c.skip("17", "rtail has no --merge yet")
        return
    per_file = 250_000 if c.quick else 1_000_000
    d = os.path.join(c.tmp, "merge")
    os.mkdir(d)
    cwd = os.getcwd()
    try:
        t = time.monotonic()
        info = write_merge_logs(d, MERGE_FILES, per_file, 17)
        size = info["plain"][0]
        print(f"    generated {MERGE_FILES} × {per_file:,} lines ({size / MiB:.0f} MiB) in "
              f"{time.monotonic() - t:.1f} s", flush=True)
        names = info["names"]
        sort, lnav = shutil.which("sort"), shutil.which("lnav")
        if sort is None:
            raise BenchError("sort not found on PATH")
        variants = {"rtail": [c.rtail, "--merge", "-n", "+1", *names],
                    "gnu": [sort, "-m", "-k1,2", *names]}
        expect = {"rtail": info["prefixed"], "gnu": info["plain"]}
        if lnav:
            variants["lnav -n"] = [lnav, "-n", *names]
        else:
            c.skip("17", "lnav is not installed (Debian/Ubuntu: apt-get install lnav): "
                         "its reference is left out")
        os.chdir(d)  # short names: rtail writes each one before every line
        for k, want in expect.items():  # off the clock: the exact merged output, once
            out = pipeline_output([variants[k]])
            got = (len(out), hashlib.sha256(out).hexdigest())
            del out
            if got != want:
                raise BenchError(f"{k}: the output is not the expected merge ({got[0]:,} "
                                 f"bytes, {want[0]:,} expected)")
        row = Row("17", f"--merge -n +1, {MERGE_FILES} files × {per_file:,} lines "
                        f"({size / MiB:.0f} MiB) | dd bs=1M", "s", "≤ 1.0",
                  lambda rm, gm, q, refs: q <= 1.0, gnu_label="sort -m -k1,2")
        outsize = {}
        for warm, _ in c.rounds():
            for k, argv in variants.items():
                dt, n, _ = run_pipeline([argv], c.tmp)
                if k in expect and n != expect[k][0]:
                    raise BenchError(f"{k}: dd read {n:,} bytes, {expect[k][0]:,} expected")
                outsize[k] = n
                if not warm:
                    row.add(k, dt)
        mlines = info["lines"] / 1e6
        row.extra = (f"both outputs checked (sha256) against the known merge; rtail writes "
                     f"`wN.log: ` before each line (+{outsize['rtail'] / size - 1:.0%} bytes); "
                     f"rtail {mlines / statistics.median(row.r):.2f} M lines/s")
        if "lnav -n" in outsize:
            row.extra += f"; lnav wrote {outsize['lnav -n'] / MiB:.0f} MiB"
        c.rows.append(row)
    finally:
        os.chdir(cwd)
        shutil.rmtree(d, ignore_errors=True)


def w18_merge_latency(c) -> None:
    """Workload 18: `rtail -F --merge` write -> stdout latency against the window, and whether
    the records came out in time order."""
    if "--merge" not in c.help_text or not c.has_follow:
        c.skip("18", "skipped: rtail has no -F --merge yet")
        return
    count = 300 if c.quick else 1000
    variants = {200: (c.rtail, ["--merge"]),
                50: (c.rtail, ["--merge", "--merge-window", "50ms"]),
                ("json", 200): (c.rtail, ["--merge", "--json"]),
                ("json", 50): (c.rtail, ["--merge", "--merge-window", "50ms", "--json"]),
                "plain": (c.rtail, []), "gnu": (c.gnu, [])}
    # The same window with --json (its records carry their times), and following without
    # merging: rtail's and GNU's.
    refs = {"with --json": "json", "rtail -F (no --merge)": "plain", "GNU tail -F": "gnu"}
    gap, skew = MERGE_GAP_US // 1000, MERGE_SKEW_US // 1000
    rows = {}
    for w in MERGE_WINDOWS:
        opt = "--merge (window 200 ms)" if w == 200 else f"--merge --merge-window {w}ms"
        what = (f"-F {opt}, 2 files, {count} lines, one every {gap} ms alternating "
                f"(the 2nd file's {skew} ms late)")
        for q in ("p50", "p99"):
            rows[w, q] = Row("18", f"{what}: write → stdout", f"{q} ms",
                             f"≤ {w + 5} ms (window + 5)",
                             lambda rm, gm, q, refs, w=w: rm <= w + 5)
        rows[w, "disorder"] = Row("18", f"{what}: neighbours out of time order",
                                  "lines, all runs", "0", lambda rm, gm, q, refs: rm == 0,
                                  total=True)
    for warm, _ in c.rounds():
        res = {k: run_merge_latency(tool, c.tmp, args, count, MERGE_GAP_US)
               for k, (tool, args) in variants.items()}
        for (w, q), row in rows.items():
            if q == "disorder":  # warm-up included: a record out of order is one
                row.add("rtail", res[w]["disorder"])
                for name, k in refs.items():
                    row.add(name, res[(k, w) if k == "json" else k]["disorder"])
                continue
            if warm:
                continue
            row.add("rtail", res[w][q])
            for name, k in refs.items():
                row.add(name, res[(k, w) if k == "json" else k][q])
            if q == "p99":
                row.add("max", res[w]["max"])
    for (w, q), row in rows.items():
        if q == "p50" and statistics.median(row.r) < w / 2:
            row.extra = "records did not wait for the window"
        c.rows.append(row)


def w19_multiline(c) -> None:
    """Workload 19: --multiline's cost, following (as 4) and static with --grep ERROR."""
    if "--multiline" not in c.help_text:
        c.skip("19", "rtail has no --multiline yet")
        return
    if c.has_follow:
        N = 1_000_000 if c.quick else 2_000_000
        lrow = Row("19", f"-F --multiline, {N:,} lines (1 record in 10 with a 6-line "
                         "traceback) in ~1 MB writes", "lines/s", "≥ 0.8× rtail -F",
                   lambda rm, gm, q, refs: rm >= 0.8 * refs["rtail -F"])
        crow = Row("19", "-F --multiline: CPU per million lines", "CPU s / M lines", "", None)
        variants = {"rtail": (c.rtail, ["--multiline"]), "gnu": (c.gnu, []),
                    "rtail -F": (c.rtail, [])}
        for warm, _ in c.rounds():
            for k, (tool, args) in variants.items():
                res = run_multiline_throughput(tool, c.tmp, N, args)
                if not warm:
                    lrow.add(k, res["lines_s"])
                    crow.add(k, res["cpu_per_M"])
        for row in (lrow, crow):
            ml, plain = row.r, row.refs["rtail -F"]
            row.extra = f"--multiline/plain: {vs(ml, plain)}"
        c.rows.extend([lrow, crow])
    else:
        c.skip("19", "rtail has no -F yet: only the static part runs")

    size = (128 if c.quick else 1024) * MiB
    path = os.path.join(c.tmp, "traceback.log")
    try:
        t = time.monotonic()
        info = write_traceback_log(path, size, 19)
        print(f"    generated {info['size'] / MiB:.0f} MiB of records with tracebacks in "
              f"{time.monotonic() - t:.1f} s", flush=True)
        rg = shutil.which("rg")
        plain = "rtail -n +1 --grep ERROR"
        variants = {"rtail": [c.rtail, "--multiline", "-n", "+1", "--grep", "ERROR", path],
                    plain: [c.rtail, "-n", "+1", "--grep", "ERROR", path],
                    "grep ERROR": [GREP, "ERROR", path]}
        if rg:
            variants["rg ERROR"] = [rg, "ERROR", path]
        else:
            c.skip("19", "ripgrep is not installed (Debian/Ubuntu: apt-get install ripgrep): "
                         "rg's reference is left out")
        row = Row("19", f"--multiline -n +1 --grep ERROR, {size_label(info['size'])} log "
                        "| dd bs=1M", "s", f"≤ 1.2× {plain}",
                  lambda rm, gm, q, refs: rm <= 1.2 * refs[plain])
        inner = {}
        for warm, _ in c.rounds():
            for k, argv in variants.items():
                want = info["error_records" if k == "rtail" else "error_lines"]
                t = 0.0
                for _ in range(inner.get(k, 1)):
                    dt, n, _ = run_pipeline([argv], c.tmp)
                    if n != want:
                        raise BenchError(f"{k}: dd read {n:,} bytes, {want:,} expected")
                    t += dt / inner.get(k, 1)
                if warm:  # runs under 0.25 s (--quick) are batched, as in workload 3
                    inner[k] = max(1, min(20, int(0.5 / t))) if t < 0.25 else 1
                else:
                    row.add(k, t)
        row.extra = (f"--multiline/plain: {vs(row.r, row.refs[plain])}; output sizes checked: "
                     f"{info['error_records'] / MiB:.1f} MiB of ERROR records, "
                     f"{info['error_lines'] / MiB:.1f} MiB of ERROR lines")
        if max(inner.values()) > 1:
            row.extra += "; runs per sample: " + ", ".join(
                f"{k} {v}" for k, v in inner.items() if v > 1)
        c.rows.append(row)
    finally:
        if os.path.exists(path):
            os.remove(path)


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------

class Row:
    def __init__(self, wl: str, label: str, metric: str, target: str = "", check=None,
                 gnu_label: str = "", total: bool = False):
        self.wl, self.label, self.metric, self.target, self.check = wl, label, metric, target, check
        self.gnu_label = gnu_label
        self.total = total  # show the sum over runs instead of the median
        self.r: list[float] = []
        self.g: list[float] = []
        self.refs: dict[str, list[float]] = {}
        self.extra = ""

    def add(self, tool: str, v: float) -> None:
        if tool == "rtail":
            self.r.append(v)
        elif tool == "gnu":
            self.g.append(v)
        else:
            self.refs.setdefault(tool, []).append(v)

    def med(self, v):
        if not v:
            return None
        return sum(v) if self.total else statistics.median(v)

    def cells(self) -> list[str]:
        rm, gm = self.med(self.r), self.med(self.g)
        ratio = rm / gm if (rm is not None and gm) else None
        pairs = [] if self.total else [a / b for a, b in zip(self.r, self.g) if b]
        pr = statistics.median(pairs) if pairs and len(pairs) == min(len(self.r), len(self.g)) \
            else None
        refs = "; ".join(f"{k}: {fnum(self.med(v))}" for k, v in self.refs.items())
        if self.extra:
            refs = "; ".join(x for x in (refs, self.extra) if x)
        ok = ""
        if self.check is not None and rm is not None:
            try:
                res = self.check(rm, gm, ratio, {k: self.med(v) for k, v in self.refs.items()})
            except (TypeError, ZeroDivisionError):
                res = None
            ok = "" if res is None else ("yes" if res else "NO")
        gcol = fnum(gm) + (f" ({self.gnu_label})" if self.gnu_label and gm is not None else "")
        return [self.wl, self.label, self.metric, fnum(rm), gcol, fnum(ratio, ratio=True),
                fnum(pr, ratio=True), refs, self.target, ok]


HEAD = ["#", "workload", "metric", "rtail", "GNU tail", "rtail/GNU (medians)",
        "rtail/GNU (per-pair median)", "reference", "target", "met"]


def fnum(x, ratio: bool = False) -> str:
    if x is None:
        return "—"
    if ratio:
        return f"{x:.2f}"
    ax = abs(x)
    if ax == 0:
        return "0"
    if ax >= 100:
        return f"{x:,.0f}"
    if ax >= 10:
        return f"{x:.1f}"
    if ax >= 1:
        return f"{x:.2f}"
    return f"{x:.3g}"


def text_table(rows: list[Row]) -> str:
    data = [HEAD] + [r.cells() for r in rows]
    w = [max(len(r[i]) for r in data) for i in range(len(HEAD))]
    lines = []
    for j, r in enumerate(data):
        lines.append("  ".join(c.ljust(w[i]) for i, c in enumerate(r)).rstrip())
        if j == 0:
            lines.append("  ".join("-" * x for x in w))
    return "\n".join(lines)


def md_table(rows: list[Row]) -> str:
    out = ["| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
    for r in rows:
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in r.cells()) + " |")
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# Machine description
# --------------------------------------------------------------------------------------------

def fs_type(path: str) -> str:
    path = os.path.realpath(path)
    best, typ = "", "?"
    with open("/proc/mounts") as f:
        for line in f:
            parts = line.split()
            mp = parts[1].encode().decode("unicode_escape")
            if (path == mp or path.startswith(mp.rstrip("/") + "/")) and len(mp) >= len(best):
                best, typ = mp, parts[2]
    return f"{typ} ({best})"


def machine(tmp: str) -> list[str]:
    model = "?"
    mem = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            mem = f"{int(f.readline().split()[1]) / (1 << 20):.1f} GiB"
    except OSError:
        pass
    return [
        f"date: {datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}",
        f"machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {model}, "
        f"{mem} RAM",
        f"kernel: {platform.system()} {platform.release()}",
        f"temp dir: {tmp} on {fs_type(tmp)}",
    ]


def busy_fraction(secs: float = 1.0) -> float:
    """Share of all CPUs used by anything (other processes) over `secs`, from /proc/stat."""
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return sum(v[:8]), v[3] + v[4]  # total, idle + iowait
    t0, i0 = sample()
    time.sleep(secs)
    t1, i1 = sample()
    return 1 - (i1 - i0) / max(1, t1 - t0)


def size_label(n: int) -> str:
    return f"{n / GiB:.2g} GiB" if n >= GiB else f"{n / MiB:.0f} MiB"


def source_rev() -> str:
    """', built from commit X (+ local changes)' when the tree is a git checkout, else ''."""
    try:
        rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10)
        if rev.returncode != 0:
            return ""
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--", "src",
                                "Cargo.toml", "Cargo.lock"], capture_output=True, text=True,
                               timeout=10).stdout.strip()
        return f", built from commit {rev.stdout.strip()}" + (" + local changes" if dirty else "")
    except (OSError, subprocess.TimeoutExpired):
        return ""


def version(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, env=ENV, timeout=10).stdout
        return out.splitlines()[0].strip() if out else "?"
    except (OSError, subprocess.TimeoutExpired):
        return "?"


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------

def parse_args():
    p = argparse.ArgumentParser(
        description="Benchmark rtail against GNU tail (tail on PATH); workloads 1-19 of the "
                    "project's benchmark issue, see bench/README.md.",
        epilog="A --quick run takes about 1 minute; a full run about 5 minutes (plus the build). "
               "Needs python3, GNU coreutils (tail, dd, cat), GNU grep, cargo (unless --rtail) "
               "and GNU time at /usr/bin/time (Debian package `time`) for RSS of workloads 2/3.")
    p.add_argument("--quick", action="store_true",
                   help="smaller files (256/128 MiB), 3 repetitions, shorter follow workloads")
    p.add_argument("--reps", type=int, help="repetitions per tool after one warm-up "
                                            "(default 5, --quick 3)")
    p.add_argument("--only", help="comma-separated workload numbers to run, e.g. 1,3,9 "
                                  "(8 = peak RSS, reported from 2,3,4,6,7)")
    p.add_argument("--markdown", metavar="PATH", help="also write the results as Markdown here")
    p.add_argument("--rtail", metavar="PATH",
                   help="rtail binary to use (default: cargo build --release, then "
                        "target/release/rtail)")
    p.add_argument("--tmpdir", metavar="DIR",
                   help="where to create the temporary data directory (default: system temp)")
    return p.parse_args()


def build_rtail() -> str:
    print("building rtail: cargo build --release", flush=True)
    if shutil.which("cargo") is None:
        raise SystemExit("cargo not found: install Rust or pass --rtail PATH")
    if subprocess.run(["cargo", "build", "--release"], cwd=ROOT).returncode != 0:
        raise SystemExit("cargo build --release failed (see above); fix it or pass --rtail PATH")
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    path = os.path.join(target, "release", "rtail")
    if not os.access(path, os.X_OK):
        raise SystemExit(f"no binary at {path} after the build")
    return path


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--_writer":
        writer_main(sys.argv[2:])
        return 0
    a = parse_args()
    quick = a.quick
    reps = a.reps or (3 if quick else 5)
    only = set(range(1, 21))
    if a.only:
        only = {int(x) for x in a.only.split(",") if x.strip()}
        if not only <= set(range(1, 21)):
            raise SystemExit("--only takes workload numbers 1 to 19")
        if only == {8}:
            only = {2, 3, 4, 6, 7, 8}
    rss_on = 8 in only
    cfg = {
        "big": (256 if quick else 2048) * MiB,
        "mid": (128 if quick else 1024) * MiB,
        "follow_lines": 1_000_000 if quick else 2_000_000,
        "lat_lines": 500 if quick else 1000,
        "idle_files": 200, "idle_window": 3.0 if quick else 10.0,
        "many_files": 2000, "many_appends": 20_000,
        "jq_slice": (16 if quick else 64) * MiB,
        "glob_files": 1000, "glob_rate": 100, "glob_secs": 3 if quick else 5,
        "glob_idle": 2.0,
        "hist_gen": (10 if quick else 100) * MiB,
    }

    global DD, CAT, GREP, JQ, ZCAT
    gnu = shutil.which("tail")
    DD, CAT, GREP = shutil.which("dd"), shutil.which("cat"), shutil.which("grep")
    JQ = shutil.which("jq") or ""
    ZCAT = shutil.which("zcat") or ""
    for name, path in (("tail", gnu), ("dd", DD), ("cat", CAT), ("grep", GREP)):
        if path is None:
            raise SystemExit(f"{name} not found on PATH")
    have_time = os.access(GNU_TIME, os.X_OK)
    notes: list[str] = []
    if not have_time:
        msg = (f"GNU time not found at {GNU_TIME} (Debian/Ubuntu: apt-get install time): "
               "peak RSS of workloads 2 and 3 is not measured")
        print("warning: " + msg)
        notes.append(msg)

    if a.rtail:
        rtail = os.path.abspath(a.rtail if "/" in a.rtail else (shutil.which(a.rtail) or a.rtail))
        if not os.access(rtail, os.X_OK):
            raise SystemExit(f"--rtail {a.rtail}: not an executable")
    else:
        rtail = build_rtail()
    help_text = subprocess.run([rtail, "--help"], capture_output=True, text=True,
                               env=ENV).stdout
    has_follow = re.search(r"(^|[\s,])-F\b", help_text) is not None
    has_grep = "--grep" in help_text
    has_json = "--json" in help_text
    has_glob = re.search(r"\bglob\b", help_text) is not None  # "a FILE with a glob ... is a pattern"
    has_history = "--history" in help_text
    tools = {"rtail": rtail, "gnu": gnu}

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # workload 7: the tail and the writer open every file; 14: rtail keeps every match open
    need = max(cfg["many_files"], cfg["glob_files"] + cfg["glob_rate"] * cfg["glob_secs"]) + 100
    if soft != resource.RLIM_INFINITY and soft < need:
        if hard == resource.RLIM_INFINITY or hard >= need:
            resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
        else:
            print(f"warning: open-file limit {hard} < {need}: workload 7 may fail")

    tmp = tempfile.mkdtemp(prefix="rtail-bench-", dir=a.tmpdir)
    busy = busy_fraction()
    if busy > 0.10:
        msg = (f"the machine was {busy:.0%} busy before the run (other processes): "
               "numbers will be noisy, CPU-bound ratios skewed")
        print("warning: " + msg)
        notes.append(msg)
    header = machine(tmp) + [
        f"background CPU use before the run: {busy:.0%} of all CPUs",
        f"rtail: {rtail} ({version([rtail, '--version'])}{'' if a.rtail else source_rev()})",
        f"GNU tail: {gnu} ({version([gnu, '--version'])})",
        *([f"jq (workload 11): {JQ} ({version([JQ, '--version'])})"] if JQ and 11 in only else []),
        f"mode: {'quick' if quick else 'full'}, {reps} repetitions after 1 warm-up, "
        "rtail and GNU interleaved",
    ]
    for line in header:
        print(line)
    print(flush=True)

    rows: list[Row] = []
    rss_rows: list[Row] = []
    skipped: list[str] = []
    failed: list[str] = []
    started = time.monotonic()

    def rounds():
        """(is_warmup, rep) for one warm-up then `reps` repetitions."""
        yield True, -1
        for i in range(reps):
            yield False, i

    def rss_row(wl: str) -> Row:
        r = Row("8", f"peak RSS in {wl}", "MiB", "≤ 4 MiB", lambda rm, gm, q, refs: rm <= 4.0)
        rss_rows.append(r)
        return r

    try:
        big = mid = None
        t = time.monotonic()
        if only & {1, 2}:
            big = os.path.join(tmp, "big.log")
            write_log(big, cfg["big"], 1)
        if only & {1, 3, 9, 11}:
            mid = os.path.join(tmp, "mid.log")
            write_log(mid, cfg["mid"], 2)
        sizes = ", ".join(f"{os.path.basename(p)} {os.path.getsize(p) / MiB:.0f} MiB"
                          for p in (big, mid) if p)
        if sizes:
            print(f"generated {sizes} in {time.monotonic() - t:.1f} s\n", flush=True)

        def workload(n: int, title: str, fn):
            if n not in only:
                return
            print(f"[{n}] {title}", flush=True)
            try:
                fn()
            except BenchError as e:
                failed.append(f"workload {n}: {e}")
                print(f"    FAILED: {e}", flush=True)

        # ---- 1: -n 10 on the big file (and on the 1 GiB one: cost must not grow with size)
        def w1():
            files = [(big, f"-n 10, {size_label(os.path.getsize(big))} log")]
            if mid:
                files.append((mid, f"-n 10, {size_label(os.path.getsize(mid))} log"))
            for path, label in files:
                row = Row("1", label, "ms per run", "≤ 1.1", lambda rm, gm, q, refs: q <= 1.1)
                outs = {k: subprocess.run([v, "-n", "10", path], capture_output=True).stdout
                        for k, v in tools.items()}
                if outs["rtail"] != outs["gnu"]:
                    row.extra = "OUTPUT DIFFERS from GNU"
                inner = 1
                for warm, _ in rounds():
                    for k, v in tools.items():
                        s = time_batch([v, "-n", "10", path], inner)
                        if warm and k == "gnu":
                            inner = max(1, min(200, int(0.2 / s)))
                        elif not warm:
                            row.add(k, s * 1000)
                row.extra = "; ".join(x for x in (row.extra, f"{inner} runs per sample") if x)
                rows.append(row)

        workload(1, "-n 10 (time per run incl. process start)", w1)

        # ---- 2: -n 200000 to /dev/null
        def w2():
            row = Row("2", "-n 200000 > /dev/null", "ms per run", "≤ 0.7",
                      lambda rm, gm, q, refs: q <= 0.7)
            argv = lambda v: [v, "-n", "200000", big]
            outs = {k: subprocess.run(argv(v), capture_output=True).stdout
                    for k, v in tools.items()}
            if outs["rtail"] != outs["gnu"]:
                row.extra = "OUTPUT DIFFERS from GNU"
            inner = 1
            for warm, _ in rounds():
                for k, v in tools.items():
                    s = time_batch(argv(v), inner)
                    if warm and k == "gnu":
                        inner = max(1, min(100, int(0.3 / s)))
                    elif not warm:
                        row.add(k, s * 1000)
            row.extra = "; ".join(x for x in (row.extra, f"{inner} runs per sample") if x)
            rows.append(row)
            if rss_on and have_time:
                rr = rss_row("2")
                for _ in range(reps):
                    for k, v in tools.items():
                        rr.add(k, gnu_time_rss_kib(argv(v), tmp) / 1024)

        workload(2, "-n 200000 to /dev/null", w2)

        # ---- 3: -n +1 of the 1 GiB file into a pipe read by dd bs=1M
        def w3():
            size = os.path.getsize(mid)
            trow = Row("3", f"-n +1 {size_label(size)} | dd bs=1M", "s", "≤ 0.3",
                       lambda rm, gm, q, refs: q <= 0.3)
            grow = Row("3", f"-n +1 {size_label(size)} | dd bs=1M", "GB/s",
                       "≥ 0.9× sendfile limit",
                       lambda rm, gm, q, refs: rm >= 0.9 * refs["sendfile→1MiB pipe"])
            variants = {"rtail": [rtail, "-n", "+1", mid], "gnu": [gnu, "-n", "+1", mid],
                        "cat": [CAT, mid], "sendfile→1MiB pipe": None}
            inner = 1
            for warm, _ in rounds():
                for k, argv in variants.items():
                    t = 0.0
                    for _ in range(inner):
                        if argv is None:
                            dt, n, _ = run_pipeline([], tmp, feeder=sendfile_feeder(mid))
                        else:
                            dt, n, _ = run_pipeline([argv], tmp)
                        if n != size:
                            raise BenchError(f"{k}: dd read {n} bytes, file has {size}")
                        t += dt / inner
                    if warm and k == "gnu":
                        inner = max(1, min(20, int(0.5 / t)))
                    if not warm:
                        trow.add(k, t)
                        grow.add(k, size / t / 1e9)
            if inner > 1:
                trow.extra = f"{inner} runs per sample"
            rows.extend([trow, grow])
            if rss_on and have_time:
                rr = rss_row("3")
                for _ in range(reps):
                    for k in ("rtail", "gnu"):
                        rr.add(k, run_pipeline([variants[k]], tmp, rss=True)[2] / 1024)

        workload(3, "-n +1 into a pipe (consumer: dd bs=1M of=/dev/null)", w3)

        # ---- 9: --grep
        def w9():
            if not has_grep:
                skipped.append("9: skipped: rtail has no --grep yet")
                print("    skipped: rtail has no --grep yet", flush=True)
                return
            row = Row("9", f"--grep '{GREP_PATTERN}' on -n +1 | dd", "s", "≤ 0.5",
                      lambda rm, gm, q, refs: q <= 0.5, gnu_label="tail -n +1 | grep -E")
            variants = {
                "rtail": [[rtail, "-n", "+1", "--grep", GREP_PATTERN, mid]],
                "gnu": [[gnu, "-n", "+1", mid], [GREP, "-E", GREP_PATTERN]],
                "grep -E FILE": [[GREP, "-E", GREP_PATTERN, mid]],
            }
            counts = {}
            inner = 1
            for warm, _ in rounds():
                for k, stages in variants.items():
                    t = 0.0
                    for _ in range(inner):
                        dt, n, _ = run_pipeline(stages, tmp)
                        counts.setdefault(k, set()).add(n)
                        t += dt / inner
                    if warm and k == "gnu":
                        inner = max(1, min(20, int(0.5 / t)))
                    if not warm:
                        row.add(k, t)
            if len(set().union(*counts.values())) != 1:
                row.extra = "OUTPUT SIZES DIFFER: " + ", ".join(
                    f"{k} {sorted(v)}" for k, v in counts.items())
            else:
                row.extra = f"{min(counts['gnu']) / MiB:.1f} MiB of matches"
            if inner > 1:
                row.extra += f"; {inner} runs per sample"
            rows.append(row)

        workload(9, f"--grep vs tail | grep -E vs grep -E (pattern {GREP_PATTERN!r})", w9)

        # ---- 11: -n +1 --json of the 1 GiB file into dd
        def w11():
            if not has_json:
                skipped.append("11: skipped: rtail has no --json yet")
                print("    skipped: rtail has no --json yet", flush=True)
                return
            size = os.path.getsize(mid)
            row = Row("11", f"-n +1 --json {size_label(size)} | dd bs=1M", "MB/s of input",
                      "≥ 300 MB/s", lambda rm, gm, q, refs: rm >= 300,
                      gnu_label="tail -n +1, text")
            # (input file, its size, argv): rtail --json, and for scale GNU tail and rtail
            # writing text, and jq -R (what one would use otherwise; it writes less: no path,
            # no offset) on a slice of the file, being ~50x slower.
            variants = {"rtail": (mid, [rtail, "-n", "+1", "--json", mid]),
                        "gnu": (mid, [gnu, "-n", "+1", mid]),
                        "rtail text": (mid, [rtail, "-n", "+1", mid])}
            if JQ:
                sl = os.path.join(tmp, "slice.log")
                with open(mid, "rb") as f, open(sl, "wb") as out:
                    data = f.read(cfg["jq_slice"])
                    out.write(data[:data.rindex(b"\n") + 1])
                del data
                variants[f"jq -R -c '{{line: .}}' ({size_label(os.path.getsize(sl))} slice)"] = \
                    (sl, [JQ, "-R", "-c", "{line: .}", sl])
            inner = {}
            for warm, _ in rounds():
                for k, (path, argv) in variants.items():
                    fsize = os.path.getsize(path)
                    t = 0.0
                    for _ in range(inner.get(k, 1)):
                        dt, n, _ = run_pipeline([argv], tmp)
                        if n < fsize:
                            raise BenchError(f"{k}: dd read {n} bytes, the file has {fsize}")
                        t += dt / inner.get(k, 1)
                    if warm:  # runs under 0.25 s (--quick) are batched, as in workload 3
                        inner[k] = max(1, min(20, int(0.5 / t))) if t < 0.25 else 1
                    else:
                        row.add(k, fsize / t / 1e6)
            js, text = row.r, row.refs["rtail text"]
            row.extra = f"--json/text: {statistics.median(js) / statistics.median(text):.2f}"
            if JQ:
                jq = statistics.median(row.refs[list(variants)[-1]])
                row.extra += f"; --json/jq: {statistics.median(js) / jq:.0f}x"
            if max(inner.values()) > 1:
                row.extra += "; runs per sample: " + ", ".join(
                    f"{k} {v}" for k, v in inner.items() if v > 1)
            rows.append(row)

        workload(11, "-n +1 --json into a pipe (consumer: dd bs=1M of=/dev/null)", w11)

        def follow_workload(n: int, title: str, body):
            def fn():
                if not has_follow:
                    skipped.append(f"{n}: skipped: rtail has no -F yet")
                    print("    skipped: rtail has no -F yet", flush=True)
                    return
                body()
            workload(n, title, fn)

        # ---- 4: follow throughput
        def w4():
            N = cfg["follow_lines"]
            lrow = Row("4", f"-F, {N:,} lines appended in ~1 MB writes", "lines/s",
                       "≥ 1", lambda rm, gm, q, refs: q >= 1.0)
            crow = Row("4", "-F throughput: CPU per million lines", "CPU s / M lines", "≤ 1",
                       lambda rm, gm, q, refs: q <= 1.0)
            rr = rss_row("4") if rss_on else None
            for warm, _ in rounds():
                for k, v in tools.items():
                    res = run_follow_throughput(v, tmp, N)
                    if not warm:
                        lrow.add(k, res["lines_s"])
                        crow.add(k, res["cpu_per_M"])
                        if rr:
                            rr.add(k, res["rss"])
            rows.extend([lrow, crow])

        follow_workload(4, "follow throughput (-F)", w4)

        # ---- 5: follow latency
        def w5():
            N = cfg["lat_lines"]
            p50 = Row("5", f"-F latency, {N} lines every 2 ms", "p50 µs", "≤ 1",
                      lambda rm, gm, q, refs: q <= 1.0)
            p99 = Row("5", f"-F latency, {N} lines every 2 ms", "p99 µs", "≤ 1000 µs",
                      lambda rm, gm, q, refs: rm <= 1000)
            wake = Row("5", f"-F latency, {N} lines every 2 ms", "wake-ups / line", "≤ 1.05",
                       lambda rm, gm, q, refs: rm <= 1.05)
            for warm, _ in rounds():
                for k, v in tools.items():
                    res = run_follow_latency(v, tmp, N)
                    if not warm:
                        p50.add(k, res["p50"])
                        p99.add(k, res["p99"])
                        wake.add(k, res["wakeups"])
            rows.extend([p50, p99, wake])

        follow_workload(5, "follow latency (-F)", w5)

        # ---- 6: idle
        def w6():
            nf, win = cfg["idle_files"], cfg["idle_window"]
            wrow = Row("6", f"-F {nf} idle files, {win:.0f} s", "wake-ups", "0 (= GNU)",
                       lambda rm, gm, q, refs: rm <= gm)
            crow = Row("6", f"-F {nf} idle files, {win:.0f} s", "CPU ms", "0 (= GNU)",
                       lambda rm, gm, q, refs: rm <= max(gm, 0.5))
            rr = rss_row("6") if rss_on else None
            for warm, _ in rounds():
                for k, v in tools.items():
                    res = run_follow_idle(v, tmp, nf, 1.0 if warm else win)
                    if not warm:
                        wrow.add(k, res["wakeups"])
                        crow.add(k, res["cpu_ms"])
                        if rr:
                            rr.add(k, res["rss"])
            rows.extend([wrow, crow])

        follow_workload(6, "idle follow (-F), nothing written", w6)

        # ---- 7: many files
        def w7():
            nf, na = cfg["many_files"], cfg["many_appends"]
            crow = Row("7", f"-F {nf} files, {na:,} appends", "CPU µs / append", "≤ 1",
                       lambda rm, gm, q, refs: q <= 1.0)
            brow = Row("7", "lines missing + duplicated + under wrong header",
                       "lines, all runs", "0", lambda rm, gm, q, refs: rm == 0, total=True)
            rr = rss_row("7") if rss_on else None
            for warm, _ in rounds():
                for k, v in tools.items():
                    res = run_follow_many(v, tmp, nf, na)
                    if res["bad"]:
                        print(f"    {k}: missing {res['missing']}, duplicated {res['dups']}, "
                              f"under the wrong header {res['misattributed']}", flush=True)
                    brow.add(k, res["bad"])  # warm-up included: a lost line is a lost line
                    if not warm:
                        crow.add(k, res["us_per_append"])
                        if rr:
                            rr.add(k, res["rss"])
            rows.extend([crow, brow])
            # The same past the descriptor limit: rtail closes quiet files and opens them again
            # when they change; GNU tail cannot open the files past the limit.
            lim = nf // 4
            lrow = Row("7", f"-F {nf} files, {lim} descriptors (ulimit -n), {na:,} appends",
                       "CPU µs / append", "", None)
            lbrow = Row("7", f"{lim} descriptors: lines missing + duplicated + under wrong "
                             "header", "lines, all runs", "0", lambda rm, gm, q, refs: rm == 0,
                        total=True, gnu_label="cannot open past the limit")
            for warm, rep in rounds():
                res = run_follow_many(rtail, tmp, nf, na, fd_limit=lim)
                lbrow.add("rtail", res["bad"])
                if not warm:
                    lrow.add("rtail", res["us_per_append"])
                if rep == 0:
                    # Once: it never prints them all, each run waits out its deadline.
                    res = run_follow_many(gnu, tmp, nf, na, fd_limit=lim, wait=3)
                    lbrow.add("gnu", res["bad"])
            lrow.refs["rtail without the limit"] = list(crow.r)
            rows.extend([lrow, lbrow])

        follow_workload(7, "many files (-F)", w7)

        # ---- 10: follow throughput with --json
        def w10():
            if not has_json:
                skipped.append("10: skipped: rtail has no --json yet")
                print("    skipped: rtail has no --json yet", flush=True)
                return
            N = cfg["follow_lines"]
            lrow = Row("10", f"-F --json, {N:,} lines appended in ~1 MB writes", "lines/s",
                       "≥ 0.5× rtail text", lambda rm, gm, q, refs: rm >= 0.5 * refs["rtail text"])
            crow = Row("10", "-F --json: CPU per million lines", "CPU s / M lines", "",
                       None)
            variants = {"rtail": (rtail, True), "gnu": (gnu, False), "rtail text": (rtail, False)}
            expect = {}  # bytes of the warm-up's --json output, whose lines were counted
            for warm, _ in rounds():
                for k, (v, js) in variants.items():
                    res = run_follow_lines(v, tmp, N, js, expect.get(k))
                    if warm:
                        expect[k] = res["bytes"]
                    else:
                        lrow.add(k, res["lines_s"])
                        crow.add(k, res["cpu_per_M"])
            for row in (lrow, crow):
                js, text = row.r, row.refs["rtail text"]
                pairs = statistics.median(a / b for a, b in zip(js, text))
                row.extra = (f"--json/text: {statistics.median(js) / statistics.median(text):.2f} "
                             f"(per pair {pairs:.2f})")
            rows.extend([lrow, crow])

        follow_workload(10, "follow throughput with --json (-F --json; text: rtail -F, GNU -F)", w10)

        # ---- 12: the web view
        def w12():
            if "--serve" not in help_text:
                skipped.append("12: skipped: rtail has no --serve yet")
                print("    skipped: rtail has no --serve yet", flush=True)
                return
            rate, secs = 10_000, (5 if quick else 10)
            drow = Row("12", f"--serve: {rate:,} lines/s for {secs} s to 4 viewers + 1 stalled",
                       "lines delivered per viewer", "all", None)
            rlat = Row("12", "--serve at that rate: append → SSE event", "p50 ms", "",
                       None)
            crow = Row("12", "--serve at that rate: rtail CPU", "CPU s", "", None)
            lrow = Row("12", "--serve: one line every 5 ms, append → SSE event", "p50 ms",
                       "≤ 2 ms", lambda rm, gm, q, refs: rm <= 2.0, gnu_label="GNU -F to a pipe")
            mrow = Row("12", "--serve: peak RSS, 32 viewers, full ring", "MiB", "≤ 24 MiB",
                       lambda rm, gm, q, refs: rm <= 24.0)
            for warm, _ in rounds():
                res = run_serve_rate(rtail, tmp, rate, secs)
                if res["delivered"] != res["expected"] or res["skipped"]:
                    raise BenchError(f"{res['delivered']:,} of {res['expected']:,} lines reached "
                                     f"every live viewer ({res['skipped']} skipped events)")
                lat = run_serve_latency(rtail, tmp)
                gnu_lat = run_follow_latency(gnu, tmp, cfg["lat_lines"])
                full = run_serve_full(rtail, tmp)
                if warm:
                    continue
                drow.add("rtail", res["delivered"])
                rlat.add("rtail", res["p50_ms"])
                rlat.add("p99", res["p99_ms"])
                crow.add("rtail", res["cpu_s"])
                lrow.add("rtail", lat["p50_ms"])
                lrow.add("gnu", gnu_lat["p50"] / 1000)
                lrow.add("p99", lat["p99_ms"])
                mrow.add("rtail", full["rss"])
                mrow.add("at the rate", res["rss"])
            rows.extend([drow, rlat, crow, lrow, mrow])

        follow_workload(12, "the web view (--serve): viewers over HTTP on loopback", w12)

        # ---- 13: a command's output as the source
        def w13():
            script = shutil.which("script")
            if not script:
                skipped.append("13: skipped: script(1) (util-linux) is not installed")
                return
            N = 200_000 if quick else 1_000_000

            def via_rtail(cmd):
                return [rtail, "--until", "^DONE", "--"] + cmd

            def via_script(cmd):
                return [script, "-qfec", " ".join(shlex.quote(w) for w in cmd), "/dev/null"]

            lrow = Row("13", "a Python program printing (unflushed) a line every 5 ms: print → read",
                       "p50 ms", "≤ 0.5 ms", lambda rm, gm, q, refs: rm <= 0.5)
            trow = Row("13", f"a command's output, seq 1 {N:,}, to a pipe", "lines/s", "")
            for warm, _ in rounds():
                lat = run_command_latency(via_rtail)
                slat = run_command_latency(via_script)
                thr = run_command_throughput(lambda cmd: [rtail, "--timeout", "1h", "--"] + cmd, N)
                sthr = run_command_throughput(via_script, N)
                if warm:
                    continue
                lrow.add("rtail", lat["p50_ms"])
                lrow.add("p99", lat["p99_ms"])
                lrow.add("script -qfec", slat["p50_ms"])
                trow.add("rtail", thr["lines_s"])
                trow.add("script -qfec", sthr["lines_s"])
            rows.extend([lrow, trow])

        workload(13, "a command's output (rtail -- COMMAND) beside script(1)", w13)

        # ---- 14: a pattern over 1,000 files, and new files created while following
        def w14():
            if not has_glob:
                skipped.append("14: skipped: rtail has no file-name patterns yet")
                print("    skipped: rtail has no file-name patterns yet", flush=True)
                return
            nf, rate, secs = cfg["glob_files"], cfg["glob_rate"], cfg["glob_secs"]
            count, win = rate * secs, cfg["glob_idle"]
            srow = Row("14", f"-F over {nf:,} files of 20 lines: spawn → initial output out",
                       "ms", "", None, gnu_label="tail -F on the shell's expansion")
            na = "n/a: GNU tail follows only the files the shell expanded"
            lrows = [Row("14", f"-F 'DIR/*.log', {rate} new files/s for {secs} s: "
                               "create+write → stdout", "p50 ms", ""),
                     Row("14", f"-F 'DIR/*.log', {rate} new files/s for {secs} s: "
                               "create+write → stdout", "p99 ms", "≤ 50 ms",
                         lambda rm, gm, q, refs: rm <= 50)]
            brow = Row("14", f"new files' lines missing + duplicated + under wrong header "
                             f"({count} per run)", "lines, all runs", "0",
                       lambda rm, gm, q, refs: rm == 0, total=True,
                       gnu_label="cannot see new files")
            wrow = Row("14", f"idle {win:.0f} s after the new files (1 s to settle)",
                       "wake-ups", "0", lambda rm, gm, q, refs: rm == 0)
            initial = {}
            for warm, _ in rounds():
                for k, v in tools.items():
                    res = run_follow_glob(v, tmp, nf, count, rate, 1.0 if warm else win,
                                          pattern=k == "rtail")
                    bad = res["missing"] + res["dups"] + res["misattributed"]
                    if k == "rtail" and bad:
                        print(f"    {k}: missing {res['missing']}, duplicated {res['dups']}, "
                              f"under the wrong header {res['misattributed']}", flush=True)
                    brow.add(k, bad)  # warm-up included: a lost line is a lost line
                    initial.setdefault(k, res["initial"])
                    if not warm:
                        srow.add(k, res["startup_ms"])
                        wrow.add(k, res["wakeups"])
                        for row, q in zip(lrows, ("p50", "p99")):
                            if res[q] is not None:
                                row.add(k, res[q])
                # rtail on the shell's expansion too: what the pattern itself costs at start
                res = run_follow_glob(rtail, tmp, nf, 0, rate, 0, pattern=False)
                initial.setdefault("rtail on the expansion", res["initial"])
                if not warm:
                    srow.add("rtail on the shell's expansion", res["startup_ms"])
            differ = [k for k, v in initial.items() if v != initial["gnu"]]
            if differ:
                srow.extra = "INITIAL OUTPUT DIFFERS from GNU's: " + ", ".join(differ)
                failed.append("workload 14: initial output differs from GNU tail's: "
                              + ", ".join(differ))
            else:
                srow.extra = f"same initial output ({len(initial['gnu']) / 1024:.0f} KiB)"
            for row in lrows:
                row.extra = na
            rows.extend([srow, *lrows, brow, wrow])

        follow_workload(14, "many files by pattern (-F 'DIR/*.log'), new files created", w14)

        # ---- 15: --history over four gzip generations
        def w15():
            if not has_history:
                skipped.append("15: skipped: rtail has no --history yet")
                print("    skipped: rtail has no --history yet", flush=True)
                return
            if not ZCAT:
                skipped.append("15: skipped: zcat (gzip) is not installed")
                print("    skipped: zcat (gzip) is not installed", flush=True)
                return
            size = cfg["hist_gen"]
            # Generated once per run, as the big logs are, and reused by every round.
            d = os.path.join(tmp, "history")
            os.mkdir(d)
            t = time.monotonic()
            now = time.time()
            nblocks = max(1, round(size / MiB))
            gens, zsize = [], 0
            for k in (4, 3, 2, 1):  # oldest first: block numbers (times) go on across them
                path = os.path.join(d, f"app.log.{k}.gz")
                write_gz_log(path, size, 15, (4 - k) * nblocks)
                os.utime(path, (now - k * 3600, now - k * 3600))  # older for higher numbers
                gens.append(path)
                zsize += os.path.getsize(path)
            live = os.path.join(d, "app.log")
            tmpl, _ = log_block(random.Random(16), nlines=10)
            with open(live, "wb") as f:
                f.write(fill_block(tmpl, 4 * nblocks))
            print(f"    generated 4 × {size_label(size)} of text as .gz ({zsize / MiB:.0f} MiB) "
                  f"in {time.monotonic() - t:.1f} s", flush=True)
            variants = {
                "rtail": [[rtail, "--history", "-n", "1000", live]],
                "gnu": [[ZCAT, *gens], [CAT, "-", live], [gnu, "-n", "1000"]],
                "zcat .1.gz only": [[ZCAT, gens[-1]], [CAT, "-", live], [gnu, "-n", "1000"]],
            }
            row = Row("15", f"--history -n 1000 app.log, 4 × {size_label(size)} .gz "
                            "generations + 10 lines", "s", "≤ 0.3",
                      lambda rm, gm, q, refs: q <= 0.3,
                      gnu_label="zcat .4.gz … .1.gz | cat - app.log | tail -n 1000")
            outs = {k: pipeline_output(st) for k, st in variants.items()}
            want = outs["gnu"]
            nl = want.count(b"\n")
            if nl != 1000:
                raise BenchError(f"the zcat pipeline printed {nl} lines, not 1000")
            differ = [k for k, o in outs.items() if o != want]
            inner = 1
            for warm, _ in rounds():
                for k, stages in variants.items():
                    t = 0.0
                    for _ in range(inner):
                        dt, n, _ = run_pipeline(stages, tmp)
                        if n != len(outs[k]):
                            raise BenchError(f"{k}: dd read {n} bytes, {len(outs[k])} expected")
                        t += dt / inner
                    if warm and k == "gnu" and t < 0.25:  # --quick: batched, as in 3
                        inner = max(1, min(20, int(0.5 / t)))
                    if not warm:
                        row.add(k, t)
            if differ:
                row.extra = "OUTPUT DIFFERS: " + ", ".join(differ)
                failed.append("workload 15: output differs from the zcat pipeline's: "
                              + ", ".join(differ))
            else:
                row.extra = "same 1,000 lines (byte-compared)"
            row.extra += f"; {zsize / MiB:.0f} MiB of .gz"
            if inner > 1:
                row.extra += f"; {inner} runs per sample"
            rows.append(row)
            shutil.rmtree(d, ignore_errors=True)

        workload(15, "--history -n 1000 over four .gz generations, beside zcat | tail", w15)

        # ---- 17-19 (issue 16): --merge and --multiline (their code: the section before Results)
        def skip16(n: str, why: str) -> None:
            skipped.append(f"{n}: {why}")
            print(f"    {why}", flush=True)

        c16 = types.SimpleNamespace(rtail=rtail, gnu=gnu, tmp=tmp, quick=quick, rows=rows,
                                    help_text=help_text, has_follow=has_follow, rounds=rounds,
                                    skip=skip16)
        workload(17, "--merge -n +1 of 8 files, beside sort -m -k1,2",
                 lambda: w17_merge_static(c16))
        workload(18, "-F --merge: write → stdout latency, against the window",
                 lambda: w18_merge_latency(c16))
        workload(19, "--multiline: following (as 4), and -n +1 --grep ERROR of a file",
                 lambda: w19_multiline(c16))
        workload(20, "--since: the last 10 minutes of a big log, beside awk",
                 lambda: w20_since(c16))

    except KeyboardInterrupt:
        failed.append("interrupted")
    finally:
        for p in LIVE:
            p.kill()
        shutil.rmtree(tmp, ignore_errors=True)

    rows.extend(rss_rows)
    elapsed = time.monotonic() - started
    notes += [
        "Ratios are rtail/GNU of the metric as shown: for times, CPU, RSS and wake-ups lower is "
        "better; for lines/s and GB/s higher is better.",
        "Consumer of workloads 3 and 9: dd bs=1M of=/dev/null reading a pipe "
        "(checks the byte count). GB = 10^9 bytes.",
        "CPU: sum of /proc/PID/task/*/schedstat; wake-ups: voluntary+nonvoluntary context "
        "switches summed over /proc/PID/task/*/status; RSS: GNU time %M (2, 3) or VmHWM of the "
        "running tail (4, 6, 7).",
    ]
    if have_time and rss_on and only & {2, 3}:
        floor = gnu_time_rss_kib([shutil.which("true") or "/bin/true"], tempfile.gettempdir())
        notes.append(f"GNU time %M of `true` on this machine: {floor / 1024:.2f} MiB (the floor).")
    notes += [f"workload {s}" for s in skipped]
    notes += [f"FAILED {f}" for f in failed]
    notes.append(f"run time {elapsed / 60:.1f} min")

    print()
    print(text_table(rows))
    print()
    for n in notes:
        print("- " + n)

    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write("# rtail benchmark results\n\n")
            f.write("\n".join(f"- {h}" for h in header) + "\n")
            f.write(f"- command: `python3 bench/bench.py {' '.join(sys.argv[1:])}`\n\n")
            f.write(md_table(rows) + "\n\n")
            f.write("\n".join(f"- {n}" for n in notes) + "\n")
        print(f"\nMarkdown written to {a.markdown}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
