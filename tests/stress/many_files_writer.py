#!/usr/bin/env python3
"""Stress writer for the descriptor limit: one process appending, at random, to many files.

usage: many_files_writer.py --dir logs --files 300 --writer p0 --count 3000 --rate 1000
                            --ledger ledger.p0 [--seed N]

Opens `<dir>/f<j>.log` (j < files) for appending once, then writes `count` records, each to a
file picked at random, as one write(2) of a whole line: `<writer>f<j>-<seq> x…`, seq counting
per file, so a follower must print each file's lines in the order written. The ledger has one
`<writer>f<j> <seq> f<j>` row per record (the id's writer part, its seq, the file). Waits for
a line on stdin before the first record (the start barrier); prints a one-line summary.
"""

import argparse
import os
import random
import sys
import time


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--dir", required=True)
    p.add_argument("--files", type=int, required=True)
    p.add_argument("--writer", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--rate", type=float, required=True, help="records per second")
    p.add_argument("--ledger", required=True)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    rng = random.Random(args.seed)
    fds = [
        os.open(os.path.join(args.dir, f"f{j}.log"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        for j in range(args.files)
    ]
    seqs = [0] * args.files
    rows = []
    sys.stdin.readline()  # the start barrier
    start = time.monotonic()
    for n in range(args.count):
        ahead = start + n / args.rate - time.monotonic()
        if ahead > 0.0005:
            time.sleep(ahead)  # pacing, to the requested rate
        j = rng.randrange(args.files)
        who = f"{args.writer}f{j}"
        os.write(fds[j], f"{who}-{seqs[j]} {'x' * 40}\n".encode())
        rows.append(f"{who} {seqs[j]} f{j}\n")
        seqs[j] += 1
    elapsed = time.monotonic() - start
    for fd in fds:
        os.close(fd)
    with open(args.ledger, "w") as ledger:
        ledger.writelines(rows)
    print(f"writer={args.writer} written={args.count} files={args.files} seconds={elapsed:.3f}")


if __name__ == "__main__":
    main()
