#!/usr/bin/env python3
"""Stress writer for patterns: one process, its own log, Python's RotatingFileHandler.

Each process logs to a file of its own (`logs/worker-<k>.log`, --path) that does not exist
until its first record: the handler is made with delay=True, and the first record comes
--start-after seconds after the start barrier, so the file appears while the follower runs.
Records are `<writer>-<seq> <padding>` (--sep -). One writer per file, so the handler's rotations
are safe: rename `.log` to `.log.1` (shifting the older backups up to --backup-count, deleting
the oldest), then a new `.log`. See stress_common.py for the ledger it keeps.
"""

from logging.handlers import RotatingFileHandler

import stress_common


class Handler(stress_common.RecordErrors, RotatingFileHandler):
    pass


def main() -> None:
    args = stress_common.parse_args(__doc__)
    handler = Handler(args.path, maxBytes=args.max_bytes, backupCount=args.backup_count, delay=True)
    stress_common.run(args, handler)


if __name__ == "__main__":
    main()
