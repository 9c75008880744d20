"""Build cache: what earlier builds computed, reused only when every input is provably the same.

Three layers, each keyed on everything that affects its result:
  items  - a content file parsed and validated: its path, its stat (size, modification and change
           times, inode; a file changed in the last two seconds is never cached) and site.yml;
  bodies - a Markdown body converted and checked (only clean bodies are kept): the Markdown text;
  pages  - what a page was rendered from: its template set, its path, template and variables, plus
           the digest of every other input the template actually read while rendering it (a trace:
           which `site` attributes, whether `now`, which bodies and which `kind:slug` links). A page
           is reused only if all of those still have the same digest, so a page that never reads
           `now` is not re-rendered when the clock moves, and one that does always is. The preview
           keeps the page's bytes; build.py keeps only the stat of the page's file in output/, and
           reuses the page only while output/ still holds exactly that file.
Every layer also depends on the code: the cache records placard's version, a digest of its source
and the versions of the libraries that shape the output, and is ignored entirely when any differs
(or when its format version differs). Two stores share one interface: MemoryStore (the preview
server keeps it between rebuilds) and SqliteStore (`.cache/` beside site.yml, for `build.py`):
SQLite commits atomically, so a crash never leaves a half-written cache, and a file it cannot read
is deleted and rebuilt, never fatal.
"""

from __future__ import annotations

import contextvars
import copyreg
import hashlib
import io
import marshal
import os
import pickle
import signal
import sqlite3
import stat
import sys
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from types import FunctionType, MappingProxyType
from collections.abc import Iterator, Mapping
from typing import Any, Iterable

import jinja2.runtime

from .models import Entity, Event, Page, Post
from .workers import can_fork

FORMAT_VERSION = 7
CACHE_DIR = ".cache"
CACHE_FILE = f"placard-v{FORMAT_VERSION}.sqlite"
LIBRARIES = ("Markdown", "Jinja2", "MarkupSafe", "Babel", "PyYAML", "python-frontmatter", "icalendar", "segno", "python-slugify", "Pillow", "tzdata", "nh3")


def digest_bytes(*parts: bytes) -> bytes:
    """A 20-byte BLAKE2b digest of the parts, each length-prefixed so boundaries count."""
    return hashlib.blake2b(b"".join([len(part).to_bytes(8, "little") + part for part in parts]), digest_size=20).digest()


def digest_text(text: str) -> bytes:
    """Digest of a string (a Markdown body, a path)."""
    return digest_bytes(text.encode("utf-8", "surrogatepass"))


def digest_texts(texts: dict[str, str], memo: dict[int, tuple[str, bytes]] | None = None) -> dict[str, bytes]:
    """digest_text of each value; with a memo (the preview's, between rebuilds), a string digested last
    time (the very same object, kept alive by the memo) is not read again. The memo keeps this call's."""
    if memo is None:
        return {key: digest_text(text) for key, text in texts.items()}
    known, digests = dict(memo), {}
    memo.clear()
    for key, text in texts.items():
        hit = known.get(id(text))
        digest = hit[1] if hit is not None and hit[0] is text else digest_text(text)
        digests[key] = digest
        memo[id(text)] = (text, digest)
    return digests


class _HashWriter:
    """A file-like sink that hashes what pickle writes instead of keeping it."""

    def __init__(self) -> None:
        self.hash = hashlib.blake2b(digest_size=20)

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        return len(data)


class _Pickler(pickle.Pickler):
    """pickle that also takes read-only mappings (the site index), as the dicts they show."""

    dispatch_table = copyreg.dispatch_table.copy()
    dispatch_table[MappingProxyType] = lambda m: (dict, (dict(m),))


ITEM_CLASSES = frozenset({Post, Event, Page, Entity})


def digest_value(value: Any) -> bytes | None:
    """Digest of a value through pickle (equal pickles mean equal values); None if it cannot be pickled."""
    sink = _HashWriter()
    try:
        _Pickler(sink, protocol=5).dump(value)
    except (pickle.PicklingError, TypeError, AttributeError):
        return None
    return sink.hash.digest()


class Digester:
    """Digests of values that name content items, each item digested once per build (items are frozen)."""

    def __init__(self, known: dict[int, tuple[Any, bytes]] | None = None) -> None:
        self.items: dict[int, tuple[Any, bytes]] = dict(known or {})  # e.g. the cache keys of loaded items

    def item(self, obj: Any) -> bytes:
        """An item's digest: its cache key if it was loaded from the cache, else the digest of its pickle."""
        hit = self.items.get(id(obj))
        if hit is None or hit[0] is not obj:
            try:  # items hold only plain values: the C pickler needs no hooks
                hit = self.items[id(obj)] = (obj, digest_bytes(pickle.dumps(obj, protocol=5)))
            except (pickle.PicklingError, TypeError, AttributeError):
                raise pickle.PicklingError("an item that cannot be digested") from None
        return hit[1]

    def of(self, value: Any) -> bytes | None:
        """Digest of a page's variables or a site attribute: its page_recipe pickle, and the digests of
        the items it names (so a list of 10,000 posts costs 10,000 look-ups once each is digested)."""
        try:
            blob, named = page_recipe(value)
            return digest_bytes(blob, b"".join([self.item(item) for item in named]))
        except (pickle.PicklingError, TypeError, AttributeError, RecursionError):
            return None


def code_version() -> str:
    """Everything outside the project that shapes the output: placard's source, Python and library versions."""
    from . import __version__

    h = hashlib.blake2b(digest_size=20)
    for file in sorted(Path(__file__).resolve().parent.glob("*.py")):
        h.update(file.name.encode() + b"\0" + file.read_bytes() + b"\0")
    versions = []
    for name in LIBRARIES:
        try:
            versions.append(f"{name}={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name}=none")
    return f"placard {__version__}; python {sys.version.split()[0]}; {' '.join(versions)}; source {h.hexdigest()}"


# ---------------------------------------------------------------------------------------------
# Tracing what a page reads while it renders


@dataclass
class Trace:
    """The inputs one page read beyond its own variables: names, `site` attributes, bodies, links."""

    names: set[str] = field(default_factory=set)
    site_attrs: set[str] = field(default_factory=set)
    bodies: set[str] = field(default_factory=set)
    refs: set[str] = field(default_factory=set)

    def deps(self) -> list[tuple[str, str]]:
        """The dependencies to check next time, in a stable order."""
        found = [("name", n) for n in self.names & TRACKED_NAMES]
        found += [("site", a) for a in self.site_attrs] + [("body", b) for b in self.bodies] + [("ref", r) for r in self.refs]
        return sorted(found)


# Context names whose value is not fixed by the page's own key (path, template, variables, config,
# options, templates): reading one makes it a dependency of the page.
TRACKED_NAMES = frozenset({"site", "now", "entity_named"})
_CURRENT: contextvars.ContextVar[Trace | None] = contextvars.ContextVar("placard_trace", default=None)


class TracingContext(jinja2.runtime.Context):
    """Jinja2's template context, noting every top-level name a template (or a macro it imports) reads.

    Both methods run for every name and every call in every page, so they are Jinja2's own, inlined."""

    def resolve_or_missing(self, key: str) -> Any:
        if key in self.vars:  # set by the template itself (imported macros): not noted
            return self.vars[key]
        if key in self.parent:  # given to the template: noted
            trace = _CURRENT.get()
            if trace is not None:
                trace.names.add(key)
            return self.parent[key]
        return jinja2.runtime.missing

    def call(__self, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 (Jinja2's names, free for keywords)
        """Context.call, with a plain function (our page helpers: url, _, lang_of...) called directly.
        Jinja2 looks for its pass_context/pass_environment marks (attributes, so a marked function has
        a __dict__) on every call: 4% of the time of a list page."""
        if type(__obj) is FunctionType and not __obj.__dict__:
            if kwargs:
                kwargs.pop("_block_vars", None)
                kwargs.pop("_loop_vars", None)
            try:
                return __obj(*args, **kwargs)
            except StopIteration:  # as Jinja2 does
                return __self.environment.undefined("value was undefined because a callable raised a StopIteration exception")
        return super().call(__obj, *args, **kwargs)


RAW_TEXT = "an item's Markdown text"  # noted as a name no page may read and stay cached
TEXT_FIELDS = frozenset({"body"})  # an item's (or a reply's) Markdown, which pages show through body() and reply_body()


class TracingEnvironment(jinja2.Environment):
    """Jinja2's environment, noting a template that reads an item's Markdown text itself instead of
    through body() or reply_body(): a page key follows an item's text only through those, so such a
    page is never cached (slower, never stale). Jinja2's getattr and getitem, with that one check."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if attribute in TEXT_FIELDS:
            note_raw_text()
        # Jinja2's own body, not a call to it: this runs for every attribute every template reads.
        try:
            return getattr(obj, attribute)
        except AttributeError:
            pass
        try:
            return obj[attribute]
        except (TypeError, LookupError, AttributeError):
            return self.undefined(obj=obj, name=attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(argument, str) and argument in TEXT_FIELDS:
            note_raw_text()
        return super().getitem(obj, argument)


def note_raw_text() -> None:
    trace = _CURRENT.get()
    if trace is not None:
        trace.names.add(RAW_TEXT)


class TracedSite:
    """The Site as templates see it while a page renders: every attribute read is noted."""

    __slots__ = ("_site", "_trace")

    def __init__(self, site: Any, trace: Trace) -> None:
        object.__setattr__(self, "_site", site)
        object.__setattr__(self, "_trace", trace)

    def __getattr__(self, name: str) -> Any:
        self._trace.site_attrs.add(name)
        return getattr(self._site, name)


def start_trace(trace: Trace) -> contextvars.Token:
    """Record into `trace` until `stop_trace`."""
    return _CURRENT.set(trace)


def stop_trace(token: contextvars.Token) -> None:
    _CURRENT.reset(token)



# ---------------------------------------------------------------------------------------------
# A page's variables as the cache keeps them


class PageContext(Mapping):
    """A page's variables, kept as a pickle in which content items stand as their file's path
    (see page_recipe), with the paths it names (`refs`, in order); unpickled, against this build's
    items, only when the page is rendered."""

    __slots__ = ("blob", "refs", "kept", "_items", "_value")

    def __init__(self, blob: bytes, refs: tuple, items: Mapping[str, Any], value: dict | None = None, kept: bool = False) -> None:
        self.blob, self.refs, self._items, self._value = blob, refs, items, value
        self.kept = kept  # from the last build's plan, kept unchanged (see placard.plan)

    def value(self) -> dict:
        if self._value is None:
            self._value = _ItemUnpickler(io.BytesIO(self.blob), self._items).load()
        return self._value

    def __getitem__(self, name: str) -> Any:
        return self.value()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.value())

    def __len__(self) -> int:
        return len(self.value())


def page_recipe(context: Any, paths: dict[int, str] | None = None) -> tuple[bytes, tuple]:
    """A page's variables as a pickle in which each content item stands as its file's path (from
    `paths`; else its position among the page's items), and the items it names, in order: a page's
    key is the pickle and those items' keys (equal pickles mean equal values)."""
    sink = io.BytesIO()
    pickler = _ItemPickler(sink, paths or {})
    pickler.dump(context)
    return sink.getvalue(), tuple(pickler.refs)


def _item_at(path: str) -> None:
    """Stands for an item in a PageContext pickle (the unpickler resolves it; never called)."""
    raise AssertionError("resolved by _ItemUnpickler")


class _ItemPickler(pickle.Pickler):
    """Pickles a page's variables with each content item as a reference to its file's path (or,
    for an item that is not the site's, its position among the page's items: such a plan is not kept)."""

    def __init__(self, file: Any, paths: dict[int, str]) -> None:
        super().__init__(file, protocol=5)
        refs: list = []
        self.refs = refs

        def reduce_item(item: Any) -> tuple:  # (not a bound method: the pickler would be in a cycle, garbage
            refs.append(item)                 # only the cyclic collector frees, 40 MB at 10,000 posts)
            return _item_at, (paths.get(id(item), len(refs)),)  # pickle keeps each object once: an item is reduced once per page

        self.dispatch_table = _Pickler.dispatch_table | {kind: reduce_item for kind in ITEM_CLASSES}


class _ItemUnpickler(pickle.Unpickler):
    """Reads a PageContext pickle, each reference becoming this build's item."""

    def __init__(self, file: Any, items: Mapping[str, Any]) -> None:
        super().__init__(file)
        self.items = items

    def find_class(self, module: str, name: str) -> Any:
        if module == __name__ and name == "_item_at":
            return self.items.__getitem__
        return super().find_class(module, name)


# ---------------------------------------------------------------------------------------------
# Stores


@dataclass(frozen=True)
class PageEntry:
    """A rendered page and what it was rendered from.

    The preview keeps the page's bytes; build.py does not, because the page itself is in output/:
    the cache notes the file's size, mtime and inode there (record_written), and get_pages offers
    the entry only while output/ still has exactly that file."""

    base: bytes  # digest of template set, path, template, variables, config, options
    deps: tuple[tuple[tuple[str, str], bytes], ...]  # (dependency, its digest then)
    data: bytes | None = None


def file_signature(path: str) -> tuple[int, int, int] | None:
    """(size, mtime, inode) of a regular file, or None: what a page in output/ must still have to be reused."""
    try:
        info = os.lstat(path)
    except OSError:
        return None
    return (info.st_size, info.st_mtime_ns, info.st_ino) if stat.S_ISREG(info.st_mode) else None


class MemoryStore:
    """The cache in memory (the preview server keeps one between rebuilds). Like the SQLite store it
    keeps only good builds: rollback() forgets the items, pages and memos a failed build added."""

    def __init__(self) -> None:
        self.version = code_version()
        self.items: dict[str, tuple[bytes, Any]] = {}
        self.loaded: dict[int, tuple[Any, bytes]] = {}  # id(item) -> (item, key): an item's key is its digest
        self.bodies: dict[bytes, str] = {}
        self.pages: dict[str, PageEntry] = {}
        self.memos: dict[str, tuple[bytes, Any]] = {}
        self.replaced: dict[str, Any] = {}  # path -> the item kept for it when its file has changed since
        self.text_digests: dict[int, tuple[str, bytes]] = {}  # id(a body's Markdown) -> (it, its digest)
        self.saved: tuple[dict, dict, dict] = ({}, {}, {})  # items, pages and memos at the last commit

    def get_items(self, keys: dict[str, bytes]) -> dict[str, Any]:
        """The validated items loaded before from these paths with these keys (bytes and settings)."""
        found, self.loaded, self.replaced = {}, {}, {}
        for path, (key, item) in self.items.items():
            if keys.get(path) == key:
                found[path] = item
                self.loaded[id(item)] = (item, key)
            else:
                self.replaced[path] = item
        return found

    def put_items(self, entries: Iterable[tuple[str, bytes, Any]]) -> None:
        for path, key, item in entries:
            self.items[path] = (key, item)
            self.loaded[id(item)] = (item, key)

    def known_bodies(self) -> set[bytes]:
        return set(self.bodies)

    def reader(self) -> "MemoryStore":
        return self  # a forked worker has its own copy

    def get_body(self, key: bytes) -> str:
        return self.bodies[key]

    def put_bodies(self, entries: Iterable[tuple[bytes, str]]) -> None:
        self.bodies.update(entries)

    def get_pages(self, out_dir: Path | None = None) -> dict[str, PageEntry]:
        """Every page rendered before (with its bytes)."""
        return self.pages

    def record_written(self, written: dict[str, tuple[int, int, int] | None]) -> None:
        pass  # the preview keeps pages in memory, not in output/

    def put_pages(self, entries: Iterable[tuple[str, PageEntry]]) -> None:
        self.pages.update(entries)

    def forget_pages(self, paths: Iterable[str]) -> None:
        for path in paths:
            self.pages.pop(path, None)

    def get_memo(self, name: str, key: bytes) -> Any:
        """A value computed before from inputs with this digest (None if there is none)."""
        hit = self.memos.get(name)
        return hit[1] if hit is not None and hit[0] == key else None

    def put_memo(self, name: str, key: bytes, value: Any) -> None:
        self.memos[name] = (key, value)

    def prune(self, items: set[str], bodies: set[bytes], pages: set[str]) -> None:
        """Forget what this build no longer uses, so the cache does not grow forever."""
        self.items = {k: v for k, v in self.items.items() if k in items}
        self.bodies = {k: v for k, v in self.bodies.items() if k in bodies}
        self.pages = {k: v for k, v in self.pages.items() if k in pages}

    def commit(self) -> None:
        self.saved = (dict(self.items), dict(self.pages), dict(self.memos))

    def rollback(self) -> None:
        self.items, self.pages, self.memos = (dict(kept) for kept in self.saved)

    def close(self) -> None:
        pass


SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (bucket INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS bodies (key BLOB PRIMARY KEY, html TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS pages (path TEXT PRIMARY KEY, base BLOB NOT NULL, deps BLOB NOT NULL, size INTEGER, mtime INTEGER, inode INTEGER);
CREATE TABLE IF NOT EXISTS memos (name TEXT PRIMARY KEY, key BLOB NOT NULL, data BLOB NOT NULL);
"""


ITEM_BUCKETS = 64  # at 10,000 posts about 750 KB each: an edit rewrites one of them


def item_bucket(path: str) -> int:
    """The bucket a content file's item is kept in (fixed by its path, the same in every process)."""
    return zlib.crc32(path.encode("utf-8", "surrogatepass")) % ITEM_BUCKETS


def item_texts(item: Any) -> tuple[str, ...]:
    """An item's Markdown texts: its body, then its replies' (see pipeline.convert_bodies)."""
    return (item.body, *(reply.body for reply in getattr(item, "replies", ())))


class SqliteStore:
    """The cache on disk in one SQLite file; everything a build adds is committed in one transaction."""

    def __init__(self, file: Path, out_dir: Path | None = None) -> None:
        self.file = file
        self.version = code_version()
        self.aside = read_pages_aside(file, out_dir, self.version) if out_dir is not None else None
        self.loaded: dict[int, tuple[Any, bytes]] = {}  # id(item) -> (item, key): an item's key is its digest
        self.buckets: dict[int, dict[str, tuple[bytes, Any]]] = {}  # the items, as read (see get_items)
        self.text_digests: dict[int, tuple[str, bytes]] = {}  # id(a body's Markdown) -> (it, its digest), kept with its item
        self.replaced: dict[str, Any] = {}  # path -> the item kept for it when its file has changed since (see placard.plan)
        self.changed: set[int] = set()  # buckets to write at commit
        self.db = self.open()

    def open(self) -> sqlite3.Connection:
        """Open the cache, starting afresh if it is unreadable or was written by other code."""
        self.file.parent.mkdir(parents=True, exist_ok=True)
        ignore = self.file.parent / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# placard's build cache: safe to delete\n*\n", encoding="utf-8")
        for stale in self.file.parent.glob("placard-v*.sqlite*"):  # caches of other formats are never read again
            if not stale.name.startswith(self.file.name):
                stale.unlink(missing_ok=True)
        for attempt in (1, 2):
            try:
                self.new_file = not self.file.exists()
                db = sqlite3.connect(self.file, isolation_level="DEFERRED")
                # 64 KB pages (set before the file's first table): the item buckets, 750 KB each, read in a third of the time
                db.execute("PRAGMA page_size=65536")
                # WAL: render workers read bodies while this process adds new ones (readers never block the writer).
                # Except while a new file is filled by its first build, which has nothing to read: in WAL mode
                # its 110 MB (10,000 posts) were written twice, to the log and then, at commit, copied into
                # the file (0.3 s of a 0.4 s commit). close() turns WAL on for the builds after it.
                db.execute(f"PRAGMA journal_mode={'DELETE' if self.new_file else 'WAL'}")
                db.executescript(SCHEMA)
                row = db.execute("SELECT value FROM meta WHERE key='version'").fetchone()
                if row is None or row[0] != self.version:
                    db.executescript("DELETE FROM items; DELETE FROM bodies; DELETE FROM pages; DELETE FROM memos;")
                    db.execute("INSERT OR REPLACE INTO meta VALUES ('version', ?)", (self.version,))
                    db.commit()
                return db
            except sqlite3.DatabaseError:
                try:
                    db.close()
                except Exception:
                    pass
                if attempt == 2:
                    raise
                for stale in [self.file] + [self.file.with_name(self.file.name + end) for end in ("-journal", "-wal", "-shm")]:
                    stale.unlink(missing_ok=True)
        raise AssertionError("unreachable")

    def get_items(self, keys: dict[str, bytes]) -> dict[str, Any]:
        """The validated items loaded before from these paths with these keys (bytes and settings).

        Items are kept in ITEM_BUCKETS pickles, a file's bucket fixed by its path: one pickle per item
        took three times as long to read back (each repeats its classes and time zones), one pickle for
        all would be rewritten whole after every edit."""
        found, self.loaded, self.buckets, self.changed, self.replaced = {}, {}, {}, set(), {}
        try:
            rows = list(self.db.execute("SELECT bucket FROM items"))
        except sqlite3.DatabaseError:
            return {}
        for (bucket,) in rows:  # one at a time: the pickles of 10,000 posts are 46 MB
            try:
                data = self.db.execute("SELECT data FROM items WHERE bucket=?", (bucket,)).fetchone()[0]
                stored = {path: (key, item, tuple(digests)) for path, (key, item, digests) in pickle.loads(data).items()}
                del data
            except Exception:  # an unreadable bucket: its files are parsed again, and it is rewritten
                self.changed.add(bucket)
                continue
            self.buckets[bucket] = entries = {}
            for path, (key, item, digests) in stored.items():
                entries[path] = (key, item)
                if keys.get(path) == key:
                    found[path] = item
                    self.loaded[id(item)] = (item, key)
                    self.text_digests.update((id(text), (text, digest)) for text, digest in zip(item_texts(item), digests))
                else:
                    self.replaced[path] = item
        return found

    def put_items(self, entries: Iterable[tuple[str, bytes, Any]]) -> None:
        for path, key, item in entries:
            bucket = item_bucket(path)
            self.buckets.setdefault(bucket, {})[path] = (key, item)
            self.changed.add(bucket)
            self.loaded[id(item)] = (item, key)

    def known_bodies(self) -> set[bytes]:
        try:
            return {row[0] for row in self.db.execute("SELECT key FROM bodies")}
        except sqlite3.DatabaseError:
            return set()

    def get_body(self, key: bytes) -> str:
        return self.db.execute("SELECT html FROM bodies WHERE key=?", (key,)).fetchone()[0]

    def reader(self) -> "BodyReader":
        """A connection of its own for a render worker (a connection must not cross a fork)."""
        return BodyReader(self.file)

    def put_bodies(self, entries: Iterable[tuple[bytes, str]]) -> None:
        self.db.executemany("INSERT OR REPLACE INTO bodies VALUES (?, ?)", entries)

    def get_pages(self, out_dir: Path | None = None) -> dict[str, PageEntry]:
        """The pages rendered before that output/ still holds exactly as written (size, mtime and inode
        unchanged): their inputs decide whether they can stay. Without `out_dir`, none.

        Read by a process forked when the store opened (see read_pages_aside), if it was told this
        `out_dir`: checking 10,000 files in output/ then costs this process nothing."""
        if out_dir is None:
            return {}
        aside, self.aside = self.aside, None
        if aside is not None and aside.out_dir != out_dir:
            aside.cancel()  # it checked another folder
            aside = None
        rows = aside.result() if aside is not None else None
        if rows is None:
            rows = intact_pages(self.db, out_dir, self.version)
        return {path: PageEntry(key, deps) for path, key, deps in rows or ()}

    def put_pages(self, entries: Iterable[tuple[str, PageEntry]]) -> None:
        self.db.executemany("INSERT OR REPLACE INTO pages VALUES (?, ?, ?, NULL, NULL, NULL)",
                            ((path, e.base, marshal.dumps(e.deps)) for path, e in entries))  # tuples of str and bytes: marshal reads them fastest

    def forget_pages(self, paths: Iterable[str]) -> None:
        """Pages rendered without an entry (they read something the cache cannot follow): the last
        build's entry must not outlive them, as the next build trusts every entry to be the last build's."""
        self.db.executemany("DELETE FROM pages WHERE path=?", ((path,) for path in paths))

    def record_written(self, written: dict[str, tuple[int, int, int] | None]) -> None:
        """After output/ was written: the signature of each page file just written (None: not reusable)."""
        self.db.executemany("UPDATE pages SET size=?, mtime=?, inode=? WHERE path=?",
                            ((*(sig or (None, None, None)), path) for path, sig in written.items()))

    def get_memo(self, name: str, key: bytes) -> Any:
        """A value computed before from inputs with this digest (None if there is none)."""
        try:
            row = self.db.execute("SELECT data FROM memos WHERE name=? AND key=?", (name, key)).fetchone()
            return pickle.loads(row[0]) if row is not None else None
        except Exception:  # an unreadable entry: computed again
            return None

    def put_memo(self, name: str, key: bytes, value: Any) -> None:
        self.db.execute("INSERT OR REPLACE INTO memos VALUES (?, ?, ?)", (name, key, pickle.dumps(value, protocol=5)))

    def prune(self, items: set[str], bodies: set[bytes], pages: set[str]) -> None:
        """Forget what this build no longer uses, so the cache does not grow forever."""
        for bucket, entries in self.buckets.items():
            stale = [path for path in entries if path not in items]
            for path in stale:
                del entries[path]
            if stale:
                self.changed.add(bucket)
        for table, column, keep in (("bodies", "key", bodies), ("pages", "path", pages)):
            stale = [(k,) for (k,) in self.db.execute(f"SELECT {column} FROM {table}") if k not in keep]
            self.db.executemany(f"DELETE FROM {table} WHERE {column}=?", stale)

    def commit(self) -> None:
        """Make this build's additions durable, all or nothing."""
        for bucket in sorted(self.changed):
            entries = self.buckets.get(bucket)
            if entries:
                stored = {path: (key, item, self.digests_of(item)) for path, (key, item) in entries.items()}
                self.db.execute("INSERT OR REPLACE INTO items VALUES (?, ?)", (bucket, pickle.dumps(stored, protocol=5)))
            else:
                self.db.execute("DELETE FROM items WHERE bucket=?", (bucket,))
        self.changed = set()
        self.db.commit()

    def close(self) -> None:
        if self.aside is not None:
            self.aside.cancel()
        if self.new_file:
            try:
                self.db.execute("PRAGMA journal_mode=WAL")  # no other connection is open now: workers and readers are gone
            except sqlite3.Error:
                pass  # the next build's open() asks again
        self.db.close()

    def digests_of(self, item: Any) -> tuple[bytes, ...]:
        """The digests of an item's Markdown texts, as this build computed them (see digest_texts)."""
        found = []
        for text in item_texts(item):
            hit = self.text_digests.get(id(text))
            found.append(hit[1] if hit is not None and hit[0] is text else digest_text(text))
        return tuple(found)


def intact_pages(db: sqlite3.Connection, out_dir: Path, version: str) -> list[tuple[str, bytes, tuple]] | None:
    """(path, base, deps) of each page whose file in out_dir is as the cache noted it; None if unreadable."""
    base, found = str(out_dir) + os.sep, []
    try:
        row = db.execute("SELECT value FROM meta WHERE key='version'").fetchone()
        if row is None or row[0] != version:
            return []
        for path, key, deps, *written in db.execute("SELECT path, base, deps, size, mtime, inode FROM pages"):
            if written[0] is None or tuple(written) != file_signature(base + path):
                continue  # never written, or changed since: rendered again
            try:
                found.append((path, key, marshal.loads(deps)))
            except Exception:
                continue  # unreadable entry: the page is rendered again
    except sqlite3.DatabaseError:
        return None
    return found


class PagesAside:
    """intact_pages, computed by a forked process while this one loads the site; result() waits for it."""

    def __init__(self, out_dir: Path, pid: int, pipe: int) -> None:
        self.out_dir, self.pid, self.pipe = out_dir, pid, pipe

    def result(self) -> list[tuple[str, bytes, tuple]] | None:
        """Its rows; None if it failed (the caller then reads them itself)."""
        try:
            with os.fdopen(self.pipe, "rb") as stream:
                data = stream.read()
            _pid, status = os.waitpid(self.pid, 0)
            return marshal.loads(data) if status == 0 else None
        except Exception:
            return None

    def cancel(self) -> None:
        """Not needed after all (the build failed first): let it go."""
        try:
            os.close(self.pipe)  # it exits on its next write
            os.waitpid(self.pid, 0)
        except OSError:
            pass


def read_pages_aside(file: Path, out_dir: Path, version: str) -> PagesAside | None:
    """Start intact_pages on a forked process, before this one opens the cache (so no SQLite
    connection crosses the fork); None where this process cannot fork."""
    if not file.exists() or not can_fork():
        return None
    read, write = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read)
        os.close(write)
        return None
    if pid == 0:  # the child: read, send, and leave without running anything of the parent's
        status = 1
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
            os.close(read)
            db = sqlite3.connect(f"file:{file}?mode=ro", uri=True)
            rows = intact_pages(db, out_dir, version)
            if rows is not None:
                data = marshal.dumps(rows)
                with os.fdopen(write, "wb") as stream:
                    stream.write(data)
                status = 0
        finally:
            os._exit(status)
    os.close(write)
    return PagesAside(out_dir, pid, read)


class BodyReader:
    """Read-only access to converted bodies, from a render worker process."""

    def __init__(self, file: Path) -> None:
        self.file, self.db = file, None

    def get_body(self, key: bytes) -> str:
        if self.db is None:  # opened in the worker, on first use; never waits: a busy file is read around (Bodies converts)
            self.db = sqlite3.connect(f"file:{self.file}?mode=ro", uri=True, timeout=0)
        return self.db.execute("SELECT html FROM bodies WHERE key=?", (key,)).fetchone()[0]


Store = MemoryStore | SqliteStore


def open_store(root: Path, out_dir: Path | None = None) -> Store | None:
    """The project's cache in `.cache/`, or None (a build without cache) if it cannot be used at all.
    With `out_dir`, the pages of the last build still intact there are read meanwhile (see get_pages)."""
    try:
        return SqliteStore(root / CACHE_DIR / CACHE_FILE, out_dir)
    except (OSError, sqlite3.Error):
        return None
