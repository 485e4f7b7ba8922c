#!/usr/bin/env python3
"""A deliberately simple follower of one name, to check the stress harness itself.

usage: reference_follower.py [-F -n +1] FILE   (only FILE, the last argument, is used)

It prints FILE from its first line, then stats the name every 0.5 ms. When the name points at
another file, or is gone, it keeps the old file open and goes on reading it until it has not grown
for 1 s, while reading the new file from its start. On every round it reads the old files before
the current one, so each writer's lines come out in the order written. It spins (no inotify) and
is no product; its use is that a correct follower is this short. If the stress tests fail with it,
suspect the tests:

    tests/stress/compare_gnu.sh gnu,rtail,tests/stress/reference_follower.py
"""

import os
import sys
import time

GRACE = 1.0  # seconds a replaced file is read after it last grew
TICK = 0.0005  # seconds between stats of the name


class Followed:
    """One open file: its identity, and the partial last line not yet printed."""

    def __init__(self, fd: int) -> None:
        st = os.fstat(fd)
        self.fd = fd
        self.identity = (st.st_dev, st.st_ino)
        self.partial = b""
        self.last_growth = time.monotonic()

    def pump(self, out) -> None:
        """Print the complete lines appended since the last call."""
        while True:
            data = os.read(self.fd, 1 << 16)
            if not data:
                return
            self.last_growth = time.monotonic()
            data = self.partial + data
            end = data.rfind(b"\n") + 1
            out.write(data[:end])
            self.partial = data[end:]


def main() -> None:
    name = sys.argv[-1]
    out = sys.stdout.buffer
    current = None
    draining: list[Followed] = []
    while True:
        try:
            st = os.stat(name)
            if current is None or (st.st_dev, st.st_ino) != current.identity:
                opened = Followed(os.open(name, os.O_RDONLY))
                if current is not None:
                    draining.append(current)
                current = opened
        except FileNotFoundError:
            if current is not None:
                draining.append(current)
                current = None
        now = time.monotonic()
        for old in list(draining):
            old.pump(out)
            if now - old.last_growth > GRACE:
                os.close(old.fd)
                draining.remove(old)
        if current is not None:
            current.pump(out)
        try:
            out.flush()
        except BrokenPipeError:
            return
        time.sleep(TICK)


if __name__ == "__main__":
    main()
