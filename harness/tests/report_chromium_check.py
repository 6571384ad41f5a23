#!/usr/bin/python3
"""Load a nozero-bench report page in headless Chromium and check it as a reader would.

Drives Debian's /usr/bin/chromium through the DevTools protocol over a pipe
(--remote-debugging-pipe), with a fresh profile and no network features. Fails
when the page logs a console error or an exception, when it requests anything but
file: or data: URLs, or when an expected plot is missing or its image does not
decode. Keeps a PNG screenshot of the whole page.

    report_chromium_check.py PAGE.html --screenshot OUT.png --expect-plot ratios ...
"""

import argparse
import base64
import json
import os
import pathlib
import select
import shutil
import subprocess
import sys
import tempfile
import time

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--remote-debugging-pipe", "--enable-logging=stderr", "--v=0"]


class Browser:
    """A Chromium process spoken to with DevTools messages, NUL-terminated, on fds 3 and 4."""

    def __init__(self, chromium, profile_dir, log_path, timeout_s):
        to_browser_read, self.to_browser = os.pipe()
        self.from_browser, from_browser_write = os.pipe()

        def wire_pipes():
            # Copy both ends to fresh numbers first: a pipe end may already be fd 3 or 4,
            # and dup2 onto itself would keep its close-on-exec flag.
            read_end = os.dup(to_browser_read)
            write_end = os.dup(from_browser_write)
            os.dup2(read_end, 3)
            os.dup2(write_end, 4)

        self.log = open(log_path, "wb")
        self.process = subprocess.Popen(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile_dir}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
            # close_fds would run after wire_pipes and close fds 3 and 4 again.
            close_fds=False, preexec_fn=wire_pipes)
        os.close(to_browser_read)
        os.close(from_browser_write)
        self.deadline = time.monotonic() + timeout_s
        self.buffer = b""
        self.next_id = 0
        self.events = []

    def send(self, method, params=None, session=None):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.to_browser, json.dumps(message).encode() + b"\0")
        return self.wait_for(lambda m: m.get("id") == self.next_id, f"the reply to {method}")

    def receive(self):
        while b"\0" not in self.buffer:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("Chromium did not answer in time")
            ready, _, _ = select.select([self.from_browser], [], [], remaining)
            if ready:
                chunk = os.read(self.from_browser, 1 << 20)
                if not chunk:
                    raise RuntimeError("Chromium closed the DevTools pipe")
                self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def wait_for(self, matches, what):
        while True:
            message = self.receive()
            if "id" not in message:
                self.events.append(message)
            if matches(message):
                if "error" in message:
                    raise RuntimeError(f"{what}: {message['error']}")
                return message

    def close(self):
        try:
            os.write(self.to_browser, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
            self.process.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()
        self.log.close()


# The page's plots: id, whether the image decoded, and its size in pixels.
PLOTS_SCRIPT = """JSON.stringify(Array.from(document.querySelectorAll('figure.plot')).map(f => {
  const img = f.querySelector('img');
  return {id: f.dataset.plot, complete: !!img && img.complete, width: img ? img.naturalWidth : 0,
          height: img ? img.naturalHeight : 0, src: img ? img.src.slice(0, 22) : ''};
}))"""


def check_page(page, screenshot, expected_plots, chromium, timeout_s):
    failures = []
    with tempfile.TemporaryDirectory(prefix="nozero-chromium-") as profile:
        log_path = pathlib.Path(screenshot).with_suffix(".chromium.log")
        browser = Browser(chromium, profile, log_path, timeout_s)
        try:
            target = browser.send("Target.createTarget", {"url": "about:blank"})["result"]["targetId"]
            session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["result"]["sessionId"]
            for domain in ("Runtime", "Log", "Page", "Network"):
                browser.send(f"{domain}.enable", session=session)
            browser.send("Emulation.setDeviceMetricsOverride",
                         {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session=session)
            url = pathlib.Path(page).resolve().as_uri()
            browser.send("Page.navigate", {"url": url}, session=session)
            browser.wait_for(lambda m: m.get("method") == "Page.loadEventFired", "the page's load event")

            plots = json.loads(browser.send("Runtime.evaluate", {"expression": PLOTS_SCRIPT, "returnByValue": True},
                                            session=session)["result"]["result"]["value"])
            metrics = browser.send("Page.getLayoutMetrics", session=session)["result"]
            size = metrics.get("cssContentSize") or metrics["contentSize"]
            shot = browser.send("Page.captureScreenshot",
                                {"format": "png", "captureBeyondViewport": True,
                                 "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"],
                                          "scale": 1}}, session=session)["result"]["data"]
            pathlib.Path(screenshot).write_bytes(base64.b64decode(shot))
        finally:
            browser.close()

    for event in browser.events:
        method = event.get("method")
        params = event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            failures.append(f"console error: {params.get('args')}")
        elif method == "Runtime.exceptionThrown":
            failures.append(f"exception: {params['exceptionDetails'].get('text')}")
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            failures.append(f"browser log error: {params['entry'].get('text')} ({params['entry'].get('url', '')})")
        elif method == "Network.requestWillBeSent":
            request_url = params["request"]["url"]
            if not request_url.startswith(("file:", "data:")):
                failures.append(f"network request: {request_url} (the page must be self-contained)")

    found = {plot["id"]: plot for plot in plots}
    for plot_id in expected_plots:
        plot = found.get(plot_id)
        if plot is None:
            failures.append(f"plot {plot_id} is missing; the page has {sorted(found)}")
        elif not (plot["complete"] and plot["width"] > 100 and plot["height"] > 100):
            failures.append(f"plot {plot_id} did not decode: {plot}")
        elif plot["src"] != "data:image/png;base64,":
            failures.append(f"plot {plot_id} is not an embedded PNG: {plot['src']}")
    return failures, plots


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", help="the HTML file to load")
    parser.add_argument("--screenshot", required=True, help="PNG file to keep the screenshot in")
    parser.add_argument("--expect-plot", action="append", default=[], help="a plot id that must be present")
    parser.add_argument("--min-plots", type=int, default=1, help="fail when the page has fewer plots")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--timeout", type=float, default=120, help="seconds for the whole check")
    arguments = parser.parse_args()

    if not shutil.which(arguments.chromium):
        print(f"error: {arguments.chromium} not found; install Debian's chromium package (scripts/install-deps)",
              file=sys.stderr)
        return 2
    failures, plots = check_page(arguments.page, arguments.screenshot, arguments.expect_plot,
                                 arguments.chromium, arguments.timeout)
    if len(plots) < arguments.min_plots:
        failures.append(f"the page has {len(plots)} plots, expected at least {arguments.min_plots}")
    for plot in plots:
        print(f"plot {plot['id']}: {plot['width']}x{plot['height']} px")
    print(f"screenshot: {arguments.screenshot}")
    for failure in failures:
        print(f"FAIL: {failure}")
    print("PASS: no console errors, no network requests, every expected plot decoded" if not failures
          else f"{len(failures)} problem(s) found")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
