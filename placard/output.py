"""Output stage: a guarded in-memory map of output path -> bytes, and the one place that writes.

The site is written to a fresh folder beside output/ and swapped in only when complete, so a
failed or interrupted build leaves the last good site exactly as it was. On Linux the swap is one
system call, renameat2(RENAME_EXCHANGE): output/ is the old site or the new one at every instant,
a real folder throughout (static hosts and rsync follow no symbolic link). Elsewhere (or on a file
system without it) it takes two renames, and a kill between them leaves output/ missing until the
next build puts the last good site back. Folders a killed build left beside output/
(.output.new-<pid>-*, .output.old-<pid>-*) are removed by the next build.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import posixpath
import shutil
import signal
import stat
import sys
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Mapping
from typing import Callable, Iterator


class OutputPathError(ValueError):
    """A path that would escape output/ or be written twice; `origin` names the file to fix."""

    def __init__(self, message: str, origin: str = ""):
        super().__init__(message)
        self.origin = origin


@dataclass(frozen=True)
class Staged:
    """A file a render worker already wrote into the staging folder, at its own path."""

    size: int


class Kept:
    """The file output/<path> as the last build left it (its inputs are unchanged: the cache proved it)."""

    def __repr__(self) -> str:
        return "KEPT"


KEPT = Kept()
Made = bytes | Staged | Kept  # a file as a stage or the build's session made it


class Output:
    """Output path -> bytes. Refuses paths outside the site and paths written twice.

    Besides bytes in memory, a file can be `staged` (already written by a render worker into
    `staging`, the folder beside output/ that becomes the new site) or `kept` (the file already in
    output/, unchanged since the last build: the build cache proved its inputs are the same)."""

    def __init__(self, staging: Path | None = None) -> None:
        self.files: dict[str, bytes] = {}
        self.staged: dict[str, Staged] = {}
        self.kept: set[str] = set()
        self.origins: dict[str, str] = {}
        self.staging = staging
        self.notes: tuple[str, ...] = ()  # what the build says of these files that is not a problem (the summary shows it)

    def claim(self, path: str, origin: str) -> str:
        """The normalised path, if nothing else has it and it stays inside the site."""
        try:
            clean = check_output_path(path)
        except OutputPathError as exc:
            raise OutputPathError(str(exc), origin) from None
        if clean in self.origins:
            first = self.origins[clean] or "an earlier file"
            blame, other = (first, origin) if first.startswith("content/") and not origin.startswith("content/") else (origin, first)
            raise OutputPathError(f"both this file and {other} would be written to {clean}; give one a different slug", blame)
        self.origins[clean] = origin
        return clean

    def add(self, path: str, data: bytes | str, origin: str = "") -> None:
        """Add one file; `origin` names what produced it, for the duplicate message."""
        self.files[self.claim(path, origin)] = data.encode("utf-8") if isinstance(data, str) else data

    def add_staged(self, path: str, staged: Staged, origin: str = "") -> None:
        """A file a worker wrote to staging/<path>."""
        self.staged[self.claim(path, origin)] = staged

    def keep(self, path: str, origin: str = "") -> None:
        """The file output/<path> as it is."""
        self.kept.add(self.claim(path, origin))

    def put(self, path: str, made: Made, origin: str = "") -> None:
        """A file wherever it was made: bytes, written into staging (Staged) or output/'s own copy (KEPT)."""
        if isinstance(made, Staged):
            self.add_staged(path, made, origin)
        elif made is KEPT:
            self.keep(path, origin)
        else:
            self.add(path, made, origin)

    def paths(self) -> set[str]:
        return set(self.origins)

    def read(self, path: str, out_dir: Path | None = None) -> bytes:
        """A file's bytes, wherever it is: in memory, staged, or kept in `out_dir` (output/)."""
        if path in self.files:
            return self.files[path]
        if path in self.staged and self.staging is not None:
            return (self.staging / path).read_bytes()
        if path in self.kept and out_dir is not None:
            return (out_dir / path).read_bytes()
        raise KeyError(path)

    def reader(self, paths: list[str], out_dir: Path | None = None) -> "FileReader":
        """These files by path, each read only when asked for (see FileReader)."""
        return FileReader(self, [path for path in paths if path in self.origins], out_dir)

    def discard(self) -> None:
        """Remove the staging folder (a failed build: output/ was never touched)."""
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)

    def __len__(self) -> int:
        return len(self.origins)


NEW_PREFIX, OLD_PREFIX = ".output.new-", ".output.old-"  # then the pid of the build that made it


def staging_beside(out_dir: Path) -> Path:
    """A fresh, empty folder next to output/ (same file system, so it can be renamed into place),
    once the folders killed builds left there are gone (see remove_leftovers)."""
    out_dir = out_dir.resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(out_dir)
    return Path(tempfile.mkdtemp(prefix=f"{NEW_PREFIX}{os.getpid()}-", dir=out_dir.parent))


def remove_leftovers(out_dir: Path) -> None:
    """Remove the folders beside output/ left by builds that were killed (each a whole copy of the
    site), and, if output/ is missing because one was killed between the two renames of swap_in's
    fallback, put its last good site back first. A folder of a build still running is left alone."""
    leftovers = sorted(p for p in out_dir.parent.glob(".output.*-*") if p.name.startswith((NEW_PREFIX, OLD_PREFIX)) and not running(p.name))
    if not os.path.lexists(out_dir):
        for old in sorted(leftovers, key=lambda p: p.lstat().st_mtime_ns, reverse=True):  # the newest: the last good site
            if old.name.startswith(OLD_PREFIX) and (old / "site").is_dir():
                os.rename(old / "site", out_dir)
                break
    for leftover in leftovers:
        if leftover.is_symlink() or not leftover.is_dir():
            leftover.unlink(missing_ok=True)
        else:
            shutil.rmtree(leftover, ignore_errors=True)


def running(name: str) -> bool:
    """Whether the build that named a folder `.output.<new|old>-<pid>-...` may still be running: this
    process, or a live one. Folders without a pid (older versions) count as left over. Not probed
    outside POSIX (Windows' os.kill would end the process): there they stay."""
    pid = name.split("-")[1]
    if not pid.isdigit():
        return False
    if os.name != "posix":
        return True
    if int(pid) == os.getpid():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # alive, another user's
    return True


def write_staged(staging: Path, path: str, data: bytes) -> Staged:
    """Write one finished file into the staging folder (from a render worker).

    Three system calls for the file where open() makes seven (it also asks for its size, whether it
    is a terminal and its position), and one mkdir for its folder, which (a page per folder) is
    usually new (the 11,800 pages of a cold build spent 1.3 s of CPU writing; about 0.3 s less now)."""
    target = os.path.join(staging, path)
    folder = os.path.dirname(target)
    try:
        os.mkdir(folder)
    except FileExistsError:
        pass
    except FileNotFoundError:
        os.makedirs(folder, exist_ok=True)
    handle = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(handle, view):]
    finally:
        os.close(handle)
    return Staged(len(data))


def check_output_path(path: str) -> str:
    """Normalise a relative POSIX path and refuse anything that leaves the output folder."""
    if not path or path.startswith(("/", "\\")) or "\\" in path or ":" in path or "\x00" in path:
        raise OutputPathError(f"refusing to write '{path}': output paths must be relative")
    clean = posixpath.normpath(path)
    if clean.startswith("..") or clean == ".":
        raise OutputPathError(f"refusing to write '{path}': it is outside output/")
    return clean


IN_PLACE_SHARE = 50  # when at most 1/50 of the files changed, they are replaced one by one


def write_output(output: Output | dict[str, bytes], out_dir: Path, known: set[str] | None = None) -> None:
    """Write the site to `out_dir`; the old site survives any failure, unchanged files are not touched.

    Nothing changed: nothing is written. A few files changed (one post edited): each is written
    beside output/ first and only then renamed into place, so a failed write changes nothing.
    Otherwise the whole site is written beside output/ and swapped in (swap_in). First, folders that
    killed builds left beside output/ are removed (remove_leftovers).
    `known` lists the files the last build wrote there (from the cache), saving a walk of output/."""
    if isinstance(output, dict):
        files, output = output, Output()
        for path, data in files.items():
            output.add(path, data)
    out_dir = out_dir.resolve()
    try:
        remove_leftovers(out_dir)
        existing = (list_files(out_dir) if known is None else known) if out_dir.is_dir() else None
        if existing is not None:
            base = str(out_dir) + os.sep
            changed = [rel for rel in sorted(output.files) if not same_bytes(base + rel, output.files[rel])]
            changed += [rel for rel in sorted(output.staged) if not same_file(base + rel, os.path.join(output.staging, rel), output.staged[rel].size)]
            removed = sorted(existing - output.paths())
            if not changed and not removed:
                return
            if len(changed) + len(removed) <= len(output) // IN_PLACE_SHARE and fits_in_place(out_dir, changed, existing):
                replace_files(output, changed, removed, out_dir)
                return
        write_whole(output, out_dir)
    finally:
        output.discard()


def write_whole(output: Output, out_dir: Path) -> None:
    """Write the whole site beside `out_dir`, then swap it in; the old site survives any failure."""
    staging = output.staging or staging_beside(out_dir)
    output.staging = staging  # removed by write_output whatever happens
    made: set[Path] = set()  # folders made in staging: one mkdir per folder, not per file

    def folder_for(target: Path) -> Path:
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        return target

    previous = out_dir.is_dir()  # not on a first build: then nothing can be kept
    for rel, data in sorted(output.files.items()):
        write_file(folder_for(staging / rel), data, out_dir / rel)
    for rel, staged in output.staged.items() if previous else ():  # keep the previous build's copy (its inode, its mtime) if identical
        link_if_same(staging / rel, out_dir / rel, staged.size)
    for rel in sorted(output.kept):
        copy_previous(out_dir / rel, folder_for(staging / rel))
    swap_in(staging, out_dir)


def list_files(folder: Path) -> set[str]:
    """Every file under a folder (links included, not followed), as relative POSIX paths."""
    found: set[str] = set()
    pending = [("", str(folder))]
    while pending:
        prefix, path = pending.pop()
        with os.scandir(path) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    pending.append((prefix + entry.name + "/", entry.path))
                else:
                    found.add(prefix + entry.name)
    return found


def same_bytes(path: Path, data: bytes) -> bool:
    """Whether a regular file (not a link) already holds exactly these bytes."""
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size != len(data):
            return False
        with open(path, "rb") as file:
            return file.read() == data
    except OSError:
        return False


def same_file(path: str, staged: str, size: int) -> bool:
    """Whether a regular file (not a link) already holds exactly the bytes of a staged file."""
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size != size:
            return False
        with open(path, "rb") as old, open(staged, "rb") as new:
            return old.read() == new.read()
    except OSError:
        return False


def link_if_same(staged: Path, previous: Path, size: int) -> None:
    """Replace a staged file by a hard link to the previous build's copy when both hold the same bytes."""
    if same_file(str(previous), str(staged), size):
        try:
            temp = staged.with_name(staged.name + ".link")
            os.link(previous, temp)
            os.replace(temp, staged)
        except OSError:
            pass  # a file system without hard links: the fresh copy stays


def copy_previous(previous: Path, target: Path) -> None:
    """Carry an unchanged file into the new tree: a hard link (same inode and mtime), else a copy."""
    try:
        os.link(previous, target)
    except OSError:
        shutil.copy2(previous, target)


def fits_in_place(out_dir: Path, changed: list[str], existing: set[str]) -> bool:
    """Whether the changed files can be renamed into the current tree (no file stands where a folder must go)."""
    for rel in changed:
        parts = rel.split("/")
        if any("/".join(parts[:n]) in existing for n in range(1, len(parts))) or (out_dir / rel).is_dir():
            return False
    return True


def replace_files(output: Output, changed: list[str], removed: list[str], out_dir: Path) -> None:
    """Write the changed files beside output/, then rename each into place and delete removed files.

    Every byte is on disk before output/ changes at all, so a full disk or Ctrl-C while writing
    leaves the old site; the renames that follow take milliseconds and each is atomic, and Ctrl-C
    or a kill (SIGTERM, SIGHUP) waits for the last of them. Only SIGKILL or a power cut within those
    milliseconds leaves old and new files side by side (the next build then renders the pages that
    differ again: their files no longer match what the cache noted)."""
    staging = output.staging or staging_beside(out_dir)
    output.staging = staging  # removed by write_output whatever happens
    for rel in changed:
        if rel in output.files:
            (staging / rel).parent.mkdir(parents=True, exist_ok=True)
            (staging / rel).write_bytes(output.files[rel])
    for rel in changed:
        (out_dir / rel).parent.mkdir(parents=True, exist_ok=True)
    with signals_deferred():
        for rel in changed:
            os.replace(staging / rel, out_dir / rel)
        for rel in removed:
            (out_dir / rel).unlink(missing_ok=True)
            remove_empty_folders((out_dir / rel).parent, out_dir)


def remove_empty_folders(folder: Path, out_dir: Path) -> None:
    """Remove a folder left empty by a removed page, and its parents up to output/."""
    while folder != out_dir and out_dir in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def write_file(target: Path, data: bytes, previous: Path) -> None:
    """Write one file, or hard-link the previous build's copy when the bytes are the same.

    An unchanged file keeps its inode and modification time, so rsync-style deploys and
    browser caches see only what really changed.
    """
    try:
        if previous.is_file() and not previous.is_symlink() and previous.stat().st_size == len(data) and previous.read_bytes() == data:
            os.link(previous, target)
            return
    except OSError:
        pass  # a file system without hard links: write a fresh copy instead
    target.write_bytes(data)


def swap_in(staging: Path, out_dir: Path) -> None:
    """Put the staging folder in out_dir's place: one atomic exchange where the system has it, else
    two renames (see the module's docstring); the old tree is removed only afterwards."""
    if not os.path.lexists(out_dir):
        os.rename(staging, out_dir)  # a first build: one rename, atomic
        return
    with signals_deferred():
        exchanged = exchange_paths(staging, out_dir)
        if not exchanged:
            old = rename_twice(staging, out_dir)
    if exchanged:
        shutil.rmtree(staging, ignore_errors=True)  # the old site is there now
    else:
        shutil.rmtree(old, ignore_errors=True)


def rename_twice(staging: Path, out_dir: Path) -> Path:
    """The fallback: output/ into a folder beside it, then staging into output/; returns the former's folder."""
    old = Path(tempfile.mkdtemp(prefix=f"{OLD_PREFIX}{os.getpid()}-", dir=out_dir.parent))
    try:
        os.rename(out_dir, old / "site")
    except BaseException:
        old.rmdir()
        raise
    try:
        os.rename(staging, out_dir)
    except BaseException:
        os.rename(old / "site", out_dir)
        raise
    return old


AT_FDCWD, RENAME_EXCHANGE = -100, 2  # <fcntl.h>, <linux/fs.h>


def exchange_paths(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 with RENAME_EXCHANGE, Linux 3.15 and glibc 2.28);
    False where the system or the file system cannot (then nothing moved)."""
    function = renameat2()
    if function is None:
        return False
    if function(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):  # an old kernel, a file system without it (some FUSE, NFS)
        return False
    raise OSError(code, os.strerror(code), str(b))


@functools.lru_cache(maxsize=None)
def renameat2() -> Callable[..., int] | None:
    """The C library's renameat2, or None (not Linux, or a C library without it)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


DEFERRED_SIGNALS = {signal.SIGINT, signal.SIGTERM, *([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])}


@contextmanager
def signals_deferred() -> Iterator[None]:
    """Ctrl-C and kill (not SIGKILL) wait until the block is done: output/ is never left half changed.
    (Only in the main thread of a POSIX process, where Python handles signals.)"""
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield
        return
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, DEFERRED_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


class FileReader(Mapping):
    """Some of an Output's files, path -> bytes, each read when asked for (from memory, the staging
    folder or output/) and not kept: the pages Pagefind indexes (160 MB at 10,000 posts) are never all
    in memory at once."""

    def __init__(self, output: Output, paths: list[str], out_dir: Path | None) -> None:
        self.output, self.paths, self.out_dir = output, paths, out_dir
        self.known = set(paths)

    def __getitem__(self, path: str) -> bytes:
        if path not in self.known:
            raise KeyError(path)
        return self.output.read(path, self.out_dir)

    def __iter__(self) -> Iterator[str]:
        return iter(self.paths)

    def __len__(self) -> int:
        return len(self.paths)

    def is_kept(self, path: str) -> bool:
        """Whether the file is output/'s own, as the last build left it (Output.keep)."""
        return path in self.output.kept
