#!/usr/bin/env python3
"""Memory of a build, process by process: runs a command and samples every process it starts
(/proc, every 20 ms) for each one's peak RSS (VmHWM) and the largest sum of RSS over all of them
at one moment (the build, its workers and Pagefind). Linux only.

    .venv/bin/python bench/corpus.py 10000 /tmp/c10k
    .venv/bin/python bench/memory_bench.py -- .venv/bin/python build.py --root /tmp/c10k
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import time
from pathlib import Path


def children_of(pid: int) -> list[int]:
    """Every descendant of a process (from /proc/<pid>/task/*/children)."""
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                kids = [int(k) for k in (task / "children").read_text().split()]
            except OSError:
                continue
            found.extend(kids)
            stack.extend(kids)
    return found


def memory_of(pid: int) -> tuple[str, int, int] | None:
    """(name, RSS, peak RSS) of a process in kB, or None once it has ended."""
    try:
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    if "VmHWM" not in fields:  # a process that has ended (a zombie) has no memory left to report
        return None
    name = fields["Name"].strip()
    if name.startswith("python") and len(cmdline) > 1:
        name = "python " + Path(cmdline[1].decode(errors="replace")).name
    return name, int(fields.get("VmRSS", "0 kB").split()[0]), int(fields.get("VmHWM", "0 kB").split()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", nargs="+")
    args = parser.parse_args()
    started = time.perf_counter()
    child = subprocess.Popen(args.command, stdout=subprocess.DEVNULL)
    peaks: dict[int, tuple[str, int]] = {}
    largest_sum = 0
    while child.poll() is None:
        total = 0
        for pid in [child.pid, *children_of(child.pid)]:
            seen = memory_of(pid)
            if seen is None:
                continue
            name, rss, hwm = seen
            total += rss
            # A child seen between fork and exec shows its parent's memory (vfork shares it): after the exec
            # (Pagefind's), a new name and a new peak.
            peaks[pid] = (name, max(hwm, peaks[pid][1]) if peaks.get(pid, ("",))[0] == name else hwm)
        largest_sum = max(largest_sum, total)
        time.sleep(0.02)
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # the command and every process it waited for
    print(f"wall {wall:.2f} s, CPU {usage.ru_utime + usage.ru_stime:.2f} s, exit {child.returncode}, "
          f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    for pid, (name, hwm) in sorted(peaks.items(), key=lambda kv: -kv[1][1])[:8]:
        print(f"  peak RSS {hwm / 1024:7.0f} MB  {name} (pid {pid})")
    print(f"  largest sum of RSS at one moment: {largest_sum / 1024:.0f} MB over {len(peaks)} processes")


if __name__ == "__main__":
    main()
