"""What every layer of the cache rests on: where it lives, which file times it trusts, and the version
of the code that wrote it. Light on purpose (the standard library only): the nothing-changed check
(unchanged.py) decides from these without importing the stages.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import zoneinfo
from pathlib import Path

CACHE_DIR = ".cache"
RACY_SECONDS = 2.0  # a file changed this recently is not trusted: file times are coarse (git's "racy clean")


def code_version() -> str:
    """Everything outside the project that shapes the output: placard itself, Python, the installed
    distributions and the time zone data."""
    return (f"placard {placard_fingerprint()}; python {sys.version.split()[0]}; {' '.join(installed_distributions())}; "
            f"zoneinfo {system_tz_version()}")


def placard_fingerprint() -> str:
    """placard's version and, from its package metadata, the hash of every file it installed (a wheel's
    RECORD). An editable install or a checkout records no hashes of the code, which changes without a
    new version: there the names, sizes and modification times of the package's files stand in (their
    metadata, never their text: no code reads placard's source at run time)."""
    from importlib import metadata

    from .. import installed_version

    version = installed_version()
    try:
        record = metadata.distribution("placard").read_text("RECORD") or ""
    except metadata.PackageNotFoundError:
        record = ""
    if "placard/pipeline.py," in record:  # a regular install: its RECORD hashes every module and theme file
        return f"{version} {hashlib.blake2b(record.encode(), digest_size=20).hexdigest()}"
    h = hashlib.blake2b(digest_size=20)
    package = Path(__file__).resolve().parents[1]
    for file in sorted(package.rglob("*")):
        if file.is_file() and "__pycache__" not in file.parts:
            info = file.stat()
            h.update(f"{file.relative_to(package).as_posix()}\0{info.st_size}\0{info.st_mtime_ns}\0".encode())
    return f"{version} source {h.hexdigest()}"


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
