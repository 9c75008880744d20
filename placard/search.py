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

import asyncio
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

    async def run(site: Path, bundle: Path) -> None:
        # Leaving the context writes the bundle to `output_path` (a relative default would be the process's folder).
        config = IndexConfig(root_selector="main", exclude_selectors=["thead", "nav", ".entity-page > p.meta:first-child"],
                             write_playground=False, output_path=str(bundle))
        async with PagefindIndex(config) as index:
            await index.add_directory(str(site), glob="**/*.html")

    with tempfile.TemporaryDirectory(prefix="placard-search-") as folder:
        site, bundle = Path(folder) / "site", Path(folder) / "bundle"
        for path, data in sorted(pages.items()):
            file = site / path
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_bytes(data)
        try:
            asyncio.run(run(site, bundle))
        except Exception as exc:  # the Pagefind service's own errors (a missing binary, a crash)
            raise SearchUnavailable(f"Pagefind could not build the search index ({type(exc).__name__}: {exc}); "
                                    "reinstall it with `pip install -r requirements.txt`, or set 'search: false' in site.yml") from None
        return {f"{SEARCH_DIR}/{file.relative_to(bundle).as_posix()}": file.read_bytes()
                for file in sorted(bundle.rglob("*")) if file.is_file() and is_kept(file.relative_to(bundle).as_posix())}
