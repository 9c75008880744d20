"""Every use of a library's private API, in one module: each is a measured speed-up (or, for the
worker pool, the only way to stop work at once), used only with the library version it was written
and tested against, and otherwise replaced by the library's own public behaviour.

- Python-Markdown 3.11.3: SkippingInlineProcessor overrides InlineProcessor's name-mangled
  `__handleInline` (a third of each conversion); HeadingIdsTreeprocessor reuses the `toc`
  extension's helpers to name headings without building a table of contents (7%).
- Jinja2 3.1.6: a context's `call` drops the `_block_vars`/`_loop_vars` keywords Jinja2 passes
  its own callables (4% of a list page).
- concurrent.futures (CPython 3.11-3.13): the pool's `_processes`, to stop its workers at once.

tests/test_internals.py renders the seed site's pages and bodies with and without these and
compares the bytes; it also fails when a pinned version and the installed one differ, so an
upgrade is a decision, not an accident.
"""

from __future__ import annotations

import re
from html import unescape
from importlib import metadata
from typing import Any

import markdown
from markdown import util as markdown_util
from markdown.extensions.toc import TocExtension, TocTreeprocessor, remove_fnrefs, render_inner_html, strip_tags, unique
from markdown.treeprocessors import InlineProcessor

TESTED_WITH = {"Markdown": "3.11.3", "Jinja2": "3.1.6"}


def tested(distribution: str) -> bool:
    """Whether the installed version of a library is the one these internals were tested with."""
    try:
        return metadata.version(distribution) == TESTED_WITH[distribution]
    except metadata.PackageNotFoundError:
        return False


MARKDOWN_FAST = tested("Markdown") and hasattr(InlineProcessor, "_InlineProcessor__applyPattern") and hasattr(InlineProcessor, "_InlineProcessor__handleInline")
JINJA2_FAST = tested("Jinja2")


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


INLINE_PRIORITY = 20  # where Python-Markdown registers its inline processor (markdown.treeprocessors.build_treeprocessors)


def heading_ids_extension() -> markdown.Extension:
    """The `toc` extension giving heading ids only (HeadingIdsTreeprocessor), or all of `toc` with another version."""
    return HeadingIdsExtension(permalink=False) if MARKDOWN_FAST else TocExtension(permalink=False)


def install_fast_inline(md: markdown.Markdown) -> None:
    """SkippingInlineProcessor in place of Python-Markdown's own (same output, a third faster), where tested."""
    if MARKDOWN_FAST:
        md.treeprocessors.register(SkippingInlineProcessor(md), "inline", INLINE_PRIORITY)


JINJA2_CALL_KEYWORDS = ("_block_vars", "_loop_vars")  # what Jinja2 3.1 passes to callables it made itself


def call_plain(function: Any, args: tuple, kwargs: dict) -> Any:
    """Call a plain function from a template as Jinja2's Context.call would, without looking for its marks."""
    if kwargs:
        for name in JINJA2_CALL_KEYWORDS:
            kwargs.pop(name, None)
    return function(*args, **kwargs)


def pool_processes(pool: Any) -> tuple[list, Any]:
    """A ProcessPoolExecutor's worker processes and its manager thread, which shutdown() forgets."""
    return list((getattr(pool, "_processes", None) or {}).values()), getattr(pool, "_executor_manager_thread", None)
