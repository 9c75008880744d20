"""The preview's rendering order: the pages the browsers show first, shown as soon as they are done,
then the rest; a later save stops a rebuild that has become pointless.

After a template or stylesheet edit every page renders again, and at 10,000 posts in the preview (one
process: it serves pages from threads, so it cannot fork workers) that took 16 s before the browser saw
anything. After an edit to one post, the pages that show it render first too, and are shown before the
site's data files, share cards and redirects are made (half of such a rebuild at 10,000 posts). Hugo's "fast render" answers that by rendering only the pages being viewed;
here those pages come first and go to the browser at once, while the same rebuild goes on with every
other page in the background, so the site it finally serves is the whole, correct one. Only the session
(placard.incremental.parallel) knows about this; the stages render pages in whatever order they are
given.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass


class Superseded(Exception):
    """A later save came while this rebuild was rendering: it is abandoned, and the next one starts."""


@dataclass(frozen=True)
class Priority:
    """What the preview server asks of a rebuild's rendering (all three are called from the build's thread)."""

    wanted: Callable[[], Collection[str]]  # the output paths the browsers show now
    show: Callable[[Mapping[str, bytes]], None]  # hand over those pages, rendered, before the rest
    superseded: Callable[[], bool]  # whether a later save is waiting
    changed: Callable[[], Collection[str]] = lambda: ()  # the files saved since the last good build (absolute paths): see early.py


def order_first(todo: list[int], paths: list[str], priority: Priority | None) -> tuple[list[int], set[str]]:
    """`todo` (page numbers, `paths` their output paths) with the wanted pages first, and the paths to show
    early (none when there is no preview or no browser on a page to render). Even the browser's page
    alone is shown early: the data files, share cards and redirects are still to be made after it."""
    if priority is None:
        return todo, set()
    wanted = set(priority.wanted())
    first = [number for number in todo if paths[number] in wanted]
    return first + [number for number in todo if paths[number] not in wanted], {paths[number] for number in first}


def check_superseded(priority: Priority | None) -> None:
    """Raise Superseded if a later save is waiting."""
    if priority is not None and priority.superseded():
        raise Superseded()
