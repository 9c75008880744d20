#!/usr/bin/env python3
"""Where one post's edit spends its time in the search index: Pagefind itself, writing the pages into its
scratch folder, reading its bundle back, the cache of the index (digests, memos), writing output/, the rest.

Run it on a project built once already (bench/corpus.py, then build.py): each run edits one post (its body,
or with --title its title), builds it through build.py (wall, CPU of the build and every process it waited
for, peak RSS of the largest), then edits it again and builds it in-process under cProfile for the breakdown.
The post is put back as it was at the end (and built once more).

    .venv/bin/python bench/corpus.py 10000 /tmp/p10k && .venv/bin/python build.py --root /tmp/p10k --now 2026-11-26T12:00:00+00:00
    .venv/bin/python bench/search_edit_bench.py /tmp/p10k --runs 2
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
NOW = "2026-11-26T12:00:00+00:00"

PROFILED = r"""
import cProfile, json, resource, sys, time
sys.path.insert(0, {repo!r})
from placard.cli import main
profile = cProfile.Profile()
before = resource.getrusage(resource.RUSAGE_CHILDREN)
t0, c0 = time.perf_counter(), time.process_time()
profile.enable()
code = main(["build", "--root", {root!r}, "--now", {now!r}])
profile.disable()
after = resource.getrusage(resource.RUSAGE_CHILDREN)
profile.dump_stats({stats!r})
print(json.dumps({{"code": code, "wall": time.perf_counter() - t0, "cpu": time.process_time() - c0,
                  "children_cpu": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime}}))
"""


def run_timed(command: list[str]) -> dict:
    """Wall, CPU (user + system, waited-for children included) and the largest process's peak RSS of a command."""
    t0 = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr = child.stderr.read()
    _pid, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command} failed:\n{stderr.decode(errors='replace')[-2000:]}")
    return {"wall": time.perf_counter() - t0, "cpu": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024}


def find(stats: pstats.Stats, file_end: str, name: str) -> list[tuple]:
    """The profile's keys of functions named `name` in a file ending with `file_end`."""
    return [key for key in stats.stats if key[0].endswith(file_end) and key[2] == name]


def cumulative(stats: pstats.Stats, file_end: str, name: str) -> float:
    """Cumulative seconds of a function (every definition of that name in that file)."""
    return sum(stats.stats[key][3] for key in find(stats, file_end, name))


def called_from(stats: pstats.Stats, callee: tuple[str, str], caller: tuple[str, str]) -> float:
    """Cumulative seconds of callee (file end, name) when called directly by caller (file end, name)."""
    callers = {key for key in find(stats, *caller)}
    total = 0.0
    for key in find(stats, *callee):
        for who, numbers in stats.stats[key][4].items():
            if who in callers:
                total += numbers[3]
    return total


def breakdown(stats_file: str) -> dict[str, float]:
    """The search index's share of one profiled edit, in seconds."""
    stats = pstats.Stats(stats_file)
    stage = ("search.py", "build_search_index")
    found = {
        "whole build (in-process, profiled)": cumulative(stats, "cli.py", "main"),
        "search, all of it (session.search_index + reading the pages)": cumulative(stats, "pipeline.py", "add_search_index"),
        "  Pagefind's run (subprocess.run, wall)": called_from(stats, ("subprocess.py", "run"), stage),
        "  writing the pages into scratch": called_from(stats, ("pathlib.py", "write_bytes"), stage) + called_from(stats, ("pathlib.py", "mkdir"), stage),
        "  reading the bundle back": called_from(stats, ("pathlib.py", "read_bytes"), ("search.py", "<dictcomp>")),
        "  reading the indexed pages (output/, staging)": cumulative(stats, "output.py", "__getitem__"),
        "  the stage's other work (scratch folder made and removed, entry sorted)": 0.0,
        "  the session's own work (reading the pages, digests, memos)": 0.0,
        "writing output/ (write_output)": cumulative(stats, "output.py", "write_output"),
        "saving the cache (session.keep)": cumulative(stats, "session.py", "keep"),
    }
    total_stage = cumulative(stats, *stage)
    found["  the stage's other work (scratch folder made and removed, entry sorted)"] = max(0.0, total_stage - sum(
        found[k] for k in ("  Pagefind's run (subprocess.run, wall)", "  writing the pages into scratch", "  reading the bundle back")))
    session = cumulative(stats, "session.py", "search_index")
    found["  the session's own work (reading the pages, digests, memos)"] = max(0.0, session - total_stage)
    return found


def edit(post: Path, original: str, i: int, title: bool) -> None:
    """Change the post's title or its body (a new sentence), differently for every run."""
    if title:
        post.write_text(original.replace('title: "', f'title: "Edited {i} ', 1), encoding="utf-8")
    else:
        post.write_text(original.replace("\n\n", f"\n\nEdited for run {i}, a sentence about zhanaozen.\n\n", 1), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--title", action="store_true", help="edit the post's title instead of its body")
    parser.add_argument("--post", default="post-00007.md")
    parser.add_argument("--code", type=Path, default=REPO, help="the checkout whose build.py and placard/ to run (another branch, for a before/after pair)")
    args = parser.parse_args()
    code_dir = args.code.resolve()
    root = args.root.resolve()
    post = root / "content" / "news" / args.post
    original = post.read_text(encoding="utf-8")
    build = [sys.executable, str(code_dir / "build.py"), "build", "--root", str(root), "--now", NOW]
    print(f"{root} ({code_dir}): {sum(1 for _ in (root / 'content' / 'news').glob('*.md'))} posts; load average {os.getloadavg()}")
    try:
        for i in range(args.runs):
            edit(post, original, 2 * i, args.title)
            timed = run_timed(build)
            print(f"run {i}: build.py after one edit: wall {timed['wall']:.2f} s, CPU {timed['cpu']:.2f} s, "
                  f"largest process {timed['peak_mb']:.0f} MB; load {os.getloadavg()[0]:.2f}", flush=True)
            edit(post, original, 2 * i + 1, args.title)
            with tempfile.NamedTemporaryFile(suffix=".prof") as stats:
                code = PROFILED.format(repo=str(code_dir), root=str(root), now=NOW, stats=stats.name)
                done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
                totals = json.loads(done.stdout.strip().splitlines()[-1])
                print(f"run {i}: profiled edit: wall {totals['wall']:.2f} s, CPU of the build's process {totals['cpu']:.2f} s, "
                      f"of its children (Pagefind, workers) {totals['children_cpu']:.2f} s; load {os.getloadavg()[0]:.2f}")
                for label, seconds in breakdown(stats.name).items():
                    print(f"    {label:72} {seconds:7.2f} s")
    finally:
        post.write_text(original, encoding="utf-8")
        run_timed(build)


if __name__ == "__main__":
    main()
