#!/usr/bin/env python3
"""Build-time benchmark: cold, nothing-changed and one-post-edit builds at N posts, placard beside its peers.

Builds the same generated corpus (bench/corpus.py) with placard's build.py and with every peer that is
installed (Hugo, Eleventy, Pelican: bench/peers.py; how to install them: docs/performance.md), in turn,
run after run, so the machine's load falls on each alike. Prints, per scenario, each tool's median wall
time with min-max, CPU time (user + system, workers included), peak RSS of its largest process, and the
peer/placard ratio of each pair of runs; the load average before, during and after. Also prints the
Python-Markdown floor (every post converted with `extra` + `toc`, on one and on two processes), the
preview's rebuild after one edit, and the preview's save -> visible in headless Chromium (bench/serve_bench.py
--posts N, when Debian's chromium is installed).

    .venv/bin/python bench/build_bench.py --sizes 1000 10000 --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from peers import Peer, installed_peers, missing_peers

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
NOW = "2026-11-26T12:00:00+00:00"

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



def run_timed(command: list[str], cwd: Path) -> dict:
    """Run a build command; its wall time, CPU time (user + system of it and every process it waited for),
    system time and peak RSS of its largest process (wait4's rusage, as GNU time reports it)."""
    t0 = time.perf_counter()
    child = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr = child.stderr.read()
    _pid, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - t0
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{command[0]} failed in {cwd} ({child.returncode}):\n{stderr.decode(errors='replace')[-2000:]}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "sys": usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024}


def set_aside(folder: Path, trash: Path) -> None:
    """Move a folder out of the way before a cold build, to be deleted when the benchmark ends.

    Not deleted now: on ext4 without a journal (this benchmark's VM disk), the inode allocator skips
    inodes freed in the last 60 to 300 seconds (fs/ext4/ialloc.c, recently_deleted), one check per
    inode, so a build that writes 20,000 files just after 20,000 were deleted spent 5 to 15 s of
    system time on it. No real cold build (a fresh clone) follows such a deletion."""
    if folder.exists():
        trash.mkdir(parents=True, exist_ok=True)
        os.rename(folder, trash / f"{folder.name}-{len(list(trash.iterdir()))}")


def placard_peer(root: Path) -> Peer:
    """placard itself, through build.py as a campaigner runs it (start-up and imports included)."""
    return Peer("placard", root, (sys.executable, str(REPO / "build.py"), "--root", str(root), "--now", NOW),
                root / "content" / "news" / "post-00007.md", ("output", ".cache"))


SCENARIOS = (("cold", "cold build"), ("warm", "nothing changed"), ("edit", "one post edited"))


def bench_paired(tools: list[Peer], runs: int, trash: Path) -> dict[str, dict[str, list[dict]]]:
    """Each scenario, each tool in turn (placard first), `runs` times: cold (output and cache set aside),
    nothing changed, then one post edited. Interleaved so that the machine's load falls on every tool alike."""
    results = {tool.name: {key: [] for key, _ in SCENARIOS} for tool in tools}
    originals = {tool.name: tool.edited.read_text(encoding="utf-8") for tool in tools}
    try:
        for i in range(runs):
            for tool in tools:
                for junk in tool.outputs:
                    set_aside(tool.root / junk, trash / tool.name)
            for key, _label in SCENARIOS:
                for tool in tools:
                    if key == "edit":
                        tool.edited.write_text(originals[tool.name].replace("\n\n", f"\n\nEdited for run {i}.\n\n", 1), encoding="utf-8")
                    results[tool.name][key].append(run_timed(list(tool.command), tool.root))
    finally:
        for tool in tools:
            tool.edited.write_text(originals[tool.name], encoding="utf-8")
    return results


def spread(values: list[float], unit: str = " s", digits: int = 2) -> str:
    """Median with min-max."""
    return f"{statistics.median(values):.{digits}f}{unit} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def report_size(n: int, runs: int, floor: dict, results: dict, preview: list[dict], missing: list[str]) -> None:
    """The table for one corpus size: every tool's wall, CPU, peak RSS, and peer/placard ratios of paired runs."""
    print(f"\nN = {n} posts, {runs} paired runs (median (min-max)); load average now {load()}")
    print(f"  Python-Markdown floor: one process {floor['one']:.2f} s, two processes {floor['two']:.2f} s")
    ours = results["placard"]
    for key, label in SCENARIOS:
        print(f"  {label}")
        for name, runs_of in results.items():
            done = runs_of[key]
            ratio = ""
            if name != "placard":
                ratios = [peer["wall"] / own["wall"] for peer, own in zip(done, ours[key])]
                ratio = f"   wall {name}/placard {spread(ratios, 'x')}"
            print(f"    {name:<9} wall {spread([r['wall'] for r in done])}   cpu {spread([r['cpu'] for r in done])}"
                  f" (sys {statistics.median(r['sys'] for r in done):.2f} s)   peak RSS {max(r['peak_mb'] for r in done):.0f} MB{ratio}")
    print(f"  placard preview, one edit: wall {spread([r['wall'] for r in preview])}   (build.py serve's rebuild, in its process)")
    print(f"  placard cold / two-process floor: {statistics.median(r['wall'] for r in ours['cold']) / floor['two']:.2f}x")
    for name in missing:
        print(f"  (not installed: {name})")


def bench_size(n: int, tmp: Path, runs: int) -> None:
    """Generate N posts for placard and every installed peer, time them in turn, and print the report."""
    root = tmp / "placard"
    subprocess.run([sys.executable, str(HERE / "corpus.py"), str(n), str(root)], check=True)
    floor = run_probe(FLOOR.format(pattern=str(root / "content" / "news" / "*.md")))
    tools = [placard_peer(root), *installed_peers(n, tmp)]
    results = bench_paired(tools, runs, tmp / "trash")
    preview = [run_probe(SERVE_PROBE.format(repo=str(REPO), root=str(root), now=NOW)) for _ in range(runs)]
    report_size(n, runs, floor, results, preview, missing_peers())
    print(f"  placard preview, save -> visible in Chromium: {browser_probe(n)}")


def browser_probe(n: int) -> str:
    """bench/serve_bench.py on N generated posts: 10 saves of one post, each until Chromium shows it (its line 1)."""
    if not Path("/usr/bin/chromium").exists():
        return "not measured (apt-get install chromium)"
    done = subprocess.run([sys.executable, str(HERE / "serve_bench.py"), "--posts", str(n)], capture_output=True, text=True)
    shown = re.search(r"1\. edit-to-visible over 10 edits: (\d+)/10 shown; min (\d+) ms, median (\d+) ms, max (\d+) ms", done.stdout)
    if shown is None:
        said = (done.stdout + done.stderr).strip().splitlines()
        return "not measured: " + (said[-1] if said else f"serve_bench.py ended with {done.returncode}")
    return f"median {shown[3]} ms ({shown[2]}-{shown[4]}), {shown[1]}/10 saves shown (bench/serve_bench.py --posts {n}, its own checks: {done.stdout.strip().splitlines()[-1]})"


def main() -> None:
    """Run the benchmark and print figures and ratios."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, help="where to write the corpora (default: a temporary folder, deleted after)")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {load()}")
    if args.work is not None:
        args.work.mkdir(parents=True, exist_ok=True)  # (a folder named there that does not exist yet)
    with tempfile.TemporaryDirectory(prefix="bench-", dir=args.work) as work:  # deleted only once every build is timed (see set_aside)
        for n in args.sizes:
            bench_size(n, Path(work) / str(n), args.runs)
    print(f"\nload average at the end {load()}")


if __name__ == "__main__":
    main()
