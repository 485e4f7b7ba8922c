"""The Python API against the installed package and its rtail binary: real files, real
rotations, real processes. Every wait is for an expected line, with a deadline."""

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import rtail
from rtail import LogError, ProcessExited, RtailError, WaitTimeout, follow


def append(path, text):
    with open(path, "a") as f:
        f.write(text)


def live_children(named=None):
    """Running (not zombie) processes whose parent is this process, by name if given."""
    me = os.getpid()
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == me and state != "Z" and named in (None, name):
            found.append(int(pid))
    return found


def rtail_children():
    """Live rtail processes whose parent is this process."""
    return live_children("rtail")


def test_a_line_written_between_follow_and_wait_is_found(tmp_path):
    log = tmp_path / "service.log"
    log.write_text("old line: ready\n")
    with follow(log) as f:
        append(log, "listening on 8080\n")
        m = f.wait_for(r"listening on (\d+)", timeout=10)
        assert (m[1], m.path, m.offset, m.text) == ("8080", str(log), 16, "listening on 8080")
        # The line before follow() is not seen: from the end is the default.
        with pytest.raises(WaitTimeout):
            f.wait_for("ready", timeout=0.3)


def test_two_waits_need_two_new_lines_and_count(tmp_path):
    log = tmp_path / "a.log"
    log.write_text("")
    with follow(log) as f:
        append(log, "tick 1\n")
        assert f.wait_for("tick", timeout=10).text == "tick 1"
        with pytest.raises(WaitTimeout):
            f.wait_for("tick", timeout=0.3)
        append(log, "tick 2\nother\ntick 3\ntick 4\n")
        got = f.wait_for(r"tick (\d)", timeout=10, count=3)
        assert [m[1] for m in got] == ["2", "3", "4"]


def test_from_start_sees_existing_lines(tmp_path):
    log = tmp_path / "a.log"
    log.write_text("first\nsecond\n")
    with follow(log, from_start=True) as f:
        assert f.wait_for("second", timeout=10).offset == 6


def test_rename_rotation_with_a_late_write_to_the_old_file(tmp_path):
    log = tmp_path / "app.log"
    log.write_text("")
    with follow(log) as f:
        old = open(log, "a")
        old.write("before\n")
        old.flush()
        f.wait_for("before", timeout=10)
        os.rename(log, tmp_path / "app.log.1")
        log.write_text("in the new file\n")
        old.write("late, in the old file\n")
        old.close()
        f.wait_for("in the new file", timeout=10)
        # The late line is not lost: it is after the cursor or before it, but it was printed.
        assert f.seen("late, in the old file") is not None


def test_copytruncate(tmp_path):
    log = tmp_path / "app.log"
    log.write_text("")
    with follow(log) as f:
        append(log, "one\ntwo\n")
        f.wait_for("two", timeout=10)
        (tmp_path / "app.log.1").write_text(log.read_text())
        with open(log, "w"):
            pass
        append(log, "after the truncation\n")
        m = f.wait_for("after the truncation", timeout=10)
        assert m.offset == 0
        assert any(e["event"] == "truncated" for e in f.events)


def test_fail_on_raises_within_a_second_of_the_line(tmp_path):
    log = tmp_path / "a.log"
    log.write_text("")
    with follow(log) as f:
        written = []

        def write():
            written.append(time.monotonic())
            append(log, "Traceback (most recent call last):\n")

        threading.Timer(0.2, write).start()
        with pytest.raises(LogError) as err:
            f.wait_for("ready", timeout=30, fail_on="Traceback|FATAL")
        assert time.monotonic() - written[0] < 1.0
    line = err.value.line
    assert (line.text, line.path, line.offset) == ("Traceback (most recent call last):", str(log), 0)
    assert f"{log}: a line matched fail_on 'Traceback|FATAL': Traceback" in str(err.value)


def test_process_exit_raises_at_once_with_its_status(tmp_path):
    log = tmp_path / "a.log"
    log.write_text("")
    with follow(log) as f:
        proc = subprocess.Popen([sys.executable, "-c", f"open({str(log)!r}, 'a').write('dying\\n'); raise SystemExit(3)"])
        start = time.monotonic()
        with pytest.raises(ProcessExited) as err:
            f.wait_for("ready", timeout=30, process=proc)
        assert time.monotonic() - start < 2
        assert err.value.returncode == 3
        assert "status 3" in str(err.value)
        # What it wrote before it died was read first, and is in the diagnosis.
        assert "dying" in str(err.value)


def test_a_line_logged_just_before_the_process_died_still_matches(tmp_path):
    log = tmp_path / "a.log"
    log.write_text("")
    with follow(log) as f:
        proc = subprocess.Popen([sys.executable, "-c", f"open({str(log)!r}, 'a').write('ready\\n')"])
        proc.wait()
        assert f.wait_for("ready", timeout=10, process=proc).text == "ready"


def test_timeout_says_what_was_logged(tmp_path):
    log, other = tmp_path / "a.log", tmp_path / "b.log"
    log.write_text("")
    with follow(log, other) as f:
        append(log, "starting\n")
        f.wait_for("starting", timeout=10)
        with open(log, "w") as w:  # truncated
            w.write("x\n")
        f.wait_for("^x$", timeout=10)
        os.rename(log, tmp_path / "a.log.1")  # rotated
        log.write_text("y\n")
        f.wait_for("^y$", timeout=10)
        with pytest.raises(WaitTimeout) as err:
            f.wait_for("listening", timeout=0.2)
    text = str(err.value)
    assert text.startswith(f"no line matched 'listening' within 0.2 s in {log}, {other}\n")
    assert f"  {log}: file truncated" in text
    # Renamed away and created again: rtail tells one of these, by how quickly it saw it.
    assert re.search(rf"  '{re.escape(str(log))}' (has been replaced|has appeared)", text), text
    assert f"last lines of {log}:\n  starting\n  x\n  y\n" in text
    assert f"nothing was logged to {other}" in text
    assert isinstance(err.value, TimeoutError)


def test_iteration_and_several_files(tmp_path):
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    a.write_text("")
    with follow(a, b) as f:
        append(a, "from a\n")
        b.write_text("from b\n")
        got = {(line.path, line.text) for line in f.lines(timeout=0.5)}
        assert got == {(str(a), "from a"), (str(b), "from b")}


def test_seen_and_mark(tmp_path):
    log = tmp_path / "a.log"
    log.write_text("")
    with follow(log) as f:
        append(log, "ERROR early\n")
        assert f.seen("ERROR") is not None
        since = f.mark()
        append(log, "fine\n")
        assert f.seen("ERROR", since=since) is None
        assert f.seen("fine", since=since).text == "fine"


def test_a_consumer_that_never_reads_blocks_nothing(tmp_path):
    log = tmp_path / "a.log"
    log.write_text("")
    with follow(log, buffer=1000) as f:
        with open(log, "a") as w:
            for i in range(200_000):
                w.write(f"line {i}\n")
            w.write("final\n")
        # Nothing read them while they arrived; mark() only waits until rtail has.
        f.mark(timeout=60)
        assert f.dropped == 200_001 - 1000
        assert f.wait_for("^final$", timeout=10).text == "final"
        with pytest.raises(WaitTimeout, match="199001 lines were dropped"):
            f.wait_for("not there", timeout=0.1)


def test_follow_and_close_cycles_leave_nothing_behind(tmp_path):
    log = tmp_path / "a.log"
    log.write_text("")
    threads = threading.active_count()
    fds = len(os.listdir("/proc/self/fd"))
    for _ in range(100):
        f = follow(log)
        f.close()
        f.close()
    assert rtail_children() == []
    assert threading.active_count() == threads
    assert len(os.listdir("/proc/self/fd")) == fds


def test_bad_input_is_an_exception_not_a_hang(tmp_path):
    log = tmp_path / "a.log"
    log.write_text("")
    with follow(log) as f:
        with pytest.raises(re.error):
            f.wait_for("(", timeout=1)
        with pytest.raises(re.error):
            f.wait_for("x", fail_on="[", timeout=1)
    with pytest.raises(RtailError, match="invalid --grep pattern"):
        follow(log, grep="(")
    with pytest.raises(RtailError, match="cannot find the rtail binary|cannot run"):
        follow(log, rtail=str(tmp_path / "no-such-rtail"))
    with pytest.raises(IsADirectoryError):
        follow(tmp_path)
    with pytest.raises(RtailError, match=r"invalid pattern '.*/\[a\*\.log': unclosed character class"):
        follow(tmp_path / "[a*.log")
    assert rtail_children() == []


def alive(pid):
    """Whether `pid` runs (a zombie does not)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_until_gone(pid, seconds=5):
    deadline = time.monotonic() + seconds
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    return not alive(pid)


CHILD = """
import faulthandler, signal, sys, time, rtail
# Should it not end in time, its stacks are in the failure message.
faulthandler.dump_traceback_later(8, exit=True)
# Ctrl-C raises KeyboardInterrupt even when this was started with SIGINT ignored (Python then
# leaves it ignored): a suite run from a background job of a script, or under nohup.
signal.signal(signal.SIGINT, signal.default_int_handler)
where = sys.argv[2]
with rtail.follow(sys.argv[1]) as f:
    real_wait = f._cond.wait

    def wait(timeout=None):
        # Blocking from here on: tell the test, once, by rtail's pid.
        if where in ("wait", "iteration") and not getattr(wait, "told", False):
            wait.told = True
            print(f._proc.pid, flush=True)
        return real_wait(timeout)

    f._cond.wait = wait
    if where == "async":
        import asyncio

        async def main():
            async with rtail.follow_async(sys.argv[1]) as g:
                real = g.sync._cond.wait

                def blocked(timeout=None):
                    if not getattr(blocked, "told", False):
                        blocked.told = True
                        print(g.sync._proc.pid, flush=True)
                    return real(timeout)

                g.sync._cond.wait = blocked
                await g.wait_for("never", timeout=60)

        asyncio.run(main())
    elif where == "wait":
        f.wait_for("never", timeout=60)
    elif where == "iteration":
        for line in f:
            pass
    else:
        print(f._proc.pid, flush=True)
        time.sleep(60)
"""


@pytest.mark.parametrize("where", ["wait", "iteration", "with", "async"])
def test_ctrl_c_leaves_no_rtail(tmp_path, where):
    """SIGINT to a Python process blocked in wait_for, in `for line in log`, elsewhere in the
    `with` block, or awaiting an async wait: KeyboardInterrupt, and rtail is gone (the async
    follower's too: the wait in its worker thread ends, or asyncio.run would not return)."""
    log = tmp_path / "a.log"
    log.write_text("")
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(log), where],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    rtail_pid = int(child.stdout.readline())
    assert alive(rtail_pid)
    child.send_signal(signal.SIGINT)
    try:
        _, err = child.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        child.kill()
        _, err = child.communicate()
        pytest.fail(f"the interrupted process did not end within 10 s; its stderr:\n{err}")
    assert "KeyboardInterrupt" in err
    assert wait_until_gone(rtail_pid), "rtail outlived the interrupted test"


ELSEWHERE = """
import asyncio, faulthandler, signal, sys, threading, rtail
faulthandler.dump_traceback_later(8, exit=True)
# As in CHILD: not left ignored by how the suite was started.
signal.signal(signal.SIGINT, signal.default_int_handler)
blocked = threading.Event()


def elsewhere():
    # A thread of the program's own (pytest-timeout's, a client library's...) that the kernel
    # hands the SIGINT to: Python only flags it for the main thread.
    blocked.wait()
    signal.pthread_kill(threading.get_ident(), signal.SIGINT)


threading.Thread(target=elsewhere, daemon=True).start()


def hook(f):
    real = f._cond.wait

    def wait(timeout=None):
        if not blocked.is_set():
            print(f._proc.pid, flush=True)
            blocked.set()
        return real(timeout)

    f._cond.wait = wait


if sys.argv[2] == "async":
    async def main():
        async with rtail.follow_async(sys.argv[1]) as g:
            hook(g.sync)
            await g.wait_for("never", timeout=60)

    asyncio.run(main())
else:
    with rtail.follow(sys.argv[1]) as f:
        hook(f)
        f.wait_for("never", timeout=60)
"""


@pytest.mark.parametrize("api", ["sync", "async"])
def test_ctrl_c_handed_to_another_thread_still_ends_a_wait(tmp_path, api):
    """Python runs signal handlers in the main thread, and only once it wakes: a wait asleep
    there (or an idle asyncio loop) must wake often enough (rtail.TICK) to notice."""
    log = tmp_path / "a.log"
    log.write_text("")
    child = subprocess.Popen([sys.executable, "-c", ELSEWHERE, str(log), api],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    rtail_pid = int(child.stdout.readline())
    start = time.monotonic()
    try:
        _, err = child.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        child.kill()
        _, err = child.communicate()
        pytest.fail(f"the interrupted process did not end within 10 s; its stderr:\n{err}")
    assert "KeyboardInterrupt" in err, err
    assert time.monotonic() - start < 3
    assert wait_until_gone(rtail_pid)


def test_rtail_ends_when_the_python_process_is_killed(tmp_path):
    """SIGKILL leaves no `with` block to end rtail: it ends by itself once its output's reader
    is gone."""
    log = tmp_path / "a.log"
    log.write_text("")
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(log), "with"], stdout=subprocess.PIPE, text=True)
    rtail_pid = int(child.stdout.readline())
    assert alive(rtail_pid)
    child.kill()
    child.wait()
    assert wait_until_gone(rtail_pid), "rtail outlived the Python process that was killed"


def test_an_exception_inside_with_ends_rtail(tmp_path):
    log = tmp_path / "a.log"
    log.write_text("")
    with pytest.raises(ZeroDivisionError):
        with follow(log) as f:
            pid = f._proc.pid
            assert alive(pid)
            1 / 0
    assert not alive(pid)
    assert rtail_children() == []


def test_the_fixture_reports_last_lines_on_failure(pytester, tmp_path):
    log = tmp_path / "svc.log"
    log.write_text("")
    pytester.makepyfile(
        f"""
        def test_fails(rtail_follow):
            f = rtail_follow({str(log)!r})
            open({str(log)!r}, "a").write("booting\\n")
            f.wait_for("booting", timeout=10)
            assert False, "the service did not answer"
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*rtail: last lines of followed logs*", f"{log}:", "  booting"])


def test_the_fixture_closes_its_followers_after_each_test(pytester, tmp_path):
    log = tmp_path / "svc.log"
    log.write_text("")
    pytester.makepyfile(
        f"""
        import os
        pids = []

        def test_passes(rtail_follow):
            pids.append(rtail_follow({str(log)!r})._proc.pid)
            pids.append(rtail_follow({str(log)!r})._proc.pid)
            assert all(os.path.exists(f"/proc/{{p}}") for p in pids)

        def test_fails(rtail_follow):
            pids.append(rtail_follow({str(log)!r})._proc.pid)
            assert False

        def test_every_rtail_is_gone():
            # close() waited for each one, so none is even a zombie.
            assert len(pids) == 3
            assert [p for p in pids if os.path.exists(f"/proc/{{p}}")] == []
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=2, failed=1)


def test_wait_all_waits_for_every_pattern_in_any_order(tmp_path):
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    a.write_text("")
    b.write_text("")
    with follow(a, b) as f:
        append(b, "db ready\n")
        append(a, "noise\nweb ready on 80\n")
        web, db = f.wait_all([r"web ready on (\d+)", "db ready"], timeout=10)
        assert (web[1], web.path, db.path) == ("80", str(a), str(b))
        with pytest.raises(WaitTimeout, match="'cache ready'"):
            f.wait_all(["cache ready", "web"], timeout=0.2)


def test_the_async_api_has_the_same_rules(tmp_path):
    import asyncio

    log = tmp_path / "a.log"
    log.write_text("")

    async def main():
        async with rtail.follow_async(log) as f:
            append(log, "listening on 9000\n")
            m = await f.wait_for(r"listening on (\d+)", timeout=10)
            assert m[1] == "9000"
            with pytest.raises(WaitTimeout):
                await f.wait_for("listening", timeout=0.2)
            append(log, "ERROR x\n")
            assert (await f.seen("ERROR")) is not None
            since = await f.mark()
            append(log, "db ready\nweb ready\n")
            web, db = await f.wait_all(["web ready", "db ready"], timeout=10)
            assert (web.text, db.text) == ("web ready", "db ready")
            assert (await f.seen("ERROR", since=since)) is None
            append(log, "FATAL: out of memory\n")
            with pytest.raises(LogError):
                await f.wait_for("ready", timeout=10, fail_on="FATAL")
            proc = subprocess.Popen([sys.executable, "-c", "raise SystemExit(5)"])
            with pytest.raises(ProcessExited) as err:
                await f.wait_for("ready", timeout=10, process=proc)
            assert err.value.returncode == 5

    asyncio.run(main())
    assert rtail_children() == []


def test_closing_ends_a_wait_in_another_thread(tmp_path):
    log = tmp_path / "a.log"
    log.write_text("")
    f = follow(log)
    errors = []

    def wait():
        try:
            f.wait_for("never", timeout=60)
        except RtailError as e:
            errors.append(e)

    t = threading.Thread(target=wait)
    t.start()
    f.mark()
    f.close()
    t.join(5)
    assert not t.is_alive() and len(errors) == 1


def test_a_pattern_follows_a_file_created_after_follow_returned(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    old = logs / "old.log"
    old.write_text("before follow\n")
    with follow(logs / "*.log") as f:
        new = logs / "new.log"
        new.write_text("listening on 7000\n")
        m = f.wait_for(r"listening on (\d+)", timeout=10)
        assert (m.path, m.offset, m[1]) == (str(new), 0, "7000")
        # rtail said so before the file's first line.
        assert {"event": "appeared", "path": str(new)}.items() <= f.events[-1].items()
        append(old, "and the old one\n")
        assert f.wait_for("and the old one", timeout=10).path == str(old)
        with pytest.raises(WaitTimeout) as err:
            f.wait_for("not logged", timeout=0.2)
    text = str(err.value)
    assert f"last lines of {new}:\n  listening on 7000" in text
    assert f"last lines of {old}:\n  and the old one" in text
    assert "has appeared" in text


def test_several_paths_and_patterns_in_one_follow(tmp_path):
    web, db = tmp_path / "web", tmp_path / "db"
    web.mkdir()
    app = tmp_path / "app.log"  # not there yet: waited for, as rtail -F does
    cache = str(tmp_path / "cache" / "*.log")  # nor its directory
    with follow(app, web / "*.log", str(db / "**" / "*.log"), cache) as f:
        (web / "1.log").write_text("web ready\n")
        app.write_text("app ready\n")
        (db / "main").mkdir(parents=True)
        (db / "main" / "db.log").write_text("db ready\n")
        got = f.wait_all(["app ready", "web ready", "db ready"], timeout=10)
        assert [m.path for m in got] == [str(app), str(web / "1.log"), str(db / "main" / "db.log")]
        with pytest.raises(WaitTimeout) as err:
            f.wait_for("cache ready", timeout=0.2)
        assert f.last_lines() == {
            str(app): ["app ready"],
            str(web / "1.log"): ["web ready"],
            str(db / "main" / "db.log"): ["db ready"],
            cache: [],
        }
    assert f"no file matching {cache} logged a line" in str(err.value)


def kill_later(pid, delay, when):
    """SIGKILL `pid` after `delay` seconds; `when` gets the time it was sent."""

    def kill():
        when.append(time.monotonic())
        os.kill(pid, signal.SIGKILL)

    threading.Timer(delay, kill).start()


def test_process_exit_raises_within_a_second_of_the_exit(tmp_path):
    log = tmp_path / "a.log"
    log.write_text("")
    with follow(log) as f:
        proc = subprocess.Popen(["sleep", "60"])
        killed = []
        kill_later(proc.pid, 0.3, killed)
        with pytest.raises(ProcessExited) as err:
            f.wait_for("ready", timeout=30, process=proc)
        assert time.monotonic() - killed[0] < 1.0
    assert err.value.returncode == -signal.SIGKILL
    assert f"process {proc.pid} was killed by signal 9 (SIGKILL): no line matched 'ready'" in str(err.value)


def test_a_pid_as_process_with_its_status_when_it_is_our_child(tmp_path):
    log = tmp_path / "a.log"
    log.write_text("")
    with follow(log) as f:
        child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read(); raise SystemExit(4)"],
                                 stdin=subprocess.PIPE)
        threading.Timer(0.2, child.stdin.close).start()
        with pytest.raises(ProcessExited) as err:
            f.wait_for("ready", timeout=30, process=child.pid)
        assert (err.value.pid, err.value.returncode) == (child.pid, 4)
        assert "exited with status 4" in str(err.value)
        # Its status was read without reaping it: the Popen still gets it.
        assert child.wait(timeout=5) == 4

        # Not our child (the shell's, which exited): it ended, its status is unknown.
        out = subprocess.run(["sh", "-c", "sleep 60 >/dev/null 2>&1 & echo $!"], capture_output=True, text=True, check=True)
        orphan = int(out.stdout)
        killed = []
        kill_later(orphan, 0.3, killed)
        with pytest.raises(ProcessExited) as err:
            f.wait_for("ready", timeout=30, process=orphan)
        assert time.monotonic() - killed[0] < 1.0
        assert err.value.returncode is None
        assert f"process {orphan} exited: no line matched 'ready'" in str(err.value)


def test_the_regex_is_searched_in_each_complete_line_never_in_a_partial_one(tmp_path):
    log = tmp_path / "a.log"
    log.write_text("")
    with follow(log) as f:
        with open(log, "a") as w:
            w.write("INFO listening on 80")  # still being written: no newline yet
            w.flush()
            # A reader of chunks would match "80" here; rtail keeps the line until it ends.
            with pytest.raises(WaitTimeout):
                f.wait_for(r"listening on (?P<port>\d+)$", timeout=0.5)
            w.write("80 (http)\nnext\n")
        # Anywhere in the line (re.search), not across lines.
        m = f.wait_for(r"listening on (?P<port>\d+) \((\w+)\)", timeout=10)
        assert (m.text, m["port"], m[2], m.groups(), m.groupdict()) == (
            "INFO listening on 8080 (http)",
            "8080",
            "http",
            ("8080", "http"),
            {"port": "8080"},
        )
        assert m.match.span() == (5, 29) and m.group(0) == "listening on 8080 (http)"
        with pytest.raises(WaitTimeout):
            f.wait_for(r"\(http\)\s*next", timeout=0.3)


def test_grep_and_exclude_are_rtails(tmp_path):
    log = tmp_path / "a.log"
    log.write_text("")
    with follow(log, grep=["ERROR", "WARN"], exclude="healthcheck", ignore_case=True) as f:
        append(log, "info: started\nerror: disk full\nWARN healthcheck slow\nwarn: cache cold\n")
        got = [line.text for line in f.lines(timeout=0.5)]
    assert got == ["error: disk full", "warn: cache cold"]


def test_iterating_blocks_until_the_follower_is_closed(tmp_path):
    log = tmp_path / "a.log"
    log.write_text("")
    f = follow(log)
    got = []

    def consume():
        for line in f:  # no timeout: ends only when the follower is closed
            got.append(line.text)

    t = threading.Thread(target=consume)
    t.start()
    append(log, "one\ntwo\n")
    deadline = time.monotonic() + 10
    while len(got) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert got == ["one", "two"]
    assert t.is_alive(), "the loop ended while the follower was open"
    f.close()
    t.join(5)
    assert not t.is_alive(), "closing the follower did not end the loop"


def test_a_cancelled_async_wait_takes_no_later_line(tmp_path):
    import asyncio

    log = tmp_path / "a.log"
    log.write_text("")

    async def main():
        async with rtail.follow_async(log) as f:
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(f.wait_for("ready", timeout=60), 0.2)
            # The cancelled wait's thread must not take this line (nor sit out its 60 s).
            append(log, "ready\n")
            assert (await f.wait_for("ready", timeout=10)).text == "ready"

    asyncio.run(main())
    deadline = time.monotonic() + 5
    while any(t.name == "rtail-async" for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [t for t in threading.enumerate() if t.name == "rtail-async"] == []
    assert rtail_children() == []


def test_async_iteration(tmp_path):
    import asyncio

    log = tmp_path / "a.log"
    log.write_text("")

    async def main():
        async with rtail.follow_async(log) as f:
            append(log, "one\ntwo\n")
            got = [line.text async for line in f.lines(timeout=0.5)]
            assert got == ["one", "two"]
            append(log, "three\nstop\n")
            async for line in f:
                if line.text == "stop":
                    break
                got.append(line.text)
            assert got == ["one", "two", "three"]

    asyncio.run(main())
    assert rtail_children() == []


def test_cancelling_follow_async_while_it_starts_leaves_no_rtail(tmp_path):
    import asyncio
    import shutil

    log = tmp_path / "a.log"
    log.write_text("")
    # An rtail that takes 0.5 s to start, so that the cancel comes while it does.
    slow = tmp_path / "slow-rtail"
    slow.write_text(f'#!/bin/sh\nsleep 0.5\nexec {shutil.which("rtail")} "$@"\n')
    slow.chmod(0o755)

    before = set(live_children())

    async def main():
        async def use():
            async with rtail.follow_async(log, rtail=str(slow)):
                await asyncio.sleep(60)

        task = asyncio.ensure_future(use())
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert set(live_children()) - before, "the slow rtail should still be starting"
    deadline = time.monotonic() + 5
    while set(live_children()) - before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert set(live_children()) - before == set(), "the follower started for a cancelled task was never closed"


README_EXAMPLE = re.compile(r"```python\n(from rtail import follow\n.*?)```", re.S)


@pytest.mark.parametrize("readme", ["README.md", "python/README.md"])
@pytest.mark.parametrize(
    "service, outcome",
    [
        ("print('listening on 8080', file=log, flush=True); time.sleep(60)", None),
        ("print('Traceback (most recent call last):', file=log, flush=True); time.sleep(60)", LogError),
        ("print('starting', file=log, flush=True); raise SystemExit(2)", ProcessExited),
        ("print('listening on 8080\\nERROR: no database', file=log, flush=True); time.sleep(60)", AssertionError),
    ],
    ids=["ready", "traceback", "died", "error-logged"],
)
def test_the_readme_example_runs_as_written(tmp_path, monkeypatch, readme, service, outcome):
    """The example in both READMEs, run as it is written, with a service that gets ready,
    logs a traceback, dies, or gets ready and logs an error."""
    text = (Path(__file__).resolve().parents[2] / readme).read_text(encoding="utf-8")
    found = README_EXAMPLE.search(text)
    assert found, f"no example starting with `from rtail import follow` in {readme}"
    monkeypatch.chdir(tmp_path)
    started = []

    def start_service():
        code = f"import time\nlog = open('service.log', 'a')\n{service}"
        started.append(subprocess.Popen([sys.executable, "-c", code]))
        return started[-1]

    names = {"start_service": start_service}
    try:
        if outcome is None:
            exec(compile(found.group(1), readme, "exec"), names)
            assert names["port"] == 8080
        else:
            with pytest.raises(outcome):
                exec(compile(found.group(1), readme, "exec"), names)
    finally:
        for p in started:
            p.kill()
            p.wait()
    assert rtail_children() == []


def test_every_test_the_readme_table_names_exists():
    """The README's table of what the package does points at tests in this file: each one it
    names is here, and every row names one."""
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Python: wait for a log line in a test"):]
    section = section[: section.index("\n## ")]
    rows = [r for r in section.splitlines() if r.startswith("| ") and not r.startswith("| rtail's")]
    assert len(rows) >= 8, rows
    here = {name for name in globals() if name.startswith("test_")}
    for row in rows:
        named = re.findall(r"`(test_\w+)`", row.split(" | ")[1])
        assert named, f"a row of the README's table names no test: {row}"
        assert set(named) <= here, f"not tests in {__file__}: {set(named) - here}"


FORKS = """
import gc, os, sys, time, rtail
with rtail.follow(sys.argv[1]) as f:
    child = os.fork()
    if child == 0:
        # The child's copy of the follower: closing it must not stop the parent's rtail.
        f.close()
        del f
        gc.collect()
        time.sleep(60)
        os._exit(0)
    print(f._proc.pid, child, flush=True)
    f.wait_for("after the fork", timeout=30)
    print("matched", flush=True)
    time.sleep(60)
"""


def test_a_forked_child_neither_stops_rtail_nor_keeps_it_alive(tmp_path):
    """multiprocessing's fork, pytest plugins that fork: the child holds a copy of the follower.
    The parent's rtail still works after the child closed its copy, and still ends when the
    parent is killed though the child lives on."""
    log = tmp_path / "a.log"
    log.write_text("")
    script = subprocess.Popen([sys.executable, "-c", FORKS, str(log)], stdout=subprocess.PIPE, text=True)
    rtail_pid, child = map(int, script.stdout.readline().split())
    try:
        append(log, "after the fork\n")
        assert script.stdout.readline() == "matched\n"
        script.kill()
        script.wait()
        assert alive(child)
        assert wait_until_gone(rtail_pid), "the forked child kept rtail alive after its parent was killed"
    finally:
        os.kill(child, signal.SIGKILL)


def test_lines_carry_their_time_and_multiline_records_match_whole(tmp_path):
    log = tmp_path / "app.log"
    log.write_text("")
    with follow(str(log), multiline=True) as f:
        append(
            log,
            "2026-12-01T10:00:00.250Z ERROR request failed\n"
            "Traceback (most recent call last):\n"
            '  File "app.py", line 3, in handle\n'
            "KeyError: 'user'\n"
            "2026-12-01T10:00:01Z INFO next\n",
        )
        m = f.wait_for(r"KeyError: '(\w+)'", timeout=10)
        assert m[1] == "user"
        assert m.text.startswith("2026-12-01T10:00:00.250Z ERROR request failed\nTraceback")
        assert m.text.endswith("KeyError: 'user'")
        assert m.ts == __import__("datetime").datetime(2026, 12, 1, 10, 0, 0, 250000, tzinfo=__import__("datetime").timezone.utc)
        nxt = f.wait_for(r"INFO next", timeout=10)
        assert nxt.ts is not None and nxt.ts.second == 1
    plain = tmp_path / "plain.log"
    plain.write_text("")
    with follow(str(plain)) as f:
        append(plain, "no time here\n")
        assert f.wait_for("no time", timeout=10).ts is None


def test_since_starts_at_a_time_then_follows(tmp_path):
    import datetime

    log = tmp_path / "app.log"
    log.write_text("".join(f"2026-12-01T10:{m:02}:00Z minute {m}\n" for m in range(10)))
    when = datetime.datetime(2026, 12, 1, 10, 7, tzinfo=datetime.timezone.utc)
    local = when.astimezone().replace(tzinfo=None)
    for since in ("2026-12-01T10:07:00Z", when, local):
        with follow(str(log), since=since) as f:
            assert f.wait_for(r"minute 7$", timeout=10).ts == when
            append(log, "2026-12-01T10:10:00Z minute 10\n")
            f.wait_for("minute 10", timeout=10)
            assert f.seen("minute 6") is None, since
    with pytest.raises(ValueError):
        follow(str(log), since="10m", from_start=True)


def test_lines_carry_their_number_in_the_file(tmp_path):
    log = tmp_path / "app.log"
    log.write_text("one\ntwo\nthree\n")
    with follow(str(log)) as f:
        append(log, "four\n")
        m = f.wait_for("four", timeout=10)
        assert (m.line_number, m.line.line_number) == (4, 4)
        os.rename(log, tmp_path / "app.log.1")
        log.write_text("fresh\n")
        assert f.wait_for("fresh", timeout=10).line_number == 1
    with follow(str(log), from_start=True) as f:
        assert f.wait_for("fresh", timeout=10).line_number == 1
