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
from collections.abc import Collection, Iterable, Mapping
from typing import Callable

import markdown
from markdown import util as markdown_util
from markdown.extensions.toc import TocExtension, TocTreeprocessor, remove_fnrefs, render_inner_html, strip_tags, unique
from markdown.treeprocessors import InlineProcessor

from .errors import Problem, Problems
from .htmlrefs import Scan, is_external
from .sanitize import REF_KINDS, AllowlistScanner, sanitize_html, unfinished_tag  # noqa: F401 (REF_KINDS: placard's link kinds, kept importable from here)

EXTENSIONS = ["extra", "sane_lists"]  # and heading ids: the `toc` extension's, or all of it where a text asks for [TOC]
TOC_MARKER = "[TOC]"
REF_IN_SOURCE = re.compile(r"\]\(\s*<?((?:post|event|entity|page|section):[^)\s>]*)")
DECORATIVE = "decorative"  # `![](border.png){.decorative}`: an image that carries no information
# `="` first, the attribute's name looked behind: the regex engine then scans for the literal, which
# makes these (run over a body each time a page shows it) five times faster than `(href|src)="...`.
REF_IN_HTML = re.compile(r'="(?:(?<=src=")|(?<=href="))((?:post|event|entity|page|section):[^"]*)"')


_local = threading.local()


class HeadingIdsTreeprocessor(TocTreeprocessor):
    """The `toc` extension's heading ids (same slugs, same de-duplication, ids written with
    `{#id}` kept), without building the table of contents no page shows: its list, its HTML and
    the search of the whole document for a [TOC] marker took 7% of each conversion. A heading
    that is plain text (most are) is named without serialising it, to the same name."""

    def run(self, doc) -> None:
        used_ids = {el.attrib["id"] for el in doc.iter() if "id" in el.attrib}
        counters: dict[str, int] = {}
        for el in doc.iter():
            if isinstance(el.tag, str) and self.header_rgx.match(el.tag):
                self.set_level(el)
                if "id" not in el.attrib:
                    el.attrib["id"] = unique(self.slugify(unescape(heading_name(el, self.md)), self.sep), used_ids, counters)
                el.attrib.pop("data-toc-label", None)


NOT_PLAIN = re.compile("[&<>\x02\x03]")  # entities, markup, or Python-Markdown's placeholders (STX/ETX)


def heading_name(el, md: markdown.Markdown) -> str:
    """A heading's text as `toc` names it: its inner HTML, rendered, without tags, spaces collapsed."""
    text = el.text or ""
    if len(el) == 0 and not NOT_PLAIN.search(text):
        return " ".join(text.split())  # what rendering, stripping tags and collapsing would leave
    return strip_tags(render_inner_html(remove_fnrefs(el), md))


class HeadingIdsExtension(TocExtension):
    """`toc` with HeadingIdsTreeprocessor."""

    TreeProcessorClass = HeadingIdsTreeprocessor


# What each of Python-Markdown's inline patterns (by its regular expression) cannot match without:
# one of these strings. Every match of `\\(.)` (an escape) contains a backslash, every link a `[`...
# A pattern whose expression is not listed here (say a new version of Python-Markdown changed it)
# is always tried, as Python-Markdown itself does.
PATTERN_NEEDS = {
    r"(?:(?<!\\)((?:\\{2})+)(?=`+)|(?<!\\)`)": ("`",),  # code spans: a backtick, after backslashes or not
    r"\\(.)": ("\\",),  # escapes
    r"\[\^([^\]]*)\]": ("[^",),  # footnote references
    r"(?<!\!)\[": ("[",),  # links, reference links, short references
    r"\!\[": ("![",),  # images, by URL or by reference
    r"<([A-Za-z][A-Za-z0-9+.-]*://[^<>]*)>": ("<",),  # <https://...>
    r"<([^<> !]+@[^@<> ]+)>": ("<",),  # <someone@example.org>
    r"  \n": ("  \n",),  # line breaks: two spaces at the end of a line
    r'''(<(\/?+[a-zA-Z][^\s"'<>@]*+(?:\s+[^\s"'=<>]++(?:\s*+=\s*+(?:"[^"]*+"|'[^']*+'|[^\s"'=<>]++))?+)*+\s*+/?'''
    r"|!--(?:(?!<!--|-->).)*--|[?](?:(?!<[?]|[?]>).)*[?]|!\[CDATA\[(?:(?!<!\[CDATA\[|\]\]>).)*\]\])>)": ("<",),  # raw HTML
    r"(&(?:\#[0-9]+|\#x[0-9a-fA-F]+|[a-zA-Z0-9]+);)": ("&",),  # entities
    r"\*|_": ("*", "_"),  # emphasis and strong
}


class SkippingInlineProcessor(InlineProcessor):
    """Python-Markdown's inline processor, which tries each of its 15 inline patterns on every run of
    text, but skipping the patterns that cannot match it (PATTERN_NEEDS): most text has no link, code,
    entity or emphasis, and trying the patterns (a regular expression search, after a lookup in a
    sorted registry, for each pattern and each run of text) took a third of each conversion.

    A skipped pattern is exactly one whose search would have found nothing, which Python-Markdown
    answers by going on to the next pattern from the start of the text; so is this. The output is
    the same, byte for byte (tests/test_markup.py compares it with the stock processor's)."""

    def run(self, tree, ancestors=None):
        """Note each pattern, in priority order, with its needles (None: always tried); then process as usual."""
        # A pattern barred inside some elements (ANCESTOR_EXCLUDES; none of ours) keeps its own check.
        self.tries = [(pattern, None if pattern.ANCESTOR_EXCLUDES else PATTERN_NEEDS.get(pattern.getCompiledRegExp().pattern))
                      for pattern in self.inlinePatterns]  # (a registry iterates in priority order)
        return super().run(tree, ancestors)

    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:
        """InlineProcessor.__handleInline (which its other methods call by this name), with the skip."""
        if isinstance(data, markdown_util.AtomicString):
            return data
        apply, tries = self._InlineProcessor__applyPattern, self.tries
        start = 0
        while patternIndex < len(tries):
            pattern, needs = tries[patternIndex]
            if needs is not None:
                for needle in needs:
                    if needle in data:
                        break
                else:  # no match possible: what a search that found nothing returns
                    patternIndex, start = patternIndex + 1, 0
                    continue
            data, matched, start = apply(pattern, data, patternIndex, start)
            if not matched:
                patternIndex += 1
        return data


SKIPPING_WORKS = hasattr(InlineProcessor, "_InlineProcessor__applyPattern") and hasattr(InlineProcessor, "_InlineProcessor__handleInline")
INLINE_PRIORITY = 20  # where Python-Markdown registers its inline processor (markdown.treeprocessors.build_treeprocessors)


def new_converter(toc: bool) -> markdown.Markdown:
    """A Python-Markdown converter with our extensions; `toc` builds the table of contents too."""
    headings = TocExtension(permalink=False) if toc else HeadingIdsExtension(permalink=False)
    md = markdown.Markdown(extensions=[*EXTENSIONS, headings], output_format="html")
    if SKIPPING_WORKS:  # (Python-Markdown's own processor otherwise: slower, same output)
        md.treeprocessors.register(SkippingInlineProcessor(md), "inline", INLINE_PRIORITY)
    return md


def convert_markdown(text: str) -> str:
    """Markdown to HTML with Python-Markdown (`extra`, `sane_lists`, and `toc`'s heading ids).

    Pure: the same text always gives the same HTML, so results are cached by the text's digest
    (placard.cache). One converter per thread, reset between documents: building one costs about
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


class Bodies(Mapping):
    """Item key -> body HTML. Bodies converted earlier come from the cache (loaded when a page
    needs one); `digest` names a body by its Markdown text, which fixes its HTML.

    A body not converted yet is converted when first read (by the page that shows it, in whichever
    process renders that page); what it was converted to and any problems found in it are kept
    (`problems`), and clean bodies go to the cache. In a render worker the cache is read-only:
    fresh conversions wait in `fresh` for the main process to `absorb` them."""

    def __init__(self, sources: dict[str, BodySource], cache=None) -> None:
        from .cache import digest_texts

        self.sources = sources
        self.digests = digest_texts({key: source.text for key, source in sources.items()}, getattr(cache, "text_digests", None))
        self.cache = cache
        known = cache.known_bodies() if cache is not None else set()
        self.cached = {key for key, digest in self.digests.items() if digest in known}
        self.html: dict[str, str] = {}  # converted in this process and not in the cache (e.g. with problems)
        self.found: dict[str, list[Problem]] = {}  # key -> problems, for every body converted by this build
        self.fresh: list[tuple[str, str, list[Problem]]] | None = None  # a worker's conversions, for the main process

    def missing(self) -> list[str]:
        """Keys of the bodies not converted yet (neither cached nor converted by this build), in a stable order."""
        return [key for key in self.sources if key not in self.cached and key not in self.found]

    def convert(self, key: str) -> str:
        """Convert and check one body now."""
        html, problems = convert_checked(self.sources[key])
        if self.fresh is not None:  # a worker: kept here too until take_fresh sends it to the main process
            self.fresh.append((key, html, problems))
            self.html[key] = html
        else:
            self.add(key, html, problems)
        return html

    def prepare(self, keys: Iterable[str]) -> None:
        """Convert now, one after another, those of these bodies not converted yet: Python-Markdown
        runs faster in a row than interleaved with rendering templates (its code and data stay in
        the processor's caches; 0.7 s of 19.6 s CPU in a cold build of 10,000 posts)."""
        for key in keys:
            if key in self.sources and key not in self.html and key not in self.cached and key not in self.found:
                self.convert(key)

    def add(self, key: str, html: str, problems: list[Problem]) -> None:
        """A freshly converted body; clean ones go to the cache (and are read back from it when needed)."""
        self.absorb([(key, html, problems)])

    def for_worker(self) -> None:
        """Switch to a render worker's view: the cache read through a connection of its own, results held back."""
        self.cache = self.cache.reader() if self.cache is not None else None
        self.fresh = []

    def take_fresh(self) -> list[tuple[str, str, list[Problem]]]:
        """A worker's conversions since the last call (no longer kept in the worker)."""
        fresh, self.fresh = self.fresh or [], []
        for key, _html, _problems in fresh:
            self.html.pop(key, None)
        return fresh

    def absorb(self, fresh: list[tuple[str, str, list[Problem]]]) -> None:
        """Conversions made here or by a worker; the clean ones go to the cache in one statement."""
        clean = []
        for key, html, problems in fresh:
            if key in self.found:
                continue  # converted twice (by two workers): the first result stands, its problems once
            self.found[key] = problems
            if not problems and self.cache is not None:
                clean.append((self.digests[key], html))
                self.cached.add(key)
            else:
                self.html[key] = html
        if clean:
            self.cache.put_bodies(clean)

    def problems(self) -> list[Problem]:
        """Every problem found in the bodies converted by this build, in the order of the site's items."""
        return [problem for key in self.sources for problem in self.found.get(key, ())]

    def digest(self, key: str) -> bytes:
        return self.digests[key]

    def __getitem__(self, key: str) -> str:
        if key in self.html:
            return self.html[key]
        if key not in self.sources:
            raise KeyError(key)
        if key in self.cached:
            try:
                return self.cache.get_body(self.digests[key])
            except Exception:  # an unreadable cache entry: the body converts (and sanitizes) the same again
                return convert_checked(self.sources[key])[0]
        return self.convert(key)

    def __contains__(self, key: object) -> bool:
        return key in self.sources

    def __iter__(self):
        return iter(self.sources)

    def __len__(self) -> int:
        return len(self.sources)
