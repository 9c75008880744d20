"""Markdown stage: convert bodies to HTML, check them, and resolve links between items.

Conversion is a pure function of the Markdown text (so it can be cached and run in parallel);
links that depend on where a page lands are resolved afterwards by `resolve_links`.
Campaigners link to other items with `post:slug`, `event:slug`, `entity:slug` or `page:slug`.
"""

from __future__ import annotations

import posixpath
import re
from html import unescape
import threading
from dataclasses import dataclass
from collections.abc import Collection, Mapping
from typing import Callable

import markdown
from markdown.extensions.toc import TocExtension

from .errors import Problem, Problems
from .htmlrefs import Scan, is_external
from .internals import heading_ids_extension, install_fast_inline
from .sanitize import REF_KINDS, AllowlistScanner, sanitize_html, unfinished_tag  # noqa: F401 (REF_KINDS: placard's link kinds, kept importable from here)

EXTENSIONS = ["extra", "sane_lists"]  # and heading ids: the `toc` extension's, or all of it where a text asks for [TOC]
TOC_MARKER = "[TOC]"
REF_IN_SOURCE = re.compile(r"\]\(\s*<?((?:post|event|entity|page|section):[^)\s>]*)")
DECORATIVE = "decorative"  # `![](border.png){.decorative}`: an image that carries no information
# `="` first, the attribute's name looked behind: the regex engine then scans for the literal, which
# makes these (run over a body each time a page shows it) five times faster than `(href|src)="...`.
REF_IN_HTML = re.compile(r'="(?:(?<=src=")|(?<=href="))((?:post|event|entity|page|section):[^"]*)"')


_local = threading.local()


def new_converter(toc: bool) -> markdown.Markdown:
    """A Python-Markdown converter with our extensions; `toc` builds the table of contents too."""
    headings = TocExtension(permalink=False) if toc else heading_ids_extension()
    md = markdown.Markdown(extensions=[*EXTENSIONS, headings], output_format="html")
    install_fast_inline(md)  # (Python-Markdown's own processor with another version: slower, same output)
    return md


def convert_markdown(text: str) -> str:
    """Markdown to HTML with Python-Markdown (`extra`, `sane_lists`, and `toc`'s heading ids).

    Pure: the same text always gives the same HTML, so results are cached by the text's digest
    (placard.incremental). One converter per thread, reset between documents: building one costs about
    a sixth of a conversion, and reset() clears all per-document state (footnotes, abbreviations,
    the raw-HTML stash). A text with a [TOC] marker gets the whole `toc` extension."""
    name = "toc" if TOC_MARKER in text else "md"
    md = getattr(_local, name, None)
    if md is None:
        md = new_converter(toc=name == "toc")
        setattr(_local, name, md)
    try:
        return md.reset().convert(text)
    except BaseException:
        setattr(_local, name, None)  # never reuse a converter a failure may have left half-way
        raise


@dataclass(frozen=True)
class BodySource:
    """One Markdown body to convert, with where it is for messages."""

    path: str
    text: str
    line: int


def convert_checked(source: BodySource) -> tuple[str, list[Problem]]:
    """Convert one body and check its HTML (the allowlist, external embeds, missing alt text); the HTML to publish and the problems."""
    problems = Problems()
    html = check_body(source.path, source.text, source.line, convert_markdown(source.text), problems)
    return html, problems.items


def find_refs(text: str, first_line: int) -> list[tuple[int, str]]:
    """Every `kind:slug` link target in a Markdown body, with its line in the file."""
    found: list[tuple[int, str]] = []
    if not REF_IN_SOURCE.search(text):  # most bodies link to no other item: skip the line by line pass
        return found
    for offset, line in enumerate(text.split("\n")):
        for match in REF_IN_SOURCE.finditer(line):
            found.append((first_line + offset, match.group(1)))
    return found


def check_refs(item, targets: Mapping[str, str], problems: Problems, hints: Mapping[str, str] | None = None,
               pending: Collection[str] = ()) -> None:
    """Report links to items that do not exist; links to items held back (`pending`: drafts, scheduled)
    are shown as plain text until they are published (see resolve_links). `hints` adds, per kind, the
    files that could not be read (the item may be in one of them)."""
    for line, ref in find_refs(item.body, item.body_line):
        bare = ref.split("#", 1)[0]
        if bare not in targets and bare not in pending:
            kind, _, slug = bare.partition(":")
            hint = (hints or {}).get(kind, "")
            problems.add(item.origin.path, line, "body", f"the link '{ref}' points to no published {kind} with slug '{slug}'{hint}; check the slug")


CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def one_line(text: str) -> str:
    """Text for a message, its control characters (newlines too) written as escapes: one line per problem."""
    return CONTROL.sub(lambda match: match.group(0).encode("unicode_escape").decode(), text)


def report_embeds(path: str, text: str, first_line: int, scan: Scan, problems: Problems) -> None:
    """The external fetches and images without alt text found in a body's HTML, as problems."""
    for ref in scan.refs:
        if not (ref.fetched and is_external(ref.url)):
            continue
        what = "an image" if ref.where.startswith("<img") else f"a {ref.where} reference"
        shown = one_line(ref.url)
        problems.add(path, find_line(text, first_line, ref.url), "body",
                     f"embeds {what} from another site ({shown}); every visitor's browser would contact that site. "
                     "Download the file into content/ (e.g. content/news/photo.jpg) and write ![what it shows](photo.jpg)")
    for _line, src, alt, classes in scan.images:
        if alt is None or (not alt.strip() and DECORATIVE not in classes):
            shown = one_line(src)
            problems.add(path, find_line(text, first_line, src), "body",
                         f"the image '{shown}' has no alt text; describe it: ![Police lines in the square]({shown}), "
                         f"or if it is only decoration write ![]({shown}){{.{DECORATIVE}}}")


def check_body(path: str, source: str, first_line: int, html: str, problems: Problems) -> str:
    """Check a body's HTML against the allowlist (placard.sanitize: nh3 decides, a scan names what it
    refused and where) and for external embeds or images without alt text; return the HTML to publish."""
    clean, changed = sanitize_html(html)
    scanner = AllowlistScanner(explain=changed)
    if "<" in source:
        scanner.feed(html)
        scanner.close()
    else:  # no raw HTML: only Python-Markdown's own, regular tags (see TAG_IN_HTML)
        for tag, attributes in TAG_IN_HTML.findall(html):
            scanner.handle_starttag(tag.lower(), [(name.lower(), unescape(value)) for name, value in ATTRIBUTE_IN_TAG.findall(attributes)])
    findings = scanner.findings
    unfinished = unfinished_tag(html)
    if unfinished:
        findings.append((f"the unfinished tag '{one_line(unfinished[:30])}' (no closing '>') is not allowed here "
                         "(browsers would read the rest of the page into it); finish it with '>' or remove it", unfinished[:10]))
    if changed and not findings:  # nh3 would take out something the scan does not name: still never silently
        findings = [("this HTML is not allowed here (the sanitizer would change it: it is malformed or uses markup "
                     "that is not allowed); write it in Markdown instead", "<")]
    report_safety(path, source, first_line, findings, problems)
    report_embeds(path, source, first_line, scanner.scan, problems)
    return clean


# Without raw HTML in the Markdown (no '<' in it), every tag is Python-Markdown's own, and its
# serializer escapes '<', '>' and '"' inside attribute values; so this finds each whole tag, and
# the scanner, which only looks at tags and their attributes, can skip the text between them. Tags
# without attributes (<p>, <li>, <em>: most of them) are skipped too: from Markdown syntax they are
# never unsafe, and what the checks look for (URLs, handlers, images) are attributes.
TAG_IN_HTML = re.compile(r"<([a-zA-Z][a-zA-Z0-9]*)(\s[^>]*)>")
ATTRIBUTE_IN_TAG = re.compile(r'([^\s=/"]+)="([^"]*)"')

ASSET_IN_HTML = re.compile(r'="(?:(?<=src=")|(?<=href="))(?![a-zA-Z][a-zA-Z0-9+.-]*:|/|#)([^"]+)"')  # as REF_IN_HTML


def rebase_assets(html: str, source_dir: str, page_path: str, index_html: bool = False) -> str:
    """Relative URLs in a body are relative to its Markdown file (content/news/photo.jpg is
    `photo.jpg` from content/news/x.md); rewrite them relative to the page being rendered."""
    from .urls import relative_url

    def replace(match: re.Match) -> str:
        target = posixpath.normpath(posixpath.join(source_dir, match.group(1)))
        return f'="{relative_url(page_path, target, index_html)}"'

    return ASSET_IN_HTML.sub(replace, html)


def resolve_links(html: str, resolve: Callable[[str], str | None]) -> str:
    """Replace `kind:slug[#fragment]` link targets by the relative URL `resolve` returns; a link whose
    target `resolve` gives None for (an item not published yet) becomes its text, without the <a>."""

    def unlink(match: re.Match) -> str:
        return match.group(0) if resolve(match.group(1).partition("#")[0]) is not None else match.group(2)

    def replace(match: re.Match) -> str:
        ref = match.group(1)
        bare, _, fragment = ref.partition("#")
        url = resolve(bare)
        return f'="{"" if url is None else url}{"#" + fragment if fragment and url is not None else ""}"'

    if REF_IN_HTML.search(html) is None:
        return html
    return REF_IN_HTML.sub(replace, LINK_TO_REF.sub(unlink, html))


# An <a> element whose href is a `kind:slug` reference, and its content (an <a> never contains another).
LINK_TO_REF = re.compile(r'<a\b[^>]*?\shref="((?:post|event|entity|page|section):[^"]*)"[^>]*>(.*?)</a>', re.DOTALL)


def find_line(source: str, first_line: int, needle: str, occurrence: int = 0) -> int:
    """The file line where `needle` appears (case-insensitive) in a Markdown body for the
    `occurrence`-th time (the last one if there are fewer), else the body's first line."""
    found = None
    if needle:
        for number, match in enumerate(re.finditer(re.escape(needle), source, re.IGNORECASE)):
            found = match.start()
            if number == occurrence:
                break
    return first_line + source.count("\n", 0, found) if found is not None else first_line


def report_safety(path: str, source: str, first_line: int, findings: list[tuple[str, str]], problems: Problems) -> None:
    """What the allowlist refuses in a body, as problems at the line of each construct (the second
    <script> of a body at the line of the second '<script' in its source)."""
    seen: dict[str, int] = {}
    for message, needle in findings:
        occurrence = seen.get(needle.lower(), 0)
        seen[needle.lower()] = occurrence + 1
        problems.add(path, find_line(source, first_line, needle, occurrence), "body", message)


def item_key(item) -> str:
    """The key of an item's converted body in the bodies map."""
    return f"{item.kind}:{item.lang}:{item.slug}"


def reply_key(item, number: int) -> str:
    """The key of one of an item's converted replies in the bodies map."""
    return f"{item_key(item)}:reply:{number}"


def body_sources(site) -> dict[str, BodySource]:
    """Every Markdown text of the site (bodies and replies) by its key in the bodies map."""
    sources: dict[str, BodySource] = {}
    for item in site.items():
        sources.update(item_sources(item))
    return sources


def item_sources(item) -> dict[str, BodySource]:
    """One item's Markdown texts (its body, then its replies) by their keys in the bodies map."""
    sources = {item_key(item): BodySource(item.origin.path, item.body, item.body_line)}
    for number, reply in enumerate(getattr(item, "replies", ())):
        sources[reply_key(item, number)] = BodySource(item.origin.path, reply.body, reply.line)
    return sources


def convert_bodies(site, targets: dict[str, str]) -> dict[str, str]:
    """Every body and reply of the site converted and checked, here and now, and every link between
    items checked (check_refs); raises BuildError listing every problem."""
    problems, pending = Problems(), pending_refs(site)
    for item in site.items():
        check_refs(item, targets, problems, pending=pending)
    html = {}
    for key, source in body_sources(site).items():
        html[key], found = convert_checked(source)
        problems.items.extend(found)
    problems.raise_if_any()
    return html


def pending_refs(site) -> frozenset[str]:
    """'kind:slug' of the items this build holds back (drafts, scheduled): links to them are plain text for now."""
    return frozenset(held.ref for held in site.held_back if held.ref)


def pending_link_notes(site, targets: Mapping[str, str]) -> tuple[str, ...]:
    """One summary line per link shown as plain text because its target is not published yet."""
    held = {held.ref: held for held in site.held_back if held.ref}
    if not held:
        return ()
    notes = []
    for item in site.items():
        for line, ref in find_refs(item.body, item.body_line):
            target = held.get(ref.split("#", 1)[0])
            if target is not None and ref.split("#", 1)[0] not in targets:
                notes.append(f"{item.origin.path}:{line}: the link '{ref}' is shown as plain text until {target.path} is published ({target.reason.split(';')[0]})")
    return tuple(notes)


def body_problems(sources: Mapping[str, BodySource]) -> list[Problem]:
    """Every problem found converting and checking these bodies."""
    return [problem for source in sources.values() for problem in convert_checked(source)[1]]
