"""Search stage: a Pagefind index of the site's item and entity pages, one per language, built at build time.

Pagefind (pagefind.app, PyPI `pagefind[bin]`) reads the pages' HTML and writes a static bundle: a small
script, a WebAssembly search engine per language and the index split into chunks that a browser fetches
only for the words searched, from the site itself (no other host). Each page's `<html lang>` picks its
language's index, so a search from the Russian search page finds Russian pages.

The pages are copied into a temporary folder and the bundle written into another; only complete bundles
reach the build's Output (never a half-written output/). Drafts and held-back items are not in the
Output, so they are never indexed.

A large site's index is split into SHARDS, each a bundle of its own that Pagefind builds alone, so that one
edited page costs one shard's run (and Pagefind's memory is one shard's): a page's shard is fixed by a hash
of its path, per language, into a power of two of buckets chosen from that language's page count (it
changes only when the count doubles past SHARD_PAGES). The first shard, `pagefind/`, holds the engine (its
script, worker and WebAssembly); the others, `pagefind/shard-N/`, only their index, which the search page
adds with Pagefind's `mergeIndex` (the engine is loaded once). A site of up to SHARD_PAGES pages in every
language has one bundle, exactly as without shards.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

SEARCH_DIR = "pagefind"  # the bundle's folder in the site
# What the site's own search script needs; Pagefind's ready-made interfaces (its UI scripts and
# stylesheets, ~400 KB) are left out: the search page is styled like the rest of the site.
KEPT = ("pagefind.js", "pagefind-worker.js", "pagefind-entry.json", ".pf_meta", ".pagefind", "fragment/", "index/", "filter/")
ENGINE = ("pagefind.js", "pagefind-worker.js", ".pagefind")  # the engine, published once, in the first shard: the others' are never loaded
SHARD_PAGES = 2000  # pages of one language up to which its index is one bundle: a shard of 1,000 to 2,000 pages (see docs/performance.md, "The search index")


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


def is_kept(name: str, engine: bool = True) -> bool:
    """Whether a file of Pagefind's bundle is published (the engine's files only in the first shard's)."""
    if not engine and (name in ENGINE[:2] or name.endswith(ENGINE[2])):
        return False
    return name in KEPT[:3] or name.endswith(KEPT[3:5]) or name.startswith(KEPT[5:])


@dataclass(frozen=True)
class Shard:
    """One bundle of the index: its folder in the site and the pages it indexes, with their languages."""

    folder: str  # SEARCH_DIR (the first: the engine too) or SEARCH_DIR/shard-N
    paths: tuple[str, ...]
    languages: tuple[str, ...]


def shard_count(pages: int, per_shard: int = SHARD_PAGES) -> int:
    """How many buckets a language's pages go into: 1 up to `per_shard` pages, else the smallest power of two
    that keeps them at `per_shard` or fewer on average (so the count changes only when the pages double)."""
    count = 1
    while pages > count * per_shard:
        count *= 2
    return count


def bucket_of(path: str, count: int) -> int:
    """A page's bucket: a hash of its path (the same on every machine and run), so a page stays in its shard as others come and go."""
    return int.from_bytes(hashlib.blake2b(path.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big") % count


def plan_shards(languages: Mapping[str, str], per_shard: int = SHARD_PAGES) -> list[Shard]:
    """The shards of the index for these pages (path -> language): bucket N of every language is shard N;
    the first non-empty one is SEARCH_DIR itself."""
    counts = {lang: shard_count(n, per_shard) for lang, n in Counter(languages.values()).items()}
    buckets: dict[int, list[str]] = defaultdict(list)
    for path, lang in languages.items():
        buckets[bucket_of(path, counts[lang])].append(path)
    numbers = sorted(buckets)
    return [Shard(SEARCH_DIR if number == numbers[0] else f"{SEARCH_DIR}/shard-{number}", tuple(sorted(buckets[number])),
                  tuple(sorted({languages[path] for path in buckets[number]}))) for number in numbers]


class Subset(Mapping):
    """Some of a mapping's entries (a shard's pages), read from it only when asked for."""

    def __init__(self, pages: Mapping[str, bytes], paths: tuple[str, ...]) -> None:
        self.pages, self.paths, self.known = pages, paths, frozenset(paths)

    def __getitem__(self, path: str) -> bytes:
        if path not in self.known:
            raise KeyError(path)
        return self.pages[path]

    def __iter__(self) -> Iterator[str]:
        return iter(self.paths)

    def __len__(self) -> int:
        return len(self.paths)


def join_shards(shards: list[Shard], bundles: Mapping[str, dict[str, bytes]]) -> dict[str, bytes]:
    """The shards' bundles (folder -> files) as one set of files; with more than one shard, the engine's script
    also names, per language, the other shards' folders (relative to its own) for the search page to merge."""
    return name_shards({path: data for shard in shards for path, data in bundles[shard.folder].items()}, shards)


def name_shards(files: dict[str, bytes], shards: list[Shard]) -> dict[str, bytes]:
    """The first shard's files (or all), its engine's script naming the other shards (see join_shards)."""
    script = f"{SEARCH_DIR}/pagefind.js"
    if len(shards) > 1 and script in files:
        merged = {lang: [shard.folder[len(SEARCH_DIR) + 1:] + "/" for shard in shards[1:] if lang in shard.languages]
                  for lang in sorted({lang for shard in shards for lang in shard.languages})}
        # An ES module may export more than once: search.js reads this as the module's `placardShards`.
        files[script] += b"\nexport const placardShards = " + json.dumps(merged, separators=(",", ":")).encode("utf-8") + b";\n"
    return files


def build_shards(pages: Mapping[str, bytes], languages: Mapping[str, str], per_shard: int = SHARD_PAGES,
                 index: Callable[[Mapping[str, bytes], str], dict[str, bytes]] | None = None) -> dict[str, bytes]:
    """The whole index, every shard built in turn by `index` (build_search_index), one Pagefind at a time."""
    index = index or build_search_index
    shards = plan_shards(languages, per_shard)
    return join_shards(shards, {shard.folder: index(Subset(pages, shard.paths), shard.folder) for shard in shards})


HASHED = ("fragment/", "index/", "filter/")  # and pagefind.<hash>.pf_meta: files named by their content


def build_search_index(pages: Mapping[str, bytes], folder: str = SEARCH_DIR, reuse: Mapping[str, bytes] | None = None) -> dict[str, bytes]:
    """Pagefind's bundle (path in the site -> bytes) for these HTML pages (path -> bytes, read one at a time), indexing
    each page's <main>, in `folder` of the site (the engine's files only in SEARCH_DIR's). `reuse`: this folder's
    last bundle, whose files named by their content Pagefind then does not compress and write again (see reused_bundle)."""
    try:
        from pagefind_bin import get_executable
        program = str(get_executable())
    except (ImportError, OSError, FileNotFoundError):
        raise SearchUnavailable("the search index needs Pagefind: run `pip install -r requirements.txt`, or set 'search: false' in site.yml") from None
    if not any(path.endswith(".html") for path in pages):
        return {}  # nothing to index (Pagefind refuses an empty site): the search page says no results
    needed = 300_000 * len(pages)  # the pages and the bundle (about 0.4 of them): 3 times a page of 100 KB, the largest in the corpus being 30 KB
    with tempfile.TemporaryDirectory(prefix="placard-search-", dir=scratch_folder(needed)) as scratch:
        site, bundle = Path(scratch) / "site", Path(scratch) / "bundle"
        for path in sorted(pages):  # each page read when written (sorted(pages.items()) held a shard's 15 MB at once)
            write_scratch(scratch, site / path, pages[path])
        for path, data in (reuse or {}).items():
            name = path[len(folder) + 1:]
            if name.startswith(HASHED) or name.endswith(".pf_meta"):
                write_scratch(scratch, bundle / name, data)
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
        engine = folder == SEARCH_DIR
        files = {f"{folder}/{file.relative_to(bundle).as_posix()}": file.read_bytes()
                 for file in sorted(bundle.rglob("*")) if file.is_file() and is_kept(file.relative_to(bundle).as_posix(), engine)}
        entry = f"{folder}/pagefind-entry.json"
        if entry in files:  # Pagefind lists the languages in hash-map order, different on every run: sorted, the same input gives the same bytes
            data = json.loads(files[entry])
            data["languages"] = dict(sorted(data.get("languages", {}).items()))
            files[entry] = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return reused_bundle(files, folder) if reuse else files


def write_scratch(scratch: str, file: Path, data: bytes) -> None:
    """One of Pagefind's input files in the scratch folder; a full or unwritable folder is a SearchUnavailable
    (the build's problem for site.yml's search), never a traceback."""
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(data)
    except OSError as exc:
        raise SearchUnavailable(f"the search index's scratch files could not be written in {os.path.dirname(scratch)} "
                                f"({exc.strerror or exc}); free some space there, or set 'search: false' in site.yml") from None


def reused_bundle(files: dict[str, bytes], folder: str) -> dict[str, bytes]:
    """A bundle Pagefind wrote over the last one's files, without those no longer part of it. Pagefind writes a file
    named by its content (a page's fragment, a chunk of the word index, a filter, a language's meta index) only if
    no file has that name yet, and gzips it at the best level first: of an edit's run on a shard of 1,250 pages,
    0.4 s of 0.9 (pagefind/src/output/mod.rs, WriteBehavior::Immutable). What is still part of it: the meta index
    each language of pagefind-entry.json names, and the files that index names (as CBOR text, each name's length
    in its first byte). tests/test_search.py compares the result with a bundle built from nothing, byte for byte."""
    entry = json.loads(files[f"{folder}/pagefind-entry.json"])
    metas = {f"{folder}/pagefind.{language['hash']}.pf_meta" for language in entry.get("languages", {}).values()}
    named = b"".join(gzip.decompress(files[meta]) for meta in metas if meta in files)

    def is_named(path: str) -> bool:
        stem = path.rsplit("/", 1)[1].rsplit(".", 1)[0].encode("utf-8")
        return len(stem) < 24 and bytes([0x60 + len(stem)]) + stem in named

    return {path: data for path, data in files.items()
            if path in metas or not (path[len(folder) + 1:].startswith(HASHED) or path.endswith(".pf_meta")) or is_named(path)}
