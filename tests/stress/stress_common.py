"""Shared by the stress writers (rotating_writer.py, clh_writer.py).

Each writer process logs numbered records `<writer> <seq> <padding>` through a real logging handler
and keeps a private *ledger*: one row per record, `<seq> <file-key>` when the handler wrote it, or
`<seq> -` when the handler itself dropped it (its handleError ran). The file key names the file the
record went into by that file's first line (`p2:17`), so the test can tell "rtail missed lines of a
file it was following" from "the handler wrote into a file that was only at the followed name for a
moment, or never" (see tests/it/stress.rs). A first line never changes — these handlers append and
never truncate — and unlike an inode number it is never reused.

The writer waits for a line on stdin before its first record (a start barrier, so several processes
begin together), then --start-after seconds more, and paces itself to --rate records per second
(0 = flat out). With --sep - a record is `<writer>-<seq> <padding>` (one word for the id) instead.
Next to the ledger, `<ledger>.files` lists each file the writer wrote into, `<file-key>
<ns>`, with the CLOCK_MONOTONIC time of its first record there, so a test can tell the files
that were created before the follower started from those created after.
"""

import argparse
import logging
import os
import sys
import time


def parse_args(description: str) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--path", required=True, help="the log file (the name rtail follows)")
    p.add_argument("--writer", required=True, help="writer id, the first word of every record")
    p.add_argument("--count", type=int, required=True, help="records to write")
    p.add_argument("--ledger", required=True, help="where to write this writer's ledger")
    p.add_argument("--max-bytes", type=int, default=4096)
    p.add_argument("--backup-count", type=int, default=3)
    p.add_argument("--rate", type=float, default=0.0, help="records per second; 0 = flat out")
    p.add_argument("--pad", type=int, default=48, help="padding bytes per record")
    p.add_argument("--no-wait", action="store_true", help="start at once, not on a stdin line")
    p.add_argument("--start-after", type=float, default=0.0, help="seconds to wait after the barrier")
    p.add_argument("--sep", default=" ", choices=[" ", "-"], help="between writer and seq")
    return p.parse_args()


def first_line_key(fd: int, sep: str = " ") -> str:
    """The id (`writer:seq`) of the first line of the file open on `fd`.

    Read through /proc/self/fd so it works on a write-only descriptor and after the file was
    renamed or deleted.
    """
    try:
        with open(f"/proc/self/fd/{fd}", "rb") as f:
            head = f.read(256)
    except OSError:
        return "?"
    words = head.split(b"\n", 1)[0].split(b" ")
    if sep != " ":
        return words[0].decode("ascii", "replace") or "?"
    if len(words) >= 2:
        return (words[0] + b":" + words[1]).decode("ascii", "replace")
    return words[0].decode("ascii", "replace") or "?"


class Ledger:
    """Rows of `<seq> <file-key>` kept in memory and written once at the end."""

    def __init__(self, sep: str = " ") -> None:
        self.sep = sep
        self.rows: list[str] = []
        # file key -> CLOCK_MONOTONIC ns of the first record found in it
        self.born: dict[str, int] = {}
        self.written = 0
        self.dropped = 0
        self._stream = None
        self._key = "?"
        self.keys: set[str] = set()

    def key_of(self, stream) -> str:
        # A handler keeps one stream per file it opened; find the key once per stream.
        if stream is None or getattr(stream, "closed", True):
            return "?"
        if stream is not self._stream:
            self._stream = stream
            self._key = first_line_key(stream.fileno(), self.sep)
            self.born.setdefault(self._key, time.monotonic_ns())
        return self._key

    def ok(self, seq: int, key: str) -> None:
        self.rows.append(f"{seq} {key}\n")
        self.written += 1
        self.keys.add(key)

    def drop(self, seq: int) -> None:
        self.rows.append(f"{seq} -\n")
        self.dropped += 1

    def save(self, path: str) -> None:
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.writelines(self.rows)
        os.replace(tmp, path)
        with open(tmp, "w") as f:
            f.writelines(f"{key} {ns}\n" for key, ns in self.born.items())
        os.replace(tmp, path + ".files")


class RecordErrors:
    """Mixin for a logging handler: remember that the last emit failed instead of printing a
    traceback (a failed emit means the handler dropped that record)."""

    failed = False
    first_error = None

    def handleError(self, record):  # noqa: N802 (logging's name)
        self.failed = True
        if self.first_error is None:
            self.first_error = repr(sys.exc_info()[1])


def run(args: argparse.Namespace, handler: logging.Handler) -> None:
    """Write the records through `handler`, keep the ledger, print a one-line summary."""
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger(f"stress.{args.writer}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    ledger = Ledger(args.sep)
    pad = "x" * args.pad
    if not args.no_wait:
        sys.stdin.readline()  # the start barrier
    if args.start_after > 0:
        time.sleep(args.start_after)  # a writer that starts later than the others, on purpose
    start = time.monotonic()
    for seq in range(args.count):
        if args.rate > 0:
            ahead = start + seq / args.rate - time.monotonic()
            if ahead > 0.0005:
                time.sleep(ahead)  # pacing, to the requested rate
        handler.failed = False
        logger.info("%s%s%d %s", args.writer, args.sep, seq, pad)
        if handler.failed:
            ledger.drop(seq)
        else:
            ledger.ok(seq, ledger.key_of(handler.stream))
    elapsed = time.monotonic() - start
    handler.close()
    ledger.save(args.ledger)
    print(
        f"writer={args.writer} written={ledger.written} dropped={ledger.dropped} "
        f"files={len(ledger.keys)} seconds={elapsed:.3f} first_error={handler.first_error}",
        flush=True,
    )
