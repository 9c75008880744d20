#!/usr/bin/env python3
"""Benchmark the preview's watcher: time from a save to the start of the rebuild it triggers.

Starts placard.serve.PreviewServer on a temporary copy of the seed site (content/, templates/,
static/, site.yml) with a stub build that only records when it is called, so what is measured
is the watcher and its debounce, not the build. Then, N times each, with a pause between saves
longer than any debounce limit:
  - in place: open, truncate, write, close a post (most editors);
  - atomic:   write a hidden temporary file beside the post and rename it over the post (vim, gedit);
  - site.yml: save site.yml in place.
Prints min/median/max in ms per kind and how many rebuilds each save caused (must be 1).

Usage: python bench/watch_bench.py [N] [--package-root DIR]
(--package-root: import placard from DIR instead of this checkout, to measure another version.)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
POST = "content/news/2011-12-16-striking-workers-slaughtered-in-kazakhstan.md"
PAUSE_SECONDS = 0.7  # longer than the debounce limit (0.5 s), so every save is measured alone


def copy_seed_site(folder: Path) -> Path:
    """A copy of this repository's seed site to edit."""
    root = folder / "site"
    for name in ("content", "templates", "static"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "site.yml", root / "site.yml")
    return root


def save_in_place(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def save_atomic(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


async def measure(server_class, project, saves: int) -> dict[str, tuple[list[float], list[int]]]:
    """Latencies (ms) and rebuild counts per save, for each kind of save."""
    from placard.output import Output

    calls: list[float] = []

    def build() -> Output:
        calls.append(time.perf_counter())
        output = Output()
        output.add("index.html", "<html><head></head><body></body></html>")
        return output

    server = server_class(project, build, lambda line: None)
    server.build_first()
    calls.clear()
    await server.start("127.0.0.1", 0)
    await asyncio.sleep(0.3)  # the watcher is running
    results = {}
    kinds = (("in place", project.root / POST, save_in_place), ("atomic", project.root / POST, save_atomic),
             ("site.yml", project.config_file, save_in_place))
    try:
        for kind, path, save in kinds:
            original = path.read_text(encoding="utf-8")
            latencies, counts = [], []
            for number in range(saves):
                before = len(calls)
                saved = time.perf_counter()
                save(path, original + f"\n# bench save {number}\n")
                deadline = saved + 5
                while len(calls) == before and time.perf_counter() < deadline:
                    await asyncio.sleep(0.001)
                await asyncio.sleep(PAUSE_SECONDS)
                if len(calls) > before:
                    latencies.append((calls[before] - saved) * 1000)
                counts.append(len(calls) - before)
            save_in_place(path, original)
            await asyncio.sleep(PAUSE_SECONDS)
            results[kind] = (latencies, counts)
    finally:
        await server.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("saves", nargs="?", type=int, default=30)
    parser.add_argument("--package-root", type=Path, default=REPO)
    args = parser.parse_args()
    sys.path.insert(0, str(args.package_root.resolve()))
    from placard.pipeline import Project
    from placard.serve import PreviewServer

    with tempfile.TemporaryDirectory() as folder:
        project = Project(copy_seed_site(Path(folder)))
        results = asyncio.run(measure(PreviewServer, project, args.saves))
    ok = True
    for kind, (latencies, counts) in results.items():
        missed = sum(1 for count in counts if count == 0)
        extra = sum(count - 1 for count in counts if count > 1)
        ok = ok and not missed and not extra
        shown = (f"min {min(latencies):.0f}, median {statistics.median(latencies):.0f}, max {max(latencies):.0f} ms"
                 if latencies else "no rebuild")
        print(f"{kind:9} save -> rebuild start over {len(counts)} saves: {shown}; missed {missed}, extra rebuilds {extra}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
