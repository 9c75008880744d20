"""`placard theme diff` and `placard theme copy`: a site's overrides beside the theme's current files.

After upgrading placard, a maintainer sees what changed under the files the site made its own and
merges by hand only those; every file the site does not override follows the upgrade by itself.
"""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

from .catalogue import CATALOGUE_DIR, read_entries
from .errors import BuildError, Problem

PARTS = ("templates", "static")


def overridden_files(root: Path, theme: Path) -> list[tuple[str, Path, Path | None]]:
    """(name, the site's file, the theme's file or None) for each file in the site's templates/ and static/."""
    found = []
    for part in PARTS:
        folder = root / part
        if not folder.is_dir():
            continue
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                name = f"{part}/{file.relative_to(folder).as_posix()}"
                default = theme / name
                found.append((name, file, default if default.is_file() else None))
    return found


def diff_theme(root: Path, theme: Path) -> str:
    """How each of the site's overrides differs from the theme's file of the same name."""
    chunks = []
    for name, own, default in overridden_files(root, theme):
        if default is None:
            chunks.append(f"{name}: the site's own file (the theme has none of that name)\n")
        elif name.startswith(f"templates/{CATALOGUE_DIR}/") and name.endswith(".po"):
            chunks.append(diff_catalogue(name, own, default))
        elif own.read_bytes() == default.read_bytes():
            chunks.append(f"{name}: the same as the theme's; delete it to follow future fixes\n")
        else:
            chunks.append(diff_text(name, own, default))
    return "".join(chunks) or "The site overrides nothing: every template and static file is the theme's.\n"


def diff_text(name: str, own: Path, default: Path) -> str:
    """A unified diff from the theme's file to the site's (a binary file: only that they differ)."""
    try:
        theirs = default.read_text(encoding="utf-8").splitlines(keepends=True)
        ours = own.read_text(encoding="utf-8").splitlines(keepends=True)
    except UnicodeDecodeError:
        return f"{name}: differs from the theme's (binary file)\n"
    lines = difflib.unified_diff(theirs, ours, f"placard theme: {name}", f"this site: {name}")
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def diff_catalogue(name: str, own: Path, default: Path) -> str:
    """The messages the site words differently, and those the theme no longer has."""
    try:
        ours, theirs = read_entries(own), read_entries(default)
    except (ValueError, OSError) as exc:
        return f"{name}: cannot be compared ({exc})\n"
    lines = []
    for msgid, entry in ours.items():
        if msgid not in theirs:
            lines.append(f'{name}:{entry.line}: "{msgid}": the theme no longer uses this message; reword or delete it\n')
        elif theirs[msgid].text != entry.text:
            lines.append(f'{name}:{entry.line}: "{msgid}": the site says "{entry.text}", the theme "{theirs[msgid].text}"\n')
        else:
            lines.append(f'{name}:{entry.line}: "{msgid}": the same as the theme\'s; delete it to follow future fixes\n')
    return "".join(lines)


def copy_from_theme(root: Path, theme: Path, name: str) -> Path:
    """Make one theme file the site's own (`templates/post.html`), to change it; never overwrites."""
    default = theme / name
    if not name.startswith(tuple(f"{part}/" for part in PARTS)) or ".." in Path(name).parts or not default.is_file():
        available = ", ".join(sorted(f"{part}/{f.relative_to(theme / part).as_posix()}" for part in PARTS for f in (theme / part).rglob("*") if f.is_file())[:8])
        raise BuildError([Problem(name, None, "", f"is not a file of placard's theme; name one such as {available}, ...")])
    target = root / name
    if target.exists():
        raise BuildError([Problem(name, None, "", "is already the site's own; nothing was changed (`placard theme diff` compares it)")])
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(default, target)
    return target
