"""Which placard versions changed the content format, and how a site's `placard_version` is checked.

A site states in site.yml the placard version it was made with. A newer placard whose content format
changed since then stops the build and says to run `placard migrate --dry-run`; an older placard than
the site needs says to upgrade. Neither ever builds a site silently wrong.
"""

from __future__ import annotations

from . import installed_version
from .schema import FieldError

# placard versions whose content format a site older than them must migrate to (placard/migrate.py
# holds the steps). Empty: no released version has changed the format yet.
FORMAT_CHANGES: tuple[str, ...] = ()


def version_tuple(text: str) -> tuple[int, ...]:
    """'0.10.2' -> (0, 10, 2), for comparing; raises ValueError on anything else."""
    parts = text.strip().split(".")
    if not 1 <= len(parts) <= 3 or not all(part.isdigit() for part in parts):
        raise ValueError(text)
    return tuple(int(part) for part in parts) + (0,) * (3 - len(parts))


def parse_placard_version(value) -> str:
    """site.yml's `placard_version`: a version like 0.1.0, not newer than the installed placard, with
    no content-format change since it that the site has not migrated to."""
    text = str(value).strip()
    try:
        stated = version_tuple(text)
    except ValueError:
        raise FieldError(f"'{text}' is not a version number; write the placard version the site was made with, e.g. {installed_version()}") from None
    installed = installed_version()
    if stated > version_tuple(installed):
        raise FieldError(f"this site was made with placard {text}, newer than the installed {installed}; "
                         f"upgrade placard (pip install -U placard, or the version in requirements.txt)")
    pending = [change for change in FORMAT_CHANGES if version_tuple(change) > stated]
    if pending:
        raise FieldError(f"placard {pending[-1]} changed the content format since {text}; run `placard migrate --dry-run` "
                         f"to see what to change, file by file, then `placard migrate` to change it")
    return text
