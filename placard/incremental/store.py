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

import errno
import marshal
import os
import pickle
import signal
import sqlite3
import stat
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import jinja2
import jinja2.bccache

from .basis import CACHE_DIR, code_version
from .digest import digest_text
from .workers import can_fork

FORMAT_VERSION = 8
CACHE_FILE = f"placard-v{FORMAT_VERSION}.sqlite"
DAMAGED_MARK = "-damaged"  # beside the cache file: a render worker found a damaged entry (see BodyReader)


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

    def last_memo(self, name: str) -> Any:
        """The memo's value, whatever inputs it was computed from (None if there is none)."""
        hit = self.memos.get(name)
        return hit[1] if hit is not None else None

    def prune_memos(self, kinds: tuple[str, ...], used: set[str]) -> None:
        """Forget the memos of these kinds (name prefixes) this build did not use: a deleted photo's, say."""
        self.memos = {name: memo for name, memo in self.memos.items() if name in used or not name.startswith(kinds)}

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
CREATE TABLE IF NOT EXISTS memos (name TEXT NOT NULL, part INTEGER NOT NULL, key BLOB NOT NULL, data BLOB NOT NULL, sum INTEGER NOT NULL,
                                  PRIMARY KEY (name, part));
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


MEMO_PART = 1 << 20  # bytes of a memo's pickle per row (see SqliteStore.put_memo)


class MemoRows:
    """A file for pickle.Pickler that hands what it is written, MEMO_PART bytes at a time, to `put(part, data)`."""

    def __init__(self, put) -> None:
        self.put, self.buffer, self.part = put, bytearray(), 0

    def write(self, data) -> int:
        self.buffer += data
        while len(self.buffer) >= MEMO_PART:
            self.put(self.part, bytes(self.buffer[:MEMO_PART]))
            del self.buffer[:MEMO_PART]
            self.part += 1
        return len(data)

    def close(self) -> None:
        """The last part (a memo has at least one)."""
        if self.buffer or self.part == 0:
            self.put(self.part, bytes(self.buffer))
        self.buffer = bytearray()


def read_memo(name: str, rows) -> Any:
    """A memo's value from its rows (part, key, data, sum) in order, or None if there are none;
    CacheDamaged if a row fails its checksum or a part is missing."""
    parts = []
    for number, (part, key, data, total) in enumerate(rows):
        check_sum(total, name, part, key, data)
        if part != number:
            raise CacheDamaged("a row does not match its checksum")  # (a part lost: the value cannot be whole)
        parts.append(data)
    if not parts:
        return None
    data = parts[0] if len(parts) == 1 else b"".join(parts)
    del parts
    return pickle.loads(data)


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
        self.replaced: dict[str, Any] = {}  # path -> the item kept for it when its file has changed since (see placard.incremental.plan_memo)
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
            return read_memo(name, self.db.execute("SELECT part, key, data, sum FROM memos WHERE name=? AND key=? ORDER BY part", (name, key)))
        except Exception as error:
            self.trouble(error)
            return None

    def last_memo(self, name: str) -> Any:
        """The memo's value, whatever inputs it was computed from (None if there is none)."""
        try:
            return read_memo(name, self.db.execute("SELECT part, key, data, sum FROM memos WHERE name=? ORDER BY part", (name,)))
        except Exception as error:
            self.trouble(error)
            return None

    def put_memo(self, name: str, key: bytes, value: Any) -> None:
        """Keep a value, pickled straight into rows of MEMO_PART bytes: the plan of 10,000 posts is a 13 MB
        pickle, and one row of it cost 38 MB more memory while SQLite wrote it (its own copy of the value,
        and the record it builds), the cold build's highest point; in parts, about 3 MB."""
        if not self.saving:
            return
        try:
            self.db.execute("DELETE FROM memos WHERE name=?", (name,))
        except Exception as error:
            self.trouble(error)
            return
        rows = MemoRows(lambda part, data: self.write("INSERT INTO memos VALUES (?, ?, ?, ?, ?)", [(name, part, key, data, entry_sum(name, part, key, data))]))
        try:
            pickle.Pickler(rows, protocol=5).dump(value)
        except BaseException:  # (a value that cannot be pickled: as pickle.dumps, it raises; no part of it is left)
            self.write("DELETE FROM memos WHERE name=?", [(name,)])
            raise
        rows.close()

    def prune_memos(self, kinds: tuple[str, ...], used: set[str]) -> None:
        """Forget the memos of these kinds (name prefixes) this build did not use: a deleted photo's plan,
        derivatives and share card would otherwise stay in .cache/ for ever (a photo's are hundreds of KB)."""
        try:
            stale = [(name,) for (name,) in self.db.execute("SELECT DISTINCT name FROM memos") if name.startswith(kinds) and name not in used]
        except Exception as error:
            self.trouble(error)
            return
        self.write("DELETE FROM memos WHERE name=?", stale)

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


class TemplateCache(jinja2.BytecodeCache):
    """Compiled templates kept in memory between builds (the preview server); Jinja2 recompiles
    any template whose source checksum changed, so a stale template is never used."""

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        """Hand Jinja2 the stored code; it checks the checksum and discards it if the source changed."""
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        """Keep the freshly compiled code for the next build."""
        self.compiled[bucket.key] = bucket.bytecode_to_string()
