"""Output stage: a guarded in-memory map of output path -> bytes, and the one place that writes.

The site is written to a fresh folder beside output/ and swapped in only when complete, so a
failed or interrupted build leaves the last good site exactly as it was.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import tempfile
from pathlib import Path


class OutputPathError(ValueError):
    """A path that would escape output/ or be written twice; `origin` names the file to fix."""

    def __init__(self, message: str, origin: str = ""):
        super().__init__(message)
        self.origin = origin


class Output:
    """Output path -> bytes. Refuses paths outside the site and paths written twice."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.origins: dict[str, str] = {}

    def add(self, path: str, data: bytes | str, origin: str = "") -> None:
        """Add one file; `origin` names what produced it, for the duplicate message."""
        try:
            clean = check_output_path(path)
        except OutputPathError as exc:
            raise OutputPathError(str(exc), origin) from None
        if clean in self.files:
            first = self.origins[clean] or "an earlier file"
            blame, other = (first, origin) if first.startswith("content/") and not origin.startswith("content/") else (origin, first)
            raise OutputPathError(f"both this file and {other} would be written to {clean}; give one a different slug", blame)
        self.files[clean] = data.encode("utf-8") if isinstance(data, str) else data
        self.origins[clean] = origin

    def __len__(self) -> int:
        return len(self.files)


def check_output_path(path: str) -> str:
    """Normalise a relative POSIX path and refuse anything that leaves the output folder."""
    if not path or path.startswith(("/", "\\")) or "\\" in path or ":" in path or "\x00" in path:
        raise OutputPathError(f"refusing to write '{path}': output paths must be relative")
    clean = posixpath.normpath(path)
    if clean.startswith("..") or clean == ".":
        raise OutputPathError(f"refusing to write '{path}': it is outside output/")
    return clean


def write_output(files: dict[str, bytes], out_dir: Path) -> None:
    """Write the whole site beside `out_dir`, then swap it in; the old site survives any failure."""
    out_dir = out_dir.resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".output.new-", dir=out_dir.parent))
    try:
        for rel, data in sorted(files.items()):
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            write_file(target, data, out_dir / rel)
        swap_in(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


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
    """Replace out_dir by staging with two renames; the old tree is removed only afterwards."""
    old = None
    if out_dir.exists():
        old = Path(tempfile.mkdtemp(prefix=".output.old-", dir=out_dir.parent))
        try:
            os.rename(out_dir, old / "site")
        except BaseException:
            old.rmdir()
            raise
    try:
        os.rename(staging, out_dir)
    except BaseException:
        if old is not None:
            os.rename(old / "site", out_dir)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
