"""Markdown stage: convert bodies to HTML, check them, and resolve links between items.

Conversion is a pure function of the Markdown text (so it can be cached and run in parallel);
links that depend on where a page lands are resolved afterwards by `resolve_links`.
Campaigners link to other items with `post:slug`, `event:slug`, `entity:slug` or `page:slug`.
"""

from __future__ import annotations

import re
from typing import Callable

import markdown

from .errors import Problems

EXTENSIONS = ["extra", "sane_lists", "toc"]
EXTENSION_CONFIGS = {"toc": {"permalink": False}}
REF_KINDS = ("post", "event", "entity", "page", "section")
REF_IN_SOURCE = re.compile(r"\]\(\s*<?((?:post|event|entity|page|section):[^)\s>]*)")
REF_IN_HTML = re.compile(r'(href|src)="((?:post|event|entity|page|section):[^"]*)"')


def convert_markdown(text: str) -> str:
    """Markdown to HTML with Python-Markdown (`extra`, `sane_lists`, `toc`)."""
    md = markdown.Markdown(extensions=EXTENSIONS, extension_configs=EXTENSION_CONFIGS, output_format="html")
    return md.convert(text)


def find_refs(text: str, first_line: int) -> list[tuple[int, str]]:
    """Every `kind:slug` link target in a Markdown body, with its line in the file."""
    found = []
    for offset, line in enumerate(text.split("\n")):
        for match in REF_IN_SOURCE.finditer(line):
            found.append((first_line + offset, match.group(1)))
    return found


def check_refs(item, targets: dict[str, str], problems: Problems) -> None:
    """Report links to items that do not exist (or are not published by this build)."""
    for line, ref in find_refs(item.body, item.body_line):
        bare = ref.split("#", 1)[0]
        if bare not in targets:
            kind, _, slug = bare.partition(":")
            problems.add(item.origin.path, line, "body", f"the link '{ref}' points to no published {kind} with slug '{slug}'; check the slug")


def resolve_links(html: str, resolve: Callable[[str], str]) -> str:
    """Replace `kind:slug[#fragment]` link targets by the relative URL `resolve` returns."""

    def replace(match: re.Match) -> str:
        ref = match.group(2)
        bare, _, fragment = ref.partition("#")
        url = resolve(bare)
        return f'{match.group(1)}="{url}{"#" + fragment if fragment else ""}"'

    return REF_IN_HTML.sub(replace, html)
