"""The nothing-changed build: decided from file metadata and one small file, without the site.

After a build, `.cache/unchanged.json` records the metadata of every file it read (content/, the
site's and the theme's templates and static files, site.yml), of every file it wrote in output/,
placard's own version, the build's `now`, and the first moment after it at which the same files would
build differently (pages.next_change: a scheduled post falls due, an event ends, the date turns).
A later build whose clock lies in that window and finds every file's metadata the same has nothing
to do: output/ already holds exactly what it would write. Anything else builds as usual.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import time as systime
from array import array
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .basis import CACHE_DIR, RACY_SECONDS, code_version

MEMO_FILE = "unchanged.json"
FORMAT = 3  # 2: the folders listed, the outputs' numbers digested packed; 3: in two halves


@dataclass(frozen=True)
class Unchanged:
    """What the last build said, for a build that has nothing to do."""

    summary: dict
    notes: tuple[str, ...]


def tree_state(folder: Path, h, racy_after: float | None = None) -> bool:
    """Feed (path, size, times, inode) of every file under `folder` to `h`; False if one changed in the
    last RACY_SECONDS before `racy_after` (file times are coarse: such a file might change again unseen)."""
    steady = True
    stack = [os.fspath(folder)]
    while stack:
        current = stack.pop()
        try:
            with os.scandir(current) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as error:  # absent, or unreadable: the build itself says so
            h.update(f"{current}\0{error.errno}\0".encode("utf-8", "surrogatepass"))
            steady &= isinstance(error, FileNotFoundError)  # (an unreadable folder is a failed build's)
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                stack.append(entry.path)
                continue
            try:
                info = entry.stat()  # (follows links, as the build does)
            except OSError:
                h.update(f"{entry.path}\0unreadable\0".encode("utf-8", "surrogatepass"))
                continue
            if racy_after is not None and info.st_ctime >= racy_after - RACY_SECONDS:
                steady = False
            h.update(f"{entry.path}\0{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}:{info.st_ino}\0".encode("utf-8", "surrogatepass"))
    return steady


def inputs_state(project, options, racy_after: float | None = None) -> tuple[str, bool]:
    """Digest of the metadata of every file a build reads, of placard and of the options; and whether
    none changed in the last moments (see tree_state)."""
    h = hashlib.blake2b(digest_size=20)
    h.update(f"{FORMAT}\0{code_version()}\0{options!r}\0".encode())
    steady = True
    folders = (project.content, *project.template_layers.dirs, *project.static_layers.dirs)
    for folder in folders:
        steady &= tree_state(folder, h, racy_after)
    try:
        info = os.stat(project.config_file)
        h.update(f"site.yml\0{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}:{info.st_ino}\0".encode())
        steady &= racy_after is None or info.st_ctime < racy_after - RACY_SECONDS
    except OSError:
        h.update(b"site.yml\0absent\0")
    return h.hexdigest(), steady


def output_folders(files: list[str]) -> list[str]:
    """The folders of output/ that hold `files` (and output/ itself, as ''), in order: kept in the memo."""
    return sorted({"", *(os.path.dirname(name) for name in files)})


def outputs_state(out_dir: Path, files: list[str], folders: list[str]) -> str:
    """Digest of the metadata of the files a build wrote in output/ and of their folders (a file edited,
    deleted or added there changes one of them, and means a build).

    Only the numbers are digested, packed in arrays: the names are the memo's own lists, in their order.
    At 10,000 posts (33,000 files in 14,000 folders) this took 135 ms, nearly all of it the stat calls
    (threads, or paths relative to a folder's descriptor, were slower); at 100,000 posts (334,000 files),
    over a second. So the names are taken in two halves, the second by a forked process on the other
    core (split_work): each half is digested alone and the digest is of the two, however they ran."""
    base = os.fspath(out_dir) + os.sep
    names = [*folders, *files]
    half = len(names) // 2
    parts = split_work(functools.partial(stat_digest, base), names[:half], names[half:])
    if None in parts:
        return "changed"
    return hashlib.blake2b(b"".join(parts), digest_size=20).hexdigest()


def stat_digest(base: str, names: list[str]) -> bytes | None:
    """Digest of (size, mtime, ctime, inode) of each of these files or folders under `base`; None if one is gone."""
    numbers = array("q")
    try:
        for name in names:
            info = os.stat(base + name)
            numbers.extend((info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino))
    except OSError:
        return None
    except OverflowError:  # an inode number or a time beyond 64 signed bits (some file systems): as text
        try:
            stats = [os.stat(base + name) for name in names]
        except OSError:
            return None
        numbers = repr([(info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino) for info in stats]).encode()
    return hashlib.blake2b(numbers, digest_size=20).digest()


SPLIT_AT = 20_000  # files to stat below which a second process costs more than it saves (a fork is 1-20 ms)


def split_work(function, first: list, second: list) -> tuple:
    """(function(first), function(second)), the second in a forked process while this one does the first.
    `function` returns bytes (at most 255 of them) or None. Serially where there is no fork, for small
    lists, or if the child fails in any way."""
    if len(second) < SPLIT_AT or not hasattr(os, "fork"):
        return function(first), function(second)
    try:
        readable, writable = os.pipe()
    except OSError:
        return function(first), function(second)
    try:
        child = os.fork()
    except OSError:
        os.close(readable), os.close(writable)
        return function(first), function(second)
    if child == 0:  # (the child: report and leave at once, running nothing of the parent's at exit)
        status = 1
        try:
            os.close(readable)
            found = function(second)
            os.write(writable, b"\0" if found is None else bytes([1, len(found)]) + found)
            status = 0
        finally:
            os._exit(status)
    os.close(writable)
    try:
        mine = function(first)
        with os.fdopen(readable, "rb") as pipe:
            answer = pipe.read()
    finally:
        _, status = os.waitpid(child, 0)
    if status != 0 or not answer or (answer[0] == 1 and len(answer) != 2 + answer[1]):
        return mine, function(second)
    return mine, (None if answer[0] == 0 else answer[2:])


def memo_file(project) -> Path:
    return project.root / CACHE_DIR / MEMO_FILE


def find_unchanged(project, now: datetime, started: tuple[str, bool]) -> Unchanged | None:
    """The last build's summary if this build would write exactly what output/ holds, else None.
    `started` is begin_build's state of the inputs (read once: a build that goes on records the same)."""
    try:
        memo = json.loads(memo_file(project).read_text(encoding="utf-8"))
        if memo.get("format") != FORMAT:
            return None
        built, until = datetime.fromisoformat(memo["now"]), datetime.fromisoformat(memo["valid_until"])
        if not built <= now < until:
            return None
        if memo["inputs"] != started[0] or memo["outputs"] != outputs_state(project.output, memo["files"], memo["folders"]):
            return None
        return Unchanged(memo["summary"], tuple(memo["notes"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None  # no memo, or a damaged one: build as usual


def unchanged_report(project, now: datetime, started: tuple[str, bool], clock_started: float):
    """The report of a build with nothing to do (output/ already holds what it would write), or None."""
    from ..project import BuildReport, BuildSummary

    kept = find_unchanged(project, now, started)
    if kept is None:
        return None
    milliseconds = round((systime.perf_counter() - clock_started) * 1000)
    return BuildReport(BuildSummary.from_dict(kept.summary["site"]), kept.summary["pages"], kept.summary["files"], milliseconds,
                       kept.notes, unchanged=True)


def begin_build(project, options) -> tuple[str, bool]:
    """The inputs' state as the build starts (a file saved during the build must not count as built)."""
    return inputs_state(project, options, racy_after=systime.time())


def record_build(project, started: tuple[str, bool], now: datetime, valid_until: datetime, files: list[str], summary: dict,
                 notes: tuple[str, ...]) -> None:
    """Remember a finished build for the next one; forget it when its inputs were too fresh to trust."""
    file = memo_file(project)
    inputs, steady = started
    try:
        if not steady or valid_until <= now:
            file.unlink(missing_ok=True)
            return
        files = sorted(files)
        folders = output_folders(files)
        memo = {"format": FORMAT, "inputs": inputs, "outputs": outputs_state(project.output, files, folders), "now": now.isoformat(),
                "valid_until": valid_until.isoformat(), "summary": summary, "notes": list(notes), "files": files, "folders": folders}
        temporary = file.with_suffix(".tmp")
        temporary.write_text(json.dumps(memo), encoding="utf-8")
        os.replace(temporary, file)
    except OSError:
        pass  # only the next build's shortcut is lost; it builds as usual
