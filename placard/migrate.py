"""`placard migrate [--dry-run]`: bring a site made with an older placard up to this one, file by file.

Each step lists what it would change (`--dry-run` stops there) and then changes it. The steps are
safe to run twice: a site already up to date gets "nothing to change".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import installed_version
from .theme_diff import overridden_files


@dataclass(frozen=True)
class Change:
    """One change to one file: what a campaigner reads, and how it is made."""

    path: str
    what: str
    make: Callable[[], None]


def plan_migration(root: Path, theme: Path) -> list[Change]:
    """Every change the site needs, in order."""
    return [*state_version(root), *drop_identical_overrides(root, theme)]


def state_version(root: Path) -> list[Change]:
    """site.yml says which placard it was made with (placard 0.1.0 reads it; earlier sites had none),
    or says this version once the site has migrated."""
    file = root / "site.yml"
    text = file.read_text(encoding="utf-8")
    version = installed_version()
    match = re.search(r"(?m)^placard_version:[ \t]*(\S+)[ \t]*$", text)
    if match and match.group(1).strip("'\"") == version:
        return []
    if match:
        new = text[: match.start(1)] + version + text[match.end(1):]
        what = f"placard_version: {match.group(1)} -> {version}"
    else:
        new = f"# The placard version this site was made with (placard migrate keeps it current).\nplacard_version: {version}\n" + text
        what = f"add 'placard_version: {version}' at the top (the placard version the site now matches)"
    return [Change("site.yml", what, lambda: file.write_text(new, encoding="utf-8"))]


def drop_identical_overrides(root: Path, theme: Path) -> list[Change]:
    """Templates and static files that are byte for byte the theme's: a copy would hide every later fix
    (placard 0.1.0 moved the default templates into the package; older sites carried copies)."""
    changes = []
    for name, own, default in overridden_files(root, theme):
        if default is not None and own.read_bytes() == default.read_bytes():
            changes.append(Change(name, "delete: the same as placard's theme, which now provides it", own.unlink))
    return changes


def run_migration(root: Path, theme: Path, dry_run: bool, out) -> int:
    """Print each change (and make it unless a dry run); 0 when done or nothing to do."""
    changes = plan_migration(root, theme)
    if not changes:
        print(f"Nothing to change: the site matches placard {installed_version()}.", file=out)
        return 0
    for change in changes:
        print(f"{change.path}: {change.what}", file=out)
        if not dry_run:
            change.make()
    count = f"{len(changes)} change{'s' if len(changes) != 1 else ''}"
    print(f"Dry run: {count} listed, nothing written; run `placard migrate` to make them." if dry_run
          else f"Made {count}; rebuild to check (placard build), and review with git diff.", file=out)
    return 0
