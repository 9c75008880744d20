"""The preview's first look after a save: the pages the browsers show, rendered from the last good
build with the saved files read again, and shown before the rebuild starts.

A rebuild at 10,000 posts reads every file's metadata, indexes, checks and plans the whole site
before the first page renders (0.4 s on this machine, most of the 550 ms from a save to the browser
showing it). When every file saved since the last good build is the Markdown file of one of its
items, and each still reads as a valid item whose body converts without a problem, the browsers'
pages are rendered at once from the last build's plan (each page's variables name items by their
files: the saved ones resolve to the new items) and handed to the browser. The rebuild then runs as
always, and what it finally serves is the whole, correct site: a page it makes differently from the
early one (a new title in a list the page shows, a slug that moved it) reloads once more, and a
problem the rebuild finds is shown over it, as after any rebuild. Anything else saved (a template,
site.yml, a photo, a new or deleted file, a translation) is left to the rebuild alone.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..content import SECTIONS, TranslationStub, display_path, load_item
from ..errors import Problems
from ..markup import convert_checked, item_sources
from ..models import Site
from ..pages import PageSpec
from ..render import RenderInputs, TemplateProblem, finish_page, render_page
from .digest import PageContext
from .tracing import Trace


@dataclass(frozen=True)
class LastGood:
    """What the last good build rendered from: its inputs and its pages' specs by output path."""

    inputs: RenderInputs
    specs: Mapping[str, PageSpec]

    @functools.cached_property
    def positions(self) -> dict[str, tuple[str, int]]:
        """Each item's file -> (the Site list it is in, its place there): found once, not at every save."""
        site = self.inputs.site
        return {item.origin.path: (name, number) for name in SITE_LISTS for number, item in enumerate(getattr(site, name))}


SITE_LISTS = ("posts", "events", "pages", "entities", "translations")


def render_early(last: LastGood, root: Path, changed: Collection[str], wanted: Collection[str]) -> dict[str, bytes]:
    """The wanted pages (output paths) as the saved files (`changed`, absolute paths) make them over the last
    good build; {} when any saved file is not one of its items' Markdown, fails to read or convert, or a
    wanted page is not one of its pages (the rebuild then shows everything, as without this)."""
    specs = [last.specs.get(path) for path in wanted]
    if not changed or not specs or None in specs:
        return {}
    site, positions = last.inputs.site, last.positions
    fresh = {}
    for file in changed:
        display = display_path(Path(file), root)
        where = positions.get(display)
        item = reread_item(root, display, getattr(site, where[0])[where[1]] if where else None, site)
        if item is None:
            return {}
        fresh[display] = item
    bodies = converted_bodies(fresh.values())
    if bodies is None:
        return {}
    inputs = dataclasses.replace(last.inputs, site=with_items(site, fresh, positions), bodies=OverBodies(bodies, last.inputs.bodies))
    pages = {}
    for spec in specs:
        if isinstance(spec.context, PageContext):
            spec = dataclasses.replace(spec, context=spec.context.against(OverItems(fresh, spec.context.item_map)))
        try:
            pages[spec.path] = finish_page(spec, render_page(inputs, spec, Trace()))
        except TemplateProblem:
            return {}  # (the rebuild reports it, with the template's line)
    return pages


def reread_item(root: Path, display: str, before: Any, site: Site) -> Any:
    """A saved file read again as the same kind of item it was, or None (not an item's file, unreadable, not valid, a translation)."""
    parts = display.split("/")
    kind = SECTIONS.get(parts[1]) if len(parts) > 2 and parts[0] == "content" and display.endswith(".md") else None
    if before is None or kind is None or getattr(before, "original", None) is not None:
        return None
    try:
        data = (root / display).read_bytes()
    except OSError:
        return None
    problems = Problems()
    item = load_item(display, data, kind, site.config, problems)
    if problems.items or item is None or isinstance(item, TranslationStub) or type(item) is not type(before):
        return None
    return item


def converted_bodies(items) -> dict[str, str] | None:
    """The saved items' bodies and replies as checked HTML, or None if one has a problem."""
    html = {}
    for item in items:
        for key, source in item_sources(item).items():
            html[key], problems = convert_checked(source)
            if problems:
                return None
    return html


def with_items(site: Site, fresh: Mapping[str, Any], positions: Mapping[str, tuple[str, int]]) -> Site:
    """The site with the saved items in the places of the ones read from the same files."""
    lists = {}
    for path, item in fresh.items():
        name, number = positions[path]
        items = lists.get(name, getattr(site, name))
        lists[name] = items[:number] + (item,) + items[number + 1:]
    return dataclasses.replace(site, **lists)


class OverItems(Mapping):
    """The last build's items by file, with the saved ones over them."""

    def __init__(self, fresh: Mapping[str, Any], last: Mapping[str, Any]) -> None:
        self.fresh, self.last = fresh, last

    def __getitem__(self, path: str) -> Any:
        return self.fresh[path] if path in self.fresh else self.last[path]

    def __iter__(self) -> Iterator[str]:
        return iter(self.last)

    def __len__(self) -> int:
        return len(self.last)


class OverBodies(OverItems):
    """The last build's bodies by key, with the saved items' over them."""
