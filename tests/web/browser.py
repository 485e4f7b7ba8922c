"""The web view in a real browser: headless Chromium driven through WebDriver (selenium).

Run by tests/it/browser.rs with the venv's python:

    python tests/web/browser.py --rtail target/debug/rtail --out DIR [--only NAME...]

Each check starts its own `rtail --serve=0 ...`, opens the page in one shared browser and
waits for what it expects with a deadline (never a fixed sleep). Exit status 0 when every
check passed; the first failure is printed with the page's state. A screenshot of the page
with several sources, levels, colours and a filter goes to DIR/page.png.
"""

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

DEADLINE = 20  # seconds any wait may take
CHROMIUM = os.environ.get("RTAIL_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("RTAIL_CHROMEDRIVER", "/usr/bin/chromedriver")


class Rtail:
    """A running `rtail --serve=...` and the URL it printed."""

    def __init__(self, binary, args, cwd, stdin=subprocess.DEVNULL):
        self.proc = subprocess.Popen(
            [binary] + args, cwd=cwd, stdin=stdin, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True)
        self.stderr = []
        self.url = None
        ready = threading.Event()

        def read():
            for line in self.proc.stderr:
                self.stderr.append(line)
                if line.startswith("rtail: serving "):
                    self.url = line[len("rtail: serving "):].strip()
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(DEADLINE) or self.url is None:
            raise AssertionError("rtail did not say where it serves: " + "".join(self.stderr))

    def port(self):
        return int(re.search(r":(\d+)/", self.url).group(1))

    def wait(self):
        try:
            return self.proc.wait(DEADLINE)
        except subprocess.TimeoutExpired:
            raise AssertionError("rtail did not exit: " + "".join(self.stderr))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.wait()


def append(path, text):
    with open(path, "a", encoding="utf-8") as f:
        f.write(text)


def numbered(start, end, prefix="line"):
    return "".join(f"{prefix} {i}\n" for i in range(start, end))


def wait(driver, what, predicate, timeout=DEADLINE):
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.05).until(lambda d: predicate(d))
    except TimeoutException:
        raise AssertionError(f"timed out waiting for {what}; page says: "
                             + driver.execute_script("return document.getElementById('notes').textContent"))


def shown_texts(driver):
    """The text of every row shown (not filtered out), in order."""
    return driver.execute_script(
        "return [...document.querySelectorAll('#log .row:not(.hidden)')].map(r => r.textContent)")


def line_texts(driver):
    return driver.execute_script(
        "return [...document.querySelectorAll('#log .row.line:not(.hidden)')]"
        ".map(r => { const c = r.cloneNode(true); c.querySelectorAll('.src').forEach(s => s.remove());"
        " return c.textContent; })")


def at_bottom(driver):
    return driver.execute_script(
        "const l = document.getElementById('log'); return l.scrollHeight - l.scrollTop - l.clientHeight < 4")


def state(driver):
    return driver.execute_script("return document.getElementById('state').textContent")


class Proxy:
    """A TCP proxy on 127.0.0.2 (same port as rtail on 127.0.0.1, so its Host header is one
    rtail accepts) whose connections the test can cut, as a network or a proxy would."""

    def __init__(self, port):
        self.listener = socket.create_server(("127.0.0.2", port))
        self.port = port
        self.conns = []
        self.lock = threading.Lock()
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.port))
            with self.lock:
                self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self.pump, args=(a, b), daemon=True).start()

    @staticmethod
    def pump(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        with self.lock:
            conns, self.conns = self.conns, []
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass

    def close(self):
        self.listener.close()
        self.cut()


# --- the checks --------------------------------------------------------------------------------

def check_lines_appear_and_the_view_follows(ctx):
    log = os.path.join(ctx.dir, "follow.log")
    append(log, numbered(0, 5))
    r = ctx.rtail(["--serve=0", "-n", "+1", "-F", log])
    d = ctx.open(r.url)
    wait(d, "the first lines", lambda d: line_texts(d) == [f"line {i}" for i in range(5)])
    wait(d, "the live badge", lambda d: state(d) == "live")
    append(log, numbered(5, 400))
    wait(d, "appended lines", lambda d: len(line_texts(d)) == 400)
    assert line_texts(d) == [f"line {i}" for i in range(400)]
    wait(d, "the view at the newest line", at_bottom)
    r.stop()


def check_scrolling_up_pauses_and_the_button_resumes(ctx):
    log = os.path.join(ctx.dir, "pause.log")
    append(log, numbered(0, 300))
    r = ctx.rtail(["--serve=0", "-n", "+1", "-F", log])
    d = ctx.open(r.url)
    wait(d, "the lines", lambda d: len(line_texts(d)) == 300)
    d.execute_script("document.getElementById('log').scrollTop = 0")
    wait(d, "the scroll to take", lambda d: not at_bottom(d))
    append(log, numbered(300, 325))
    more = d.find_element(By.ID, "more")
    wait(d, "the new-lines button", lambda d: more.is_displayed() and "25 new lines" in more.text)
    assert d.execute_script("return document.getElementById('log').scrollTop") == 0, "the view moved while paused"
    assert len(line_texts(d)) == 325, "pausing must not hold lines back"
    more.click()
    wait(d, "the view back at the bottom", at_bottom)
    wait(d, "the button gone", lambda d: not more.is_displayed())
    append(log, numbered(325, 330))
    wait(d, "following again", lambda d: len(line_texts(d)) == 330 and at_bottom(d))
    # Scrolling up and pressing End resumes too.
    d.execute_script("document.getElementById('log').scrollTop = 0")
    append(log, numbered(330, 331))
    wait(d, "paused again", lambda d: more.is_displayed())
    d.find_element(By.TAG_NAME, "body").send_keys(Keys.END)
    wait(d, "End resumed", lambda d: at_bottom(d) and not more.is_displayed())
    r.stop()


def check_filter_exclude_highlight_and_keyboard(ctx):
    log = os.path.join(ctx.dir, "filter.log")
    append(log, "INFO start\nERROR disk full\nINFO ok\nWARN slow\nERROR again\n")
    r = ctx.rtail(["--serve=0", "-n", "+1", "-F", log])
    d = ctx.open(r.url)
    wait(d, "the lines", lambda d: len(line_texts(d)) == 5)
    d.find_element(By.TAG_NAME, "body").send_keys("/")
    assert d.switch_to.active_element == d.find_element(By.ID, "filter"), "/ focuses the filter"
    d.switch_to.active_element.send_keys("error")
    wait(d, "the filter to apply", lambda d: line_texts(d) == ["ERROR disk full", "ERROR again"])
    marks = d.execute_script("return [...document.querySelectorAll('#log .row:not(.hidden) mark')].map(m => m.textContent)")
    assert marks == ["ERROR", "ERROR"], marks
    # Lines arriving are filtered too.
    append(log, "INFO late\nERROR late\n")
    wait(d, "a matching new line", lambda d: line_texts(d)[-1:] == ["ERROR late"])
    assert "INFO late" not in line_texts(d)
    # Case toggle.
    d.find_element(By.ID, "case").click()
    wait(d, "case-sensitive: nothing matches 'error'", lambda d: line_texts(d) == [])
    d.find_element(By.ID, "case").click()
    # Regex.
    box = d.find_element(By.ID, "filter")
    box.clear()
    box.send_keys("^(WARN|INFO) s")
    d.find_element(By.ID, "regex").click()
    wait(d, "the regex", lambda d: line_texts(d) == ["INFO start", "WARN slow"])
    # Highlight only: everything shown, matches marked.
    d.find_element(By.ID, "highlight").click()
    wait(d, "highlight only", lambda d: len(line_texts(d)) == 7)
    d.find_element(By.ID, "highlight").click()
    d.find_element(By.ID, "regex").click()
    box.clear()
    wait(d, "the filter cleared", lambda d: len(line_texts(d)) == 7)
    # Exclude.
    d.find_element(By.ID, "exclude").send_keys("INFO")
    wait(d, "the exclude", lambda d: line_texts(d) == ["ERROR disk full", "WARN slow", "ERROR again", "ERROR late"])
    d.find_element(By.ID, "exclude").clear()
    wait(d, "the exclude cleared", lambda d: len(line_texts(d)) == 7)
    # Level toggles.
    d.find_element(By.CSS_SELECTOR, "#levels [data-level=info] input").click()
    wait(d, "info hidden", lambda d: all(not t.startswith("INFO") for t in line_texts(d)) and len(line_texts(d)) == 4)
    d.find_element(By.CSS_SELECTOR, "#levels [data-level=info] input").click()
    wait(d, "info back", lambda d: len(line_texts(d)) == 7)
    r.stop()


def check_log_text_is_data(ctx):
    log = os.path.join(ctx.dir, "xss.log")
    append(log, "<img src=x onerror=alert(1)>\n<script>window.pwned = 1</script>\n"
                "\x1b[31mred\x1b[0m <b>x</b>\n\x1b[1;32mbold green\x1b[0m plain\n"
                "javascript:alert(2) &lt;i&gt;\n")
    r = ctx.rtail(["--serve=0", "-n", "+1", "-F", log])
    d = ctx.open(r.url)
    wait(d, "the lines", lambda d: len(line_texts(d)) == 5)
    assert line_texts(d) == ["<img src=x onerror=alert(1)>", "<script>window.pwned = 1</script>",
                             "red <b>x</b>", "bold green plain", "javascript:alert(2) &lt;i&gt;"], line_texts(d)
    made = d.execute_script("return document.querySelectorAll('#log img, #log script, #log b, #log i, #log a').length")
    assert made == 0, f"{made} elements made from log text"
    assert d.execute_script("return window.pwned === undefined"), "a script from the log ran"
    try:
        d.switch_to.alert
        raise AssertionError("an alert opened")
    except NoAlertPresentException:
        pass
    red = d.execute_script(
        "const s = [...document.querySelectorAll('#log .row span')].find(s => s.textContent === 'red');"
        " return s && [s.className, getComputedStyle(s).color]")
    assert red and "f1" in red[0], red
    assert red[1] != d.execute_script("return getComputedStyle(document.getElementById('log')).color"), "red is not coloured"
    bold = d.execute_script(
        "const s = [...document.querySelectorAll('#log .row span')].find(s => s.textContent === 'bold green');"
        " return s && s.className")
    assert bold and "b" in bold.split() and "f2" in bold.split(), bold
    r.stop()


def check_reconnect_without_duplicate_or_gap(ctx):
    log = os.path.join(ctx.dir, "drop.log")
    append(log, numbered(0, 10))
    r = ctx.rtail(["--serve=0", "-n", "+1", "-F", log])
    proxy = Proxy(r.port())
    try:
        d = ctx.open(f"http://127.0.0.2:{r.port()}/")
        wait(d, "the lines", lambda d: len(line_texts(d)) == 10)
        wait(d, "live", lambda d: state(d) == "live")
        proxy.cut()
        append(log, numbered(10, 20))
        # The browser reconnects by itself, with Last-Event-ID.
        wait(d, "the lines written while cut off", lambda d: len(line_texts(d)) >= 20)
        wait(d, "live again", lambda d: state(d) == "live")
        proxy.cut()
        proxy.cut()
        append(log, numbered(20, 30))
        wait(d, "the next ones", lambda d: len(line_texts(d)) >= 30)
        assert line_texts(d) == [f"line {i}" for i in range(30)], line_texts(d)
    finally:
        proxy.close()
        r.stop()


def check_the_page_keeps_at_most_its_cap(ctx):
    log = os.path.join(ctx.dir, "many.log")
    append(log, numbered(0, 50_000))
    r = ctx.rtail(["--serve=0", "-n", "0", "-F", log])
    d = ctx.open(r.url)
    wait(d, "live", lambda d: state(d) == "live")
    # Written after the page connected, in bursts, as a busy log is (each one shown before the
    # next, so that the server's buffer never moves past the page: that is another check).
    for start in range(50_000, 100_000, 5_000):
        append(log, numbered(start, start + 5_000))
        last = f"line {start + 4_999}"
        wait(d, last, lambda d: d.execute_script(
            "const r = document.querySelectorAll('#log .row'); return r.length && r[r.length-1].textContent") == last)
    rows = d.execute_script("return document.querySelectorAll('#log .row').length")
    assert rows == 10_000, rows
    first = d.execute_script("return document.querySelector('#log .row').textContent")
    assert first == "line 90000", first
    notes = d.find_element(By.ID, "notes").text
    assert "40000 dropped from view" in notes, notes
    r.stop()


def check_sources_and_screenshot(ctx):
    a = os.path.join(ctx.dir, "api.log")
    b = os.path.join(ctx.dir, "worker.log")
    append(a, "2026-12-02 10:00:00 INFO api started\n2026-12-02 10:00:01 WARN slow request /users\n")
    append(b, "2026-12-02 10:00:00 DEBUG worker polling\n2026-12-02 10:00:02 ERROR job 7 failed\n"
              "\x1b[36mcyan from a coloured logger\x1b[0m done\n")
    r = ctx.rtail(["--serve=0", "-n", "+1", "-F", a, b])
    d = ctx.open(r.url)
    wait(d, "both files", lambda d: len(line_texts(d)) == 5)
    labels = d.execute_script("return [...document.querySelectorAll('#log .row .src')].map(s => s.textContent)")
    assert sorted(set(labels)) == sorted([a, b]), labels
    chooser = d.find_elements(By.CSS_SELECTOR, "#sources label")
    assert [c.text.strip() for c in chooser] == [a, b]
    chooser[1].find_element(By.TAG_NAME, "input").click()
    wait(d, "the worker hidden", lambda d: len(line_texts(d)) == 2)
    chooser[1].find_element(By.TAG_NAME, "input").click()
    wait(d, "the worker back", lambda d: len(line_texts(d)) == 5)
    append(b, "2026-12-02 10:00:03 INFO job 8 done\n")
    wait(d, "the new line", lambda d: len(line_texts(d)) == 6)
    d.save_screenshot(os.path.join(ctx.out, "page.png"))
    d.find_element(By.ID, "filter").send_keys("job")
    wait(d, "the filter", lambda d: len(line_texts(d)) == 2)
    levels = d.execute_script("return [...document.querySelectorAll('#log .row:not(.hidden) .lv-error, #log .row:not(.hidden) .lv-info')].map(s => s.textContent)")
    assert levels == ["ERROR", "INFO"], levels
    # Download: exactly the lines shown.
    d.find_element(By.ID, "download").click()
    got = wait(d, "the download", lambda d: downloaded(ctx.downloads))
    with open(got, encoding="utf-8") as f:
        assert f.read() == "2026-12-02 10:00:02 ERROR job 7 failed\n2026-12-02 10:00:03 INFO job 8 done\n"
    r.stop()


def downloaded(directory):
    done = [f for f in os.listdir(directory) if f.endswith(".log")]
    return os.path.join(directory, done[0]) if done else None


def check_stop_button_ends_rtail(ctx):
    log = os.path.join(ctx.dir, "stop.log")
    append(log, "x\n")
    r = ctx.rtail(["--serve=0", "-F", log, "--", "sleep", "1000"])
    d = ctx.open(r.url)
    wait(d, "the line", lambda d: len(line_texts(d)) == 1)
    d.find_element(By.ID, "stop").click()
    wait(d, "the confirmation", lambda d: alert_open(d))
    d.switch_to.alert.dismiss()
    assert r.proc.poll() is None, "dismissing the confirmation stopped rtail"
    d.find_element(By.ID, "stop").click()
    wait(d, "the confirmation", lambda d: alert_open(d))
    d.switch_to.alert.accept()
    assert r.wait() == 0, "".join(r.stderr)
    wait(d, "the stopped badge", lambda d: state(d) == "stopped")


COMMAND = r"""
import os, sys, time
print("\x1b[32mready\x1b[0m on 8080")
print("oops", file=sys.stderr)
while not os.path.exists("go"):
    time.sleep(0.01)
print("bye")
sys.exit(3)
"""


def check_a_commands_output_and_its_exit(ctx):
    # Python prints without flushing: only a terminal for its output makes the lines come.
    r = ctx.rtail(["--serve=0", "--", "python3", "-c", COMMAND])
    d = ctx.open(r.url)
    wait(d, "both streams", lambda d: sorted(line_texts(d)) == ["oops", "ready on 8080"])
    green = d.execute_script("return [...document.querySelectorAll('#log .row.line span')]"
                             ".filter(s => s.textContent === 'ready').map(s => getComputedStyle(s).color)")
    assert green and green[0] not in ("", "rgb(0, 0, 0)"), green
    chooser = [c.text.strip() for c in d.find_elements(By.CSS_SELECTOR, "#sources label")]
    name = "python3 -c " + COMMAND
    assert [c.split() for c in chooser] == [name.split(), (name + " (stderr)").split()], chooser
    open(os.path.join(ctx.dir, "go"), "w").close()
    wait(d, "the exit row", lambda d: any("command exited with status 3" in t for t in shown_texts(d)))
    assert r.proc.poll() is None, "rtail ended with the command: the page must stay"
    r.stop()


def check_ended_input_shows_ended(ctx):
    r = ctx.rtail(["--serve=0"], stdin=subprocess.PIPE)
    r.proc.stdin.write("one\ntwo\n")
    r.proc.stdin.close()
    d = ctx.open(r.url)
    wait(d, "ended", lambda d: state(d) == "ended" and line_texts(d) == ["one", "two"])
    r.stop()


def check_heap_stays_flat_at_10000_lines_per_second(ctx):
    log = os.path.join(ctx.dir, "rate.log")
    append(log, "")
    r = ctx.rtail(["--serve=0", "-n", "0", "-F", log])
    d = ctx.open(r.url)
    wait(d, "live", lambda d: state(d) == "live")
    heap = lambda: d.execute_script("return performance.memory.usedJSHeapSize")
    start = time.monotonic()
    written = 0
    at_10s = None
    while time.monotonic() - start < 60:
        # 10,000 lines per second, in tenths.
        due = int((time.monotonic() - start) * 10_000)
        if due > written:
            append(log, numbered(written, due, "INFO request served"))
            written = due
        if at_10s is None and time.monotonic() - start >= 10:
            d.execute_script("window.gc && window.gc()")
            at_10s = heap()
        time.sleep(0.02)
    last = f"INFO request served {written - 1}"
    wait(d, "the page to catch up", lambda d: d.execute_script(
        "const r = document.querySelectorAll('#log .row'); return r.length && r[r.length-1].textContent") == last)
    d.execute_script("window.gc && window.gc()")
    at_60s = heap()
    print(f"  heap: {at_10s / 2**20:.1f} MiB at 10 s, {at_60s / 2**20:.1f} MiB at 60 s, {written} lines")
    assert at_60s <= 2 * at_10s, f"heap grew from {at_10s} to {at_60s}"
    # Responsive: a script runs at once, and the view still follows.
    t = time.monotonic()
    d.execute_script("return 1")
    assert time.monotonic() - t < 2, "the page is not responsive"
    assert at_bottom(d)
    r.stop()


def check_serve_once_survives_a_reload_and_ends_when_the_tab_goes(ctx):
    log = os.path.join(ctx.dir, "once.log")
    append(log, "x\n")
    r = ctx.rtail(["--serve-once", "--serve=0", "-F", log])
    d = ctx.open(r.url)
    wait(d, "live", lambda d: state(d) == "live")
    d.refresh()
    wait(d, "live after the reload", lambda d: state(d) == "live" and len(line_texts(d)) == 1)
    # Longer than the grace: a reload must not have ended it.
    try:
        r.proc.wait(3.5)
        raise AssertionError("a reload ended rtail: " + "".join(r.stderr))
    except subprocess.TimeoutExpired:
        pass
    left = time.monotonic()
    d.get("about:blank")
    assert r.wait() == 0, "".join(r.stderr)
    print(f"  ended {time.monotonic() - left:.1f} s after the tab left (3 s of it the grace)")
    assert r.stderr[-1] == "rtail: the last viewer left\n", r.stderr


def alert_open(d):
    try:
        d.switch_to.alert
        return True
    except NoAlertPresentException:
        return False


CHECKS = [
    check_lines_appear_and_the_view_follows,
    check_scrolling_up_pauses_and_the_button_resumes,
    check_filter_exclude_highlight_and_keyboard,
    check_log_text_is_data,
    check_reconnect_without_duplicate_or_gap,
    check_the_page_keeps_at_most_its_cap,
    check_sources_and_screenshot,
    check_stop_button_ends_rtail,
    check_ended_input_shows_ended,
    check_a_commands_output_and_its_exit,
    check_serve_once_survives_a_reload_and_ends_when_the_tab_goes,
    check_heap_stays_flat_at_10000_lines_per_second,
]


class Context:
    def __init__(self, binary, out):
        self.binary = binary
        self.out = out
        self.dir = tempfile.mkdtemp(prefix="rtail-browser-")
        self.downloads = os.path.join(self.dir, "downloads")
        os.makedirs(self.downloads)
        self.running = []
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for arg in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                    f"--user-data-dir={os.path.join(self.dir, 'profile')}", "--window-size=1280,800",
                    "--enable-precise-memory-info", "--js-flags=--expose-gc", "--no-first-run"]:
            options.add_argument(arg)
        options.add_experimental_option("prefs", {
            "download.default_directory": self.downloads,
            "download.prompt_for_download": False,
        })
        self.driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
        self.driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": self.downloads})

    def rtail(self, args, stdin=subprocess.DEVNULL):
        r = Rtail(self.binary, args, self.dir, stdin)
        self.running.append(r)
        return r

    def open(self, url):
        self.driver.get(url)
        return self.driver

    def close(self):
        for r in self.running:
            if r.proc.poll() is None:
                r.proc.kill()
                r.proc.wait()
        self.driver.quit()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rtail", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--only", nargs="*")
    args = parser.parse_args()
    os.environ.setdefault("SE_OFFLINE", "true")
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.path.exists(path):
            print(f"missing {path}: install Debian's chromium and chromium-driver", file=sys.stderr)
            return 2
    os.makedirs(args.out, exist_ok=True)
    ctx = Context(os.path.abspath(args.rtail), args.out)
    failed = 0
    try:
        for check in CHECKS:
            if args.only and check.__name__ not in args.only:
                continue
            began = time.monotonic()
            try:
                check(ctx)
                print(f"ok   {check.__name__} ({time.monotonic() - began:.1f} s)")
            except Exception:
                failed += 1
                print(f"FAIL {check.__name__}")
                traceback.print_exc()
                try:
                    ctx.driver.save_screenshot(os.path.join(args.out, check.__name__ + ".png"))
                except Exception:
                    pass
            finally:
                for r in ctx.running:
                    if r.proc.poll() is None:
                        r.proc.kill()
                        r.proc.wait()
                ctx.running.clear()
    finally:
        ctx.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
