#!/usr/bin/env python3
"""Stress writer: the standard library's logging.handlers.RotatingFileHandler, as is.

Run several of these on the same --path and they rotate over each other: RotatingFileHandler is not
multi-process safe (each process decides on its own, from the size of the file *it* has open, to
rename the chain and open a new file). See stress_common.py for the ledger it keeps.
"""

from logging.handlers import RotatingFileHandler

import stress_common


class Handler(stress_common.RecordErrors, RotatingFileHandler):
    pass


def main() -> None:
    args = stress_common.parse_args(__doc__)
    handler = Handler(args.path, maxBytes=args.max_bytes, backupCount=args.backup_count)
    stress_common.run(args, handler)


if __name__ == "__main__":
    main()
