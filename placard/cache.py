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
and the version of every installed distribution (see installed_distributions), and is ignored entirely when any differs (or when its
format version differs). Two stores share one interface: MemoryStore (the preview server keeps it
between rebuilds) and SqliteStore (`.cache/` beside site.yml, for `build.py`): SQLite commits
atomically, so a crash never leaves a half-written cache.

The SQLite cache trusts nothing it reads back: the file passes SQLite's quick_check when opened,
and every row carries a checksum of its key and value (entry_sum), checked when the row is read.
On any doubt (a failed check, a row that cannot be read) the file is deleted, the build goes on
with an empty cache (what it already took from the file had passed its checksum) and says so in
one note. A full disk stops the cache from being saved, with a note; it never stops a build.
"""

from __future__ import annotations

import contextvars
import copyreg
import errno
import hashlib
import io
import marshal
import os
import pickle
import re
import signal
import sqlite3
import stat
import sys
import zlib
import zoneinfo
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import FunctionType, MappingProxyType
from collections.abc import Iterator, Mapping
from typing import Any, Iterable

import jinja2
import jinja2.bccache
import jinja2.runtime

from .models import Entity, Event, Page, Post
from .workers import can_fork

FORMAT_VERSION = 8
CACHE_DIR = ".cache"
CACHE_FILE = f"placard-v{FORMAT_VERSION}.sqlite"
DAMAGED_MARK = "-damaged"  # beside the cache file: a render worker found a damaged entry (see BodyReader)


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
    """Everything outside the project that shapes the output: placard's source, Python, the installed
    distributions and the time zone data."""
    from . import __version__

    h = hashlib.blake2b(digest_size=20)
    for file in sorted(Path(__file__).resolve().parent.glob("*.py")):
        h.update(file.name.encode() + b"\0" + file.read_bytes() + b"\0")
    return (f"placard {__version__}; python {sys.version.split()[0]}; {' '.join(installed_distributions())}; "
            f"zoneinfo {system_tz_version()}; source {h.hexdigest()}")


def installed_distributions() -> list[str]:
    """`name=version` of every distribution installed where this Python imports from, sorted.

    Every one, not a list of those placard imports: that list, written by hand, left out networkx
    and numpy (the register's diagram layout, kept in the plan), and any list would miss what the
    libraries themselves use (text-unidecode for slugs, scipy where networkx finds it, a Markdown
    extension found by entry point). Installing or upgrading anything costs one full build. Read from
    the folder names (`networkx-3.6.1.dist-info`), which carry the version: 1 ms, where asking
    importlib.metadata which distribution provides each module placard imports took 30 ms a build.
    A zip on the path (a zipapp bundling its libraries) counts by its size and modification time."""
    found: set[str] = set()
    for entry in sys.path:
        folder = entry or "."
        try:
            names = os.listdir(folder)
        except NotADirectoryError:
            info = os.stat(folder)
            found.add(f"{os.path.basename(folder)}={info.st_size}:{info.st_mtime_ns}")
            continue
        except OSError:
            continue
        for name in names:
            if name.endswith(".dist-info"):
                project, _, version = name[: -len(".dist-info")].rpartition("-")
                found.add(f"{normal_name(project)}={version}")
            elif name.endswith(".egg-info"):  # name-version-pyX.Y.egg-info, or a development install's name.egg-info
                parts = name[: -len(".egg-info")].split("-")
                version = parts[1] if len(parts) > 1 else str(os.stat(os.path.join(folder, name)).st_mtime_ns)
                found.add(f"{normal_name(parts[0])}={version}")
    return sorted(found)


def normal_name(project: str) -> str:
    """A distribution's name as wheels spell it in their folder's name (PEP 503 and 427: python_dateutil)."""
    return re.sub(r"[-_.]+", "_", project).lower()


def system_tz_version() -> str:
    """The version of the system's time zone database, which zoneinfo prefers to the tzdata package."""
    for folder in zoneinfo.TZPATH:
        try:
            with open(os.path.join(folder, "tzdata.zi"), "rb") as file:
                return file.readline().strip().decode("ascii", "replace")
        except OSError:
            continue
    return "none"


class CheckedBytecodeCache(jinja2.BytecodeCache):
    """Jinja2's compiled templates, kept in a folder (.cache/templates) each with a CRC-32 of its bytes:
    a damaged file is compiled again and replaced (Jinja2's own FileSystemBytecodeCache would run a
    template with a flipped byte: a wrong page, or an error blaming the template), and a file that
    cannot be written (a full disk) only means the template is compiled again next time."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            data = (self.folder / f"{bucket.key}.code").read_bytes()
        except OSError:
            return
        if len(data) > 4 and zlib.crc32(data[:-4]).to_bytes(4, "little") == data[-4:]:
            bucket.bytecode_from_string(data[:-4])  # (Jinja2 then checks it was compiled from this very source)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        data = bucket.bytecode_to_string()
        target = self.folder / f"{bucket.key}.code"
        temp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
        try:
            temp.write_bytes(data + zlib.crc32(data).to_bytes(4, "little"))
            os.replace(temp, target)
        except OSError:
            temp.unlink(missing_ok=True)


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
        self.notes: list[str] = []  # (as SqliteStore's; nothing to say: memory is not damaged or full)
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
CREATE TABLE IF NOT EXISTS items (bucket INTEGER PRIMARY KEY, data BLOB NOT NULL, sum INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS bodies (key BLOB PRIMARY KEY, html BLOB NOT NULL, sum INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS pages (path TEXT PRIMARY KEY, base BLOB NOT NULL, deps BLOB NOT NULL, sum INTEGER NOT NULL, size INTEGER, mtime INTEGER, inode INTEGER);
CREATE TABLE IF NOT EXISTS memos (name TEXT PRIMARY KEY, key BLOB NOT NULL, data BLOB NOT NULL, sum INTEGER NOT NULL);
"""
# (A body's HTML is kept as UTF-8 bytes, not TEXT: its checksum is over the bytes, and a damaged one
# is then caught by that check rather than by SQLite's decoder.)


ITEM_BUCKETS = 64  # at 10,000 posts about 750 KB each: an edit rewrites one of them


def item_bucket(path: str) -> int:
    """The bucket a content file's item is kept in (fixed by its path, the same in every process)."""
    return zlib.crc32(path.encode("utf-8", "surrogatepass")) % ITEM_BUCKETS


def item_texts(item: Any) -> tuple[str, ...]:
    """An item's Markdown texts: its body, then its replies' (see pipeline.convert_bodies)."""
    return (item.body, *(reply.body for reply in getattr(item, "replies", ())))


class CacheDamaged(Exception):
    """A row of the cache that fails its checksum, or that the checksum passed but cannot be read."""


def entry_sum(*parts: bytes | str | int) -> int:
    """CRC-32 of a row's columns, each length-prefixed: what the row must still give when read back.

    Against damage (a bit flipped on disk, a torn copy), not tampering: whoever can write .cache/ can
    write content/ too. CRC-32 catches every change of up to 32 consecutive bits and misses other
    random damage once in four billion; it reads 46 MB (the items of 10,000 posts) in 8 ms."""
    total = 0
    for part in parts:
        data = part if isinstance(part, bytes) else str(part).encode("utf-8", "surrogatepass")
        total = zlib.crc32(data, zlib.crc32(len(data).to_bytes(8, "little"), total))
    return total


def check_sum(stored: int, *parts: bytes | str | int) -> None:
    """Raise CacheDamaged unless the row's columns give its stored checksum."""
    if stored != entry_sum(*parts):
        raise CacheDamaged("a row does not match its checksum")


def is_disk_full(error: BaseException) -> bool:
    """Whether a failed write failed for lack of space (SQLITE_FULL, or ENOSPC/EDQUOT from the system)."""
    if isinstance(error, sqlite3.Error):
        return getattr(error, "sqlite_errorcode", None) == 13  # SQLITE_FULL: "database or disk is full"
    return isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT)


def is_busy(error: BaseException) -> bool:
    """Whether SQLite gave up waiting for another connection (another build.py on the same project)."""
    return isinstance(error, sqlite3.Error) and (getattr(error, "sqlite_errorcode", 0) or 0) & 0xFF in (5, 6)  # SQLITE_BUSY, SQLITE_LOCKED


def cache_files(file: Path) -> list[Path]:
    """The cache file and the files SQLite and workers keep beside it."""
    return [file] + [file.with_name(file.name + end) for end in ("-journal", "-wal", "-shm", DAMAGED_MARK)]


def damaged_note(file: Path, why: str) -> str:
    return (f"{CACHE_DIR}/{file.name}: the build cache was damaged ({why}), so it was deleted; this build used only "
            "what passed its checks and gives the same site as a build without cache (nothing to do: the next build fills it again)")


def full_disk_note(file: Path) -> str:
    return (f"{CACHE_DIR}/{file.name}: the build cache could not be saved because the disk is full; the site was "
            "built all the same. Free some space: until then every build takes as long as a first one")


class SqliteStore:
    """The cache on disk in one SQLite file; everything a build adds is committed in one transaction.

    Every read is checked (see the module's docstring): `trouble` decides what a failed read or write
    means, `discard` drops the file, and `notes` say what happened, one line each."""

    def __init__(self, file: Path, out_dir: Path | None = None) -> None:
        self.file = file
        self.version = code_version()
        self.notes: list[str] = []
        self.doubt: str | None = None  # why the file was discarded, if it was
        self.saving = True  # False once the disk is full: nothing more is written
        self.aside = read_pages_aside(file, out_dir, self.version) if out_dir is not None else None
        self.loaded: dict[int, tuple[Any, bytes]] = {}  # id(item) -> (item, key): an item's key is its digest
        self.buckets: dict[int, dict[str, tuple[bytes, Any]]] = {}  # the items, as read (see get_items)
        self.text_digests: dict[int, tuple[str, bytes]] = {}  # id(a body's Markdown) -> (it, its digest), kept with its item
        self.replaced: dict[str, Any] = {}  # path -> the item kept for it when its file has changed since (see placard.plan)
        self.changed: set[int] = set()  # buckets to write at commit
        self.db = self.open()

    def open(self) -> sqlite3.Connection:
        """Open the cache, starting afresh if it fails its checks or was written by other code."""
        self.file.parent.mkdir(parents=True, exist_ok=True)
        ignore = self.file.parent / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# placard's build cache: safe to delete\n*\n", encoding="utf-8")
        for stale in self.file.parent.glob("placard-v*.sqlite*"):  # caches of other formats are never read again
            if not stale.name.startswith(self.file.name):
                stale.unlink(missing_ok=True)
        if self.file.with_name(self.file.name + DAMAGED_MARK).exists():  # a worker of the last build found damage
            self.note_damage("a row did not match its checksum")
            self.remove_files()
        for attempt in (1, 2):
            db = None
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
                if not self.new_file:  # the file's structure (its b-trees): 4 ms for 12 MB (1,000 posts)
                    verdict = db.execute("PRAGMA quick_check").fetchone()[0]
                    if verdict != "ok":
                        raise CacheDamaged(f"SQLite's check says: {verdict}")
                db.executescript(SCHEMA)
                row = db.execute("SELECT value FROM meta WHERE key='version'").fetchone()
                if row is None or row[0] != self.version:
                    db.executescript("DELETE FROM items; DELETE FROM bodies; DELETE FROM pages; DELETE FROM memos;")
                    db.execute("INSERT OR REPLACE INTO meta VALUES ('version', ?)", (self.version,))
                    db.commit()
                return db
            except (sqlite3.DatabaseError, CacheDamaged) as error:
                if db is not None:
                    db.close()
                if is_disk_full(error) or is_busy(error) or attempt == 2:  # (not damage: the file is left alone)
                    raise
                self.note_damage(describe(error))
                self.remove_files()
        raise AssertionError("unreachable")

    def remove_files(self) -> None:
        for stale in cache_files(self.file):
            stale.unlink(missing_ok=True)

    def note_damage(self, why: str) -> None:
        if self.doubt is None:
            self.doubt = why
            self.notes.append(damaged_note(self.file, why))

    def trouble(self, error: BaseException) -> None:
        """A read or write of the cache failed: on a full disk, or while another build holds the file,
        stop saving it; on anything else (damage) discard it."""
        if is_disk_full(error):
            self.stop_saving(full_disk_note(self.file))
        elif is_busy(error):
            self.stop_saving(f"{CACHE_DIR}/{self.file.name}: the build cache was in use by another build, so this one "
                             "did not save what it did; the site was built all the same")
        else:
            self.discard(describe(error))

    def stop_saving(self, note: str) -> None:
        """What this build added is dropped (SQLite rolls the transaction back) and nothing more is written."""
        if self.saving:
            self.saving = False
            self.notes.append(note)
            try:
                self.db.rollback()
            except sqlite3.Error:
                pass

    def discard(self, why: str) -> None:
        """Delete the cache file and go on with an empty one: nothing more is read from the old one.
        What this build took from it before had passed its checksum; the items read from it are not kept."""
        self.note_damage(why)
        if self.aside is not None:
            self.aside.cancel()
            self.aside = None
        try:
            self.db.close()
        except sqlite3.Error:
            pass
        self.remove_files()
        self.buckets, self.changed = {}, set()
        try:
            self.db = self.open()
        except (OSError, sqlite3.Error, CacheDamaged):
            self.saving = False
            self.db = sqlite3.connect(":memory:")
            self.db.executescript(SCHEMA)

    def get_items(self, keys: dict[str, bytes]) -> dict[str, Any]:
        """The validated items loaded before from these paths with these keys (bytes and settings).

        Items are kept in ITEM_BUCKETS pickles, a file's bucket fixed by its path: one pickle per item
        took three times as long to read back (each repeats its classes and time zones), one pickle for
        all would be rewritten whole after every edit."""
        found, self.loaded, self.buckets, self.changed, self.replaced = {}, {}, {}, set(), {}
        try:
            for (bucket,) in list(self.db.execute("SELECT bucket FROM items")):  # one at a time: the pickles of 10,000 posts are 46 MB
                data, total = self.db.execute("SELECT data, sum FROM items WHERE bucket=?", (bucket,)).fetchone()
                check_sum(total, bucket, data)
                stored = {path: (key, item, tuple(digests)) for path, (key, item, digests) in pickle.loads(data).items()}
                del data
                self.buckets[bucket] = entries = {}
                for path, (key, item, digests) in stored.items():
                    entries[path] = (key, item)
                    if keys.get(path) == key:
                        found[path] = item
                        self.loaded[id(item)] = (item, key)
                        self.text_digests.update((id(text), (text, digest)) for text, digest in zip(item_texts(item), digests))
                    else:
                        self.replaced[path] = item
        except Exception as error:  # damage: every file is parsed again
            self.trouble(error)
            found, self.loaded, self.replaced, self.text_digests = {}, {}, {}, {}
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
        except Exception as error:
            self.trouble(error)
            return set()

    def get_body(self, key: bytes) -> str:
        """A converted body; raises (KeyError, CacheDamaged) if it is not there as it was written."""
        try:
            return read_body(self.db, key)
        except (CacheDamaged, sqlite3.DatabaseError) as error:
            self.trouble(error)
            raise

    def reader(self) -> "BodyReader":
        """A connection of its own for a render worker (a connection must not cross a fork)."""
        return BodyReader(self.file)

    def put_bodies(self, entries: Iterable[tuple[bytes, str]]) -> None:
        self.write("INSERT OR REPLACE INTO bodies VALUES (?, ?, ?)",
                   ((key, data, entry_sum(key, data)) for key, data in ((key, html.encode("utf-8", "surrogatepass")) for key, html in entries)))

    def get_pages(self, out_dir: Path | None = None) -> dict[str, PageEntry]:
        """The pages rendered before that output/ still holds exactly as written (size, mtime and inode
        unchanged): their inputs decide whether they can stay. Without `out_dir`, none.

        Read by a process forked when the store opened (see read_pages_aside), if it was told this
        `out_dir`: checking 10,000 files in output/ then costs this process nothing."""
        aside, self.aside = self.aside, None
        if aside is not None and (aside.out_dir != out_dir or self.doubt is not None):
            aside.cancel()  # it checked another folder, or a file discarded since
            aside = None
        if out_dir is None or self.doubt is not None:
            return {}
        rows = aside.result() if aside is not None else None
        if rows is None:  # (the forked process found damage too, or could not run)
            try:
                rows = intact_pages(self.db, out_dir, self.version)
            except Exception as error:
                self.trouble(error)
                return {}
        return {path: PageEntry(key, deps) for path, key, deps in rows}

    def put_pages(self, entries: Iterable[tuple[str, PageEntry]]) -> None:
        self.write("INSERT OR REPLACE INTO pages VALUES (?, ?, ?, ?, NULL, NULL, NULL)",
                   ((path, e.base, deps, entry_sum(path, e.base, deps)) for path, e, deps in
                    ((path, e, marshal.dumps(e.deps)) for path, e in entries)))  # tuples of str and bytes: marshal reads them fastest

    def forget_pages(self, paths: Iterable[str]) -> None:
        """Pages rendered without an entry (they read something the cache cannot follow): the last
        build's entry must not outlive them, as the next build trusts every entry to be the last build's."""
        self.write("DELETE FROM pages WHERE path=?", ((path,) for path in paths))

    def record_written(self, written: dict[str, tuple[int, int, int] | None]) -> None:
        """After output/ was written: the signature of each page file just written (None: not reusable).
        (Not in the row's checksum: a damaged signature only fails to match the file, so the page is rendered again.)"""
        self.write("UPDATE pages SET size=?, mtime=?, inode=? WHERE path=?",
                   ((*(sig or (None, None, None)), path) for path, sig in written.items()))

    def get_memo(self, name: str, key: bytes) -> Any:
        """A value computed before from inputs with this digest (None if there is none)."""
        try:
            row = self.db.execute("SELECT data, sum FROM memos WHERE name=? AND key=?", (name, key)).fetchone()
            if row is None:
                return None
            check_sum(row[1], name, key, row[0])
            return pickle.loads(row[0])
        except Exception as error:
            self.trouble(error)
            return None

    def put_memo(self, name: str, key: bytes, value: Any) -> None:
        data = pickle.dumps(value, protocol=5)
        self.write("INSERT OR REPLACE INTO memos VALUES (?, ?, ?, ?)", [(name, key, data, entry_sum(name, key, data))])

    def write(self, statement: str, rows: Iterable[tuple]) -> None:
        """Run a statement for each row, unless the disk is full (then no more); any failure: see trouble."""
        if not self.saving:
            return
        try:
            self.db.executemany(statement, rows)
        except Exception as error:
            self.trouble(error)

    def prune(self, items: set[str], bodies: set[bytes], pages: set[str]) -> None:
        """Forget what this build no longer uses, so the cache does not grow forever."""
        for bucket, entries in self.buckets.items():
            stale = [path for path in entries if path not in items]
            for path in stale:
                del entries[path]
            if stale:
                self.changed.add(bucket)
        for table, column, keep in (("bodies", "key", bodies), ("pages", "path", pages)):
            try:
                stale = [(k,) for (k,) in self.db.execute(f"SELECT {column} FROM {table}") if k not in keep]
            except Exception as error:
                self.trouble(error)
                return
            self.write(f"DELETE FROM {table} WHERE {column}=?", stale)

    def commit(self) -> None:
        """Make this build's additions durable, all or nothing; first, if a worker found damage, discard the file."""
        if self.file.with_name(self.file.name + DAMAGED_MARK).exists():
            self.discard("a row did not match its checksum")
        for bucket in sorted(self.changed):
            entries = self.buckets.get(bucket)
            if entries:
                stored = {path: (key, item, self.digests_of(item)) for path, (key, item) in entries.items()}
                data = pickle.dumps(stored, protocol=5)
                self.write("INSERT OR REPLACE INTO items VALUES (?, ?, ?)", [(bucket, data, entry_sum(bucket, data))])
            else:
                self.write("DELETE FROM items WHERE bucket=?", [(bucket,)])
        self.changed = set()
        if self.saving:
            try:
                self.db.commit()
            except Exception as error:
                self.trouble(error)

    def close(self) -> None:
        if self.aside is not None:
            self.aside.cancel()
        if self.file.with_name(self.file.name + DAMAGED_MARK).exists():  # found by a worker after the last commit
            self.discard("a row did not match its checksum")
        if self.new_file and self.saving:
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


def describe(error: BaseException) -> str:
    """What went wrong with the cache, in a few words, for the note."""
    if isinstance(error, CacheDamaged):
        return str(error)
    if isinstance(error, sqlite3.Error):
        return f"SQLite says: {error}"
    return "a row could not be read back"


def read_body(db: sqlite3.Connection, key: bytes) -> str:
    """A body's HTML, checked against its checksum (KeyError if there is none)."""
    row = db.execute("SELECT html, sum FROM bodies WHERE key=?", (key,)).fetchone()
    if row is None:
        raise KeyError("no such body")
    check_sum(row[1], key, row[0])
    try:
        return row[0].decode("utf-8", "surrogatepass")
    except (UnicodeDecodeError, AttributeError):
        raise CacheDamaged("a body is not text") from None


def intact_pages(db: sqlite3.Connection, out_dir: Path, version: str) -> list[tuple[str, bytes, tuple]]:
    """(path, base, deps) of each page whose file in out_dir is as the cache noted it. Raises if any
    row fails its checksum or cannot be read (sqlite3.Error, CacheDamaged)."""
    base, found = str(out_dir) + os.sep, []
    row = db.execute("SELECT value FROM meta WHERE key='version'").fetchone()
    if row is None or row[0] != version:
        return []
    for path, key, deps, total, *written in db.execute("SELECT path, base, deps, sum, size, mtime, inode FROM pages"):
        check_sum(total, path, key, deps)
        if written[0] is None or tuple(written) != file_signature(base + path):
            continue  # never written, or changed since: rendered again
        try:
            found.append((path, key, marshal.loads(deps)))
        except Exception:
            raise CacheDamaged("a page's entry cannot be read") from None
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
            data = marshal.dumps(intact_pages(db, out_dir, version))  # (damage: the parent reads again, and finds it)
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
        """A converted body, checked (see read_body). A damaged one is marked for the main process, which
        discards the cache when it commits; the worker's Bodies converts the text again meanwhile."""
        if self.db is None:  # opened in the worker, on first use; never waits: a busy file is read around (Bodies converts)
            self.db = sqlite3.connect(f"file:{self.file}?mode=ro", uri=True, timeout=0)
        try:
            return read_body(self.db, key)
        except CacheDamaged:
            self.file.with_name(self.file.name + DAMAGED_MARK).touch()
            raise


Store = MemoryStore | SqliteStore


def open_store(root: Path, out_dir: Path | None = None, notes: list[str] | None = None) -> Store | None:
    """The project's cache in `.cache/`, or None (a build without cache) if it cannot be used at all,
    saying why in `notes`. With `out_dir`, the pages of the last build still intact there are read
    meanwhile (see get_pages)."""
    file = root / CACHE_DIR / CACHE_FILE
    try:
        return SqliteStore(file, out_dir)
    except (OSError, sqlite3.Error, CacheDamaged) as error:
        if notes is not None:
            notes.append(full_disk_note(file) if is_disk_full(error) else
                         f"{CACHE_DIR}/{file.name}: the build cache could not be opened ({getattr(error, 'strerror', None) or error}), "
                         "so the site was built without it (slower, the same result)")
        return None
