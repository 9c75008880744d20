#!/usr/bin/env python3
"""Benchmark the live preview as a campaigner sees it: save a file, watch headless Chromium show it.

Starts `build.py serve` on a temporary copy of the seed site (content/, templates/, static/,
site.yml), opens a news post in headless Chromium driven over the DevTools protocol, then:
  1. edits the post 10 times, waiting for each to show: edit-to-visible min/median/max;
  2. re-saves it 10 times, each the moment the previous version shows (all well inside livereload's
     3 s ignore window): how many show; then a burst of 10 saves 100 ms apart: the last must show;
  3. breaks the front matter: the overlay must appear and the server must keep serving
     (screenshots at 390 and 1280 px: /tmp/serve-overlay-*.png);
  4. fixes it: time until the fixed page shows without the overlay.
"Visible" is when the reloaded page, after DOMContentLoaded and the next animation frame,
reports its content through a DevTools binding. Usage: python bench/serve_bench.py [--posts N]
(--posts: a generated corpus of N posts, bench/corpus.py, instead of the seed; the post edited is the 8th).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from tornado.websocket import websocket_connect

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
POST = "content/news/2011-12-16-striking-workers-slaughtered-in-kazakhstan.md"
TARGET_MEDIAN_MS = 150  # issue 22: a median under 150 ms at 10,000 posts
REPORT_SCRIPT = """
addEventListener('DOMContentLoaded', function () {
  requestAnimationFrame(function () {
    var m = document.body.innerText.match(/Preview benchmark edit (\\d+)/);
    benchReport(JSON.stringify({edit: m ? +m[1] : null,
                                overlay: !!document.getElementById('placard-error-overlay')}));
  });
});
"""


class DevTools:
    """A minimal Chrome DevTools protocol client on one page target."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.next_id = 0
        self.replies: dict[int, asyncio.Future] = {}
        self.reports: asyncio.Queue = asyncio.Queue()
        self.reader = asyncio.get_running_loop().create_task(self.read())

    async def read(self) -> None:
        while (message := await self.ws.read_message()) is not None:
            data = json.loads(message)
            if "id" in data and data["id"] in self.replies:
                self.replies.pop(data["id"]).set_result(data)
            elif data.get("method") == "Runtime.bindingCalled" and data["params"]["name"] == "benchReport":
                await self.reports.put((time.perf_counter(), json.loads(data["params"]["payload"])))

    async def call(self, method: str, **params) -> dict:
        self.next_id += 1
        future = asyncio.get_running_loop().create_future()
        self.replies[self.next_id] = future
        self.ws.write_message(json.dumps({"id": self.next_id, "method": method, "params": params}))
        return await asyncio.wait_for(future, 10)

    async def wait_for(self, accept, timeout: float = 5.0) -> tuple[float, dict] | None:
        """The first page report accepted by `accept`, with the time it arrived; None on timeout."""
        deadline = time.perf_counter() + timeout
        while (left := deadline - time.perf_counter()) > 0:
            try:
                at, report = await asyncio.wait_for(self.reports.get(), left)
            except asyncio.TimeoutError:
                return None
            if accept(report):
                return at, report
        return None

    def drain(self) -> list[dict]:
        items = []
        while not self.reports.empty():
            items.append(self.reports.get_nowait()[1])
        return items


def copy_seed_site(folder: Path) -> Path:
    """A throwaway project with the seed site's sources (the repo is never touched)."""
    root = folder / "site"
    for name in ("content", "templates", "static"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy2(REPO / "site.yml", root / "site.yml")
    return root


def start_server(root: Path, log: list[str]) -> tuple[subprocess.Popen, str]:
    """`build.py serve --port 0` on the copy; returns the process and its base URL."""
    process = subprocess.Popen([sys.executable, str(REPO / "build.py"), "--root", str(root), "serve", "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in process.stdout:
        log.append(line.rstrip())
        if line.startswith("Serving the preview on"):
            serving = line  # (the reader thread below may append the next lines at once)
            break
    else:
        raise SystemExit("the server did not start:\n" + "\n".join(log))
    threading.Thread(target=lambda: [log.append(line.rstrip()) for line in process.stdout], daemon=True).start()
    address = re.search(r"http://[\d.]+:\d+/", serving)
    if address is None:
        raise SystemExit("the server gave no address:\n" + "\n".join(log))
    return process, address.group(0)


def start_chromium(profile: Path) -> tuple[subprocess.Popen, str]:
    """Headless Chromium with DevTools on a free loopback port; returns the page target's socket URL."""
    process = subprocess.Popen([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
                                f"--user-data-dir={profile}", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
                                "--window-size=1280,900", "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for line in process.stderr:
        if match := re.search(r"DevTools listening on ws://([\d.]+:\d+)/", line):
            break
    else:
        raise SystemExit("Chromium did not start")
    threading.Thread(target=lambda: [None for _ in process.stderr], daemon=True).start()
    with urllib.request.urlopen(f"http://{match.group(1)}/json/list", timeout=5) as response:
        pages = [t for t in json.load(response) if t["type"] == "page"]
    return process, pages[0]["webSocketDebuggerUrl"]


def write_post(path: Path, original: str, edit: int) -> None:
    """Save the post the way an editor does (truncate and write), with a visible marker."""
    path.write_text(original.rstrip("\n") + f"\n\nPreview benchmark edit {edit}.\n", encoding="utf-8")


async def run(root: Path, base: str, page_socket: str, server: subprocess.Popen, log: list[str], name: str = POST) -> bool:
    post = root / name
    original = post.read_text(encoding="utf-8")
    slug = re.search(r"^slug: (\S+)", original, re.M).group(1)
    page_url = f"{base}news/{slug}/"
    tools = DevTools(await websocket_connect(page_socket, max_message_size=64 * 1024 * 1024))
    await tools.call("Runtime.enable")
    await tools.call("Page.enable")
    await tools.call("Runtime.addBinding", name="benchReport")
    await tools.call("Page.addScriptToEvaluateOnNewDocument", source=REPORT_SCRIPT)
    await tools.call("Page.navigate", url=page_url)
    if not await tools.wait_for(lambda r: True, 10):
        raise SystemExit("the page did not load in Chromium")
    await asyncio.sleep(0.5)  # let livereload.js connect

    print(f"Preview at {page_url}")
    timings = []
    for edit in range(1, 11):
        tools.drain()
        saved = time.perf_counter()
        write_post(post, original, edit)
        shown = await tools.wait_for(lambda r, e=edit: r["edit"] == e)
        timings.append((shown[0] - saved) * 1000 if shown else None)
        await asyncio.sleep(0.3)
    shown_ms = [t for t in timings if t is not None]
    print(f"1. edit-to-visible over 10 edits: {len(shown_ms)}/10 shown", end="")
    if shown_ms:
        print(f"; min {min(shown_ms):.0f} ms, median {statistics.median(shown_ms):.0f} ms, max {max(shown_ms):.0f} ms"
              f" (target: median under {TARGET_MEDIAN_MS} ms)")
        print("   each: " + ", ".join(f"{t:.0f}" if t is not None else "missed" for t in timings))

    tools.drain()
    back_to_back = 0
    for edit in range(101, 111):  # each save the moment the previous one shows: all inside livereload's 3 s window
        write_post(post, original, edit)
        back_to_back += bool(await tools.wait_for(lambda r, e=edit: r["edit"] == e))
    print(f"2. rapid re-saves, each as soon as the previous one shows: {back_to_back}/10 shown")

    tools.drain()
    for edit in range(201, 211):  # a burst faster than a page can reload: the last version must win
        write_post(post, original, edit)
        await asyncio.sleep(0.1)
    last = await tools.wait_for(lambda r: r["edit"] == 210, 5)
    await asyncio.sleep(0.3)
    stale = [r for r in tools.drain() if r["edit"] != 210]
    print(f"   burst of 10 saves 100 ms apart: last version shown: {'yes' if last else 'NO'}"
          f"{'' if not stale else ' (but then replaced by an older one: STALE)'}")

    tools.drain()
    saved = time.perf_counter()
    post.write_text(original.replace('title: "', 'title: [', 1), encoding="utf-8")  # an unclosed flow sequence
    broken = await tools.wait_for(lambda r: r["overlay"], 5)
    with urllib.request.urlopen(page_url, timeout=5) as response:
        served = response.read().decode()
    alive = server.poll() is None and response.status == 200
    for width in (390, 1280):  # look at it: the overlay as campaigners see it
        await tools.call("Emulation.setDeviceMetricsOverride", width=width, height=900, deviceScaleFactor=1, mobile=width < 500)
        shot = await tools.call("Page.captureScreenshot", format="png")
        Path(f"/tmp/serve-overlay-{width}.png").write_bytes(base64.b64decode(shot["result"]["data"]))
    await tools.call("Emulation.clearDeviceMetricsOverride")
    names_file = f"{name}, line " in served
    print(f"3. broken front matter: overlay shown {'in %.0f ms' % ((broken[0] - saved) * 1000) if broken else 'NEVER'}; "
          f"server {'still serving (HTTP 200)' if alive else 'DOWN'}; overlay names the file and line: {'yes' if names_file else 'NO'}; "
          f"last good content kept: {'yes' if 'Preview benchmark edit 210' in served else 'NO'}")

    tools.drain()
    saved = time.perf_counter()
    write_post(post, original, 999)
    fixed = await tools.wait_for(lambda r: r["edit"] == 999 and not r["overlay"], 5)
    print(f"4. recovery after the fix: {'%.0f ms' % ((fixed[0] - saved) * 1000) if fixed else 'NEVER'} to show the fixed page without the overlay")

    builds = [int(m.group(1)) for line in log if (m := re.search(r"rebuilt \d+ pages in (\d+) ms", line))]
    if builds:
        print(f"   server rebuild times: min {min(builds)} ms, median {statistics.median(builds):.0f} ms, max {max(builds)} ms over {len(builds)} rebuilds")
    tools.reader.cancel()
    tools.ws.close()
    return len(shown_ms) == 10 and back_to_back == 10 and bool(last) and not stale and bool(broken) and alive and names_file and bool(fixed)


def make_corpus(folder: Path, posts: int) -> Path:
    """A throwaway project of `posts` generated posts (bench/corpus.py)."""
    root = folder / "site"
    subprocess.run([sys.executable, str(REPO / "bench" / "corpus.py"), str(posts), str(root)], check=True, stdout=subprocess.DEVNULL)
    return root


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, help="a generated corpus of this many posts instead of the seed site")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="placard-serve-bench-") as tmp:
        folder = Path(tmp)
        root = make_corpus(folder, args.posts) if args.posts else copy_seed_site(folder)
        post = "content/news/post-00008.md" if args.posts else POST
        log: list[str] = []
        started = time.perf_counter()
        server, base = start_server(root, log)
        print(f"{'%d posts' % args.posts if args.posts else 'seed site'}: serving after {time.perf_counter() - started:.1f} s"
              f" (load average {' '.join(open('/proc/loadavg').read().split()[:3])})")
        browser, page_socket = start_chromium(folder / "chromium-profile")
        try:
            ok = asyncio.run(run(root, base, page_socket, server, log, post))
        finally:
            browser.terminate()
            server.terminate()
            for process in (browser, server):
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
    print("all checks passed" if ok else "SOME CHECKS FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
