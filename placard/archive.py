"""Archive stage: a dated zip of the offline build (links end in index.html), for mirrors and USB sticks.

The zip is reproducible: entries are sorted and stamped with the build time, so the same
content and `now` give the same bytes and the same SHA-256 checksum.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import zipfile
from datetime import datetime
from pathlib import Path

from .pipeline import Project, build_site
from .render import RenderOptions
from .slugs import make_slug


def archive_name(title: str, now: datetime) -> str:
    """'solidarity-with-the-zhanaozen-oil-workers-2026-11-26'."""
    return f"{make_slug(title, 60, fallback='site')}-{now:%Y-%m-%d}"


def make_zip(files: dict[str, bytes], folder: str, now: datetime) -> bytes:
    """Zip {path: bytes} under one top folder, entries sorted and dated `now`."""
    buffer = io.BytesIO()
    stamp = (max(now.year, 1980), now.month, now.day, now.hour, now.minute, now.second)
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, data in sorted(files.items()):
            info = zipfile.ZipInfo(f"{folder}/{path}", date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def write_atomic(target: Path, data: bytes) -> None:
    """Write a file via a temporary neighbour and a rename, so a reader never sees half of it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_archive(project: Project, now: datetime, dist: Path | None = None) -> tuple[Path, Path]:
    """Build the offline copy and write dist/<name>-<date>.zip and its .sha256 (sha256sum format)."""
    site, output = build_site(project, now, options=RenderOptions(index_html=True))
    name = archive_name(site.config.title, now)
    data = make_zip(output.files, name, now)
    dist = dist or project.root / "dist"
    zip_path = dist / f"{name}.zip"
    sum_path = dist / f"{name}.zip.sha256"
    write_atomic(zip_path, data)
    write_atomic(sum_path, f"{hashlib.sha256(data).hexdigest()}  {zip_path.name}\n".encode())
    return zip_path, sum_path
