"""Search stage: a Pagefind index of the site's item and entity pages, one per language, built at build time.

Pagefind (pagefind.app, PyPI `pagefind[bin]`) reads the pages' HTML and writes a static bundle: a small
script, a WebAssembly search engine per language and the index split into chunks that a browser fetches
only for the words searched, from the site itself (no other host). Each page's `<html lang>` picks its
language's index, so a search from the Russian search page finds Russian pages.

The pages are copied into a temporary folder for Pagefind to read, and the bundle comes back in memory;
only a complete bundle reaches the build's Output (never a half-written output/). Drafts and held-back items are not in the
Output, so they are never indexed.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path

SEARCH_DIR = "pagefind"  # the bundle's folder in the site
# What the site's own search script needs; Pagefind's ready-made interfaces (its UI scripts and
# stylesheets, ~400 KB) are left out: the search page is styled like the rest of the site.
KEPT = ("pagefind.js", "pagefind-worker.js", "pagefind-entry.json", ".pf_meta", ".pagefind", "fragment/", "index/", "filter/")


class SearchUnavailable(Exception):
    """Pagefind could not run (not installed, or it failed); the message says what to do."""


def is_kept(name: str) -> bool:
    """Whether a file of Pagefind's bundle is published."""
    return name in KEPT[:3] or name.endswith(KEPT[3:5]) or name.startswith(KEPT[5:])


def build_search_index(pages: dict[str, bytes]) -> dict[str, bytes]:
    """Pagefind's bundle (path in the site -> bytes) for these HTML pages (path -> bytes), indexing each page's <main>."""
    try:
        from pagefind.index import IndexConfig, PagefindIndex
    except ImportError:
        raise SearchUnavailable("the search index needs Pagefind: run `pip install -r requirements.txt`, or set 'search: false' in site.yml") from None

    async def run(site: Path, spare: Path) -> dict[str, bytes]:
        # The bundle comes back through Pagefind's pipe (get_files), complete: files it writes to disk may be cut
        # short when its process is stopped. Leaving the context writes a copy anyway, into `spare` (thrown away).
        config = IndexConfig(root_selector="main", exclude_selectors=["thead", "nav", ".entity-page > p.meta:first-child"],
                             write_playground=False, output_path=str(spare))
        async with PagefindIndex(config) as index:
            await index.add_directory(str(site), glob="**/*.html")
            return {file["path"]: file["content"] for file in await index.get_files()}

    with tempfile.TemporaryDirectory(prefix="placard-search-") as folder:
        site, bundle = Path(folder) / "site", Path(folder) / "bundle"
        for path, data in sorted(pages.items()):
            file = site / path
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_bytes(data)
        try:
            files = asyncio.run(run(site, bundle))
        except Exception as exc:  # the Pagefind service's own errors (a missing binary, a crash)
            raise SearchUnavailable(f"Pagefind could not build the search index ({type(exc).__name__}: {exc}); "
                                    "reinstall it with `pip install -r requirements.txt`, or set 'search: false' in site.yml") from None
        return {f"{SEARCH_DIR}/{path}": canonical(path, files[path]) for path in sorted(files) if is_kept(path)}


def canonical(path: str, data: bytes) -> bytes:
    """The file as published: pagefind-entry.json with its keys sorted (Pagefind writes its languages in hash-map
    order, which differs from run to run; builds must be byte-identical), every other file as Pagefind made it."""
    if path != "pagefind-entry.json":
        return data
    return json.dumps(json.loads(data), sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
