#!/usr/bin/env python3
"""Search benchmark: the Pagefind index of N posts (bench/corpus.py), its build time and size, and what a phone
fetches for one search (Chromium over HTTP, the page itself and the index's files counted separately).

    .venv/bin/python bench/search_bench.py --sizes 1000 10000 --query "zhanaozen police"
"""

from __future__ import annotations

import argparse
import functools
import http.server
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from corpus import write_placard  # noqa: E402

from placard.output import write_output  # noqa: E402
from placard.pipeline import Project, build_site  # noqa: E402
from placard.search import build_search_index  # noqa: E402
from placard.urls import path_of  # noqa: E402

NOW = datetime.fromisoformat("2026-11-26T12:00:00+00:00")


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002
        pass


def phone_fetch(folder: Path, query: str) -> tuple[int, int, int]:
    """Bytes fetched (the search page and its files; Pagefind's; requests to Pagefind) for one search, in Chromium."""
    from playwright.sync_api import sync_playwright

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sizes: list[tuple[str, int]] = []
    try:
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.on("requestfinished", lambda r: sizes.append((r.url, r.sizes()["responseBodySize"])))
            page.goto(f"http://127.0.0.1:{server.server_port}/search/")
            page.wait_for_selector("#search-input", state="visible", timeout=60000)
            page.fill("#search-input", query)
            page.wait_for_selector("#search-results li", timeout=60000)
            page.wait_for_timeout(1000)
            browser.close()
    finally:
        server.shutdown()
    engine = [(u, s) for u, s in sizes if "/pagefind/" in u]
    return sum(s for u, s in sizes if "/pagefind/" not in u), sum(s for _, s in engine), len(engine)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000])
    parser.add_argument("--query", default="zhanaozen police")
    parser.add_argument("--built", type=Path, nargs="*", default=[], help="measure only what one search fetches from these built output/ folders (say, one bundle and shards)")
    args = parser.parse_args()
    for folder in args.built:
        page_bytes, engine_bytes, requests = phone_fetch(folder, args.query)
        shards = len(list((folder / "pagefind").glob("shard-*"))) + 1
        print(f"{folder}: {shards} shard(s); the search page and its files {page_bytes / 1024:.1f} KB; Pagefind's files for "
              f"'{args.query}' {engine_bytes / 1024:.1f} KB in {requests} requests", flush=True)
    if args.built:
        return
    print("posts  pages indexed  index s of build s  bundle files  bundle KB  page KB  fetched for one search KB (requests)")
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "site"
            write_placard(n, root)
            started = time.perf_counter()
            site, output = build_site(Project(root), NOW)  # search is on by default
            build_seconds = time.perf_counter() - started
            pages = {path: output.files[path] for path in (path_of(p, site.config.language) for p in site.posts)}
            started = time.perf_counter()
            bundle = build_search_index(pages)  # the search step alone, again
            seconds = time.perf_counter() - started
            folder = Path(tmp) / "out"
            write_output(output.files, folder)
            page_bytes, engine_bytes, requests = phone_fetch(folder, args.query)
            print(f"{n:5}  {len(pages):13}  {seconds:6.1f} of {build_seconds:5.1f}  {len(bundle):12}  {sum(map(len, bundle.values())) / 1024:9.0f}"
                  f"  {page_bytes / 1024:7.1f}  {engine_bytes / 1024:.1f} ({requests})", flush=True)


if __name__ == "__main__":
    main()
