#!/usr/bin/env python3
"""Stress writer for `--merge`: one process logging through the standard library's
logging.FileHandler (mode 'a'), as a service does.

A record is `<asctime> <pid> w<writer> seq=<n> <padding>`, asctime in logging's default layout
(`2026-12-03 10:00:00,123`, local time: the test sets TZ). Several processes may log into one
--path (each through its own FileHandler, O_APPEND: a record is one write) or each into its
own. Between records the writer pauses a random 0..--pause-ms.

With --skew-ms S > 0 the records reach the file late, each by its own random 0..S ms after it
was stamped: the logger hands them to a logging.handlers.QueueHandler, and a QueueListener
thread (logging off the request path, a common set-up) writes each one only once its delay is
over. The listener writes in order, so one writer's records stay in order in the file; it is
the files (or the writers sharing one file) that are out of time order against each other.

With --traceback-every M every Mth record is logged with logger.exception: its message
line is followed by a traceback (lines without a stamp) ending in `ValueError: w<writer>
seq=<n>`.

The writer waits for a line on stdin before its first record (a start barrier, so several
processes begin together). At the end it writes its ledger (--ledger): one row per record,
`<seq> <created_ns> <written_ns>`, the time the record was stamped (logging's record.created)
and the time it was handed to the FileHandler (both wall-clock ns), and prints a summary.
"""

import argparse
import logging
import logging.handlers
import os
import queue
import random
import sys
import time


class Delay(logging.Filter):
    """On the FileHandler: hold each record until its random delay is over; note when it goes."""

    def __init__(self, skew_ms: float, rng: random.Random) -> None:
        super().__init__()
        self.skew = skew_ms / 1000.0
        self.rng = rng
        # seq -> (stamped, handed to the FileHandler), wall-clock ns
        self.times: dict[int, tuple[int, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if self.skew > 0:
            ahead = record.created + self.rng.uniform(0.0, self.skew) - time.time()
            if ahead > 0:
                time.sleep(ahead)
        self.times[record.n] = (round(record.created * 1e9), time.time_ns())
        return True


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--path", required=True)
    p.add_argument("--writer", required=True, help="writer number, logged as w<writer>")
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--ledger", required=True)
    p.add_argument("--pause-ms", type=float, default=2.0, help="most pause between records")
    p.add_argument("--skew-ms", type=float, default=0.0, help="most delay from stamp to file")
    p.add_argument("--traceback-every", type=int, default=0)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    rng = random.Random(args.seed)

    handler = logging.FileHandler(args.path, mode="a", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(process)d w%(writer)s seq=%(n)d %(message)s"))
    delay = Delay(args.skew_ms, random.Random(args.seed + 1))
    handler.addFilter(delay)
    logger = logging.getLogger(f"merge.w{args.writer}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    listener = None
    if args.skew_ms > 0:
        records: queue.SimpleQueue = queue.SimpleQueue()
        logger.addHandler(logging.handlers.QueueHandler(records))
        listener = logging.handlers.QueueListener(records, handler)
        listener.start()
    else:
        logger.addHandler(handler)

    pad = "x" * 24
    sys.stdin.readline()  # the start barrier
    start = time.monotonic()
    for n in range(args.count):
        extra = {"writer": args.writer, "n": n}
        if args.traceback_every and n % args.traceback_every == args.traceback_every - 1:
            try:
                raise ValueError(f"w{args.writer} seq={n}")
            except ValueError:
                logger.exception("failed %s", pad, extra=extra)
        else:
            logger.info("ok %s", pad, extra=extra)
        if args.pause_ms > 0:
            time.sleep(rng.uniform(0.0, args.pause_ms / 1000.0))
    if listener is not None:
        listener.stop()  # writes what is still queued
    handler.close()
    elapsed = time.monotonic() - start
    rows = [f"{n} {delay.times[n][0]} {delay.times[n][1]}\n" for n in range(args.count)]
    tmp = args.ledger + ".tmp"
    with open(tmp, "w") as f:
        f.writelines(rows)
    os.replace(tmp, args.ledger)
    lags = [written - created for created, written in delay.times.values()]
    print(
        f"writer=w{args.writer} pid={os.getpid()} written={args.count} seconds={elapsed:.3f} "
        f"lag_ms_max={max(lags) / 1e6:.1f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
