#!/usr/bin/env python3
"""Stress writer for descriptors: files that come and go in a followed directory.

usage: churn_writer.py --dir logs --writer c0 --cycles 250 --ledger ledger.c0 [--seed N]

Each cycle creates `<dir>/<writer>-<n>.log`, writes one line to it, writes a second line either
before deleting it or, every other cycle, through the still open descriptor after deleting it
(a process that logs to a file someone removed), then closes it. Lines are `<writer>-<seq> x`,
two seqs per file (2n, 2n+1). Between steps it yields for a random 0-2 ms, so several of these
interleave. A follower may never see a file that lived too briefly; one it did see it must read
to its end. The ledger has `<seq> <file-key>` rows (the key is the file's first line's id), as
stress_common.py's.

Waits for a line on stdin before the first cycle (the start barrier).
"""

import argparse
import os
import random
import sys
import time


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--dir", required=True)
    p.add_argument("--writer", required=True)
    p.add_argument("--cycles", type=int, required=True)
    p.add_argument("--ledger", required=True)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    rng = random.Random(args.seed)
    rows = []
    sys.stdin.readline()  # the start barrier
    start = time.monotonic()
    for n in range(args.cycles):
        path = os.path.join(args.dir, f"{args.writer}-{n}.log")
        first, second = 2 * n, 2 * n + 1
        key = f"{args.writer}-{first}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        os.write(fd, f"{args.writer}-{first} x\n".encode())
        time.sleep(rng.random() * 0.002)
        if n % 2 == 0:
            os.write(fd, f"{args.writer}-{second} x\n".encode())
            os.unlink(path)
        else:
            os.unlink(path)
            time.sleep(rng.random() * 0.002)
            os.write(fd, f"{args.writer}-{second} x\n".encode())
        os.close(fd)
        rows.append(f"{first} {key}\n{second} {key}\n")
        time.sleep(rng.random() * 0.002)
    with open(args.ledger, "w") as f:
        f.writelines(rows)
    print(f"writer={args.writer} cycles={args.cycles} seconds={time.monotonic() - start:.3f}", flush=True)


if __name__ == "__main__":
    main()
