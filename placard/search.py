"""Search stage: a Pagefind index of the site's item and entity pages, one per language, built at build time.

Pagefind (pagefind.app, PyPI `pagefind[bin]`) reads the pages' HTML and writes a static bundle: a small
script, a WebAssembly search engine per language and the index split into chunks that a browser fetches
only for the words searched, from the site itself (no other host). Each page's `<html lang>` picks its
language's index, so a search from the Russian search page finds Russian pages.

The pages are copied into a temporary folder and the bundle written into another; only complete bundles
reach the build's Output (never a half-written output/). Drafts and held-back items are not in the
Output, so they are never indexed.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

SEARCH_DIR = "pagefind"  # the bundle's folder in the site
# What the site's own search script needs; Pagefind's ready-made interfaces (its UI scripts and
# stylesheets, ~400 KB) are left out: the search page is styled like the rest of the site.
KEPT = ("pagefind.js", "pagefind-worker.js", "pagefind-entry.json", ".pf_meta", ".pagefind", "fragment/", "index/", "filter/")


RAM_FOLDERS = ("/dev/shm",)  # Linux's memory-backed file system, where there is one


def scratch_folder(needed: int, candidates: tuple[str, ...] = RAM_FOLDERS) -> str | None:
    """A folder in memory with room for `needed` bytes (and as much again to spare), else None (the
    system's temporary folder). Pagefind's input and output are thousands of small files written once
    and read once: on the disk, at 2,000 posts, writing and reading them took twice as long as Pagefind
    itself (10.8 s in all, against 3.4 s in /dev/shm), the more so as the last build's deleted files
    slow down the next one's on ext4 (see docs/performance.md, "Measuring")."""
    for folder in candidates:
        try:
            info = os.statvfs(folder)
        except OSError:
            continue
        if os.access(folder, os.W_OK | os.X_OK) and info.f_bavail * info.f_frsize >= 2 * needed:
            return folder
    return None


class SearchUnavailable(Exception):
    """Pagefind could not run (not installed, or it failed); the message says what to do."""


def is_kept(name: str) -> bool:
    """Whether a file of Pagefind's bundle is published."""
    return name in KEPT[:3] or name.endswith(KEPT[3:5]) or name.startswith(KEPT[5:])


def build_search_index(pages: Mapping[str, bytes]) -> dict[str, bytes]:
    """Pagefind's bundle (path in the site -> bytes) for these HTML pages (path -> bytes, read one at a time), indexing each page's <main>."""
    try:
        from pagefind_bin import get_executable
        program = str(get_executable())
    except (ImportError, OSError, FileNotFoundError):
        raise SearchUnavailable("the search index needs Pagefind: run `pip install -r requirements.txt`, or set 'search: false' in site.yml") from None
    if not any(path.endswith(".html") for path in pages):
        return {}  # nothing to index (Pagefind refuses an empty site): the search page says no results
    needed = 300_000 * len(pages)  # the pages and the bundle (about 0.4 of them): 3 times a page of 100 KB, the largest in the corpus being 30 KB
    with tempfile.TemporaryDirectory(prefix="placard-search-", dir=scratch_folder(needed)) as folder:
        site, bundle = Path(folder) / "site", Path(folder) / "bundle"
        for path, data in sorted(pages.items()):
            file = site / path
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_bytes(data)
        # Pagefind's command, not its Python service: the service (1.5.2) answers "written" while its writes
        # may still be in flight and is then stopped, leaving files cut short under load (Pagefind issue
        # #1271, fixed by PR #1272, not released yet); the command's exit waits for every write.
        command = [program, "--site", str(site), "--output-path", str(bundle), "--root-selector", "main",
                   "--exclude-selectors", "thead", "--exclude-selectors", "nav",
                   "--exclude-selectors", ".entity-page > p.meta:first-child", "--silent"]
        try:
            run = subprocess.run(command, capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SearchUnavailable(f"Pagefind could not build the search index ({exc}); reinstall it with "
                                    "`pip install -r requirements.txt`, or set 'search: false' in site.yml") from None
        if run.returncode != 0:
            raise SearchUnavailable(f"Pagefind could not build the search index ({(run.stderr or run.stdout).strip()[:300]}); "
                                    "reinstall it with `pip install -r requirements.txt`, or set 'search: false' in site.yml")
        files = {f"{SEARCH_DIR}/{file.relative_to(bundle).as_posix()}": file.read_bytes()
                 for file in sorted(bundle.rglob("*")) if file.is_file() and is_kept(file.relative_to(bundle).as_posix())}
        entry = f"{SEARCH_DIR}/pagefind-entry.json"
        if entry in files:  # Pagefind lists the languages in hash-map order, different on every run: sorted, the same input gives the same bytes
            data = json.loads(files[entry])
            data["languages"] = dict(sorted(data.get("languages", {}).items()))
            files[entry] = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return files
