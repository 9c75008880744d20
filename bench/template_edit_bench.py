#!/usr/bin/env python3
"""Benchmark the preview after a template edit: how long until the page a browser shows is rendered
and handed to it (placard.incremental.priority), and how long until the whole site is rebuilt.

The rebuild runs in a thread, as the preview server runs it (so no worker processes are forked).
Usage: python bench/template_edit_bench.py PROJECT [RUNS]   (e.g. a project from bench/corpus.py)
Edits PROJECT/templates/base.html and puts it back after each run.
"""
import os
import shutil
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from placard.pipeline import preview_builder
from placard.project import Project
from placard.incremental.priority import Priority
root = Path(sys.argv[1]); project = Project(root)
now = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)
marks = {}
wanted = set()
pr = Priority(lambda: wanted, lambda pages: marks.setdefault("shown", time.perf_counter()), lambda: False)
build = preview_builder(project, pr)
t = time.perf_counter(); out = build(now); print("first build", round(time.perf_counter() - t, 2), "s", len(out.files), "files")
page = sorted(p for p in out.files if p.startswith("news/") and p.count("/") == 2 and p.endswith("index.html"))[5]
wanted.add(page)
base = root / "templates" / "base.html"
created = not base.exists()
if created:
    shutil.copy(Path(__file__).resolve().parent.parent / "placard/theme/templates/base.html", base)
for run in range(int(sys.argv[2]) if len(sys.argv) > 2 else 2):
    text = base.read_text(); base.write_text(text.replace("</footer>", f"<p>run {run}</p></footer>", 1) if "</footer>" in text else text)
    marks.clear()
    def go():
        t0 = time.perf_counter(); build(now); marks["t0"] = t0; marks["end"] = time.perf_counter()
    th = threading.Thread(target=go); th.start(); th.join()
    print(f"template edit {run}: page shown after {marks['shown'] - marks['t0']:.2f} s, whole site after {marks['end'] - marks['t0']:.2f} s ({page})")
    base.write_text(text)
if created:
    base.unlink()
print("load average", os.getloadavg())
