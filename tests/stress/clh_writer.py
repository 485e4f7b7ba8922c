#!/usr/bin/env python3
"""Stress writer: concurrent-log-handler's ConcurrentRotatingFileHandler with use_gzip=True.

Multi-process safe: every write and every rollover happens under a lock file, and a process whose
open file was rotated away by another reopens the name before writing. A rollover renames the log
to a temporary name, gzips it, deletes the uncompressed copy and shifts `.N.gz` backups. See
stress_common.py for the ledger it keeps.
"""

from concurrent_log_handler import ConcurrentRotatingFileHandler

import stress_common


class Handler(stress_common.RecordErrors, ConcurrentRotatingFileHandler):
    pass


def main() -> None:
    args = stress_common.parse_args(__doc__)
    handler = Handler(
        args.path,
        "a",
        maxBytes=args.max_bytes,
        backupCount=args.backup_count,
        use_gzip=True,
        keep_file_open=True,
    )
    stress_common.run(args, handler)


if __name__ == "__main__":
    main()
