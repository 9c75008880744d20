#!/usr/bin/env python3
"""Build-time benchmark: cold, warm (nothing changed) and one-post-edit builds at N posts.

Prints median wall time, CPU time and peak memory of the largest process over several runs,
and, when Pelican is installed in bench/.venv-pelican (see requirements-pelican.txt), builds
the same corpus with Pelican in the same run and prints the ratios. Also prints the
Python-Markdown floor: converting every post with `extra` + `toc` on one and on two processes.

    .venv/bin/python bench/build_bench.py --sizes 1000 10000 --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PELICAN_PY = HERE / ".venv-pelican" / "bin" / "python"
NOW = "2026-11-26T12:00:00+00:00"

# Runs one build in a fresh process and reports wall, CPU and peak RSS (self and pool workers).
PROBE = r"""
import json, resource, sys, time
sys.path.insert(0, {repo!r})
from datetime import datetime
from pathlib import Path
from placard.pipeline import Project, build
t0 = time.perf_counter(); c0 = time.process_time()
build(Project(Path({root!r})), datetime.fromisoformat({now!r}))
wall = time.perf_counter() - t0
me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({{"wall": wall, "cpu": me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime,
                  "sys": me.ru_stime + kids.ru_stime, "peak_mb": max(me.ru_maxrss, kids.ru_maxrss) / 1024}}))
"""

# The preview server's rebuild (placard.serve.make_builder keeps the site and cache in memory):
# after a first build, one post edited, timed from the save to the new site in memory.
SERVE_PROBE = r"""
import json, sys, time
sys.path.insert(0, {repo!r})
from datetime import datetime
from pathlib import Path
from placard.pipeline import Project
from placard.serve import make_builder
now = datetime.fromisoformat({now!r})
builder = make_builder(Project(Path({root!r})), lambda: now)
builder()
post = Path({root!r}) / "content" / "news" / "post-00008.md"
original = post.read_text(encoding="utf-8")
post.write_text(original.replace("\n\n", "\n\nEdited in the preview.\n\n", 1), encoding="utf-8")
t0 = time.perf_counter(); c0 = time.process_time()
site = builder()
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
post.write_text(original, encoding="utf-8")
assert b"Edited in the preview." in site.files["news/post-00008/index.html"]
print(json.dumps({{"wall": wall, "cpu": cpu, "sys": 0, "peak_mb": 0}}))
"""

PELICAN_PROBE = r"""
import json, resource, sys, time, logging
from pelican import Pelican
from pelican.settings import read_settings
logging.disable(logging.WARNING)
settings = read_settings({conf!r}, override={{"PATH": {content!r}, "OUTPUT_PATH": {out!r}, "CACHE_PATH": {cache!r},
                                             "LOAD_CONTENT_CACHE": {cache_on}, "CACHE_CONTENT": {cache_on}}})
t0 = time.perf_counter()
Pelican(settings).run()
wall = time.perf_counter() - t0
me = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({{"wall": wall, "cpu": me.ru_utime + me.ru_stime, "sys": me.ru_stime, "peak_mb": me.ru_maxrss / 1024}}))
"""

FLOOR = r"""
import json, sys, time, glob
from concurrent.futures import ProcessPoolExecutor
import markdown
def convert(path):
    text = open(path, encoding="utf-8").read().split("---", 2)[2]
    return len(markdown.markdown(text, extensions=["extra", "toc"]))
files = sorted(glob.glob({pattern!r}))
t0 = time.perf_counter(); [convert(f) for f in files]; one = time.perf_counter() - t0
t0 = time.perf_counter()
with ProcessPoolExecutor(2) as pool: list(pool.map(convert, files, chunksize=64))
two = time.perf_counter() - t0
print(json.dumps({{"one": one, "two": two}}))
"""


def run_probe(code: str, python: str = sys.executable) -> dict:
    """Run a probe script in a fresh interpreter and return its JSON line."""
    done = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def median(runs: list[dict], key: str) -> float:
    """Median of one figure over runs."""
    return statistics.median(r[key] for r in runs)


def line(label: str, runs: list[dict]) -> str:
    """One row of the report."""
    return (f"  {label:<28} wall {median(runs, 'wall'):7.2f} s   cpu {median(runs, 'cpu'):7.2f} s (sys {median(runs, 'sys'):5.2f} s)"
            f"   peak {max(r['peak_mb'] for r in runs):6.0f} MB")


def set_aside(folder: Path, trash: Path) -> None:
    """Move a folder out of the way before a cold build, to be deleted when the benchmark ends.

    Not deleted now: on ext4 without a journal (this benchmark's VM disk), the inode allocator skips
    inodes freed in the last 60 to 300 seconds (fs/ext4/ialloc.c, recently_deleted), one check per
    inode, so a build that writes 20,000 files just after 20,000 were deleted spent 5 to 15 s of
    system time on it. No real cold build (a fresh clone) follows such a deletion."""
    if folder.exists():
        trash.mkdir(parents=True, exist_ok=True)
        os.rename(folder, trash / f"{folder.name}-{len(list(trash.iterdir()))}")


def bench_placard(root: Path, runs: int, trash: Path) -> dict[str, list[dict]]:
    """Cold, warm and one-edit builds of a placard project."""
    probe = PROBE.format(repo=str(REPO), root=str(root), now=NOW)
    results: dict[str, list[dict]] = {"cold": [], "warm": [], "edit": [], "preview": []}
    edited = root / "content" / "news" / "post-00007.md"
    original = edited.read_text(encoding="utf-8")
    for i in range(runs):
        for junk in ("output", ".cache"):
            set_aside(root / junk, trash)
        results["cold"].append(run_probe(probe))
        results["warm"].append(run_probe(probe))
        edited.write_text(original.replace("\n\n", f"\n\nEdited for run {i}.\n\n", 1), encoding="utf-8")
        results["edit"].append(run_probe(probe))
        results["preview"].append(run_probe(SERVE_PROBE.format(repo=str(REPO), root=str(root), now=NOW)))
    edited.write_text(original, encoding="utf-8")
    return results


def bench_pelican(n: int, work: Path, runs: int, trash: Path) -> dict[str, list[dict]] | None:
    """Cold, cached and one-edit builds of the same corpus with Pelican, if it is installed."""
    if not PELICAN_PY.exists():
        return None
    subprocess.run([sys.executable, str(HERE / "corpus.py"), str(n), str(work), "--pelican"], check=True)
    edited = work / "content" / "post-00007.md"
    original = edited.read_text(encoding="utf-8")
    results: dict[str, list[dict]] = {"cold": [], "warm": [], "edit": []}
    for i in range(runs):
        set_aside(work / "output", trash)
        set_aside(work / "cache", trash)
        args = dict(conf=str(work / "pelicanconf.py"), content=str(work / "content"), out=str(work / "output"), cache=str(work / "cache"))
        results["cold"].append(run_probe(PELICAN_PROBE.format(cache_on=True, **args), str(PELICAN_PY)))
        results["warm"].append(run_probe(PELICAN_PROBE.format(cache_on=True, **args), str(PELICAN_PY)))
        edited.write_text(original.replace("\n\n", f"\n\nEdited for run {i}.\n\n", 1), encoding="utf-8")
        results["edit"].append(run_probe(PELICAN_PROBE.format(cache_on=True, **args), str(PELICAN_PY)))
    edited.write_text(original, encoding="utf-8")
    return results


def main() -> None:
    """Run the benchmark and print figures and ratios."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    with tempfile.TemporaryDirectory(prefix="bench-") as work:  # deleted only once every build is timed (see set_aside)
        for n in args.sizes:
            bench_size(n, Path(work) / str(n), args.runs)


def bench_size(n: int, tmp: Path, runs: int) -> None:
    """Generate N posts, time the floor, placard and Pelican on them, and print the report."""
    root = tmp / "placard"
    subprocess.run([sys.executable, str(HERE / "corpus.py"), str(n), str(root)], check=True)
    floor = run_probe(FLOOR.format(pattern=str(root / "content" / "news" / "*.md")))
    ours = bench_placard(root, runs, tmp / "trash")
    theirs = bench_pelican(n, tmp / "pelican", runs, tmp / "trash")
    print(f"\nN = {n} posts, median of {runs} runs")
    print(f"  Python-Markdown floor        one process {floor['one']:.2f} s, two processes {floor['two']:.2f} s")
    for key, label in (("cold", "cold build"), ("warm", "nothing changed"), ("edit", "one post edited")):
        print(line(f"placard {label}", ours[key]))
        if theirs:
            print(line(f"pelican {label}", theirs[key]))
    print(f"  placard preview, one edit    wall {median(ours['preview'], 'wall'):7.2f} s   cpu {median(ours['preview'], 'cpu'):7.2f} s   (build.py serve's rebuild)")
    cold = median(ours["cold"], "wall")
    print(f"  cold / two-process floor     {cold / floor['two']:.2f}x (target <= 1.3x)")
    if theirs:
        for key in ("cold", "warm", "edit"):
            print(f"  pelican / placard {key:<10} {median(theirs[key], 'wall') / median(ours[key], 'wall'):.1f}x")
    else:
        print("  (Pelican not installed: see bench/requirements-pelican.txt)")


if __name__ == "__main__":
    main()
