#!/usr/bin/env python3
"""Soak: one `rtail -F` running for a long time (default 1 h) through rotation storms by real
writers, every line counted.

usage: tests/stress/soak.py [--rtail PATH] [--minutes 60] [--writers 4] [--records 5000]
                            [--rate 5000] [--max-bytes 65536] [--poll]

Round after round, WRITERS processes (Python's own logging.handlers.RotatingFileHandler, via
rotating_writer.py) log RECORDS numbered records each, RATE a second (0: flat out), into one
log that they rotate every MAX_BYTES (rename rotation with several processes, so each also keeps writing to files
the others rotated away). The soak then waits until rtail has printed the round's last record
of every writer (or 30 s), and checks the round against the writers' ledgers: each record must
show exactly once, each writer's in order. A record whose whole file rtail never printed a line
of is counted apart: such a file was rotated away before rtail could open it (no follower can
read a file it never saw). Between rounds it samples rtail's resident memory, open descriptors
and CPU time: they must stay flat.

Prints one line per round and a summary; exits 1 if any record was lost from a file rtail read,
or duplicated, or out of order, or if rtail died.
"""

import argparse
import collections
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def proc_stats(pid: int) -> tuple[int, int, float]:
    """(VmRSS KiB, open descriptors, CPU seconds) of a process."""
    rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    return rss, fds, cpu


class Printed:
    """rtail's output file, read as it grows: each record's (writer, seq) in order."""

    def __init__(self, path: str) -> None:
        self.f = open(path, "rb")
        self.rest = b""
        self.by_writer: dict[str, list[int]] = collections.defaultdict(list)
        self.garbage = 0

    def poll(self) -> None:
        data = self.rest + self.f.read()
        lines = data.split(b"\n")
        self.rest = lines.pop()
        for line in lines:
            words = line.split(b" ")
            if len(words) < 3 or not words[1].isdigit():
                self.garbage += 1
                continue
            self.by_writer[words[0].decode()].append(int(words[1]))


def ledger_of(path: str) -> list[tuple[int, str]]:
    rows = []
    with open(path) as f:
        for line in f:
            seq, key = line.split()
            rows.append((int(seq), key))
    return rows


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rtail", default=os.path.join(HERE, "..", "..", "target", "release", "rtail"))
    p.add_argument("--minutes", type=float, default=60.0)
    p.add_argument("--writers", type=int, default=4)
    p.add_argument("--records", type=int, default=5000)
    p.add_argument("--max-bytes", type=int, default=65536)
    p.add_argument("--rate", type=float, default=5000.0, help="records per second per writer; 0 = flat out")
    p.add_argument("--poll", action="store_true", help="run rtail with --poll -s 0.05")
    a = p.parse_args()

    work = tempfile.mkdtemp(prefix="rtail-soak-")
    log = os.path.join(work, "app.log")
    open(log, "w").close()
    out_path = os.path.join(work, "rtail.out")
    args = [a.rtail, "-F", "-n", "+1"] + (["--poll", "-s", "0.05"] if a.poll else []) + [log]
    with open(out_path, "wb") as out, open(os.path.join(work, "rtail.err"), "wb") as err:
        rtail = subprocess.Popen(args, stdout=out, stderr=err)
    printed = Printed(out_path)
    started = time.monotonic()
    deadline = started + a.minutes * 60
    totals = collections.Counter()
    samples = []
    round_no = 0
    failed = False
    print(f"soak: {' '.join(args)}; {a.writers} writers x {a.records} records a round at "
          f"{a.rate:g}/s each, rotating every {a.max_bytes} bytes; for {a.minutes:g} min; "
          f"work dir {work}", flush=True)
    try:
        time.sleep(0.2)  # rtail watches the (empty) log before the first writer starts
        while time.monotonic() < deadline:
            round_no += 1
            writers = {}
            for w in range(a.writers):
                name = f"r{round_no}w{w}"
                ledger = os.path.join(work, f"{name}.ledger")
                writers[name] = (subprocess.Popen(
                    [sys.executable, os.path.join(HERE, "rotating_writer.py"), "--path", log,
                     "--writer", name, "--count", str(a.records), "--ledger", ledger,
                     "--max-bytes", str(a.max_bytes), "--backup-count", "5", "--rate", str(a.rate),
                     "--no-wait"],
                    stdout=subprocess.DEVNULL), ledger)
            for proc, _ in writers.values():
                proc.wait()
            # Wait until rtail has printed every written record, or printed nothing new for
            # 2 s (a record in a file rtail never saw never comes; rotated files are drained for
            # 1 s after their last growth), at most 30 s.
            ledgers = {name: ledger_of(path) for name, (_, path) in writers.items()}
            want = sum(1 for rows in ledgers.values() for _, key in rows if key != "-")
            wait_until = time.monotonic() + 30
            last_count, last_change = -1, time.monotonic()
            while time.monotonic() < wait_until and rtail.poll() is None:
                printed.poll()
                count = sum(len(printed.by_writer.get(n, [])) for n in ledgers)
                if count >= want:
                    break
                if count != last_count:
                    last_count, last_change = count, time.monotonic()
                elif time.monotonic() - last_change > 2.0:
                    break
                time.sleep(0.05)
            printed.poll()
            r = collections.Counter()
            for name, rows in ledgers.items():
                got = printed.by_writer.get(name, [])
                seen = collections.Counter(got)
                printed_keys = set()
                for seq, key in rows:
                    if seen[seq]:
                        printed_keys.add(key)
                for seq, key in rows:
                    if key == "-":
                        r["dropped by the handler"] += 1
                        continue
                    r["written"] += 1
                    n = seen[seq]
                    if n == 1:
                        r["printed"] += 1
                    elif n > 1:
                        r["printed"] += 1
                        r["duplicated"] += n - 1
                    elif key in printed_keys:
                        r["lost"] += 1
                    else:
                        r["in files never printed"] += 1
                if got != sorted(got):
                    r["writers out of order"] += 1
            totals.update(r)
            if rtail.poll() is not None:
                print(f"rtail exited with {rtail.returncode}", flush=True)
                failed = True
                break
            rss, fds, cpu = proc_stats(rtail.pid)
            samples.append((time.monotonic() - started, rss, fds, cpu))
            print(f"round {round_no}: {dict(r)}; rtail RSS {rss} KiB, fds {fds}, CPU {cpu:.2f} s",
                  flush=True)
            if r["lost"] or r["duplicated"] or r["writers out of order"] or printed.garbage:
                failed = True
    finally:
        if rtail.poll() is None:
            rtail.terminate()
            rtail.wait()
    minutes = (time.monotonic() - started) / 60
    print(f"\nsoak: {round_no} rounds in {minutes:.1f} min: {dict(totals)}; garbage lines {printed.garbage}")
    if samples:
        rss = [s[1] for s in samples]
        fds = [s[2] for s in samples]
        print(f"rtail RSS KiB: first {rss[0]}, min {min(rss)}, max {max(rss)}, last {rss[-1]}; "
              f"fds: first {fds[0]}, min {min(fds)}, max {max(fds)}, last {fds[-1]}; "
              f"CPU {samples[-1][3]:.1f} s for {totals['printed']:,} lines")
    print("FAILED" if failed else "ok")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
