"""Follow log files from Python, with rtail: wait for a line in an integration test.

    from rtail import follow

    with follow("service.log") as log:
        proc = start_service()
        m = log.wait_for(r"listening on (\\d+)", timeout=30, process=proc, fail_on=r"Traceback|FATAL")
        port = int(m[1])
        assert not log.seen(r"ERROR")

``follow`` runs the ``rtail`` binary (``rtail --json -F``) and reads its records on a thread of
its own; see :func:`follow` and :class:`Follow` for the rules.
"""

from ._follow import (
    BUFFER,
    LAST_LINES,
    TICK,
    AsyncFollow,
    Follow,
    Line,
    LogError,
    Match,
    ProcessExited,
    RtailError,
    WaitTimeout,
    follow,
    follow_async,
)

__all__ = [
    "BUFFER",
    "LAST_LINES",
    "TICK",
    "AsyncFollow",
    "Follow",
    "Line",
    "LogError",
    "Match",
    "ProcessExited",
    "RtailError",
    "WaitTimeout",
    "follow",
    "follow_async",
]
