"""The pytest plugin (entry point ``pytest11``): the ``rtail_follow`` fixture.

    def test_service(rtail_follow):
        log = rtail_follow("service.log")
        start_service()
        log.wait_for("ready", timeout=30)

Every follower the fixture made is closed at the end of the test; when the test fails, its
report gets a section with the last lines of each followed file.
"""

from __future__ import annotations

from typing import Any, Callable, Generator, Iterator, List

import pytest

from ._follow import Follow, follow

_KEY = "_rtail_followers"


@pytest.fixture
def rtail_follow(request: Any) -> Iterator[Callable[..., Follow]]:
    """``rtail_follow(*paths, **options)``: :func:`rtail.follow`, closed after the test."""
    made: List[Follow] = []
    setattr(request.node, _KEY, made)

    def start(*paths: Any, **options: Any) -> Follow:
        f = follow(*paths, **options)
        made.append(f)
        return f

    yield start
    for f in made:
        f.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: Any, call: Any) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    for f in getattr(item, _KEY, []):
        text = []
        for path, lines in f.last_lines().items():
            text.append(f"{path}:")
            if not lines:
                text.append("  (nothing logged)")
            text.extend(f"  {line}" for line in lines)
        for event in f.events:
            text.append(f"notice: {event.get('message', '')}")
        report.sections.append(("rtail: last lines of followed logs", "\n".join(text)))
