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
import signal
import time as systime
from array import array
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .basis import CACHE_DIR, RACY_SECONDS, code_version

MEMO_FILE = "unchanged.json"
FORMAT = 4  # 2: the outputs' numbers digested packed; 3: in two halves; 4: output/'s files only, not their folders


@dataclass(frozen=True)
class Unchanged:
    """What the last build said, for a build that has nothing to do."""

    summary: dict
    notes: tuple[str, ...]


def tree_state(folder: Path, h, racy_after: float | None = None) -> bool:
    """Feed (path, size, times, inode) of every file under `folder` to `h`; False if one changed in the
    last RACY_SECONDS before `racy_after` (file times are coarse: such a file might change again unseen).
    A folder at a time: its path, its files' names, then their numbers packed (as outputs_state does)."""
    steady = True
    stack = [os.fspath(folder)]
    fresh_after = None if racy_after is None else racy_after - RACY_SECONDS
    while stack:
        current = stack.pop()
        try:
            with os.scandir(current) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as error:  # absent, or unreadable: the build itself says so
            h.update(f"{current}\0{error.errno}\0".encode("utf-8", "surrogatepass"))
            steady &= isinstance(error, FileNotFoundError)  # (an unreadable folder is a failed build's)
            continue
        names, numbers = [current], array("q")
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                stack.append(entry.path)
                continue
            try:
                info = entry.stat()  # (follows links, as the build does)
            except OSError:
                names.append(entry.name + "\0unreadable")
                continue
            if fresh_after is not None and info.st_ctime >= fresh_after:
                steady = False
            names.append(entry.name)
            try:
                numbers.extend((info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino))
            except OverflowError:  # (beyond 64 signed bits: as text, with the names)
                names.append(f"{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}:{info.st_ino}")
        h.update("\0".join(names).encode("utf-8", "surrogatepass") + b"\0\0" + numbers.tobytes())
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


def outputs_state(out_dir: Path, files: list[str]) -> str:
    """Digest of the metadata of the files a build wrote in output/ (a file edited, replaced or deleted
    there changes it, and means a build). Not of their folders: a file added to output/ by hand changes
    its folder only, and a build leaves such a file alone (it removes only what the last build wrote), so
    it would write exactly what is there; statting the 132,000 folders of 100,000 posts cost 0.3 s.

    Only the numbers are digested, packed in arrays: the names are the memo's own list, in its order.
    At 10,000 posts (33,000 files) this took 135 ms, nearly all of it the stat calls (threads, or paths
    relative to a folder's descriptor, were slower); at 100,000 posts (334,000 files), 1.5 s. So the
    list is digested in two parts, the last two thirds by a forked process on the other core (Aside),
    while this one walks the inputs and then states the first third (check_unchanged); the digest is
    of the two parts' digests, however they ran."""
    base = os.fspath(out_dir) + os.sep
    cut = first_part(files)
    aside = Aside(functools.partial(stat_digest, base), files[cut:])
    return joined_digest(stat_digest(base, files[:cut]), aside.result())


def first_part(files: list[str]) -> int:
    """Where outputs_state's first part (this process's) ends."""
    return len(files) // 3


def joined_digest(*parts: bytes | None) -> str:
    return "changed" if None in parts else hashlib.blake2b(b"".join(parts), digest_size=20).hexdigest()


def stat_digest(base: str, names: list[str]) -> bytes | None:
    """Digest of (size, mtime, ctime, inode) of each of these files under `base`; None if one is gone."""
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


ASIDE_AT = 20_000  # files to stat below which a second process costs more than it saves (a fork is 1-20 ms)


class Aside:
    """`function(names)` (bytes of at most 255, or None) in a forked process on the other core, started now;
    run here instead, when its result is asked, where there is no fork, for short lists, or if the child fails."""

    def __init__(self, function, names: list[str]) -> None:
        self.function, self.names, self.child, self.pipe = function, names, None, None
        if len(names) < ASIDE_AT or not hasattr(os, "fork"):
            return
        try:
            readable, writable = os.pipe()
        except OSError:
            return
        try:
            child = os.fork()
        except OSError:
            os.close(readable), os.close(writable)
            return
        if child == 0:  # (the child: report and leave at once, running nothing of the parent's at exit)
            status = 1
            try:
                os.close(readable)
                found = function(names)
                os.write(writable, b"\0" if found is None else bytes([1, len(found)]) + found)
                status = 0
            finally:
                os._exit(status)
        os.close(writable)
        self.child, self.pipe = child, os.fdopen(readable, "rb")

    def result(self) -> bytes | None:
        if self.child is None:
            return self.function(self.names)
        try:
            answer = self.pipe.read()
        finally:
            status = self.collect()
        if status != 0 or not answer or (answer[0] == 1 and len(answer) != 2 + answer[1]):
            return self.function(self.names)
        return None if answer[0] == 0 else answer[2:]

    def cancel(self) -> None:
        """Not needed after all (an input changed): the child is stopped."""
        if self.child is not None:
            try:
                os.kill(self.child, signal.SIGKILL)
            except OSError:
                pass
            self.collect()

    def collect(self) -> int:
        child, self.child = self.child, None
        self.pipe.close()
        return os.waitpid(child, 0)[1]


def memo_file(project) -> Path:
    return project.root / CACHE_DIR / MEMO_FILE


def read_memo(project, now: datetime) -> dict | None:
    """The last build's memo if it is of this format and this build's clock lies in its window, else None."""
    try:
        memo = json.loads(memo_file(project).read_text(encoding="utf-8"))
        if memo.get("format") != FORMAT:
            return None
        built, until = datetime.fromisoformat(memo["now"]), datetime.fromisoformat(memo["valid_until"])
        if not built <= now < until or not isinstance(memo["files"], list):
            return None
        return memo
    except (OSError, ValueError, KeyError, TypeError):
        return None  # no memo, or a damaged one: build as usual


def check_unchanged(project, options, now: datetime) -> tuple[tuple[str, bool], Unchanged | None]:
    """The inputs' state as the build starts (begin_build), and the last build's summary if this build would
    write exactly what output/ holds (else None). The last two thirds of output/'s files are checked by
    another process while this one reads the inputs (see outputs_state)."""
    memo = read_memo(project, now)
    if memo is None:
        return begin_build(project, options), None
    files = memo["files"]
    cut = first_part(files)
    base = os.fspath(project.output) + os.sep
    aside = Aside(functools.partial(stat_digest, base), files[cut:])
    try:
        started = begin_build(project, options)
        if memo.get("inputs") != started[0]:
            return started, None
        if memo.get("outputs") != joined_digest(stat_digest(base, files[:cut]), aside.result()):
            return started, None
        return started, Unchanged(memo["summary"], tuple(memo["notes"]))
    except (KeyError, TypeError):
        return started, None  # a damaged memo: build as usual
    finally:
        aside.cancel()


def unchanged_report(project, options, now: datetime, clock_started: float):
    """The inputs' state (begin_build), and the report of a build with nothing to do (output/ already
    holds what it would write) or None."""
    from ..project import BuildReport, BuildSummary

    started, kept = check_unchanged(project, options, now)
    if kept is None:
        return started, None
    milliseconds = round((systime.perf_counter() - clock_started) * 1000)
    return started, BuildReport(BuildSummary.from_dict(kept.summary["site"]), kept.summary["pages"], kept.summary["files"], milliseconds,
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
        memo = {"format": FORMAT, "inputs": inputs, "outputs": outputs_state(project.output, files), "now": now.isoformat(),
                "valid_until": valid_until.isoformat(), "summary": summary, "notes": list(notes), "files": files}
        temporary = file.with_suffix(".tmp")
        temporary.write_text(json.dumps(memo), encoding="utf-8")
        os.replace(temporary, file)
    except OSError:
        pass  # only the next build's shortcut is lost; it builds as usual
