#!/usr/bin/env python3
"""The seed site plus a 12-megapixel photo in a post, as a browser loads it: bytes transferred at 390x844
(DPR 1 and 2) and 1280x900, layout shift, screenshots, and (when LIGHTHOUSE names its command) Lighthouse's
mobile scores. Built with a fixed --now, served over HTTP on loopback; the photo is generated, not downloaded.

    .venv/bin/python bench/photo_page.py /tmp/shots [--lighthouse /path/to/lighthouse]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

from photo_bench import make_photo  # noqa: E402

NOW = datetime(2011, 12, 20, 10, 0, tzinfo=timezone.utc)
POST = "content/news/2011-12-16-striking-workers-slaughtered-in-kazakhstan.md"
PAGE = "news/striking-workers-slaughtered-in-kazakhstan/"
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
CLS = """new Promise(done => { let cls = 0; new PerformanceObserver(list => { for (const e of list.getEntries())
  if (!e.hadRecentInput) cls += e.value; }).observe({type: 'layout-shift', buffered: true}); setTimeout(() => done(cls), 1500); })"""


def make_site(target: Path) -> None:
    """The seed campaign with a generated 4000x3000 JPEG at the top of one post's body, built at NOW."""
    from placard.pipeline import Project, build

    for name in ("content", "static", "templates", "site.yml"):
        (shutil.copytree if (REPO / name).is_dir() else shutil.copy)(REPO / name, target / name)
    (target / "content/news/square.jpg").write_bytes(make_photo(4000, 3000, 1))
    post = target / POST
    head, _, body = post.read_text(encoding="utf-8").partition("\n---\n")
    post.write_text(f"{head}\n---\n\n![A crowd in a town square (generated test photo)](square.jpg)\n{body}", encoding="utf-8")
    build(Project(target), NOW, use_cache=False)


def measure(url: str, shots: Path) -> None:
    """Bytes (encoded, as transferred) and layout shift per viewport, with a screenshot of each."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS[1:])
        for width, height, scale in ((390, 844, 1), (390, 844, 2), (1280, 900, 1)):
            context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=scale)
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
            sizes, urls = {}, {}
            cdp.on("Network.responseReceived", lambda event: urls.__setitem__(event["requestId"], event["response"]["url"]))
            cdp.on("Network.loadingFinished", lambda event: sizes.__setitem__(event["requestId"], event["encodedDataLength"]))
            page.goto(url, wait_until="networkidle")
            page.screenshot(path=str(shots / f"post-{width}x{height}-dpr{scale}.png"))
            page.mouse.wheel(0, 20000)  # to the end: lazy images load too
            page.wait_for_timeout(800)
            shift = page.evaluate(CLS)
            files = ", ".join(f"{urls.get(key, key).rsplit('/', 1)[-1] or 'page'} {size / 1024:.1f}"
                              for key, size in sorted(sizes.items(), key=lambda kv: -kv[1]))
            print(f"{width}x{height} DPR {scale}: {sum(sizes.values()) / 1024:.1f} KB in {len(sizes)} requests, "
                  f"layout shift {shift:.4f} ({files} KB)")
            context.close()
        browser.close()


def lighthouse(command: str, url: str, shots: Path) -> None:
    """Lighthouse's mobile run (its default): the category scores and the page's metrics."""
    report = shots / "lighthouse-post.json"
    flags = " ".join([*FLAGS, f"--user-data-dir={tempfile.mkdtemp()}"])
    subprocess.run([command, url, "--quiet", "--output=json", f"--output-path={report}", f"--chrome-flags={flags}"],
                   env={**os.environ, "CHROME_PATH": CHROMIUM}, check=True, capture_output=True)
    found = json.loads(report.read_text())
    audits = found["audits"]
    print("Lighthouse (mobile):", {name: round(c["score"] * 100) for name, c in found["categories"].items() if c["score"] is not None},
          ", ".join(f"{key} {audits[key]['displayValue']}" for key in ("largest-contentful-paint", "cumulative-layout-shift", "total-byte-weight")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("shots", type=Path, help="the folder for screenshots (and the Lighthouse report)")
    parser.add_argument("--lighthouse", help="the lighthouse command (npm's lighthouse package)")
    args = parser.parse_args()
    args.shots.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        make_site(Path(folder))
        server = subprocess.Popen([sys.executable, "-m", "http.server", "8773", "--bind", "127.0.0.1"], cwd=Path(folder) / "output",
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(1)
            url = f"http://127.0.0.1:8773/{PAGE}"
            measure(url, args.shots)
            if args.lighthouse:
                lighthouse(args.lighthouse, url, args.shots)
        finally:
            server.terminate()


if __name__ == "__main__":
    main()
