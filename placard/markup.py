"""Markdown stage: convert bodies to HTML, check them, and resolve links between items.

Conversion is a pure function of the Markdown text (so it can be cached and run in parallel);
links that depend on where a page lands are resolved afterwards by `resolve_links`.
Campaigners link to other items with `post:slug`, `event:slug`, `entity:slug` or `page:slug`.
"""

from __future__ import annotations

import functools
import posixpath
import re
from typing import Callable

import markdown
from html.parser import HTMLParser

from .errors import Problems
from .htmlrefs import external_fetches, scan_html

EXTENSIONS = ["extra", "sane_lists", "toc"]
EXTENSION_CONFIGS = {"toc": {"permalink": False}}
REF_KINDS = ("post", "event", "entity", "page", "section")
REF_IN_SOURCE = re.compile(r"\]\(\s*<?((?:post|event|entity|page|section):[^)\s>]*)")
DECORATIVE = "decorative"  # `![](border.png){.decorative}`: an image that carries no information
REF_IN_HTML = re.compile(r'(href|src)="((?:post|event|entity|page|section):[^"]*)"')


@functools.lru_cache(maxsize=4096)  # pure, so the preview re-converts only the bodies that changed
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


def source_line(text: str, needle: str, first_line: int) -> int:
    """The file line of the first body line containing `needle` (the body's first line if none)."""
    for offset, line in enumerate(text.split("\n")):
        if needle and needle in line:
            return first_line + offset
    return first_line


def check_embeds(path: str, text: str, html: str, first_line: int, problems: Problems) -> None:
    """Refuse bodies that make visitors' browsers contact another host, and images without alt text."""
    for ref in external_fetches(html):
        what = "an image" if ref.where.startswith("<img") else f"a {ref.where} reference"
        problems.add(path, source_line(text, ref.url, first_line), "body",
                     f"embeds {what} from another site ({ref.url}); every visitor's browser would contact that site. "
                     "Download the file into content/ (e.g. content/news/photo.jpg) and write ![what it shows](photo.jpg)")
    for _line, src, alt, classes in scan_html(html).images:
        if alt is None or (not alt.strip() and DECORATIVE not in classes):
            problems.add(path, source_line(text, src, first_line), "body",
                         f"the image '{src}' has no alt text; describe it: ![Police lines in the square]({src}), "
                         f"or if it is only decoration write ![]({src}){{.{DECORATIVE}}}")


ASSET_IN_HTML = re.compile(r'(src|href)="(?![a-zA-Z][a-zA-Z0-9+.-]*:|/|#)([^"]+)"')


def rebase_assets(html: str, source_dir: str, page_path: str, index_html: bool = False) -> str:
    """Relative URLs in a body are relative to its Markdown file (content/news/photo.jpg is
    `photo.jpg` from content/news/x.md); rewrite them relative to the page being rendered."""
    from .urls import relative_url

    def replace(match: re.Match) -> str:
        target = posixpath.normpath(posixpath.join(source_dir, match.group(2)))
        return f'{match.group(1)}="{relative_url(page_path, target, index_html)}"'

    return ASSET_IN_HTML.sub(replace, html)


def resolve_links(html: str, resolve: Callable[[str], str]) -> str:
    """Replace `kind:slug[#fragment]` link targets by the relative URL `resolve` returns."""

    def replace(match: re.Match) -> str:
        ref = match.group(2)
        bare, _, fragment = ref.partition("#")
        url = resolve(bare)
        return f'{match.group(1)}="{url}{"#" + fragment if fragment else ""}"'

    return REF_IN_HTML.sub(replace, html)


UNSAFE_TAGS = {
    "script": "a <script> element: scripts in content could track or attack readers; remove it",
    "iframe": "an <iframe>: it loads another website into the page and tells it who is reading; link to it instead",
    "object": "an <object> element: it loads outside content; link to it instead",
    "embed": "an <embed> element: it loads outside content; link to it instead",
}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "poster", "xlink:href", "srcset", "cite"}
UNSAFE_SCHEMES = ("javascript:", "vbscript:", "data:text/html")


class _SafetyScanner(HTMLParser):
    """Find scripts, inline event handlers and script URLs in HTML (entities already decoded)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.findings: list[tuple[str, str]] = []  # (message, text to look for in the source)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in UNSAFE_TAGS:
            self.findings.append((UNSAFE_TAGS[tag], f"<{tag}"))
        for name, value in attrs:
            if name.startswith("on"):
                self.findings.append((f"an inline event handler '{name}=' on <{tag}>: remove it (scripts are not allowed in content)", name))
            squashed = re.sub(r"[\s\x00-\x1f]", "", value or "").lower()
            if name in URL_ATTRIBUTES and squashed.startswith(UNSAFE_SCHEMES):
                scheme = squashed.split(":", 1)[0]
                self.findings.append((f"a '{scheme}:' address in {name}= on <{tag}>: link to a normal web address instead", scheme[:4]))

    handle_startendtag = handle_starttag


def find_line(source: str, first_line: int, needle: str) -> int:
    """The file line where `needle` first appears in a Markdown body (case-insensitive), else its first line."""
    for offset, line in enumerate(source.split("\n")):
        if needle.lower() in line.lower():
            return first_line + offset
    return first_line


def check_html(path: str, source: str, first_line: int, html: str, problems: Problems) -> None:
    """Refuse scripts, event handlers and javascript: links; other raw HTML is kept as written."""
    scanner = _SafetyScanner()
    scanner.feed(html)
    scanner.close()
    for message, needle in scanner.findings:
        problems.add(path, find_line(source, first_line, needle), "body", message)
